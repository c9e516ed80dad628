//! Where recordings live: always first on the local disk (`data/recordings/<session_id>/…`,
//! written crash-safely while the session runs), and — when `storage.recordings = "s3"` — in
//! an S3-compatible object store once the interview is filed ([`RecordingStore::upload`]; the
//! local file is removed only after the upload is confirmed by a `HEAD` of the same size).
//!
//! The database stores an object key (`<session_id>/recording.wav`), never a path. Keys are
//! checked before they touch the file system or the object store: one to four segments of
//! `[A-Za-z0-9._-]`, none empty, none starting with a dot (so no `..`, no hidden files, no
//! absolute paths), and the resolved path must stay under the root. In the object store the key
//! is stored under `storage.s3_prefix`.
//!
//! Reading ([`RecordingStore::open`] + [`RecordingStore::stream`]) prefers the local file (an
//! upload still pending) and otherwise reads the byte range from the object store with a ranged
//! `GET`, streamed: a long interview is never held in memory.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::stream::{BoxStream, StreamExt};
use object_store::path::Path as ObjectPath;
use object_store::{GetOptions, GetRange, ObjectStore, ObjectStoreExt};
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

use super::StoreError;
use crate::config::StorageConfig;

/// Where recordings go once the interview is filed.
#[derive(Clone)]
pub struct RecordingStore {
    root: PathBuf,
    remote: Option<Remote>,
}

#[derive(Clone)]
struct Remote {
    store: Arc<dyn ObjectStore>,
    /// Key prefix without leading or trailing slashes ("" for none).
    prefix: String,
    /// `s3://bucket/prefix`, for logs.
    name: String,
}

impl std::fmt::Debug for RecordingStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordingStore")
            .field("root", &self.root)
            .field("remote", &self.remote.as_ref().map(|r| r.name.as_str()))
            .finish()
    }
}

/// An opened recording: its length and where its bytes come from.
pub struct Recording {
    len: u64,
    source: Source,
}

enum Source {
    /// Opened before reading, so a concurrent upload removing the file cannot break the read.
    Local(tokio::fs::File),
    Remote(ObjectPath),
}

impl Recording {
    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// True when the bytes are read from the object store (not the local disk).
    pub fn is_remote(&self) -> bool {
        matches!(self.source, Source::Remote(_))
    }
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

fn object_error(e: object_store::Error) -> StoreError {
    StoreError::ObjectStore(e.to_string())
}

fn io_error(path: &Path, source: std::io::Error) -> StoreError {
    StoreError::DataDir {
        path: path.display().to_string(),
        source,
    }
}

const CHUNK: usize = 64 * 1024;
/// Multipart part size of uploads (S3's minimum part is 5 MiB); smaller files are one `PUT`.
const UPLOAD_PART: usize = 8 << 20;

impl RecordingStore {
    /// Recordings on the local disk under `root` (the default).
    pub fn new(root: impl Into<PathBuf>) -> RecordingStore {
        RecordingStore {
            root: root.into(),
            remote: None,
        }
    }

    /// Recordings spooled under `root` and kept in `store` under `prefix` once uploaded.
    pub fn with_object_store(
        root: impl Into<PathBuf>,
        store: Arc<dyn ObjectStore>,
        prefix: &str,
        name: impl Into<String>,
    ) -> RecordingStore {
        RecordingStore {
            root: root.into(),
            remote: Some(Remote {
                store,
                prefix: prefix.trim_matches('/').to_string(),
                name: name.into(),
            }),
        }
    }

