//! Command-line entry points as library functions; the `viva` binary wires them in:
//! `viva interview --text`, `viva job from-jd FILE`, `viva job validate FILE`.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use crate::draft::draft_job;
use crate::engine::{Action, EngineConfig, Event, Interview};
use crate::job::{demo_job, JobConfig, JobErrors, JobLoadError};
use crate::transcript::{Reason, Transcript};

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Job(#[from] JobLoadError),
    #[error("{count} problem(s) in {path}")]
    InvalidJob { path: String, count: usize },
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
    #[error("terminal input/output failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("cannot encode the result: {0}")]
    Encode(String),
    #[error(transparent)]
    Candidate(#[from] crate::candidate::CandidateError),
}

/// `viva interview`: a full interview in the terminal.
#[derive(Debug, Clone, clap::Args)]
pub struct InterviewArgs {
    /// Job file (TOML); the built-in demo job when absent.
    #[arg(long, value_name = "FILE")]
    pub job: Option<PathBuf>,
    /// Text mode: questions are printed and answers typed, one line per answer (an empty line
    /// is silence). Currently the only mode of this command (voice runs through the server), so
    /// it is on whether or not the flag is given.
    #[arg(long)]
    pub text: bool,
    /// Where to save the transcript with its decision log (JSON).
    #[arg(long, value_name = "FILE", default_value = "interview-transcript.json")]
    pub out: PathBuf,
    /// Count this many seconds per answer instead of reading the clock (reproducible scripted runs).
    #[arg(long, value_name = "SECONDS")]
    pub simulated_answer_secs: Option<u64>,
    /// Print each decision's reason under the interviewer's line.
    #[arg(long)]
    pub show_decisions: bool,
    /// Print each answer read from the input (for answers piped from a file).
    #[arg(long)]
    pub echo_answers: bool,
    /// Answer with a scripted candidate (TOML; see `server/interview/candidates/`) instead of
    /// reading lines: each reply is picked by the words of the question just asked. Answers
    /// are echoed; with `--simulated-answer-secs` they get word times too. The job is the one
    /// the candidate file names (`job = "..."`), unless `--job` is given.
    #[arg(long, value_name = "FILE")]
    pub candidate: Option<PathBuf>,
}

/// `viva job from-jd`: drafts a job file from a job description.
#[derive(Debug, Clone, clap::Args)]
pub struct JobFromJdArgs {
    /// Text file with the job description; `-` reads standard input.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Title of the job (default: the description's first line, when it looks like a title).
    #[arg(long)]
    pub title: Option<String>,
    /// Where to write the draft (default: standard output).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// `viva job validate`: checks a job file and prints each problem with its field and line.
#[derive(Debug, Clone, clap::Args)]
pub struct JobValidateArgs {
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
}

fn load_job(path: Option<&Path>) -> Result<JobConfig, CliError> {
    match path {
        None => Ok(demo_job()),
        Some(p) => Ok(JobConfig::load(p)?),
    }
}

fn print_actions(
    out: &mut impl Write,
    actions: &[Action],
    show_decisions: bool,
) -> Result<(), CliError> {
    for action in actions {
        match action {
            Action::Say {
                text,
                decision,
                reason,
                ..
            } => {
                writeln!(out, "Interviewer: {text}")?;
                if show_decisions {
                    let reason = serde_json::to_string(reason)
                        .map_err(|e| CliError::Encode(e.to_string()))?;
                    let decision = serde_json::to_string(decision)
                        .map_err(|e| CliError::Encode(e.to_string()))?;
                    writeln!(out, "    [{} {reason}]", decision.trim_matches('"'))?;
                }
            }
            Action::EndInterview { reason } => {
                let reason =
                    serde_json::to_string(reason).map_err(|e| CliError::Encode(e.to_string()))?;
                writeln!(out, "[interview ended: {reason}]")?;
            }
        }
    }
    Ok(())
}

/// Runs a whole interview over `input` and `output`, then saves the transcript to `args.out`.
pub fn run_interview(
    args: &InterviewArgs,
    input: impl BufRead,
    output: impl Write,
) -> Result<Transcript, CliError> {
    run_interview_with(
        args,
        input,
        output,
        Box::new(crate::analysis::LexicalAreaMatcher),
    )
}

/// [`run_interview`] with another knowledge-area matcher (the `viva` binary passes the
/// sentence-embedding one when the model is provisioned).
pub fn run_interview_with(
    args: &InterviewArgs,
    input: impl BufRead,
    mut output: impl Write,
    matcher: Box<dyn crate::analysis::AreaMatcher + Send + Sync>,
) -> Result<Transcript, CliError> {
    let candidate = match &args.candidate {
        Some(path) => Some(crate::candidate::ScriptedCandidate::load(path)?),
        None => None,
    };
    // A scripted candidate may name the job it answers; `--job` wins.
    let job_path = args.job.clone().or_else(|| {
        let (c, path) = candidate.as_ref().zip(args.candidate.as_ref())?;
        c.job_path(path)
    });
    let job = load_job(job_path.as_deref())?;
    writeln!(
        output,
        "viva text interview: {} ({} minutes). One line per answer; an empty line is silence.\n",
        job.title, job.duration_minutes
    )?;
    let mut replay = candidate.as_ref().map(|c| c.replay());
    let mut interview = Interview::with_matcher(job, EngineConfig::default(), matcher);
    // The wall clock is read here, at the edge; the engine only ever sees numbers.
    let wall_start = std::time::Instant::now();
    let mut simulated_ms: u64 = 0;
    let mut now = |words: usize| -> u64 {
        match args.simulated_answer_secs {
            // Thinking time plus speaking at about 2.5 words a second.
            Some(secs) => {
                simulated_ms += secs * 1000 + words as u64 * 400;
                simulated_ms
            }
            None => u64::try_from(wall_start.elapsed().as_millis()).unwrap_or(u64::MAX),
        }
    };
    let mut actions = interview.handle(now(0), Event::Start);
    print_actions(&mut output, &actions, args.show_decisions)?;
    let mut lines = input.lines();
    let mut silence_ms = 0;
    // A scripted candidate answers at most this many times (a loop guard, never reached by a
    // plan that ends).
    let mut scripted_left = 200u32;
    while !interview.is_ended() {
        write!(output, "> ")?;
        output.flush()?;
        let next = match replay.as_mut() {
            Some(r) if scripted_left > 0 => {
                scripted_left -= 1;
                Some(Ok(r
                    .answer(&crate::candidate::last_question(&actions))
                    .to_string()))
            }
            Some(_) => None,
            None => lines.next(),
        };
        let Some(line) = next else {
            let actions = interview.handle(now(0), Event::CandidateLeft);
            writeln!(output)?;
            print_actions(&mut output, &actions, args.show_decisions)?;
            break;
        };
        let line = line?;
        let text = line.trim();
        if text.is_empty() {
            // An empty line stands for a long silence.
            silence_ms += 31_000;
            actions = interview.handle(now(0), Event::Silence { ms: silence_ms });
            print_actions(&mut output, &actions, args.show_decisions)?;
            continue;
        }
        silence_ms = 0;
        if args.echo_answers || replay.is_some() {
            writeln!(output, "Candidate: {text}")?;
        }
        let words = text.split_whitespace().count();
        let at = now(words);
        // A scripted candidate in simulated time said its words at 400 ms each, ending now (so
        // its report quotes carry times, as a spoken interview's do).
        let timed = args
            .simulated_answer_secs
            .filter(|_| replay.is_some())
            .map(|_| {
                let from = at.saturating_sub(words as u64 * 400);
                text.split_whitespace()
                    .enumerate()
                    .map(|(i, w)| crate::transcript::Word {
                        text: w.to_string(),
                        start_ms: from + i as u64 * 400,
                        end_ms: from + i as u64 * 400 + 350,
                    })
                    .collect()
            });
        actions = interview.handle(
            at,
            Event::CandidateAnswered {
                text: text.to_string(),
                words: timed,
            },
        );
        print_actions(&mut output, &actions, args.show_decisions)?;
    }
    let transcript = interview.into_transcript();
    let json =
        serde_json::to_string_pretty(&transcript).map_err(|e| CliError::Encode(e.to_string()))?;
    std::fs::write(&args.out, json + "\n").map_err(|source| CliError::Write {
        path: args.out.display().to_string(),
        source,
    })?;
    let asked = transcript.turns.iter().filter(|t| t.awaits_answer).count();
    let end = transcript
        .end_reason
        .as_ref()
        .map(reason_code)
        .unwrap_or_else(|| "unfinished".into());
    writeln!(output, "\nSaved transcript and decision log ({} turns, {asked} questions, {} decisions, ended: {end}) to {}", transcript.turns.len(), transcript.decisions.len(), args.out.display())?;
    Ok(transcript)
}

fn reason_code(reason: &Reason) -> String {
    serde_json::to_value(reason)
        .ok()
        .and_then(|v| v.get("code").and_then(|c| c.as_str()).map(str::to_string))
        .unwrap_or_default()
}

/// Drafts a job file from a job description (`args.file`, or `input` for `-`).
pub fn run_job_from_jd(
    args: &JobFromJdArgs,
    mut input: impl BufRead,
    mut output: impl Write,
) -> Result<JobConfig, CliError> {
    let description = if args.file.as_os_str() == "-" {
        let mut text = String::new();
        input
            .read_to_string(&mut text)
            .map_err(|source| CliError::Read {
                path: "-".into(),
                source,
            })?;
        text
    } else {
        std::fs::read_to_string(&args.file).map_err(|source| CliError::Read {
            path: args.file.display().to_string(),
            source,
        })?
    };
    let job = draft_job(&description, args.title.as_deref());
    let body = job
        .to_toml_string()
        .map_err(|e| CliError::Encode(e.to_string()))?;
    let text = format!(
        "# Drafted by `viva job from-jd` from a job description. Review and edit every field,\n\
         # then check it with `viva job validate`. Schema: server/interview/job.schema.json\n\n{body}"
    );
    match &args.out {
        Some(path) => {
            std::fs::write(path, &text).map_err(|source| CliError::Write {
                path: path.display().to_string(),
                source,
            })?;
            writeln!(
                output,
                "Draft job \"{}\" written to {}",
                job.title,
                path.display()
            )?;
        }
        None => output.write_all(text.as_bytes())?,
    }
    Ok(job)
}

/// Validates a job file; prints "FILE:LINE: field: problem. Fix: ..." per problem.
pub fn run_job_validate(
    args: &JobValidateArgs,
    mut output: impl Write,
) -> Result<JobConfig, CliError> {
    let path = args.file.display().to_string();
    let src = std::fs::read_to_string(&args.file).map_err(|source| CliError::Read {
        path: path.clone(),
        source,
    })?;
    match JobConfig::from_toml_str(&src) {
        Ok(job) => {
            writeln!(
                output,
                "{path}: OK: \"{}\": {} knockouts, {} custom questions, {} blueprints, {} rubric dimensions (weights sum to 100), up to {} follow-ups per question",
                job.title,
                job.knockouts.len(),
                job.custom_questions.len(),
                job.blueprints.len(),
                job.rubric.dimensions.len(),
                job.template.max_follow_ups()
            )?;
            Ok(job)
        }
        Err(JobErrors(issues)) => {
            for issue in &issues {
                let line = issue.line.map(|l| format!("{l}:")).unwrap_or_default();
                let field = if issue.field.is_empty() {
                    "(file)"
                } else {
                    &issue.field
                };
                writeln!(
                    output,
                    "{path}:{line} {field}: {}. Fix: {}",
                    issue.message, issue.fix
                )?;
            }
            Err(CliError::InvalidJob {
                path,
                count: issues.len(),
            })
        }
    }
}
