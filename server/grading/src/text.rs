//! Tokenisation: text (or timed words) → tokens with stems, polarity and source positions.

use crate::lexicon::Lexicon;
use crate::{Lang, TimedWord};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A word that carries meaning; the only kind alignment looks at (with numbers).
    Content,
    Number,
    Stop,
    Negator,
    /// Sentence/clause punctuation: ends negation scope.
    Punct,
}

#[derive(Debug, Clone)]
pub(crate) struct Token {
    /// Lowercased word as written (after contraction splitting).
    pub surface: String,
    /// Lowercased word after neutralising names and gendered words.
    pub norm: String,
    pub stem: String,
    pub kind: Kind,
    /// Byte range in the analysed text.
    pub start: usize,
    pub end: usize,
    /// The content word sits in the scope of a negator.
    pub negated: bool,
    /// The word was a name or gendered word replaced by a neutral one.
    pub neutralized: bool,
    /// First letter was uppercase in the source.
    pub capitalized: bool,
    /// The token starts a sentence (first token, or after . ! ?).
    pub sentence_initial: bool,
}

impl Token {
    pub(crate) fn is_contentful(&self) -> bool {
        matches!(self.kind, Kind::Content | Kind::Number)
    }
}

/// An analysed piece of text: the text the byte ranges point into, and its tokens.
#[derive(Debug, Clone)]
pub(crate) struct Analysed {
    /// The language the text was read in.
    pub lang: Lang,
    pub text: String,
    pub tokens: Vec<Token>,
    /// For each timed word, its (start, end) byte range in `text` (empty without word times).
    pub word_spans: Vec<(usize, usize)>,
}

impl Analysed {
    pub(crate) fn content(&self) -> impl Iterator<Item = (usize, &Token)> {
        self.tokens
            .iter()
            .enumerate()
            .filter(|(_, t)| t.is_contentful())
    }
    pub(crate) fn content_count(&self) -> usize {
        self.tokens.iter().filter(|t| t.is_contentful()).count()
    }
}

/// Contractions written without an apostrophe (common in typed and transcribed answers).
const BARE_NEGATIVE_CONTRACTIONS: &[(&str, &str)] = &[
    ("dont", "do"),
    ("doesnt", "does"),
    ("didnt", "did"),
    ("isnt", "is"),
    ("arent", "are"),
    ("wasnt", "was"),
    ("werent", "were"),
    ("cant", "can"),
    ("wont", "will"),
    ("couldnt", "could"),
    ("shouldnt", "should"),
    ("wouldnt", "would"),
    ("hasnt", "has"),
    ("havent", "have"),
    ("hadnt", "had"),
    ("aint", "is"),
];

fn is_apostrophe(c: char) -> bool {
    c == '\'' || c == '\u{2019}'
}

/// Raw word pieces: (lowercased word, byte start, byte end, capitalised) and punctuation marks.
enum Piece {
    Word(String, usize, usize, bool),
    Punct(char, usize, usize),
}

fn split_pieces(text: &str) -> Vec<Piece> {
    let mut out = Vec::new();
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut i = 0;
    while i < chars.len() {
        let (b, c) = chars[i];
        if c.is_alphanumeric() {
            let start = b;
            let mut j = i + 1;
            while j < chars.len() {
                let cj = chars[j].1;
                let next_alnum = chars.get(j + 1).is_some_and(|(_, n)| n.is_alphanumeric());
                let keep = cj.is_alphanumeric()
                    // it's, don't: apostrophe inside a word
                    || (is_apostrophe(cj) && next_alnum)
                    // 1.5, 3,000: separators inside a number
                    || ((cj == '.' || cj == ',')
                        && chars[j - 1].1.is_ascii_digit()
                        && chars.get(j + 1).is_some_and(|(_, n)| n.is_ascii_digit()));
                if !keep {
                    break;
                }
                j += 1;
            }
            let end = chars.get(j).map_or(text.len(), |(e, _)| *e);
            let word = &text[start..end];
            let cap = c.is_uppercase();
            out.push(Piece::Word(word.to_lowercase(), start, end, cap));
            i = j;
        } else {
            if matches!(
                c,
                '.' | ',' | ';' | ':' | '!' | '?' | '(' | ')' | '"' | '\u{2014}'
            ) {
                out.push(Piece::Punct(c, b, b + c.len_utf8()));
            }
            i += 1;
        }
    }
    out
}

