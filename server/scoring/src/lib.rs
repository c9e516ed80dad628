//! viva-scoring: turns a finished interview into the recruiter's report.
//!
//! `score(&JobConfig, &Transcript) -> Report` is a pure function: no IO, no clock, no
//! randomness, no hash-order dependence, every float rounded before it is stored, so the same
//! transcript gives the same report byte for byte ([`to_json`]). The scorer's version
//! ([`SCORER_VERSION`]) and the grader's are stored in every report.
//!
//! What goes in: each main question with its follow-ups is a thread; answers with reference
//! answers are graded by `viva-grading`; knowledge-area depth comes from the engine's analysis
//! stored in the transcript. What comes out: knockouts, must-have competencies (pass/fail),
//! skills 0–10, questions 1–5 (seed 002's anchors), concept depth, rubric dimensions weighted
//! as configured, composite 0–100, recommendation with its thresholds, confidence, strengths,
//! risks, quotes, next step and coverage. Every score carries quotes, with audio times when
//! the transcript has word times.
//!
//! Renderers: [`to_json`], [`render::markdown`], [`render::html`]; with a human [`review::Review`]
//! (name-blind identity with an audited reveal, overrides with who/when/why):
//! [`review::markdown`], [`review::html`].

mod evidence;
pub mod integrity;
pub mod render;
pub mod report;
pub mod review;
mod score;

pub use report::{Quote, Recommendation, Report};
pub use score::{score, THRESHOLDS};

/// Changes whenever a formula changes, so an old report can be told from a re-score.
pub const SCORER_VERSION: &str = "viva-scoring/1";

#[derive(Debug, thiserror::Error)]
pub enum ScoreError {
    #[error("transcript format version {found} is not supported (this scorer reads {supported})")]
    FormatVersion { found: u32, supported: u32 },
    #[error("cannot encode the report: {0}")]
    Encode(#[from] serde_json::Error),
}

/// The report as pretty JSON with a final newline (the stored, byte-stable form).
pub fn to_json(report: &Report) -> Result<String, ScoreError> {
    Ok(serde_json::to_string_pretty(report)? + "\n")
}

/// Output formats of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Markdown,
    Html,
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Format, String> {
        match s.to_ascii_lowercase().as_str() {
            "json" => Ok(Format::Json),
            "md" | "markdown" => Ok(Format::Markdown),
            "html" => Ok(Format::Html),
            other => Err(format!("unknown format {other:?}: use json, md or html")),
        }
    }
}

/// Renders `report` in `format`.
pub fn render(report: &Report, format: Format) -> Result<String, ScoreError> {
    match format {
        Format::Json => to_json(report),
        Format::Markdown => Ok(render::markdown(report)),
        Format::Html => Ok(render::html(report)),
    }
}
