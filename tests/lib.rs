//! Helpers for the end-to-end tests in `tests/tests/`: finding and running the real `viva`
//! binary, free ports, and test speech.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The `viva` binary under test: `$VIVA_BIN`, or the one built beside this test executable.
pub fn viva_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("VIVA_BIN") {
        return PathBuf::from(p);
    }
    let exe = std::env::current_exe().expect("current exe");
    // target/<profile>/deps/<test> → target/<profile>/viva
    let bin = exe
        .parent()
        .and_then(Path::parent)
        .map(|d| d.join("viva"))
        .expect("target dir");
    assert!(
        bin.exists(),
        "{} not built: run `cargo build -p viva-server` (make test does) or set VIVA_BIN",
        bin.display()
    );
    bin
}

pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

pub fn models_dir() -> PathBuf {
    std::env::var_os("VIVA_MODELS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("models/store"))
}

/// True when the Whisper model is provisioned; otherwise fails under `VIVA_REQUIRE_MODELS=1`
/// or prints a visible skip.
pub fn model_available() -> bool {
    // The server's default (8-bit) model, the f16 one the converter tests check, and the
    // multilingual one Spanish and German interviews use.
    let missing = [
        "whisper/ggml-tiny.en-q8_0.bin",
        "whisper/ggml-tiny.en.bin",
        "whisper/ggml-base-q8_0.bin",
    ]
    .iter()
    .map(|p| models_dir().join(p))
    .find(|p| !p.exists());
    let Some(path) = missing else {
        return true;
    };
    if std::env::var("VIVA_REQUIRE_MODELS").as_deref() == Ok("1") {
        panic!("{} is missing; run `make models`", path.display());
    }
    eprintln!("SKIPPED: {} missing; run `make models`", path.display());
    false
}

/// A `viva` command with the test's models folder and no stray config.
pub fn viva() -> Command {
    let mut cmd = Command::new(viva_bin());
    cmd.env("VIVA_MODELS_DIR", models_dir())
        .env_remove("VIVA_CONFIG")
        .env("VIVA_LOG_LEVEL", "warn")
        // Tests run in parallel; one inference thread each keeps ggml's spinning threads from
        // outnumbering the cores.
        .env("VIVA_MODELS_THREADS", "1")
        // The e2e tests start demo sessions freely (a public server keeps the defaults: off,
        // and rate-limited per address when on).
        .env("VIVA_DEMO_ENABLED", "true")
        .env("VIVA_DEMO_PER_ADDRESS_PER_HOUR", "0")
        .current_dir(std::env::temp_dir());
    cmd
}

pub fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("run viva")
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// A running `viva serve`, killed on drop.
pub struct Server {
    pub child: Child,
    pub addr: String,
}

impl Server {
    pub fn start(extra_env: &[(&str, &str)]) -> Server {
        let addr = format!("127.0.0.1:{}", free_port());
        let mut cmd = viva();
        cmd.args(["serve", "--bind", &addr])
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        for (k, v) in extra_env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("spawn viva serve");
        let server = Server { child, addr };
        server.wait_ready(Duration::from_secs(60));
        server
    }

    fn wait_ready(&self, timeout: Duration) {
        let start = Instant::now();
        while start.elapsed() < timeout {
            if http_get(&self.addr, "/healthz").is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "viva serve did not answer on {} within {timeout:?}",
            self.addr
        );
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A minimal HTTP/1.1 GET (no client library needed for health checks): (status, body).
pub fn http_get(addr: &str, path: &str) -> std::io::Result<(u16, String)> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )?;
    let mut raw = String::new();
    s.read_to_string(&mut raw)?;
    let status = raw
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = raw
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Ok((status, body))
}

/// Speaks `text` with espeak-ng into `path` (22,050 Hz mono 16-bit).
pub fn espeak_wav(text: &str, path: &Path) {
    espeak_wav_in("en-us", text, path)
}

/// [`espeak_wav`] with espeak-ng's `voice` ("es", "de").
pub fn espeak_wav_in(voice: &str, text: &str, path: &Path) {
    let ok = Command::new("espeak-ng")
        .args(["-v", voice, "-s", "150", "-w"])
        .arg(path)
        .arg(text)
        .status()
        .expect("espeak-ng installed")
        .success();
    assert!(ok, "espeak-ng failed");
}

/// Speaks `text` with viva's own Piper voice (`viva say --voice piper`) into `path` (16 kHz mono
/// 16-bit): clearer than espeak-ng where the line is narrow.
pub fn say_wav(text: &str, path: &Path) {
    let out = viva()
        .args(["say", "--voice", "piper", "--rate", "16000", "--out"])
        .arg(path)
        .arg(text)
        .output()
        .expect("run viva say");
    assert!(
        out.status.success(),
        "viva say failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Converts a WAV with sox (`args` are sox output options, e.g. `-c 2 -r 44100 -b 24`).
/// Without dither (`-D`): sox's dither is random, and at 8 bits it moved the transcript of the
/// same sentence from run to run (a flaky test).
pub fn sox(input: &Path, output: &Path, args: &[&str]) {
    let ok = Command::new("sox")
        .arg("-D")
        .arg(input)
        .args(args)
        .arg(output)
        .status()
        .expect("sox installed")
        .success();
    assert!(ok, "sox failed");
}

/// `METHOD path` (JSON body) with an optional bearer token: (status, head, body).
pub fn http_request(
    addr: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &str,
) -> (u16, String, String) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    // A server may answer (413) and close before a large body is all sent: read the answer.
    .ok();
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let raw = String::from_utf8_lossy(&raw).to_string();
    let status = raw
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    (status, head.to_string(), body.to_string())
}

/// A recruiter token for the database in `data`.
pub fn recruiter_token(data: &Path) -> String {
    let out = run(viva()
        .args(["admin", "token", "create", "e2e"])
        .env("VIVA_STORAGE_DATA_DIR", data)
        .env_remove("DATABASE_URL"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}
