//! The two web pages in real headless Chromium (Debian's `chromium`, driven by playwright-core
//! from `tests/browser/`): a candidate takes a short interview through `/interview` over WebRTC
//! (the page's default) and again over the WebSocket fallback (`?transport=websocket`), with
//! espeak-ng speech as the fake microphone; a browser without WebRTC falls back by itself. Then
//! a recruiter signs in to `/dashboard`, opens the report of the WebRTC interview and clicks an
//! evidence quote, and the replay player (streaming the recording through a signed link with
//! Range requests) jumps to the quote's time; jobs are created from the form, from pasted
//! TOML/JSON (errors with field and line) and drafted from a job description. Keyboard-only
//! navigation and axe-core's WCAG 2 AA rules (contrast included) are checked on every page.
//! Screenshots: `tests/artifacts/browser/`.
//!
//! Needs node, chromium and `npm ci` in tests/browser (scripts/setup.sh does it). Without them
//! the test says SKIPPED, except under CI (`CI=true`), where it fails.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use viva_e2e::*;

/// This crate's folder, as compiled into this test (not the shared helper library).
fn here() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn browser_dir() -> PathBuf {
    here().join("browser")
}

/// Chromium, node and the npm packages, or why not.
fn missing_tools() -> Option<String> {
    let chromium = std::env::var("VIVA_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    if !Path::new(&chromium).exists() {
        return Some(format!("{chromium} missing (apt-get install chromium)"));
    }
    if Command::new("node").arg("--version").output().is_err() {
        return Some("node missing (apt-get install nodejs npm)".into());
    }
    let deps = browser_dir().join("node_modules");
    for pkg in ["playwright-core", "axe-core"] {
        if !deps.join(pkg).exists() {
            return Some(format!(
                "{} missing: run scripts/setup.sh (npm ci in tests/browser)",
                deps.join(pkg).display()
            ));
        }
    }
    None
}

fn tools_available() -> bool {
    let Some(why) = missing_tools() else {
        return true;
    };
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("browser tests cannot run in CI: {why}");
    }
    eprintln!("SKIPPED: browser tests: {why}");
    false
}

/// Runs `node run.mjs ARGS…`, failing after `limit`; returns its JSON result line.
fn node(args: &[&str], limit: Duration) -> serde_json::Value {
    let mut child = Command::new("node")
        .arg(browser_dir().join("run.mjs"))
        .args(args)
        .current_dir(browser_dir())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn node");
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait node") {
            break s;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("node run.mjs {} ran past {limit:?}", args[0]);
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let mut out = String::new();
    if let Some(mut s) = child.stdout.take() {
        let _ = s.read_to_string(&mut out);
    }
    assert!(
        status.success(),
        "browser test `{}` failed (see [browser] lines above)",
        args[0]
    );
    let line = out.lines().last().unwrap_or_default();
    serde_json::from_str(line).unwrap_or_else(|e| panic!("node printed no JSON ({e}): {out}"))
}

/// The fake microphone's file: `text` spoken by espeak-ng at 48 kHz with `pad_after_s` of
/// silence after it (Chromium loops the file, so the pause is the candidate's turn end).
fn mic_wav(dir: &Path, text: &str, pad_after_s: &str) -> PathBuf {
    let raw = dir.join("raw.wav");
    let wav = dir.join("mic.wav");
    espeak_wav(text, &raw);
    sox(&raw, &wav, &["-r", "48000", "-b", "16", "-c", "1"]);
    let padded = dir.join("mic-padded.wav");
    let ok = Command::new("sox")
        .arg(&wav)
        .arg(&padded)
        .args(["pad", "1", pad_after_s])
        .status()
        .expect("sox")
        .success();
    assert!(ok, "sox pad failed");
    padded
}

/// A recruiter API token for the server on `data`.
fn api_token(data: &Path, name: &str) -> String {
    let o = run(viva()
        .args(["admin", "token", "create", name])
        .env("VIVA_STORAGE_DATA_DIR", data)
        .env_remove("DATABASE_URL"));
    assert!(o.status.success(), "token create failed");
    String::from_utf8(o.stdout).unwrap().trim().to_string()
}

