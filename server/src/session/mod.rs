//! Live interview sessions: one per interview, a chain of tokio tasks joined by bounded channels,
//! independent of the transport that carries the audio.
//!
//! ```text
//! transport ─Inbound─► front end (stamp, resample, VAD) ─TurnIn─► turn (end of turn, barge-in)
//!     ▲                    │ candidate frames                         │ AsrJob      │ PlayCtl (barge-in)
//!     │                    ▼                                          ▼             ▼
//!     │                 recorder ◄──── interviewer frames ──── playout ◄─PlayItem─ synthesis
//!     │                                                           │                  ▲ SynthJob
//!     └──────────── Outbound (audio, events) ◄────────────────────┘                  │
//!                              transcription ─DialogueIn─► dialogue (Interview) ─────┘
//! ```
//! - [`messages`]: every message type.
//! - [`pipeline`]: the stages.
//! - [`transcriber`]: [`LiveTranscriber`], every session's passes through one inference scheduler.
//! - [`metrics`]: Prometheus histograms per stage.
//!
//! The expensive, shared things ([`Engines`]: Whisper and its scheduler, the voice, the Silero
//! model) are loaded once per process and handed to every session.

pub mod messages;
pub mod metrics;
pub mod pipeline;
pub mod transcriber;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::mpsc;
use viva_interview::JobConfig;

pub use messages::{Inbound, Outbound, ServerEvent};
pub use metrics::Metrics;
pub use transcriber::LiveTranscriber;

/// The protocol version spoken by the gateways (see `docs/protocol.md`).
pub const PROTOCOL_VERSION: u32 = 1;

/// Models and pools every session shares.
pub struct Engines {
    pub transcriber: LiveTranscriber,
    pub voice: viva_tts::Voice,
    /// Silero when provisioned; sessions fall back to WebRTC VAD without it.
    pub silero: Option<Arc<viva_audio::vad::SileroModel>>,
    pub metrics: Arc<Metrics>,
    /// Jobs whose prompts were already prerendered by this process.
    prerendered: Mutex<std::collections::HashSet<String>>,
}

impl Engines {
    /// Loads the voice (Piper when provisioned, else espeak-ng) with its prompt cache and the
    /// Silero VAD model, sharing one ONNX Runtime environment. Blocking (seconds).
    pub fn load(
        models_dir: &std::path::Path,
        whisper: Arc<viva_models::WhisperModel>,
        threads: usize,
    ) -> anyhow::Result<Engines> {
        let env = viva_audio::vad::provision::locate_onnxruntime(models_dir)
            .ok()
            .and_then(|lib| match viva_tts::piper::onnx_environment(&lib) {
                Ok(env) => Some(env),
                Err(e) => {
                    tracing::warn!(error = %e, "ONNX Runtime unavailable: espeak voice, WebRTC VAD");
                    None
                }
            });
        let voice = match (env, viva_tts::VoicePaths::locate(models_dir)) {
            (Some(env), Ok(paths)) => viva_tts::Voice::new(Arc::new(
                viva_tts::PiperVoice::load_in(env, &paths, &viva_tts::PiperOptions::default())?,
            )),
            _ => {
                tracing::warn!("neural voice unavailable; using espeak-ng");
                viva_tts::Voice::espeak()?
            }
        };
        // Beside the models, not in the data folder: rendered prompts depend only on the voice
        // and the text (both in the key), so every server and test on this machine shares them
        // instead of re-rendering a job's phrases (tens of seconds of CPU) per data folder.
        let cache = viva_tts::PromptCache::open(models_dir.join("cache").join("tts"))?;
        let voice = voice.with_cache(cache);
        let silero = env.and_then(|env| {
            let path = viva_audio::vad::provision::locate_vad_model(models_dir).ok()?;
            match viva_audio::vad::SileroModel::load(env, &path) {
                Ok(m) => Some(Arc::new(m)),
                Err(e) => {
                    tracing::warn!(error = %e, "Silero VAD unavailable; WebRTC VAD instead");
                    None
                }
            }
        });
        tracing::info!(voice = %voice.voice_id(), silero = silero.is_some(), "session engines loaded");
        Ok(Engines {
            transcriber: LiveTranscriber::new(whisper, threads),
            voice,
            silero,
            metrics: Arc::new(Metrics::new()),
            prerendered: Mutex::new(Default::default()),
        })
    }

