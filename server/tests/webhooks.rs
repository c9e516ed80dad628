//! Webhooks end to end against a local axum receiver on 127.0.0.1, on SQLite and PostgreSQL:
//! `interview.completed` and `report.ready` are written with the change they announce, signed
//! (the receiver verifies the HMAC), retried with exponential backoff when the receiver fails,
//! given up after the configured attempts, and every attempt is in the delivery log.

mod common;

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use common::TestDb;
use viva_server::config::WebhooksConfig;
use viva_server::store::{score_one, seed_demo_job};
use viva_server::webhooks::{deliver_due, verify, SIGNATURE_HEADER};

#[derive(Default)]
struct Received {
    /// (event header, body, signature verified)
    calls: Vec<(String, String, bool)>,
}

struct Receiver {
    url: String,
    state: Arc<Mutex<Received>>,
}

/// A receiver that verifies signatures with `secret` and answers 500 to its first
/// `failures` requests.
async fn receiver(secret: &'static str, failures: usize) -> Receiver {
    let state = Arc::new(Mutex::new(Received::default()));
    let shared = (state.clone(), secret, failures);
    let app = axum::Router::new()
        .route(
            "/hook",
            axum::routing::post(
                |State((state, secret, failures)): State<(
                    Arc<Mutex<Received>>,
                    &'static str,
                    usize,
                )>,
                 headers: HeaderMap,
                 body: Bytes| async move {
                    let sig = headers
                        .get(SIGNATURE_HEADER)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_string();
                    let ok =
                        verify(secret, &sig, &body, viva_server::store::now_ms(), 300_000).is_ok();
                    let event = headers
                        .get("viva-event")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_string();
                    let mut s = state.lock().expect("lock");
                    s.calls
                        .push((event, String::from_utf8_lossy(&body).into_owned(), ok));
                    if s.calls.len() <= failures {
                        StatusCode::INTERNAL_SERVER_ERROR
                    } else if ok {
                        StatusCode::NO_CONTENT
                    } else {
                        StatusCode::UNAUTHORIZED
                    }
                },
            ),
        )
        .with_state(shared);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Receiver {
        url: format!("http://{addr}/hook"),
        state,
    }
}

fn cfg(max_attempts: u32) -> WebhooksConfig {
    WebhooksConfig {
        max_attempts,
        retry_base_ms: 1_000,
        retry_max_ms: 60_000,
        timeout_ms: 5_000,
        ..WebhooksConfig::default()
    }
}

/// One finished, scored interview: one `interview.completed` and one `report.ready` event.
async fn one_scored_interview(db: &TestDb, now: i64) -> String {
    let store = &db.store;
    let job = match seed_demo_job(store, now).await.expect("seed") {
        Some(j) => j.id,
        None => store.list_jobs().await.expect("jobs")[0].id.clone(),
    };
    let cand = store.create_candidate(None, None, now).await.expect("cand");
    let iv = store
        .create_interview(&job, 1, &cand, None, now)
        .await
        .expect("interview");
    store
        .finish_interview(&iv, &common::demo_transcript(), now)
        .await
        .expect("finish");
    assert_eq!(
        score_one(store, "w", now, 60_000).await.expect("score"),
        Some(iv.clone())
    );
    iv
}

