//! Text normalisation for scoring transcripts (English in depth, Spanish and German by case,
//! punctuation and fillers), and word error rate.
//!
//! The normaliser makes a reference and a hypothesis comparable the way Whisper's own English
//! normaliser does in spirit: case, punctuation, contractions, filler words, and numbers —
//! "ten" and "10", "fourteen fifty-five" and "1455", "one oh two" and "102" all become digit
//! sequences, compared digit by digit so the way a number is grouped never counts as an error.

/// Lowercases, expands contractions, drops punctuation and fillers, and rewrites numbers as
/// single digits. Returns the normalised words.
pub fn normalize(text: &str) -> Vec<String> {
    let mut s = text.to_lowercase().replace(['’', '‘', '`'], "'");
    for (from, to) in [
        ("won't", "will not"),
        ("can't", "can not"),
        ("cannot", "can not"),
        ("shan't", "shall not"),
        ("ain't", "is not"),
        ("n't", " not"),
        ("'re", " are"),
        ("'ll", " will"),
        ("'ve", " have"),
        ("'m", " am"),
        ("'d", " would"),
        ("%", " percent"),
        ("&", " and "),
        ("i.e.", "ie"),
        ("e.g.", "eg"),
    ] {
        s = s.replace(from, to);
    }
    let mut words: Vec<String> = Vec::new();
    let mut current = String::new();
    let chars: Vec<char> = s.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let keep = c.is_alphanumeric()
            // A comma or period between digits belongs to the number ("10,000", "3.5").
            || ((c == ',' || c == '.')
                && i > 0
                && chars[i - 1].is_ascii_digit()
                && chars.get(i + 1).is_some_and(|n| n.is_ascii_digit()));
        if keep {
            if c != ',' {
                current.push(c);
            }
        } else if c == '\'' {
            // possessive / remaining apostrophes: "john's" -> "johns"
        } else if !current.is_empty() {
            words.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        words.push(current);
    }
    words.retain(|w| {
        !matches!(
            w.as_str(),
            "um" | "umm" | "uh" | "uhm" | "hmm" | "mm" | "er" | "erm" | "ah"
        )
    });
    digits_everywhere(&numbers_to_digits(&words))
}

fn unit(w: &str) -> Option<u64> {
    Some(match w {
        "zero" => 0,
        "one" => 1,
        "two" => 2,
        "three" => 3,
        "four" => 4,
        "five" => 5,
        "six" => 6,
        "seven" => 7,
        "eight" => 8,
        "nine" => 9,
        "ten" => 10,
        "eleven" => 11,
        "twelve" => 12,
        "thirteen" => 13,
        "fourteen" => 14,
        "fifteen" => 15,
        "sixteen" => 16,
        "seventeen" => 17,
        "eighteen" => 18,
        "nineteen" => 19,
        _ => return None,
    })
}

fn tens(w: &str) -> Option<u64> {
    Some(match w {
        "twenty" => 20,
        "thirty" => 30,
        "forty" => 40,
        "fifty" => 50,
        "sixty" => 60,
        "seventy" => 70,
        "eighty" => 80,
        "ninety" => 90,
        _ => return None,
    })
}

fn is_numeric_word(w: &str) -> bool {
    unit(w).is_some() || tens(w).is_some() || w.chars().all(|c| c.is_ascii_digit() || c == '.')
}

