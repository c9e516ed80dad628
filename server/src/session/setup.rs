//! What a session is configured with, what it continues from, and where it reports: the types
//! the manager, the runner and the storage side share.

use std::path::PathBuf;
use std::time::Duration;

use super::journal::{Logged, Snapshot};

/// Per-session tunables.
#[derive(Debug, Clone)]
pub struct SessionConfig {
    pub recordings_dir: PathBuf,
    /// How long a dropped transport may take to resume before the candidate counts as gone.
    pub resume_grace: Duration,
    pub engine: viva_interview::EngineConfig,
    pub turn: viva_audio::TurnConfig,
    /// A session no transport joins within this time is discarded.
    pub attach_timeout: Duration,
    /// Interviews in progress at once.
    pub max_live: usize,
    /// Sessions created and not joined yet.
    pub max_pending: usize,
    /// Speech resumed right after a turn's end withdraws the reply (see `session.cutoff_recovery`).
    pub cutoff_recovery: bool,
    /// Smart Turn takes part in the end-of-turn decision when loaded (`session.turn_model`).
    pub turn_model: bool,
}

impl SessionConfig {
    pub fn new(data_dir: &std::path::Path) -> Self {
        Self::from_settings(data_dir, &crate::config::SessionSettings::default())
    }

    pub fn from_settings(data_dir: &std::path::Path, s: &crate::config::SessionSettings) -> Self {
        let engine = viva_interview::EngineConfig {
            silence_reprompt_ms: s.silence_reprompt_s.saturating_mul(1000),
            silence_give_up_ms: s.silence_give_up_s.saturating_mul(1000),
            silence_end_after: s.silence_end_after,
            ..Default::default()
        };
        Self {
            recordings_dir: data_dir.join("recordings"),
            resume_grace: Duration::from_secs(s.resume_grace_s),
            engine,
            turn: viva_audio::TurnConfig::default(),
            attach_timeout: Duration::from_secs(s.attach_timeout_s.max(1)),
            max_live: s.max_live(),
            max_pending: s.max_pending.max(1),
            cutoff_recovery: s.cutoff_recovery,
            turn_model: s.turn_model,
        }
    }
}

/// What became of a session that ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The interview ended (completed, the candidate left, a time or silence limit): file it.
    Finished,
    /// Paused by a server shutdown: keep its state for a resume after the restart.
    Paused,
    /// Restored after a crash or restart and not resumed in time: file what was answered as
    /// interrupted.
    Interrupted,
    /// Nobody ever joined: remove what its creation left (the invite works again).
    Discarded,
}

/// A session that ended, for the sink.
#[derive(Debug, Clone)]
pub struct EndedSession {
    pub session_id: String,
    pub interview_id: String,
    /// Holds `recording.wav` and `turns.json` (the transcript).
    pub dir: PathBuf,
    pub outcome: Outcome,
}

/// Where sessions linked to stored interviews report: their write-ahead state as it changes,
/// and their end. Implemented by the storage side ([`crate::store::link::StoreSink`]), which
/// writes them in order.
pub trait SessionSink: Send + Sync {
    /// The session's state changed (a turn finished, the plan moved on).
    fn progress(&self, snapshot: Snapshot);
    /// The session ended; the receiver completes when what it implies is written.
    fn ended(&self, ended: EndedSession) -> tokio::sync::oneshot::Receiver<()>;
}

/// What the runner needs to continue a restored session.
pub struct Restored {
    pub events: Vec<Logged>,
    pub seq: u64,
    pub clock_ms: u64,
}
