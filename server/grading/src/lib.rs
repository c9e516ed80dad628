//! viva-grading: grades a candidate's answer against a question's expected answers.
//!
//! Sans-IO and deterministic: the same [`GradeInput`] always gives the same [`GradeResult`], byte
//! for byte once serialised; no network, no clock, no randomness, no hash-order dependence.
//!
//! The grader is a lexical alignment model: answer words are aligned to each reference answer
//! (stems, synonyms, antonyms, spelling slips, numbers), weighted so that words the question
//! already contains count less, and a small logistic model calibrated on the SemEval-2013 Task 7
//! *train* split (see `examples/calibrate.rs`) turns the alignment features into the probability
//! that a careful human would call the answer correct. Negation and antonyms make aligned words
//! contradictions instead of matches.
//!
//! Other pieces: [`cefr`] estimates a CEFR band from a transcript and its word times, [`signals`]
//! gives interview signals (specificity, ownership, past experience vs hypothetical), [`eval`] has
//! the agreement statistics, and [`cli`] the `viva grade` / `viva eval grading` entry points.
//!
//! Languages: answers are read in English, Spanish or German ([`Lang`]): stop words, negation,
//! numbers, stemming, red-flag wording, signals and the CEFR estimate each have the language's
//! lists. [`grade`] reads the answer in the language of its question and references;
//! [`grade_in`] takes the answer's language from the caller (the interview's, or the one in force
//! after a recorded switch).
//!
//! Fairness: names, pronouns and gendered words are replaced by neutral tokens before any feature
//! is computed, so swapping them cannot change a grade (tested in `tests/fairness.rs`).

pub mod asr;
pub mod baseline;
pub mod cefr;
pub mod cli;
pub mod eval;
mod grader;
mod lang;
mod lexicon;
mod model;
pub mod signals;
mod text;
pub mod tsv;

use serde::{Deserialize, Serialize};

pub use grader::{Features, Grader, FEATURE_NAMES};
pub use lang::Lang;

/// Version of the grading model, stored with every result so a report says what scored it.
pub const GRADER_VERSION: &str = "viva-grading/lexalign-1";

/// Answers longer than this are not graded (a spoken answer this long is ~25 minutes; longer
/// text is almost certainly pasted or keyword-stuffed).
pub const MAX_ANSWER_CHARS: usize = 10_000;

/// One recognised word with its audio times (milliseconds from the start of the recording).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimedWord {
    pub text: String,
    pub start_ms: u64,
    pub end_ms: u64,
}

/// A candidate's answer: text, and word times when it came from speech recognition.
/// When `words` is not empty it is the source of truth: the analysed text is the words joined by
/// single spaces, and evidence spans point into that text and carry audio times.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transcript {
    pub text: String,
    #[serde(default)]
    pub words: Vec<TimedWord>,
}

impl Transcript {
    pub fn from_text(text: impl Into<String>) -> Self {
        Transcript {
            text: text.into(),
            words: Vec::new(),
        }
    }
}

/// Everything the grader needs about one answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GradeInput {
    pub question: String,
    /// One or more acceptable reference answers.
    pub references: Vec<String>,
    /// Key concepts the answer should cover. When empty, concepts are derived from the best
    /// matching reference answer (its content phrases).
    #[serde(default)]
    pub key_concepts: Vec<String>,
    /// Red flags, e.g. "Suggests a one-size-fits-all approach" (raised when the answer shows it,
    /// with the quote) or "Candidate cannot explain X" (an absence: never raised, at most
    /// reported as "not shown" when X is missing).
    #[serde(default)]
    pub red_flags: Vec<String>,
    pub answer: Transcript,
}

