//! The dialogue manager: a sans-IO state machine.
//!
//! [`Interview::handle`] takes the time and one [`Event`] and returns the [`Action`]s to carry
//! out; it never reads a clock, sleeps or touches a socket. Every utterance carries a
//! [`Decision`] and a machine-readable [`Reason`], and everything lands in the [`Transcript`].
//!
//! Order: greeting with the recording and AI-assessment notice → knockouts → custom questions in
//! order → blueprints with their pre-written follow-ups → required skills and competencies not
//! yet covered → language check → the candidate's questions → closing.
//!
//! Language: the interview starts in the job's `language.interview`; the candidate may ask to
//! continue in another of `language.allowed` at any answer (see [`Interview::language`]). The
//! engine's own phrases are then said, and answers read, in that language. The job's questions,
//! follow-ups, probes and prompts are said as written in the job, whatever the language.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::analysis::{
    analyze_in, AnswerSignals, AreaMatcher, Depth, ExperienceMode, LexicalAreaMatcher,
    QuestionBackKind, QuestionContext, RequestKind,
};
use crate::guard::TopicGuard;
use crate::job::{AnswerExpectation, JobConfig, KnockoutOutcome, KnowledgeArea};
use crate::knockout::{evaluate_in, KnockoutReading};
use crate::lang::Lang;
use crate::lexicon::Lexicon;
use crate::phrases::Phrases;
use crate::text::{fnv1a64, Cue, Tokens};
use crate::transcript::{
    Answer, CoverageEvidence, CoverageItem, CoverageKind, Decision, DecisionRecord, KnockoutResult,
    KnockoutVerdict, Phase, QuestionRef, Reason, Transcript, Turn, UtteranceKind, Word,
};

mod answers;
mod language;
mod next;
mod plan;
mod question;

use plan::Plan;
pub use plan::{
    infer_expectation, prerenderable_phrases, prerenderable_phrases_in, PlannedQuestion,
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
    /// The language the interview is held in now.
    lang: Lang,
    /// The engine's phrases in `lang`.
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
        let lang = job.interview_lang();
        let phrases = Phrases::for_job_in(&job, &guard, lang);
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
            lang,
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

    /// The language the interview is held in now: the job's interview language until the
    /// candidate asks for another allowed one (the session switches transcription and voice
    /// with it).
    pub fn language(&self) -> Lang {
        self.lang
    }

    /// What the engine understands in the current language.
    fn lexicon(&self) -> &'static Lexicon {
        Lexicon::of(self.lang)
    }

    pub fn is_ended(&self) -> bool {
        self.phase == Phase::Ended
    }

    pub fn transcript(&self) -> &Transcript {
        &self.transcript
    }

    /// The interviewer finished saying utterance `utterance_id` at `at_ms`: kept on its turn
    /// (when an answer started is read against it).
    pub fn mark_spoken(&mut self, utterance_id: &str, at_ms: u64) {
        if let Some(t) = self
            .transcript
            .turns
            .iter_mut()
            .rev()
            .find(|t| t.utterance_id == utterance_id)
        {
            t.spoken_end_ms.get_or_insert(at_ms);
        }
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
    /// follow-ups and example probes only, in English (the rewording instructions and their
    /// checks are English).
    pub fn phrasing_request(&self, utterance_id: &str) -> Option<crate::phrasing::PhrasingRequest> {
        if self.lang != Lang::En {
            return None;
        }
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
        self.job
            .accommodations
            .stretch_ms(u64::from(self.job.duration_minutes) * 60_000)
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
            spoken_end_ms: None,
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
