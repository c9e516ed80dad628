//! `viva bench turns --transport webrtc`: one answer through the WebRTC gateway, as a browser
//! candidate meets it: 20 ms Opus packets at 48 kHz in real time, the interviewer's audio back
//! as RTP, events on the `events` data channel (what the candidate page reads).
//!
//! - **false cut-off**: the interviewer's next utterance is announced while the answer still
//!   has speech to come;
//! - **recovered**: a `flush` with reason `resume` after a cut-off (the reply was withdrawn);
//! - **latency**: the answer's last voiced frame sent → the first interviewer RTP packet.

use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::bench_turns::{AnswerWatch, Item, Step, TurnOutcome, READY};
use super::simulate_webrtc::Peer;
use crate::gateway::webrtc::write_opus_after_loss;

const FRAME_48K: usize = viva_audio::OPUS_FRAME_SAMPLES;

/// One session: the greeting answered in text on the data channel, then `item` as the answer
/// to the first question.
pub(super) async fn one(base: &str, job: &str, item: Item) -> anyhow::Result<TurnOutcome> {
    let voiced_end_s = item.answer.voiced_end as f64 / 16_000.0;
    let mut out = TurnOutcome::new(item.file.clone(), item.pause, voiced_end_s);
    let samples = viva_audio::resample(&item.answer.samples, viva_audio::SPEECH_RATE_HZ, 48_000)?;
    let voiced_end_48k = item.answer.voiced_end * 3;

    let Peer {
        pc,
        track,
        dc,
        mut ev_rx,
        mut pkt_rx,
        ..
    } = Peer::connect(base, job).await?;

    // The microphone: one 20 ms Opus packet every 20 ms, silence until the answer plays.
    let (play_tx, mut play_rx) = mpsc::channel::<()>(1);
    let (started_tx, mut started_rx) = mpsc::channel::<Instant>(1);
    let (voiced_tx, mut voiced_rx) = mpsc::channel::<Instant>(1);
    let writer_track = track.clone();
    let writer = tokio::spawn(async move {
        let Ok(mut enc) = viva_audio::OpusEncoder::new(32_000) else {
            return;
        };
        let mut tick = tokio::time::interval(Duration::from_millis(20));
        let mut pos: Option<usize> = None;
        loop {
            tokio::select! {
                p = play_rx.recv() => match p {
                    Some(()) => pos = Some(0),
                    None => break,
                },
                _ = tick.tick() => {
                    let mut frame = vec![0f32; FRAME_48K];
                    if let Some(p) = pos {
                        if p == 0 {
                            let _ = started_tx.send(Instant::now()).await;
                        }
                        let end = (p + FRAME_48K).min(samples.len());
                        frame[..end - p].copy_from_slice(&samples[p..end]);
                        if p < voiced_end_48k && end >= voiced_end_48k {
                            let _ = voiced_tx.send(Instant::now()).await;
                        }
                        pos = (end < samples.len()).then_some(end);
                    }
                    if let Ok(packet) = enc.encode(&frame) {
                        write_opus_after_loss(&writer_track, packet, 0).await;
                    }
                }
            }
        }
    });

    let mut watch = AnswerWatch::default();
    let mut t0: Option<Instant> = None;
    let mut voiced_at: Option<Instant> = None;
    let give_up = Instant::now() + Duration::from_secs(150);
    loop {
        let deadline = match t0 {
            Some(t) => t + Duration::from_secs_f64(voiced_end_s + 5.0),
            None => give_up,
        };
        tokio::select! {
            _ = tokio::time::sleep_until(deadline.into()) => break,
            s = started_rx.recv() => if let Some(t) = s { t0 = Some(t) },
            v = voiced_rx.recv() => if let Some(t) = v { voiced_at = Some(t) },
            p = pkt_rx.recv() => {
                let Some(at) = p else { break };
                if let (Some(v), None, Some(_), false) = (voiced_at, out.latency_ms, out.reply.as_ref(), out.false_cutoff) {
                    if at >= v {
                        out.latency_ms = Some(at.duration_since(v).as_millis() as u64);
                    }
                }
            }
            e = ev_rx.recv() => {
                let Some(text) = e else { break };
                let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
                let at_s = t0.map_or(0.0, |t| t.elapsed().as_secs_f64());
                let after_voiced_ms = voiced_at.map(|v| v.elapsed().as_millis() as u64);
                match watch.on_event(&v, at_s, after_voiced_ms, &mut out) {
                    Step::SayReady => {
                        let _ = dc.send_text(READY.to_string()).await;
                    }
                    Step::Play => {
                        let _ = play_tx.send(()).await;
                    }
                    Step::Ended => break,
                    Step::Nothing => {}
                }
            }
        }
    }
    if t0.is_none() {
        anyhow::bail!("the first question never finished playing");
    }
    out.missed_end = !out.false_cutoff
        && out
            .interviewer_at_s
            .is_none_or(|at| at > voiced_end_s + 5.0);
    if let Some(reference) = &item.reference {
        let errors = viva_models::text::text_errors(reference, &out.heard.join(" "));
        out.wer = Some(errors.wer());
        out.word_errors = Some(errors);
    }
    let _ = dc.send_text(r#"{"type":"bye"}"#.to_string()).await;
    drop(play_tx);
    let _ = tokio::time::timeout(Duration::from_secs(3), writer).await;
    let _ = pc.close().await;
    Ok(out)
}
