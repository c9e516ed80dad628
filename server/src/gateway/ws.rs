//! The WebSocket gateway, `GET /v1/sessions/{id}/ws` (protocol: `docs/protocol.md`).
//!
//! Thin by design: it checks the client's messages, turns binary frames into samples and JSON
//! into [`Inbound`] messages, and writes [`Outbound`] back. Everything about the interview lives
//! in the session runner, which every transport shares.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;

use crate::http::AppState;
use crate::http_error::{json_error as error_json, retry_later};
use crate::session::messages::AudioFormat;
use crate::session::{
    AttachError, Attachment, Inbound, Outbound, ServerEvent, SessionHandle, PROTOCOL_VERSION,
};

/// Largest WebSocket message accepted at all; larger ones close the connection with 1009 before
/// they are buffered.
pub const MAX_MESSAGE_BYTES: usize = 256 * 1024;
/// Largest audio frame: 1 s of PCM16 at 16 kHz (clients send 20 ms).
pub const MAX_AUDIO_BYTES: usize = 32_000;
/// Largest JSON control message.
pub const MAX_TEXT_BYTES: usize = 16 * 1024;
const HELLO_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a closing connection waits for the client's close reply.
const CLOSE_DRAIN: Duration = Duration::from_secs(2);

/// Close codes (RFC 6455 and ours in 4000–4999).
pub mod close {
    pub const NORMAL: u16 = 1000;
    pub const PROTOCOL_ERROR: u16 = 1002;
    pub const UNSUPPORTED_DATA: u16 = 1003;
    pub const INVALID_PAYLOAD: u16 = 1007;
    pub const POLICY: u16 = 1008;
    pub const TOO_BIG: u16 = 1009;
    pub const INTERNAL: u16 = 1011;
    pub const HELLO_EXPECTED: u16 = 4000;
    pub const BAD_TOKEN: u16 = 4001;
    pub const UNSUPPORTED_PROTOCOL: u16 = 4002;
    pub const UNSUPPORTED_CODEC: u16 = 4003;
    pub const SESSION_BUSY: u16 = 4009;
    pub const SESSION_ENDED: u16 = 4010;
    /// Every interviewer is busy: try again in the seconds the reason gives.
    pub const SERVER_FULL: u16 = 4503;
}

/// Control messages from the client.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientMessage {
    Hello {
        protocol: u32,
        resume_token: String,
        #[serde(default)]
        codec: Option<String>,
        #[serde(default)]
        sample_rate: Option<u32>,
    },
    TextAnswer {
        text: String,
    },
    Repeat,
    Bye,
}

/// How a session that cannot be joined now is refused over HTTP.
pub(crate) fn attach_refusal(e: &AttachError) -> Response {
    match e {
        AttachError::Full { retry_after_s } => retry_later(
            StatusCode::SERVICE_UNAVAILABLE,
            "busy",
            e.to_string(),
            *retry_after_s,
        ),
        AttachError::BadToken => error_json(StatusCode::UNAUTHORIZED, "bad_token", e.to_string()),
        AttachError::Busy => error_json(StatusCode::CONFLICT, "session_busy", e.to_string()),
        AttachError::Ended => error_json(StatusCode::GONE, "session_ended", e.to_string()),
        AttachError::Unknown => error_json(StatusCode::NOT_FOUND, "unknown_session", e.to_string()),
    }
}

pub async fn upgrade(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    ws: WebSocketUpgrade,
) -> Response {
    let Some(sessions) = state.sessions.as_ref() else {
        return error_json(
            StatusCode::SERVICE_UNAVAILABLE,
            "not_ready",
            "live sessions are not available on this server".into(),
        );
    };
    // Refuse before upgrading where we can: an HTTP status is the clearest error a client gets.
    let Some(session) = sessions.get(&id) else {
        return error_json(
            StatusCode::NOT_FOUND,
            "unknown_session",
            format!("no live session {id:?}; create one with POST /v1/sessions"),
        );
    };
    if session.is_ended() {
        return error_json(
            StatusCode::GONE,
            "session_ended",
            format!("session {id} has ended"),
        );
    }
    if session.is_attached() {
        return error_json(
            StatusCode::CONFLICT,
            "session_busy",
            format!("session {id} already has a connection"),
        );
    }
    if let Err(e) = sessions.can_join(&session) {
        return attach_refusal(&e);
    }
    let metrics = sessions.engines().metrics.clone();
    ws.max_message_size(MAX_MESSAGE_BYTES)
        .max_frame_size(MAX_MESSAGE_BYTES)
        .on_upgrade(move |socket| async move {
            Connection {
                socket,
                session,
                metrics,
            }
            .run()
            .await
        })
}

