//! Integrity signals: timing patterns in the answers a reviewer may want to listen to — an
//! answer that began much later than this candidate's others, and such a late start followed by
//! unusually fast, filler-free delivery (the pattern of reading out a prepared or looked-up
//! answer). Information only: never part of a score or a recommendation, and each says what it
//! does not mean.

use serde::{Deserialize, Serialize};
use viva_interview::transcript::{Transcript, Turn};

/// One pattern, at its place in the recording.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IntegritySignal {
    /// `late_start` or `late_start_then_fluent`.
    pub kind: String,
    /// The transcript turn of the question.
    pub turn: usize,
    pub question: String,
    /// Where the answer starts in the recording (for the player).
    pub start_ms: u64,
    /// What was measured, in words.
    pub detail: String,
    /// What it may and may not mean.
    pub meaning: String,
}

/// A start later than this is never unusual on its own (reading a long question, thinking).
const LATE_START_MIN_MS: u64 = 8_000;
/// …and it must be this many times the candidate's usual start.
const LATE_START_FACTOR: f64 = 3.0;
/// Speech this much faster than the candidate's usual rate counts as "unusually fluent".
const FLUENT_RATE_FACTOR: f64 = 1.2;
/// Fillers per word at or under this (with the faster rate) complete the "fluent" pattern.
const FLUENT_MAX_FILLERS: f64 = 0.01;
/// Answers needed before anything is called unusual for this candidate.
const MIN_ANSWERS: usize = 3;

const FILLERS: &[&str] = &[
    "um", "uh", "erm", "hmm", "er", "ah", "eh", "äh", "ähm", "eh", "este",
];

/// What one spoken answer's timing shows.
struct Timing {
    turn: usize,
    question: String,
    start_ms: u64,
    onset_ms: u64,
    words_per_s: Option<f64>,
    fillers_per_word: f64,
}

