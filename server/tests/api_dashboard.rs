//! The API routes the dashboard adds, over an in-process router on SQLite and PostgreSQL: a job
//! drafted from a pasted job description (`POST /v1/jobs/draft`, bad input → clear 4xx), jobs
//! created from JSON as well as TOML (field and line errors), the question bank, and signed
//! recording links (Range through the link → 206; expired or forged → 401/403).

mod common;

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use common::TestDb;
use serde_json::{json, Value};
use tower::ServiceExt;
use viva_server::store::{now_ms, seed_demo_job};

struct Raw {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Raw {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("JSON body")
    }
}

struct Api {
    router: axum::Router,
    token: String,
}

impl Api {
    async fn new(db: &TestDb) -> Api {
        seed_demo_job(&db.store, 1).await.expect("seed");
        let token = db.store.create_api_token("test", 1).await.expect("token");
        Api {
            router: viva_server::api::router(db.store.clone()),
            token,
        }
    }

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

    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let r = self
            .raw("POST", path, Some(&self.token), Some(body.to_string()), &[])
            .await;
        (r.status, r.json())
    }
}

const JD: &str = "Senior Backend Engineer\n\
    We are looking for an engineer to build REST APIs and event-driven services on Kafka and PostgreSQL.\n\
    You will own database schema design, query performance and observability with Prometheus.\n\
    Requirements: 5+ years of backend experience, strong SQL, experience with Kubernetes.\n\
    You must be authorized to work in the EU.";