/// Split one lowercased word into token strings (English contractions become two tokens;
/// elsewhere an apostrophe is just dropped).
fn expand_word(w: &str, lang: Lang) -> Vec<String> {
    let w: String = w
        .chars()
        .map(|c| if is_apostrophe(c) { '\'' } else { c })
        .collect();
    if lang != Lang::En {
        return vec![w.replace('\'', "")];
    }
    if let Some(base) = w.strip_suffix("n't") {
        let base = match base {
            "ca" => "can",
            "wo" => "will",
            "sha" => "shall",
            other => other,
        };
        return vec![base.to_string(), "not".to_string()];
    }
    for (bare, base) in BARE_NEGATIVE_CONTRACTIONS {
        if w == *bare {
            return vec![base.to_string(), "not".to_string()];
        }
    }
    for (suf, extra) in [
        ("'ll", "will"),
        ("'d", "would"),
        ("'re", "are"),
        ("'m", "am"),
        ("'ve", "have"),
    ] {
        if let Some(base) = w.strip_suffix(suf) {
            return vec![base.to_string(), extra.to_string()];
        }
    }
    if let Some(base) = w.strip_suffix("'s") {
        return vec![base.to_string()];
    }
    vec![w.replace('\'', "")]
}

/// Spanish and German write "1.500" for fifteen hundred and "1,5" for one and a half: turn
/// that into the English form before [`canonical_number`]. A dot followed by groups of exactly
/// three digits is a thousands separator; any other dot, and every comma, is a decimal point.
fn continental_number(w: &str) -> String {
    let thousands = w.contains('.')
        && w.split('.').skip(1).all(|g| {
            let digits = g.split(',').next().unwrap_or_default();
            digits.len() == 3 && digits.chars().all(|c| c.is_ascii_digit())
        });
    let w = if thousands {
        w.replace('.', "")
    } else {
        w.to_string()
    };
    w.replace(',', ".")
}

fn canonical_number(w: &str) -> Option<String> {
    let cleaned: String = w.chars().filter(|c| *c != ',').collect();
    if cleaned.is_empty() || !cleaned.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return None;
    }
    if !cleaned.chars().next().is_some_and(|c| c.is_ascii_digit()) {
        return None;
    }
    // "1.50" and "1.5" are the same value; compare as trimmed strings, not floats, to stay exact.
    let s = if cleaned.contains('.') {
        cleaned
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string()
    } else {
        cleaned
    };
    let s = s.trim_start_matches('0');
    Some(if s.is_empty() || s.starts_with('.') {
        format!("0{s}")
    } else {
        s.to_string()
    })
}

/// Analyse a plain text.
pub(crate) fn analyse(lex: &Lexicon, text: &str) -> Analysed {
    let pieces = split_pieces(text);
    Analysed {
        lang: lex.lang,
        text: text.to_string(),
        tokens: tokens_from_pieces(lex, &pieces),
        word_spans: Vec::new(),
    }
}

/// Analyse timed words: the analysed text is the words joined by single spaces, and each token
/// remembers its word so evidence can cite audio times.
pub(crate) fn analyse_words(lex: &Lexicon, words: &[TimedWord]) -> Analysed {
    let mut text = String::new();
    let mut word_spans = Vec::with_capacity(words.len());
    for (i, w) in words.iter().enumerate() {
        if i > 0 {
            text.push(' ');
        }
        let s = text.len();
        text.push_str(w.text.trim());
        word_spans.push((s, text.len()));
    }
    let pieces = split_pieces(&text);
    let tokens = tokens_from_pieces(lex, &pieces);
    Analysed {
        lang: lex.lang,
        text,
        tokens,
        word_spans,
    }
}

fn tokens_from_pieces(lex: &Lexicon, pieces: &[Piece]) -> Vec<Token> {
    let mut toks: Vec<Token> = Vec::new();
    let mut sentence_start = true;
    for p in pieces {
        match p {
            Piece::Punct(c, s, e) => {
                toks.push(Token {
                    surface: c.to_string(),
                    norm: c.to_string(),
                    stem: c.to_string(),
                    kind: Kind::Punct,
                    start: *s,
                    end: *e,
                    negated: false,
                    neutralized: false,
                    capitalized: false,
                    sentence_initial: false,
                });
                if matches!(c, '.' | '!' | '?') {
                    sentence_start = true;
                }
            }
            Piece::Word(w, s, e, cap) => {
                for part in expand_word(w, lex.lang) {
                    if part.is_empty() {
                        continue;
                    }
                    let (norm, neutralized) = match lex.neutral(&part) {
                        Some(n) => (n.to_string(), true),
                        None => (part.clone(), false),
                    };
                    let number = if lex.lang == Lang::En {
                        canonical_number(&norm)
                    } else {
                        canonical_number(&continental_number(&norm))
                    };
                    let (kind, stem) = if let Some(n) = number {
                        (Kind::Number, n)
                    } else if let Some((_, d)) =
                        lex.words.number_words.iter().find(|(w, _)| *w == norm)
                    {
                        (Kind::Number, d.to_string())
                    } else if lex.is_negator(&norm) {
                        (Kind::Negator, norm.clone())
                    } else if lex.is_stop(&norm) {
                        (Kind::Stop, norm.clone())
                    } else {
                        (Kind::Content, lex.stem(&norm))
                    };
                    toks.push(Token {
                        surface: part,
                        norm,
                        stem,
                        kind,
                        start: *s,
                        end: *e,
                        negated: false,
                        neutralized,
                        capitalized: *cap,
                        sentence_initial: sentence_start,
                    });
                    sentence_start = false;
                }
            }
        }
    }
    // A lone "a" as a label is an English reading ("a" is a preposition in Spanish).
    if lex.lang == Lang::En {
        mark_identifiers(&mut toks);
    }
    mark_negation(lex, &mut toks);
    toks
}