struct Connection {
    socket: WebSocket,
    session: Arc<SessionHandle>,
    metrics: Arc<crate::session::Metrics>,
}

enum Exit {
    /// Closed on purpose (bye, interview over, a rule broken): the session is not waiting.
    Final,
    /// The transport went away: the session waits for a resume.
    Dropped,
}

impl Connection {
    async fn close(&mut self, code: u16, reason: &str) {
        tracing::info!(code, reason, "closing websocket");
        let _ = self
            .socket
            .send(Message::Close(Some(CloseFrame {
                code,
                reason: reason.into(),
            })))
            .await;
        // The closing handshake: read (and drop) what the client still sends until it answers
        // the close. Dropping the socket with unread data would make the kernel reset the
        // connection, and the client would lose our close frame and its reason.
        let deadline = tokio::time::Instant::now() + CLOSE_DRAIN;
        while let Ok(Some(Ok(m))) = tokio::time::timeout_at(deadline, self.socket.recv()).await {
            if matches!(m, Message::Close(_)) {
                break;
            }
        }
    }

    async fn send_event(&mut self, event: &ServerEvent) -> bool {
        match serde_json::to_string(event) {
            Ok(s) => self.socket.send(Message::Text(s.into())).await.is_ok(),
            Err(_) => true,
        }
    }

    async fn run(mut self) {
        let span = tracing::info_span!("ws", session_id = %self.session.id);
        let _ = tracing::Instrument::instrument(self.run_inner(), span).await;
    }

    async fn run_inner(&mut self) {
        let Some(attachment) = self.handshake().await else {
            return;
        };
        let resumed = attachment.resumed;
        let welcome = ServerEvent::Welcome {
            protocol: PROTOCOL_VERSION,
            session_id: self.session.id.clone(),
            resumed,
            audio: AudioFormat {
                codec: "pcm16",
                sample_rate: viva_audio::SPEECH_RATE_HZ,
                frame_ms: 20,
            },
        };
        let mut attachment = attachment;
        if !self.send_event(&welcome).await {
            self.session.detach(attachment);
            return;
        }
        let _ = self
            .session
            .inbound
            .send(Inbound::Attached { resumed })
            .await;
        let exit = self.pump(&mut attachment).await;
        tracing::debug!(final_close = matches!(exit, Exit::Final), "connection over");
        // However it ended, the session hears of it (detach starts its grace period).
        self.session.detach(attachment);
    }

    /// Waits for `hello` and claims the session.
    async fn handshake(&mut self) -> Option<Attachment> {
        let first = tokio::time::timeout(HELLO_TIMEOUT, self.socket.recv()).await;
        let text = match first {
            Ok(Some(Ok(Message::Text(t)))) if t.len() <= MAX_TEXT_BYTES => t,
            Ok(Some(Ok(_))) => {
                self.close(close::HELLO_EXPECTED, "the first message must be hello")
                    .await;
                return None;
            }
            Ok(Some(Err(_))) | Ok(None) => return None,
            Err(_) => {
                self.close(close::HELLO_EXPECTED, "no hello within 10 s")
                    .await;
                return None;
            }
        };
        let (protocol, token, codec, rate) = match serde_json::from_str::<ClientMessage>(&text) {
            Ok(ClientMessage::Hello {
                protocol,
                resume_token,
                codec,
                sample_rate,
            }) => (protocol, resume_token, codec, sample_rate),
            Ok(_) | Err(_) => {
                self.close(close::HELLO_EXPECTED, "the first message must be hello")
                    .await;
                return None;
            }
        };
        if protocol != PROTOCOL_VERSION {
            self.close(
                close::UNSUPPORTED_PROTOCOL,
                &format!("protocol {protocol} unsupported; this server speaks {PROTOCOL_VERSION}"),
            )
            .await;
            return None;
        }
        if codec.as_deref().is_some_and(|c| c != "pcm16")
            || rate.is_some_and(|r| r != viva_audio::SPEECH_RATE_HZ)
        {
            self.close(
                close::UNSUPPORTED_CODEC,
                "only pcm16 at 16000 Hz is supported",
            )
            .await;
            return None;
        }
        match self.session.attach(&token) {
            Ok(a) => Some(a),
            Err(e) => {
                let code = match e {
                    AttachError::BadToken => close::BAD_TOKEN,
                    AttachError::Busy => close::SESSION_BUSY,
                    AttachError::Ended | AttachError::Unknown => close::SESSION_ENDED,
                    AttachError::Full { .. } => close::SERVER_FULL,
                };
                self.close(code, &e.to_string()).await;
                None
            }
        }
    }

