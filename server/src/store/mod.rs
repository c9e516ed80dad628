//! Storage: one schema on SQLite (default, a file under `data/`) or PostgreSQL (when
//! `DATABASE_URL` points at one), through sqlx's `Any` driver so every query is written once.
//!
//! Rules: times are passed in (milliseconds since the epoch) so tests control the clock;
//! secrets (invite tokens, API tokens) are returned once and stored only as SHA-256 hashes; the
//! scoring queue is claimed atomically (`FOR UPDATE SKIP LOCKED` on PostgreSQL, a single
//! `UPDATE … WHERE` on SQLite, which serialises writers) with a lease, so a worker that dies
//! mid-job loses its claim and another worker picks the job up.

pub mod link;
pub mod live;
mod migrations;
pub mod recordings;
pub mod recover;
pub mod review;
mod webhooks;

mod erasure;
pub mod feedback;
mod interviews;
mod jobs;
pub mod pins;
mod queue;

pub use recordings::RecordingStore;
pub use webhooks::{AttemptOutcome, DeliveryJob, DeliveryRow, WebhookRow, DEFAULT_EVENTS, EVENTS};

use std::path::Path;

use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Row};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("invalid: {0}")]
    Invalid(String),
    #[error("cannot create the data folder {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
    #[error("no random numbers from the operating system: {0}")]
    Random(String),
    #[error("cannot encode: {0}")]
    Encode(#[from] serde_json::Error),
    #[error("object store: {0}")]
    ObjectStore(String),
}

pub type Result<T> = std::result::Result<T, StoreError>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    recordings: Option<RecordingStore>,
}

/// Milliseconds since the Unix epoch: the one clock read, at the edge.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// A random id or token: `bytes` random bytes as hex.
pub fn random_hex(bytes: usize) -> Result<String> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| StoreError::Random(e.to_string()))?;
    Ok(hex::encode(buf))
}

