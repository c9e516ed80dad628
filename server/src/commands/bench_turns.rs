//! `viva bench turns MANIFEST`: turn-taking on real speech through the production path.
//!
//! Each recording of the manifest answers the first question of its own session (the greeting is
//! answered in text), streamed at real-time pace over the WebSocket gateway exactly as a
//! candidate's microphone would send it; or, with `--transport twilio`, over the phone gateway
//! in 8 kHz μ-law (`bench_turns_twilio.rs`: the greeting is answered by voice, and only audio,
//! marks and `clear` tell what happened). What the candidate meets is counted per answer:
//! - **false cut-off**: the interviewer started a new utterance while the answer still had
//!   speech to come (for the pauses set: inside the inserted thinking pause, or after it);
//! - **recovered**: after a cut-off, the interviewer was stopped because the candidate went on
//!   (a `flush` with reason `resume`): the reply is withdrawn and the continuation joins the
//!   same answer;
//! - **split**: a cut-off that was not recovered (the rest of the answer became a barge-in and
//!   a new turn, filed under the next question);
//! - **missed end**: no interviewer reply within 5 s of the answer's end;
//! - **latency**: the answer's last voiced audio sent → the first interviewer audio received.
//!
//! Sessions start `--stagger-ms` apart so that while one answer is transcribed the others are
//! still listening to their greeting: answers barely overlap, and the whole set runs in minutes.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::Args;
use futures_util::{SinkExt, StreamExt};
use serde::Serialize;
use tokio_tungstenite::tungstenite::Message;

use super::bench_live::{percentiles, Percentiles};
use super::simulate::{create_session, load_answer, Answer};
use crate::config::Config;

#[derive(Debug, Args)]
pub struct BenchTurnsArgs {
    /// A manifest TSV (`file` column; `pause_at_s` and `pause_s` when the answers carry an
    /// inserted thinking pause, as in `speech/pauses/manifest.tsv`). Files are relative to it.
    pub manifest: PathBuf,
    /// Transport: ws (the WebSocket protocol), webrtc (Opus over WHIP, events on a data
    /// channel) or twilio (the phone gateway, 8 kHz μ-law).
    #[arg(long, default_value = "ws")]
    pub transport: String,
    /// Over the phone the greeting is answered by voice: this recording (default: the
    /// manifest's shortest).
    #[arg(long)]
    pub greeting_answer: Option<PathBuf>,
    /// A running server (http://…). Absent: one in this process.
    #[arg(long)]
    pub server: Option<String>,
    /// Job to interview for.
    #[arg(long, default_value = "demo")]
    pub job: String,
    /// Delay between session starts.
    #[arg(long, default_value_t = 16_000)]
    pub stagger_ms: u64,
    /// Only the first N files of the manifest.
    #[arg(long)]
    pub limit: Option<usize>,
    /// Print one JSON document.
    #[arg(long)]
    pub json: bool,
}

pub(super) struct Item {
    pub file: String,
    pub answer: Answer,
    /// Inserted pause `[start, end)` in seconds of the file, when the manifest gives one.
    pub pause: Option<(f64, f64)>,
    /// What was said, when the manifest has a `reference_transcript` column.
    pub reference: Option<String>,
}

#[derive(Debug, Serialize, Clone)]
pub struct TurnOutcome {
    pub file: String,
    pub pause_s: Option<f64>,
    /// Seconds into the answer where the interviewer first started speaking (None: never).
    pub interviewer_at_s: Option<f64>,
    pub voiced_end_s: f64,
    pub false_cutoff: bool,
    pub recovered: bool,
    pub finals: usize,
    pub missed_end: bool,
    pub latency_ms: Option<u64>,
    /// The answer's last voiced audio sent → its first final caption received.
    pub final_after_ms: Option<u64>,
    /// Word errors of the final captions against the manifest's reference.
    pub wer: Option<f64>,
    #[serde(skip)]
    pub word_errors: Option<viva_models::text::WordErrors>,
    pub heard: Vec<String>,
    pub reply: Option<String>,
    pub error: Option<String>,
}

#[derive(Debug, Serialize)]
struct BenchReport {
    manifest: String,
    transport: String,
    answers: usize,
    false_cutoffs: usize,
    recovered: usize,
    split_answers: usize,
    missed_ends: usize,
    errors: usize,
    latency_ms: Percentiles,
    outcomes: Vec<TurnOutcome>,
}

