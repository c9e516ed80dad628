//! Webhook delivery: `interview.completed` and `report.ready`, HMAC-SHA256 signed, retried with
//! exponential backoff, every attempt logged (see `docs/webhooks.md`).
//!
//! The pure parts ([`sign`], [`verify`], [`backoff_ms`]) are separate from the IO
//! ([`deliver_one`], [`run`]). The HTTP client is a deliberately small HTTP/1.1 `POST` over a
//! TCP stream (`http://` only): the workspace has no TLS stack and a webhook needs one request
//! and a status line; an `https://` receiver is reached through a local TLS proxy (documented).

use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::config::WebhooksConfig;
use crate::store::{now_ms, AttemptOutcome, DeliveryJob, Store, StoreError};

/// The request header carrying `t=<unix ms>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
pub const SIGNATURE_HEADER: &str = "viva-signature";

/// `t=…,v1=…` for `body` signed at `timestamp_ms`.
pub fn sign(secret: &str, timestamp_ms: i64, body: &[u8]) -> String {
    format!(
        "t={timestamp_ms},v1={}",
        hex::encode(mac(secret, timestamp_ms, body))
    )
}

fn mac(secret: &str, timestamp_ms: i64, body: &[u8]) -> Vec<u8> {
    // HMAC accepts keys of any length; new_from_slice cannot fail for it.
    let mut m = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(m) => m,
        Err(_) => return Vec::new(),
    };
    m.update(timestamp_ms.to_string().as_bytes());
    m.update(b".");
    m.update(body);
    m.finalize().into_bytes().to_vec()
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum VerifyError {
    #[error("malformed signature header")]
    Malformed,
    #[error("signature does not match")]
    Mismatch,
    #[error("timestamp outside the tolerance")]
    Stale,
}

/// What a receiver does: checks the header against the body, rejecting timestamps more than
/// `tolerance_ms` from `now_ms` (replays). Constant-time comparison.
pub fn verify(
    secret: &str,
    header: &str,
    body: &[u8],
    now_ms: i64,
    tolerance_ms: i64,
) -> Result<(), VerifyError> {
    let mut t = None;
    let mut v1 = None;
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => t = v.parse::<i64>().ok(),
            Some(("v1", v)) => v1 = hex::decode(v).ok(),
            _ => {}
        }
    }
    let (Some(t), Some(v1)) = (t, v1) else {
        return Err(VerifyError::Malformed);
    };
    if (now_ms - t).abs() > tolerance_ms {
        return Err(VerifyError::Stale);
    }
    let mut m =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).map_err(|_| VerifyError::Malformed)?;
    m.update(t.to_string().as_bytes());
    m.update(b".");
    m.update(body);
    m.verify_slice(&v1).map_err(|_| VerifyError::Mismatch)
}

/// Delay before attempt `attempt + 1` after `attempt` failures: base × 2^(attempt−1), capped.
pub fn backoff_ms(attempt: i64, base_ms: i64, max_ms: i64) -> i64 {
    let exp = u32::try_from(attempt.saturating_sub(1).clamp(0, 40)).unwrap_or(40);
    base_ms.saturating_mul(1i64 << exp).min(max_ms)
}

#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("only http:// webhook URLs are supported (put a TLS proxy in front for https)")]
    Scheme,
    #[error("bad URL: {0}")]
    Url(String),
    #[error("connection: {0}")]
    Io(#[from] std::io::Error),
    #[error("timed out")]
    Timeout,
    #[error("unreadable response")]
    Response,
}

/// Splits `http://host[:port][/path]` into (host:port, host, path).
fn split_url(url: &str) -> Result<(String, String, String), SendError> {
    let rest = url.strip_prefix("http://").ok_or(SendError::Scheme)?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    if authority.is_empty()
        || authority.contains('@')
        || path.contains(|c: char| c.is_whitespace() || c.is_control())
    {
        return Err(SendError::Url(url.into()));
    }
    let addr = if authority
        .rsplit_once(':')
        .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
    {
        authority.to_string()
    } else {
        format!("{authority}:80")
    };
    Ok((addr, authority.to_string(), path.to_string()))
}

/// Checks a URL a recruiter gives (same rules the sender applies).
pub fn check_url(url: &str) -> Result<(), SendError> {
    split_url(url).map(|_| ())
}

/// One signed POST; returns the response status.
pub async fn post(
    url: &str,
    headers: &[(&str, String)],
    body: &[u8],
    timeout: Duration,
) -> Result<u16, SendError> {
    let (addr, host, path) = split_url(url)?;
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect(&addr).await?;
        let mut head = format!(
            "POST {path} HTTP/1.1\r\nhost: {host}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\nuser-agent: viva/{}\r\n",
            body.len(),
            env!("CARGO_PKG_VERSION")
        );
        for (k, v) in headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        stream.write_all(head.as_bytes()).await?;
        stream.write_all(body).await?;
        stream.flush().await?;
        // The status line is all we need; read a bounded prefix of the response.
        let mut buf = vec![0u8; 1024];
        let mut n = 0;
        while n < buf.len() {
            let got = stream.read(&mut buf[n..]).await?;
            if got == 0 || buf[..n + got].windows(2).any(|w| w == b"\r\n") {
                n += got;
                break;
            }
            n += got;
        }
        let line = String::from_utf8_lossy(&buf[..n]);
        line.split_whitespace()
            .nth(1)
            .and_then(|s| s.parse::<u16>().ok())
            .filter(|_| line.starts_with("HTTP/1."))
            .ok_or(SendError::Response)
    };
    tokio::time::timeout(timeout, exchange)
        .await
        .map_err(|_| SendError::Timeout)?
}

