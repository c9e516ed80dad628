//! `viva eval stt MANIFEST.tsv`: per-file and total WER and real-time factor.

use std::path::PathBuf;

use clap::Args;

use crate::config::Config;

#[derive(Debug, Args)]
pub struct EvalSttArgs {
    /// Manifest TSV with `file` and `reference_transcript` columns (paths relative to it).
    pub manifest: PathBuf,
    /// Print one JSON document instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Encoder context in 20 ms frames (default: Whisper's full 30 s window).
    #[arg(long)]
    pub audio_ctx: Option<u32>,
    /// Size the encoder context to each file plus this many 20 ms frames (faster, slightly less accurate).
    #[arg(long)]
    pub audio_ctx_margin: Option<u32>,
    /// Phone line: each file goes through 8 kHz μ-law and back to 16 kHz (as the Twilio gateway
    /// receives it) before transcription.
    #[arg(long)]
    pub narrowband: bool,
    /// WebRTC path: each file goes through Opus at 48 kHz in 20 ms RTP packets, the jitter
    /// buffer and the decoder (FEC/PLC), as the WebRTC gateway receives it.
    #[arg(long)]
    pub webrtc: bool,
    /// With the WebRTC path: share of packets lost (0–1, seeded, e.g. 0.05). Implies --webrtc.
    #[arg(long, default_value_t = 0.0)]
    pub packet_loss: f64,
    /// With the WebRTC path: share of packets delivered 1–2 packets late (0–1). Implies --webrtc.
    #[arg(long, default_value_t = 0.0)]
    pub reorder: f64,
    /// Fail (exit 1) when the total WER is above this fraction, e.g. 0.10.
    #[arg(long)]
    pub max_wer: Option<f64>,
    /// Never re-decode at a higher temperature (the live passes' setting: bounded cost).
    #[arg(long)]
    pub no_fallback: bool,
    /// Only the manifest's rows in this language (its `language` column: "es", "de", "en").
    /// Rows in a language other than English are decoded in it with the multilingual model
    /// (`models.whisper_multilingual`) and scored with that language's normaliser.
    #[arg(long)]
    pub language: Option<String>,
    /// Threads per pass (overrides models.threads).
    #[arg(long)]
    pub threads: Option<usize>,
}

