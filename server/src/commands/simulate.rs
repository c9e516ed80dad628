//! `viva simulate`: a headless candidate over the WebSocket gateway.
//!
//! It answers each question (an interviewer utterance that awaits an answer) with the next WAV
//! at real-time pace in 20 ms frames, streams silence otherwise (as a live microphone does), and
//! measures **response latency**: the candidate's last voiced audio sent → the first interviewer
//! audio received after it.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::Args;
use futures_util::{SinkExt, StreamExt};
use serde::Serialize;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

use crate::config::Config;

#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// Transport to use: `ws` (the WebSocket protocol) or `twilio` (a phone call over the
    /// Twilio Media Streams gateway, 8 kHz μ-law) or `webrtc` (a WebRTC peer, Opus 48 kHz).
    #[arg(long, default_value = "ws")]
    pub transport: String,
    /// Twilio transport: speak answer N (1-based) over the interviewer, 1 s into its audio,
    /// instead of after the question (a barge-in; the report counts the `clear`s received).
    #[arg(long)]
    pub barge_in: Option<usize>,
    /// WAV files, one answer per question, in order (comma-separated).
    #[arg(long, value_delimiter = ',', required = true)]
    pub answers: Vec<PathBuf>,
    /// A running server, e.g. http://127.0.0.1:8080. Absent: an in-process server on 127.0.0.1:0.
    #[arg(long)]
    pub server: Option<String>,
    /// Job to interview for: `demo`, or a job file (TOML; filed through the API first, with
    /// `VIVA_API_TOKEN` when --server is given).
    #[arg(long, default_value = "demo")]
    pub job: String,
    /// Print one JSON document.
    #[arg(long)]
    pub json: bool,
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 300)]
    pub timeout_s: u64,
    /// WebRTC transport: drop this share of the microphone's RTP packets (0–1, seeded; the
    /// sequence numbers skip them, as on a lossy network), e.g. 0.05.
    #[arg(long, default_value_t = 0.0)]
    pub packet_loss: f64,
    /// Twilio transport: call the dial-in number instead of a pre-bound session, typing these
    /// keypad entries in turn when asked for the PIN (comma-separated; the job is ignored).
    #[arg(long, value_delimiter = ',')]
    pub dial_in: Vec<String>,
    /// Twilio transport: when the line asks for a rating after the interview, press this key
    /// (1–5 rates; anything else tests the refusal).
    #[arg(long)]
    pub rate: Option<char>,
    /// The Twilio auth token the server checks webhook signatures with (`--dial-in`).
    #[arg(long, env = "VIVA_TELEPHONY_TWILIO_AUTH_TOKEN", hide_env_values = true)]
    pub twilio_auth_token: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct Line {
    pub speaker: &'static str,
    pub text: String,
}

#[derive(Debug, Serialize)]
pub struct TurnReport {
    pub answer: String,
    /// Candidate's last voiced audio sent → first interviewer audio received.
    pub response_latency_ms: Option<u64>,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub session_id: String,
    pub server: String,
    pub transcript: Vec<Line>,
    pub turns: Vec<TurnReport>,
    pub response_latency_p50_ms: Option<u64>,
    pub response_latency_max_ms: Option<u64>,
    pub interviewer_audio_ms: u64,
    pub ended: Option<String>,
    /// Per caption (partial or final): its arrival − the end of the audio it covers, on the
    /// session clock (the clock starts when the session is created).
    pub caption_lag_ms: Vec<u64>,
    /// Interviewer audio frames that arrived more than 200 ms behind real-time pace within an
    /// utterance (the candidate would hear a gap).
    pub late_frames: u64,
    /// Twilio transport: `clear` messages received (one per barge-in).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clears_received: Option<u64>,
    /// Twilio transport: times the caller went on after waiting `STALL_AFTER` for a question
    /// that never came (0 in a healthy run).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stalls: Option<u64>,
    /// `--dial-in`: what the phone line said before the interview (or instead of it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dial_in_said: Option<Vec<String>>,
}

