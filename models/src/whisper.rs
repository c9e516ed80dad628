//! Offline Whisper transcription through whisper-rs (whisper.cpp).
//!
//! One [`WhisperModel`] is loaded per process and shared (`Arc`) by every session; each call
//! gets its own decoding state, so calls may run concurrently on different threads.

use std::ffi::c_void;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, Once};
use std::time::Instant;

use whisper_rs::{
    FullParams, SamplingStrategy, WhisperContext, WhisperContextParameters, WhisperState,
};

#[derive(Debug, thiserror::Error)]
pub enum WhisperError {
    #[error("Whisper model not found at {0}. Run `viva models fetch` (or `make models`) first")]
    NotFound(PathBuf),
    #[error(
        "Whisper model at {path} is not valid: {why}. Run `viva models fetch` to make it again"
    )]
    Invalid { path: PathBuf, why: String },
    #[error("whisper.cpp failed: {0}")]
    Engine(#[from] whisper_rs::WhisperError),
    #[error("the Whisper model at {path} is English-only and cannot transcribe {language:?}: provision a multilingual model (`viva models fetch --model base-q8_0`) and set models.whisper_multilingual")]
    Language { language: String, path: PathBuf },
    #[error("audio must be 16 kHz mono with finite samples: {0}")]
    BadAudio(String),
    #[error("the pass was given up (its result was no longer needed)")]
    Aborted,
}

/// whisper.cpp's abort callback: true once the `AtomicBool` behind `data` is set.
unsafe extern "C" fn abort_when_set(data: *mut c_void) -> bool {
    // SAFETY: `data` is the `&AtomicBool` passed in `WhisperModel::run`, alive for the call.
    let flag = unsafe { &*(data as *const AtomicBool) };
    flag.load(Ordering::Relaxed)
}

/// A word with its time in the audio that was transcribed.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Word {
    pub text: String,
    pub start_ms: u64,
    pub end_ms: u64,
    /// Mean token probability of the word (0..1).
    pub probability: f32,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Segment {
    pub start_ms: u64,
    pub end_ms: u64,
    pub text: String,
    pub words: Vec<Word>,
    pub no_speech_probability: f32,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Transcription {
    pub text: String,
    pub segments: Vec<Segment>,
    pub audio_ms: u64,
    pub elapsed_ms: u64,
}

impl Transcription {
    pub fn words(&self) -> impl Iterator<Item = &Word> {
        self.segments.iter().flat_map(|s| s.words.iter())
    }
}

#[derive(Debug, Clone)]
pub struct TranscribeOptions {
    pub threads: usize,
    /// Encoder context in 20 ms frames; `None` pads to Whisper's full 30 s window (most accurate).
    pub audio_ctx: Option<u32>,
    /// Size the encoder context to the audio plus this many 20 ms frames of padding (overrides
    /// `audio_ctx`). Encoder cost grows with the context, so short utterances finish much faster.
    pub audio_ctx_margin: Option<u32>,
    /// Text that precedes this audio (improves continuity in streaming).
    pub initial_prompt: Option<String>,
    pub word_timestamps: bool,
    /// Re-decode at higher temperatures when a pass looks unreliable (whisper.cpp's default).
    /// Each retry is another full decode, so this is what makes a pass's worst case slow;
    /// live passes turn it off and rely on the loop guards instead.
    pub temperature_fallback: bool,
    /// The language spoken, as Whisper's code ("en", "es", "de"); `None` is English. Anything
    /// but English needs a multilingual model.
    pub language: Option<String>,
}

impl Default for TranscribeOptions {
    fn default() -> Self {
        Self {
            threads: default_threads(),
            audio_ctx: None,
            audio_ctx_margin: None,
            initial_prompt: None,
            word_timestamps: true,
            temperature_fallback: true,
            language: None,
        }
    }
}

pub fn default_threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .min(8)
}

/// How the model is loaded.
#[derive(Debug, Clone, Default)]
pub struct ModelOptions {
    /// whisper.cpp's flash attention (faster encoder on CPU; same transcripts in our tests).
    pub flash_attention: bool,
}

pub struct WhisperModel {
    ctx: WhisperContext,
    path: PathBuf,
    /// Decoding states kept for reuse: creating one allocates the KV caches and compute buffers
    /// (tens of ms per pass otherwise). One per concurrent caller, created on demand.
    states: Mutex<Vec<WhisperState>>,
}

