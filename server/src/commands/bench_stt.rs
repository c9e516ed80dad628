//! `viva bench stt`: plays a manifest's files in real time (or faster) into the streaming path
//! for N concurrent streams and prints streaming vs offline WER, finalization latency, caption
//! lag, CPU and RSS.
//!
//! Each file is one answer followed by silence, as a candidate who stopped talking. The VAD
//! (Silero, as in live sessions) finds the speech; 200 ms into the final pause an **endpoint
//! pass** starts (as the live pipeline does), and the turn ends `--eot-ms` after the last
//! speech. Reported: **finalization** = turn end → final transcript (what the candidate waits
//! for beyond the end-of-turn wait), **speech end → final**, and the final pass's own cost.
//! `--no-endpoint` requests the final only when the turn ends, for comparison.

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
    /// End-of-turn wait after the last speech, ms (the turn detector's default silence).
    #[arg(long, default_value_t = 600)]
    pub eot_ms: u64,
    /// Do not start an endpoint pass in the pause: the final pass starts when the turn ends.
    #[arg(long)]
    pub no_endpoint: bool,
}

use super::bench_live::{percentiles, Percentiles};

#[derive(Debug, Default)]
struct Collected {
    finalization_ms: Vec<u64>,
    speech_end_to_final_ms: Vec<u64>,
    final_pass_ms: Vec<u64>,
    endpoint_reused: usize,
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
    eot_wait_ms: u64,
    endpoint_passes: bool,
    /// Turn end → final transcript.
    finalization_ms: Percentiles,
    /// Last voiced audio delivered → final transcript (endpoint delay + pass + queueing).
    speech_end_to_final_ms: Percentiles,
    /// Compute time of the pass that became the final.
    final_pass_ms: Percentiles,
    /// Turns whose final was the endpoint pass (no pass after the turn ended).
    endpoint_reused: usize,
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