async fn jobs_are_drafted_from_a_description(db: &TestDb) {
    let api = Api::new(db).await;
    let (s, v) = api.post("/v1/jobs/draft", json!({"description": JD})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["title"], "Senior Backend Engineer");
    let toml = v["config_toml"].as_str().expect("config_toml");
    let job = viva_interview::JobConfig::from_toml_str(toml).expect("the draft is a valid job");
    assert!(job.skills.required.len() >= 3, "{toml}");
    assert!(
        job.knockouts.iter().any(|k| k.threshold == Some(5.0)),
        "5+ years became a knockout: {toml}"
    );
    assert_eq!(v["config"]["title"], "Senior Backend Engineer");
    // Nothing was stored: the draft is for review.
    let r = api
        .raw("GET", "/v1/jobs", Some(&api.token), None, &[])
        .await;
    assert_eq!(r.json()["jobs"].as_array().map(Vec::len), Some(1));
    // Saved as drafted, it is a job.
    let (s, saved) = api.post("/v1/jobs", json!({"config_toml": toml})).await;
    assert_eq!(s, StatusCode::CREATED, "{saved}");
    assert_eq!(saved["title"], "Senior Backend Engineer");
    // A title given overrides the one found.
    let (s, v) = api
        .post(
            "/v1/jobs/draft",
            json!({"description": JD, "title": "Platform Engineer"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["title"], "Platform Engineer");

    // Bad input: a clear 4xx with a code, never a 500 or a draft of nothing.
    for (body, status, code) in [
        (json!({"description": ""}), 422, "description_too_short"),
        (
            json!({"description": "   \n\t  "}),
            422,
            "description_too_short",
        ),
        (
            json!({"description": "Backend engineer wanted"}),
            422,
            "description_too_short",
        ),
        (
            json!({"description": "word ".repeat(5000)}),
            422,
            "description_too_long",
        ),
        (json!({}), 422, "invalid_body"),
        (json!({"description": 42}), 422, "invalid_body"),
        (json!({"description": JD, "extra": 1}), 422, "invalid_body"),
    ] {
        let (s, v) = api.post("/v1/jobs/draft", body.clone()).await;
        assert_eq!(s.as_u16(), status, "{body}: {v}");
        assert_eq!(v["error"], code, "{body}: {v}");
        assert!(v["message"].as_str().is_some_and(|m| !m.is_empty()), "{v}");
    }
    let r = api
        .raw(
            "POST",
            "/v1/jobs/draft",
            Some(&api.token),
            Some("{not json".into()),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json()["error"], "malformed_json");
    // Recruiters only.
    let r = api
        .raw(
            "POST",
            "/v1/jobs/draft",
            None,
            Some(json!({"description": JD}).to_string()),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}
on_both!(
    draft_sqlite,
    draft_postgres,
    jobs_are_drafted_from_a_description
);

async fn jobs_from_json_with_field_errors(db: &TestDb) {
    let api = Api::new(db).await;
    let demo = viva_interview::demo_job();
    let mut config = serde_json::to_value(&demo).expect("json");
    config["title"] = json!("Backend (from JSON)");
    let (s, v) = api
        .post(
            "/v1/jobs",
            json!({"config_json": serde_json::to_string_pretty(&config).unwrap()}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["title"], "Backend (from JSON)");
    // Stored as TOML that parses back to the same job.
    let stored = viva_interview::JobConfig::from_toml_str(v["config_toml"].as_str().unwrap())
        .expect("stored TOML is valid");
    assert_eq!(stored.title, "Backend (from JSON)");
    assert_eq!(stored.rubric, demo.rubric);

    // A rule broken: the problem names its field.
    let mut bad = config.clone();
    bad["rubric"]["dimensions"][0]["weight"] = json!(99);
    let (s, v) = api
        .post("/v1/jobs", json!({"config_json": bad.to_string()}))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["error"], "invalid_job");
    let details = v["details"].as_array().expect("details");
    assert!(
        details
            .iter()
            .any(|d| d["field"].as_str().unwrap_or("").starts_with("rubric")),
        "{v}"
    );
    // A wrong type or a syntax error: the JSON line.
    let text = serde_json::to_string_pretty(&config)
        .unwrap()
        .replace("\"duration_minutes\": 45", "\"duration_minutes\": \"long\"");
    let line = text
        .lines()
        .position(|l| l.contains("\"long\""))
        .map(|i| i + 1);
    let (s, v) = api.post("/v1/jobs", json!({"config_json": text})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["details"][0]["line"].as_u64(), line.map(|l| l as u64));
    let (s, v) = api
        .post("/v1/jobs", json!({"config_json": "{\"title\": "}))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["details"][0]["line"], 1);
    // TOML still reports lines; both at once or neither is refused.
    let (s, v) = api
        .post("/v1/jobs", json!({"config_toml": "title = 42\n"}))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v["details"][0]["line"], 1);
    for body in [json!({}), json!({"config_toml": "", "config_json": "{}"})] {
        let (s, v) = api.post("/v1/jobs", body).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(v["error"], "invalid_body");
    }

    // The bank the job form picks questions from: each question is a usable custom question.
    let r = api
        .raw("GET", "/v1/bank", Some(&api.token), None, &[])
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let bank = r.json();
    let questions = bank["questions"].as_array().expect("questions");
    assert!(questions.len() >= 10, "{} questions", questions.len());
    assert!(bank["concepts"].as_array().is_some_and(|c| !c.is_empty()));
    let mut picked = config.clone();
    picked["title"] = json!("Backend (bank questions)");
    picked["custom_questions"] = json!([questions[0]["spec"], questions[1]["spec"]]);
    let (s, v) = api
        .post("/v1/jobs", json!({"config_json": picked.to_string()}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
}
on_both!(
    json_jobs_sqlite,
    json_jobs_postgres,
    jobs_from_json_with_field_errors
);

async fn signed_recording_links(db: &TestDb) {
    let api = Api::new(db).await;
    let job = db.store.list_jobs().await.unwrap()[0].id.clone();
    let cand = db
        .store
        .create_candidate(None, None, now_ms())
        .await
        .unwrap();
    let iv = db
        .store
        .create_interview(&job, 1, &cand, None, now_ms())
        .await
        .unwrap();
    let session = format!("s-{iv}");
    viva_server::store::link::start_session_interview(&db.store, &iv, &session)
        .await
        .unwrap();
    let dir = db.recordings_dir().join(&session);
    std::fs::create_dir_all(&dir).unwrap();
    let audio: Vec<u8> = (0..50_000u32).map(|i| (i % 253) as u8).collect();
    std::fs::write(dir.join("recording.wav"), &audio).unwrap();
    std::fs::write(
        dir.join("turns.json"),
        serde_json::to_vec(&common::demo_transcript()).unwrap(),
    )
    .unwrap();
    viva_server::store::link::file_session(&db.store, &iv, &dir, now_ms())
        .await
        .unwrap();

    let before = now_ms();
    let (s, link) = api
        .post(&format!("/v1/interviews/{iv}/recording/link"), json!({}))
        .await;
    assert_eq!(s, StatusCode::OK, "{link}");
    let url = link["url"].as_str().expect("url").to_string();
    assert!(
        url.starts_with(&format!("/v1/interviews/{iv}/recording?exp=")),
        "{url}"
    );
    let expires = link["expires_at"].as_i64().expect("expires_at");
    assert!(
        expires > before && expires <= before + 31 * 60 * 1000,
        "short-lived: {expires}"
    );

    // No token needed with the link; Range works through it.
    let r = api
        .raw("GET", &url, None, None, &[("range", "bytes=100-199")])
        .await;
    assert_eq!(r.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(r.body, audio[100..200]);
    assert_eq!(r.headers["content-range"], "bytes 100-199/50000");
    let r = api.raw("GET", &url, None, None, &[]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body.len(), audio.len());

    // Forged: another signature, another interview's link, a changed expiry.
    let (path, query) = url.split_once('?').unwrap();
    let exp = query
        .split('&')
        .find_map(|kv| kv.strip_prefix("exp="))
        .unwrap();
    let sig = query
        .split('&')
        .find_map(|kv| kv.strip_prefix("sig="))
        .unwrap();
    let other = db
        .store
        .create_interview(&job, 1, &cand, None, now_ms())
        .await
        .unwrap();
    let later = exp.parse::<i64>().unwrap() + 3600;
    for forged in [
        format!("{path}?exp={exp}&sig={}", "0".repeat(64)),
        format!("{path}?exp={exp}&sig=nothex"),
        format!("{path}?exp={exp}"),
        format!("{path}?sig={sig}"),
        format!("{path}?exp={later}&sig={sig}"),
        format!("/v1/interviews/{other}/recording?exp={exp}&sig={sig}"),
    ] {
        let r = api.raw("GET", &forged, None, None, &[]).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{forged}");
        assert_eq!(r.json()["error"], "bad_signature", "{forged}");
    }
    // Expired: a correctly signed link whose time has passed.
    let secret = db
        .store
        .server_secret("recording_links")
        .await
        .expect("secret");
    let past = now_ms() / 1000 - 10;
    let expired = format!(
        "{path}?exp={past}&sig={}",
        viva_server::api::recordings::sign_link(&secret, &iv, past)
    );
    let r = api.raw("GET", &expired, None, None, &[]).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.json()["error"], "link_expired");
    // The secret is kept: asking again gives the same one.
    assert_eq!(
        db.store.server_secret("recording_links").await.unwrap(),
        secret
    );

    // The link route is for recruiters; no recording → 404.
    let r = api
        .raw(
            "POST",
            &format!("/v1/interviews/{iv}/recording/link"),
            None,
            None,
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let (s, v) = api
        .post(&format!("/v1/interviews/{other}/recording/link"), json!({}))
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{v}");
    // The bearer token still works, and no auth at all is still 401.
    let r = api
        .raw(
            "GET",
            path,
            Some(&api.token),
            None,
            &[("range", "bytes=0-9")],
        )
        .await;
    assert_eq!(r.status, StatusCode::PARTIAL_CONTENT);
    let r = api.raw("GET", path, None, None, &[]).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}
on_both!(links_sqlite, links_postgres, signed_recording_links);
