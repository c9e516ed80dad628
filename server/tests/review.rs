//! Human review through the API, on SQLite and on PostgreSQL: the report is name-blind until a
//! recruiter reveals the identity (audit-logged, shown in the report); overrides of the
//! recommendation are stored with who/when/why and shown in JSON, Markdown and HTML; a reason
//! is required (400 JSON); unknown interviews are 404; invite tokens are refused (403); and
//! erasing the candidate removes overrides, reveals and their reasons, keeping audit lines.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::TestDb;
use serde_json::{json, Value};
use tower::ServiceExt;
use viva_server::store::{now_ms, score_one, seed_demo_job, Store};

struct Api {
    router: axum::Router,
    token: String,
    store: Store,
}

async fn api(db: &TestDb) -> Api {
    seed_demo_job(&db.store, 1).await.expect("seed");
    let token = db
        .store
        .create_api_token("rita-recruiter", 1)
        .await
        .expect("token");
    Api {
        router: viva_server::api::router(db.store.clone()),
        token,
        store: db.store.clone(),
    }
}

impl Api {
    async fn raw(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<String>,
    ) -> (StatusCode, String, String) {
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
        let ctype = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let body = axum::body::to_bytes(resp.into_body(), 10 << 20)
            .await
            .expect("body");
        (status, ctype, String::from_utf8_lossy(&body).into_owned())
    }

