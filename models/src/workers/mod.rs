//! The session's workers behind small traits, so that a session's IO can be driven by the real
//! models or by scripted stand-ins (tests, fake-time runs) with the same runner:
//!
//! - [`Transcriber`]: Whisper passes over a span of a turn's audio ([`WhisperTranscriber`],
//!   every session's passes on the process's one inference scheduler).
//! - [`TextToSpeech`]: the interviewer's voice, sentence by sentence (implemented by
//!   `viva_tts::Voice`: Piper, or espeak-ng).
//! - [`VoiceActivity`]: a voice activity detector per session (Silero from a pool of model
//!   sessions, or WebRTC's).
//!
//! [`scripted`] holds the stand-ins: text with word timings derived from the audio, fixed-length
//! tones for speech, an energy detector.

pub mod scripted;
mod speech;
mod transcription;
mod voice_activity;

pub use speech::{SpeechChunk, SpeechError, TextToSpeech};
pub use transcription::{
    PassFuture, PassKind, PassResult, PassWord, TranscribeError, Transcriber, WhisperTranscriber,
};
pub use voice_activity::{SileroActivity, VoiceActivity, WebRtcActivity};
