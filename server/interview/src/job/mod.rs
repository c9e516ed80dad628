//! Job configuration: one TOML file per job (the fields of seed 000's sample configuration,
//! plus reference answers for grading), its validation with field and line, and its schema.
//!
//! Parsing is two passes over the same text: serde into [`JobConfig`] (types, unknown keys,
//! missing fields), then [`JobConfig::validate`] (rules serde cannot express). Both report a
//! field path; the line comes from toml_edit's spans of the same document.

use std::fmt;
use std::path::Path;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::lang::Lang;
use crate::text::{is_stopword, Tokens};

mod accommodations;
mod validate;

pub use accommodations::{Accommodations, EXTRA_TIME_FACTORS};

/// The demo job: seed 000's "Senior Backend Developer — B2B SaaS".
pub const DEMO_JOB_TOML: &str = include_str!("../../jobs/senior-backend-b2b-saas.toml");

/// The demo job, parsed. It is validated by the tests, so a failure here is a build defect.
pub fn demo_job() -> JobConfig {
    match JobConfig::from_toml_str(DEMO_JOB_TOML) {
        Ok(job) => job,
        Err(errors) => {
            panic!("the embedded demo job is invalid (a bug in the shipped file):\n{errors}")
        }
    }
}

/// A job's interview configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JobConfig {
    /// Job title, as the candidate sees it.
    pub title: String,
    pub family: JobFamily,
    /// The full job description.
    pub description: String,
    /// Two or three sentences the interviewer uses instead of the full description.
    pub role_brief: String,
    /// Planned length of the interview.
    pub duration_minutes: u32,
    /// Speaking style; never overrides fairness and neutrality rules.
    #[serde(default)]
    pub tone: String,
    /// Context about the company, for phrasing and for answering candidates' questions later.
    #[serde(default)]
    pub company_instructions: String,
    /// Passed to scoring as additional context.
    #[serde(default)]
    pub evaluation_notes: String,
    /// Whether the candidate's camera is recorded too (the engine itself is voice/text only).
    #[serde(default)]
    pub video: bool,
    pub template: Template,
    pub language: LanguageSettings,
    #[serde(default)]
    pub skills: Skills,
    /// Behavioural/functional capabilities, evaluated pass/fail.
    #[serde(default)]
    pub competencies: Vec<Competency>,
    /// Automatic disqualifiers, asked early.
    #[serde(default)]
    pub knockouts: Vec<Knockout>,
    /// Mandatory questions, asked in this order.
    #[serde(default)]
    pub custom_questions: Vec<QuestionSpec>,
    /// Deep-dive questions with pre-written follow-ups asked of every candidate.
    #[serde(default)]
    pub blueprints: Vec<QuestionSpec>,
    pub rubric: Rubric,
    /// Company-specific topics the interviewer never raises.
    #[serde(default)]
    pub banned_topics: Vec<BannedTopic>,
    /// Turn-taking: how long a candidate's pause may last before the interviewer answers.
    #[serde(default)]
    pub turn: TurnSettings,
    /// Adjustments every candidate of this job gets (an invite can add its own).
    #[serde(default, skip_serializing_if = "Accommodations::is_none")]
    pub accommodations: Accommodations,
    /// Timing patterns in the report for a reviewer to listen to (a late start, a late start
    /// then fluent delivery): information only, never scored. `false` leaves them out.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub integrity_signals: bool,
}

fn yes() -> bool {
    true
}

fn is_true(b: &bool) -> bool {
    *b
}

/// `[turn]`: the job's patience with candidates' pauses.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TurnSettings {
    /// `low` (×0.75 on every pause budget: short factual answers), `normal` (default) or
    /// `high` (×1.5: candidates who think aloud).
    #[serde(default)]
    pub patience: TurnPatience,
}

