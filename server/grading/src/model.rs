//! The calibrated model: logistic regressions over the grader's features.
//!
//! The numbers live in `model_params.rs`, written by `cargo run --release -p viva-grading
//! --example calibrate -- --write` from the SemEval-2013 Task 7 train split only.

pub(crate) use crate::grader::N_FEATURES;

#[rustfmt::skip]
mod params {
    include!("model_params.rs");
}
pub(crate) use params::BASELINE_THRESHOLD;
use params::*;

/// Standardised features are clipped to ±CLIP standard deviations (same in calibration).
pub(crate) const CLIP: f64 = 2.5;

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

/// Which model applies: 0 for a question with one reference answer, 1 for several (see the
/// calibration example for why they differ).
fn regime(x: &[f64; N_FEATURES]) -> usize {
    usize::from(x[crate::grader::LOG_N_REFS] > 0.0)
}

fn linear(x: &[f64; N_FEATURES], w: &[f64; N_FEATURES], b: f64, k: usize) -> f64 {
    let mut z = b;
    for i in 0..N_FEATURES {
        // Standardised with the train split's mean and spread, as during fitting, and clipped:
        // interview answers can be far longer than anything in the training data, and a linear
        // model must not extrapolate a length effect without bound.
        z += w[i] * ((x[i] - MEAN[k][i]) / SCALE[k][i]).clamp(-CLIP, CLIP);
    }
    z
}

/// Probability that a human grader calls the answer correct.
pub(crate) fn p_correct(x: &[f64; N_FEATURES]) -> f64 {
    let k = regime(x);
    sigmoid(linear(x, &W_CORRECT[k], B_CORRECT[k], k))
}

/// Among answers that are not correct: probability that it contradicts the reference.
pub(crate) fn p_contradictory(x: &[f64; N_FEATURES]) -> f64 {
    let k = regime(x);
    sigmoid(linear(x, &W_CONTRA[k], B_CONTRA[k], k))
}

/// Map a probability to the 0–5 scale so that the decision threshold lands on 2.5.
pub(crate) fn score_from_p(p: f64) -> f64 {
    piecewise(p, THRESHOLD)
}

/// Linear from [0, t] to [0, 2.5] and from [t, 1] to [2.5, 5].
pub(crate) fn piecewise(v: f64, t: f64) -> f64 {
    let v = v.clamp(0.0, 1.0);
    if v < t {
        2.5 * v / t
    } else {
        2.5 + 2.5 * (v - t) / (1.0 - t).max(1e-9)
    }
}
