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

/// Word error rate of `hyp` against `reference`, counted the one way viva counts it everywhere
/// (`viva_models::text`: lower-cased, punctuation stripped, contractions and numbers
/// normalised). 0 when both are empty.
pub fn wer(reference: &str, hyp: &str) -> f64 {
    viva_models::text::text_errors(reference, hyp).wer()
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
    /// Share of answers whose 0–5 grade changed, 0–1.
    pub share_grade_changed: f64,
    /// Share of answers whose acceptable/not decision (score ≥ 2.5) changed, 0–1.
    pub share_decision_changed: f64,
}

/// A deterministic sample of `n` items stratified by `labels`: the labels (sorted) share `n` as
/// evenly as their sizes allow (a label with too few items gives all it has and the rest go to
/// the others), and within a label the items are drawn by a seeded shuffle (SplitMix64), so the
/// same seed always picks the same items. Returns indices into `labels`, ascending.
pub fn stratified_sample(labels: &[&str], n: usize, seed: u64) -> Vec<usize> {
    let mut groups: std::collections::BTreeMap<&str, Vec<usize>> = Default::default();
    for (i, l) in labels.iter().enumerate() {
        groups.entry(*l).or_default().push(i);
    }
    // Seeded Fisher–Yates per label; the label's name is mixed into the seed so that two labels
    // of equal size are not shuffled alike.
    let mut shuffled: Vec<Vec<usize>> = groups
        .iter()
        .map(|(label, idx)| {
            let mut state = label.bytes().fold(seed ^ 0x9E37_79B9_7F4A_7C15, |h, b| {
                (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01B3)
            });
            let mut next = || {
                state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
                let mut z = state;
                z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
                z ^ (z >> 31)
            };
            let mut v = idx.clone();
            for i in (1..v.len()).rev() {
                let j = (next() % (i as u64 + 1)) as usize;
                v.swap(i, j);
            }
            v
        })
        .collect();
    // Even shares, the remainder handed out round-robin, capped by each label's size.
    let mut take = vec![0usize; shuffled.len()];
    let mut left = n.min(labels.len());
    while left > 0 {
        let open: Vec<usize> = (0..shuffled.len())
            .filter(|&g| take[g] < shuffled[g].len())
            .collect();
        if open.is_empty() {
            break;
        }
        let share = (left / open.len()).max(1);
        for g in open {
            if left == 0 {
                break;
            }
            let add = share.min(shuffled[g].len() - take[g]).min(left);
            take[g] += add;
            left -= add;
        }
    }
    let mut out: Vec<usize> = shuffled
        .iter_mut()
        .zip(&take)
        .flat_map(|(v, &t)| v.drain(..t).collect::<Vec<_>>())
        .collect();
    out.sort_unstable();
    out
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
        share_grade_changed: round_to(
            trips
                .iter()
                .filter(|(_, t)| t.typed_grade != t.heard_grade)
                .count() as f64
                / n,
            3,
        ),
        share_decision_changed: round_to(
            trips
                .iter()
                .filter(|(_, t)| (t.typed_score >= 2.5) != (t.heard_score >= 2.5))
                .count() as f64
                / n,
            3,
        ),
    }
}

/// Words in `text`, as [`wer`] counts them.
pub fn word_count(text: &str) -> usize {
    viva_models::text::normalize(text).len()
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
    fn stratified_sample_is_seeded_and_balanced() {
        let mut labels = vec!["correct"; 50];
        labels.extend(vec!["incorrect"; 40]);
        labels.extend(vec!["contradictory"; 7]);
        let a = stratified_sample(&labels, 60, 7);
        assert_eq!(
            a,
            stratified_sample(&labels, 60, 7),
            "same seed, same sample"
        );
        assert_ne!(
            a,
            stratified_sample(&labels, 60, 8),
            "another seed, another sample"
        );
        assert_eq!(a.len(), 60);
        let count = |l: &str| a.iter().filter(|&&i| labels[i] == l).count();
        // 7 contradictory (all there are); the rest split evenly.
        assert_eq!(count("contradictory"), 7);
        assert!(count("correct").abs_diff(count("incorrect")) <= 1, "{a:?}");
        let mut dedup = a.clone();
        dedup.dedup();
        assert_eq!(dedup.len(), 60, "no item twice");
        assert_eq!(stratified_sample(&labels, 500, 1).len(), labels.len());
        assert!(stratified_sample(&[], 5, 1).is_empty());
    }

    #[test]
    fn summary_counts_changed_grades() {
        let t = |typed: u8, heard: u8| {
            (
                10,
                RoundTrip {
                    typed_score: f64::from(typed),
                    heard_score: f64::from(heard),
                    typed_grade: typed,
                    heard_grade: heard,
                    wer: 0.1,
                },
            )
        };
        let s = summarise(&[t(4, 4), t(4, 3), t(2, 2), t(1, 3)]);
        assert_eq!(s.mean_abs_grade_shift, 0.75);
        assert_eq!(s.share_grade_changed, 0.5);
        assert_eq!(s.share_decision_changed, 0.25);
        assert_eq!(s.max_abs_grade_shift, 2);
        assert_eq!(s.wer, 0.1);
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
