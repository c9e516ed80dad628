//! The grader: alignment of an answer against its references, features, model, evidence.

use std::collections::{BTreeMap, HashSet};
use std::sync::OnceLock;

use crate::lexicon::{Lexicon, DONT_KNOW};
use crate::model;
use crate::signals;
use crate::text::{self, Analysed, Kind, Token};
use crate::{
    round_to, ConceptEvidence, ConceptSource, ConceptStatus, Contradiction, GradeInput,
    GradeResult, Label, RedFlagEvidence, RejectReason, Span, GRADER_VERSION, MAX_ANSWER_CHARS,
};

/// Highest score for an answer that restates the best reference with a polarity flip.
const CONTRADICTION_CAP: f64 = 2.0;

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

pub struct Grader {
    lex: Lexicon,
}

impl Default for Grader {
    fn default() -> Self {
        Self::new()
    }
}

/// Everything computed about one answer, shared by the features and the evidence.
struct Analysis {
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
        }
    }

    /// A grader built once per process (building one costs a few hundred microseconds).
    pub fn shared() -> &'static Grader {
        static SHARED: OnceLock<Grader> = OnceLock::new();
        SHARED.get_or_init(Grader::new)
    }

    pub(crate) fn lexicon(&self) -> &Lexicon {
        &self.lex
    }

    /// The model's features for an answer, or why it cannot be graded.
    pub fn features(&self, input: &GradeInput) -> Result<Features, RejectReason> {
        let an = self.analyse(input)?;
        Ok(self.features_of(&an, input))
    }

    pub fn grade(&self, input: &GradeInput) -> GradeResult {
        let an = match self.analyse(input) {
            Ok(an) => an,
            Err(reason) => return self.rejected(input, reason),
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
        let red_flags = self.red_flags(&an, input);
        let raised = red_flags.iter().filter(|f| f.raised).count();
        // Red flags are policy, not calibrated (SemEval has none): half a point each, at most 1.
        score = (score - 0.5 * raised as f64).max(0.0);
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
        for f in red_flags.iter().filter(|f| f.raised) {
            reasons.push(format!("red flag: {} ({})", f.flag, f.why));
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
        }
    }

    fn rejected(&self, input: &GradeInput, reason: RejectReason) -> GradeResult {
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
            RejectReason::NoReference => (
                "question has no reference answer to grade against".to_string(),
                1.0,
            ),
        };
        let answer = if matches!(reason, RejectReason::TooLong) {
            None
        } else if input.answer.words.is_empty() {
            Some(text::analyse(&self.lex, &input.answer.text))
        } else {
            Some(text::analyse_words(&self.lex, &input.answer.words))
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
        }
    }

    fn analyse(&self, input: &GradeInput) -> Result<Analysis, RejectReason> {
        if answer_len(input) > MAX_ANSWER_CHARS {
            return Err(RejectReason::TooLong);
        }
        let answer = if input.answer.words.is_empty() {
            text::analyse(&self.lex, &input.answer.text)
        } else {
            text::analyse_words(&self.lex, &input.answer.words)
        };
        if !answer.tokens.iter().any(|t| t.kind != Kind::Punct) {
            return Err(RejectReason::EmptyAnswer);
        }
        if !self.looks_english(&answer) {
            return Err(RejectReason::NotEnglish);
        }
        let refs_text: Vec<&str> = input
            .references
            .iter()
            .map(|r| r.trim())
            .filter(|r| !r.is_empty())
            .collect();
        if refs_text.is_empty() {
            return Err(RejectReason::NoReference);
        }
        let question = text::analyse(&self.lex, &input.question);
        let question_stems: HashSet<String> =
            question.content().map(|(_, t)| t.stem.clone()).collect();
        let refs: Vec<RefMatch> = refs_text
            .iter()
            .map(|r| self.match_reference(text::analyse(&self.lex, r), &answer, &question_stems))
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
        let dont_know = DONT_KNOW.iter().any(|p| contains_phrase(&lower, p));
        Ok(Analysis {
            answer,
            question_stems,
            refs,
            best,
            dont_know,
        })
    }

    fn looks_english(&self, a: &Analysed) -> bool {
        let letters = a.text.chars().filter(|c| c.is_alphabetic()).count();
        // Letters outside Latin script (U+0000–U+024F) mean another writing system.
        let non_latin = a
            .text
            .chars()
            .filter(|c| c.is_alphabetic() && (*c as u32) > 0x024F)
            .count();
        if letters > 0 && non_latin * 2 > letters {
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

    fn weight(&self, t: &Token, question_stems: &HashSet<String>) -> f64 {
        if question_stems.contains(&t.stem) {
            QUESTION_WEIGHT
        } else {
            1.0
        }
    }

    fn token_sim(&self, a: &Token, r: &Token) -> Option<(f64, Rel)> {
        match (a.kind, r.kind) {
            (Kind::Number, Kind::Number) => (a.stem == r.stem).then_some((1.0, Rel::Exact)),
            (Kind::Content, Kind::Content) => {
                if a.stem == r.stem {
                    return Some((1.0, Rel::Exact));
                }
                if self.lex.synonyms(&a.stem, &r.stem) {
                    return Some((0.85, Rel::Synonym));
                }
                if self.lex.antonyms(&a.stem, &r.stem) {
                    return Some((0.8, Rel::Antonym));
                }
                let (la, lr) = (a.norm.chars().count(), r.norm.chars().count());
                if la >= 5 && lr >= 5 {
                    // Spelling slips ("seperated") are frequent in typed and transcribed answers.
                    let max = if la.min(lr) >= 8 { 2 } else { 1 };
                    if text::edit_distance_within(&a.norm, &r.norm, max) <= max {
                        return Some((0.8, Rel::Fuzzy));
                    }
                }
                None
            }
            _ => None,
        }
    }

    /// Align the content words of `r` to those of `a`, one to one, greedily by similarity.
    fn align(&self, r: &Analysed, a: &Analysed) -> Vec<Pair> {
        assign(&self.candidates(r, a), r, a, None)
    }

    /// Every possible pairing of a content word of `r` with one of `a`, best first.
    fn candidates(&self, r: &Analysed, a: &Analysed) -> Vec<Pair> {
        // Compare each distinct answer word once, then expand to its positions.
        let mut by_stem: BTreeMap<(&str, &str, bool), Vec<usize>> = BTreeMap::new();
        for (i, t) in a.content() {
            by_stem
                .entry((t.stem.as_str(), t.norm.as_str(), t.kind == Kind::Number))
                .or_default()
                .push(i);
        }
        let mut cands: Vec<Pair> = Vec::new();
        for (ri, rt) in r.content() {
            for idxs in by_stem.values() {
                let Some(first) = idxs.first() else { continue };
                let Some((sim, rel)) = self.token_sim(&a.tokens[*first], rt) else {
                    continue;
                };
                for &ai in idxs {
                    let at = &a.tokens[ai];
                    let conflict = (at.negated != rt.negated) != (rel == Rel::Antonym);
                    cands.push(Pair {
                        r: ri,
                        a: ai,
                        sim,
                        rel,
                        conflict,
                    });
                }
            }
        }
        cands.sort_by(|x, y| {
            y.sim
                .total_cmp(&x.sim)
                .then(x.conflict.cmp(&y.conflict))
                .then(x.r.cmp(&y.r))
                .then(x.a.cmp(&y.a))
        });
        cands
    }

    fn match_reference(&self, r: Analysed, a: &Analysed, qs: &HashSet<String>) -> RefMatch {
        let cands = self.candidates(&r, a);
        let pairs = assign(&cands, &r, a, None);
        let r_total: f64 = r.content().map(|(_, t)| self.weight(t, qs)).sum();
        let r_hit: f64 = pairs
            .iter()
            .map(|p| self.weight(&r.tokens[p.r], qs) * p.sim)
            .sum();
        // Recall-side figures use the whole answer: every correct detail counts, wherever it is.
        let recall = ratio(r_hit, r_total);
        // Precision-side figures use the answer's core (see `core`): extra detail elsewhere in a
        // long answer is not held against it.
        let core = self.core(&cands, &r, a, qs, r_total);
        let core_pairs = match &core {
            Some(m) => assign(&cands, &r, a, Some(m)),
            None => pairs.clone(),
        };
        let in_core = |i: usize| core.as_ref().is_none_or(|m| m[i]);
        let a_total: f64 = a
            .content()
            .filter(|(i, _)| in_core(*i))
            .map(|(_, t)| self.weight(t, qs))
            .sum();
        let a_hit: f64 = core_pairs
            .iter()
            .map(|p| self.weight(&a.tokens[p.a], qs) * p.sim)
            .sum();
        let precision = ratio(a_hit, a_total);
        let f1 = if recall + precision > 0.0 {
            2.0 * recall * precision / (recall + precision)
        } else {
            0.0
        };
        let r_n = r.content_count();
        let recall_plain = ratio(pairs.len() as f64, r_n as f64);
        let novel: Vec<usize> = r
            .content()
            .filter(|(_, t)| !qs.contains(&t.stem))
            .map(|(i, _)| i)
            .collect();
        let recall_novel = if novel.is_empty() {
            recall
        } else {
            let hit: f64 = pairs
                .iter()
                .filter(|p| novel.contains(&p.r))
                .map(|p| p.sim)
                .sum();
            hit / novel.len() as f64
        };
        let bigram = bigram_recall(&r, a, &pairs).unwrap_or(recall_plain);
        let aligned_w: f64 = pairs.iter().map(|p| self.weight(&r.tokens[p.r], qs)).sum();
        let conflict_w: f64 = pairs
            .iter()
            .filter(|p| p.conflict)
            .map(|p| self.weight(&r.tokens[p.r], qs))
            .sum();
        let contra = ratio(conflict_w, aligned_w);
        let r_ok: f64 = pairs
            .iter()
            .filter(|p| !p.conflict)
            .map(|p| self.weight(&r.tokens[p.r], qs) * p.sim)
            .sum();
        let a_ok: f64 = core_pairs
            .iter()
            .filter(|p| !p.conflict)
            .map(|p| self.weight(&a.tokens[p.a], qs) * p.sim)
            .sum();
        let set = |x: &Analysed, keep: &dyn Fn(usize) -> bool| -> Vec<String> {
            let mut v: Vec<String> = x
                .tokens
                .iter()
                .enumerate()
                .filter(|(i, t)| t.kind != Kind::Punct && keep(*i))
                .map(|(_, t)| t.norm.clone())
                .collect();
            v.sort_unstable();
            v.dedup();
            v
        };
        let (rs, as_full, as_core) = (set(&r, &|_| true), set(a, &|_| true), set(a, &in_core));
        let common = |x: &[String]| rs.iter().filter(|w| x.binary_search(w).is_ok()).count();
        let word_overlap = ratio(common(&as_full) as f64, rs.len() as f64);
        let word_dice = ratio(
            2.0 * common(&as_core) as f64,
            (rs.len() + as_core.len()) as f64,
        );
        RefMatch {
            word_overlap,
            word_dice,
            analysed: r,
            pairs,
            core,
            recall,
            precision,
            f1,
            recall_plain,
            recall_novel,
            bigram,
            contra,
            recall_consistent: ratio(r_ok, r_total),
            precision_consistent: ratio(a_ok, a_total),
        }
    }

    /// The answer's core for reference `r`: when the answer is much longer than the reference
    /// and has several sentences, the sentences chosen greedily to maximise weighted F1 against
    /// the reference (a best-covering subset); `None` (the whole answer) otherwise. Short
    /// answers, the norm in the calibration data, are unaffected.
    fn core(
        &self,
        cands: &[Pair],
        r: &Analysed,
        a: &Analysed,
        qs: &HashSet<String>,
        r_total: f64,
    ) -> Option<Vec<bool>> {
        let (sid, n_sent) = sentence_ids(a);
        let n_a = a.content_count() as f64;
        if n_sent < 2 || n_a <= CORE_LENGTH_FACTOR * r.content_count().max(1) as f64 {
            return None;
        }
        let f1_of = |chosen: &[bool]| -> f64 {
            let mask: Vec<bool> = sid.iter().map(|s| chosen[*s]).collect();
            let pairs = assign(cands, r, a, Some(&mask));
            let a_total: f64 = a
                .content()
                .filter(|(i, _)| mask[*i])
                .map(|(_, t)| self.weight(t, qs))
                .sum();
            let rec = ratio(
                pairs
                    .iter()
                    .map(|p| self.weight(&r.tokens[p.r], qs) * p.sim)
                    .sum(),
                r_total,
            );
            let prec = ratio(
                pairs
                    .iter()
                    .map(|p| self.weight(&a.tokens[p.a], qs) * p.sim)
                    .sum(),
                a_total,
            );
            if rec + prec > 0.0 {
                2.0 * rec * prec / (rec + prec)
            } else {
                0.0
            }
        };
        let mut chosen = vec![false; n_sent];
        let mut best = 0.0;
        loop {
            let mut pick: Option<(usize, f64)> = None;
            for s in 0..n_sent {
                if chosen[s] {
                    continue;
                }
                chosen[s] = true;
                let f = f1_of(&chosen);
                chosen[s] = false;
                if f > best + 1e-9 && pick.is_none_or(|(_, pf)| f > pf + 1e-12) {
                    pick = Some((s, f));
                }
            }
            match pick {
                Some((s, f)) => {
                    chosen[s] = true;
                    best = f;
                }
                None => break,
            }
        }
        if !chosen.iter().any(|c| *c) {
            // Nothing matches: the whole answer is the core (its precision is 0 either way).
            return None;
        }
        Some(sid.iter().map(|s| chosen[*s]).collect())
    }

    fn features_of(&self, an: &Analysis, input: &GradeInput) -> Features {
        let b = &an.refs[an.best];
        let a = &an.answer;
        let qs = &an.question_stems;
        // Answer-side counts are taken on the answer's core for the best reference.
        let in_core = |i: usize| b.core.as_ref().is_none_or(|m| m[i]);
        let n_a = a.content().filter(|(i, _)| in_core(*i)).count();
        let n_r = b.analysed.content_count();
        let max_recall = an.refs.iter().map(|m| m.recall_plain).fold(0.0, f64::max);
        let mean_recall =
            an.refs.iter().map(|m| m.recall_plain).sum::<f64>() / an.refs.len().max(1) as f64;
        let concepts = self.concepts(an, input);
        let concept_cov = if concepts.is_empty() {
            b.recall
        } else {
            concepts
                .iter()
                .map(|c| match c.status {
                    ConceptStatus::Covered => 1.0,
                    ConceptStatus::Partial => 0.5,
                    _ => 0.0,
                })
                .sum::<f64>()
                / concepts.len() as f64
        };
        let in_q = a
            .content()
            .filter(|(i, t)| in_core(*i) && qs.contains(&t.stem))
            .count();
        let aligned_a: HashSet<usize> = b.pairs.iter().map(|p| p.a).collect();
        let extra = a
            .content()
            .filter(|(i, t)| in_core(*i) && !aligned_a.contains(i) && !qs.contains(&t.stem))
            .count();
        let neg_a = a
            .tokens
            .iter()
            .enumerate()
            .filter(|(i, t)| in_core(*i) && t.kind == Kind::Negator)
            .count();
        let neg_r = b
            .analysed
            .tokens
            .iter()
            .filter(|t| t.kind == Kind::Negator)
            .count();
        let nums = |x: &Analysed, keep: &dyn Fn(usize) -> bool| -> Vec<String> {
            x.tokens
                .iter()
                .enumerate()
                .filter(|(i, t)| t.kind == Kind::Number && keep(*i))
                .map(|(_, t)| t.stem.clone())
                .collect()
        };
        let (na, nr) = (nums(a, &in_core), nums(&b.analysed, &|_| true));
        let number_mismatch = !na.is_empty()
            && nr.iter().any(|n| !na.contains(n))
            && na.iter().any(|n| !nr.contains(n) && !qs.contains(n));
        let any_contra = b.pairs.iter().any(|p| p.conflict);
        // Every reference that the answer substantially matches is contradicted somewhere.
        let matching: Vec<&RefMatch> = an.refs.iter().filter(|m| m.recall_plain >= 0.34).collect();
        let contra_all = f64::from(u8::from(
            !matching.is_empty() && matching.iter().all(|m| m.pairs.iter().any(|p| p.conflict)),
        ));
        Features {
            values: [
                b.recall,
                b.precision,
                b.f1,
                b.recall_novel,
                b.bigram,
                b.contra,
                f64::from(u8::from(any_contra)),
                max_recall,
                mean_recall,
                concept_cov,
                ratio(in_q as f64, n_a as f64),
                ratio(extra as f64, n_a as f64),
                (1.0 + n_a as f64).ln(),
                ((1.0 + n_a as f64) / (1.0 + n_r as f64)).ln(),
                f64::from(u8::from(an.dont_know)),
                f64::from(u8::from(neg_a % 2 != neg_r % 2)),
                f64::from(u8::from(number_mismatch)),
                b.recall * (1.0 - b.contra),
                contra_all,
                an.refs
                    .iter()
                    .map(|m| m.recall_consistent)
                    .fold(0.0, f64::max),
                an.refs
                    .iter()
                    .map(|m| m.precision_consistent)
                    .fold(0.0, f64::max),
                an.refs.iter().map(|m| m.word_overlap).fold(0.0, f64::max),
                an.refs.iter().map(|m| m.word_dice).fold(0.0, f64::max),
                (an.refs.len() as f64).ln(),
                (1.0 + n_r as f64).ln(),
            ],
        }
    }

    /// Concepts to check: the given key concepts, else the content phrases of the best reference.
    fn concepts(&self, an: &Analysis, input: &GradeInput) -> Vec<ConceptEvidence> {
        let given: Vec<&str> = input
            .key_concepts
            .iter()
            .map(|c| c.trim())
            .filter(|c| !c.is_empty())
            .collect();
        let (texts, source): (Vec<String>, ConceptSource) = if given.is_empty() {
            (
                phrases(&an.refs[an.best].analysed),
                ConceptSource::Reference,
            )
        } else {
            (
                given.iter().map(|s| s.to_string()).collect(),
                ConceptSource::KeyConcept,
            )
        };
        let mut out = Vec::new();
        for c in texts {
            let ca = text::analyse(&self.lex, &c);
            let n = ca.content_count();
            if n == 0 {
                continue;
            }
            let pairs = self.align(&ca, &an.answer);
            let coverage = pairs.iter().map(|p| p.sim).sum::<f64>() / n as f64;
            let conflicts = pairs.iter().filter(|p| p.conflict).count();
            let status = if conflicts > 0 && conflicts * 2 >= pairs.len() && coverage >= 0.5 {
                ConceptStatus::Contradicted
            } else if coverage >= 0.6 && conflicts == 0 {
                ConceptStatus::Covered
            } else if coverage >= 0.3 {
                ConceptStatus::Partial
            } else {
                ConceptStatus::Missing
            };
            let idxs: Vec<usize> = pairs.iter().map(|p| p.a).collect();
            out.push(ConceptEvidence {
                concept: c,
                source,
                status,
                coverage: round_to(coverage.min(1.0), 2),
                spans: spans_of(&an.answer, &idxs, &input.answer.words),
            });
        }
        out
    }

    fn contradictions(&self, an: &Analysis, words: &[crate::TimedWord]) -> Vec<Contradiction> {
        let b = &an.refs[an.best];
        b.pairs
            .iter()
            .filter(|p| p.conflict)
            .map(|p| {
                let a_start = negator_before(&an.answer.tokens, p.a);
                let r_start = negator_before(&b.analysed.tokens, p.r);
                let at = &an.answer.tokens;
                let rt = &b.analysed.tokens;
                Contradiction {
                    answer: make_span(&an.answer, at[a_start].start, at[p.a].end, words),
                    reference: b.analysed.text[rt[r_start].start..rt[p.r].end].to_string(),
                    kind: if p.rel == Rel::Antonym && at[p.a].negated == rt[p.r].negated {
                        "antonym".to_string()
                    } else {
                        "negation".to_string()
                    },
                }
            })
            .collect()
    }

    fn red_flags(&self, an: &Analysis, input: &GradeInput) -> Vec<RedFlagEvidence> {
        const ABSENCE: &[&str] = &[
            "cannot", "can't", "cant", "fails", "fail", "lacks", "lack", "omits", "omit", "unable",
            "never", "avoids", "avoid", "without", "no", "not", "doesn't", "doesnt", "missing",
        ];
        // Words that describe the candidate's behaviour rather than the subject matter.
        const META: &[&str] = &[
            "candidate",
            "explain",
            "describe",
            "mention",
            "discuss",
            "experience",
            "understanding",
            "understand",
            "specific",
            "importance",
            "process",
            "ability",
            "articulate",
            "name",
            "quantify",
            "demonstrate",
            "show",
            "practical",
            "approach",
            "basic",
            "clear",
            "example",
            "examples",
            "knowledge",
            "how",
            "e.g",
            "eg",
            "tools",
            "tool",
            "using",
            "use",
            "lacks",
            "experience",
            "benefits",
            "importance",
            "suggests",
            "suggest",
            "proposes",
            "propose",
            "recommends",
            "recommend",
            "claims",
            "relies",
            "quantified",
            "measurable",
        ];
        // Words that may precede the absence word of an absence flag.
        const LEAD: &[&str] = &[
            "candidate",
            "candidates",
            "the",
            "answer",
            "does",
            "do",
            "did",
            "is",
            "shows",
            "gives",
        ];
        const UNIVERSAL: &[&str] = &["every", "all", "always", "blindly", "everything", "each"];
        const QUANTIFY: &[&str] = &[
            "quantify",
            "quantified",
            "measurable",
            "metrics",
            "numbers",
            "figures",
            "results",
        ];
        let mut out = Vec::new();
        for flag in input
            .red_flags
            .iter()
            .map(|f| f.trim())
            .filter(|f| !f.is_empty())
        {
            let lower = normalise_apostrophes(&flag.to_lowercase());
            let words: Vec<&str> = lower
                .split(|c: char| !c.is_alphanumeric() && c != '\'')
                .filter(|w| !w.is_empty())
                .collect();
            // An absence flag says what the answer lacks ("Cannot quantify…", "Candidate fails
            // to…", "No mention of…"): the absence word leads the flag. Elsewhere ("Retries every
            // request without checking…") it qualifies a behaviour, which is what is flagged.
            let absence_at = words
                .iter()
                .take(3)
                .position(|w| ABSENCE.contains(w))
                .filter(|&i| words[..i].iter().all(|w| LEAD.contains(w)));
            let subject: Vec<&str> = match absence_at {
                Some(i) => words[i + 1..].to_vec(),
                // The behaviour is what comes before "without" / "instead of".
                None => {
                    let cut = words
                        .iter()
                        .position(|w| *w == "without" || *w == "instead")
                        .filter(|&i| i > 0)
                        .unwrap_or(words.len());
                    words[..cut].to_vec()
                }
            };
            let universal = subject.iter().any(|w| UNIVERSAL.contains(w));
            let quantify = absence_at.is_some() && subject.iter().any(|w| QUANTIFY.contains(w));
            // Single letters are the debris of "e.g." and similar abbreviations.
            let subject: Vec<&str> = subject
                .into_iter()
                .filter(|w| !META.contains(w) && w.chars().count() > 1)
                .collect();
            let mut sa = text::analyse(&self.lex, &subject.join(" "));
            if sa.content_count() == 0 {
                // Everything was behaviour words ("fails to mention specific tools (e.g.,
                // EXPLAIN)"): fall back to the examples after "e.g.", else the whole flag.
                let eg = words
                    .windows(2)
                    .position(|w| w == ["e", "g"])
                    .map_or(0, |i| i + 2);
                sa = text::analyse(&self.lex, &words[eg..].join(" "));
            }
            let n = sa.content_count();
            if quantify {
                // The opposite evidence for "cannot quantify": measurements in the answer.
                let idxs = measurements(&an.answer);
                let raised = idxs.len() < 2;
                out.push(RedFlagEvidence {
                    flag: flag.to_string(),
                    raised,
                    why: format!("answer gives {} measured figure(s)", idxs.len()),
                    spans: spans_of(&an.answer, &idxs, &input.answer.words),
                });
                continue;
            }
            if n == 0 {
                continue;
            }
            let pairs = self.align(&sa, &an.answer);
            // Negated mentions ("I never used tracing") do not count as mentioning the subject.
            let found: Vec<&Pair> = pairs
                .iter()
                .filter(|p| !an.answer.tokens[p.a].negated)
                .collect();
            let coverage = found.iter().map(|p| p.sim).sum::<f64>() / n as f64;
            let idxs: Vec<usize> = found.iter().map(|p| p.a).collect();
            let (raised, why) = if absence_at.is_some() {
                (
                    coverage < 0.25,
                    format!(
                        "answer covers {:.0}% of \"{}\"",
                        coverage * 100.0,
                        subject.join(" ")
                    ),
                )
            } else if universal && coverage >= 0.6 && !universal_near(&an.answer, &idxs) {
                // "Adds an index on every column": mentioning indexes is not the flagged
                // behaviour; saying it applies to everything is.
                (
                    false,
                    format!(
                        "answer matches {:.0}% of the flagged behaviour's words, but not its \"every/all/always\"",
                        coverage * 100.0
                    ),
                )
            } else {
                (
                    coverage >= 0.6,
                    format!(
                        "answer matches {:.0}% of the flagged behaviour",
                        coverage * 100.0
                    ),
                )
            };
            out.push(RedFlagEvidence {
                flag: flag.to_string(),
                raised,
                why,
                spans: if raised && absence_at.is_some() {
                    Vec::new()
                } else {
                    spans_of(&an.answer, &idxs, &input.answer.words)
                },
            });
        }
        out
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

/// One-to-one alignment from the sorted candidates, greedily by similarity, using only the
/// answer tokens in `mask` (all when `None`). Two kinds of conflict are discarded afterwards, as
/// they are artefacts of one-to-one alignment in longer answers rather than contradictions:
/// - a conflicting pair whose reference word is also aligned, with the same polarity, to another
///   answer word (the answer affirms what the reference says there);
/// - an antonym pair with no consistent aligned neighbour on both sides ("starting at 200 ms"
///   against "stops duplicates": opposite words about different things).
fn assign(cands: &[Pair], r: &Analysed, a: &Analysed, mask: Option<&[bool]>) -> Vec<Pair> {
    let mut used_r = vec![false; r.tokens.len()];
    let mut used_a = vec![false; a.tokens.len()];
    let mut pairs = Vec::new();
    for c in cands {
        if mask.is_some_and(|m| !m[c.a]) {
            continue;
        }
        if !used_r[c.r] && !used_a[c.a] {
            used_r[c.r] = true;
            used_a[c.a] = true;
            pairs.push(*c);
        }
    }
    if pairs.iter().any(|p| p.conflict) {
        let rank = |x: &Analysed| {
            let mut v = vec![0usize; x.tokens.len()];
            for (k, (i, _)) in x.content().enumerate() {
                v[i] = k;
            }
            v
        };
        let (rr, ar) = (rank(r), rank(a));
        let keep: Vec<bool> = pairs
            .iter()
            .map(|p| {
                if !p.conflict {
                    return true;
                }
                let stem = &r.tokens[p.r].stem;
                let affirmed = pairs
                    .iter()
                    .any(|q| !q.conflict && q.r != p.r && r.tokens[q.r].stem == *stem);
                if affirmed {
                    return false;
                }
                if p.rel != Rel::Antonym {
                    return true;
                }
                pairs.iter().any(|q| {
                    !q.conflict
                        && q.r != p.r
                        && rr[q.r].abs_diff(rr[p.r]) <= 2
                        && ar[q.a].abs_diff(ar[p.a]) <= 3
                })
            })
            .collect();
        let mut k = keep.iter();
        pairs.retain(|_| k.next().copied().unwrap_or(true));
    }
    pairs.sort_by_key(|p| p.r);
    pairs
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

/// Units that make a number a measurement ("forty milliseconds", "2 percent").
const UNITS: &[&str] = &[
    "%",
    "percent",
    "per",
    "ms",
    "millisecond",
    "milliseconds",
    "second",
    "seconds",
    "s",
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
    "times",
    "x",
    "rows",
    "row",
    "requests",
    "request",
    "users",
    "customers",
    "queries",
    "gb",
    "mb",
    "kb",
    "tb",
    "k",
    "million",
    "thousand",
    "hundred",
    "billion",
    "qps",
    "rps",
];

/// Answer tokens that are measured figures: numbers written as digits, or followed by a unit.
fn measurements(a: &Analysed) -> Vec<usize> {
    let toks = &a.tokens;
    (0..toks.len())
        .filter(|&i| toks[i].kind == Kind::Number)
        .filter(|&i| {
            toks[i].surface.chars().any(|c| c.is_ascii_digit())
                || toks
                    .get(i + 1)
                    .is_some_and(|t| UNITS.contains(&t.norm.as_str()))
        })
        .collect()
}

/// A universal word ("every", "all", "always", …) within six tokens of one of `idxs`.
fn universal_near(a: &Analysed, idxs: &[usize]) -> bool {
    const UNIVERSAL: &[&str] = &["every", "all", "always", "blindly", "everything", "each"];
    idxs.iter().any(|&i| {
        let lo = i.saturating_sub(6);
        let hi = (i + 7).min(a.tokens.len());
        a.tokens[lo..hi]
            .iter()
            .any(|t| UNIVERSAL.contains(&t.norm.as_str()))
    })
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

/// Share of the reference's adjacent content-word pairs found in the same order, close together,
/// in the answer. `None` when the reference has no such pair.
fn bigram_recall(r: &Analysed, a: &Analysed, pairs: &[Pair]) -> Option<f64> {
    let mut a_of_r = vec![None; r.tokens.len()];
    for p in pairs {
        a_of_r[p.r] = Some(p.a);
    }
    // Position of each answer token among the answer's content tokens.
    let mut a_rank = vec![0usize; a.tokens.len()];
    for (rank, (i, _)) in a.content().enumerate() {
        a_rank[i] = rank;
    }
    let mut total = 0usize;
    let mut hit = 0usize;
    let mut prev: Option<usize> = None;
    for (i, t) in r.tokens.iter().enumerate() {
        if t.kind == Kind::Punct {
            prev = None;
            continue;
        }
        if !t.is_contentful() {
            continue;
        }
        if let Some(p) = prev {
            total += 1;
            if let (Some(x), Some(y)) = (a_of_r[p], a_of_r[i]) {
                if a_rank[x] < a_rank[y] && a_rank[y] - a_rank[x] <= 3 {
                    hit += 1;
                }
            }
        }
        prev = Some(i);
    }
    (total > 0).then(|| hit as f64 / total as f64)
}

/// Content phrases of a reference: runs of content words, with a negator in front kept.
fn phrases(r: &Analysed) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut run: Option<(usize, usize)> = None;
    let toks = &r.tokens;
    let flush = |run: &mut Option<(usize, usize)>, out: &mut Vec<String>| {
        if let Some((s, e)) = run.take() {
            let start = negator_before(toks, s);
            let p = r.text[toks[start].start..toks[e].end].to_string();
            if !out.contains(&p) {
                out.push(p);
            }
        }
    };
    for (i, t) in toks.iter().enumerate() {
        if t.is_contentful() {
            run = Some(match run {
                Some((s, _)) => (s, i),
                None => (i, i),
            });
        } else {
            flush(&mut run, &mut out);
        }
    }
    flush(&mut run, &mut out);
    out
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

fn make_span(a: &Analysed, start: usize, end: usize, words: &[crate::TimedWord]) -> Span {
    let (start_ms, end_ms) = if a.word_spans.is_empty() {
        (None, None)
    } else {
        let first = a.word_spans.partition_point(|(_, e)| *e <= start);
        let last = a
            .word_spans
            .partition_point(|(s, _)| *s < end)
            .saturating_sub(1);
        (
            words.get(first).map(|w| w.start_ms),
            words.get(last).map(|w| w.end_ms),
        )
    };
    Span {
        quote: a.text.get(start..end).unwrap_or_default().to_string(),
        start,
        end,
        start_ms,
        end_ms,
    }
}

/// Spans covering the given answer tokens: tokens within four positions of each other merge.
fn spans_of(a: &Analysed, idxs: &[usize], words: &[crate::TimedWord]) -> Vec<Span> {
    let mut idxs: Vec<usize> = idxs.to_vec();
    idxs.sort_unstable();
    idxs.dedup();
    let mut groups: Vec<(usize, usize)> = Vec::new();
    for i in idxs {
        match groups.last_mut() {
            Some((_, e)) if i <= *e + 4 => *e = i,
            _ => groups.push((i, i)),
        }
    }
    groups
        .into_iter()
        .map(|(s, e)| {
            let s = negator_before(&a.tokens, s);
            make_span(a, a.tokens[s].start, a.tokens[e].end, words)
        })
        .collect()
}
