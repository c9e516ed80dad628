//! `viva bench live --sessions N`: N simulated candidates interviewed at once (each answering
//! with the given WAV files at real-time pace over the WebSocket gateway, as `viva simulate`
//! does) and the numbers that decide how many live interviews one machine can hold: response
//! latency p50/p95/max over every answered turn, caption lag, late interviewer audio, and the
//! server's CPU and RSS per session (measured when the server runs in this process).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args;
use serde::Serialize;

use super::simulate::{load_answer, simulate, Report};
use crate::config::Config;

#[derive(Debug, Args)]
pub struct BenchLiveArgs {
    /// Transport every candidate uses: ws, twilio (phone, 8 kHz μ-law) or webrtc (Opus).
    #[arg(long, default_value = "ws")]
    pub transport: String,
    /// Concurrent simulated candidates; several counts (`8,16,24,32`) run one after the other,
    /// each on a fresh in-process server, and end with a table of all of them.
    #[arg(long, value_delimiter = ',', default_value = "1")]
    pub sessions: Vec<usize>,
    /// WAV files each candidate answers with, in order (comma-separated).
    #[arg(long, value_delimiter = ',', required = true)]
    pub answers: Vec<PathBuf>,
    /// A running server (e.g. http://127.0.0.1:8080). Absent: one in this process, so its CPU
    /// and memory can be measured.
    #[arg(long)]
    pub server: Option<String>,
    /// Job to interview for: `demo`, or a job file (TOML; filed through the API first, with
    /// `VIVA_API_TOKEN` when --server is given), e.g. one whose knockouts do not end an
    /// interview answered with read speech.
    #[arg(long, default_value = "demo")]
    pub job: String,
    /// Delay between session starts, so they do not speak in lock step.
    #[arg(long, default_value_t = 1500)]
    pub stagger_ms: u64,
    /// Print one JSON document.
    #[arg(long)]
    pub json: bool,
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 600)]
    pub timeout_s: u64,
}

#[derive(Debug, Default, Serialize)]
pub struct Percentiles {
    pub n: usize,
    pub p50: u64,
    pub p95: u64,
    pub max: u64,
}

pub fn percentiles(mut v: Vec<u64>) -> Percentiles {
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

#[derive(Debug, Serialize)]
struct BenchReport {
    transport: String,
    sessions: usize,
    completed: usize,
    failed: Vec<String>,
    turns_answered: usize,
    turns_without_reply: usize,
    response_latency_ms: Percentiles,
    caption_lag_ms: Percentiles,
    late_interviewer_frames: u64,
    wall_s: f64,
    /// Server process CPU (cores busy on average); None with --server.
    cpu_cores_used: Option<f64>,
    rss_mb_before: Option<f64>,
    rss_mb_peak: Option<f64>,
    rss_mb_per_session: Option<f64>,
    /// Mean time in each pipeline stage over the run, from the server's `/metrics` (ms): where
    /// the response latency went (the silence the end-of-turn decision waited vs the work
    /// after it).
    stage_mean_ms: std::collections::BTreeMap<String, f64>,
}

/// Mean of each `viva_stage_seconds` stage (ms) in a Prometheus text exposition.
fn stage_means(metrics: &str) -> std::collections::BTreeMap<String, f64> {
    let mut sums = std::collections::BTreeMap::new();
    let mut counts = std::collections::BTreeMap::new();
    for line in metrics.lines() {
        let (name, value) = match line.rsplit_once(' ') {
            Some((n, v)) => (n, v.parse::<f64>().unwrap_or(0.0)),
            None => continue,
        };
        let stage = |prefix: &str| {
            name.strip_prefix(prefix)
                .and_then(|r| r.strip_prefix("{stage=\""))
                .and_then(|r| r.strip_suffix("\"}"))
                .map(str::to_string)
        };
        if let Some(st) = stage("viva_stage_seconds_sum") {
            sums.insert(st, value);
        } else if let Some(st) = stage("viva_stage_seconds_count") {
            counts.insert(st, value);
        }
    }
    sums.into_iter()
        .filter_map(|(st, sum)| {
            let n = counts.get(&st).copied().unwrap_or(0.0);
            (n > 0.0).then(|| (st, (sum / n * 1000.0 * 10.0).round() / 10.0))
        })
        .collect()
}

pub fn run(cfg: &Config, args: BenchLiveArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        !args.sessions.is_empty() && args.sessions.iter().all(|&n| n >= 1),
        "--sessions must be at least 1 (or a list such as 8,16,24,32)"
    );
    anyhow::ensure!(
        matches!(args.transport.as_str(), "ws" | "twilio" | "webrtc"),
        "transport {:?} is not available; use --transport ws, twilio or webrtc",
        args.transport
    );
    // Load once to fail early on a bad file; each session gets its own copy.
    for p in &args.answers {
        load_answer(p)?;
    }
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    let mut reports = Vec::new();
    for &sessions in &args.sessions {
        let report = runtime.block_on(one_count(cfg, &args, sessions))?;
        if !args.json {
            print_report(&report);
        }
        reports.push(report);
    }
    if args.json {
        if let [one] = reports.as_slice() {
            println!("{}", serde_json::to_string_pretty(one)?);
        } else {
            println!("{}", serde_json::to_string_pretty(&reports)?);
        }
    } else if reports.len() > 1 {
        println!("\nsessions  p50 ms  p95 ms  max ms  late frames  CPU cores  RSS MB/session");
        for r in &reports {
            let l = &r.response_latency_ms;
            println!(
                "{:>8}  {:>6}  {:>6}  {:>6}  {:>11}  {:>9}  {:>14}",
                r.sessions,
                l.p50,
                l.p95,
                l.max,
                r.late_interviewer_frames,
                r.cpu_cores_used.map_or("-".into(), |c| format!("{c:.2}")),
                r.rss_mb_per_session
                    .map_or("-".into(), |m| format!("{m:.1}")),
            );
        }
    }
    let failed: usize = reports.iter().map(|r| r.failed.len()).sum();
    anyhow::ensure!(failed == 0, "{failed} session(s) failed");
    Ok(())
}