/// `viva serve` on SQLite in `data` (never a `DATABASE_URL` from the environment).
fn serve(data: &Path) -> Server {
    let addr = format!("127.0.0.1:{}", free_port());
    let child = viva()
        .args(["serve", "--bind", &addr])
        .env("VIVA_STORAGE_DATA_DIR", data)
        .env_remove("DATABASE_URL")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn viva serve");
    let server = Server { child, addr };
    let start = Instant::now();
    while http_get(&server.addr, "/healthz").is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(90),
            "viva serve did not start"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    server
}

/// Stores a finished live session as an interview of the demo job (the transcript it saved,
/// and its recording under the interview's id), as the link from live sessions to the
/// recruiter's records does; the server's scoring worker then writes the report.
fn store_live_session(data: &Path, session_id: &str) -> String {
    // The server files every live session under a stored interview (its recording keyed by the
    // session); wait until the session's transcript is filed there.
    let url = format!("sqlite://{}?mode=rwc", data.join("viva.db").display());
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        use viva_server::store::Store;
        let store = Store::connect(&url)
            .await
            .expect("open the server's database");
        let start = Instant::now();
        loop {
            for row in store.list_interviews(None).await.unwrap() {
                let Ok((key, _)) = store.recording(&row.id).await else {
                    continue;
                };
                if key.contains(session_id) && store.transcript_json(&row.id).await.is_ok() {
                    return row.id;
                }
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "the live session {session_id} was never filed as an interview"
            );
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    })
}

/// Stores a transcript file as a finished interview of the demo job, queued for scoring.
fn store_transcript(data: &Path, file: &Path) -> String {
    let transcript: viva_interview::Transcript =
        serde_json::from_str(&std::fs::read_to_string(file).unwrap())
            .expect("stored transcript parses");
    let url = format!("sqlite://{}?mode=rwc", data.join("viva.db").display());
    let rt = tokio::runtime::Runtime::new().unwrap();
    let id = rt.block_on(async {
        use viva_server::store::{now_ms, Store};
        let store = Store::connect(&url)
            .await
            .expect("open the server's database");
        let jobs = store.list_jobs().await.unwrap();
        let job = jobs.first().expect("the demo job is seeded");
        let now = now_ms();
        let cand = store
            .create_candidate(Some("Browser Test"), None, now)
            .await
            .unwrap();
        let id = store
            .create_interview(&job.id, job.version, &cand, None, now)
            .await
            .unwrap();
        store.finish_interview(&id, &transcript, now).await.unwrap();
        id
    });
    id
}

fn get_authed(addr: &str, path: &str, token: &str, range: Option<&str>) -> (u16, String) {
    use std::io::Write;
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n{}Connection: close\r\n\r\n",
        range.map(|r| format!("Range: {r}\r\n")).unwrap_or_default()
    )
    .unwrap();
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let raw = String::from_utf8_lossy(&raw).to_string();
    let status = raw
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, raw)
}

/// Words of the microphone's speech; the captions and the stored transcripts must hold some.
const SPOKEN_WORDS: [&str; 5] = ["ready", "years", "experience", "backend", "seven"];

/// A job description the dashboard drafts a job from.
const JD: &str = "Senior Data Platform Engineer\n\
    We are hiring an engineer to build the batch and streaming pipelines behind our analytics product, \
    on Kafka, Spark and PostgreSQL, with observability in Prometheus and Grafana.\n\
    Requirements: 4+ years of data or backend engineering, strong SQL and data modelling, \
    experience operating services on Kubernetes. Fluent English.";

/// `viva_session_events_total{kind="KIND"}` from `/metrics` (0 when absent).
fn metric(addr: &str, kind: &str) -> u64 {
    let (status, body) = http_get(addr, "/metrics").expect("GET /metrics");
    assert_eq!(status, 200);
    let needle = format!("viva_session_events_total{{kind=\"{kind}\"}} ");
    body.lines()
        .find_map(|l| l.strip_prefix(&needle))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .map(|v| v as u64)
        .unwrap_or(0)
}

