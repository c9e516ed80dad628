//! Turning a finished turn (or a growing one, for captions) into text, through the process's
//! one [`InferenceScheduler`] (models/src/streaming.rs). Passes are sized to the audio (not
//! padded to Whisper's 30 s window), which is what makes them cheap.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use viva_models::streaming::{
    live_options, InferenceScheduler, Priority, SchedulerConfig, SchedulerError, LIVE_CTX_MARGIN,
};
use viva_models::whisper::{Transcription, WhisperModel};

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

/// What a pass is for; it sets the pass's place in the inference queue.
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

/// Every session's Whisper passes go through one [`InferenceScheduler`]: bounded parallelism,
/// finals before endpoint passes before captions, stale captions dropped.
pub struct LiveTranscriber {
    scheduler: Arc<InferenceScheduler>,
    ctx_margin: u32,
    next_stream: AtomicU64,
}

impl LiveTranscriber {
    pub fn new(model: Arc<WhisperModel>, threads: usize) -> Self {
        Self {
            scheduler: Arc::new(InferenceScheduler::new(
                model,
                SchedulerConfig::for_cores(threads),
            )),
            ctx_margin: LIVE_CTX_MARGIN,
            next_stream: AtomicU64::new(1),
        }
    }

    /// A fresh stream id (one per session), so one session's captions never replace another's.
    pub fn new_stream(&self) -> u64 {
        self.next_stream.fetch_add(1, Ordering::Relaxed)
    }

    /// Queues a pass; the returned future resolves when it has run (or was replaced).
    pub fn submit(
        &self,
        stream: u64,
        kind: PassKind,
        samples: Vec<f32>,
        prompt: Option<String>,
    ) -> impl std::future::Future<Output = Result<PassResult, TranscribeError>> + Send + 'static
    {
        let priority = match kind {
            PassKind::Partial => Priority::Partial,
            PassKind::Endpoint => Priority::Endpoint,
            PassKind::Final => Priority::Final,
        };
        let mut opts = live_options(self.ctx_margin);
        // The committed text before this audio (a long answer's earlier part): continuity.
        opts.initial_prompt = prompt;
        let ticket = self.scheduler.submit(stream, priority, samples, opts);
        async move {
            match ticket.await {
                Ok(Ok(inference)) => Ok(to_pass(&inference.transcription)),
                Ok(Err(SchedulerError::Superseded)) => Err(TranscribeError::Superseded),
                Ok(Err(e)) => Err(TranscribeError::Model(e.to_string())),
                Err(_) => Err(TranscribeError::Model(
                    "the inference worker went away".into(),
                )),
            }
        }
    }

    /// Passes waiting for a worker (all sessions).
    pub fn queued(&self) -> usize {
        self.scheduler.queued()
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
