//! The grader: alignment of an answer against its references, features, model, evidence.

use std::collections::{BTreeMap, HashSet};
use std::sync::OnceLock;

use crate::lexicon::Lexicon;
use crate::model;
use crate::signals;
use crate::text::{self, Analysed, Kind, Token};
mod align;
mod claims_es_de;
mod evidence;
mod misconceptions;

use crate::{
    round_to, ConceptEvidence, ConceptSource, ConceptStatus, Contradiction, GradeInput,
    GradeResult, Label, Lang, RedFlagEvidence, RejectReason, Span, GRADER_VERSION,
    MAX_ANSWER_CHARS,
};

/// Highest score for an answer that restates the best reference with a polarity flip.
const CONTRADICTION_CAP: f64 = 2.0;
/// The most an answer that makes a confidently wrong technical claim can score (below "correct").
const MISCONCEPTION_CAP: f64 = 1.5;

/// An answer is reduced to its core (best-covering sentences) for the precision-side features
/// only when it has more than this many times the reference's content words.
const CORE_LENGTH_FACTOR: f64 = 2.0;

/// Weight of a word the question already contains: repeating the question is not answering it.
const QUESTION_WEIGHT: f64 = 0.35;

/// Names of the model's features, in the order of [`Features::values`].
pub const FEATURE_NAMES: [&str; N_FEATURES] = [
    "recall",
    "precision",
    "f1",
    "recall_novel",
    "bigram_recall",
    "contradiction",
    "any_contradiction",
    "max_recall_any_ref",
    "mean_recall_refs",
    "concept_coverage",
    "question_overlap",
    "extra_words",
    "log_answer_len",
    "len_ratio",
    "dont_know",
    "negation_parity_mismatch",
    "number_mismatch",
    "recall_x_consistent",
    "contradicts_all_refs",
    "max_consistent_recall",
    "max_consistent_precision",
    "word_overlap",
    "word_dice",
    "log_n_refs",
    "log_ref_len",
];
pub(crate) const N_FEATURES: usize = 25;
/// Index of `log_n_refs`, which selects the model.
pub(crate) const LOG_N_REFS: usize = 23;

/// The model inputs for one answer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Features {
    pub values: [f64; N_FEATURES],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rel {
    Exact,
    Synonym,
    Antonym,
    Fuzzy,
}

#[derive(Debug, Clone, Copy)]
struct Pair {
    /// Token index in the reference (or concept) text.
    r: usize,
    /// Token index in the answer.
    a: usize,
    sim: f64,
    rel: Rel,
    /// The two words are aligned but with opposite polarity (negation xor antonym).
    conflict: bool,
}

struct RefMatch {
    analysed: Analysed,
    /// Alignment against the whole answer.
    pairs: Vec<Pair>,
    /// Answer tokens in the answer's core for this reference; `None` when it is the whole answer.
    core: Option<Vec<bool>>,
    recall: f64,
    precision: f64,
    f1: f64,
    recall_plain: f64,
    recall_novel: f64,
    bigram: f64,
    contra: f64,
    /// Recall and precision counting only words aligned with the same polarity.
    recall_consistent: f64,
    precision_consistent: f64,
    /// All-word overlap (function words and negators included, names neutralised): share of the
    /// reference's distinct words in the answer, and the Dice coefficient of the two sets (the
    /// answer's core only).
    word_overlap: f64,
    word_dice: f64,
}

/// Reads answers in English, Spanish and German; see [`Grader::grade_in`] for how the language
/// of an answer is chosen.
pub struct Grader {
    lex: Lexicon,
    es: Lexicon,
    de: Lexicon,
}

impl Default for Grader {
    fn default() -> Self {
        Self::new()
    }
}

/// Everything computed about one answer, shared by the features and the evidence.
struct Analysis {
    /// The language of the question, references, key concepts and red flags (the job's).
    ref_lang: Lang,
    answer: Analysed,
    question_stems: HashSet<String>,
    refs: Vec<RefMatch>,
    best: usize,
    dont_know: bool,
}

impl Grader {
    pub fn new() -> Self {
        Grader {
            lex: Lexicon::new(),
            es: Lexicon::for_lang(Lang::Es),
            de: Lexicon::for_lang(Lang::De),
        }
    }

