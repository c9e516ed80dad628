//! `viva eval grading-asr ANSWERS.tsv --questions QUESTIONS.tsv`: the grader's robustness to
//! speech recognition, measured with viva's own voice and ears. A fixed-seed sample of answers,
//! stratified by their gold label, is spoken with the interviewer voice (Piper by default),
//! transcribed by viva's Whisper with the live path's settings (encoder context sized to the
//! audio, no temperature fallback, word times), and graded as typed and as transcribed (with
//! the word times). Prints each answer's WER and grades, then the pooled WER, the mean
//! |Δ grade| (0–5), the share of answers whose grade changed, and the share whose
//! acceptable/not decision changed.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use serde::Serialize;
use viva_grading::asr::{self, RoundTrip};
use viva_grading::{GradeInput, Grader, TimedWord, Transcript};

use crate::config::Config;

#[derive(Debug, Args)]
pub struct EvalGradingAsrArgs {
    /// Answers TSV (the SemEval-2013 layout: `corpus`, `split`, `qid`, `answer` and the gold
    /// column), or one with `question`, `reference_answer`, `answer` columns.
    pub file: PathBuf,
    /// Questions TSV to join on (corpus, split, qid).
    #[arg(long)]
    pub questions: Option<PathBuf>,
    /// Keep only these splits (comma-separated).
    #[arg(
        long,
        default_value = "test-unseen-answers,test-unseen-questions,test-unseen-domains"
    )]
    pub split: String,
    /// The gold label column the sample is stratified by.
    #[arg(long, default_value = "label_3way")]
    pub gold: String,
    /// How many answers to round-trip.
    #[arg(long, default_value_t = 60)]
    pub n: usize,
    /// Seed of the sample (the same seed picks the same answers).
    #[arg(long, default_value_t = 2013)]
    pub seed: u64,
    /// The voice: piper (the interviewer's default), espeak, or auto.
    #[arg(long, value_enum, default_value_t = viva_tts::VoiceChoice::Piper)]
    pub voice: viva_tts::VoiceChoice,
    /// Print one JSON document instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Fail (exit 1) when the mean |Δ grade| is above this (e.g. 0.3).
    #[arg(long)]
    pub max_grade_shift: Option<f64>,
}

#[derive(Debug, Serialize)]
struct Row {
    question_key: String,
    gold: String,
    typed: String,
    heard: String,
    #[serde(flatten)]
    trip: RoundTrip,
}

#[derive(Debug, Serialize)]
struct Output {
    file: String,
    splits: String,
    seed: u64,
    voice: String,
    whisper: String,
    grader_version: &'static str,
    summary: asr::Summary,
    elapsed_s: f64,
    rows: Vec<Row>,
}

