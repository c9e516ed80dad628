//! The recruiter API over an in-process router and a SQLite store: auth, validated jobs,
//! invites, reports, erasure, and clear JSON errors for malformed or oversized bodies.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::Value;
use tower::ServiceExt;
use viva_server::store::{seed_demo_job, Store};

struct Api {
    router: axum::Router,
    token: String,
    store: Store,
    _dir: tempfile::TempDir,
}

async fn api() -> Api {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::connect(&format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("t.db").display()
    ))
    .await
    .expect("store");
    seed_demo_job(&store, 1).await.expect("seed");
    let token = store.create_api_token("test", 1).await.expect("token");
    Api {
        router: viva_server::api::router(store.clone()),
        token,
        store,
        _dir: dir,
    }
}

impl Api {
    async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<String>,
    ) -> (StatusCode, Value) {
        let mut req = Request::builder().method(method).uri(path);
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        if body.is_some() {
            req = req.header("content-type", "application/json");
        }
        let req = req
            .body(body.map(Body::from).unwrap_or_else(Body::empty))
            .expect("request");
        let resp = self.router.clone().oneshot(req).await.expect("response");
        let status = resp.status();
        let bytes = axum::body::to_bytes(resp.into_body(), 10 << 20)
            .await
            .expect("body");
        let value = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).expect("JSON body")
        };
        (status, value)
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.call("GET", path, Some(&self.token.clone()), None)
            .await
    }
}

#[tokio::test]
async fn no_token_and_wrong_token_are_401_with_json() {
    let api = api().await;
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
}

#[tokio::test]
async fn demo_job_is_listed_and_jobs_are_validated_and_versioned() {
    let api = api().await;
    let (s, v) = api.get("/v1/jobs").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["jobs"][0]["title"], "Senior Backend Developer — B2B SaaS");
    let id = v["jobs"][0]["id"].as_str().expect("id").to_string();

    let bad = serde_json::json!({"config_toml": "title = \"x\"\n"}).to_string();
    let (s, v) = api
        .call("POST", "/v1/jobs", Some(&api.token), Some(bad))
        .await;
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

#[tokio::test]
async fn malformed_and_oversized_json_are_clear_4xx() {
    let api = api().await;
    let (s, v) = api
        .call(
            "POST",
            "/v1/jobs",
            Some(&api.token),
            Some("{not json".into()),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(v["error"], "malformed_json");
    let (s, v) = api
        .call(
            "POST",
            "/v1/jobs",
            Some(&api.token),
            Some("{\"config\": 1}".into()),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v["error"], "invalid_body");
    let huge =
        serde_json::json!({"config_toml": "x".repeat(viva_server::api::MAX_BODY_BYTES + 10)})
            .to_string();
    let (s, v) = api
        .call("POST", "/v1/jobs", Some(&api.token), Some(huge))
        .await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(v["error"], "body_too_large");
}

#[tokio::test]
async fn invites_reports_and_erasure() {
    let api = api().await;
    let (_, v) = api.get("/v1/jobs").await;
    let job = v["jobs"][0]["id"].as_str().expect("id").to_string();
    let body = serde_json::json!({"candidate_name": "Ada", "expires_in_hours": 48}).to_string();
    let (s, v) = api
        .call(
            "POST",
            &format!("/v1/jobs/{job}/invites"),
            Some(&api.token),
            Some(body),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let token = v["token"].as_str().expect("token").to_string();
    let invite = v["invite"]["id"].as_str().expect("id").to_string();
    let candidate = v["invite"]["candidate_id"]
        .as_str()
        .expect("candidate")
        .to_string();
    // The token is not stored: the listing never shows it.
    let (_, list) = api.get(&format!("/v1/jobs/{job}/invites")).await;
    assert!(!list.to_string().contains(&token));
    // A candidate's invite token is not a recruiter token.
    let (s, v) = api.call("GET", "/v1/jobs", Some(&token), None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(v["error"], "unauthorized");
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
        .redeem_invite(&token, viva_server::store::now_ms())
        .await
        .expect("redeem")
        .is_none());

    // An interview finished and scored by the worker, then read through the API.
    let transcript: viva_interview::Transcript =
        serde_json::from_str(include_str!("../interview/recordings/demo-transcript.json"))
            .expect("transcript");
    let iv = api
        .store
        .create_interview(&job, 1, &candidate, None, 10)
        .await
        .expect("interview");
    api.store
        .finish_interview(&iv, &transcript, 20)
        .await
        .expect("finish");
    viva_server::store::score_one(&api.store, "w", 30, 60_000)
        .await
        .expect("score");
    let (s, v) = api.get(&format!("/v1/interviews?job_id={job}")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["interviews"][0]["state"], "scored");
    let (s, v) = api.get(&format!("/v1/interviews/{iv}/report")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["scorer_version"], viva_scoring::SCORER_VERSION);
    let (s, v) = api.get(&format!("/v1/interviews/{iv}/transcript")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["job_title"], "Senior Backend Developer — B2B SaaS");

    let (s, _) = api
        .call(
            "DELETE",
            &format!("/v1/candidates/{candidate}"),
            Some(&api.token),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = api.get(&format!("/v1/interviews/{iv}/report")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = api.get(&format!("/v1/interviews/{iv}/transcript")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}