pub fn run(cfg: &Config, args: EvalSttArgs) -> anyhow::Result<()> {
    let mut entries = viva_models::stt_eval::read_manifest(&args.manifest)?;
    if let Some(language) = &args.language {
        let language = language.trim().to_ascii_lowercase();
        entries.retain(|e| e.language.as_deref().unwrap_or("en") == language);
        if entries.is_empty() {
            anyhow::bail!(
                "{} has no rows in language {language:?} (its `language` column)",
                args.manifest.display()
            );
        }
    }
    let model = if entries.iter().any(|e| e.language.is_some()) {
        super::load_multilingual_whisper(cfg)?
    } else {
        super::load_whisper(cfg)?
    };
    let opts = viva_models::TranscribeOptions {
        threads: args.threads.unwrap_or_else(|| super::threads(cfg)),
        audio_ctx: args.audio_ctx,
        audio_ctx_margin: args.audio_ctx_margin,
        temperature_fallback: !args.no_fallback,
        ..Default::default()
    };
    let json = args.json;
    for (name, v) in [
        ("--packet-loss", args.packet_loss),
        ("--reorder", args.reorder),
    ] {
        if !(0.0..=1.0).contains(&v) {
            anyhow::bail!("{name} is a fraction between 0 and 1, got {v}");
        }
    }
    let webrtc = args.webrtc || args.packet_loss > 0.0 || args.reorder > 0.0;
    if webrtc && args.narrowband {
        anyhow::bail!("--narrowband and the WebRTC path (--webrtc, --packet-loss, --reorder) exclude each other");
    }
    let impairment = viva_audio::rtp::Impairment {
        loss: args.packet_loss,
        reorder: args.reorder,
        max_displacement: 2,
        seed: 0x5eed,
    };
    let lost = std::rc::Rc::new(std::cell::Cell::new(viva_audio::JitterStats::default()));
    let identity = |s: Vec<f32>| Ok(s);
    let totals = lost.clone();
    let over_webrtc = move |s: Vec<f32>| {
        let (out, st) =
            viva_audio::rtp::opus_round_trip(&s, &impairment, viva_audio::JitterConfig::default())
                .map_err(|e| e.to_string())?;
        let mut t = totals.get();
        t.released += st.released;
        t.lost += st.lost;
        t.reordered += st.reordered;
        t.late += st.late;
        totals.set(t);
        Ok(out)
    };
    let prepare: &viva_models::stt_eval::Prepare = if args.narrowband {
        &narrowband
    } else if webrtc {
        &over_webrtc
    } else {
        &identity
    };
    let summary =
        viva_models::stt_eval::evaluate_with(&model, &entries, &opts, prepare, &mut |i, n, r| {
            eprintln!(
                "[{i}/{n}] {} WER {:.1}% RTF {:.3}{}",
                r.file,
                r.wer * 100.0,
                r.rtf,
                r.error
                    .as_deref()
                    .map(|e| format!(" ERROR {e}"))
                    .unwrap_or_default()
            );
            if !json && r.wer > 0.0 {
                eprintln!(
                    "        ref: {}\n        hyp: {}",
                    r.reference, r.hypothesis
                );
            }
        });
    if json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        println!(
            "{:<50} {:>7} {:>7} {:>7}",
            "file", "audio s", "WER %", "RTF"
        );
        for f in &summary.files {
            println!(
                "{:<50} {:>7.2} {:>7.1} {:>7.3}",
                f.file,
                f.audio_s,
                f.wer * 100.0,
                f.rtf
            );
        }
        println!(
            "TOTAL{} {} files, {} words: WER {:.2}% (S {} D {} I {}), {:.1} s audio in {:.1} s, RTF {:.3}, {} threads",
            path_label(&args, webrtc, lost.get()),
            summary.files.len(),
            summary.total.reference_words,
            summary.wer * 100.0,
            summary.total.substitutions,
            summary.total.deletions,
            summary.total.insertions,
            summary.audio_s,
            summary.elapsed_s,
            summary.rtf,
            summary.threads
        );
    }
    if let Some(max) = args.max_wer {
        if summary.wer > max {
            anyhow::bail!(
                "total WER {:.2}% is above the limit {:.2}%",
                summary.wer * 100.0,
                max * 100.0
            );
        }
    }
    Ok(())
}

fn path_label(args: &EvalSttArgs, webrtc: bool, s: viva_audio::JitterStats) -> String {
    if args.narrowband {
        " (narrowband: 8 kHz mu-law)".into()
    } else if webrtc {
        format!(
            " (WebRTC: Opus 48 kHz, loss {:.1}%, reorder {:.1}%: {} packets received, {} lost, {} reordered and repaired, {} late)",
            args.packet_loss * 100.0,
            args.reorder * 100.0,
            s.released,
            s.lost,
            s.reordered,
            s.late
        )
    } else {
        String::new()
    }
}

/// 16 kHz → 8 kHz → μ-law → linear → 16 kHz: what a phone call delivers to the gateway (the
/// way back up uses the gateway's streaming resampler).
fn narrowband(samples: Vec<f32>) -> Result<Vec<f32>, String> {
    use viva_audio::{AudioFrame, StreamResampler, SPEECH_RATE_HZ};
    let rate8 = viva_audio::g711::G711_RATE_HZ;
    let s8 = viva_audio::resample(&samples, SPEECH_RATE_HZ, rate8).map_err(|e| e.to_string())?;
    let ulaw = viva_audio::g711::ulaw_encode(&s8).map_err(|e| e.to_string())?;
    let line = viva_audio::g711::ulaw_decode(&ulaw);
    let mut up = StreamResampler::new(rate8, SPEECH_RATE_HZ).map_err(|e| e.to_string())?;
    let mut out = Vec::with_capacity(samples.len());
    // 20 ms packets, as they arrive from the call.
    for (i, chunk) in line.chunks(160).enumerate() {
        let frame =
            AudioFrame::new(chunk.to_vec(), rate8, (i * 160) as u64).map_err(|e| e.to_string())?;
        if let Some(f) = up.process(&frame).map_err(|e| e.to_string())? {
            out.extend_from_slice(f.samples());
        }
    }
    if let Some(f) = up.flush().map_err(|e| e.to_string())? {
        out.extend_from_slice(f.samples());
    }
    Ok(out)
}
