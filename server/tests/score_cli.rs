//! `viva score`: the recorded demo transcript scores in every format, deterministically.

use std::path::PathBuf;

use viva_server::commands::score::{render, ScoreArgs};

fn args(format: &str) -> ScoreArgs {
    ScoreArgs {
        transcript: PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/interview/recordings/demo-transcript.json"
        )),
        job: Some(PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/interview/jobs/senior-backend-b2b-saas.toml"
        ))),
        format: format.parse().expect("format"),
        out: None,
    }
}

#[test]
fn scores_the_recorded_demo_in_each_format() {
    let json = render(&args("json")).expect("json");
    let report: serde_json::Value = serde_json::from_str(&json).expect("valid json");
    assert_eq!(report["scorer_version"], "viva-scoring/1");
    assert!(report["composite"]
        .as_f64()
        .is_some_and(|c| (0.0..=100.0).contains(&c)));
    assert_eq!(json, render(&args("json")).expect("json again"));
    assert!(render(&args("md"))
        .expect("md")
        .contains("## Scoring dimensions"));
    assert!(render(&args("html"))
        .expect("html")
        .contains("<h2>Knockout criteria</h2>"));
}

#[test]
fn bad_inputs_are_errors() {
    let mut a = args("json");
    a.transcript = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"));
    assert!(render(&a).is_err());
    assert!("pdf".parse::<viva_scoring::Format>().is_err());
}
