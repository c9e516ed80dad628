//! Erasure (GDPR), API tokens and server secrets.

use super::*;

impl Store {
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
            "interview_feedback",
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
