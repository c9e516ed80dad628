//! Storage against SQLite and a real PostgreSQL (127.0.0.1:5432, database `test`, or
//! `VIVA_TEST_POSTGRES_URL`): each PostgreSQL run gets its own fresh database. Without a
//! reachable server the PostgreSQL half is skipped with a visible message, unless
//! `VIVA_REQUIRE_POSTGRES` is set, which turns the skip into a failure.

use std::collections::BTreeSet;

use viva_server::store::{score_one, seed_demo_job, Store};

const DAY: i64 = 86_400_000;

fn demo_transcript() -> viva_interview::Transcript {
    let text = include_str!("../interview/recordings/demo-transcript.json");
    serde_json::from_str(text).expect("the recorded demo transcript parses")
}

async fn sqlite_store(dir: &tempfile::TempDir) -> Store {
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("viva.db").display());
    Store::connect(&url).await.expect("sqlite store")
}

/// A fresh PostgreSQL database for this run (dropped by [`drop_postgres`]), or None (skipped)
/// when no server answers.
async fn postgres_store() -> Option<(Store, sqlx::AnyPool, String)> {
    let base = std::env::var("VIVA_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string());
    sqlx::any::install_default_drivers();
    let admin = match sqlx::AnyPool::connect(&base).await {
        Ok(p) => p,
        Err(e) => {
            assert!(
                std::env::var_os("VIVA_REQUIRE_POSTGRES").is_none(),
                "VIVA_REQUIRE_POSTGRES is set but PostgreSQL at {base} is unreachable: {e}"
            );
            eprintln!("SKIPPED: PostgreSQL tests — {base} unreachable ({e}); set VIVA_REQUIRE_POSTGRES=1 to fail instead");
            return None;
        }
    };
    let name = format!(
        "viva_test_{}",
        viva_server::store::random_hex(6).expect("random")
    );
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&admin)
        .await
        .expect("create test database");
    let (prefix, _) = base.rsplit_once('/').expect("database URL with a path");
    let store = Store::connect(&format!("{prefix}/{name}"))
        .await
        .expect("postgres store");
    Some((store, admin, name))
}

async fn drop_postgres((store, admin, name): (Store, sqlx::AnyPool, String)) {
    store.pool().close().await;
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&admin)
        .await
        .expect("drop test database");
}