/// Turns spelled numbers into digit strings. "ninety two" → "92", "one hundred and five" →
/// "105", "fourteen fifty five" → "14" "55" (year style), "oh" next to digits → "0".
fn numbers_to_digits(words: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let w = words[i].as_str();
        let prev_numeric = i > 0 && is_numeric_word(&words[i - 1]);
        let next_numeric = words.get(i + 1).is_some_and(|n| is_numeric_word(n));
        if (w == "oh" || w == "o") && (prev_numeric || next_numeric) {
            out.push("0".to_string());
            i += 1;
            continue;
        }
        if unit(w).is_none() && tens(w).is_none() {
            out.push(words[i].clone());
            i += 1;
            continue;
        }
        // Parse one number phrase.
        #[derive(PartialEq)]
        enum Last {
            Start,
            Tens,
            Complete,
        }
        let (mut total, mut group, mut last) = (0u64, 0u64, Last::Start);
        let mut j = i;
        while j < words.len() {
            let w = words[j].as_str();
            if let Some(t) = tens(w) {
                if last != Last::Start {
                    break; // "fourteen fifty": a new number starts
                }
                group += t;
                last = Last::Tens;
            } else if let Some(u) = unit(w) {
                match last {
                    Last::Tens if (1..10).contains(&u) => group += u,
                    Last::Start => group += u,
                    _ => break, // "one zero", "five five": separate numbers
                }
                last = Last::Complete;
            } else if w == "hundred" && last != Last::Start && (1..100).contains(&group) {
                group *= 100;
                last = Last::Start;
            } else if (w == "thousand" || w == "million") && last != Last::Start && group > 0 {
                total += group * if w == "thousand" { 1_000 } else { 1_000_000 };
                group = 0;
                last = Last::Start;
            } else if w == "and"
                && last == Last::Start
                && (group >= 100 || total > 0)
                && words
                    .get(j + 1)
                    .is_some_and(|n| unit(n).is_some() || tens(n).is_some())
            {
                // "one hundred and five"
            } else {
                break;
            }
            j += 1;
        }
        out.push((total + group).to_string());
        i = j.max(i + 1);
    }
    out
}

/// Splits every pure-digit token into single digits.
fn digits_everywhere(words: &[String]) -> Vec<String> {
    let mut out = Vec::with_capacity(words.len());
    for w in words {
        if w.len() > 1 && w.chars().all(|c| c.is_ascii_digit()) {
            out.extend(w.chars().map(|c| c.to_string()));
        } else {
            out.push(w.clone());
        }
    }
    out
}

/// Edit counts between a reference and a hypothesis word sequence.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct WordErrors {
    pub substitutions: usize,
    pub deletions: usize,
    pub insertions: usize,
    pub reference_words: usize,
}

impl WordErrors {
    pub fn errors(&self) -> usize {
        self.substitutions + self.deletions + self.insertions
    }

    /// Word error rate; an empty reference with no insertions is 0.
    pub fn wer(&self) -> f64 {
        if self.reference_words == 0 {
            return if self.insertions == 0 { 0.0 } else { 1.0 };
        }
        self.errors() as f64 / self.reference_words as f64
    }

    pub fn add(&mut self, other: WordErrors) {
        self.substitutions += other.substitutions;
        self.deletions += other.deletions;
        self.insertions += other.insertions;
        self.reference_words += other.reference_words;
    }
}

/// Levenshtein alignment over words.
pub fn word_errors<S: AsRef<str>>(reference: &[S], hypothesis: &[S]) -> WordErrors {
    let (n, m) = (reference.len(), hypothesis.len());
    // cost, subs, dels, ins
    let mut prev: Vec<(usize, usize, usize, usize)> = (0..=m).map(|j| (j, 0, 0, j)).collect();
    for i in 1..=n {
        let mut cur = vec![(i, 0, i, 0); m + 1];
        for j in 1..=m {
            let same = reference[i - 1].as_ref() == hypothesis[j - 1].as_ref();
            let diag = prev[j - 1];
            let sub = (
                diag.0 + usize::from(!same),
                diag.1 + usize::from(!same),
                diag.2,
                diag.3,
            );
            let del = (prev[j].0 + 1, prev[j].1, prev[j].2 + 1, prev[j].3);
            let ins = (
                cur[j - 1].0 + 1,
                cur[j - 1].1,
                cur[j - 1].2,
                cur[j - 1].3 + 1,
            );
            cur[j] = [sub, del, ins]
                .into_iter()
                .min_by_key(|c| c.0)
                .unwrap_or(sub);
        }
        prev = cur;
    }
    let (_, substitutions, deletions, insertions) = prev[m];
    WordErrors {
        substitutions,
        deletions,
        insertions,
        reference_words: n,
    }
}

