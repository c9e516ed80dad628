//! Turning a finished turn (or a growing one, for captions) into text.
//!
//! [`TurnTranscriber`] is the seam for the streaming transcriber (models/src/streaming.rs, in
//! progress): until it lands, each pass is an offline Whisper call whose encoder context is sized
//! to the audio, which is what makes short passes cheap.

use std::sync::Arc;

use viva_models::whisper::{TranscribeOptions, WhisperModel};

/// Why a pass failed.
#[derive(Debug, thiserror::Error)]
pub enum TranscribeError {
    #[error("speech recognition failed: {0}")]
    Model(String),
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

/// Whether a pass is a caption (may be skipped or cut short) or the turn's final text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PassKind {
    Partial,
    Final,
}

/// Blocking: call from `spawn_blocking`. Implementations are shared by every session.
pub trait TurnTranscriber: Send + Sync {
    fn transcribe(
        &self,
        samples_16k: &[f32],
        kind: PassKind,
    ) -> Result<PassResult, TranscribeError>;
}

/// Offline Whisper per pass.
pub struct WhisperTranscriber {
    model: Arc<WhisperModel>,
    threads: usize,
}

impl WhisperTranscriber {
    pub fn new(model: Arc<WhisperModel>, threads: usize) -> Self {
        Self { model, threads }
    }
}

/// Encoder frames (20 ms) for `samples` plus a margin Whisper needs to place the last words,
/// capped at its 30 s window.
pub fn audio_ctx(samples: usize) -> u32 {
    let frames = samples.div_ceil(320) as u32;
    (frames + 64).clamp(1, 1500)
}

impl TurnTranscriber for WhisperTranscriber {
    fn transcribe(
        &self,
        samples_16k: &[f32],
        _kind: PassKind,
    ) -> Result<PassResult, TranscribeError> {
        // Newer fields of the options (the streaming work adds some) keep their defaults; with
        // today's fields the update is empty, hence the allow.
        #[allow(clippy::needless_update)]
        let opts = TranscribeOptions {
            threads: self.threads,
            audio_ctx: Some(audio_ctx(samples_16k.len())),
            initial_prompt: None,
            // Partials too: the last one often becomes the final (see the pipeline).
            word_timestamps: true,
            ..Default::default()
        };
        let t = self
            .model
            .transcribe(samples_16k, &opts)
            .map_err(|e| TranscribeError::Model(e.to_string()))?;
        let words = t
            .words()
            .map(|w| PassWord {
                text: w.text.clone(),
                start_ms: w.start_ms,
                end_ms: w.end_ms,
            })
            .collect();
        Ok(PassResult {
            text: clean(&t.text),
            words,
        })
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

    #[test]
    fn context_grows_with_audio_and_is_capped() {
        assert_eq!(audio_ctx(16_000), 50 + 64);
        assert_eq!(audio_ctx(16_000 * 60), 1500);
    }
}
