//! `viva transcribe FILE`: any WAV → 16 kHz → Whisper → text and timed segments.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;

use crate::config::Config;

#[derive(Debug, Args)]
pub struct TranscribeArgs {
    /// A WAV file: any rate, mono or stereo, 8/16/24/32-bit integer or 32-bit float.
    pub file: PathBuf,
    /// Print one JSON document (text, segments, words with times) instead of text.
    #[arg(long)]
    pub json: bool,
    /// Encoder context in 20 ms frames (default: Whisper's full 30 s window).
    #[arg(long)]
    pub audio_ctx: Option<u32>,
}

pub fn run(cfg: &Config, args: TranscribeArgs) -> anyhow::Result<()> {
    let audio = viva_audio::read_wav(&args.file)
        .with_context(|| format!("reading {}", args.file.display()))?;
    let samples = viva_audio::resample(
        &audio.samples,
        audio.sample_rate,
        viva_audio::SPEECH_RATE_HZ,
    )?;
    let model = viva_models::WhisperModel::load(&super::whisper_path(cfg))?;
    let opts = viva_models::TranscribeOptions {
        threads: super::threads(cfg),
        audio_ctx: args.audio_ctx,
        ..Default::default()
    };
    let t = model.transcribe(&samples, &opts)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&t)?);
    } else {
        for s in &t.segments {
            println!("[{} → {}] {}", fmt_ms(s.start_ms), fmt_ms(s.end_ms), s.text);
        }
        eprintln!(
            "{:.2} s of audio in {:.2} s (RTF {:.3})",
            t.audio_ms as f64 / 1000.0,
            t.elapsed_ms as f64 / 1000.0,
            t.elapsed_ms as f64 / t.audio_ms.max(1) as f64
        );
    }
    Ok(())
}

fn fmt_ms(ms: u64) -> String {
    format!(
        "{:02}:{:02}.{:03}",
        ms / 60_000,
        (ms / 1000) % 60,
        ms % 1000
    )
}
