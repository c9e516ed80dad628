//! Smart Turn v3.2 on ONNX Runtime: the acoustic half of the end-of-turn decision.
//!
//! Pipecat's Smart Turn (BSD-2-Clause, ~8 M parameters; `smart-turn-v3.2-cpu.onnx` from the
//! `pipecat-ai` wheel, provisioned by [`crate::vad::provision::SMART_TURN`]) reads the last 8 s
//! of a speaker's audio as an 80 × 800 Whisper log-mel ([`crate::mel::whisper_log_mel`]) and
//! says how likely it is that they have finished their turn, from how the speech ends (pitch,
//! lengthening, the breath before more words), not from the words. Shorter audio is zero-padded
//! on the left, as the model was trained.
//!
//! Alone it is not enough (it calls many mid-sentence thinking pauses "complete"), so the
//! [`crate::turn::TurnDetector`] weighs it with the text and the question asked. One model is
//! shared by every session of the process; a call takes ≈ 60 ms of one core.

use std::path::Path;
use std::sync::Mutex;

use ort::environment::Environment;
use ort::session::Session;
use ort::value::Tensor;

use crate::mel::{whisper_log_mel, N_MELS};
use crate::vad::load_session;
use crate::vad::VadError;

/// Samples the model reads (8 s at 16 kHz).
pub const SMART_TURN_SAMPLES: usize = 128_000;
const FRAMES: usize = SMART_TURN_SAMPLES / crate::mel::HOP;

/// The loaded Smart Turn network, shareable across threads.
pub struct SmartTurnModel {
    session: Mutex<Session>,
}

impl SmartTurnModel {
    /// Loads the ONNX file into `env` with `threads` intra-op threads (1 keeps a call from
    /// competing with Whisper for both cores).
    pub fn load(env: &Environment, model: &Path, threads: usize) -> Result<Self, VadError> {
        let session = load_session(env, model, "Smart Turn end-of-turn model", threads)?;
        if !session
            .inputs()
            .iter()
            .any(|i| i.name() == "input_features")
        {
            return Err(VadError::Onnx(format!(
                "{} has no input \"input_features\": not a Smart Turn v3 model",
                model.display()
            )));
        }
        Ok(Self {
            session: Mutex::new(session),
        })
    }

    /// The probability (0–1) that the speaker has finished, from the end of `samples` (16 kHz
    /// mono: the turn so far, ending a little after the last speech).
    pub fn probability(&self, samples: &[f32]) -> Result<f32, VadError> {
        let features = whisper_log_mel(&last_8_seconds(samples));
        if features.len() != N_MELS * FRAMES {
            return Err(VadError::Onnx(format!(
                "Smart Turn features: {} values, expected {}",
                features.len(),
                N_MELS * FRAMES
            )));
        }
        let err = |e: ort::Error| VadError::Onnx(format!("Smart Turn inference: {e}"));
        let x = Tensor::from_array(([1usize, N_MELS, FRAMES], features)).map_err(err)?;
        // A poisoned mutex only means another call panicked; the session keeps no state.
        let mut session = self.session.lock().unwrap_or_else(|p| p.into_inner());
        let outputs = session
            .run(ort::inputs!["input_features" => x])
            .map_err(err)?;
        let p = outputs
            .values()
            .next()
            .ok_or_else(|| VadError::Onnx("Smart Turn gave no output".into()))?
            .try_extract_tensor::<f32>()
            .map_err(err)?
            .1
            .first()
            .copied()
            .ok_or_else(|| VadError::Onnx("Smart Turn gave an empty output".into()))?;
        Ok(if p.is_finite() {
            p.clamp(0.0, 1.0)
        } else {
            0.5
        })
    }
}

/// The last 8 s of `samples`, zero-padded on the left to exactly 8 s.
pub fn last_8_seconds(samples: &[f32]) -> Vec<f32> {
    let mut out = vec![0f32; SMART_TURN_SAMPLES];
    let take = samples.len().min(SMART_TURN_SAMPLES);
    out[SMART_TURN_SAMPLES - take..].copy_from_slice(&samples[samples.len() - take..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_audio_is_padded_on_the_left_and_long_audio_keeps_its_end() {
        let short = last_8_seconds(&[1.0; 10]);
        assert_eq!(short.len(), SMART_TURN_SAMPLES);
        assert_eq!(short[SMART_TURN_SAMPLES - 10..], [1.0; 10]);
        assert_eq!(short[SMART_TURN_SAMPLES - 11], 0.0);
        let mut long = vec![0.0; SMART_TURN_SAMPLES + 5];
        long[SMART_TURN_SAMPLES + 4] = 2.0;
        long[4] = 3.0;
        let kept = last_8_seconds(&long);
        assert_eq!(kept[SMART_TURN_SAMPLES - 1], 2.0);
        assert!(!kept.contains(&3.0));
    }
}