/// How long the interviewer waits through a pause, relative to the default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum TurnPatience {
    Low,
    #[default]
    Normal,
    High,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum JobFamily {
    Engineering,
    Data,
    Product,
    Design,
    Operations,
    Sales,
    Support,
    Other,
}

/// Interview template: how far the interviewer may dig on each question.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Template {
    pub preset: TemplatePreset,
    /// Overrides the preset's number of follow-ups per question.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_follow_ups_per_question: Option<u8>,
}

impl Template {
    pub fn max_follow_ups(&self) -> u8 {
        self.max_follow_ups_per_question
            .unwrap_or(self.preset.max_follow_ups())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum TemplatePreset {
    /// One follow-up per question.
    QuickScreen,
    /// Up to three follow-ups per question.
    StandardScreen,
    /// Up to five follow-ups per question ("Deep Technical Screen").
    DeepTechnicalScreen,
}

impl TemplatePreset {
    pub fn max_follow_ups(self) -> u8 {
        match self {
            TemplatePreset::QuickScreen => 1,
            TemplatePreset::StandardScreen => 3,
            TemplatePreset::DeepTechnicalScreen => 5,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LanguageSettings {
    /// Language the interview starts in, as a BCP 47 tag: "en", "es" or "de" (a region such as
    /// "es-MX" is accepted; the interviewer's phrases are the language's own).
    pub interview: String,
    /// Languages the candidate may ask to continue in ("en", "es", "de"); the interview
    /// language is always allowed. Empty: only the interview language.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed: Vec<String>,
    /// Language whose proficiency is assessed; defaults to the interview language.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assessment: Option<String>,
    /// Minimum CEFR level; no proficiency segment when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_cefr: Option<Cefr>,
    /// Number of proficiency prompts.
    #[serde(default = "default_language_questions")]
    pub questions: u8,
    /// Proficiency prompts; when empty, the built-in ones of the assessed language (English,
    /// Spanish or German) are used.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub prompts: Vec<String>,
}

impl JobConfig {
    /// The language the interview starts in (English when the tag is not supported: a job
    /// that passed validation always names a supported one).
    pub fn interview_lang(&self) -> Lang {
        Lang::from_tag(&self.language.interview).unwrap_or_default()
    }

    /// The languages the interview may be held in: the interview language first, then the
    /// other allowed ones in the job's order (unsupported tags left out).
    pub fn allowed_langs(&self) -> Vec<Lang> {
        let mut out = vec![self.interview_lang()];
        for l in self
            .language
            .allowed
            .iter()
            .filter_map(|t| Lang::from_tag(t))
        {
            if !out.contains(&l) {
                out.push(l);
            }
        }
        out
    }

    /// The language whose proficiency the language check assesses, when viva has prompts of its
    /// own for it (the job's `assessment`, else its interview language).
    pub fn assessed_lang(&self) -> Option<Lang> {
        match &self.language.assessment {
            Some(tag) => Lang::from_tag(tag),
            None => Some(self.interview_lang()),
        }
    }
}

fn default_language_questions() -> u8 {
    3
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
pub enum Cefr {
    A1,
    A2,
    B1,
    B2,
    C1,
    C2,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Skills {
    /// Assessed with dedicated questions (3–7 recommended).
    #[serde(default)]
    pub required: Vec<Skill>,
    /// Bonus credit when demonstrated.
    #[serde(default)]
    pub preferred: Vec<Skill>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Skill {
    pub name: String,
    pub level: SkillLevel,
    /// Bank concept that holds questions for this skill ("api-design").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concept: Option<String>,
    /// Words that show the skill was discussed ("postgres|postgresql"); defaults to the name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub terms: Vec<String>,
}

/// Basic = with guidance, intermediate = independent, advanced = can teach others,
/// expert = industry-leading.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum SkillLevel {
    Basic,
    Intermediate,
    Advanced,
    Expert,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Competency {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concept: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub terms: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Knockout {
    pub name: String,
    /// What the interviewer asks.
    pub question: String,
    /// The fail rule as a human reads it ("Less than 3 years of professional backend development").
    pub fail_if: String,
    /// The fail rule as the engine applies it.
    pub rule: KnockoutRule,
    /// Years for `min-years`, weeks for `max-weeks-to-start`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<f32>,
    #[serde(default)]
    pub rationale: String,
    #[serde(default)]
    pub on_fail: KnockoutOutcome,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum KnockoutRule {
    /// Fails when the stated years of experience are below `threshold`.
    MinYears,
    /// Fails when the earliest start is more than `threshold` weeks away.
    MaxWeeksToStart,
    /// Fails on a clear "no" (e.g. work authorization).
    MustConfirm,
    /// Never fails automatically; the answer is recorded for a person.
    Manual,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum KnockoutOutcome {
    /// Close the interview politely (the result is never told to the candidate).
    #[default]
    EndInterview,
    /// Record the failure ("No" recommendation) and carry on.
    FlagAndContinue,
}

/// A custom question or a blueprint.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct QuestionSpec {
    /// Short id ("B1"); required for blueprints.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub text: String,
    /// Plainer wording, used when the candidate asks for a rephrase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rephrased: Option<String>,
    /// What kind of answer the question asks for; inferred from the wording when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expects: Option<AnswerExpectation>,
    /// Bank concepts this question provides evidence for ("api-design").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub concepts: Vec<String>,
    /// Knowledge areas borrowed from the bank, as "concept.area".
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bank_areas: Vec<String>,
    /// Knowledge areas written for this question.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub knowledge_areas: Vec<KnowledgeArea>,
    /// Pre-written follow-ups, asked of every candidate in this order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub follow_ups: Vec<String>,
    /// One or several acceptable reference answers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expected_answers: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub key_concepts: Vec<String>,
    /// Behaviours that count against an answer when the answer shows them ("Adds indexes by
    /// trial and error"), raised with the quote. A flag phrased as an absence ("Cannot name…",
    /// "No mention of…") is never raised: it is reported as a point not shown.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub red_flags: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum AnswerExpectation {
    /// A real past example ("tell me about a time").
    Experience,
    /// An approach or design; hypothetical answers are fine.
    Approach,
    /// A view or preference.
    Opinion,
}

/// A knowledge area with the cues of a surface, working and deep answer (seed 004's ladder).
/// Cues are phrases; `|` separates alternatives ("idempotency key|idempotent").
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KnowledgeArea {
    pub id: String,
    pub name: String,
    /// 1 (nice to hear) to 3 (must hear); the most important missing area is probed first.
    #[serde(default = "default_importance")]
    pub importance: u8,
    #[serde(default)]
    pub surface: Vec<String>,
    #[serde(default)]
    pub working: Vec<String>,
    #[serde(default)]
    pub deep: Vec<String>,
    /// Follow-ups that target this area.
    #[serde(default)]
    pub probes: Vec<String>,
}

fn default_importance() -> u8 {
    2
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Rubric {
    pub dimensions: Vec<RubricDimension>,
    /// The composite (0–100) each recommendation needs; defaults 80 / 65 / 45.
    #[serde(default)]
    pub thresholds: Thresholds,
}

/// `[rubric.thresholds]`: the lowest composite (0–100) for each recommendation; below `maybe`
/// is No. Each must be lower than the one above it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Thresholds {
    #[serde(default = "default_strong_yes")]
    pub strong_yes: u8,
    #[serde(default = "default_yes")]
    pub yes: u8,
    #[serde(default = "default_maybe")]
    pub maybe: u8,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            strong_yes: default_strong_yes(),
            yes: default_yes(),
            maybe: default_maybe(),
        }
    }
}

fn default_strong_yes() -> u8 {
    80
}
fn default_yes() -> u8 {
    65
}
fn default_maybe() -> u8 {
    45
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RubricDimension {
    pub name: String,
    /// Percent; all weights sum to 100.
    pub weight: u32,
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BannedTopic {
    /// The rule as a person reads it.
    pub topic: String,
    /// Words the interviewer must never say for this topic ("salary|salaries").
    pub terms: Vec<String>,
}

// ---------------------------------------------------------------------------------------------
// Errors

/// One problem in a job file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JobIssue {
    /// Dotted path of the field ("rubric.dimensions[2].weight"); empty for the whole file.
    pub field: String,
    /// 1-based line in the file, when known.
    pub line: Option<usize>,
    pub message: String,
    /// How to fix it.
    pub fix: String,
}

impl fmt::Display for JobIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "line {line}: ")?,
            None => write!(f, "(no line): ")?,
        }
        let field = if self.field.is_empty() {
            "(file)"
        } else {
            &self.field
        };
        write!(f, "{field}: {}. Fix: {}", self.message, self.fix)
    }
}

/// Every problem found in a job file (never empty).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct JobErrors(pub Vec<JobIssue>);

impl fmt::Display for JobErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, issue) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{issue}")?;
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum JobLoadError {
    #[error("cannot read job file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("job file {path} is invalid:\n{errors}")]
    Invalid { path: String, errors: JobErrors },
}

/// A field path segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    Key(String),
    Index(usize),
}

fn key(k: &str) -> Seg {
    Seg::Key(k.to_string())
}

fn path_string(path: &[Seg]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Seg::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

/// A problem found by [`JobConfig::validate`], before it is given a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub path: Vec<Seg>,
    pub message: String,
    pub fix: String,
}

impl JobConfig {
    /// Parses and validates a job file's text.
    pub fn from_toml_str(src: &str) -> Result<JobConfig, JobErrors> {
        let doc = toml_edit::ImDocument::parse(src).ok();
        let job: JobConfig = match toml::from_str(src) {
            Ok(job) => job,
            Err(e) => return Err(JobErrors(vec![serde_issue(src, doc.as_ref(), &e)])),
        };
        let problems = job.validate();
        if problems.is_empty() {
            return Ok(job);
        }
        let issues = problems
            .into_iter()
            .map(|p| JobIssue {
                field: path_string(&p.path),
                line: doc.as_ref().and_then(|d| line_of_path(src, d, &p.path)),
                message: p.message,
                fix: p.fix,
            })
            .collect();
        Err(JobErrors(issues))
    }

    pub fn load(path: &Path) -> Result<JobConfig, JobLoadError> {
        let shown = path.display().to_string();
        let src = std::fs::read_to_string(path).map_err(|source| JobLoadError::Read {
            path: shown.clone(),
            source,
        })?;
        JobConfig::from_toml_str(&src).map_err(|errors| JobLoadError::Invalid {
            path: shown,
            errors,
        })
    }

    /// Renders the job as TOML (for drafts a person edits).
    pub fn to_toml_string(&self) -> Result<String, toml::ser::Error> {
        toml::to_string_pretty(self)
    }
}

// ---------------------------------------------------------------------------------------------
// Lines

fn line_of_offset(src: &str, offset: usize) -> usize {
    src.as_bytes()
        .iter()
        .take(offset.min(src.len()))
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

/// Line of the deepest part of `path` that exists in the document: a missing field is reported
/// at its table, an array element at its first line.
fn line_of_path(src: &str, doc: &toml_edit::ImDocument<&str>, path: &[Seg]) -> Option<usize> {
    use toml_edit::{Item, Table, Value};
    enum Node<'a> {
        Table(&'a Table),
        Item(&'a Item),
        Value(&'a Value),
    }
    let mut best: Option<usize> = None;
    let mut node = Node::Table(doc.as_table());
    for seg in path {
        // Normalise items to the table or value they hold.
        if let Node::Item(item) = node {
            node = match item {
                Item::Table(t) => Node::Table(t),
                Item::Value(v) => Node::Value(v),
                _ => node,
            };
        }
        let next = match (seg, &node) {
            (Seg::Key(k), Node::Table(t)) => {
                if let Some(span) = t.key(k).and_then(|key| key.span()) {
                    best = Some(span.start);
                }
                t.get(k).map(Node::Item)
            }
            (Seg::Key(k), Node::Value(Value::InlineTable(t))) => {
                if let Some(span) = t.key(k).and_then(|key| key.span()) {
                    best = Some(span.start);
                }
                t.get(k).map(Node::Value)
            }
            (Seg::Index(i), Node::Item(Item::ArrayOfTables(a))) => a.get(*i).map(|t| {
                if let Some(span) = t.span() {
                    best = Some(span.start);
                }
                Node::Table(t)
            }),
            (Seg::Index(i), Node::Value(Value::Array(a))) => a.get(*i).map(|v| {
                if let Some(span) = v.span() {
                    best = Some(span.start);
                }
                Node::Value(v)
            }),
            _ => None,
        };
        match next {
            Some(n) => node = n,
            None => break,
        }
    }
    best.map(|offset| line_of_offset(src, offset))
}

fn serde_issue(
    src: &str,
    doc: Option<&toml_edit::ImDocument<&str>>,
    e: &toml::de::Error,
) -> JobIssue {
    let message = e.message().trim().to_string();
    let span = e.span();
    let line = span.as_ref().map(|s| line_of_offset(src, s.start));
    let field = match (doc, &span) {
        (Some(d), Some(s)) => path_at_offset(d, s.start),
        _ => String::new(),
    };
    let fix = if message.starts_with("unknown field") {
        "remove the key or correct its spelling (the message lists the keys allowed here)"
            .to_string()
    } else if let Some(rest) = message.strip_prefix("missing field `") {
        let name = rest.split('`').next().unwrap_or("");
        format!("add `{name} = ...` to this table")
    } else if message.starts_with("unknown variant") {
        "use one of the values the message lists".to_string()
    } else if message.starts_with("invalid type") {
        "give the value the type the message asks for".to_string()
    } else if doc.is_none() {
        "fix the TOML syntax at this line (quotes, brackets, one key per line)".to_string()
    } else {
        "correct the value".to_string()
    };
    JobIssue {
        field,
        line,
        message,
        fix,
    }
}

/// Dotted path of the innermost key whose key or value contains `offset`.
fn path_at_offset(doc: &toml_edit::ImDocument<&str>, offset: usize) -> String {
    fn walk_table(t: &toml_edit::Table, offset: usize, path: &mut Vec<Seg>) -> bool {
        for (k, item) in t.iter() {
            let key_hit = t
                .key(k)
                .and_then(|key| key.span())
                .is_some_and(|s| s.contains(&offset));
            path.push(key(k));
            if walk_item(item, offset, path) || key_hit {
                return true;
            }
            path.pop();
        }
        t.span().is_some_and(|s| s.contains(&offset))
    }
    fn walk_item(item: &toml_edit::Item, offset: usize, path: &mut Vec<Seg>) -> bool {
        match item {
            toml_edit::Item::Table(t) => walk_table(t, offset, path),
            toml_edit::Item::ArrayOfTables(a) => {
                for (i, t) in a.iter().enumerate() {
                    path.push(Seg::Index(i));
                    if walk_table(t, offset, path) {
                        return true;
                    }
                    path.pop();
                }
                false
            }
            toml_edit::Item::Value(v) => v.span().is_some_and(|s| s.contains(&offset)),
            toml_edit::Item::None => false,
        }
    }
    let mut path = Vec::new();
    walk_table(doc.as_table(), offset, &mut path);
    path_string(&path)
}

/// The JSON Schema of a job file (published as `job.schema.json`; a test keeps it in sync).
pub fn job_json_schema() -> String {
    let schema = schemars::schema_for!(JobConfig);
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}
