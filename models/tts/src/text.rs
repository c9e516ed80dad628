//! Text preparation: from whatever the dialogue manager produced to a list of short, speakable
//! sentences.
//!
//! Both engines get the same sentences, so odd input is handled once, here: markup is dropped,
//! emoji and symbols vanish, tech jargon is respelled (see [`crate::lexicon`]), long text is cut at
//! sentence and clause boundaries so that the first audio never waits for the whole reply.

use crate::error::TtsError;
use crate::lexicon;

/// The most characters one utterance may have. An interviewer turn is a few sentences; a text
/// this long is a bug upstream (a pasted document), so it is refused rather than read for minutes.
pub const MAX_TEXT_CHARS: usize = 20_000;

/// Sentences longer than this are cut at a clause boundary (or a space). Keeps the neural model's
/// input short (its cost and memory grow with length) and the first audio early.
pub const MAX_SENTENCE_CHARS: usize = 220;

/// Turn raw text into speakable sentences, in order.
///
/// Errors: [`TtsError::EmptyText`], [`TtsError::TooLong`], [`TtsError::NothingToSay`].
pub fn prepare(text: &str) -> Result<Vec<String>, TtsError> {
    prepare_with(text, true)
}

/// [`prepare`], with the English jargon respellings only when `respell` (a Spanish or German
/// voice reads the terms by its own rules: an English respelling would only mislead it).
pub fn prepare_with(text: &str, respell: bool) -> Result<Vec<String>, TtsError> {
    if text.trim().is_empty() {
        return Err(TtsError::EmptyText);
    }
    let chars = text.chars().count();
    if chars > MAX_TEXT_CHARS {
        return Err(TtsError::TooLong {
            chars,
            max: MAX_TEXT_CHARS,
        });
    }
    let cleaned = clean(&strip_markup(text));
    let respelled = if respell {
        lexicon::respell(&cleaned)
    } else {
        cleaned
    };
    let mut sentences = Vec::new();
    for sentence in split_sentences(&respelled) {
        for piece in chunk_long(&sentence, MAX_SENTENCE_CHARS) {
            if piece.chars().any(char::is_alphanumeric) {
                sentences.push(piece);
            }
        }
    }
    if sentences.is_empty() {
        return Err(TtsError::NothingToSay);
    }
    Ok(sentences)
}

/// For streaming: if the first sentence is long, cut it at its first clause mark so the first
/// audio is out after half the render time (a 25-word question renders in two halves). Returns
/// whether a cut was made (the caller then uses a short pause after the first piece, as a comma
/// would get, rather than a sentence pause).
pub fn split_first_clause(sentences: &mut Vec<String>) -> bool {
    /// Only worth it for long sentences; short ones render fast enough whole.
    const MIN_WORDS: usize = 14;
    /// Keep both halves phrase-sized so each still sounds like speech.
    const MIN_PART_WORDS: usize = 5;
    let Some(first) = sentences.first() else {
        return false;
    };
    if first.split_whitespace().count() < MIN_WORDS {
        return false;
    }
    let mut words_before = 0;
    for (i, word) in first.split_inclusive(' ').scan(0usize, |pos, w| {
        let start = *pos;
        *pos += w.len();
        Some((start, w))
    }) {
        words_before += 1;
        let trimmed = word.trim_end();
        if words_before >= MIN_PART_WORDS && trimmed.ends_with([',', ';', ':']) {
            let cut = i + trimmed.len();
            let (head, tail) = first.split_at(cut);
            if tail.split_whitespace().count() >= MIN_PART_WORDS {
                let (head, tail) = (head.trim().to_string(), tail.trim().to_string());
                sentences[0] = head;
                sentences.insert(1, tail);
                return true;
            }
            return false;
        }
    }
    false
}

