//! `viva eval stt`: transcribe every file of a manifest and score it against its reference.

use std::path::{Path, PathBuf};

use crate::text::{text_errors, WordErrors};
use crate::whisper::{TranscribeOptions, WhisperModel};

#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("cannot read manifest {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "manifest {0} is empty (it needs a header row with `file` and `reference_transcript`)"
    )]
    Empty(PathBuf),
    #[error("manifest header lacks a `{0}` column")]
    MissingColumn(&'static str),
    #[error("manifest line {line}: has {found} columns, the header has {expected}")]
    Ragged {
        line: usize,
        found: usize,
        expected: usize,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct ManifestEntry {
    pub path: PathBuf,
    pub file: String,
    pub reference: String,
    /// The `language` column when the manifest has one ("es"); `None` is English.
    pub language: Option<String>,
}

/// TSV fields may be quoted CSV-style (`"a ""quoted"" word"`).
fn unquote(field: &str) -> String {
    match field.strip_prefix('"').and_then(|f| f.strip_suffix('"')) {
        Some(inner) => inner.replace("\"\"", "\""),
        None => field.to_string(),
    }
}

/// Reads a manifest in the format of `shared/speech/manifest.tsv`; relative paths are relative
/// to the manifest's folder.
pub fn read_manifest(path: &Path) -> Result<Vec<ManifestEntry>, ManifestError> {
    let text = std::fs::read_to_string(path).map_err(|source| ManifestError::Read {
        path: path.into(),
        source,
    })?;
    let base = path.parent().unwrap_or(Path::new("."));
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let (_, header) = lines
        .next()
        .ok_or_else(|| ManifestError::Empty(path.into()))?;
    let cols: Vec<&str> = header.split('\t').map(str::trim).collect();
    let col = |name: &'static str| {
        cols.iter()
            .position(|c| *c == name)
            .ok_or(ManifestError::MissingColumn(name))
    };
    let (file_col, ref_col) = (col("file")?, col("reference_transcript")?);
    let lang_col = col("language").ok();
    let mut out = Vec::new();
    for (i, line) in lines {
        let fields: Vec<&str> = line.split('\t').collect();
        if fields.len() <= file_col.max(ref_col) {
            return Err(ManifestError::Ragged {
                line: i + 1,
                found: fields.len(),
                expected: cols.len(),
            });
        }
        let file = fields[file_col].trim().to_string();
        let p = Path::new(&file);
        let path = if p.is_absolute() {
            p.to_path_buf()
        } else {
            base.join(p)
        };
        out.push(ManifestEntry {
            path,
            file,
            reference: unquote(fields[ref_col].trim()),
            language: lang_col
                .and_then(|c| fields.get(c))
                .map(|l| l.trim().to_ascii_lowercase())
                .filter(|l| !l.is_empty() && l != "en"),
        });
    }
    Ok(out)
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct FileResult {
    pub file: String,
    pub reference: String,
    pub hypothesis: String,
    pub audio_s: f64,
    pub elapsed_s: f64,
    pub rtf: f64,
    pub wer: f64,
    pub errors: WordErrors,
    /// Set when the file could not be transcribed; counted as all words deleted.
    pub error: Option<String>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct EvalSummary {
    pub files: Vec<FileResult>,
    pub total: WordErrors,
    pub wer: f64,
    pub audio_s: f64,
    pub elapsed_s: f64,
    pub rtf: f64,
    pub model: String,
    pub threads: usize,
}

/// Transcribes each entry; `progress(i, n, result)` is called after each file.
pub fn evaluate(
    model: &WhisperModel,
    entries: &[ManifestEntry],
    opts: &TranscribeOptions,
    progress: &mut dyn FnMut(usize, usize, &FileResult),
) -> EvalSummary {
    evaluate_with(model, entries, opts, &|s| Ok(s), progress)
}

/// Audio transform applied to each file's 16 kHz samples before transcription (e.g. a phone
/// line's 8 kHz μ-law round trip).
pub type Prepare = dyn Fn(Vec<f32>) -> Result<Vec<f32>, String>;

/// [`evaluate`] with `prepare` applied to each file's 16 kHz samples first.
pub fn evaluate_with(
    model: &WhisperModel,
    entries: &[ManifestEntry],
    opts: &TranscribeOptions,
    prepare: &Prepare,
    progress: &mut dyn FnMut(usize, usize, &FileResult),
) -> EvalSummary {
    let mut files = Vec::new();
    let mut total = WordErrors::default();
    let (mut audio_s, mut elapsed_s) = (0.0, 0.0);
    for (i, e) in entries.iter().enumerate() {
        let result = evaluate_one(model, e, opts, prepare);
        total.add(result.errors);
        audio_s += result.audio_s;
        elapsed_s += result.elapsed_s;
        progress(i + 1, entries.len(), &result);
        files.push(result);
    }
    EvalSummary {
        files,
        wer: total.wer(),
        total,
        audio_s,
        elapsed_s,
        rtf: if audio_s > 0.0 {
            elapsed_s / audio_s
        } else {
            0.0
        },
        model: model.path().display().to_string(),
        threads: opts.threads,
    }
}

fn evaluate_one(
    model: &WhisperModel,
    e: &ManifestEntry,
    opts: &TranscribeOptions,
    prepare: &Prepare,
) -> FileResult {
    let outcome = viva_audio::read_wav(&e.path)
        .map_err(|err| err.to_string())
        .and_then(|a| {
            let audio_s = a.duration_secs();
            viva_audio::resample(&a.samples, a.sample_rate, viva_audio::SPEECH_RATE_HZ)
                .map_err(|err| err.to_string())
                .and_then(prepare)
                .map(|s| (s, audio_s))
        })
        .and_then(|(s, audio_s)| {
            model
                .transcribe(
                    &s,
                    &TranscribeOptions {
                        language: e.language.clone().or_else(|| opts.language.clone()),
                        ..opts.clone()
                    },
                )
                .map_err(|err| err.to_string())
                .map(|t| (t, audio_s))
        });
    match outcome {
        Ok((t, audio_s)) => {
            let errors = crate::text::text_errors_in(
                &e.reference,
                &t.text,
                e.language.as_deref().unwrap_or("en"),
            );
            let elapsed_s = t.elapsed_ms as f64 / 1000.0;
            FileResult {
                file: e.file.clone(),
                reference: e.reference.clone(),
                hypothesis: t.text,
                audio_s,
                elapsed_s,
                rtf: if audio_s > 0.0 {
                    elapsed_s / audio_s
                } else {
                    0.0
                },
                wer: errors.wer(),
                errors,
                error: None,
            }
        }
        Err(err) => {
            let errors = text_errors(&e.reference, "");
            FileResult {
                file: e.file.clone(),
                reference: e.reference.clone(),
                hypothesis: String::new(),
                audio_s: 0.0,
                elapsed_s: 0.0,
                rtf: 0.0,
                wer: errors.wer(),
                errors,
                error: Some(err),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_paths_quotes_and_errors() {
        let dir = tempfile::tempdir().expect("tmp");
        let m = dir.path().join("m.tsv");
        std::fs::write(&m, "file\tduration_s\treference_transcript\na.wav\t1\t\"the \"\"quoted\"\" word\"\n/abs/b.wav\t2\tplain\n").expect("write");
        let entries = read_manifest(&m).expect("read");
        assert_eq!(entries[0].path, dir.path().join("a.wav"));
        assert_eq!(entries[0].reference, "the \"quoted\" word");
        assert_eq!(entries[1].path, PathBuf::from("/abs/b.wav"));
        std::fs::write(&m, "file\treference_transcript\nonly-one-column\n").expect("write");
        assert!(matches!(
            read_manifest(&m),
            Err(ManifestError::Ragged { line: 2, .. })
        ));
        std::fs::write(&m, "name\ttext\n").expect("write");
        assert!(matches!(
            read_manifest(&m),
            Err(ManifestError::MissingColumn("file"))
        ));
    }
}
