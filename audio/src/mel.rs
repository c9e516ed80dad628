//! Whisper's log-mel front end.
//!
//! - [`mel_filters`]: the filterbank — Slaney-scale, Slaney-normalised triangles, equal to
//!   librosa's `filters.mel(sr=16000, n_fft=400, n_mels=80)`. whisper.cpp reads it from the
//!   model file, so the converter writes it there.
//! - [`whisper_log_mel`]: the features of Hugging Face's `WhisperFeatureExtractor` (waveform
//!   normalised to zero mean and unit variance, centred reflect-padded STFT, power spectrum,
//!   mel, log10, clamped to 8 below the maximum, scaled by `(x + 4) / 4`) — what the Smart Turn
//!   end-of-turn model was trained on.

use std::sync::OnceLock;

use realfft::RealFftPlanner;

/// STFT window and FFT size of Whisper's front end (25 ms at 16 kHz).
pub const N_FFT: usize = 400;
/// Hop between frames (10 ms at 16 kHz).
pub const HOP: usize = 160;
/// Mel bands.
pub const N_MELS: usize = 80;

/// Log-mel features of `samples` (16 kHz), `N_MELS × (samples.len() / HOP)` row-major (band by
/// band), as `WhisperFeatureExtractor(do_normalize=True)` computes them for a buffer of exactly
/// this length. Smart Turn wants 128 000 samples (8 s) → 80 × 800. Empty or very short input
/// (shorter than one window) gives an empty vector.
pub fn whisper_log_mel(samples: &[f32]) -> Vec<f32> {
    let n = samples.len();
    let frames = n / HOP;
    if n <= N_FFT / 2 || frames == 0 {
        return Vec::new();
    }
    // Zero-mean, unit-variance waveform (in f32, as the reference does it before the STFT).
    let mean = samples.iter().map(|&v| v as f64).sum::<f64>() / n as f64;
    let var = samples
        .iter()
        .map(|&v| (v as f64 - mean).powi(2))
        .sum::<f64>()
        / n as f64;
    let scale = 1.0 / (var + 1e-7).sqrt();
    let x: Vec<f64> = samples
        .iter()
        .map(|&v| ((v as f64 - mean) * scale) as f32 as f64)
        .collect();
    // Centred frames: reflect padding of N_FFT/2 on each side.
    let pad = N_FFT / 2;
    let at = |i: isize| -> f64 {
        let len = n as isize;
        let j = if i < 0 {
            -i
        } else if i >= len {
            2 * (len - 1) - i
        } else {
            i
        };
        x[j.clamp(0, len - 1) as usize]
    };
    let window = hann();
    let filters = filters_80x201();
    let n_freqs = N_FFT / 2 + 1;
    let mut planner = RealFftPlanner::<f64>::new();
    let fft = planner.plan_fft_forward(N_FFT);
    let mut input = fft.make_input_vec();
    let mut spectrum = fft.make_output_vec();
    let mut power = vec![0f64; n_freqs];
    let mut max = f64::NEG_INFINITY;
    let mut logs = vec![0f64; N_MELS * frames];
    for f in 0..frames {
        let start = (f * HOP) as isize - pad as isize;
        for (k, slot) in input.iter_mut().enumerate() {
            *slot = at(start + k as isize) * window[k];
        }
        if fft.process(&mut input, &mut spectrum).is_err() {
            return Vec::new();
        }
        for (p, c) in power.iter_mut().zip(&spectrum) {
            *p = c.norm_sqr();
        }
        for m in 0..N_MELS {
            let row = &filters[m * n_freqs..(m + 1) * n_freqs];
            let e: f64 = row.iter().zip(&power).map(|(&w, &p)| w * p).sum();
            let l = e.max(1e-10).log10();
            max = max.max(l);
            logs[m * frames + f] = l;
        }
    }
    logs.iter()
        .map(|&l| ((l.max(max - 8.0) + 4.0) / 4.0) as f32)
        .collect()
}

/// The periodic Hann window of `torch.hann_window(400)`.
fn hann() -> &'static [f64] {
    static W: OnceLock<Vec<f64>> = OnceLock::new();
    W.get_or_init(|| {
        (0..N_FFT)
            .map(|i| 0.5 - 0.5 * (2.0 * std::f64::consts::PI * i as f64 / N_FFT as f64).cos())
            .collect()
    })
}

fn filters_80x201() -> &'static [f64] {
    static F: OnceLock<Vec<f64>> = OnceLock::new();
    F.get_or_init(|| mel_filters_f64(16_000.0, N_FFT, N_MELS))
}

/// Returns `n_mels × (n_fft/2 + 1)` weights, row-major.
pub fn mel_filters(sample_rate: f64, n_fft: usize, n_mels: usize) -> Vec<f32> {
    mel_filters_f64(sample_rate, n_fft, n_mels)
        .into_iter()
        .map(|w| w as f32)
        .collect()
}

