//! The typed messages between a session and its transport, and what the recorder receives.
//!
//! Everything a transport (WebSocket, WebRTC, the phone gateway) needs is [`Inbound`] and
//! [`Outbound`].

use serde::Serialize;
use viva_audio::AudioFrame;
use viva_interview::{Phase, UtteranceKind};

/// From the transport into the session.
#[derive(Debug)]
pub enum Inbound {
    /// 16 kHz mono samples in [-1, 1]; the session stamps them on its clock.
    Audio(Vec<f32>),
    /// The transport is (re)attached; the first one starts the interview.
    Attached { resumed: bool },
    /// The transport dropped without a goodbye: the grace period for a resume starts.
    Detached,
    /// The candidate came back on a new call (after `Attached`): the standing question is asked
    /// again, however short the absence.
    Rejoined,
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

/// Audio for the recorder.
#[derive(Debug)]
pub struct RecordFrame {
    pub track: viva_audio::Track,
    pub frame: AudioFrame,
}
