//! The recruiter API over an in-process router, on SQLite and on PostgreSQL: auth (no token,
//! wrong token, a candidate's token on a recruiter route or on someone else's interview),
//! validated jobs, invites, reports, re-scoring, erasure, recordings with Range and path
//! traversal refused, webhooks, the OpenAPI document, and clear JSON errors for malformed or
//! oversized bodies.

mod common;

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use common::TestDb;
use serde_json::Value;
use tower::ServiceExt;
use viva_server::store::{now_ms, score_one, seed_demo_job, Store};

struct Api {
    router: axum::Router,
    token: String,
    store: Store,
}

async fn api(db: &TestDb) -> Api {
    seed_demo_job(&db.store, 1).await.expect("seed");
    let token = db.store.create_api_token("test", 1).await.expect("token");
    Api {
        router: viva_server::api::router(db.store.clone()),
        token,
        store: db.store.clone(),
    }
}

struct Raw {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Api {
    async fn raw(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<String>,
        headers: &[(&str, &str)],
    ) -> Raw {
        let mut req = Request::builder().method(method).uri(path);
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        if body.is_some() {
            req = req.header("content-type", "application/json");
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let req = req
            .body(body.map(Body::from).unwrap_or_else(Body::empty))
            .expect("request");
        let resp = self.router.clone().oneshot(req).await.expect("response");
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = axum::body::to_bytes(resp.into_body(), 10 << 20)
            .await
            .expect("body")
            .to_vec();
        Raw {
            status,
            headers,
            body,
        }
    }

    async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<String>,
    ) -> (StatusCode, Value) {
        let r = self.raw(method, path, token, body, &[]).await;
        let value = if r.body.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&r.body).expect("JSON body")
        };
        (r.status, value)
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.call("GET", path, Some(&self.token.clone()), None)
            .await
    }

    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(
            "POST",
            path,
            Some(&self.token.clone()),
            Some(body.to_string()),
        )
        .await
    }

    async fn demo_job(&self) -> String {
        let (_, v) = self.get("/v1/jobs").await;
        v["jobs"][0]["id"].as_str().expect("id").to_string()
    }

    /// Invites a candidate: (invite token, invite id, candidate id).
    async fn invite(&self, job: &str) -> (String, String, String) {
        let (s, v) = self
            .post(
                &format!("/v1/jobs/{job}/invites"),
                serde_json::json!({"candidate_name": "Ada", "expires_in_hours": 48}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED);
        let field = |p: &str| v.pointer(p).and_then(Value::as_str).expect(p).to_string();
        (
            field("/token"),
            field("/invite/id"),
            field("/invite/candidate_id"),
        )
    }

    /// A voice interview as a live session files it: linked at start, `turns.json` and the
    /// recording in the session folder, filed at the end. Returns (interview id, audio bytes).
    async fn voice_interview(
        &self,
        job: &str,
        candidate: &str,
        invite: Option<&str>,
    ) -> (String, Vec<u8>) {
        let iv = self
            .store
            .create_interview(job, 1, candidate, invite, now_ms())
            .await
            .expect("interview");
        let session = format!("s-{iv}");
        viva_server::store::link::start_session_interview(&self.store, &iv, &session)
            .await
            .expect("link");
        let dir = self
            .store
            .recordings()
            .expect("recordings")
            .root()
            .join(&session);
        std::fs::create_dir_all(&dir).expect("mkdir");
        let audio: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(dir.join("recording.wav"), &audio).expect("write");
        std::fs::write(
            dir.join("turns.json"),
            serde_json::to_vec(&common::demo_transcript()).expect("json"),
        )
        .expect("write");
        viva_server::store::link::file_session(&self.store, &iv, &dir, now_ms())
            .await
            .expect("file");
        (iv, audio)
    }
}

