//! `viva bench stt`: plays a manifest's files in real time (or faster) into the streaming path
//! for N concurrent streams and prints streaming vs offline WER, finalization latency, caption
//! lag, CPU and RSS. The end-of-turn wait is not included: the final pass is requested the
//! moment a file's last frame is delivered, so finalization = transcription cost + queueing.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Args;
use serde::Serialize;
use viva_models::streaming::{
    InferenceScheduler, Priority, SchedulerConfig, SchedulerError, StreamConfig,
    StreamingTranscriber,
};
use viva_models::text::{text_errors, WordErrors};
use viva_models::TranscribeOptions;

use crate::config::Config;

#[derive(Debug, Args)]
pub struct BenchSttArgs {
    /// Manifest TSV (`file`, `reference_transcript`).
    pub manifest: PathBuf,
    /// Concurrent streams.
    #[arg(long, default_value_t = 1)]
    pub sessions: usize,
    /// Playback speed: 1 = real time.
    #[arg(long, default_value_t = 1.0)]
    pub speed: f64,
    /// Only the first N files.
    #[arg(long)]
    pub limit: Option<usize>,
    /// Skip the offline (full-window) reference pass.
    #[arg(long)]
    pub no_offline: bool,
    /// New audio between caption updates, ms.
    #[arg(long, default_value_t = 700)]
    pub partial_interval_ms: u64,
    /// Encoder padding after the audio, in 20 ms frames.
    #[arg(long, default_value_t = 128)]
    pub ctx_margin: u32,
    /// Print one JSON document.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Default, Serialize)]
struct Percentiles {
    n: usize,
    p50: u64,
    p95: u64,
    max: u64,
}

fn percentiles(mut v: Vec<u64>) -> Percentiles {
    if v.is_empty() {
        return Percentiles::default();
    }
    v.sort_unstable();
    let at = |q: f64| v[((v.len() as f64 - 1.0) * q).round() as usize];
    Percentiles {
        n: v.len(),
        p50: at(0.5),
        p95: at(0.95),
        max: v[v.len() - 1],
    }
}

#[derive(Debug, Default)]
struct Collected {
    finalization_ms: Vec<u64>,
    caption_lag_ms: Vec<u64>,
    streaming: WordErrors,
    partials_done: usize,
    partials_dropped: usize,
}

#[derive(Debug, Serialize)]
struct Report {
    sessions: usize,
    speed: f64,
    files: usize,
    threads_per_inference: usize,
    offline_wer: Option<f64>,
    streaming_wer: f64,
    wer_delta_points: Option<f64>,
    finalization_ms: Percentiles,
    caption_lag_ms: Percentiles,
    partials_done: usize,
    partials_dropped: usize,
    wall_s: f64,
    cpu_cores_used: f64,
    rss_mb: f64,
    peak_rss_mb: f64,
}

pub fn run(cfg: &Config, args: BenchSttArgs) -> anyhow::Result<()> {
    let mut entries = viva_models::stt_eval::read_manifest(&args.manifest)?;
    if let Some(n) = args.limit {
        entries.truncate(n);
    }
    let mut files = Vec::new();
    for e in &entries {
        let a = viva_audio::read_wav(&e.path)?;
        let s = viva_audio::resample(&a.samples, a.sample_rate, viva_audio::SPEECH_RATE_HZ)?;
        files.push((e.reference.clone(), s));
    }
    let model = Arc::new(viva_models::WhisperModel::load(&super::whisper_path(cfg))?);
    let threads = super::threads(cfg);

    let offline_wer = if args.no_offline {
        None
    } else {
        eprintln!(
            "offline reference pass (full 30 s window) on {} files…",
            files.len()
        );
        let opts = TranscribeOptions {
            threads,
            ..Default::default()
        };
        let mut total = WordErrors::default();
        for (reference, samples) in &files {
            total.add(text_errors(
                reference,
                &model.transcribe(samples, &opts)?.text,
            ));
        }
        Some(total.wer())
    };

    let scheduler = Arc::new(InferenceScheduler::new(
        model,
        SchedulerConfig::for_cores(threads),
    ));
    let collected = Arc::new(Mutex::new(Collected::default()));
    let files = Arc::new(files);
    let cpu_before = cpu_seconds();
    let started = Instant::now();
    eprintln!(
        "streaming {} session(s) at {}× real time…",
        args.sessions, args.speed
    );
    let handles: Vec<_> = (0..args.sessions)
        .map(|session| {
            let (scheduler, collected, files) =
                (scheduler.clone(), collected.clone(), files.clone());
            let stream_cfg = StreamConfig {
                partial_interval_ms: args.partial_interval_ms,
                ctx_margin: args.ctx_margin,
                ..StreamConfig::default()
            };
            let speed = args.speed.max(0.01);
            std::thread::spawn(move || {
                stream_session(
                    session as u64,
                    &scheduler,
                    &files,
                    stream_cfg,
                    speed,
                    &collected,
                )
            })
        })
        .collect();
    for h in handles {
        let _ = h.join();
    }
    let wall_s = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu_before;
    let c = std::mem::take(
        &mut *collected
            .lock()
            .map_err(|_| anyhow::anyhow!("a stream panicked"))?,
    );
    let (rss, peak) = rss_mb();
    let streaming_wer = c.streaming.wer();
    let report = Report {
        sessions: args.sessions,
        speed: args.speed,
        files: files.len(),
        threads_per_inference: scheduler.threads_per_job(),
        offline_wer,
        streaming_wer,
        wer_delta_points: offline_wer.map(|o| (streaming_wer - o) * 100.0),
        finalization_ms: percentiles(c.finalization_ms),
        caption_lag_ms: percentiles(c.caption_lag_ms),
        partials_done: c.partials_done,
        partials_dropped: c.partials_dropped,
        wall_s,
        cpu_cores_used: cpu / wall_s.max(1e-9),
        rss_mb: rss,
        peak_rss_mb: peak,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        let f = &report.finalization_ms;
        let l = &report.caption_lag_ms;
        println!(
            "sessions {}  files {}  speed {}×  threads/inference {}",
            report.sessions, report.files, report.speed, report.threads_per_inference
        );
        if let Some(o) = report.offline_wer {
            println!(
                "WER offline {:.2}%  streaming {:.2}%  (Δ {:+.2} pt)",
                o * 100.0,
                streaming_wer * 100.0,
                (streaming_wer - o) * 100.0
            );
        } else {
            println!("WER streaming {:.2}%", streaming_wer * 100.0);
        }
        println!(
            "finalization ms  p50 {}  p95 {}  max {}  (n {})",
            f.p50, f.p95, f.max, f.n
        );
        println!(
            "caption lag ms   p50 {}  p95 {}  max {}  (n {}; {} partials dropped under load)",
            l.p50, l.p95, l.max, l.n, report.partials_dropped
        );
        println!(
            "CPU {:.2} cores  RSS {:.0} MB (peak {:.0} MB)  wall {:.1} s",
            report.cpu_cores_used, report.rss_mb, report.peak_rss_mb, report.wall_s
        );
    }
    Ok(())
}

fn stream_session(
    session: u64,
    scheduler: &InferenceScheduler,
    files: &[(String, Vec<f32>)],
    cfg: StreamConfig,
    speed: f64,
    collected: &Mutex<Collected>,
) {
    let mut st = StreamingTranscriber::new(cfg);
    let frame = 320; // 20 ms
    let n = files.len();
    for k in 0..n {
        // Sessions start on different files so they do not run in lock step.
        let (reference, samples) = &files[(k + session as usize) % n];
        st.begin(0);
        let t0 = Instant::now();
        let mut pending: Option<(viva_models::streaming::Ticket, Instant)> = None;
        let mut local = Collected::default();
        for (i, chunk) in samples.chunks(frame).enumerate() {
            let due = Duration::from_secs_f64((i * frame) as f64 / 16_000.0 / speed);
            if let Some(wait) = due.checked_sub(t0.elapsed()) {
                std::thread::sleep(wait);
            }
            st.push(chunk);
            if let Some((ticket, _)) = &mut pending {
                match ticket.try_recv() {
                    Ok(Ok(inference)) => {
                        let (_, delivered) = pending
                            .take()
                            .unwrap_or_else(|| unreachable!("checked above"));
                        st.accept_partial(&inference.transcription);
                        local
                            .caption_lag_ms
                            .push(delivered.elapsed().as_millis() as u64);
                        local.partials_done += 1;
                    }
                    Ok(Err(e)) => {
                        tracing::debug!(session, error = %e, "partial dropped");
                        pending = None;
                        st.partial_dropped();
                        local.partials_dropped += 1;
                    }
                    Err(tokio::sync::oneshot::error::TryRecvError::Closed) => {
                        pending = None;
                        st.partial_dropped();
                        local.partials_dropped += 1;
                    }
                    Err(tokio::sync::oneshot::error::TryRecvError::Empty) => {}
                }
            }
            if st.partial_due() {
                let (audio, opts) = st.partial_request();
                pending = Some((
                    scheduler.submit(session, Priority::Partial, audio, opts),
                    Instant::now(),
                ));
            }
        }
        // The last frame is delivered: the turn is over, the final pass starts now.
        let last_frame = Instant::now();
        let (audio, opts) = st.final_request();
        let ticket = scheduler.submit(session, Priority::Final, audio, opts);
        match ticket.blocking_recv() {
            Ok(Ok(inference)) => {
                local
                    .finalization_ms
                    .push(last_frame.elapsed().as_millis() as u64);
                let f = st.finish(&inference.transcription);
                let e = text_errors(reference, &f.text);
                tracing::debug!(session, wer = e.wer(), reference = %reference, hypothesis = %f.text, "final");
                local.streaming.add(e);
            }
            Ok(Err(SchedulerError::Whisper(e))) => {
                eprintln!("session {session}: final failed: {e}")
            }
            _ => local.streaming.add(text_errors(reference, "")),
        }
        if let Ok(mut c) = collected.lock() {
            c.finalization_ms.extend(local.finalization_ms);
            c.caption_lag_ms.extend(local.caption_lag_ms);
            c.streaming.add(local.streaming);
            c.partials_done += local.partials_done;
            c.partials_dropped += local.partials_dropped;
        }
        std::thread::sleep(Duration::from_secs_f64(0.3 / speed));
    }
}

/// User + system CPU seconds of this process.
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the command name (which may contain spaces) start after the last ')'.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

/// Current and peak resident memory in MB.
fn rss_mb() -> (f64, f64) {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return (0.0, 0.0);
    };
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .map(|kb| kb / 1024.0)
            .unwrap_or(0.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}
