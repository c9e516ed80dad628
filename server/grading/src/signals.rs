//! Interview signals: how specific the answer is, whose work it describes, and whether it tells
//! of past experience or of what the candidate would do. Small self-contained heuristics; they
//! are reported beside the grade and never change it.

use serde::{Deserialize, Serialize};

use crate::text::{self, Analysed, Kind};
use crate::{round_to, Transcript};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Experience {
    /// Tells what happened ("we migrated", "I found").
    Past,
    /// Tells what the candidate would or could do.
    Hypothetical,
    /// Both, in comparable measure.
    Mixed,
    /// Neither: general statements.
    #[default]
    General,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InterviewSignals {
    /// 0–1: density of concrete details (numbers, units, named tools, identifiers).
    pub specificity: f64,
    /// Up to ten of the concrete details found, in order of appearance.
    pub specifics: Vec<String>,
    /// 0–1: share of "I/my" among "I/my" and "we/our" (0 when neither occurs).
    pub ownership: f64,
    pub first_person_singular: u32,
    pub first_person_plural: u32,
    pub experience: Experience,
    pub past_markers: u32,
    pub hypothetical_markers: u32,
}

const UNITS: &[&str] = &[
    "percent",
    "%",
    "ms",
    "millisecond",
    "milliseconds",
    "second",
    "seconds",
    "minute",
    "minutes",
    "hour",
    "hours",
    "day",
    "days",
    "week",
    "weeks",
    "month",
    "months",
    "year",
    "years",
    "rps",
    "qps",
    "tps",
    "kb",
    "mb",
    "gb",
    "tb",
    "k",
    "x",
    "times",
    "users",
    "requests",
];
const IRREGULAR_PAST: &[&str] = &[
    "was",
    "were",
    "did",
    "had",
    "built",
    "wrote",
    "made",
    "led",
    "ran",
    "took",
    "found",
    "saw",
    "went",
    "chose",
    "broke",
    "caught",
    "knew",
    "brought",
    "began",
    "gave",
    "kept",
    "left",
    "lost",
    "met",
    "paid",
    "put",
    "sent",
    "spent",
    "taught",
    "told",
    "understood",
    "won",
    "set",
    "ago",
    "previously",
    "previous",
    "last",
    "former",
    "once",
];
const NOT_PAST_ED: &[&str] = &[
    "need", "speed", "feed", "seed", "indeed", "based", "red", "bed", "embed", "proceed", "exceed",
    "succeed",
];
const HYPOTHETICAL: &[&str] = &[
    "would",
    "could",
    "should",
    "might",
    "will",
    "if",
    "imagine",
    "suppose",
    "probably",
    "typically",
    "usually",
    "generally",
    "ideally",
    "maybe",
    "perhaps",
    "plan",
    "hypothetically",
];

/// Interview signals of a transcript (word times are not needed).
pub fn interview_signals(answer: &Transcript) -> InterviewSignals {
    let g = crate::Grader::shared();
    let a = if answer.words.is_empty() {
        text::analyse(g.lexicon(), &answer.text)
    } else {
        text::analyse_words(g.lexicon(), &answer.words)
    };
    from_tokens(&a)
}

pub(crate) fn from_tokens(a: &Analysed) -> InterviewSignals {
    let words: Vec<&text::Token> = a.tokens.iter().filter(|t| t.kind != Kind::Punct).collect();
    let n = words.len();
    let mut specifics: Vec<String> = Vec::new();
    let mut n_specific = 0usize;
    let mut i_count = 0u32;
    let mut we_count = 0u32;
    let mut past = 0u32;
    let mut hyp = 0u32;
    for t in &words {
        // The neutralised form: a name ending in "-ed" must not read as a past-tense verb.
        let s = t.norm.as_str();
        let has_digit = s.chars().any(|c| c.is_ascii_digit());
        let has_alpha = s.chars().any(|c| c.is_alphabetic());
        // A capitalised word inside a sentence is usually a product, tool or place; neutralised
        // names are excluded so that who is mentioned cannot change the signal.
        let proper = t.capitalized
            && !t.sentence_initial
            && !t.neutralized
            && s != "i"
            && t.kind == Kind::Content
            && s.chars().count() > 1;
        let specific =
            t.kind == Kind::Number || (has_digit && has_alpha) || proper || UNITS.contains(&s);
        if specific {
            n_specific += 1;
            if specifics.len() < 10 {
                specifics.push(a.text[t.start..t.end].to_string());
            }
        }
        match s {
            "i" | "me" | "my" | "mine" | "myself" => i_count += 1,
            "we" | "us" | "our" | "ours" | "ourselves" => we_count += 1,
            _ => {}
        }
        if IRREGULAR_PAST.contains(&s)
            || (s.len() > 4 && s.ends_with("ed") && !NOT_PAST_ED.contains(&s))
        {
            past += 1;
        }
        if HYPOTHETICAL.contains(&s) {
            hyp += 1;
        }
    }
    let per20 = if n > 0 {
        n_specific as f64 * 20.0 / n as f64
    } else {
        0.0
    };
    let experience = if past >= 2 && past >= 2 * hyp {
        Experience::Past
    } else if hyp >= 2 && hyp >= 2 * past {
        Experience::Hypothetical
    } else if past + hyp >= 2 {
        Experience::Mixed
    } else {
        Experience::General
    };
    InterviewSignals {
        specificity: round_to(1.0 - (-0.7 * per20).exp(), 2),
        specifics,
        ownership: if i_count + we_count > 0 {
            round_to(f64::from(i_count) / f64::from(i_count + we_count), 2)
        } else {
            0.0
        },
        first_person_singular: i_count,
        first_person_plural: we_count,
        experience,
        past_markers: past,
        hypothetical_markers: hyp,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn past_owned_specific_answer() {
        let s = interview_signals(&Transcript::from_text(
            "Last year I migrated our billing service to PostgreSQL 15 and cut p99 latency by 40 percent.",
        ));
        assert_eq!(s.experience, Experience::Past);
        assert!(s.specificity > 0.7, "{s:?}");
        assert!(s.ownership > 0.4);
    }

    #[test]
    fn hypothetical_vague_answer() {
        let s = interview_signals(&Transcript::from_text(
            "I would probably add some caching and we could maybe look at the queries if it is slow.",
        ));
        assert_eq!(s.experience, Experience::Hypothetical);
        assert!(s.specificity < 0.3, "{s:?}");
    }
}