    let vad_model = load_silero(cfg);
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
            let (scheduler, collected, files, vad_model) = (
                scheduler.clone(),
                collected.clone(),
                files.clone(),
                vad_model.clone(),
            );
            let turn = TurnTiming {
                eot_ms: args.eot_ms,
                endpoint: !args.no_endpoint,
            };
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
                    turn,
                    vad_model,
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
        eot_wait_ms: args.eot_ms,
        endpoint_passes: !args.no_endpoint,
        finalization_ms: percentiles(c.finalization_ms),
        speech_end_to_final_ms: percentiles(c.speech_end_to_final_ms),
        final_pass_ms: percentiles(c.final_pass_ms),
        endpoint_reused: c.endpoint_reused,
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
            "finalization ms  p50 {}  p95 {}  max {}  (n {}; turn end → final, end-of-turn wait {} ms, endpoint passes {}, {} finals were the endpoint pass)",
            f.p50, f.p95, f.max, f.n, report.eot_wait_ms, if report.endpoint_passes { "on" } else { "off" }, report.endpoint_reused
        );
        let e = &report.speech_end_to_final_ms;
        println!(
            "speech end → final ms  p50 {}  p95 {}  max {}",
            e.p50, e.p95, e.max
        );
        let fp = &report.final_pass_ms;
        println!(
            "final pass cost ms  p50 {}  p95 {}  max {}",
            fp.p50, fp.p95, fp.max
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

/// How a turn ends in the bench.
#[derive(Debug, Clone, Copy)]
struct TurnTiming {
    eot_ms: u64,
    endpoint: bool,
}

/// Silero as the live sessions use it; None (WebRTC VAD instead) when it is not provisioned.
fn load_silero(cfg: &Config) -> Option<Arc<viva_audio::vad::SileroModel>> {
    let lib = viva_audio::vad::provision::locate_onnxruntime(&cfg.models.dir).ok()?;
    let env = viva_tts::piper::onnx_environment(&lib).ok()?;
    let path = viva_audio::vad::provision::locate_vad_model(&cfg.models.dir).ok()?;
    match viva_audio::vad::SileroModel::load(env, &path) {
        Ok(m) => Some(Arc::new(m)),
        Err(e) => {
            eprintln!("Silero VAD unavailable ({e}); using WebRTC VAD");
            None
        }
    }
}

/// Trailing silence after each answer: enough for the end-of-turn wait.
const TRAILING_SILENCE_MS: u64 = 1_500;
/// Silence after the last speech that starts the endpoint pass (as in the live pipeline).
const ENDPOINT_AFTER_MS: u64 = 200;
/// Audio kept after the last speech in a final pass.
const TAIL_MS: u64 = 250;

#[allow(clippy::too_many_arguments)]
fn stream_session(
    session: u64,
    scheduler: &InferenceScheduler,
    files: &[(String, Vec<f32>)],
    cfg: StreamConfig,
    speed: f64,
    turn: TurnTiming,
    vad_model: Option<Arc<viva_audio::vad::SileroModel>>,
    collected: &Mutex<Collected>,
) {
    let mut st = StreamingTranscriber::new(cfg);
    let frame = 320; // 20 ms
    let n = files.len();
    let ms = |samples: usize| samples as u64 * 1000 / 16_000;
    for k in 0..n {
        // Sessions start on different files so they do not run in lock step.
        let (reference, file) = &files[(k + session as usize) % n];
        let detector: Box<dyn viva_audio::VoiceActivityDetector> = match &vad_model {
            Some(m) => Box::new(viva_audio::vad::SileroVad::new(m.clone())),
            None => Box::new(viva_audio::vad::WebRtcVad::new(Default::default())),
        };
        let mut vad = viva_audio::vad::VadStream::new(detector, 0.5);
        let mut samples = file.clone();
        samples.resize(file.len() + (TRAILING_SILENCE_MS * 16) as usize, 0.0);
        st.begin(0);
        let t0 = Instant::now();
        let mut pending: Option<(viva_models::streaming::Ticket, Instant)> = None;
        let mut local = Collected::default();
        // Last voiced chunk's end (ms into the file) and when the frame holding it was delivered.
        let mut last_speech: Option<(u64, Instant)> = None;
        // The endpoint pass: (ticket, the speech end it was started for).
        let mut endpoint: Option<(viva_models::streaming::Ticket, u64)> = None;
        let mut final_ticket: Option<(viva_models::streaming::Ticket, Instant, bool)> = None;
        for (i, chunk) in samples.chunks(frame).enumerate() {
            let due = Duration::from_secs_f64((i * frame) as f64 / 16_000.0 / speed);
            if let Some(wait) = due.checked_sub(t0.elapsed()) {
                std::thread::sleep(wait);
            }
            let now_ms = ms((i + 1) * frame);
            if let Ok(f) = viva_audio::AudioFrame::new(chunk.to_vec(), 16_000, (i * frame) as u64) {
                for c in vad.push(&f).unwrap_or_default() {
                    if c.speech {
                        last_speech = Some((c.end_ms(), Instant::now()));
                    }
                }
            }
            let in_file = (i + 1) * frame <= file.len();
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
            let Some((speech_end, _)) = last_speech else {
                continue;
            };
            // The candidate paused: the endpoint pass (a newer one replaces a queued older one).
            if turn.endpoint
                && endpoint.as_ref().is_none_or(|(_, at)| *at < speech_end)
                && now_ms >= speech_end + ENDPOINT_AFTER_MS
            {
                let (audio, opts) = st.final_request();
                endpoint = Some((
                    scheduler.submit(session, Priority::Endpoint, audio, opts),
                    speech_end,
                ));
            }
            // The file's speech is over and the end-of-turn wait has passed: the turn ends.
            if !in_file && now_ms >= speech_end + turn.eot_ms {
                let turn_end = Instant::now();
                match endpoint.take() {
                    Some((ticket, at)) if at == speech_end => {
                        final_ticket = Some((ticket, turn_end, true));
                    }
                    _ => {
                        let (mut audio, opts) = st.final_request();
                        audio.truncate(((speech_end + TAIL_MS) * 16) as usize);
                        final_ticket = Some((
                            scheduler.submit(session, Priority::Final, audio, opts),
                            turn_end,
                            false,
                        ));
                    }
                }
                break;
            }
            if st.partial_due() && in_file {
                let (audio, opts) = st.partial_request();
                pending = Some((
                    scheduler.submit(session, Priority::Partial, audio, opts),
                    Instant::now(),
                ));
            }
        }
        let (ticket, turn_end, reused) = match final_ticket {
            Some(t) => t,
            // No speech found: the whole file as one final, when it is over.
            None => {
                let (audio, opts) = st.final_request();
                (
                    scheduler.submit(session, Priority::Final, audio, opts),
                    Instant::now(),
                    false,
                )
            }
        };
        match ticket.blocking_recv() {
            Ok(Ok(inference)) => {
                let ready = Instant::now();
                local
                    .finalization_ms
                    .push(ready.saturating_duration_since(turn_end).as_millis() as u64);
                if let Some((_, delivered)) = last_speech {
                    local
                        .speech_end_to_final_ms
                        .push(ready.saturating_duration_since(delivered).as_millis() as u64);
                }
                local.final_pass_ms.push(inference.run_ms);
                if reused {
                    local.endpoint_reused += 1;
                }
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
            c.speech_end_to_final_ms
                .extend(local.speech_end_to_final_ms);
            c.final_pass_ms.extend(local.final_pass_ms);
            c.endpoint_reused += local.endpoint_reused;
            c.caption_lag_ms.extend(local.caption_lag_ms);
            c.streaming.add(local.streaming);
            c.partials_done += local.partials_done;
            c.partials_dropped += local.partials_dropped;
        }
        std::thread::sleep(Duration::from_secs_f64(0.3 / speed));
    }
}

use super::bench_live::{cpu_seconds, rss_mb};
