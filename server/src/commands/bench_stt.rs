//! `viva bench stt MANIFEST`: transcription as candidates meet it, on the production path.
//!
//! Each recording of the manifest answers the first question of its own session over the
//! WebSocket gateway at real-time pace (the machinery of `viva bench turns`): the same session
//! runner, VAD, end-of-turn detector, transcription scheduler and passes as a live interview.
//! Reported: the **WER of the final captions** against the manifest's `reference_transcript`
//! (what the interviewer — and the report — heard), **speech end → final caption** (the
//! answer's last voiced audio sent → its final text received: end-of-turn wait plus
//! finalization), speech end → first interviewer audio, and, with the server in this process,
//! its CPU time and peak RSS. `viva eval stt` measures the model alone on whole files.

use std::path::PathBuf;
use std::time::Instant;

use clap::Args;
use serde::Serialize;
use viva_models::text::WordErrors;

use super::bench_live::{cpu_seconds, percentiles, rss_mb, Percentiles};
use super::bench_turns::{measure, response_latency, BenchTurnsArgs, TurnOutcome};
use crate::config::Config;

#[derive(Debug, Args)]
pub struct BenchSttArgs {
    /// Manifest TSV (`file`, `reference_transcript`); files are relative to it.
    pub manifest: PathBuf,
    /// A running server (http://…). Absent: one in this process (CPU and RSS are measured).
    #[arg(long)]
    pub server: Option<String>,
    /// Job to interview for.
    #[arg(long, default_value = "demo")]
    pub job: String,
    /// Delay between session starts (smaller: more answers transcribed at once).
    #[arg(long, default_value_t = 12_000)]
    pub stagger_ms: u64,
    /// Only the first N files.
    #[arg(long)]
    pub limit: Option<usize>,
    /// Print one JSON document.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Serialize)]
struct Report {
    manifest: String,
    answers: usize,
    /// Corpus WER of the final captions (errors over reference words), answers with a reference.
    wer: Option<f64>,
    reference_words: usize,
    substitutions: usize,
    deletions: usize,
    insertions: usize,
    final_after_ms: Percentiles,
    response_ms: Percentiles,
    false_cutoffs: usize,
    errors: usize,
    /// Server CPU seconds over the run (None: the server runs elsewhere).
    server_cpu_s: Option<f64>,
    server_peak_rss_mb: Option<f64>,
    wall_s: f64,
    outcomes: Vec<TurnOutcome>,
}

pub fn run(cfg: &Config, args: BenchSttArgs) -> anyhow::Result<()> {
    let in_process = args.server.is_none();
    let turns = BenchTurnsArgs {
        manifest: args.manifest.clone(),
        transport: "ws".into(),
        greeting_answer: None,
        server: args.server.clone(),
        job: args.job.clone(),
        stagger_ms: args.stagger_ms,
        limit: args.limit,
        json: args.json,
    };
    let (cpu0, t0) = (cpu_seconds(), Instant::now());
    let outcomes = measure(cfg, &turns)?;
    let (cpu1, wall_s) = (cpu_seconds(), t0.elapsed().as_secs_f64());
    let mut total = WordErrors::default();
    let mut with_reference = 0;
    for o in &outcomes {
        if let Some(e) = &o.word_errors {
            total.add(*e);
            with_reference += 1;
        }
    }
    let report = Report {
        manifest: args.manifest.display().to_string(),
        answers: outcomes.len(),
        wer: (with_reference > 0).then(|| total.wer()),
        reference_words: total.reference_words,
        substitutions: total.substitutions,
        deletions: total.deletions,
        insertions: total.insertions,
        final_after_ms: percentiles(outcomes.iter().filter_map(|o| o.final_after_ms).collect()),
        response_ms: response_latency(&outcomes),
        false_cutoffs: outcomes.iter().filter(|o| o.false_cutoff).count(),
        errors: outcomes.iter().filter(|o| o.error.is_some()).count(),
        server_cpu_s: in_process.then_some(cpu1 - cpu0),
        server_peak_rss_mb: in_process.then(|| rss_mb().1),
        wall_s,
        outcomes,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    match report.wer {
        Some(wer) => println!(
            "{} answers: WER of the final captions {:.1}% ({} errors in {} reference words: {} sub, {} del, {} ins)",
            report.answers,
            wer * 100.0,
            total.errors(),
            report.reference_words,
            report.substitutions,
            report.deletions,
            report.insertions
        ),
        None => println!(
            "{} answers (no reference_transcript column: no WER)",
            report.answers
        ),
    }
    let (f, r) = (&report.final_after_ms, &report.response_ms);
    println!(
        "speech end → final caption (n={}): p50 {} ms, p95 {} ms, max {} ms",
        f.n, f.p50, f.p95, f.max
    );
    println!(
        "speech end → first interviewer audio (n={}): p50 {} ms, p95 {} ms, max {} ms",
        r.n, r.p50, r.p95, r.max
    );
    println!(
        "false cut-offs {}  errors {}  wall {:.0} s{}",
        report.false_cutoffs,
        report.errors,
        report.wall_s,
        match (report.server_cpu_s, report.server_peak_rss_mb) {
            (Some(cpu), Some(rss)) => format!(
                "  server CPU {:.1} s ({:.2} cores)  peak RSS {:.0} MB",
                cpu,
                cpu / report.wall_s.max(1e-9),
                rss
            ),
            _ => String::new(),
        }
    );
    Ok(())
}
