//! `viva simulate --transport webrtc`: a headless candidate as a Rust WebRTC peer.
//!
//! It creates an Opus track and an `events` data channel, POSTs its offer to
//! `/v1/sessions/{id}/webrtc` (bearer: the resume token), streams 20 ms Opus packets in real
//! time (silence unless answering), answers when `interviewer_audio_end` says a question is
//! over, and measures response latency like the WebSocket simulator.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use tokio::sync::mpsc;
use webrtc::data_channel::data_channel_message::DataChannelMessage;
use webrtc::peer_connection::peer_connection_state::RTCPeerConnectionState;
use webrtc::peer_connection::sdp::session_description::RTCSessionDescription;
use webrtc::track::track_local::TrackLocal;

use super::simulate::{create_session, Answer, Line, Report, TurnReport};
use crate::gateway::webrtc::{new_peer_connection, opus_track, write_opus_after_loss};

const FRAME_48K: usize = viva_audio::OPUS_FRAME_SAMPLES;

/// WHIP: `POST` the SDP offer, the answer comes back.
pub(super) async fn post_sdp(
    base: &str,
    path: &str,
    token: &str,
    sdp: &str,
) -> anyhow::Result<String> {
    let url = format!("{base}{path}");
    let resp = super::simulate::http_client()?
        .post(&url)
        .header(reqwest::header::CONTENT_TYPE, "application/sdp")
        .bearer_auth(token)
        .body(sdp.to_string())
        .send()
        .await
        .with_context(|| format!("POST {url}"))?;
    let status = resp.status();
    let body = resp.text().await.context("reading the answer")?;
    if status != reqwest::StatusCode::CREATED {
        bail!("the offer was refused: {status} {body}");
    }
    Ok(body)
}

/// A candidate's peer connection to a new session: its Opus track, the `events` data channel
/// (messages as text), the interviewer's RTP packets (arrival times) and the connection state.
pub(super) struct Peer {
    pub id: String,
    pub pc: Arc<webrtc::peer_connection::RTCPeerConnection>,
    pub track: Arc<webrtc::track::track_local::track_local_static_sample::TrackLocalStaticSample>,
    pub dc: Arc<webrtc::data_channel::RTCDataChannel>,
    pub ev_rx: mpsc::Receiver<String>,
    pub pkt_rx: mpsc::Receiver<Instant>,
    pub state_rx: mpsc::Receiver<RTCPeerConnectionState>,
}

impl Peer {
    /// Creates a session for `job` and connects to it (WHIP: one offer after ICE gathering).
    pub(super) async fn connect(base: &str, job: &str) -> anyhow::Result<Peer> {
        let created = create_session(base, job).await?;
        let id = created["id"].as_str().context("no id")?.to_string();
        let token = created["resume_token"]
            .as_str()
            .context("no resume_token")?
            .to_string();
        let pc = new_peer_connection(&[], true).await?;
        let track = opus_track("candidate");
        let sender = pc
            .add_track(Arc::clone(&track) as Arc<dyn TrackLocal + Send + Sync>)
            .await?;
        tokio::spawn(async move {
            let mut buf = vec![0u8; 1500];
            while sender.read(&mut buf).await.is_ok() {}
        });
        let (ev_tx, ev_rx) = mpsc::channel::<String>(256);
        let dc = pc.create_data_channel("events", None).await?;
        dc.on_message(Box::new(move |m: DataChannelMessage| {
            let ev_tx = ev_tx.clone();
            Box::pin(async move {
                let _ = ev_tx
                    .send(String::from_utf8_lossy(&m.data).to_string())
                    .await;
            })
        }));
        let (pkt_tx, pkt_rx) = mpsc::channel::<Instant>(1024);
        pc.on_track(Box::new(move |remote, _, _| {
            let pkt_tx = pkt_tx.clone();
            Box::pin(async move {
                while let Ok((p, _)) = remote.read_rtp().await {
                    if !p.payload.is_empty() {
                        let _ = pkt_tx.try_send(Instant::now());
                    }
                }
            })
        }));
        let (state_tx, state_rx) = mpsc::channel::<RTCPeerConnectionState>(8);
        pc.on_peer_connection_state_change(Box::new(move |s| {
            let state_tx = state_tx.clone();
            Box::pin(async move {
                let _ = state_tx.send(s).await;
            })
        }));
        let offer = pc.create_offer(None).await?;
        let mut gathered = pc.gathering_complete_promise().await;
        pc.set_local_description(offer).await?;
        let _ = tokio::time::timeout(Duration::from_secs(5), gathered.recv()).await;
        let local = pc
            .local_description()
            .await
            .context("no local description")?;
        let answer = post_sdp(
            base,
            &format!("/v1/sessions/{id}/webrtc"),
            &token,
            &local.sdp,
        )
        .await?;
        pc.set_remote_description(RTCSessionDescription::answer(answer)?)
            .await?;
        Ok(Peer {
            id,
            pc,
            track,
            dc,
            ev_rx,
            pkt_rx,
            state_rx,
        })
    }
}

