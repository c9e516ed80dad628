//! What the interviewer understands, per language: the word lists behind every reading of the
//! candidate's words (ready or not, repeat and rephrase requests, "I don't know", questions
//! back, past or hypothetical answers, hedges, numbers, knockout answers, the end of the
//! candidate's questions).
//!
//! Lists are cue strings (`|` between alternatives, matched on stemmed tokens, see
//! [`crate::text::Cue`]) or word lists matched against single tokens. English lists are
//! compared as written (they were tuned that way and English behaviour must not move); Spanish
//! and German lists are stemmed the same way as the answer before comparing.

use std::collections::HashSet;
use std::sync::OnceLock;

use crate::lang::Lang;
use crate::text::stem;

mod de;
mod en;
mod es;
pub mod tense;

/// Word lists for reading knockout answers.
#[derive(Debug)]
pub struct KnockoutWords {
    /// Number words and their values ("seven" 7, "a couple" 2, "half" 0.5).
    pub numbers: &'static [(&'static str, f32)],
    /// Words for a year of experience.
    pub year_units: &'static [&'static str],
    /// Words for ten years.
    pub decade_units: &'static [&'static str],
    /// Duration words and their length in weeks.
    pub duration_units: &'static [(&'static str, f32)],
    /// "Immediately": zero weeks unless a notice period is also named.
    pub immediately: &'static str,
    pub yes: &'static str,
    pub no: &'static str,
    /// Phrases with a negative word that are not a "no" ("no problem"); empty in English.
    pub not_a_no: &'static str,
    /// A half after the unit ("dos años y medio"); empty where the language puts it first.
    pub half_after_unit: &'static str,
    /// A suffix meaning "and a half" on a number word ("zweieinhalb"); empty where unused.
    pub and_a_half_suffix: &'static str,
}

/// Everything the engine needs to understand one language.
#[derive(Debug)]
pub struct Lexicon {
    pub lang: Lang,
    /// The candidate is not ready yet (at the greeting).
    pub not_ready: &'static str,
    pub rephrase: &'static str,
    pub repeat: &'static str,
    /// Words that open a question.
    pub interrogatives: &'static [&'static str],
    /// A question opened by a verb followed by one of these subjects ("do you", "können Sie").
    pub question_verbs: &'static [&'static str],
    pub question_subjects: &'static [&'static str],
    /// Two-word openers of a question ("por qué").
    pub question_openers: &'static [(&'static str, &'static str)],
    pub about_role: &'static str,
    pub clarify: &'static str,
    pub dont_know: &'static str,
    pub no_experience: &'static str,
    pub skip: &'static str,
    /// Number words that make an answer concrete (not "one": too common).
    pub number_words: &'static [&'static str],
    pub result_verbs: &'static str,
    pub star_situation: &'static str,
    pub star_task: &'static str,
    pub star_action: &'static str,
    pub star_result: &'static str,
    pub singular: &'static [&'static str],
    pub plural: &'static [&'static str],
    /// English: subjects followed by a past form; others use [`tense`].
    pub past_subjects: &'static [&'static str],
    pub irregular_past: &'static [&'static str],
    pub hypothetical: &'static str,
    pub past_situational: &'static str,
    pub hedges: &'static str,
    /// General software vocabulary (on the subject of engineering).
    pub tech_words: &'static str,
    /// Words that negate a mention of a knowledge area up to three words later.
    pub negators: &'static [&'static str],
    /// The same for skill and competency coverage.
    pub coverage_negators: &'static [&'static str],
    /// The candidate has no (more) questions.
    pub declines: &'static str,
    /// The candidate asks how they did.
    pub about_result: &'static str,
    /// A question's wording asks for a real example / for a view.
    pub expects_experience: &'static str,
    pub expects_opinion: &'static str,
    /// Function words and fillers ("um", "äh", "o sea"); English uses [`crate::text::is_stopword`].
    pub stopwords: &'static [&'static str],
    pub knockout: KnockoutWords,
}

impl Lexicon {
    pub fn of(lang: Lang) -> &'static Lexicon {
        match lang {
            Lang::En => &en::LEXICON,
            Lang::Es => &es::LEXICON,
            Lang::De => &de::LEXICON,
        }
    }

    /// Whether the token `norm` is one of `words` (English as written, others stemmed).
    pub fn is(&self, norm: &str, words: &[&str]) -> bool {
        match self.lang {
            Lang::En => words.contains(&norm),
            _ => words.iter().any(|w| *w == norm || stem(w) == norm),
        }
    }

    /// Whether the token `norm` carries no meaning of its own in this language.
    pub fn is_stopword(&self, norm: &str) -> bool {
        if self.lang == Lang::En {
            return crate::text::is_stopword(norm);
        }
        static SETS: OnceLock<[HashSet<String>; 3]> = OnceLock::new();
        let sets = SETS.get_or_init(|| {
            Lang::ALL.map(|l| {
                Lexicon::of(l)
                    .stopwords
                    .iter()
                    .flat_map(|w| crate::text::tokenize(w))
                    .map(|t| t.norm)
                    .collect()
            })
        });
        let i = Lang::ALL.iter().position(|l| *l == self.lang).unwrap_or(0);
        sets[i].contains(norm)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::{Cue, Tokens};

    #[test]
    fn every_cue_list_parses_into_phrases() {
        for lang in Lang::ALL {
            let l = Lexicon::of(lang);
            assert_eq!(l.lang, lang);
            for cue in [
                l.not_ready,
                l.rephrase,
                l.repeat,
                l.about_role,
                l.clarify,
                l.dont_know,
                l.no_experience,
                l.skip,
                l.result_verbs,
                l.star_situation,
                l.star_task,
                l.star_action,
                l.star_result,
                l.hypothetical,
                l.past_situational,
                l.hedges,
                l.tech_words,
                l.declines,
                l.about_result,
                l.expects_experience,
                l.expects_opinion,
                l.knockout.immediately,
                l.knockout.yes,
                l.knockout.no,
            ] {
                let c = Cue::new(cue);
                assert_eq!(
                    c.alternatives.len(),
                    cue.split('|').count(),
                    "{lang}: an empty alternative in {cue}"
                );
            }
        }
    }

    #[test]
    fn stopwords_and_fillers_are_known_per_language() {
        let es = Lexicon::of(Lang::Es);
        assert!(es.is_stopword(&stem("nuestros")));
        assert!(es.is_stopword("eh"));
        assert!(!es.is_stopword(&stem("índice")));
        let de = Lexicon::of(Lang::De);
        assert!(de.is_stopword("äh"));
        assert!(!de.is_stopword(&stem("datenbank")));
        let t = Tokens::new("Wir haben");
        assert!(de.is(t.norm(0), de.plural));
    }
}
