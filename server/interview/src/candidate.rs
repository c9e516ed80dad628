//! Scripted candidates: readable TOML files of answers keyed by what the interviewer asks, so a
//! whole interview can be replayed without a person (`viva interview --candidate FILE`). The
//! candidate picks each reply by the question's words, so the interviewer's own decisions
//! (follow-ups, probes, rephrasings) shape the transcript, as with a real candidate. The team's
//! calibration candidates live in `server/interview/candidates/`, each with the band a hiring
//! panel would give it; they are also a demo for recruiters. Candidates for other jobs (the
//! Spanish and German demo jobs, in `candidates/languages/`) name their job file.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::engine::Action;

/// The last thing the interviewer asked in `actions` (empty when it asked nothing): what a
/// candidate replies to.
pub fn last_question(actions: &[Action]) -> String {
    actions
        .iter()
        .rev()
        .find_map(|a| match a {
            Action::Say {
                text,
                awaits_answer: true,
                ..
            } => Some(text.clone()),
            _ => None,
        })
        .unwrap_or_default()
}

/// One scripted candidate.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScriptedCandidate {
    pub name: String,
    /// Who this is, in a sentence (for the reader).
    #[serde(default)]
    pub profile: String,
    /// The recommendations a hiring panel would accept for this candidate:
    /// `strong_yes`, `yes`, `maybe`, `no`.
    pub panel: Vec<String>,
    /// Replies, first match wins; each is given once (a repeated question gets the next match,
    /// then `otherwise`).
    #[serde(default)]
    pub answers: Vec<ScriptedAnswer>,
    /// The reply when no row matches.
    pub otherwise: String,
    /// The job file this candidate answers, relative to the candidate file; the demo job when
    /// absent (`--job` overrides it).
    #[serde(default)]
    pub job: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScriptedAnswer {
    /// Lower-case phrases; the row matches when the question contains any of them.
    pub when: Vec<String>,
    pub say: String,
    /// Give this reply every time it matches (short replies such as "Yes, I'm ready.").
    #[serde(default)]
    pub repeat: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum CandidateError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is not a scripted candidate: {message}")]
    Parse { path: String, message: String },
}

const BANDS: &[&str] = &["strong_yes", "yes", "maybe", "no"];

impl ScriptedCandidate {
    pub fn load(path: &Path) -> Result<Self, CandidateError> {
        let text = std::fs::read_to_string(path).map_err(|source| CandidateError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_toml_str(&text).map_err(|message| CandidateError::Parse {
            path: path.display().to_string(),
            message,
        })
    }

    pub fn from_toml_str(text: &str) -> Result<Self, String> {
        let c: ScriptedCandidate = toml::from_str(text).map_err(|e| e.to_string())?;
        if c.panel.is_empty() {
            return Err("`panel` names no band".into());
        }
        if let Some(bad) = c.panel.iter().find(|b| !BANDS.contains(&b.as_str())) {
            return Err(format!("`panel` band {bad:?} is not one of {BANDS:?}"));
        }
        if c.otherwise.trim().is_empty() {
            return Err("`otherwise` is empty".into());
        }
        if let Some(i) = c
            .answers
            .iter()
            .position(|a| a.say.trim().is_empty() || a.when.is_empty())
        {
            return Err(format!("answer {} has no `when` or an empty `say`", i + 1));
        }
        Ok(c)
    }

    /// The job file named by `job`, resolved next to `candidate_file`.
    pub fn job_path(&self, candidate_file: &Path) -> Option<PathBuf> {
        let job = self.job.as_deref()?;
        let dir = candidate_file.parent().unwrap_or(Path::new(""));
        Some(dir.join(job))
    }

    /// A replaying session of this candidate.
    pub fn replay(&self) -> Replay<'_> {
        Replay {
            candidate: self,
            used: vec![false; self.answers.len()],
        }
    }
}

/// A candidate answering one interview: remembers which replies were given.
pub struct Replay<'a> {
    candidate: &'a ScriptedCandidate,
    used: Vec<bool>,
}

impl Replay<'_> {
    /// The reply to `question`.
    pub fn answer(&mut self, question: &str) -> &str {
        let q = question.to_lowercase();
        let hit = self.candidate.answers.iter().enumerate().find(|(i, a)| {
            (a.repeat || !self.used[*i]) && a.when.iter().any(|k| q.contains(&k.to_lowercase()))
        });
        match hit {
            Some((i, a)) => {
                self.used[i] = true;
                &a.say
            }
            None => &self.candidate.otherwise,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r#"
name = "Test"
panel = ["yes"]
otherwise = "I would measure first."
[[answers]]
when = ["ready"]
say = "Yes."
repeat = true
[[answers]]
when = ["api"]
say = "First API story."
[[answers]]
when = ["api", "versioning"]
say = "Second API story."
"#;

    #[test]
    fn replies_follow_the_question_and_are_given_once() {
        let c = ScriptedCandidate::from_toml_str(FILE).expect("valid");
        let mut r = c.replay();
        assert_eq!(r.answer("Are you ready?"), "Yes.");
        assert_eq!(r.answer("Ready now?"), "Yes.");
        assert_eq!(
            r.answer("Describe an API you designed."),
            "First API story."
        );
        assert_eq!(r.answer("More about that API?"), "Second API story.");
        assert_eq!(r.answer("And the API again?"), "I would measure first.");
    }

    #[test]
    fn bad_files_say_what_is_wrong() {
        let e = ScriptedCandidate::from_toml_str(&FILE.replace("[\"yes\"]", "[\"hire\"]"))
            .expect_err("bad band");
        assert!(e.contains("hire"), "{e}");
        assert!(ScriptedCandidate::from_toml_str("name = 1").is_err());
    }
}