/// How a secret is stored: its SHA-256, hex.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct JobRow {
    pub id: String,
    pub title: String,
    pub version: i64,
    pub config_toml: String,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct InviteRow {
    pub id: String,
    pub job_id: String,
    pub job_version: i64,
    pub candidate_id: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
    pub revoked_at: Option<i64>,
    /// Adjustments this candidate gets (extra time, slower speech, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accommodations: Option<viva_interview::job::Accommodations>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct InterviewRow {
    pub id: String,
    pub job_id: String,
    pub job_version: i64,
    pub candidate_id: String,
    pub state: String,
    pub started_at: Option<i64>,
    pub ended_at: Option<i64>,
    pub created_at: i64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ReportRow {
    pub id: String,
    pub interview_id: String,
    pub scorer_version: String,
    pub composite: f64,
    pub recommendation: String,
    pub report_json: String,
    pub created_at: i64,
}

fn job_row(r: &AnyRow) -> Result<JobRow> {
    Ok(JobRow {
        id: r.try_get("id")?,
        title: r.try_get("title")?,
        version: r.try_get("version")?,
        config_toml: r.try_get("config_toml")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

fn invite_row(r: &AnyRow) -> Result<InviteRow> {
    Ok(InviteRow {
        id: r.try_get("id")?,
        job_id: r.try_get("job_id")?,
        job_version: r.try_get("job_version")?,
        candidate_id: r.try_get("candidate_id")?,
        created_at: r.try_get("created_at")?,
        expires_at: r.try_get("expires_at")?,
        used_at: r.try_get("used_at")?,
        revoked_at: r.try_get("revoked_at")?,
        accommodations: r
            .try_get::<Option<String>, _>("accommodations_json")?
            .and_then(|j| match serde_json::from_str(&j) {
                Ok(a) => Some(a),
                Err(e) => {
                    tracing::warn!(error = %e, "an invite's stored accommodations do not parse; ignored");
                    None
                }
            }),
    })
}

fn interview_row(r: &AnyRow) -> Result<InterviewRow> {
    Ok(InterviewRow {
        id: r.try_get("id")?,
        job_id: r.try_get("job_id")?,
        job_version: r.try_get("job_version")?,
        candidate_id: r.try_get("candidate_id")?,
        state: r.try_get("state")?,
        started_at: r.try_get("started_at")?,
        ended_at: r.try_get("ended_at")?,
        created_at: r.try_get("created_at")?,
    })
}

fn report_row(r: &AnyRow) -> Result<ReportRow> {
    Ok(ReportRow {
        id: r.try_get("id")?,
        interview_id: r.try_get("interview_id")?,
        scorer_version: r.try_get("scorer_version")?,
        composite: r.try_get("composite")?,
        recommendation: r.try_get("recommendation")?,
        report_json: r.try_get("report_json")?,
        created_at: r.try_get("created_at")?,
    })
}

const JOB_COLUMNS: &str = "j.id, j.title, v.version, v.config_toml, j.created_at, j.updated_at";
const INVITE_COLUMNS: &str =
    "id, job_id, job_version, candidate_id, created_at, expires_at, used_at, revoked_at, accommodations_json";
const INTERVIEW_COLUMNS: &str =
    "id, job_id, job_version, candidate_id, state, started_at, ended_at, created_at";

impl Store {
    /// The database `DATABASE_URL` names, or `data_dir/viva.db` (SQLite) when it is unset.
    pub async fn open_default(data_dir: &Path) -> Result<Store> {
        match std::env::var("DATABASE_URL") {
            Ok(url) if !url.trim().is_empty() => Store::connect(&url).await,
            _ => {
                std::fs::create_dir_all(data_dir).map_err(|source| StoreError::DataDir {
                    path: data_dir.display().to_string(),
                    source,
                })?;
                let url = format!("sqlite://{}?mode=rwc", data_dir.join("viva.db").display());
                Store::connect(&url).await
            }
        }
        .map(|s| s.with_recordings(RecordingStore::new(data_dir.join("recordings"))))
    }

    /// Where this deployment's recordings live (served by the API, removed on erasure).
    pub fn with_recordings(mut self, recordings: RecordingStore) -> Store {
        self.recordings = Some(recordings);
        self
    }

    pub fn recordings(&self) -> Option<&RecordingStore> {
        self.recordings.as_ref()
    }

    /// Connects and runs the migrations.
    pub async fn connect(url: &str) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            return Err(StoreError::Invalid(
                "database URL must start with sqlite: or postgres:".into(),
            ));
        };
        let pool = AnyPoolOptions::new()
            .max_connections(if backend == Backend::Sqlite { 4 } else { 10 })
            .connect(url)
            .await?;
        let store = Store {
            pool,
            backend,
            recordings: None,
        };
        store.migrate().await?;
        Ok(store)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    async fn migrate(&self) -> Result<()> {
        const CREATE: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)";
        if self.backend == Backend::Sqlite {
            // On PostgreSQL this runs under the advisory lock below: two concurrent
            // `CREATE TABLE IF NOT EXISTS` of one table can fail there (pg_type race).
            sqlx::query(CREATE).execute(&self.pool).await?;
        }
        for (version, sql) in migrations::MIGRATIONS {
            if self.backend == Backend::Sqlite {
                let done: Option<i64> =
                    sqlx::query_scalar("SELECT version FROM schema_migrations WHERE version = $1")
                        .bind(*version)
                        .fetch_optional(&self.pool)
                        .await?;
                if done.is_some() {
                    continue;
                }
            }
            // Several processes may start at once on one database: the migration runs in a
            // transaction that locks out the others (SQLite: BEGIN IMMEDIATE, which waits for
            // the write lock instead of failing on a read-to-write upgrade; PostgreSQL: an
            // advisory lock), and the version is checked again once the lock is held.
            let mut conn = self.pool.acquire().await?;
            let begin = match self.backend {
                Backend::Sqlite => "BEGIN IMMEDIATE",
                Backend::Postgres => "BEGIN",
            };
            sqlx::query(begin).execute(&mut *conn).await?;
            let applied = async {
                if self.backend == Backend::Postgres {
                    sqlx::query("SELECT pg_advisory_xact_lock(7262817)")
                        .execute(&mut *conn)
                        .await?;
                    sqlx::query(CREATE).execute(&mut *conn).await?;
                }
                let done: Option<i64> =
                    sqlx::query_scalar("SELECT version FROM schema_migrations WHERE version = $1")
                        .bind(*version)
                        .fetch_optional(&mut *conn)
                        .await?;
                if done.is_some() {
                    return Ok::<_, StoreError>(());
                }
                // One statement per call: PostgreSQL's extended protocol takes one at a time.
                for stmt in sql.split(';').map(str::trim).filter(|s| !s.is_empty()) {
                    sqlx::query(stmt).execute(&mut *conn).await?;
                }
                sqlx::query("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2) ON CONFLICT (version) DO NOTHING")
                    .bind(*version)
                    .bind(now_ms())
                    .execute(&mut *conn)
                    .await?;
                Ok(())
            }
            .await;
            match applied {
                Ok(()) => {
                    sqlx::query("COMMIT").execute(&mut *conn).await?;
                }
                Err(e) => {
                    let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
                    return Err(e);
                }
            }
        }
        Ok(())
    }

    // ---- audit

    pub async fn audit(
        &self,
        at: i64,
        actor: &str,
        action: &str,
        subject: &str,
        detail: &str,
    ) -> Result<()> {
        sqlx::query("INSERT INTO audit_events (id, at, actor, action, subject, detail) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(random_hex(12)?)
            .bind(at)
            .bind(actor)
            .bind(action)
            .bind(subject)
            .bind(detail)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn audit_actions(&self, subject: &str) -> Result<Vec<String>> {
        let rows =
            sqlx::query("SELECT action FROM audit_events WHERE subject = $1 ORDER BY at, id")
                .bind(subject)
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(|r| Ok(r.try_get("action")?)).collect()
    }
}

/// The scoring worker: claims one job, scores it, stores the report. `Ok(None)` when the
/// queue is empty.
pub async fn score_one(
    store: &Store,
    worker: &str,
    now: i64,
    lease_ms: i64,
) -> Result<Option<String>> {
    let Some(id) = store.claim(worker, now, lease_ms).await? else {
        return Ok(None);
    };
    let interview = store.interview(&id).await?;
    let scored = async {
        let toml = store
            .job_version(&interview.job_id, interview.job_version)
            .await?;
        let mut job = viva_interview::JobConfig::from_toml_str(&toml)
            .map_err(|e| StoreError::Invalid(format!("stored job config: {e}")))?;
        // The candidate's adjustments are listed in the report (they change no score).
        if let Some(a) = store.interview_accommodations(&id).await? {
            job.accommodations = job.accommodations.merged(&a);
        }
        let transcript: viva_interview::Transcript =
            serde_json::from_str(&store.transcript_json(&id).await?)?;
        let report = viva_scoring::score(&job, &transcript)
            .map_err(|e| StoreError::Invalid(e.to_string()))?;
        let json =
            viva_scoring::to_json(&report).map_err(|e| StoreError::Invalid(e.to_string()))?;
        Ok::<_, StoreError>((report, json))
    }
    .await;
    match scored {
        Ok((report, json)) => {
            store.complete(&id, worker, &report, &json, now).await?;
        }
        // A job that cannot be scored is marked failed with its reason, never retried forever.
        Err(e) => store.fail(&id, worker, &e.to_string(), now).await?,
    }
    Ok(Some(id))
}

/// Seeds the demo job into an empty database so a fresh server has something to show.
pub async fn seed_demo_job(store: &Store, now: i64) -> Result<Option<JobRow>> {
    if !store.list_jobs().await?.is_empty() {
        return Ok(None);
    }
    let job = viva_interview::demo_job();
    Ok(Some(
        store
            .create_job(&job.title, viva_interview::job::DEMO_JOB_TOML, now)
            .await?,
    ))
}

/// Opens the configured database, seeds the demo job into an empty one, makes the configured
/// webhooks live, and (unless `worker.in_process` is off) starts the scoring and webhook
/// workers in this process.
pub async fn open_and_seed(config: &crate::Config) -> Result<Store> {
    let recordings = RecordingStore::from_config(&config.storage)?;
    let store = Store::open_default(&config.storage.data_dir)
        .await?
        .with_recordings(recordings);
    // Recordings filed while the object store was down (or before a restart) are uploaded now
    // and retried every `storage.upload_retry_ms`; this process owns the local disk they are on.
    if store.recordings().is_some_and(RecordingStore::is_remote) {
        tokio::spawn(link::run_uploads(
            store.clone(),
            config.storage.upload_retry_ms,
        ));
    }
    if let Some(job) = seed_demo_job(&store, now_ms()).await? {
        tracing::info!(job = %job.id, "seeded the demo job into an empty database");
    }
    sync_config_webhooks(&store, &config.webhooks).await?;
    if config.worker.in_process {
        crate::worker::spawn(&store, config, format!("in-process-{}", std::process::id()));
    }
    Ok(store)
}

/// The configuration file's webhooks, checked and made the live `config` subscriptions.
pub async fn sync_config_webhooks(
    store: &Store,
    cfg: &crate::config::WebhooksConfig,
) -> Result<()> {
    if !cfg.urls.is_empty() && cfg.secret.is_empty() {
        return Err(StoreError::Invalid(
            "webhooks.urls is set but webhooks.secret is empty (VIVA_WEBHOOKS_SECRET)".into(),
        ));
    }
    for url in &cfg.urls {
        crate::webhooks::check_url(url)
            .map_err(|e| StoreError::Invalid(format!("webhooks.urls {url:?}: {e}")))?;
    }
    // An unreadable webhooks.ca_file is a start-up error, not a stream of failed deliveries.
    crate::webhooks::client(cfg).map_err(|e| StoreError::Invalid(e.to_string()))?;
    let hooks = store
        .sync_config_webhooks(&cfg.urls, &cfg.events, &cfg.secret, now_ms())
        .await?;
    if !hooks.is_empty() {
        tracing::info!(count = hooks.len(), "configured webhooks are live");
    }
    Ok(())
}
