//! Error types, one enum per failure domain (synthesis vs provisioning).

use std::path::PathBuf;

/// Why a piece of text could not be turned into audio.
///
/// Input problems (`EmptyText`, `NothingToSay`, `TooLong`, `UnsupportedRate`) are the caller's to
/// handle (say something else, or split the text); engine problems carry what to do in their text.
#[derive(Debug, thiserror::Error)]
pub enum TtsError {
    /// The text was empty or only whitespace.
    #[error("nothing to say: the text is empty")]
    EmptyText,
    /// After removing markup, emoji and symbols nothing pronounceable was left.
    #[error("nothing to say: the text has no letters or digits once tags, emoji and symbols are removed")]
    NothingToSay,
    /// The text is longer than one utterance may be; split it and speak the parts in turn.
    #[error("text too long: {chars} characters, the limit for one utterance is {max}; split it")]
    TooLong { chars: usize, max: usize },
    /// Only telephone and web rates are produced.
    #[error("unsupported sample rate {0} Hz: use 8000, 16000, 24000 or 48000")]
    UnsupportedRate(u32),
    /// The synthesis was cancelled (barge-in) before it finished.
    #[error("cancelled")]
    Cancelled,
    /// libespeak-ng could not be initialised or failed.
    #[error(
        "espeak-ng: {0} (is the Debian package `libespeak-ng1` with `espeak-ng-data` installed?)"
    )]
    Espeak(String),
    /// ONNX Runtime could not be loaded or the voice model failed.
    #[error("piper voice: {0}")]
    Piper(String),
    /// The voice files are missing or broken.
    #[error(transparent)]
    Provision(#[from] ProvisionError),
    /// Resampling failed (a bug: the rates are validated first).
    #[error("resampling {from} Hz to {to} Hz failed: {reason}")]
    Resample { from: u32, to: u32, reason: String },
    /// The prompt cache could not be read or written.
    #[error("prompt cache {path}: {reason}")]
    Cache { path: PathBuf, reason: String },
    /// Writing an output file failed.
    #[error("writing {path}: {reason}")]
    Output { path: PathBuf, reason: String },
}

/// Why the neural voice files could not be provisioned or found.
///
/// Every message says what to do next.
#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    /// A required file is absent or does not match its pinned checksum.
    #[error("{what} missing or damaged at {path}: run `viva models fetch` to (re)download it")]
    Missing { what: &'static str, path: PathBuf },
    /// Downloading or extracting a pinned file failed.
    #[error(transparent)]
    Fetch(#[from] viva_models::provision::ProvisionError),
}
