//! The neural voice: Piper "joe" (en_US, medium, VITS exported to ONNX), run with ONNX Runtime
//! loaded at run time from the PyPI `onnxruntime` wheel, phonemized by espeak-ng.
//!
//! Pipeline per sentence (as Piper itself does it): espeak-ng IPA phonemes with the clause
//! punctuation → NFD → ids via the voice's `phoneme_id_map` as `^ _ p1 _ p2 _ … $` (pad `_`
//! after every phoneme) → the model (`input`, `input_lengths`, `scales`) → f32 audio at 22,050 Hz.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, TryLockError};

use ort::environment::Environment;
use ort::session::builder::GraphOptimizationLevel;
use ort::session::Session;
use ort::value::Tensor;
use unicode_normalization::UnicodeNormalization;

use crate::error::TtsError;
use crate::espeak::Espeak;
use crate::provision::VoicePaths;
use crate::{CancelToken, Synthesizer, VoiceId};

/// How to run the neural voice.
#[derive(Debug, Clone)]
pub struct PiperOptions {
    /// Threads per ONNX session (intra-op). 2 on a 2-core machine renders a sentence ≈ 1.5×
    /// faster than 1; with several concurrent speakers, 1 thread × N sessions shares better.
    pub threads: usize,
    /// Sessions in the pool: how many sentences can render at the same time. Each costs about
    /// 100–250 MB of memory.
    pub sessions: usize,
    /// Speaking speed: > 1 slower, < 1 faster (Piper's `length_scale`). `None`: the voice's own.
    pub length_scale: Option<f32>,
    /// Run one short sentence through each session at load, so the first real sentence is fast.
    pub warm_up: bool,
}

impl Default for PiperOptions {
    fn default() -> Self {
        Self {
            threads: 2,
            sessions: 1,
            length_scale: None,
            warm_up: true,
        }
    }
}

/// The voice's JSON config, reduced to what synthesis needs.
#[derive(Debug, Clone)]
struct PiperConfig {
    sample_rate: u32,
    espeak_voice: String,
    noise_scale: f32,
    length_scale: f32,
    noise_w: f32,
    ids: HashMap<char, Vec<i64>>,
}

#[derive(serde::Deserialize)]
struct RawConfig {
    audio: RawAudio,
    espeak: RawEspeak,
    inference: RawInference,
    phoneme_type: Option<String>,
    phoneme_id_map: HashMap<String, Vec<i64>>,
    num_speakers: Option<u32>,
}
#[derive(serde::Deserialize)]
struct RawAudio {
    sample_rate: u32,
}
#[derive(serde::Deserialize)]
struct RawEspeak {
    voice: String,
}
#[derive(serde::Deserialize)]
struct RawInference {
    noise_scale: f32,
    length_scale: f32,
    noise_w: f32,
}

impl PiperConfig {
    fn parse(json: &str) -> Result<Self, String> {
        let raw: RawConfig =
            serde_json::from_str(json).map_err(|e| format!("voice config: {e}"))?;
        if raw.phoneme_type.as_deref().is_some_and(|t| t != "espeak") {
            return Err(format!(
                "voice config: phoneme_type {:?} is not supported (only espeak)",
                raw.phoneme_type
            ));
        }
        if raw.num_speakers.unwrap_or(1) != 1 {
            return Err("voice config: multi-speaker voices are not supported".into());
        }
        let mut ids = HashMap::new();
        for (k, v) in raw.phoneme_id_map {
            let mut chars = k.chars();
            // Every key of a Piper espeak voice is one code point; longer keys cannot occur in
            // our per-character lookup, so they are skipped rather than guessed at.
            if let (Some(c), None) = (chars.next(), chars.next()) {
                ids.insert(c, v);
            }
        }
        for required in ['^', '_', '$'] {
            if !ids.contains_key(&required) {
                return Err(format!("voice config: phoneme_id_map lacks {required:?}"));
            }
        }
        Ok(Self {
            sample_rate: raw.audio.sample_rate,
            espeak_voice: raw.espeak.voice,
            noise_scale: raw.inference.noise_scale,
            length_scale: raw.inference.length_scale,
            noise_w: raw.inference.noise_w,
            ids,
        })
    }
}