/// One run of `sessions` simulated candidates, on a fresh server when none is given.
async fn one_count(
    cfg: &Config,
    args: &BenchLiveArgs,
    sessions: usize,
) -> anyhow::Result<BenchReport> {
    let in_process = args.server.is_none();
    {
        let (base, server) = crate::http::server_for(cfg, args.server.as_deref()).await?;
        let job_arg = super::job_arg::JobArg::parse(&args.job)?
            .prepare(&base, server.as_ref())
            .await?;
        let (rss_before, _) = rss_mb();
        let cpu_before = cpu_seconds();
        let started = Instant::now();
        eprintln!(
            "bench live: {} session(s) over {}, {} answer(s) each, {} ms apart…",
            sessions,
            args.transport,
            args.answers.len(),
            args.stagger_ms
        );
        let mut tasks = Vec::new();
        for i in 0..sessions {
            let answers = args
                .answers
                .iter()
                .map(|p| load_answer(p))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let job = job_arg.session_job(&base).await?;
            let (base, transport) = (base.clone(), args.transport.clone());
            let data_dir = cfg.storage.data_dir.clone();
            let delay = Duration::from_millis(args.stagger_ms * i as u64);
            tasks.push(tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                match transport.as_str() {
                    "twilio" => {
                        super::simulate_twilio::simulate(
                            &base, &job, answers, None, None, None, &data_dir,
                        )
                        .await
                    }
                    "webrtc" => super::simulate_webrtc::simulate(&base, &job, answers, 0.0).await,
                    _ => simulate(&base, &job, answers).await,
                }
            }));
        }
        let mut peak = rss_before;
        let all = async {
            let mut out = Vec::new();
            for t in tasks {
                out.push(t.await);
            }
            out
        };
        tokio::pin!(all);
        let mut sample = tokio::time::interval(Duration::from_millis(500));
        let deadline = tokio::time::sleep(Duration::from_secs(args.timeout_s));
        tokio::pin!(deadline);
        let results = loop {
            tokio::select! {
                r = &mut all => break r,
                _ = sample.tick() => peak = peak.max(rss_mb().0),
                _ = &mut deadline => anyhow::bail!("bench live timed out after {} s", args.timeout_s),
            }
        };
        let wall_s = started.elapsed().as_secs_f64();
        let cpu = cpu_seconds() - cpu_before;
        let metrics = match super::simulate::http_client()?
            .get(format!("{base}/metrics"))
            .send()
            .await
        {
            Ok(r) => r.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        let mut reports: Vec<Report> = Vec::new();
        let mut failed = Vec::new();
        for (i, r) in results.into_iter().enumerate() {
            match r {
                Ok(Ok(rep)) => reports.push(rep),
                Ok(Err(e)) => failed.push(format!("session {i}: {e:#}")),
                Err(e) => failed.push(format!("session {i}: {e}")),
            }
        }
        let latencies: Vec<u64> = reports
            .iter()
            .flat_map(|r| r.turns.iter().filter_map(|t| t.response_latency_ms))
            .collect();
        let turns: usize = reports.iter().map(|r| r.turns.len()).sum();
        let n = sessions as f64;
        anyhow::Ok(BenchReport {
            transport: args.transport.clone(),
            sessions,
            completed: reports.len(),
            failed,
            turns_answered: latencies.len(),
            turns_without_reply: turns - latencies.len(),
            response_latency_ms: percentiles(latencies),
            caption_lag_ms: percentiles(
                reports
                    .iter()
                    .flat_map(|r| r.caption_lag_ms.iter().copied())
                    .collect(),
            ),
            late_interviewer_frames: reports.iter().map(|r| r.late_frames).sum(),
            wall_s,
            cpu_cores_used: in_process.then(|| cpu / wall_s.max(1e-9)),
            rss_mb_before: in_process.then_some(rss_before),
            rss_mb_peak: in_process.then_some(peak),
            rss_mb_per_session: in_process.then(|| (peak - rss_before).max(0.0) / n),
            stage_mean_ms: stage_means(&metrics),
        })
    }
}

