//! `viva simulate --transport twilio`: a headless phone call over the Twilio Media Streams
//! gateway, behaving as Twilio does.
//!
//! It sends `connected` and `start` (the session and its token as custom parameters), then one
//! `media` message of 160 μ-law bytes (20 ms at 8 kHz) every 20 ms, silence unless answering. It
//! plays the interviewer's `media` in real time (a queue, like Twilio's), echoes each `mark`
//! once the audio before it has played, empties the queue on `clear`, answers when a question's
//! mark (`…:question`) comes back, and ends with `stop` (the caller hangs up).
//!
//! A phone line carries no captions: the transcript in the report is read from the session's
//! `turns.json` when the server's data folder is on this machine.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use base64::Engine as _;
use futures_util::{SinkExt, StreamExt};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

use super::simulate::{create_session, Answer, Line, Report, TurnReport};

const FRAME_8K: usize = 160;
/// How long the caller waits, after an answer, for the next question before going on.
const STALL_AFTER: Duration = Duration::from_secs(15);

pub(crate) enum Cmd {
    Play(usize),
    Send(String),
}

/// A call in progress: the session, the caller's microphone and what the server sends.
pub(crate) struct Call {
    pub id: String,
    pub stream_sid: String,
    pub mic: Mic,
    pub stream: futures_util::stream::SplitStream<
        tokio_tungstenite::WebSocketStream<
            tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
        >,
    >,
}

/// The caller's microphone: `Cmd::Play(i)` speaks answer `i`; `voiced_rx` gets the moment an
/// answer's last voiced frame went out, `done_rx` the answer's index when it has all gone out.
pub(crate) struct Mic {
    pub cmd_tx: mpsc::Sender<Cmd>,
    pub voiced_rx: mpsc::Receiver<Instant>,
    pub done_rx: mpsc::Receiver<usize>,
    pub writer: tokio::task::JoinHandle<()>,
}

/// Creates a session for `job` and calls in as Twilio does (`connected`, `start` with the
/// session and its token as custom parameters); the microphone then sends 20 ms of μ-law
/// every 20 ms, silence unless told to play one of `answers` (narrowband, as the phone network
/// delivers them).
pub(crate) async fn dial(base: &str, job: &str, answers: Vec<Answer>) -> anyhow::Result<Call> {
    let answers = narrowband(answers)?;
    let created = create_session(base, job).await?;
    let id = created["id"].as_str().context("no id")?.to_string();
    let token = created["resume_token"]
        .as_str()
        .context("no resume_token")?
        .to_string();
    let url = format!(
        "{}{}",
        base.replacen("http://", "ws://", 1),
        crate::gateway::twilio::STREAM_PATH
    );
    connect(&url, id, token, answers).await
}

/// Answers as the phone network delivers them: 8 kHz μ-law, with the voiced end in samples.
fn narrowband(answers: Vec<Answer>) -> anyhow::Result<Vec<(String, Vec<u8>, usize)>> {
    answers
        .into_iter()
        .map(|a| {
            let s8 = viva_audio::resample(&a.samples, viva_audio::SPEECH_RATE_HZ, 8_000)?;
            let ulaw = viva_audio::g711::ulaw_encode(&s8)?;
            Ok((a.name, ulaw, a.voiced_end / 2))
        })
        .collect()
}

/// A call placed through the dial-in webhook: keypad entries tried in order.
pub(crate) struct DialIn {
    pub entries: Vec<String>,
    pub auth_token: String,
}

/// What the voice webhook answered: every `<Say>`, and the stream it connected the call to
/// (url, session, token), if it did.
pub(crate) struct DialInOutcome {
    pub said: Vec<String>,
    pub stream: Option<(String, String, String)>,
}

fn xml_unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

/// The value of attribute `name` in the first `<tag …>` of `xml`.
fn attr(xml: &str, tag: &str, name: &str) -> Option<String> {
    let start = xml.find(&format!("<{tag} "))?;
    let end = start + xml[start..].find('>')?;
    let el = &xml[start..end];
    let key = format!("{name}=\"");
    let v = el.find(&key)? + key.len();
    let len = el[v..].find('"')?;
    Some(xml_unescape(&el[v..v + len]))
}