/// The process's ONNX Runtime environment, created on first use from the shared library at
/// `lib`. ONNX Runtime allows one environment per process (the `ort` crate enforces it), so
/// other users of ONNX in the process (VAD, turn models) must share this one: call this function
/// rather than building their own, or build theirs first and pass it to [`PiperVoice::load_in`].
pub fn onnx_environment(lib: &Path) -> Result<&'static Environment, TtsError> {
    static ENV: OnceLock<Result<Environment, String>> = OnceLock::new();
    ENV.get_or_init(|| {
        let builder = ort::init_from(lib).map_err(|e| {
            format!(
                "cannot load ONNX Runtime from {}: {e}; run `viva models fetch`",
                lib.display()
            )
        })?;
        builder.with_name("viva").build().map_err(|e| {
            format!(
                "ONNX Runtime environment: {e} (if another part of the process already created \
                     one, pass it to `PiperVoice::load_in` / `Voice::load_with_env`)"
            )
        })
    })
    .as_ref()
    .map_err(|e| TtsError::Piper(e.clone()))
}

/// The Piper neural voice. `Send + Sync`; see [`PiperOptions::sessions`] for concurrency.
pub struct PiperVoice {
    sessions: Vec<Mutex<Session>>,
    next: AtomicUsize,
    config: PiperConfig,
    espeak: &'static Espeak,
    name: String,
    length_scale: f32,
}

impl PiperVoice {
    /// Load the voice from provisioned files, creating the ONNX Runtime environment if needed.
    pub fn load(paths: &VoicePaths, options: &PiperOptions) -> Result<Self, TtsError> {
        let env = onnx_environment(&paths.onnxruntime)?;
        Self::load_in(env, paths, options)
    }

