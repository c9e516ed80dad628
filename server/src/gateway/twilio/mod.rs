//! The phone gateway: Twilio Media Streams (`docs/protocol.md`, "Phone: Twilio Media Streams").
//!
//! - `GET|POST /v1/telephony/twilio/twiml?session=…&token=…` returns the TwiML that connects a
//!   call to the stream, with the session and its token as `<Parameter>`s;
//! - `GET /v1/telephony/twilio/stream` is the WebSocket Twilio opens. It speaks `connected`,
//!   `start`, `media`, `mark`, `stop` in and `media`, `mark`, `clear` out, 8 kHz μ-law both ways.
//!
//! [`TwilioStream`] is the sans-IO core: Twilio's JSON messages and the session's [`Outbound`]
//! in, [`Action`]s out (resampling and μ-law included). The async part only moves bytes.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::ws::close;
use crate::http::AppState;
use crate::session::{AttachError, Attachment, Inbound, Outbound, SessionHandle};

pub mod dial_in;
mod rating;
mod stream;

pub use stream::*;
use stream::{END_DRAIN, START_TIMEOUT};

// ---------------------------------------------------------------------------------------------
// HTTP: TwiML

#[derive(Debug, Deserialize)]
pub struct TwimlQuery {
    #[serde(default)]
    session: Option<String>,
    #[serde(default)]
    token: Option<String>,
}

fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// The stream's `ws(s)://` URL: from `server.public_url` (http → ws, https → wss), else from
/// the request's `Host` (plain `ws://`, for local use; Twilio itself needs `wss://`).
pub fn stream_url(public_url: &str, host: Option<&str>) -> String {
    let base = public_url.trim_end_matches('/');
    let base = if let Some(rest) = base.strip_prefix("https://") {
        format!("wss://{rest}")
    } else if let Some(rest) = base.strip_prefix("http://") {
        format!("ws://{rest}")
    } else if base.is_empty() {
        format!("ws://{}", host.unwrap_or("127.0.0.1:8080"))
    } else {
        base.to_string()
    };
    format!("{base}{STREAM_PATH}")
}

/// The TwiML document connecting a call to the stream of `session`.
pub fn twiml(stream_url: &str, session: &str, token: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Connect><Stream url=\"{}\"><Parameter name=\"session\" value=\"{}\"/><Parameter name=\"token\" value=\"{}\"/></Stream></Connect></Response>\n",
        xml_escape(stream_url),
        xml_escape(session),
        xml_escape(token)
    )
}

use crate::http_error::json_error as error_json;

