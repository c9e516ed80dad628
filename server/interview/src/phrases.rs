//! The interviewer's fixed phrases, per language, resolved per job against its topic guard.
//!
//! The wordings live in one catalogue per language (`data/phrases/{en,es,de}.toml`, embedded
//! and parsed once). Each phrase has plainer fallbacks; a phrase whose every wording touches a
//! banned term is left out (the engine then skips that utterance), so nothing the engine says
//! can break the job's rules. Acknowledgements are neutral on purpose: they never hint at a
//! score.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use crate::guard::TopicGuard;
use crate::job::{JobConfig, KnockoutRule};
use crate::lang::Lang;

const EN: &str = include_str!("../data/phrases/en.toml");
const ES: &str = include_str!("../data/phrases/es.toml");
const DE: &str = include_str!("../data/phrases/de.toml");

/// One language's wordings: key → wordings, the preferred one first.
pub type Catalogue = BTreeMap<String, Vec<String>>;

/// The keys of every catalogue.
pub const KEYS: &[&str] = &[
    "greeting",
    "begin",
    "not_ready",
    "thanks",
    "move_on_after_non_answer",
    "move_on_for_time",
    "redirect",
    "rephrase_intro",
    "clarify",
    "defer_role_question",
    "probe_example",
    "probe_past_example",
    "probe_specifics",
    "probe_detail",
    "reprompt_silence",
    "clarify_years",
    "clarify_start",
    "clarify_confirm",
    "language_intro",
    "invite_questions",
    "more_questions",
    "question_noted",
    "score_declined",
    "banned_deferred",
    "closing",
    "end_for_silence",
    "skill_question",
    "language_switched",
    "language_declined",
    "list_or",
    "language_prompts",
];

/// The source text of `lang`'s catalogue.
pub fn catalogue_source(lang: Lang) -> &'static str {
    match lang {
        Lang::En => EN,
        Lang::Es => ES,
        Lang::De => DE,
    }
}

/// `lang`'s catalogue, parsed once. The tests parse and check every one, so a failure is a
/// build defect.
pub fn catalogue(lang: Lang) -> &'static Catalogue {
    static ALL: OnceLock<[Catalogue; 3]> = OnceLock::new();
    let all = ALL.get_or_init(|| {
        Lang::ALL.map(|l| match toml::from_str(catalogue_source(l)) {
            Ok(c) => c,
            Err(e) => panic!(
                "the embedded phrase catalogue is invalid (a bug in data/phrases/{l}.toml): {e}"
            ),
        })
    });
    let i = Lang::ALL.iter().position(|l| *l == lang).unwrap_or(0);
    &all[i]
}

/// The wordings of `key` in `lang` (empty when the catalogue lacks it).
pub fn wordings(lang: Lang, key: &str) -> &'static [String] {
    catalogue(lang).get(key).map(Vec::as_slice).unwrap_or(&[])
}

/// Replaces each `{name}` of `template` with its value, in one pass (a value that contains
/// braces is not read again).
pub fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let hit = after.find('}').and_then(|close| {
            let name = &after[..close];
            values
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (close, *v))
        });
        match hit {
            Some((close, value)) => {
                out.push_str(value);
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The `{placeholders}` of a wording, in order.
pub fn placeholders(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) => {
                out.push(after[..close].to_string());
                rest = &after[close + 1..];
            }
            None => break,
        }
    }
    out
}

/// `langs` named in `lang` as a list ("English or Spanish", "inglés o español").
pub fn language_list(lang: Lang, langs: &[Lang]) -> String {
    let names: Vec<&str> = langs.iter().map(|l| l.name_in(lang)).collect();
    let or = wordings(lang, "list_or")
        .first()
        .map(String::as_str)
        .unwrap_or(" / ");
    match names.split_last() {
        None => String::new(),
        Some((last, [])) => last.to_string(),
        Some((last, head)) => format!("{}{or}{last}", head.join(", ")),
    }
}

