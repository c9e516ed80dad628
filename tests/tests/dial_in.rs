//! Dial-in by PIN through the real binary: `viva simulate --transport twilio --dial-in …` is the
//! caller and Twilio at once — it posts the voice webhook as Twilio does (form parameters,
//! `X-Twilio-Signature`), types keypad entries into the `<Gather>`, follows `<Connect><Stream>`
//! and speaks a real recording as 8 kHz μ-law. Wrong PINs, a forged signature, a revoked invite
//! and a caller over the hourly limit each get a clear answer and change nothing; a caller
//! who hangs up calls back with the same PIN and rejoins the same interview.

use std::path::{Path, PathBuf};

use viva_e2e::*;

const AUTH: &str = "test-auth-token-for-dial-in";
const VOICE: &str = "/v1/telephony/twilio/voice";

fn json(body: &str) -> serde_json::Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}

/// A real read answer (the shared speech set), else the Piper voice.
fn answer_wav(dir: &Path) -> PathBuf {
    let real = workspace_root().join("../shared/speech/librivox_sas01-0880.wav");
    if real.exists() {
        return real;
    }
    eprintln!(
        "note: {} not found; answering with the Piper voice",
        real.display()
    );
    let p = dir.join("answer.wav");
    say_wav("He was not an ill disposed young man.", &p);
    p
}

/// One dial-in call's report. `entries`: keypad entries in order.
fn call(server: &Server, data: &Path, entries: &[&str], answer: &Path) -> serde_json::Value {
    call_with(server, data, entries, &[answer], &[])
}

/// [`call`] with several answers and more `viva simulate` arguments.
fn call_with(
    server: &Server,
    data: &Path,
    entries: &[&str],
    answers: &[&Path],
    extra: &[&str],
) -> serde_json::Value {
    let answers: Vec<String> = answers.iter().map(|a| a.display().to_string()).collect();
    let out = run(viva()
        .env("VIVA_STORAGE_DATA_DIR", data)
        .args([
            "simulate",
            "--transport",
            "twilio",
            "--server",
            &format!("http://{}", server.addr),
            "--dial-in",
            &entries.join(","),
            "--twilio-auth-token",
            AUTH,
            "--answers",
            &answers.join(","),
            "--json",
            "--timeout-s",
            "240",
        ])
        .args(extra));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "simulate failed: {}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("{stdout}");
    json(&stdout)
}

fn said(report: &serde_json::Value) -> Vec<String> {
    report["dial_in_said"]
        .as_array()
        .expect("dial_in_said")
        .iter()
        .map(|s| s.as_str().unwrap_or("").to_string())
        .collect()
}

