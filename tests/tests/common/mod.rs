//! Helpers shared by the live-gateway e2e tests: a few lines of HTTP and RFC 6455 over
//! `TcpStream` (enough to send exactly the malformed things a library client would refuse to).
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use viva_e2e::*;

/// `POST {path}` with extra header lines (each ending in `\r\n`): (status, body).
pub fn post(addr: &str, path: &str, headers: &str, body: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let status = raw
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = raw.split_once("\r\n\r\n").map(|(_, b)| b.to_string());
    (status, body.unwrap_or_default())
}

/// `POST {path}` with a JSON body: (status, body).
pub fn http_post(addr: &str, path: &str, body: &str) -> (u16, String) {
    post(addr, path, "Content-Type: application/json\r\n", body)
}

/// A demo-job live session: (id, resume token).
pub fn create_session(addr: &str) -> (String, String) {
    let (status, body) = http_post(addr, "/v1/sessions", r#"{"job":"demo"}"#);
    assert_eq!(status, 201, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        v["ws_url"].as_str().unwrap(),
        format!("/v1/sessions/{}/ws", v["id"].as_str().unwrap())
    );
    // The browser's RTCPeerConnection gets the server's STUN/TURN list (none by default).
    assert_eq!(v["ice_servers"], serde_json::json!([]), "{body}");
    (
        v["id"].as_str().unwrap().to_string(),
        v["resume_token"].as_str().unwrap().to_string(),
    )
}

pub fn assert_healthy(server: &Server) {
    let (status, _) = http_get(&server.addr, "/healthz").expect("health");
    assert_eq!(status, 200, "server still healthy");
}

pub struct Ws {
    pub s: TcpStream,
}

pub const TEXT: u8 = 1;
pub const BINARY: u8 = 2;
pub const CLOSE: u8 = 8;

impl Ws {
    /// The upgrade; a refusal comes back as (status, body).
    pub fn connect(addr: &str, path: &str) -> Result<Ws, (u16, String)> {
        let mut s = TcpStream::connect(addr).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        write!(
            s,
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        .unwrap();
        let mut head = Vec::new();
        let mut b = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            if s.read(&mut b).unwrap_or(0) == 0 {
                break;
            }
            head.push(b[0]);
        }
        let head = String::from_utf8_lossy(&head).to_string();
        let status: u16 = head
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        if status == 101 {
            return Ok(Ws { s });
        }
        let len: usize = head
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case("content-length")
                    .then(|| v.trim().parse().ok())?
            })
            .unwrap_or(0);
        let mut body = vec![0u8; len];
        let _ = s.read_exact(&mut body);
        Err((status, String::from_utf8_lossy(&body).to_string()))
    }

    pub fn header(opcode: u8, len: u64) -> Vec<u8> {
        let mut h = vec![0x80 | opcode];
        if len < 126 {
            h.push(0x80 | len as u8);
        } else if len <= u16::MAX as u64 {
            h.push(0x80 | 126);
            h.extend_from_slice(&(len as u16).to_be_bytes());
        } else {
            h.push(0x80 | 127);
            h.extend_from_slice(&len.to_be_bytes());
        }
        // Mask key 0: client frames must be masked, and XOR with zeros keeps the payload as is.
        h.extend_from_slice(&[0, 0, 0, 0]);
        h
    }

    pub fn send(&mut self, opcode: u8, payload: &[u8]) -> std::io::Result<()> {
        let mut f = Self::header(opcode, payload.len() as u64);
        f.extend_from_slice(payload);
        self.s.write_all(&f)
    }

    pub fn hello(&mut self, token: &str) {
        let hello = format!(r#"{{"type":"hello","protocol":1,"resume_token":"{token}"}}"#);
        self.send(TEXT, hello.as_bytes()).unwrap();
    }

    pub fn recv(&mut self) -> std::io::Result<(u8, Vec<u8>)> {
        let mut h = [0u8; 2];
        self.s.read_exact(&mut h)?;
        let mut len = u64::from(h[1] & 0x7f);
        if len == 126 {
            let mut b = [0u8; 2];
            self.s.read_exact(&mut b)?;
            len = u64::from(u16::from_be_bytes(b));
        } else if len == 127 {
            let mut b = [0u8; 8];
            self.s.read_exact(&mut b)?;
            len = u64::from_be_bytes(b);
        }
        let mut payload = vec![0u8; len as usize];
        self.s.read_exact(&mut payload)?;
        Ok((h[0] & 0x0f, payload))
    }

    /// Reads until the server's close frame: (code, reason). None when the socket just ended.
    pub fn close_code(&mut self) -> Option<(u16, String)> {
        loop {
            match self.recv() {
                Ok((CLOSE, p)) if p.len() >= 2 => {
                    // Answer the close, as RFC 6455 asks, so the server lets go at once.
                    let _ = self.send(CLOSE, &p[..2]);
                    return Some((
                        u16::from_be_bytes([p[0], p[1]]),
                        String::from_utf8_lossy(&p[2..]).to_string(),
                    ));
                }
                Ok((CLOSE, _)) => return Some((1005, String::new())),
                Ok(_) => continue,
                Err(_) => return None,
            }
        }
    }

    /// The next JSON event of `kind` (its `type`), skipping audio and other events.
    pub fn event(&mut self, kind: &str) -> serde_json::Value {
        self.json_where("type", kind)
    }

    /// The next JSON text message whose `key` is `kind` (Twilio's messages name it `event`).
    pub fn json_where(&mut self, key: &str, kind: &str) -> serde_json::Value {
        loop {
            let (op, p) = self.recv().expect("message");
            assert_ne!(op, CLOSE, "closed while waiting for {kind}: {p:?}");
            if op == TEXT {
                let v: serde_json::Value = serde_json::from_slice(&p).unwrap();
                if v[key] == kind {
                    return v;
                }
            }
        }
    }

    /// The next JSON text message, whatever its type.
    pub fn next_json(&mut self) -> serde_json::Value {
        loop {
            let (op, p) = self.recv().expect("message");
            assert_ne!(op, CLOSE, "closed while waiting for a message: {p:?}");
            if op == TEXT {
                return serde_json::from_slice(&p).unwrap();
            }
        }
    }

    /// A text message.
    pub fn text(&mut self, t: &str) {
        self.send(TEXT, t.as_bytes()).unwrap();
    }
}
