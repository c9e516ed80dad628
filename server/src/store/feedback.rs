//! The candidates' rating of their interview experience (1–5 and an optional comment), one per
//! interview. Kept apart from transcripts and reports: the scorer never reads it, and a
//! recruiter sees it only per job (average, distribution, comments).

use serde::Serialize;
use sqlx::Row;

use super::{webhooks, Result, Store, StoreError};

/// Longest comment kept (characters).
pub const MAX_COMMENT_CHARS: usize = 2_000;

/// A job's ratings in one view.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct JobFeedback {
    pub job_id: String,
    pub count: i64,
    /// Mean rating, one decimal (None without ratings).
    pub average: Option<f64>,
    /// How many interviews were rated 1, 2, 3, 4 and 5.
    pub distribution: [i64; 5],
    /// The newest ratings that came with a comment (at most 100).
    pub comments: Vec<FeedbackRow>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FeedbackRow {
    pub interview_id: String,
    pub rating: i64,
    pub comment: Option<String>,
    /// `web` or `phone`.
    pub channel: String,
    pub created_at: i64,
}

impl Store {
    /// The interview a live session records, when it was started from an invite (who may rate
    /// it): what a phone call's keypad rating is stored under.
    pub async fn invited_interview_of_session(&self, session_id: &str) -> Result<Option<String>> {
        Ok(sqlx::query_scalar(
            "SELECT r.interview_id FROM recordings r JOIN interviews i ON i.id = r.interview_id \
             WHERE r.session_id = $1 AND i.invite_id IS NOT NULL",
        )
        .bind(session_id)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Stores (or replaces: the last rating counts) the candidate's rating of an interview and
    /// announces it (`feedback.received`) in the same transaction.
    pub async fn save_feedback(
        &self,
        interview_id: &str,
        rating: u8,
        comment: Option<&str>,
        channel: &str,
        now: i64,
    ) -> Result<FeedbackRow> {
        if !(1..=5).contains(&rating) {
            return Err(StoreError::Invalid(format!(
                "a rating is 1 to 5, not {rating}"
            )));
        }
        let comment = comment
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(|c| c.chars().take(MAX_COMMENT_CHARS).collect::<String>());
        let iv = self.interview(interview_id).await?;
        if iv.state == "erased" {
            return Err(StoreError::NotFound("interview"));
        }
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO interview_feedback (interview_id, job_id, rating, comment, channel, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6) \
             ON CONFLICT (interview_id) DO UPDATE SET rating = excluded.rating, comment = excluded.comment, \
             channel = excluded.channel, updated_at = excluded.updated_at",
        )
        .bind(interview_id)
        .bind(&iv.job_id)
        .bind(i64::from(rating))
        .bind(comment.clone())
        .bind(channel)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let payload = serde_json::json!({
            "interview_id": interview_id,
            "job_id": iv.job_id,
            "rating": rating,
            "comment": comment,
            "channel": channel,
        });
        webhooks::enqueue_event(&mut tx, "feedback.received", &payload, now).await?;
        tx.commit().await?;
        Ok(FeedbackRow {
            interview_id: interview_id.to_string(),
            rating: i64::from(rating),
            comment,
            channel: channel.to_string(),
            created_at: now,
        })
    }

    /// A job's ratings: count, average, distribution and the newest comments.
    pub async fn job_feedback(&self, job_id: &str) -> Result<JobFeedback> {
        self.job(job_id).await?;
        let rows = sqlx::query(
            "SELECT interview_id, rating, comment, channel, created_at FROM interview_feedback \
             WHERE job_id = $1 ORDER BY created_at DESC, interview_id",
        )
        .bind(job_id)
        .fetch_all(&self.pool)
        .await?;
        let mut distribution = [0i64; 5];
        let mut comments = Vec::new();
        let mut sum = 0i64;
        for r in &rows {
            let rating: i64 = r.try_get("rating")?;
            if let Some(slot) = usize::try_from(rating - 1)
                .ok()
                .and_then(|i| distribution.get_mut(i))
            {
                *slot += 1;
            }
            sum += rating;
            let comment: Option<String> = r.try_get("comment")?;
            if comment.is_some() && comments.len() < 100 {
                comments.push(FeedbackRow {
                    interview_id: r.try_get("interview_id")?,
                    rating,
                    comment,
                    channel: r.try_get("channel")?,
                    created_at: r.try_get("created_at")?,
                });
            }
        }
        let count = rows.len() as i64;
        Ok(JobFeedback {
            job_id: job_id.to_string(),
            count,
            average: (count > 0).then(|| (sum as f64 / count as f64 * 10.0).round() / 10.0),
            distribution,
            comments,
        })
    }
}
