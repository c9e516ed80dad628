//! The IO edge of [`crate::phrasing`]: a [`Phraser`] that POSTs to an OpenAI-compatible
//! `/v1/chat/completions` endpoint over plain HTTP/1.1 (std `TcpStream`, no async runtime, no
//! extra dependencies), with one deadline for the whole exchange.
//!
//! Meant for a model server next to viva (llama.cpp `llama-server`, Ollama, vLLM) at an
//! `http://` address; `https://` is refused with a clear error (put a local proxy in front of a
//! hosted API). Off by default: nothing calls it unless a phrasing endpoint is configured. It
//! never decides anything: its text goes through [`crate::phrasing::vet`] and the engine's own
//! wording is used on any error or timeout ([`crate::phrasing::phrase_or_default`]).

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use crate::phrasing::{
    chat_completions_body, parse_chat_completion, Phraser, PhrasingError, PhrasingRequest,
};

/// Largest response body read (a phrasing is one short question).
const MAX_RESPONSE_BYTES: usize = 256 * 1024;

/// Where and how to ask.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpPhraserConfig {
    /// Base URL, e.g. `http://127.0.0.1:8080` (with or without a trailing `/v1`).
    pub url: String,
    /// The `model` field of the request.
    pub model: String,
    /// Sent as `Authorization: Bearer …` when set.
    pub api_key: Option<String>,
}

#[derive(Debug, Clone)]
pub struct HttpPhraser {
    host: String,
    port: u16,
    path: String,
    model: String,
    api_key: Option<String>,
}

impl HttpPhraser {
    /// Checks the URL: `http://host[:port][/prefix]`.
    pub fn new(config: &HttpPhraserConfig) -> Result<HttpPhraser, PhrasingError> {
        let url = config.url.trim();
        let rest = if let Some(r) = url.strip_prefix("http://") {
            r
        } else if url.starts_with("https://") {
            return Err(PhrasingError::Service(
                "https endpoints are not supported by the built-in client; use a local http proxy or model server".into(),
            ));
        } else {
            return Err(PhrasingError::Service(format!(
                "phrasing URL {url:?} must start with http://"
            )));
        };
        let (authority, prefix) = match rest.find('/') {
            Some(i) => (&rest[..i], rest[i..].trim_end_matches('/')),
            None => (rest, ""),
        };
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(']') || authority.starts_with('[') => {
                let port = p.parse::<u16>().map_err(|_| {
                    PhrasingError::Service(format!("bad port {p:?} in phrasing URL"))
                })?;
                (h.trim_start_matches('[').trim_end_matches(']'), port)
            }
            _ => (authority, 80),
        };
        if host.is_empty() {
            return Err(PhrasingError::Service(format!(
                "no host in phrasing URL {url:?}"
            )));
        }
        let path = if prefix.ends_with("/v1") {
            format!("{prefix}/chat/completions")
        } else {
            format!("{prefix}/v1/chat/completions")
        };
        Ok(HttpPhraser {
            host: host.to_string(),
            port,
            path,
            model: config.model.clone(),
            api_key: config.api_key.clone(),
        })
    }

    /// The request path, e.g. `/v1/chat/completions`.
    pub fn path(&self) -> &str {
        &self.path
    }

    fn exchange(
        &self,
        body: &str,
        deadline: Instant,
        timeout_ms: u64,
    ) -> Result<String, PhrasingError> {
        let timeout = || PhrasingError::Timeout(timeout_ms);
        let left = || {
            deadline
                .checked_duration_since(Instant::now())
                .filter(|d| !d.is_zero())
        };
        let addrs = (self.host.as_str(), self.port)
            .to_socket_addrs()
            .map_err(|e| PhrasingError::Service(format!("cannot resolve {}: {e}", self.host)))?;
        let mut stream = None;
        let mut last_err = None;
        for addr in addrs {
            let Some(d) = left() else {
                return Err(timeout());
            };
            match TcpStream::connect_timeout(&addr, d) {
                Ok(s) => {
                    stream = Some(s);
                    break;
                }
                Err(e) if e.kind() == std::io::ErrorKind::TimedOut => return Err(timeout()),
                Err(e) => last_err = Some(e),
            }
        }
        let mut stream = stream.ok_or_else(|| {
            PhrasingError::Service(format!(
                "cannot connect to {}:{}: {}",
                self.host,
                self.port,
                last_err.map_or_else(|| "no address".to_string(), |e| e.to_string())
            ))
        })?;
        let auth = self
            .api_key
            .as_deref()
            .map(|k| format!("Authorization: Bearer {k}\r\n"))
            .unwrap_or_default();
        let head = format!(
            "POST {} HTTP/1.1\r\nHost: {}:{}\r\nContent-Type: application/json\r\nAccept: application/json\r\n{auth}Content-Length: {}\r\nConnection: close\r\n\r\n",
            self.path,
            self.host,
            self.port,
            body.len()
        );
        let io = |e: std::io::Error| {
            if matches!(
                e.kind(),
                std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
            ) {
                timeout()
            } else {
                PhrasingError::Service(e.to_string())
            }
        };
        stream
            .set_write_timeout(Some(left().ok_or_else(timeout)?))
            .map_err(io)?;
        stream.write_all(head.as_bytes()).map_err(io)?;
        stream.write_all(body.as_bytes()).map_err(io)?;
        let mut response = Vec::new();
        let mut buf = [0u8; 8192];
        loop {
            let d = left().ok_or_else(timeout)?;
            stream.set_read_timeout(Some(d)).map_err(io)?;
            match stream.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    response.extend_from_slice(&buf[..n]);
                    if response.len() > MAX_RESPONSE_BYTES {
                        return Err(PhrasingError::BadResponse("response too large".into()));
                    }
                    if response_complete(&response) {
                        break;
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(io(e)),
            }
        }
        parse_http_response(&response)
    }
}

