//! Live interview sessions: one per interview, independent of the transport that carries the
//! audio. Each is a sans-IO state machine ([`machine::Session`]) driven by one tokio task
//! ([`runner`]):
//!
//! ```text
//! transport ─Inbound─► runner ─Input(now)─► Session: stamp + VAD → listen (end of turn, barge-in)
//!     ▲                 │  ▲                    → transcription (which pass is the final text)
//!     │                 │  │                    → dialogue (Interview, journal, silence)
//!     │                 │  │                    → playout (utterances paced, stopped on barge-in)
//!     └──── Outbound ◄──┤  └── Whisper passes, Smart Turn, synthesized audio (workers' results)
//!                       └──► recorder, turns.json, journal sink, metrics   ◄─ Output ─┘
//! ```
//! - [`machine`]: the session's decisions, in session time, without IO (tested in fake time).
//! - [`runner`]: the IO around one session: clock, workers, recording, persistence.
//! - [`manager`]: the node's sessions: capacity, expiry, restore, drain.
//! - [`setup`]: a session's configuration, what it is restored from, where it reports.
//! - [`journal`]: the write-ahead journal (events the interview handled) and its replay.
//! - [`messages`]: what transports send and receive.
//! - [`metrics`]: Prometheus histograms per stage.
//!
//! The expensive, shared things ([`Engines`]: Whisper and its scheduler, the voice, the Silero
//! pool) are loaded once per process and handed to every session, each behind its trait in
//! `viva_models::workers` so a session runs the same with scripted workers in tests.

pub mod journal;
pub mod machine;
pub mod manager;
pub mod messages;
pub mod metrics;
mod recording;
pub mod runner;
pub mod setup;
pub mod synth_pool;

use std::sync::{Arc, Mutex};

use viva_interview::JobConfig;
use viva_models::workers::{
    SileroActivity, TextToSpeech, Transcriber, VoiceActivity, WebRtcActivity, WhisperTranscriber,
};

pub use manager::{
    hash_token, AttachError, Attachment, CreateError, Created, RestoreSpec, SessionHandle,
    SessionManager,
};
pub use messages::{Inbound, Outbound, ServerEvent};
pub use metrics::Metrics;
pub use setup::{EndedSession, Outcome, SessionConfig, SessionSink};

/// The protocol version spoken by the gateways (see `docs/protocol.md`).
pub const PROTOCOL_VERSION: u32 = 1;

/// Models and pools every session shares.
pub struct Engines {
    pub transcriber: Arc<dyn Transcriber>,
    pub voice: Arc<dyn TextToSpeech>,
    /// A voice activity detector per session (Silero when provisioned, else WebRTC's).
    pub vad: Arc<dyn VoiceActivity>,
    /// Smart Turn when provisioned: the acoustic half of the end-of-turn decision (without it,
    /// turns end on text and silence alone).
    pub smart_turn: Option<Arc<viva_audio::SmartTurnModel>>,
    pub metrics: Arc<Metrics>,
    /// The interviewer's voice renders here (threads of its own).
    pub synth: synth_pool::SynthPool,
    /// Jobs whose prompts were already prerendered by this process.
    prerendered: Mutex<std::collections::HashSet<u64>>,
}

impl Engines {
    /// Engines from the given workers (real or scripted); `threads` sizes the synthesis pool.
    pub fn new(
        transcriber: Arc<dyn Transcriber>,
        voice: Arc<dyn TextToSpeech>,
        vad: Arc<dyn VoiceActivity>,
        smart_turn: Option<Arc<viva_audio::SmartTurnModel>>,
        threads: usize,
    ) -> std::io::Result<Engines> {
        Ok(Engines {
            transcriber,
            voice,
            vad,
            smart_turn,
            metrics: Arc::new(Metrics::new()),
            synth: synth_pool::SynthPool::new(threads.max(2))?,
            prerendered: Mutex::new(Default::default()),
        })
    }

    /// Loads the voice (Piper when provisioned, else espeak-ng) with its prompt cache, the
    /// Silero VAD pool and Smart Turn, sharing one ONNX Runtime environment, around `whisper`.
    /// Blocking (seconds).
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
        // One Silero session per core: every session's detector steps on one of them.
        let silero = env.and_then(|env| {
            let path = viva_audio::vad::provision::locate_vad_model(models_dir).ok()?;
            match viva_audio::vad::SileroModel::load_pool(env, &path, threads.max(1)) {
                Ok(m) => Some(Arc::new(m)),
                Err(e) => {
                    tracing::warn!(error = %e, "Silero VAD unavailable; WebRTC VAD instead");
                    None
                }
            }
        });
        let vad: Arc<dyn VoiceActivity> = match silero {
            Some(m) => Arc::new(SileroActivity(m)),
            None => Arc::new(WebRtcActivity),
        };
        let smart_turn = env.and_then(|env| {
            let path = viva_audio::vad::provision::SMART_TURN.locate(models_dir).ok()?;
            match viva_audio::SmartTurnModel::load(env, &path, 1) {
                Ok(m) => Some(Arc::new(m)),
                Err(e) => {
                    tracing::warn!(error = %e, "Smart Turn unavailable; turns end on text and silence");
                    None
                }
            }
        });
        tracing::info!(
            voice = %voice.voice_id(),
            vad = vad.name(),
            smart_turn = smart_turn.is_some(),
            "session engines loaded"
        );
        Ok(Engines::new(
            Arc::new(WhisperTranscriber::new(whisper, threads)),
            Arc::new(voice),
            vad,
            smart_turn,
            threads,
        )?)
    }

    /// Renders jobs' fixed phrases into the prompt cache in the background (one task, job
    /// after job), so the interviewer's questions cost no synthesis when asked.
    pub fn prerender_in_background(&self, jobs: &[JobConfig]) {
        let mut phrases = Vec::new();
        if let Ok(mut seen) = self.prerendered.lock() {
            for job in jobs {
                let mine = viva_interview::prerenderable_phrases(job);
                // Once per set of phrases per process: the cache is on disk, a second pass
                // would only check it while competing with live sessions for the CPU. (An
                // edited job has other phrases, and is rendered again.)
                let mut h = std::collections::hash_map::DefaultHasher::new();
                std::hash::Hash::hash(&mine, &mut h);
                if seen.insert(std::hash::Hasher::finish(&h)) {
                    phrases.extend(mine);
                }
            }
        }
        if phrases.is_empty() {
            return;
        }
        let voice = self.voice.clone();
        tokio::task::spawn_blocking(move || {
            if let Err(e) = voice.prepare(&phrases) {
                tracing::warn!(error = %e, "prerendering prompts failed");
            }
        });
    }
}
