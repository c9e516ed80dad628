//! Test helpers: where the provisioned model and the shared speech samples are.
#![allow(dead_code)]

use std::path::PathBuf;

pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

pub fn models_dir() -> PathBuf {
    std::env::var_os("VIVA_MODELS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("models/store"))
}

/// The provisioned tiny.en model. Missing: a failure under `VIVA_REQUIRE_MODELS=1` (as `make test`
/// sets), otherwise a visible skip.
pub fn tiny_en() -> Option<PathBuf> {
    let path = viva_models::provision::model_path(&models_dir(), "tiny.en");
    if path.exists() {
        return Some(path);
    }
    if std::env::var("VIVA_REQUIRE_MODELS").as_deref() == Ok("1") {
        panic!(
            "{} is missing; run `viva models fetch` (make models)",
            path.display()
        );
    }
    eprintln!(
        "SKIPPED: {} is missing; run `make models` to enable this test",
        path.display()
    );
    None
}

/// `../shared/speech/manifest.tsv` beside the checkout, when present.
pub fn shared_speech_manifest() -> Option<PathBuf> {
    let shared = std::env::var_os("VIVA_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("../shared"));
    let manifest = shared.join("speech/manifest.tsv");
    if manifest.exists() {
        Some(manifest)
    } else {
        eprintln!(
            "SKIPPED: {} not found (real-speech checks need ../shared/speech)",
            manifest.display()
        );
        None
    }
}

/// Speaks `text` with espeak-ng into a WAV file and returns 16 kHz mono samples.
pub fn espeak(text: &str, dir: &std::path::Path, name: &str) -> Vec<f32> {
    let wav = dir.join(format!("{name}.wav"));
    let status = std::process::Command::new("espeak-ng")
        .args(["-v", "en-us", "-s", "150", "-w"])
        .arg(&wav)
        .arg(text)
        .status()
        .expect("espeak-ng must be installed (scripts/setup.sh installs it)");
    assert!(status.success(), "espeak-ng failed");
    let audio = viva_audio::read_wav(&wav).expect("espeak wav");
    viva_audio::resample(&audio.samples, audio.sample_rate, 16_000).expect("resample")
}

/// Inference options for tests: one thread each, because the test harness runs tests in
/// parallel and ggml's spinning threads collapse when they outnumber the cores.
pub fn opts() -> viva_models::TranscribeOptions {
    viva_models::TranscribeOptions {
        threads: 1,
        ..Default::default()
    }
}