static LOG_HOOKS: Once = Once::new();

impl WhisperModel {
    /// Loads a ggml model after checking its structure (a malformed model can abort the process
    /// inside whisper.cpp, so it must never reach it).
    pub fn load(path: &Path) -> Result<Self, WhisperError> {
        Self::load_with(path, &ModelOptions::default())
    }

    /// [`WhisperModel::load`] with options.
    pub fn load_with(path: &Path, options: &ModelOptions) -> Result<Self, WhisperError> {
        if !path.exists() {
            return Err(WhisperError::NotFound(path.to_path_buf()));
        }
        let file = std::fs::File::open(path).map_err(|e| WhisperError::Invalid {
            path: path.into(),
            why: e.to_string(),
        })?;
        crate::ggml::inspect(std::io::BufReader::new(file)).map_err(|e| WhisperError::Invalid {
            path: path.into(),
            why: e.to_string(),
        })?;
        // Route whisper.cpp's console chatter into `tracing` (filtered as `whisper_rs=…`).
        LOG_HOOKS.call_once(whisper_rs::install_logging_hooks);
        let mut params = WhisperContextParameters::default();
        params.flash_attn(options.flash_attention);
        let ctx = WhisperContext::new_with_params(path, params)?;
        Ok(Self {
            ctx,
            path: path.to_path_buf(),
            states: Mutex::new(Vec::new()),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the model transcribes languages other than English.
    pub fn is_multilingual(&self) -> bool {
        self.ctx.is_multilingual()
    }

    /// Vocabulary size whisper.cpp uses (51864 for English-only models).
    pub fn n_vocab(&self) -> i32 {
        self.ctx.n_vocab()
    }

    /// Transcribes 16 kHz mono samples.
    pub fn transcribe(
        &self,
        samples: &[f32],
        opts: &TranscribeOptions,
    ) -> Result<Transcription, WhisperError> {
        self.transcribe_abortable(samples, opts, None)
    }

    /// [`WhisperModel::transcribe`] that gives up once `abort` is set: whisper.cpp looks at it
    /// after the encoder and after each decoded token, then fails the pass with
    /// [`WhisperError::Aborted`]. A live session sets it when a pass became useless (a caption
    /// still running when the speaker paused and the endpoint pass started), so that the core
    /// goes to the pass someone waits for.
    pub fn transcribe_abortable(
        &self,
        samples: &[f32],
        opts: &TranscribeOptions,
        abort: Option<&AtomicBool>,
    ) -> Result<Transcription, WhisperError> {
        if let Some(i) = samples.iter().position(|s| !s.is_finite()) {
            return Err(WhisperError::BadAudio(format!("sample {i} is not finite")));
        }
        let started = Instant::now();
        let audio_ms = samples.len() as u64 * 1000 / 16_000;
        // whisper.cpp refuses inputs shorter than ~100 ms; pad with silence instead of failing.
        let mut padded;
        let input = if samples.len() < 16_000 {
            padded = samples.to_vec();
            padded.resize(16_000 + 1600, 0.0);
            &padded[..]
        } else {
            samples
        };
        let pooled = self.states.lock().ok().and_then(|mut v| v.pop());
        let mut state = match pooled {
            Some(state) => state,
            None => self.ctx.create_state()?,
        };
        let result = self.run(&mut state, input, audio_ms, opts, abort, started);
        let result = match result {
            Err(_) if abort.is_some_and(|a| a.load(Ordering::Relaxed)) => {
                Err(WhisperError::Aborted)
            }
            other => other,
        };
        if let Ok(mut pool) = self.states.lock() {
            pool.push(state);
        }
        result
    }

    fn run(
        &self,
        state: &mut WhisperState,
        input: &[f32],
        audio_ms: u64,
        opts: &TranscribeOptions,
        abort: Option<&AtomicBool>,
        started: Instant,
    ) -> Result<Transcription, WhisperError> {
        let mut params = FullParams::new(SamplingStrategy::Greedy { best_of: 1 });
        if let Some(flag) = abort {
            // SAFETY: whisper.cpp calls `abort_when_set` with this pointer only during
            // `state.full` below, while `flag` is borrowed for the whole of this function; the
            // callback only reads the atomic. (whisper-rs's closure-based setter leaks its box
            // on every call, hence the plain function.)
            unsafe {
                params.set_abort_callback(Some(abort_when_set));
                params.set_abort_callback_user_data(flag as *const AtomicBool as *mut c_void);
            }
        }
        params.set_n_threads(opts.threads.max(1) as i32);
        let language = opts.language.as_deref().unwrap_or("en");
        if language != "en" && !self.ctx.is_multilingual() {
            return Err(WhisperError::Language {
                language: language.to_string(),
                path: self.path.clone(),
            });
        }
        params.set_language(Some(language));
        params.set_translate(false);
        params.set_print_special(false);
        params.set_print_progress(false);
        params.set_print_realtime(false);
        params.set_print_timestamps(false);
        params.set_no_context(true);
        params.set_suppress_blank(true);
        params.set_token_timestamps(opts.word_timestamps);
        if !opts.temperature_fallback {
            params.set_temperature_inc(0.0);
        }
        let ctx = match opts.audio_ctx_margin {
            Some(margin) => Some(audio_ctx_for(input.len(), margin)),
            None => opts.audio_ctx,
        };
        if let Some(ctx) = ctx {
            params.set_audio_ctx(ctx as i32);
            // With little padding Whisper can loop ("5 5 5 …"); speech carries at most ~7
            // tokens a second, so cap the tokens to what the audio can hold.
            params.set_max_tokens((audio_ms / 1000 * 7 + 12) as i32);
            // A turn is far shorter than 30 s: one segment, so Whisper cannot start the
            // utterance over again in a second segment (seen: "Go forward 10 meters." × 5).
            params.set_single_segment(true);
        }
        if let Some(prompt) = &opts.initial_prompt {
            params.set_initial_prompt(prompt);
        }
        state.full(params, input)?;

        let eot = self.ctx.token_eot();
        let mut segments = Vec::new();
        for segment in state.as_iter() {
            let text = segment.to_str_lossy()?.trim().to_string();
            // Words are assembled from the tokens' bytes: byte-level BPE splits a non-ASCII
            // letter (ñ, ü) across two tokens, so decoding token by token would mangle it.
            let mut pieces: Vec<(Vec<u8>, u64, u64, Vec<f32>)> = Vec::new();
            for t in 0..segment.n_tokens() {
                let Some(token) = segment.get_token(t) else {
                    continue;
                };
                if token.token_id() >= eot {
                    continue; // special and timestamp tokens
                }
                let bytes = token.to_bytes()?;
                let data = token.token_data();
                let (t0, t1) = (data.t0.max(0) as u64 * 10, data.t1.max(0) as u64 * 10);
                let starts_word = bytes.first() == Some(&b' ') || pieces.is_empty();
                let trimmed = bytes.trim_ascii();
                if trimmed.is_empty() {
                    continue;
                }
                match pieces.last_mut() {
                    Some((text, _, end, probs)) if !starts_word => {
                        text.extend_from_slice(trimmed);
                        *end = (*end).max(t1);
                        probs.push(data.p);
                    }
                    _ => pieces.push((trimmed.to_vec(), t0, t1, vec![data.p])),
                }
            }
            let mut words: Vec<Word> = pieces
                .into_iter()
                .map(|(text, start_ms, end_ms, probs)| Word {
                    text: String::from_utf8_lossy(&text).into_owned(),
                    start_ms,
                    end_ms,
                    probability: mean(&probs),
                })
                .collect();
            // A shortened encoder context makes Whisper invent words in the silent padding
            // (repeats, loops). Anything that starts after the real audio ended is such an
            // invention: drop it. The rest is clamped to the audio.
            let before = words.len();
            if tracing::enabled!(tracing::Level::DEBUG) {
                for w in words.iter().filter(|w| w.start_ms > audio_ms) {
                    tracing::debug!(word = %w.text, start_ms = w.start_ms, audio_ms, "word after the audio dropped");
                }
            }
            words.retain(|w| w.start_ms <= audio_ms);
            for w in &mut words {
                w.end_ms = w.end_ms.clamp(w.start_ms, audio_ms);
            }
            let looped = strip_trailing_loop(&mut words);
            let text = if (words.len() == before && !looped) || !opts.word_timestamps {
                text
            } else {
                words
                    .iter()
                    .map(|w| w.text.as_str())
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            if text.is_empty() {
                continue;
            }
            // A segment that only repeats the previous one is a decoding loop, not speech.
            let key = crate::text::normalize(&text);
            if segments
                .last()
                .is_some_and(|p: &Segment| crate::text::normalize(&p.text) == key)
            {
                continue;
            }
            segments.push(Segment {
                start_ms: (segment.start_timestamp().max(0) as u64 * 10).min(audio_ms),
                end_ms: (segment.end_timestamp().max(0) as u64 * 10).min(audio_ms),
                text,
                words,
                no_speech_probability: segment.no_speech_probability(),
            });
        }
        let text = segments
            .iter()
            .map(|s| s.text.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        Ok(Transcription {
            text,
            segments,
            audio_ms,
            elapsed_ms: started.elapsed().as_millis() as u64,
        })
    }
}

/// Smallest encoder context used for sized passes: below ≈ 8 s, tiny.en starts looping on
/// short utterances ("old-s-s-y-y-y…" on a 3 s clip at 278 frames, clean at 400).
pub const MIN_AUDIO_CTX: u32 = 400;

/// Encoder frames (20 ms each) covering `samples` at 16 kHz plus `margin`, at least
/// [`MIN_AUDIO_CTX`] and at most Whisper's 1500.
pub fn audio_ctx_for(samples: usize, margin: u32) -> u32 {
    let frames = samples.div_ceil(320) as u32;
    (frames + margin).clamp(MIN_AUDIO_CTX, 1500)
}

/// Removes a decoding loop at the end of a segment: the same 1–10 words repeated until the
/// token limit ("Go forward 10 meters. Go forward 10 meters. …"). Only a repetition that runs
/// to the very end counts, so a speaker's own "I think, I think we…" is kept. Returns whether
/// anything was removed.
pub fn strip_trailing_loop(words: &mut Vec<Word>) -> bool {
    let keys: Vec<String> = words
        .iter()
        .map(|w| crate::text::normalize(&w.text).join(" "))
        .collect();
    let n = keys.len();
    for k in 1..=10usize.min(n / 2) {
        // Find the earliest start of a k-gram that repeats to the end.
        for start in 0..n.saturating_sub(2 * k) + 1 {
            let unit = &keys[start..start + k];
            if unit.iter().all(String::is_empty) {
                continue;
            }
            let rest = &keys[start + k..];
            let repeats = rest.len() / k;
            let min_repeats = if k == 1 { 2 } else { 1 };
            let loops =
                repeats >= min_repeats && rest.iter().enumerate().all(|(i, w)| *w == unit[i % k]);
            if loops {
                words.truncate(start + k);
                return true;
            }
        }
    }
    false
}

fn mean(v: &[f32]) -> f32 {
    if v.is_empty() {
        0.0
    } else {
        v.iter().sum::<f32>() / v.len() as f32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<Word> {
        text.split_whitespace()
            .map(|t| Word {
                text: t.into(),
                start_ms: 0,
                end_ms: 0,
                probability: 1.0,
            })
            .collect()
    }

    fn after(text: &str) -> String {
        let mut w = words(text);
        strip_trailing_loop(&mut w);
        w.iter()
            .map(|w| w.text.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn decoding_loops_are_cut_and_real_repeats_kept() {
        assert_eq!(
            after("Go forward 10 meters. Go forward 10 meters. Go forward 10 meters. Go"),
            "Go forward 10 meters."
        );
        assert_eq!(after("5 5 5 5 5 5 5"), "5");
        assert_eq!(
            after("I think, I think we should shard it"),
            "I think, I think we should shard it"
        );
        assert_eq!(after("very very good"), "very very good");
        assert_eq!(after("it was five five"), "it was five five");
        assert_eq!(after(""), "");
    }

    #[test]
    fn sized_context_has_a_floor_and_a_ceiling() {
        assert_eq!(audio_ctx_for(16_000, 128), MIN_AUDIO_CTX);
        assert_eq!(audio_ctx_for(16_000 * 10, 128), 500 + 128);
        assert_eq!(audio_ctx_for(16_000 * 40, 128), 1500);
    }
}
