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

use viva_audio::turn::Language;
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

/// The audio side's name for an interview language (the two crates do not depend on each
/// other): a plain mapping, cheap enough for every audio frame.
pub fn speech_language(lang: viva_interview::Lang) -> Language {
    match lang {
        viva_interview::Lang::En => Language::En,
        viva_interview::Lang::Es => Language::Es,
        viva_interview::Lang::De => Language::De,
    }
}

/// The protocol version spoken by the gateways (see `docs/protocol.md`).
pub const PROTOCOL_VERSION: u32 = 1;

/// How much longer the slower-speech accommodation makes the interviewer's sentences.
pub const SLOWER_SPEECH: f32 = 1.25;

/// Models and pools every session shares.
pub struct Engines {
    pub transcriber: Arc<dyn Transcriber>,
    /// The interviewer's English voice (and the voice of any language without its own).
    pub voice: Arc<dyn TextToSpeech>,
    /// The voices of the other interview languages (Spanish, German).
    voices: std::collections::HashMap<Language, Arc<dyn TextToSpeech>>,
    /// Each language's voice speaking more slowly (the slower-speech accommodation).
    slower_voices: std::collections::HashMap<Language, Arc<dyn TextToSpeech>>,
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
            voices: Default::default(),
            slower_voices: Default::default(),
            vad,
            smart_turn,
            metrics: Arc::new(Metrics::new()),
            synth: synth_pool::SynthPool::new(threads.max(2))?,
            prerendered: Mutex::new(Default::default()),
        })
    }

    /// The voice for `language` (another language's voice is added with
    /// [`Engines::with_voice`]).
    pub fn with_voice(mut self, language: Language, voice: Arc<dyn TextToSpeech>) -> Self {
        self.voices.insert(language, voice);
        self
    }

    /// `language`'s voice speaking more slowly (see [`SLOWER_SPEECH`]).
    pub fn with_slower_voice(mut self, language: Language, voice: Arc<dyn TextToSpeech>) -> Self {
        self.slower_voices.insert(language, voice);
        self
    }

    /// Who speaks `language`: its own voice, else the English one.
    pub fn voice_for(&self, language: Language) -> Arc<dyn TextToSpeech> {
        self.voices
            .get(&language)
            .cloned()
            .unwrap_or_else(|| self.voice.clone())
    }

    /// [`Engines::voice_for`], slower when the candidate asked for slower speech (the usual
    /// voice when no slower one was made).
    pub fn voice_at(&self, language: Language, slower: bool) -> Arc<dyn TextToSpeech> {
        slower
            .then(|| {
                self.slower_voices
                    .get(&language)
                    .or_else(|| self.slower_voices.get(&Language::En))
                    .cloned()
            })
            .flatten()
            .unwrap_or_else(|| self.voice_for(language))
    }

    /// Whether an interview in `language` can run: its speech can be transcribed and it has a
    /// voice of its own.
    pub fn supports(&self, language: Language) -> bool {
        self.transcriber.supports_language(language.tag())
            && (language == Language::En || self.voices.contains_key(&language))
    }

    /// Loads the voice (Piper when provisioned, else espeak-ng) with its prompt cache, the
    /// Silero VAD pool and Smart Turn, sharing one ONNX Runtime environment, around `whisper`.
    /// Blocking (seconds).
    pub fn load(
        models_dir: &std::path::Path,
        whisper: Arc<viva_models::WhisperModel>,
        multilingual: Option<Arc<viva_models::WhisperModel>>,
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
        let slower_english = voice.slower(SLOWER_SPEECH);
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
        let mut engines = Engines::new(
            Arc::new(WhisperTranscriber::with_multilingual(
                whisper,
                multilingual,
                threads,
            )),
            Arc::new(voice),
            vad,
            smart_turn,
            threads,
        )?;
        if let Some(v) = slower_english {
            engines = engines.with_slower_voice(Language::En, Arc::new(v));
        }
        // Spanish and German speak with espeak-ng's voices: no neural voice for them ships in
        // a registry package, and the English one reading their phonemes was not understood
        // (see docs/languages.md); their phrases share the prompt cache.
        for (language, espeak_voice, wpm) in [
            (Language::Es, "es", viva_tts::ESPEAK_WPM_ES),
            (Language::De, "de", viva_tts::ESPEAK_WPM_DE),
        ] {
            match viva_tts::Voice::espeak_voice_at(espeak_voice, wpm) {
                Ok(v) => {
                    let cache = viva_tts::PromptCache::open(models_dir.join("cache").join("tts"))?;
                    let v = v.with_cache(cache);
                    if let Some(slow) = v.slower(SLOWER_SPEECH) {
                        engines = engines.with_slower_voice(language, Arc::new(slow));
                    }
                    engines = engines.with_voice(language, Arc::new(v));
                }
                Err(e) => {
                    tracing::warn!(error = %e, language = language.tag(), "no voice for this language")
                }
            }
        }
        Ok(engines)
    }

    /// Renders jobs' fixed phrases into the prompt cache in the background (one task, job
    /// after job), so the interviewer's questions cost no synthesis when asked.
    pub fn prerender_in_background(&self, jobs: &[JobConfig]) {
        // Each job's phrases in its interview language's voice.
        let mut work: Vec<(Arc<dyn TextToSpeech>, Vec<String>)> = Vec::new();
        if let Ok(mut seen) = self.prerendered.lock() {
            for job in jobs {
                // In every language the candidate may switch to, with that language's voice.
                for lang in job.allowed_langs() {
                    let mine = viva_interview::prerenderable_phrases_in(job, lang);
                    // Once per set of phrases per process: the cache is on disk, a second
                    // pass would only check it while competing with live sessions for the
                    // CPU. (An edited job has other phrases, and is rendered again.)
                    let mut h = std::collections::hash_map::DefaultHasher::new();
                    std::hash::Hash::hash(&(lang.tag(), &mine), &mut h);
                    if seen.insert(std::hash::Hasher::finish(&h)) {
                        work.push((self.voice_for(speech_language(lang)), mine));
                    }
                }
            }
        }
        if work.is_empty() {
            return;
        }
        tokio::task::spawn_blocking(move || {
            for (voice, phrases) in work {
                if let Err(e) = voice.prepare(&phrases) {
                    tracing::warn!(error = %e, "prerendering prompts failed");
                }
            }
        });
    }
}
