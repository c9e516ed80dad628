//! Pure audio for viva: no sockets, no async, no clocks.
//!
//! # Layout
//! - [`frame`]: [`AudioFrame`], mono `f32` with its rate and its sample index on the session clock.
//! - [`resample`]: rubato sample-rate conversion — [`resample()`] for whole buffers,
//!   [`StreamResampler`] frame by frame with exact timestamps.
//! - [`opus_codec`]: Opus decode (PLC, FEC) / encode, 48 kHz mono 20 ms.
//! - [`g711`]: μ-law and A-law.
//! - [`jitter`]: the reorder buffer for RTP packets ([`JitterBuffer`]): in order straight
//!   through, a hole waited out briefly, then declared lost for the decoder to conceal.
//! - [`rtp`]: Opus over RTP both ways ([`rtp::RtpAudioIn`] with the jitter buffer, FEC and PLC;
//!   [`rtp::OpusAudioOut`]) and a seeded [`rtp::Impairment`] for loss/reordering tests.
//! - [`recorder`]: the time-aligned stereo session recording, crash-safe.
//! - [`vad`]: the [`VoiceActivityDetector`] trait; Silero (ONNX), WebRTC and energy detectors;
//!   [`VadStream`] to run one over frames; where the provisioned models are (`vad::provision`).
//! - [`mel`]: Whisper's log-mel front end (filterbank, and the features Smart Turn reads).
//! - [`smart_turn`]: the Smart Turn v3 end-of-turn model on ONNX Runtime (acoustic signal).
//! - [`turn`]: the sans-IO end-of-turn detector ([`TurnDetector`]).
//! - [`wav`]: reading any PCM/float WAV into mono `f32`, writing WAV.
//!
//! Everything that touches input data returns a [`Result`]; malformed audio is an error value,
//! never a panic.

pub mod error;
pub mod frame;
pub mod g711;
pub mod jitter;
pub mod mel;
pub mod opus_codec;
pub mod recorder;
pub mod resample;
pub mod rtp;
pub mod smart_turn;
pub mod turn;
pub mod vad;
pub mod wav;

pub use error::AudioError;
pub use frame::AudioFrame;
pub use g711::{G711Decoder, G711Law};
pub use jitter::{JitterBuffer, JitterConfig, JitterStats, Released};
pub use opus_codec::{OpusDecoder, OpusEncoder, OPUS_FRAME_SAMPLES, OPUS_RATE_HZ};
pub use recorder::{Recorder, RecorderConfig, RecordingStats, Track};
pub use resample::{resample, ResampleError, StreamResampler};
pub use smart_turn::SmartTurnModel;
pub use turn::{TurnConfig, TurnDecision, TurnDetector, TurnEvent};
pub use vad::provision::locate_vad_model;
pub use vad::{SpeechFrontEnd, VadChunk, VadError, VadStream, VoiceActivityDetector};
pub use wav::{read_wav, read_wav_bytes, write_wav_i16, DecodedAudio, WavError};

/// The rate every speech model in viva consumes.
pub const SPEECH_RATE_HZ: u32 = 16_000;
/// The lowest sample rate a frame may have (anything lower is not speech audio).
pub const MIN_RATE_HZ: u32 = 4_000;
/// The highest sample rate a frame may have.
pub const MAX_RATE_HZ: u32 = 192_000;
