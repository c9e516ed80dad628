//! Turning a span of a turn's audio into text: the [`Transcriber`] trait and its Whisper
//! implementation on the process's one [`InferenceScheduler`] (finals before endpoint passes
//! before captions, stale captions dropped). Passes are sized to the audio (not padded to
//! Whisper's 30 s window), which is what makes them cheap.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::streaming::{
    live_options, InferenceScheduler, Priority, SchedulerConfig, SchedulerError, LIVE_CTX_MARGIN,
};
use crate::whisper::{Transcription, WhisperModel};

/// The languages besides English a multilingual model is used for (the interview languages
/// viva has phrases, voices and text rules for).
pub const SUPPORTED: &[&str] = &["es", "de"];

/// Why a pass failed.
#[derive(Debug, thiserror::Error)]
pub enum TranscribeError {
    #[error("speech recognition failed: {0}")]
    Model(String),
    /// A newer pass of the same stream replaced this one before it ran (load shedding).
    #[error("replaced by a newer pass")]
    Superseded,
}

/// A recognised word, in ms from the start of the audio passed in.
#[derive(Debug, Clone, PartialEq)]
pub struct PassWord {
    pub text: String,
    pub start_ms: u64,
    pub end_ms: u64,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct PassResult {
    pub text: String,
    pub words: Vec<PassWord>,
}

/// What a pass is for; it sets the pass's place in the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PassKind {
    /// A caption (may be dropped under load).
    Partial,
    /// Started when the candidate paused: probably the turn's final text, computed while the
    /// end-of-turn detector still waits.
    Endpoint,
    /// The turn's final text; someone is waiting.
    Final,
}

/// A pass in flight; resolves when it has run (or was replaced).
pub type PassFuture = Pin<Box<dyn Future<Output = Result<PassResult, TranscribeError>> + Send>>;

/// Speech to text for live sessions. One implementation serves every session of a process;
/// a session's passes carry its stream id so one session's captions never replace another's.
pub trait Transcriber: Send + Sync {
    /// A fresh stream id (one per session).
    fn new_stream(&self) -> u64;
    /// Queues a pass over 16 kHz `samples` spoken in `language` ("en", "es", "de");
    /// `prompt` is the committed text before them.
    fn submit(
        &self,
        stream: u64,
        kind: PassKind,
        samples: Vec<f32>,
        prompt: Option<String>,
        language: &str,
    ) -> PassFuture;
    /// Whether passes in `language` can run (a multilingual model is loaded for it).
    fn supports_language(&self, language: &str) -> bool {
        language == "en"
    }
    /// Passes waiting for a worker (all sessions).
    fn queued(&self) -> usize {
        0
    }
}

/// Whisper through one [`InferenceScheduler`] shared by every session.
pub struct WhisperTranscriber {
    scheduler: Arc<InferenceScheduler>,
    ctx_margin: u32,
    next_stream: AtomicU64,
    multilingual: bool,
}

impl WhisperTranscriber {
    /// `workers` concurrent single-threaded decodes (one per core).
    pub fn new(model: Arc<WhisperModel>, workers: usize) -> Self {
        Self::with_multilingual(model, None, workers)
    }

    /// English passes on `model`, Spanish and German ones on `multilingual` (when given), all
    /// on one pool of `workers`.
    pub fn with_multilingual(
        model: Arc<WhisperModel>,
        multilingual: Option<Arc<WhisperModel>>,
        workers: usize,
    ) -> Self {
        let multilingual = multilingual.filter(|m| m.is_multilingual());
        let covers_all = multilingual.is_some() || model.is_multilingual();
        Self {
            scheduler: Arc::new(InferenceScheduler::with_multilingual(
                model,
                multilingual,
                SchedulerConfig::for_cores(workers),
            )),
            ctx_margin: LIVE_CTX_MARGIN,
            next_stream: AtomicU64::new(1),
            multilingual: covers_all,
        }
    }
}

impl Transcriber for WhisperTranscriber {
    fn new_stream(&self) -> u64 {
        self.next_stream.fetch_add(1, Ordering::Relaxed)
    }

    fn submit(
        &self,
        stream: u64,
        kind: PassKind,
        samples: Vec<f32>,
        prompt: Option<String>,
        language: &str,
    ) -> PassFuture {
        let priority = match kind {
            PassKind::Partial => Priority::Partial,
            PassKind::Endpoint => Priority::Endpoint,
            PassKind::Final => Priority::Final,
        };
        let mut opts = live_options(self.ctx_margin);
        // The committed text before this audio (a long answer's earlier part): continuity.
        opts.initial_prompt = prompt;
        opts.language = (language != "en").then(|| language.to_string());
        let ticket = self.scheduler.submit(stream, priority, samples, opts);
        Box::pin(async move {
            match ticket.await {
                Ok(Ok(inference)) => Ok(to_pass(&inference.transcription)),
                Ok(Err(SchedulerError::Superseded)) => Err(TranscribeError::Superseded),
                Ok(Err(e)) => Err(TranscribeError::Model(e.to_string())),
                Err(_) => Err(TranscribeError::Model(
                    "the inference worker went away".into(),
                )),
            }
        })
    }

    fn queued(&self) -> usize {
        self.scheduler.queued()
    }

    fn supports_language(&self, language: &str) -> bool {
        language == "en" || (self.multilingual && SUPPORTED.contains(&language))
    }
}

fn to_pass(t: &Transcription) -> PassResult {
    PassResult {
        text: clean(&t.text),
        words: t
            .words()
            .map(|w| PassWord {
                text: w.text.clone(),
                start_ms: w.start_ms,
                end_ms: w.end_ms,
            })
            .filter(|w| !clean(&w.text).is_empty())
            .collect(),
    }
}

/// Whisper marks non-speech as "[BLANK_AUDIO]", "(music)" and the like: those are not words the
/// candidate said.
fn clean(text: &str) -> String {
    let mut out = String::new();
    let mut depth = 0i32;
    for c in text.chars() {
        match c {
            '[' | '(' => depth += 1,
            ']' | ')' => depth = (depth - 1).max(0),
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_speech_markers_are_removed() {
        assert_eq!(clean(" [BLANK_AUDIO] "), "");
        assert_eq!(clean("Yes (laughs) I am ready."), "Yes I am ready.");
        assert_eq!(clean("a ] b"), "a b");
    }
}