    async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let (s, ctype, text) = self
            .raw(method, path, token, body.map(|b| b.to_string()))
            .await;
        let v = if text.is_empty() {
            Value::Null
        } else {
            assert!(ctype.starts_with("application/json"), "{s} {ctype}: {text}");
            serde_json::from_str(&text).expect("JSON body")
        };
        (s, v)
    }

    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call("POST", path, Some(&self.token.clone()), Some(body))
            .await
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.call("GET", path, Some(&self.token.clone()), None)
            .await
    }

    /// A scored interview of a candidate named "Ada Lovelace" who says her name in an answer.
    /// Returns (interview id, candidate id, invite token).
    async fn scored_interview(&self) -> (String, String, String) {
        let (_, v) = self.get("/v1/jobs").await;
        let job = v["jobs"][0]["id"].as_str().expect("job").to_string();
        let (s, v) = self
            .post(
                &format!("/v1/jobs/{job}/invites"),
                json!({"candidate_name": "Ada Lovelace", "candidate_email": "ada@example.org"}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        let candidate = v["invite"]["candidate_id"]
            .as_str()
            .expect("cand")
            .to_string();
        let invite = v["invite"]["id"].as_str().expect("invite").to_string();
        let token = v["token"].as_str().expect("token").to_string();
        let iv = self
            .store
            .create_interview(&job, 1, &candidate, Some(&invite), now_ms())
            .await
            .expect("interview");
        let mut transcript = common::demo_transcript();
        let answer = transcript
            .turns
            .iter_mut()
            .flat_map(|t| t.answers.iter_mut())
            .find(|a| a.text.contains("eight years"))
            .expect("the experience answer");
        answer.text = format!("I'm Ada Lovelace. {}", answer.text);
        answer.words = None;
        self.store
            .finish_interview(&iv, &transcript, now_ms())
            .await
            .expect("finish");
        score_one(&self.store, "w", now_ms(), 60_000)
            .await
            .expect("score");
        let stored = self.store.latest_report(&iv).await.expect("report");
        assert!(
            stored.report_json.contains("Lovelace"),
            "precondition: the scorer quotes the answer that names the candidate"
        );
        (iv, candidate, token)
    }
}

async fn review_routes_need_a_recruiter(db: &TestDb) {
    let api = api(db).await;
    let (iv, _, invite_token) = api.scored_interview().await;
    let routes = [
        ("GET", format!("/v1/interviews/{iv}/review"), None),
        (
            "POST",
            format!("/v1/interviews/{iv}/overrides"),
            Some(json!({"recommendation": "No", "reason": "x"})),
        ),
        (
            "POST",
            format!("/v1/interviews/{iv}/reveal"),
            Some(json!({"reason": "x"})),
        ),
    ];
    for (method, path, body) in &routes {
        let (s, v) = api.call(method, path, None, body.clone()).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{method} {path}");
        assert_eq!(v["error"], "unauthorized");
        let (s, _) = api
            .call(method, path, Some("viva_wrong"), body.clone())
            .await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{method} {path}");
        // The candidate's own invite token, on their own interview: still refused.
        let (s, v) = api
            .call(method, path, Some(&invite_token), body.clone())
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{method} {path}");
        assert_eq!(v["error"], "forbidden");
    }
    assert!(api
        .store
        .overrides(&iv)
        .await
        .expect("overrides")
        .is_empty());
    assert!(api.store.reveals(&iv).await.expect("reveals").is_empty());
}
on_both!(auth_sqlite, auth_postgres, review_routes_need_a_recruiter);

async fn bad_requests_are_clear_json(db: &TestDb) {
    let api = api(db).await;
    let (iv, _, _) = api.scored_interview().await;
    let over = format!("/v1/interviews/{iv}/overrides");
    let reveal = format!("/v1/interviews/{iv}/reveal");
    for body in [
        json!({"recommendation": "No"}),
        json!({"recommendation": "No", "reason": ""}),
        json!({"recommendation": "No", "reason": "   \n "}),
    ] {
        let (s, v) = api.post(&over, body.clone()).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(v["error"], "missing_reason", "{body}");
        assert!(v["message"].as_str().is_some_and(|m| m.contains("reason")));
    }
    let (s, v) = api.post(&reveal, json!({})).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(v["error"], "missing_reason");
    let (s, v) = api
        .post(&over, json!({"recommendation": "Hire!", "reason": "r"}))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(v["error"], "bad_recommendation");
    let (s, v) = api
        .post(&over, json!({"reason": "no recommendation given"}))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(v["error"], "bad_recommendation");
    let (s, v) = api
        .post(
            &over,
            json!({"recommendation": "No", "reason": "x".repeat(2001)}),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(v["error"], "bad_reason");
    let (s, v) = api.call("POST", &over, Some(&api.token), None).await;
    assert_eq!(s, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{v}");
    // Unknown interviews are 404 on every review route.
    for (method, path) in [
        ("GET", "/v1/interviews/nope/review"),
        ("GET", "/v1/interviews/nope/report"),
        ("POST", "/v1/interviews/nope/overrides"),
        ("POST", "/v1/interviews/nope/reveal"),
    ] {
        let (s, v) = api
            .call(
                method,
                path,
                Some(&api.token),
                // Each route's own body (an unknown field is refused before the lookup).
                (method == "POST").then(|| {
                    if path.ends_with("/reveal") {
                        json!({"reason": "r"})
                    } else {
                        json!({"recommendation": "No", "reason": "r"})
                    }
                }),
            )
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{method} {path}");
        assert_eq!(v["error"], "not_found");
    }
    let (s, v) = api
        .post("/v1/interviews/a.b/reveal", json!({"reason": "r"}))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(v["error"], "bad_id");
    // An interview without a report has nothing to override.
    let (_, v) = api.get("/v1/jobs").await;
    let job = v["jobs"][0]["id"].as_str().expect("job").to_string();
    let cand = api
        .store
        .create_candidate(Some("Bo"), None, now_ms())
        .await
        .expect("cand");
    let unscored = api
        .store
        .create_interview(&job, 1, &cand, None, now_ms())
        .await
        .expect("iv");
    let (s, v) = api
        .post(
            &format!("/v1/interviews/{unscored}/overrides"),
            json!({"recommendation": "No", "reason": "r"}),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert_eq!(v["error"], "no_report");
    assert!(api.store.overrides(&iv).await.expect("o").is_empty());
}
on_both!(
    bad_requests_sqlite,
    bad_requests_postgres,
    bad_requests_are_clear_json
);

async fn report_is_name_blind_until_revealed_and_shows_overrides(db: &TestDb) {
    let api = api(db).await;
    let (iv, candidate, _) = api.scored_interview().await;
    let report_path = format!("/v1/interviews/{iv}/report");

    // Name-blind by default: the candidate is an id, the name masked in every quote.
    let (s, v) = api.get(&report_path).await;
    assert_eq!(s, StatusCode::OK);
    let text = v.to_string();
    assert!(
        !text.contains("Lovelace") && !text.contains("Ada"),
        "{text}"
    );
    assert!(!text.contains("ada@example.org"));
    assert!(text.contains("I'm [candidate] [candidate]."));
    assert_eq!(v["scorer_version"], viva_scoring::SCORER_VERSION);
    assert_eq!(v["review"]["identity_mode"], "name_blind");
    assert_eq!(v["review"]["revealed"], false);
    assert_eq!(v["review"]["candidate"], format!("candidate {candidate}"));
    assert_eq!(v["review"]["candidate_name"], Value::Null);
    let engine = v["decision"]["recommendation"]
        .as_str()
        .expect("rec")
        .to_string();
    assert_eq!(v["review"]["engine_recommendation"], engine);
    assert_eq!(v["review"]["effective_recommendation"], engine);
    for format in ["md", "html"] {
        let (s, _, body) = api
            .raw(
                "GET",
                &format!("{report_path}?format={format}"),
                Some(&api.token.clone()),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        assert!(!body.contains("Lovelace"), "{format}");
        assert!(body.contains(&format!("candidate {candidate}")), "{format}");
        assert!(body.contains("name-blind"), "{format}");
    }

    // An override: stored with who, when, from → to and why; the same value again is refused.
    let to = if engine == "No" { "Maybe" } else { "No" };
    let before = now_ms();
    let (s, o) = api
        .post(
            &format!("/v1/interviews/{iv}/overrides"),
            json!({"recommendation": to.to_lowercase(), "reason": "  Reference check contradicted the incident story.  "}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{o}");
    assert_eq!(o["by"], "rita-recruiter");
    assert_eq!(o["from"], engine);
    assert_eq!(o["to"], to);
    assert_eq!(
        o["reason"],
        "Reference check contradicted the incident story."
    );
    let at = o["at"].as_i64().expect("at");
    assert!(at >= before && at <= now_ms());
    assert!(o["by_token_id"].as_str().is_some_and(|t| !t.is_empty()));
    let (s, v) = api
        .post(
            &format!("/v1/interviews/{iv}/overrides"),
            json!({"recommendation": to, "reason": "again"}),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert_eq!(v["error"], "unchanged");

    let (_, v) = api.get(&report_path).await;
    assert_eq!(v["review"]["effective_recommendation"], to);
    assert_eq!(v["review"]["engine_recommendation"], engine);
    assert_eq!(
        v["decision"]["recommendation"], engine,
        "the scored report is unchanged"
    );
    let ov = &v["review"]["overrides"][0];
    assert_eq!(ov["by"], "rita-recruiter");
    assert_eq!(
        ov["reason"],
        "Reference check contradicted the incident story."
    );
    assert_eq!(ov["at"], at);
    for format in ["md", "html"] {
        let (_, _, body) = api
            .raw(
                "GET",
                &format!("{report_path}?format={format}"),
                Some(&api.token.clone()),
                None,
            )
            .await;
        assert!(
            body.contains(&format!("Recommendation after human review: {to}")),
            "{format}: {body}"
        );
        assert!(body.contains("rita-recruiter"), "{format}");
        assert!(
            body.contains("Reference check contradicted the incident story."),
            "{format}"
        );
        assert!(
            body.contains(&viva_scoring::review::rfc3339_from_ms(at)),
            "{format}: when"
        );
        assert!(body.contains("Human overrides"), "{format}");
    }
    assert!(api
        .store
        .audit_actions(&iv)
        .await
        .expect("audit")
        .contains(&"recommendation.overridden".to_string()));

    // The reveal: identity returned and shown, the reveal audit-logged and in the report.
    let (s, r) = api
        .post(
            &format!("/v1/interviews/{iv}/reveal"),
            json!({"reason": "Shortlisted: scheduling the on-site"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(r["candidate"]["name"], "Ada Lovelace");
    assert_eq!(r["candidate"]["email"], "ada@example.org");
    assert_eq!(r["reveal"]["by"], "rita-recruiter");
    assert_eq!(r["reveal"]["candidate_id"], candidate);
    let events = api.store.audit_events(&iv).await.expect("audit");
    let line = events
        .iter()
        .find(|(_, _, action, _)| action == "identity.revealed")
        .expect("a reveal audit line");
    assert_eq!(line.1, "api:rita-recruiter");
    assert_eq!(Some(line.0), r["reveal"]["at"].as_i64());
    assert!(
        line.3.contains("Shortlisted: scheduling the on-site"),
        "{}",
        line.3
    );
    assert!(line.3.contains(&candidate));

    let (_, v) = api.get(&report_path).await;
    assert_eq!(v["review"]["revealed"], true);
    assert_eq!(v["review"]["candidate_name"], "Ada Lovelace");
    assert!(v.to_string().contains("I'm Ada Lovelace."));
    assert_eq!(
        v["review"]["reveals"][0]["reason"],
        "Shortlisted: scheduling the on-site"
    );
    let (_, _, md) = api
        .raw(
            "GET",
            &format!("{report_path}?format=md"),
            Some(&api.token.clone()),
            None,
        )
        .await;
    assert!(md.contains("Ada Lovelace <ada@example.org>"), "{md}");
    assert!(md.contains("Identity reveals (audit log)"));
    assert!(md.contains("Shortlisted: scheduling the on-site"));
    let (s, v) = api.get(&format!("/v1/interviews/{iv}/review")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["revealed"], true);
    assert_eq!(v["overrides"].as_array().map(Vec::len), Some(1));
    assert_eq!(v["reveals"].as_array().map(Vec::len), Some(1));
}
on_both!(
    report_sqlite,
    report_postgres,
    report_is_name_blind_until_revealed_and_shows_overrides
);

async fn erasure_removes_review_data_and_keeps_audit_lines(db: &TestDb) {
    let api = api(db).await;
    let (iv, candidate, _) = api.scored_interview().await;
    let (s, _) = api
        .post(
            &format!("/v1/interviews/{iv}/overrides"),
            json!({"recommendation": "Maybe", "reason": "Ada Lovelace asked for a second round"}),
        )
        .await;
    // The engine may already say Maybe: then override to No instead.
    if s == StatusCode::CONFLICT {
        let (s, v) = api
            .post(
                &format!("/v1/interviews/{iv}/overrides"),
                json!({"recommendation": "No", "reason": "Ada Lovelace asked for a second round"}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
    } else {
        assert_eq!(s, StatusCode::CREATED);
    }
    let (s, _) = api
        .post(
            &format!("/v1/interviews/{iv}/reveal"),
            json!({"reason": "Ada Lovelace is on the shortlist"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = api
        .call(
            "DELETE",
            &format!("/v1/candidates/{candidate}"),
            Some(&api.token.clone()),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    // Overrides, reveals and the report are gone; nothing names the candidate any more.
    assert!(api.store.overrides(&iv).await.expect("o").is_empty());
    assert!(api.store.reveals(&iv).await.expect("r").is_empty());
    for path in [
        format!("/v1/interviews/{iv}/report"),
        format!("/v1/interviews/{iv}/review"),
    ] {
        let (s, _) = api.get(&path).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{path}");
    }
    let (s, _) = api
        .post(
            &format!("/v1/interviews/{iv}/reveal"),
            json!({"reason": "again"}),
        )
        .await;
    assert_eq!(
        s,
        StatusCode::NOT_FOUND,
        "an erased candidate has nothing to reveal"
    );
    // The audit lines stay (who, when, what), their free-text reasons scrubbed.
    let events = api.store.audit_events(&iv).await.expect("audit");
    let actions: Vec<&str> = events.iter().map(|e| e.2.as_str()).collect();
    assert_eq!(
        actions,
        vec!["recommendation.overridden", "identity.revealed"],
        "{events:?}"
    );
    for (_, actor, _, detail) in &events {
        assert_eq!(actor, "api:rita-recruiter");
        assert!(!detail.contains("Lovelace"), "{detail}");
    }
    assert_eq!(
        api.store.audit_actions(&candidate).await.expect("audit"),
        vec!["candidate.erased"]
    );
    let who = api
        .store
        .candidate_identity(&candidate)
        .await
        .expect("identity");
    assert!(who.erased && who.name.is_none() && who.email.is_none());
    // Nothing anywhere in the database still holds the name.
    let hits: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM audit_events WHERE detail LIKE '%Lovelace%'")
            .fetch_one(api.store.pool())
            .await
            .expect("count");
    assert_eq!(hits, 0);
}
on_both!(
    erasure_sqlite,
    erasure_postgres,
    erasure_removes_review_data_and_keeps_audit_lines
);
