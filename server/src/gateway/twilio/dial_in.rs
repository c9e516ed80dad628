//! Dial-in by PIN (`docs/telephony.md`): a candidate calls the company's Twilio number; Twilio
//! posts the call to `POST /v1/telephony/twilio/voice`, viva answers TwiML that collects the
//! invite's PIN on the keypad (`<Gather input="dtmf">`, posting back to the same URL) and then
//! connects the call (`<Connect><Stream>`) to that invite's interview. Calling again with the
//! same PIN rejoins an interview whose call dropped.
//!
//! Every request must carry a valid `X-Twilio-Signature` (HMAC-SHA1 of the URL and the sorted
//! form parameters, keyed with the account's auth token): a forged one gets 403 and changes
//! nothing. The attempt count travels in the action URL's query, which the signature covers.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{OriginalUri, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha1::Sha1;

use super::{stream_url, xml_escape};
use crate::http::AppState;
use crate::http_error::json_error;
use crate::store::pins::PinLookup;

pub const VOICE_PATH: &str = "/v1/telephony/twilio/voice";

/// Seconds the keypad prompt waits for the first digit.
const GATHER_TIMEOUT_S: u32 = 10;

/// Twilio's request signature: base64 HMAC-SHA1 over the full URL followed by each POST
/// parameter's name and value, sorted by name (then value).
pub fn twilio_signature(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    base64::engine::general_purpose::STANDARD.encode(
        signature_mac(auth_token, url, params)
            .finalize()
            .into_bytes(),
    )
}