/// One candidate interview through the page over `transport`; checks what the page showed
/// and what the server stored (turns.json) hold the spoken and the typed answers.
fn candidate_run(
    base: &str,
    wav: &Path,
    out: &Path,
    transport: &str,
    data: &Path,
) -> serde_json::Value {
    let cand = node(
        &[
            "candidate",
            "--base",
            base,
            "--wav",
            wav.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--transport",
            transport,
        ],
        Duration::from_secs(if transport == "webrtc" { 300 } else { 420 }),
    );
    eprintln!("candidate ({transport}): {cand}");
    let sid = cand["session_id"].as_str().expect("session id");
    let captions = cand["spoken_captions"].to_string().to_lowercase();
    assert!(
        SPOKEN_WORDS.iter().any(|w| captions.contains(w)),
        "{transport}: captions on the page: {captions}"
    );
    let turns = std::fs::read_to_string(data.join("recordings").join(sid).join("turns.json"))
        .expect("turns.json stored")
        .to_lowercase();
    let hits: Vec<&str> = SPOKEN_WORDS
        .iter()
        .copied()
        .filter(|w| turns.contains(w))
        .collect();
    assert!(
        hits.len() >= 2,
        "{transport}: stored transcript holds the spoken answer (found {hits:?})"
    );
    assert!(
        turns.contains("tune its indexes"),
        "{transport}: typed answer stored too"
    );
    cand
}

