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
    Ok(viva_models::WhisperModel::load_with(
        &whisper_path(cfg),
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
