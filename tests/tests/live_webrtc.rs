//! Live interviews over the WebRTC gateway, through the real binary: `viva simulate --transport
//! webrtc` is a Rust WebRTC peer (Opus 48 kHz, an `events` data channel, host candidates on
//! loopback) answering with espeak-ng speech; bad offers get 400s with a JSON error.

use viva_e2e::*;

mod common;
use common::*;

const OFFER: &str = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=rtpmap:111 opus/48000/2\r\na=mid:0\r\n";

#[test]
fn live_interview_over_webrtc_with_spoken_answers() {
    if !model_available() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let server = Server::start(&[("VIVA_STORAGE_DATA_DIR", data.to_str().unwrap())]);
    let a = tmp.path().join("a.wav");
    let b = tmp.path().join("b.wav");
    espeak_wav("Yes, I am ready to begin.", &a);
    espeak_wav(
        "I have seven years of professional backend development experience.",
        &b,
    );
    let out = run(viva().args([
        "simulate",
        "--transport",
        "webrtc",
        "--server",
        &format!("http://{}", server.addr),
        "--answers",
        &format!("{},{}", a.display(), b.display()),
        "--json",
        "--timeout-s",
        "240",
    ]));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "simulate failed: {}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("{stdout}");
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("json report");
    let candidate: String = report["transcript"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["speaker"] == "candidate")
        .map(|l| l["text"].as_str().unwrap().to_lowercase())
        .collect::<Vec<_>>()
        .join(" ");
    assert!(candidate.contains("ready"), "captions: {candidate}");
    assert!(candidate.contains("experience"), "captions: {candidate}");
    assert!(
        report["interviewer_audio_ms"].as_u64().unwrap() > 5_000,
        "interviewer audio (Opus over RTP): {}",
        report["interviewer_audio_ms"]
    );
    for t in report["turns"].as_array().unwrap() {
        assert!(
            t["response_latency_ms"].as_u64().is_some(),
            "latency measured"
        );
    }
    let id = report["session_id"].as_str().unwrap();
    let stored = std::fs::read_to_string(data.join("recordings").join(id).join("turns.json"))
        .unwrap()
        .to_lowercase();
    assert!(stored.contains("experience"), "{stored}");
    let (status, _) = http_get(&server.addr, "/healthz").unwrap();
    assert_eq!(status, 200);
}

#[test]
fn bad_offers_get_400_with_a_json_error() {
    if !model_available() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let server = Server::start(&[("VIVA_STORAGE_DATA_DIR", data.to_str().unwrap())]);
    let addr = server.addr.clone();
    let (id, token) = create_session(&addr);
    let path = format!("/v1/sessions/{id}/webrtc");
    let auth = format!("Content-Type: application/sdp\r\nAuthorization: Bearer {token}\r\n");

    let (status, body) = post(&addr, &path, &auth, "this is not SDP at all");
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("malformed_sdp"), "{body}");
    let (status, body) = post(&addr, &path, &auth, "");
    assert_eq!(status, 400, "{body}");
    let video = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=rtpmap:96 VP8/90000\r\n";
    let (status, body) = post(&addr, &path, &auth, video);
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("no_audio"), "{body}");
    // A well-formed offer to an unknown session, or with the wrong token.
    let (status, body) = post(&addr, "/v1/sessions/s-nope/webrtc", &auth, OFFER);
    assert_eq!(status, 404, "{body}");
    let wrong = "Content-Type: application/sdp\r\nAuthorization: Bearer nope\r\n";
    let (status, body) = post(&addr, &path, wrong, OFFER);
    assert_eq!(status, 401, "{body}");
    // The session refused above is still free and the server healthy.
    let (status, _) = http_get(&addr, "/healthz").unwrap();
    assert_eq!(status, 200);
    let (id2, _) = create_session(&addr);
    assert_ne!(id, id2);
}