fn read_manifest(path: &Path, limit: Option<usize>) -> anyhow::Result<Vec<Item>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut lines = text.lines();
    let header: Vec<&str> = lines
        .next()
        .context("empty manifest")?
        .split('\t')
        .collect();
    let col = |name: &str| header.iter().position(|h| *h == name);
    let file_col = col("file").context("the manifest has no `file` column")?;
    let (at_col, len_col) = (col("pause_at_s"), col("pause_s"));
    let ref_col = col("reference_transcript");
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut items = Vec::new();
    for line in lines.filter(|l| !l.trim().is_empty()) {
        let f: Vec<&str> = line.split('\t').collect();
        let Some(file) = f.get(file_col) else {
            continue;
        };
        let num = |c: Option<usize>| c.and_then(|c| f.get(c)).and_then(|v| v.parse::<f64>().ok());
        let pause = match (num(at_col), num(len_col)) {
            (Some(a), Some(l)) => Some((a, a + l)),
            _ => None,
        };
        let answer = load_answer(&dir.join(file))?;
        items.push(Item {
            file: file.to_string(),
            answer,
            pause,
            reference: ref_col.and_then(|c| f.get(c)).map(|t| t.to_string()),
        });
        if limit.is_some_and(|n| items.len() >= n) {
            break;
        }
    }
    Ok(items)
}

pub fn run(cfg: &Config, args: BenchTurnsArgs) -> anyhow::Result<()> {
    let outcomes = measure(cfg, &args)?;
    let report = BenchReport {
        manifest: args.manifest.display().to_string(),
        transport: args.transport.clone(),
        answers: outcomes.len(),
        false_cutoffs: outcomes.iter().filter(|o| o.false_cutoff).count(),
        recovered: outcomes.iter().filter(|o| o.recovered).count(),
        split_answers: outcomes
            .iter()
            .filter(|o| o.false_cutoff && !o.recovered)
            .count(),
        missed_ends: outcomes.iter().filter(|o| o.missed_end).count(),
        errors: outcomes.iter().filter(|o| o.error.is_some()).count(),
        latency_ms: response_latency(&outcomes),
        outcomes,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!(
            "{} answers over {}: false cut-offs {} of {} ({} recovered), split answers {}, missed ends {}, errors {}",
            report.answers,
            report.transport,
            report.false_cutoffs,
            report.answers,
            report.recovered,
            report.split_answers,
            report.missed_ends,
            report.errors
        );
        let l = &report.latency_ms;
        println!(
            "speech end → first interviewer audio (answers not cut off, n={}): p50 {} ms, p95 {} ms, max {} ms",
            l.n, l.p50, l.p95, l.max
        );
    }
    Ok(())
}

/// Speech end → first interviewer audio, over the answers that were not cut off.
pub(super) fn response_latency(outcomes: &[TurnOutcome]) -> Percentiles {
    percentiles(
        outcomes
            .iter()
            .filter(|o| !o.false_cutoff)
            .filter_map(|o| o.latency_ms)
            .collect(),
    )
}

/// Plays every answer of the manifest, each in its own session, and returns what happened.
pub(super) fn measure(cfg: &Config, args: &BenchTurnsArgs) -> anyhow::Result<Vec<TurnOutcome>> {
    if !matches!(args.transport.as_str(), "ws" | "twilio" | "webrtc") {
        bail!(
            "transport {:?} is not available for bench turns; use --transport ws, webrtc or twilio",
            args.transport
        );
    }
    let items = read_manifest(&args.manifest, args.limit)?;
    let greeting = match &args.greeting_answer {
        Some(p) => Some(load_answer(p)?),
        None => items
            .iter()
            .min_by_key(|i| i.answer.samples.len())
            .map(|i| Answer {
                name: i.answer.name.clone(),
                samples: i.answer.samples.clone(),
                voiced_end: i.answer.voiced_end,
            }),
    };
    anyhow::ensure!(
        !items.is_empty(),
        "no answers in {}",
        args.manifest.display()
    );
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    let outcomes = runtime.block_on(async {
        let (base, _server) = crate::http::server_for(cfg, args.server.as_deref()).await?;
        eprintln!(
            "bench turns: {} answer(s) over {}, sessions {} ms apart…",
            items.len(),
            args.transport,
            args.stagger_ms
        );
        let mut tasks = Vec::new();
        for (i, item) in items.into_iter().enumerate() {
            let base = base.clone();
            let job = args.job.clone();
            let delay = Duration::from_millis(args.stagger_ms * i as u64);
            let transport = args.transport.clone();
            let greeting = greeting.as_ref().map(|g| Answer {
                name: g.name.clone(),
                samples: g.samples.clone(),
                voiced_end: g.voiced_end,
            });
            tasks.push(tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                let file = item.file.clone();
                let pause = item.pause;
                let voiced_end_s = item.answer.voiced_end as f64 / 16_000.0;
                let session = async {
                    match (transport.as_str(), greeting) {
                        ("twilio", Some(g)) => {
                            super::bench_turns_twilio::one(&base, &job, item, g).await
                        }
                        ("webrtc", _) => super::bench_turns_webrtc::one(&base, &job, item).await,
                        _ => one(&base, &job, item).await,
                    }
                };
                match tokio::time::timeout(Duration::from_secs(180), session).await {
                    Ok(Ok(o)) => o,
                    Ok(Err(e)) => failed(file, pause, voiced_end_s, format!("{e:#}")),
                    Err(_) => failed(file, pause, voiced_end_s, "timed out".into()),
                }
            }));
        }
        let mut outcomes = Vec::new();
        for t in tasks {
            let o = t.await.context("a bench session panicked")?;
            eprintln!(
                "  {:<28} {}",
                o.file,
                if let Some(e) = &o.error {
                    format!("error: {e}")
                } else if o.false_cutoff {
                    format!(
                        "CUT OFF at {:.2} s of {:.2} s{}",
                        o.interviewer_at_s.unwrap_or(0.0),
                        o.voiced_end_s,
                        if o.recovered { " (recovered)" } else { "" }
                    )
                } else if o.missed_end {
                    "no reply within 5 s".to_string()
                } else {
                    format!("ok, reply after {} ms", o.latency_ms.unwrap_or(0))
                }
            );
            outcomes.push(o);
        }
        anyhow::Ok(outcomes)
    })?;
    Ok(outcomes)
}

