//! The prompt cache: audio rendered ahead of time, on disk, so that a scripted question plays
//! with no synthesis delay.
//!
//! Key: SHA-256 of (format version, engine, voice, rate, text in [`crate::text::cache_form`]).
//! Value: a 16-bit mono WAV named `<key>.wav` (inspectable with any player; half the size of
//! f32, and 16 bits is what every gateway sends anyway). Writes go to a temporary file renamed into
//! place, so readers never see a half-written entry; an unreadable entry counts as a miss and is
//! removed, so the next prerender re-makes it. Entries are never evicted automatically: a job's
//! prompts are a few hundred kB each; delete the directory to reclaim space.

use std::fs;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::TtsError;
use crate::{text, SampleRate, VoiceId};

/// Bump when the key derivation or the stored format changes.
const FORMAT: &str = "viva-tts-cache-v1";

/// What [`crate::Voice::prerender`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PrerenderStats {
    pub rendered: usize,
    pub already_cached: usize,
    /// Texts that could not be spoken (empty, only emoji, …); logged as warnings.
    pub failed: usize,
}

/// An on-disk prompt cache rooted at one directory. `Send + Sync`; many processes may share the
/// directory (writes are atomic renames of complete files).
#[derive(Debug, Clone)]
pub struct PromptCache {
    dir: PathBuf,
}

impl PromptCache {
    /// Open (creating if needed) a cache in `dir`.
    pub fn open(dir: impl Into<PathBuf>) -> Result<Self, TtsError> {
        let dir = dir.into();
        fs::create_dir_all(&dir).map_err(|e| TtsError::Cache {
            path: dir.clone(),
            reason: e.to_string(),
        })?;
        Ok(Self { dir })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The hex key of an entry.
    pub fn key(voice: &VoiceId, text: &str, rate: SampleRate) -> String {
        let mut h = Sha256::new();
        for part in [
            FORMAT,
            voice.engine,
            &voice.voice,
            &rate.hz().to_string(),
            &text::cache_form(text),
        ] {
            h.update((part.len() as u64).to_le_bytes());
            h.update(part.as_bytes());
        }
        hex::encode(h.finalize())
    }

    fn path(&self, voice: &VoiceId, text: &str, rate: SampleRate) -> PathBuf {
        self.dir
            .join(format!("{}.wav", Self::key(voice, text, rate)))
    }

    pub fn contains(&self, voice: &VoiceId, text: &str, rate: SampleRate) -> bool {
        self.path(voice, text, rate).is_file()
    }

    /// The cached samples, or `None` on a miss. A damaged entry is removed and reported as a miss.
    pub fn get(&self, voice: &VoiceId, text: &str, rate: SampleRate) -> Option<Vec<f32>> {
        let path = self.path(voice, text, rate);
        let file = fs::File::open(&path).ok()?;
        match read_wav(BufReader::new(file), rate.hz()) {
            Ok(samples) => Some(samples),
            Err(reason) => {
                tracing::warn!(path = %path.display(), %reason, "damaged prompt-cache entry removed");
                let _ = fs::remove_file(&path);
                None
            }
        }
    }

    /// Store samples for (voice, text, rate).
    pub fn put(
        &self,
        voice: &VoiceId,
        text: &str,
        rate: SampleRate,
        samples: &[f32],
    ) -> Result<(), TtsError> {
        let path = self.path(voice, text, rate);
        // Unique per writer so that two processes prerendering the same prompt do not collide.
        let tmp = self.dir.join(format!(
            ".{}.{}.{:?}.tmp",
            Self::key(voice, text, rate),
            std::process::id(),
            std::thread::current().id()
        ));
        let result = crate::write_wav(&tmp, samples, rate.hz()).and_then(|()| {
            fs::rename(&tmp, &path).map_err(|e| TtsError::Cache {
                path: path.clone(),
                reason: e.to_string(),
            })
        });
        if result.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        result
    }
}

fn read_wav(reader: impl std::io::Read, rate: u32) -> Result<Vec<f32>, String> {
    let mut r = hound::WavReader::new(reader).map_err(|e| e.to_string())?;
    let spec = r.spec();
    if spec.channels != 1 || spec.sample_rate != rate || spec.bits_per_sample != 16 {
        return Err(format!("unexpected format {spec:?}"));
    }
    let expected = r.len() as usize;
    let samples: Vec<f32> = r
        .samples::<i16>()
        .map(|s| s.map(|v| f32::from(v) / 32768.0))
        .collect::<Result<_, _>>()
        .map_err(|e| e.to_string())?;
    if samples.len() != expected || samples.is_empty() {
        return Err(format!(
            "truncated: {} of {expected} samples",
            samples.len()
        ));
    }
    Ok(samples)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id() -> VoiceId {
        VoiceId {
            engine: "test",
            voice: "v".into(),
        }
    }

    #[test]
    fn round_trip_and_key_separation() {
        let dir = tempfile::tempdir().unwrap();
        let c = PromptCache::open(dir.path()).unwrap();
        let s: Vec<f32> = (0..1000).map(|i| (i as f32 / 100.0).sin() * 0.5).collect();
        assert!(c.get(&id(), "Hi there.", SampleRate::Hz16000).is_none());
        c.put(&id(), "Hi there.", SampleRate::Hz16000, &s).unwrap();
        let got = c.get(&id(), "  Hi\n there. ", SampleRate::Hz16000).unwrap();
        assert_eq!(got.len(), s.len());
        assert!(got.iter().zip(&s).all(|(a, b)| (a - b).abs() < 1e-3));
        assert!(c.get(&id(), "Hi there.", SampleRate::Hz8000).is_none());
        let other = VoiceId {
            engine: "test",
            voice: "w".into(),
        };
        assert!(c.get(&other, "Hi there.", SampleRate::Hz16000).is_none());
    }

    #[test]
    fn truncated_entry_is_a_miss_and_removed() {
        let dir = tempfile::tempdir().unwrap();
        let c = PromptCache::open(dir.path()).unwrap();
        c.put(&id(), "x", SampleRate::Hz8000, &[0.1; 4000]).unwrap();
        let path = c.path(&id(), "x", SampleRate::Hz8000);
        let bytes = fs::read(&path).unwrap();
        fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
        assert!(c.get(&id(), "x", SampleRate::Hz8000).is_none());
        assert!(!path.exists());
    }
}
