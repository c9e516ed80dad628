//! Silero VAD v5 on ONNX Runtime.
//!
//! The model (`silero_vad.onnx`, from the PyPI `silero-vad` wheel) takes, per 32 ms step at
//! 16 kHz, the **previous 64 samples plus 512 new ones** (`input` f32 [1, 576]), its recurrent
//! `state` f32 [2, 1, 128] and `sr` i64; it returns `output` [1, 1] (speech probability) and
//! `stateN`. Feeding bare 512-sample chunks silently gives ≈ 0 for everything, so the 64-sample
//! context is kept here per stream.
//!
//! One [`SileroModel`] (the ONNX session, ~2 MB) is shared by every stream of the process; each
//! [`SileroVad`] holds only its own state and context (2.3 KB). A step takes ≈ 0.1 ms, so one
//! session behind a mutex serves dozens of real-time streams.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use ort::environment::Environment;
use ort::session::builder::GraphOptimizationLevel;
use ort::session::Session;
use ort::value::Tensor;

use super::{check_chunk, VadError, VoiceActivityDetector};

/// New samples per step (32 ms at 16 kHz).
pub const SILERO_CHUNK: usize = 512;
/// Samples of left context the model needs before the new ones.
pub const SILERO_CONTEXT: usize = 64;
const STATE_LEN: usize = 2 * 128;

/// The process's ONNX Runtime environment, created on first use from the shared library at `lib`.
///
/// ONNX Runtime allows **one environment per process** (the `ort` crate refuses a second), so
/// every ONNX user in viva (this VAD, the Piper voice) must share one: build it once at start-up
/// (with this function, or viva-tts's `onnx_environment`) and pass the same `&Environment` to
/// [`SileroModel::load`] and the voice. A second call here returns the first environment
/// whatever `lib` says.
pub fn onnx_environment(lib: &Path) -> Result<&'static Environment, VadError> {
    static ENV: OnceLock<Result<Environment, String>> = OnceLock::new();
    ENV.get_or_init(|| {
        if !lib.is_file() {
            return Err(format!(
                "ONNX Runtime library not found at {}; run `viva models fetch`",
                lib.display()
            ));
        }
        let builder = ort::init_from(lib)
            .map_err(|e| format!("cannot load ONNX Runtime from {}: {e}", lib.display()))?;
        builder
            .with_name("viva")
            .build()
            .map_err(|e| format!("creating the ONNX Runtime environment: {e}"))
    })
    .as_ref()
    .map_err(|e| VadError::Onnx(e.clone()))
}

/// An ONNX file loaded into `env` with full graph optimisation, `threads` intra-op threads and
/// one inter-op thread; a missing file is [`VadError::Missing`] naming `what`.
pub(crate) fn load_session(
    env: &Environment,
    model: &Path,
    what: &'static str,
    threads: usize,
) -> Result<Session, VadError> {
    if !model.is_file() {
        return Err(VadError::Missing {
            what,
            path: model.display().to_string(),
        });
    }
    let err = |e: ort::Error| VadError::Onnx(format!("loading {}: {e}", model.display()));
    Session::builder(env)
        .map_err(err)?
        .with_optimization_level(GraphOptimizationLevel::Level3)
        .map_err(|e| err(e.into()))?
        .with_intra_threads(threads.max(1))
        .map_err(|e| err(e.into()))?
        .with_inter_threads(1)
        .map_err(|e| err(e.into()))?
        .commit_from_file(model)
        .map_err(err)
}

/// The loaded Silero network, shareable across threads and streams: a small pool of ONNX
/// sessions (the network is 2 MB), so that streams on different threads step at the same time
/// instead of queueing on one lock. Streams keep their own state; a session holds none.
pub struct SileroModel {
    sessions: Vec<Mutex<Session>>,
    next: AtomicUsize,
}

impl SileroModel {
    /// Loads `silero_vad.onnx` into `env` once (single-threaded: a step is too small to split).
    pub fn load(env: &Environment, model: &Path) -> Result<Self, VadError> {
        Self::load_pool(env, model, 1)
    }