pub(crate) struct Answer {
    pub name: String,
    /// 16 kHz mono.
    pub samples: Vec<f32>,
    /// Index one past the last voiced 20 ms frame.
    pub voiced_end: usize,
}

const FRAME: usize = 320;

pub(crate) fn load_answer(path: &std::path::Path) -> anyhow::Result<Answer> {
    let wav = viva_audio::read_wav(path).with_context(|| format!("reading {}", path.display()))?;
    let samples = viva_audio::resample(&wav.samples, wav.sample_rate, viva_audio::SPEECH_RATE_HZ)
        .with_context(|| format!("resampling {}", path.display()))?;
    let rms: Vec<f32> = samples
        .chunks(FRAME)
        .map(|c| (c.iter().map(|s| s * s).sum::<f32>() / c.len().max(1) as f32).sqrt())
        .collect();
    let peak = rms.iter().cloned().fold(0.0f32, f32::max);
    if peak <= 1e-4 {
        bail!("{} is silent", path.display());
    }
    // "Voiced" = within 20 dB of the loudest frame: the speech, not its breath or room tone.
    let last = rms.iter().rposition(|r| *r >= peak * 0.1).unwrap_or(0);
    Ok(Answer {
        name: path.display().to_string(),
        samples,
        voiced_end: (last + 1) * FRAME,
    })
}

pub fn run(cfg: &Config, args: SimulateArgs) -> anyhow::Result<()> {
    if !matches!(args.transport.as_str(), "ws" | "twilio" | "webrtc") {
        bail!(
            "transport {:?} is not available; use --transport ws, twilio or webrtc",
            args.transport
        );
    }
    if args.barge_in.is_some() && args.transport != "twilio" {
        bail!("--barge-in is implemented for --transport twilio only");
    }
    let dial_in = if args.dial_in.is_empty() {
        None
    } else {
        if args.transport != "twilio" {
            bail!("--dial-in needs --transport twilio");
        }
        let Some(auth_token) = args.twilio_auth_token.clone().filter(|t| !t.is_empty()) else {
            bail!("--dial-in needs --twilio-auth-token (or VIVA_TELEPHONY_TWILIO_AUTH_TOKEN): webhook requests are signed with it");
        };
        Some(super::simulate_twilio::DialIn {
            entries: args.dial_in.clone(),
            auth_token,
        })
    };
    let answers = args
        .answers
        .iter()
        .map(|p| load_answer(p))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    let report = runtime.block_on(async {
        let (base, server) = crate::http::server_for(cfg, args.server.as_deref()).await?;
        let job = super::job_arg::JobArg::parse(&args.job)?
            .prepare(&base, server.as_ref())
            .await?;
        let job = job.session_job(&base).await?;
        let call = async {
            if args.transport == "twilio" {
                super::simulate_twilio::simulate(
                    &base,
                    &job,
                    answers,
                    args.barge_in,
                    dial_in.as_ref(),
                    args.rate,
                    &cfg.storage.data_dir,
                )
                .await
            } else if args.transport == "webrtc" {
                super::simulate_webrtc::simulate(&base, &job, answers, args.packet_loss).await
            } else {
                simulate(&base, &job, answers).await
            }
        };
        tokio::time::timeout(Duration::from_secs(args.timeout_s), call)
            .await
            .context("the simulated interview timed out")?
    })?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        for l in &report.transcript {
            println!("{:>11}: {}", l.speaker, l.text);
        }
        println!();
        for (i, t) in report.turns.iter().enumerate() {
            let lat = t
                .response_latency_ms
                .map(|m| format!("{m} ms"))
                .unwrap_or_else(|| "-".into());
            println!("turn {}: {}  response latency {}", i + 1, t.answer, lat);
        }
        for said in report.dial_in_said.iter().flatten() {
            println!("phone line: {said}");
        }
        if let Some(c) = report.clears_received {
            println!("clear messages received (barge-ins): {c}");
        }
        if let Some(p50) = report.response_latency_p50_ms {
            println!(
                "response latency p50 {p50} ms, max {} ms",
                report.response_latency_max_ms.unwrap_or(p50)
            );
        }
    }
    Ok(())
}

