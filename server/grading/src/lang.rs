//! The languages the grader reads: English, Spanish and German.
//!
//! Tags are the ones of `viva_interview::Lang` ("en", "es", "de"), so a caller that knows the
//! language of an answer (the interview's, or the one in force after a recorded switch) maps it
//! with [`Lang::from_tag`]. Without one, [`Lang::detect`] guesses from function words; it only
//! leaves English when another language clearly dominates, so English text always stays English.

use serde::{Deserialize, Serialize};

#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    En,
    Es,
    De,
}

/// Function words that say which language a text is in. Words shared by two of the languages
/// ("in", "was", "es", "no", "a", "me", "so", "also", "die" is kept: it is rare as an English
/// word in answers) are left out so that they cannot tip the balance.
const EN_MARKERS: &[&str] = &[
    "the", "and", "is", "are", "were", "of", "to", "that", "it", "we", "i", "with", "for", "this",
    "have", "has", "not", "but", "would", "our", "my", "they", "on", "be", "you", "what", "which",
    "because", "from", "an", "at", "by", "or", "will", "if",
];
const ES_MARKERS: &[&str] = &[
    "el", "la", "los", "las", "que", "y", "de", "en", "un", "una", "por", "para", "con", "del",
    "al", "se", "lo", "su", "sus", "como", "pero", "más", "muy", "nosotros", "yo", "fue", "era",
    "porque", "también", "está", "son", "hay", "mi", "cuando", "donde", "qué", "sin", "ya", "unos",
    "unas", "nuestro", "nuestra", "esto", "esta", "este", "sí",
];
const DE_MARKERS: &[&str] = &[
    "der", "die", "das", "und", "ist", "nicht", "mit", "ein", "eine", "ich", "wir", "auf", "für",
    "zu", "den", "dem", "des", "sie", "von", "bei", "auch", "wie", "aber", "noch", "nur", "oder",
    "wenn", "weil", "dass", "haben", "hat", "wurde", "war", "sind", "im", "zum", "zur", "einen",
    "einem", "einer", "kein", "keine", "unser", "unsere", "habe",
];

impl Lang {
    /// The language of a BCP 47 tag's primary subtag ("es", "es-ES", "de_DE"), if it is one of
    /// the grader's.
    pub fn from_tag(tag: &str) -> Option<Lang> {
        let primary = tag
            .split(['-', '_'])
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        match primary.as_str() {
            "en" => Some(Lang::En),
            "es" => Some(Lang::Es),
            "de" => Some(Lang::De),
            _ => None,
        }
    }

    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Es => "es",
            Lang::De => "de",
        }
    }

    /// The language's English name, for reports ("not assessed in German").
    pub fn name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::Es => "Spanish",
            Lang::De => "German",
        }
    }

    pub fn is_english(&self) -> bool {
        *self == Lang::En
    }

    /// Spanish or German when that language's function words clearly dominate the text (at
    /// least three, and more than twice those of each other language); `None` otherwise.
    /// English never needs to be detected: it is the default, so that English behaviour cannot
    /// change with the detector.
    pub fn detect(text: &str) -> Option<Lang> {
        Lang::detect_any(text).filter(|l| *l != Lang::En)
    }

    /// The language whose function words clearly dominate the text, English included; `None`
    /// when none does (too short, mixed, or only names and numbers).
    pub fn detect_any(text: &str) -> Option<Lang> {
        let lower = text.to_lowercase();
        let (mut en, mut es, mut de) = (0usize, 0usize, 0usize);
        for w in lower
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
        {
            en += usize::from(EN_MARKERS.contains(&w));
            es += usize::from(ES_MARKERS.contains(&w));
            de += usize::from(DE_MARKERS.contains(&w));
        }
        let clear = |n: usize, a: usize, b: usize| n >= 3 && n > 2 * a && n > 2 * b;
        if clear(es, en, de) {
            Some(Lang::Es)
        } else if clear(de, en, es) {
            Some(Lang::De)
        } else if clear(en, es, de) {
            Some(Lang::En)
        } else {
            None
        }
    }

    /// [`Lang::detect`], else English.
    pub fn detect_or_english(text: &str) -> Lang {
        Lang::detect(text).unwrap_or(Lang::En)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_round_trip_and_regions_are_ignored() {
        for l in [Lang::En, Lang::Es, Lang::De] {
            assert_eq!(Lang::from_tag(l.tag()), Some(l));
        }
        assert_eq!(Lang::from_tag("es-MX"), Some(Lang::Es));
        assert_eq!(Lang::from_tag("de_AT"), Some(Lang::De));
        assert_eq!(Lang::from_tag("fr"), None);
    }

    #[test]
    fn detection_is_clear_or_nothing() {
        assert_eq!(
            Lang::detect("Diseñé la API de reservas y la versionamos en la URL con OpenAPI."),
            Some(Lang::Es)
        );
        assert_eq!(
            Lang::detect("Ich habe die Abfrage mit EXPLAIN analysiert und einen Index angelegt."),
            Some(Lang::De)
        );
        assert_eq!(
            Lang::detect("I added an index on the user_id column and the query got faster."),
            None
        );
        assert_eq!(Lang::detect("OpenAPI, Kafka, PostgreSQL"), None);
    }
}