fn timing(t: &Turn) -> Option<Timing> {
    let spoken_end = t.spoken_end_ms?;
    let first = t.answers.iter().find(|a| a.audio_start_ms.is_some())?;
    let start = first.audio_start_ms?;
    let onset_ms = start.saturating_sub(spoken_end);
    let words: Vec<&str> = t
        .answers
        .iter()
        .flat_map(|a| a.text.split_whitespace())
        .collect();
    let fillers = words
        .iter()
        .filter(|w| {
            let w = w
                .trim_matches(|c: char| !c.is_alphanumeric())
                .to_lowercase();
            FILLERS.contains(&w.as_str())
        })
        .count();
    let speaking_ms: u64 = t
        .answers
        .iter()
        .filter_map(|a| Some(a.audio_end_ms?.saturating_sub(a.audio_start_ms?)))
        .sum();
    Some(Timing {
        turn: t.index,
        question: t.spoken_text.clone().unwrap_or_else(|| t.prompt.clone()),
        start_ms: start,
        onset_ms,
        words_per_s: (speaking_ms >= 2_000 && words.len() >= 8)
            .then(|| words.len() as f64 / (speaking_ms as f64 / 1000.0)),
        fillers_per_word: fillers as f64 / words.len().max(1) as f64,
    })
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

/// The signals of a transcript (empty when there are too few timed answers to compare).
pub fn signals(transcript: &Transcript) -> Vec<IntegritySignal> {
    let timed: Vec<Timing> = transcript
        .turns
        .iter()
        .filter(|t| t.awaits_answer)
        .filter_map(timing)
        .collect();
    if timed.len() < MIN_ANSWERS {
        return Vec::new();
    }
    let Some(usual_onset) = median(timed.iter().map(|t| t.onset_ms as f64).collect()) else {
        return Vec::new();
    };
    let usual_rate = median(timed.iter().filter_map(|t| t.words_per_s).collect());
    let mut out = Vec::new();
    for t in &timed {
        let late = t.onset_ms >= LATE_START_MIN_MS
            && t.onset_ms as f64 >= LATE_START_FACTOR * usual_onset.max(1.0);
        if !late {
            continue;
        }
        let fluent = match (t.words_per_s, usual_rate) {
            (Some(rate), Some(usual)) => {
                rate >= FLUENT_RATE_FACTOR * usual && t.fillers_per_word <= FLUENT_MAX_FILLERS
            }
            _ => false,
        };
        let started = format!(
            "began answering {:.1} s after the question ended; this candidate's usual start is {:.1} s",
            t.onset_ms as f64 / 1000.0,
            usual_onset / 1000.0
        );
        let (kind, detail, meaning) = if fluent {
            (
                "late_start_then_fluent",
                format!(
                    "{started}, then spoke {:.1} words/s without fillers (usually {:.1})",
                    t.words_per_s.unwrap_or_default(),
                    usual_rate.unwrap_or_default()
                ),
                "A long silence followed by fast, even delivery can be an answer read aloud; it is also how a candidate sounds who paused to organise a well-known answer. Listen before drawing any conclusion.",
            )
        } else {
            (
                "late_start",
                started,
                "May mean the candidate was thinking, did not hear or understand the question, or was interrupted; it is not evidence of misconduct on its own.",
            )
        };
        out.push(IntegritySignal {
            kind: kind.into(),
            turn: t.turn,
            question: t.question.clone(),
            start_ms: t.start_ms,
            detail,
            meaning: meaning.into(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use viva_interview::transcript::Answer;

    fn turn(index: usize, spoken_end: u64, start: u64, end: u64, text: &str) -> Turn {
        let mut t: Turn = serde_json::from_value(serde_json::json!({
            "index": index, "phase": "knockouts",
            "question": {"source": "knockout", "index": 0, "name": "Backend experience"},
            "utterance_id": format!("u{index}"), "prompt": format!("Question {index}?"),
            "kind": "question", "decision": "ask_knockout",
            "reason": {"code": "knockout_criterion", "name": "Backend experience"},
            "asked_at_ms": 0, "awaits_answer": true,
        }))
        .unwrap_or_else(|e| panic!("turn json: {e}"));
        t.spoken_end_ms = Some(spoken_end);
        t.answers.push(Answer {
            text: text.into(),
            words: None,
            received_at_ms: end,
            audio_start_ms: Some(start),
            audio_end_ms: Some(end),
        });
        t
    }

    fn transcript(turns: Vec<Turn>) -> Transcript {
        let mut t: Transcript = serde_json::from_value(serde_json::json!({
            "format_version": 1, "job_title": "t", "turns": [], "decisions": [],
            "knockouts": [], "coverage": [], "candidate_questions": []
        }))
        .unwrap_or_else(|e| panic!("transcript json: {e}"));
        t.turns = turns;
        t
    }

    const USUAL: &str =
        "um so we had a queue and uh the workers were slow so I added an index and it got better";
    const READ: &str = "Consistent hashing distributes keys across nodes so that adding or removing a node only remaps a small fraction of the keys which keeps caches warm";

    #[test]
    fn a_late_start_then_fluent_answer_is_flagged_and_usual_ones_are_not() {
        let ts = transcript(vec![
            turn(1, 10_000, 11_500, 21_500, USUAL),
            turn(2, 30_000, 31_800, 41_800, USUAL),
            turn(3, 50_000, 51_200, 61_200, USUAL),
            // 15 s of silence, then 26 words in 7 s without a filler.
            turn(4, 70_000, 85_000, 92_000, READ),
        ]);
        let s = signals(&ts);
        assert_eq!(s.len(), 1, "{s:#?}");
        assert_eq!(s[0].kind, "late_start_then_fluent");
        assert_eq!(s[0].turn, 4);
        assert_eq!(s[0].start_ms, 85_000);
        assert!(s[0].detail.contains("15.0 s"), "{}", s[0].detail);
        assert!(s[0].meaning.contains("Listen before"));
    }

    #[test]
    fn a_late_start_at_the_usual_pace_is_only_a_late_start() {
        let ts = transcript(vec![
            turn(1, 10_000, 11_500, 21_500, USUAL),
            turn(2, 30_000, 31_800, 41_800, USUAL),
            turn(3, 50_000, 51_200, 61_200, USUAL),
            turn(4, 70_000, 82_000, 92_000, USUAL),
        ]);
        let s = signals(&ts);
        assert_eq!(s.len(), 1, "{s:#?}");
        assert_eq!(s[0].kind, "late_start");
    }

    #[test]
    fn a_slow_starter_is_compared_with_themselves_and_few_answers_say_nothing() {
        // Always 9–10 s to start: nothing unusual for this candidate.
        let ts = transcript(vec![
            turn(1, 10_000, 19_000, 29_000, USUAL),
            turn(2, 40_000, 50_000, 60_000, USUAL),
            turn(3, 70_000, 79_500, 89_500, USUAL),
            turn(4, 100_000, 110_000, 117_000, READ),
        ]);
        assert!(signals(&ts).is_empty());
        let few = transcript(vec![
            turn(1, 10_000, 11_000, 21_000, USUAL),
            turn(2, 30_000, 50_000, 57_000, READ),
        ]);
        assert!(
            signals(&few).is_empty(),
            "two answers are too few to compare"
        );
    }
}