    /// A grader built once per process (building one costs a few hundred microseconds).
    pub fn shared() -> &'static Grader {
        static SHARED: OnceLock<Grader> = OnceLock::new();
        SHARED.get_or_init(Grader::new)
    }

    /// The lexicon of a language.
    pub(crate) fn lexicon(&self, lang: Lang) -> &Lexicon {
        match lang {
            Lang::En => &self.lex,
            Lang::Es => &self.es,
            Lang::De => &self.de,
        }
    }

    /// The model's features for an answer, or why it cannot be graded.
    pub fn features(&self, input: &GradeInput) -> Result<Features, RejectReason> {
        let an = self.analyse(input, None)?;
        Ok(self.features_of(&an, input))
    }

    /// Grades an answer, reading it in the language of its question and references: English
    /// unless they are clearly Spanish or German ([`Lang::detect`]). Under a Spanish or German
    /// question, an answer whose words are clearly English (the candidate switched) is read as
    /// English. When the caller knows the answer's language, [`Grader::grade_in`] is exact.
    pub fn grade(&self, input: &GradeInput) -> GradeResult {
        self.grade_with(input, None)
    }

    /// Grades an answer read in `answer_lang` (the interview's language, or the one in force
    /// after a recorded switch). The question, references, key concepts and red flags are read
    /// in their own language, detected as in [`Grader::grade`].
    pub fn grade_in(&self, input: &GradeInput, answer_lang: Lang) -> GradeResult {
        self.grade_with(input, Some(answer_lang))
    }

    /// The languages an input is read in: (question and references, answer).
    pub fn languages(&self, input: &GradeInput, answer_lang: Option<Lang>) -> (Lang, Lang) {
        let mut job_text = input.question.clone();
        for r in &input.references {
            job_text.push(' ');
            job_text.push_str(r);
        }
        let ref_lang = Lang::detect_or_english(&job_text);
        let answer = answer_lang.unwrap_or_else(|| {
            if ref_lang == Lang::En {
                // English questions read English answers, as they always did (another
                // language is rejected as not English).
                Lang::En
            } else {
                Lang::detect_any(&answer_text(input)).unwrap_or(ref_lang)
            }
        });
        (ref_lang, answer)
    }

    fn grade_with(&self, input: &GradeInput, answer_lang: Option<Lang>) -> GradeResult {
        let an = match self.analyse(input, answer_lang) {
            Ok(an) => an,
            Err(reason) => return self.rejected(input, reason, answer_lang),
        };
        let feats = self.features_of(&an, input);
        let p = model::p_correct(&feats.values);
        let p_contra = model::p_contradictory(&feats.values);
        let mut score = model::score_from_p(p);
        // Policy on top of the calibrated model: an answer that closely restates the best
        // reference with a word's polarity flipped says the opposite of it, however much else
        // matches. SemEval's noisy contradiction labels under-weight this case.
        let best_m = &an.refs[an.best];
        let flipped = best_m.recall_plain >= 0.75
            && best_m.precision >= 0.6
            && best_m.pairs.iter().any(|p| p.conflict);
        if flipped {
            score = score.min(CONTRADICTION_CAP);
        }

        let best = &an.refs[an.best];
        let concepts = self.concepts(&an, input);
        let contradictions = self.contradictions(&an, &input.answer.words);
        let mut red_flags = self.red_flags(&an, input);
        // A confidently wrong claim is positive evidence: it caps the grade however many right
        // words surround it.
        let wrong = if an.answer.lang == Lang::En {
            misconceptions::find(&an.answer, &input.answer.words)
        } else {
            misconceptions::find_in(&an.answer, &input.answer.words)
        };
        if !wrong.is_empty() {
            score = score.min(MISCONCEPTION_CAP);
        }
        red_flags.extend(wrong);
        let raised = red_flags.iter().filter(|f| f.raised).count();
        let not_shown = red_flags.iter().filter(|f| f.not_shown).count();
        // Red flags and points not shown are policy, not calibrated (SemEval has neither): half
        // a point each, at most 1 for each kind. A point not shown costs the grade what it
        // always did; what changes is that it is reported as missing, not as a red flag.
        score =
            (score - (0.5 * raised as f64).min(1.0) - (0.5 * not_shown as f64).min(1.0)).max(0.0);
        let score = round_to(score, 2);
        let label = if score >= 2.5 {
            Label::Correct
        } else if p_contra >= 0.5 || flipped {
            Label::Contradictory
        } else {
            Label::Incorrect
        };

        let mut reasons = Vec::new();
        let covered = concepts
            .iter()
            .filter(|c| c.status == ConceptStatus::Covered)
            .count();
        reasons.push(format!(
            "closest to reference answer {} (recall {:.2}, precision {:.2}); covers {} of {} concepts",
            an.best + 1,
            best.recall,
            best.precision,
            covered,
            concepts.len()
        ));
        for c in contradictions.iter().take(3) {
            reasons.push(format!(
                "contradicts the reference: \"{}\" vs \"{}\"",
                c.answer.quote, c.reference
            ));
        }
        if an.dont_know {
            reasons.push("the candidate says they do not know".to_string());
        }
        if feats.values[10] > 0.6 && best.recall_novel < 0.3 {
            reasons.push("mostly repeats the question".to_string());
        }
        for f in &red_flags {
            if f.raised {
                reasons.push(format!("red flag: {} ({})", f.flag, f.why));
            } else if f.not_shown {
                reasons.push(format!("not shown: {} ({})", f.flag, f.why));
            }
        }

        GradeResult {
            grade: score.round().clamp(0.0, 5.0) as u8,
            score,
            confidence: round_to(p.max(1.0 - p), 2),
            p_correct: round_to(p, 4),
            label,
            rejected: None,
            reasons,
            best_reference: Some(an.best),
            concepts,
            contradictions,
            red_flags,
            signals: signals::from_tokens(&an.answer),
            features: FEATURE_NAMES
                .iter()
                .zip(feats.values.iter())
                .map(|(n, v)| (n.to_string(), round_to(*v, 4)))
                .collect(),
            grader_version: GRADER_VERSION.to_string(),
            language: an.answer.lang,
        }
    }

    fn rejected(
        &self,
        input: &GradeInput,
        reason: RejectReason,
        answer_lang: Option<Lang>,
    ) -> GradeResult {
        let (_, lang) = self.languages(input, answer_lang);
        let lex = self.lexicon(lang);
        let (why, confidence) = match reason {
            RejectReason::EmptyAnswer => ("empty answer: no words to grade".to_string(), 1.0),
            RejectReason::TooLong => (
                format!(
                    "answer too long to grade: {} characters (limit {MAX_ANSWER_CHARS})",
                    answer_len(input)
                ),
                1.0,
            ),
            // The language test is a heuristic, so its verdict is less certain.
            RejectReason::NotEnglish => ("answer does not look like English".to_string(), 0.6),
            RejectReason::WrongLanguage => {
                (format!("answer does not look like {}", lang.name()), 0.6)
            }
            RejectReason::NoReference => (
                "question has no reference answer to grade against".to_string(),
                1.0,
            ),
        };
        let answer = if matches!(reason, RejectReason::TooLong) {
            None
        } else if input.answer.words.is_empty() {
            Some(text::analyse(lex, &input.answer.text))
        } else {
            Some(text::analyse_words(lex, &input.answer.words))
        };
        GradeResult {
            grade: 0,
            score: 0.0,
            confidence,
            p_correct: 0.0,
            label: Label::Incorrect,
            rejected: Some(reason),
            reasons: vec![why],
            best_reference: None,
            concepts: Vec::new(),
            contradictions: Vec::new(),
            red_flags: Vec::new(),
            signals: answer
                .as_ref()
                .map(signals::from_tokens)
                .unwrap_or_default(),
            features: Vec::new(),
            grader_version: GRADER_VERSION.to_string(),
            language: lang,
        }
    }

    fn analyse(
        &self,
        input: &GradeInput,
        answer_lang: Option<Lang>,
    ) -> Result<Analysis, RejectReason> {
        if answer_len(input) > MAX_ANSWER_CHARS {
            return Err(RejectReason::TooLong);
        }
        let (ref_lang, lang) = self.languages(input, answer_lang);
        let lex = self.lexicon(lang);
        let answer = if input.answer.words.is_empty() {
            text::analyse(lex, &input.answer.text)
        } else {
            text::analyse_words(lex, &input.answer.words)
        };
        if !answer.tokens.iter().any(|t| t.kind != Kind::Punct) {
            return Err(RejectReason::EmptyAnswer);
        }
        if lang == Lang::En && !self.looks_english(&answer) {
            return Err(RejectReason::NotEnglish);
        }
        if lang != Lang::En && other_script(&answer.text) {
            return Err(RejectReason::WrongLanguage);
        }
        let rlex = self.lexicon(ref_lang);
        let refs_text: Vec<&str> = input
            .references
            .iter()
            .map(|r| r.trim())
            .filter(|r| !r.is_empty())
            .collect();
        if refs_text.is_empty() {
            return Err(RejectReason::NoReference);
        }
        let question = text::analyse(rlex, &input.question);
        let question_stems: HashSet<String> =
            question.content().map(|(_, t)| t.stem.clone()).collect();
        let refs: Vec<RefMatch> = refs_text
            .iter()
            .map(|r| self.match_reference(text::analyse(rlex, r), &answer, &question_stems))
            .collect();
        // Best reference: highest F1, discounted by contradiction; first one wins ties.
        let mut best = 0;
        let mut best_key = f64::NEG_INFINITY;
        for (i, m) in refs.iter().enumerate() {
            let key = m.f1 * (1.0 - 0.5 * m.contra) + 0.01 * m.recall;
            if key > best_key {
                best_key = key;
                best = i;
            }
        }
        let lower = normalise_apostrophes(&answer.text.to_lowercase());
        let dont_know = lex
            .words
            .dont_know
            .iter()
            .any(|p| contains_phrase(&lower, p));
        Ok(Analysis {
            ref_lang,
            answer,
            question_stems,
            refs,
            best,
            dont_know,
        })
    }

    fn looks_english(&self, a: &Analysed) -> bool {
        if other_script(&a.text) {
            return false;
        }
        let words: Vec<&Token> = a.tokens.iter().filter(|t| t.kind != Kind::Punct).collect();
        if words.len() < 4 {
            return true;
        }
        let foreign = words
            .iter()
            .filter(|t| self.lex.is_foreign(&t.surface))
            .count();
        let english = words
            .iter()
            .filter(|t| {
                matches!(t.kind, Kind::Stop | Kind::Negator) && !self.lex.is_foreign(&t.surface)
            })
            .count();
        !(foreign >= 2 && foreign > english)
    }
}

