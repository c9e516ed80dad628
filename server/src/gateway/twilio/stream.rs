//! [`TwilioStream`]: the sans-IO core of the phone gateway. Twilio's JSON messages and the
//! session's [`Outbound`] in, [`Action`]s out (resampling and μ-law included).

use std::collections::HashMap;
use std::time::Duration;

use base64::Engine as _;
use serde::Deserialize;
use viva_audio::g711::{self, G711_RATE_HZ, MAX_PAYLOAD_BYTES};
use viva_audio::{AudioError, AudioFrame, StreamResampler, SPEECH_RATE_HZ};

use crate::gateway::ws::close;
use crate::session::{AttachError, Outbound, ServerEvent};

pub const STREAM_PATH: &str = "/v1/telephony/twilio/stream";
pub const TWIML_PATH: &str = "/v1/telephony/twilio/twiml";
/// Largest WebSocket message accepted (Twilio sends ~400-byte messages: 20 ms per `media`).
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;
/// Largest base64 `media.payload`: 1 s of μ-law ([`MAX_PAYLOAD_BYTES`]) once decoded.
pub const MAX_PAYLOAD_BASE64: usize = MAX_PAYLOAD_BYTES.div_ceil(3) * 4;
/// `start` must come within this long of the upgrade.
pub(super) const START_TIMEOUT: Duration = Duration::from_secs(10);
/// After the interview ends: how long to wait for Twilio to confirm (a `mark`) that the closing
/// words have played before the socket is closed (which hangs up).
pub(super) const END_DRAIN: Duration = Duration::from_secs(2);
/// The mark sent after the last audio of the session.
pub const END_MARK: &str = "session-end";

/// Close codes particular to this gateway (the rest are shared with the WebSocket gateway).
pub mod codes {
    /// A `media` (or anything but `connected`) before `start`, or no `start` within 10 s.
    pub const START_EXPECTED: u16 = 4000;
    /// `start` named no live session.
    pub const UNKNOWN_SESSION: u16 = 4004;
}

/// One message from Twilio. Fields we do not use are ignored; unknown events are logged and
/// skipped (Twilio adds events now and then).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawMessage {
    event: String,
    #[serde(default)]
    start: Option<StartInfo>,
    #[serde(default)]
    media: Option<MediaInfo>,
    #[serde(default)]
    mark: Option<MarkInfo>,
    #[serde(default)]
    dtmf: Option<DtmfInfo>,
}