async fn signed_events_reach_a_healthy_receiver(db: &TestDb) {
    let rx = receiver("a-very-secret-secret", 0).await;
    let hook = db
        .store
        .create_webhook(
            &rx.url,
            &["report.ready".into(), "interview.completed".into()],
            "a-very-secret-secret",
            1,
        )
        .await
        .expect("webhook");
    // Subscribed only to report.ready.
    let narrow_rx = receiver("another-secret-0000", 0).await;
    db.store
        .create_webhook(
            &narrow_rx.url,
            &["report.ready".into()],
            "another-secret-0000",
            1,
        )
        .await
        .expect("webhook");
    let now = viva_server::store::now_ms();
    let iv = one_scored_interview(db, now).await;
    let sent = deliver_due(&db.store, &cfg(3), "d1", now)
        .await
        .expect("deliver");
    assert_eq!(sent, 3, "two events to one receiver, one to the other");
    assert_eq!(
        deliver_due(&db.store, &cfg(3), "d1", now)
            .await
            .expect("again"),
        0
    );
    let calls = rx.state.lock().expect("lock").calls.clone();
    let mut events: Vec<&str> = calls.iter().map(|c| c.0.as_str()).collect();
    events.sort_unstable();
    assert_eq!(events, vec!["interview.completed", "report.ready"]);
    assert!(calls.iter().all(|c| c.2), "every signature verifies");
    let body = &calls
        .iter()
        .find(|c| c.0 == "report.ready")
        .expect("report.ready")
        .1;
    let report: serde_json::Value = serde_json::from_str(body).expect("json");
    assert_eq!(report["event"], "report.ready");
    assert_eq!(report["data"]["interview_id"], iv.as_str());
    assert_eq!(
        report["data"]["scorer_version"],
        viva_scoring::SCORER_VERSION
    );
    assert!(report["data"]["composite"].is_number());
    let narrow = narrow_rx.state.lock().expect("lock").calls.clone();
    assert_eq!(narrow.len(), 1);
    assert_eq!(narrow[0].0, "report.ready");
    assert!(narrow[0].2);
    let log = db.store.deliveries(&hook.id, 10).await.expect("log");
    assert_eq!(log.len(), 2);
    assert!(log
        .iter()
        .all(|d| d.state == "delivered" && d.attempts == 1));
    assert!(log
        .iter()
        .all(|d| d.log.len() == 1 && d.log[0].status == Some(204)));
}
on_both!(
    healthy_sqlite,
    healthy_postgres,
    signed_events_reach_a_healthy_receiver
);

async fn a_failing_receiver_gets_retries_with_backoff(db: &TestDb) {
    let rx = receiver("retry-secret-000000", 2).await;
    let hook = db
        .store
        .create_webhook(&rx.url, &["report.ready".into()], "retry-secret-000000", 1)
        .await
        .expect("webhook");
    let t0 = viva_server::store::now_ms();
    one_scored_interview(db, t0).await;
    let c = cfg(5);
    assert_eq!(deliver_due(&db.store, &c, "d", t0).await.expect("1st"), 1);
    // Not due again before the backoff has passed.
    assert_eq!(
        deliver_due(&db.store, &c, "d", t0 + 999)
            .await
            .expect("early"),
        0
    );
    assert_eq!(
        deliver_due(&db.store, &c, "d", t0 + 1_000)
            .await
            .expect("2nd"),
        1
    );
    // The second failure doubles the delay: due at t0 + 1 s + 2 s.
    assert_eq!(
        deliver_due(&db.store, &c, "d", t0 + 2_999)
            .await
            .expect("early"),
        0
    );
    assert_eq!(
        deliver_due(&db.store, &c, "d", t0 + 3_000)
            .await
            .expect("3rd"),
        1
    );
    assert_eq!(
        deliver_due(&db.store, &c, "d", t0 + 100_000)
            .await
            .expect("done"),
        0
    );
    let calls = rx.state.lock().expect("lock").calls.clone();
    assert_eq!(calls.len(), 3);
    assert!(calls.iter().all(|c| c.2), "retries are signed too");
    assert!(
        calls.windows(2).all(|w| w[0].1 == w[1].1),
        "retries send the same body"
    );
    let log = db.store.deliveries(&hook.id, 10).await.expect("log");
    assert_eq!(log.len(), 1);
    let d = &log[0];
    assert_eq!(d.state, "delivered");
    assert_eq!(d.attempts, 3);
    let statuses: Vec<Option<i64>> = d.log.iter().map(|a| a.status).collect();
    assert_eq!(statuses, vec![Some(500), Some(500), Some(204)]);
    let at: Vec<i64> = d.log.iter().map(|a| a.at - t0).collect();
    assert_eq!(at, vec![0, 1_000, 3_000]);
}
on_both!(
    retries_sqlite,
    retries_postgres,
    a_failing_receiver_gets_retries_with_backoff
);

