//! The job's questions resolved once: custom questions, blueprints, the questions that cover
//! required skills and competencies, the language prompts.

use crate::bank::QuestionBank;
use crate::guard::TopicGuard;
use crate::job::{AnswerExpectation, JobConfig, KnowledgeArea, QuestionSpec};
use crate::phrases::{skill_question, Phrases};
use crate::text::{Cue, Tokens};
use crate::transcript::{CoverageKind, Phase, QuestionRef, Reference};

/// A question ready to ask: text, areas and references resolved from the job and the bank.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedQuestion {
    pub reference: QuestionRef,
    pub phase: Phase,
    pub text: String,
    pub rephrased: Option<String>,
    pub expects: AnswerExpectation,
    pub areas: Vec<KnowledgeArea>,
    pub follow_ups: Vec<String>,
    pub concepts: Vec<String>,
    pub expected_answers: Vec<String>,
    pub key_concepts: Vec<String>,
    pub red_flags: Vec<String>,
    /// The skill or competency this question was chosen to cover.
    pub covers: Option<(CoverageKind, String)>,
}

impl PlannedQuestion {
    pub(super) fn reference_record(&self) -> Reference {
        Reference {
            question: self.text.clone(),
            concepts: self.concepts.clone(),
            area_ids: self.areas.iter().map(|a| a.id.clone()).collect(),
            expected_answers: self.expected_answers.clone(),
            key_concepts: self.key_concepts.clone(),
            red_flags: self.red_flags.clone(),
        }
    }

    pub(super) fn references(&self) -> Vec<String> {
        self.key_concepts
            .iter()
            .chain(&self.expected_answers)
            .cloned()
            .collect()
    }
}

/// Infers what a question asks for from its wording when the job does not say.
pub fn infer_expectation(text: &str) -> AnswerExpectation {
    let tokens = Tokens::new(text);
    let experience = "tell me about a time|a time you|a time when|give an example|specific example|describe a|have you|what was|what did you|share your|walk me through a|your experience";
    let opinion = "what draws you|why do you|what do you think|what would you like|your view";
    if Cue::new(opinion).find_first(&tokens).is_some() {
        AnswerExpectation::Opinion
    } else if Cue::new(experience).find_first(&tokens).is_some() {
        AnswerExpectation::Experience
    } else {
        AnswerExpectation::Approach
    }
}

pub(super) fn plan_from_spec(
    spec: &QuestionSpec,
    reference: QuestionRef,
    phase: Phase,
    bank: &QuestionBank,
    guard: &TopicGuard,
) -> PlannedQuestion {
    let mut areas: Vec<KnowledgeArea> = spec.knowledge_areas.clone();
    for r in &spec.bank_areas {
        if let Some(a) = bank.area(r) {
            if !areas.iter().any(|x| x.id == a.id) {
                areas.push(a.clone());
            }
        }
    }
    if areas.is_empty() {
        for c in &spec.concepts {
            if let Some(concept) = bank.concept(c) {
                areas.extend(concept.areas.iter().cloned());
            }
        }
    }
    for a in &mut areas {
        a.probes.retain(|p| guard.allows(p));
    }
    PlannedQuestion {
        reference,
        phase,
        text: spec.text.trim().to_string(),
        rephrased: spec.rephrased.clone().filter(|r| guard.allows(r)),
        expects: spec
            .expects
            .unwrap_or_else(|| infer_expectation(&spec.text)),
        areas,
        follow_ups: spec
            .follow_ups
            .iter()
            .filter(|f| guard.allows(f))
            .cloned()
            .collect(),
        concepts: spec.concepts.clone(),
        expected_answers: spec.expected_answers.clone(),
        key_concepts: spec.key_concepts.clone(),
        red_flags: spec.red_flags.clone(),
        covers: None,
    }
}

pub(super) fn plan_from_bank(
    id: &str,
    bank: &QuestionBank,
    guard: &TopicGuard,
    covers: (CoverageKind, String),
) -> Option<PlannedQuestion> {
    let q = bank.question(id)?;
    if !guard.allows(&q.text) {
        return None;
    }
    let mut areas = bank.areas_of(q);
    for a in &mut areas {
        a.probes.retain(|p| guard.allows(p));
    }
    Some(PlannedQuestion {
        reference: QuestionRef::Bank { id: q.id.clone() },
        phase: Phase::Coverage,
        text: q.text.clone(),
        rephrased: q.rephrased.clone().filter(|r| guard.allows(r)),
        expects: q.expects,
        areas,
        follow_ups: Vec::new(),
        concepts: vec![q.concept.clone()],
        expected_answers: q.expected_answers.clone(),
        key_concepts: q.key_concepts.clone(),
        red_flags: q.red_flags.clone(),
        covers: Some(covers),
    })
}

