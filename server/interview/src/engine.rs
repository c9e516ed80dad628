//! The dialogue manager: a sans-IO state machine.
//!
//! [`Interview::handle`] takes the time and one [`Event`] and returns the [`Action`]s to carry
//! out; it never reads a clock, sleeps or touches a socket. Every utterance carries a
//! [`Decision`] and a machine-readable [`Reason`], and everything lands in the [`Transcript`].
//!
//! Order: greeting with the recording and AI-assessment notice → knockouts → custom questions in
//! order → blueprints with their pre-written follow-ups → required skills and competencies not
//! yet covered → language check → the candidate's questions → closing.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::analysis::{
    analyze, AnswerSignals, AreaMatcher, Depth, ExperienceMode, LexicalAreaMatcher,
    QuestionBackKind, QuestionContext, RequestKind,
};
use crate::bank::QuestionBank;
use crate::guard::TopicGuard;
use crate::job::{AnswerExpectation, JobConfig, KnockoutOutcome, KnowledgeArea, QuestionSpec};
use crate::knockout::{evaluate, KnockoutReading};
use crate::phrases::{skill_question, Phrases};
use crate::text::{fnv1a64, Cue, Tokens};
use crate::transcript::{
    Answer, CoverageEvidence, CoverageItem, CoverageKind, Decision, DecisionRecord, KnockoutResult,
    KnockoutVerdict, Phase, QuestionRef, Reason, Reference, Transcript, Turn, UtteranceKind, Word,
};

/// Tunables of the dialogue manager (times in milliseconds).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EngineConfig {
    /// Silence after a question before offering to repeat it.
    pub silence_reprompt_ms: u64,
    /// Silence after the reprompt before moving on.
    pub silence_give_up_ms: u64,
    /// Questions in a row the candidate stays silent through before the interview ends
    /// (nobody is there, or they cannot be heard); 0: never.
    pub silence_end_after: u8,
    /// Repeats or rephrases of one question before moving on.
    pub max_repeats: u8,
    /// Questions the candidate may ask at the end.
    pub max_candidate_questions: u8,
    /// Time kept for the language check (per prompt), candidate questions and closing.
    pub language_prompt_ms: u64,
    pub candidate_questions_ms: u64,
    /// How far past the planned duration the interview may run before it closes at once.
    pub overrun_grace_ms: u64,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            silence_reprompt_ms: 12_000,
            silence_give_up_ms: 30_000,
            silence_end_after: 2,
            max_repeats: 2,
            max_candidate_questions: 3,
            language_prompt_ms: 90_000,
            candidate_questions_ms: 180_000,
            overrun_grace_ms: 300_000,
        }
    }
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// The candidate is connected; the interview begins.
    Start,
    /// The candidate finished a turn (final transcript).
    CandidateAnswered {
        text: String,
        words: Option<Vec<Word>>,
    },
    /// The candidate has been silent this long since the interviewer stopped speaking.
    Silence {
        ms: u64,
    },
    /// Time passes (lets the engine close an interview that overran).
    TimeTick,
    CandidateLeft,
}

/// What to do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// Speak (or print) this utterance. `utterance_id` is a stable hash of the text: the key of
    /// the TTS prompt cache.
    Say {
        utterance_id: String,
        text: String,
        kind: UtteranceKind,
        decision: Decision,
        reason: Reason,
        awaits_answer: bool,
    },
    EndInterview {
        reason: Reason,
    },
}