pub async fn twiml_handler(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(q): Query<TwimlQuery>,
) -> Response {
    let (Some(session), Some(token)) = (q.session, q.token) else {
        return error_json(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "query parameters session and token are required".into(),
        );
    };
    let Some(sessions) = state.sessions.as_ref() else {
        return error_json(
            StatusCode::SERVICE_UNAVAILABLE,
            "not_ready",
            "live sessions are not available on this server".into(),
        );
    };
    match sessions.get(&session) {
        None => {
            return error_json(
                StatusCode::NOT_FOUND,
                "unknown_session",
                format!("no live session {session:?}"),
            )
        }
        Some(s) if s.is_ended() => {
            return error_json(
                StatusCode::GONE,
                "session_ended",
                format!("session {session} has ended"),
            )
        }
        Some(_) => {}
    }
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let url = stream_url(&state.config.server.public_url, host);
    (
        [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
        twiml(&url, &session, &token),
    )
        .into_response()
}

// ---------------------------------------------------------------------------------------------
// WebSocket: the stream

pub async fn stream_upgrade(State(state): State<Arc<AppState>>, ws: WebSocketUpgrade) -> Response {
    let Some(sessions) = state.sessions.clone() else {
        return error_json(
            StatusCode::SERVICE_UNAVAILABLE,
            "not_ready",
            "live sessions are not available on this server".into(),
        );
    };
    ws.max_message_size(MAX_MESSAGE_BYTES)
        .max_frame_size(MAX_MESSAGE_BYTES)
        .on_upgrade(move |socket| async move {
            let span = tracing::info_span!("twilio", session_id = tracing::field::Empty);
            tracing::Instrument::instrument(run(socket, sessions, state.store.clone()), span).await
        })
}

struct Conn {
    socket: WebSocket,
    session: Option<Arc<SessionHandle>>,
    attachment: Option<Attachment>,
    metrics: Arc<crate::session::Metrics>,
    /// Joined by dial-in PIN: the caller can call back with the PIN, so a hang-up before the
    /// interview's end is a dropped call (the session waits for them), not a goodbye.
    granted: bool,
    /// Where an invited caller's keypad rating is stored.
    store: Option<crate::store::Store>,
}

enum Step {
    Continue,
    /// Closed on purpose or hung up: the session is not waiting for a resume.
    Final,
    /// The transport dropped.
    Dropped,
}

async fn next_outbound(a: &mut Option<Attachment>) -> Option<Outbound> {
    match a {
        Some(a) => a.outbound.recv().await,
        None => std::future::pending().await,
    }
}

async fn run(
    socket: WebSocket,
    sessions: Arc<crate::session::SessionManager>,
    store: Option<crate::store::Store>,
) {
    let mut stream = match TwilioStream::new() {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "cannot start a Twilio stream");
            return;
        }
    };
    let mut conn = Conn {
        socket,
        session: None,
        attachment: None,
        metrics: sessions.engines().metrics.clone(),
        granted: false,
        store,
    };
    let start_deadline = tokio::time::Instant::now() + START_TIMEOUT;
    let step = loop {
        let actions = tokio::select! {
            msg = conn.socket.recv() => match msg {
                None => break Step::Dropped,
                Some(Err(e)) => {
                    let text = e.to_string();
                    if text.contains("Space limit") || text.contains("too long") || text.contains("Capacity") {
                        conn.metrics.count("twilio_oversized");
                        conn.close(close::TOO_BIG, "message larger than 64 KiB").await;
                        break Step::Final;
                    }
                    tracing::info!(error = %text, "twilio websocket error");
                    break Step::Dropped;
                }
                Some(Ok(Message::Text(t))) => stream.on_text(&t),
                Some(Ok(Message::Binary(_))) => stream.on_binary(),
                Some(Ok(Message::Close(_))) => break Step::Dropped,
                Some(Ok(_)) => continue,
            },
            out = next_outbound(&mut conn.attachment) => match out {
                Some(o) => stream.on_outbound(o),
                None => stream.session_over(),
            },
            _ = tokio::time::sleep_until(start_deadline), if stream.phase() == Phase::AwaitingStart => {
                conn.metrics.count("twilio_no_start");
                conn.close(codes::START_EXPECTED, "no start within 10 s").await;
                break Step::Final;
            }
        };
        match conn.apply(&mut stream, &sessions, actions).await {
            Step::Continue => {}
            other => break other,
        }
    };
    if let (Some(session), Some(a)) = (conn.session.take(), conn.attachment.take()) {
        tracing::debug!(dropped = matches!(step, Step::Dropped), "call stream over");
        // However it ended, the session hears of it (detach starts its grace period).
        session.detach(a);
    }
    if stream.late_chunks > 0 {
        tracing::info!(
            late = stream.late_chunks,
            "late or repeated media chunks dropped"
        );
    }
}

impl Conn {
    async fn close(&mut self, code: u16, reason: &str) {
        if code == close::NORMAL {
            tracing::info!(code, reason, "closing twilio stream");
        } else {
            tracing::warn!(code, reason, "closing twilio stream");
        }
        let _ = self
            .socket
            .send(Message::Close(Some(CloseFrame {
                code,
                reason: reason.into(),
            })))
            .await;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
        while let Ok(Some(Ok(m))) = tokio::time::timeout_at(deadline, self.socket.recv()).await {
            if matches!(m, Message::Close(_)) {
                break;
            }
        }
    }

