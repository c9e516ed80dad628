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

pub use recordings::RecordingStore;
pub use webhooks::{AttemptOutcome, DeliveryJob, DeliveryRow, WebhookRow, EVENTS};

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
    "id, job_id, job_version, candidate_id, created_at, expires_at, used_at, revoked_at";
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

    // ---- jobs (every update is a new version; interviews keep the version they ran with)

    /// Stores a job whose config was validated by the caller.
    pub async fn create_job(&self, title: &str, config_toml: &str, now: i64) -> Result<JobRow> {
        let id = random_hex(8)?;
        let mut tx = self.pool.begin().await?;
        sqlx::query("INSERT INTO jobs (id, title, current_version, created_at, updated_at) VALUES ($1, $2, 1, $3, $3)")
            .bind(&id)
            .bind(title)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO job_versions (job_id, version, config_toml, created_at) VALUES ($1, 1, $2, $3)")
            .bind(&id)
            .bind(config_toml)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.job(&id).await
    }

    pub async fn update_job(
        &self,
        id: &str,
        title: &str,
        config_toml: &str,
        now: i64,
    ) -> Result<JobRow> {
        let current = self.job(id).await?;
        let version = current.version + 1;
        let mut tx = self.pool.begin().await?;
        sqlx::query("INSERT INTO job_versions (job_id, version, config_toml, created_at) VALUES ($1, $2, $3, $4)")
            .bind(id)
            .bind(version)
            .bind(config_toml)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "UPDATE jobs SET title = $1, current_version = $2, updated_at = $3 WHERE id = $4",
        )
        .bind(title)
        .bind(version)
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.job(id).await
    }

    pub async fn job(&self, id: &str) -> Result<JobRow> {
        let sql = format!("SELECT {JOB_COLUMNS} FROM jobs j JOIN job_versions v ON v.job_id = j.id AND v.version = j.current_version WHERE j.id = $1 AND j.deleted_at IS NULL");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref()
            .map(job_row)
            .transpose()?
            .ok_or(StoreError::NotFound("job"))
    }

    pub async fn job_version(&self, id: &str, version: i64) -> Result<String> {
        sqlx::query_scalar(
            "SELECT config_toml FROM job_versions WHERE job_id = $1 AND version = $2",
        )
        .bind(id)
        .bind(version)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound("job version"))
    }

    pub async fn list_jobs(&self) -> Result<Vec<JobRow>> {
        let sql = format!("SELECT {JOB_COLUMNS} FROM jobs j JOIN job_versions v ON v.job_id = j.id AND v.version = j.current_version WHERE j.deleted_at IS NULL ORDER BY j.created_at, j.id");
        let rows = sqlx::query(&sql).fetch_all(&self.pool).await?;
        rows.iter().map(job_row).collect()
    }

    /// Soft delete: versions stay, because interviews and reports refer to them.
    pub async fn delete_job(&self, id: &str, now: i64) -> Result<()> {
        let done =
            sqlx::query("UPDATE jobs SET deleted_at = $1 WHERE id = $2 AND deleted_at IS NULL")
                .bind(now)
                .bind(id)
                .execute(&self.pool)
                .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("job"));
        }
        Ok(())
    }

    // ---- candidates and invites

    pub async fn create_candidate(
        &self,
        name: Option<&str>,
        email: Option<&str>,
        now: i64,
    ) -> Result<String> {
        let id = random_hex(8)?;
        sqlx::query("INSERT INTO candidates (id, name, email, created_at) VALUES ($1, $2, $3, $4)")
            .bind(&id)
            .bind(name.map(str::to_string))
            .bind(email.map(str::to_string))
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(id)
    }

    /// Creates an invite; the token is returned once and stored only as a hash.
    pub async fn create_invite(
        &self,
        job_id: &str,
        candidate_id: &str,
        ttl_ms: i64,
        now: i64,
    ) -> Result<(InviteRow, String)> {
        let job = self.job(job_id).await?;
        let token = random_hex(24)?;
        let id = random_hex(8)?;
        sqlx::query("INSERT INTO invites (id, job_id, job_version, candidate_id, token_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(&id)
            .bind(job_id)
            .bind(job.version)
            .bind(candidate_id)
            .bind(hash_secret(&token))
            .bind(now)
            .bind(now.saturating_add(ttl_ms))
            .execute(&self.pool)
            .await?;
        Ok((self.invite(&id).await?, token))
    }

    pub async fn invite(&self, id: &str) -> Result<InviteRow> {
        let sql = format!("SELECT {INVITE_COLUMNS} FROM invites WHERE id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref()
            .map(invite_row)
            .transpose()?
            .ok_or(StoreError::NotFound("invite"))
    }

    pub async fn list_invites(&self, job_id: &str) -> Result<Vec<InviteRow>> {
        let sql = format!(
            "SELECT {INVITE_COLUMNS} FROM invites WHERE job_id = $1 ORDER BY created_at, id"
        );
        let rows = sqlx::query(&sql).bind(job_id).fetch_all(&self.pool).await?;
        rows.iter().map(invite_row).collect()
    }

    pub async fn revoke_invite(&self, id: &str, now: i64) -> Result<()> {
        let done =
            sqlx::query("UPDATE invites SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
                .bind(now)
                .bind(id)
                .execute(&self.pool)
                .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("invite"));
        }
        Ok(())
    }

    /// Uses an invite once: unknown, used, revoked or expired tokens all give `None`.
    pub async fn redeem_invite(&self, token: &str, now: i64) -> Result<Option<InviteRow>> {
        let sql = format!("UPDATE invites SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $1 RETURNING {INVITE_COLUMNS}");
        let row = sqlx::query(&sql)
            .bind(now)
            .bind(hash_secret(token))
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(invite_row).transpose()
    }

    // ---- interviews, turns

    pub async fn create_interview(
        &self,
        job_id: &str,
        job_version: i64,
        candidate_id: &str,
        invite_id: Option<&str>,
        now: i64,
    ) -> Result<String> {
        let id = random_hex(8)?;
        sqlx::query("INSERT INTO interviews (id, job_id, job_version, candidate_id, invite_id, state, created_at) VALUES ($1, $2, $3, $4, $5, 'created', $6)")
            .bind(&id)
            .bind(job_id)
            .bind(job_version)
            .bind(candidate_id)
            .bind(invite_id.map(str::to_string))
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(id)
    }

    /// Stores the finished interview's transcript and turns, and queues it for scoring.
    pub async fn finish_interview(
        &self,
        id: &str,
        transcript: &viva_interview::Transcript,
        now: i64,
    ) -> Result<()> {
        self.file_interview(id, transcript, now, "completed").await
    }

    /// Like [`finish_interview`](Self::finish_interview), with the state it is filed in:
    /// `completed`, or `interrupted` (its session died and the candidate did not come back).
    pub async fn file_interview(
        &self,
        id: &str,
        transcript: &viva_interview::Transcript,
        now: i64,
        state: &str,
    ) -> Result<()> {
        let json = serde_json::to_string(transcript)?;
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE interviews SET state = $4, ended_at = $1, transcript_json = $2 WHERE id = $3",
        )
        .bind(now)
        .bind(&json)
        .bind(id)
        .bind(state)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("interview"));
        }
        sqlx::query("DELETE FROM turns WHERE interview_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        for t in &transcript.turns {
            let answer = t
                .answers
                .iter()
                .map(|a| a.text.as_str())
                .collect::<Vec<_>>()
                .join("\n");
            let words: Vec<&viva_interview::Word> = t
                .answers
                .iter()
                .flat_map(|a| a.words.iter().flatten())
                .collect();
            sqlx::query("INSERT INTO turns (interview_id, idx, phase, question_json, prompt, decision, reason_json, asked_at_ms, answer_text, words_json, audio_start_ms, audio_end_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)")
                .bind(id)
                .bind(i64::try_from(t.index).unwrap_or(i64::MAX))
                .bind(serde_json::to_string(&t.phase)?)
                .bind(serde_json::to_string(&t.question)?)
                .bind(&t.prompt)
                .bind(serde_json::to_string(&t.decision)?)
                .bind(serde_json::to_string(&t.reason)?)
                .bind(i64::try_from(t.asked_at_ms).unwrap_or(i64::MAX))
                .bind((!t.answers.is_empty()).then_some(answer))
                .bind((!words.is_empty()).then(|| serde_json::to_string(&words)).transpose()?)
                .bind(t.answers.iter().find_map(|a| a.audio_start_ms).map(|v| i64::try_from(v).unwrap_or(i64::MAX)))
                .bind(t.answers.iter().rev().find_map(|a| a.audio_end_ms).map(|v| i64::try_from(v).unwrap_or(i64::MAX)))
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query("INSERT INTO scoring_queue (interview_id, state, attempts, enqueued_at) VALUES ($1, 'queued', 0, $2)")
            .bind(id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        let row: AnyRow = sqlx::query("SELECT job_id, candidate_id FROM interviews WHERE id = $1")
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
        let payload = serde_json::json!({
            "interview_id": id,
            "job_id": row.try_get::<String, _>("job_id")?,
            "candidate_id": row.try_get::<String, _>("candidate_id")?,
            "ended_at": now,
            "turns": transcript.turns.len(),
            "state": state,
        });
        webhooks::enqueue_event(&mut tx, "interview.completed", &payload, now).await?;
        sqlx::query("DELETE FROM live_sessions WHERE interview_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// A live session began for this interview: it is in progress, its audio is being
    /// recorded under `recording_key`.
    pub async fn start_interview(
        &self,
        id: &str,
        session_id: &str,
        recording_key: &str,
        now: i64,
    ) -> Result<()> {
        if !recordings::key_is_valid(recording_key) {
            return Err(StoreError::Invalid(format!(
                "bad recording key {recording_key:?}"
            )));
        }
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query("UPDATE interviews SET state = 'in_progress', started_at = $1, consent_at = $1 WHERE id = $2")
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("interview"));
        }
        sqlx::query("INSERT INTO recordings (interview_id, session_id, object_key, content_type, created_at) VALUES ($1, $2, $3, 'audio/wav', $4)")
            .bind(id)
            .bind(session_id)
            .bind(recording_key)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// A session ended without a transcript (nothing was said): kept, not scored.
    pub async fn abandon_interview(&self, id: &str, now: i64) -> Result<()> {
        sqlx::query("UPDATE interviews SET state = 'abandoned', ended_at = $1 WHERE id = $2 AND state IN ('created', 'in_progress')")
            .bind(now)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The interview's recording: (object key, content type).
    pub async fn recording(&self, interview_id: &str) -> Result<(String, String)> {
        let row =
            sqlx::query("SELECT object_key, content_type FROM recordings WHERE interview_id = $1")
                .bind(interview_id)
                .fetch_optional(&self.pool)
                .await?
                .ok_or(StoreError::NotFound("recording"))?;
        Ok((row.try_get("object_key")?, row.try_get("content_type")?))
    }

    /// The interviews a candidate's invite token reaches (None: not a live invite token).
    /// A used invite still opens its own interview; a revoked one opens nothing.
    pub async fn candidate_interviews(&self, token: &str) -> Result<Option<Vec<String>>> {
        let invite: Option<String> = sqlx::query_scalar(
            "SELECT id FROM invites WHERE token_hash = $1 AND revoked_at IS NULL",
        )
        .bind(hash_secret(token))
        .fetch_optional(&self.pool)
        .await?;
        let Some(invite) = invite else {
            return Ok(None);
        };
        let ids: Vec<String> =
            sqlx::query_scalar("SELECT id FROM interviews WHERE invite_id = $1 ORDER BY id")
                .bind(invite)
                .fetch_all(&self.pool)
                .await?;
        Ok(Some(ids))
    }

    /// The stored job that is the built-in demo job (what demo sessions are filed under).
    pub async fn demo_job_id(&self) -> Result<Option<String>> {
        Ok(sqlx::query_scalar(
            "SELECT j.id FROM jobs j JOIN job_versions v ON v.job_id = j.id AND v.version = j.current_version WHERE j.deleted_at IS NULL AND v.config_toml = $1 ORDER BY j.created_at, j.id LIMIT 1",
        )
        .bind(viva_interview::job::DEMO_JOB_TOML)
        .fetch_optional(&self.pool)
        .await?)
    }

    pub async fn interview(&self, id: &str) -> Result<InterviewRow> {
        let sql = format!("SELECT {INTERVIEW_COLUMNS} FROM interviews WHERE id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref()
            .map(interview_row)
            .transpose()?
            .ok_or(StoreError::NotFound("interview"))
    }

    pub async fn list_interviews(&self, job_id: Option<&str>) -> Result<Vec<InterviewRow>> {
        let rows = match job_id {
            Some(j) => {
                let sql = format!("SELECT {INTERVIEW_COLUMNS} FROM interviews WHERE job_id = $1 ORDER BY created_at, id");
                sqlx::query(&sql).bind(j).fetch_all(&self.pool).await?
            }
            None => {
                let sql =
                    format!("SELECT {INTERVIEW_COLUMNS} FROM interviews ORDER BY created_at, id");
                sqlx::query(&sql).fetch_all(&self.pool).await?
            }
        };
        rows.iter().map(interview_row).collect()
    }

    pub async fn transcript_json(&self, interview_id: &str) -> Result<String> {
        let v: Option<Option<String>> =
            sqlx::query_scalar("SELECT transcript_json FROM interviews WHERE id = $1")
                .bind(interview_id)
                .fetch_optional(&self.pool)
                .await?;
        v.flatten().ok_or(StoreError::NotFound("transcript"))
    }

    pub async fn turn_count(&self, interview_id: &str) -> Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM turns WHERE interview_id = $1")
                .bind(interview_id)
                .fetch_one(&self.pool)
                .await?,
        )
    }

    // ---- reports

    pub async fn latest_report(&self, interview_id: &str) -> Result<ReportRow> {
        let row = sqlx::query("SELECT id, interview_id, scorer_version, composite, recommendation, report_json, created_at FROM reports WHERE interview_id = $1 ORDER BY created_at DESC, id DESC LIMIT 1")
            .bind(interview_id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref()
            .map(report_row)
            .transpose()?
            .ok_or(StoreError::NotFound("report"))
    }

    pub async fn report_count(&self, interview_id: &str) -> Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM reports WHERE interview_id = $1")
                .bind(interview_id)
                .fetch_one(&self.pool)
                .await?,
        )
    }

    // ---- scoring queue

    /// Claims the oldest queued job, or one whose claim is older than `lease_ms` (its worker
    /// died). Returns the interview id.
    pub async fn claim(&self, worker: &str, now: i64, lease_ms: i64) -> Result<Option<String>> {
        let lock = match self.backend {
            // Several workers on several machines skip each other's rows instead of waiting.
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            // SQLite serialises writers, so the single UPDATE is already atomic.
            Backend::Sqlite => "",
        };
        let sql = format!(
            "UPDATE scoring_queue SET state = 'claimed', claimed_by = $1, claimed_at = $2, attempts = attempts + 1 \
             WHERE interview_id = (SELECT interview_id FROM scoring_queue \
               WHERE state = 'queued' OR (state = 'claimed' AND claimed_at < $3) \
               ORDER BY enqueued_at, interview_id LIMIT 1{lock}) \
             AND (state = 'queued' OR (state = 'claimed' AND claimed_at < $3)) \
             RETURNING interview_id"
        );
        let id: Option<String> = sqlx::query_scalar(&sql)
            .bind(worker)
            .bind(now)
            .bind(now.saturating_sub(lease_ms))
            .fetch_optional(&self.pool)
            .await?;
        Ok(id)
    }

    /// Stores the report and marks the job done, only while `worker` still holds the claim:
    /// a worker whose lease expired (and whose job was re-claimed) stores nothing.
    pub async fn complete(
        &self,
        interview_id: &str,
        worker: &str,
        report: &viva_scoring::Report,
        report_json: &str,
        now: i64,
    ) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query("UPDATE scoring_queue SET state = 'done', finished_at = $1 WHERE interview_id = $2 AND claimed_by = $3 AND state = 'claimed'")
            .bind(now)
            .bind(interview_id)
            .bind(worker)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        let report_id = random_hex(8)?;
        sqlx::query("INSERT INTO reports (id, interview_id, scorer_version, composite, recommendation, report_json, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(&report_id)
            .bind(interview_id)
            .bind(&report.scorer_version)
            .bind(report.composite)
            .bind(report.decision.recommendation.as_str())
            .bind(report_json)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        // An interrupted interview keeps saying so once scored: the recruiter sees why it is short.
        sqlx::query(
            "UPDATE interviews SET state = 'scored' WHERE id = $1 AND state <> 'interrupted'",
        )
        .bind(interview_id)
        .execute(&mut *tx)
        .await?;
        let payload = serde_json::json!({
            "interview_id": interview_id,
            "report_id": report_id,
            "scorer_version": report.scorer_version,
            "composite": report.composite,
            "recommendation": report.decision.recommendation.as_str(),
            "report_url": format!("/v1/interviews/{interview_id}/report"),
        });
        webhooks::enqueue_event(&mut tx, "report.ready", &payload, now).await?;
        tx.commit().await?;
        Ok(true)
    }

    pub async fn fail(
        &self,
        interview_id: &str,
        worker: &str,
        error: &str,
        now: i64,
    ) -> Result<()> {
        sqlx::query("UPDATE scoring_queue SET state = 'failed', finished_at = $1, error = $2 WHERE interview_id = $3 AND claimed_by = $4")
            .bind(now)
            .bind(error)
            .bind(interview_id)
            .bind(worker)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Counts of queue rows by state.
    pub async fn queue_states(&self) -> Result<Vec<(String, i64)>> {
        let rows = sqlx::query(
            "SELECT state, COUNT(*) AS n FROM scoring_queue GROUP BY state ORDER BY state",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("state")?, r.try_get("n")?)))
            .collect()
    }

    /// Re-queues an interview for scoring (a new scorer version, a changed job). The old
    /// reports stay (each with its scorer version); the new one becomes the latest. Refused
    /// for an interview without a transcript (not finished, or erased).
    pub async fn requeue(&self, interview_id: &str, now: i64) -> Result<()> {
        self.interview(interview_id).await?;
        self.transcript_json(interview_id).await?;
        sqlx::query("INSERT INTO scoring_queue (interview_id, state, attempts, enqueued_at) VALUES ($1, 'queued', 0, $2) \
             ON CONFLICT (interview_id) DO UPDATE SET state = 'queued', claimed_by = NULL, claimed_at = NULL, finished_at = NULL, error = NULL, attempts = 0, enqueued_at = $2")
            .bind(interview_id)
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The queue row's state for one interview (`queued`, `claimed`, `done`, `failed`).
    pub async fn queue_state(&self, interview_id: &str) -> Result<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT state FROM scoring_queue WHERE interview_id = $1")
                .bind(interview_id)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// Every report of an interview, oldest first: (id, scorer version, created_at).
    pub async fn report_versions(&self, interview_id: &str) -> Result<Vec<(String, String, i64)>> {
        let rows = sqlx::query("SELECT id, scorer_version, created_at FROM reports WHERE interview_id = $1 ORDER BY created_at, id")
            .bind(interview_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("id")?,
                    r.try_get("scorer_version")?,
                    r.try_get("created_at")?,
                ))
            })
            .collect()
    }

    // ---- erasure (GDPR)

    /// Removes a candidate's recordings (the session folders: audio and the session's own
    /// transcript file), transcripts, turns, reports and contact data; keeps an audit line.
    /// The files go first, inside the transaction: if one cannot be removed nothing is
    /// committed and the erasure can be retried.
    pub async fn erase_candidate(&self, candidate_id: &str, actor: &str, now: i64) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        let sub = "SELECT id FROM interviews WHERE candidate_id = $1";
        let keys: Vec<String> = sqlx::query_scalar(&format!(
            "SELECT object_key FROM recordings WHERE interview_id IN ({sub}) ORDER BY object_key"
        ))
        .bind(candidate_id)
        .fetch_all(&mut *tx)
        .await?;
        if let Some(rec) = &self.recordings {
            for key in &keys {
                rec.remove_session(key).await?;
            }
        }
        for table in [
            "turns",
            "reports",
            "scoring_queue",
            "recordings",
            "live_sessions",
        ] {
            sqlx::query(&format!(
                "DELETE FROM {table} WHERE interview_id IN ({sub})"
            ))
            .bind(candidate_id)
            .execute(&mut *tx)
            .await?;
        }
        review::erase_review_rows(&mut tx, candidate_id).await?;
        sqlx::query("UPDATE interviews SET transcript_json = NULL, state = 'erased' WHERE candidate_id = $1")
            .bind(candidate_id)
            .execute(&mut *tx)
            .await?;
        let done = sqlx::query(
            "UPDATE candidates SET name = NULL, email = NULL, erased_at = $1 WHERE id = $2",
        )
        .bind(now)
        .bind(candidate_id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("candidate"));
        }
        let detail = format!(
            "audio ({} recording(s)), transcript and report removed",
            keys.len()
        );
        sqlx::query("INSERT INTO audit_events (id, at, actor, action, subject, detail) VALUES ($1, $2, $3, 'candidate.erased', $4, $5)")
            .bind(random_hex(12)?)
            .bind(now)
            .bind(actor)
            .bind(candidate_id)
            .bind(detail)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    // ---- API tokens

    /// Creates a recruiter API token; the token is returned once, only its hash is stored.
    pub async fn create_api_token(&self, name: &str, now: i64) -> Result<String> {
        let token = format!("viva_{}", random_hex(24)?);
        sqlx::query(
            "INSERT INTO api_tokens (id, name, token_hash, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(random_hex(8)?)
        .bind(name)
        .bind(hash_secret(&token))
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(token)
    }

    /// The token's name when it is valid.
    pub async fn check_api_token(&self, token: &str) -> Result<Option<String>> {
        Ok(sqlx::query_scalar(
            "SELECT name FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL",
        )
        .bind(hash_secret(token))
        .fetch_optional(&self.pool)
        .await?)
    }

    // ---- server secrets

    /// The deployment's secret called `name` (32 random bytes, hex), made on first use and kept
    /// in the database, so every process on this database (several `serve`s, `worker`) shares
    /// it and it survives restarts. Used to sign short-lived recording links.
    pub async fn server_secret(&self, name: &str) -> Result<String> {
        let fresh = random_hex(32)?;
        // Two processes may race on first use: the first insert wins, both read it back.
        sqlx::query(
            "INSERT INTO server_secrets (name, secret, created_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(&fresh)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(
            sqlx::query_scalar("SELECT secret FROM server_secrets WHERE name = $1")
                .bind(name)
                .fetch_one(&self.pool)
                .await?,
        )
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
        let job = viva_interview::JobConfig::from_toml_str(&toml)
            .map_err(|e| StoreError::Invalid(format!("stored job config: {e}")))?;
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