/// The job's questions and the candidates for covering skills, resolved once.
#[derive(Debug, Clone)]
pub(super) struct Plan {
    pub(super) custom: Vec<PlannedQuestion>,
    pub(super) blueprints: Vec<PlannedQuestion>,
    /// For each required skill and competency, in order: the question that would cover it.
    pub(super) coverage: Vec<PlannedQuestion>,
    pub(super) language_prompts: Vec<String>,
}

impl Plan {
    pub(super) fn new(job: &JobConfig, guard: &TopicGuard) -> Plan {
        let bank = QuestionBank::embedded();
        let custom: Vec<_> = job
            .custom_questions
            .iter()
            .enumerate()
            .filter(|(_, q)| guard.allows(&q.text))
            .map(|(index, q)| {
                plan_from_spec(
                    q,
                    QuestionRef::Custom { index },
                    Phase::CustomQuestions,
                    bank,
                    guard,
                )
            })
            .collect();
        let blueprints: Vec<_> = job
            .blueprints
            .iter()
            .enumerate()
            .filter(|(_, q)| guard.allows(&q.text))
            .map(|(i, q)| {
                let id = q.id.clone().unwrap_or_else(|| format!("B{}", i + 1));
                plan_from_spec(
                    q,
                    QuestionRef::Blueprint { id },
                    Phase::Blueprints,
                    bank,
                    guard,
                )
            })
            .collect();

        let used_texts: Vec<&str> = custom
            .iter()
            .chain(&blueprints)
            .map(|q| q.text.as_str())
            .collect();
        let mut used_bank: Vec<String> = Vec::new();
        let mut coverage = Vec::new();
        let targets = job
            .skills
            .required
            .iter()
            .map(|s| (CoverageKind::RequiredSkill, &s.name, &s.concept))
            .chain(
                job.competencies
                    .iter()
                    .map(|c| (CoverageKind::Competency, &c.name, &c.concept)),
            );
        for (kind, name, concept) in targets {
            let covers = (kind, name.clone());
            let picked = concept.as_deref().and_then(|c| {
                let mut candidates: Vec<_> = bank
                    .questions_for(c)
                    .filter(|q| {
                        !used_texts.contains(&q.text.as_str()) && !used_bank.contains(&q.id)
                    })
                    .collect();
                // Competencies are behavioural: prefer questions about real experience.
                if kind == CoverageKind::Competency {
                    candidates.sort_by_key(|q| q.expects != AnswerExpectation::Experience);
                }
                candidates
                    .into_iter()
                    .find_map(|q| plan_from_bank(&q.id, bank, guard, covers.clone()))
            });
            let planned = picked.or_else(|| {
                let text = skill_question(name);
                guard.allows(&text).then(|| PlannedQuestion {
                    reference: QuestionRef::Skill { name: name.clone() },
                    phase: Phase::Coverage,
                    text,
                    rephrased: None,
                    expects: AnswerExpectation::Experience,
                    areas: Vec::new(),
                    follow_ups: Vec::new(),
                    concepts: concept.iter().cloned().collect(),
                    expected_answers: Vec::new(),
                    key_concepts: Vec::new(),
                    red_flags: Vec::new(),
                    covers: Some(covers.clone()),
                })
            });
            if let Some(p) = planned {
                if let QuestionRef::Bank { id } = &p.reference {
                    used_bank.push(id.clone());
                }
                coverage.push(p);
            }
        }

        let language_prompts = if job.language.min_cefr.is_none() {
            Vec::new()
        } else {
            let source = if job.language.prompts.is_empty() {
                &bank.language_prompts
            } else {
                &job.language.prompts
            };
            source
                .iter()
                .filter(|p| guard.allows(p))
                .take(usize::from(job.language.questions))
                .cloned()
                .collect()
        };
        Plan {
            custom,
            blueprints,
            coverage,
            language_prompts,
        }
    }
}

/// Every text the deterministic engine can say for this job, for pre-rendering with TTS.
pub fn prerenderable_phrases(job: &JobConfig) -> Vec<String> {
    let guard = TopicGuard::for_job(job);
    let phrases = Phrases::for_job(job, &guard);
    let plan = Plan::new(job, &guard);
    let mut out: Vec<String> = phrases.all().into_iter().cloned().collect();
    out.extend(
        job.knockouts
            .iter()
            .map(|k| k.question.trim().to_string())
            .filter(|q| guard.allows(q)),
    );
    for q in plan
        .custom
        .iter()
        .chain(&plan.blueprints)
        .chain(&plan.coverage)
    {
        out.push(q.text.clone());
        out.extend(q.rephrased.iter().cloned());
        out.extend(q.follow_ups.iter().cloned());
        for a in &q.areas {
            out.extend(a.probes.iter().cloned());
        }
    }
    out.extend(plan.language_prompts.iter().cloned());
    let mut seen = std::collections::BTreeSet::new();
    out.retain(|p| seen.insert(p.clone()));
    out
}
