//! Text primitives shared by answer analysis, cue matching and the topic guard.
//!
//! Answers arrive from speech recognition: capitalisation and punctuation are unreliable, so
//! everything here works on lower-cased, lightly stemmed tokens and keeps each token's byte
//! range into the original text, so that evidence can point back at what was said.

use serde::{Deserialize, Serialize};

/// A range of characters (Unicode scalar values, not bytes) in an answer: `start..end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    /// The text this span covers, or an empty string when it does not fit `text`.
    pub fn slice<'a>(&self, text: &'a str) -> &'a str {
        let mut indices = text
            .char_indices()
            .map(|(i, _)| i)
            .chain(std::iter::once(text.len()));
        let start = indices.nth(self.start);
        let end = if self.end >= self.start {
            text.char_indices()
                .map(|(i, _)| i)
                .chain(std::iter::once(text.len()))
                .nth(self.end)
        } else {
            None
        };
        match (start, end) {
            (Some(s), Some(e)) if s <= e => &text[s..e],
            _ => "",
        }
    }
}

/// One token of a text: its normalized (lower-cased, stemmed) form and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub norm: String,
    /// Byte range in the source text.
    pub start: usize,
    pub end: usize,
    /// The token was the first word after a sentence boundary (or the text's start).
    pub sentence_start: bool,
}

/// A tokenized text with a byte→char offset table for building [`Span`]s.
#[derive(Debug, Clone)]
pub struct Tokens<'a> {
    pub text: &'a str,
    pub tokens: Vec<Token>,
}

impl<'a> Tokens<'a> {
    pub fn new(text: &'a str) -> Self {
        Tokens {
            text,
            tokens: tokenize(text),
        }
    }

    /// Char span covering tokens `first..=last`.
    pub fn span(&self, first: usize, last: usize) -> Span {
        let (Some(a), Some(b)) = (self.tokens.get(first), self.tokens.get(last)) else {
            return Span { start: 0, end: 0 };
        };
        Span {
            start: char_offset(self.text, a.start),
            end: char_offset(self.text, b.end),
        }
    }

    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    pub fn norm(&self, i: usize) -> &str {
        self.tokens.get(i).map(|t| t.norm.as_str()).unwrap_or("")
    }
}

/// Number of chars before byte offset `byte` (clamped to the text).
pub fn char_offset(text: &str, byte: usize) -> usize {
    let byte = byte.min(text.len());
    text.char_indices().take_while(|(i, _)| *i < byte).count()
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '\'' || c == '’' || c == '+' || c == '#'
}

/// Splits `text` into normalized tokens. Contractions expand into their words ("don't" → "do",
/// "not"), all sharing the contraction's range, so that cues written in full match speech.
pub fn tokenize(text: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut sentence_start = true;
    let mut chars = text.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        if !is_word_char(c) || c == '\'' || c == '’' {
            if matches!(c, '.' | '!' | '?' | ';' | ':' | '\n') {
                sentence_start = true;
            }
            continue;
        }
        let mut end = start + c.len_utf8();
        while let Some(&(i, n)) = chars.peek() {
            // A '.' or ',' between digits belongs to the number ("3.5", "10,000").
            let numeric_join = (n == '.' || n == ',')
                && text[..i]
                    .chars()
                    .next_back()
                    .is_some_and(|p| p.is_ascii_digit())
                && text[i + n.len_utf8()..]
                    .chars()
                    .next()
                    .is_some_and(|p| p.is_ascii_digit());
            if is_word_char(n) || numeric_join {
                end = i + n.len_utf8();
                chars.next();
            } else {
                break;
            }
        }
        let raw = text[start..end].to_lowercase().replace('’', "'");
        let raw = raw.trim_matches('\'');
        for word in expand_contraction(raw) {
            let word = word.replace(',', "");
            if word.is_empty() {
                continue;
            }
            out.push(Token {
                norm: stem(&word),
                start,
                end,
                sentence_start,
            });
            sentence_start = false;
        }
    }
    out
}