/// Whether `raw` holds the whole response (by Content-Length; otherwise wait for close).
fn response_complete(raw: &[u8]) -> bool {
    let Some(end) = find(raw, b"\r\n\r\n") else {
        return false;
    };
    let head = String::from_utf8_lossy(&raw[..end]).to_ascii_lowercase();
    head.lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok())
        .is_some_and(|len| raw.len() >= end + 4 + len)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Status line, headers, body (identity or chunked) → the body text of a 2xx response.
fn parse_http_response(raw: &[u8]) -> Result<String, PhrasingError> {
    let bad = |m: &str| PhrasingError::BadResponse(m.to_string());
    let end = find(raw, b"\r\n\r\n").ok_or_else(|| bad("no end of headers"))?;
    let head = String::from_utf8_lossy(&raw[..end]);
    let mut lines = head.lines();
    let status: u16 = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad("no status line"))?;
    let chunked = lines.any(|l| {
        let l = l.to_ascii_lowercase();
        l.starts_with("transfer-encoding:") && l.contains("chunked")
    });
    let mut body = raw[end + 4..].to_vec();
    if chunked {
        body = dechunk(&body).ok_or_else(|| bad("bad chunked body"))?;
    }
    let text = String::from_utf8_lossy(&body).into_owned();
    if !(200..300).contains(&status) {
        let snippet: String = text.chars().take(200).collect();
        return Err(PhrasingError::Service(format!("HTTP {status}: {snippet}")));
    }
    Ok(text)
}

fn dechunk(mut b: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = find(b, b"\r\n")?;
        let size_text = std::str::from_utf8(&b[..line_end]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        b = &b[line_end + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(b.get(..size)?);
        b = b.get(size + 2..)?;
    }
}

impl Phraser for HttpPhraser {
    fn phrase(
        &mut self,
        request: &PhrasingRequest,
        timeout_ms: u64,
    ) -> Result<String, PhrasingError> {
        let deadline = Instant::now() + Duration::from_millis(timeout_ms);
        let body = chat_completions_body(&self.model, request).to_string();
        let text = self.exchange(&body, deadline, timeout_ms)?;
        parse_chat_completion(&text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(url: &str) -> HttpPhraserConfig {
        HttpPhraserConfig {
            url: url.into(),
            model: "m".into(),
            api_key: None,
        }
    }

    #[test]
    fn urls_are_checked() {
        assert_eq!(
            HttpPhraser::new(&cfg("http://127.0.0.1:8080"))
                .unwrap()
                .path(),
            "/v1/chat/completions"
        );
        assert_eq!(
            HttpPhraser::new(&cfg("http://localhost:11434/v1/"))
                .unwrap()
                .path(),
            "/v1/chat/completions"
        );
        assert_eq!(
            HttpPhraser::new(&cfg("http://h/proxy")).unwrap().path(),
            "/proxy/v1/chat/completions"
        );
        assert!(HttpPhraser::new(&cfg("https://api.example.com")).is_err());
        assert!(HttpPhraser::new(&cfg("ftp://x")).is_err());
        assert!(HttpPhraser::new(&cfg("http://:80")).is_err());
        assert!(HttpPhraser::new(&cfg("http://h:99999")).is_err());
    }

    #[test]
    fn responses_are_parsed() {
        let ok = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}";
        assert!(response_complete(ok));
        assert_eq!(parse_http_response(ok).unwrap(), "{}");
        let chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
        assert_eq!(parse_http_response(chunked).unwrap(), "abcde");
        let err = b"HTTP/1.1 503 Busy\r\nContent-Length: 4\r\n\r\nbusy";
        assert!(
            matches!(parse_http_response(err), Err(PhrasingError::Service(m)) if m.contains("503"))
        );
        assert!(parse_http_response(b"garbage").is_err());
        assert!(parse_http_response(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"
        )
        .is_err());
    }
}