/// A keypad press (`dtmf` event, bidirectional streams).
#[derive(Debug, Deserialize)]
struct DtmfInfo {
    digit: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StartInfo {
    stream_sid: String,
    #[serde(default)]
    call_sid: Option<String>,
    #[serde(default)]
    custom_parameters: HashMap<String, String>,
    #[serde(default)]
    media_format: Option<MediaFormat>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct MediaFormat {
    encoding: String,
    sample_rate: u32,
    #[serde(default = "one")]
    channels: u32,
}

fn one() -> u32 {
    1
}

#[derive(Debug, Deserialize)]
struct MediaInfo {
    payload: String,
    /// Milliseconds since the stream started; Twilio sends it as a string.
    #[serde(default)]
    timestamp: Option<serde_json::Value>,
    #[serde(default)]
    track: Option<String>,
}

#[derive(Debug, Deserialize)]
struct MarkInfo {
    name: String,
}

/// Why the stream is closed (each maps to a close code; the reason is the message).
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum TwilioError {
    #[error("message is not Twilio Media Streams JSON: {0}")]
    BadJson(String),
    #[error("{0} event without its {0} object")]
    MissingBody(&'static str),
    #[error("media payload is not base64: {0}")]
    BadBase64(String),
    #[error(
        "media payload of {0} bytes (base64) is larger than 1 s of audio ({MAX_PAYLOAD_BASE64})"
    )]
    PayloadTooLarge(usize),
    #[error("message of {0} bytes is larger than {MAX_MESSAGE_BYTES}")]
    MessageTooLarge(usize),
    #[error("binary messages are not part of the protocol")]
    Binary,
    #[error("{0:?} before start")]
    BeforeStart(String),
    #[error("second start on one stream")]
    SecondStart,
    #[error("unsupported media format {encoding} at {rate} Hz ({channels} channels); only audio/x-mulaw 8000 Hz mono")]
    MediaFormat {
        encoding: String,
        rate: u32,
        channels: u32,
    },
    #[error("start.customParameters lacks {0:?}")]
    MissingParameter(&'static str),
    #[error("session: {0}")]
    Attach(AttachError),
    #[error("audio: {0}")]
    Audio(String),
}

impl TwilioError {
    pub fn close_code(&self) -> u16 {
        match self {
            TwilioError::BadJson(_) | TwilioError::MissingBody(_) | TwilioError::BadBase64(_) => {
                close::INVALID_PAYLOAD
            }
            TwilioError::PayloadTooLarge(_) | TwilioError::MessageTooLarge(_) => close::TOO_BIG,
            TwilioError::Binary => close::UNSUPPORTED_DATA,
            TwilioError::BeforeStart(_) | TwilioError::SecondStart => codes::START_EXPECTED,
            TwilioError::MediaFormat { .. } => close::UNSUPPORTED_CODEC,
            TwilioError::MissingParameter(_) => codes::UNKNOWN_SESSION,
            TwilioError::Attach(AttachError::Unknown) => codes::UNKNOWN_SESSION,
            TwilioError::Attach(AttachError::BadToken) => close::BAD_TOKEN,
            TwilioError::Attach(AttachError::Busy) => close::SESSION_BUSY,
            TwilioError::Attach(AttachError::Ended) => close::SESSION_ENDED,
            TwilioError::Attach(AttachError::Full { .. }) => close::SERVER_FULL,
            TwilioError::Audio(_) => close::INTERNAL,
        }
    }

    /// A short label for the events counter.
    pub fn kind(&self) -> &'static str {
        match self {
            TwilioError::BadJson(_) | TwilioError::MissingBody(_) => "twilio_bad_message",
            TwilioError::BadBase64(_) => "twilio_bad_base64",
            TwilioError::PayloadTooLarge(_) | TwilioError::MessageTooLarge(_) => "twilio_oversized",
            TwilioError::Binary => "twilio_binary",
            TwilioError::BeforeStart(_) | TwilioError::SecondStart => "twilio_no_start",
            TwilioError::MediaFormat { .. } => "twilio_media_format",
            TwilioError::MissingParameter(_) | TwilioError::Attach(_) => "twilio_attach_refused",
            TwilioError::Audio(_) => "twilio_audio_error",
        }
    }
}

impl From<AudioError> for TwilioError {
    fn from(e: AudioError) -> Self {
        TwilioError::Audio(e.to_string())
    }
}

/// What the IO side must do.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Look up `session_id` and attach with `token`; report back with
    /// [`TwilioStream::attached`] or [`TwilioStream::attach_failed`].
    Attach { session_id: String, token: String },
    /// Candidate audio for the session: 16 kHz mono.
    Audio(Vec<f32>),
    /// A text message to Twilio.
    Send(String),
    /// The call hung up (`stop`): the candidate left.
    Hangup,
    /// Wait (bounded) for Twilio to confirm the [`END_MARK`], then close normally.
    Drain,
    /// The caller pressed a key (0–9, `*`, `#`).
    Digit(char),
    /// Close the socket with this code and reason.
    Close { code: u16, reason: String },
}

