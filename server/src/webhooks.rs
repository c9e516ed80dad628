//! Webhook delivery: `interview.completed` and `report.ready`, HMAC-SHA256 signed, retried with
//! exponential backoff, every attempt logged (see `docs/webhooks.md`).
//!
//! The pure parts ([`sign`], [`verify`], [`backoff_ms`]) are separate from the IO
//! ([`deliver_one`], [`run`]). Requests go out through reqwest — the HTTP client the S3 object
//! store already brings — over `http://` or `https://` (rustls; the system's roots plus an
//! optional private CA, `webhooks.ca_file`). Redirects are not followed: a 3xx is a failed
//! attempt, like any other non-2xx answer, so a signed body never lands somewhere unexpected.

use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;

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
    #[error("only http:// and https:// webhook URLs are supported")]
    Scheme,
    #[error("bad URL: {0}")]
    Url(String),
    #[error("webhooks.ca_file {path}: {message}")]
    CaFile { path: String, message: String },
    #[error("HTTP client: {0}")]
    Client(String),
    #[error("{0}")]
    Request(String),
    #[error("timed out")]
    Timeout,
}

/// Checks a URL a recruiter gives: `http://` or `https://`, a host, no credentials, no
/// whitespace or control characters.
pub fn check_url(url: &str) -> Result<(), SendError> {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .ok_or(SendError::Scheme)?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.is_empty()
        || authority.contains('@')
        || url.contains(|c: char| c.is_whitespace() || c.is_control())
    {
        return Err(SendError::Url(url.into()));
    }
    let parsed = reqwest::Url::parse(url).map_err(|e| SendError::Url(format!("{url}: {e}")))?;
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(SendError::Url(url.into()));
    }
    Ok(())
}

/// The webhook HTTP client of `cfg`: rustls with the system's roots, plus the certificates of
/// `webhooks.ca_file` when set; no redirects; `timeout_ms` per attempt.
pub fn client(cfg: &WebhooksConfig) -> Result<reqwest::Client, SendError> {
    crate::tls::install_crypto_provider();
    let timeout = Duration::from_millis(u64::try_from(cfg.timeout_ms).unwrap_or(10_000).max(1));
    let mut b = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .connect_timeout(timeout)
        .user_agent(concat!("viva/", env!("CARGO_PKG_VERSION")));
    if !cfg.ca_file.trim().is_empty() {
        let path = cfg.ca_file.trim();
        let err = |message: String| SendError::CaFile {
            path: path.to_string(),
            message,
        };
        let pem = std::fs::read(path).map_err(|e| err(e.to_string()))?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| err(e.to_string()))?;
        if certs.is_empty() {
            return Err(err("no PEM certificate in the file".into()));
        }
        b = b.tls_certs_merge(certs);
    }
    b.build().map_err(|e| SendError::Client(error_chain(&e)))
}

/// An error with its causes ("error sending request: … : invalid peer certificate: …"), so
/// the delivery log says why a TLS handshake failed.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut msg = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let part = s.to_string();
        if !msg.contains(&part) {
            msg.push_str(": ");
            msg.push_str(&part);
        }
        source = s.source();
    }
    msg
}

/// One signed POST; returns the response status.
pub async fn post(
    client: &reqwest::Client,
    url: &str,
    headers: &[(&str, String)],
    body: &[u8],
) -> Result<u16, SendError> {
    check_url(url)?;
    let mut req = client
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body.to_vec());
    for (k, v) in headers {
        req = req.header(*k, v);
    }
    match req.send().await {
        Ok(resp) => Ok(resp.status().as_u16()),
        Err(e) if e.is_timeout() => Err(SendError::Timeout),
        Err(e) => Err(SendError::Request(error_chain(&e))),
    }
}

/// Sends one claimed delivery and records the outcome. Returns whether it was delivered.
pub async fn deliver_one(
    store: &Store,
    cfg: &WebhooksConfig,
    client: Result<&reqwest::Client, &SendError>,
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
    let outcome = match client {
        Ok(client) => post(client, &job.url, &headers, job.payload.as_bytes()).await,
        Err(e) => Err(SendError::Client(e.to_string())),
    };
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
    // Built when there is something to send (it reads the system's roots and the CA file); a
    // client that cannot be built (an unreadable CA file) is a failed, logged attempt.
    let mut sender: Option<Result<reqwest::Client, SendError>> = None;
    while let Some(job) = store.claim_delivery(worker, now, lease).await? {
        let http = sender.get_or_insert_with(|| client(cfg)).as_ref();
        deliver_one(store, cfg, http, worker, &job, now).await?;
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
        for good in [
            "http://127.0.0.1:9000/hook",
            "http://example.com",
            "https://hooks.example.com/viva?x=1",
            "https://[::1]:8443/h",
        ] {
            assert!(check_url(good).is_ok(), "{good}");
        }
        assert!(matches!(check_url("ftp://x/"), Err(SendError::Scheme)));
        assert!(matches!(check_url("x/"), Err(SendError::Scheme)));
        for bad in [
            "http:///x",
            "https://",
            "http://a/b c",
            "http://u:p@a/",
            "https://a\n/",
        ] {
            assert!(matches!(check_url(bad), Err(SendError::Url(_))), "{bad}");
        }
    }

    #[test]
    fn a_bad_ca_file_is_a_clear_error() {
        let dir = tempfile::tempdir().expect("tmp");
        let missing = WebhooksConfig {
            ca_file: dir.path().join("none.pem").display().to_string(),
            ..WebhooksConfig::default()
        };
        let msg = client(&missing).expect_err("missing").to_string();
        assert!(msg.contains("webhooks.ca_file"), "{msg}");
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").expect("write");
        let bad = WebhooksConfig {
            ca_file: empty.display().to_string(),
            ..WebhooksConfig::default()
        };
        let msg = client(&bad).expect_err("no cert").to_string();
        assert!(msg.contains("no PEM certificate"), "{msg}");
        assert!(client(&WebhooksConfig::default()).is_ok());
    }
}
