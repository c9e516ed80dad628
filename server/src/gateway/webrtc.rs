//! The WebRTC gateway: WHIP-style signaling, `POST /v1/sessions/{id}/webrtc` with the SDP offer
//! (`Authorization: Bearer <resume_token>`), the SDP answer in the response (ICE gathered, no
//! trickle). Opus 48 kHz both ways; a data channel carries the same JSON events as the
//! WebSocket protocol and accepts its control messages (`text_answer`, `repeat`, `bye`).
//!
//! The audio adaptation is sans-IO: [`RtpAudioIn`] (RTP sequence numbers → Opus decode, PLC or
//! FEC for lost packets, late ones dropped → 16 kHz) and [`OpusAudioOut`] (16 kHz PCM → 48 kHz
//! → 20 ms Opus packets).

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use tokio::sync::mpsc;
use viva_audio::{AudioError, AudioFrame, OpusDecoder, OpusEncoder, StreamResampler};
use viva_audio::{OPUS_FRAME_SAMPLES, OPUS_RATE_HZ, SPEECH_RATE_HZ};
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
use crate::session::{AttachError, Inbound, Outbound, ServerEvent, SessionHandle};

/// Largest SDP offer accepted.
pub const MAX_SDP_BYTES: usize = 64 * 1024;
/// Largest data-channel message accepted.
const MAX_DC_BYTES: usize = 16 * 1024;
/// Lost packets concealed at most per gap; a longer gap is left to the pipeline's re-anchoring.
const MAX_CONCEAL: u16 = 10;
const OPUS_BITRATE: i32 = 32_000;
/// A peer that has not connected by then is dropped and the session released, so that a
/// browser which gave up on WebRTC can attach over its WebSocket fallback soon after.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

fn error_json(status: StatusCode, code: &str, message: String) -> Response {
    (
        status,
        axum::Json(serde_json::json!({"error": code, "message": message})),
    )
        .into_response()
}

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

/// Candidate audio: RTP packets (sequence number, Opus payload) → 16 kHz samples.
pub struct RtpAudioIn {
    decoder: OpusDecoder,
    down: StreamResampler,
    next_seq: Option<u16>,
    pub lost: u64,
    pub late: u64,
    pub bad: u64,
}

impl RtpAudioIn {
    pub fn new() -> Result<Self, AudioError> {
        Ok(Self {
            decoder: OpusDecoder::new(0)?,
            down: StreamResampler::new(OPUS_RATE_HZ, SPEECH_RATE_HZ)?,
            next_seq: None,
            lost: 0,
            late: 0,
            bad: 0,
        })
    }

    /// One packet in; 16 kHz samples out (possibly none). Lost packets before it are recovered
    /// (FEC from this packet for the last one, PLC for the others); a late or repeated packet
    /// is dropped: its time has been concealed already.
    pub fn packet(&mut self, seq: u16, payload: &[u8]) -> Vec<f32> {
        let mut frames: Vec<AudioFrame> = Vec::new();
        if let Some(expected) = self.next_seq {
            let ahead = seq.wrapping_sub(expected);
            if ahead >= 0x8000 {
                self.late += 1;
                return Vec::new();
            }
            if ahead > 0 {
                self.lost += u64::from(ahead);
                let conceal = ahead.min(MAX_CONCEAL);
                for i in 0..conceal {
                    let f = if i + 1 == conceal {
                        self.decoder.recover_with_fec(payload)
                    } else {
                        self.decoder.conceal()
                    };
                    match f {
                        Ok(f) => frames.push(f),
                        Err(_) => self.bad += 1,
                    }
                }
            }
        }
        match self.decoder.decode(payload) {
            Ok(f) => frames.push(f),
            Err(_) => {
                self.bad += 1;
                // Keep time: a packet we cannot decode is concealed.
                if let Ok(f) = self.decoder.conceal() {
                    frames.push(f);
                }
            }
        }
        self.next_seq = Some(seq.wrapping_add(1));
        let mut out = Vec::new();
        for f in frames {
            if let Ok(Some(r)) = self.down.process(&f) {
                out.extend_from_slice(r.samples());
            }
        }
        out
    }
}

/// Interviewer audio: 16 kHz PCM → 48 kHz → 20 ms Opus packets.
pub struct OpusAudioOut {
    up: StreamResampler,
    encoder: OpusEncoder,
    pending: Vec<f32>,
    next: u64,
}