    /// Loads `sessions` copies (one per core that steps detectors is plenty).
    pub fn load_pool(env: &Environment, model: &Path, sessions: usize) -> Result<Self, VadError> {
        let mut pool = Vec::with_capacity(sessions.max(1));
        for _ in 0..sessions.max(1) {
            let session = load_session(env, model, "Silero VAD model", 1)?;
            for name in ["input", "state", "sr"] {
                if !session.inputs().iter().any(|i| i.name() == name) {
                    return Err(VadError::Onnx(format!(
                        "{} has no input {name:?}: not a Silero VAD v5 model",
                        model.display()
                    )));
                }
            }
            pool.push(Mutex::new(session));
        }
        Ok(Self {
            sessions: pool,
            next: AtomicUsize::new(0),
        })
    }

    /// Copies of the network in the pool.
    pub fn pool_size(&self) -> usize {
        self.sessions.len()
    }

    /// A free session if there is one, else the next in turn (waiting for it).
    fn session(&self) -> std::sync::MutexGuard<'_, Session> {
        let n = self.sessions.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        for i in 0..n {
            if let Ok(guard) = self.sessions[(start + i) % n].try_lock() {
                return guard;
            }
        }
        // A poisoned mutex only means another stream panicked mid-step; the session itself
        // holds no per-stream state, so it is safe to keep using.
        self.sessions[start % n]
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    /// One step: `input` = 64 context + 512 new samples; updates `state` in place.
    fn step(&self, input: &[f32], state: &mut [f32; STATE_LEN]) -> Result<f32, VadError> {
        let err = |e: ort::Error| VadError::Onnx(format!("Silero inference: {e}"));
        let x = Tensor::from_array(([1usize, SILERO_CONTEXT + SILERO_CHUNK], input.to_vec()))
            .map_err(err)?;
        let s = Tensor::from_array(([2usize, 1, 128], state.to_vec())).map_err(err)?;
        let sr = Tensor::from_array(((), vec![16_000i64])).map_err(err)?;
        let mut session = self.session();
        let outputs = session
            .run(ort::inputs!["input" => x, "state" => s, "sr" => sr])
            .map_err(err)?;
        let prob = outputs
            .get("output")
            .ok_or_else(|| VadError::Onnx("no `output` from the model".into()))?
            .try_extract_tensor::<f32>()
            .map_err(err)?
            .1
            .first()
            .copied()
            .ok_or_else(|| VadError::Onnx("empty `output`".into()))?;
        let new_state = outputs
            .get("stateN")
            .ok_or_else(|| VadError::Onnx("no `stateN` from the model".into()))?
            .try_extract_tensor::<f32>()
            .map_err(err)?
            .1;
        if new_state.len() != STATE_LEN {
            return Err(VadError::Onnx(format!(
                "`stateN` has {} values, expected {STATE_LEN}",
                new_state.len()
            )));
        }
        state.copy_from_slice(new_state);
        Ok(if prob.is_finite() {
            prob.clamp(0.0, 1.0)
        } else {
            0.0
        })
    }
}

/// One stream's Silero detector.
pub struct SileroVad {
    model: Arc<SileroModel>,
    state: [f32; STATE_LEN],
    /// Context (last 64 samples of the previous step) followed by the current 512.
    input: Vec<f32>,
}

impl SileroVad {
    pub fn new(model: Arc<SileroModel>) -> Self {
        Self {
            model,
            state: [0.0; STATE_LEN],
            input: vec![0.0; SILERO_CONTEXT + SILERO_CHUNK],
        }
    }
}

impl VoiceActivityDetector for SileroVad {
    fn name(&self) -> &'static str {
        "silero"
    }
    fn chunk_len(&self) -> usize {
        SILERO_CHUNK
    }
    fn speech_probability(&mut self, chunk: &[f32]) -> Result<f32, VadError> {
        check_chunk(chunk, SILERO_CHUNK)?;
        self.input[SILERO_CONTEXT..].copy_from_slice(chunk);
        let p = self.model.step(&self.input, &mut self.state)?;
        // The last 64 samples become the next step's context.
        self.input.copy_within(SILERO_CHUNK.., 0);
        Ok(p)
    }
    fn reset(&mut self) {
        self.state = [0.0; STATE_LEN];
        self.input.fill(0.0);
    }
}
