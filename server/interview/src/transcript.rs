//! The interview record: every utterance, every answer, every decision with its reason.
//!
//! This is the public hand-over to storage, scoring and the live session runner; it is
//! `Serialize + Deserialize` and versioned by [`Transcript::FORMAT_VERSION`].

use serde::{Deserialize, Serialize};

use crate::analysis::{AnswerSignals, Depth, ExperienceMode, NonAnswerKind};
use crate::job::KnockoutOutcome;
use crate::lang::Lang;
use crate::text::Span;

/// Which configured or bank question an utterance belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "source", rename_all = "snake_case")]
pub enum QuestionRef {
    Greeting,
    Knockout {
        index: usize,
        name: String,
    },
    Custom {
        index: usize,
    },
    Blueprint {
        id: String,
    },
    /// A bank question asked to cover a skill or competency.
    Bank {
        id: String,
    },
    /// A generic question about a skill without a bank concept.
    Skill {
        name: String,
    },
    Language {
        index: usize,
    },
    CandidateQuestions,
    Closing,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Greeting,
    Knockouts,
    CustomQuestions,
    Blueprints,
    Coverage,
    Language,
    CandidateQuestions,
    Closing,
    Ended,
}

/// What kind of utterance the interviewer produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UtteranceKind {
    Greeting,
    Question,
    FollowUp,
    Probe,
    Repeat,
    Rephrase,
    Clarification,
    Redirect,
    Reprompt,
    Acknowledgement,
    Transition,
    Deflection,
    Closing,
}

/// What the interviewer decided to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Greet,
    Begin,
    AskKnockout,
    ClarifyKnockout,
    AskQuestion,
    PrewrittenFollowUp,
    TargetedFollowUp,
    ProbeForExample,
    Redirect,
    Repeat,
    Rephrase,
    Clarify,
    DeferCandidateQuestion,
    Reprompt,
    MoveOn,
    AskLanguagePrompt,
    InviteCandidateQuestions,
    AnswerCandidateQuestion,
    /// The candidate asked for another allowed language: confirmed in it, question repeated.
    SwitchLanguage,
    /// The candidate asked for a language the job does not allow: refused politely.
    DeclineLanguageSwitch,
    Close,
    End,
}

/// Why: machine-readable, stored with the transcript.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum Reason {
    InterviewStart,
    CandidateNotReady,
    CandidateReady,
    KnockoutCriterion {
        name: String,
    },
    KnockoutAnswerUnclear {
        name: String,
    },
    KnockoutAnswered {
        name: String,
        verdict: KnockoutVerdict,
    },
    KnockoutFailed {
        name: String,
        outcome: KnockoutOutcome,
    },
    ScriptedOrder {
        index: usize,
    },
    BlueprintOrder {
        id: String,
    },
    UncoveredSkill {
        name: String,
    },
    UncoveredCompetency {
        name: String,
    },
    PrewrittenFollowUp {
        index: usize,
    },
    MissingKnowledgeArea {
        area: String,
        importance: u8,
        heard: Option<Depth>,
    },
    /// Every area was heard; this must-hear one only at working depth.
    ProbeForDepth {
        area: String,
        heard: Depth,
    },
    VagueAnswer {
        vagueness: f32,
    },
    NoPastExample {
        mode: ExperienceMode,
    },
    OffTopic {
        topical_overlap: f32,
    },
    RepeatRequested,
    RephraseRequested,
    ClarificationRequested,
    CandidateAskedAboutRole,
    RepeatLimitReached,
    CandidateCouldNotAnswer {
        kind: NonAnswerKind,
    },
    OffTopicAgain,
    AreasCovered,
    NoProbesLeft,
    FollowUpBudgetSpent {
        used: u8,
        max: u8,
    },
    QuestionTimeBudgetSpent {
        elapsed_ms: u64,
        budget_ms: u64,
    },
    InterviewTimeBudgetSpent,
    LanguageCheck {
        index: usize,
    },
    CandidateQuestionsInvited,
    CandidateQuestionNoted,
    ScoreRequestDeclined,
    BannedTopicDeferred,
    NoMoreCandidateQuestions,
    Silence {
        ms: u64,
    },
    SilenceTimeout {
        ms: u64,
    },
    AllQuestionsAsked,
    TimeLimitReached,
    CandidateLeft,
    Completed,
    /// From here on the interviewer speaks and listens in `to`.
    LanguageSwitched {
        from: Lang,
        to: Lang,
    },
    /// The candidate asked for `requested` (a language tag), which the job does not allow.
    LanguageSwitchDeclined {
        requested: String,
    },
}

/// A word with its time in the session's audio (from speech recognition).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Word {
    pub text: String,
    pub start_ms: u64,
    pub end_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Answer {
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub words: Option<Vec<Word>>,
    /// When the engine received the final text.
    pub received_at_ms: u64,
    /// Audio offsets of the answer, from its first and last word, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audio_start_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audio_end_ms: Option<u64>,
}