impl Action {
    fn close(e: &TwilioError) -> Action {
        Action::Close {
            code: e.close_code(),
            reason: e.to_string(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Waiting for `start` (`connected` may come first).
    AwaitingStart,
    /// `start` seen; the IO side is attaching.
    Attaching,
    Live,
    /// The interview is over and the gateway speaks on its own (the rating question): keypad
    /// presses, marks and `stop` still count; caller audio goes nowhere.
    Epilogue,
    /// Stopped or closed: everything else is ignored.
    Over,
}

/// The sans-IO Media Streams endpoint of one call.
pub struct TwilioStream {
    phase: Phase,
    stream_sid: Option<String>,
    call_sid: Option<String>,
    /// 8 kHz → 16 kHz for the session.
    upsampler: StreamResampler,
    /// Next expected inbound index (8 kHz samples since the stream started).
    next_in: u64,
    /// 16 kHz → 8 kHz for the call.
    downsampler: StreamResampler,
    /// Next outbound index (16 kHz samples), so the downsampler sees one contiguous stream.
    next_out: u64,
    /// Inbound chunks dropped as late or duplicated (their time was already covered).
    pub late_chunks: u64,
    /// Audio sent since the last mark: a mark without audio before it would be pointless.
    audio_since_mark: bool,
}

impl TwilioStream {
    pub fn new() -> Result<Self, TwilioError> {
        Ok(Self {
            phase: Phase::AwaitingStart,
            stream_sid: None,
            call_sid: None,
            upsampler: StreamResampler::new(G711_RATE_HZ, SPEECH_RATE_HZ)?,
            next_in: 0,
            downsampler: StreamResampler::new(SPEECH_RATE_HZ, G711_RATE_HZ)?,
            next_out: 0,
            late_chunks: 0,
            audio_since_mark: false,
        })
    }

    pub fn phase(&self) -> Phase {
        self.phase
    }

    pub fn stream_sid(&self) -> Option<&str> {
        self.stream_sid.as_deref()
    }

    pub fn call_sid(&self) -> Option<&str> {
        self.call_sid.as_deref()
    }

    fn fail(&mut self, e: TwilioError) -> Vec<Action> {
        self.phase = Phase::Over;
        vec![Action::close(&e)]
    }

    /// A text message from Twilio.
    pub fn on_text(&mut self, text: &str) -> Vec<Action> {
        if self.phase == Phase::Over {
            return Vec::new();
        }
        if text.len() > MAX_MESSAGE_BYTES {
            return self.fail(TwilioError::MessageTooLarge(text.len()));
        }
        let msg: RawMessage = match serde_json::from_str(text) {
            Ok(m) => m,
            Err(e) => return self.fail(TwilioError::BadJson(e.to_string())),
        };
        match msg.event.as_str() {
            "connected" => Vec::new(),
            "start" => match msg.start {
                Some(start) => self.on_start(start),
                None => self.fail(TwilioError::MissingBody("start")),
            },
            other if self.phase == Phase::AwaitingStart => {
                self.fail(TwilioError::BeforeStart(other.to_string()))
            }
            "media" => match msg.media {
                Some(media) => self.on_media(media),
                None => self.fail(TwilioError::MissingBody("media")),
            },
            "mark" => match msg.mark {
                Some(m) if m.name == END_MARK => {
                    self.phase = Phase::Over;
                    vec![Action::Close {
                        code: close::NORMAL,
                        reason: "interview over".into(),
                    }]
                }
                Some(m) => {
                    tracing::debug!(mark = %m.name, "played");
                    Vec::new()
                }
                None => self.fail(TwilioError::MissingBody("mark")),
            },
            "stop" => {
                self.phase = Phase::Over;
                vec![Action::Hangup]
            }
            "dtmf" => match msg.dtmf.map(|d| d.digit) {
                Some(d)
                    if d.len() == 1
                        && d.chars()
                            .all(|c| c.is_ascii_digit() || c == '*' || c == '#') =>
                {
                    d.chars().next().map(Action::Digit).into_iter().collect()
                }
                other => {
                    tracing::debug!(digit = ?other, "malformed keypad event ignored");
                    Vec::new()
                }
            },
            other => {
                tracing::debug!(event = other, "unknown Twilio event ignored");
                Vec::new()
            }
        }
    }

    /// A binary message: not part of the protocol.
    pub fn on_binary(&mut self) -> Vec<Action> {
        if self.phase == Phase::Over {
            return Vec::new();
        }
        self.fail(TwilioError::Binary)
    }

    fn on_start(&mut self, start: StartInfo) -> Vec<Action> {
        if self.phase != Phase::AwaitingStart {
            return self.fail(TwilioError::SecondStart);
        }
        if let Some(f) = &start.media_format {
            if f.encoding != "audio/x-mulaw" || f.sample_rate != G711_RATE_HZ || f.channels != 1 {
                return self.fail(TwilioError::MediaFormat {
                    encoding: f.encoding.clone(),
                    rate: f.sample_rate,
                    channels: f.channels,
                });
            }
        }
        let p = &start.custom_parameters;
        let Some(session_id) = p.get("session").cloned() else {
            return self.fail(TwilioError::MissingParameter("session"));
        };
        let Some(token) = p.get("token").cloned() else {
            return self.fail(TwilioError::MissingParameter("token"));
        };
        self.stream_sid = Some(start.stream_sid);
        self.call_sid = start.call_sid;
        self.phase = Phase::Attaching;
        vec![Action::Attach { session_id, token }]
    }

    /// The IO side attached the session: media flows.
    pub fn attached(&mut self) {
        if self.phase == Phase::Attaching {
            self.phase = Phase::Live;
        }
    }

    pub fn attach_failed(&mut self, e: AttachError) -> Vec<Action> {
        self.fail(TwilioError::Attach(e))
    }

    fn on_media(&mut self, media: MediaInfo) -> Vec<Action> {
        if media.track.as_deref().is_some_and(|t| t != "inbound") {
            // Only the caller's side is transcribed (a "both_tracks" stream also carries ours).
            return Vec::new();
        }
        if media.payload.len() > MAX_PAYLOAD_BASE64 {
            return self.fail(TwilioError::PayloadTooLarge(media.payload.len()));
        }
        let bytes = match base64::engine::general_purpose::STANDARD.decode(&media.payload) {
            Ok(b) => b,
            Err(e) => return self.fail(TwilioError::BadBase64(e.to_string())),
        };
        if bytes.is_empty() || self.phase != Phase::Live {
            return Vec::new();
        }
        let len = bytes.len() as u64;
        // Place the chunk by its timestamp: a lost chunk leaves a gap (filled with silence by
        // the resampler), a late or repeated one is dropped. Without a timestamp, or after a jump
        // of more than a second (the pipeline re-anchors such stalls itself), it follows on.
        let at = media
            .timestamp
            .as_ref()
            .and_then(|t| match t {
                serde_json::Value::String(s) => s.parse::<u64>().ok(),
                serde_json::Value::Number(n) => n.as_u64(),
                _ => None,
            })
            .map(|ms| ms.saturating_mul(u64::from(G711_RATE_HZ / 1000)));
        let start = match at {
            Some(at) if at.saturating_add(len) <= self.next_in => {
                self.late_chunks += 1;
                return Vec::new();
            }
            Some(at) if at > self.next_in && at - self.next_in <= u64::from(G711_RATE_HZ) => at,
            _ => self.next_in,
        };
        let frame = match AudioFrame::new(g711::ulaw_decode(&bytes), G711_RATE_HZ, start) {
            Ok(f) => f,
            Err(e) => return self.fail(e.into()),
        };
        self.next_in = start + len;
        match self.upsampler.process(&frame) {
            Ok(Some(out)) if !out.is_empty() => vec![Action::Audio(out.into_samples())],
            Ok(_) => Vec::new(),
            Err(e) => self.fail(e.into()),
        }
    }

    fn send(&self, v: serde_json::Value) -> Action {
        Action::Send(v.to_string())
    }

    fn media_message(&self, frame: &AudioFrame) -> Result<Option<Action>, TwilioError> {
        if frame.is_empty() {
            return Ok(None);
        }
        let bytes = g711::encode_frame(viva_audio::G711Law::MuLaw, frame)?;
        let payload = base64::engine::general_purpose::STANDARD.encode(bytes);
        Ok(Some(self.send(serde_json::json!({
            "event": "media",
            "streamSid": self.stream_sid,
            "media": {"payload": payload},
        }))))
    }

    fn mark(&mut self, name: &str) -> Action {
        self.audio_since_mark = false;
        self.send(serde_json::json!({
            "event": "mark",
            "streamSid": self.stream_sid,
            "mark": {"name": name},
        }))
    }

    /// Pushes the downsampler's buffered tail out (the end of an utterance).
    fn flush_out(&mut self) -> Result<Option<Action>, TwilioError> {
        match self.downsampler.flush()? {
            Some(f) => self.media_message(&f),
            None => Ok(None),
        }
    }

    /// After the interview's closing words: a prompt of the gateway's own (16 kHz samples) as
    /// media, then `mark` (whose echo says it has played).
    pub fn epilogue(&mut self, samples: Vec<f32>, mark: &str) -> Result<Vec<Action>, TwilioError> {
        self.phase = Phase::Epilogue;
        let mut actions = Vec::new();
        // 20 ms a message, as the session's own audio goes out.
        for chunk in samples.chunks(320) {
            let len = chunk.len() as u64;
            let frame = AudioFrame::new(chunk.to_vec(), SPEECH_RATE_HZ, self.next_out)?;
            self.next_out += len;
            if let Some(f) = self.downsampler.process(&frame)? {
                actions.extend(self.media_message(&f)?);
            }
        }
        actions.extend(self.flush_out()?);
        actions.push(self.mark(mark));
        Ok(actions)
    }

    /// Something the session sends to the candidate.
    pub fn on_outbound(&mut self, out: Outbound) -> Vec<Action> {
        if self.phase != Phase::Live {
            return Vec::new();
        }
        match self.outbound(out) {
            Ok(actions) => actions,
            Err(e) => self.fail(e),
        }
    }

    fn outbound(&mut self, out: Outbound) -> Result<Vec<Action>, TwilioError> {
        let mut actions = Vec::new();
        match out {
            Outbound::Audio(pcm) => {
                let samples: Vec<f32> = pcm.iter().map(|s| f32::from(*s) / 32768.0).collect();
                let len = samples.len() as u64;
                let frame = AudioFrame::new(samples, SPEECH_RATE_HZ, self.next_out)?;
                self.next_out += len;
                if let Some(f) = self.downsampler.process(&frame)? {
                    actions.extend(self.media_message(&f)?);
                    self.audio_since_mark = true;
                }
            }
            Outbound::Event(ServerEvent::Flush { .. }) => {
                // Barge-in: drop what Twilio has queued and what the downsampler holds.
                self.downsampler.reset();
                self.audio_since_mark = false;
                actions.push(self.send(serde_json::json!({
                    "event": "clear",
                    "streamSid": self.stream_sid,
                })));
            }
            Outbound::Event(ServerEvent::InterviewerAudioEnd {
                utterance_id,
                interrupted: false,
                awaits_answer,
            }) => {
                actions.extend(self.flush_out()?);
                // Twilio echoes a mark once the audio before it has played: a question's mark
                // says when the caller has heard all of it.
                let suffix = if awaits_answer { "question" } else { "end" };
                actions.push(self.mark(&format!("{utterance_id}:{suffix}")));
            }
            Outbound::Event(ServerEvent::Ended { reason }) => {
                tracing::info!(reason = %reason, "interview ended");
            }
            Outbound::Event(ServerEvent::Error { code, message }) => {
                tracing::warn!(code = %code, message = %message, "session error");
            }
            // Captions, progress, …: a phone has no screen for them.
            Outbound::Event(_) => {}
            Outbound::Close { code, reason } => {
                if code == close::NORMAL {
                    // Let the closing words play out before hanging up.
                    actions.extend(self.flush_out()?);
                    actions.push(self.mark(END_MARK));
                    actions.push(Action::Drain);
                } else {
                    self.phase = Phase::Over;
                    actions.push(Action::Close { code, reason });
                }
            }
        }
        Ok(actions)
    }

    /// The session ended (its outbound queue closed).
    pub fn session_over(&mut self) -> Vec<Action> {
        if self.phase != Phase::Live {
            return Vec::new();
        }
        self.on_outbound(Outbound::Close {
            code: close::NORMAL,
            reason: "interview over".into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const START: &str = r#"{"event":"start","sequenceNumber":"1","start":{"accountSid":"AC1","streamSid":"MZ1","callSid":"CA1","tracks":["inbound"],"customParameters":{"session":"s-1","token":"t"},"mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}},"streamSid":"MZ1"}"#;

    fn media(ts_ms: u64, bytes: &[u8]) -> String {
        let payload = base64::engine::general_purpose::STANDARD.encode(bytes);
        format!(
            r#"{{"event":"media","sequenceNumber":"3","media":{{"track":"inbound","chunk":"1","timestamp":"{ts_ms}","payload":"{payload}"}},"streamSid":"MZ1"}}"#
        )
    }

    fn live() -> TwilioStream {
        let mut s = TwilioStream::new().unwrap();
        assert!(s
            .on_text(r#"{"event":"connected","protocol":"Call","version":"1.0.0"}"#)
            .is_empty());
        let actions = s.on_text(START);
        assert_eq!(
            actions,
            vec![Action::Attach {
                session_id: "s-1".into(),
                token: "t".into()
            }]
        );
        s.attached();
        assert_eq!(s.phase(), Phase::Live);
        assert_eq!(s.stream_sid(), Some("MZ1"));
        s
    }

    fn close_code(actions: &[Action]) -> Option<u16> {
        actions.iter().find_map(|a| match a {
            Action::Close { code, .. } => Some(*code),
            _ => None,
        })
    }

    fn sent(actions: &[Action]) -> Vec<serde_json::Value> {
        actions
            .iter()
            .filter_map(|a| match a {
                Action::Send(t) => Some(serde_json::from_str(t).unwrap()),
                _ => None,
            })
            .collect()
    }

    fn tone(n: usize, rate: f32) -> Vec<i16> {
        (0..n)
            .map(|i| ((i as f32 * 440.0 * std::f32::consts::TAU / rate).sin() * 8000.0) as i16)
            .collect()
    }

    #[test]
    fn media_is_decoded_and_upsampled_to_16k() {
        let mut s = live();
        let ulaw: Vec<u8> = tone(160, 8000.0)
            .iter()
            .map(|&x| g711::ulaw_encode_sample(x))
            .collect();
        let mut total = 0;
        for i in 0..50u64 {
            for a in s.on_text(&media(i * 20, &ulaw)) {
                match a {
                    Action::Audio(samples) => {
                        assert!(samples.iter().all(|x| x.abs() <= 1.0));
                        total += samples.len();
                    }
                    other => panic!("unexpected {other:?}"),
                }
            }
        }
        // 1 s at 8 kHz is 1 s at 16 kHz, less what the resampler still holds (≤ ~40 ms).
        assert!((15_000..=16_000).contains(&total), "{total} samples");
    }

    #[test]
    fn late_and_duplicate_chunks_are_dropped_and_gaps_kept() {
        let mut s = live();
        let chunk = [0xFFu8; 160];
        let count = |a: Vec<Action>| -> usize {
            a.iter()
                .map(|a| match a {
                    Action::Audio(x) => x.len(),
                    _ => 0,
                })
                .sum()
        };
        let mut got = 0;
        got += count(s.on_text(&media(0, &chunk)));
        got += count(s.on_text(&media(20, &chunk)));
        // A repeat of chunk 0: dropped.
        got += count(s.on_text(&media(0, &chunk)));
        assert_eq!(s.late_chunks, 1);
        // Chunk 3 lost: chunk 4 starts 20 ms later, the gap becomes silence.
        got += count(s.on_text(&media(80, &chunk)));
        got += count(s.on_text(&media(100, &chunk)));
        let flushed = s.upsampler.flush().unwrap().map_or(0, |f| f.len());
        // 120 ms of stream time (5 chunks + one gap) → 1920 samples at 16 kHz.
        assert_eq!(got + flushed, 1920);
    }

    #[test]
    fn wrong_json_closes_with_1007() {
        for bad in [
            "not json",
            "{}",
            r#"{"event": 5}"#,
            r#"{"event":"media"}"#,
            r#"{"event":"media","media":{"payload":7}}"#,
        ] {
            let mut s = live();
            let a = s.on_text(bad);
            assert_eq!(close_code(&a), Some(close::INVALID_PAYLOAD), "{bad}: {a:?}");
            assert_eq!(s.phase(), Phase::Over);
            // Nothing after the close.
            assert!(s.on_text(&media(0, &[0xFF; 160])).is_empty());
        }
    }

    #[test]
    fn bad_base64_closes_with_1007() {
        let mut s = live();
        let a = s.on_text(
            r#"{"event":"media","media":{"track":"inbound","timestamp":"0","payload":"***not base64***"}}"#,
        );
        assert_eq!(close_code(&a), Some(close::INVALID_PAYLOAD));
        match &a[0] {
            Action::Close { reason, .. } => assert!(reason.contains("base64"), "{reason}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn oversized_payload_and_message_close_with_1009() {
        let mut s = live();
        let a = s.on_text(&media(0, &vec![0xFFu8; MAX_PAYLOAD_BYTES + 3]));
        assert_eq!(close_code(&a), Some(close::TOO_BIG));
        let mut s = live();
        let huge = format!(r#"{{"event":"connected","x":"{}"}}"#, "a".repeat(70_000));
        assert_eq!(close_code(&s.on_text(&huge)), Some(close::TOO_BIG));
        // Exactly 1 s is accepted.
        let mut s = live();
        let a = s.on_text(&media(0, &vec![0xFFu8; MAX_PAYLOAD_BYTES]));
        assert_eq!(close_code(&a), None, "{a:?}");
    }

    #[test]
    fn media_before_start_closes_with_4000() {
        let mut s = TwilioStream::new().unwrap();
        let a = s.on_text(&media(0, &[0xFF; 160]));
        assert_eq!(close_code(&a), Some(codes::START_EXPECTED));
        let mut s = TwilioStream::new().unwrap();
        assert_eq!(
            close_code(&s.on_text(r#"{"event":"stop"}"#)),
            Some(codes::START_EXPECTED)
        );
        // A second start is refused too.
        let mut s = live();
        assert_eq!(close_code(&s.on_text(START)), Some(codes::START_EXPECTED));
    }

    #[test]
    fn start_without_session_or_wrong_format_is_refused() {
        let mut s = TwilioStream::new().unwrap();
        let a = s.on_text(r#"{"event":"start","start":{"streamSid":"MZ1","customParameters":{}}}"#);
        assert_eq!(close_code(&a), Some(codes::UNKNOWN_SESSION));
        let mut s = TwilioStream::new().unwrap();
        let a = s.on_text(
            r#"{"event":"start","start":{"streamSid":"MZ1","customParameters":{"session":"s","token":"t"},"mediaFormat":{"encoding":"audio/x-l16","sampleRate":16000,"channels":1}}}"#,
        );
        assert_eq!(close_code(&a), Some(close::UNSUPPORTED_CODEC));
        // Unknown session / wrong token, as the IO side reports them.
        let mut s = TwilioStream::new().unwrap();
        s.on_text(START);
        let a = s.attach_failed(AttachError::Unknown);
        assert_eq!(close_code(&a), Some(codes::UNKNOWN_SESSION));
        let mut s = TwilioStream::new().unwrap();
        s.on_text(START);
        assert_eq!(
            close_code(&s.attach_failed(AttachError::BadToken)),
            Some(close::BAD_TOKEN)
        );
    }

    #[test]
    fn binary_messages_are_refused() {
        let mut s = live();
        assert_eq!(close_code(&s.on_binary()), Some(close::UNSUPPORTED_DATA));
    }

    #[test]
    fn unknown_events_and_outbound_tracks_are_ignored() {
        let mut s = live();
        assert!(s.on_text(r#"{"event":"flubber","flubber":{}}"#).is_empty());
        assert!(s
            .on_text(r#"{"event":"media","media":{"track":"outbound","payload":"//8="}}"#)
            .is_empty());
        assert_eq!(s.phase(), Phase::Live);
    }

    #[test]
    fn interviewer_audio_goes_out_as_mulaw_8k_with_marks_and_clear_on_barge_in() {
        let mut s = live();
        let pcm = tone(16_000, 16_000.0);
        let mut out_bytes = 0;
        for chunk in pcm.chunks(320) {
            for m in sent(&s.on_outbound(Outbound::Audio(chunk.to_vec()))) {
                assert_eq!(m["event"], "media");
                assert_eq!(m["streamSid"], "MZ1");
                let b = base64::engine::general_purpose::STANDARD
                    .decode(m["media"]["payload"].as_str().unwrap())
                    .unwrap();
                out_bytes += b.len();
            }
        }
        let end = s.on_outbound(Outbound::Event(ServerEvent::InterviewerAudioEnd {
            utterance_id: "u1".into(),
            interrupted: false,
            awaits_answer: true,
        }));
        let msgs = sent(&end);
        let last = msgs.last().unwrap();
        assert_eq!(last["event"], "mark");
        assert_eq!(last["mark"]["name"], "u1:question");
        for m in &msgs[..msgs.len() - 1] {
            out_bytes += base64::engine::general_purpose::STANDARD
                .decode(m["media"]["payload"].as_str().unwrap())
                .unwrap()
                .len();
        }
        // 1 s of 16 kHz audio is 8000 μ-law bytes, the tail flushed at the utterance's end.
        assert_eq!(out_bytes, 8000);

        // Barge-in: the pipeline's flush becomes a clear.
        s.on_outbound(Outbound::Audio(pcm[..320].to_vec()));
        let msgs = sent(&s.on_outbound(Outbound::Event(ServerEvent::Flush {
            reason: "barge_in".into(),
        })));
        assert_eq!(msgs.len(), 1);
        assert_eq!(msgs[0]["event"], "clear");
        assert_eq!(msgs[0]["streamSid"], "MZ1");
        // An interrupted utterance gets no mark; captions are not sent down a phone line.
        assert!(s
            .on_outbound(Outbound::Event(ServerEvent::InterviewerAudioEnd {
                utterance_id: "u2".into(),
                interrupted: true,
                awaits_answer: false,
            }))
            .is_empty());
        assert!(s
            .on_outbound(Outbound::Event(ServerEvent::Caption {
                turn: 1,
                is_final: true,
                text: "hi".into(),
                start_ms: 0,
                end_ms: 1
            }))
            .is_empty());
    }

    #[test]
    fn session_end_marks_then_closes_on_the_echo_and_stop_hangs_up() {
        let mut s = live();
        let a = s.on_outbound(Outbound::Close {
            code: close::NORMAL,
            reason: "over".into(),
        });
        assert_eq!(a.last(), Some(&Action::Drain));
        let marks = sent(&a);
        assert_eq!(marks.last().unwrap()["mark"]["name"], END_MARK);
        let echo =
            format!(r#"{{"event":"mark","streamSid":"MZ1","mark":{{"name":"{END_MARK}"}}}}"#);
        assert_eq!(close_code(&s.on_text(&echo)), Some(close::NORMAL));

        let mut s = live();
        assert_eq!(
            s.on_text(r#"{"event":"stop","stop":{"callSid":"CA1"}}"#),
            vec![Action::Hangup]
        );
        assert_eq!(s.phase(), Phase::Over);
    }

    #[test]
    fn after_the_end_the_gateways_own_prompt_plays_and_keypad_presses_come_through() {
        let mut s = live();
        s.on_outbound(Outbound::Close {
            code: close::NORMAL,
            reason: "over".into(),
        });
        let echo =
            format!(r#"{{"event":"mark","streamSid":"MZ1","mark":{{"name":"{END_MARK}"}}}}"#);
        s.on_text(&echo);
        let a = s.epilogue(vec![0.1; 16_000], "rating").unwrap();
        let msgs = sent(&a);
        assert!(
            msgs.iter().filter(|m| m["event"] == "media").count() >= 40,
            "1 s of μ-law"
        );
        assert_eq!(msgs.last().unwrap()["mark"]["name"], "rating");
        let key = |d: &str| {
            format!(
                r#"{{"event":"dtmf","streamSid":"MZ1","dtmf":{{"track":"inbound_track","digit":"{d}"}}}}"#
            )
        };
        assert_eq!(s.on_text(&key("4")), vec![Action::Digit('4')]);
        assert_eq!(s.on_text(&key("#")), vec![Action::Digit('#')]);
        assert!(s.on_text(&key("45")).is_empty(), "one key per event");
        assert!(s.on_text(&key("a")).is_empty());
        assert_eq!(
            s.on_text(r#"{"event":"stop","stop":{"callSid":"CA1"}}"#),
            vec![Action::Hangup]
        );
    }
}