    /// Renders a job's fixed phrases into the prompt cache in the background, so the
    /// interviewer's questions cost no synthesis when asked.
    pub fn prerender_in_background(&self, job: &JobConfig) {
        let first = self
            .prerendered
            .lock()
            .map(|mut seen| seen.insert(job.title.clone()))
            .unwrap_or(true);
        if !first {
            // Once per job per process: the cache is on disk, a second pass would only check it
            // while competing with live sessions for the CPU.
            return;
        }
        let voice = self.voice.clone();
        let phrases = viva_interview::prerenderable_phrases(job);
        tokio::task::spawn_blocking(move || {
            match voice.prerender(&phrases, viva_tts::SampleRate::Hz16000) {
                Ok(stats) => tracing::info!(
                    rendered = stats.rendered,
                    cached = stats.already_cached,
                    failed = stats.failed,
                    "prompt cache ready"
                ),
                Err(e) => tracing::warn!(error = %e, "prerendering prompts failed"),
            }
        });
    }
}

/// Per-session tunables.
#[derive(Debug, Clone)]
pub struct SessionConfig {
    pub recordings_dir: PathBuf,
    /// How long a dropped transport may take to resume before the candidate counts as gone.
    pub resume_grace: Duration,
    pub engine: viva_interview::EngineConfig,
    pub turn: viva_audio::TurnConfig,
}

impl SessionConfig {
    pub fn new(data_dir: &std::path::Path) -> Self {
        Self {
            recordings_dir: data_dir.join("recordings"),
            resume_grace: Duration::from_secs(60),
            engine: viva_interview::EngineConfig::default(),
            turn: viva_audio::TurnConfig::default(),
        }
    }
}

/// Why a transport may not attach.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum AttachError {
    #[error("no such session")]
    Unknown,
    #[error("the session already has a connection")]
    Busy,
    #[error("wrong resume token")]
    BadToken,
    #[error("the session has ended")]
    Ended,
}

/// A live session as the gateways see it.
pub struct SessionHandle {
    pub id: String,
    token: String,
    pub inbound: mpsc::Sender<Inbound>,
    outbound: Mutex<Option<mpsc::Receiver<Outbound>>>,
    attached: AtomicBool,
    /// Transports attached so far (a later one is a resume).
    attachments: std::sync::atomic::AtomicU32,
    ended: Arc<AtomicBool>,
}

/// The transport's side of an attached session; give it back with [`SessionHandle::detach`].
pub struct Attachment {
    pub outbound: mpsc::Receiver<Outbound>,
    /// A transport was attached before: this one resumes the interview.
    pub resumed: bool,
}

impl SessionHandle {
    /// Claims the session for one transport. Checks the token in constant time.
    pub fn attach(&self, token: &str) -> Result<Attachment, AttachError> {
        if self.ended.load(Ordering::SeqCst) {
            return Err(AttachError::Ended);
        }
        if !constant_time_eq(token.as_bytes(), self.token.as_bytes()) {
            return Err(AttachError::BadToken);
        }
        if self.attached.swap(true, Ordering::SeqCst) {
            return Err(AttachError::Busy);
        }
        let mut slot = self.outbound.lock().unwrap_or_else(|p| p.into_inner());
        match slot.take() {
            Some(outbound) => Ok(Attachment {
                outbound,
                resumed: self.attachments.fetch_add(1, Ordering::SeqCst) > 0,
            }),
            None => {
                self.attached.store(false, Ordering::SeqCst);
                Err(AttachError::Busy)
            }
        }
    }

    /// True while a transport holds the session.
    pub fn is_attached(&self) -> bool {
        self.attached.load(Ordering::SeqCst)
    }

    pub fn is_ended(&self) -> bool {
        self.ended.load(Ordering::SeqCst)
    }