impl TurnOutcome {
    pub(super) fn new(file: String, pause: Option<(f64, f64)>, voiced_end_s: f64) -> TurnOutcome {
        TurnOutcome {
            file,
            pause_s: pause.map(|(a, b)| b - a),
            interviewer_at_s: None,
            voiced_end_s,
            false_cutoff: false,
            recovered: false,
            finals: 0,
            missed_end: false,
            latency_ms: None,
            final_after_ms: None,
            wer: None,
            word_errors: None,
            heard: Vec::new(),
            reply: None,
            error: None,
        }
    }
}

fn failed(file: String, pause: Option<(f64, f64)>, voiced_end_s: f64, e: String) -> TurnOutcome {
    TurnOutcome {
        error: Some(e),
        ..TurnOutcome::new(file, pause, voiced_end_s)
    }
}

/// The candidate's text answer to the greeting, on every transport that carries events.
pub(super) const READY: &str = r#"{"type":"text_answer","text":"Yes, I'm ready."}"#;

/// What the simulated candidate does after a server event.
pub(super) enum Step {
    Nothing,
    /// The greeting was heard: send [`READY`].
    SayReady,
    /// The first question has played: start the answer under test.
    Play,
    Ended,
}

/// Reads the session's events (the same over the WebSocket and the WebRTC data channel) into
/// a [`TurnOutcome`]: the greeting, the question the answer goes to, the reply and whether it
/// cut the answer off, a withdrawn reply, the final captions.
#[derive(Default)]
pub(super) struct AnswerWatch {
    greeted: bool,
    greeting_id: String,
    playing: bool,
}

impl AnswerWatch {
    /// `at_s`: seconds since the answer started; `after_voiced_ms`: since its last voiced
    /// frame, once that is past.
    pub(super) fn on_event(
        &mut self,
        v: &serde_json::Value,
        at_s: f64,
        after_voiced_ms: Option<u64>,
        out: &mut TurnOutcome,
    ) -> Step {
        match v["type"].as_str().unwrap_or("") {
            "interviewer" if !self.greeted => {
                self.greeted = true;
                self.greeting_id = v["utterance_id"].as_str().unwrap_or_default().to_string();
                Step::SayReady
            }
            "interviewer" if self.playing && out.reply.is_none() => {
                out.interviewer_at_s = Some(at_s);
                out.reply = v["text"].as_str().map(str::to_string);
                // Speech still to come (more than a frame past this moment): cut off.
                out.false_cutoff = at_s + 0.1 < out.voiced_end_s;
                Step::Nothing
            }
            "interviewer_audio_end"
                if self.greeted
                    && !self.playing
                    && v["awaits_answer"] == true
                    && v["interrupted"] == false
                    && v["utterance_id"].as_str() != Some(self.greeting_id.as_str()) =>
            {
                self.playing = true;
                Step::Play
            }
            // The interviewer stopped because the candidate went on (cut-off recovery).
            "flush" if out.false_cutoff && v["reason"] == "resume" => {
                out.recovered = true;
                Step::Nothing
            }
            "caption" if self.playing && v["final"] == true => {
                if out.final_after_ms.is_none() {
                    out.final_after_ms = after_voiced_ms;
                }
                out.finals += 1;
                out.heard
                    .push(v["text"].as_str().unwrap_or_default().to_string());
                Step::Nothing
            }
            "ended" => Step::Ended,
            _ => Step::Nothing,
        }
    }
}