fn invite(addr: &str, recruiter: &str, job: &str, name: &str) -> serde_json::Value {
    let (s, _, body) = http_request(
        addr,
        "POST",
        &format!("/v1/jobs/{job}/invites"),
        Some(recruiter),
        &format!(r#"{{"candidate_name":"{name}"}}"#),
    );
    assert_eq!(s, 201, "{body}");
    json(&body)
}

#[test]
fn a_caller_joins_by_pin_and_rejoins_after_hanging_up() {
    if !model_available() {
        return;
    }
    let tmp = tempfile::tempdir().expect("tmp");
    let data = tmp.path().join("data");
    std::fs::create_dir_all(&data).expect("data dir");
    let data_dir = data.to_str().expect("utf-8 path");
    let recruiter = recruiter_token(&data);
    let server = Server::start(&[
        ("VIVA_STORAGE_DATA_DIR", data_dir),
        ("DATABASE_URL", ""),
        ("VIVA_TELEPHONY_TWILIO_AUTH_TOKEN", AUTH),
        ("VIVA_TELEPHONY_DIAL_IN_NUMBER", "+15550199"),
        ("VIVA_TELEPHONY_PIN_ATTEMPTS_PER_HOUR", "6"),
    ]);
    let addr = server.addr.as_str();
    let answer = answer_wav(tmp.path());

    let (s, _, body) = http_request(addr, "GET", "/v1/jobs", Some(&recruiter), "");
    assert_eq!(s, 200, "{body}");
    let job = json(&body)["jobs"][0]["id"]
        .as_str()
        .expect("demo job")
        .to_string();
    let inv = invite(addr, &recruiter, &job, "Ada");
    let pin = inv["pin"]
        .as_str()
        .expect("a PIN with the invite")
        .to_string();
    assert_eq!(pin.len(), 8, "{inv}");
    assert!(pin.bytes().all(|b| b.is_ascii_digit()), "{pin}");
    assert_eq!(inv["dial_in_number"], "+15550199");
    // The PIN is shown once: the invite list never carries it.
    let (_, _, list) = http_request(
        addr,
        "GET",
        &format!("/v1/jobs/{job}/invites"),
        Some(&recruiter),
        "",
    );
    assert!(!list.contains(&pin), "{list}");

    // A webhook request without Twilio's signature, or with a forged one: 403, nothing said.
    let form = "CallSid=CAforged&From=%2B15550666&Digits=".to_string() + &pin;
    for sig in ["", "X-Twilio-Signature: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n"] {
        let (s, body) = post(
            addr,
            VOICE,
            &format!("{sig}Content-Type: application/x-www-form-urlencoded\r\n"),
            &form,
        );
        assert_eq!(s, 403, "{body}");
        assert_eq!(json(&body)["error"], "forged_signature", "{body}");
    }

    // Letters and a wrong PIN are asked again; the right one connects to the interview.
    let first = call(&server, &data, &["abcdefgh", "00000000", &pin], &answer);
    let heard = said(&first);
    assert!(heard[0].contains("enter the interview PIN"), "{heard:?}");
    assert_eq!(
        heard
            .iter()
            .filter(|s| s.contains("not recognised"))
            .count(),
        2,
        "{heard:?}"
    );
    assert!(
        heard.last().is_some_and(|s| s.contains("Connecting")),
        "{heard:?}"
    );
    let session = first["session_id"]
        .as_str()
        .expect("session id")
        .to_string();
    assert!(
        first["interviewer_audio_ms"].as_u64().unwrap_or(0) > 1000,
        "{first}"
    );
    let answered = first["transcript"]
        .as_array()
        .expect("transcript")
        .iter()
        .any(|l| l["speaker"] == "candidate" && !l["text"].as_str().unwrap_or("").is_empty());
    assert!(
        answered,
        "the recording's words reached the transcript: {first}"
    );

    // The invite is used and its interview is running.
    let (_, _, list) = http_request(
        addr,
        "GET",
        &format!("/v1/jobs/{job}/invites"),
        Some(&recruiter),
        "",
    );
    let invites = json(&list);
    let used = invites["invites"]
        .as_array()
        .expect("invites")
        .iter()
        .find(|i| i["id"] == inv["invite"]["id"])
        .expect("the invite")
        .clone();
    assert!(used["used_at"].is_i64(), "{used}");

    // The caller hung up mid-interview: the same PIN takes them back to the same session.
    let second = call(&server, &data, &[&pin], &answer);
    let heard = said(&second);
    assert!(
        heard.iter().any(|s| s.contains("Welcome back")),
        "{heard:?}"
    );
    assert_eq!(
        second["session_id"],
        session.as_str(),
        "rejoined the same interview"
    );
    assert!(
        second["interviewer_audio_ms"].as_u64().unwrap_or(0) > 500,
        "{second}"
    );
    // The question the caller hung up on is asked again at once (the caller answers it after
    // the question's mark came back), not reprompted into the void.
    let lines = second["transcript"].as_array().expect("transcript");
    assert!(
        !lines.iter().any(|l| l["text"]
            .as_str()
            .is_some_and(|t| t.starts_with("Take your time"))),
        "no reprompt while the caller was away: {second}"
    );
    assert!(
        second["turns"][0]["response_latency_ms"].is_u64(),
        "the caller heard the question again and answered it: {second}"
    );
    assert_eq!(
        lines.iter().filter(|l| l["speaker"] == "candidate").count(),
        2,
        "{second}"
    );

    // A revoked invite's PIN says so.
    let other = invite(addr, &recruiter, &job, "Grace");
    let (s, _, body) = http_request(
        addr,
        "DELETE",
        &format!(
            "/v1/invites/{}",
            other["invite"]["id"].as_str().expect("id")
        ),
        Some(&recruiter),
        "",
    );
    assert_eq!(s, 204, "{body}");
    let revoked = call(
        &server,
        &data,
        &[other["pin"].as_str().expect("pin")],
        &answer,
    );
    assert!(
        said(&revoked).iter().any(|s| s.contains("no longer valid")),
        "{revoked}"
    );
    assert_eq!(revoked["session_id"], "");

    // Six PIN entries from this number so far (3 + 1 + 1 + this wrong one); the seventh is
    // over the hourly limit: a polite goodbye, and the right PIN is not even looked at.
    let limited = call(&server, &data, &["11111111", &pin], &answer);
    let heard = said(&limited);
    assert!(
        heard.iter().any(|s| s.contains("too many attempts")),
        "{heard:?}"
    );
    assert_eq!(limited["session_id"], "");
    assert_healthy_addr(addr);
    drop(server);
}

fn assert_healthy_addr(addr: &str) {
    let (s, body) = http_get(addr, "/healthz").expect("healthz");
    assert_eq!(s, 200, "{body}");
}

/// One raw POST with extra header lines: (status, body).
fn post(addr: &str, path: &str, headers: &str, body: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    let req = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).expect("write");
    let mut out = String::new();
    s.read_to_string(&mut out).expect("read");
    let status = out
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = out.split("\r\n\r\n").nth(1).unwrap_or("").to_string();
    (status, body)
}