fn expand_contraction(raw: &str) -> Vec<String> {
    const WHOLE: &[(&str, &[&str])] = &[
        ("can't", &["can", "not"]),
        ("won't", &["will", "not"]),
        ("shan't", &["shall", "not"]),
        ("i'm", &["i", "am"]),
        ("let's", &["let", "us"]),
    ];
    if let Some((_, words)) = WHOLE.iter().find(|(w, _)| *w == raw) {
        return words.iter().map(|w| w.to_string()).collect();
    }
    const SUFFIXES: &[(&str, &str)] = &[
        ("n't", "not"),
        ("'ve", "have"),
        ("'ll", "will"),
        ("'re", "are"),
        ("'d", "would"),
        ("'s", ""),
    ];
    for (suffix, expansion) in SUFFIXES {
        if let Some(head) = raw.strip_suffix(suffix) {
            if head.is_empty() {
                break;
            }
            let mut words = vec![head.to_string()];
            if !expansion.is_empty() {
                words.push(expansion.to_string());
            }
            return words;
        }
    }
    vec![raw.replace('\'', "")]
}

/// A deliberately small stemmer: plural and verb endings only, so that "indexes", "indexing"
/// and "indexed" meet "index" without the surprises of a full Porter stemmer on tool names.
pub fn stem(word: &str) -> String {
    let n = word.chars().count();
    if word.chars().any(|c| c.is_ascii_digit()) || n <= 3 {
        return word.to_string();
    }
    let strip = |suffix: &str, min_rest: usize| -> Option<String> {
        let rest = word.strip_suffix(suffix)?;
        (rest.chars().count() >= min_rest).then(|| rest.to_string())
    };
    if let Some(r) = strip("ies", 3) {
        return format!("{r}y");
    }
    let strip_final_e = |w: String| -> String {
        match w.strip_suffix('e') {
            Some(r) if r.chars().count() >= 3 => r.to_string(),
            _ => w,
        }
    };
    for (suffix, min_rest) in [("ing", 3), ("ed", 3), ("es", 4), ("s", 3)] {
        if suffix == "s" && (word.ends_with("ss") || word.ends_with("us") || word.ends_with("is")) {
            continue;
        }
        let sibilant = ["xes", "ches", "shes", "sses"]
            .iter()
            .any(|s| word.ends_with(s));
        if suffix == "es" && !sibilant {
            continue;
        }
        if let Some(mut r) = strip(suffix, min_rest) {
            // "mapping" → "mapp" → "map"; "shipped" → "ship".
            let bytes = r.as_bytes();
            let doubled = bytes.len() >= 2 && bytes[bytes.len() - 1] == bytes[bytes.len() - 2];
            if doubled && !matches!(bytes[bytes.len() - 1], b'l' | b's' | b'z') {
                r.pop();
            }
            // "caching" and "cache" both end as "cach".
            return strip_final_e(r);
        }
    }
    strip_final_e(word.to_string())
}

/// One cue phrase, normalized: a sequence of stems matched as consecutive tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phrase {
    pub source: String,
    pub words: Vec<String>,
}

impl Phrase {
    pub fn new(source: &str) -> Option<Phrase> {
        let words: Vec<String> = tokenize(source).into_iter().map(|t| t.norm).collect();
        (!words.is_empty()).then(|| Phrase {
            source: source.trim().to_string(),
            words,
        })
    }

    /// Every token index where this phrase starts in `tokens`.
    pub fn find_in(&self, tokens: &Tokens<'_>) -> Vec<(usize, usize)> {
        let n = self.words.len();
        if n == 0 || tokens.len() < n {
            return Vec::new();
        }
        (0..=tokens.len() - n)
            .filter(|&i| {
                self.words
                    .iter()
                    .enumerate()
                    .all(|(k, w)| tokens.norm(i + k) == w)
            })
            .map(|i| (i, i + n - 1))
            .collect()
    }
}

/// A cue with alternatives: `"idempotency key|idempotent|dedupe key"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cue {
    pub source: String,
    pub alternatives: Vec<Phrase>,
}

impl Cue {
    pub fn new(source: &str) -> Cue {
        Cue {
            source: source.to_string(),
            alternatives: source.split('|').filter_map(Phrase::new).collect(),
        }
    }

    /// First match of any alternative, as a token range.
    pub fn find_first(&self, tokens: &Tokens<'_>) -> Option<(usize, usize)> {
        self.alternatives
            .iter()
            .flat_map(|p| p.find_in(tokens))
            .min()
    }

