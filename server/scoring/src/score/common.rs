//! What every step of the scorer shares: the thresholds, rounding, depth and CEFR names, and
//! the crate items they all use.

pub(super) use std::collections::BTreeMap;

pub(super) use viva_grading::{ConceptStatus, GradeInput, GradeResult, TimedWord};
pub(super) use viva_interview::analysis::{AnswerSignals, Depth};
pub(super) use viva_interview::job::{Cefr, JobConfig};
pub(super) use viva_interview::text::{is_stopword, tokenize};
pub(super) use viva_interview::transcript::{
    Answer, KnockoutVerdict, Phase, QuestionRef, Reason, Transcript, Turn,
};

pub(super) use crate::evidence::{find_quote, find_term, first_sentence, push_unique, quote};

pub(super) use crate::report::*;
pub(super) use crate::{ScoreError, SCORER_VERSION};

/// Default composite thresholds (0–100), highest first; a job's `[rubric.thresholds]` sets its
/// own. Shown in every report.
pub const THRESHOLDS: [(Recommendation, f64); 3] = [
    (Recommendation::StrongYes, 80.0),
    (Recommendation::Yes, 65.0),
    (Recommendation::Maybe, 45.0),
];

/// The job's thresholds, highest first.
pub(super) fn thresholds_of(job: &JobConfig) -> [(Recommendation, f64); 3] {
    let t = job.rubric.thresholds;
    [
        (Recommendation::StrongYes, f64::from(t.strong_yes)),
        (Recommendation::Yes, f64::from(t.yes)),
        (Recommendation::Maybe, f64::from(t.maybe)),
    ]
}

/// Anchors of seed 002's 1–5 rubric.
pub(super) fn anchor(score: u8) -> &'static str {
    match score {
        0 | 1 => "Strong no",
        2 => "No",
        3 => "Mixed",
        4 => "Yes",
        _ => "Strong yes",
    }
}

pub(super) fn r2(x: f64) -> f64 {
    if !x.is_finite() {
        return 0.0;
    }
    let r = (x * 100.0).round() / 100.0;
    if r == 0.0 {
        0.0
    } else {
        r
    }
}

pub(super) fn r1(x: f64) -> f64 {
    if !x.is_finite() {
        return 0.0;
    }
    let r = (x * 10.0).round() / 10.0;
    if r == 0.0 {
        0.0
    } else {
        r
    }
}

pub(super) fn depth_name(d: Option<Depth>) -> String {
    match d {
        None => "not_heard",
        Some(Depth::Surface) => "surface",
        Some(Depth::Working) => "working",
        Some(Depth::Deep) => "deep",
    }
    .to_string()
}

pub(super) fn depth_weight(d: Option<Depth>) -> f64 {
    match d {
        None => 0.0,
        Some(Depth::Surface) => 0.34,
        Some(Depth::Working) => 0.67,
        Some(Depth::Deep) => 1.0,
    }
}

pub(super) fn cefr_name(c: Cefr) -> String {
    format!("{c:?}")
}

pub(super) fn band_rank(b: viva_grading::cefr::CefrBand) -> u8 {
    use viva_grading::cefr::CefrBand::*;
    match b {
        A1 => 1,
        A2 => 2,
        B1 => 3,
        B2 => 4,
        C1 => 5,
        C2 => 6,
    }
}

pub(super) fn cefr_rank(c: Cefr) -> u8 {
    match c {
        Cefr::A1 => 1,
        Cefr::A2 => 2,
        Cefr::B1 => 3,
        Cefr::B2 => 4,
        Cefr::C1 => 5,
        Cefr::C2 => 6,
    }
}

pub(super) fn reason_code(r: &Reason) -> String {
    serde_json::to_value(r)
        .ok()
        .and_then(|v| v.get("code").and_then(|c| c.as_str()).map(str::to_string))
        .unwrap_or_else(|| "unknown".into())
}

pub(super) fn ratio(done: usize, total: usize) -> Ratio {
    Ratio { done, total }
}

/// The first alternative of a `a|b|c` term, for display.
pub(super) fn first_alt(term: &str) -> String {
    term.split('|').next().unwrap_or(term).trim().to_string()
}

/// Answers as the grader reads them: their texts joined, with word times only when every answer
/// has them (so that the grader's text and words agree).
pub(super) fn grading_transcript(answers: &[(&Turn, &Answer)]) -> viva_grading::Transcript {
    let text = answers
        .iter()
        .map(|(_, a)| a.text.trim())
        .collect::<Vec<_>>()
        .join(" ");
    let words = if answers.iter().all(|(_, a)| a.words.is_some()) {
        answers
            .iter()
            .flat_map(|(_, a)| a.words.iter().flatten())
            .map(|w| TimedWord {
                text: w.text.clone(),
                start_ms: w.start_ms,
                end_ms: w.end_ms,
            })
            .collect()
    } else {
        Vec::new()
    };
    viva_grading::Transcript { text, words }
}
