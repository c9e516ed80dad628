//! The WebRTC gateway: WHIP-style signaling, `POST /v1/sessions/{id}/webrtc` with the SDP offer
//! (`Authorization: Bearer <resume_token>`), the SDP answer in the response (ICE gathered, no
//! trickle). Opus 48 kHz both ways; a data channel carries the same JSON events as the
//! WebSocket protocol and accepts its control messages (`text_answer`, `repeat`, `bye`).
//!
//! The audio adaptation is sans-IO and lives in `viva_audio::rtp`: [`RtpAudioIn`] (RTP packets
//! → jitter buffer → Opus decode with FEC/PLC for lost packets → 16 kHz) and [`OpusAudioOut`]
//! (16 kHz PCM → 48 kHz → 20 ms Opus packets). This file is the IO around them.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use tokio::sync::mpsc;
pub use viva_audio::rtp::{OpusAudioOut, RtpAudioIn, OPUS_VOICE_BITRATE};
use viva_audio::{JitterConfig, OPUS_RATE_HZ};
use webrtc::api::interceptor_registry::register_default_interceptors;
use webrtc::api::media_engine::{MediaEngine, MIME_TYPE_OPUS};
use webrtc::api::setting_engine::SettingEngine;
use webrtc::api::APIBuilder;
use webrtc::data_channel::data_channel_message::DataChannelMessage;
use webrtc::data_channel::RTCDataChannel;
use webrtc::ice_transport::ice_server::RTCIceServer;
use webrtc::interceptor::registry::Registry;
use webrtc::peer_connection::configuration::RTCConfiguration;
use webrtc::peer_connection::peer_connection_state::RTCPeerConnectionState;
use webrtc::peer_connection::sdp::session_description::RTCSessionDescription;
use webrtc::peer_connection::RTCPeerConnection;
use webrtc::rtp_transceiver::rtp_codec::RTCRtpCodecCapability;
use webrtc::track::track_local::track_local_static_sample::TrackLocalStaticSample;
use webrtc::track::track_local::TrackLocal;

use super::ws::ClientMessage;
use crate::http::AppState;
use crate::session::metrics::Metrics;
use crate::session::{Inbound, Outbound, ServerEvent, SessionHandle};

/// Largest SDP offer accepted.
pub const MAX_SDP_BYTES: usize = 64 * 1024;
/// Largest data-channel message accepted.
const MAX_DC_BYTES: usize = 16 * 1024;
/// A peer that has not connected by then is dropped and the session released, so that a
/// browser which gave up on WebRTC can attach over its WebSocket fallback soon after.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

use crate::http_error::json_error as error_json;

/// Why an offer is refused before any WebRTC machinery runs.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum OfferError {
    #[error("the offer is empty")]
    Empty,
    #[error("the offer is larger than {MAX_SDP_BYTES} bytes")]
    TooLarge,
    #[error("malformed SDP: {0}")]
    Malformed(String),
    #[error("the offer has no audio (m=audio) section")]
    NoAudio,
    #[error("the offer's audio does not offer Opus")]
    NoOpus,
}

/// Checks an SDP offer: parseable, with an audio section that offers Opus.
pub fn check_offer(sdp: &str) -> Result<(), OfferError> {
    if sdp.trim().is_empty() {
        return Err(OfferError::Empty);
    }
    if sdp.len() > MAX_SDP_BYTES {
        return Err(OfferError::TooLarge);
    }
    let parsed = webrtc::sdp::description::session::SessionDescription::unmarshal(
        &mut std::io::Cursor::new(sdp.as_bytes()),
    )
    .map_err(|e| OfferError::Malformed(e.to_string()))?;
    let audio: Vec<_> = parsed
        .media_descriptions
        .iter()
        .filter(|m| m.media_name.media == "audio")
        .collect();
    if audio.is_empty() {
        return Err(OfferError::NoAudio);
    }
    let opus = audio.iter().any(|m| {
        m.attributes.iter().any(|a| {
            a.key == "rtpmap"
                && a.value
                    .as_deref()
                    .is_some_and(|v| v.to_ascii_lowercase().contains("opus/48000"))
        })
    });
    if !opus {
        return Err(OfferError::NoOpus);
    }
    Ok(())
}