/// A stretch of the analysed answer text, with audio times when word times were given.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Span {
    pub quote: String,
    /// Byte range in the analysed text (the answer text, or the timed words joined by spaces).
    pub start: usize,
    pub end: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_ms: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConceptSource {
    /// Given in the input's `key_concepts`.
    KeyConcept,
    /// A content phrase of the best matching reference answer.
    Reference,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConceptStatus {
    Covered,
    Partial,
    Missing,
    /// The answer says the opposite (negation or antonym of the concept's words).
    Contradicted,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConceptEvidence {
    pub concept: String,
    pub source: ConceptSource,
    pub status: ConceptStatus,
    /// Share of the concept's content words found in the answer (similarity-weighted), 0–1.
    pub coverage: f64,
    /// Where in the answer the concept's words were found.
    pub spans: Vec<Span>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contradiction {
    /// The answer's words.
    pub answer: Span,
    /// The reference words they contradict.
    pub reference: String,
    /// `negation` (one side negated) or `antonym` (opposite words).
    pub kind: String,
}

/// The `why` of a red flag raised for a confidently wrong technical claim.
pub const WRONG_CLAIM: &str = "a confidently wrong technical claim";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RedFlagEvidence {
    pub flag: String,
    /// The answer shows the flagged behaviour or claim; `spans` quote it (never empty when
    /// raised). The absence of something is never a raised flag.
    pub raised: bool,
    pub why: String,
    pub spans: Vec<Span>,
    /// An absence flag ("cannot explain X") whose subject the answer does not cover: reported
    /// as a point not shown, which costs less than a raised flag and is not a red flag.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub not_shown: bool,
}

/// Why an answer was not graded on its content (its grade is 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectReason {
    EmptyAnswer,
    TooLong,
    /// Read as English (the question is English) but written in another language.
    NotEnglish,
    NoReference,
    /// Read as Spanish or German but written in another script.
    WrongLanguage,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Label {
    Correct,
    Contradictory,
    Incorrect,
}

impl Label {
    pub fn as_str(self) -> &'static str {
        match self {
            Label::Correct => "correct",
            Label::Contradictory => "contradictory",
            Label::Incorrect => "incorrect",
        }
    }
}

/// The grade of one answer and the evidence behind it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GradeResult {
    /// 0–5, the rounded `score`.
    pub grade: u8,
    /// 0–5 with two decimals; 2.5 is the line between acceptable and not.
    pub score: f64,
    /// How sure the grader is of the acceptable/not decision, 0.5–1.
    pub confidence: f64,
    /// Probability that a careful human grader calls the answer correct (before red flags).
    pub p_correct: f64,
    pub label: Label,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rejected: Option<RejectReason>,
    /// Human-readable reasons, most important first.
    pub reasons: Vec<String>,
    /// Index of the reference answer the answer matched best.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub best_reference: Option<usize>,
    pub concepts: Vec<ConceptEvidence>,
    pub contradictions: Vec<Contradiction>,
    pub red_flags: Vec<RedFlagEvidence>,
    pub signals: signals::InterviewSignals,
    /// The model's inputs, by name, for audits and calibration.
    pub features: Vec<(String, f64)>,
    pub grader_version: String,
    /// The language the answer was read in; absent in JSON for English, as before languages.
    #[serde(default, skip_serializing_if = "Lang::is_english")]
    pub language: Lang,
}

/// Grade one answer with the shared default grader (language as in [`Grader::grade`]).
pub fn grade(input: &GradeInput) -> GradeResult {
    Grader::shared().grade(input)
}

/// Grade one answer read in `answer_lang`, with the shared default grader.
pub fn grade_in(input: &GradeInput, answer_lang: Lang) -> GradeResult {
    Grader::shared().grade_in(input, answer_lang)
}

/// Round to `d` decimals; every number the crate emits goes through here so output is stable.
pub(crate) fn round_to(x: f64, d: i32) -> f64 {
    if !x.is_finite() {
        return 0.0;
    }
    let m = 10f64.powi(d);
    let r = (x * m).round() / m;
    // -0.0 would print as "-0.0"; normalise it.
    if r == 0.0 {
        0.0
    } else {
        r
    }
}