async fn jobs_invites_interviews(store: &Store) {
    let now = 1_700_000_000_000;
    let seeded = seed_demo_job(store, now)
        .await
        .expect("seed")
        .expect("seeded");
    assert!(
        seed_demo_job(store, now).await.expect("seed").is_none(),
        "seeding twice"
    );
    assert_eq!(seeded.version, 1);
    let updated = store
        .update_job(&seeded.id, "Renamed", &seeded.config_toml, now + 1)
        .await
        .expect("update");
    assert_eq!(updated.version, 2);
    assert_eq!(
        store.job_version(&seeded.id, 1).await.expect("v1"),
        seeded.config_toml
    );

    let cand = store
        .create_candidate(Some("Ada"), Some("ada@example.com"), now)
        .await
        .expect("candidate");
    let (invite, token) = store
        .create_invite(&seeded.id, &cand, DAY, now)
        .await
        .expect("invite");
    assert_eq!(invite.job_version, 2);
    assert!(store
        .redeem_invite("wrong-token", now)
        .await
        .expect("redeem")
        .is_none());
    assert!(store
        .redeem_invite(&token, now)
        .await
        .expect("redeem")
        .is_some());
    assert!(
        store
            .redeem_invite(&token, now)
            .await
            .expect("redeem")
            .is_none(),
        "single use"
    );
    let (_, expiring) = store
        .create_invite(&seeded.id, &cand, 1000, now)
        .await
        .expect("invite");
    assert!(
        store
            .redeem_invite(&expiring, now + 1000)
            .await
            .expect("redeem")
            .is_none(),
        "expired"
    );
    let (revoked, rtoken) = store
        .create_invite(&seeded.id, &cand, DAY, now)
        .await
        .expect("invite");
    store.revoke_invite(&revoked.id, now).await.expect("revoke");
    assert!(
        store
            .redeem_invite(&rtoken, now)
            .await
            .expect("redeem")
            .is_none(),
        "revoked"
    );
    assert_eq!(store.list_invites(&seeded.id).await.expect("list").len(), 3);

    let transcript = demo_transcript();
    let iv = store
        .create_interview(&seeded.id, 2, &cand, Some(&invite.id), now)
        .await
        .expect("interview");
    store
        .finish_interview(&iv, &transcript, now + 10)
        .await
        .expect("finish");
    assert_eq!(
        store.turn_count(&iv).await.expect("turns"),
        transcript.turns.len() as i64
    );
    assert_eq!(
        score_one(store, "w1", now + 20, 60_000)
            .await
            .expect("score"),
        Some(iv.clone())
    );
    assert_eq!(
        score_one(store, "w1", now + 20, 60_000)
            .await
            .expect("score"),
        None
    );
    let report = store.latest_report(&iv).await.expect("report");
    assert_eq!(report.scorer_version, viva_scoring::SCORER_VERSION);
    // Stored report is the scorer's byte-for-byte output.
    let job = viva_interview::JobConfig::from_toml_str(&seeded.config_toml).expect("job");
    let direct = viva_scoring::to_json(&viva_scoring::score(&job, &transcript).expect("score"))
        .expect("json");
    assert_eq!(report.report_json, direct);

    store
        .erase_candidate(&cand, "admin", now + 30)
        .await
        .expect("erase");
    assert!(store.transcript_json(&iv).await.is_err());
    assert!(store.latest_report(&iv).await.is_err());
    assert_eq!(store.turn_count(&iv).await.expect("turns"), 0);
    assert_eq!(
        store.audit_actions(&cand).await.expect("audit"),
        vec!["candidate.erased"]
    );

    let token = store.create_api_token("ci", now).await.expect("token");
    assert_eq!(
        store
            .check_api_token(&token)
            .await
            .expect("check")
            .as_deref(),
        Some("ci")
    );
    assert!(store
        .check_api_token("viva_nope")
        .await
        .expect("check")
        .is_none());
}

