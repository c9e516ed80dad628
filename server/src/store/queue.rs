//! The scoring queue: claim, complete, fail, requeue.

use super::*;

impl Store {
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
}
