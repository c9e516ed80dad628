//! `GET /v1/interviews/{id}/recording`: the interview's audio, streamed, with HTTP Range so a
//! player can seek (`206 Partial Content`, `Accept-Ranges: bytes`; an unsatisfiable or
//! malformed range is `416` with `Content-Range: bytes */LEN`; several ranges at once are
//! answered with the whole file, which RFC 9110 allows).
//!
//! The recording is found through the database (interview → object key → a checked path under
//! the recordings folder, or the key under the object store's prefix): the URL never names a
//! path, and a malformed id or key is refused before the file system or the store is touched.
//! With an object store the requested range is read with a ranged `GET` and streamed through.
//!
//! Auth: a bearer token (a recruiter's, or the candidate's own invite token), or a short-lived
//! signed link from `POST /v1/interviews/{id}/recording/link` (recruiters): `?exp=<unix
//! seconds>&sig=<hex HMAC-SHA256(secret, "<id>.<exp>")>`, so that an `<audio src>`, which
//! cannot send a header, streams with Range requests. The secret is the deployment's
//! `recording_links` server secret (made on first use, kept in the database). A forged or
//! malformed signature is 403, an expired one 401; the comparison is constant-time.

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use serde_json::{json, Value};
use sha2::Sha256;

use super::{bearer_of, check_id, principal, ApiError, ApiResult};
use crate::store::{now_ms, Store};

/// How long a signed recording link is valid. The player asks for a new one when it expires
/// while a recording is open.
pub const LINK_TTL_S: i64 = 30 * 60;
/// The name of the server secret that signs recording links.
const LINK_SECRET: &str = "recording_links";

fn link_mac(secret: &str, id: &str, exp: i64) -> Hmac<Sha256> {
    // HMAC takes a key of any length: this cannot fail.
    let mut m = Hmac::<Sha256>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
    m.update(id.as_bytes());
    m.update(b".");
    m.update(exp.to_string().as_bytes());
    m
}

/// The hex signature of a link to `id`'s recording valid until `exp` (unix seconds).
pub fn sign_link(secret: &str, id: &str, exp: i64) -> String {
    hex::encode(link_mac(secret, id, exp).finalize().into_bytes())
}

/// Why a signed link is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkError {
    /// Missing, malformed or wrong signature (403).
    Forged,
    /// A valid signature past its time (401).
    Expired,
}

/// Checks a link's `exp` and `sig` for `id` at `now_s` (constant-time signature comparison).
pub fn verify_link(
    secret: &str,
    id: &str,
    exp: &str,
    sig: &str,
    now_s: i64,
) -> Result<(), LinkError> {
    let exp_n: i64 = match exp.parse() {
        Ok(n) if !exp.is_empty() && exp.bytes().all(|b| b.is_ascii_digit()) => n,
        _ => return Err(LinkError::Forged),
    };
    let sig = hex::decode(sig).map_err(|_| LinkError::Forged)?;
    link_mac(secret, id, exp_n)
        .verify_slice(&sig)
        .map_err(|_| LinkError::Forged)?;
    if now_s > exp_n {
        return Err(LinkError::Expired);
    }
    Ok(())
}

/// A signed link's query.
#[derive(Debug, Default, Deserialize)]
pub(super) struct LinkQuery {
    exp: Option<String>,
    sig: Option<String>,
}

/// The auth step of the recording route: a signed link, else a bearer token that may read it.
async fn authorize(store: &Store, id: &str, q: &LinkQuery, headers: &HeaderMap) -> ApiResult<()> {
    if q.exp.is_none() && q.sig.is_none() {
        return principal(store, bearer_of(headers)).await?.may_read(id);
    }
    let secret = store.server_secret(LINK_SECRET).await?;
    let (exp, sig) = (
        q.exp.as_deref().unwrap_or(""),
        q.sig.as_deref().unwrap_or(""),
    );
    verify_link(&secret, id, exp, sig, now_ms() / 1000).map_err(|e| match e {
        LinkError::Forged => ApiError::new(
            StatusCode::FORBIDDEN,
            "bad_signature",
            "this recording link is not valid",
        ),
        LinkError::Expired => ApiError::new(
            StatusCode::UNAUTHORIZED,
            "link_expired",
            "this recording link has expired; ask for a new one",
        ),
    })
}