#[test]
fn candidate_interview_and_recruiter_report_in_chromium() {
    if !model_available() || !tools_available() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let out = here().join("artifacts/browser");
    std::fs::create_dir_all(&out).unwrap();
    let server = serve(&data);
    let base = format!("http://{}", server.addr);

    // The microphone: espeak-ng speech with pauses around it (Chromium loops the file).
    let padded = mic_wav(
        tmp.path(),
        "Yes, I am ready. I have seven years of backend experience, building APIs with PostgreSQL and Kafka.",
        "7",
    );

    let webrtc_before = metric(&server.addr, "webrtc_connected");
    let rtc = candidate_run(&base, &padded, &out, "webrtc", &data);
    let webrtc_after = metric(&server.addr, "webrtc_connected");
    assert!(
        webrtc_after > webrtc_before,
        "the server counted a WebRTC connection ({webrtc_before} → {webrtc_after})"
    );
    assert_eq!(rtc["used"]["attr"], "webrtc", "{rtc}");
    assert!(
        rtc["webrtc"]["packetsReceived"].as_u64().unwrap_or(0) > 100,
        "interviewer audio over RTP: {rtc}"
    );
    let ws = candidate_run(&base, &padded, &out, "websocket", &data);
    assert_eq!(ws["used"]["attr"], "websocket", "{ws}");
    assert_eq!(
        ws["fallback"]["transport"], "websocket",
        "no WebRTC → WebSocket fallback: {ws}"
    );
    // That the forced WebSocket run used no WebRTC is checked in the page itself
    // (data-transport, no fallback): the server-wide counter cannot tell, since the WebRTC run's
    // own re-offer after its simulated drop may still connect while the next run starts.
    let sid = rtc["session_id"].as_str().expect("session id");

    // The recruiter's side.
    let token = api_token(&data, "browser-test");
    let interview = store_live_session(&data, sid);
    // Through the API: the WebRTC interview's transcript is stored with the spoken answer.
    let (status, raw) = get_authed(
        &server.addr,
        &format!("/v1/interviews/{interview}/transcript"),
        &token,
        None,
    );
    assert_eq!(status, 200, "{raw}");
    let stored = raw.to_lowercase();
    assert!(
        SPOKEN_WORDS.iter().filter(|w| stored.contains(*w)).count() >= 2,
        "the API's transcript of the WebRTC interview holds the spoken answer: {stored}"
    );
    assert!(stored.contains("tune its indexes"), "and the typed one");
    // A second candidate (the text-mode demo interview, no recording), to rank against.
    let other = store_transcript(
        &data,
        &here().join("../server/interview/recordings/demo-transcript.json"),
    );
    let start = Instant::now();
    for id in [&interview, &other] {
        loop {
            let (status, _) = get_authed(
                &server.addr,
                &format!("/v1/interviews/{id}/report"),
                &token,
                None,
            );
            if status == 200 {
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "no report after 60 s (status {status})"
            );
            std::thread::sleep(Duration::from_millis(500));
        }
    }
    // The recording route serves byte ranges (the player seeks with them).
    let (status, raw) = get_authed(
        &server.addr,
        &format!("/v1/interviews/{interview}/recording"),
        &token,
        Some("bytes=0-43"),
    );
    assert_eq!(status, 206, "{raw}");
    assert!(
        raw.to_ascii_lowercase()
            .contains("content-range: bytes 0-43/"),
        "{raw}"
    );
    assert!(raw.contains("RIFF"), "WAV header in the first bytes");
    let (status, _) = http_get(
        &server.addr,
        &format!("/v1/interviews/{interview}/recording"),
    )
    .unwrap();
    assert_eq!(status, 401, "the recording needs a recruiter token");
    let (status, _) = http_get(
        &server.addr,
        &format!(
            "/v1/interviews/{interview}/recording?exp=99999999999&sig={}",
            "ab".repeat(32)
        ),
    )
    .unwrap();
    assert_eq!(status, 403, "or a valid signed link");
    let jd = tmp.path().join("jd.txt");
    std::fs::write(&jd, JD).unwrap();
    let (status, _) = get_authed(
        &server.addr,
        &format!("/v1/interviews/{other}/recording"),
        &token,
        None,
    );
    assert_eq!(status, 404, "an interview without a recording");

    let rec = node(
        &[
            "recruiter",
            "--base",
            &base,
            "--token",
            &token,
            "--interview",
            &interview,
            "--job-toml",
            here()
                .join("../server/interview/jobs/senior-backend-b2b-saas.toml")
                .to_str()
                .unwrap(),
            "--jd",
            jd.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
        Duration::from_secs(180),
    );
    eprintln!("recruiter: {rec}");
    let (quote, player) = (
        rec["quote_ms"].as_i64().unwrap(),
        rec["player_ms"].as_i64().unwrap(),
    );
    assert!(
        player >= quote - 50 && player < quote + 2000,
        "player at {player} ms after clicking a quote at {quote} ms"
    );
    assert!(
        rec["range_requests"].as_u64().unwrap_or(0) >= 1,
        "the player streamed with Range: {rec}"
    );
    for shot in rtc["shots"]
        .as_array()
        .unwrap()
        .iter()
        .chain(ws["shots"].as_array().unwrap())
        .chain(rec["shots"].as_array().unwrap())
    {
        let p = out.join(shot.as_str().unwrap());
        assert!(
            std::fs::metadata(&p)
                .map(|m| m.len() > 1000)
                .unwrap_or(false),
            "screenshot {}",
            p.display()
        );
        eprintln!("screenshot: {}", p.display());
    }
}

/// A candidate on an English job that allows Spanish asks by voice, in Chromium over WebRTC, to
/// continue in Spanish: the interviewer confirms in Spanish and goes on in Spanish.
#[test]
fn a_candidate_switches_to_spanish_by_voice_in_chromium() {
    if !model_available() || !tools_available() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let out = here().join("artifacts/browser");
    std::fs::create_dir_all(&out).unwrap();
    let server = serve(&data);
    let base = format!("http://{}", server.addr);
    let token = api_token(&data, "browser-switch");
    let english =
        std::fs::read_to_string(here().join("../server/interview/jobs/bench-open-questions.toml"))
            .unwrap();
    let job = english.replace(
        "interview = \"en\"",
        "interview = \"en\"\nallowed = [\"en\", \"es\"]",
    );
    let body = serde_json::json!({ "config_toml": job }).to_string();
    let (status, _, created) = http_request(&server.addr, "POST", "/v1/jobs", Some(&token), &body);
    assert_eq!(status, 201, "{created}");
    let job_id = serde_json::from_str::<serde_json::Value>(&created).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, _, invite) = http_request(
        &server.addr,
        "POST",
        &format!("/v1/jobs/{job_id}/invites"),
        Some(&token),
        r#"{"candidate_name":"Sofía Example"}"#,
    );
    assert_eq!(status, 201, "{invite}");
    let link = format!(
        "{base}{}",
        serde_json::from_str::<serde_json::Value>(&invite).unwrap()["link"]
            .as_str()
            .unwrap()
    );

    // The microphone asks to switch (Chromium loops the file, with pauses around it).
    let padded = mic_wav(tmp.path(), "Can we continue in Spanish, please?", "6");
    let seen = node(
        &[
            "switch-language",
            "--link",
            &link,
            "--wav",
            padded.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
        Duration::from_secs(300),
    );
    eprintln!("switch: {seen}");
    let lines: Vec<String> = seen["interviewer"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap().to_lowercase())
        .collect();
    assert!(
        lines[0].contains("ready to begin"),
        "began in English: {lines:?}"
    );
    let at = lines
        .iter()
        .position(|l| l.contains("español"))
        .expect("a Spanish confirmation");
    let after = lines[at + 1..].join(" ");
    assert!(
        !after.contains("are you ready") && !after.contains("thank you"),
        "the interviewer went on in Spanish: {lines:?}"
    );
}