async fn deliveries_give_up_after_max_attempts(db: &TestDb) {
    // Nothing listens on port 9 (discard) of 127.0.0.1 here: connection refused.
    let rx = receiver("always-failing-0000", usize::MAX).await;
    let failing = db
        .store
        .create_webhook(
            &rx.url,
            &["interview.completed".into()],
            "always-failing-0000",
            1,
        )
        .await
        .expect("webhook");
    let refused = db
        .store
        .create_webhook(
            "http://127.0.0.1:9/none",
            &["interview.completed".into()],
            "refused-secret-00000",
            1,
        )
        .await
        .expect("webhook");
    let t0 = viva_server::store::now_ms();
    one_scored_interview(db, t0).await;
    let c = cfg(2);
    assert_eq!(deliver_due(&db.store, &c, "d", t0).await.expect("1st"), 2);
    assert_eq!(
        deliver_due(&db.store, &c, "d", t0 + 1_000)
            .await
            .expect("2nd"),
        2
    );
    assert_eq!(
        deliver_due(&db.store, &c, "d", t0 + 1_000_000)
            .await
            .expect("gave up"),
        0
    );
    let d = &db.store.deliveries(&failing.id, 10).await.expect("log")[0];
    assert_eq!((d.state.as_str(), d.attempts), ("failed", 2));
    assert_eq!(d.last_error.as_deref(), Some("HTTP 500"));
    let d = &db.store.deliveries(&refused.id, 10).await.expect("log")[0];
    assert_eq!((d.state.as_str(), d.attempts), ("failed", 2));
    assert!(
        d.log
            .iter()
            .all(|a| a.status.is_none() && a.error.is_some()),
        "{:?}",
        d.log
    );
}
on_both!(
    give_up_sqlite,
    give_up_postgres,
    deliveries_give_up_after_max_attempts
);

async fn configured_webhooks_are_synced(db: &TestDb) {
    let urls = vec![
        "http://127.0.0.1:1/a".to_string(),
        "http://127.0.0.1:1/b".to_string(),
    ];
    let events = vec!["report.ready".to_string()];
    let hooks = db
        .store
        .sync_config_webhooks(&urls, &events, "config-secret", 1)
        .await
        .expect("sync");
    assert_eq!(hooks.len(), 2);
    assert!(hooks.iter().all(|h| h.source == "config"));
    // Again with one URL fewer: stable ids, the removed one retired.
    let again = db
        .store
        .sync_config_webhooks(&urls[..1], &events, "config-secret", 2)
        .await
        .expect("sync");
    assert_eq!(again[0].id, hooks[0].id);
    assert_eq!(db.store.list_webhooks().await.expect("list").len(), 1);
    // A URL of another scheme, a URL without a secret, or an unreadable CA file is a
    // configuration error.
    let bad = WebhooksConfig {
        urls: vec!["ftp://x/".into()],
        secret: "s".into(),
        ..WebhooksConfig::default()
    };
    assert!(viva_server::store::sync_config_webhooks(&db.store, &bad)
        .await
        .is_err());
    let no_secret = WebhooksConfig {
        urls: vec!["http://x/".into()],
        ..WebhooksConfig::default()
    };
    assert!(
        viva_server::store::sync_config_webhooks(&db.store, &no_secret)
            .await
            .is_err()
    );
    let bad_ca = WebhooksConfig {
        urls: vec!["https://x/".into()],
        secret: "s".into(),
        ca_file: "/nonexistent/ca.pem".into(),
        ..WebhooksConfig::default()
    };
    let msg = viva_server::store::sync_config_webhooks(&db.store, &bad_ca)
        .await
        .expect_err("bad CA file")
        .to_string();
    assert!(msg.contains("webhooks.ca_file"), "{msg}");
    let https = WebhooksConfig {
        urls: vec!["https://hooks.example.com/viva".into()],
        secret: "s".into(),
        ..WebhooksConfig::default()
    };
    viva_server::store::sync_config_webhooks(&db.store, &https)
        .await
        .expect("https receivers are accepted");
}
on_both!(
    config_sqlite,
    config_postgres,
    configured_webhooks_are_synced
);