/// `POST /v1/interviews/{id}/recording/link` (recruiters): a short-lived signed URL.
pub(super) async fn create_link(
    State(store): State<Store>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    check_id(&id)?;
    store.recording(&id).await?;
    let secret = store.server_secret(LINK_SECRET).await?;
    let exp = now_ms() / 1000 + LINK_TTL_S;
    let sig = sign_link(&secret, &id, exp);
    Ok(Json(json!({
        "url": format!("/v1/interviews/{id}/recording?exp={exp}&sig={sig}"),
        "expires_at": exp * 1000,
    })))
}

/// What a `Range` header asks of a file of `len` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeAnswer {
    /// No range (or several): the whole file, 200.
    Full,
    /// Bytes `start..=end`, 206.
    Partial { start: u64, end: u64 },
    /// 416.
    Unsatisfiable,
}

/// Parses a single `bytes=` range against the file's length (RFC 9110 §14.1.2).
pub fn parse_range(header: Option<&str>, len: u64) -> RangeAnswer {
    let Some(h) = header else {
        return RangeAnswer::Full;
    };
    let h = h.trim();
    let Some(spec) = h.strip_prefix("bytes=") else {
        // A range unit we do not know (`items=0-1`) is ignored, as RFC 9110 §14.2 says: the
        // whole recording. Only a malformed `bytes` range is unsatisfiable.
        return match h.split_once('=') {
            Some((unit, _)) if !unit.trim().eq_ignore_ascii_case("bytes") => RangeAnswer::Full,
            _ => RangeAnswer::Unsatisfiable,
        };
    };
    if spec.contains(',') {
        return RangeAnswer::Full;
    }
    let Some((a, b)) = spec.trim().split_once('-') else {
        return RangeAnswer::Unsatisfiable;
    };
    let (a, b) = (a.trim(), b.trim());
    let num = |s: &str| -> Option<u64> {
        (!s.is_empty() && s.bytes().all(|c| c.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    match (a.is_empty(), b.is_empty()) {
        // bytes=-N: the last N bytes.
        (true, false) => match num(b) {
            Some(n) if n > 0 && len > 0 => RangeAnswer::Partial {
                start: len.saturating_sub(n),
                end: len - 1,
            },
            _ => RangeAnswer::Unsatisfiable,
        },
        // bytes=N-: from N to the end.
        (false, true) => match num(a) {
            Some(s) if s < len => RangeAnswer::Partial {
                start: s,
                end: len - 1,
            },
            _ => RangeAnswer::Unsatisfiable,
        },
        (false, false) => match (num(a), num(b)) {
            (Some(s), Some(e)) if s <= e && s < len => RangeAnswer::Partial {
                start: s,
                end: e.min(len - 1),
            },
            _ => RangeAnswer::Unsatisfiable,
        },
        (true, true) => RangeAnswer::Unsatisfiable,
    }
}

pub(super) async fn get_recording(
    State(store): State<Store>,
    Path(id): Path<String>,
    Query(link): Query<LinkQuery>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    check_id(&id)?;
    authorize(&store, &id, &link, &headers).await?;
    let (key, content_type) = store.recording(&id).await?;
    let Some(rec) = store.recordings() else {
        return Err(ApiError::not_found("recording"));
    };
    // The local file while its upload is pending, else the object (a HEAD for the length).
    let Some(recording) = rec.open(&key).await? else {
        return Err(ApiError::not_found("recording"));
    };
    let len = recording.len();
    let range = headers.get(header::RANGE).and_then(|v| v.to_str().ok());
    let (status, start, count, content_range) = match parse_range(range, len) {
        RangeAnswer::Full => (StatusCode::OK, 0, len, None),
        RangeAnswer::Partial { start, end } => (
            StatusCode::PARTIAL_CONTENT,
            start,
            end - start + 1,
            Some(format!("bytes {start}-{end}/{len}")),
        ),
        RangeAnswer::Unsatisfiable => {
            let mut resp = ApiError::new(
                StatusCode::RANGE_NOT_SATISFIABLE,
                "range_not_satisfiable",
                format!("the recording has {len} bytes"),
            )
            .into_response();
            if let Ok(v) = HeaderValue::from_str(&format!("bytes */{len}")) {
                resp.headers_mut().insert(header::CONTENT_RANGE, v);
            }
            return Ok(resp);
        }
    };
    // Streamed in chunks (a ranged GET from the object store, or reads of the local file):
    // a long interview is never held in memory.
    let stream = rec.stream(recording, start, count).await?;
    let mut resp = Response::new(Body::from_stream(stream));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    if let Ok(v) = HeaderValue::from_str(&content_type) {
        h.insert(header::CONTENT_TYPE, v);
    }
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(count));
    if let Some(cr) = content_range.and_then(|c| HeaderValue::from_str(&c).ok()) {
        h.insert(header::CONTENT_RANGE, cr);
    }
    Ok(resp.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_links() {
        let exp = 1_000_000;
        let sig = sign_link("k", "iv1", exp);
        assert_eq!(sig.len(), 64);
        assert_eq!(verify_link("k", "iv1", "1000000", &sig, exp - 5), Ok(()));
        assert_eq!(verify_link("k", "iv1", "1000000", &sig, exp), Ok(()));
        assert_eq!(
            verify_link("k", "iv1", "1000000", &sig, exp + 1),
            Err(LinkError::Expired)
        );
        // Another interview, another time, another secret, a changed or malformed signature.
        assert_eq!(
            verify_link("k", "iv2", "1000000", &sig, 0),
            Err(LinkError::Forged)
        );
        assert_eq!(
            verify_link("k", "iv1", "1000001", &sig, 0),
            Err(LinkError::Forged)
        );
        assert_eq!(
            verify_link("other", "iv1", "1000000", &sig, 0),
            Err(LinkError::Forged)
        );
        let mut flipped = sig.clone().into_bytes();
        flipped[0] = if flipped[0] == b'0' { b'1' } else { b'0' };
        let flipped = String::from_utf8(flipped).unwrap();
        for bad in [flipped.as_str(), "", "zz", &sig[..10]] {
            assert_eq!(
                verify_link("k", "iv1", "1000000", bad, 0),
                Err(LinkError::Forged),
                "{bad}"
            );
        }
        for bad_exp in ["", "-1", "+1000000", "1e6", "99999999999999999999999"] {
            assert_eq!(
                verify_link("k", "iv1", bad_exp, &sig, 0),
                Err(LinkError::Forged),
                "{bad_exp}"
            );
        }
    }

    #[test]
    fn ranges() {
        use RangeAnswer::*;
        assert_eq!(parse_range(None, 10), Full);
        assert_eq!(
            parse_range(Some("bytes=0-3"), 10),
            Partial { start: 0, end: 3 }
        );
        assert_eq!(
            parse_range(Some("bytes=4-"), 10),
            Partial { start: 4, end: 9 }
        );
        assert_eq!(
            parse_range(Some("bytes=-3"), 10),
            Partial { start: 7, end: 9 }
        );
        assert_eq!(
            parse_range(Some("bytes=-30"), 10),
            Partial { start: 0, end: 9 }
        );
        assert_eq!(
            parse_range(Some("bytes=5-100"), 10),
            Partial { start: 5, end: 9 }
        );
        assert_eq!(parse_range(Some("bytes=0-1,4-5"), 10), Full);
        // Unknown units are ignored: the whole file (200), not 416.
        assert_eq!(parse_range(Some("items=0-1"), 10), Full);
        for bad in [
            "bytes=10-",
            "bytes=10-12",
            "bytes=5-4",
            "bytes=-0",
            "bytes=-",
            "bytes=a-b",
            "bytes=+1-2",
            "bytes=0",
            "bytes",
        ] {
            assert_eq!(parse_range(Some(bad), 10), Unsatisfiable, "{bad}");
        }
        assert_eq!(parse_range(Some("bytes=0-"), 0), Unsatisfiable);
    }
}
