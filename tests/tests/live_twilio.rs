//! Phone calls over the Twilio Media Streams gateway, through the real binary: a scripted caller
//! (`viva simulate --transport twilio`) sends real 8 kHz μ-law frames of synthesized speech (the
//! Piper voice) at real-time pace, and every kind of bad Twilio input gets a clear refusal while the server and
//! other sessions stay healthy.
//!
//! The WebSocket client for the bad-input test is a few lines of RFC 6455 over `TcpStream`, so it
//! can send exactly the malformed things a library client would refuse to send.

use std::io::Write;
use std::time::{Duration, Instant};

use viva_e2e::*;

mod common;
use common::*;

const STREAM: &str = "/v1/telephony/twilio/stream";

fn start_msg(session: &str, token: &str) -> String {
    format!(
        r#"{{"event":"start","sequenceNumber":"1","streamSid":"MZt","start":{{"streamSid":"MZt","callSid":"CAt","tracks":["inbound"],"customParameters":{{"session":"{session}","token":"{token}"}},"mediaFormat":{{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}}}}}}"#
    )
}

/// 20 ms of μ-law silence, base64 (160 × 0xFF).
fn silence_payload() -> String {
    // 0xFF 0xFF 0xFF is "////" in base64; 160 bytes = 53 groups + 1 byte ("/w==").
    format!("{}/w==", "////".repeat(53))
}

fn media_msg(ts_ms: u64, payload: &str) -> String {
    format!(
        r#"{{"event":"media","streamSid":"MZt","media":{{"track":"inbound","chunk":"1","timestamp":"{ts_ms}","payload":"{payload}"}}}}"#
    )
}