pub fn run(cfg: &Config, args: EvalGradingAsrArgs) -> anyhow::Result<()> {
    let eval_args = viva_grading::cli::EvalGradingArgs {
        file: args.file.clone(),
        gold: args.gold.clone(),
        questions: args.questions.clone(),
        split: Some(args.split.clone()),
        positive: "correct".into(),
        limit: None,
        json: false,
    };
    let all = viva_grading::cli::load_labelled(&eval_args)?;
    anyhow::ensure!(
        !all.is_empty(),
        "{}: no answers in splits {}",
        args.file.display(),
        args.split
    );
    let labels: Vec<&str> = all.iter().map(|a| a.gold.as_str()).collect();
    let picked = asr::stratified_sample(&labels, args.n, args.seed);
    let voice = viva_tts::Voice::load(
        args.voice,
        &cfg.models.dir,
        &viva_tts::PiperOptions::default(),
    )
    .context("loading the interviewer voice (run `viva models fetch`)")?;
    let model = super::load_whisper(cfg)?;
    let opts = viva_models::TranscribeOptions {
        threads: super::threads(cfg),
        audio_ctx_margin: Some(128),
        temperature_fallback: false,
        word_timestamps: true,
        ..Default::default()
    };
    let grader = Grader::new();
    let start = Instant::now();
    let mut rows = Vec::with_capacity(picked.len());
    let mut trips = Vec::with_capacity(picked.len());
    for (k, &i) in picked.iter().enumerate() {
        let a = &all[i];
        let audio = voice
            .synthesize_all(&a.input.answer.text, viva_tts::SampleRate::Hz16000)
            .with_context(|| format!("synthesizing answer {}", k + 1))?;
        let t = model
            .transcribe(&audio, &opts)
            .with_context(|| format!("transcribing answer {}", k + 1))?;
        let words: Vec<TimedWord> = t
            .segments
            .iter()
            .flat_map(|s| s.words.iter())
            .filter(|w| !w.text.trim().is_empty())
            .map(|w| TimedWord {
                text: w.text.trim().to_string(),
                start_ms: w.start_ms,
                end_ms: w.end_ms,
            })
            .collect();
        let heard = Transcript {
            text: t.text.trim().to_string(),
            words,
        };
        let trip = round_trip(&grader, &a.input, heard.clone());
        eprintln!(
            "[{}/{}] {} {:<13} WER {:>5.1}%  grade {} -> {}  score {:.2} -> {:.2}",
            k + 1,
            picked.len(),
            a.question_key,
            a.gold,
            trip.wer * 100.0,
            trip.typed_grade,
            trip.heard_grade,
            trip.typed_score,
            trip.heard_score
        );
        trips.push((asr::word_count(&a.input.answer.text), trip.clone()));
        rows.push(Row {
            question_key: a.question_key.clone(),
            gold: a.gold.clone(),
            typed: a.input.answer.text.clone(),
            heard: heard.text,
            trip,
        });
    }
    let summary = asr::summarise(&trips);
    let out = Output {
        file: args.file.display().to_string(),
        splits: args.split.clone(),
        seed: args.seed,
        voice: voice.voice_id().to_string(),
        whisper: cfg.models.whisper.clone(),
        grader_version: viva_grading::GRADER_VERSION,
        elapsed_s: (start.elapsed().as_secs_f64() * 10.0).round() / 10.0,
        summary,
        rows,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        for r in out.rows.iter().filter(|r| r.trip.wer > 0.0) {
            println!(
                "{} ({}): WER {:.1}% grade {} -> {}\n  typed: {}\n  heard: {}",
                r.question_key,
                r.gold,
                r.trip.wer * 100.0,
                r.trip.typed_grade,
                r.trip.heard_grade,
                r.typed,
                r.heard
            );
        }
        let s = &out.summary;
        let per_label = |l: &str| out.rows.iter().filter(|r| r.gold == l).count();
        println!(
            "ROUND TRIP ({} → Whisper {}): {} answers (seed {}; correct {}, incorrect {}, contradictory {}) from {}\n\
             WER {:.2}%  mean |Δ grade| {:.3} of 5 (max {})  grade changed for {:.1}%  accept/reject changed for {:.1}%  mean |Δ score| {:.3}  ({:.0} s)",
            out.voice,
            out.whisper,
            s.n,
            out.seed,
            per_label("correct"),
            per_label("incorrect"),
            per_label("contradictory"),
            out.splits,
            s.wer * 100.0,
            s.mean_abs_grade_shift,
            s.max_abs_grade_shift,
            s.share_grade_changed * 100.0,
            s.share_decision_changed * 100.0,
            s.mean_abs_score_shift,
            out.elapsed_s
        );
    }
    if let Some(max) = args.max_grade_shift {
        anyhow::ensure!(
            out.summary.mean_abs_grade_shift <= max,
            "mean |Δ grade| {:.3} is above the limit {max}",
            out.summary.mean_abs_grade_shift
        );
    }
    Ok(())
}

/// [`asr::compare`] with the heard answer's word times kept (what a live interview grades).
fn round_trip(grader: &Grader, input: &GradeInput, heard: Transcript) -> RoundTrip {
    let typed = grader.grade(input);
    let mut h = input.clone();
    let heard_text = heard.text.clone();
    h.answer = heard;
    let heard_r = grader.grade(&h);
    RoundTrip {
        typed_score: typed.score,
        heard_score: heard_r.score,
        typed_grade: typed.grade,
        heard_grade: heard_r.grade,
        wer: (asr::wer(&input.answer.text, &heard_text) * 10_000.0).round() / 10_000.0,
    }
}
