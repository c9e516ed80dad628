//! The plain word-overlap baseline that `viva eval grading` reports beside the grader.
//!
//! Share of a reference answer's distinct words that the answer also contains (lowercased,
//! punctuation stripped, no stemming, no stopword removal, no synonyms), best over the references.
//! Its threshold for "correct" is fitted on the same SemEval train split as the grader's, so
//! the comparison is like for like.

use crate::model::{piecewise, BASELINE_THRESHOLD};

fn words(s: &str) -> Vec<String> {
    let mut w: Vec<String> = s
        .split(|c: char| !c.is_alphanumeric() && c != '\'')
        .filter(|w| !w.is_empty())
        .map(|w| w.to_lowercase())
        .collect();
    w.sort_unstable();
    w.dedup();
    w
}

/// Word overlap of `answer` with its best reference, 0–1.
pub fn word_overlap(references: &[String], answer: &str) -> f64 {
    let a = words(answer);
    references
        .iter()
        .map(|r| {
            let r = words(r);
            if r.is_empty() {
                return 0.0;
            }
            let hit = r.iter().filter(|w| a.binary_search(w).is_ok()).count();
            hit as f64 / r.len() as f64
        })
        .fold(0.0, f64::max)
}

/// The overlap on the grader's 0–5 scale (2.5 = the fitted threshold).
pub fn baseline_score(references: &[String], answer: &str) -> f64 {
    crate::round_to(
        piecewise(word_overlap(references, answer), BASELINE_THRESHOLD),
        2,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlap_is_best_reference_recall() {
        let refs = vec!["the bulb is on".to_string(), "a closed path".to_string()];
        assert_eq!(word_overlap(&refs, "It is in a closed path!"), 1.0);
        assert_eq!(word_overlap(&refs, "Bulb"), 0.25);
        assert_eq!(word_overlap(&[], "x"), 0.0);
    }
}
