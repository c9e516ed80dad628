//! The report's data model: what the recruiter reads, every score with its evidence.

use serde::{Deserialize, Serialize};

/// A stretch of what the candidate said, with its audio time when the transcript has word times.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Quote {
    /// Index of the transcript turn the answer belongs to.
    pub turn: usize,
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_ms: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Recommendation {
    #[serde(rename = "Strong Yes")]
    StrongYes,
    Yes,
    Maybe,
    No,
}

impl Recommendation {
    pub fn as_str(self) -> &'static str {
        match self {
            Recommendation::StrongYes => "Strong Yes",
            Recommendation::Yes => "Yes",
            Recommendation::Maybe => "Maybe",
            Recommendation::No => "No",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Threshold {
    pub recommendation: Recommendation,
    /// Lowest composite (0–100) that earns this recommendation.
    pub min_composite: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    pub recommendation: Recommendation,
    /// What the composite alone would give.
    pub by_score: Recommendation,
    pub thresholds: Vec<Threshold>,
    /// Why the recommendation differs from `by_score` (a knockout, a failed must-have).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overridden_by: Option<String>,
    pub rationale: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Confidence {
    /// 0–1.
    pub overall: f64,
    /// Share of the planned questions that got a usable answer, 0–1.
    pub coverage: f64,
    /// 0–1: typed text is 1; recognised speech is judged from its word timing.
    pub transcription_quality: f64,
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KnockoutScore {
    pub name: String,
    pub fail_if: String,
    /// passed, failed, unclear (a person decides), recorded (manual rule), not_asked.
    pub verdict: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<f32>,
    pub evidence: Vec<Quote>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompetencyScore {
    pub name: String,
    pub description: String,
    pub passed: bool,
    pub reason: String,
    pub evidence: Vec<Quote>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SkillScore {
    pub name: String,
    pub level: String,
    /// 0–10.
    pub score: u8,
    pub reason: String,
    pub evidence: Vec<Quote>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuestionScore {
    /// The main question's turn.
    pub turn: usize,
    /// "Custom 1", "Blueprint B1", "Bank api-versioning", …
    pub source: String,
    pub question: String,
    /// 1–5 on the anchored rubric (1 strong no … 5 strong yes).
    pub score: u8,
    /// The anchor's name for `score`.
    pub anchor: String,
    /// Unrounded 1–5, used by the dimensions.
    pub raw: f64,
    /// viva-grading's 0–5 against the reference answers, when the question has them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference_grade: Option<f64>,
    pub reasons: Vec<String>,
    pub follow_ups: usize,
    pub evidence: Vec<Quote>,
    /// Red flags the answer shows, each with the words that show it (never an absence).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub red_flags: Vec<RedFlag>,
}

/// A red flag and the candidate's words that raised it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RedFlag {
    pub flag: String,
    pub quote: Quote,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AreaDepth {
    pub area: String,
    /// surface, working, deep, or not_heard.
    pub depth: String,
    pub evidence: Vec<Quote>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConceptDepth {
    pub concept: String,
    /// surface, working, deep, or not_heard.
    pub depth: String,
    pub areas: Vec<AreaDepth>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DimensionScore {
    pub name: String,
    /// Percent of the composite, as configured.
    pub weight: u32,
    /// 1–5.
    pub score: f64,
    /// 0–100 (1 → 0, 5 → 100).
    pub score_100: f64,
    /// This dimension's points in the composite.
    pub contribution: f64,
    pub reason: String,
    /// Turns of the questions the score is drawn from.
    pub questions: Vec<usize>,
    pub evidence: Vec<Quote>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LanguageResult {
    pub language: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required: Option<String>,
    pub assessed: String,
    pub range: String,
    pub level: f64,
    pub meets_requirement: Option<bool>,
    pub evidence: Vec<Quote>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ratio {
    pub done: usize,
    pub total: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CoverageStats {
    /// 0–100.
    pub overall_pct: f64,
    pub custom_questions: Ratio,
    pub blueprints: Ratio,
    pub competencies: Ratio,
    pub required_skills: Ratio,
    pub preferred_skills: Ratio,
    pub language_prompts: Ratio,
    pub questions_answered: Ratio,
    pub follow_ups: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    pub gaps: Vec<String>,
}

/// The scored report of one interview.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub scorer_version: String,
    pub grader_version: String,
    pub transcript_format_version: u32,
    pub job_title: String,
    /// The languages the interview was held in, in order (the job's, then any the candidate
    /// switched to), when not only English: quotes are the candidate's words, untranslated.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub interview_languages: Vec<String>,
    /// Adjustments the candidate had (extra time, slower speech, …): they change the interview,
    /// never the score; listed so a reader weighs pace and timing accordingly.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accommodations: Vec<String>,
    /// How the interview ended (the engine's reason code).
    pub ended: String,
    pub composite: f64,
    pub decision: Decision,
    pub confidence: Confidence,
    pub summary: String,
    pub knockouts: Vec<KnockoutScore>,
    pub competencies: Vec<CompetencyScore>,
    pub required_skills: Vec<SkillScore>,
    pub preferred_skills: Vec<SkillScore>,
    pub dimensions: Vec<DimensionScore>,
    pub questions: Vec<QuestionScore>,
    pub concepts: Vec<ConceptDepth>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<LanguageResult>,
    pub strengths: Vec<String>,
    pub risks: Vec<String>,
    /// The strongest moments (up to five answers scored 3 or more), each with its audio time.
    pub notable_quotes: Vec<Quote>,
    /// The weakest moments: words that raised a red flag, then the lowest-scored answers.
    #[serde(default)]
    pub weakest_quotes: Vec<Quote>,
    pub next_step: String,
    pub coverage: CoverageStats,
    pub candidate_questions: Vec<String>,
    /// Timing patterns a reviewer may want to listen to (information only: never in a score
    /// or the recommendation); empty when the job turns them off.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub integrity_signals: Vec<crate::integrity::IntegritySignal>,
}
