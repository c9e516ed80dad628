//! Human review of a report, stored: recommendation overrides (who, when, from → to, why) and
//! identity reveals (who, when, why), each with an audit line written in the same transaction.
//!
//! Both tables are append-only. The audit line keeps who and when; its free-text reason is
//! scrubbed, and both tables' rows deleted, when the candidate is erased
//! ([`Store::erase_candidate`] calls [`erase_review_rows`]).

use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use super::{hash_secret, random_hex, Result, Store, StoreError};

/// The longest reason accepted (a paragraph; the report shows it in full).
pub const MAX_REASON_CHARS: usize = 2_000;

/// Audit actions written here.
pub const OVERRIDE_ACTION: &str = "recommendation.overridden";
pub const REVEAL_ACTION: &str = "identity.revealed";

/// Who did it: a recruiter API token (its id and name).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reviewer {
    pub token_id: String,
    pub name: String,
}

impl Reviewer {
    /// How the audit log and the report name the reviewer.
    pub fn actor(&self) -> String {
        format!("api:{}", self.name)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OverrideRow {
    pub id: String,
    pub interview_id: String,
    /// The report that was on screen when the override was made.
    pub report_id: String,
    pub by_token_id: String,
    pub by: String,
    pub at: i64,
    pub from: String,
    pub to: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RevealRow {
    pub id: String,
    pub interview_id: String,
    pub candidate_id: String,
    pub by_token_id: String,
    pub by: String,
    pub at: i64,
    pub reason: String,
}

/// The candidate's identity as stored (both empty once erased).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CandidateIdentity {
    pub id: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub erased: bool,
}

fn override_row(r: &AnyRow) -> Result<OverrideRow> {
    Ok(OverrideRow {
        id: r.try_get("id")?,
        interview_id: r.try_get("interview_id")?,
        report_id: r.try_get("report_id")?,
        by_token_id: r.try_get("actor_token_id")?,
        by: r.try_get("actor")?,
        at: r.try_get("at")?,
        from: r.try_get("from_recommendation")?,
        to: r.try_get("to_recommendation")?,
        reason: r.try_get("reason")?,
    })
}

fn reveal_row(r: &AnyRow) -> Result<RevealRow> {
    Ok(RevealRow {
        id: r.try_get("id")?,
        interview_id: r.try_get("interview_id")?,
        candidate_id: r.try_get("candidate_id")?,
        by_token_id: r.try_get("actor_token_id")?,
        by: r.try_get("actor")?,
        at: r.try_get("at")?,
        reason: r.try_get("reason")?,
    })
}

/// A reason: trimmed, not empty, not longer than [`MAX_REASON_CHARS`].
pub fn check_reason(reason: &str) -> Result<String> {
    let r = reason.trim();
    if r.is_empty() {
        return Err(StoreError::Invalid(
            "a reason is required (it is shown in the report and kept in the audit log)".into(),
        ));
    }
    if r.chars().count() > MAX_REASON_CHARS {
        return Err(StoreError::Invalid(format!(
            "the reason is longer than {MAX_REASON_CHARS} characters"
        )));
    }
    Ok(r.to_string())
}

const OVERRIDE_COLUMNS: &str = "id, interview_id, report_id, actor_token_id, actor, at, from_recommendation, to_recommendation, reason";
const REVEAL_COLUMNS: &str = "id, interview_id, candidate_id, actor_token_id, actor, at, reason";

impl Store {
    /// The recruiter token's id and name when it is valid.
    pub async fn api_token_reviewer(&self, token: &str) -> Result<Option<Reviewer>> {
        let row = sqlx::query(
            "SELECT id, name FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL",
        )
        .bind(hash_secret(token))
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| -> Result<Reviewer> {
            Ok(Reviewer {
                token_id: r.try_get("id")?,
                name: r.try_get("name")?,
            })
        })
        .transpose()
    }

    pub async fn candidate_identity(&self, candidate_id: &str) -> Result<CandidateIdentity> {
        let row = sqlx::query("SELECT id, name, email, erased_at FROM candidates WHERE id = $1")
            .bind(candidate_id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound("candidate"))?;
        Ok(CandidateIdentity {
            id: row.try_get("id")?,
            name: row.try_get("name")?,
            email: row.try_get("email")?,
            erased: row.try_get::<Option<i64>, _>("erased_at")?.is_some(),
        })
    }

    /// Overrides of an interview's recommendation, oldest first.
    pub async fn overrides(&self, interview_id: &str) -> Result<Vec<OverrideRow>> {
        let sql = format!(
            "SELECT {OVERRIDE_COLUMNS} FROM review_overrides WHERE interview_id = $1 ORDER BY at, id"
        );
        let rows = sqlx::query(&sql)
            .bind(interview_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(override_row).collect()
    }

    /// Identity reveals of an interview's candidate, oldest first.
    pub async fn reveals(&self, interview_id: &str) -> Result<Vec<RevealRow>> {
        let sql = format!(
            "SELECT {REVEAL_COLUMNS} FROM identity_reveals WHERE interview_id = $1 ORDER BY at, id"
        );
        let rows = sqlx::query(&sql)
            .bind(interview_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(reveal_row).collect()
    }

    /// Records a human override of the latest report's recommendation, with its audit line.
    /// `from` is the recommendation in force (the last override's, else the report's); an
    /// override that changes nothing is refused. `to` is checked by the caller (one of the
    /// report's recommendation names).
    pub async fn add_override(
        &self,
        interview_id: &str,
        by: &Reviewer,
        to: &str,
        reason: &str,
        now: i64,
    ) -> Result<OverrideRow> {
        let reason = check_reason(reason)?;
        self.interview(interview_id).await?;
        let report = self.latest_report(interview_id).await?;
        let mut tx = self.pool.begin().await?;
        let last: Option<String> = sqlx::query_scalar(
            "SELECT to_recommendation FROM review_overrides WHERE interview_id = $1 ORDER BY at DESC, id DESC LIMIT 1",
        )
        .bind(interview_id)
        .fetch_optional(&mut *tx)
        .await?;
        let from = last.unwrap_or(report.recommendation);
        if from == to {
            return Err(StoreError::Invalid(format!(
                "the recommendation is already {to}; an override must change it"
            )));
        }
        let row = OverrideRow {
            id: random_hex(8)?,
            interview_id: interview_id.to_string(),
            report_id: report.id,
            by_token_id: by.token_id.clone(),
            by: by.name.clone(),
            at: now,
            from,
            to: to.to_string(),
            reason,
        };
        sqlx::query("INSERT INTO review_overrides (id, interview_id, report_id, actor_token_id, actor, at, from_recommendation, to_recommendation, reason) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
            .bind(&row.id)
            .bind(&row.interview_id)
            .bind(&row.report_id)
            .bind(&row.by_token_id)
            .bind(&row.by)
            .bind(row.at)
            .bind(&row.from)
            .bind(&row.to)
            .bind(&row.reason)
            .execute(&mut *tx)
            .await?;
        let detail = format!(
            "override {}: {} -> {} (token {}): {}",
            row.id, row.from, row.to, row.by_token_id, row.reason
        );
        audit_in(
            &mut tx,
            now,
            &by.actor(),
            OVERRIDE_ACTION,
            interview_id,
            &detail,
        )
        .await?;
        tx.commit().await?;
        Ok(row)
    }

    /// Records that `by` revealed the interview's candidate's identity, with its audit line,
    /// and returns the identity. An erased candidate has nothing to reveal (not found).
    pub async fn add_reveal(
        &self,
        interview_id: &str,
        by: &Reviewer,
        reason: &str,
        now: i64,
    ) -> Result<(RevealRow, CandidateIdentity)> {
        let reason = check_reason(reason)?;
        let interview = self.interview(interview_id).await?;
        let identity = self.candidate_identity(&interview.candidate_id).await?;
        if identity.erased {
            return Err(StoreError::NotFound("candidate"));
        }
        let row = RevealRow {
            id: random_hex(8)?,
            interview_id: interview_id.to_string(),
            candidate_id: interview.candidate_id.clone(),
            by_token_id: by.token_id.clone(),
            by: by.name.clone(),
            at: now,
            reason,
        };
        let mut tx = self.pool.begin().await?;
        sqlx::query("INSERT INTO identity_reveals (id, interview_id, candidate_id, actor_token_id, actor, at, reason) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(&row.id)
            .bind(&row.interview_id)
            .bind(&row.candidate_id)
            .bind(&row.by_token_id)
            .bind(&row.by)
            .bind(row.at)
            .bind(&row.reason)
            .execute(&mut *tx)
            .await?;
        let detail = format!(
            "reveal {} of candidate {} (token {}): {}",
            row.id, row.candidate_id, row.by_token_id, row.reason
        );
        audit_in(
            &mut tx,
            now,
            &by.actor(),
            REVEAL_ACTION,
            interview_id,
            &detail,
        )
        .await?;
        tx.commit().await?;
        Ok((row, identity))
    }

    /// The audit lines of `subject`: (at, actor, action, detail), oldest first.
    pub async fn audit_events(&self, subject: &str) -> Result<Vec<(i64, String, String, String)>> {
        let rows = sqlx::query(
            "SELECT at, actor, action, detail FROM audit_events WHERE subject = $1 ORDER BY at, id",
        )
        .bind(subject)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("at")?,
                    r.try_get("actor")?,
                    r.try_get("action")?,
                    r.try_get("detail")?,
                ))
            })
            .collect()
    }
}

async fn audit_in(
    tx: &mut Transaction<'_, Any>,
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
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Part of erasing a candidate: deletes the overrides and reveals of their interviews and
/// scrubs the free-text reasons from those audit lines (who, when and what stay).
pub(super) async fn erase_review_rows(
    tx: &mut Transaction<'_, Any>,
    candidate_id: &str,
) -> Result<()> {
    let sub = "SELECT id FROM interviews WHERE candidate_id = $1";
    for table in ["review_overrides", "identity_reveals"] {
        sqlx::query(&format!(
            "DELETE FROM {table} WHERE interview_id IN ({sub})"
        ))
        .bind(candidate_id)
        .execute(&mut **tx)
        .await?;
    }
    sqlx::query(
        "UPDATE audit_events SET detail = $1 WHERE action IN ($2, $3) \
         AND subject IN (SELECT id FROM interviews WHERE candidate_id = $4)",
    )
    .bind("reason erased with the candidate")
    .bind(OVERRIDE_ACTION)
    .bind(REVEAL_ACTION)
    .bind(candidate_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