/// Calls the voice webhook as Twilio does for an incoming call: the first request, then each
/// keypad entry posted to the `<Gather>`'s action (no entry left: the caller stays silent and
/// Twilio follows the `<Redirect>`), every request signed with the account's auth token.
pub(crate) async fn call_webhook(base: &str, d: &DialIn) -> anyhow::Result<DialInOutcome> {
    use crate::gateway::twilio::dial_in::{twilio_signature, VOICE_PATH};
    let client = super::simulate::http_client()?;
    let call_sid = format!("CAsim{}", crate::store::random_hex(8)?);
    let mut said = Vec::new();
    let mut path = VOICE_PATH.to_string();
    let mut digits: Option<String> = None;
    let mut entries = d.entries.iter();
    for _ in 0..(d.entries.len() + 8) {
        let mut params: Vec<(String, String)> = [
            ("AccountSid", "ACsim"),
            ("CallSid", call_sid.as_str()),
            ("From", "+15550100"),
            ("To", "+15550199"),
            ("Direction", "inbound"),
            ("CallStatus", "in-progress"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        if let Some(dg) = digits.take() {
            params.push(("Digits".into(), dg));
        }
        let url = format!("{base}{path}");
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(params.iter())
            .finish();
        let resp = client
            .post(&url)
            .header(
                "X-Twilio-Signature",
                twilio_signature(&d.auth_token, &url, &params),
            )
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(body)
            .send()
            .await
            .with_context(|| format!("POST {url}"))?;
        let status = resp.status();
        let xml = resp.text().await.context("reading the TwiML")?;
        if !status.is_success() {
            bail!("the voice webhook answered {status}: {xml}");
        }
        let mut rest = xml.as_str();
        while let Some(i) = rest.find("<Say>") {
            let Some(j) = rest[i..].find("</Say>") else {
                break;
            };
            said.push(xml_unescape(&rest[i + 5..i + j]));
            rest = &rest[i + j..];
        }
        if let Some(stream) = attr(&xml, "Stream", "url") {
            let param = |name: &str| {
                xml.split("<Parameter ")
                    .skip(1)
                    .find(|p| p.starts_with(&format!("name=\"{name}\"")))
                    .and_then(|p| attr(&format!("<P {p}"), "P", "value"))
            };
            let session = param("session").context("no session parameter in the TwiML")?;
            let token = param("token").context("no token parameter in the TwiML")?;
            return Ok(DialInOutcome {
                said,
                stream: Some((stream, session, token)),
            });
        }
        if xml.contains("<Hangup/>") {
            return Ok(DialInOutcome { said, stream: None });
        }
        match entries.next() {
            Some(e) => {
                path = attr(&xml, "Gather", "action").context("TwiML without a Gather action")?;
                digits = Some(e.clone());
            }
            None => {
                let i = xml.find("<Redirect").context("TwiML without a way on")?;
                let from = i + xml[i..].find('>').context("bad Redirect")? + 1;
                let to = from + xml[from..].find("</Redirect>").context("bad Redirect")?;
                path = xml_unescape(&xml[from..to]);
            }
        }
    }
    bail!("the voice webhook never connected nor hung up")
}

/// Opens the stream at `url` for session `id` as Twilio does and starts the caller's
/// microphone.
pub(crate) async fn connect(
    url: &str,
    id: String,
    token: String,
    answers: Vec<(String, Vec<u8>, usize)>,
) -> anyhow::Result<Call> {
    let (ws, _) = tokio_tungstenite::connect_async(url)
        .await
        .with_context(|| format!("connecting to {url}"))?;
    let (mut sink, stream) = ws.split();
    let stream_sid = format!("MZsim{id}");
    sink.send(Message::Text(
        r#"{"event":"connected","protocol":"Call","version":"1.0.0"}"#.into(),
    ))
    .await?;
    let start = serde_json::json!({
        "event": "start", "sequenceNumber": "1", "streamSid": stream_sid,
        "start": {
            "accountSid": "ACsim", "streamSid": stream_sid, "callSid": format!("CAsim{id}"),
            "tracks": ["inbound"],
            "customParameters": {"session": id, "token": token},
            "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
        },
    });
    sink.send(Message::Text(start.to_string().into())).await?;

    let (cmd_tx, mut cmd_rx) = mpsc::channel::<Cmd>(16);
    let (voiced_tx, voiced_rx) = mpsc::channel::<Instant>(8);
    let (done_tx, done_rx) = mpsc::channel::<usize>(8);
    let sid = stream_sid.clone();
    // The caller's microphone, through the phone network: 20 ms of μ-law every 20 ms.
    let writer = tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(20));
        let mut playing: Option<(usize, usize)> = None;
        let mut chunk = 0u64;
        loop {
            tokio::select! {
                cmd = cmd_rx.recv() => match cmd {
                    Some(Cmd::Play(i)) => playing = Some((i, 0)),
                    Some(Cmd::Send(t)) => {
                        if sink.send(Message::Text(t.into())).await.is_err() { break; }
                    }
                    None => break,
                },
                _ = tick.tick() => {
                    // μ-law silence is 0xFF.
                    let mut frame = [0xFFu8; FRAME_8K];
                    if let Some((i, pos)) = playing {
                        let (_, ulaw, voiced_end) = &answers[i];
                        let end = (pos + FRAME_8K).min(ulaw.len());
                        frame[..end - pos].copy_from_slice(&ulaw[pos..end]);
                        if pos < *voiced_end && end >= *voiced_end {
                            let _ = voiced_tx.send(Instant::now()).await;
                        }
                        playing = (end < ulaw.len()).then_some((i, end));
                        if playing.is_none() {
                            let _ = done_tx.send(i).await;
                        }
                    }
                    let msg = serde_json::json!({
                        "event": "media", "sequenceNumber": (chunk + 2).to_string(), "streamSid": sid,
                        "media": {
                            "track": "inbound", "chunk": (chunk + 1).to_string(),
                            "timestamp": (chunk * 20).to_string(),
                            "payload": base64::engine::general_purpose::STANDARD.encode(frame),
                        },
                    });
                    chunk += 1;
                    if sink.send(Message::Text(msg.to_string().into())).await.is_err() { break; }
                }
            }
        }
        let _ = sink.close().await;
    });
    Ok(Call {
        id,
        stream_sid,
        mic: Mic {
            cmd_tx,
            voiced_rx,
            done_rx,
            writer,
        },
        stream,
    })
}