/// An HTTPS receiver on 127.0.0.1 whose certificate (for `localhost` and `127.0.0.1`) is signed
/// by a fresh private CA: (URL, the CA's PEM, what it received). A minimal HTTP/1.1 server over
/// rustls that verifies each request's signature and answers 204 (or 401 when it fails).
async fn https_receiver(secret: &'static str) -> (String, String, Arc<Mutex<Received>>) {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    viva_server::tls::install_crypto_provider();
    let ca_key = KeyPair::generate().expect("ca key");
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("ca params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "viva test CA");
    let ca = ca_params.self_signed(&ca_key).expect("ca cert");
    let leaf_key = KeyPair::generate().expect("leaf key");
    let leaf = CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
        .expect("leaf params")
        .signed_by(&leaf_key, &ca, &ca_key)
        .expect("leaf cert");
    let config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into()),
        )
        .expect("server config");
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let state = Arc::new(Mutex::new(Received::default()));
    let shared = state.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (acceptor, state) = (acceptor.clone(), shared.clone());
            tokio::spawn(async move {
                // A client that does not trust the certificate aborts the handshake here.
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                let head_end = loop {
                    match tls.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                    if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        break i + 4;
                    }
                };
                let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
                let header = |name: &str| {
                    head.lines()
                        .filter_map(|l| l.split_once(':'))
                        .find(|(k, _)| k.trim().eq_ignore_ascii_case(name))
                        .map(|(_, v)| v.trim().to_string())
                        .unwrap_or_default()
                };
                let len: usize = header("content-length").parse().unwrap_or(0);
                while buf.len() < head_end + len {
                    match tls.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                let body = &buf[head_end..head_end + len];
                let ok = verify(
                    secret,
                    &header(SIGNATURE_HEADER),
                    body,
                    viva_server::store::now_ms(),
                    300_000,
                )
                .is_ok();
                state.lock().expect("lock").calls.push((
                    header("viva-event"),
                    String::from_utf8_lossy(body).into_owned(),
                    ok,
                ));
                let status = if ok {
                    "204 No Content"
                } else {
                    "401 Unauthorized"
                };
                let _ = tls
                    .write_all(
                        format!(
                            "HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                        )
                        .as_bytes(),
                    )
                    .await;
                let _ = tls.shutdown().await;
            });
        }
    });
    (format!("https://{addr}/hook"), ca.pem(), state)
}

async fn https_receivers_are_verified_against_the_configured_ca(db: &TestDb) {
    let (url, ca_pem, received) = https_receiver("tls-secret-0000000").await;
    let hook = db
        .store
        .create_webhook(&url, &["report.ready".into()], "tls-secret-0000000", 1)
        .await
        .expect("webhook");
    let t0 = viva_server::store::now_ms();
    one_scored_interview(db, t0).await;

    // System roots only: the private CA is not trusted, so the attempt fails (logged, no
    // panic) and is scheduled again.
    let untrusted = cfg(5);
    assert_eq!(
        deliver_due(&db.store, &untrusted, "d", t0)
            .await
            .expect("1st"),
        1
    );
    assert!(received.lock().expect("lock").calls.is_empty());
    let d = &db.store.deliveries(&hook.id, 10).await.expect("log")[0];
    assert_eq!((d.state.as_str(), d.attempts), ("pending", 1));
    let err = d.log[0].error.clone().unwrap_or_default();
    assert!(d.log[0].status.is_none(), "{:?}", d.log);
    assert!(
        err.to_lowercase().contains("certificate"),
        "the log says why: {err}"
    );

    // With the CA file the retry is delivered over TLS and the signature verifies.
    let dir = tempfile::tempdir().expect("tmp");
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, &ca_pem).expect("write");
    let trusted = WebhooksConfig {
        ca_file: ca_file.display().to_string(),
        ..cfg(5)
    };
    assert_eq!(
        deliver_due(&db.store, &trusted, "d", t0 + 1_000)
            .await
            .expect("retry"),
        1
    );
    let calls = received.lock().expect("lock").calls.clone();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].0, "report.ready");
    assert!(calls[0].2, "the signature verifies");
    let d = &db.store.deliveries(&hook.id, 10).await.expect("log")[0];
    assert_eq!((d.state.as_str(), d.attempts), ("delivered", 2));
    let statuses: Vec<Option<i64>> = d.log.iter().map(|a| a.status).collect();
    assert_eq!(statuses, vec![None, Some(204)]);
}
on_both!(
    https_sqlite,
    https_postgres,
    https_receivers_are_verified_against_the_configured_ca
);
