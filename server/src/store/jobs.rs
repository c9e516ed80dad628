//! Jobs (each update a new version) and candidates with their invites.

use super::*;

impl Store {
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

    /// Gives the invite's candidate these adjustments (none: cleared).
    pub async fn set_accommodations(
        &self,
        invite_id: &str,
        a: &viva_interview::job::Accommodations,
    ) -> Result<()> {
        let json = if a.is_none() {
            None
        } else {
            Some(serde_json::to_string(a).map_err(|e| StoreError::Invalid(e.to_string()))?)
        };
        sqlx::query("UPDATE invites SET accommodations_json = $1 WHERE id = $2")
            .bind(json)
            .bind(invite_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The accommodations of the invite an interview was started from.
    pub async fn interview_accommodations(
        &self,
        interview_id: &str,
    ) -> Result<Option<viva_interview::job::Accommodations>> {
        let sql = format!("SELECT {INVITE_COLUMNS} FROM invites WHERE id = (SELECT invite_id FROM interviews WHERE id = $1)");
        let row = sqlx::query(&sql)
            .bind(interview_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row
            .as_ref()
            .map(invite_row)
            .transpose()?
            .and_then(|i| i.accommodations))
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
}
