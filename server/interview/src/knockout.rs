//! Reading knockout answers: years of experience, time to start, yes/no, from digits and
//! number words in the interview's language.

use crate::job::KnockoutRule;
use crate::lang::Lang;
use crate::lexicon::{KnockoutWords, Lexicon};
use crate::text::{stem, Cue, Tokens};

/// What a knockout answer said, as the rule reads it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum KnockoutReading {
    Pass(Option<f32>),
    Fail(Option<f32>),
    Unclear,
}

/// Reads an English answer.
pub fn evaluate(rule: KnockoutRule, threshold: Option<f32>, answer: &str) -> KnockoutReading {
    evaluate_in(Lang::En, rule, threshold, answer)
}

/// Reads an answer given in `lang`.
pub fn evaluate_in(
    lang: Lang,
    rule: KnockoutRule,
    threshold: Option<f32>,
    answer: &str,
) -> KnockoutReading {
    let lex = Lexicon::of(lang);
    let tokens = Tokens::new(answer);
    match rule {
        KnockoutRule::Manual => KnockoutReading::Unclear,
        KnockoutRule::MinYears => match years(lex, &tokens) {
            Some(y) if y >= threshold.unwrap_or(0.0) => KnockoutReading::Pass(Some(y)),
            Some(y) => KnockoutReading::Fail(Some(y)),
            None => KnockoutReading::Unclear,
        },
        KnockoutRule::MaxWeeksToStart => match weeks_to_start(lex, &tokens) {
            Some(w) if w <= threshold.unwrap_or(f32::MAX) => KnockoutReading::Pass(Some(w)),
            Some(w) => KnockoutReading::Fail(Some(w)),
            None => KnockoutReading::Unclear,
        },
        KnockoutRule::MustConfirm => {
            let words = &lex.knockout;
            // "No problem" is not a no: negatives inside such phrases do not count, unless a
            // pause splits the phrase ("No, necesito patrocinio").
            let excused: Vec<(usize, usize)> = Cue::new(words.not_a_no)
                .find_all(&tokens)
                .into_iter()
                .filter(|&(a, b)| unbroken(&tokens, a, b))
                .collect();
            let no = Cue::new(words.no)
                .find_all(&tokens)
                .into_iter()
                .find(|(a, b)| !excused.iter().any(|(x, y)| x <= a && b <= y));
            let yes = Cue::new(words.yes)
                .find_first(&tokens)
                .or_else(|| excused.first().copied());
            match (yes, no) {
                (_, Some(_)) => KnockoutReading::Fail(None),
                (Some(_), None) => KnockoutReading::Pass(None),
                (None, None) => KnockoutReading::Unclear,
            }
        }
    }
}

/// Whether tokens `a..=b` are said without punctuation between them.
fn unbroken(tokens: &Tokens<'_>, a: usize, b: usize) -> bool {
    let (Some(first), Some(last)) = (tokens.tokens.get(a), tokens.tokens.get(b)) else {
        return false;
    };
    tokens
        .text
        .get(first.end..last.start.max(first.end))
        .is_some_and(|between| !between.contains([',', '.', ';', ':', '!', '?']))
}

fn value_of(words: &KnockoutWords, norm: &str) -> Option<f32> {
    // Tokens are stemmed ("nine" becomes "nin"), so compare stems.
    words
        .numbers
        .iter()
        .find(|(k, _)| stem(k) == norm)
        .map(|(_, v)| *v)
}

fn number_at(lex: &Lexicon, tokens: &Tokens<'_>, i: usize) -> Option<f32> {
    let word = tokens.norm(i);
    if let Ok(n) = word.trim_end_matches('+').parse::<f32>() {
        return n.is_finite().then_some(n);
    }
    let words = &lex.knockout;
    if lex.lang == Lang::En {
        // "one and a half": read from "half" back to its whole number.
        if word == "half" && i >= 3 && tokens.norm(i - 1) == "a" && tokens.norm(i - 2) == "and" {
            if let Some(whole) = value_of(words, tokens.norm(i - 3)) {
                return Some(whole + 0.5);
            }
        }
        let value = value_of(words, word)?;
        if tokens.norm(i + 1) == "and" && tokens.norm(i + 2) == "a" && tokens.norm(i + 3) == "half"
        {
            return Some(value + 0.5);
        }
        return Some(value);
    }
    // "zweieinhalb": a number word with "and a half" fused on.
    if !words.and_a_half_suffix.is_empty() {
        if let Some(whole) = word
            .strip_suffix(words.and_a_half_suffix)
            .and_then(|w| value_of(words, &stem(w)))
        {
            return Some(whole + 0.5);
        }
    }
    value_of(words, word)
}