/// The text as it is keyed in the prompt cache: whitespace collapsed and trimmed, so that a
/// re-indented job file does not miss the cache.
pub fn cache_form(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Drop SSML/HTML-looking tags and decode the few entities that appear in such text.
///
/// We never pass SSML to espeak (it would interpret `<audio src>` and friends), and the neural
/// voice has no SSML at all; a lone `<` that does not open a tag ("a < b") is kept.
fn strip_markup(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find('<') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        let opens_tag = after
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '/' || c == '!' || c == '?');
        // A tag ends at the next '>' before any other '<', within a sane distance.
        let end = after
            .find('>')
            .filter(|&e| e <= 400 && !after[..e].contains('<'));
        match (opens_tag, end) {
            (true, Some(e)) => {
                // A tag separates words ("one<br/>two").
                out.push(' ');
                rest = &after[e + 1..];
            }
            _ => {
                out.push_str(" less than ");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    decode_entities(&out)
}

fn decode_entities(text: &str) -> String {
    if !text.contains('&') {
        return text.to_string();
    }
    text.replace("&nbsp;", " ")
        .replace("&lt;", " less than ")
        .replace("&gt;", " greater than ")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&#39;", "'")
        .replace("&amp;", " and ")
}

/// Map characters to what the engines handle well: letters of any script and digits stay,
/// typographic punctuation becomes ASCII, emoji/symbols/control characters go. Line breaks are
/// kept as `\n` because they end sentences (list items, headings).
fn clean(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' | '\u{2028}' | '\u{2029}' => out.push('\n'),
            c if c.is_whitespace() => out.push(' '),
            '\u{2018}' | '\u{2019}' | '\u{201B}' | '`' | '\u{00B4}' => out.push('\''),
            '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{00AB}' | '\u{00BB}' => out.push('"'),
            '\u{2013}' | '\u{2014}' | '\u{2015}' => out.push_str(", "),
            '\u{2026}' => out.push_str("..."),
            '&' => out.push_str(" and "),
            '+' => out.push_str(" plus "),
            '=' => out.push_str(" equals "),
            '@' => out.push_str(" at "),
            '.' | ',' | ';' | ':' | '!' | '?' | '\'' | '"' | '(' | ')' | '-' | '/' | '%' | '$'
            | '\u{20AC}' | '\u{00A3}' | '#' => out.push(c),
            c if c.is_alphanumeric() => out.push(c),
            // Emoji, pictographs, math and box symbols, zero-width joiners, variation selectors,
            // control characters: nothing a voice should try to read.
            _ => out.push(' '),
        }
    }
    // Collapse runs of spaces (not newlines) so that dropped characters leave no gaps.
    let mut collapsed = String::with_capacity(out.len());
    let mut last_space = false;
    for c in out.chars() {
        if c == ' ' {
            if !last_space {
                collapsed.push(' ');
            }
            last_space = true;
        } else {
            collapsed.push(c);
            last_space = false;
        }
    }
    collapsed
}

/// Split at sentence ends (`.`, `!`, `?` followed by a space, a closing quote or bracket, or the
/// end) and at line breaks. Decimal points ("3.5") and dotted names ("Node.js") do not split,
/// because no space follows them.
fn split_sentences(text: &str) -> Vec<String> {
    let mut sentences = Vec::new();
    let mut current = String::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\n' {
            push_sentence(&mut sentences, &mut current);
            i += 1;
            continue;
        }
        current.push(c);
        if matches!(c, '.' | '!' | '?') {
            // Take trailing terminators and closers with the sentence ("?!", "...", ".\"", ".)").
            let mut j = i + 1;
            while j < chars.len() && matches!(chars[j], '.' | '!' | '?' | '"' | '\'' | ')') {
                current.push(chars[j]);
                j += 1;
            }
            let at_end = j >= chars.len() || chars[j].is_whitespace();
            if at_end && !ends_with_initial(&current) {
                push_sentence(&mut sentences, &mut current);
            }
            i = j;
            continue;
        }
        i += 1;
    }
    push_sentence(&mut sentences, &mut current);
    sentences
}

/// "J. Smith": a single capital letter before the period is an initial, not a sentence end.
fn ends_with_initial(sentence: &str) -> bool {
    let trimmed = sentence.trim_end_matches(['.', '"', '\'', ')']);
    let mut rev = trimmed.chars().rev();
    match (rev.next(), rev.next()) {
        (Some(c), None) => c.is_uppercase(),
        (Some(c), Some(before)) => c.is_uppercase() && !before.is_alphanumeric(),
        _ => false,
    }
}

