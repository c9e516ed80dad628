//! Where the ONNX models from PyPI wheels are, and their pins (fetching them is
//! `viva models fetch`, in viva-models' one provisioning module: this crate does no IO beyond
//! reading files):
//! - Silero VAD: `silero_vad.onnx` from the `silero-vad` wheel (MIT);
//! - Smart Turn v3.2: `smart-turn-v3.2-cpu.onnx` from the `pipecat-ai` wheel (BSD-2-Clause),
//!   the acoustic half of the end-of-turn decision ([`crate::smart_turn`]).
//!
//! Layout under a models directory (shared with the rest of viva):
//! - `silero-vad/silero_vad.onnx`, `smart-turn/smart-turn-v3.2-cpu.onnx`, each with a
//!   `.sha256` sidecar (`sha256sum -c` format);
//! - `onnxruntime/libonnxruntime.so.<ver>` — provisioned by viva-tts, only located here.

use std::fs;
use std::path::{Path, PathBuf};

use super::VadError;

/// One model file inside a pinned wheel, checked by size and SHA-256.
#[derive(Debug, Clone, Copy)]
pub struct WheelModel {
    /// What it is, for messages ("Silero VAD model").
    pub what: &'static str,
    /// The pip requirement (`name==version`).
    pub requirement: &'static str,
    /// The member inside the wheel.
    pub member: &'static str,
    /// Where the model goes, relative to the models directory.
    pub rel: &'static str,
    pub size: u64,
    pub sha256: &'static str,
}

/// Silero VAD v5 from the `silero-vad` wheel.
pub const SILERO: WheelModel = WheelModel {
    what: "Silero VAD model",
    requirement: "silero-vad==6.2.3",
    member: "silero_vad/data/silero_vad.onnx",
    rel: "silero-vad/silero_vad.onnx",
    size: 2_327_524,
    sha256: "1a153a22f4509e292a94e67d6f9b85e8deb25b4988682b7e174c65279d8788e3",
};

/// Smart Turn v3.2 (CPU build) from the `pipecat-ai` wheel.
pub const SMART_TURN: WheelModel = WheelModel {
    what: "Smart Turn end-of-turn model",
    requirement: "pipecat-ai==1.14.0",
    member: "pipecat/audio/turn/smart_turn/data/smart-turn-v3.2-cpu.onnx",
    rel: "smart-turn/smart-turn-v3.2-cpu.onnx",
    size: 8_679_182,
    sha256: "2bb026316b14a660486a75b1733cd3fbab8c2fd0314dc9af7be49f8cca967e4f",
};

/// The pinned Silero wheel.
pub const SILERO_WHEEL_REQUIREMENT: &str = SILERO.requirement;
/// Where the Silero model goes, relative to the models directory.
pub const SILERO_MODEL_REL: &str = SILERO.rel;
/// Where viva-tts puts the ONNX Runtime library (the wheel ships only this versioned name).
pub const ONNXRUNTIME_REL: &str = "onnxruntime/libonnxruntime.so.1.32.0";

/// The default models directory: `$VIVA_MODELS_DIR`, else `models/store` in the workspace.
pub fn default_models_dir() -> PathBuf {
    match std::env::var_os("VIVA_MODELS_DIR") {
        Some(d) if !d.is_empty() => PathBuf::from(d),
        _ => Path::new(env!("CARGO_MANIFEST_DIR")).join("../models/store"),
    }
}

/// `<models_dir>/silero-vad/silero_vad.onnx` if it is there with its pinned size and a sidecar
/// that matches the pin (cheap: no hashing; `viva models fetch` does the full check).
pub fn locate_vad_model(models_dir: &Path) -> Result<PathBuf, VadError> {
    SILERO.locate(models_dir)
}

/// `<models_dir>/onnxruntime/libonnxruntime.so.1.32.0` if the file exists.
pub fn locate_onnxruntime(models_dir: &Path) -> Result<PathBuf, VadError> {
    let path = models_dir.join(ONNXRUNTIME_REL);
    if path.is_file() {
        Ok(path)
    } else {
        Err(VadError::Missing {
            what: "ONNX Runtime library",
            path: path.display().to_string(),
        })
    }
}

impl WheelModel {
    /// `<models_dir>/<rel>` if it is there with its pinned size and a sidecar that matches the
    /// pin (cheap: no hashing; `viva models fetch` does the full check).
    pub fn locate(&self, models_dir: &Path) -> Result<PathBuf, VadError> {
        let path = models_dir.join(self.rel);
        let ok = fs::metadata(&path).is_ok_and(|m| m.len() == self.size)
            && read_sidecar(&path).as_deref() == Some(self.sha256);
        if ok {
            Ok(path)
        } else {
            Err(VadError::Missing {
                what: self.what,
                path: path.display().to_string(),
            })
        }
    }
}

fn sidecar_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".sha256");
    PathBuf::from(s)
}

fn read_sidecar(path: &Path) -> Option<String> {
    let text = fs::read_to_string(sidecar_path(path)).ok()?;
    text.split_whitespace().next().map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_model_says_what_to_run() {
        let dir = tempfile::tempdir().expect("tmp");
        let err = locate_vad_model(dir.path())
            .expect_err("missing")
            .to_string();
        assert!(err.contains("viva models fetch"), "{err}");
    }
}