/// A lone letter used as a label ("bulb A", "switches a and c") is content, not the article.
fn mark_identifiers(toks: &mut [Token]) {
    for i in 0..toks.len() {
        if toks[i].surface != "a" || toks[i].kind != Kind::Stop {
            continue;
        }
        let next = toks.get(i + 1);
        let label_like = (toks[i].capitalized && !toks[i].sentence_initial)
            || next.is_none_or(|n| n.kind == Kind::Punct || n.norm == "and" || n.norm == "or");
        if label_like {
            toks[i].kind = Kind::Content;
            toks[i].stem = "a".to_string();
        }
    }
}

/// A negator flips the next content word of its clause ("not connected", "no gap").
fn mark_negation(lex: &Lexicon, toks: &mut [Token]) {
    // Words a negation reaches through ("no longer connected", "not even close").
    let transparent = lex.words.transparent;
    let mut pending = false;
    for i in 0..toks.len() {
        let next_is_only = toks
            .get(i + 1)
            .is_some_and(|n| lex.words.not_only.contains(&n.norm.as_str()));
        let t = &mut toks[i];
        if pending && transparent.contains(&t.norm.as_str()) {
            continue;
        }
        match t.kind {
            // "not only X but Y" asserts X.
            Kind::Negator if next_is_only => pending = false,
            Kind::Negator => pending = true,
            Kind::Punct => pending = false,
            Kind::Content | Kind::Number if pending => {
                t.negated = true;
                pending = false;
            }
            _ => {
                if lex.is_break(&t.norm) {
                    pending = false;
                }
            }
        }
    }
}

/// Levenshtein distance, bounded: returns `max + 1` as soon as the distance exceeds `max`.
pub(crate) fn edit_distance_within(a: &str, b: &str, max: usize) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.len().abs_diff(b.len()) > max {
        return max + 1;
    }
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        cur[0] = i;
        let mut row_min = cur[0];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            row_min = row_min.min(cur[j]);
        }
        if row_min > max {
            return max + 1;
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contractions_negation_and_numbers() {
        let lex = Lexicon::new();
        let a = analyse(&lex, "Terminal 1 isn't connected, but 1.50 V is there.");
        let content: Vec<(&str, bool)> = a
            .content()
            .map(|(_, t)| (t.stem.as_str(), t.negated))
            .collect();
        assert_eq!(
            content,
            vec![
                ("termin", false),
                ("1", false),
                ("connect", true),
                ("1.5", false),
                ("v", false)
            ]
        );
    }

    #[test]
    fn labels_and_names() {
        let lex = Lexicon::new();
        let a = analyse(&lex, "Bulbs a and c. Maria said it");
        let content: Vec<&str> = a.content().map(|(_, t)| t.stem.as_str()).collect();
        assert_eq!(content, vec!["bulb", "a", "c"]);
        assert!(a.tokens.iter().any(|t| t.neutralized && t.norm == "person"));
    }

    #[test]
    fn timed_words_map_to_tokens() {
        let lex = Lexicon::new();
        let words = vec![
            TimedWord {
                text: "I".into(),
                start_ms: 0,
                end_ms: 100,
            },
            TimedWord {
                text: "didn't".into(),
                start_ms: 100,
                end_ms: 300,
            },
            TimedWord {
                text: "deploy.".into(),
                start_ms: 300,
                end_ms: 700,
            },
        ];
        let a = analyse_words(&lex, &words);
        assert_eq!(a.text, "I didn't deploy.");
        let dep = a
            .tokens
            .iter()
            .find(|t| t.norm == "deploy")
            .expect("deploy token");
        assert_eq!(a.word_spans[2], (9, 16));
        assert_eq!(&a.text[dep.start..dep.end], "deploy");
        assert!(dep.negated);
    }

    #[test]
    fn edit_distance() {
        assert_eq!(edit_distance_within("seperated", "separated", 1), 1);
        assert_eq!(edit_distance_within("abc", "xyz", 1), 2);
    }
}