/// Most letters are outside Latin script (U+0000–U+024F): another writing system.
fn other_script(text: &str) -> bool {
    let letters = text.chars().filter(|c| c.is_alphabetic()).count();
    let non_latin = text
        .chars()
        .filter(|c| c.is_alphabetic() && (*c as u32) > 0x024F)
        .count();
    letters > 0 && non_latin * 2 > letters
}

/// The answer's text as analysed (the timed words joined when there are any).
fn answer_text(input: &GradeInput) -> String {
    if input.answer.words.is_empty() {
        input.answer.text.clone()
    } else {
        input
            .answer
            .words
            .iter()
            .map(|w| w.text.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

fn answer_len(input: &GradeInput) -> usize {
    if input.answer.words.is_empty() {
        input.answer.text.chars().count()
    } else {
        input
            .answer
            .words
            .iter()
            .map(|w| w.text.chars().count() + 1)
            .sum()
    }
}

fn ratio(num: f64, den: f64) -> f64 {
    if den > 0.0 {
        num / den
    } else {
        0.0
    }
}

fn normalise_apostrophes(s: &str) -> String {
    s.replace('\u{2019}', "'")
}

/// `phrase` occurs in `text` on word boundaries.
fn contains_phrase(text: &str, phrase: &str) -> bool {
    let mut from = 0;
    while let Some(pos) = text[from..].find(phrase) {
        let s = from + pos;
        let e = s + phrase.len();
        let before_ok = text[..s]
            .chars()
            .next_back()
            .is_none_or(|c| !c.is_alphanumeric());
        let after_ok = text[e..]
            .chars()
            .next()
            .is_none_or(|c| !c.is_alphanumeric());
        if before_ok && after_ok {
            return true;
        }
        from = e;
    }
    false
}

/// Sentence number of each token of `a` (a new sentence starts after . ! ?).
fn sentence_ids(a: &Analysed) -> (Vec<usize>, usize) {
    let mut ids = Vec::with_capacity(a.tokens.len());
    let mut n = 0usize;
    for (i, t) in a.tokens.iter().enumerate() {
        if i > 0 && t.sentence_initial {
            n += 1;
        }
        ids.push(n);
    }
    (ids, if a.tokens.is_empty() { 0 } else { n + 1 })
}

/// Index of the negator governing token `i` (if it is negated and one is near), else `i`.
fn negator_before(toks: &[Token], i: usize) -> usize {
    if !toks[i].negated {
        return i;
    }
    (i.saturating_sub(4)..i)
        .rev()
        .find(|&j| toks[j].kind == Kind::Negator)
        .unwrap_or(i)
}