pub(crate) async fn simulate(
    base: &str,
    job: &str,
    answers: Vec<Answer>,
    packet_loss: f64,
) -> anyhow::Result<Report> {
    if !(0.0..=1.0).contains(&packet_loss) {
        bail!("--packet-loss is a fraction between 0 and 1, got {packet_loss}");
    }
    let answers: Vec<(String, Vec<f32>, usize)> = answers
        .into_iter()
        .map(|a| {
            let s = viva_audio::resample(&a.samples, viva_audio::SPEECH_RATE_HZ, 48_000)?;
            Ok((a.name, s, a.voiced_end * 3))
        })
        .collect::<anyhow::Result<_>>()?;
    let Peer {
        id,
        pc,
        track,
        dc,
        mut ev_rx,
        mut pkt_rx,
        mut state_rx,
    } = Peer::connect(base, job).await?;

    let names: Vec<String> = answers.iter().map(|a| a.0.clone()).collect();
    let (play_tx, mut play_rx) = mpsc::channel::<usize>(8);
    let (voiced_tx, mut voiced_rx) = mpsc::channel::<Instant>(8);
    let writer_track = track.clone();
    // The microphone: one 20 ms Opus packet every 20 ms.
    let writer = tokio::spawn(async move {
        let mut enc = match viva_audio::OpusEncoder::new(32_000) {
            Ok(e) => e,
            Err(_) => return,
        };
        let mut tick = tokio::time::interval(Duration::from_millis(20));
        let mut playing: Option<(usize, usize)> = None;
        // Seeded packet loss: the same run loses the same packets.
        let mut rng = 0x9e37_79b9_7f4a_7c15u64;
        let mut lose = move || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            ((rng >> 11) as f64 / (1u64 << 53) as f64) < packet_loss
        };
        let mut dropped: u16 = 0;
        loop {
            tokio::select! {
                p = play_rx.recv() => match p {
                    Some(i) => playing = Some((i, 0)),
                    None => break,
                },
                _ = tick.tick() => {
                    let mut frame = vec![0f32; FRAME_48K];
                    if let Some((i, pos)) = playing {
                        let (_, s, voiced_end) = &answers[i];
                        let end = (pos + FRAME_48K).min(s.len());
                        frame[..end - pos].copy_from_slice(&s[pos..end]);
                        if pos < *voiced_end && end >= *voiced_end {
                            let _ = voiced_tx.send(Instant::now()).await;
                        }
                        playing = (end < s.len()).then_some((i, end));
                    }
                    if let Ok(p) = enc.encode(&frame) {
                        if lose() {
                            dropped = dropped.saturating_add(1);
                        } else {
                            write_opus_after_loss(&writer_track, p, dropped).await;
                            dropped = 0;
                        }
                    }
                }
            }
        }
    });

    let mut transcript = Vec::new();
    let mut turns: Vec<TurnReport> = Vec::new();
    let mut next_answer = 0usize;
    let mut pending_voiced: Option<(usize, Instant)> = None;
    let mut packets = 0u64;
    let mut ended = None;
    let mut said_bye = false;
    loop {
        tokio::select! {
            s = state_rx.recv() => match s {
                Some(RTCPeerConnectionState::Failed | RTCPeerConnectionState::Closed | RTCPeerConnectionState::Disconnected) | None => {
                    if ended.is_none() && !said_bye { bail!("the peer connection ended: {s:?}"); }
                    break;
                }
                Some(_) => {}
            },
            v = voiced_rx.recv() => if let Some(t) = v {
                pending_voiced = Some((turns.len().saturating_sub(1), t));
            },
            p = pkt_rx.recv() => {
                if p.is_none() { break; }
                packets += 1;
                if let Some((turn, t)) = pending_voiced.take() {
                    if let Some(tr) = turns.get_mut(turn) {
                        tr.response_latency_ms = Some(t.elapsed().as_millis() as u64);
                    }
                }
            }
            e = ev_rx.recv() => {
                let Some(t) = e else { break };
                let v: serde_json::Value = serde_json::from_str(&t).unwrap_or_default();
                match v["type"].as_str().unwrap_or("") {
                    "interviewer" => transcript.push(Line { speaker: "interviewer", text: v["text"].as_str().unwrap_or("").to_string() }),
                    "caption" if v["final"].as_bool() == Some(true) => transcript.push(Line { speaker: "candidate", text: v["text"].as_str().unwrap_or("").to_string() }),
                    "interviewer_audio_end" if v["awaits_answer"].as_bool() == Some(true) && v["interrupted"].as_bool() == Some(false) => {
                        if next_answer < names.len() {
                            turns.push(TurnReport { answer: names[next_answer].clone(), response_latency_ms: None });
                            let _ = play_tx.send(next_answer).await;
                            next_answer += 1;
                        } else if !said_bye {
                            said_bye = true;
                            let _ = dc.send_text(r#"{"type":"bye"}"#).await;
                        }
                    }
                    "ended" => {
                        ended = v["reason"].as_str().map(str::to_string);
                        break;
                    }
                    "error" => tracing::warn!(event = %t, "server error event"),
                    _ => {}
                }
            }
        }
    }
    drop(play_tx);
    let _ = writer.await;
    let _ = pc.close().await;
    let mut lat: Vec<u64> = turns.iter().filter_map(|t| t.response_latency_ms).collect();
    lat.sort_unstable();
    Ok(Report {
        session_id: id,
        server: base.to_string(),
        transcript,
        response_latency_p50_ms: lat.get(lat.len().saturating_sub(1) / 2).copied(),
        response_latency_max_ms: lat.last().copied(),
        turns,
        interviewer_audio_ms: packets * 20,
        ended,
        clears_received: None,
        stalls: None,
        caption_lag_ms: Vec::new(),
        late_frames: 0,
        dial_in_said: None,
    })
}
