//! Interviews and their turns, recordings and reports.

use super::*;

impl Store {
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
}