impl OpusAudioOut {
    pub fn new() -> Result<Self, AudioError> {
        Ok(Self {
            up: StreamResampler::new(SPEECH_RATE_HZ, OPUS_RATE_HZ)?,
            encoder: OpusEncoder::new(OPUS_BITRATE)?,
            pending: Vec::new(),
            next: 0,
        })
    }

    /// PCM16 at 16 kHz in; whole 20 ms Opus packets out.
    pub fn push(&mut self, pcm: &[i16]) -> Result<Vec<Vec<u8>>, AudioError> {
        let samples: Vec<f32> = pcm.iter().map(|s| f32::from(*s) / 32768.0).collect();
        let len = samples.len() as u64;
        let frame = AudioFrame::new(samples, SPEECH_RATE_HZ, self.next)?;
        self.next += len;
        if let Some(f) = self.up.process(&frame)? {
            self.pending.extend_from_slice(f.samples());
        }
        let mut packets = Vec::new();
        while self.pending.len() >= OPUS_FRAME_SAMPLES {
            let rest = self.pending.split_off(OPUS_FRAME_SAMPLES);
            packets.push(self.encoder.encode(&self.pending)?);
            self.pending = rest;
        }
        Ok(packets)
    }

    /// Barge-in: forget what is buffered.
    pub fn clear(&mut self) {
        self.up.reset();
        self.pending.clear();
    }
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
    track
        .write_sample(&webrtc::media::Sample {
            data: bytes::Bytes::from(packet),
            duration: Duration::from_millis(20),
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
        Err(e) => {
            let (status, code) = match e {
                AttachError::BadToken => (StatusCode::UNAUTHORIZED, "bad_token"),
                AttachError::Busy => (StatusCode::CONFLICT, "session_busy"),
                AttachError::Ended => (StatusCode::GONE, "session_ended"),
                AttachError::Unknown => (StatusCode::NOT_FOUND, "unknown_session"),
            };
            return error_json(status, code, e.to_string());
        }
    };
    let ice: Vec<String> = state
        .config
        .server
        .ice_servers
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    match answer(&ice, body).await {
        Ok((sdp, peer)) => {
            let metrics = sessions.engines().metrics.clone();
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

async fn answer(ice: &[String], sdp: String) -> anyhow::Result<(String, Peer)> {
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
        Box::pin(async move {
            let mut input = match RtpAudioIn::new() {
                Ok(i) => i,
                Err(e) => {
                    tracing::error!(error = %e, "opus decoder");
                    return;
                }
            };
            while let Ok((pkt, _)) = remote.read_rtp().await {
                let samples = input.packet(pkt.header.sequence_number, &pkt.payload);
                if !samples.is_empty() && audio_tx.send(samples).await.is_err() {
                    break;
                }
            }
            tracing::debug!(
                lost = input.lost,
                late = input.late,
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
        let mut out = match OpusAudioOut::new() {
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
        session.detach(attachment);
        if dropped && !session.is_ended() {
            let _ = session.inbound.send(Inbound::Detached).await;
        }
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
    fn opus_round_trip_with_loss_and_reordering() {
        let mut out = OpusAudioOut::new().unwrap();
        let tone: Vec<i16> = (0..16_000)
            .map(|i| ((i as f32 * 440.0 * std::f32::consts::TAU / 16_000.0).sin() * 8000.0) as i16)
            .collect();
        let mut packets = Vec::new();
        for c in tone.chunks(320) {
            packets.extend(out.push(c).unwrap());
        }
        assert!(packets.len() >= 48, "{} packets", packets.len());
        let mut input = RtpAudioIn::new().unwrap();
        let mut got = 0;
        for (i, p) in packets.iter().enumerate() {
            let seq = (i as u16).wrapping_add(65_530);
            if i == 10 {
                continue; // lost
            }
            got += input.packet(seq, p).len();
            if i == 20 {
                // A repeat of an earlier packet: dropped.
                got += input.packet(seq.wrapping_sub(3), p).len();
            }
        }
        assert_eq!(input.lost, 1);
        assert_eq!(input.late, 1);
        assert_eq!(input.bad, 0);
        // Every 20 ms of stream time (the lost packet concealed) comes out at 16 kHz, less the
        // resampler's buffer.
        let expect = packets.len() * 320;
        assert!(got + 1000 >= expect && got <= expect, "{got} of {expect}");
        // Garbage is concealed, not a crash.
        let n = input.packet((packets.len() as u16).wrapping_add(65_530), &[0xFF; 3]);
        assert!(input.bad >= 1);
        let _ = n;
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
}