    async fn pump(&mut self, attachment: &mut Attachment) -> Exit {
        loop {
            tokio::select! {
                msg = self.socket.recv() => {
                    let msg = match msg {
                        None => return Exit::Dropped,
                        Some(Ok(m)) => m,
                        Some(Err(e)) => {
                            // tungstenite refuses an oversized message before buffering it;
                            // say why if the socket still takes a close frame.
                            let text = e.to_string();
                            if text.contains("Space limit") || text.contains("too long") || text.contains("Capacity") {
                                self.metrics.count("oversized_message");
                                self.close(close::TOO_BIG, "message larger than 256 KiB").await;
                                return Exit::Final;
                            }
                            tracing::info!(error = %text, "websocket error");
                            self.metrics.count("ws_protocol_error");
                            // RFC 6455: invalid UTF-8 in a text message is 1007, every other
                            // framing violation (unmasked frame, RSV bits, bad opcode) 1002.
                            let code = if text.contains("UTF-8") || text.contains("utf-8") || text.contains("Utf8") {
                                close::INVALID_PAYLOAD
                            } else {
                                close::PROTOCOL_ERROR
                            };
                            self.close(code, "protocol error").await;
                            return Exit::Dropped;
                        }
                    };
                    match msg {
                        Message::Binary(bytes) => {
                            if bytes.len() > MAX_AUDIO_BYTES {
                                self.metrics.count("oversized_frame");
                                self.close(close::TOO_BIG, "audio frame larger than 1 s (32000 bytes)").await;
                                return Exit::Final;
                            }
                            if bytes.len() % 2 != 0 {
                                self.metrics.count("bad_frame");
                                self.close(close::INVALID_PAYLOAD, "audio frame is not PCM16 (odd byte count)").await;
                                return Exit::Final;
                            }
                            let samples = bytes
                                .chunks_exact(2)
                                .map(|b| f32::from(i16::from_le_bytes([b[0], b[1]])) / 32768.0)
                                .collect();
                            if self.session.inbound.send(Inbound::Audio(samples)).await.is_err() {
                                self.close(close::SESSION_ENDED, "the session has ended").await;
                                return Exit::Final;
                            }
                        }
                        Message::Text(text) => {
                            if text.len() > MAX_TEXT_BYTES {
                                self.close(close::TOO_BIG, "control message larger than 16 KiB").await;
                                return Exit::Final;
                            }
                            let inbound = match serde_json::from_str::<ClientMessage>(&text) {
                                Ok(ClientMessage::TextAnswer { text }) => Inbound::TextAnswer(text),
                                Ok(ClientMessage::Repeat) => Inbound::Repeat,
                                Ok(ClientMessage::Bye) => Inbound::Bye,
                                Ok(ClientMessage::Hello { .. }) => {
                                    let e = ServerEvent::Error { code: "already_hello".into(), message: "hello was already received".into() };
                                    self.send_event(&e).await;
                                    continue;
                                }
                                Err(e) => {
                                    // A message we do not understand is an error event, not a
                                    // hang-up: a newer client may send things we do not know.
                                    let e = ServerEvent::Error { code: "bad_message".into(), message: e.to_string() };
                                    self.send_event(&e).await;
                                    continue;
                                }
                            };
                            let _ = self.session.inbound.send(inbound).await;
                        }
                        Message::Close(_) => return Exit::Dropped,
                        Message::Ping(_) | Message::Pong(_) => {}
                    }
                }
                out = attachment.outbound.recv() => {
                    match out {
                        None => {
                            self.close(close::NORMAL, "session over").await;
                            return Exit::Final;
                        }
                        Some(Outbound::Audio(pcm)) => {
                            let mut bytes = Vec::with_capacity(pcm.len() * 2);
                            for s in pcm {
                                bytes.extend_from_slice(&s.to_le_bytes());
                            }
                            if self.socket.send(Message::Binary(bytes.into())).await.is_err() {
                                return Exit::Dropped;
                            }
                        }
                        Some(Outbound::Event(e)) => {
                            if !self.send_event(&e).await {
                                return Exit::Dropped;
                            }
                        }
                        Some(Outbound::Close { code, reason }) => {
                            self.close(code, &reason).await;
                            return if code == close::NORMAL { Exit::Final } else { Exit::Dropped };
                        }
                    }
                }
            }
        }
    }
}