    async fn apply(
        &mut self,
        stream: &mut TwilioStream,
        sessions: &crate::session::SessionManager,
        actions: Vec<Action>,
    ) -> Step {
        let mut queue = std::collections::VecDeque::from(actions);
        while let Some(action) = queue.pop_front() {
            match action {
                Action::Attach { session_id, token } => {
                    tracing::Span::current().record("session_id", session_id.as_str());
                    let result = match sessions.get(&session_id) {
                        None => Err(AttachError::Unknown),
                        // A dial-in caller who gave the invite's PIN holds a grant instead
                        // of the session's resume token.
                        Some(s) if token.starts_with("g1.") => {
                            if sessions.check_grant(
                                &session_id,
                                &token,
                                crate::store::now_ms() as u64 / 1000,
                            ) {
                                self.granted = true;
                                s.attach_granted().map(|a| (s, a))
                            } else {
                                Err(AttachError::BadToken)
                            }
                        }
                        Some(s) => s.attach(&token).map(|a| (s, a)),
                    };
                    match result {
                        Ok((session, a)) => {
                            let resumed = a.resumed;
                            tracing::info!(
                                resumed,
                                call_sid = stream.call_sid().unwrap_or(""),
                                "call attached"
                            );
                            self.session = Some(session.clone());
                            self.attachment = Some(a);
                            stream.attached();
                            let _ = session.inbound.send(Inbound::Attached { resumed }).await;
                            if resumed && self.granted {
                                // A caller who dialled in again heard nothing of the question.
                                let _ = session.inbound.send(Inbound::Rejoined).await;
                            }
                        }
                        Err(e) => queue.extend(stream.attach_failed(e)),
                    }
                }
                Action::Audio(samples) => {
                    let Some(session) = &self.session else {
                        continue;
                    };
                    if session.inbound.send(Inbound::Audio(samples)).await.is_err() {
                        self.close(close::SESSION_ENDED, "the session has ended")
                            .await;
                        return Step::Final;
                    }
                }
                Action::Send(text) => {
                    if self.socket.send(Message::Text(text.into())).await.is_err() {
                        return Step::Dropped;
                    }
                }
                Action::Hangup if self.granted => {
                    tracing::info!("dial-in caller hung up: the interview waits for them to call back with the PIN");
                    self.close(close::NORMAL, "caller hung up").await;
                    return Step::Dropped;
                }
                Action::Hangup => {
                    tracing::info!("caller hung up");
                    if let Some(session) = &self.session {
                        let _ = session.inbound.send(Inbound::Bye).await;
                    }
                    self.close(close::NORMAL, "caller hung up").await;
                    return Step::Final;
                }
                Action::Digit(d) => {
                    // Keys mean nothing during the interview itself.
                    tracing::debug!(key = %d, "keypad press ignored");
                }
                Action::Drain => {
                    // Wait for Twilio's echo of the end mark (the closing words played), then
                    // close; Twilio hangs up when the stream closes.
                    let deadline = tokio::time::Instant::now() + END_DRAIN;
                    let mut hung_up = false;
                    loop {
                        match tokio::time::timeout_at(deadline, self.socket.recv()).await {
                            Ok(Some(Ok(Message::Text(t)))) => {
                                let more = stream.on_text(&t);
                                hung_up = more.contains(&Action::Hangup);
                                if hung_up || more.iter().any(|a| matches!(a, Action::Close { .. }))
                                {
                                    break;
                                }
                            }
                            Ok(Some(Ok(Message::Close(_)))) | Ok(None) | Ok(Some(Err(_))) => {
                                return Step::Final
                            }
                            Ok(Some(Ok(_))) => {}
                            Err(_) => break,
                        }
                    }
                    // An invited candidate may rate the interview on the keypad before the
                    // line closes.
                    let target = match (&self.store, &self.session) {
                        (Some(store), Some(session)) if !hung_up => store
                            .invited_interview_of_session(&session.id)
                            .await
                            .unwrap_or_else(|e| {
                                tracing::warn!(error = %e, "no phone rating: interview lookup failed");
                                None
                            })
                            .map(|iv| (store.clone(), iv)),
                        _ => None,
                    };
                    if let Some((store, iv)) = target {
                        self.ask_rating(stream, sessions, &store, &iv).await;
                    }
                    self.close(close::NORMAL, "interview over").await;
                    return Step::Final;
                }
                Action::Close { code, reason } => {
                    if code != close::NORMAL {
                        self.metrics.count(match code {
                            close::TOO_BIG => "twilio_oversized",
                            close::INVALID_PAYLOAD => "twilio_bad_message",
                            _ => "twilio_refused",
                        });
                    }
                    self.close(code, &reason).await;
                    return if code == close::NORMAL || self.session.is_none() {
                        Step::Final
                    } else {
                        Step::Dropped
                    };
                }
            }
        }
        Step::Continue
    }
}

/// Routes of the phone gateway, merged into the main router.
pub fn routes() -> axum::Router<Arc<AppState>> {
    use axum::routing::{get, post};
    axum::Router::new()
        // Literal paths (= TWIML_PATH, VOICE_PATH, STREAM_PATH): the OpenAPI test reads them.
        .route(
            "/v1/telephony/twilio/twiml",
            get(twiml_handler).post(twiml_handler),
        )
        .route("/v1/telephony/twilio/voice", post(dial_in::voice_handler))
        .route("/v1/telephony/twilio/stream", get(stream_upgrade))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_routed_paths_are_the_constants() {
        let src = include_str!("mod.rs");
        for path in [TWIML_PATH, STREAM_PATH, dial_in::VOICE_PATH] {
            assert!(
                src.contains(&format!(".route(\"{path}\""))
                    || src.contains(&format!("\"{path}\",\n")),
                "{path}"
            );
        }
    }

    #[test]
    fn twiml_points_at_the_stream_with_escaped_parameters() {
        let url = stream_url("https://viva.example.com/", None);
        assert_eq!(url, "wss://viva.example.com/v1/telephony/twilio/stream");
        assert_eq!(
            stream_url("", Some("127.0.0.1:9")),
            "ws://127.0.0.1:9/v1/telephony/twilio/stream"
        );
        let x = twiml(&url, "s-1", "a\"<&");
        assert!(x.contains(
            "<Response><Connect><Stream url=\"wss://viva.example.com/v1/telephony/twilio/stream\">"
        ));
        assert!(x.contains("<Parameter name=\"session\" value=\"s-1\"/>"));
        assert!(x.contains("<Parameter name=\"token\" value=\"a&quot;&lt;&amp;\"/>"));
        assert!(x.ends_with("</Stream></Connect></Response>\n"));
    }
}
