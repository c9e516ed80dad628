//! A candidate's invite starts a live session through the real binary, and the session is
//! filed under a stored interview the recruiter API shows (in progress, with its recording
//! link); the invite is single use, and its token opens only that interview.

use viva_e2e::*;

/// One HTTP/1.1 request: (status, body).
fn request(addr: &str, method: &str, path: &str, token: Option<&str>, body: &str) -> (u16, String) {
    let (status, _, body) = http_request(addr, method, path, token, body);
    (status, body)
}

fn json(body: &str) -> serde_json::Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}

#[test]
fn an_invite_starts_a_session_filed_under_its_interview() {
    if !model_available() {
        return;
    }
    let data = tempfile::tempdir().expect("tmp");
    let data_dir = data.path().to_str().expect("utf-8 path");
    let recruiter = recruiter_token(data.path());
    let server = Server::start(&[("VIVA_STORAGE_DATA_DIR", data_dir), ("DATABASE_URL", "")]);
    let addr = server.addr.as_str();

    let (s, body) = request(addr, "GET", "/v1/jobs", Some(&recruiter), "");
    assert_eq!(s, 200, "{body}");
    let job = json(&body)["jobs"][0]["id"]
        .as_str()
        .expect("demo job")
        .to_string();
    let (s, body) = request(
        addr,
        "POST",
        &format!("/v1/jobs/{job}/invites"),
        Some(&recruiter),
        r#"{"candidate_name":"Grace","accommodations":{"extra_time":2,"captions":true}}"#,
    );
    assert_eq!(s, 201, "{body}");
    let invite = json(&body)["token"].as_str().expect("token").to_string();

    let start = format!(r#"{{"invite":"{invite}"}}"#);
    let (s, body) = request(addr, "POST", "/v1/sessions", None, &start);
    assert_eq!(s, 201, "{body}");
    let v = json(&body);
    let interview = v["interview_id"]
        .as_str()
        .expect("interview_id")
        .to_string();
    let session = v["id"].as_str().expect("session id").to_string();
    // The page learns the candidate's adjustments with the session (to say they are in place).
    assert_eq!(v["accommodations"]["extra_time"], 2.0, "{v}");
    assert_eq!(v["accommodations"]["captions"], true, "{v}");
    let (s, body) = request(addr, "POST", "/v1/sessions", None, &start);
    assert_eq!(s, 403, "single use: {body}");
    assert_eq!(json(&body)["error"], "invalid_invite");

    let (s, body) = request(
        addr,
        "GET",
        &format!("/v1/interviews/{interview}"),
        Some(&recruiter),
        "",
    );
    assert_eq!(s, 200, "{body}");
    let v = json(&body);
    assert_eq!(v["state"], "in_progress");
    assert_eq!(
        v["recording_url"],
        format!("/v1/interviews/{interview}/recording")
    );
    assert!(
        data.path().join("recordings").join(&session).is_dir(),
        "the session records under data/recordings/<session id>"
    );
    // The candidate's token opens this interview, and nothing a recruiter reads.
    let (s, _) = request(
        addr,
        "GET",
        &format!("/v1/interviews/{interview}"),
        Some(&invite),
        "",
    );
    assert_eq!(s, 200);
    let (s, _) = request(addr, "GET", "/v1/interviews", Some(&invite), "");
    assert_eq!(s, 403);

    // A demo session is filed too (under the stored demo job).
    let (s, body) = request(addr, "POST", "/v1/sessions", None, r#"{"job":"demo"}"#);
    assert_eq!(s, 201, "{body}");
    assert!(json(&body)["interview_id"].is_string(), "{body}");
    let (s, body) = request(
        addr,
        "POST",
        "/v1/sessions",
        None,
        r#"{"job":"demo","invite":"x"}"#,
    );
    assert_eq!(s, 400, "{body}");
    drop(server);
}