    /// Returns the outbound queue so a later transport can resume.
    pub fn detach(&self, attachment: Attachment) {
        let mut slot = self.outbound.lock().unwrap_or_else(|p| p.into_inner());
        *slot = Some(attachment.outbound);
        self.attached.store(false, Ordering::SeqCst);
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// What `POST /v1/sessions` returns.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Created {
    pub id: String,
    pub resume_token: String,
}

/// A session that was filed under a stored interview has ended: its folder holds
/// `recording.wav` and `turns.json` (the transcript). Implemented by the storage side
/// ([`crate::store::link::StoreSink`]), which files the transcript and queues the scoring.
pub trait SessionSink: Send + Sync {
    fn session_ended(&self, session_id: String, interview_id: String, dir: PathBuf);
}

/// In-memory registry of live sessions (node-local state; see the brief on scaling out).
pub struct SessionManager {
    engines: Arc<Engines>,
    config: SessionConfig,
    sessions: Mutex<HashMap<String, Arc<SessionHandle>>>,
    sink: Option<Arc<dyn SessionSink>>,
}

impl SessionManager {
    pub fn new(engines: Arc<Engines>, config: SessionConfig) -> Arc<Self> {
        Self::with_sink(engines, config, None)
    }

    /// A manager whose linked sessions are handed to `sink` when they end.
    pub fn with_sink(
        engines: Arc<Engines>,
        config: SessionConfig,
        sink: Option<Arc<dyn SessionSink>>,
    ) -> Arc<Self> {
        Arc::new(Self {
            engines,
            config,
            sessions: Mutex::new(HashMap::new()),
            sink,
        })
    }

    /// Where a session's recording goes, relative to the recordings folder.
    pub fn recording_key(session_id: &str) -> String {
        format!("{session_id}/recording.wav")
    }

    pub fn engines(&self) -> &Arc<Engines> {
        &self.engines
    }

    pub fn get(&self, id: &str) -> Option<Arc<SessionHandle>> {
        self.lock().get(id).cloned()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<SessionHandle>>> {
        self.sessions.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Creates a session for `job` and starts its pipeline (the interview itself starts when a
    /// transport attaches). Must run inside the tokio runtime.
    pub fn create(self: &Arc<Self>, job: JobConfig) -> anyhow::Result<Created> {
        self.create_linked(job, None)
    }

    /// Like [`create`](Self::create), for the stored interview `interview_id`: when the
    /// session ends the sink files its transcript and recording under that interview.
    pub fn create_linked(
        self: &Arc<Self>,
        job: JobConfig,
        interview_id: Option<String>,
    ) -> anyhow::Result<Created> {
        let id = format!("s-{}", random_hex(8)?);
        let token = random_hex(16)?;
        let dir = self.config.recordings_dir.join(&id);
        std::fs::create_dir_all(&dir)?;
        self.engines.prerender_in_background(&job);
        let (in_tx, in_rx) = mpsc::channel(pipeline::INBOUND_CAPACITY);
        let (out_tx, out_rx) = mpsc::channel(pipeline::OUTBOUND_CAPACITY);
        let ended = Arc::new(AtomicBool::new(false));
        let handle = Arc::new(SessionHandle {
            id: id.clone(),
            token: token.clone(),
            inbound: in_tx,
            outbound: Mutex::new(Some(out_rx)),
            attached: AtomicBool::new(false),
            attachments: std::sync::atomic::AtomicU32::new(0),
            ended: ended.clone(),
        });
        self.lock().insert(id.clone(), handle);
        let running = pipeline::spawn(
            id.clone(),
            job,
            dir.clone(),
            self.engines.clone(),
            self.config.clone(),
            in_rx,
            out_tx,
        )?;
        let me = self.clone();
        let sid = id.clone();
        tokio::spawn(async move {
            let _ = running.await;
            ended.store(true, Ordering::SeqCst);
            if let (Some(sink), Some(interview)) = (me.sink.clone(), interview_id) {
                sink.session_ended(sid.clone(), interview, dir);
            }
            // Keep the entry a little so a late reconnect hears "ended" rather than "unknown".
            tokio::time::sleep(Duration::from_secs(30)).await;
            me.lock().remove(&sid);
        });
        Ok(Created {
            id,
            resume_token: token,
        })
    }
}

fn random_hex(bytes: usize) -> anyhow::Result<String> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| anyhow::anyhow!("no system randomness: {e}"))?;
    Ok(hex::encode(buf))
}
