//! Whisper's log-mel filterbank: Slaney-scale, Slaney-normalised triangles, equal to
//! librosa's `filters.mel(sr=16000, n_fft=400, n_mels=80)`. whisper.cpp reads it from the model file.

/// Returns `n_mels × (n_fft/2 + 1)` weights, row-major.
pub fn mel_filters(sample_rate: f64, n_fft: usize, n_mels: usize) -> Vec<f32> {
    let n_freqs = n_fft / 2 + 1;
    let fft_freqs: Vec<f64> = (0..n_freqs)
        .map(|i| i as f64 * (sample_rate / 2.0) / (n_freqs - 1) as f64)
        .collect();
    let (min_mel, max_mel) = (hz_to_mel(0.0), hz_to_mel(sample_rate / 2.0));
    let mel_points: Vec<f64> = (0..n_mels + 2)
        .map(|i| mel_to_hz(min_mel + (max_mel - min_mel) * i as f64 / (n_mels + 1) as f64))
        .collect();
    let mut weights = vec![0f32; n_mels * n_freqs];
    for m in 0..n_mels {
        let (lo, mid, hi) = (mel_points[m], mel_points[m + 1], mel_points[m + 2]);
        let enorm = 2.0 / (hi - lo);
        for (k, &f) in fft_freqs.iter().enumerate() {
            let lower = (f - lo) / (mid - lo);
            let upper = (hi - f) / (hi - mid);
            weights[m * n_freqs + k] = (lower.min(upper).max(0.0) * enorm) as f32;
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
}
