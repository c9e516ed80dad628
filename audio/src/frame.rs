//! The unit that flows through a session: mono `f32` samples with their rate and their place on
//! the session clock.
//!
//! Timestamps are **sample indices at the frame's own rate**, counted from the session's start
//! (sample 0 = the moment the session clock started). Sample indices are exact where
//! milliseconds are not (one sample at 22.05 kHz is 45.35… µs), so resampling and recording can
//! keep both directions of a call aligned to the sample for hours: no drift by rounding.
//! Milliseconds are derived on demand for the sans-IO state machines.

use crate::error::{check_finite, check_rate, AudioError};

/// A run of mono samples in [-1, 1] (not enforced: codecs clamp) at `sample_rate`, starting at
/// sample index `start` of the session clock. Invariants (checked by [`AudioFrame::new`]): the
/// rate is plausible and every sample is finite.
#[derive(Debug, Clone, PartialEq)]
pub struct AudioFrame {
    samples: Vec<f32>,
    sample_rate: u32,
    start: u64,
}

impl AudioFrame {
    /// A validated frame: rate within [`crate::MIN_RATE_HZ`]..=[`crate::MAX_RATE_HZ`], no NaN or
    /// infinite samples.
    pub fn new(samples: Vec<f32>, sample_rate: u32, start: u64) -> Result<Self, AudioError> {
        check_rate(sample_rate)?;
        check_finite(&samples)?;
        Ok(Self {
            samples,
            sample_rate,
            start,
        })
    }

    /// Like [`AudioFrame::new`] with the start given in milliseconds (rounded to a sample).
    pub fn at_ms(samples: Vec<f32>, sample_rate: u32, start_ms: u64) -> Result<Self, AudioError> {
        check_rate(sample_rate)?;
        Self::new(samples, sample_rate, ms_to_samples(start_ms, sample_rate))
    }

    /// For crate-internal producers whose output is finite and rate-checked by construction.
    pub(crate) fn trusted(samples: Vec<f32>, sample_rate: u32, start: u64) -> Self {
        debug_assert!(check_rate(sample_rate).is_ok());
        Self {
            samples,
            sample_rate,
            start,
        }
    }

    pub fn samples(&self) -> &[f32] {
        &self.samples
    }
    pub fn into_samples(self) -> Vec<f32> {
        self.samples
    }
    pub fn sample_rate(&self) -> u32 {
        self.sample_rate
    }
    pub fn len(&self) -> usize {
        self.samples.len()
    }
    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }
    /// Index of the first sample on the session clock (at this frame's rate).
    pub fn start(&self) -> u64 {
        self.start
    }
    /// Index one past the last sample.
    pub fn end(&self) -> u64 {
        self.start.saturating_add(self.samples.len() as u64)
    }
    /// Start on the session clock in milliseconds (floored).
    pub fn start_ms(&self) -> u64 {
        samples_to_ms(self.start, self.sample_rate)
    }
    /// End on the session clock in milliseconds (floored).
    pub fn end_ms(&self) -> u64 {
        samples_to_ms(self.end(), self.sample_rate)
    }
    /// Duration in seconds.
    pub fn duration_secs(&self) -> f64 {
        self.samples.len() as f64 / f64::from(self.sample_rate)
    }
}

/// Sample index → milliseconds (floored). `rate` 0 gives 0 rather than dividing by zero.
pub fn samples_to_ms(index: u64, rate: u32) -> u64 {
    if rate == 0 {
        return 0;
    }
    (u128::from(index) * 1000 / u128::from(rate)) as u64
}

/// Milliseconds → sample index at `rate` (rounded to the nearest sample).
pub fn ms_to_samples(ms: u64, rate: u32) -> u64 {
    ((u128::from(ms) * u128::from(rate) + 500) / 1000) as u64
}

/// The same instant at another rate: `index * to / from`, rounded to the nearest sample. Used to
/// move a timestamp across a resampler without accumulating error (always computed from the
/// absolute index, never by adding rounded deltas).
pub fn rescale_index(index: u64, from: u32, to: u32) -> u64 {
    if from == 0 {
        return 0;
    }
    let (i, f, t) = (u128::from(index), u128::from(from), u128::from(to));
    ((i * t + f / 2) / f) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_rate_and_samples() {
        assert!(AudioFrame::new(vec![0.0; 10], 16_000, 0).is_ok());
        assert!(matches!(
            AudioFrame::new(vec![0.0; 10], 0, 0),
            Err(AudioError::BadRate(0))
        ));
        assert!(matches!(
            AudioFrame::new(vec![0.0, f32::NAN], 16_000, 0),
            Err(AudioError::NonFinite { index: 1, .. })
        ));
        assert!(AudioFrame::new(vec![f32::INFINITY], 16_000, 0).is_err());
    }

    #[test]
    fn timestamps_are_exact() {
        let f = AudioFrame::at_ms(vec![0.0; 441], 22_050, 1_000).expect("frame");
        assert_eq!(f.start(), 22_050);
        assert_eq!(f.end(), 22_491);
        assert_eq!(f.start_ms(), 1_000);
        assert_eq!(f.end_ms(), 1_020);
        // One hour of 20 ms frames at 22.05 kHz lands exactly on the hour at 48 kHz.
        assert_eq!(rescale_index(22_050 * 3600, 22_050, 48_000), 48_000 * 3600);
        assert_eq!(rescale_index(u64::MAX, 48_000, 16_000), u64::MAX / 3);
    }
}
