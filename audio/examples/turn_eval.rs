//! False cut-offs and end-of-turn wait on real speech with inserted thinking pauses.
//!
//! ```text
//! VIVA_MODELS_DIR=… cargo run -p viva-audio --example turn_eval [SPEECH_DIR]
//! ```
//! For each file of the manifest with at least 6 words: a pause of 0.6 / 0.9 / 1.2 s (silence
//! plus faint white noise at -60 dBFS) is inserted at the quietest 30 ms between 35 % and 65 % of
//! the speech, then 2 s of the same background after the last word. Audio goes through Silero
//! VAD (WebRTC if Silero is not provisioned) into the [`TurnDetector`]. Partial transcripts are
//! simulated from the reference text: every 500 ms, the words spoken so far (by time
//! proportion, 300 ms behind the audio as a streaming recogniser is), under three regimes:
//! no transcript, words without punctuation, words closed with "." (Whisper often closes
//! a partial that way), and words with the reference's own punctuation (a comma where the
//! reader paused at a clause boundary). The final hypothesis is the full reference text with its own
//! punctuation. A false cut-off is a `TurnEnded` inside the inserted pause.
//!
//! `VIVA_EVAL_VERBOSE=1` prints each clip's split point; `VIVA_EVAL_DEBUG=<words of a clip>`
//! prints that clip's transcript events and decisions (ref-punct text, 0.9 s pause).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use viva_audio::turn::TurnConfig;
use viva_audio::vad::provision::{default_models_dir, locate_onnxruntime, locate_vad_model};
use viva_audio::vad::{onnx_environment, SileroModel, SileroVad, WebRtcMode, WebRtcVad};
use viva_audio::{
    read_wav, resample, AudioFrame, TurnDecision, TurnDetector, TurnEvent, VadStream,
    VoiceActivityDetector,
};

#[derive(Clone, Copy, PartialEq)]
enum Text {
    None,
    Bare,
    Period,
    Reference,
}

struct Clip {
    audio: Vec<f32>,
    words: Vec<String>,
    final_text: String,
    speech_start_ms: u64,
    speech_end_ms: u64,
    split_ms: u64,
}

fn main() {
    let dir = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/speech"));
    let manifest = std::fs::read_to_string(dir.join("manifest.tsv")).expect("manifest.tsv");
    let models = default_models_dir();
    let silero = locate_vad_model(&models)
        .and_then(|m| Ok((m, locate_onnxruntime(&models)?)))
        .and_then(|(m, lib)| SileroModel::load(onnx_environment(&lib)?, &m))
        .map(Arc::new)
        .ok();
    let make = || -> Box<dyn VoiceActivityDetector> {
        match &silero {
            Some(m) => Box::new(SileroVad::new(m.clone())),
            None => Box::new(WebRtcVad::new(WebRtcMode::Aggressive)),
        }
    };
    println!("VAD: {}", make().name());
    let mut clips = Vec::new();
    for line in manifest.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        if cols.len() < 4 {
            continue;
        }
        let words: Vec<String> = cols[3].split_whitespace().map(str::to_string).collect();
        if words.len() < 6 {
            continue;
        }
        let a = read_wav(&dir.join(cols[0])).expect("wav");
        let x = resample(&a.samples, a.sample_rate, 16_000).expect("resample");
        // Speech extent from the VAD on the clean clip.
        let mut vs = VadStream::new(make(), 0.5);
        let chunks = vs
            .push(&AudioFrame::new(x.clone(), 16_000, 0).expect("frame"))
            .expect("vad");
        let sp: Vec<_> = chunks.iter().filter(|c| c.speech).collect();
        let (Some(first), Some(last)) = (sp.first(), sp.last()) else {
            continue;
        };
        let (s0, s1) = (first.start as usize, last.end as usize);
        let (lo, hi) = (s0 + (s1 - s0) * 35 / 100, s0 + (s1 - s0) * 65 / 100);
        let win = 480;
        let split = (lo..hi.saturating_sub(win))
            .step_by(160)
            .min_by(|&a, &b| {
                let e = |i: usize| x[i..i + win].iter().map(|s| s * s).sum::<f32>();
                e(a).total_cmp(&e(b))
            })
            .unwrap_or((lo + hi) / 2);
        clips.push(Clip {
            audio: x,
            final_text: cols[3].to_string(),
            words,
            speech_start_ms: (s0 / 16) as u64,
            speech_end_ms: (s1 / 16) as u64,
            split_ms: (split / 16) as u64,
        });
    }
    println!(
        "{} clips; pause inserted mid-speech; background -60 dBFS white noise",
        clips.len()
    );
    let configs: Vec<(&str, TurnConfig)> = vec![
        ("default (600/400/2000)", TurnConfig::default()),
        (
            "neutral 800",
            TurnConfig {
                silence_ms: 800,
                ..TurnConfig::default()
            },
        ),
    ];
    println!(
        "{:<24}{:<10}{:>12}{:>12}{:>12}{:>22}",
        "config", "text", "cut@0.6s", "cut@0.9s", "cut@1.2s", "final wait p50/max ms"
    );
    for (cname, cfg) in &configs {
        for (tname, mode) in [
            ("none", Text::None),
            ("bare", Text::Bare),
            ("period", Text::Period),
            ("ref-punct", Text::Reference),
        ] {
            let mut cuts = [0usize; 3];
            let mut waits = Vec::new();
            for (pi, pause) in [600u64, 900, 1_200].into_iter().enumerate() {
                for c in &clips {
                    let (cut, wait) = run(c, pause, mode, cfg.clone(), &make);
                    cuts[pi] += usize::from(cut);
                    if let Some(w) = wait {
                        waits.push(w);
                    }
                }
            }
            waits.sort_unstable();
            let n = clips.len() as f64;
            println!(
                "{:<24}{:<10}{:>11.0}%{:>11.0}%{:>11.0}%{:>22}",
                cname,
                tname,
                100.0 * cuts[0] as f64 / n,
                100.0 * cuts[1] as f64 / n,
                100.0 * cuts[2] as f64 / n,
                format!(
                    "{}/{}",
                    waits.get(waits.len() / 2).copied().unwrap_or(0),
                    waits.last().copied().unwrap_or(0)
                )
            );
        }
    }
}