/// One session: greeting answered in text, then the recording as the answer to the question.
async fn one(base: &str, job: &str, item: Item) -> anyhow::Result<TurnOutcome> {
    let created = create_session(base, job).await?;
    let token = created["resume_token"].as_str().context("no token")?;
    let ws_path = created["ws_url"].as_str().context("no ws_url")?;
    let url = format!("{}{}", base.replacen("http://", "ws://", 1), ws_path);
    let (ws, _) = tokio_tungstenite::connect_async(&url)
        .await
        .with_context(|| format!("connecting to {url}"))?;
    let (mut sink, mut stream) = ws.split();
    let hello = serde_json::json!({"type": "hello", "protocol": 1, "resume_token": token});
    sink.send(Message::Text(hello.to_string().into())).await?;
    // The microphone: a 20 ms frame every 20 ms, silence until the answer plays.
    let (play_tx, mut play_rx) = tokio::sync::mpsc::channel::<()>(1);
    let (text_tx, mut text_rx) = tokio::sync::mpsc::channel::<String>(4);
    let (started_tx, started_rx) = tokio::sync::oneshot::channel::<Instant>();
    let samples = item.answer.samples.clone();
    let writer = tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(20));
        let mut pos: Option<usize> = None;
        let mut started = Some(started_tx);
        loop {
            tokio::select! {
                p = play_rx.recv() => match p {
                    Some(()) => pos = Some(0),
                    None => break,
                },
                t = text_rx.recv() => match t {
                    Some(t) => if sink.send(Message::Text(t.into())).await.is_err() { break },
                    None => break,
                },
                _ = tick.tick() => {
                    let mut frame = [0i16; 320];
                    if let Some(p) = pos {
                        if let Some(s) = started.take() {
                            let _ = s.send(Instant::now());
                        }
                        let end = (p + 320).min(samples.len());
                        for (d, s) in frame.iter_mut().zip(&samples[p..end]) {
                            *d = (s.clamp(-1.0, 1.0) * 32767.0) as i16;
                        }
                        pos = (end < samples.len()).then_some(end);
                    }
                    let bytes: Vec<u8> = frame.iter().flat_map(|s| s.to_le_bytes()).collect();
                    if sink.send(Message::Binary(bytes.into())).await.is_err() { break; }
                }
            }
        }
        let _ = sink.close().await;
    });
    let voiced_end_s = item.answer.voiced_end as f64 / 16_000.0;
    let item_reference = item.reference.clone();
    let mut out = TurnOutcome::new(item.file.clone(), item.pause, voiced_end_s);
    let mut watch = AnswerWatch::default();
    let mut started_rx = Some(started_rx);
    let mut t0: Option<Instant> = None;
    let since = |t0: Option<Instant>| t0.map(|t| t.elapsed().as_secs_f64());
    loop {
        // After the answer: wait until 5 s past its end for the reply, then stop.
        let deadline = match t0 {
            Some(t) => t + Duration::from_secs_f64(voiced_end_s + 5.0),
            None => Instant::now() + Duration::from_secs(120),
        };
        let msg = tokio::select! {
            m = stream.next() => m,
            _ = tokio::time::sleep_until(deadline.into()) => break,
        };
        let Some(Ok(msg)) = msg else { break };
        match msg {
            Message::Binary(_) => {
                if let (Some(at), None, Some(_)) = (since(t0), out.latency_ms, out.reply.as_ref()) {
                    if !out.false_cutoff && at >= voiced_end_s {
                        out.latency_ms = Some(((at - voiced_end_s) * 1000.0) as u64);
                    }
                }
            }
            Message::Text(t) => {
                let v: serde_json::Value = serde_json::from_str(&t).unwrap_or_default();
                let after_voiced_ms = since(t0)
                    .filter(|at| *at >= voiced_end_s)
                    .map(|at| ((at - voiced_end_s) * 1000.0) as u64);
                match watch.on_event(&v, since(t0).unwrap_or(0.0), after_voiced_ms, &mut out) {
                    Step::SayReady => {
                        let _ = text_tx.send(READY.to_string()).await;
                    }
                    Step::Play => {
                        let _ = play_tx.send(()).await;
                        if let Some(rx) = started_rx.take() {
                            t0 = Some(rx.await.unwrap_or_else(|_| Instant::now()));
                        }
                    }
                    Step::Ended => break,
                    Step::Nothing => {}
                }
            }
            Message::Close(_) => break,
            _ => {}
        }
    }
    out.missed_end = !out.false_cutoff
        && out
            .interviewer_at_s
            .is_none_or(|at| at > voiced_end_s + 5.0);
    if let Some(reference) = &item_reference {
        let errors = viva_models::text::text_errors(reference, &out.heard.join(" "));
        out.wer = Some(errors.wer());
        out.word_errors = Some(errors);
    }
    let _ = text_tx.send(r#"{"type":"bye"}"#.into()).await;
    drop(play_tx);
    drop(text_tx);
    let _ = tokio::time::timeout(Duration::from_secs(3), writer).await;
    Ok(out)
}