/// An HTTP client for the simulated candidates' requests.
pub(crate) fn http_client() -> anyhow::Result<reqwest::Client> {
    crate::tls::install_crypto_provider();
    reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .context("building the HTTP client")
}

/// `POST {base}/v1/sessions`: the session's id, resume token and WebSocket path.
/// `job` is `demo`, or `invite:TOKEN` (a stored job's invite, see [`super::job_arg`]).
pub(crate) async fn create_session(base: &str, job: &str) -> anyhow::Result<serde_json::Value> {
    let url = format!("{base}/v1/sessions");
    let body = match job.strip_prefix(super::job_arg::INVITE_PREFIX) {
        Some(token) => serde_json::json!({ "invite": token }),
        None => serde_json::json!({ "job": job }),
    };
    let resp = http_client()?
        .post(&url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body.to_string())
        .send()
        .await
        .with_context(|| format!("POST {url}"))?;
    let status = resp.status();
    let body = resp.text().await.context("reading the response")?;
    if status != reqwest::StatusCode::CREATED {
        bail!("creating a session failed: {status} {body}");
    }
    Ok(serde_json::from_str(&body)?)
}

enum WriterCmd {
    Play(usize),
    Send(String),
}

pub(crate) async fn simulate(
    base: &str,
    job: &str,
    answers: Vec<Answer>,
) -> anyhow::Result<Report> {
    let created = create_session(base, job).await?;
    let session_clock = Instant::now();
    let id = created["id"].as_str().context("no id")?.to_string();
    let token = created["resume_token"]
        .as_str()
        .context("no resume_token")?
        .to_string();
    let ws_path = created["ws_url"].as_str().context("no ws_url")?;
    let url = format!("{}{}", base.replacen("http://", "ws://", 1), ws_path);
    let (ws, _) = tokio_tungstenite::connect_async(&url)
        .await
        .with_context(|| format!("connecting to {url}"))?;
    let (mut sink, mut stream) = ws.split();
    let hello = serde_json::json!({"type": "hello", "protocol": 1, "resume_token": token, "codec": "pcm16", "sample_rate": 16000});
    sink.send(Message::Text(hello.to_string().into())).await?;

    let names: Vec<String> = answers.iter().map(|a| a.name.clone()).collect();
    let (cmd_tx, mut cmd_rx) = mpsc::channel::<WriterCmd>(8);
    let (voiced_tx, mut voiced_rx) = mpsc::channel::<Instant>(8);
    // The microphone: one 20 ms frame every 20 ms, silence unless answering.
    let writer = tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(20));
        let mut playing: Option<(usize, usize)> = None;
        loop {
            tokio::select! {
                cmd = cmd_rx.recv() => match cmd {
                    Some(WriterCmd::Play(i)) => playing = Some((i, 0)),
                    Some(WriterCmd::Send(t)) => {
                        if sink.send(Message::Text(t.into())).await.is_err() { break; }
                    }
                    None => break,
                },
                _ = tick.tick() => {
                    let mut frame = [0i16; FRAME];
                    if let Some((i, pos)) = playing {
                        let a = &answers[i];
                        let end = (pos + FRAME).min(a.samples.len());
                        for (d, s) in frame.iter_mut().zip(&a.samples[pos..end]) {
                            *d = (s.clamp(-1.0, 1.0) * 32767.0) as i16;
                        }
                        if pos < a.voiced_end && end >= a.voiced_end {
                            let _ = voiced_tx.send(Instant::now()).await;
                        }
                        playing = (end < a.samples.len()).then_some((i, end));
                    }
                    let bytes: Vec<u8> = frame.iter().flat_map(|s| s.to_le_bytes()).collect();
                    if sink.send(Message::Binary(bytes.into())).await.is_err() { break; }
                }
            }
        }
        let _ = sink.close().await;
    });

    let mut transcript = Vec::new();
    let mut turns: Vec<TurnReport> = Vec::new();
    let mut next_answer = 0usize;
    let mut pending_voiced: Option<(usize, Instant)> = None;
    let mut audio_frames = 0u64;
    let mut ended = None;
    let mut said_bye = false;
    let mut caption_lag_ms = Vec::new();
    let mut late_frames = 0u64;
    // (first frame's arrival, frames since) of the utterance playing now.
    let mut utterance_audio: Option<(Instant, u64)> = None;
    loop {
        tokio::select! {
            v = voiced_rx.recv() => {
                if let Some(t) = v {
                    pending_voiced = Some((turns.len().saturating_sub(1), t));
                }
            }
            msg = stream.next() => {
                let Some(msg) = msg else { break };
                let msg = match msg {
                    Ok(m) => m,
                    Err(e) => {
                        if ended.is_some() || said_bye { break; }
                        bail!("websocket error: {e}");
                    }
                };
                match msg {
                    Message::Binary(b) => {
                        let frames = (b.len() / (FRAME * 2)).max(1) as u64;
                        audio_frames += frames;
                        match &mut utterance_audio {
                            None => utterance_audio = Some((Instant::now(), frames)),
                            Some((first, n)) => {
                                let due = *first + Duration::from_millis(*n * 20 + 200);
                                if Instant::now() > due {
                                    late_frames += frames;
                                }
                                *n += frames;
                            }
                        }
                        if let Some((turn, t)) = pending_voiced.take() {
                            if let Some(tr) = turns.get_mut(turn) {
                                tr.response_latency_ms = Some(t.elapsed().as_millis() as u64);
                            }
                        }
                    }
                    Message::Text(t) => {
                        let v: serde_json::Value = serde_json::from_str(&t).unwrap_or_default();
                        if v["type"] == "caption" {
                            if let Some(end) = v["end_ms"].as_u64() {
                                let now = session_clock.elapsed().as_millis() as u64;
                                caption_lag_ms.push(now.saturating_sub(end));
                            }
                        }
                        if v["type"] == "interviewer_audio_end" || v["type"] == "flush" {
                            utterance_audio = None;
                        }
                        match v["type"].as_str().unwrap_or("") {
                            "interviewer" => transcript.push(Line {
                                speaker: "interviewer",
                                text: v["text"].as_str().unwrap_or("").to_string(),
                            }),
                            "caption" if v["final"].as_bool() == Some(true) => transcript.push(Line {
                                speaker: "candidate",
                                text: v["text"].as_str().unwrap_or("").to_string(),
                            }),
                            "interviewer_audio_end"
                                if v["awaits_answer"].as_bool() == Some(true)
                                    && v["interrupted"].as_bool() == Some(false) =>
                            {
                                if next_answer < names.len() {
                                    turns.push(TurnReport {
                                        answer: names[next_answer].clone(),
                                        response_latency_ms: None,
                                    });
                                    let _ = cmd_tx.send(WriterCmd::Play(next_answer)).await;
                                    next_answer += 1;
                                } else if !said_bye {
                                    said_bye = true;
                                    let _ = cmd_tx.send(WriterCmd::Send(r#"{"type":"bye"}"#.into())).await;
                                }
                            }
                            "ended" => ended = v["reason"].as_str().map(str::to_string),
                            "error" => tracing::warn!(event = %t, "server error event"),
                            _ => {}
                        }
                    }
                    Message::Close(_) => break,
                    _ => {}
                }
            }
        }
    }
    drop(cmd_tx);
    let _ = writer.await;
    let mut lat: Vec<u64> = turns.iter().filter_map(|t| t.response_latency_ms).collect();
    lat.sort_unstable();
    Ok(Report {
        session_id: id,
        server: base.to_string(),
        transcript,
        response_latency_p50_ms: lat.get(lat.len().saturating_sub(1) / 2).copied(),
        response_latency_max_ms: lat.last().copied(),
        turns,
        interviewer_audio_ms: audio_frames * 20,
        ended,
        caption_lag_ms,
        late_frames,
        clears_received: None,
        stalls: None,
        dial_in_said: None,
    })
}
