//! The topic guard: what the interviewer must never say.
//!
//! Two lists: the job's banned topics (company rules, e.g. compensation) and protected
//! characteristics (the legal notes of seed 002: age, family, religion, disability, national
//! origin, sex and orientation, genetic information, plus salary history). Job validation runs
//! every configured prompt through it, the engine checks every utterance before it is emitted,
//! and LLM phrasings are accepted only when they pass it.

use serde::{Deserialize, Serialize};

use crate::job::JobConfig;
use crate::text::{Cue, Tokens};

/// Cues of questions that touch a protected characteristic or a proxy for one. Phrased as what a
/// question would say, so that technical words ("race condition", "message age") do not trip it.
const PROTECTED: &[(&str, &str)] = &[
    ("age", "your age|how old|date of birth|year of birth|when were you born|what year did you graduate|too old|too young"),
    (
        "family",
        "married|marital|spouse|husband|wife|girlfriend|boyfriend|your children|have children|have kids|your kids|pregnant|pregnancy|family plans|plan to have|childcare|maternity|paternity",
    ),
    ("religion", "religion|religious|church|mosque|synagogue|temple|pray|prayer|your faith"),
    (
        "disability or health",
        "disability|disabled|handicap|health condition|medical condition|medical history|illness|medication|mental health|sick days",
    ),
    (
        "race, ethnicity or national origin",
        "your race|racial|ethnic|ethnicity|nationality|native country|where are you from|where were you born|your accent|native speaker|mother tongue|citizenship|citizen|skin colour|skin color",
    ),
    ("sex, gender or orientation", "your gender|gender identity|sexual orientation|transgender|your sex"),
    ("genetic information", "genetic|family medical"),
    ("political or union affiliation", "political|politics|vote for|union member|trade union"),
    ("salary history", "salary history|current salary|previous salary|last salary|what you earn now|currently earn"),
];

/// Why a text was refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Violation {
    BannedTopic {
        topic: String,
        term: String,
    },
    ProtectedCharacteristic {
        characteristic: String,
        term: String,
    },
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Violation::BannedTopic { topic, term } => {
                write!(f, "mentions \"{term}\", which the job bans ({topic})")
            }
            Violation::ProtectedCharacteristic {
                characteristic,
                term,
            } => {
                write!(f, "mentions \"{term}\", which touches a protected characteristic ({characteristic})")
            }
        }
    }
}

#[derive(Debug, Clone)]
pub struct TopicGuard {
    banned: Vec<(String, Cue)>,
    protected: Vec<(&'static str, Cue)>,
}

impl TopicGuard {
    /// Protected characteristics only.
    pub fn protected_only() -> TopicGuard {
        TopicGuard {
            banned: Vec::new(),
            protected: PROTECTED
                .iter()
                .map(|(c, cues)| (*c, Cue::new(cues)))
                .collect(),
        }
    }

    pub fn for_job(job: &JobConfig) -> TopicGuard {
        let mut guard = TopicGuard::protected_only();
        for topic in &job.banned_topics {
            for term in &topic.terms {
                guard.banned.push((topic.topic.clone(), Cue::new(term)));
            }
        }
        guard
    }

    pub fn violations(&self, text: &str) -> Vec<Violation> {
        let tokens = Tokens::new(text);
        let mut out = Vec::new();
        for (topic, cue) in &self.banned {
            if let Some((a, b)) = cue.find_first(&tokens) {
                out.push(Violation::BannedTopic {
                    topic: topic.clone(),
                    term: tokens.span(a, b).slice(text).to_string(),
                });
            }
        }
        for (characteristic, cue) in &self.protected {
            if let Some((a, b)) = cue.find_first(&tokens) {
                out.push(Violation::ProtectedCharacteristic {
                    characteristic: characteristic.to_string(),
                    term: tokens.span(a, b).slice(text).to_string(),
                });
            }
        }
        out
    }

    pub fn allows(&self, text: &str) -> bool {
        self.violations(text).is_empty()
    }

    /// Whether `text` touches a banned topic (used to deflect a candidate's question neutrally).
    pub fn mentions_banned_topic(&self, text: &str) -> bool {
        let tokens = Tokens::new(text);
        self.banned
            .iter()
            .any(|(_, cue)| cue.find_first(&tokens).is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn technical_words_are_not_protected_characteristics() {
        let guard = TopicGuard::protected_only();
        assert!(guard.allows("How do you find a race condition between two workers?"));
        assert!(guard.allows("What does the message age metric tell you about consumer lag?"));
        assert!(!guard.allows("How old are you?"));
        assert!(!guard.allows("Do you have children?"));
        assert!(!guard.allows("Are you a native speaker of English?"));
        assert!(!guard.allows("What is your current salary?"));
    }
}
