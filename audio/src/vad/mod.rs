//! Voice activity detection: one trait, three detectors, and a stream adapter that turns 16 kHz
//! frames into timestamped speech/silence chunks for the end-of-turn detector.
//!
//! - [`SileroVad`] — the default: Silero VAD v5 (ONNX, run by ONNX Runtime loaded from the
//!   PyPI wheel). Robust in noise (see the crate README for the numbers).
//! - [`WebRtcVad`] — WebRTC's GMM detector (C, built into the binary). No model files; the
//!   fallback when Silero is not provisioned.
//! - [`EnergyVad`] — adaptive energy threshold. Only for tests and as a last resort: it cannot
//!   tell speech from noise.

mod energy;
pub mod provision;
mod silero;
mod webrtc;

pub use energy::EnergyVad;
pub(crate) use silero::load_session;
pub use silero::{onnx_environment, SileroModel, SileroVad, SILERO_CHUNK, SILERO_CONTEXT};
pub use webrtc::{WebRtcMode, WebRtcVad};

use std::path::Path;
use std::sync::Arc;

use crate::error::{check_finite, AudioError};
use crate::frame::{samples_to_ms, AudioFrame};
use crate::resample::StreamResampler;
use crate::SPEECH_RATE_HZ;

/// Why a detector could not run.
#[derive(Debug, thiserror::Error)]
pub enum VadError {
    #[error(transparent)]
    Audio(#[from] AudioError),
    #[error("{what} not found at {path}; run `viva models fetch`")]
    Missing { what: &'static str, path: String },
    #[error("ONNX Runtime: {0}")]
    Onnx(String),
    #[error("detector failed: {0}")]
    Detector(String),
    #[error("provisioning the VAD model: {0}")]
    Provision(String),
}

/// A frame-level voice activity detector on 16 kHz mono audio.
///
/// Detectors keep state across calls (Silero's recurrent state, WebRTC's noise model): one
/// instance per audio stream, [`VoiceActivityDetector::reset`] between unrelated streams.
pub trait VoiceActivityDetector: Send {
    /// Short name for logs and benchmarks.
    fn name(&self) -> &'static str;
    /// Samples (at 16 kHz) each call to [`VoiceActivityDetector::speech_probability`] takes.
    fn chunk_len(&self) -> usize;
    /// Probability in [0, 1] that `chunk` (exactly `chunk_len` finite samples) is speech.
    fn speech_probability(&mut self, chunk: &[f32]) -> Result<f32, VadError>;
    /// Forgets the stream.
    fn reset(&mut self);
}

/// Checks the common preconditions of [`VoiceActivityDetector::speech_probability`].
pub(crate) fn check_chunk(chunk: &[f32], expected: usize) -> Result<(), VadError> {
    if chunk.len() != expected {
        return Err(AudioError::FrameSize {
            expected,
            got: chunk.len(),
        }
        .into());
    }
    check_finite(chunk)?;
    Ok(())
}

/// Which detector to build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VadKind {
    Silero,
    WebRtc,
    Energy,
}

/// The best detector available: Silero when `env` (the process's one ONNX Runtime environment,
/// see [`onnx_environment`]) is given and `model` loads, else WebRTC VAD. The error says why
/// Silero was not used (log it: the fallback is much weaker in noise).
pub fn best_available(
    model: &Path,
    env: Option<&ort::environment::Environment>,
) -> (Box<dyn VoiceActivityDetector>, Option<VadError>) {
    let loaded = match env {
        Some(env) => SileroModel::load(env, model),
        None => Err(VadError::Onnx("no ONNX Runtime environment".into())),
    };
    match loaded {
        Ok(m) => (Box::new(SileroVad::new(Arc::new(m))), None),
        Err(e) => {
            tracing::warn!(error = %e, "Silero VAD unavailable; falling back to WebRTC VAD");
            (Box::new(WebRtcVad::new(WebRtcMode::default())), Some(e))
        }
    }
}

/// One analysed chunk of a stream: where it is on the session clock and what the detector said.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VadChunk {
    /// First sample (16 kHz index on the session clock).
    pub start: u64,
    /// One past the last sample.
    pub end: u64,
    /// The detector's speech probability.
    pub probability: f32,
    /// The smoothed decision (hysteresis: on at `threshold`, off below `threshold - 0.15`).
    pub speech: bool,
}

impl VadChunk {
    pub fn start_ms(&self) -> u64 {
        samples_to_ms(self.start, SPEECH_RATE_HZ)
    }
    pub fn end_ms(&self) -> u64 {
        samples_to_ms(self.end, SPEECH_RATE_HZ)
    }
}

/// Feeds a detector from 16 kHz frames of any size, in order, and reports each analysed chunk
/// with its timestamps. A gap in the timestamps up to 1 s is filled with silence (so chunks stay
/// on the clock); a larger one re-anchors the stream and resets the detector.
pub struct VadStream {
    detector: Box<dyn VoiceActivityDetector>,
    threshold: f32,
    pending: Vec<f32>,
    /// 16 kHz index of `pending[0]`.
    pending_start: Option<u64>,
    speaking: bool,
}

impl VadStream {
    /// `threshold`: probability at which speech starts (0.5 suits all three detectors).
    pub fn new(detector: Box<dyn VoiceActivityDetector>, threshold: f32) -> Self {
        let n = detector.chunk_len();
        Self {
            detector,
            threshold: threshold.clamp(0.05, 0.95),
            pending: Vec::with_capacity(n),
            pending_start: None,
            speaking: false,
        }
    }

