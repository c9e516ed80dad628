//! Sample-rate conversion with rubato.

use rubato::{FftFixedIn, Resampler};

#[derive(Debug, thiserror::Error)]
pub enum ResampleError {
    #[error("unsupported sample rate conversion {from} Hz -> {to} Hz")]
    BadRate { from: u32, to: u32 },
    #[error("resampler failed: {0}")]
    Rubato(String),
}

const CHUNK: usize = 1024;

/// Converts a whole mono buffer from one rate to another. Output length is
/// `round(len * to / from)`; the resampler's delay is removed so timestamps stay aligned.
pub fn resample(samples: &[f32], from: u32, to: u32) -> Result<Vec<f32>, ResampleError> {
    if from == 0 || to == 0 || from > 384_000 || to > 384_000 {
        return Err(ResampleError::BadRate { from, to });
    }
    if from == to || samples.is_empty() {
        return Ok(samples.to_vec());
    }
    let mut resampler = FftFixedIn::<f32>::new(from as usize, to as usize, CHUNK, 2, 1)
        .map_err(|e| ResampleError::Rubato(e.to_string()))?;
    let delay = resampler.output_delay();
    let expected =
        ((samples.len() as u64 * u64::from(to) + u64::from(from) / 2) / u64::from(from)) as usize;
    let mut out = Vec::with_capacity(expected + delay + CHUNK);
    let mut chunk = vec![0.0f32; CHUNK];
    let mut pos = 0;
    // Feed the signal, then zeros, until the delayed tail has come out.
    while out.len() < expected + delay {
        let take = samples.len().saturating_sub(pos).min(CHUNK);
        chunk[..take].copy_from_slice(&samples[pos..pos + take]);
        chunk[take..].fill(0.0);
        pos += take;
        let produced = resampler
            .process(&[&chunk[..]], None)
            .map_err(|e| ResampleError::Rubato(e.to_string()))?;
        out.extend(
            produced[0]
                .iter()
                .map(|s| if s.is_finite() { *s } else { 0.0 }),
        );
    }
    out.drain(..delay.min(out.len()));
    out.truncate(expected);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(freq: f32, rate: u32, secs: f32) -> Vec<f32> {
        (0..(rate as f32 * secs) as usize)
            .map(|i| (2.0 * std::f32::consts::PI * freq * i as f32 / rate as f32).sin() * 0.5)
            .collect()
    }

    #[test]
    fn keeps_length_and_phase() {
        let input = tone(440.0, 44_100, 1.0);
        let out = resample(&input, 44_100, 16_000).expect("resample");
        assert_eq!(out.len(), 16_000);
        let reference = tone(440.0, 16_000, 1.0);
        // Aligned output: compare the middle (edges have filter ramps).
        let err: f32 = out[2000..14000]
            .iter()
            .zip(&reference[2000..14000])
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f32::max);
        assert!(err < 0.02, "max error {err}");
    }

    #[test]
    fn rejects_absurd_rates() {
        assert!(resample(&[0.0; 10], 0, 16_000).is_err());
        assert!(resample(&[0.0; 10], 16_000, 10_000_000).is_err());
    }
}