/// An invited caller whose interview ends (a failed knockout closes it politely) is asked to
/// rate it on the keypad; the key pressed is their rating, stored as a phone rating.
#[test]
fn after_the_closing_words_the_caller_rates_the_interview_on_the_keypad() {
    if !model_available() {
        return;
    }
    let tmp = tempfile::tempdir().expect("tmp");
    let data = tmp.path().join("data");
    std::fs::create_dir_all(&data).expect("data dir");
    let recruiter = recruiter_token(&data);
    let server = Server::start(&[
        ("VIVA_STORAGE_DATA_DIR", data.to_str().expect("utf-8 path")),
        ("DATABASE_URL", ""),
        ("VIVA_TELEPHONY_TWILIO_AUTH_TOKEN", AUTH),
    ]);
    let addr = server.addr.as_str();
    let (_, _, body) = http_request(addr, "GET", "/v1/jobs", Some(&recruiter), "");
    let job = json(&body)["jobs"][0]["id"]
        .as_str()
        .expect("demo job")
        .to_string();
    let pin = invite(addr, &recruiter, &job, "Lin")["pin"]
        .as_str()
        .expect("pin")
        .to_string();
    let ready = tmp.path().join("ready.wav");
    let years = tmp.path().join("years.wav");
    say_wav("Yes, I am ready.", &ready);
    // Under the job's three-year minimum: the interview ends after this answer.
    say_wav(
        "I have one year of professional backend experience.",
        &years,
    );
    let report = call_with(&server, &data, &[&pin], &[&ready, &years], &["--rate", "4"]);
    assert!(
        report["ended"]
            .as_str()
            .is_some_and(|e| e.starts_with("1000")),
        "the line closed normally after the rating: {report}"
    );
    let (s, _, body) = http_request(
        addr,
        "GET",
        &format!("/v1/jobs/{job}/feedback"),
        Some(&recruiter),
        "",
    );
    assert_eq!(s, 200, "{body}");
    let fb = json(&body);
    assert_eq!(fb["count"], 1, "{fb}");
    assert_eq!(fb["distribution"][3], 1, "rated 4: {fb}");
    drop(server);
}
