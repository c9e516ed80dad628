//! Interview signals: how specific the answer is, whose work it describes, and whether it tells
//! of past experience or of what the candidate would do. Small self-contained heuristics; they
//! are reported beside the grade and never change it.

use serde::{Deserialize, Serialize};

use crate::lexicon::words;
use crate::text::{self, Analysed, Kind};
use crate::{round_to, Lang, Transcript};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Experience {
    /// Tells what happened ("we migrated", "I found").
    Past,
    /// Tells what the candidate would or could do.
    Hypothetical,
    /// Both, in comparable measure.
    Mixed,
    /// Neither: general statements.
    #[default]
    General,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InterviewSignals {
    /// 0–1: density of concrete details (numbers, units, named tools, identifiers).
    pub specificity: f64,
    /// Up to ten of the concrete details found, in order of appearance.
    pub specifics: Vec<String>,
    /// 0–1: share of "I/my" among "I/my" and "we/our" (0 when neither occurs).
    pub ownership: f64,
    pub first_person_singular: u32,
    pub first_person_plural: u32,
    pub experience: Experience,
    pub past_markers: u32,
    pub hypothetical_markers: u32,
}

/// Interview signals of a transcript (word times are not needed), read in its language:
/// English unless it is clearly Spanish or German.
pub fn interview_signals(answer: &Transcript) -> InterviewSignals {
    let lang = if answer.words.is_empty() {
        Lang::detect_or_english(&answer.text)
    } else {
        let joined: Vec<&str> = answer.words.iter().map(|w| w.text.as_str()).collect();
        Lang::detect_or_english(&joined.join(" "))
    };
    interview_signals_in(answer, lang)
}

/// Interview signals of a transcript read in `lang`.
pub fn interview_signals_in(answer: &Transcript, lang: Lang) -> InterviewSignals {
    let lex = crate::Grader::shared().lexicon(lang);
    let a = if answer.words.is_empty() {
        text::analyse(lex, &answer.text)
    } else {
        text::analyse_words(lex, &answer.words)
    };
    from_tokens(&a)
}

/// Whose work a word tells of: +1 first person singular, -1 plural, 0 neither. Spanish drops
/// the pronoun, so its first-person verb endings count too ("diseñé", "añadí"; "versionamos").
fn person(lang: Lang, s: &str) -> i8 {
    let w = words(lang);
    if w.singular.contains(&s) {
        return 1;
    }
    if w.plural.contains(&s) {
        return -1;
    }
    if lang == Lang::Es && s.chars().count() > 3 && !w.not_past.contains(&s) {
        if s.ends_with('é') || s.ends_with('í') {
            return 1;
        }
        const NOT_VERBS: &[&str] = &["últimos", "mínimos", "máximos", "próximos", "óptimos"];
        if ["amos", "emos", "imos"].iter().any(|e| s.ends_with(e)) && !NOT_VERBS.contains(&s) {
            return -1;
        }
    }
    0
}

/// Past tense or a time in the past ("migrated", "añadí", "tardaba", "habe … gebaut").
fn is_past(lang: Lang, s: &str) -> bool {
    let w = words(lang);
    if w.past.contains(&s) {
        return true;
    }
    let n = s.chars().count();
    match lang {
        Lang::En => s.len() > 4 && s.ends_with("ed") && !w.not_past.contains(&s),
        Lang::Es => {
            if n <= 3 || w.not_past.contains(&s) || is_conditional_es(s) {
                return false;
            }
            // Preterite (-é, -í, -ó, -aron, -ieron) and imperfect (-aba, -íamos) endings; a
            // bare "-ía" is left out, it ends too many nouns ("tecnología", "librería").
            [
                "é", "í", "ó", "aron", "ieron", "aba", "abas", "ábamos", "aban", "íamos",
            ]
            .iter()
            .any(|e| s.ends_with(e))
        }
        Lang::De => {
            if n <= 5 || w.not_past.contains(&s) {
                return false;
            }
            // Participles: ge…t / ge…en, after a separable prefix too ("hinzugefügt");
            // -ierte(n) preterites ("migrierte").
            const PREFIXES: &[&str] = &[
                "", "ab", "an", "auf", "aus", "ein", "hinzu", "um", "zu", "vor", "nach", "mit",
                "zurück", "weiter", "fest", "um",
            ];
            let participle = PREFIXES.iter().any(|p| {
                s.strip_prefix(p)
                    .and_then(|r| r.strip_prefix("ge"))
                    .is_some_and(|r| {
                        r.chars().count() >= 3 && (r.ends_with('t') || r.ends_with("en"))
                    })
            });
            participle || s.ends_with("ierte") || s.ends_with("ierten")
        }
    }
}

/// Spanish conditional ("haría", "usaríamos"): what the candidate would do.
fn is_conditional_es(s: &str) -> bool {
    s.chars().count() > 4
        && ["ría", "rías", "ríamos", "rían"]
            .iter()
            .any(|e| s.ends_with(e))
}

fn is_hypothetical(lang: Lang, s: &str) -> bool {
    words(lang).hypothetical.contains(&s) || (lang == Lang::Es && is_conditional_es(s))
}

pub(crate) fn from_tokens(a: &Analysed) -> InterviewSignals {
    let lang = a.lang;
    let units = words(lang).signal_units;
    let words: Vec<&text::Token> = a.tokens.iter().filter(|t| t.kind != Kind::Punct).collect();
    let n = words.len();
    let mut specifics: Vec<String> = Vec::new();
    let mut n_specific = 0usize;
    let mut i_count = 0u32;
    let mut we_count = 0u32;
    let mut past = 0u32;
    let mut hyp = 0u32;
    for t in &words {
        // The neutralised form: a name ending in "-ed" must not read as a past-tense verb.
        let s = t.norm.as_str();
        let has_digit = s.chars().any(|c| c.is_ascii_digit());
        let has_alpha = s.chars().any(|c| c.is_alphabetic());
        // A capitalised word inside a sentence is usually a product, tool or place; neutralised
        // names are excluded so that who is mentioned cannot change the signal.
        // German capitalises every noun, so there only a capital inside the word marks a name
        // ("PostgreSQL", "OpenTelemetry", "API").
        let inner_capital = || {
            a.text[t.start..t.end]
                .chars()
                .skip(1)
                .any(|c| c.is_uppercase())
        };
        let proper = t.capitalized
            && !t.sentence_initial
            && !t.neutralized
            && s != "i"
            && t.kind == Kind::Content
            && s.chars().count() > 1
            && (lang != Lang::De || inner_capital());
        let specific =
            t.kind == Kind::Number || (has_digit && has_alpha) || proper || units.contains(&s);
        if specific {
            n_specific += 1;
            if specifics.len() < 10 {
                specifics.push(a.text[t.start..t.end].to_string());
            }
        }
        match person(lang, s) {
            1 => i_count += 1,
            -1 => we_count += 1,
            _ => {}
        }
        if is_past(lang, s) {
            past += 1;
        }
        if is_hypothetical(lang, s) {
            hyp += 1;
        }
    }
    let per20 = if n > 0 {
        n_specific as f64 * 20.0 / n as f64
    } else {
        0.0
    };
    let experience = if past >= 2 && past >= 2 * hyp {
        Experience::Past
    } else if hyp >= 2 && hyp >= 2 * past {
        Experience::Hypothetical
    } else if past + hyp >= 2 {
        Experience::Mixed
    } else {
        Experience::General
    };
    InterviewSignals {
        specificity: round_to(1.0 - (-0.7 * per20).exp(), 2),
        specifics,
        ownership: if i_count + we_count > 0 {
            round_to(f64::from(i_count) / f64::from(i_count + we_count), 2)
        } else {
            0.0
        },
        first_person_singular: i_count,
        first_person_plural: we_count,
        experience,
        past_markers: past,
        hypothetical_markers: hyp,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn past_owned_specific_answer() {
        let s = interview_signals(&Transcript::from_text(
            "Last year I migrated our billing service to PostgreSQL 15 and cut p99 latency by 40 percent.",
        ));
        assert_eq!(s.experience, Experience::Past);
        assert!(s.specificity > 0.7, "{s:?}");
        assert!(s.ownership > 0.4);
    }

    #[test]
    fn hypothetical_vague_answer() {
        let s = interview_signals(&Transcript::from_text(
            "I would probably add some caching and we could maybe look at the queries if it is slow.",
        ));
        assert_eq!(s.experience, Experience::Hypothetical);
        assert!(s.specificity < 0.3, "{s:?}");
    }
}
