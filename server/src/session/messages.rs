//! The typed messages the session's stages pass to each other and to the transport.
//!
//! Stages never call each other: each owns its state and reads one inbound channel. Everything
//! a transport (WebSocket today, WebRTC/phone later) needs is [`Inbound`] and [`Outbound`].

use serde::Serialize;
use viva_audio::AudioFrame;
use viva_interview::{Phase, UtteranceKind, Word};

/// From the transport into the session.
#[derive(Debug)]
pub enum Inbound {
    /// 16 kHz mono samples in [-1, 1]; the session stamps them on its clock.
    Audio(Vec<f32>),
    /// The transport is (re)attached; the first one starts the interview.
    Attached { resumed: bool },
    /// The transport dropped without a goodbye: the grace period for a resume starts.
    Detached,
    /// A typed answer (accessibility / no microphone).
    TextAnswer(String),
    /// The candidate asked for the question again.
    Repeat,
    /// The candidate hung up on purpose: stop speaking and end now.
    Bye,
    /// The server is stopping: tell the candidate, save everything for a resume, end.
    Pause,
    /// Nobody joined in time (or, restored, came back in time): end without a word.
    Expire,
}

/// From the session to the transport.
#[derive(Debug, Clone)]
pub enum Outbound {
    /// 20 ms of interviewer audio, 16 kHz mono PCM16.
    Audio(Vec<i16>),
    Event(ServerEvent),
    /// Close the transport with this code (the session is over or the client broke a rule).
    Close {
        code: u16,
        reason: String,
    },
}

/// JSON events to the client (`docs/protocol.md`).
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerEvent {
    Welcome {
        protocol: u32,
        session_id: String,
        resumed: bool,
        audio: AudioFormat,
    },
    /// A caption of the candidate's speech; `final` ones are what the interviewer heard.
    Caption {
        turn: u32,
        #[serde(rename = "final")]
        is_final: bool,
        text: String,
        start_ms: u64,
        end_ms: u64,
    },
    /// The interviewer starts saying this (its audio follows).
    Interviewer {
        utterance_id: String,
        text: String,
        kind: UtteranceKind,
        awaits_answer: bool,
    },
    /// The interviewer's audio for this utterance is over (played out or interrupted).
    InterviewerAudioEnd {
        utterance_id: String,
        interrupted: bool,
        awaits_answer: bool,
    },
    /// Drop every interviewer sample not yet played: the candidate barged in.
    Flush {
        reason: String,
    },
    Progress {
        phase: Phase,
        turns: usize,
        remaining_s: u64,
    },
    Ended {
        reason: String,
    },
    Error {
        code: String,
        message: String,
    },
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AudioFormat {
    pub codec: &'static str,
    pub sample_rate: u32,
    pub frame_ms: u32,
}

/// Front end → turn stage.
#[derive(Debug)]
pub enum TurnIn {
    /// A 16 kHz frame on the session clock and the VAD chunks it completed.
    Audio {
        frame: AudioFrame,
        chunks: Vec<viva_audio::VadChunk>,
    },
    /// A partial transcript of buffer generation `generation` (None: the pass was skipped).
    Partial {
        generation: u64,
        covers_until_ms: u64,
        text: Option<String>,
    },
    InterviewerStarted {
        at_ms: u64,
        text: String,
    },
    InterviewerStopped {
        at_ms: u64,
    },
    /// The acoustic end-of-turn model's answer for the pause after `speech_end_ms`.
    Acoustic {
        speech_end_ms: u64,
        p_complete: f32,
    },
}

/// Turn stage → transcription stage.
#[derive(Debug)]
pub enum AsrJob {
    /// A caption pass, or an endpoint pass (the candidate paused: probably the final text).
    Partial {
        generation: u64,
        turn: u32,
        samples: Vec<f32>,
        start_ms: u64,
        kind: super::transcriber::PassKind,
    },
    Final {
        turn: u32,
        /// The speech buffer's generation: a partial of the same one may already cover it.
        generation: u64,
        samples: Vec<f32>,
        start_ms: u64,
        /// The candidate's last speech (session ms): where response latency starts.
        speech_end_ms: u64,
    },
}

/// Anything → dialogue stage.
#[derive(Debug)]
pub enum DialogueIn {
    Start,
    /// A restored session's candidate is back: say where the interview stands.
    Resume,
    /// The server is stopping: end for now, resumable (`say`: someone is listening).
    Pause {
        say: bool,
    },
    /// Nobody came: end without a word.
    Expire,
    /// The candidate went on speaking right after their turn was ended (a thinking pause taken
    /// for the end): withdraw the reply to the answer whose speech ended at `speech_end_ms`
    /// and hold that answer until its continuation comes, then decide on both as one.
    Withdraw {
        speech_end_ms: u64,
    },
    /// The continuation never became a turn (it was noise): decide on the held answer alone.
    ReleaseHeld,
    Answer {
        text: String,
        words: Option<Vec<Word>>,
        speech_end_ms: Option<u64>,
    },
    /// The candidate started speaking (resets the silence timer).
    CandidateSpeaking,
    /// An interviewer utterance finished playing at `at_ms`.
    InterviewerDone {
        at_ms: u64,
        awaits_answer: bool,
    },
    Left,
}

/// Dialogue → synthesis.
#[derive(Debug)]
pub enum SynthJob {
    Say {
        utterance_id: String,
        text: String,
        kind: UtteranceKind,
        awaits_answer: bool,
        /// Barge-in epoch when decided: a later barge-in makes this job stale.
        epoch: u64,
        speech_end_ms: Option<u64>,
    },
    End {
        reason: String,
    },
}

/// Synthesis → playout.
#[derive(Debug)]
pub enum PlayItem {
    Start {
        utterance_id: String,
        text: String,
        kind: UtteranceKind,
        awaits_answer: bool,
        epoch: u64,
        speech_end_ms: Option<u64>,
    },
    Samples {
        epoch: u64,
        samples: Vec<f32>,
    },
    End {
        epoch: u64,
    },
    SessionEnd {
        reason: String,
    },
}

/// Turn stage → playout (out of band of the audio queue, so it is never stuck behind it).
#[derive(Debug)]
pub enum PlayCtl {
    BargeIn {
        at_ms: u64,
    },
    /// Stop speaking at once (the candidate said bye, the server is pausing).
    Stop {
        reason: &'static str,
    },
}

/// Audio for the recorder.
#[derive(Debug)]
pub struct RecordFrame {
    pub track: viva_audio::Track,
    pub frame: AudioFrame,
}