    pub fn detector_name(&self) -> &'static str {
        self.detector.name()
    }

    /// Analyses a 16 kHz frame; returns every chunk completed by it.
    pub fn push(&mut self, frame: &AudioFrame) -> Result<Vec<VadChunk>, VadError> {
        if frame.sample_rate() != SPEECH_RATE_HZ {
            return Err(AudioError::RateMismatch {
                expected_rate: SPEECH_RATE_HZ,
                got_rate: frame.sample_rate(),
            }
            .into());
        }
        let expected = self.pending_start.map(|s| s + self.pending.len() as u64);
        match expected {
            None => self.pending_start = Some(frame.start()),
            Some(e) if frame.start() < e => {
                return Err(AudioError::Backwards {
                    expected: e,
                    got: frame.start(),
                }
                .into())
            }
            Some(e) if frame.start() - e > u64::from(SPEECH_RATE_HZ) => {
                self.detector.reset();
                self.pending.clear();
                self.speaking = false;
                self.pending_start = Some(frame.start());
            }
            Some(e) => {
                let gap = (frame.start() - e) as usize;
                self.pending.extend(std::iter::repeat_n(0.0, gap));
            }
        }
        self.pending.extend_from_slice(frame.samples());
        let n = self.detector.chunk_len();
        let mut out = Vec::new();
        let mut used = 0;
        while self.pending.len() - used >= n {
            let chunk = &self.pending[used..used + n];
            let p = self.detector.speech_probability(chunk)?;
            let start = self.pending_start.unwrap_or(0) + used as u64;
            self.speaking = if self.speaking {
                p >= self.threshold - 0.15
            } else {
                p >= self.threshold
            };
            out.push(VadChunk {
                start,
                end: start + n as u64,
                probability: p,
                speech: self.speaking,
            });
            used += n;
        }
        self.pending.drain(..used);
        if let Some(s) = self.pending_start.as_mut() {
            *s += used as u64;
        }
        Ok(out)
    }

    /// Forgets the stream.
    pub fn reset(&mut self) {
        self.detector.reset();
        self.pending.clear();
        self.pending_start = None;
        self.speaking = false;
    }
}

/// The candidate side of a session up to the end-of-turn detector: frames at any rate in,
/// 16 kHz frames (for the recogniser) and VAD chunks (for [`crate::TurnDetector`]) out, all on
/// the session clock.
pub struct SpeechFrontEnd {
    resampler: Option<StreamResampler>,
    vad: VadStream,
}

impl SpeechFrontEnd {
    pub fn new(detector: Box<dyn VoiceActivityDetector>, threshold: f32) -> Self {
        Self {
            resampler: None,
            vad: VadStream::new(detector, threshold),
        }
    }

    /// Converts `frame` to 16 kHz (a resampler is made for its rate on first use, and remade
    /// if the rate changes) and runs the detector. The 16 kHz frame is `None` while the
    /// resampler is still filling its first chunk.
    pub fn push(
        &mut self,
        frame: &AudioFrame,
    ) -> Result<(Option<AudioFrame>, Vec<VadChunk>), VadError> {
        let out = if frame.sample_rate() == SPEECH_RATE_HZ {
            Some(frame.clone())
        } else {
            if self
                .resampler
                .as_ref()
                .is_none_or(|r| r.input_rate() != frame.sample_rate())
            {
                self.resampler = Some(StreamResampler::new(frame.sample_rate(), SPEECH_RATE_HZ)?);
            }
            match self.resampler.as_mut() {
                Some(r) => r.process(frame)?,
                None => None,
            }
        };
        let chunks = match &out {
            Some(f) => self.vad.push(f)?,
            None => Vec::new(),
        };
        Ok((out, chunks))
    }

    /// Forgets the stream (new call leg, reconnect).
    pub fn reset(&mut self) {
        if let Some(r) = self.resampler.as_mut() {
            r.reset();
        }
        self.vad.reset();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_keeps_timestamps_across_odd_frame_sizes() {
        let mut s = VadStream::new(Box::new(EnergyVad::default()), 0.5);
        let mut chunks = Vec::new();
        let mut at = 16_000u64;
        for len in [100usize, 500, 7, 900, 333] {
            let f = AudioFrame::new(vec![0.0; len], 16_000, at).expect("frame");
            chunks.extend(s.push(&f).expect("push"));
            at += len as u64;
        }
        assert_eq!(chunks.len(), 1840 / 320);
        for (i, c) in chunks.iter().enumerate() {
            assert_eq!(c.start, 16_000 + 320 * i as u64);
        }
        assert_eq!(chunks[0].start_ms(), 1_000);
        let wrong = AudioFrame::new(vec![0.0; 10], 48_000, 0).expect("frame");
        assert!(s.push(&wrong).is_err());
        let back = AudioFrame::new(vec![0.0; 10], 16_000, 0).expect("frame");
        assert!(s.push(&back).is_err());
    }

    #[test]
    fn front_end_resamples_and_keeps_the_clock() {
        let mut fe = SpeechFrontEnd::new(Box::new(EnergyVad::default()), 0.5);
        let mut chunks = Vec::new();
        let mut samples16 = 0;
        for i in 0..50u64 {
            // 48 kHz, 20 ms frames, starting 1 s into the session.
            let f = AudioFrame::new(vec![0.0; 960], 48_000, 48_000 + i * 960).expect("frame");
            let (out, c) = fe.push(&f).expect("push");
            if let Some(o) = out {
                assert_eq!(o.sample_rate(), 16_000);
                assert_eq!(o.start(), 16_000 + samples16);
                samples16 += o.len() as u64;
            }
            chunks.extend(c);
        }
        assert!(samples16 >= 15_000, "{samples16}");
        assert_eq!(chunks.first().map(VadChunk::start_ms), Some(1_000));
    }
}
