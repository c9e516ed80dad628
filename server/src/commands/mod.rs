//! Subcommands with more than a line of glue.

pub mod admin;
pub mod bench_live;
pub mod bench_stt;
pub mod bench_turns;
mod bench_turns_twilio;
mod bench_turns_webrtc;
pub mod eval_cefr;
pub mod eval_grading_asr;
pub mod eval_stt;
pub mod job_arg;
pub mod models;
pub mod report;
pub mod score;
pub mod simulate;
pub mod simulate_twilio;
pub mod simulate_webrtc;
pub mod transcribe;
pub mod worker;

use std::path::PathBuf;

use crate::config::Config;

/// Path of the configured Whisper model.
pub fn whisper_path(cfg: &Config) -> PathBuf {
    viva_models::provision::model_path(&cfg.models.dir, &cfg.models.whisper)
}

/// Loads the configured Whisper model with the configured options.
pub fn load_whisper(cfg: &Config) -> anyhow::Result<viva_models::WhisperModel> {
    load_whisper_named(cfg, &cfg.models.whisper)
}

/// Loads the multilingual Whisper model (`models.whisper_multilingual`).
pub fn load_multilingual_whisper(cfg: &Config) -> anyhow::Result<viva_models::WhisperModel> {
    let name = cfg.models.whisper_multilingual.trim();
    if name.is_empty() {
        anyhow::bail!("models.whisper_multilingual is empty: set it to base-q8_0 (and run `viva models fetch --model base-q8_0`) to transcribe Spanish or German");
    }
    let model = load_whisper_named(cfg, name)?;
    if !model.is_multilingual() {
        anyhow::bail!("models.whisper_multilingual = {name:?} is an English-only model; use base-q8_0 or base");
    }
    Ok(model)
}

fn load_whisper_named(cfg: &Config, name: &str) -> anyhow::Result<viva_models::WhisperModel> {
    Ok(viva_models::WhisperModel::load_with(
        &viva_models::provision::model_path(&cfg.models.dir, name),
        &viva_models::whisper::ModelOptions {
            flash_attention: cfg.models.flash_attention,
        },
    )?)
}

pub fn threads(cfg: &Config) -> usize {
    if cfg.models.threads == 0 {
        viva_models::whisper::default_threads()
    } else {
        cfg.models.threads
    }
}
