//! The job's questions resolved once: custom questions, blueprints, the questions that cover
//! required skills and competencies, the language prompts.
//!
//! The bank is English: its questions and probes are said only while the interview is in
//! English. In another language a skill is covered by the catalogue's skill question, and only
//! the knowledge areas written in the job are probed. Job questions are said as written.

use crate::bank::QuestionBank;
use crate::guard::TopicGuard;
use crate::job::{AnswerExpectation, JobConfig, KnowledgeArea, QuestionSpec};
use crate::lang::Lang;
use crate::lexicon::Lexicon;
use crate::phrases::{skill_question_in, wordings, Phrases};
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
    /// Ids of the areas taken from the (English) bank: not probed in another language.
    pub bank_areas: Vec<String>,
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

/// Infers what a question asks for from its wording (English, Spanish or German) when the job
/// does not say.
pub fn infer_expectation(text: &str) -> AnswerExpectation {
    let tokens = Tokens::new(text);
    let any = |cues: fn(&Lexicon) -> &'static str| {
        Lang::ALL.iter().any(|l| {
            Cue::new(cues(Lexicon::of(*l)))
                .find_first(&tokens)
                .is_some()
        })
    };
    if any(|l| l.expects_opinion) {
        AnswerExpectation::Opinion
    } else if any(|l| l.expects_experience) {
        AnswerExpectation::Experience
    } else {
        AnswerExpectation::Approach
    }
}

/// `bank` is None for a job written in another language than English: its questions get
/// only the areas written in the job.
pub(super) fn plan_from_spec(
    spec: &QuestionSpec,
    reference: QuestionRef,
    phase: Phase,
    bank: Option<&QuestionBank>,
    guard: &TopicGuard,
) -> PlannedQuestion {
    let mut areas: Vec<KnowledgeArea> = spec.knowledge_areas.clone();
    let mut bank_areas = Vec::new();
    if let Some(bank) = bank {
        for r in &spec.bank_areas {
            if let Some(a) = bank.area(r) {
                if !areas.iter().any(|x| x.id == a.id) {
                    bank_areas.push(a.id.clone());
                    areas.push(a.clone());
                }
            }
        }
        if areas.is_empty() {
            for c in &spec.concepts {
                if let Some(concept) = bank.concept(c) {
                    bank_areas.extend(concept.areas.iter().map(|a| a.id.clone()));
                    areas.extend(concept.areas.iter().cloned());
                }
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
        bank_areas,
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
    let bank_areas = areas.iter().map(|a| a.id.clone()).collect();
    Some(PlannedQuestion {
        reference: QuestionRef::Bank { id: q.id.clone() },
        phase: Phase::Coverage,
        text: q.text.clone(),
        rephrased: q.rephrased.clone().filter(|r| guard.allows(r)),
        expects: q.expects,
        areas,
        follow_ups: Vec::new(),
        bank_areas,
        concepts: vec![q.concept.clone()],
        expected_answers: q.expected_answers.clone(),
        key_concepts: q.key_concepts.clone(),
        red_flags: q.red_flags.clone(),
        covers: Some(covers),
    })
}

/// The question that covers `covers` with the catalogue's skill question in `lang`, when the
/// guard allows it.
fn skill_planned(
    lang: Lang,
    covers: (CoverageKind, String),
    concepts: Vec<String>,
    guard: &TopicGuard,
) -> Option<PlannedQuestion> {
    let text = skill_question_in(lang, &covers.1);
    guard.allows(&text).then(|| PlannedQuestion {
        reference: QuestionRef::Skill {
            name: covers.1.clone(),
        },
        phase: Phase::Coverage,
        text,
        rephrased: None,
        expects: AnswerExpectation::Experience,
        areas: Vec::new(),
        follow_ups: Vec::new(),
        bank_areas: Vec::new(),
        concepts,
        expected_answers: Vec::new(),
        key_concepts: Vec::new(),
        red_flags: Vec::new(),
        covers: Some(covers),
    })
}

/// `q` as it is said in `lang`: a skill question in that language, a bank question replaced by
/// the skill question outside English, anything else as written. None when the guard refuses
/// the wording.
pub(super) fn localized(
    q: &PlannedQuestion,
    lang: Lang,
    guard: &TopicGuard,
) -> Option<PlannedQuestion> {
    let skill = |q: &PlannedQuestion| {
        let covers = q.covers.clone()?;
        skill_planned(lang, covers, q.concepts.clone(), guard)
    };
    match &q.reference {
        QuestionRef::Skill { .. } => skill(q),
        QuestionRef::Bank { .. } if lang != Lang::En => skill(q),
        _ => Some(q.clone()),
    }
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
        let lang = job.interview_lang();
        // A job written in another language does not borrow the bank's English areas.
        let own_bank = (lang == Lang::En).then_some(bank);
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
                    own_bank,
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
                    own_bank,
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
                skill_planned(
                    lang,
                    covers.clone(),
                    concept.iter().cloned().collect(),
                    guard,
                )
            });
            if let Some(p) = planned {
                if let QuestionRef::Bank { id } = &p.reference {
                    used_bank.push(id.clone());
                }
                coverage.push(p);
            }
        }

        // Prompts in the assessed language, whatever language the interview is held in by then.
        let language_prompts = if job.language.min_cefr.is_none() {
            Vec::new()
        } else {
            let source: &[String] = if !job.language.prompts.is_empty() {
                &job.language.prompts
            } else {
                match job.assessed_lang() {
                    Some(Lang::En) => &bank.language_prompts,
                    Some(l) => wordings(l, "language_prompts"),
                    None => &[],
                }
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

/// Every text the deterministic engine can say for this job in its interview language, for
/// pre-rendering with TTS.
pub fn prerenderable_phrases(job: &JobConfig) -> Vec<String> {
    prerenderable_phrases_in(job, job.interview_lang())
}

/// Every text the engine can say for this job while the interview is in `lang` (after a
/// switch to it): the catalogue's phrases in `lang`, and the job's own texts as written.
pub fn prerenderable_phrases_in(job: &JobConfig, lang: Lang) -> Vec<String> {
    let guard = TopicGuard::for_job(job);
    let phrases = Phrases::for_job_in(job, &guard, lang);
    let plan = Plan::new(job, &guard);
    let mut out: Vec<String> = phrases.all().into_iter().cloned().collect();
    out.extend(
        job.knockouts
            .iter()
            .map(|k| k.question.trim().to_string())
            .filter(|q| guard.allows(q)),
    );
    let coverage = plan
        .coverage
        .iter()
        .filter_map(|q| localized(q, lang, &guard));
    for q in plan
        .custom
        .iter()
        .chain(&plan.blueprints)
        .cloned()
        .chain(coverage)
    {
        out.push(q.text.clone());
        out.extend(q.rephrased.iter().cloned());
        out.extend(q.follow_ups.iter().cloned());
        for a in &q.areas {
            if lang == Lang::En || !q.bank_areas.contains(&a.id) {
                out.extend(a.probes.iter().cloned());
            }
        }
    }
    out.extend(plan.language_prompts.iter().cloned());
    let mut seen = std::collections::BTreeSet::new();
    out.retain(|p| seen.insert(p.clone()));
    out
}