fn signature_mac(auth_token: &str, url: &str, params: &[(String, String)]) -> Hmac<Sha1> {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    // HMAC takes a key of any length: this cannot fail.
    let mut m = Hmac::<Sha1>::new_from_slice(auth_token.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
    m.update(url.as_bytes());
    for (k, v) in sorted {
        m.update(k.as_bytes());
        m.update(v.as_bytes());
    }
    m
}

/// Whether `header` is Twilio's signature of this request (constant-time comparison).
pub fn signature_ok(
    auth_token: &str,
    url: &str,
    params: &[(String, String)],
    header: Option<&str>,
) -> bool {
    let Some(sig) = header.and_then(|h| {
        base64::engine::general_purpose::STANDARD
            .decode(h.trim())
            .ok()
    }) else {
        return false;
    };
    signature_mac(auth_token, url, params)
        .verify_slice(&sig)
        .is_ok()
}

/// What the caller hears next (sans-IO: the handler decides, this writes the TwiML).
#[derive(Debug, Clone, PartialEq)]
pub enum VoiceReply {
    /// Ask for the PIN; `retry`: say why first. `attempt`: wrong entries so far.
    AskPin {
        attempt: u32,
        retry: Option<&'static str>,
    },
    /// Say something and hang up.
    Goodbye(&'static str),
    /// Connect the call to `session` with an attach grant.
    Connect {
        greeting: &'static str,
        stream_url: String,
        session: String,
        grant: String,
    },
}

pub const GREETING: &str =
    "Hello, and thank you for calling. Please enter the interview PIN from your invitation, then press the pound key.";
pub const WRONG_PIN: &str =
    "Sorry, that PIN was not recognised. Please enter it again, then press pound.";
pub const NO_DIGITS: &str = "We did not hear any keys. Please enter your PIN, then press pound.";
pub const TOO_MANY: &str = "Sorry, that PIN could not be matched to an invitation. Please check your invitation and call again. Goodbye.";
pub const RATE_LIMITED: &str = "There have been too many attempts from this number. Please wait a while, then call again. Goodbye.";
pub const EXPIRED: &str =
    "This invitation has expired. Please ask the recruiter for a new one. Goodbye.";
pub const REVOKED: &str =
    "This invitation is no longer valid. Please contact the recruiter. Goodbye.";
pub const COMPLETED: &str =
    "This interview has already been completed. Thank you for your time. Goodbye.";
pub const BUSY: &str =
    "All our interviewers are busy at the moment. Please call again in a few minutes. Goodbye.";
pub const TROUBLE: &str =
    "Sorry, we are having technical trouble. Please try again later. Goodbye.";
pub const CONNECTING: &str = "Thank you. Connecting you to your interview now.";
pub const RECONNECTING: &str = "Welcome back. Reconnecting you to your interview.";

impl VoiceReply {
    pub fn twiml(&self, action: &str) -> String {
        let body = match self {
            VoiceReply::AskPin { attempt, retry } => {
                let say = retry.unwrap_or(GREETING);
                let act = xml_escape(&format!("{action}?attempt={attempt}"));
                // No digits before the timeout: Twilio goes on to the next verb, which comes
                // back with the attempt counted and no `Digits`.
                let again = xml_escape(&format!("{action}?attempt={}&silent=1", attempt + 1));
                format!(
                    "<Gather input=\"dtmf\" finishOnKey=\"#\" timeout=\"{GATHER_TIMEOUT_S}\" action=\"{act}\" method=\"POST\"><Say>{}</Say></Gather><Redirect method=\"POST\">{again}</Redirect>",
                    xml_escape(say)
                )
            }
            VoiceReply::Goodbye(text) => format!("<Say>{}</Say><Hangup/>", xml_escape(text)),
            VoiceReply::Connect {
                greeting,
                stream_url,
                session,
                grant,
            } => format!(
                "<Say>{}</Say><Connect><Stream url=\"{}\"><Parameter name=\"session\" value=\"{}\"/><Parameter name=\"token\" value=\"{}\"/></Stream></Connect>",
                xml_escape(greeting),
                xml_escape(stream_url),
                xml_escape(session),
                xml_escape(grant)
            ),
        };
        format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response>{body}</Response>\n")
    }
}

/// The next step for a PIN entry that matched nothing (or was not a PIN): ask again, or say
/// goodbye after `max` wrong entries.
pub fn wrong_entry(attempt: u32, max: u32, silent: bool) -> VoiceReply {
    let attempt = attempt + 1;
    if attempt >= max.max(1) {
        VoiceReply::Goodbye(TOO_MANY)
    } else {
        VoiceReply::AskPin {
            attempt,
            retry: Some(if silent { NO_DIGITS } else { WRONG_PIN }),
        }
    }
}

/// The URL Twilio signed: `server.public_url` (as configured in Twilio) or `http://<Host>`,
/// then the path and query it requested.
fn signed_url(public_url: &str, host: Option<&str>, path_and_query: &str) -> String {
    let base = public_url.trim_end_matches('/');
    if base.is_empty() {
        format!("http://{}{path_and_query}", host.unwrap_or("127.0.0.1"))
    } else {
        format!("{base}{path_and_query}")
    }
}

fn twiml_response(reply: &VoiceReply) -> Response {
    (
        [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
        reply.twiml(VOICE_PATH),
    )
        .into_response()
}

/// `POST /v1/telephony/twilio/voice`: Twilio's voice webhook for an incoming call.
pub async fn voice_handler(
    State(state): State<Arc<AppState>>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let tel = &state.config.telephony;
    if tel.twilio_auth_token.is_empty() {
        return json_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "telephony_not_configured",
            "dial-in is off on this server: set telephony.twilio_auth_token".into(),
        );
    }
    let params: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let path_and_query = uri.path_and_query().map_or(VOICE_PATH, |p| p.as_str());
    let url = signed_url(&state.config.server.public_url, host, path_and_query);
    let sig = headers
        .get("x-twilio-signature")
        .and_then(|h| h.to_str().ok());
    if !signature_ok(&tel.twilio_auth_token, &url, &params, sig) {
        if let Some(s) = state.sessions.as_ref() {
            s.engines().metrics.count("twilio_forged_webhook");
        }
        tracing::warn!(url = %url, "dial-in webhook refused: X-Twilio-Signature missing or wrong");
        return json_error(
            StatusCode::FORBIDDEN,
            "forged_signature",
            format!("X-Twilio-Signature does not match this request to {url}"),
        );
    }
    let query: Vec<(String, String)> = uri
        .query()
        .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default();
    let get = |list: &[(String, String)], k: &str| {
        list.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
    };
    let attempt: u32 = get(&query, "attempt")
        .and_then(|a| a.parse().ok())
        .unwrap_or(0);
    let silent = get(&query, "silent").is_some();
    let call = get(&params, "CallSid").unwrap_or_default();
    let from = get(&params, "From").unwrap_or_default();
    let span = tracing::info_span!("dial_in", call_sid = %call);
    let _g = span.enter();
    let reply = match get(&params, "Digits") {
        None if attempt == 0 => VoiceReply::AskPin {
            attempt: 0,
            retry: None,
        },
        None => wrong_entry(attempt - 1, tel.pin_attempts, silent),
        Some(digits) => {
            if state
                .pin_limiter
                .check_key(from.clone(), std::time::Instant::now())
                .is_err()
            {
                tracing::warn!(from = %from, "dial-in: too many PIN entries from this number");
                VoiceReply::Goodbye(RATE_LIMITED)
            } else {
                drop(_g);
                let r = pin_entered(&state, digits.trim(), attempt, &headers).await;
                tracing::info!(parent: &span, reply = ?reply_kind(&r), "dial-in PIN entered");
                return twiml_response(&r);
            }
        }
    };
    twiml_response(&reply)
}

fn reply_kind(r: &VoiceReply) -> &'static str {
    match r {
        VoiceReply::AskPin { .. } => "ask again",
        VoiceReply::Goodbye(_) => "goodbye",
        VoiceReply::Connect { .. } => "connect",
    }
}

/// A PIN was typed: find its invite and connect, or say why not.
async fn pin_entered(
    state: &AppState,
    digits: &str,
    attempt: u32,
    headers: &HeaderMap,
) -> VoiceReply {
    let tel = &state.config.telephony;
    let (Some(store), Some(sessions)) = (state.store.as_ref(), state.sessions.as_ref()) else {
        return VoiceReply::Goodbye(TROUBLE);
    };
    // Letters, symbols or the wrong length are a wrong PIN: nothing is looked up.
    if digits.len() != tel.pin_digits.clamp(6, 8) || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return wrong_entry(attempt, tel.pin_attempts, false);
    }
    let now = crate::store::now_ms();
    let lookup = match store.invite_by_pin(digits, now).await {
        Ok(l) => l,
        Err(e) => {
            tracing::error!(error = %e, "dial-in: PIN lookup failed");
            return VoiceReply::Goodbye(TROUBLE);
        }
    };
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let url = stream_url(&state.config.server.public_url, host);
    let connect = |greeting, session: String| VoiceReply::Connect {
        greeting,
        stream_url: url.clone(),
        grant: sessions.grant(&session, now as u64 / 1000),
        session,
    };
    match lookup {
        PinLookup::Unknown => wrong_entry(attempt, tel.pin_attempts, false),
        PinLookup::Revoked => VoiceReply::Goodbye(REVOKED),
        PinLookup::Expired => VoiceReply::Goodbye(EXPIRED),
        PinLookup::Used {
            invite,
            interview_id,
            session_id,
            state: iv_state,
        } => {
            // A dropped call comes back to the interview still running for this invite.
            let live = session_id
                .as_deref()
                .and_then(|id| sessions.get(id))
                .filter(|h| !h.is_ended());
            match (live, iv_state.as_deref()) {
                (Some(h), _) if h.is_attached() => {
                    tracing::warn!(invite = %invite.id, "dial-in: the interview already has a connection");
                    VoiceReply::Goodbye(BUSY)
                }
                (Some(h), _) => {
                    tracing::info!(invite = %invite.id, interview = ?interview_id, session_id = %h.id, "dial-in: rejoining");
                    connect(RECONNECTING, h.id.clone())
                }
                (None, Some("created" | "in_progress")) if invite.expires_at <= now => {
                    VoiceReply::Goodbye(EXPIRED)
                }
                _ => VoiceReply::Goodbye(COMPLETED),
            }
        }
        PinLookup::Open(invite) => {
            if let Err(e) = sessions.admit() {
                tracing::info!(error = %e, "dial-in: no room for a new interview");
                return VoiceReply::Goodbye(BUSY);
            }
            let Ok(Some(invite)) = store.redeem_invite_id(&invite.id, now).await else {
                // Used or revoked between the lookup and now (a second call with the PIN).
                return VoiceReply::Goodbye(COMPLETED);
            };
            let Ok((job, iv)) = crate::gateway::ws::invite_interview(store, &invite, now).await
            else {
                return VoiceReply::Goodbye(TROUBLE);
            };
            match crate::gateway::ws::launch(state, sessions, job, Some(iv.clone())).await {
                Ok(c) => {
                    tracing::info!(invite = %invite.id, interview = %iv, session_id = %c.id, "dial-in: interview started");
                    connect(CONNECTING, c.id)
                }
                Err(
                    crate::session::CreateError::Full { .. }
                    | crate::session::CreateError::Draining { .. },
                ) => VoiceReply::Goodbye(BUSY),
                Err(e) => {
                    tracing::error!(error = %e, "dial-in: the session did not start");
                    VoiceReply::Goodbye(TROUBLE)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(k: &str, v: &str) -> (String, String) {
        (k.to_string(), v.to_string())
    }

    #[test]
    fn signature_matches_twilios_documented_example() {
        // The published vector of Twilio's request-validation libraries.
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        let params = vec![
            p("Digits", "1234"),
            p("To", "+18005551212"),
            p("From", "+14158675309"),
            p("Caller", "+14158675309"),
            p("CallSid", "CA1234567890ABCDE"),
        ];
        let token = "12345";
        let sig = twilio_signature(token, url, &params);
        assert_eq!(sig, "RSOYDt4T1cUTdK1PDd93/VVr8B8=");
        assert!(signature_ok(token, url, &params, Some(&sig)));
        assert!(!signature_ok("other", url, &params, Some(&sig)));
        assert!(!signature_ok(token, url, &params[1..], Some(&sig)));
        assert!(!signature_ok(
            token,
            &format!("{url}&x=1"),
            &params,
            Some(&sig)
        ));
        assert!(!signature_ok(token, url, &params, None));
        assert!(!signature_ok(token, url, &params, Some("not base64!")));
    }

    #[test]
    fn three_wrong_entries_end_the_call() {
        assert_eq!(
            wrong_entry(0, 3, false),
            VoiceReply::AskPin {
                attempt: 1,
                retry: Some(WRONG_PIN)
            }
        );
        assert_eq!(
            wrong_entry(1, 3, true),
            VoiceReply::AskPin {
                attempt: 2,
                retry: Some(NO_DIGITS)
            }
        );
        assert_eq!(wrong_entry(2, 3, false), VoiceReply::Goodbye(TOO_MANY));
    }

    #[test]
    fn the_twiml_gathers_digits_and_connects_with_escaped_parameters() {
        let ask = VoiceReply::AskPin {
            attempt: 1,
            retry: Some(WRONG_PIN),
        }
        .twiml(VOICE_PATH);
        assert!(
            ask.contains("<Gather input=\"dtmf\" finishOnKey=\"#\""),
            "{ask}"
        );
        assert!(
            ask.contains("action=\"/v1/telephony/twilio/voice?attempt=1\""),
            "{ask}"
        );
        assert!(ask.contains("<Redirect method=\"POST\">/v1/telephony/twilio/voice?attempt=2&amp;silent=1</Redirect>"), "{ask}");
        let bye = VoiceReply::Goodbye(EXPIRED).twiml(VOICE_PATH);
        assert!(bye.contains("<Hangup/>") && bye.contains("expired"));
        let c = VoiceReply::Connect {
            greeting: CONNECTING,
            stream_url: "wss://x/v1/telephony/twilio/stream".into(),
            session: "s\"1".into(),
            grant: "g1.1.ab".into(),
        }
        .twiml(VOICE_PATH);
        assert!(
            c.contains("<Parameter name=\"session\" value=\"s&quot;1\"/>"),
            "{c}"
        );
        assert!(
            c.contains("<Parameter name=\"token\" value=\"g1.1.ab\"/>"),
            "{c}"
        );
    }

    #[test]
    fn the_signed_url_is_the_public_one() {
        assert_eq!(
            signed_url(
                "https://viva.example.com/",
                Some("10.0.0.1:8080"),
                "/v1/telephony/twilio/voice?attempt=1"
            ),
            "https://viva.example.com/v1/telephony/twilio/voice?attempt=1"
        );
        assert_eq!(
            signed_url("", Some("127.0.0.1:9"), "/v1/telephony/twilio/voice"),
            "http://127.0.0.1:9/v1/telephony/twilio/voice"
        );
    }
}
