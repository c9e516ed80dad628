//! `viva bench turns --transport twilio`: one answer through the phone gateway, as a caller on
//! Twilio Media Streams hears it.
//!
//! The caller answers the greeting with a short real recording, then, once the first question's
//! mark comes back (the question has played), speaks the answer under test in 8 kHz μ-law. A
//! phone line carries no captions or events, only audio, marks and `clear`, so what the caller
//! meets is read from those:
//! - **false cut-off**: interviewer audio arrives while the answer still has speech to come;
//! - **recovered**: a `clear` (the interviewer was stopped) after a cut-off;
//! - **latency**: the answer's last voiced frame sent → the first interviewer audio received.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use tokio_tungstenite::tungstenite::Message;

use super::bench_turns::{Item, TurnOutcome};
use super::simulate::Answer;
use super::simulate_twilio::{dial, Call, Cmd, Mic};

/// One call: `ready` answers the greeting, `item` the first question.
pub(super) async fn one(
    base: &str,
    job: &str,
    item: Item,
    ready: Answer,
) -> anyhow::Result<TurnOutcome> {
    let voiced_end_s = item.answer.voiced_end as f64 / 16_000.0;
    let mut out = TurnOutcome::new(item.file.clone(), item.pause, voiced_end_s);
    let Call {
        stream_sid,
        mic:
            Mic {
                cmd_tx,
                mut voiced_rx,
                mut done_rx,
                writer,
            },
        mut stream,
        ..
    } = dial(base, job, vec![ready, item.answer]).await?;
    // Twilio's playback queue: when the audio received so far will have played, and the marks
    // waiting for it.
    let mut queued_until = Instant::now();
    let mut marks: VecDeque<(Instant, String)> = VecDeque::new();
    // 0: greeting not answered yet; 1: answering the greeting; 2: waiting for the question;
    // 3: the answer under test is playing (or has played).
    let mut stage = 0u8;
    let mut t0: Option<Instant> = None;
    let mut voiced_at: Option<Instant> = None;
    let mut heard_reply = false;
    let give_up = Instant::now() + Duration::from_secs(150);
    loop {
        let next_mark = marks.front().map(|m| m.0);
        let deadline = match t0 {
            Some(t) => t + Duration::from_secs_f64(voiced_end_s + 5.0),
            None => give_up,
        };
        tokio::select! {
            _ = tokio::time::sleep_until(deadline.into()) => break,
            v = voiced_rx.recv() => {
                if let (Some(t), 3) = (v, stage) {
                    voiced_at = Some(t);
                }
            }
            d = done_rx.recv() => {
                if d == Some(0) {
                    stage = 2;
                }
            }
            _ = async { tokio::time::sleep_until(next_mark.unwrap_or_else(Instant::now).into()).await },
                if next_mark.is_some() =>
            {
                let Some((_, name)) = marks.pop_front() else { continue };
                let echo = serde_json::json!({"event": "mark", "streamSid": stream_sid, "mark": {"name": name}});
                let _ = cmd_tx.send(Cmd::Send(echo.to_string())).await;
                if name.ends_with(":question") {
                    match stage {
                        0 => {
                            stage = 1;
                            let _ = cmd_tx.send(Cmd::Play(0)).await;
                        }
                        2 => {
                            stage = 3;
                            t0 = Some(Instant::now());
                            let _ = cmd_tx.send(Cmd::Play(1)).await;
                        }
                        _ => {}
                    }
                }
            }
            msg = stream.next() => {
                let Some(Ok(msg)) = msg else { break };
                let Message::Text(t) = msg else {
                    if matches!(msg, Message::Close(_)) { break }
                    continue;
                };
                let v: serde_json::Value = serde_json::from_str(&t).unwrap_or_default();
                match v["event"].as_str().unwrap_or("") {
                    "media" => {
                        let n = v["media"]["payload"].as_str().map_or(0, |p| p.len() as u64 * 3 / 4);
                        let now = Instant::now();
                        queued_until = queued_until.max(now) + Duration::from_micros(n * 125);
                        if let (3, Some(start), false) = (stage, t0, heard_reply) {
                            heard_reply = true;
                            let at = now.duration_since(start).as_secs_f64();
                            out.interviewer_at_s = Some(at);
                            out.reply = Some("(interviewer audio)".into());
                            out.false_cutoff = at + 0.1 < voiced_end_s;
                            if let (false, Some(v)) = (out.false_cutoff, voiced_at) {
                                out.latency_ms = Some(now.duration_since(v).as_millis() as u64);
                            }
                        }
                    }
                    "mark" => {
                        let name = v["mark"]["name"].as_str().unwrap_or("").to_string();
                        marks.push_back((queued_until.max(Instant::now()), name));
                    }
                    "clear" => {
                        if out.false_cutoff {
                            out.recovered = true;
                        }
                        let now = Instant::now();
                        queued_until = now;
                        // Twilio returns the marks still queued when it empties the buffer.
                        for m in marks.iter_mut() {
                            m.0 = now;
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    out.missed_end = !out.false_cutoff
        && out
            .interviewer_at_s
            .is_none_or(|at| at > voiced_end_s + 5.0);
    if t0.is_none() {
        anyhow::bail!("the first question never finished playing");
    }
    let stop = serde_json::json!({"event": "stop", "sequenceNumber": "0", "streamSid": stream_sid, "stop": {"callSid": "CAsim"}});
    let _ = cmd_tx.send(Cmd::Send(stop.to_string())).await;
    drop(cmd_tx);
    let _ = tokio::time::timeout(Duration::from_secs(3), writer).await;
    Ok(out)
}
