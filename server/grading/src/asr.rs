//! Robustness to speech recognition: grade an answer as typed and as speech recognition would
//! return it, and measure the word error rate between the two and the grade shift.
//!
//! [`simulate`] is a deterministic stand-in for a synthesise → transcribe round trip: it applies
//! the error types Whisper makes on read technical speech (homophones and near-homophones, a
//! dropped function word now and then, numbers written as digits or words, lost punctuation and
//! casing). The real round trip (viva's voice, viva's Whisper) plugs into [`compare`] through its
//! transcript; see `examples/asr_roundtrip.rs`.

use serde::Serialize;

use crate::{round_to, GradeInput, Grader, Transcript};

/// Word error rate of `hyp` against `reference`: (substitutions + deletions + insertions) / words
/// of the reference, on lower-cased words with punctuation stripped. 0 when both are empty.
pub fn wer(reference: &str, hyp: &str) -> f64 {
    let r = words(reference);
    let h = words(hyp);
    if r.is_empty() {
        return if h.is_empty() { 0.0 } else { 1.0 };
    }
    let mut prev: Vec<usize> = (0..=h.len()).collect();
    for (i, rw) in r.iter().enumerate() {
        let mut cur = vec![i + 1; h.len() + 1];
        for (j, hw) in h.iter().enumerate() {
            let sub = prev[j] + usize::from(rw != hw);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[h.len()] as f64 / r.len() as f64
}

fn words(s: &str) -> Vec<String> {
    s.split_whitespace()
        .map(|w| {
            w.trim_matches(|c: char| !c.is_alphanumeric())
                .to_lowercase()
        })
        .filter(|w| !w.is_empty())
        .collect()
}

/// Confusions a recogniser makes on technical speech (typed form, heard form).
const CONFUSIONS: &[(&str, &str)] = &[
    ("their", "there"),
    ("there", "their"),
    ("its", "it's"),
    ("to", "too"),
    ("cache", "cash"),
    ("queue", "cue"),
    ("write", "right"),
    ("writes", "rights"),
    ("read", "red"),
    ("index", "indexes"),
    ("scan", "scam"),
    ("row", "road"),
    ("lock", "log"),
    ("locks", "logs"),
    ("mutex", "mute x"),
    ("jitter", "jitters"),
    ("PostgreSQL", "Postgres QL"),
    ("pg_stat_statements", "PG stat statements"),
    ("Idempotency-Key", "idempotency key"),
    ("idempotent", "idem potent"),
    ("k6", "K6"),
    ("p95", "P95"),
    ("UUID", "UU ID"),
    ("SELECT", "select"),
];

/// Function words a recogniser sometimes drops in fast speech.
const DROPPABLE: &[&str] = &["the", "a", "an", "that", "of", "and", "so", "to"];

const NUMBER_WORDS: &[&str] = &[
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
];

/// A deterministic ASR-like corruption of `text` (no randomness: the n-th eligible word is
/// changed on a fixed rhythm). Punctuation and casing are dropped as in a raw transcript,
/// sentence ends kept (Whisper keeps them).
pub fn simulate(text: &str) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut confusions = 0usize;
    let mut droppable = 0usize;
    let mut numbers = 0usize;
    for raw in text.split_whitespace() {
        let end = raw
            .chars()
            .last()
            .filter(|c| matches!(c, '.' | '?' | '!'))
            .map(String::from)
            .unwrap_or_default();
        let core = raw.trim_matches(|c: char| !c.is_alphanumeric() && c != '_' && c != '-');
        if core.is_empty() {
            continue;
        }
        let lower = core.to_lowercase();
        let mut w = core.to_string();
        if let Some((_, heard)) = CONFUSIONS
            .iter()
            .find(|(typed, _)| typed.eq_ignore_ascii_case(core))
        {
            // Every other occurrence of a confusable word is misheard.
            confusions += 1;
            if confusions % 2 == 1 {
                w = heard.to_string();
            }
        } else if DROPPABLE.contains(&lower.as_str()) {
            // Every seventh function word is swallowed.
            droppable += 1;
            if droppable % 7 == 0 && end.is_empty() {
                continue;
            }
        } else if let Ok(n) = core.parse::<usize>() {
            // Small numbers alternate between digits and words.
            numbers += 1;
            if n < NUMBER_WORDS.len() && numbers % 2 == 1 {
                w = NUMBER_WORDS[n].to_string();
            }
        } else if let Some(n) = NUMBER_WORDS.iter().position(|x| *x == lower) {
            numbers += 1;
            if numbers % 2 == 1 {
                w = n.to_string();
            }
        }
        out.push(format!("{}{end}", w.to_lowercase()));
    }
    out.join(" ")
}

/// One answer graded as typed and as heard.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RoundTrip {
    pub typed_score: f64,
    pub heard_score: f64,
    pub typed_grade: u8,
    pub heard_grade: u8,
    pub wer: f64,
}