fn mel_filters_f64(sample_rate: f64, n_fft: usize, n_mels: usize) -> Vec<f64> {
    let n_freqs = n_fft / 2 + 1;
    let fft_freqs: Vec<f64> = (0..n_freqs)
        .map(|i| i as f64 * (sample_rate / 2.0) / (n_freqs - 1) as f64)
        .collect();
    let (min_mel, max_mel) = (hz_to_mel(0.0), hz_to_mel(sample_rate / 2.0));
    let mel_points: Vec<f64> = (0..n_mels + 2)
        .map(|i| mel_to_hz(min_mel + (max_mel - min_mel) * i as f64 / (n_mels + 1) as f64))
        .collect();
    let mut weights = vec![0f64; n_mels * n_freqs];
    for m in 0..n_mels {
        let (lo, mid, hi) = (mel_points[m], mel_points[m + 1], mel_points[m + 2]);
        let enorm = 2.0 / (hi - lo);
        for (k, &f) in fft_freqs.iter().enumerate() {
            let lower = (f - lo) / (mid - lo);
            let upper = (hi - f) / (hi - mid);
            weights[m * n_freqs + k] = lower.min(upper).max(0.0) * enorm;
        }
    }
    weights
}

const F_SP: f64 = 200.0 / 3.0;
const MIN_LOG_HZ: f64 = 1000.0;
const MIN_LOG_MEL: f64 = MIN_LOG_HZ / F_SP;

fn log_step() -> f64 {
    6.4f64.ln() / 27.0
}

fn hz_to_mel(hz: f64) -> f64 {
    if hz >= MIN_LOG_HZ {
        MIN_LOG_MEL + (hz / MIN_LOG_HZ).ln() / log_step()
    } else {
        hz / F_SP
    }
}

fn mel_to_hz(mel: f64) -> f64 {
    if mel >= MIN_LOG_MEL {
        MIN_LOG_HZ * (log_step() * (mel - MIN_LOG_MEL)).exp()
    } else {
        F_SP * mel
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_librosa_reference_values() {
        // Values printed by librosa 0.11 `filters.mel(sr=16000, n_fft=400, n_mels=80)` (float32).
        let w = mel_filters(16_000.0, 400, 80);
        assert_eq!(w.len(), 80 * 201);
        let at = |m: usize, k: usize| w[m * 201 + k];
        for (m, k, want) in [
            (0, 1, 0.024_862_595),
            (1, 1, 0.001_990_822),
            (1, 2, 0.022_871_772),
            (79, 199, 0.000_448_759),
            (40, 0, 0.0),
        ] {
            assert!(
                (at(m, k) - want).abs() < 1e-7,
                "w[{m},{k}] = {} want {want}",
                at(m, k)
            );
        }
        // Every filter has some weight, and the top filter reaches the last bins.
        for m in 0..80 {
            assert!(
                w[m * 201..(m + 1) * 201].iter().any(|&v| v > 0.0),
                "empty filter {m}"
            );
        }
        assert!(at(79, 199) > 0.0);
    }

    #[test]
    fn log_mel_matches_the_python_reference() {
        // 3 s of silence, then a 220 Hz tone with a rising 1–3 kHz chirp; the expected values
        // were printed by Pipecat 1.14's `compute_whisper_log_mel_features` (NumPy) on the same
        // signal.
        let mut x = vec![0f32; 128_000];
        for (i, v) in x.iter_mut().enumerate().skip(48_000) {
            let t = (i - 48_000) as f64 / 16_000.0;
            *v = (0.3 * (2.0 * std::f64::consts::PI * 220.0 * t).sin()
                + 0.1 * (2.0 * std::f64::consts::PI * (1000.0 * t + 250.0 * t * t)).sin())
                as f32;
        }
        let f = whisper_log_mel(&x);
        assert_eq!(f.len(), 80 * 800);
        let at = |m: usize, k: usize| f[m * 800 + k];
        for (m, k, want) in [
            (0, 0, -0.321_852_6),
            (10, 400, 0.484_719_5),
            (79, 799, -0.292_423_3),
            (20, 300, 0.758_092_5),
            (3, 299, 0.654_168_8),
            (3, 301, 1.301_545_9),
        ] {
            assert!(
                (at(m, k) - want).abs() < 2e-3,
                "f[{m},{k}] = {} want {want}",
                at(m, k)
            );
        }
        let max = f.iter().cloned().fold(f32::MIN, f32::max);
        assert!((max - 1.678_147).abs() < 2e-3, "max {max}");
        assert!(whisper_log_mel(&[0.0; 100]).is_empty());
    }
}