/// `POST /v1/sessions` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateSession {
    /// `"demo"`: the built-in demo job (filed under the stored demo job when there is one).
    #[serde(default)]
    job: Option<String>,
    /// A candidate's invite token: the session runs the invite's job version and is filed
    /// under a new interview for the invited candidate. Single use.
    #[serde(default)]
    invite: Option<String>,
}

/// A storage error while creating a session: logged, answered 500 without the details.
fn internal(e: crate::store::StoreError) -> Response {
    tracing::error!(error = %e, "storage failure creating a session");
    error_json(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "storage failure".into(),
    )
}

/// The job of a redeemed invite and a new interview filed under it for the invited candidate.
pub(crate) async fn invite_interview(
    store: &crate::store::Store,
    invite: &crate::store::InviteRow,
    now: i64,
) -> Result<(viva_interview::JobConfig, String), Response> {
    let toml = store
        .job_version(&invite.job_id, invite.job_version)
        .await
        .map_err(internal)?;
    let mut job = viva_interview::JobConfig::from_toml_str(&toml).map_err(|e| {
        error_json(
            StatusCode::INTERNAL_SERVER_ERROR,
            "invalid_job",
            format!("the stored job does not load: {e}"),
        )
    })?;
    if let Some(a) = &invite.accommodations {
        job.accommodations = job.accommodations.merged(a);
    }
    let iv = store
        .create_interview(
            &invite.job_id,
            invite.job_version,
            &invite.candidate_id,
            Some(&invite.id),
            now,
        )
        .await
        .map_err(internal)?;
    Ok((job, iv))
}

/// Starts a session for `job`, filed under `interview`: links the two, or gives the interview
/// row (and a used invite) back when no session could start.
pub(crate) async fn launch(
    state: &AppState,
    sessions: &Arc<crate::session::SessionManager>,
    job: viva_interview::JobConfig,
    interview: Option<String>,
) -> Result<crate::session::Created, crate::session::CreateError> {
    match sessions.create_linked(job, interview.clone()) {
        Ok(c) => {
            if let (Some(store), Some(iv)) = (state.store.as_ref(), interview.as_deref()) {
                if let Err(e) = crate::store::link::start_session_interview(store, iv, &c.id).await
                {
                    tracing::error!(error = %e, session_id = %c.id, "session not linked to its interview");
                }
            }
            Ok(c)
        }
        Err(e) => {
            // Nothing runs for it: the interview row and a used invite are given back.
            if let (Some(store), Some(iv)) = (state.store.as_ref(), interview.as_deref()) {
                if let Err(err) = store.discard_unjoined(iv).await {
                    tracing::warn!(error = %err, interview = %iv, "unused interview not removed");
                }
            }
            Err(e)
        }
    }
}

/// Resolves what a new session runs and which stored interview it is filed under.
async fn session_target(
    state: &AppState,
    body: &CreateSession,
) -> Result<(viva_interview::JobConfig, Option<String>), Response> {
    let now = crate::store::now_ms();
    match (&body.invite, body.job.as_deref()) {
        (Some(token), None) => {
            let Some(store) = state.store.as_ref() else {
                return Err(error_json(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "not_ready",
                    "this server has no database".into(),
                ));
            };
            let Some(invite) = store.redeem_invite(token, now).await.map_err(internal)? else {
                return Err(error_json(
                    StatusCode::FORBIDDEN,
                    "invalid_invite",
                    "the invite is unknown, used, revoked or expired".into(),
                ));
            };
            let (job, iv) = invite_interview(store, &invite, now).await?;
            Ok((job, Some(iv)))
        }
        (None, Some("demo")) => {
            // A demo session is filed under the stored demo job (an anonymous candidate), so
            // its recording, transcript and report show up like any other interview.
            let mut link = None;
            if let Some(store) = state.store.as_ref() {
                if let Some(job_id) = store.demo_job_id().await.map_err(internal)? {
                    let cand = store
                        .create_candidate(None, None, now)
                        .await
                        .map_err(internal)?;
                    let v = store.job(&job_id).await.map_err(internal)?.version;
                    link = Some(
                        store
                            .create_interview(&job_id, v, &cand, None, now)
                            .await
                            .map_err(internal)?,
                    );
                }
            }
            Ok((viva_interview::demo_job(), link))
        }
        (None, Some(other)) => Err(error_json(
            StatusCode::NOT_FOUND,
            "unknown_job",
            format!("no job {other:?}; use \"demo\" or an invite"),
        )),
        _ => Err(error_json(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "give exactly one of \"job\" or \"invite\"".into(),
        )),
    }
}