    /// Load the voice into an existing ONNX Runtime environment.
    pub fn load_in(
        env: &Environment,
        paths: &VoicePaths,
        options: &PiperOptions,
    ) -> Result<Self, TtsError> {
        let json = std::fs::read_to_string(&paths.config).map_err(|e| {
            TtsError::Piper(format!(
                "reading {}: {e}; run `viva models fetch`",
                paths.config.display()
            ))
        })?;
        let config = PiperConfig::parse(&json).map_err(TtsError::Piper)?;
        let espeak = Espeak::global()?;
        let n = options.sessions.max(1);
        let mut sessions = Vec::with_capacity(n);
        for _ in 0..n {
            let session = Session::builder(env)
                .and_then(|b| {
                    b.with_optimization_level(GraphOptimizationLevel::Level3)
                        .map_err(Into::into)
                })
                .and_then(|b| {
                    b.with_intra_threads(options.threads.max(1))
                        .map_err(Into::into)
                })
                .and_then(|b| b.with_inter_threads(1).map_err(Into::into))
                // Idle ONNX threads spin by default; on a 2-core box shared with Whisper that
                // steals the CPU the transcriber needs between our sentences.
                .and_then(|b| {
                    b.with_config_entry("session.intra_op.allow_spinning", "0")
                        .map_err(Into::into)
                })
                .and_then(|mut b| b.commit_from_file(&paths.model))
                .map_err(|e| {
                    TtsError::Piper(format!(
                        "loading {}: {e}; run `viva models fetch`",
                        paths.model.display()
                    ))
                })?;
            sessions.push(Mutex::new(session));
        }
        let name = paths
            .model
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "piper".into());
        let length_scale = options.length_scale.unwrap_or(config.length_scale);
        let voice = Self {
            sessions,
            next: AtomicUsize::new(0),
            config,
            espeak,
            name,
            length_scale,
        };
        if options.warm_up {
            // ONNX Runtime's first run on a session is ~10× slower than the next ones (arena
            // allocation, kernel selection): pay it here, at load, not on the first question.
            let t = std::time::Instant::now();
            for s in &voice.sessions {
                let mut g = s.lock().unwrap_or_else(|p| p.into_inner());
                voice.infer(&mut g, &voice.phoneme_ids("Hello there.")?)?;
            }
            tracing::debug!(ms = t.elapsed().as_millis() as u64, "piper warm-up");
        }
        tracing::info!(voice = %voice.name, sessions = n, threads = options.threads, "piper voice loaded");
        Ok(voice)
    }

    /// The model input for one sentence.
    pub fn phoneme_ids(&self, sentence: &str) -> Result<Vec<i64>, TtsError> {
        let phonemes = self
            .espeak
            .phonemize_ipa(&self.config.espeak_voice, sentence)?;
        Ok(self.ids_for(&phonemes))
    }

    fn ids_for(&self, phonemes: &str) -> Vec<i64> {
        let id = |c: char| self.config.ids.get(&c).cloned().unwrap_or_default();
        let pad = id('_');
        let mut ids = id('^');
        ids.extend_from_slice(&pad);
        let mut skipped = 0usize;
        // espeak marks a switch to another language's rules as "(fr)" ... "(en)"; Piper strips
        // those markers, the phonemes in between are kept.
        let stripped = strip_language_flags(phonemes);
        for c in stripped.nfd() {
            match self.config.ids.get(&c) {
                Some(v) => {
                    ids.extend_from_slice(v);
                    ids.extend_from_slice(&pad);
                }
                None => skipped += 1,
            }
        }
        if skipped > 0 {
            tracing::debug!(
                skipped,
                "phonemes missing from the voice's map were skipped"
            );
        }
        ids.extend(id('$'));
        ids
    }

    /// One model run: phoneme ids in, raw audio out.
    fn infer(&self, session: &mut Session, ids: &[i64]) -> Result<Vec<f32>, TtsError> {
        self.infer_at(session, ids, self.length_scale)
    }

    fn infer_at(
        &self,
        session: &mut Session,
        ids: &[i64],
        length_scale: f32,
    ) -> Result<Vec<f32>, TtsError> {
        let n = ids.len();
        let err = |e: ort::Error| TtsError::Piper(format!("inference: {e}"));
        let input = Tensor::from_array(([1usize, n], ids.to_vec())).map_err(err)?;
        let lengths = Tensor::from_array(([1usize], vec![n as i64])).map_err(err)?;
        let scales = Tensor::from_array((
            [3usize],
            vec![self.config.noise_scale, length_scale, self.config.noise_w],
        ))
        .map_err(err)?;
        let outputs = session
            .run(ort::inputs!["input" => input, "input_lengths" => lengths, "scales" => scales])
            .map_err(err)?;
        let value = outputs
            .values()
            .next()
            .ok_or_else(|| TtsError::Piper("the model returned no output".into()))?;
        let (_, data) = value.try_extract_tensor::<f32>().map_err(err)?;
        Ok(data.to_vec())
    }

    /// Take a free session, or wait for the next one round-robin.
    fn with_session<T>(&self, f: impl FnOnce(&mut Session) -> T) -> T {
        for s in &self.sessions {
            match s.try_lock() {
                Ok(mut g) => return f(&mut g),
                Err(TryLockError::Poisoned(p)) => return f(&mut p.into_inner()),
                Err(TryLockError::WouldBlock) => {}
            }
        }
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.sessions.len();
        // A poisoned session lock only means another thread panicked mid-run; ONNX Runtime keeps
        // no per-run state in the session, so it is safe to reuse.
        let mut g = self.sessions[i].lock().unwrap_or_else(|p| p.into_inner());
        f(&mut g)
    }
}

