//! The foundation, through the real binary: serve + health, transcribe, eval stt, config.

use viva_e2e::*;

#[test]
fn serve_answers_health_and_pages() {
    if !model_available() {
        return;
    }
    let server = Server::start(&[]);
    let (status, body) = http_get(&server.addr, "/healthz").expect("health");
    assert_eq!(status, 200);
    let health: serde_json::Value = serde_json::from_str(&body).expect("json health");
    assert_eq!(health["status"], "ok");
    assert_eq!(health["whisper"]["ready"], true);
    let (status, body) = http_get(&server.addr, "/").expect("index");
    assert_eq!(status, 200);
    assert!(body.contains("<title>viva"), "index page served");
    let (status, body) = http_get(&server.addr, "/no/such/page").expect("404");
    assert_eq!(status, 404);
    assert!(body.contains("not_found"));
}

#[test]
fn serve_without_a_model_explains_what_to_do() {
    let empty = tempfile::tempdir().expect("tmp");
    let out =
        run(viva()
            .env("VIVA_MODELS_DIR", empty.path())
            .args(["serve", "--bind", "127.0.0.1:0"]));
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("viva models fetch"), "stderr: {err}");
}

#[test]
fn transcribe_any_wav_layout() {
    if !model_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("tmp");
    let src = dir.path().join("src.wav");
    let text = "Our service handles ten thousand requests per second.";
    espeak_wav(text, &src);
    for (name, args) in [
        (
            "stereo-44k-24bit.wav",
            &["-c", "2", "-r", "44100", "-b", "24"][..],
        ),
        (
            "mono-48k-float.wav",
            &["-c", "1", "-r", "48000", "-e", "floating-point", "-b", "32"][..],
        ),
        (
            "mono-8k-8bit.wav",
            &["-c", "1", "-r", "8000", "-b", "8"][..],
        ),
    ] {
        let wav = dir.path().join(name);
        sox(&src, &wav, args);
        let out = run(viva().args(["transcribe", "--json"]).arg(&wav));
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let t: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        let hyp = t["text"].as_str().unwrap_or_default();
        let wer = viva_models::text::text_errors(text, hyp).wer();
        eprintln!("{name}: {hyp:?} WER {:.0}%", wer * 100.0);
        assert!(wer <= 0.4, "{name}: WER {wer} for {hyp:?}");
        let segments = t["segments"].as_array().expect("segments");
        assert!(!segments.is_empty());
        assert!(segments[0]["end_ms"].as_u64() > segments[0]["start_ms"].as_u64());
    }
}

#[test]
fn transcribe_rejects_non_wav_input_clearly() {
    let dir = tempfile::tempdir().expect("tmp");
    let txt = dir.path().join("notes.txt");
    std::fs::write(&txt, "this is not audio").expect("write");
    let out = run(viva().arg("transcribe").arg(&txt));
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not a readable WAV"), "stderr: {err}");
    let out = run(viva().arg("transcribe").arg(dir.path().join("missing.wav")));
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot open"));
}

#[test]
fn eval_stt_prints_per_file_and_total_wer() {
    if !model_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("tmp");
    let lines = [
        "We store the events in a queue.",
        "The cache expired after five minutes.",
    ];
    let mut manifest = String::from("file\tduration_s\treference_transcript\n");
    for (i, l) in lines.iter().enumerate() {
        espeak_wav(l, &dir.path().join(format!("a{i}.wav")));
        manifest.push_str(&format!("a{i}.wav\t0\t{l}\n"));
    }
    let m = dir.path().join("manifest.tsv");
    std::fs::write(&m, manifest).expect("manifest");
    let out = run(viva().args(["eval", "stt", "--json"]).arg(&m));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(s["files"].as_array().map(Vec::len), Some(2));
    assert!(s["wer"].as_f64().is_some_and(|w| w < 0.5), "{s}");
    assert!(s["rtf"].as_f64().is_some_and(|r| r > 0.0));
    let out = run(viva().args(["eval", "stt"]).arg(&m));
    assert!(String::from_utf8_lossy(&out.stdout).contains("TOTAL 2 files"));
    // A limit it cannot meet fails the command.
    let out = run(viva().args(["eval", "stt", "--max-wer", "-1"]).arg(&m));
    assert!(!out.status.success());
}

#[test]
fn config_show_reflects_file_and_environment() {
    let dir = tempfile::tempdir().expect("tmp");
    let cfg = dir.path().join("viva.toml");
    std::fs::write(&cfg, "[server]\nbind = \"127.0.0.1:9999\"\n").expect("write");
    let out = run(viva()
        .arg("--config")
        .arg(&cfg)
        .args(["config", "show"])
        .env("VIVA_MODELS_THREADS", "3"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(shown.contains("bind = \"127.0.0.1:9999\""), "{shown}");
    assert!(shown.contains("threads = 3"), "{shown}");
    std::fs::write(&cfg, "[server]\nport = 1\n").expect("write");
    let out = run(viva().arg("--config").arg(&cfg).args(["config", "show"]));
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("port"));
}

#[test]
fn models_fetch_is_a_no_op_when_present() {
    if !model_available() {
        return;
    }
    let out = run(viva().args(["models", "fetch"]));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("already provisioned"));
    let out = run(viva().args(["models", "verify"]));
    assert!(out.status.success());
}

#[test]
fn json_logs_on_request() {
    let out = run(viva().args(["--log-format", "yaml", "config", "show"]));
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown log format"));
    if !model_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("tmp");
    let log = dir.path().join("serve.log");
    let addr = format!("127.0.0.1:{}", free_port());
    let mut child = viva()
        .args([
            "--log-format",
            "json",
            "--log-level",
            "info",
            "serve",
            "--bind",
            &addr,
        ])
        .stderr(std::fs::File::create(&log).expect("log file"))
        .spawn()
        .expect("spawn");
    let start = std::time::Instant::now();
    while http_get(&addr, "/healthz").is_err() && start.elapsed().as_secs() < 60 {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
    let text = std::fs::read_to_string(&log).expect("read log");
    let events: Vec<serde_json::Value> = text
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    assert!(
        !events.is_empty() && events.len() == text.lines().count(),
        "every line is JSON: {text}"
    );
    assert!(
        events.iter().any(|e| e["message"]
            .as_str()
            .is_some_and(|m| m.contains("listening"))),
        "{text}"
    );
}
