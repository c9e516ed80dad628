//! Whether the candidate asks to hold the interview in another language ("can we continue in
//! Spanish?", "¿podemos seguir en español?", "können wir auf Deutsch weitermachen?").
//!
//! Read in every supported language whatever the interview's current one, since a candidate
//! asks in the language they want. Mentioning a language is not asking for it ("I worked in
//! Spain", "hablo español e inglés"): a request is short, names the language after "in" / "en" /
//! "auf" (or after a verb of speaking), and asks ("can we", "prefiero", "lieber") to go on,
//! speak or answer; a few words ("Spanish, please", "auf Deutsch bitte") are enough alone.

use crate::lang::Lang;
use crate::text::{Cue, Tokens};

/// The language a candidate asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LanguageRequest {
    /// One viva can interview in.
    Supported(Lang),
    /// Another one, by its tag ("fr").
    Unsupported(&'static str),
}

impl LanguageRequest {
    pub fn tag(self) -> &'static str {
        match self {
            LanguageRequest::Supported(l) => l.tag(),
            LanguageRequest::Unsupported(t) => t,
        }
    }
}

/// Names of languages in English, Spanish and German.
const NAMES: &[(&str, &str)] = &[
    ("en", "english|inglés|ingles|englisch|englische"),
    (
        "es",
        "spanish|español|espanol|castellano|spanisch|spanische",
    ),
    ("de", "german|alemán|aleman|deutsch|deutsche"),
    ("fr", "french|francés|frances|französisch|französische"),
    ("it", "italian|italiano|italienisch|italienische"),
    (
        "pt",
        "portuguese|portugués|portugues|portugiesisch|portugiesische",
    ),
];

/// Words that put a language name as the language of the talk ("in", "en", "auf", "al").
const INTO: &[&str] = &["in", "into", "to", "en", "al", "a", "auf", "ins", "zu"];

/// Words that name the language being left ("from English", "en vez de inglés").
const FROM: &[&str] = &[
    "from", "of", "than", "instead", "de", "del", "von", "vom", "statt", "anstatt",
];

/// The candidate asks (a modal, a preference, "please").
const ASKS: &str = "can we|could we|may we|can i|could i|may i|is it possible|would it be possible|would you mind|i'd prefer|i would prefer|i prefer|i'd rather|i would rather|i'd like to|i would like to|let's|let us|please|podemos|podríamos|puedo|podría|prefiero|preferiría|me gustaría|quisiera|sería posible|es posible|por favor|le importa|te importa|mejor|können wir|könnten wir|kann ich|könnte ich|dürfen wir|darf ich|ist es möglich|wäre es möglich|lieber|bitte|würde gerne|möchte";

/// Going on, speaking or answering: what is asked for.
const TALK: &str = "continue|carry on|go on|keep going|go back|switch back|proceed|speak|talk|answer|respond|do this|do it|do the interview|have the interview|conduct|switch|change|volver|volvamos|regresar|seguir|sigamos|seguimos|continuar|continuemos|hablar|hablemos|hacer|hacerla|hacerlo|hagamos|cambiar|cambiemos|pasar|pasemos|responder|respondo|contestar|la entrevista|weitermachen|weiter|fortfahren|fortsetzen|sprechen|reden|machen|führen|wechseln|umstellen|zurück|zurückwechseln|antworten|das gespräch|das interview";

/// The language the candidate asks to continue in, if `text` is such a request.
pub fn language_request(text: &str) -> Option<LanguageRequest> {
    let tokens = Tokens::new(text);
    let words = tokens.len();
    if words == 0 || words > 20 {
        return None;
    }
    let short = words <= 4;
    let asks = Cue::new(ASKS).find_first(&tokens).is_some();
    let talks = Cue::new(TALK).find_all(&tokens);
    let asks_to_talk = asks && !talks.is_empty();
    if !short && !asks_to_talk {
        return None;
    }
    // The language must belong to the verb: "seguir en español", not "hablar de la documentación:
    // la escribí en inglés".
    let near_talk = |at: usize| {
        talks
            .iter()
            .any(|&(a, b)| (b < at && at - b <= 4) || (a > at && a - at <= 2))
    };
    let spoken_in = |at: usize| -> bool {
        let before = at.checked_sub(1).map(|i| tokens.norm(i)).unwrap_or("");
        if FROM.contains(&before) {
            return false;
        }
        let into = INTO.contains(&before);
        let talk_next_to = talks
            .iter()
            .any(|&(a, b)| b + 1 == at || b + 2 == at || a == at + 1);
        if short {
            // "En español.", "Spanish, please" — but not "I speak Spanish."
            return into || asks;
        }
        (into || talk_next_to) && near_talk(at)
    };
    let mut found: Vec<(usize, &'static str)> = NAMES
        .iter()
        .flat_map(|(tag, names)| {
            Cue::new(names)
                .find_all(&tokens)
                .into_iter()
                .map(move |(a, _)| (a, *tag))
        })
        .filter(|(at, _)| spoken_in(*at))
        .collect();
    found.sort_unstable();
    let (_, tag) = found.into_iter().next()?;
    Some(match Lang::from_tag(tag) {
        Some(l) => LanguageRequest::Supported(l),
        None => LanguageRequest::Unsupported(tag),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asked(text: &str) -> Option<&'static str> {
        language_request(text).map(LanguageRequest::tag)
    }

    #[test]
    fn requests_in_each_language_are_heard() {
        assert_eq!(asked("Can we continue in Spanish?"), Some("es"));
        assert_eq!(asked("Could we do this in German, please?"), Some("de"));
        assert_eq!(asked("¿Podemos seguir en español?"), Some("es"));
        assert_eq!(asked("Prefiero hablar en inglés."), Some("en"));
        assert_eq!(
            asked("¿Podríamos hacer la entrevista en alemán?"),
            Some("de")
        );
        assert_eq!(asked("Können wir auf Deutsch weitermachen?"), Some("de"));
        assert_eq!(asked("Ich würde gerne auf Englisch antworten."), Some("en"));
        assert_eq!(asked("Können wir lieber Deutsch sprechen?"), Some("de"));
        assert_eq!(asked("Spanish, please."), Some("es"));
        assert_eq!(asked("Auf Deutsch, bitte."), Some("de"));
        assert_eq!(asked("Can we switch from English to Spanish?"), Some("es"));
        assert_eq!(asked("Could we continue in French?"), Some("fr"));
        assert_eq!(asked("¿Podemos volver al español, por favor?"), Some("es"));
        assert_eq!(asked("Could we switch back to English?"), Some("en"));
        assert_eq!(
            asked("Können wir bitte zurück auf Deutsch wechseln?"),
            Some("de")
        );
    }

    #[test]
    fn mentioning_a_language_is_not_asking_for_it() {
        for text in [
            "I worked in Spain for three years.",
            "hablo español e inglés",
            "Hablo español e inglés con fluidez, y algo de alemán.",
            "I speak Spanish and English fluently.",
            "We wrote the documentation in English for our German customers, and I led that project.",
            "Trabajé en Alemania tres años con Kafka.",
            "Die Dokumentation war auf Englisch, das Team sprach Deutsch.",
            "Podemos hablar de la documentación: la escribí en inglés para el cliente.",
            "Can we talk about the project I did for our client in Germany and in German?",
            "Could you repeat the question?",
            "I have seven years of experience with Java and Go.",
            "I speak Spanish.",
        ] {
            assert_eq!(asked(text), None, "{text}");
        }
    }
}