/// Grade `input` as typed and with its answer replaced by `heard`.
pub fn compare(grader: &Grader, input: &GradeInput, heard: &str) -> RoundTrip {
    let typed = grader.grade(input);
    let mut h = input.clone();
    h.answer = Transcript::from_text(heard);
    let heard_r = grader.grade(&h);
    RoundTrip {
        typed_score: typed.score,
        heard_score: heard_r.score,
        typed_grade: typed.grade,
        heard_grade: heard_r.grade,
        wer: round_to(wer(&input.answer.text, heard), 4),
    }
}

/// Summary over many round trips: WER over all words, mean |Δ grade| and |Δ score|.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    pub n: usize,
    pub wer: f64,
    pub mean_abs_grade_shift: f64,
    pub mean_abs_score_shift: f64,
    pub max_abs_grade_shift: u8,
}

pub fn summarise(trips: &[(usize, RoundTrip)]) -> Summary {
    // `usize` is the reference's word count, so WER is pooled over words.
    let n = trips.len().max(1) as f64;
    let words: usize = trips.iter().map(|(w, _)| *w).sum();
    let errors: f64 = trips.iter().map(|(w, t)| t.wer * *w as f64).sum();
    Summary {
        n: trips.len(),
        wer: round_to(
            if words > 0 {
                errors / words as f64
            } else {
                0.0
            },
            4,
        ),
        mean_abs_grade_shift: round_to(
            trips
                .iter()
                .map(|(_, t)| f64::from(t.typed_grade.abs_diff(t.heard_grade)))
                .sum::<f64>()
                / n,
            3,
        ),
        mean_abs_score_shift: round_to(
            trips
                .iter()
                .map(|(_, t)| (t.typed_score - t.heard_score).abs())
                .sum::<f64>()
                / n,
            3,
        ),
        max_abs_grade_shift: trips
            .iter()
            .map(|(_, t)| t.typed_grade.abs_diff(t.heard_grade))
            .max()
            .unwrap_or(0),
    }
}

/// Words in `text`, as [`wer`] counts them.
pub fn word_count(text: &str) -> usize {
    words(text).len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wer_counts_edits() {
        assert_eq!(wer("a b c d", "a b c d"), 0.0);
        assert_eq!(wer("a b c d", "a x c"), 0.5);
        assert_eq!(wer("", ""), 0.0);
        assert_eq!(wer("Hello, world.", "hello world"), 0.0);
    }

    #[test]
    fn simulation_is_deterministic_and_changes_words() {
        let t = "We added an index to the table, and the cache hit rate went from 40 to 95 percent in 2 weeks.";
        let a = simulate(t);
        assert_eq!(a, simulate(t));
        assert!(wer(t, &a) > 0.0, "{a}");
        assert!(a.contains("cash"), "{a}");
        assert!(a.contains("two"), "{a}");
    }
}