fn strip_language_flags(phonemes: &str) -> String {
    let mut out = String::with_capacity(phonemes.len());
    let mut depth = 0usize;
    for c in phonemes.chars() {
        match c {
            '(' => depth += 1,
            ')' if depth > 0 => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

impl PiperVoice {
    fn render_at(
        &self,
        sentence: &str,
        cancel: &CancelToken,
        length_scale: f32,
    ) -> Result<Vec<f32>, TtsError> {
        if cancel.is_cancelled() {
            return Err(TtsError::Cancelled);
        }
        let ids = self.phoneme_ids(sentence)?;
        if ids.len() <= 3 {
            // Only the start/end markers: nothing the model can say.
            return Ok(Vec::new());
        }
        let mut audio = self.with_session(|session| self.infer_at(session, &ids, length_scale))?;
        if cancel.is_cancelled() {
            return Err(TtsError::Cancelled);
        }
        normalize_peak(&mut audio);
        Ok(audio)
    }
}

impl Synthesizer for PiperVoice {
    fn voice_id(&self) -> VoiceId {
        VoiceId {
            engine: "piper",
            voice: format!("{}@{:.2}", self.name, self.length_scale),
        }
    }

    fn native_rate(&self) -> u32 {
        self.config.sample_rate
    }

    fn render_sentence(&self, sentence: &str, cancel: &CancelToken) -> Result<Vec<f32>, TtsError> {
        self.render_at(sentence, cancel, self.length_scale)
    }

    fn slower(self: Arc<Self>, slower: f32) -> Option<Arc<dyn Synthesizer>> {
        let length_scale = self.length_scale * slower.max(0.5);
        Some(Arc::new(PiperAtSpeed {
            voice: self,
            length_scale,
        }))
    }
}

/// A Piper voice at another speed, sharing the loaded model and its sessions.
pub struct PiperAtSpeed {
    voice: Arc<PiperVoice>,
    length_scale: f32,
}

impl Synthesizer for PiperAtSpeed {
    fn voice_id(&self) -> VoiceId {
        VoiceId {
            engine: "piper",
            voice: format!("{}@{:.2}", self.voice.name, self.length_scale),
        }
    }

    fn native_rate(&self) -> u32 {
        self.voice.config.sample_rate
    }

    fn render_sentence(&self, sentence: &str, cancel: &CancelToken) -> Result<Vec<f32>, TtsError> {
        self.voice.render_at(sentence, cancel, self.length_scale)
    }
}

/// Piper scales each sentence to full scale; we aim a little lower (0.9) to leave headroom for
/// resampling overshoot, and cap the gain so a near-silent sentence is not blown up into noise.
fn normalize_peak(audio: &mut [f32]) {
    let peak = audio.iter().fold(0.0f32, |m, x| m.max(x.abs()));
    if peak > 0.0 && peak.is_finite() {
        let gain = (0.9 / peak).min(10.0);
        audio.iter_mut().for_each(|x| *x *= gain);
    } else {
        audio.iter_mut().for_each(|x| *x = 0.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_flags_are_stripped() {
        assert_eq!(
            strip_language_flags("həlˈoʊ (fr)bɔ̃ʒuʁ(en) wˈɜːld"),
            "həlˈoʊ bɔ̃ʒuʁ wˈɜːld"
        );
    }

    #[test]
    fn config_parses_and_rejects_foreign_voices() {
        let json = r#"{"audio":{"sample_rate":22050},"espeak":{"voice":"en-us"},
            "inference":{"noise_scale":0.667,"length_scale":1,"noise_w":0.8},"phoneme_type":"espeak",
            "phoneme_id_map":{"_":[0],"^":[1],"$":[2],"a":[14]},"num_speakers":1}"#;
        let c = PiperConfig::parse(json).unwrap();
        assert_eq!(c.sample_rate, 22050);
        assert_eq!(c.ids[&'a'], vec![14]);
        assert!(PiperConfig::parse(&json.replace("\"espeak\",", "\"text\",")).is_err());
        assert!(PiperConfig::parse("{").is_err());
    }
}
