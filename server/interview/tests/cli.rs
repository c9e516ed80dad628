//! The CLI entry points, driven with in-memory input and output.

use std::io::Cursor;
use std::path::PathBuf;

use viva_interview::cli::{
    run_interview, run_job_from_jd, run_job_validate, CliError, InterviewArgs, JobFromJdArgs,
    JobValidateArgs,
};
use viva_interview::job::{JobConfig, DEMO_JOB_TOML};
use viva_interview::{Reason, Transcript};

fn interview_args(out: PathBuf, job: Option<PathBuf>) -> InterviewArgs {
    InterviewArgs {
        job,
        text: true,
        out,
        simulated_answer_secs: Some(20),
        show_decisions: true,
        echo_answers: false,
        candidate: None,
    }
}

#[test]
fn text_interview_runs_to_the_end_and_saves_the_transcript() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("t.json");
    let mut answers = vec!["Yes, ready.", "Eight years.", "In four weeks."];
    // Enough for the custom questions, blueprints, coverage questions and language prompts.
    answers.extend(std::iter::repeat_n("Sorry, I don't know.", 20));
    answers.extend(std::iter::repeat_n("No, that's all.", 10));
    let input = answers.join("\n");
    let mut printed = Vec::new();
    let transcript = run_interview(
        &interview_args(out.clone(), None),
        Cursor::new(input),
        &mut printed,
    )
    .expect("interview");
    let printed = String::from_utf8(printed).expect("utf8");
    assert!(printed.contains("Interviewer: Hello"), "{printed}");
    assert!(
        printed.contains("[ask_question {\"code\":\"scripted_order\",\"index\":0}]"),
        "{printed}"
    );
    assert_eq!(
        transcript.end_reason,
        Some(Reason::NoMoreCandidateQuestions),
        "{printed}"
    );
    let saved: Transcript =
        serde_json::from_str(&std::fs::read_to_string(&out).expect("saved")).expect("json");
    assert_eq!(saved, transcript);
    assert!(!saved.decisions.is_empty());
}

#[test]
fn end_of_input_means_the_candidate_left_and_blank_lines_are_silence() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("t.json");
    let mut printed = Vec::new();
    let transcript = run_interview(
        &interview_args(out, None),
        Cursor::new("Ready.\n\n\n"),
        &mut printed,
    )
    .expect("interview");
    let printed = String::from_utf8(printed).expect("utf8");
    assert!(printed.contains("Take your time"), "{printed}");
    assert_eq!(transcript.end_reason, Some(Reason::CandidateLeft));
}

#[test]
fn interview_with_a_bad_job_file_reports_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let job = dir.path().join("job.toml");
    std::fs::write(&job, DEMO_JOB_TOML.replace("weight = 25", "weight = 20")).expect("write");
    let err = run_interview(
        &interview_args(dir.path().join("t.json"), Some(job)),
        Cursor::new(""),
        Vec::new(),
    )
    .expect_err("invalid");
    assert!(err.to_string().contains("weights sum to 95"), "{err}");
}

#[test]
fn validate_prints_field_line_and_fix() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("bad.toml");
    let src = DEMO_JOB_TOML.replace(
        "preset = \"deep-technical-screen\"",
        "preset = \"deep-technical-screen\"\nmax_followups = 3",
    );
    std::fs::write(&bad, &src).expect("write");
    let mut printed = Vec::new();
    let err = run_job_validate(&JobValidateArgs { file: bad.clone() }, &mut printed)
        .expect_err("invalid");
    assert!(matches!(err, CliError::InvalidJob { count: 1, .. }));
    let printed = String::from_utf8(printed).expect("utf8");
    let line = src
        .lines()
        .position(|l| l.starts_with("max_followups"))
        .expect("line")
        + 1;
    assert!(
        printed.starts_with(&format!(
            "{}:{line}: template.max_followups: unknown field",
            bad.display()
        )),
        "{printed}"
    );
    assert!(printed.contains("Fix: "), "{printed}");

    let good = dir.path().join("good.toml");
    std::fs::write(&good, DEMO_JOB_TOML).expect("write");
    let mut printed = Vec::new();
    run_job_validate(&JobValidateArgs { file: good }, &mut printed).expect("valid");
    assert!(String::from_utf8(printed).expect("utf8").contains("OK"));
}

#[test]
fn from_jd_drafts_a_valid_job_from_stdin_or_a_file() {
    let jd = "Backend Engineer\nBuild gRPC and REST APIs in Go on PostgreSQL and Redis. 3+ years of experience. Tracing with OpenTelemetry.";
    let mut printed = Vec::new();
    let args = JobFromJdArgs {
        file: PathBuf::from("-"),
        title: None,
        out: None,
    };
    let job = run_job_from_jd(&args, Cursor::new(jd), &mut printed).expect("draft");
    let text = String::from_utf8(printed).expect("utf8");
    assert!(text.starts_with("# Drafted by `viva job from-jd`"));
    assert_eq!(
        JobConfig::from_toml_str(&text).expect("valid TOML job"),
        job
    );
    assert_eq!(job.knockouts[0].threshold, Some(3.0));

    let dir = tempfile::tempdir().expect("tempdir");
    let (jd_file, out) = (dir.path().join("jd.txt"), dir.path().join("job.toml"));
    std::fs::write(&jd_file, jd).expect("write");
    let args = JobFromJdArgs {
        file: jd_file,
        title: Some("Go Backend Engineer".into()),
        out: Some(out.clone()),
    };
    run_job_from_jd(&args, Cursor::new(""), Vec::new()).expect("draft");
    let job = JobConfig::load(&out).expect("valid file");
    assert_eq!(job.title, "Go Backend Engineer");
}