    /// The store `[storage]` describes: local under `data_dir/recordings`, or S3 (bucket,
    /// endpoint, region, prefix, credentials from the config or the standard `AWS_*` variables).
    pub fn from_config(cfg: &StorageConfig) -> Result<RecordingStore, StoreError> {
        let root = cfg.data_dir.join("recordings");
        match cfg.recordings.as_str() {
            "local" => Ok(RecordingStore::new(root)),
            "s3" => {
                let store = s3_store(cfg)?;
                let name = format!("s3://{}/{}", cfg.s3_bucket, cfg.s3_prefix.trim_matches('/'));
                Ok(RecordingStore::with_object_store(
                    root,
                    Arc::new(store),
                    &cfg.s3_prefix,
                    name,
                ))
            }
            other => Err(StoreError::Invalid(format!(
                "storage.recordings must be \"local\" or \"s3\", not {other:?}"
            ))),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// True when recordings are uploaded to an object store.
    pub fn is_remote(&self) -> bool {
        self.remote.is_some()
    }

    /// The local file behind `key`, refused when the key is malformed.
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

    /// The object-store location of `key` (checked), or None for local storage.
    pub fn location(&self, key: &str) -> Result<Option<ObjectPath>, StoreError> {
        self.path(key)?;
        Ok(self.remote.as_ref().map(|r| r.location(key)))
    }

    /// Opens the recording behind `key`: the local file when it is still there, else the
    /// object (a `HEAD` for its length). None when neither exists.
    pub async fn open(&self, key: &str) -> Result<Option<Recording>, StoreError> {
        let path = self.path(key)?;
        match tokio::fs::File::open(&path).await {
            Ok(file) => {
                let len = file.metadata().await.map_err(|e| io_error(&path, e))?.len();
                return Ok(Some(Recording {
                    len,
                    source: Source::Local(file),
                }));
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_error(&path, e)),
        }
        let Some(remote) = &self.remote else {
            return Ok(None);
        };
        let location = remote.location(key);
        match remote.store.head(&location).await {
            Ok(meta) => Ok(Some(Recording {
                len: meta.size,
                source: Source::Remote(location),
            })),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(object_error(e)),
        }
    }

    /// Bytes `start .. start + count` of an opened recording, as a stream of chunks (a ranged
    /// `GET` from the object store, or reads of the local file).
    pub async fn stream(
        &self,
        recording: Recording,
        start: u64,
        count: u64,
    ) -> Result<BoxStream<'static, std::io::Result<Bytes>>, StoreError> {
        if count == 0 {
            return Ok(futures_util::stream::empty().boxed());
        }
        match recording.source {
            Source::Local(mut file) => {
                if start > 0 {
                    file.seek(std::io::SeekFrom::Start(start))
                        .await
                        .map_err(|e| io_error(&self.root, e))?;
                }
                let stream =
                    futures_util::stream::unfold((file, count), |(mut file, left)| async move {
                        if left == 0 {
                            return None;
                        }
                        let want = usize::try_from(left.min(CHUNK as u64)).unwrap_or(CHUNK);
                        let mut buf = vec![0u8; want];
                        match file.read(&mut buf).await {
                            Ok(0) => None,
                            Ok(n) => {
                                buf.truncate(n);
                                Some((Ok(Bytes::from(buf)), (file, left - n as u64)))
                            }
                            Err(e) => Some((Err(e), (file, 0))),
                        }
                    });
                Ok(stream.boxed())
            }
            Source::Remote(location) => {
                let Some(remote) = &self.remote else {
                    return Err(StoreError::Invalid("no object store configured".into()));
                };
                let options = GetOptions {
                    range: Some(GetRange::Bounded(start..start.saturating_add(count))),
                    ..GetOptions::default()
                };
                let got = remote
                    .store
                    .get_opts(&location, options)
                    .await
                    .map_err(object_error)?;
                Ok(got
                    .into_stream()
                    .map(|chunk| chunk.map_err(std::io::Error::other))
                    .boxed())
            }
        }
    }

    /// Uploads the local recording behind `key` to the object store, confirms it (a `HEAD`
    /// reporting the same size), and only then removes the local file. Ok(false) when there is
    /// nothing to do (local storage, or no local file: uploaded already).
    pub async fn upload(&self, key: &str) -> Result<bool, StoreError> {
        let Some(remote) = &self.remote else {
            return Ok(false);
        };
        let path = self.path(key)?;
        let mut file = match tokio::fs::File::open(&path).await {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(io_error(&path, e)),
        };
        let len = file.metadata().await.map_err(|e| io_error(&path, e))?.len();
        let location = remote.location(key);
        let mut writer = object_store::buffered::BufWriter::with_capacity(
            remote.store.clone(),
            location.clone(),
            UPLOAD_PART,
        );
        let copied = async {
            tokio::io::copy(&mut file, &mut writer).await?;
            writer.shutdown().await
        }
        .await;
        if let Err(e) = copied {
            // No `writer.abort()` here: object_store 0.14's BufWriter panics when aborted after
            // a failed write. An unfinished multipart upload is left to the bucket's lifecycle
            // rule (S3 never shows it as an object); the retry starts a fresh upload.
            drop(writer);
            return Err(StoreError::ObjectStore(format!(
                "uploading {key} to {}: {e}",
                remote.name
            )));
        }
        let meta = remote.store.head(&location).await.map_err(object_error)?;
        if meta.size != len {
            return Err(StoreError::ObjectStore(format!(
                "uploaded {key} has {} bytes, the local file {len}",
                meta.size
            )));
        }
        match tokio::fs::remove_file(&path).await {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_error(&path, e)),
        }
        tracing::info!(key, bytes = len, store = %remote.name, "recording uploaded");
        Ok(true)
    }

