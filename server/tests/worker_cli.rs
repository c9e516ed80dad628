//! `viva worker` and `viva report` as processes: workers started as separate `viva worker
//! --drain` processes claim from the database's queue (two at once on PostgreSQL, no
//! interview scored twice or lost), and `viva report ID` prints the stored report.

mod common;

use std::process::Command;
use std::sync::{Arc, Mutex};

use common::TestDb;
use viva_server::store::seed_demo_job;

fn viva(db: &TestDb) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_viva"));
    cmd.env_remove("DATABASE_URL")
        .env("VIVA_STORAGE_DATA_DIR", db.dir.path())
        .env("VIVA_LOG_LEVEL", "warn")
        .env_remove("VIVA_CONFIG")
        .current_dir(db.dir.path());
    if let Some(url) = db.database_url() {
        cmd.env("DATABASE_URL", url);
    }
    cmd
}

async fn queued_interviews(db: &TestDb, n: usize) -> Vec<String> {
    let now = viva_server::store::now_ms();
    let job = seed_demo_job(&db.store, now)
        .await
        .expect("seed")
        .expect("seeded");
    let mut ids = Vec::new();
    for i in 0..n {
        let cand = db
            .store
            .create_candidate(None, None, now)
            .await
            .expect("candidate");
        let iv = db
            .store
            .create_interview(&job.id, 1, &cand, None, now + i as i64)
            .await
            .expect("interview");
        db.store
            .finish_interview(&iv, &common::demo_transcript(), now + i as i64)
            .await
            .expect("finish");
        ids.push(iv);
    }
    ids
}

/// A webhook receiver on 127.0.0.1: (URL, the delivery ids it received with valid signatures,
/// and how many requests came in).
async fn receiver(secret: &'static str) -> (String, Arc<Mutex<(Vec<String>, usize)>>) {
    let seen = Arc::new(Mutex::new((Vec::new(), 0usize)));
    let state = seen.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(
            move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
                let state = state.clone();
                async move {
                    let header = |k: &str| {
                        headers
                            .get(k)
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or_default()
                            .to_string()
                    };
                    let ok = viva_server::webhooks::verify(
                        secret,
                        &header("viva-signature"),
                        &body,
                        viva_server::store::now_ms(),
                        300_000,
                    )
                    .is_ok();
                    let mut s = state.lock().expect("lock");
                    s.1 += 1;
                    if ok && header("viva-event") == "report.ready" {
                        s.0.push(header("viva-delivery"));
                    }
                    axum::http::StatusCode::OK
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, seen)
}

async fn worker_processes_drain_the_queue(db: &TestDb) {
    let ids = queued_interviews(db, 6).await;
    let (hook, seen) = receiver("process-test-secret").await;
    // Two worker processes at once against one database, webhooks configured by environment.
    let children: Vec<_> = ["w-one", "w-two"]
        .iter()
        .map(|name| {
            viva(db)
                .args(["worker", "--drain", "--name", name])
                .env("VIVA_WEBHOOKS_URLS", &hook)
                .env("VIVA_WEBHOOKS_SECRET", "process-test-secret")
                .env("VIVA_WEBHOOKS_EVENTS", "report.ready")
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("viva worker starts")
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().expect("viva worker runs");
        eprint!("{}", String::from_utf8_lossy(&out.stderr));
        assert!(
            out.status.success(),
            "viva worker failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    for id in &ids {
        assert_eq!(
            db.store.report_count(id).await.expect("count"),
            1,
            "scored exactly once"
        );
    }
    // Every report announced once, signed; both workers delivered what was due.
    let (mut delivered, requests) = seen.lock().expect("lock").clone();
    delivered.sort();
    delivered.dedup();
    assert_eq!(delivered.len(), ids.len(), "one report.ready per interview");
    assert_eq!(requests, ids.len(), "no delivery sent twice");
    let stored = db.store.latest_report(&ids[0]).await.expect("report");
    let out = viva(db)
        .args(["report", &ids[0], "--format", "json"])
        .output()
        .expect("viva report");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        stored.report_json,
        "printed byte for byte as stored"
    );
    let out = viva(db)
        .args(["report", &ids[0], "--format", "md"])
        .output()
        .expect("viva report");
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("# "));
    let out = viva(db)
        .args(["report", "no-such-interview"])
        .output()
        .expect("viva report");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no report"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worker_processes_sqlite() {
    // The child processes open the same SQLite file the test created.
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("viva.db").display());
    let store = viva_server::store::Store::connect(&url)
        .await
        .expect("store");
    let db = TestDb {
        store,
        dir,
        pg: None,
    };
    worker_processes_drain_the_queue(&db).await;
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worker_processes_postgres() {
    let Some(db) = common::postgres().await else {
        return;
    };
    worker_processes_drain_the_queue(&db).await;
    db.cleanup().await;
}