/// Runs one call against `base`; `barge_in`: the 1-based answer spoken over the interviewer
/// (1 s into the first interviewer audio after the previous answer) instead of after a question.
pub(crate) async fn simulate(
    base: &str,
    job: &str,
    answers: Vec<Answer>,
    barge_in: Option<usize>,
    dial_in: Option<&DialIn>,
    mut rate_key: Option<char>,
    data_dir: &std::path::Path,
) -> anyhow::Result<Report> {
    let names: Vec<String> = answers.iter().map(|a| a.name.clone()).collect();
    let mut dial_in_said = None;
    let call = match dial_in {
        None => dial(base, job, answers).await?,
        Some(d) => {
            let outcome = call_webhook(base, d).await?;
            dial_in_said = Some(outcome.said.clone());
            let Some((url, id, token)) = outcome.stream else {
                // The line hung up before any interview: nothing else to report.
                return Ok(Report {
                    session_id: String::new(),
                    server: base.to_string(),
                    transcript: Vec::new(),
                    turns: Vec::new(),
                    response_latency_p50_ms: None,
                    response_latency_max_ms: None,
                    interviewer_audio_ms: 0,
                    ended: Some("the phone line hung up".into()),
                    caption_lag_ms: Vec::new(),
                    late_frames: 0,
                    clears_received: None,
                    stalls: None,
                    dial_in_said,
                });
            };
            connect(&url, id, token, narrowband(answers)?).await?
        }
    };
    let Call {
        id,
        stream_sid,
        mic:
            Mic {
                cmd_tx,
                mut voiced_rx,
                mut done_rx,
                writer,
            },
        mut stream,
    } = call;

    let mut turns: Vec<TurnReport> = Vec::new();
    let mut next_answer = 0usize;
    let mut answering = false;
    let mut pending_voiced: Option<(usize, Instant)> = None;
    // Twilio's playback queue: when the audio received so far will have played, and the marks
    // waiting for it.
    let mut queued_until = Instant::now();
    let mut marks: VecDeque<(Instant, String)> = VecDeque::new();
    let mut audio_bytes = 0u64;
    let mut clears = 0u64;
    // Barge-in: interviewer audio received since the previous answer ended.
    let mut heard_since_answer = 0u64;
    let mut hung_up = false;
    let mut closed_by_server = None;
    // A question whose mark came back while the caller was still talking (a barge-in's clear
    // returns them early): if nothing else comes after the answer, the caller goes on rather
    // than waiting for ever (counted, so a run shows it).
    let mut last_heard = Instant::now();
    let mut stalls = 0u64;
    loop {
        let next_mark = marks.front().map(|m| m.0);
        let stall_at =
            (!answering && !hung_up && marks.is_empty()).then(|| last_heard + STALL_AFTER);
        // Set when a question has played out (or the stall watchdog fired): the caller answers
        // with the next recording, or hangs up when there is none.
        let mut go_on = false;
        tokio::select! {
            _ = async { tokio::time::sleep_until(stall_at.unwrap_or_else(Instant::now).into()).await },
                if stall_at.is_some() =>
            {
                stalls += 1;
                last_heard = Instant::now();
                tracing::warn!(after_s = STALL_AFTER.as_secs(), "no question came after the answer; the caller goes on");
                go_on = true;
            }
            v = voiced_rx.recv() => {
                if let Some(t) = v {
                    pending_voiced = Some((turns.len().saturating_sub(1), t));
                }
            }
            d = done_rx.recv() => {
                if d.is_some() {
                    answering = false;
                    heard_since_answer = 0;
                    last_heard = Instant::now();
                }
            }
            _ = async { tokio::time::sleep_until(next_mark.unwrap_or_else(Instant::now).into()).await },
                if next_mark.is_some() =>
            {
                let Some((_, name)) = marks.pop_front() else { continue };
                let echo = serde_json::json!({"event": "mark", "streamSid": stream_sid, "mark": {"name": name}});
                let _ = cmd_tx.send(Cmd::Send(echo.to_string())).await;
                if name == "rating" {
                    // Asked to rate the interview: the caller presses `rate_key` (once).
                    if let Some(key) = rate_key.take() {
                        tracing::info!(%key, "pressing a key to rate the interview");
                        let dtmf = serde_json::json!({"event": "dtmf", "streamSid": stream_sid, "sequenceNumber": "0", "dtmf": {"track": "inbound_track", "digit": key.to_string()}});
                        let _ = cmd_tx.send(Cmd::Send(dtmf.to_string())).await;
                    }
                }
                go_on = name.ends_with(":question") && !answering && !hung_up;
            }
            msg = stream.next() => {
                let Some(msg) = msg else { break };
                let msg = match msg {
                    Ok(m) => m,
                    Err(e) => {
                        if hung_up { break; }
                        bail!("websocket error: {e}");
                    }
                };
                match msg {
                    Message::Text(t) => {
                        let v: serde_json::Value = serde_json::from_str(&t).unwrap_or_default();
                        match v["event"].as_str().unwrap_or("") {
                            "media" => {
                                let n = v["media"]["payload"].as_str()
                                    .and_then(|p| base64::engine::general_purpose::STANDARD.decode(p).ok())
                                    .map_or(0, |b| b.len() as u64);
                                audio_bytes += n;
                                let now = Instant::now();
                                last_heard = now;
                                queued_until = queued_until.max(now) + Duration::from_micros(n * 125);
                                if let Some((turn, t)) = pending_voiced.take() {
                                    if let Some(tr) = turns.get_mut(turn) {
                                        tr.response_latency_ms = Some(t.elapsed().as_millis() as u64);
                                    }
                                }
                                if !answering {
                                    heard_since_answer += n;
                                }
                                let due = barge_in.is_some_and(|b| b == next_answer + 1);
                                if due && !answering && heard_since_answer >= 8_000 && next_answer < names.len() {
                                    tracing::info!(answer = next_answer + 1, "barging in");
                                    go_on = true;
                                }
                            }
                            "mark" => {
                                let name = v["mark"]["name"].as_str().unwrap_or("").to_string();
                                marks.push_back((queued_until.max(Instant::now()), name));
                            }
                            "clear" => {
                                clears += 1;
                                let now = Instant::now();
                                queued_until = now;
                                // Twilio returns the marks still queued when it empties the buffer.
                                for m in marks.iter_mut() {
                                    m.0 = now;
                                }
                            }
                            other => tracing::warn!(event = other, "unexpected message from the server"),
                        }
                    }
                    Message::Close(f) => {
                        closed_by_server = f.map(|f| format!("{} {}", u16::from(f.code), f.reason));
                        break;
                    }
                    _ => {}
                }
            }
        }
        if go_on {
            if next_answer < names.len() {
                turns.push(TurnReport {
                    answer: names[next_answer].clone(),
                    response_latency_ms: None,
                });
                let _ = cmd_tx.send(Cmd::Play(next_answer)).await;
                next_answer += 1;
                answering = true;
            } else {
                hung_up = true;
                let stop = serde_json::json!({"event": "stop", "sequenceNumber": "0", "streamSid": stream_sid, "stop": {"callSid": "CAsim"}});
                let _ = cmd_tx.send(Cmd::Send(stop.to_string())).await;
            }
        }
    }
    drop(cmd_tx);
    let _ = writer.await;
    let mut lat: Vec<u64> = turns.iter().filter_map(|t| t.response_latency_ms).collect();
    lat.sort_unstable();
    Ok(Report {
        transcript: stored_transcript(&data_dir.join("recordings").join(&id).join("turns.json")),
        session_id: id,
        server: base.to_string(),
        response_latency_p50_ms: lat.get(lat.len().saturating_sub(1) / 2).copied(),
        response_latency_max_ms: lat.last().copied(),
        turns,
        interviewer_audio_ms: audio_bytes / 8,
        ended: closed_by_server.or_else(|| hung_up.then(|| "caller hung up".to_string())),
        clears_received: Some(clears),
        stalls: Some(stalls),
        caption_lag_ms: Vec::new(),
        late_frames: 0,
        dial_in_said,
    })
}

/// The stored transcript (interviewer prompts and candidate answers), if readable here.
fn stored_transcript(path: &std::path::Path) -> Vec<Line> {
    // The session writes turns.json when a turn changes; give the last write a moment.
    let read =
        || -> Option<serde_json::Value> { serde_json::from_slice(&std::fs::read(path).ok()?).ok() };
    let mut v = read();
    for _ in 0..20 {
        if v.is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
        v = read();
    }
    let mut lines = Vec::new();
    for t in v
        .as_ref()
        .and_then(|v| v["turns"].as_array())
        .into_iter()
        .flatten()
    {
        let said = t["spoken_text"].as_str().or(t["prompt"].as_str());
        if let Some(p) = said {
            lines.push(Line {
                speaker: "interviewer",
                text: p.to_string(),
            });
        }
        for a in t["answers"].as_array().into_iter().flatten() {
            if let Some(text) = a["text"].as_str() {
                lines.push(Line {
                    speaker: "candidate",
                    text: text.to_string(),
                });
            }
        }
    }
    lines
}
