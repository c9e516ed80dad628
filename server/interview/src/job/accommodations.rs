//! Accommodations: adjustments a candidate gets so the interview measures what it should and
//! not their pace, hearing or a failing microphone. Set on an invite (or job-wide in the job
//! file); they change the interview, never the score, and the report lists them.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// `[accommodations]` (job-wide) or an invite's `accommodations`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Accommodations {
    /// Multiplies the interview's time budget, the silence before a reprompt or a move-on, and
    /// (above 1) raises turn patience to high: 1 (none), 1.5 or 2.
    pub extra_time: f32,
    /// The interviewer speaks more slowly (about 25 % longer).
    pub slower_speech: bool,
    /// Captions are shown throughout and cannot be hidden.
    pub captions: bool,
    /// The page offers typed answers from the start (the answer box has the focus).
    pub typed_answers: bool,
}

impl Default for Accommodations {
    fn default() -> Self {
        Self {
            extra_time: 1.0,
            slower_speech: false,
            captions: false,
            typed_answers: false,
        }
    }
}

/// The extra-time factors offered (what assessment bodies commonly grant).
pub const EXTRA_TIME_FACTORS: [f32; 3] = [1.0, 1.5, 2.0];

impl Accommodations {
    pub fn is_none(&self) -> bool {
        *self == Self::default()
    }

    /// Why these cannot be used, if they cannot.
    pub fn problem(&self) -> Option<String> {
        (!EXTRA_TIME_FACTORS.contains(&self.extra_time)).then(|| {
            format!(
                "extra_time {} is not offered; use 1, 1.5 or 2",
                self.extra_time
            )
        })
    }

    /// Both sets together: the larger extra time, every adjustment either grants.
    pub fn merged(&self, other: &Accommodations) -> Accommodations {
        Accommodations {
            extra_time: self.extra_time.max(other.extra_time),
            slower_speech: self.slower_speech || other.slower_speech,
            captions: self.captions || other.captions,
            typed_answers: self.typed_answers || other.typed_answers,
        }
    }

    /// `ms` stretched by the extra time (a time budget, a silence threshold).
    pub fn stretch_ms(&self, ms: u64) -> u64 {
        if self.extra_time > 1.0 {
            (ms as f64 * f64::from(self.extra_time)).round() as u64
        } else {
            ms
        }
    }

    /// One line per adjustment, for the report and the dashboard.
    pub fn describe(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.extra_time > 1.0 {
            out.push(format!(
                "extra time ×{}: the time budget, the wait before a reprompt and turn patience",
                self.extra_time
            ));
        }
        if self.slower_speech {
            out.push("slower interviewer speech".into());
        }
        if self.captions {
            out.push("captions always on".into());
        }
        if self.typed_answers {
            out.push("typed answers offered from the start".into());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_offered_factors_pass_and_merging_takes_the_most() {
        let a = Accommodations {
            extra_time: 1.5,
            captions: true,
            ..Default::default()
        };
        assert!(a.problem().is_none());
        assert!(Accommodations {
            extra_time: 3.0,
            ..Default::default()
        }
        .problem()
        .is_some_and(|p| p.contains("1.5")));
        let b = Accommodations {
            extra_time: 2.0,
            slower_speech: true,
            ..Default::default()
        };
        let m = a.merged(&b);
        assert_eq!(m.extra_time, 2.0);
        assert!(m.captions && m.slower_speech && !m.typed_answers);
        assert_eq!(m.stretch_ms(1_000), 2_000);
        assert_eq!(Accommodations::default().stretch_ms(1_000), 1_000);
        assert!(Accommodations::default().is_none());
        assert_eq!(m.describe().len(), 3);
    }
}