async fn two_workers_one_queue(store: &Store) {
    let now = 1_800_000_000_000;
    let job = store
        .create_job("Demo", viva_interview::job::DEMO_JOB_TOML, now)
        .await
        .expect("job");
    let transcript = demo_transcript();
    let mut ids = BTreeSet::new();
    for i in 0..8 {
        let cand = store
            .create_candidate(None, None, now)
            .await
            .expect("candidate");
        let iv = store
            .create_interview(&job.id, 1, &cand, None, now + i)
            .await
            .expect("interview");
        store
            .finish_interview(&iv, &transcript, now + i)
            .await
            .expect("finish");
        ids.insert(iv);
    }
    let work = |name: &'static str| {
        let store = store.clone();
        tokio::spawn(async move {
            let mut mine = Vec::new();
            while let Some(id) = score_one(&store, name, now + 100, 60_000)
                .await
                .expect("score")
            {
                mine.push(id);
            }
            mine
        })
    };
    let (a, b) = (work("worker-a"), work("worker-b"));
    let (a, b) = (a.await.expect("a"), b.await.expect("b"));
    eprintln!("worker-a scored {}, worker-b scored {}", a.len(), b.len());
    let all: Vec<String> = a.iter().chain(&b).cloned().collect();
    assert_eq!(all.len(), ids.len(), "no job scored twice");
    assert_eq!(
        all.iter().cloned().collect::<BTreeSet<_>>(),
        ids,
        "no job lost"
    );
    for id in &ids {
        assert_eq!(store.report_count(id).await.expect("count"), 1);
    }

    // A worker killed mid-job: its claim expires and another worker finishes the job once.
    let cand = store
        .create_candidate(None, None, now)
        .await
        .expect("candidate");
    let iv = store
        .create_interview(&job.id, 1, &cand, None, now)
        .await
        .expect("interview");
    store
        .finish_interview(&iv, &transcript, now + 200)
        .await
        .expect("finish");
    assert_eq!(
        store
            .claim("doomed", now + 300, 60_000)
            .await
            .expect("claim"),
        Some(iv.clone())
    );
    assert_eq!(
        score_one(store, "rescuer", now + 301, 60_000)
            .await
            .expect("score"),
        None,
        "lease still held"
    );
    assert_eq!(
        score_one(store, "rescuer", now + 300 + 60_001, 60_000)
            .await
            .expect("score"),
        Some(iv.clone())
    );
    let report = viva_scoring::score(&viva_interview::demo_job(), &transcript).expect("score");
    let late = store
        .complete(&iv, "doomed", &report, "{}", now + 70_000)
        .await
        .expect("complete");
    assert!(!late, "the dead worker's late result is refused");
    assert_eq!(store.report_count(&iv).await.expect("count"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_store_end_to_end() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = sqlite_store(&dir).await;
    jobs_invites_interviews(&store).await;
    // Reopening runs the migrations again: a no-op.
    drop(store);
    let store = sqlite_store(&dir).await;
    assert_eq!(store.list_jobs().await.expect("jobs").len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_two_workers_drain_one_queue() {
    let dir = tempfile::tempdir().expect("tempdir");
    two_workers_one_queue(&sqlite_store(&dir).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_store_end_to_end() {
    let Some(pg) = postgres_store().await else {
        return;
    };
    assert_eq!(pg.0.backend(), viva_server::store::Backend::Postgres);
    jobs_invites_interviews(&pg.0).await;
    drop_postgres(pg).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_two_workers_drain_one_queue() {
    let Some(pg) = postgres_store().await else {
        return;
    };
    two_workers_one_queue(&pg.0).await;
    drop_postgres(pg).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_processes_can_open_one_sqlite_file_at_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("viva.db").display());
    let opens: Vec<_> = (0..4)
        .map(|_| {
            let url = url.clone();
            tokio::spawn(async move { Store::connect(&url).await.map(|_| ()) })
        })
        .collect();
    for o in opens {
        o.await.expect("join").expect("open while others migrate");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_processes_can_migrate_one_postgres_database_at_once() {
    let base = std::env::var("VIVA_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string());
    sqlx::any::install_default_drivers();
    let Ok(admin) = sqlx::AnyPool::connect(&base).await else {
        assert!(
            std::env::var_os("VIVA_REQUIRE_POSTGRES").is_none(),
            "VIVA_REQUIRE_POSTGRES is set but PostgreSQL at {base} is unreachable"
        );
        eprintln!("SKIPPED: PostgreSQL concurrent migration — {base} unreachable");
        return;
    };
    let name = format!(
        "viva_test_{}",
        viva_server::store::random_hex(6).expect("random")
    );
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&admin)
        .await
        .expect("create test database");
    let (prefix, _) = base.rsplit_once('/').expect("database URL with a path");
    let url = format!("{prefix}/{name}");
    // An empty database, four starters at once: every one must come up, migrated once.
    let opens: Vec<_> = (0..4)
        .map(|_| {
            let url = url.clone();
            tokio::spawn(async move { Store::connect(&url).await })
        })
        .collect();
    let mut stores = Vec::new();
    for o in opens {
        stores.push(o.await.expect("join").expect("open while others migrate"));
    }
    let applied: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM schema_migrations")
        .fetch_one(stores[0].pool())
        .await
        .expect("count");
    assert!(applied >= 2, "{applied} migrations recorded");
    for s in stores {
        s.pool().close().await;
    }
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&admin)
        .await
        .expect("drop test database");
}