/// The phrases of one interview in one language, each the first wording the guard allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phrases {
    /// The language they are in.
    pub lang: Lang,
    pub greeting: Option<String>,
    pub begin: Option<String>,
    pub not_ready: Option<String>,
    pub thanks: Option<String>,
    pub move_on_after_non_answer: Option<String>,
    pub move_on_for_time: Option<String>,
    pub redirect: Option<String>,
    pub rephrase_intro: Option<String>,
    pub clarify: Option<String>,
    pub defer_role_question: Option<String>,
    pub probe_example: Option<String>,
    pub probe_past_example: Option<String>,
    pub probe_specifics: Option<String>,
    pub probe_detail: Option<String>,
    pub reprompt_silence: Option<String>,
    pub clarify_years: Option<String>,
    pub clarify_start: Option<String>,
    pub clarify_confirm: Option<String>,
    pub language_intro: Option<String>,
    pub invite_questions: Option<String>,
    pub more_questions: Option<String>,
    pub question_noted: Option<String>,
    pub score_declined: Option<String>,
    pub banned_deferred: Option<String>,
    pub closing: Option<String>,
    pub end_for_silence: Option<String>,
    /// "Let's continue in Spanish", said in the language switched to; None when the job allows
    /// no switch into this language.
    pub language_switched: Option<String>,
    /// A polite refusal naming the languages the job allows.
    pub language_declined: Option<String>,
}

fn pick(guard: &TopicGuard, options: impl IntoIterator<Item = String>) -> Option<String> {
    options.into_iter().find(|o| guard.allows(o))
}

impl Phrases {
    /// The phrases in the job's interview language.
    pub fn for_job(job: &JobConfig, guard: &TopicGuard) -> Phrases {
        Phrases::for_job_in(job, guard, job.interview_lang())
    }

    /// The phrases in `lang`.
    pub fn for_job_in(job: &JobConfig, guard: &TopicGuard, lang: Lang) -> Phrases {
        // With extra time the candidate is told the time they actually have.
        let minutes = (job
            .accommodations
            .stretch_ms(u64::from(job.duration_minutes) * 60_000)
            / 60_000)
            .to_string();
        let allowed = job.allowed_langs();
        let allowed_names = language_list(lang, &allowed);
        let values = [
            ("title", job.title.trim()),
            ("minutes", minutes.as_str()),
            ("allowed", allowed_names.as_str()),
        ];
        let p = |key: &str| pick(guard, wordings(lang, key).iter().map(|w| fill(w, &values)));
        let switchable = allowed.len() > 1 && allowed.contains(&lang);
        Phrases {
            lang,
            greeting: p("greeting"),
            begin: p("begin"),
            not_ready: p("not_ready"),
            thanks: p("thanks"),
            move_on_after_non_answer: p("move_on_after_non_answer"),
            move_on_for_time: p("move_on_for_time"),
            redirect: p("redirect"),
            rephrase_intro: p("rephrase_intro"),
            clarify: p("clarify"),
            defer_role_question: p("defer_role_question"),
            probe_example: p("probe_example"),
            probe_past_example: p("probe_past_example"),
            probe_specifics: p("probe_specifics"),
            probe_detail: p("probe_detail"),
            reprompt_silence: p("reprompt_silence"),
            clarify_years: p("clarify_years"),
            clarify_start: p("clarify_start"),
            clarify_confirm: p("clarify_confirm"),
            language_intro: p("language_intro"),
            invite_questions: p("invite_questions"),
            more_questions: p("more_questions"),
            question_noted: p("question_noted"),
            score_declined: p("score_declined"),
            banned_deferred: p("banned_deferred"),
            closing: p("closing"),
            end_for_silence: p("end_for_silence"),
            language_switched: if switchable {
                p("language_switched")
            } else {
                None
            },
            language_declined: p("language_declined"),
        }
    }

    pub fn knockout_clarification(&self, rule: KnockoutRule) -> Option<&String> {
        match rule {
            KnockoutRule::MinYears => self.clarify_years.as_ref(),
            KnockoutRule::MaxWeeksToStart => self.clarify_start.as_ref(),
            KnockoutRule::MustConfirm => self.clarify_confirm.as_ref(),
            KnockoutRule::Manual => None,
        }
    }

