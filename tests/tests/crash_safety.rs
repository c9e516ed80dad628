//! Crash safety and the session lifecycle on the real binary: a server killed with SIGKILL
//! mid-interview comes back with the interview where it stood; one nobody resumes is filed as
//! interrupted and scored; SIGTERM pauses live candidates and they resume after the restart;
//! every way a connection ends ends (or pauses) its session; floods are refused.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::*;
use viva_e2e::http_request as request;
use viva_e2e::*;

fn json(body: &str) -> serde_json::Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}

/// A data folder of its own (kept while the first value lives) and a recruiter token for it.
fn fresh_data() -> (tempfile::TempDir, std::path::PathBuf, String) {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let recruiter = recruiter_token(&data);
    (tmp, data, recruiter)
}

fn serve(data: &Path, extra: &[(&str, &str)]) -> Server {
    let mut env = vec![
        ("VIVA_STORAGE_DATA_DIR", data.to_str().expect("utf-8 path")),
        ("DATABASE_URL", ""),
    ];
    env.extend_from_slice(extra);
    Server::start(&env)
}

/// A demo session filed under a stored interview: (session id, token, interview id).
fn demo_session(addr: &str) -> (String, String, String) {
    let (status, _, body) = request(addr, "POST", "/v1/sessions", None, r#"{"job":"demo"}"#);
    assert_eq!(status, 201, "{body}");
    let v = json(&body);
    (
        v["id"].as_str().unwrap().to_string(),
        v["resume_token"].as_str().unwrap().to_string(),
        v["interview_id"]
            .as_str()
            .expect("filed interview")
            .to_string(),
    )
}

fn join(addr: &str, id: &str, token: &str) -> (Ws, serde_json::Value) {
    let mut ws = Ws::connect(addr, &format!("/v1/sessions/{id}/ws"))
        .map_err(|e| format!("{e:?}"))
        .expect("upgrade");
    ws.hello(token);
    let welcome = ws.event("welcome");
    (ws, welcome)
}

/// Sends a typed answer; returns the next utterance that awaits one (remarks before it skipped).
fn answer(ws: &mut Ws, text: &str) -> serde_json::Value {
    let msg = serde_json::json!({"type": "text_answer", "text": text}).to_string();
    ws.text(&msg);
    loop {
        let e = ws.event("interviewer");
        if e["awaits_answer"] == true {
            return e;
        }
    }
}

const READY: &str = "Yes, I am ready to begin.";
const EXPERIENCE: &str =
    "I have seven years of professional backend development experience, mostly Go and PostgreSQL.";
const DESIGN: &str = "I would put a queue in front of the workers, make each consumer idempotent, and measure the p99 latency before and after.";

/// Polls the interview until `done` holds (or panics after `secs`).
fn wait_interview(
    addr: &str,
    token: &str,
    id: &str,
    secs: u64,
    done: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let (s, _, body) = request(
            addr,
            "GET",
            &format!("/v1/interviews/{id}"),
            Some(token),
            "",
        );
        assert_eq!(s, 200, "{body}");
        let v = json(&body);
        if done(&v) {
            return v;
        }
        assert!(Instant::now() < deadline, "interview never got there: {v}");
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// Seconds of the session's stereo 16 kHz PCM16 WAV that its header vouches for.
fn wav_seconds(path: &Path) -> f64 {
    let bytes = std::fs::read(path).expect("the recording survives the kill");
    assert!(bytes.len() >= 44 && &bytes[0..4] == b"RIFF" && &bytes[36..40] == b"data");
    let rate = u32::from_le_bytes([bytes[24], bytes[25], bytes[26], bytes[27]]);
    let data = u32::from_le_bytes([bytes[40], bytes[41], bytes[42], bytes[43]]);
    assert!(
        (data as usize) <= bytes.len() - 44,
        "the header claims no more than the file holds"
    );
    f64::from(data) / 4.0 / f64::from(rate)
}

/// 20 ms of quiet PCM16 frames at real-time pace, `ms` long.
fn stream_quiet(ws: &mut Ws, ms: u64) {
    let frame: Vec<u8> = (0..320)
        .flat_map(|i| (((i % 7) as i16 - 3) * 20).to_le_bytes())
        .collect();
    let start = Instant::now();
    for n in 0..ms / 20 {
        ws.send(BINARY, &frame).expect("audio frame");
        let due = start + Duration::from_millis(20 * (n + 1));
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
    }
}

#[test]
fn a_killed_server_resumes_the_interview_where_it_stood_and_files_it_whole() {
    if !model_available() {
        return;
    }
    let (_tmp, data, recruiter) = fresh_data();
    let mut first = serve(&data, &[]);
    let addr = first.addr.clone();
    let created = Instant::now();
    let (id, token, interview) = demo_session(&addr);
    let (mut ws, welcome) = join(&addr, &id, &token);
    assert_eq!(welcome["resumed"], false);
    let greeting = ws.event("interviewer");
    assert!(greeting["text"].as_str().unwrap().contains("ready"));
    let q1 = answer(&mut ws, READY);
    let q2 = answer(&mut ws, EXPERIENCE);
    let pending = q2["text"].as_str().unwrap().to_string();
    assert_ne!(q1["text"], q2["text"]);
    // The candidate is mid-thought, sending audio, when the process dies.
    stream_quiet(&mut ws, 2_000);
    let killed_at = created.elapsed().as_secs_f64();
    first.child.kill().expect("SIGKILL");
    let _ = first.child.wait();
    drop(first);

    // At most a second of audio is lost: the WAV on disk is valid and reaches the kill.
    let wav = data.join("recordings").join(&id).join("recording.wav");
    let kept = wav_seconds(&wav);
    eprintln!("recording after SIGKILL: {kept:.2} s of {killed_at:.2} s of session");
    assert!(
        kept >= killed_at - 1.0,
        "lost {:.2} s of audio",
        killed_at - kept
    );

    // A new process on the same data: the candidate reconnects with the same link and token.
    let second = serve(&data, &[]);
    let addr = second.addr.clone();
    let v = wait_interview(&addr, &recruiter, &interview, 5, |_| true);
    assert_eq!(v["state"], "in_progress", "{v}");
    let (mut ws, welcome) = join(&addr, &id, &token);
    assert_eq!(welcome["resumed"], true, "{welcome}");
    let back = ws.event("interviewer");
    let said = back["text"].as_str().unwrap();
    assert!(said.starts_with("Welcome back"), "{said}");
    assert!(
        said.contains(&pending),
        "the question owed is asked again: {said:?} / {pending:?}"
    );
    // The plan goes on from there: the answer belongs to that question, the next one is new.
    let q3 = answer(&mut ws, DESIGN);
    let q3 = q3["text"].as_str().unwrap();
    assert!(!q3.contains(&pending), "{q3}");
    ws.text(r#"{"type":"bye"}"#);
    let (code, _) = ws.close_code().expect("closed after bye");
    assert_eq!(code, 1000);

    // Filed whole: both answers from before the crash and the one after, in their turns.
    wait_interview(&addr, &recruiter, &interview, 30, |v| {
        v["state"] == "completed" || v["state"] == "scored"
    });
    let (s, _, body) = request(
        &addr,
        "GET",
        &format!("/v1/interviews/{interview}/transcript"),
        Some(&recruiter),
        "",
    );
    assert_eq!(s, 200, "{body}");
    let t = json(&body);
    let turns = t["turns"].as_array().unwrap();
    let answered_to = |needle: &str| {
        turns
            .iter()
            .find(|t| {
                t["answers"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|a| a["text"].as_str() == Some(needle)))
            })
            .map(|t| t["prompt"].as_str().unwrap_or("").to_string())
    };
    assert_eq!(
        answered_to(READY).as_deref(),
        greeting["text"].as_str(),
        "{t}"
    );
    assert_eq!(answered_to(EXPERIENCE).as_deref(), q1["text"].as_str());
    assert_eq!(answered_to(DESIGN).as_deref(), Some(pending.as_str()));
    assert_eq!(
        turns
            .iter()
            .filter(|t| t["prompt"] == pending.as_str())
            .count(),
        1,
        "the resume did not add a turn"
    );
    drop(second);
}

#[test]
fn an_interview_nobody_resumes_is_filed_as_interrupted_and_scored() {
    if !model_available() {
        return;
    }
    let (_tmp, data, recruiter) = fresh_data();
    let mut first = serve(&data, &[]);
    let (id, token, interview) = demo_session(&first.addr);
    let (mut ws, _) = join(&first.addr, &id, &token);
    ws.event("interviewer");
    answer(&mut ws, READY);
    answer(&mut ws, EXPERIENCE);
    std::thread::sleep(Duration::from_millis(500));
    first.child.kill().expect("SIGKILL");
    let _ = first.child.wait();
    drop(first);

    let second = serve(&data, &[("VIVA_SESSION_RESUME_WINDOW_S", "2")]);
    let addr = second.addr.clone();
    let v = wait_interview(&addr, &recruiter, &interview, 30, |v| {
        v["state"] == "interrupted" && v["queue_state"] == "done"
    });
    assert_eq!(v["state"], "interrupted", "{v}");
    let (s, _, body) = request(
        &addr,
        "GET",
        &format!("/v1/interviews/{interview}/report"),
        Some(&recruiter),
        "",
    );
    assert_eq!(s, 200, "a report for the interrupted interview: {body}");
    let (s, _, body) = request(
        &addr,
        "GET",
        &format!("/v1/interviews/{interview}/transcript"),
        Some(&recruiter),
        "",
    );
    assert_eq!(s, 200);
    assert!(body.contains("seven years"), "answered turns kept: {body}");
    // Too late to resume: the session is gone.
    let Err((status, _)) = Ws::connect(&addr, &format!("/v1/sessions/{id}/ws")) else {
        panic!("an interrupted session was still joinable")
    };
    assert_eq!(status, 404);
}

#[test]
fn sigterm_pauses_live_candidates_who_resume_after_the_restart() {
    if !model_available() {
        return;
    }
    let (_tmp, data, recruiter) = fresh_data();
    let mut first = serve(&data, &[("VIVA_SHUTDOWN_GRACE_S", "15")]);
    let addr = first.addr.clone();
    let (id, token, interview) = demo_session(&addr);
    let (mut ws, _) = join(&addr, &id, &token);
    ws.event("interviewer");
    let q1 = answer(&mut ws, READY);
    let pending = q1["text"].as_str().unwrap().to_string();

    let term = Instant::now();
    let ok = std::process::Command::new("kill")
        .args(["-TERM", &first.child.id().to_string()])
        .status()
        .expect("kill")
        .success();
    assert!(ok);
    // Draining: no new sessions, and the health check says so while candidates are told.
    std::thread::sleep(Duration::from_millis(300));
    let (s, head, body) = request(&addr, "POST", "/v1/sessions", None, r#"{"job":"demo"}"#);
    assert_eq!(s, 503, "{body}");
    assert!(head.to_lowercase().contains("retry-after"), "{head}");
    let (s, health) = http_get(&addr, "/healthz").expect("still answering while draining");
    assert_eq!(s, 200);
    assert_eq!(json(&health)["status"], "draining", "{health}");
    // The interviewer says it must pause; the session ends with `paused` and close 1012.
    let notice = ws.event("interviewer");
    assert!(
        notice["text"].as_str().unwrap().contains("pause"),
        "{notice}"
    );
    let ended = ws.event("ended");
    assert_eq!(ended["reason"], "paused");
    let (code, _) = ws.close_code().expect("close frame");
    assert_eq!(code, 1012);
    let status = first.child.wait().expect("exit");
    let took = term.elapsed();
    eprintln!("SIGTERM → exit in {took:?} ({status})");
    assert!(
        took < Duration::from_secs(15 + 3),
        "exits within the grace: {took:?}"
    );
    drop(first);

    let second = serve(&data, &[]);
    let addr = second.addr.clone();
    let v = wait_interview(&addr, &recruiter, &interview, 5, |_| true);
    assert_eq!(v["state"], "in_progress", "paused, not filed: {v}");
    let (mut ws, welcome) = join(&addr, &id, &token);
    assert_eq!(welcome["resumed"], true);
    let back = ws.event("interviewer");
    let said = back["text"].as_str().unwrap();
    assert!(
        said.starts_with("Welcome back") && said.contains(&pending),
        "{said}"
    );
    let next = answer(&mut ws, EXPERIENCE);
    assert!(!next["text"].as_str().unwrap().contains(&pending));
    ws.text(r#"{"type":"bye"}"#);
    assert_eq!(ws.close_code().map(|c| c.0), Some(1000));
    wait_interview(&addr, &recruiter, &interview, 30, |v| {
        v["state"] == "completed" || v["state"] == "scored"
    });
}

#[test]
fn every_way_a_connection_ends_ends_or_pauses_its_session() {
    if !model_available() {
        return;
    }
    let (_tmp, data, recruiter) = fresh_data();
    let server = serve(
        &data,
        &[
            ("VIVA_SESSION_RESUME_GRACE_S", "1"),
            ("VIVA_SESSION_ATTACH_TIMEOUT_S", "2"),
            ("VIVA_SESSION_SILENCE_REPROMPT_S", "2"),
            ("VIVA_SESSION_SILENCE_GIVE_UP_S", "4"),
        ],
    );
    let addr = server.addr.clone();
    let filed = |iv: &str| {
        wait_interview(&addr, &recruiter, iv, 30, |v| {
            v["state"] != "in_progress" && v["state"] != "created"
        })
    };

    // `bye` during the greeting: the interviewer stops at once and the close follows.
    let (id, token, iv) = demo_session(&addr);
    let (mut ws, _) = join(&addr, &id, &token);
    ws.event("interviewer");
    let bye = Instant::now();
    ws.text(r#"{"type":"bye"}"#);
    let (code, _) = ws.close_code().expect("close");
    let took = bye.elapsed();
    eprintln!("bye → close in {took:?}");
    assert_eq!(code, 1000);
    assert!(took < Duration::from_secs(3), "bye took {took:?}");
    filed(&iv);

    // A close by the server for a rule broken (1009, 1007): the session is not left live.
    for (payload, want) in [(vec![0u8; 40_000], 1009), (vec![1u8, 2, 3], 1007)] {
        let (id, token, iv) = demo_session(&addr);
        let (mut ws, _) = join(&addr, &id, &token);
        ws.event("interviewer");
        answer(&mut ws, READY);
        ws.send(BINARY, &payload).unwrap();
        assert_eq!(ws.close_code().map(|c| c.0), Some(want));
        let v = filed(&iv);
        eprintln!("after close {want}: {}", v["state"]);
        let Err((status, _)) = Ws::connect(&addr, &format!("/v1/sessions/{id}/ws")) else {
            panic!("the session stayed joinable after its grace")
        };
        assert!(status == 410 || status == 404, "{status}");
    }

    // A client that closes with its own code, or just vanishes: grace, then filed.
    for how in ["close 4000", "vanish"] {
        let (id, token, iv) = demo_session(&addr);
        let (mut ws, _) = join(&addr, &id, &token);
        ws.event("interviewer");
        answer(&mut ws, READY);
        let dropped_at = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64;
        if how == "vanish" {
            let _ = ws.s.shutdown(std::net::Shutdown::Both);
        } else {
            ws.send(CLOSE, &4000u16.to_be_bytes()).unwrap();
        }
        drop(ws);
        let v = filed(&iv);
        assert!(
            v["state"] == "completed" || v["state"] == "scored",
            "{how}: {v}"
        );
        // Ended right after the grace (1 s), not after the question nobody heard.
        let took = v["ended_at"].as_i64().unwrap() - dropped_at;
        assert!(took < 6_000, "{how}: ended {took} ms after the drop");
        let _ = id;
    }

    // A RFC 6455 violation (an unmasked frame) gets 1002, invalid UTF-8 gets 1007.
    for (frame, want) in [
        (vec![0x81u8, 0x02, b'h', b'i'], 1002u16),
        (vec![0x81u8, 0x82, 0, 0, 0, 0, 0xff, 0xfe], 1007),
    ] {
        let (id, token, _) = demo_session(&addr);
        let (mut ws, _) = join(&addr, &id, &token);
        use std::io::Write;
        ws.s.write_all(&frame).unwrap();
        assert_eq!(ws.close_code().map(|c| c.0), Some(want), "{frame:?}");
    }

    // Silence: a reprompt, then the interviewer moves on by itself; silent through the next
    // question too (`session.silence_end_after` = 2), the interview ends with its reason.
    let (id, token, iv) = demo_session(&addr);
    let (mut ws, _) = join(&addr, &id, &token);
    ws.event("interviewer");
    let q1 = answer(&mut ws, READY);
    let started = Instant::now();
    let reprompt = ws.event("interviewer");
    assert_eq!(reprompt["kind"], "reprompt", "{reprompt}");
    let moved_on = ws.event("interviewer");
    assert_ne!(moved_on["text"], q1["text"], "{moved_on}");
    assert_ne!(moved_on["kind"], "reprompt", "{moved_on}");
    eprintln!(
        "silence: reprompt then moved on after {:?}",
        started.elapsed()
    );
    let mut said = Vec::new();
    let ended = loop {
        let e = ws.next_json();
        match e["type"].as_str() {
            Some("interviewer") => said.push(e["text"].as_str().unwrap_or_default().to_string()),
            Some("ended") => break e,
            _ => {}
        }
    };
    assert_eq!(ended["reason"], "silence_timeout", "{ended} after {said:?}");
    assert!(
        said.last()
            .is_some_and(|s| s.contains("haven't heard from you")),
        "{said:?}"
    );
    assert_eq!(ws.close_code().map(|c| c.0), Some(1000));
    let v = filed(&iv);
    eprintln!(
        "silence: ended after {:?}: {}",
        started.elapsed(),
        v["state"]
    );

    // A session nobody joins expires: gone, and its interview row with it.
    let (id, _token, iv) = demo_session(&addr);
    std::thread::sleep(Duration::from_secs(4));
    let Err((status, _)) = Ws::connect(&addr, &format!("/v1/sessions/{id}/ws")) else {
        panic!("an expired session was joinable")
    };
    assert_eq!(status, 404);
    let (s, _, _) = request(
        &addr,
        "GET",
        &format!("/v1/interviews/{iv}"),
        Some(&recruiter),
        "",
    );
    assert_eq!(s, 404, "the unjoined interview is removed");
    assert!(!data.join("recordings").join(&id).exists());
    assert_healthy(&server);
}

#[test]
fn a_flood_is_refused_and_a_real_candidate_is_still_served() {
    if !model_available() {
        return;
    }
    let (_tmp, data, recruiter) = fresh_data();
    let server = serve(
        &data,
        &[
            ("VIVA_DEMO_PER_ADDRESS_PER_HOUR", "10"),
            ("VIVA_SESSION_MAX_LIVE", "2"),
        ],
    );
    let addr = server.addr.clone();
    let (mut created, mut limited, mut other) = (0, 0, Vec::new());
    let mut retry_after = None;
    for _ in 0..600 {
        let (s, head, body) = request(&addr, "POST", "/v1/sessions", None, r#"{"job":"demo"}"#);
        match s {
            201 => created += 1,
            429 => {
                limited += 1;
                retry_after = head
                    .lines()
                    .find(|l| l.to_lowercase().starts_with("retry-after"))
                    .map(str::to_string);
                assert_eq!(json(&body)["error"], "rate_limited");
            }
            _ => other.push((s, body)),
        }
    }
    eprintln!("flood of 600: {created} created, {limited} refused with 429, others {other:?}");
    assert_eq!(created, 10);
    assert_eq!(limited, 590);
    assert!(other.is_empty());
    assert!(retry_after.is_some());
    // A 3 MB body is refused for its size, from its Content-Length, before it is read.
    {
        use std::io::{Read, Write};
        let mut c = std::net::TcpStream::connect(&addr).unwrap();
        c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        write!(
            c,
            "POST /v1/sessions HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{{\"job\":\"xxxx",
            3 << 20
        )
        .unwrap();
        let mut head = [0u8; 12];
        c.read_exact(&mut head).unwrap();
        assert_eq!(&head[9..12], b"413", "{}", String::from_utf8_lossy(&head));
    }

    // A real candidate with an invite is served at once, flood or not.
    let (s, _, body) = request(&addr, "GET", "/v1/jobs", Some(&recruiter), "");
    assert_eq!(s, 200, "{body}");
    let job = json(&body)["jobs"][0]["id"].as_str().unwrap().to_string();
    let invite = |name: &str| {
        let (s, _, body) = request(
            &addr,
            "POST",
            &format!("/v1/jobs/{job}/invites"),
            Some(&recruiter),
            &format!(r#"{{"candidate_name":"{name}"}}"#),
        );
        assert_eq!(s, 201, "{body}");
        json(&body)["token"].as_str().unwrap().to_string()
    };
    let start = |inv: &str| {
        request(
            &addr,
            "POST",
            "/v1/sessions",
            None,
            &format!(r#"{{"invite":"{inv}"}}"#),
        )
    };
    let mut live = Vec::new();
    for name in ["Ada", "Grace"] {
        let (s, _, body) = start(&invite(name));
        assert_eq!(s, 201, "{body}");
        let v = json(&body);
        let (id, token) = (
            v["id"].as_str().unwrap(),
            v["resume_token"].as_str().unwrap(),
        );
        let (mut ws, _) = join(&addr, id, token);
        let greeting = ws.event("interviewer");
        assert!(greeting["text"].as_str().unwrap().contains("ready"));
        live.push(ws);
    }
    // Full (max_live 2): the third is told to wait, and its invite is not used up.
    let third = invite("Linus");
    let (s, head, body) = start(&third);
    assert_eq!(s, 503, "{body}");
    assert_eq!(json(&body)["error"], "busy");
    assert!(head.to_lowercase().contains("retry-after"));
    for mut ws in live.drain(..) {
        ws.text(r#"{"type":"bye"}"#);
        let _ = ws.close_code();
    }
    std::thread::sleep(Duration::from_millis(500));
    let (s, _, body) = start(&third);
    assert_eq!(s, 201, "served once a slot is free: {body}");
    assert_healthy(&server);
}
