//! The recorded text interview of the demo job (`recordings/`) is reproducible: the same
//! answers give the same transcript, byte for byte. Re-record after a deliberate engine change
//! with `VIVA_UPDATE_RECORDING=1 cargo test -p viva-interview --test recording`.

use std::io::Cursor;
use std::path::PathBuf;

use viva_interview::cli::{run_interview, InterviewArgs};
use viva_interview::{Decision, Reason};

#[test]
fn recorded_demo_interview_is_reproducible() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("recordings");
    let answers = std::fs::read_to_string(dir.join("demo-answers.txt")).expect("answers");
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("t.json");
    let args = InterviewArgs {
        job: None,
        text: true,
        out: out.clone(),
        simulated_answer_secs: Some(20),
        show_decisions: true,
        echo_answers: false,
        candidate: None,
    };
    let transcript = run_interview(&args, Cursor::new(answers), Vec::new()).expect("interview");
    let produced = std::fs::read_to_string(&out).expect("transcript");
    let recorded_path = dir.join("demo-transcript.json");
    if std::env::var_os("VIVA_UPDATE_RECORDING").is_some() {
        std::fs::write(&recorded_path, &produced).expect("write recording");
    }
    let recorded = std::fs::read_to_string(&recorded_path).unwrap_or_default();
    assert!(
        produced == recorded,
        "the recorded interview changed; re-record with VIVA_UPDATE_RECORDING=1"
    );

    assert_eq!(
        transcript.end_reason,
        Some(Reason::NoMoreCandidateQuestions)
    );
    let follow_up = |area: &str| {
        transcript.turns.iter().find(|t| {
            t.decision == Decision::TargetedFollowUp
                && matches!(&t.reason, Reason::MissingKnowledgeArea { area: a, .. } | Reason::ProbeForDepth { area: a, .. } if a == area)
        })
    };
    for area in [
        "incident-debugging",
        "failure-isolation",
        "scaling",
        "tracing",
    ] {
        assert!(follow_up(area).is_some(), "expected a follow-up on {area}");
    }
}
