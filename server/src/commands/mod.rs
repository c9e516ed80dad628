//! Subcommands with more than a line of glue.

pub mod admin;
pub mod bench_stt;
pub mod eval_stt;
pub mod models;
pub mod score;
pub mod simulate;
pub mod simulate_twilio;
pub mod simulate_webrtc;
pub mod transcribe;

use std::path::PathBuf;

use crate::config::Config;

/// Path of the configured Whisper model.
pub fn whisper_path(cfg: &Config) -> PathBuf {
    viva_models::provision::model_path(&cfg.models.dir, &cfg.models.whisper)
}

pub fn threads(cfg: &Config) -> usize {
    if cfg.models.threads == 0 {
        viva_models::whisper::default_threads()
    } else {
        cfg.models.threads
    }
}