fn print_report(report: &BenchReport) {
    let r = &report.response_latency_ms;
    let c = &report.caption_lag_ms;
    println!(
        "transport {}  sessions {}  completed {}  turns answered {} (no reply: {})",
        report.transport,
        report.sessions,
        report.completed,
        report.turns_answered,
        report.turns_without_reply
    );
    println!(
        "response latency ms  p50 {}  p95 {}  max {}  (n {})",
        r.p50, r.p95, r.max, r.n
    );
    println!(
        "caption lag ms       p50 {}  p95 {}  max {}  (n {})",
        c.p50, c.p95, c.max, c.n
    );
    println!(
        "late interviewer frames {}  wall {:.1} s",
        report.late_interviewer_frames, report.wall_s
    );
    if let (Some(cpu), Some(before), Some(peak), Some(per)) = (
        report.cpu_cores_used,
        report.rss_mb_before,
        report.rss_mb_peak,
        report.rss_mb_per_session,
    ) {
        println!(
                "server CPU {cpu:.2} cores  RSS {before:.0} MB before, {peak:.0} MB peak, {per:.1} MB per session"
            );
    }
    if !report.stage_mean_ms.is_empty() {
        let stages: Vec<String> = report
            .stage_mean_ms
            .iter()
            .map(|(st, ms)| format!("{st} {ms}"))
            .collect();
        println!("stage means ms: {}", stages.join("  "));
    }
    for f in &report.failed {
        println!("FAILED {f}");
    }
}

/// User + system CPU seconds of this process.
pub fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the command name (which may contain spaces) start after the last ')'.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

/// Current and peak resident memory of this process in MB.
pub fn rss_mb() -> (f64, f64) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stage_means_read_the_prometheus_text() {
        let text = "viva_stage_seconds_sum{stage=\"dialogue\"} 0.5\n\
                    viva_stage_seconds_count{stage=\"dialogue\"} 4\n\
                    viva_stage_seconds_sum{stage=\"idle\"} 0\n\
                    viva_stage_seconds_count{stage=\"idle\"} 0\n\
                    viva_response_seconds_sum 3\n";
        let m = stage_means(text);
        assert_eq!(m.get("dialogue"), Some(&125.0));
        assert!(!m.contains_key("idle"));
    }

    #[test]
    fn percentiles_of_nothing_and_of_a_list() {
        assert_eq!(percentiles(vec![]).n, 0);
        let p = percentiles((1..=100).collect());
        assert_eq!((p.n, p.p50, p.p95, p.max), (100, 51, 95, 100));
    }
}
