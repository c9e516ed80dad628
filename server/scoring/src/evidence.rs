//! Turning spans of answers into quotes: whole sentences, with audio times when known.

use viva_interview::text::{Cue, Span, Tokens};
use viva_interview::transcript::{Answer, Turn};

use crate::report::Quote;

/// Longest quote kept; longer sentences are cut around the evidence.
const MAX_QUOTE_CHARS: usize = 240;

/// The sentence (in chars) around `span` of `text`.
fn sentence_around(chars: &[char], span: Span) -> Span {
    let n = chars.len();
    let s0 = span.start.min(n);
    let e0 = span.end.clamp(s0, n);
    let is_end = |i: usize| {
        matches!(chars[i], '.' | '!' | '?' | '\n')
            && chars.get(i + 1).is_none_or(|c| c.is_whitespace())
    };
    let mut start = s0;
    while start > 0 && !is_end(start - 1) {
        start -= 1;
    }
    while start < n && chars[start].is_whitespace() {
        start += 1;
    }
    let mut end = e0.max(start);
    while end < n && !is_end(end) {
        end += 1;
    }
    if end < n {
        end += 1; // keep the full stop
    }
    // A long sentence is cut to a window that keeps the evidence itself.
    if end - start > MAX_QUOTE_CHARS {
        let mid = (s0 + e0) / 2;
        let half = MAX_QUOTE_CHARS / 2;
        let a = mid.saturating_sub(half).max(start);
        let b = (a + MAX_QUOTE_CHARS).min(end);
        return Span { start: a, end: b };
    }
    Span { start, end }
}

/// The quote of the sentence containing `span` in `answer` of `turn`.
pub fn quote(turn: &Turn, answer: &Answer, span: Span) -> Quote {
    let chars: Vec<char> = answer.text.chars().collect();
    let sentence = sentence_around(&chars, span);
    let mut text: String = chars[sentence.start..sentence.end]
        .iter()
        .collect::<String>()
        .trim()
        .to_string();
    // A window cut out of a long sentence is trimmed to whole words and marked as cut.
    let cut_before = sentence.start > 0
        && !chars[sentence.start - 1].is_whitespace()
        && !matches!(chars[sentence.start - 1], '.' | '!' | '?');
    let cut_after =
        sentence.end < chars.len() && !matches!(chars[sentence.end - 1], '.' | '!' | '?' | '\n');
    if cut_after {
        if let Some(i) = text.rfind(' ') {
            text.truncate(i);
        }
        text.push('…');
    }
    if cut_before {
        if let Some(i) = text.find(' ') {
            text = format!("…{}", &text[i + 1..]);
        }
    }
    let audio = answer.audio_range(sentence);
    Quote {
        turn: turn.index,
        text,
        start_ms: audio.map(|a| a.0),
        end_ms: audio.map(|a| a.1),
    }
}

/// The quote of an answer's first sentence.
pub fn first_sentence(turn: &Turn, answer: &Answer) -> Quote {
    quote(turn, answer, Span { start: 0, end: 0 })
}

/// Where `needle` (as the grader quotes it) occurs in one of `answers`, as a quote.
pub fn find_quote(answers: &[(&Turn, &Answer)], needle: &str) -> Option<Quote> {
    let needle = needle.trim();
    if needle.is_empty() {
        return None;
    }
    let lower_needle = needle.to_lowercase();
    for (turn, answer) in answers {
        let lower = answer.text.to_lowercase();
        // Lower-casing can change byte lengths for a few scripts; only use a hit whose byte
        // offset is also a char boundary of the original text.
        if let Some(byte) = lower.find(&lower_needle) {
            if answer.text.is_char_boundary(byte) {
                let start = answer.text[..byte].chars().count();
                let end = start + needle.chars().count();
                return Some(quote(turn, answer, Span { start, end }));
            }
        }
    }
    None
}

/// Words that, up to three tokens before a mention, negate it ("never used tracing").
fn negated(tokens: &Tokens<'_>, at: usize) -> bool {
    (at.saturating_sub(3)..at)
        .any(|i| matches!(tokens.norm(i), "not" | "never" | "no" | "without" | "nor"))
}

/// A term (with `|` alternatives) found, not negated, in one of the answers.
pub struct TermHit {
    pub quote: Quote,
    /// How many non-negated mentions in all answers.
    pub mentions: usize,
}

pub fn find_term(answers: &[(&Turn, &Answer)], term: &str) -> Option<TermHit> {
    let cue = Cue::new(term);
    let mut first: Option<Quote> = None;
    let mut mentions = 0;
    for (turn, answer) in answers {
        let tokens = Tokens::new(&answer.text);
        for (a, b) in cue.find_all(&tokens) {
            if negated(&tokens, a) {
                continue;
            }
            mentions += 1;
            if first.is_none() {
                first = Some(quote(turn, answer, tokens.span(a, b)));
            }
        }
    }
    first.map(|quote| TermHit { quote, mentions })
}

/// Adds `q` unless the same sentence is already there.
pub fn push_unique(list: &mut Vec<Quote>, q: Quote) {
    if !q.text.is_empty() && !list.iter().any(|x| x.turn == q.turn && x.text == q.text) {
        list.push(q);
    }
}

/// `mm:ss` of a millisecond offset.
pub fn clock(ms: u64) -> String {
    let s = ms / 1000;
    format!("{:02}:{:02}", s / 60, s % 60)
}

#[cfg(test)]
mod tests {
    use super::*;
    use viva_interview::transcript::Word;

    #[test]
    fn sentences_and_audio() {
        let text = "First we measured. Then we added an index, and p95 dropped! Done.";
        let words: Vec<Word> = text
            .split_whitespace()
            .enumerate()
            .map(|(i, w)| Word {
                text: w.to_string(),
                start_ms: 1000 * i as u64,
                end_ms: 1000 * i as u64 + 500,
            })
            .collect();
        let answer = Answer {
            text: text.into(),
            words: Some(words),
            received_at_ms: 0,
            audio_start_ms: None,
            audio_end_ms: None,
        };
        let chars: Vec<char> = text.chars().collect();
        let s = sentence_around(&chars, Span { start: 36, end: 41 });
        assert_eq!(
            chars[s.start..s.end].iter().collect::<String>(),
            "Then we added an index, and p95 dropped!"
        );
        let turn_json = serde_json::json!({
            "index": 7, "phase": "custom_questions", "question": {"source": "custom", "index": 0},
            "utterance_id": "x", "prompt": "q", "kind": "question", "decision": "ask_question",
            "reason": {"code": "scripted_order", "index": 0}, "asked_at_ms": 0, "awaits_answer": true
        });
        let turn: Turn = serde_json::from_value(turn_json).expect("turn");
        let q = quote(&turn, &answer, Span { start: 36, end: 41 });
        assert_eq!(q.start_ms, Some(3000));
        assert_eq!(q.end_ms, Some(10500));
        assert_eq!(clock(75_500), "01:15");
        // Out-of-range spans never panic.
        let q = quote(
            &turn,
            &answer,
            Span {
                start: 500,
                end: 900,
            },
        );
        assert!(q.text.is_empty() || text.contains(&q.text));
    }
}