async fn auth_is_enforced(db: &TestDb) {
    let api = api(db).await;
    let (s, v) = api.call("GET", "/v1/jobs", None, None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(v["error"], "unauthorized");
    let (s, v) = api.call("GET", "/v1/jobs", Some("viva_wrong"), None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(v["message"], "invalid or revoked token");
    let (s, _) = api
        .call("DELETE", "/v1/candidates/x", Some("viva_wrong"), None)
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let r = api
        .raw(
            "GET",
            "/v1/jobs",
            None,
            None,
            &[("authorization", "Basic abc")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);

    // A candidate's invite token: 403 on recruiter routes, its own interview only.
    let job = api.demo_job().await;
    let (token, invite, candidate) = api.invite(&job).await;
    let (other_token, other_invite, other_candidate) = api.invite(&job).await;
    let (own, _) = api.voice_interview(&job, &candidate, Some(&invite)).await;
    let (theirs, _) = api
        .voice_interview(&job, &other_candidate, Some(&other_invite))
        .await;
    for path in [
        "/v1/jobs".to_string(),
        format!("/v1/interviews/{own}/report"),
        "/v1/interviews".to_string(),
        "/v1/webhooks".to_string(),
    ] {
        let (s, v) = api.call("GET", &path, Some(&token), None).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{path}");
        assert_eq!(v["error"], "forbidden");
    }
    let (s, _) = api
        .call(
            "DELETE",
            &format!("/v1/candidates/{candidate}"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    for suffix in ["", "/transcript", "/recording"] {
        let r = api
            .raw(
                "GET",
                &format!("/v1/interviews/{own}{suffix}"),
                Some(&token),
                None,
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "own interview{suffix}");
        let (s, v) = api
            .call(
                "GET",
                &format!("/v1/interviews/{theirs}{suffix}"),
                Some(&token),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "someone else's interview{suffix}");
        assert_eq!(v["error"], "forbidden");
    }
    // A revoked invite opens nothing.
    let (s, _) = api
        .call(
            "DELETE",
            &format!("/v1/invites/{other_invite}"),
            Some(&api.token),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = api
        .call(
            "GET",
            &format!("/v1/interviews/{theirs}"),
            Some(&other_token),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}
on_both!(auth_sqlite, auth_postgres, auth_is_enforced);

async fn jobs_are_validated_and_versioned(db: &TestDb) {
    let api = api(db).await;
    let (s, v) = api.get("/v1/jobs").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["jobs"][0]["title"], "Senior Backend Developer — B2B SaaS");
    let id = v["jobs"][0]["id"].as_str().expect("id").to_string();

    let bad = serde_json::json!({"config_toml": "title = \"x\"\n"});
    let (s, v) = api.post("/v1/jobs", bad).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v["error"], "invalid_job");
    assert!(v["details"].as_array().is_some_and(|d| !d.is_empty()));

    let good = serde_json::json!({"config_toml": viva_interview::job::DEMO_JOB_TOML}).to_string();
    let (s, v) = api
        .call(
            "PUT",
            &format!("/v1/jobs/{id}"),
            Some(&api.token),
            Some(good.clone()),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["version"], 2);
    let (s, v) = api
        .call("POST", "/v1/jobs", Some(&api.token), Some(good))
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let new_id = v["id"].as_str().expect("id").to_string();
    let (s, _) = api
        .call(
            "DELETE",
            &format!("/v1/jobs/{new_id}"),
            Some(&api.token),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, v) = api.get(&format!("/v1/jobs/{new_id}")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(v["error"], "not_found");
}
on_both!(jobs_sqlite, jobs_postgres, jobs_are_validated_and_versioned);

async fn malformed_and_oversized_json_are_clear_4xx(db: &TestDb) {
    let api = api(db).await;
    for path in ["/v1/jobs", "/v1/webhooks"] {
        let (s, v) = api
            .call("POST", path, Some(&api.token), Some("{not json".into()))
            .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{path}");
        assert_eq!(v["error"], "malformed_json");
        let (s, v) = api
            .call(
                "POST",
                path,
                Some(&api.token),
                Some("{\"config\": 1}".into()),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{path}");
        assert_eq!(v["error"], "invalid_body");
        let huge =
            serde_json::json!({"config_toml": "x".repeat(viva_server::api::MAX_BODY_BYTES + 10)})
                .to_string();
        let (s, v) = api.call("POST", path, Some(&api.token), Some(huge)).await;
        assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE, "{path}");
        assert_eq!(v["error"], "body_too_large");
    }
    let r = api
        .raw(
            "POST",
            "/v1/jobs",
            Some(&api.token.clone()),
            None,
            &[("content-type", "text/plain")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let v: Value = serde_json::from_slice(&r.body).expect("JSON error");
    assert_eq!(v["error"], "unsupported_media_type");
}
on_both!(
    bodies_sqlite,
    bodies_postgres,
    malformed_and_oversized_json_are_clear_4xx
);

async fn invites_reports_rescore_and_erasure(db: &TestDb) {
    let api = api(db).await;
    let job = api.demo_job().await;
    let (token, invite, candidate) = api.invite(&job).await;
    // The token is not stored: the listing never shows it.
    let (_, list) = api.get(&format!("/v1/jobs/{job}/invites")).await;
    assert!(!list.to_string().contains(&token));
    let (s, _) = api
        .call(
            "DELETE",
            &format!("/v1/invites/{invite}"),
            Some(&api.token),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert!(api
        .store
        .redeem_invite(&token, now_ms())
        .await
        .expect("redeem")
        .is_none());

    // A voice interview filed, scored by the worker, then read through the API.
    let (iv, _) = api.voice_interview(&job, &candidate, None).await;
    let (_, v) = api.get(&format!("/v1/interviews/{iv}")).await;
    assert_eq!(v["state"], "completed");
    assert_eq!(v["queue_state"], "queued");
    assert_eq!(v["recording_url"], format!("/v1/interviews/{iv}/recording"));
    score_one(&api.store, "w", now_ms(), 60_000)
        .await
        .expect("score");
    let (s, v) = api.get(&format!("/v1/interviews?job_id={job}")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["interviews"][0]["state"], "scored");
    let first = api
        .raw(
            "GET",
            &format!("/v1/interviews/{iv}/report"),
            Some(&api.token.clone()),
            None,
            &[],
        )
        .await;
    assert_eq!(first.status, StatusCode::OK);
    let v: Value = serde_json::from_slice(&first.body).expect("report");
    assert_eq!(v["scorer_version"], viva_scoring::SCORER_VERSION);
    for (format, needle) in [("md", "# "), ("html", "<html")] {
        let r = api
            .raw(
                "GET",
                &format!("/v1/interviews/{iv}/report?format={format}"),
                Some(&api.token.clone()),
                None,
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{format}");
        assert!(
            String::from_utf8_lossy(&r.body).contains(needle),
            "{format}"
        );
    }
    let (s, v) = api
        .get(&format!("/v1/interviews/{iv}/report?format=pdf"))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(v["error"], "bad_format");
    let (s, v) = api.get(&format!("/v1/interviews/{iv}/transcript")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["job_title"], "Senior Backend Developer — B2B SaaS");

    // Re-score: queued again, a second report with the scorer's version, same bytes.
    let (s, v) = api
        .post(&format!("/v1/interviews/{iv}/rescore"), Value::Null)
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    assert_eq!(v["state"], "queued");
    assert_eq!(
        api.store.queue_state(&iv).await.expect("state").as_deref(),
        Some("queued")
    );
    assert_eq!(
        score_one(&api.store, "w2", now_ms() + 1, 60_000)
            .await
            .expect("score"),
        Some(iv.clone())
    );
    let (_, v) = api.get(&format!("/v1/interviews/{iv}/reports")).await;
    let reports = v["reports"].as_array().expect("reports");
    assert_eq!(reports.len(), 2);
    assert!(reports
        .iter()
        .all(|r| r["scorer_version"] == viva_scoring::SCORER_VERSION));
    let second = api
        .raw(
            "GET",
            &format!("/v1/interviews/{iv}/report"),
            Some(&api.token.clone()),
            None,
            &[],
        )
        .await;
    assert_eq!(second.body, first.body, "re-scoring is deterministic");
    assert!(api
        .store
        .audit_actions(&iv)
        .await
        .expect("audit")
        .contains(&"interview.rescore".to_string()));
    let (s, v) = api.post("/v1/interviews/nope/rescore", Value::Null).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{v}");
    let unfinished = api
        .store
        .create_interview(&job, 1, &candidate, None, now_ms())
        .await
        .expect("interview");
    let (s, v) = api
        .post(&format!("/v1/interviews/{unfinished}/rescore"), Value::Null)
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert_eq!(v["error"], "no_transcript");

    // Erasure: audio (the whole session folder), transcript, report; an audit line stays.
    let session_dir = api
        .store
        .recordings()
        .expect("recordings")
        .root()
        .join(format!("s-{iv}"));
    assert!(session_dir.join("recording.wav").exists());
    let (s, _) = api
        .call(
            "DELETE",
            &format!("/v1/candidates/{candidate}"),
            Some(&api.token),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert!(!session_dir.exists(), "recording and turns.json removed");
    for suffix in ["report", "transcript", "recording"] {
        let (s, _) = api.get(&format!("/v1/interviews/{iv}/{suffix}")).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{suffix} after erasure");
    }
    let (_, v) = api.get(&format!("/v1/interviews/{iv}")).await;
    assert_eq!(v["state"], "erased");
    assert_eq!(
        api.store.audit_actions(&candidate).await.expect("audit"),
        vec!["candidate.erased"]
    );
    let (s, v) = api
        .post(&format!("/v1/interviews/{iv}/rescore"), Value::Null)
        .await;
    assert_eq!(
        s,
        StatusCode::CONFLICT,
        "an erased interview cannot be re-scored: {v}"
    );
    let (s, _) = api
        .call("DELETE", "/v1/candidates/nobody", Some(&api.token), None)
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}
on_both!(
    lifecycle_sqlite,
    lifecycle_postgres,
    invites_reports_rescore_and_erasure
);

async fn recordings_stream_with_range(db: &TestDb) {
    let api = api(db).await;
    let job = api.demo_job().await;
    let cand = api
        .store
        .create_candidate(None, None, now_ms())
        .await
        .expect("candidate");
    let (iv, audio) = api.voice_interview(&job, &cand, None).await;
    let path = format!("/v1/interviews/{iv}/recording");
    let tok = api.token.clone();
    let full = api.raw("GET", &path, Some(&tok), None, &[]).await;
    assert_eq!(full.status, StatusCode::OK);
    assert_eq!(full.body, audio);
    assert_eq!(full.headers["accept-ranges"], "bytes");
    assert_eq!(full.headers["content-type"], "audio/wav");
    assert_eq!(full.headers["content-length"], audio.len().to_string());

    let len = audio.len();
    for (range, start, end) in [
        ("bytes=0-99", 0, 99),
        ("bytes=70000-", 70_000, len - 1),
        ("bytes=-10", len - 10, len - 1),
        ("bytes=99990-200000", 99_990, len - 1),
    ] {
        let r = api
            .raw("GET", &path, Some(&tok), None, &[("range", range)])
            .await;
        assert_eq!(r.status, StatusCode::PARTIAL_CONTENT, "{range}");
        assert_eq!(r.body, audio[start..=end], "{range}");
        assert_eq!(
            r.headers["content-range"],
            format!("bytes {start}-{end}/{len}"),
            "{range}"
        );
        assert_eq!(r.headers["content-length"], (end - start + 1).to_string());
        assert_eq!(r.headers["accept-ranges"], "bytes");
    }
    // A range unit the server does not know is ignored (RFC 9110 §14.2): the whole file.
    let r = api
        .raw("GET", &path, Some(&tok), None, &[("range", "pages=1-2")])
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body, audio);
    for bad in ["bytes=100000-", "bytes=5-1", "bytes=abc"] {
        let r = api
            .raw("GET", &path, Some(&tok), None, &[("range", bad)])
            .await;
        assert_eq!(r.status, StatusCode::RANGE_NOT_SATISFIABLE, "{bad}");
        assert_eq!(r.headers["content-range"], format!("bytes */{len}"));
        let v: Value = serde_json::from_slice(&r.body).expect("JSON error");
        assert_eq!(v["error"], "range_not_satisfiable");
    }

    // Path traversal: the URL names an id, never a path; odd ids are refused up front.
    let outside = db.dir.path().join("secret.txt");
    std::fs::write(&outside, b"TOP SECRET").expect("write");
    for evil in [
        "/v1/interviews/..%2F..%2Fsecret.txt/recording",
        "/v1/interviews/..%2Fsecret.txt/recording",
        "/v1/interviews/%2E%2E/recording",
        "/v1/interviews/a%00b/recording",
    ] {
        let r = api.raw("GET", evil, Some(&tok), None, &[]).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{evil}");
        let v: Value = serde_json::from_slice(&r.body).expect("JSON error");
        assert_eq!(v["error"], "bad_id", "{evil}");
    }
    let r = api
        .raw(
            "GET",
            "/v1/interviews/../../secret.txt/recording",
            Some(&tok),
            None,
            &[],
        )
        .await;
    assert!(r.status.is_client_error(), "{}", r.status);
    assert!(!String::from_utf8_lossy(&r.body).contains("TOP SECRET"));
    // A tampered key in the database is refused before the file system is touched.
    sqlx::query("UPDATE recordings SET object_key = $1 WHERE interview_id = $2")
        .bind("../secret.txt")
        .bind(&iv)
        .execute(api.store.pool())
        .await
        .expect("tamper");
    let r = api.raw("GET", &path, Some(&tok), None, &[]).await;
    assert!(r.status.is_client_error(), "{}", r.status);
    assert!(!String::from_utf8_lossy(&r.body).contains("TOP SECRET"));
    // Keys are checked when they are stored, too.
    assert!(api
        .store
        .start_interview(&iv, "s", "../../etc/passwd", now_ms())
        .await
        .is_err());
    // No recording: 404 JSON.
    let (s, v) = api
        .call("GET", "/v1/interviews/deadbeef/recording", Some(&tok), None)
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(v["error"], "not_found");
}
on_both!(
    recordings_sqlite,
    recordings_postgres,
    recordings_stream_with_range
);

async fn webhooks_are_managed(db: &TestDb) {
    let api = api(db).await;
    let (s, v) = api
        .post(
            "/v1/webhooks",
            serde_json::json!({"url": "http://127.0.0.1:9/hook"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let id = v["webhook"]["id"].as_str().expect("id").to_string();
    let secret = v["secret"].as_str().expect("secret").to_string();
    assert!(secret.len() >= 16);
    assert_eq!(
        v["webhook"]["events"],
        serde_json::json!(["interview.completed", "report.ready"])
    );
    let (_, list) = api.get("/v1/webhooks").await;
    assert_eq!(list["webhooks"][0]["id"], id.as_str());
    assert!(
        !list.to_string().contains(&secret),
        "the secret is shown once"
    );
    for (body, code) in [
        (
            serde_json::json!({"url": "ftp://example.com/x"}),
            "invalid_url",
        ),
        (serde_json::json!({"url": "ftp://x"}), "invalid_url"),
        (
            serde_json::json!({"url": "http://a/x", "events": ["report.lost"]}),
            "invalid",
        ),
        (
            serde_json::json!({"url": "http://a/x", "secret": "short"}),
            "invalid",
        ),
        (
            serde_json::json!({"url": "http://a/x", "colour": 1}),
            "invalid_body",
        ),
    ] {
        let (s, v) = api.post("/v1/webhooks", body.clone()).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(v["error"], code, "{body}");
    }
    let (s, v) = api.get(&format!("/v1/webhooks/{id}/deliveries")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["deliveries"], serde_json::json!([]));
    let (s, _) = api
        .call(
            "DELETE",
            &format!("/v1/webhooks/{id}"),
            Some(&api.token),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = api
        .call(
            "DELETE",
            &format!("/v1/webhooks/{id}"),
            Some(&api.token),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}
on_both!(
    webhook_api_sqlite,
    webhook_api_postgres,
    webhooks_are_managed
);

async fn a_silent_session_is_abandoned_not_scored(db: &TestDb) {
    let api = api(db).await;
    let job = api.demo_job().await;
    let cand = api
        .store
        .create_candidate(None, None, now_ms())
        .await
        .expect("candidate");
    let iv = api
        .store
        .create_interview(&job, 1, &cand, None, now_ms())
        .await
        .expect("interview");
    viva_server::store::link::start_session_interview(&api.store, &iv, "s-silent")
        .await
        .expect("link");
    let (_, v) = api.get(&format!("/v1/interviews/{iv}")).await;
    assert_eq!(v["state"], "in_progress");
    let dir = api
        .store
        .recordings()
        .expect("recordings")
        .root()
        .join("s-silent");
    std::fs::create_dir_all(&dir).expect("mkdir");
    viva_server::store::link::file_session(&api.store, &iv, &dir, now_ms())
        .await
        .expect("file");
    let (_, v) = api.get(&format!("/v1/interviews/{iv}")).await;
    assert_eq!(v["state"], "abandoned");
    assert_eq!(v["queue_state"], Value::Null, "nothing to score");
    // A corrupt turns.json is an error, and the interview is left as it was.
    let other = api
        .store
        .create_interview(&job, 1, &cand, None, now_ms())
        .await
        .expect("interview");
    std::fs::write(dir.join("turns.json"), b"{ not json").expect("write");
    assert!(
        viva_server::store::link::file_session(&api.store, &other, &dir, now_ms())
            .await
            .is_err()
    );
    let (_, v) = api.get(&format!("/v1/interviews/{other}")).await;
    assert_eq!(v["state"], "created");
}
on_both!(
    silent_sqlite,
    silent_postgres,
    a_silent_session_is_abandoned_not_scored
);

/// A candidate rates their own interview with their invite token (the last rating counts);
/// recruiters read it per job, never through the report; erasure removes it.
async fn candidates_rate_their_interview(db: &TestDb) {
    let api = api(db).await;
    let job = api.demo_job().await;
    let (token, invite, candidate) = api.invite(&job).await;
    let (iv, _) = api.voice_interview(&job, &candidate, Some(&invite)).await;
    let path = format!("/v1/interviews/{iv}/feedback");
    let rate = |body: Value, token: String| {
        let path = path.clone();
        let api = &api;
        async move {
            api.call("POST", &path, Some(&token), Some(body.to_string()))
                .await
        }
    };
    let (s, v) = rate(
        serde_json::json!({"rating": 3, "comment": "Fine."}),
        token.clone(),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["rating"], 3);
    let secret = "The questions were clear; I wanted more time to think.";
    let (s, v) = rate(
        serde_json::json!({"rating": 5, "comment": secret}),
        token.clone(),
    )
    .await;
    assert_eq!((s, v["rating"].as_i64()), (StatusCode::CREATED, Some(5)));
    for (body, status) in [
        (
            serde_json::json!({"rating": 0}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            serde_json::json!({"rating": 6}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            serde_json::json!({"rating": 4, "comment": "x".repeat(2_001)}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            serde_json::json!({"rating": 4, "channel": "fax"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ] {
        let (s, v) = rate(body.clone(), token.clone()).await;
        assert_eq!(s, status, "{body}: {v}");
        assert!(v["message"].is_string(), "{v}");
    }
    // A recruiter cannot rate for the candidate; another candidate's token opens nothing here.
    let (s, _) = rate(serde_json::json!({"rating": 1}), api.token.clone()).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (other, _, _) = api.invite(&job).await;
    let (s, _) = rate(serde_json::json!({"rating": 1}), other).await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // The job's view: one rating (the last), its distribution and its comment.
    let (s, v) = api.get(&format!("/v1/jobs/{job}/feedback")).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["count"], 1);
    assert_eq!(v["average"], 5.0);
    assert_eq!(v["distribution"], serde_json::json!([0, 0, 0, 0, 1]));
    assert_eq!(v["comments"][0]["comment"], secret);
    let (s, _) = api
        .call(
            "GET",
            &format!("/v1/jobs/{job}/feedback"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(
        s,
        StatusCode::FORBIDDEN,
        "a candidate does not read the job's ratings"
    );

    // The scorer never sees it.
    score_one(&api.store, "w", now_ms(), 60_000)
        .await
        .expect("score");
    let (s, report) = api.get(&format!("/v1/interviews/{iv}/report")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        !report.to_string().contains("wanted more time"),
        "rating leaked into the report"
    );

    // Webhooks may subscribe to it.
    let (s, v) = api
        .post(
            "/v1/webhooks",
            serde_json::json!({"url": "http://127.0.0.1:9/hook", "events": ["feedback.received"]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");

    // Erasure removes the rating with the rest.
    let (s, _) = api
        .call(
            "DELETE",
            &format!("/v1/candidates/{candidate}"),
            Some(&api.token),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (_, v) = api.get(&format!("/v1/jobs/{job}/feedback")).await;
    assert_eq!(v["count"], 0, "{v}");
}
on_both!(
    feedback_sqlite,
    feedback_postgres,
    candidates_rate_their_interview
);

/// The job's candidates as CSV: ranked, name-blind, scored ones first, recruiters only.
async fn candidates_export_as_csv(db: &TestDb) {
    let api = api(db).await;
    let job = api.demo_job().await;
    let (_, _, scored_cand) = api.invite(&job).await;
    let (scored, _) = api.voice_interview(&job, &scored_cand, None).await;
    score_one(&api.store, "w", now_ms(), 60_000)
        .await
        .expect("score");
    let (token, invite, waiting_cand) = api.invite(&job).await;
    let (waiting, _) = api
        .voice_interview(&job, &waiting_cand, Some(&invite))
        .await;
    let r = api
        .raw(
            "GET",
            &format!("/v1/jobs/{job}/candidates.csv"),
            Some(&api.token.clone()),
            None,
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    assert!(r.headers["content-disposition"]
        .to_str()
        .unwrap()
        .contains(".csv"));
    let text = String::from_utf8(r.body).expect("utf-8");
    let lines: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(
        lines[0].starts_with("rank,interview_id,candidate,state"),
        "{text}"
    );
    let first: Vec<&str> = lines[1].split(',').collect();
    assert_eq!((first[0], first[1]), ("1", scored.as_str()), "{text}");
    assert!(first[5].parse::<f64>().is_ok(), "composite: {text}");
    assert!(!first[6].is_empty(), "a recommendation: {text}");
    let second: Vec<&str> = lines[2].split(',').collect();
    assert_eq!(
        (second[0], second[1], second[5]),
        ("2", waiting.as_str(), ""),
        "{text}"
    );
    assert!(!text.contains("Ada"), "name-blind until revealed: {text}");
    let (s, _) = api
        .call(
            "GET",
            &format!("/v1/jobs/{job}/candidates.csv"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = api.get("/v1/jobs/nope/candidates.csv").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}
on_both!(csv_sqlite, csv_postgres, candidates_export_as_csv);

/// `(path, method)` of every `.route(...)` in a source file.
fn routes_in(source: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = source;
    while let Some(i) = rest.find(".route(") {
        rest = &rest[i + ".route(".len()..];
        let mut depth = 1;
        let end = rest
            .char_indices()
            .find(|&(_, c)| {
                match c {
                    '(' => depth += 1,
                    ')' => depth -= 1,
                    _ => {}
                }
                depth == 0
            })
            .map(|(j, _)| j)
            .expect("balanced route call");
        let call = &rest[..end];
        let path = call.split('"').nth(1).expect("route path literal");
        for m in ["get", "post", "put", "delete", "patch"] {
            let needle = format!("{m}(");
            let found = call.match_indices(&needle).any(|(k, _)| {
                k == 0
                    || !call.as_bytes()[k - 1].is_ascii_alphanumeric()
                        && call.as_bytes()[k - 1] != b'_'
            });
            if found {
                out.push((path.to_string(), m.to_string()));
            }
        }
    }
    out
}

#[tokio::test]
async fn openapi_document_lists_every_route() {
    let db = common::sqlite().await;
    let api = api(&db).await;
    let (s, doc) = api.call("GET", "/v1/openapi.json", None, None).await;
    assert_eq!(s, StatusCode::OK, "served without a token");
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().expect("paths");
    let mut routes = routes_in(include_str!("../src/api/mod.rs"));
    routes.extend(routes_in(include_str!("../src/gateway/ws.rs")));
    routes.extend(routes_in(include_str!("../src/gateway/twilio/mod.rs")));
    let v1: Vec<_> = routes
        .iter()
        .filter(|(p, _)| p.starts_with("/v1/"))
        .collect();
    assert!(v1.len() >= 20, "found {} routes: {v1:?}", v1.len());
    for (path, method) in &v1 {
        assert!(
            paths
                .get(path.as_str())
                .and_then(|p| p.get(method.as_str()))
                .is_some(),
            "{method} {path} is routed but missing from openapi.json"
        );
    }
    // And the other way: everything documented is routed.
    for (path, ops) in paths {
        for method in ops.as_object().expect("operations").keys() {
            assert!(
                routes.iter().any(|(p, m)| p == path && m == method),
                "{method} {path} is documented but not routed"
            );
        }
    }
    // Documented API routes answer (auth or content), not the router's bare 404/405.
    for (path, ops) in paths {
        if path.starts_with("/v1/sessions") || path.starts_with("/v1/telephony") {
            continue; // the live and phone gateways, outside the API router
        }
        for method in ops.as_object().expect("operations").keys() {
            let uri = path.replace("{id}", "x");
            let r = api.raw(&method.to_uppercase(), &uri, None, None, &[]).await;
            assert!(
                r.status != StatusCode::METHOD_NOT_ALLOWED
                    && !(r.status == StatusCode::NOT_FOUND && r.body.is_empty()),
                "{method} {path}: {}",
                r.status
            );
        }
    }
    db.cleanup().await;
}

async fn invite_accommodations_are_checked_stored_and_reported(db: &TestDb) {
    let api = api(db).await;
    let job = api.demo_job().await;
    let before = api.get(&format!("/v1/jobs/{job}/invites")).await.1["invites"]
        .as_array()
        .map_or(0, Vec::len);
    // An extra time that is not offered, or an unknown adjustment: refused, nothing created.
    for bad in [
        serde_json::json!({"accommodations": {"extra_time": 3}}),
        serde_json::json!({"accommodations": {"louder": true}}),
    ] {
        let (s, v) = api.post(&format!("/v1/jobs/{job}/invites"), bad).await;
        assert!(s.is_client_error(), "{s}: {v}");
    }
    let (s, v) = api
        .post(
            &format!("/v1/jobs/{job}/invites"),
            serde_json::json!({"accommodations": {"extra_time": 3}}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        v["message"].as_str().is_some_and(|m| m.contains("1.5")),
        "{v}"
    );
    let (_, list) = api.get(&format!("/v1/jobs/{job}/invites")).await;
    assert_eq!(list["invites"].as_array().map_or(0, Vec::len), before);

    let (s, v) = api
        .post(
            &format!("/v1/jobs/{job}/invites"),
            serde_json::json!({"candidate_name": "Ada", "accommodations": {"extra_time": 1.5, "slower_speech": true}}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["invite"]["accommodations"]["extra_time"], 1.5);
    assert_eq!(v["invite"]["accommodations"]["slower_speech"], true);
    let invite = v["invite"]["id"].as_str().expect("id").to_string();
    let candidate = v["invite"]["candidate_id"]
        .as_str()
        .expect("id")
        .to_string();
    let (_, list) = api.get(&format!("/v1/jobs/{job}/invites")).await;
    assert!(list.to_string().contains("slower_speech"), "{list}");

    // The report says which adjustments the candidate had.
    let (iv, _) = api.voice_interview(&job, &candidate, Some(&invite)).await;
    score_one(&api.store, "w", now_ms(), 60_000)
        .await
        .expect("score");
    let (s, report) = api.get(&format!("/v1/interviews/{iv}/report")).await;
    assert_eq!(s, StatusCode::OK);
    let listed = report["accommodations"].to_string();
    assert!(
        listed.contains("extra time ×1.5") && listed.contains("slower interviewer speech"),
        "{listed}"
    );
}
on_both!(
    accommodations_sqlite,
    accommodations_postgres,
    invite_accommodations_are_checked_stored_and_reported
);
