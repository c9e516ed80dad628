//! Recordings in an S3-compatible object store, against a real S3 protocol peer: moto's
//! standalone server (`moto_server`, installed by `scripts/setup.sh` into
//! `~/.cache/viva/moto-venv`, or `VIVA_S3_SERVER`), started here on a free port. Covered: a
//! filed interview's recording is uploaded (multipart: it is larger than one part) and the
//! local file removed; the API serves it with HTTP Range (206, the right bytes) read from the
//! store; erasure deletes the object; an upload that failed because the store was unreachable
//! is retried and succeeds once the store is up, and until then the API serves the local file.
//!
//! Without the server the tests are skipped with a visible message, except under `make test`
//! (`VIVA_REQUIRE_MODELS=1`), where they fail.

mod common;

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use tower::ServiceExt;
use viva_server::config::StorageConfig;
use viva_server::store::{link, now_ms, seed_demo_job, RecordingStore, Store};

const BUCKET: &str = "viva-test";

fn moto_binary() -> Option<PathBuf> {
    let path = std::env::var_os("VIVA_S3_SERVER")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .map(|h| PathBuf::from(h).join(".cache/viva/moto-venv/bin/moto_server"))
        })?;
    if path.is_file() {
        return Some(path);
    }
    assert!(
        std::env::var("VIVA_REQUIRE_MODELS").as_deref() != Ok("1"),
        "the S3 test server is missing ({}); run scripts/setup.sh (it installs moto[server])",
        path.display()
    );
    eprintln!(
        "SKIPPED: object-store tests — no S3 test server at {} (run scripts/setup.sh)",
        path.display()
    );
    None
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

/// A running moto server; killed when dropped.
struct S3Server {
    child: Child,
    endpoint: String,
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn http() -> reqwest::Client {
    viva_server::tls::install_crypto_provider();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client")
}

async fn start_s3(bin: &PathBuf, port: u16) -> S3Server {
    let child = Command::new(bin)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start moto_server");
    let server = S3Server {
        child,
        endpoint: format!("http://127.0.0.1:{port}"),
    };
    let client = http();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        // Creating the bucket doubles as the readiness probe.
        match client
            .put(format!("{}/{BUCKET}", server.endpoint))
            .send()
            .await
        {
            Ok(r) if r.status().is_success() => break,
            Ok(r) => panic!("creating the bucket: HTTP {}", r.status()),
            Err(_) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(200)).await
            }
            Err(e) => panic!("moto_server did not come up on port {port}: {e}"),
        }
    }
    server
}

fn storage(dir: &std::path::Path, endpoint: &str) -> StorageConfig {
    StorageConfig {
        data_dir: dir.to_path_buf(),
        recordings: "s3".into(),
        s3_bucket: BUCKET.into(),
        s3_endpoint: endpoint.into(),
        s3_region: "us-east-1".into(),
        s3_prefix: "viva/recordings".into(),
        s3_access_key_id: "testing".into(),
        s3_secret_access_key: "testing".into(),
        s3_timeout_ms: 3_000,
        ..StorageConfig::default()
    }
}

async fn store_with(dir: &std::path::Path, cfg: &StorageConfig) -> Store {
    let url = format!("sqlite://{}?mode=rwc", dir.join("viva.db").display());
    let rec = RecordingStore::from_config(cfg).expect("s3 recording store");
    assert!(rec.is_remote());
    Store::connect(&url)
        .await
        .expect("sqlite")
        .with_recordings(rec)
}

/// The object as S3 has it, read by a client of its own (not through viva's store):
/// (HTTP-like status, bytes).
async fn object(endpoint: &str, key: &str) -> (u16, Vec<u8>) {
    use object_store::ObjectStoreExt;
    let s3 = object_store::aws::AmazonS3Builder::new()
        .with_bucket_name(BUCKET)
        .with_endpoint(endpoint)
        .with_allow_http(true)
        .with_region("us-east-1")
        .with_access_key_id("testing")
        .with_secret_access_key("testing")
        .build()
        .expect("s3 client");
    let path = object_store::path::Path::from(format!("viva/recordings/{key}"));
    match s3.get(&path).await {
        Ok(got) => (200, got.bytes().await.expect("body").to_vec()),
        Err(object_store::Error::NotFound { .. }) => (404, Vec::new()),
        Err(e) => panic!("GET {path}: {e}"),
    }
}

