//! `viva eval cefr MANIFEST.tsv`: checks the CEFR estimate where it can be checked without
//! CEFR-rated learner speech. Native recordings (a `viva eval stt` manifest) are transcribed by
//! viva's Whisper with word times and estimated per speaker (the recordings of one source
//! joined in manifest order, their times offset): they should land at C1–C2 with a native
//! speech rate and few long pauses. Each speaker's transcript then goes down the synthetic
//! degradation ladder (`viva_grading::cefr::degrade::ladder`: slowed, + pauses, + fillers,
//! + simple vocabulary), whose levels must fall at every step.
//!
//! Sources whose recordings are not connected speech (isolated digits, card names, commands:
//! the `cmusphinx_` files) are listed but not used, unless `--all`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use serde::Serialize;
use viva_grading::cefr::{self, CefrBand, CefrEstimate};
use viva_grading::{TimedWord, Transcript};

use crate::config::Config;

#[derive(Debug, Args)]
pub struct EvalCefrArgs {
    /// A manifest TSV with `file` and `reference_transcript` columns (e.g. ../shared/speech).
    pub manifest: PathBuf,
    /// Also use sources that are not connected speech (digits, commands).
    #[arg(long)]
    pub all: bool,
    /// Print one JSON document instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Fail (exit 1) when a speaker with enough speech lands below C1, or a ladder step does not
    /// land lower than the one before.
    #[arg(long)]
    pub check: bool,
}

#[derive(Debug, Serialize)]
struct Step {
    step: &'static str,
    level: f64,
    band: CefrBand,
    reported: String,
    speech_rate_wpm: Option<f64>,
    long_pauses_per_min: Option<f64>,
}

#[derive(Debug, Serialize)]
struct Speaker {
    source: String,
    files: usize,
    audio_s: f64,
    estimate: CefrEstimate,
    ladder: Vec<Step>,
    monotonic: bool,
}

/// The source of a manifest file: its name up to the first `_` ("ljspeech_LJ001-0001.wav").
fn source_of(file: &str) -> String {
    file.split('_').next().unwrap_or(file).to_string()
}

fn connected_speech(source: &str) -> bool {
    source != "cmusphinx"
}

pub fn run(cfg: &Config, args: EvalCefrArgs) -> anyhow::Result<()> {
    let entries = viva_models::stt_eval::read_manifest(&args.manifest)?;
    let model = super::load_whisper(cfg)?;
    let opts = viva_models::TranscribeOptions {
        threads: super::threads(cfg),
        word_timestamps: true,
        ..Default::default()
    };
    // source → (files, audio ms so far, words)
    let mut speakers: BTreeMap<String, (usize, u64, Vec<TimedWord>)> = BTreeMap::new();
    for (i, e) in entries.iter().enumerate() {
        let source = source_of(&e.file);
        if !args.all && !connected_speech(&source) {
            eprintln!(
                "[{}/{}] {} skipped (not connected speech)",
                i + 1,
                entries.len(),
                e.file
            );
            continue;
        }
        let audio = viva_audio::read_wav(&e.path)
            .with_context(|| format!("reading {}", e.path.display()))?;
        let samples = viva_audio::resample(
            &audio.samples,
            audio.sample_rate,
            viva_audio::SPEECH_RATE_HZ,
        )?;
        let t = model
            .transcribe(&samples, &opts)
            .with_context(|| format!("transcribing {}", e.file))?;
        let entry = speakers.entry(source).or_default();
        let offset = entry.1;
        let words: Vec<TimedWord> = t
            .segments
            .iter()
            .flat_map(|s| s.words.iter())
            .filter(|w| !w.text.trim().is_empty())
            .map(|w| TimedWord {
                text: w.text.trim().to_string(),
                start_ms: w.start_ms + offset,
                end_ms: w.end_ms + offset,
            })
            .collect();
        eprintln!(
            "[{}/{}] {}: {} words in {:.1} s",
            i + 1,
            entries.len(),
            e.file,
            words.len(),
            t.audio_ms as f64 / 1000.0
        );
        entry.0 += 1;
        entry.1 += t.audio_ms;
        entry.2.extend(words);
    }
    let mut out = Vec::new();
    for (source, (files, audio_ms, words)) in speakers {
        let transcript = Transcript {
            text: words
                .iter()
                .map(|w| w.text.as_str())
                .collect::<Vec<_>>()
                .join(" "),
            words,
        };
        let estimate = cefr::estimate(&transcript);
        let ladder: Vec<Step> = cefr::degrade::ladder(&transcript)
            .into_iter()
            .map(|(step, t)| {
                let e = cefr::estimate(&t);
                Step {
                    step,
                    level: e.level,
                    band: e.band,
                    reported: e.reported,
                    speech_rate_wpm: e.features.speech_rate_wpm,
                    long_pauses_per_min: e.features.long_pauses_per_min,
                }
            })
            .collect();
        let monotonic = ladder.windows(2).all(|p| p[1].level < p[0].level);
        out.push(Speaker {
            source,
            files,
            audio_s: audio_ms as f64 / 1000.0,
            estimate,
            ladder,
            monotonic,
        });
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        for s in &out {
            let e = &s.estimate;
            let f = &e.features;
            println!(
                "{}: {} file(s), {:.1} s, {} words → {} (level {:.2} ± {:.2}{})",
                s.source,
                s.files,
                s.audio_s,
                f.words,
                e.reported,
                e.level,
                e.uncertainty,
                if e.thin_evidence {
                    ", thin evidence"
                } else {
                    ""
                }
            );
            println!(
                "  rate {} wpm, pauses ≥400 ms {}/min, ≥1 s {}/min, mean pause {} ms, fillers {}/100w, MATTR {:.3}, word length {:.2}, long words {:.3}, subordination {}/100w, error signals {}/100w",
                opt(f.speech_rate_wpm),
                opt(f.pauses_per_min),
                opt(f.long_pauses_per_min),
                opt(f.mean_pause_ms),
                f.fillers_per_100_words,
                f.mattr,
                f.mean_word_length,
                f.long_word_share,
                f.subordination_per_100_words,
                f.error_signals_per_100_words
            );
            for step in &s.ladder {
                println!(
                    "    {:<30} level {:.2}  {:<6} rate {} wpm, long pauses {}/min",
                    step.step,
                    step.level,
                    step.reported,
                    opt(step.speech_rate_wpm),
                    opt(step.long_pauses_per_min)
                );
            }
            println!(
                "  ladder {}",
                if s.monotonic {
                    "falls at every step"
                } else {
                    "NOT MONOTONIC"
                }
            );
        }
    }
    if args.check {
        for s in &out {
            anyhow::ensure!(
                s.monotonic,
                "{}: the degradation ladder is not monotonic",
                s.source
            );
            if !s.estimate.thin_evidence {
                anyhow::ensure!(
                    s.estimate.band >= CefrBand::C1,
                    "{}: native speech estimated at {} (below C1)",
                    s.source,
                    s.estimate.reported
                );
            }
        }
    }
    Ok(())
}

fn opt(x: Option<f64>) -> String {
    x.map_or_else(|| "—".to_string(), |v| format!("{v}"))
}
