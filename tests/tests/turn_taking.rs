//! Turn-taking on real speech with thinking pauses, through the real binary's production path
//! (`viva bench turns` over the WebSocket gateway): answers from `../shared/speech/pauses/`, each
//! with a 0.6–1.2 s pause inserted mid-sentence. Counts, not timings, are asserted: few turns
//! end inside a pause, no answer ends up split across two questions (a cut-off must be
//! recovered), every answer gets a reply, nothing fails. Skips visibly when the recordings are
//! absent.

use std::path::PathBuf;

use viva_e2e::*;

/// The pauses set's manifest, when the models and the recordings are here (else a visible skip).
fn pauses_manifest() -> Option<PathBuf> {
    if !model_available() {
        return None;
    }
    let manifest = std::env::var_os("VIVA_PAUSES_MANIFEST")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("../shared/speech/pauses/manifest.tsv"));
    if !manifest.exists() {
        eprintln!("SKIPPED: {} not found", manifest.display());
        return None;
    }
    Some(manifest)
}

#[test]
fn thinking_pauses_never_split_an_answer_across_two_questions() {
    let Some(manifest) = pauses_manifest() else {
        return;
    };
    let data = tempfile::tempdir().expect("tmp");
    let out = run(viva()
        .args(["bench", "turns", "--json"])
        .arg(&manifest)
        .env("VIVA_STORAGE_DATA_DIR", data.path())
        .env_remove("DATABASE_URL")
        // The server runs in the bench's process: give it every core, as a real one has.
        .env_remove("VIVA_MODELS_THREADS"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprintln!("{stderr}");
    assert!(out.status.success(), "bench turns failed: {stderr}");
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    let n = |k: &str| r[k].as_u64().unwrap_or(u64::MAX);
    eprintln!(
        "pauses set: {} answers, {} cut off, {} recovered, {} split, {} missed ends, latency {}",
        n("answers"),
        n("false_cutoffs"),
        n("recovered"),
        n("split_answers"),
        n("missed_ends"),
        r["latency_ms"]
    );
    assert_eq!(n("answers"), 16, "{r}");
    assert_eq!(n("errors"), 0, "{r}");
    assert_eq!(n("missed_ends"), 0, "every answer gets a reply: {r}");
    // Measured here on an idle machine: 1 of 16 cut off by the end-of-turn decision (9 of 16
    // before Smart Turn and the syntax rules), recovered. The bound leaves room for a machine
    // loaded by the other test binaries (late transcripts end turns on silence alone); a
    // decision that stopped weighing the acoustic and syntax signals cuts 6–9.
    assert!(
        n("false_cutoffs") <= 4,
        "turns ended inside thinking pauses: {r}"
    );
    assert!(
        n("split_answers") <= 1,
        "answers split across two questions: {r}"
    );
    // Every answer that was not cut off got the interviewer's voice back after it ended.
    assert_eq!(
        r["latency_ms"]["n"].as_u64().unwrap_or(0) + n("false_cutoffs"),
        n("answers"),
        "{r}"
    );
}

/// The same bench over the WebRTC gateway (Opus at 48 kHz, events on a data channel), on the
/// first answers of the set: the transport a browser candidate uses carries the decision and
/// the recovery as the WebSocket does. Counts only.
#[test]
fn thinking_pauses_over_webrtc() {
    let Some(manifest) = pauses_manifest() else {
        return;
    };
    let data = tempfile::tempdir().expect("tmp");
    let out = run(viva()
        .args([
            "bench",
            "turns",
            "--json",
            "--transport",
            "webrtc",
            "--limit",
            "4",
        ])
        .args(["--stagger-ms", "12000"])
        .arg(&manifest)
        .env("VIVA_STORAGE_DATA_DIR", data.path())
        .env_remove("DATABASE_URL")
        .env_remove("VIVA_MODELS_THREADS"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "bench turns failed: {stderr}");
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    eprintln!("webrtc: {r}");
    let n = |k: &str| r[k].as_u64().unwrap_or(u64::MAX);
    assert_eq!((n("answers"), n("errors")), (4, 0), "{r}");
    assert_eq!(n("missed_ends"), 0, "every answer gets a reply: {r}");
    assert_eq!(n("split_answers"), 0, "{r}");
    assert!(n("false_cutoffs") <= 2, "{r}");
}