fn push_sentence(sentences: &mut Vec<String>, current: &mut String) {
    let s = current.trim();
    if !s.is_empty() {
        sentences.push(s.to_string());
    }
    current.clear();
}

/// Cut a sentence longer than `max` characters: at the last clause mark (`,;:`) before the limit
/// if there is one past the first third, else at the last space, else hard (a 220-letter word).
fn chunk_long(sentence: &str, max: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest: &str = sentence.trim();
    while rest.chars().count() > max {
        // Byte offset of the character boundary at `max` characters.
        let limit = rest.char_indices().nth(max).map_or(rest.len(), |(b, _)| b);
        let window = &rest[..limit];
        let min_clause = window.len() / 3;
        let cut = window
            .rfind([',', ';', ':'])
            .filter(|&p| p >= min_clause)
            .map(|p| p + 1)
            .or_else(|| window.rfind(' ').filter(|&p| p > 0))
            .unwrap_or(limit);
        let (head, tail) = rest.split_at(cut);
        let head = head.trim();
        if !head.is_empty() {
            out.push(head.to_string());
        }
        rest = tail.trim_start();
    }
    if !rest.trim().is_empty() {
        out.push(rest.trim().to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_sentences_but_not_decimals_or_initials() {
        let s = prepare("Hello there. Version 3.5 is out! Ask J. Smith? Yes").unwrap();
        assert_eq!(
            s,
            vec![
                "Hello there.",
                "Version 3.5 is out!",
                "Ask J. Smith?",
                "Yes"
            ]
        );
    }

    #[test]
    fn strips_tags_and_keeps_comparisons() {
        let s = prepare("<speak>Hello <break time=\"1s\"/>world</speak>").unwrap();
        assert_eq!(s, vec!["Hello world"]);
        let s = prepare("Is a < b always?").unwrap();
        assert_eq!(s, vec!["Is a less than b always?"]);
    }

    #[test]
    fn emoji_vanish_and_only_emoji_is_an_error() {
        assert_eq!(prepare("Great 👍🏽 answer!").unwrap(), vec!["Great answer!"]);
        assert!(matches!(prepare("👍 🎉 ✨"), Err(TtsError::NothingToSay)));
        assert!(matches!(prepare("   \n\t"), Err(TtsError::EmptyText)));
        assert!(matches!(prepare("..."), Err(TtsError::NothingToSay)));
    }

    #[test]
    fn long_text_is_chunked_and_huge_text_refused() {
        let long = "word, ".repeat(200);
        let s = prepare(&long).unwrap();
        assert!(s.len() > 1);
        assert!(s.iter().all(|p| p.chars().count() <= MAX_SENTENCE_CHARS));
        let huge = "a".repeat(MAX_TEXT_CHARS + 1);
        assert!(matches!(prepare(&huge), Err(TtsError::TooLong { .. })));
        let one_word = "x".repeat(1000);
        assert!(prepare(&one_word)
            .unwrap()
            .iter()
            .all(|p| p.chars().count() <= MAX_SENTENCE_CHARS));
    }

    #[test]
    fn long_first_sentence_is_cut_at_its_first_clause() {
        let mut s = prepare(
            "Walk me through how you would design a payment service on a database, and how you would handle retries. Ok?",
        )
        .unwrap();
        assert!(split_first_clause(&mut s));
        assert_eq!(
            s,
            vec![
                "Walk me through how you would design a payment service on a database,",
                "and how you would handle retries.",
                "Ok?"
            ]
        );
        let mut short = prepare("Tell me, briefly, about yourself.").unwrap();
        assert!(!split_first_clause(&mut short));
        let mut late = prepare(
            "One two three four five six seven eight nine ten eleven twelve thirteen, fourteen.",
        )
        .unwrap();
        assert!(!split_first_clause(&mut late));
    }

    #[test]
    fn keeps_non_english_letters() {
        assert_eq!(
            prepare("Café naïve Müller. Привет").unwrap(),
            vec!["Café naïve Müller.", "Привет"]
        );
    }

    #[test]
    fn cache_form_ignores_layout() {
        assert_eq!(
            cache_form("  Tell me\n about   Redis. "),
            "Tell me about Redis."
        );
    }
}