/// ICE servers for the peer connection: `server.ice_servers` (e.g. `stun:stun.example.org:3478`,
/// `turn:user:pass@turn.example.org:3478`).
fn ice_servers(urls: &[String]) -> Vec<RTCIceServer> {
    urls.iter()
        .map(|u| {
            // turn:user:pass@host:port → credentials apart from the URL.
            if let Some((scheme, rest)) = u.split_once(':') {
                if let Some((cred, host)) = rest.rsplit_once('@') {
                    if let Some((user, pass)) = cred.split_once(':') {
                        return RTCIceServer {
                            urls: vec![format!("{scheme}:{host}")],
                            username: user.to_string(),
                            credential: pass.to_string(),
                        };
                    }
                }
            }
            RTCIceServer {
                urls: vec![u.clone()],
                ..Default::default()
            }
        })
        .collect()
}

/// The `server.ice_servers` setting as a list of URLs (comma-separated, blanks ignored).
pub fn configured_ice(setting: &str) -> Vec<String> {
    setting
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// The same ICE servers as a browser's `RTCPeerConnection({iceServers})` takes them, for the
/// session-creation answer: the candidate page then gathers STUN/TURN candidates as the server
/// does (host candidates alone fail behind NAT).
pub fn browser_ice_servers(setting: &str) -> serde_json::Value {
    ice_servers(&configured_ice(setting))
        .into_iter()
        .map(|s| {
            let mut v = serde_json::json!({ "urls": s.urls });
            if !s.username.is_empty() {
                v["username"] = s.username.into();
                v["credential"] = s.credential.into();
            }
            v
        })
        .collect()
}

/// A peer connection with Opus and the default interceptors (NACK, RTCP reports).
pub async fn new_peer_connection(
    ice: &[String],
    loopback: bool,
) -> Result<Arc<RTCPeerConnection>, webrtc::Error> {
    let mut m = MediaEngine::default();
    m.register_default_codecs()?;
    let registry = register_default_interceptors(Registry::new(), &mut m)?;
    let mut s = SettingEngine::default();
    if loopback {
        s.set_include_loopback_candidate(true);
    }
    let api = APIBuilder::new()
        .with_media_engine(m)
        .with_interceptor_registry(registry)
        .with_setting_engine(s)
        .build();
    let config = RTCConfiguration {
        ice_servers: ice_servers(ice),
        ..Default::default()
    };
    Ok(Arc::new(api.new_peer_connection(config).await?))
}

/// The Opus track a peer sends on.
pub fn opus_track(id: &str) -> Arc<TrackLocalStaticSample> {
    Arc::new(TrackLocalStaticSample::new(
        RTCRtpCodecCapability {
            mime_type: MIME_TYPE_OPUS.to_owned(),
            clock_rate: OPUS_RATE_HZ,
            channels: 2,
            sdp_fmtp_line: "minptime=10;useinbandfec=1".to_owned(),
            rtcp_feedback: vec![],
        },
        "audio".to_owned(),
        id.to_owned(),
    ))
}

pub async fn write_opus(track: &TrackLocalStaticSample, packet: Vec<u8>) -> bool {
    write_opus_after_loss(track, packet, 0).await
}

/// [`write_opus`] after `dropped` packets that were never sent: their sequence numbers and
/// timestamps are skipped, so the receiver sees a real loss (for simulations).
pub async fn write_opus_after_loss(
    track: &TrackLocalStaticSample,
    packet: Vec<u8>,
    dropped: u16,
) -> bool {
    track
        .write_sample(&webrtc::media::Sample {
            data: bytes::Bytes::from(packet),
            duration: Duration::from_millis(20),
            prev_dropped_packets: dropped,
            ..Default::default()
        })
        .await
        .is_ok()
}

/// `POST /v1/sessions/{id}/webrtc`.
pub async fn offer(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let Some(sessions) = state.sessions.as_ref() else {
        return error_json(
            StatusCode::SERVICE_UNAVAILABLE,
            "not_ready",
            "live sessions are not available on this server".into(),
        );
    };
    if let Err(e) = check_offer(&body) {
        let code = match e {
            OfferError::NoAudio | OfferError::NoOpus => "no_audio",
            _ => "malformed_sdp",
        };
        return error_json(StatusCode::BAD_REQUEST, code, e.to_string());
    }
    let Some(session) = sessions.get(&id) else {
        return error_json(
            StatusCode::NOT_FOUND,
            "unknown_session",
            format!("no live session {id:?}"),
        );
    };
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "))
        .unwrap_or("");
    let attachment = match session.attach(token) {
        Ok(a) => a,
        Err(e) => return super::ws::attach_refusal(&e),
    };
    let ice = configured_ice(&state.config.server.ice_servers);
    let metrics = sessions.engines().metrics.clone();
    match answer(&ice, body, metrics.clone()).await {
        Ok((sdp, peer)) => {
            let span = tracing::info_span!("webrtc", session_id = %session.id);
            tokio::spawn(tracing::Instrument::instrument(
                peer.run(attachment, session, metrics),
                span,
            ));
            (
                StatusCode::CREATED,
                [
                    (header::CONTENT_TYPE, "application/sdp".to_string()),
                    (header::LOCATION, format!("/v1/sessions/{id}/webrtc")),
                ],
                sdp,
            )
                .into_response()
        }
        Err(e) => {
            session.detach(attachment);
            error_json(StatusCode::BAD_REQUEST, "bad_offer", format!("{e:#}"))
        }
    }
}

struct Peer {
    pc: Arc<RTCPeerConnection>,
    track: Arc<TrackLocalStaticSample>,
    audio_rx: mpsc::Receiver<Vec<f32>>,
    dc_rx: mpsc::Receiver<Arc<RTCDataChannel>>,
    ctl_rx: mpsc::Receiver<Inbound>,
    state_rx: mpsc::Receiver<RTCPeerConnectionState>,
}

async fn answer(
    ice: &[String],
    sdp: String,
    metrics: Arc<Metrics>,
) -> anyhow::Result<(String, Peer)> {
    let pc = new_peer_connection(ice, true).await?;
    let track = opus_track("viva");
    let sender = pc
        .add_track(Arc::clone(&track) as Arc<dyn TrackLocal + Send + Sync>)
        .await?;
    // RTCP must be read for the interceptors (NACK, reports) to work.
    tokio::spawn(async move {
        let mut buf = vec![0u8; 1500];
        while sender.read(&mut buf).await.is_ok() {}
    });
    let (audio_tx, audio_rx) = mpsc::channel::<Vec<f32>>(256);
    pc.on_track(Box::new(move |remote, _, _| {
        let audio_tx = audio_tx.clone();
        let metrics = metrics.clone();
        Box::pin(async move {
            let mut input = match RtpAudioIn::new(JitterConfig::default()) {
                Ok(i) => i,
                Err(e) => {
                    tracing::error!(error = %e, "opus decoder");
                    return;
                }
            };
            let clock = tokio::time::Instant::now();
            let now_ms = move || clock.elapsed().as_millis() as u64;
            let mut reported = (input.stats(), 0u64);
            loop {
                // Wait for the next packet, or until a hole in the sequence has been waited
                // out long enough (the jitter buffer's deadline).
                let read = match input.deadline() {
                    Some(d) => {
                        let at = clock + Duration::from_millis(d);
                        tokio::time::timeout_at(at, remote.read_rtp()).await.ok()
                    }
                    None => Some(remote.read_rtp().await),
                };
                let samples = match read {
                    Some(Ok((pkt, _))) => {
                        input.packet(pkt.header.sequence_number, &pkt.payload, now_ms())
                    }
                    Some(Err(_)) => break,
                    None => input.poll(now_ms()),
                };
                // Network health of the candidate's path, for operators (deltas, as they come).
                let (s, bad) = (input.stats(), input.bad);
                if s != reported.0 || bad != reported.1 {
                    metrics.count_n("rtp_lost", s.lost - reported.0.lost);
                    metrics.count_n("rtp_reordered", s.reordered - reported.0.reordered);
                    metrics.count_n("rtp_late", s.late - reported.0.late);
                    metrics.count_n("rtp_undecodable", bad - reported.1);
                    reported = (s, bad);
                }
                if !samples.is_empty() && audio_tx.send(samples).await.is_err() {
                    break;
                }
            }
            let s = input.stats();
            tracing::debug!(
                lost = s.lost,
                reordered = s.reordered,
                late = s.late,
                duplicates = s.duplicates,
                bad = input.bad,
                "remote track over"
            );
        })
    }));
    let (dc_tx, dc_rx) = mpsc::channel::<Arc<RTCDataChannel>>(2);
    let (ctl_tx, ctl_rx) = mpsc::channel::<Inbound>(16);
    pc.on_data_channel(Box::new(move |dc: Arc<RTCDataChannel>| {
        let dc_tx = dc_tx.clone();
        let ctl_tx = ctl_tx.clone();
        Box::pin(async move {
            let reply = dc.clone();
            dc.on_message(Box::new(move |m: DataChannelMessage| {
                let ctl_tx = ctl_tx.clone();
                let reply = reply.clone();
                Box::pin(async move {
                    let inbound = if m.data.len() > MAX_DC_BYTES {
                        Err("message larger than 16 KiB".to_string())
                    } else {
                        match serde_json::from_slice::<ClientMessage>(&m.data) {
                            Ok(ClientMessage::TextAnswer { text }) => Ok(Inbound::TextAnswer(text)),
                            Ok(ClientMessage::Repeat) => Ok(Inbound::Repeat),
                            Ok(ClientMessage::Bye) => Ok(Inbound::Bye),
                            Ok(ClientMessage::Hello { .. }) => {
                                Err("hello is not used over WebRTC".to_string())
                            }
                            Err(e) => Err(e.to_string()),
                        }
                    };
                    match inbound {
                        Ok(i) => {
                            let _ = ctl_tx.send(i).await;
                        }
                        Err(message) => {
                            let e = ServerEvent::Error {
                                code: "bad_message".into(),
                                message,
                            };
                            if let Ok(s) = serde_json::to_string(&e) {
                                let _ = reply.send_text(s).await;
                            }
                        }
                    }
                })
            }));
            let _ = dc_tx.send(dc).await;
        })
    }));
    let (state_tx, state_rx) = mpsc::channel::<RTCPeerConnectionState>(8);
    pc.on_peer_connection_state_change(Box::new(move |s| {
        let state_tx = state_tx.clone();
        Box::pin(async move {
            let _ = state_tx.send(s).await;
        })
    }));
    pc.set_remote_description(RTCSessionDescription::offer(sdp)?)
        .await?;
    let answer = pc.create_answer(None).await?;
    let mut gathered = pc.gathering_complete_promise().await;
    pc.set_local_description(answer).await?;
    let _ = tokio::time::timeout(Duration::from_secs(5), gathered.recv()).await;
    let local = pc
        .local_description()
        .await
        .ok_or_else(|| anyhow::anyhow!("no local description"))?;
    Ok((
        local.sdp,
        Peer {
            pc,
            track,
            audio_rx,
            dc_rx,
            ctl_rx,
            state_rx,
        },
    ))
}

impl Peer {
    async fn run(
        mut self,
        mut attachment: crate::session::Attachment,
        session: Arc<SessionHandle>,
        metrics: Arc<crate::session::Metrics>,
    ) {
        let mut out = match OpusAudioOut::new(OPUS_VOICE_BITRATE) {
            Ok(o) => o,
            Err(e) => {
                tracing::error!(error = %e, "opus encoder");
                session.detach(attachment);
                return;
            }
        };
        let mut dc: Option<Arc<RTCDataChannel>> = None;
        let mut started = false;
        let mut connected_at: Option<tokio::time::Instant> = None;
        let mut dropped = true;
        let connect_deadline = tokio::time::Instant::now() + CONNECT_TIMEOUT;
        loop {
            tokio::select! {
                s = self.state_rx.recv() => match s {
                    Some(RTCPeerConnectionState::Connected) => {
                        if connected_at.is_none() {
                            // Which transport carried a session shows in /metrics.
                            metrics.count("webrtc_connected");
                        }
                        connected_at.get_or_insert_with(tokio::time::Instant::now);
                    }
                    Some(RTCPeerConnectionState::Failed | RTCPeerConnectionState::Closed | RTCPeerConnectionState::Disconnected) | None => break,
                    Some(_) => {}
                },
                _ = tokio::time::sleep_until(connect_deadline), if connected_at.is_none() => {
                    tracing::warn!("peer did not connect within {CONNECT_TIMEOUT:?}");
                    metrics.count("webrtc_connect_timeout");
                    break;
                }
                _ = tokio::time::sleep(Duration::from_millis(100)), if !started && connected_at.is_some() => {}
                d = self.dc_rx.recv() => if let Some(d) = d { dc = Some(d) },
                a = self.audio_rx.recv() => {
                    let gone = match a {
                        Some(samples) if started => session.inbound.send(Inbound::Audio(samples)).await.is_err(),
                        _ => false,
                    };
                    if gone { break; }
                },
                c = self.ctl_rx.recv() => if let Some(c) = c {
                    let bye = matches!(c, Inbound::Bye);
                    let _ = session.inbound.send(c).await;
                    if bye { dropped = false; }
                },
                o = attachment.outbound.recv() => match o {
                    None => { dropped = false; break; }
                    Some(Outbound::Audio(pcm)) => match out.push(&pcm) {
                        Ok(packets) => for p in packets {
                            if !write_opus(&self.track, p).await { metrics.count("webrtc_write_failed"); }
                        },
                        Err(e) => tracing::warn!(error = %e, "encoding interviewer audio"),
                    },
                    Some(Outbound::Event(e)) => {
                        if matches!(e, ServerEvent::Flush { .. }) { out.clear(); }
                        if let (Some(dc), Ok(s)) = (&dc, serde_json::to_string(&e)) {
                            let _ = dc.send_text(s).await;
                        }
                    }
                    Some(Outbound::Close { code, reason }) => {
                        tracing::info!(code, reason = %reason, "closing peer connection");
                        dropped = code != super::ws::close::NORMAL;
                        // Let the data channel deliver the last events (`ended`) first.
                        tokio::time::sleep(Duration::from_millis(500)).await;
                        break;
                    }
                },
            }
            // The interview starts once media flows and the events channel is open (or 2 s
            // after connecting, for a peer without one): its first words are not lost.
            if let (false, Some(at)) = (started, connected_at) {
                if dc.is_some() || at.elapsed() > Duration::from_secs(2) {
                    started = true;
                    let _ = session
                        .inbound
                        .send(Inbound::Attached {
                            resumed: attachment.resumed,
                        })
                        .await;
                }
            }
        }
        let _ = self.pc.close().await;
        tracing::debug!(dropped, "peer connection over");
        // However it ended, the session hears of it (detach starts its grace period).
        session.detach(attachment);
    }
}

/// Routes of the WebRTC gateway.
pub fn routes() -> axum::Router<Arc<AppState>> {
    use axum::routing::post;
    axum::Router::new().route("/v1/sessions/{id}/webrtc", post(offer))
}

#[cfg(test)]
mod tests {
    use super::*;

    const OFFER: &str = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=rtpmap:111 opus/48000/2\r\na=mid:0\r\n";

    #[test]
    fn offers_are_checked() {
        assert_eq!(check_offer(OFFER), Ok(()));
        assert_eq!(check_offer(""), Err(OfferError::Empty));
        assert!(matches!(
            check_offer("this is not sdp"),
            Err(OfferError::Malformed(_))
        ));
        let video = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=rtpmap:96 VP8/90000\r\n";
        assert_eq!(check_offer(video), Err(OfferError::NoAudio));
        let pcmu = OFFER.replace("opus/48000/2", "PCMU/8000");
        assert_eq!(check_offer(&pcmu), Err(OfferError::NoOpus));
        assert_eq!(
            check_offer(&"a".repeat(MAX_SDP_BYTES + 1)),
            Err(OfferError::TooLarge)
        );
    }

    #[test]
    fn ice_server_urls_with_credentials() {
        let s = ice_servers(&[
            "stun:stun.example.org:3478".into(),
            "turn:user:secret@turn.example.org:3478".into(),
        ]);
        assert_eq!(s[0].urls, vec!["stun:stun.example.org:3478"]);
        assert_eq!(s[1].urls, vec!["turn:turn.example.org:3478"]);
        assert_eq!(s[1].username, "user");
        assert_eq!(s[1].credential, "secret");
    }

    #[test]
    fn browser_gets_the_same_ice_servers() {
        let v = browser_ice_servers(
            " stun:stun.example.org:3478 , ,turn:user:secret@turn.example.org:3478",
        );
        assert_eq!(
            v,
            serde_json::json!([
                {"urls": ["stun:stun.example.org:3478"]},
                {"urls": ["turn:turn.example.org:3478"], "username": "user", "credential": "secret"},
            ])
        );
        assert_eq!(browser_ice_servers(""), serde_json::json!([]));
    }
}
