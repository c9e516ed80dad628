//! The languages an interview can be held in.
//!
//! Everything the interviewer says comes from a per-language catalogue
//! ([`crate::phrases`]), and everything it understands from a per-language lexicon
//! ([`crate::lexicon`]). A job names its language with a BCP 47 tag (`language.interview`);
//! only the primary subtag matters ("es-MX" is Spanish).

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    En,
    Es,
    De,
}

impl Lang {
    /// Every supported language, English first.
    pub const ALL: [Lang; 3] = [Lang::En, Lang::Es, Lang::De];

    /// The language of a BCP 47 tag by its primary subtag, case-insensitive ("es-MX" → Spanish);
    /// None for a language viva cannot interview in.
    pub fn from_tag(tag: &str) -> Option<Lang> {
        let primary = tag.trim().split(['-', '_']).next().unwrap_or("");
        Lang::ALL
            .into_iter()
            .find(|l| primary.eq_ignore_ascii_case(l.tag()))
    }

    /// The two-letter tag ("en", "es", "de").
    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Es => "es",
            Lang::De => "de",
        }
    }

    /// This language's name as said in `other` (Spanish named in German is "Spanisch").
    pub fn name_in(self, other: Lang) -> &'static str {
        match (other, self) {
            (Lang::En, Lang::En) => "English",
            (Lang::En, Lang::Es) => "Spanish",
            (Lang::En, Lang::De) => "German",
            (Lang::Es, Lang::En) => "inglés",
            (Lang::Es, Lang::Es) => "español",
            (Lang::Es, Lang::De) => "alemán",
            (Lang::De, Lang::En) => "Englisch",
            (Lang::De, Lang::Es) => "Spanisch",
            (Lang::De, Lang::De) => "Deutsch",
        }
    }

    /// The supported tags, for error messages ("en, es, de").
    pub fn supported_list() -> String {
        Lang::ALL
            .iter()
            .map(|l| l.tag())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.tag())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_read_by_their_primary_subtag() {
        assert_eq!(Lang::from_tag("es-MX"), Some(Lang::Es));
        assert_eq!(Lang::from_tag("DE"), Some(Lang::De));
        assert_eq!(Lang::from_tag("en_GB"), Some(Lang::En));
        assert_eq!(Lang::from_tag("fr"), None);
        assert_eq!(Lang::from_tag(""), None);
        assert_eq!(Lang::from_tag("eng"), None);
        for l in Lang::ALL {
            assert_eq!(Lang::from_tag(l.tag()), Some(l));
        }
    }

    #[test]
    fn names_are_said_in_each_language() {
        assert_eq!(Lang::Es.name_in(Lang::De), "Spanisch");
        assert_eq!(Lang::De.name_in(Lang::Es), "alemán");
        assert_eq!(Lang::En.name_in(Lang::En), "English");
        assert_eq!(
            serde_json::to_string(&Lang::Es).ok().as_deref(),
            Some("\"es\"")
        );
    }
}
