//! Where recordings live: a folder on the local disk (`data/recordings/<session_id>/…`).
//!
//! The database stores an object key (`<session_id>/recording.wav`), never a path. Keys are
//! checked before they touch the file system: one to four segments of `[A-Za-z0-9._-]`, none
//! empty, none starting with a dot (so no `..`, no hidden files, no absolute paths), and the
//! resolved path must stay under the root. An S3-compatible object store would implement the
//! same three operations (open a byte range, size, remove a session) — not built yet.

use std::path::{Path, PathBuf};

use super::StoreError;

#[derive(Debug, Clone)]
pub struct RecordingStore {
    root: PathBuf,
}

/// True for a well-formed object key (see the module doc).
pub fn key_is_valid(key: &str) -> bool {
    let segments: Vec<&str> = key.split('/').collect();
    (1..=4).contains(&segments.len())
        && key.len() <= 200
        && segments.iter().all(|s| {
            !s.is_empty()
                && !s.starts_with('.')
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        })
}

impl RecordingStore {
    pub fn new(root: impl Into<PathBuf>) -> RecordingStore {
        RecordingStore { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The file behind `key`, refused when the key is malformed.
    pub fn path(&self, key: &str) -> Result<PathBuf, StoreError> {
        if !key_is_valid(key) {
            return Err(StoreError::Invalid(format!("bad recording key {key:?}")));
        }
        let path = self.root.join(key);
        // Belt and braces: a valid key cannot leave the root, but check the joined path too.
        if !path.starts_with(&self.root) {
            return Err(StoreError::Invalid(format!("bad recording key {key:?}")));
        }
        Ok(path)
    }

    /// Removes everything stored for the key's session: the key's first segment is the
    /// session folder (audio and the session's own transcript file), or the single file.
    pub fn remove_session(&self, key: &str) -> Result<(), StoreError> {
        let path = self.path(key)?;
        let first = key.split('/').next().unwrap_or(key);
        let target = if key.contains('/') {
            self.root.join(first)
        } else {
            path
        };
        let res = if target.is_dir() {
            std::fs::remove_dir_all(&target)
        } else {
            std::fs::remove_file(&target)
        };
        match res {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(StoreError::DataDir {
                path: target.display().to_string(),
                source,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_cannot_escape_the_root() {
        for good in ["s-0123/recording.wav", "a/b/c/d", "x.wav", "s_1-2/r.wav"] {
            assert!(key_is_valid(good), "{good}");
        }
        for bad in [
            "",
            "../etc/passwd",
            "s/../../x",
            "/etc/passwd",
            "s//r.wav",
            ".hidden",
            "s/.",
            "s/..",
            "a\\b",
            "a/b/c/d/e",
            "s%2f..",
            "s/r.wav\0",
        ] {
            assert!(!key_is_valid(bad), "{bad:?}");
        }
        let store = RecordingStore::new("/data/recordings");
        assert!(store.path("../x").is_err());
        assert_eq!(
            store.path("s-1/recording.wav").expect("path"),
            PathBuf::from("/data/recordings/s-1/recording.wav")
        );
    }

    #[test]
    fn remove_session_removes_the_folder_and_tolerates_absence() {
        let dir = tempfile::tempdir().expect("tmp");
        let store = RecordingStore::new(dir.path());
        std::fs::create_dir_all(dir.path().join("s-1")).expect("mkdir");
        std::fs::write(dir.path().join("s-1/recording.wav"), b"RIFF").expect("write");
        std::fs::write(dir.path().join("s-1/turns.json"), b"{}").expect("write");
        store.remove_session("s-1/recording.wav").expect("remove");
        assert!(!dir.path().join("s-1").exists());
        store.remove_session("s-1/recording.wav").expect("again");
    }
}
