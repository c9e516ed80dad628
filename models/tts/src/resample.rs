//! Whole-sentence resampling from an engine's native rate to the rate the caller wants.
//!
//! Each sentence is resampled on its own: sentences are separated by silence, so there is no
//! boundary to keep continuous, and a fresh resampler per sentence keeps the stream stateless
//! (cancellable at any sentence without flushing anything).

use rubato::{FftFixedIn, Resampler};

use crate::error::TtsError;

const CHUNK: usize = 1024;

/// Resample mono `input` from `from` Hz to `to` Hz. The output has `round(len * to / from)`
/// samples and no added delay.
pub fn resample(input: &[f32], from: u32, to: u32) -> Result<Vec<f32>, TtsError> {
    if from == to || input.is_empty() {
        return Ok(input.to_vec());
    }
    let err = |reason: String| TtsError::Resample { from, to, reason };
    let mut r = FftFixedIn::<f32>::new(from as usize, to as usize, CHUNK, 2, 1)
        .map_err(|e| err(e.to_string()))?;
    let expected = (input.len() as u64 * u64::from(to)).div_ceil(u64::from(from)) as usize;
    let delay = r.output_delay();
    let mut out: Vec<f32> = Vec::with_capacity(expected + delay + CHUNK);
    let mut pos = 0;
    // Feed the input, then zeros until the delayed tail has come out.
    while out.len() < expected + delay {
        let need = r.input_frames_next();
        let mut block = vec![0.0f32; need];
        if pos < input.len() {
            let take = need.min(input.len() - pos);
            block[..take].copy_from_slice(&input[pos..pos + take]);
            pos += take;
        }
        let produced = r.process(&[block], None).map_err(|e| err(e.to_string()))?;
        match produced.into_iter().next() {
            Some(ch) => out.extend_from_slice(&ch),
            None => return Err(err("resampler returned no channel".into())),
        }
    }
    Ok(out.into_iter().skip(delay).take(expected).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(rate: u32, hz: f32, secs: f32) -> Vec<f32> {
        (0..(rate as f32 * secs) as usize)
            .map(|i| (i as f32 * hz * std::f32::consts::TAU / rate as f32).sin() * 0.5)
            .collect()
    }

    #[test]
    fn keeps_length_and_phase() {
        for to in [8_000, 16_000, 24_000, 48_000] {
            let x = sine(22_050, 440.0, 0.5);
            let y = resample(&x, 22_050, to).unwrap();
            assert_eq!(
                y.len(),
                (x.len() as u64 * to as u64).div_ceil(22_050) as usize
            );
            // Compare with the ideal sine in the middle (edges have filter ramp-up).
            let ideal = sine(to, 440.0, 0.5);
            let mid = y.len() / 2;
            let err: f32 = (mid..mid + 100)
                .map(|i| (y[i] - ideal[i]).abs())
                .fold(0.0, f32::max);
            assert!(err < 0.02, "to {to}: max error {err}");
        }
    }
}