impl Answer {
    /// The audio time range (first word's start, last word's end) of a char span of this
    /// answer, found by aligning the recognised words with the text in order.
    pub fn audio_range(&self, span: Span) -> Option<(u64, u64)> {
        let words = self.words.as_ref()?;
        // Per-char lower-casing keeps char indices aligned with `span`.
        let lower = |s: &str| -> Vec<char> {
            s.chars()
                .map(|c| c.to_lowercase().next().unwrap_or(c))
                .collect()
        };
        let text = lower(&self.text);
        let mut cursor = 0;
        let mut range: Option<(u64, u64)> = None;
        for word in words {
            let needle = lower(word.text.trim_matches(|c: char| !c.is_alphanumeric()));
            if needle.is_empty() || needle.len() > text.len() {
                continue;
            }
            let found = (cursor..=text.len() - needle.len())
                .find(|&i| text[i..i + needle.len()] == needle[..]);
            let Some(start) = found else { continue };
            let end = start + needle.len();
            cursor = end;
            if start < span.end && end > span.start {
                range = Some(match range {
                    None => (word.start_ms, word.end_ms),
                    Some((a, b)) => (a.min(word.start_ms), b.max(word.end_ms)),
                });
            }
        }
        range
    }
}

/// Reference material a grader needs, copied from the job or bank so the transcript stands alone.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Reference {
    pub question: String,
    pub concepts: Vec<String>,
    pub area_ids: Vec<String>,
    pub expected_answers: Vec<String>,
    pub key_concepts: Vec<String>,
    pub red_flags: Vec<String>,
}

/// One interviewer utterance and, when it asked something, the candidate's answer(s).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Turn {
    pub index: usize,
    pub phase: Phase,
    pub question: QuestionRef,
    /// The main question turn this follow-up, repeat or probe belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<usize>,
    pub utterance_id: String,
    pub prompt: String,
    /// What was actually said when an LLM reworded the prompt (see `phrasing`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spoken_text: Option<String>,
    pub kind: UtteranceKind,
    pub decision: Decision,
    pub reason: Reason,
    pub asked_at_ms: u64,
    /// When the interviewer finished saying it (session clock); absent when it was cut short
    /// or the interview was restored after a restart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spoken_end_ms: Option<u64>,
    pub awaits_answer: bool,
    /// Usually one; a candidate may answer in several pieces.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub answers: Vec<Answer>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub signals: Vec<AnswerSignals>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<Reference>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KnockoutVerdict {
    Passed,
    Failed,
    /// No usable answer; a person decides.
    Unclear,
    /// A manual rule: recorded for a person.
    Recorded,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KnockoutResult {
    pub name: String,
    pub fail_if: String,
    pub verdict: KnockoutVerdict,
    /// The value read from the answer (years or weeks), when there was one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<f32>,
    pub turn: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CoverageKind {
    RequiredSkill,
    PreferredSkill,
    Competency,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CoverageEvidence {
    pub turn: usize,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CoverageItem {
    pub kind: CoverageKind,
    pub name: String,
    pub covered: bool,
    pub evidence: Vec<CoverageEvidence>,
}

/// One entry of the decision log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecisionRecord {
    pub at_ms: u64,
    /// The turn whose answer led to the decision, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_turn: Option<usize>,
    pub decision: Decision,
    pub reason: Reason,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transcript {
    pub format_version: u32,
    pub job_title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_at_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_reason: Option<Reason>,
    pub turns: Vec<Turn>,
    pub decisions: Vec<DecisionRecord>,
    pub knockouts: Vec<KnockoutResult>,
    pub coverage: Vec<CoverageItem>,
    /// Questions the candidate asked, passed on to the hiring team.
    pub candidate_questions: Vec<String>,
}

impl Transcript {
    pub const FORMAT_VERSION: u32 = 1;

    /// The language switches of the interview, in order: (time, from, to).
    pub fn language_switches(&self) -> Vec<(u64, Lang, Lang)> {
        self.decisions
            .iter()
            .filter_map(|d| match d.reason {
                Reason::LanguageSwitched { from, to } => Some((d.at_ms, from, to)),
                _ => None,
            })
            .collect()
    }

    /// Interviewer utterances that asked for an answer, with the answers given.
    pub fn exchanges(&self) -> impl Iterator<Item = (&Turn, &[Answer])> {
        self.turns
            .iter()
            .filter(|t| t.awaits_answer)
            .map(|t| (t, t.answers.as_slice()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_map_to_audio_times() {
        let words = ["We", "added", "an", "index,", "p95", "dropped."]
            .iter()
            .enumerate()
            .map(|(i, w)| Word {
                text: w.to_string(),
                start_ms: 1000 + i as u64 * 400,
                end_ms: 1300 + i as u64 * 400,
            })
            .collect();
        let answer = Answer {
            text: "We added an INDEX, and p95 dropped.".into(),
            words: Some(words),
            received_at_ms: 0,
            audio_start_ms: None,
            audio_end_ms: None,
        };
        // "INDEX" is chars 12..17; "p95 dropped" 23..34.
        assert_eq!(
            answer.audio_range(Span { start: 12, end: 17 }),
            Some((2200, 2500))
        );
        assert_eq!(
            answer.audio_range(Span { start: 23, end: 34 }),
            Some((2600, 3300))
        );
        assert_eq!(answer.audio_range(Span { start: 0, end: 0 }), None);
    }
}