#[test]
fn phone_call_over_twilio_with_spoken_answers_and_a_barge_in() {
    if !model_available() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let server = Server::start(&[("VIVA_STORAGE_DATA_DIR", data.to_str().unwrap())]);
    let a = tmp.path().join("a.wav");
    let b = tmp.path().join("b.wav");
    // The Piper voice, not espeak-ng: espeak's formant speech loses most of its consonants on
    // an 8 kHz line, and tiny.en's reading of it changed from run to run ("I have seven years"
    // as "I am family", "experience" as "next year in"): a flaky test, not a measurement.
    say_wav("Yes, I am ready.", &a);
    say_wav(
        "I have seven years of professional backend development experience.",
        &b,
    );
    // The second answer is spoken over the interviewer's next utterance: a barge-in.
    let out = run(viva().env("VIVA_STORAGE_DATA_DIR", &data).args([
        "simulate",
        "--transport",
        "twilio",
        "--barge-in",
        "2",
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

    // Interviewer audio came down the line as μ-law media (greeting + question + more).
    assert!(
        report["interviewer_audio_ms"].as_u64().unwrap() > 8_000,
        "interviewer audio: {}",
        report["interviewer_audio_ms"]
    );
    // The barge-in produced a clear.
    assert!(
        report["clears_received"].as_u64().unwrap() >= 1,
        "no clear after the barge-in"
    );
    for t in report["turns"].as_array().unwrap() {
        let ms = t["response_latency_ms"].as_u64().expect("latency measured");
        assert!(ms < 60_000, "response latency {ms} ms");
    }

    // Stored: the candidate's words, heard through 8 kHz μ-law, with word times.
    let id = report["session_id"].as_str().unwrap();
    let dir = data.join("recordings").join(id);
    let turns: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("turns.json")).unwrap()).unwrap();
    let answers: Vec<&serde_json::Value> = turns["turns"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|t| t["answers"].as_array().into_iter().flatten())
        .collect();
    let stored = answers
        .iter()
        .map(|a| a["text"].as_str().unwrap().to_lowercase())
        .collect::<Vec<_>>()
        .join(" ");
    // Narrowband costs tiny.en some words (docs/protocol.md has the measured WER): the words
    // asserted are the ones that carry the answer.
    assert!(stored.contains("ready"), "stored answers: {stored}");
    assert!(stored.contains("experience"), "stored answers: {stored}");
    let candidate: String = report["transcript"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["speaker"] == "candidate")
        .map(|l| l["text"].as_str().unwrap().to_lowercase())
        .collect();
    assert!(candidate.contains("experience"), "report: {candidate}");

    // Time-aligned recording: the candidate channel holds speech where a word was placed.
    let wav = std::fs::read(dir.join("recording.wav")).unwrap();
    assert_eq!(&wav[..4], b"RIFF");
    let rms = |channel: usize, from_ms: u64, to_ms: u64| -> f64 {
        let pcm = &wav[44..];
        let (a, b) = (from_ms as usize * 16, to_ms as usize * 16);
        let (mut sum, mut n) = (0f64, 0usize);
        for i in a..b {
            let at = (i * 2 + channel) * 2;
            if at + 1 >= pcm.len() {
                break;
            }
            let s = f64::from(i16::from_le_bytes([pcm[at], pcm[at + 1]])) / 32768.0;
            sum += s * s;
            n += 1;
        }
        (sum / n.max(1) as f64).sqrt()
    };
    // Where the transcript places each answer, the candidate channel holds speech.
    let mut checked = 0;
    for a in &answers {
        let (Some(s), Some(e)) = (a["audio_start_ms"].as_u64(), a["audio_end_ms"].as_u64()) else {
            continue;
        };
        let speech = rms(0, s, e.max(s + 200));
        assert!(
            speech > 0.02,
            "candidate speech where the transcript puts {:?} ({s}..{e} ms): rms {speech:.4}",
            a["text"]
        );
        checked += 1;
    }
    assert!(checked >= 1, "no answer has audio times: {answers:?}");
    assert!(rms(1, 500, 3000) > 0.02, "interviewer greeting recorded");
    assert!(rms(0, 500, 3000) < 0.01, "caller silent during greeting");
    assert_healthy(&server);
}

#[test]
fn bad_twilio_input_gets_clear_refusals_and_other_sessions_are_unaffected() {
    if !model_available() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let server = Server::start(&[
        ("VIVA_STORAGE_DATA_DIR", data.to_str().unwrap()),
        ("VIVA_SERVER_PUBLIC_URL", "https://viva.example.com"),
    ]);
    let addr = server.addr.clone();

    // A healthy call, kept open through everything below.
    let (good_id, good_token) = create_session(&addr);
    let mut good = Ws::connect(&addr, STREAM).expect("upgrade");
    good.text(r#"{"event":"connected","protocol":"Call","version":"1.0.0"}"#);
    good.text(&start_msg(&good_id, &good_token));
    let first = good.json_where("event", "media");
    assert_eq!(first["streamSid"], "MZt");

    // TwiML: the stream URL from server.public_url, the session as parameters.
    let (status, xml) = http_get(
        &addr,
        &format!("/v1/telephony/twilio/twiml?session={good_id}&token={good_token}"),
    )
    .unwrap();
    assert_eq!(status, 200, "{xml}");
    assert!(
        xml.contains(
            r#"<Connect><Stream url="wss://viva.example.com/v1/telephony/twilio/stream">"#
        ),
        "{xml}"
    );
    assert!(xml.contains(&format!(r#"<Parameter name="session" value="{good_id}"/>"#)));
    let (status, body) =
        http_get(&addr, "/v1/telephony/twilio/twiml?session=s-nope&token=x").unwrap();
    assert_eq!(status, 404);
    assert!(body.contains("unknown_session"), "{body}");
    let (status, _) = http_get(&addr, "/v1/telephony/twilio/twiml").unwrap();
    assert_eq!(status, 400);

    let (id, token) = create_session(&addr);
    let cases: Vec<(&str, Vec<String>, u16, &str)> = vec![
        (
            "media before start",
            vec![media_msg(0, &silence_payload())],
            4000,
            "before start",
        ),
        ("wrong JSON", vec!["{not json".into()], 1007, "JSON"),
        (
            "start without parameters",
            vec![r#"{"event":"start","start":{"streamSid":"MZt","customParameters":{}}}"#.into()],
            4004,
            "session",
        ),
        (
            "unknown session",
            vec![start_msg("s-nope", "x")],
            4004,
            "no such session",
        ),
        ("wrong token", vec![start_msg(&id, "wrong")], 4001, "token"),
        (
            "bad base64",
            vec![start_msg(&id, &token), media_msg(0, "@@@@not-base64@@@@")],
            1007,
            "base64",
        ),
        (
            "oversized payload",
            vec![start_msg(&id, &token), media_msg(0, &"/".repeat(20_000))],
            1009,
            "larger",
        ),
    ];
    for (what, msgs, code, reason) in cases {
        let mut ws = Ws::connect(&addr, STREAM).expect("upgrade");
        for m in &msgs {
            ws.text(m);
        }
        let got = ws.close_code();
        assert_eq!(got.as_ref().map(|c| c.0), Some(code), "{what}: {got:?}");
        let r = got.map(|c| c.1).unwrap_or_default();
        assert!(r.contains(reason), "{what}: reason {r:?}");
        // Let the server hand the session back before the next case attaches to it.
        std::thread::sleep(Duration::from_millis(200));
    }
    // A message over 64 KiB: refused from its header.
    let mut ws = Ws::connect(&addr, STREAM).expect("upgrade");
    let mut huge = Ws::header(TEXT, 10 * 1024 * 1024);
    huge.extend(std::iter::repeat_n(b' ', 256 * 1024));
    let _ = ws.s.write_all(&huge);
    let code = ws.close_code();
    assert!(
        matches!(code, Some((1009, _)) | None),
        "huge message: {code:?}"
    );
    // A binary message is not Twilio's.
    let mut ws = Ws::connect(&addr, STREAM).expect("upgrade");
    ws.send(BINARY, &[1, 2, 3]).unwrap();
    assert_eq!(ws.close_code().map(|c| c.0), Some(1003));

    // The session refused above still takes a proper call (a resume); `stop` hangs up cleanly.
    let mut ws = Ws::connect(&addr, STREAM).expect("upgrade");
    ws.text(&start_msg(&id, &token));
    for i in 0..10 {
        ws.text(&media_msg(i * 20, &silence_payload()));
    }
    ws.text(r#"{"event":"stop","streamSid":"MZt"}"#);
    assert_eq!(
        ws.close_code().map(|c| c.0),
        Some(1000),
        "stop: normal close"
    );

    // The healthy call went on through all of it: the whole greeting played, uninterrupted,
    // up to its question mark.
    let t = Instant::now();
    let (mut media, mut question) = (0, false);
    while t.elapsed() < Duration::from_secs(60) && !question {
        let (op, p) = good.recv().expect("good call still open");
        assert_ne!(op, CLOSE, "healthy call closed: {p:?}");
        if op == TEXT {
            let v: serde_json::Value = serde_json::from_slice(&p).unwrap();
            match v["event"].as_str() {
                Some("media") => media += 1,
                Some("mark") => {
                    question = v["mark"]["name"].as_str().unwrap().ends_with(":question")
                }
                Some("clear") => panic!("clear without a barge-in"),
                _ => {}
            }
        }
    }
    assert!(question, "the greeting's question mark never came");
    assert!(media > 50, "greeting audio: {media} media messages");
    good.text(r#"{"event":"stop","streamSid":"MZt"}"#);
    assert_healthy(&server);
}