/// "dos años y medio": the half named after the unit at `unit`.
fn half_after(lex: &Lexicon, tokens: &Tokens<'_>, unit: usize) -> f32 {
    let cue = lex.knockout.half_after_unit;
    if cue.is_empty() {
        return 0.0;
    }
    let starts_after_unit = Cue::new(cue)
        .find_all(tokens)
        .into_iter()
        .any(|(a, _)| a == unit + 1);
    if starts_after_unit {
        0.5
    } else {
        0.0
    }
}

/// Largest "N years" in the answer ("a decade" counts as ten).
fn years(lex: &Lexicon, tokens: &Tokens<'_>) -> Option<f32> {
    let words = &lex.knockout;
    let mut best: Option<f32> = None;
    for i in 0..tokens.len() {
        let unit = tokens.norm(i);
        let value = if lex.is(unit, words.year_units) {
            (1..=4)
                .filter_map(|back| i.checked_sub(back))
                .find_map(|j| number_at(lex, tokens, j))
                .map(|v| v + half_after(lex, tokens, i))
        } else if lex.is(unit, words.decade_units) {
            Some(10.0)
        } else {
            None
        };
        if let Some(v) = value {
            best = Some(best.map_or(v, |b: f32| b.max(v)));
        }
    }
    best
}

/// Weeks until the candidate could start: "immediately" is 0, "two weeks" 2, "a month" 4.3; the
/// longest duration mentioned wins (a notice period outlasts an earlier wish).
fn weeks_to_start(lex: &Lexicon, tokens: &Tokens<'_>) -> Option<f32> {
    if Cue::new(lex.knockout.immediately)
        .find_first(tokens)
        .is_some()
    {
        return Some(duration_weeks(lex, tokens).unwrap_or(0.0));
    }
    duration_weeks(lex, tokens)
}