    /// Removes everything stored for the key's session: the object (when an object store is
    /// configured) and, on the local disk, the key's first segment, which is the session folder
    /// (audio and the session's own transcript file), or the single file.
    pub async fn remove_session(&self, key: &str) -> Result<(), StoreError> {
        let path = self.path(key)?;
        if let Some(remote) = &self.remote {
            match remote.store.delete(&remote.location(key)).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(object_error(e)),
            }
        }
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

impl Remote {
    fn location(&self, key: &str) -> ObjectPath {
        if self.prefix.is_empty() {
            ObjectPath::from(key)
        } else {
            ObjectPath::from(format!("{}/{key}", self.prefix))
        }
    }
}

/// The S3 client of `[storage]`: `AWS_*` environment variables first, then the config's
/// non-empty values. Path-style requests (what MinIO and most S3-compatible servers expect);
/// plain `http://` only when the endpoint says so. Requests fail fast when the store is down
/// (the upload is retried later), instead of object_store's three minutes of retries.
fn s3_store(cfg: &StorageConfig) -> Result<object_store::aws::AmazonS3, StoreError> {
    if cfg.s3_bucket.trim().is_empty() {
        return Err(StoreError::Invalid(
            "storage.recordings = \"s3\" needs storage.s3_bucket (VIVA_STORAGE_S3_BUCKET)".into(),
        ));
    }
    crate::tls::install_crypto_provider();
    let mut b = object_store::aws::AmazonS3Builder::from_env().with_bucket_name(&cfg.s3_bucket);
    if !cfg.s3_region.is_empty() {
        b = b.with_region(&cfg.s3_region);
    }
    if !cfg.s3_endpoint.is_empty() {
        b = b
            .with_endpoint(&cfg.s3_endpoint)
            .with_allow_http(cfg.s3_endpoint.starts_with("http://"));
    }
    if !cfg.s3_access_key_id.is_empty() {
        b = b.with_access_key_id(&cfg.s3_access_key_id);
    }
    if !cfg.s3_secret_access_key.is_empty() {
        b = b.with_secret_access_key(&cfg.s3_secret_access_key);
    }
    let timeout = Duration::from_millis(cfg.s3_timeout_ms.max(100));
    b = b
        .with_client_options(
            object_store::ClientOptions::new()
                .with_connect_timeout(timeout.min(Duration::from_secs(10)))
                .with_timeout(timeout)
                .with_allow_http(cfg.s3_endpoint.starts_with("http://")),
        )
        .with_retry(object_store::RetryConfig {
            max_retries: 2,
            retry_timeout: timeout,
            backoff: object_store::BackoffConfig {
                init_backoff: Duration::from_millis(100),
                max_backoff: Duration::from_secs(2),
                base: 2.0,
            },
        });
    b.build()
        .map_err(|e| StoreError::Invalid(format!("storage S3 settings: {e}")))
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
        assert!(store.location("../x").is_err());
        assert_eq!(store.location("s-1/recording.wav").expect("ok"), None);
        assert_eq!(
            store.path("s-1/recording.wav").expect("path"),
            PathBuf::from("/data/recordings/s-1/recording.wav")
        );
    }

    #[tokio::test]
    async fn remove_session_removes_the_folder_and_tolerates_absence() {
        let dir = tempfile::tempdir().expect("tmp");
        let store = RecordingStore::new(dir.path());
        std::fs::create_dir_all(dir.path().join("s-1")).expect("mkdir");
        std::fs::write(dir.path().join("s-1/recording.wav"), b"RIFF").expect("write");
        std::fs::write(dir.path().join("s-1/turns.json"), b"{}").expect("write");
        assert!(!store.upload("s-1/recording.wav").await.expect("local"));
        store
            .remove_session("s-1/recording.wav")
            .await
            .expect("remove");
        assert!(!dir.path().join("s-1").exists());
        store
            .remove_session("s-1/recording.wav")
            .await
            .expect("again");
    }

    #[test]
    fn config_is_checked() {
        let mut cfg = StorageConfig::default();
        assert!(!RecordingStore::from_config(&cfg)
            .expect("local")
            .is_remote());
        cfg.recordings = "ftp".into();
        let msg = RecordingStore::from_config(&cfg)
            .expect_err("unknown")
            .to_string();
        assert!(msg.contains("storage.recordings"), "{msg}");
        cfg.recordings = "s3".into();
        let msg = RecordingStore::from_config(&cfg)
            .expect_err("no bucket")
            .to_string();
        assert!(msg.contains("s3_bucket"), "{msg}");
        cfg.s3_bucket = "viva".into();
        cfg.s3_endpoint = "http://127.0.0.1:9".into();
        cfg.s3_region = "us-east-1".into();
        let rec = RecordingStore::from_config(&cfg).expect("s3");
        assert!(rec.is_remote());
        assert_eq!(
            rec.location("s-1/recording.wav")
                .expect("ok")
                .expect("remote")
                .as_ref(),
            "recordings/s-1/recording.wav"
        );
    }
}
