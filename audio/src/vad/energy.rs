//! An adaptive energy detector: speech when a 20 ms frame is well above the tracked noise floor.
//! Good enough for synthetic tests and clean audio; it has no idea what speech *is*, so steady
//! noise or music fool it (see the numbers in the README).

use super::{check_chunk, VadError, VoiceActivityDetector};

/// Energy VAD with a noise floor that falls fast and rises slowly.
#[derive(Debug, Clone)]
pub struct EnergyVad {
    floor_db: f32,
    /// dB above the floor at which the probability reaches 0.5.
    margin_db: f32,
    /// Frames below this level (dBFS) are never speech.
    min_db: f32,
}

impl Default for EnergyVad {
    fn default() -> Self {
        Self {
            floor_db: -60.0,
            margin_db: 12.0,
            min_db: -50.0,
        }
    }
}

const CHUNK: usize = 320;

impl VoiceActivityDetector for EnergyVad {
    fn name(&self) -> &'static str {
        "energy"
    }
    fn chunk_len(&self) -> usize {
        CHUNK
    }
    fn speech_probability(&mut self, chunk: &[f32]) -> Result<f32, VadError> {
        check_chunk(chunk, CHUNK)?;
        let energy = chunk.iter().map(|s| s * s).sum::<f32>() / CHUNK as f32;
        let db = 10.0 * (energy + 1e-12).log10();
        // Floor: follow drops at once, rises at ~1 dB/s (50 frames/s) so speech does not lift it.
        self.floor_db = if db < self.floor_db {
            db
        } else {
            self.floor_db + 0.02
        };
        if db < self.min_db {
            return Ok(0.0);
        }
        let x = (db - self.floor_db - self.margin_db) / 3.0;
        Ok(1.0 / (1.0 + (-x).exp()))
    }
    fn reset(&mut self) {
        self.floor_db = -60.0;
    }
}