pub async fn create_session(
    State(state): State<Arc<AppState>>,
    super::admission::ClientAddr(client): super::admission::ClientAddr,
    body: Result<Json<CreateSession>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let Some(sessions) = state.sessions.as_ref() else {
        return error_json(
            StatusCode::SERVICE_UNAVAILABLE,
            "not_ready",
            "live sessions are not available on this server".into(),
        );
    };
    let Json(body) = match body {
        Ok(b) => b,
        // 413 for a body over the limit, 415 without a JSON content type, 400 otherwise.
        Err(e) => {
            let status = match e.status() {
                StatusCode::PAYLOAD_TOO_LARGE => StatusCode::PAYLOAD_TOO_LARGE,
                StatusCode::UNSUPPORTED_MEDIA_TYPE => StatusCode::UNSUPPORTED_MEDIA_TYPE,
                _ => StatusCode::BAD_REQUEST,
            };
            let code = if status == StatusCode::PAYLOAD_TOO_LARGE {
                "body_too_large"
            } else {
                "bad_request"
            };
            return error_json(status, code, e.body_text());
        }
    };
    // Refuse what cannot be served before anything is stored or an invite is used up.
    if let Err(e) = sessions.admit() {
        return creation_refusal(e);
    }
    if body.job.as_deref() == Some("demo") && body.invite.is_none() {
        if !state.config.demo.enabled {
            return error_json(
                StatusCode::FORBIDDEN,
                "demo_disabled",
                "this server does not offer the public demo interview (demo.enabled)".into(),
            );
        }
        if let Err(wait) = state.demo_limiter.check(client, std::time::Instant::now()) {
            sessions.engines().metrics.count("demo_rate_limited");
            return retry_later(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                format!(
                    "at most {} demo interviews per hour from one address; try again in {wait} s",
                    state.config.demo.per_address_per_hour
                ),
                wait,
            );
        }
    }
    let (job, interview) = match session_target(&state, &body).await {
        Ok(t) => t,
        Err(resp) => return resp,
    };
    let accommodations = job.accommodations;
    match launch(&state, sessions, job, interview.clone()).await {
        Ok(c) => (
                StatusCode::CREATED,
                Json(serde_json::json!({
                    "id": c.id,
                    "ws_url": format!("/v1/sessions/{}/ws", c.id),
                    "resume_token": c.resume_token,
                    "ice_servers": crate::gateway::webrtc::browser_ice_servers(&state.config.server.ice_servers),
                    "protocol": PROTOCOL_VERSION,
                    "interview_id": interview,
                    "accommodations": accommodations,
                })),
            )
                .into_response(),
        Err(e) => creation_refusal(e),
    }
}

fn creation_refusal(e: crate::session::CreateError) -> Response {
    use crate::session::CreateError;
    match e {
        CreateError::Full { retry_after_s } => retry_later(
            StatusCode::SERVICE_UNAVAILABLE,
            "busy",
            format!("all interviewers are busy; retrying in {retry_after_s} s will work once one is free"),
            retry_after_s,
        ),
        CreateError::Draining { retry_after_s } => retry_later(
            StatusCode::SERVICE_UNAVAILABLE,
            "restarting",
            format!("the server is restarting; try again in {retry_after_s} s"),
            retry_after_s,
        ),
        CreateError::Language(message) => error_json(
            StatusCode::SERVICE_UNAVAILABLE,
            "language_unavailable",
            message,
        ),
        CreateError::Failed(e) => error_json(
            StatusCode::INTERNAL_SERVER_ERROR,
            "session_failed",
            format!("{e:#}"),
        ),
    }
}

pub async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    let body = state
        .sessions
        .as_ref()
        .map(|s| s.engines().metrics.render())
        .unwrap_or_default();
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        body,
    )
        .into_response()
}

/// Routes of the live gateway, merged into the main router.
pub fn routes() -> axum::Router<Arc<AppState>> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/v1/sessions", post(create_session))
        .route("/v1/sessions/{id}/ws", get(upgrade))
        .route("/metrics", get(metrics))
}