/// A voice interview as a live session leaves it (linked, recording + turns.json in the
/// session folder), not yet filed: (interview, candidate, session folder, audio).
async fn live_interview(store: &Store, len: usize) -> (String, String, PathBuf, Vec<u8>) {
    let job = match seed_demo_job(store, 1).await.expect("seed") {
        Some(j) => j.id,
        None => store.list_jobs().await.expect("jobs")[0].id.clone(),
    };
    let cand = store
        .create_candidate(None, None, now_ms())
        .await
        .expect("candidate");
    let iv = store
        .create_interview(&job, 1, &cand, None, now_ms())
        .await
        .expect("interview");
    let session = format!("s-{iv}");
    link::start_session_interview(store, &iv, &session)
        .await
        .expect("link");
    let dir = store
        .recordings()
        .expect("recordings")
        .root()
        .join(&session);
    std::fs::create_dir_all(&dir).expect("mkdir");
    let audio: Vec<u8> = (0..len as u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(dir.join("recording.wav"), &audio).expect("write");
    std::fs::write(
        dir.join("turns.json"),
        serde_json::to_vec(&common::demo_transcript()).expect("json"),
    )
    .expect("write");
    (iv, cand, dir, audio)
}

async fn get(
    router: &axum::Router,
    path: &str,
    token: &str,
    range: Option<&str>,
) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let mut req = Request::builder()
        .method("GET")
        .uri(path)
        .header("authorization", format!("Bearer {token}"));
    if let Some(r) = range {
        req = req.header("range", r);
    }
    let resp = router
        .clone()
        .oneshot(req.body(Body::empty()).expect("request"))
        .await
        .expect("response");
    let (status, headers) = (resp.status(), resp.headers().clone());
    let body = axum::body::to_bytes(resp.into_body(), 64 << 20)
        .await
        .expect("body")
        .to_vec();
    (status, headers, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recordings_upload_serve_ranges_and_erase_through_s3() {
    let Some(bin) = moto_binary() else {
        return;
    };
    let s3 = start_s3(&bin, free_port()).await;
    let dir = tempfile::tempdir().expect("tmp");
    let store = store_with(dir.path(), &storage(dir.path(), &s3.endpoint)).await;
    // 9 MiB: more than one 8 MiB part, so the upload is a multipart upload.
    let (iv, cand, session_dir, audio) = live_interview(&store, 9 << 20).await;
    let key = format!(
        "{}/recording.wav",
        session_dir
            .file_name()
            .and_then(|n| n.to_str())
            .expect("name")
    );

    link::file_session(&store, &iv, &session_dir, now_ms())
        .await
        .expect("file");
    assert!(
        !session_dir.join("recording.wav").exists(),
        "the local file is removed after the confirmed upload"
    );
    let (status, stored) = object(&s3.endpoint, &key).await;
    assert_eq!(status, 200);
    assert!(
        stored == audio,
        "the object holds the recording byte for byte"
    );
    assert_eq!(
        link::upload_pending(&store).await.expect("nothing pending"),
        0
    );

    let token = store.create_api_token("t", 1).await.expect("token");
    let router = viva_server::api::router(store.clone());
    let path = format!("/v1/interviews/{iv}/recording");
    let len = audio.len();
    for (range, start, end) in [
        ("bytes=0-99", 0, 99),
        // Across the 8 MiB part boundary of the multipart upload.
        ("bytes=8388000-8389999", 8_388_000, 8_389_999),
        ("bytes=-10", len - 10, len - 1),
        ("bytes=9000000-", 9_000_000, len - 1),
    ] {
        let (s, h, body) = get(&router, &path, &token, Some(range)).await;
        assert_eq!(s, StatusCode::PARTIAL_CONTENT, "{range}");
        assert!(body == audio[start..=end], "{range}: the right bytes");
        assert_eq!(h["content-range"], format!("bytes {start}-{end}/{len}"));
        assert_eq!(h["content-length"], (end - start + 1).to_string());
    }
    let (s, h, body) = get(&router, &path, &token, None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(h["content-length"], len.to_string());
    assert!(body == audio, "the whole recording");
    let (s, h, _) = get(&router, &path, &token, Some(&format!("bytes={len}-"))).await;
    assert_eq!(s, StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(h["content-range"], format!("bytes */{len}"));

    // Erasure deletes the object (and the session folder).
    let resp = router
        .clone()
        .oneshot(
            Request::builder()
                .method("DELETE")
                .uri(format!("/v1/candidates/{cand}"))
                .header("authorization", format!("Bearer {token}"))
                .body(Body::empty())
                .expect("request"),
        )
        .await
        .expect("response");
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(object(&s3.endpoint, &key).await.0, 404, "object deleted");
    assert!(!session_dir.exists());
    let (s, _, _) = get(&router, &path, &token, None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_that_failed_while_the_store_was_down_is_retried() {
    let Some(bin) = moto_binary() else {
        return;
    };
    // The store's port is chosen now, but nothing listens on it yet: the store is down.
    let port = free_port();
    let endpoint = format!("http://127.0.0.1:{port}");
    let dir = tempfile::tempdir().expect("tmp");
    let store = store_with(dir.path(), &storage(dir.path(), &endpoint)).await;
    let (iv, _cand, session_dir, audio) = live_interview(&store, 300_000).await;
    let local = session_dir.join("recording.wav");

    // Filing succeeds (transcript stored, scoring queued); the upload fails and is kept.
    let t = Instant::now();
    link::file_session(&store, &iv, &session_dir, now_ms())
        .await
        .expect("filed although the store is down");
    assert!(
        t.elapsed() < Duration::from_secs(30),
        "fails fast: {:?}",
        t.elapsed()
    );
    assert_eq!(store.interview(&iv).await.expect("iv").state, "completed");
    assert!(local.exists(), "kept locally until an upload is confirmed");
    assert!(link::upload_pending(&store).await.is_err(), "still down");
    assert!(local.exists());

    // Meanwhile the API serves the local file.
    let token = store.create_api_token("t", 1).await.expect("token");
    let router = viva_server::api::router(store.clone());
    let path = format!("/v1/interviews/{iv}/recording");
    let (s, _, body) = get(&router, &path, &token, Some("bytes=10-19")).await;
    assert_eq!(s, StatusCode::PARTIAL_CONTENT);
    assert_eq!(body, audio[10..20]);

    // The store comes up: the retry uploads it and removes the local file.
    let s3 = start_s3(&bin, port).await;
    assert_eq!(link::upload_pending(&store).await.expect("retry"), 1);
    assert!(!local.exists(), "removed after the confirmed upload");
    let key = format!("s-{iv}/recording.wav");
    let (status, stored) = object(&s3.endpoint, &key).await;
    assert_eq!(status, 200);
    assert!(stored == audio);
    assert_eq!(link::upload_pending(&store).await.expect("idle"), 0);
    let (s, _, body) = get(&router, &path, &token, Some("bytes=299990-")).await;
    assert_eq!(s, StatusCode::PARTIAL_CONTENT);
    assert_eq!(body, audio[299_990..]);
}