/// Returns (false cut-off inside the pause, wait after the last word for the final end).
fn run(
    c: &Clip,
    pause_ms: u64,
    mode: Text,
    cfg: TurnConfig,
    make: &dyn Fn() -> Box<dyn VoiceActivityDetector>,
) -> (bool, Option<u64>) {
    let split = (c.split_ms * 16) as usize;
    let mut seed = 0x2545_F491u32;
    let mut bg = |n: usize| -> Vec<f32> {
        (0..n)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 17;
                seed ^= seed << 5;
                ((seed >> 8) as f32 / (1u32 << 24) as f32 - 0.5) * 0.002
            })
            .collect()
    };
    let mut audio = c.audio[..split].to_vec();
    audio.extend(bg((pause_ms * 16) as usize));
    audio.extend_from_slice(&c.audio[split..]);
    audio.extend(bg(32_000));
    // Speech timeline after insertion.
    let speech_end = c.speech_end_ms + pause_ms;
    let spoken_words = |t_ms: u64| -> usize {
        // Proportion of speech time elapsed (excluding the pause), as a word count.
        let t = if t_ms > c.split_ms + pause_ms {
            t_ms - pause_ms
        } else {
            t_ms.min(c.split_ms)
        };
        let frac = (t.saturating_sub(c.speech_start_ms)) as f64
            / (c.speech_end_ms - c.speech_start_ms).max(1) as f64;
        ((frac.clamp(0.0, 1.0) * c.words.len() as f64).floor()) as usize
    };
    let mut vs = VadStream::new(make(), 0.5);
    let mut det = TurnDetector::new(cfg);
    let mut next_partial = 500u64;
    let mut final_sent = false;
    let mut cut = false;
    let mut wait = None;
    for (i, f) in audio.chunks(320).enumerate() {
        let frame = AudioFrame::new(f.to_vec(), 16_000, (i * 320) as u64).expect("frame");
        for ch in vs.push(&frame).expect("vad") {
            let now = ch.end_ms();
            let mut events = vec![TurnEvent::from(ch)];
            if mode != Text::None && now >= next_partial {
                next_partial += 500;
                let covers = now.saturating_sub(300);
                let text = if covers >= speech_end + 200 {
                    final_sent = true;
                    c.final_text.clone()
                } else {
                    let w = c.words[..spoken_words(covers)].join(" ");
                    if mode == Text::Reference {
                        // The reference's own punctuation (a comma at a clause boundary), as
                        // a recogniser that punctuates pauses would write it.
                        w
                    } else {
                        let w = w
                            .trim_end_matches(['.', ',', '?', '!', ';', ':'])
                            .to_string();
                        if mode == Text::Period && !w.is_empty() {
                            format!("{w}.")
                        } else {
                            w
                        }
                    }
                };
                events.push(TurnEvent::Transcript {
                    covers_until_ms: covers,
                    text,
                });
            }
            for e in events {
                let dbg = std::env::var("VIVA_EVAL_DEBUG").ok();
                let show = dbg.as_deref().is_some_and(|w| c.final_text.contains(w))
                    && mode == Text::Reference
                    && pause_ms == 900;
                let ev = format!("{e:?}");
                let d = det.handle(e);
                if show && (!ev.starts_with("Audio") || matches!(d, TurnDecision::TurnEnded { .. }))
                {
                    println!("  {now} {ev} -> {d:?}");
                }
                if let TurnDecision::TurnEnded { decided_at_ms, .. } = d {
                    if decided_at_ms > c.split_ms && decided_at_ms < c.split_ms + pause_ms + 100 {
                        cut = true;
                    } else if decided_at_ms > speech_end && wait.is_none() {
                        wait = Some(decided_at_ms - speech_end);
                    }
                }
            }
        }
    }
    let _ = final_sent;
    if std::env::var_os("VIVA_EVAL_VERBOSE").is_some() && mode == Text::Reference && pause_ms == 900
    {
        let n = spoken_words(c.split_ms);
        println!(
            "  split at {} ms after {:?}: {}",
            c.split_ms,
            c.words[n.saturating_sub(3)..n].join(" "),
            if cut { "CUT" } else { "kept" }
        );
    }
    (cut, wait)
}