    /// Every phrase with its catalogue key.
    pub fn entries(&self) -> [(&'static str, &Option<String>); 28] {
        [
            ("greeting", &self.greeting),
            ("begin", &self.begin),
            ("not_ready", &self.not_ready),
            ("thanks", &self.thanks),
            ("move_on_after_non_answer", &self.move_on_after_non_answer),
            ("move_on_for_time", &self.move_on_for_time),
            ("redirect", &self.redirect),
            ("rephrase_intro", &self.rephrase_intro),
            ("clarify", &self.clarify),
            ("defer_role_question", &self.defer_role_question),
            ("probe_example", &self.probe_example),
            ("probe_past_example", &self.probe_past_example),
            ("probe_specifics", &self.probe_specifics),
            ("probe_detail", &self.probe_detail),
            ("reprompt_silence", &self.reprompt_silence),
            ("clarify_years", &self.clarify_years),
            ("clarify_start", &self.clarify_start),
            ("clarify_confirm", &self.clarify_confirm),
            ("language_intro", &self.language_intro),
            ("invite_questions", &self.invite_questions),
            ("more_questions", &self.more_questions),
            ("question_noted", &self.question_noted),
            ("score_declined", &self.score_declined),
            ("banned_deferred", &self.banned_deferred),
            ("closing", &self.closing),
            ("end_for_silence", &self.end_for_silence),
            ("language_switched", &self.language_switched),
            ("language_declined", &self.language_declined),
        ]
    }

    /// The catalogue key of `text`, when it is one of these phrases.
    pub fn key_of(&self, text: &str) -> Option<&'static str> {
        self.entries()
            .into_iter()
            .find(|(_, v)| v.as_deref() == Some(text))
            .map(|(k, _)| k)
    }

    /// The phrase of `key`.
    pub fn get(&self, key: &str) -> Option<&String> {
        self.entries()
            .into_iter()
            .find(|(k, _)| *k == key)
            .and_then(|(_, v)| v.as_ref())
    }

    /// Every phrase, for the TTS cache.
    pub fn all(&self) -> Vec<&String> {
        self.entries()
            .into_iter()
            .filter_map(|(_, v)| v.as_ref())
            .collect()
    }
}

/// A question about a skill that has no bank concept, in English.
pub fn skill_question(skill: &str) -> String {
    skill_question_in(Lang::En, skill)
}

/// A question about a skill in `lang` (the catalogue's first wording).
pub fn skill_question_in(lang: Lang, skill: &str) -> String {
    wordings(lang, "skill_question")
        .first()
        .map(|w| fill(w, &[("skill", skill.trim())]))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_has_every_key_with_the_same_placeholders() {
        let en = catalogue(Lang::En);
        for lang in Lang::ALL {
            let c = catalogue(lang);
            let keys: Vec<&str> = c.keys().map(String::as_str).collect();
            let mut expected: Vec<&str> = KEYS.to_vec();
            expected.sort_unstable();
            assert_eq!(keys, expected, "{lang}: keys");
            for key in KEYS.iter().filter(|k| **k != "language_prompts") {
                let (ours, english) = (&c[*key], &en[*key]);
                assert!(!ours.is_empty(), "{lang}.{key} has no wording");
                assert_eq!(
                    ours.len(),
                    english.len(),
                    "{lang}.{key}: number of wordings"
                );
                for (i, (a, b)) in ours.iter().zip(english).enumerate() {
                    assert_eq!(
                        placeholders(a),
                        placeholders(b),
                        "{lang}.{key}[{i}]: placeholders"
                    );
                    assert!(!a.trim().is_empty(), "{lang}.{key}[{i}] is empty");
                }
            }
        }
        // English prompts are the bank's; the others bring their own.
        assert!(en["language_prompts"].is_empty());
        assert!(catalogue(Lang::Es)["language_prompts"].len() >= 4);
        assert!(catalogue(Lang::De)["language_prompts"].len() >= 4);
    }

    #[test]
    fn no_catalogue_phrase_touches_a_protected_characteristic() {
        let guard = TopicGuard::protected_only();
        for lang in Lang::ALL {
            for (key, list) in catalogue(lang) {
                for w in list {
                    assert!(guard.allows(w), "{lang}.{key}: {w}");
                }
            }
        }
    }

    #[test]
    fn placeholders_are_filled_in_one_pass() {
        assert_eq!(
            fill(
                "for the {title} role, {minutes} min",
                &[("title", "{minutes}"), ("minutes", "45")]
            ),
            "for the {minutes} role, 45 min"
        );
        assert_eq!(fill("a {b c", &[("b", "x")]), "a {b c");
        assert_eq!(placeholders("{a} and {b}"), ["a", "b"]);
        assert_eq!(
            language_list(Lang::Es, &[Lang::Es, Lang::En, Lang::De]),
            "español, inglés o alemán"
        );
        assert_eq!(language_list(Lang::De, &[Lang::De]), "Deutsch");
    }

    #[test]
    fn english_skill_question_is_unchanged() {
        assert_eq!(
            skill_question(" Rust "),
            "Tell me about your hands-on experience with Rust. What did you build with it, and what was hard about it?"
        );
    }
}