/// The normaliser for a language other than English: case, punctuation (Spanish ¿¡ and
/// «» quotes, German „“ included) and filler words. Letters with accents are kept as they are
/// ("año" and "ano" are different words); numbers are compared as written.
pub fn normalize_in(text: &str, language: &str) -> Vec<String> {
    if language == "en" {
        return normalize(text);
    }
    let lower = text.to_lowercase();
    let mut words: Vec<String> = Vec::new();
    let mut current = String::new();
    let chars: Vec<char> = lower.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        // A separator between digits belongs to the number ("10.000", "3,5").
        let in_number = (c == ',' || c == '.')
            && i > 0
            && chars[i - 1].is_ascii_digit()
            && chars.get(i + 1).is_some_and(|n| n.is_ascii_digit());
        if c.is_alphanumeric() || in_number {
            if c != ',' && c != '.' {
                current.push(c);
            }
        } else if !current.is_empty() {
            words.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        words.push(current);
    }
    words.retain(|w| {
        !matches!(
            w.as_str(),
            "eh" | "ehm" | "em" | "mm" | "hmm" | "äh" | "ähm" | "öh" | "hm"
        )
    });
    words
}

/// [`text_errors`] with the normaliser of `language` ("en", "es", "de").
pub fn text_errors_in(reference: &str, hypothesis: &str, language: &str) -> WordErrors {
    word_errors(
        &normalize_in(reference, language),
        &normalize_in(hypothesis, language),
    )
}

/// Normalises both texts and counts word errors.
pub fn text_errors(reference: &str, hypothesis: &str) -> WordErrors {
    word_errors(&normalize(reference), &normalize(hypothesis))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> String {
        normalize(s).join(" ")
    }

    #[test]
    fn case_punctuation_and_contractions() {
        assert_eq!(n("Hello, World!  It's fine."), "hello world its fine");
        assert_eq!(n("I don't know; we won't."), "i do not know we will not");
        assert_eq!(n("\"lower-case\" letters"), "lower case letters");
        assert_eq!(n("Um, so, uh, yes"), "so yes");
    }

    #[test]
    fn numbers_match_digits() {
        assert_eq!(n("go forward ten meters"), n("Go forward 10 meters."));
        assert_eq!(
            n("forty-two line Bible of about fourteen fifty-five"),
            n("42-line Bible of about 1455")
        );
        assert_eq!(
            n("one zero zero zero one nine oh two one oh zero one eight zero three"),
            n("10001-90210-01803")
        );
        assert_eq!(n("one hundred and five"), "1 0 5");
        assert_eq!(n("ninety two"), "9 2");
        assert_eq!(n("twenty"), "2 0");
        assert_eq!(
            n("10,000 requests at 99.9%"),
            "1 0 0 0 0 requests at 99.9 percent"
        );
        assert_eq!(n("two thousand twenty six"), "2 0 2 6");
        assert_eq!(n("five five"), "5 5");
    }

    #[test]
    fn other_languages_keep_accents_and_drop_their_punctuation() {
        assert_eq!(
            normalize_in("¿Cierto? «Puede empoderar» a los alumnos, año 2002.", "es").join(" "),
            "cierto puede empoderar a los alumnos año 2002"
        );
        assert_eq!(
            normalize_in("Ähm, für die „besten“ Aussichten: 10.000 Männer", "de").join(" "),
            "für die besten aussichten 10000 männer"
        );
        // Spanish "o" (or) is a word, not the English "oh" read as a zero.
        assert_eq!(normalize_in("uno o dos", "es").join(" "), "uno o dos");
        assert_eq!(text_errors_in("año", "ano", "es").errors(), 1);
    }

    #[test]
    fn wer_counts_each_kind_of_error() {
        let e = word_errors(&["a", "b", "c", "d"], &["a", "x", "c", "d", "e"]);
        assert_eq!((e.substitutions, e.deletions, e.insertions), (1, 0, 1));
        assert!((e.wer() - 0.5).abs() < 1e-9);
        let e = word_errors(&["a", "b", "c"], &["c"]);
        assert_eq!(e.deletions, 2);
        assert_eq!(word_errors::<&str>(&[], &[]).wer(), 0.0);
        assert_eq!(word_errors(&[], &["x"]).wer(), 1.0);
        assert_eq!(
            text_errors(
                "Ask not what your country can do",
                "ask not what your country can do."
            )
            .errors(),
            0
        );
    }

    proptest::proptest! {
        #[test]
        fn normalize_never_panics(s in "\\PC{0,200}") {
            let _ = normalize(&s);
        }
    }
}
