//! Pure audio for viva: no sockets, no async, no clocks.
//!
//! # Layout
//! - [`wav`]: reading any PCM/float WAV into mono `f32`, writing WAV.
//! - [`resample`]: sample-rate conversion with rubato (offline whole-buffer helper).
//!
//! Everything that touches input data returns a [`Result`]; malformed audio is an error value,
//! never a panic.

pub mod resample;
pub mod wav;

pub use resample::{resample, ResampleError};
pub use wav::{read_wav, read_wav_bytes, write_wav_i16, DecodedAudio, WavError};

/// The rate every speech model in viva consumes.
pub const SPEECH_RATE_HZ: u32 = 16_000;
