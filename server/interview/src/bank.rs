//! The question bank for backend engineers, in viva's own words (`data/bank.toml`, embedded).
//!
//! Concepts (the six technical ones of seed 004 plus behavioural, situational and motivation)
//! own their knowledge areas, each with surface / working / deep cues and probe follow-ups.
//! Questions name their concept and the areas they assess, and carry reference answers, key
//! concepts and red flags for grading.

use std::sync::OnceLock;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::job::{AnswerExpectation, KnowledgeArea};

pub const BANK_TOML: &str = include_str!("../data/bank.toml");

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct QuestionBank {
    pub concepts: Vec<Concept>,
    pub questions: Vec<BankQuestion>,
    /// English proficiency prompts (the language check).
    pub language_prompts: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ConceptKind {
    Technical,
    Behavioural,
    Situational,
    Motivation,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Concept {
    pub id: String,
    pub name: String,
    pub kind: ConceptKind,
    /// Words in a job description that point at this concept (for drafting jobs).
    #[serde(default)]
    pub terms: Vec<String>,
    pub areas: Vec<KnowledgeArea>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BankQuestion {
    pub id: String,
    pub concept: String,
    pub text: String,
    #[serde(default)]
    pub rephrased: Option<String>,
    pub expects: AnswerExpectation,
    /// Area ids of the concept this question assesses; all of them when empty.
    #[serde(default)]
    pub areas: Vec<String>,
    pub expected_answers: Vec<String>,
    pub key_concepts: Vec<String>,
    pub red_flags: Vec<String>,
}

impl QuestionBank {
    /// The embedded bank, parsed once. The tests parse and check it, so a failure is a build defect.
    pub fn embedded() -> &'static QuestionBank {
        static BANK: OnceLock<QuestionBank> = OnceLock::new();
        BANK.get_or_init(|| match toml::from_str(BANK_TOML) {
            Ok(bank) => bank,
            Err(e) => {
                panic!("the embedded question bank is invalid (a bug in data/bank.toml): {e}")
            }
        })
    }

    pub fn concept(&self, id: &str) -> Option<&Concept> {
        self.concepts.iter().find(|c| c.id == id)
    }

    /// An area by "concept.area".
    pub fn area(&self, reference: &str) -> Option<&KnowledgeArea> {
        let (concept, area) = reference.split_once('.')?;
        self.concept(concept)?.areas.iter().find(|a| a.id == area)
    }

    pub fn question(&self, id: &str) -> Option<&BankQuestion> {
        self.questions.iter().find(|q| q.id == id)
    }

    pub fn questions_for<'a>(
        &'a self,
        concept: &'a str,
    ) -> impl Iterator<Item = &'a BankQuestion> + 'a {
        self.questions.iter().filter(move |q| q.concept == concept)
    }

    /// The knowledge areas a bank question assesses.
    pub fn areas_of(&self, question: &BankQuestion) -> Vec<KnowledgeArea> {
        let Some(concept) = self.concept(&question.concept) else {
            return Vec::new();
        };
        if question.areas.is_empty() {
            return concept.areas.clone();
        }
        question
            .areas
            .iter()
            .filter_map(|id| concept.areas.iter().find(|a| &a.id == id))
            .cloned()
            .collect()
    }

    /// Problems in the bank: dangling references, missing cues or probes, forbidden topics.
    pub fn check(&self) -> Vec<String> {
        let guard = crate::guard::TopicGuard::protected_only();
        let mut problems = Vec::new();
        let say = |where_: &str, text: &str, problems: &mut Vec<String>| {
            if text.trim().is_empty() {
                problems.push(format!("{where_}: empty"));
            }
            for v in guard.violations(text) {
                problems.push(format!("{where_}: {v}"));
            }
        };
        for c in &self.concepts {
            if c.areas.is_empty() {
                problems.push(format!("concept {}: no areas", c.id));
            }
            for a in &c.areas {
                let at = format!("area {}.{}", c.id, a.id);
                if a.surface.is_empty() || a.working.is_empty() || a.deep.is_empty() {
                    problems.push(format!("{at}: needs surface, working and deep cues"));
                }
                if a.probes.is_empty() {
                    problems.push(format!("{at}: no probes"));
                }
                for p in &a.probes {
                    say(&at, p, &mut problems);
                }
            }
        }
        for q in &self.questions {
            let at = format!("question {}", q.id);
            let Some(concept) = self.concept(&q.concept) else {
                problems.push(format!("{at}: unknown concept {}", q.concept));
                continue;
            };
            for a in &q.areas {
                if !concept.areas.iter().any(|ca| &ca.id == a) {
                    problems.push(format!("{at}: unknown area {a}"));
                }
            }
            say(&at, &q.text, &mut problems);
            if let Some(r) = &q.rephrased {
                say(&at, r, &mut problems);
            }
            if q.expected_answers.is_empty() || q.key_concepts.is_empty() || q.red_flags.is_empty()
            {
                problems.push(format!(
                    "{at}: needs expected answers, key concepts and red flags"
                ));
            }
        }
        for p in &self.language_prompts {
            say("language prompt", p, &mut problems);
        }
        let mut ids: Vec<&str> = self.questions.iter().map(|q| q.id.as_str()).collect();
        ids.sort_unstable();
        for w in ids.windows(2) {
            if w[0] == w[1] {
                problems.push(format!("duplicate question id {}", w[0]));
            }
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_bank_is_complete_and_clean() {
        let bank = QuestionBank::embedded();
        assert_eq!(bank.check(), Vec::<String>::new());
        for id in [
            "api-design",
            "data-modeling",
            "concurrency",
            "system-design",
            "reliability",
            "security",
        ] {
            let c = bank
                .concept(id)
                .unwrap_or_else(|| panic!("missing concept {id}"));
            assert_eq!(c.kind, ConceptKind::Technical);
            assert!(
                bank.questions_for(id).count() >= 2,
                "{id} needs at least two questions"
            );
        }
        for kind in [
            ConceptKind::Behavioural,
            ConceptKind::Situational,
            ConceptKind::Motivation,
        ] {
            let n = bank
                .questions
                .iter()
                .filter(|q| bank.concept(&q.concept).is_some_and(|c| c.kind == kind))
                .count();
            assert!(n >= 2, "{kind:?} needs at least two questions, has {n}");
        }
        assert!(bank.language_prompts.len() >= 3);
    }
}