/// Stable id of an utterance's text.
pub fn utterance_id(text: &str) -> String {
    format!("u-{:016x}", fnv1a64(text))
}

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
    fn reference_record(&self) -> Reference {
        Reference {
            question: self.text.clone(),
            concepts: self.concepts.clone(),
            area_ids: self.areas.iter().map(|a| a.id.clone()).collect(),
            expected_answers: self.expected_answers.clone(),
            key_concepts: self.key_concepts.clone(),
            red_flags: self.red_flags.clone(),
        }
    }

    fn references(&self) -> Vec<String> {
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

fn plan_from_spec(
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

fn plan_from_bank(
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
struct Plan {
    custom: Vec<PlannedQuestion>,
    blueprints: Vec<PlannedQuestion>,
    /// For each required skill and competency, in order: the question that would cover it.
    coverage: Vec<PlannedQuestion>,
    language_prompts: Vec<String>,
}

impl Plan {
    fn new(job: &JobConfig, guard: &TopicGuard) -> Plan {
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

/// What the engine is waiting for.
#[derive(Debug, Clone, PartialEq)]
enum Awaiting {
    Greeting { not_ready_said: bool },
    Knockout { index: usize, clarified: bool },
    Question(Box<Asked>),
    Language { index: usize },
    CandidateQuestions { asked: u8 },
    Nothing,
}

/// State of the question being explored.
#[derive(Debug, Clone, PartialEq)]
struct Asked {
    question: PlannedQuestion,
    main_turn: usize,
    started_ms: u64,
    follow_ups_used: u8,
    prewritten_next: usize,
    probes_asked: Vec<String>,
    example_probe_used: bool,
    /// An answer to this question already told a real past example.
    heard_past_example: bool,
    depth_probe_used: bool,
    redirect_used: bool,
    repeats: u8,
    best_depth: BTreeMap<String, Depth>,
}

pub struct Interview {
    job: JobConfig,
    config: EngineConfig,
    guard: TopicGuard,
    phrases: Phrases,
    plan: Plan,
    matcher: Box<dyn AreaMatcher + Send + Sync>,
    phase: Phase,
    started_ms: Option<u64>,
    awaiting: Awaiting,
    /// The turn the next answer belongs to.
    answer_turn: Option<usize>,
    next_knockout: usize,
    next_custom: usize,
    next_blueprint: usize,
    next_coverage: usize,
    silence_reprompted: bool,
    /// Questions in a row given up on for silence.
    silent_give_ups: u8,
    transcript: Transcript,
}

impl Interview {
    pub fn new(job: JobConfig, config: EngineConfig) -> Interview {
        Interview::with_matcher(job, config, Box::new(LexicalAreaMatcher))
    }

    /// With another knowledge-area matcher (e.g. sentence embeddings).
    pub fn with_matcher(
        job: JobConfig,
        config: EngineConfig,
        matcher: Box<dyn AreaMatcher + Send + Sync>,
    ) -> Interview {
        let guard = TopicGuard::for_job(&job);
        let phrases = Phrases::for_job(&job, &guard);
        let plan = Plan::new(&job, &guard);
        let coverage = job
            .skills
            .required
            .iter()
            .map(|s| (CoverageKind::RequiredSkill, &s.name))
            .chain(
                job.skills
                    .preferred
                    .iter()
                    .map(|s| (CoverageKind::PreferredSkill, &s.name)),
            )
            .chain(
                job.competencies
                    .iter()
                    .map(|c| (CoverageKind::Competency, &c.name)),
            )
            .map(|(kind, name)| CoverageItem {
                kind,
                name: name.clone(),
                covered: false,
                evidence: Vec::new(),
            })
            .collect();
        let transcript = Transcript {
            format_version: Transcript::FORMAT_VERSION,
            job_title: job.title.clone(),
            started_at_ms: None,
            ended_at_ms: None,
            end_reason: None,
            turns: Vec::new(),
            decisions: Vec::new(),
            knockouts: Vec::new(),
            coverage,
            candidate_questions: Vec::new(),
        };
        Interview {
            job,
            config,
            guard,
            phrases,
            plan,
            matcher,
            phase: Phase::Greeting,
            started_ms: None,
            awaiting: Awaiting::Nothing,
            answer_turn: None,
            next_knockout: 0,
            next_custom: 0,
            next_blueprint: 0,
            next_coverage: 0,
            silence_reprompted: false,
            silent_give_ups: 0,
            transcript,
        }
    }

    pub fn job(&self) -> &JobConfig {
        &self.job
    }

    pub fn phase(&self) -> Phase {
        self.phase
    }

    pub fn is_ended(&self) -> bool {
        self.phase == Phase::Ended
    }

    pub fn transcript(&self) -> &Transcript {
        &self.transcript
    }

    pub fn into_transcript(self) -> Transcript {
        self.transcript
    }

    /// Feeds one event at time `now_ms` (any monotonic clock; the session's audio clock is best).
    pub fn handle(&mut self, now_ms: u64, event: Event) -> Vec<Action> {
        let mut out = Vec::new();
        if self.phase == Phase::Ended {
            return out;
        }
        match event {
            Event::Start => {
                if self.started_ms.is_none() {
                    self.start(now_ms, &mut out);
                }
            }
            Event::CandidateAnswered { text, words } => {
                // Speech recognition can return nothing; that is silence, not an answer.
                if text.trim().is_empty() {
                    return out;
                }
                if self.started_ms.is_none() {
                    self.start(now_ms, &mut out);
                    return out;
                }
                self.silence_reprompted = false;
                self.silent_give_ups = 0;
                let turn = self.record_answer(now_ms, &text, words);
                if self.past_hard_limit(now_ms) {
                    self.close(now_ms, turn, Reason::TimeLimitReached, &mut out);
                } else {
                    self.on_answer(now_ms, &text, turn, &mut out);
                }
            }
            Event::Silence { ms } => self.on_silence(now_ms, ms, &mut out),
            Event::TimeTick => {
                if self.started_ms.is_some()
                    && self.past_hard_limit(now_ms)
                    && self.phase < Phase::Closing
                {
                    self.close(now_ms, None, Reason::TimeLimitReached, &mut out);
                }
            }
            Event::CandidateLeft => {
                self.log(now_ms, None, Decision::End, Reason::CandidateLeft);
                self.end(now_ms, Reason::CandidateLeft, &mut out);
            }
        }
        out
    }

    /// When the utterance `utterance_id` (just emitted) may be reworded by an LLM: targeted
    /// follow-ups and example probes only.
    pub fn phrasing_request(&self, utterance_id: &str) -> Option<crate::phrasing::PhrasingRequest> {
        let turn = self
            .transcript
            .turns
            .iter()
            .rev()
            .find(|t| t.utterance_id == utterance_id)?;
        let purpose = match (&turn.decision, &turn.reason) {
            (Decision::TargetedFollowUp, Reason::MissingKnowledgeArea { area, .. }) => {
                format!("how deeply the candidate knows: {area}")
            }
            (Decision::ProbeForExample, _) => {
                "a concrete, real example: the situation, what the candidate did, the result"
                    .to_string()
            }
            _ => return None,
        };
        let main = self.transcript.turns.get(turn.parent?)?;
        let last_answer = self.transcript.turns[..turn.index]
            .iter()
            .rev()
            .find_map(|t| t.answers.last())
            .map(|a| a.text.clone())
            .unwrap_or_default();
        Some(crate::phrasing::PhrasingRequest {
            utterance_id: utterance_id.to_string(),
            default_text: turn.prompt.clone(),
            question: main.prompt.clone(),
            last_answer,
            purpose,
            tone: self.job.tone.clone(),
            role_brief: self.job.role_brief.clone(),
        })
    }

    /// Records the wording actually said for an eligible utterance, after vetting it again.
    pub fn record_phrasing(
        &mut self,
        utterance_id: &str,
        text: &str,
    ) -> Result<(), crate::phrasing::Rejection> {
        if self.phrasing_request(utterance_id).is_none() {
            return Err(crate::phrasing::Rejection::NotEligible);
        }
        let vetted = crate::phrasing::vet(&self.guard, text)?;
        if let Some(turn) = self
            .transcript
            .turns
            .iter_mut()
            .rev()
            .find(|t| t.utterance_id == utterance_id)
        {
            turn.spoken_text = Some(vetted);
        }
        Ok(())
    }

    // -- time --------------------------------------------------------------------------------

    fn elapsed(&self, now_ms: u64) -> u64 {
        now_ms.saturating_sub(self.started_ms.unwrap_or(now_ms))
    }

    fn total_ms(&self) -> u64 {
        u64::from(self.job.duration_minutes) * 60_000
    }

    /// Time kept at the end for the language check, the candidate's questions and closing.
    fn reserve_ms(&self) -> u64 {
        self.plan.language_prompts.len() as u64 * self.config.language_prompt_ms
            + self.config.candidate_questions_ms
            + 30_000
    }

    /// When the main questions must stop, measured from the start.
    fn main_deadline_ms(&self) -> u64 {
        self.total_ms().saturating_sub(self.reserve_ms())
    }

    /// Time budget of one main question: the main segment shared by the planned questions.
    pub fn question_budget_ms(&self) -> u64 {
        let fixed = 60_000 + self.job.knockouts.len() as u64 * 60_000;
        let main = self.main_deadline_ms().saturating_sub(fixed);
        let count = (self.plan.custom.len() + self.plan.blueprints.len() + 1) as u64;
        (main / count).max(60_000)
    }

    fn past_main_deadline(&self, now_ms: u64) -> bool {
        self.elapsed(now_ms) >= self.main_deadline_ms()
    }

    fn past_hard_limit(&self, now_ms: u64) -> bool {
        self.elapsed(now_ms) >= self.total_ms() + self.config.overrun_grace_ms
    }

    // -- output ------------------------------------------------------------------------------

    fn log(&mut self, now_ms: u64, after_turn: Option<usize>, decision: Decision, reason: Reason) {
        self.transcript.decisions.push(DecisionRecord {
            at_ms: now_ms,
            after_turn,
            decision,
            reason,
        });
    }

    /// Emits an utterance after the final guard check; returns its turn, or None when the guard
    /// refused it (it never should: every source is filtered, but the guard is the last word).
    #[allow(clippy::too_many_arguments)]
    fn say(
        &mut self,
        now_ms: u64,
        out: &mut Vec<Action>,
        text: &str,
        kind: UtteranceKind,
        decision: Decision,
        reason: Reason,
        question: QuestionRef,
        parent: Option<usize>,
        awaits_answer: bool,
    ) -> Option<usize> {
        let text = text.trim();
        if text.is_empty() || !self.guard.allows(text) {
            return None;
        }
        let id = utterance_id(text);
        let index = self.transcript.turns.len();
        self.transcript.turns.push(Turn {
            index,
            phase: self.phase,
            question,
            parent,
            utterance_id: id.clone(),
            prompt: text.to_string(),
            spoken_text: None,
            kind,
            decision,
            reason: reason.clone(),
            asked_at_ms: now_ms,
            awaits_answer,
            answers: Vec::new(),
            signals: Vec::new(),
            reference: None,
        });
        out.push(Action::Say {
            utterance_id: id,
            text: text.to_string(),
            kind,
            decision,
            reason,
            awaits_answer,
        });
        if awaits_answer {
            self.answer_turn = Some(index);
        }
        Some(index)
    }

    /// A short utterance that asks for nothing (acknowledgement, transition).
    fn remark(
        &mut self,
        now_ms: u64,
        out: &mut Vec<Action>,
        text: Option<String>,
        kind: UtteranceKind,
        decision: Decision,
        reason: Reason,
    ) {
        if let Some(text) = text {
            let question = self.current_question_ref();
            self.say(
                now_ms, out, &text, kind, decision, reason, question, None, false,
            );
        }
    }

    fn current_question_ref(&self) -> QuestionRef {
        self.answer_turn
            .and_then(|t| self.transcript.turns.get(t))
            .map(|t| t.question.clone())
            .unwrap_or(QuestionRef::Greeting)
    }

    fn end(&mut self, now_ms: u64, reason: Reason, out: &mut Vec<Action>) {
        self.phase = Phase::Ended;
        self.awaiting = Awaiting::Nothing;
        self.transcript.ended_at_ms = Some(now_ms);
        self.transcript.end_reason = Some(reason.clone());
        out.push(Action::EndInterview { reason });
    }

    fn close(
        &mut self,
        now_ms: u64,
        after_turn: Option<usize>,
        reason: Reason,
        out: &mut Vec<Action>,
    ) {
        let text = self.phrases.closing.clone();
        self.close_saying(now_ms, after_turn, reason, text, out);
    }

    /// Closes with `text` as the last words.
    fn close_saying(
        &mut self,
        now_ms: u64,
        after_turn: Option<usize>,
        reason: Reason,
        text: Option<String>,
        out: &mut Vec<Action>,
    ) {
        self.phase = Phase::Closing;
        self.log(now_ms, after_turn, Decision::Close, reason.clone());
        if let Some(text) = text {
            self.say(
                now_ms,
                out,
                &text,
                UtteranceKind::Closing,
                Decision::Close,
                reason.clone(),
                QuestionRef::Closing,
                None,
                false,
            );
        }
        self.end(now_ms, reason, out);
    }

    // -- start -------------------------------------------------------------------------------

    fn start(&mut self, now_ms: u64, out: &mut Vec<Action>) {
        self.started_ms = Some(now_ms);
        self.transcript.started_at_ms = Some(now_ms);
        self.phase = Phase::Greeting;
        self.log(now_ms, None, Decision::Greet, Reason::InterviewStart);
        let greeting = self.phrases.greeting.clone();
        let said = greeting.and_then(|g| {
            self.say(
                now_ms,
                out,
                &g,
                UtteranceKind::Greeting,
                Decision::Greet,
                Reason::InterviewStart,
                QuestionRef::Greeting,
                None,
                true,
            )
        });
        if said.is_some() {
            self.awaiting = Awaiting::Greeting {
                not_ready_said: false,
            };
        } else {
            self.advance(now_ms, None, out);
        }
    }

    // -- answers -----------------------------------------------------------------------------

    fn record_answer(
        &mut self,
        now_ms: u64,
        text: &str,
        words: Option<Vec<Word>>,
    ) -> Option<usize> {
        let turn = self.answer_turn?;
        let audio_start_ms = words.as_ref().and_then(|w| w.first()).map(|w| w.start_ms);
        let audio_end_ms = words.as_ref().and_then(|w| w.last()).map(|w| w.end_ms);
        let t = self.transcript.turns.get_mut(turn)?;
        t.answers.push(Answer {
            text: text.to_string(),
            words,
            received_at_ms: now_ms,
            audio_start_ms,
            audio_end_ms,
        });
        Some(turn)
    }

    fn on_answer(&mut self, now_ms: u64, text: &str, turn: Option<usize>, out: &mut Vec<Action>) {
        match std::mem::replace(&mut self.awaiting, Awaiting::Nothing) {
            Awaiting::Greeting { not_ready_said } => {
                let tokens = Tokens::new(text);
                let not_ready = Cue::new(
                    "not ready|not yet|wait|one moment|one second|give me a minute|hold on",
                )
                .find_first(&tokens)
                .is_some();
                let signals_request =
                    crate::analysis::analyze(text, &self.empty_context(""), self.matcher.as_ref())
                        .request;
                if matches!(
                    signals_request,
                    Some((RequestKind::Repeat | RequestKind::Rephrase, _))
                ) && !not_ready_said
                {
                    self.log(now_ms, turn, Decision::Repeat, Reason::RepeatRequested);
                    if let Some(g) = self.phrases.greeting.clone() {
                        self.say(
                            now_ms,
                            out,
                            &g,
                            UtteranceKind::Repeat,
                            Decision::Repeat,
                            Reason::RepeatRequested,
                            QuestionRef::Greeting,
                            None,
                            true,
                        );
                    }
                    self.awaiting = Awaiting::Greeting {
                        not_ready_said: true,
                    };
                } else if not_ready && !not_ready_said && self.phrases.not_ready.is_some() {
                    self.log(now_ms, turn, Decision::Greet, Reason::CandidateNotReady);
                    let t = self.phrases.not_ready.clone().unwrap_or_default();
                    self.say(
                        now_ms,
                        out,
                        &t,
                        UtteranceKind::Transition,
                        Decision::Greet,
                        Reason::CandidateNotReady,
                        QuestionRef::Greeting,
                        None,
                        true,
                    );
                    self.awaiting = Awaiting::Greeting {
                        not_ready_said: true,
                    };
                } else {
                    self.log(now_ms, turn, Decision::Begin, Reason::CandidateReady);
                    self.remark(
                        now_ms,
                        out,
                        self.phrases.begin.clone(),
                        UtteranceKind::Transition,
                        Decision::Begin,
                        Reason::CandidateReady,
                    );
                    self.phase = Phase::Knockouts;
                    self.advance(now_ms, turn, out);
                }
            }
            Awaiting::Knockout { index, clarified } => {
                self.on_knockout_answer(now_ms, index, clarified, text, turn, out)
            }
            Awaiting::Question(asked) => self.on_question_answer(now_ms, *asked, text, turn, out),
            Awaiting::Language { index } => {
                let request = analyze(text, &self.empty_context(""), self.matcher.as_ref()).request;
                let prompt = self
                    .plan
                    .language_prompts
                    .get(index)
                    .cloned()
                    .unwrap_or_default();
                let repeats = self.repeats_of(turn);
                if request.is_some() && repeats < self.config.max_repeats {
                    self.log(now_ms, turn, Decision::Repeat, Reason::RepeatRequested);
                    let parent = self.parent_of(turn);
                    self.say(
                        now_ms,
                        out,
                        &prompt,
                        UtteranceKind::Repeat,
                        Decision::Repeat,
                        Reason::RepeatRequested,
                        QuestionRef::Language { index },
                        parent,
                        true,
                    );
                    self.awaiting = Awaiting::Language { index };
                } else {
                    self.advance(now_ms, turn, out);
                }
            }
            Awaiting::CandidateQuestions { asked } => {
                self.on_candidate_question(now_ms, asked, text, turn, out)
            }
            Awaiting::Nothing => {}
        }
    }

    fn empty_context<'a>(&self, text: &'a str) -> QuestionContext<'a> {
        QuestionContext {
            text,
            areas: &[],
            expects: AnswerExpectation::Approach,
            references: &[],
        }
    }

    /// The main turn of `turn` (itself when it has no parent).
    fn parent_of(&self, turn: Option<usize>) -> Option<usize> {
        let t = self.transcript.turns.get(turn?)?;
        Some(t.parent.unwrap_or(t.index))
    }

    /// Number of repeats already said for the main turn of `turn`.
    fn repeats_of(&self, turn: Option<usize>) -> u8 {
        let Some(parent) = self.parent_of(turn) else {
            return 0;
        };
        let n = self
            .transcript
            .turns
            .iter()
            .filter(|t| {
                t.parent == Some(parent)
                    && matches!(t.kind, UtteranceKind::Repeat | UtteranceKind::Rephrase)
            })
            .count();
        u8::try_from(n).unwrap_or(u8::MAX)
    }

    fn on_knockout_answer(
        &mut self,
        now_ms: u64,
        index: usize,
        clarified: bool,
        text: &str,
        turn: Option<usize>,
        out: &mut Vec<Action>,
    ) {
        let Some(ko) = self.job.knockouts.get(index).cloned() else {
            self.advance(now_ms, turn, out);
            return;
        };
        let name = ko.name.clone();
        let request = analyze(
            text,
            &self.empty_context(&ko.question),
            self.matcher.as_ref(),
        )
        .request;
        if request.is_some() && self.repeats_of(turn) < self.config.max_repeats {
            self.log(now_ms, turn, Decision::Repeat, Reason::RepeatRequested);
            let parent = self.parent_of(turn);
            self.say(
                now_ms,
                out,
                &ko.question,
                UtteranceKind::Repeat,
                Decision::Repeat,
                Reason::RepeatRequested,
                QuestionRef::Knockout { index, name },
                parent,
                true,
            );
            self.awaiting = Awaiting::Knockout { index, clarified };
            return;
        }
        // A clarification answer ("about five") is read together with the first answer.
        let combined = match (clarified, self.parent_of(turn)) {
            (true, Some(p)) => {
                let first = self
                    .transcript
                    .turns
                    .get(p)
                    .and_then(|t| t.answers.last())
                    .map(|a| a.text.clone())
                    .unwrap_or_default();
                format!("{first}. {text}")
            }
            _ => text.to_string(),
        };
        let reading = evaluate(ko.rule, ko.threshold, &combined);
        let main_turn = self.parent_of(turn).unwrap_or(0);
        let (verdict, value) = match reading {
            KnockoutReading::Pass(v) => (KnockoutVerdict::Passed, v),
            KnockoutReading::Fail(v) => (KnockoutVerdict::Failed, v),
            KnockoutReading::Unclear if ko.rule == crate::job::KnockoutRule::Manual => {
                (KnockoutVerdict::Recorded, None)
            }
            KnockoutReading::Unclear => {
                if !clarified {
                    if let Some(q) = self.phrases.knockout_clarification(ko.rule).cloned() {
                        let reason = Reason::KnockoutAnswerUnclear { name: name.clone() };
                        self.log(now_ms, turn, Decision::ClarifyKnockout, reason.clone());
                        self.say(
                            now_ms,
                            out,
                            &q,
                            UtteranceKind::FollowUp,
                            Decision::ClarifyKnockout,
                            reason,
                            QuestionRef::Knockout { index, name },
                            Some(main_turn),
                            true,
                        );
                        self.awaiting = Awaiting::Knockout {
                            index,
                            clarified: true,
                        };
                        return;
                    }
                }
                (KnockoutVerdict::Unclear, None)
            }
        };
        self.transcript.knockouts.push(KnockoutResult {
            name: name.clone(),
            fail_if: ko.fail_if.clone(),
            verdict,
            value,
            turn: main_turn,
        });
        if verdict == KnockoutVerdict::Failed && ko.on_fail == KnockoutOutcome::EndInterview {
            // The candidate is not told the result; the interview closes as any other would.
            self.close(
                now_ms,
                turn,
                Reason::KnockoutFailed {
                    name,
                    outcome: ko.on_fail,
                },
                out,
            );
            return;
        }
        if verdict == KnockoutVerdict::Failed {
            self.log(
                now_ms,
                turn,
                Decision::MoveOn,
                Reason::KnockoutFailed {
                    name,
                    outcome: ko.on_fail,
                },
            );
        }
        self.remark(
            now_ms,
            out,
            self.phrases.thanks.clone(),
            UtteranceKind::Acknowledgement,
            Decision::MoveOn,
            Reason::KnockoutAnswered {
                name: ko.name.clone(),
                verdict,
            },
        );
        self.advance(now_ms, turn, out);
    }

    fn on_question_answer(
        &mut self,
        now_ms: u64,
        mut asked: Asked,
        text: &str,
        turn: Option<usize>,
        out: &mut Vec<Action>,
    ) {
        let references = asked.question.references();
        let ctx = QuestionContext {
            text: &asked.question.text,
            areas: &asked.question.areas,
            expects: asked.question.expects,
            references: &references,
        };
        let signals = analyze(text, &ctx, self.matcher.as_ref());
        for hit in &signals.areas {
            let best = asked
                .best_depth
                .entry(hit.area_id.clone())
                .or_insert(hit.depth);
            *best = (*best).max(hit.depth);
        }
        if let Some(t) = turn.and_then(|t| self.transcript.turns.get_mut(t)) {
            t.signals.push(signals.clone());
        }
        self.update_coverage(turn, text, &signals, &asked.question);
        let question_ref = asked.question.reference.clone();
        let main = asked.main_turn;
        let max = self.job.template.max_follow_ups();

        // 1. The candidate asked for the question again.
        if let Some((kind, _)) = signals.request {
            if asked.repeats < self.config.max_repeats {
                asked.repeats += 1;
                let (decision, reason) = match kind {
                    RequestKind::Repeat => (Decision::Repeat, Reason::RepeatRequested),
                    RequestKind::Rephrase => (Decision::Rephrase, Reason::RephraseRequested),
                };
                self.log(now_ms, turn, decision, reason.clone());
                let prompt = self
                    .transcript
                    .turns
                    .get(turn.unwrap_or(main))
                    .map(|t| t.prompt.clone())
                    .unwrap_or_default();
                match kind {
                    RequestKind::Repeat => {
                        self.say(
                            now_ms,
                            out,
                            &prompt,
                            UtteranceKind::Repeat,
                            decision,
                            reason,
                            question_ref,
                            Some(main),
                            true,
                        );
                    }
                    RequestKind::Rephrase => {
                        // Rephrase the main question, also when it was just repeated.
                        let on_main_question = prompt == asked.question.text;
                        let rephrased = asked
                            .question
                            .rephrased
                            .clone()
                            .filter(|_| on_main_question);
                        match rephrased {
                            Some(r) => {
                                self.say(
                                    now_ms,
                                    out,
                                    &r,
                                    UtteranceKind::Rephrase,
                                    decision,
                                    reason,
                                    question_ref,
                                    Some(main),
                                    true,
                                );
                            }
                            None => {
                                self.remark(
                                    now_ms,
                                    out,
                                    self.phrases.rephrase_intro.clone(),
                                    UtteranceKind::Transition,
                                    decision,
                                    reason.clone(),
                                );
                                self.say(
                                    now_ms,
                                    out,
                                    &prompt,
                                    UtteranceKind::Rephrase,
                                    decision,
                                    reason,
                                    question_ref,
                                    Some(main),
                                    true,
                                );
                            }
                        }
                    }
                }
                self.awaiting = Awaiting::Question(Box::new(asked));
                return;
            }
            return self.move_on(now_ms, turn, Reason::RepeatLimitReached, out);
        }
        // 2. A question back: clarify the question, or defer questions about the role.
        if let Some((kind, _)) = signals.question_back {
            if asked.repeats < self.config.max_repeats {
                asked.repeats += 1;
                let (intro, decision, reason) = match kind {
                    QuestionBackKind::Clarifying => (
                        self.phrases.clarify.clone(),
                        Decision::Clarify,
                        Reason::ClarificationRequested,
                    ),
                    QuestionBackKind::AboutRole => {
                        self.transcript
                            .candidate_questions
                            .push(text.trim().to_string());
                        (
                            self.phrases.defer_role_question.clone(),
                            Decision::DeferCandidateQuestion,
                            Reason::CandidateAskedAboutRole,
                        )
                    }
                };
                self.log(now_ms, turn, decision, reason.clone());
                self.remark(
                    now_ms,
                    out,
                    intro,
                    UtteranceKind::Clarification,
                    decision,
                    reason.clone(),
                );
                let prompt = self
                    .transcript
                    .turns
                    .get(turn.unwrap_or(main))
                    .map(|t| t.prompt.clone())
                    .unwrap_or_default();
                self.say(
                    now_ms,
                    out,
                    &prompt,
                    UtteranceKind::Repeat,
                    decision,
                    reason,
                    question_ref,
                    Some(main),
                    true,
                );
                self.awaiting = Awaiting::Question(Box::new(asked));
                return;
            }
        }
        // 3. "I don't know": no pressing; note the ceiling and move on. A blueprint's remaining
        // pre-written follow-ups are still asked: every candidate gets the same ones.
        if let Some((kind, _)) = signals.non_answer {
            let prewritten_left = asked.prewritten_next < asked.question.follow_ups.len()
                && asked.follow_ups_used < max;
            if !prewritten_left {
                return self.move_on(now_ms, turn, Reason::CandidateCouldNotAnswer { kind }, out);
            }
            let reason = Reason::CandidateCouldNotAnswer { kind };
            self.remark(
                now_ms,
                out,
                self.phrases.move_on_after_non_answer.clone(),
                UtteranceKind::Acknowledgement,
                Decision::MoveOn,
                reason,
            );
        }
        let non_answer = signals.non_answer.is_some();
        // 4. Off topic: bring the candidate back once.
        if signals.off_topic && !non_answer {
            if asked.redirect_used {
                return self.move_on(now_ms, turn, Reason::OffTopicAgain, out);
            }
            asked.redirect_used = true;
            let reason = Reason::OffTopic {
                topical_overlap: signals.topical_overlap,
            };
            self.log(now_ms, turn, Decision::Redirect, reason.clone());
            self.remark(
                now_ms,
                out,
                self.phrases.redirect.clone(),
                UtteranceKind::Redirect,
                Decision::Redirect,
                reason.clone(),
            );
            let main_prompt = asked.question.text.clone();
            self.say(
                now_ms,
                out,
                &main_prompt,
                UtteranceKind::Repeat,
                Decision::Redirect,
                reason,
                question_ref,
                Some(main),
                true,
            );
            self.awaiting = Awaiting::Question(Box::new(asked));
            return;
        }
        // 5. Budgets.
        if asked.follow_ups_used >= max {
            return self.move_on(
                now_ms,
                turn,
                Reason::FollowUpBudgetSpent {
                    used: asked.follow_ups_used,
                    max,
                },
                out,
            );
        }
        let elapsed = now_ms.saturating_sub(asked.started_ms);
        let budget = self.question_budget_ms();
        if elapsed >= budget {
            return self.move_on(
                now_ms,
                turn,
                Reason::QuestionTimeBudgetSpent {
                    elapsed_ms: elapsed,
                    budget_ms: budget,
                },
                out,
            );
        }
        if self.past_main_deadline(now_ms) {
            return self.move_on(now_ms, turn, Reason::InterviewTimeBudgetSpent, out);
        }
        // 6. Vague, or no real example where one was asked for: probe for something concrete.
        // A vague story in the past tense is not yet a real example.
        if matches!(
            signals.experience,
            ExperienceMode::Past | ExperienceMode::Mixed
        ) && !signals.is_vague()
        {
            asked.heard_past_example = true;
        }
        if !asked.example_probe_used && !non_answer {
            let wants_past = asked.question.expects == AnswerExpectation::Experience;
            let no_past = !asked.heard_past_example;
            let probe = if signals.is_vague() {
                let text = match (wants_past, asked.heard_past_example) {
                    // A story was already told: ask for the detail this answer lacked.
                    (true, true) => self.phrases.probe_detail.clone(),
                    (true, false) => self.phrases.probe_example.clone(),
                    (false, _) => self.phrases.probe_specifics.clone(),
                };
                Some((
                    text,
                    Reason::VagueAnswer {
                        vagueness: signals.vagueness,
                    },
                ))
            } else if wants_past && no_past {
                Some((
                    self.phrases.probe_past_example.clone(),
                    Reason::NoPastExample {
                        mode: signals.experience,
                    },
                ))
            } else {
                None
            };
            if let Some((Some(text), reason)) = probe {
                asked.example_probe_used = true;
                asked.follow_ups_used += 1;
                self.log(now_ms, turn, Decision::ProbeForExample, reason.clone());
                self.say(
                    now_ms,
                    out,
                    &text,
                    UtteranceKind::Probe,
                    Decision::ProbeForExample,
                    reason,
                    question_ref,
                    Some(main),
                    true,
                );
                self.awaiting = Awaiting::Question(Box::new(asked));
                return;
            }
        }
        // 7. Blueprints: the pre-written follow-ups, the same for every candidate.
        if let Some(text) = asked
            .question
            .follow_ups
            .get(asked.prewritten_next)
            .cloned()
        {
            let reason = Reason::PrewrittenFollowUp {
                index: asked.prewritten_next,
            };
            asked.prewritten_next += 1;
            asked.follow_ups_used += 1;
            self.log(now_ms, turn, Decision::PrewrittenFollowUp, reason.clone());
            self.say(
                now_ms,
                out,
                &text,
                UtteranceKind::FollowUp,
                Decision::PrewrittenFollowUp,
                reason,
                question_ref,
                Some(main),
                true,
            );
            self.awaiting = Awaiting::Question(Box::new(asked));
            return;
        }
        // 8. The most important knowledge area not yet heard at working depth.
        let mut missing: Vec<(usize, &KnowledgeArea)> = asked
            .question
            .areas
            .iter()
            .enumerate()
            .filter(|(_, a)| {
                asked
                    .best_depth
                    .get(&a.id)
                    .is_none_or(|d| *d < Depth::Working)
            })
            .filter(|(_, a)| !asked.probes_asked.contains(&a.id) && !a.probes.is_empty())
            .collect();
        // Importance first, then areas not heard at all before those heard at surface level,
        // then the question's own order.
        missing.sort_by_key(|(i, a)| {
            (
                std::cmp::Reverse(a.importance),
                asked.best_depth.contains_key(&a.id),
                *i,
            )
        });
        if let Some((_, area)) = missing.first() {
            let area = (*area).clone();
            let heard = asked.best_depth.get(&area.id).copied();
            let text = area.probes.first().cloned().unwrap_or_default();
            let reason = Reason::MissingKnowledgeArea {
                area: area.id.clone(),
                importance: area.importance,
                heard,
            };
            asked.probes_asked.push(area.id.clone());
            asked.follow_ups_used += 1;
            self.log(now_ms, turn, Decision::TargetedFollowUp, reason.clone());
            self.say(
                now_ms,
                out,
                &text,
                UtteranceKind::FollowUp,
                Decision::TargetedFollowUp,
                reason,
                question_ref,
                Some(main),
                true,
            );
            self.awaiting = Awaiting::Question(Box::new(asked));
            return;
        }
        // 9. Everything heard at working depth: probe one must-hear area for depth (seed 004's
        // ladder: find the ceiling), using its second, deeper probe when it has one.
        if !asked.depth_probe_used {
            let shallow = asked.question.areas.iter().find(|a| {
                a.importance >= 3
                    && asked.best_depth.get(&a.id) == Some(&Depth::Working)
                    && !asked.probes_asked.contains(&a.id)
                    && !a.probes.is_empty()
            });
            if let Some(area) = shallow.cloned() {
                let text = area
                    .probes
                    .get(1)
                    .or(area.probes.first())
                    .cloned()
                    .unwrap_or_default();
                let reason = Reason::ProbeForDepth {
                    area: area.id.clone(),
                    heard: Depth::Working,
                };
                asked.depth_probe_used = true;
                asked.probes_asked.push(area.id.clone());
                asked.follow_ups_used += 1;
                self.log(now_ms, turn, Decision::TargetedFollowUp, reason.clone());
                self.say(
                    now_ms,
                    out,
                    &text,
                    UtteranceKind::FollowUp,
                    Decision::TargetedFollowUp,
                    reason,
                    question_ref,
                    Some(main),
                    true,
                );
                self.awaiting = Awaiting::Question(Box::new(asked));
                return;
            }
        }
        let all_heard = asked.question.areas.iter().all(|a| {
            asked
                .best_depth
                .get(&a.id)
                .is_some_and(|d| *d >= Depth::Working)
        });
        let reason = if all_heard {
            Reason::AreasCovered
        } else {
            Reason::NoProbesLeft
        };
        self.move_on(now_ms, turn, reason, out);
    }

    fn move_on(&mut self, now_ms: u64, turn: Option<usize>, reason: Reason, out: &mut Vec<Action>) {
        self.log(now_ms, turn, Decision::MoveOn, reason.clone());
        let ack = match reason {
            Reason::CandidateCouldNotAnswer { .. }
            | Reason::OffTopicAgain
            | Reason::RepeatLimitReached
            | Reason::SilenceTimeout { .. } => self.phrases.move_on_after_non_answer.clone(),
            Reason::QuestionTimeBudgetSpent { .. } | Reason::InterviewTimeBudgetSpent => {
                self.phrases.move_on_for_time.clone()
            }
            _ => self.phrases.thanks.clone(),
        };
        self.remark(
            now_ms,
            out,
            ack,
            UtteranceKind::Acknowledgement,
            Decision::MoveOn,
            reason,
        );
        self.advance(now_ms, turn, out);
    }

    fn update_coverage(
        &mut self,
        turn: Option<usize>,
        text: &str,
        signals: &AnswerSignals,
        question: &PlannedQuestion,
    ) {
        let Some(turn) = turn else { return };
        if signals.non_answer.is_some() {
            return;
        }
        let tokens = Tokens::new(text);
        let concept_evidence = signals.covered_areas() >= 1;
        let skills = self
            .job
            .skills
            .required
            .iter()
            .chain(&self.job.skills.preferred)
            .map(|s| (&s.name, &s.terms, &s.concept));
        let comps = self
            .job
            .competencies
            .iter()
            .map(|c| (&c.name, &c.terms, &c.concept));
        let mut found: Vec<(String, Vec<CoverageEvidence>)> = Vec::new();
        for (name, terms, concept) in skills.chain(comps) {
            let mut evidence = Vec::new();
            let cues: Vec<Cue> = if terms.is_empty() {
                vec![Cue::new(name)]
            } else {
                terms.iter().map(|t| Cue::new(t)).collect()
            };
            for cue in cues {
                for (a, b) in cue.find_all(&tokens) {
                    let negated = (a.saturating_sub(3)..a)
                        .any(|i| matches!(tokens.norm(i), "not" | "never" | "no" | "without"));
                    if !negated {
                        evidence.push(CoverageEvidence {
                            turn,
                            span: tokens.span(a, b),
                        });
                    }
                }
            }
            let by_concept = concept_evidence
                && concept
                    .as_ref()
                    .is_some_and(|c| question.concepts.contains(c));
            if by_concept && evidence.is_empty() {
                if let Some(hit) = signals.areas.iter().find(|h| h.depth >= Depth::Working) {
                    if let Some(e) = hit.evidence.first() {
                        evidence.push(CoverageEvidence { turn, span: e.span });
                    }
                }
            }
            if !evidence.is_empty() {
                found.push((name.clone(), evidence));
            }
        }
        for (name, evidence) in found {
            for item in self
                .transcript
                .coverage
                .iter_mut()
                .filter(|i| i.name == name)
            {
                item.covered = true;
                item.evidence.extend(evidence.iter().cloned());
            }
        }
    }

    fn is_covered(&self, kind: CoverageKind, name: &str) -> bool {
        self.transcript
            .coverage
            .iter()
            .any(|i| i.kind == kind && i.name == name && i.covered)
    }

    // -- what next ---------------------------------------------------------------------------

    /// Asks the next thing in the interview's order.
    fn advance(&mut self, now_ms: u64, after_turn: Option<usize>, out: &mut Vec<Action>) {
        if self.past_hard_limit(now_ms) {
            return self.close(now_ms, after_turn, Reason::TimeLimitReached, out);
        }
        // Knockouts.
        while let Some(ko) = self.job.knockouts.get(self.next_knockout).cloned() {
            let index = self.next_knockout;
            self.next_knockout += 1;
            self.phase = Phase::Knockouts;
            let reason = Reason::KnockoutCriterion {
                name: ko.name.clone(),
            };
            self.log(now_ms, after_turn, Decision::AskKnockout, reason.clone());
            let asked = self.say(
                now_ms,
                out,
                &ko.question,
                UtteranceKind::Question,
                Decision::AskKnockout,
                reason,
                QuestionRef::Knockout {
                    index,
                    name: ko.name.clone(),
                },
                None,
                true,
            );
            if asked.is_some() {
                self.awaiting = Awaiting::Knockout {
                    index,
                    clarified: false,
                };
                return;
            }
        }
        // Custom questions are mandatory: asked even when time is short (without follow-ups).
        if let Some(q) = self.plan.custom.get(self.next_custom).cloned() {
            let index = self.next_custom;
            self.next_custom += 1;
            self.phase = Phase::CustomQuestions;
            return self.ask(now_ms, after_turn, q, Reason::ScriptedOrder { index }, out);
        }
        let out_of_time = self.past_main_deadline(now_ms);
        if out_of_time
            && (self.next_blueprint < self.plan.blueprints.len()
                || self.next_coverage < self.plan.coverage.len())
        {
            self.log(
                now_ms,
                after_turn,
                Decision::MoveOn,
                Reason::InterviewTimeBudgetSpent,
            );
            self.next_blueprint = self.plan.blueprints.len();
            self.next_coverage = self.plan.coverage.len();
        }
        if let Some(q) = self.plan.blueprints.get(self.next_blueprint).cloned() {
            self.next_blueprint += 1;
            self.phase = Phase::Blueprints;
            let id = match &q.reference {
                QuestionRef::Blueprint { id } => id.clone(),
                _ => String::new(),
            };
            return self.ask(now_ms, after_turn, q, Reason::BlueprintOrder { id }, out);
        }
        while let Some(q) = self.plan.coverage.get(self.next_coverage).cloned() {
            self.next_coverage += 1;
            let Some((kind, name)) = q.covers.clone() else {
                continue;
            };
            if self.is_covered(kind, &name) {
                continue;
            }
            self.phase = Phase::Coverage;
            let reason = match kind {
                CoverageKind::Competency => Reason::UncoveredCompetency { name },
                _ => Reason::UncoveredSkill { name },
            };
            return self.ask(now_ms, after_turn, q, reason, out);
        }
        // Language check.
        let language_next = match (&self.awaiting, self.phase) {
            (_, Phase::Language) => self
                .transcript
                .turns
                .iter()
                .filter(|t| {
                    matches!(t.question, QuestionRef::Language { .. }) && t.parent.is_none()
                })
                .count(),
            (_, p) if p < Phase::Language => 0,
            _ => usize::MAX,
        };
        if let Some(prompt) = self.plan.language_prompts.get(language_next).cloned() {
            if self.phase != Phase::Language {
                self.phase = Phase::Language;
                self.remark(
                    now_ms,
                    out,
                    self.phrases.language_intro.clone(),
                    UtteranceKind::Transition,
                    Decision::AskLanguagePrompt,
                    Reason::LanguageCheck { index: 0 },
                );
            }
            let reason = Reason::LanguageCheck {
                index: language_next,
            };
            self.log(
                now_ms,
                after_turn,
                Decision::AskLanguagePrompt,
                reason.clone(),
            );
            self.say(
                now_ms,
                out,
                &prompt,
                UtteranceKind::Question,
                Decision::AskLanguagePrompt,
                reason,
                QuestionRef::Language {
                    index: language_next,
                },
                None,
                true,
            );
            self.awaiting = Awaiting::Language {
                index: language_next,
            };
            return;
        }
        if self.phase < Phase::CandidateQuestions {
            self.phase = Phase::CandidateQuestions;
            if let Some(invite) = self.phrases.invite_questions.clone() {
                self.log(
                    now_ms,
                    after_turn,
                    Decision::InviteCandidateQuestions,
                    Reason::CandidateQuestionsInvited,
                );
                self.say(
                    now_ms,
                    out,
                    &invite,
                    UtteranceKind::Question,
                    Decision::InviteCandidateQuestions,
                    Reason::CandidateQuestionsInvited,
                    QuestionRef::CandidateQuestions,
                    None,
                    true,
                );
                self.awaiting = Awaiting::CandidateQuestions { asked: 0 };
                return;
            }
        }
        self.close(now_ms, after_turn, Reason::Completed, out);
    }

    fn ask(
        &mut self,
        now_ms: u64,
        after_turn: Option<usize>,
        q: PlannedQuestion,
        reason: Reason,
        out: &mut Vec<Action>,
    ) {
        self.log(now_ms, after_turn, Decision::AskQuestion, reason.clone());
        let text = q.text.clone();
        let Some(turn) = self.say(
            now_ms,
            out,
            &text,
            UtteranceKind::Question,
            Decision::AskQuestion,
            reason,
            q.reference.clone(),
            None,
            true,
        ) else {
            return self.advance(now_ms, after_turn, out);
        };
        if let Some(t) = self.transcript.turns.get_mut(turn) {
            t.reference = Some(q.reference_record());
        }
        self.awaiting = Awaiting::Question(Box::new(Asked {
            question: q,
            main_turn: turn,
            started_ms: now_ms,
            follow_ups_used: 0,
            prewritten_next: 0,
            probes_asked: Vec::new(),
            example_probe_used: false,
            heard_past_example: false,
            depth_probe_used: false,
            redirect_used: false,
            repeats: 0,
            best_depth: BTreeMap::new(),
        }));
    }

    fn on_candidate_question(
        &mut self,
        now_ms: u64,
        asked: u8,
        text: &str,
        turn: Option<usize>,
        out: &mut Vec<Action>,
    ) {
        let tokens = Tokens::new(text);
        let signals = analyze(text, &self.empty_context(""), self.matcher.as_ref());
        let is_question = signals.question_back.is_some() || text.contains('?');
        let declines = Cue::new("no|nope|not really|that's all|that is all|nothing|i'm good|i am good|all good|no questions|i think that's it|that's it")
            .find_first(&tokens)
            .is_some();
        if (!is_question && declines) || tokens.is_empty() {
            return self.close(now_ms, turn, Reason::NoMoreCandidateQuestions, out);
        }
        let about_result = Cue::new("how did i do|my score|score|grade|did i pass|pass|result|results|feedback|how was my|did well|do well")
            .find_first(&tokens)
            .is_some();
        let (reply, reason) = if self.guard.mentions_banned_topic(text) {
            (
                self.phrases.banned_deferred.clone(),
                Reason::BannedTopicDeferred,
            )
        } else if about_result {
            (
                self.phrases.score_declined.clone(),
                Reason::ScoreRequestDeclined,
            )
        } else {
            (
                self.phrases.question_noted.clone(),
                Reason::CandidateQuestionNoted,
            )
        };
        self.transcript
            .candidate_questions
            .push(text.trim().to_string());
        self.log(
            now_ms,
            turn,
            Decision::AnswerCandidateQuestion,
            reason.clone(),
        );
        self.remark(
            now_ms,
            out,
            reply,
            UtteranceKind::Deflection,
            Decision::AnswerCandidateQuestion,
            reason,
        );
        let asked = asked.saturating_add(1);
        if asked >= self.config.max_candidate_questions {
            return self.close(now_ms, turn, Reason::NoMoreCandidateQuestions, out);
        }
        match self.phrases.more_questions.clone() {
            Some(more) => {
                self.say(
                    now_ms,
                    out,
                    &more,
                    UtteranceKind::Question,
                    Decision::InviteCandidateQuestions,
                    Reason::CandidateQuestionsInvited,
                    QuestionRef::CandidateQuestions,
                    None,
                    true,
                );
                self.awaiting = Awaiting::CandidateQuestions { asked };
            }
            None => self.close(now_ms, turn, Reason::NoMoreCandidateQuestions, out),
        }
    }

    fn on_silence(&mut self, now_ms: u64, ms: u64, out: &mut Vec<Action>) {
        if matches!(self.awaiting, Awaiting::Nothing) {
            return;
        }
        let turn = self.answer_turn;
        if !self.silence_reprompted && ms >= self.config.silence_reprompt_ms {
            if let Some(text) = self.phrases.reprompt_silence.clone() {
                self.silence_reprompted = true;
                let reason = Reason::Silence { ms };
                self.log(now_ms, turn, Decision::Reprompt, reason.clone());
                // The reprompt is a remark: the answer still belongs to the question's turn.
                let question = self.current_question_ref();
                self.say(
                    now_ms,
                    out,
                    &text,
                    UtteranceKind::Reprompt,
                    Decision::Reprompt,
                    reason,
                    question,
                    None,
                    false,
                );
                return;
            }
        }
        if self.silence_reprompted && ms >= self.config.silence_give_up_ms {
            self.silence_reprompted = false;
            let reason = Reason::SilenceTimeout { ms };
            self.silent_give_ups = self.silent_give_ups.saturating_add(1);
            if self.config.silence_end_after > 0
                && self.silent_give_ups >= self.config.silence_end_after
            {
                // Nobody answers: end politely rather than read every question to silence.
                self.awaiting = Awaiting::Nothing;
                let text = self.phrases.end_for_silence.clone();
                self.close_saying(now_ms, turn, reason, text, out);
                return;
            }
            match std::mem::replace(&mut self.awaiting, Awaiting::Nothing) {
                Awaiting::Question(_) => self.move_on(now_ms, turn, reason, out),
                Awaiting::Knockout { index, .. } => {
                    if let Some(ko) = self.job.knockouts.get(index) {
                        let main = self.parent_of(turn).unwrap_or(0);
                        self.transcript.knockouts.push(KnockoutResult {
                            name: ko.name.clone(),
                            fail_if: ko.fail_if.clone(),
                            verdict: KnockoutVerdict::Unclear,
                            value: None,
                            turn: main,
                        });
                    }
                    self.move_on(now_ms, turn, reason, out)
                }
                Awaiting::CandidateQuestions { .. } => {
                    self.close(now_ms, turn, Reason::NoMoreCandidateQuestions, out)
                }
                Awaiting::Greeting { .. } => {
                    self.log(now_ms, turn, Decision::Begin, reason);
                    self.phase = Phase::Knockouts;
                    self.advance(now_ms, turn, out);
                }
                Awaiting::Language { .. } => self.move_on(now_ms, turn, reason, out),
                Awaiting::Nothing => {}
            }
        }
    }
}

/// Whether any text the engine produced mentions a protected characteristic or banned topic:
/// a helper for tests and audits of stored transcripts.
pub fn transcript_violations(job: &JobConfig, transcript: &Transcript) -> Vec<(usize, String)> {
    let guard = TopicGuard::for_job(job);
    transcript
        .turns
        .iter()
        .flat_map(|t| {
            guard
                .violations(&t.prompt)
                .into_iter()
                .map(move |v| (t.index, v.to_string()))
        })
        .collect()
}