fn duration_weeks(lex: &Lexicon, tokens: &Tokens<'_>) -> Option<f32> {
    let mut best: Option<f32> = None;
    for i in 0..tokens.len() {
        let norm = tokens.norm(i);
        let Some(per_unit) = lex
            .knockout
            .duration_units
            .iter()
            .find(|(u, _)| lex.is(norm, &[u]))
            .map(|(_, w)| *w)
        else {
            continue;
        };
        let count = (1..=3)
            .filter_map(|back| i.checked_sub(back))
            .find_map(|j| number_at(lex, tokens, j));
        // "next week", "a month", or a bare unit ("weeks") that implies at least one.
        let count = count.unwrap_or(1.0) + half_after(lex, tokens, i);
        let weeks = count * per_unit;
        best = Some(best.map_or(weeks, |b: f32| b.max(weeks)));
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn years_are_read() {
        let r = |s| evaluate(KnockoutRule::MinYears, Some(3.0), s);
        assert_eq!(
            r("About seven years, mostly Java and Go."),
            KnockoutReading::Pass(Some(7.0))
        );
        assert_eq!(
            r("I have 5+ years of backend work"),
            KnockoutReading::Pass(Some(5.0))
        );
        assert_eq!(
            r("Two years professionally, plus university projects"),
            KnockoutReading::Fail(Some(2.0))
        );
        assert_eq!(r("one and a half years"), KnockoutReading::Fail(Some(1.5)));
        assert_eq!(r("Quite a while, honestly"), KnockoutReading::Unclear);
    }

    #[test]
    fn start_dates_are_read() {
        let r = |s| evaluate(KnockoutRule::MaxWeeksToStart, Some(9.0), s);
        assert_eq!(
            r("I could start in three weeks."),
            KnockoutReading::Pass(Some(3.0))
        );
        assert_eq!(r("Immediately."), KnockoutReading::Pass(Some(0.0)));
        assert!(
            matches!(r("My notice period is four months."), KnockoutReading::Fail(Some(w)) if w > 17.0)
        );
        assert_eq!(r("Soon, I think"), KnockoutReading::Unclear);
    }

    #[test]
    fn confirmations_are_read() {
        let r = |s| evaluate(KnockoutRule::MustConfirm, None, s);
        assert_eq!(
            r("Yes, I am authorised to work in the EU."),
            KnockoutReading::Pass(None)
        );
        assert_eq!(
            r("No, I would need sponsorship."),
            KnockoutReading::Fail(None)
        );
        assert_eq!(r("Hmm."), KnockoutReading::Unclear);
    }

    #[test]
    fn spanish_number_words_are_read() {
        let years = |s| evaluate_in(Lang::Es, KnockoutRule::MinYears, Some(3.0), s);
        assert_eq!(
            years("Siete años, sobre todo con Java."),
            KnockoutReading::Pass(Some(7.0))
        );
        assert_eq!(
            years("Llevo unos seis años como desarrolladora backend."),
            KnockoutReading::Pass(Some(6.0))
        );
        assert_eq!(
            years("Dos años y medio en total."),
            KnockoutReading::Fail(Some(2.5))
        );
        assert_eq!(years("Un año y medio."), KnockoutReading::Fail(Some(1.5)));
        assert_eq!(years("Más de 5 años."), KnockoutReading::Pass(Some(5.0)));
        assert_eq!(years("Bastante tiempo."), KnockoutReading::Unclear);
        let start = |s| evaluate_in(Lang::Es, KnockoutRule::MaxWeeksToStart, Some(9.0), s);
        assert_eq!(start("Inmediatamente."), KnockoutReading::Pass(Some(0.0)));
        assert_eq!(start("De inmediato."), KnockoutReading::Pass(Some(0.0)));
        assert_eq!(start("En un mes."), KnockoutReading::Pass(Some(4.35)));
        assert!(matches!(
            start("Podría empezar en dos meses."),
            KnockoutReading::Pass(Some(w)) if (w - 8.7).abs() < 0.01
        ));
        assert_eq!(
            start("En tres semanas, más o menos."),
            KnockoutReading::Pass(Some(3.0))
        );
        assert!(matches!(
            start("Tengo un preaviso de cuatro meses."),
            KnockoutReading::Fail(Some(w)) if w > 17.0
        ));
        assert_eq!(start("Pronto, creo."), KnockoutReading::Unclear);
        let confirm = |s| evaluate_in(Lang::Es, KnockoutRule::MustConfirm, None, s);
        assert_eq!(
            confirm("Sí, tengo permiso de trabajo."),
            KnockoutReading::Pass(None)
        );
        assert_eq!(
            confirm("Sí, no necesito patrocinio."),
            KnockoutReading::Pass(None)
        );
        assert_eq!(
            confirm("No, necesitaría patrocinio."),
            KnockoutReading::Fail(None)
        );
        assert_eq!(
            confirm("No, necesito patrocinio."),
            KnockoutReading::Fail(None)
        );
    }

    #[test]
    fn german_number_words_are_read() {
        let years = |s| evaluate_in(Lang::De, KnockoutRule::MinYears, Some(3.0), s);
        assert_eq!(
            years("Sieben Jahre, überwiegend mit Go."),
            KnockoutReading::Pass(Some(7.0))
        );
        assert_eq!(
            years("Seit sechs Jahren arbeite ich im Backend."),
            KnockoutReading::Pass(Some(6.0))
        );
        assert_eq!(
            years("Zweieinhalb Jahre."),
            KnockoutReading::Fail(Some(2.5))
        );
        assert_eq!(years("Anderthalb Jahre."), KnockoutReading::Fail(Some(1.5)));
        assert_eq!(years("Ein Jahrzehnt."), KnockoutReading::Pass(Some(10.0)));
        let start = |s| evaluate_in(Lang::De, KnockoutRule::MaxWeeksToStart, Some(9.0), s);
        assert_eq!(start("Sofort."), KnockoutReading::Pass(Some(0.0)));
        assert_eq!(start("In zwei Wochen."), KnockoutReading::Pass(Some(2.0)));
        assert_eq!(start("In einem Monat."), KnockoutReading::Pass(Some(4.35)));
        assert_eq!(
            start("Ich kann einen Monat nach der Zusage anfangen."),
            KnockoutReading::Pass(Some(4.35))
        );
        assert!(matches!(
            start("Sofort, aber ich habe drei Monate Kündigungsfrist."),
            KnockoutReading::Fail(Some(w)) if w > 13.0
        ));
        let confirm = |s| evaluate_in(Lang::De, KnockoutRule::MustConfirm, None, s);
        assert_eq!(
            confirm("Ja, das ist kein Problem."),
            KnockoutReading::Pass(None)
        );
        assert_eq!(
            confirm("Nein, ich bräuchte ein Visum."),
            KnockoutReading::Fail(None)
        );
        assert_eq!(confirm("Hm."), KnockoutReading::Unclear);
    }
}