    pub fn find_all(&self, tokens: &Tokens<'_>) -> Vec<(usize, usize)> {
        let mut all: Vec<_> = self
            .alternatives
            .iter()
            .flat_map(|p| p.find_in(tokens))
            .collect();
        all.sort_unstable();
        all.dedup();
        all
    }
}

/// Words too common to carry meaning; used for topical overlap.
pub fn is_stopword(norm: &str) -> bool {
    const STOP: &[&str] = &[
        "a",
        "an",
        "the",
        "and",
        "or",
        "but",
        "if",
        "then",
        "so",
        "of",
        "to",
        "in",
        "on",
        "at",
        "for",
        "with",
        "by",
        "from",
        "as",
        "is",
        "am",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "it",
        "its",
        "this",
        "that",
        "these",
        "those",
        "there",
        "here",
        "i",
        "we",
        "you",
        "he",
        "she",
        "they",
        "me",
        "us",
        "them",
        "my",
        "our",
        "your",
        "their",
        "his",
        "her",
        "do",
        "did",
        "does",
        "done",
        "have",
        "has",
        "had",
        "not",
        "no",
        "yes",
        "would",
        "will",
        "can",
        "could",
        "should",
        "shall",
        "may",
        "might",
        "must",
        "what",
        "which",
        "who",
        "when",
        "where",
        "why",
        "how",
        "all",
        "any",
        "some",
        "more",
        "most",
        "very",
        "just",
        "also",
        "about",
        "into",
        "out",
        "up",
        "down",
        "over",
        "than",
        "too",
        "one",
        "get",
        "got",
        "make",
        "made",
        "like",
        "really",
        "thing",
        "lot",
        "well",
        "um",
        "uh",
        "know",
        "think",
        "mean",
        "yeah",
        "okay",
        "ok",
        "let",
        "say",
        "said",
        "go",
        "went",
        "way",
        "because",
        "after",
        "before",
        "while",
        "each",
        "other",
        "such",
        "only",
        "own",
        "same",
        "both",
        "few",
        "many",
        "much",
        "again",
        "ever",
        "still",
        "even",
        "use",
        "us",
        "time",
        "work",
        "tell",
        "describe",
        "give",
        "example",
        "specific",
        "approach",
        "experience",
        "kind",
        "sort",
        "stuff",
        "something",
        "anything",
        "everything",
        "bit",
        "actually",
        "basically",
        "probably",
        "maybe",
        "sure",
        "right",
        "good",
        "great",
        "new",
    ];
    STOP.contains(&norm)
}

/// Stable FNV-1a 64-bit hash, for utterance ids that survive restarts (TTS cache keys).
pub fn fnv1a64(text: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.as_bytes() {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contractions_expand_and_share_the_span() {
        let t = Tokens::new("I don't know, I'd say");
        let norms: Vec<_> = t.tokens.iter().map(|t| t.norm.as_str()).collect();
        assert_eq!(norms, ["i", "do", "not", "know", "i", "would", "say"]);
        assert_eq!(t.span(1, 2).slice(t.text), "don't");
    }

    #[test]
    fn stems_meet() {
        assert_eq!(stem("indexes"), stem("index"));
        assert_eq!(stem("indexing"), stem("index"));
        assert_eq!(stem("queries"), stem("query"));
        assert_eq!(stem("retries"), stem("retry"));
        assert_eq!(stem("shipped"), stem("ship"));
        assert_eq!(stem("caches"), stem("cache"));
        assert_ne!(stem("status"), "statu");
    }

    #[test]
    fn numbers_keep_their_separators_and_spans_are_in_chars() {
        let t = Tokens::new("Größe: 10,000 req at 3.5 ms");
        let norms: Vec<_> = t.tokens.iter().map(|t| t.norm.as_str()).collect();
        assert_eq!(norms, ["größ", "10000", "req", "at", "3.5", "ms"]);
        let span = t.span(1, 1);
        assert_eq!(span, Span { start: 7, end: 13 });
        assert_eq!(span.slice(t.text), "10,000");
    }

    #[test]
    fn cue_alternatives_match_phrases() {
        let cue = Cue::new("idempotency key|idempotent");
        let t = Tokens::new("We made the endpoint idempotent using idempotency keys.");
        assert_eq!(cue.find_all(&t).len(), 2);
        assert!(Cue::new("circuit breaker")
            .find_first(&Tokens::new("no breakers here"))
            .is_none());
    }
}
