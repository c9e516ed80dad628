//! What goes into a [`super::Session`], what comes out, and what its parts tell each other.

use std::collections::VecDeque;

use viva_audio::turn::Language;
use viva_audio::{AudioFrame, Track};
use viva_interview::UtteranceKind;

use super::super::journal::Snapshot;
use super::super::messages::{Inbound, Outbound, ServerEvent};
use viva_models::workers::{PassKind, PassResult, TranscribeError};

pub const RATE: u32 = viva_audio::SPEECH_RATE_HZ;
pub const FRAME_MS: u64 = 20;
/// Close codes the session asks the transport to use (see `docs/protocol.md`).
pub const CLOSE_NORMAL: u16 = 1000;
pub const CLOSE_POLICY: u16 = 1008;
/// RFC 6455 "service restart": the server paused the interview; resume with the same token.
pub const CLOSE_SERVICE_RESTART: u16 = 1012;
/// The reason a session paused by a server shutdown ends with.
pub const REASON_PAUSED: &str = "paused";

/// An utterance for the playout queue.
#[derive(Debug, Clone)]
pub struct Say {
    pub utterance_id: String,
    pub text: String,
    pub kind: UtteranceKind,
    pub awaits_answer: bool,
    /// Set on the first utterance that answers a candidate's turn: their last speech.
    pub speech_end_ms: Option<u64>,
    /// The language it is said in (the voice that renders it).
    pub language: Language,
}

/// Everything that happens to a session, with the time it happened at.
#[derive(Debug)]
pub enum Input {
    /// A message from the transport.
    Transport(Inbound),
    /// Transcription pass `pass` (from [`Output::Transcribe`]) is back.
    Transcribed {
        pass: u64,
        result: Result<PassResult, TranscribeError>,
    },
    /// The acoustic model's answer to [`Output::AskAcoustic`].
    Acoustic { speech_end_ms: u64, p_complete: f32 },
    /// Rendered audio (16 kHz) of utterance `utterance`, in order.
    Synthesized { utterance: u64, samples: Vec<f32> },
    /// Utterance `utterance` is fully rendered (or its rendering failed).
    SynthesisDone { utterance: u64 },
}

/// Something the session wants done.
#[derive(Debug)]
pub enum Output {
    /// To the client: audio, events, or a close.
    Send(Outbound),
    /// A frame of the recording.
    Record(Track, AudioFrame),
    /// Transcribe `samples` (16 kHz) and answer with [`Input::Transcribed`] for `pass`.
    Transcribe {
        pass: u64,
        kind: PassKind,
        /// Session time the samples start at.
        start_ms: u64,
        samples: Vec<f32>,
        /// The text before these samples (continuity across a committed pause).
        prompt: Option<String>,
        /// The language the candidate speaks now.
        language: Language,
    },
    /// Ask the acoustic end-of-turn model about the pause after `speech_end_ms`.
    AskAcoustic {
        speech_end_ms: u64,
        samples: Vec<f32>,
    },
    /// Render `text` and answer with [`Input::Synthesized`] chunks, then
    /// [`Input::SynthesisDone`].
    Synthesize {
        utterance: u64,
        text: String,
        /// Which language's voice renders it.
        language: Language,
    },
    /// Utterances up to `through` are no longer wanted: stop rendering them.
    CancelSynthesis {
        through: u64,
    },
    /// The transcript so far (JSON), for the session's directory.
    SaveTranscript(Vec<u8>),
    /// The journal's new state, for the database.
    Persist(Snapshot),
    Metric(Metric),
    /// The session is over (after its close was sent).
    Ended {
        reason: String,
    },
}

/// What the session measured (on its own clock).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Metric {
    Count(&'static str),
    Observe(&'static str, f64),
    /// Candidate's last speech → first interviewer audio sent, seconds.
    Response(f64),
}

/// What one part of the session tells another.
pub(super) enum Note {
    CandidateSpeaking,
    BargeIn {
        at_ms: u64,
    },
    /// Transcribe the speech buffer (a caption or an endpoint pass).
    Pass {
        kind: PassKind,
        generation: u64,
        samples: Vec<f32>,
        start_ms: u64,
    },
    /// A turn ended: its final text is owed to the dialogue.
    Final {
        turn: u32,
        generation: u64,
        samples: Vec<f32>,
        start_ms: u64,
        speech_end_ms: u64,
    },
    Withdraw {
        speech_end_ms: u64,
    },
    ReleaseHeld,
    Say(Say),
    End(String),
    InterviewerStarted {
        at_ms: u64,
        text: String,
    },
    InterviewerStopped {
        at_ms: u64,
    },
    InterviewerDone {
        at_ms: u64,
        awaits_answer: bool,
        utterance_id: String,
    },
}

/// The queues every part writes to.
#[derive(Default)]
pub(super) struct Cx {
    pub outputs: VecDeque<Output>,
    pub notes: VecDeque<Note>,
}

impl Cx {
    pub fn output(&mut self, o: Output) {
        self.outputs.push_back(o);
    }
    pub fn note(&mut self, n: Note) {
        self.notes.push_back(n);
    }
    pub fn metric(&mut self, m: Metric) {
        self.outputs.push_back(Output::Metric(m));
    }
    pub fn caption(&mut self, turn: u32, is_final: bool, text: String, start_ms: u64, end_ms: u64) {
        self.output(Output::Send(Outbound::Event(ServerEvent::Caption {
            turn,
            is_final,
            text,
            start_ms,
            end_ms,
        })));
    }
}
