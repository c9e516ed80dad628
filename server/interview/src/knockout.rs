//! Reading knockout answers: years of experience, time to start, yes/no.

use crate::job::KnockoutRule;
use crate::text::{stem, Cue, Tokens};

/// What a knockout answer said, as the rule reads it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum KnockoutReading {
    Pass(Option<f32>),
    Fail(Option<f32>),
    Unclear,
}

pub fn evaluate(rule: KnockoutRule, threshold: Option<f32>, answer: &str) -> KnockoutReading {
    let tokens = Tokens::new(answer);
    match rule {
        KnockoutRule::Manual => KnockoutReading::Unclear,
        KnockoutRule::MinYears => match years(&tokens) {
            Some(y) if y >= threshold.unwrap_or(0.0) => KnockoutReading::Pass(Some(y)),
            Some(y) => KnockoutReading::Fail(Some(y)),
            None => KnockoutReading::Unclear,
        },
        KnockoutRule::MaxWeeksToStart => match weeks_to_start(&tokens) {
            Some(w) if w <= threshold.unwrap_or(f32::MAX) => KnockoutReading::Pass(Some(w)),
            Some(w) => KnockoutReading::Fail(Some(w)),
            None => KnockoutReading::Unclear,
        },
        KnockoutRule::MustConfirm => {
            let no =
                Cue::new("no|not|never|cannot|can not|unable|need sponsorship|require sponsorship")
                    .find_first(&tokens);
            let yes = Cue::new("yes|yeah|yep|yup|of course|correct|sure|absolutely|definitely|i am|i do|i can|i have").find_first(&tokens);
            match (yes, no) {
                (_, Some(_)) => KnockoutReading::Fail(None),
                (Some(_), None) => KnockoutReading::Pass(None),
                (None, None) => KnockoutReading::Unclear,
            }
        }
    }
}

fn number_at(tokens: &Tokens<'_>, i: usize) -> Option<f32> {
    let word = tokens.norm(i);
    if let Ok(n) = word.trim_end_matches('+').parse::<f32>() {
        return n.is_finite().then_some(n);
    }
    const WORDS: &[(&str, f32)] = &[
        ("a", 1.0),
        ("an", 1.0),
        ("one", 1.0),
        ("two", 2.0),
        ("three", 3.0),
        ("four", 4.0),
        ("five", 5.0),
        ("six", 6.0),
        ("seven", 7.0),
        ("eight", 8.0),
        ("nine", 9.0),
        ("ten", 10.0),
        ("eleven", 11.0),
        ("twelve", 12.0),
        ("thirteen", 13.0),
        ("fourteen", 14.0),
        ("fifteen", 15.0),
        ("sixteen", 16.0),
        ("seventeen", 17.0),
        ("eighteen", 18.0),
        ("nineteen", 19.0),
        ("twenty", 20.0),
        ("couple", 2.0),
        ("few", 3.0),
        ("several", 3.0),
        ("half", 0.5),
    ];
    // Tokens are stemmed ("nine" becomes "nin"), so compare stems.
    let value_of = |w: &str| WORDS.iter().find(|(k, _)| stem(k) == w).map(|(_, v)| *v);
    // "one and a half": read from "half" back to its whole number.
    if word == "half" && i >= 3 && tokens.norm(i - 1) == "a" && tokens.norm(i - 2) == "and" {
        if let Some(whole) = value_of(tokens.norm(i - 3)) {
            return Some(whole + 0.5);
        }
    }
    let value = value_of(word)?;
    if tokens.norm(i + 1) == "and" && tokens.norm(i + 2) == "a" && tokens.norm(i + 3) == "half" {
        return Some(value + 0.5);
    }
    Some(value)
}

/// Largest "N years" in the answer ("a decade" counts as ten).
fn years(tokens: &Tokens<'_>) -> Option<f32> {
    let mut best: Option<f32> = None;
    for i in 0..tokens.len() {
        let unit = tokens.norm(i);
        let value = match unit {
            "year" | "yr" | "yrs" => (1..=4)
                .filter_map(|back| i.checked_sub(back))
                .find_map(|j| number_at(tokens, j)),
            "decade" => Some(10.0),
            _ => None,
        };
        if let Some(v) = value {
            best = Some(best.map_or(v, |b: f32| b.max(v)));
        }
    }
    best
}

/// Weeks until the candidate could start: "immediately" is 0, "two weeks" 2, "a month" 4.3; the
/// longest duration mentioned wins (a notice period outlasts an earlier wish).
fn weeks_to_start(tokens: &Tokens<'_>) -> Option<f32> {
    if Cue::new("immediately|right away|straight away|asap|as soon as possible|tomorrow|any time|anytime|right now")
        .find_first(tokens)
        .is_some()
    {
        return Some(duration_weeks(tokens).unwrap_or(0.0));
    }
    duration_weeks(tokens)
}

fn duration_weeks(tokens: &Tokens<'_>) -> Option<f32> {
    let mut best: Option<f32> = None;
    for i in 0..tokens.len() {
        let per_unit = match tokens.norm(i) {
            "day" => 1.0 / 7.0,
            "week" | "wk" => 1.0,
            "month" => 4.35,
            "year" => 52.0,
            "fortnight" => 2.0,
            _ => continue,
        };
        let count = (1..=3)
            .filter_map(|back| i.checked_sub(back))
            .find_map(|j| number_at(tokens, j));
        // "next week", "a month", or a bare unit ("weeks") that implies at least one.
        let count = count.unwrap_or(1.0);
        let weeks = count * per_unit;
        best = Some(best.map_or(weeks, |b: f32| b.max(weeks)));
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn years_are_read() {
        let r = |s| evaluate(KnockoutRule::MinYears, Some(3.0), s);
        assert_eq!(
            r("About seven years, mostly Java and Go."),
            KnockoutReading::Pass(Some(7.0))
        );
        assert_eq!(
            r("I have 5+ years of backend work"),
            KnockoutReading::Pass(Some(5.0))
        );
        assert_eq!(
            r("Two years professionally, plus university projects"),
            KnockoutReading::Fail(Some(2.0))
        );
        assert_eq!(r("one and a half years"), KnockoutReading::Fail(Some(1.5)));
        assert_eq!(r("Quite a while, honestly"), KnockoutReading::Unclear);
    }

    #[test]
    fn start_dates_are_read() {
        let r = |s| evaluate(KnockoutRule::MaxWeeksToStart, Some(9.0), s);
        assert_eq!(
            r("I could start in three weeks."),
            KnockoutReading::Pass(Some(3.0))
        );
        assert_eq!(r("Immediately."), KnockoutReading::Pass(Some(0.0)));
        assert!(
            matches!(r("My notice period is four months."), KnockoutReading::Fail(Some(w)) if w > 17.0)
        );
        assert_eq!(r("Soon, I think"), KnockoutReading::Unclear);
    }

    #[test]
    fn confirmations_are_read() {
        let r = |s| evaluate(KnockoutRule::MustConfirm, None, s);
        assert_eq!(
            r("Yes, I am authorised to work in the EU."),
            KnockoutReading::Pass(None)
        );
        assert_eq!(
            r("No, I would need sponsorship."),
            KnockoutReading::Fail(None)
        );
        assert_eq!(r("Hmm."), KnockoutReading::Unclear);
    }
}
