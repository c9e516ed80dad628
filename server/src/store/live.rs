//! Live sessions' write-ahead state: while an interview runs, its journal (the events the
//! dialogue manager handled), its transcript so far and its clock are kept here, row per
//! session, so a crash, a restart or a shutdown loses at most the unfinished turn. The row goes
//! when the interview is filed.

use sqlx::Row;

use super::{Result, Store, StoreError};
use crate::session::journal::Snapshot;

/// A live session's row.
#[derive(Debug, Clone)]
pub struct LiveRow {
    pub session_id: String,
    pub interview_id: String,
    pub token_hash: String,
    pub seq: i64,
    pub clock_ms: i64,
    pub events_json: String,
    pub transcript_json: String,
    /// Paused on purpose by a shutdown (else: its process died).
    pub paused: bool,
    pub updated_at: i64,
}

fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

impl Store {
    /// Writes a session's state; an older snapshot never replaces a newer one.
    pub async fn save_live(&self, s: &Snapshot, now: i64) -> Result<()> {
        sqlx::query(
            "INSERT INTO live_sessions (session_id, interview_id, token_hash, seq, clock_ms, events_json, transcript_json, paused, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8, $8) \
             ON CONFLICT (session_id) DO UPDATE SET seq = excluded.seq, clock_ms = excluded.clock_ms, \
             events_json = excluded.events_json, transcript_json = excluded.transcript_json, \
             updated_at = excluded.updated_at \
             WHERE live_sessions.seq < excluded.seq",
        )
        .bind(&s.key.session_id)
        .bind(&s.key.interview_id)
        .bind(&s.key.token_hash)
        .bind(to_i64(s.seq))
        .bind(to_i64(s.clock_ms))
        .bind(&s.events_json)
        .bind(&s.transcript_json)
        .bind(now)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Marks a session as paused by a shutdown (its resume window starts now).
    pub async fn pause_live(&self, session_id: &str, now: i64) -> Result<()> {
        sqlx::query("UPDATE live_sessions SET paused = 1, updated_at = $1 WHERE session_id = $2")
            .bind(now)
            .bind(session_id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Every live session row (what a starting server may restore).
    pub async fn live_sessions(&self) -> Result<Vec<LiveRow>> {
        let rows = sqlx::query(
            "SELECT session_id, interview_id, token_hash, seq, clock_ms, events_json, transcript_json, paused, updated_at \
             FROM live_sessions ORDER BY created_at, session_id",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(LiveRow {
                    session_id: r.try_get("session_id")?,
                    interview_id: r.try_get("interview_id")?,
                    token_hash: r.try_get("token_hash")?,
                    seq: r.try_get("seq")?,
                    clock_ms: r.try_get("clock_ms")?,
                    events_json: r.try_get("events_json")?,
                    transcript_json: r.try_get("transcript_json")?,
                    paused: r.try_get::<i64, _>("paused")? != 0,
                    updated_at: r.try_get("updated_at")?,
                })
            })
            .collect::<std::result::Result<_, sqlx::Error>>()
            .map_err(StoreError::from)
    }

    pub async fn delete_live(&self, session_id: &str) -> Result<()> {
        sqlx::query("DELETE FROM live_sessions WHERE session_id = $1")
            .bind(session_id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Removes what creating a session for `interview_id` left when nobody ever joined it: the
    /// interview (still unstarted: no transcript), its recording row, a demo session's
    /// anonymous candidate; an invite's link works again.
    pub async fn discard_unjoined(&self, interview_id: &str) -> Result<()> {
        let mut tx = self.pool().begin().await?;
        let row = sqlx::query(
            "SELECT candidate_id, invite_id FROM interviews WHERE id = $1 AND state IN ('created', 'in_progress') AND transcript_json IS NULL",
        )
        .bind(interview_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Ok(());
        };
        let candidate: String = row.try_get("candidate_id")?;
        let invite: Option<String> = row.try_get("invite_id")?;
        for sql in [
            "DELETE FROM live_sessions WHERE interview_id = $1",
            "DELETE FROM recordings WHERE interview_id = $1",
            "DELETE FROM interviews WHERE id = $1",
        ] {
            sqlx::query(sql)
                .bind(interview_id)
                .execute(&mut *tx)
                .await?;
        }
        match invite {
            Some(invite) => {
                sqlx::query("UPDATE invites SET used_at = NULL WHERE id = $1")
                    .bind(invite)
                    .execute(&mut *tx)
                    .await?;
            }
            None => {
                // A demo session's candidate: anonymous, nothing else refers to it.
                sqlx::query(
                    "DELETE FROM candidates WHERE id = $1 AND name IS NULL AND email IS NULL \
                     AND NOT EXISTS (SELECT 1 FROM interviews WHERE candidate_id = $1) \
                     AND NOT EXISTS (SELECT 1 FROM invites WHERE candidate_id = $1)",
                )
                .bind(candidate)
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }
}