/// Sends one claimed delivery and records the outcome. Returns whether it was delivered.
pub async fn deliver_one(
    store: &Store,
    cfg: &WebhooksConfig,
    worker: &str,
    job: &DeliveryJob,
    now: i64,
) -> Result<bool, StoreError> {
    let span = tracing::info_span!("webhook", delivery = %job.id, event = %job.event, attempt = job.attempts + 1);
    let _e = span.enter();
    let signature = sign(&job.secret, now, job.payload.as_bytes());
    let headers = [
        (SIGNATURE_HEADER, signature),
        ("viva-event", job.event.clone()),
        ("viva-delivery", job.id.clone()),
    ];
    let timeout = Duration::from_millis(u64::try_from(cfg.timeout_ms).unwrap_or(10_000));
    let outcome = post(&job.url, &headers, job.payload.as_bytes(), timeout).await;
    let attempt = job.attempts + 1;
    let (status, error) = match &outcome {
        Ok(s) => (
            Some(*s),
            (!(200..300).contains(s)).then(|| format!("HTTP {s}")),
        ),
        Err(e) => (None, Some(e.to_string())),
    };
    let delivered = error.is_none();
    let retry_at = (!delivered && attempt < i64::from(cfg.max_attempts))
        .then(|| now.saturating_add(backoff_ms(attempt, cfg.retry_base_ms, cfg.retry_max_ms)));
    match (&error, retry_at) {
        (None, _) => tracing::info!(url = %job.url, "webhook delivered"),
        (Some(e), Some(at)) => {
            tracing::warn!(error = %e, retry_in_ms = at - now, "webhook failed; will retry")
        }
        (Some(e), None) => tracing::warn!(error = %e, "webhook failed; giving up"),
    }
    let outcome = AttemptOutcome {
        status,
        error,
        retry_at,
    };
    store.record_attempt(job, worker, now, &outcome).await?;
    Ok(delivered)
}

/// Sends every delivery due at `now`; returns how many were attempted.
pub async fn deliver_due(
    store: &Store,
    cfg: &WebhooksConfig,
    worker: &str,
    now: i64,
) -> Result<usize, StoreError> {
    let lease = cfg.timeout_ms.saturating_mul(3).max(30_000);
    let mut n = 0;
    while let Some(job) = store.claim_delivery(worker, now, lease).await? {
        deliver_one(store, cfg, worker, &job, now).await?;
        n += 1;
    }
    Ok(n)
}

/// The delivery loop of a server or `viva worker`: polls every `poll_ms`.
pub async fn run(store: Store, cfg: WebhooksConfig, worker: String, poll_ms: u64) {
    loop {
        match deliver_due(&store, &cfg, &worker, now_ms()).await {
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "webhook worker"),
        }
        tokio::time::sleep(Duration::from_millis(poll_ms.max(50))).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_and_tampering_is_caught() {
        let body = br#"{"event":"report.ready"}"#;
        let h = sign("s3cret", 1_000, body);
        assert!(h.starts_with("t=1000,v1="));
        assert_eq!(verify("s3cret", &h, body, 1_500, 300_000), Ok(()));
        assert_eq!(
            verify("other", &h, body, 1_500, 300_000),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(
            verify("s3cret", &h, b"{}", 1_500, 300_000),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(
            verify("s3cret", &h, body, 1_000 + 300_001, 300_000),
            Err(VerifyError::Stale)
        );
        assert_eq!(
            verify("s3cret", "v1=zz", body, 1_000, 300_000),
            Err(VerifyError::Malformed)
        );
        // Changing the timestamp breaks the signature (it is signed too).
        let forged = h.replacen("t=1000", "t=1001", 1);
        assert_eq!(
            verify("s3cret", &forged, body, 1_001, 300_000),
            Err(VerifyError::Mismatch)
        );
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        let d: Vec<i64> = (1..=6).map(|a| backoff_ms(a, 1_000, 10_000)).collect();
        assert_eq!(d, vec![1_000, 2_000, 4_000, 8_000, 10_000, 10_000]);
        assert_eq!(backoff_ms(1_000, 1_000, 3_600_000), 3_600_000);
    }

    #[test]
    fn urls_are_checked() {
        assert_eq!(
            split_url("http://127.0.0.1:9000/hook").expect("url"),
            (
                "127.0.0.1:9000".into(),
                "127.0.0.1:9000".into(),
                "/hook".into()
            )
        );
        assert_eq!(
            split_url("http://example.com").expect("url").0,
            "example.com:80"
        );
        assert!(matches!(split_url("https://x/"), Err(SendError::Scheme)));
        assert!(split_url("http:///x").is_err());
        assert!(split_url("http://a/b c").is_err());
        assert!(split_url("http://u:p@a/").is_err());
    }
}
