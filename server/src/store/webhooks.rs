//! Webhook subscriptions and their delivery log (an outbox: events are written in the same
//! transaction as the change they announce, then delivered by a worker with retries).
//!
//! A delivery is claimed like a scoring job (a lease; `FOR UPDATE SKIP LOCKED` on
//! PostgreSQL), so several workers never send one delivery at once, and one that dies mid-send
//! loses its claim. Every attempt is logged (`webhook_attempts`) with the HTTP status or error.

use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use super::{random_hex, Backend, Result, Store, StoreError};

/// The events a webhook may subscribe to.
pub const EVENTS: &[&str] = &["interview.completed", "report.ready", "feedback.received"];
/// What a subscription without an event list receives.
pub const DEFAULT_EVENTS: &[&str] = &["interview.completed", "report.ready"];

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct WebhookRow {
    pub id: String,
    pub url: String,
    pub events: Vec<String>,
    /// `api` (created through `/v1/webhooks`) or `config` (from the configuration file).
    pub source: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AttemptRow {
    pub attempt: i64,
    pub at: i64,
    pub status: Option<i64>,
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DeliveryRow {
    pub id: String,
    pub webhook_id: String,
    pub event: String,
    /// `pending`, `delivered` or `failed` (gave up after the last attempt).
    pub state: String,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub delivered_at: Option<i64>,
    pub log: Vec<AttemptRow>,
}

/// What a worker needs to send one delivery.
#[derive(Debug, Clone)]
pub struct DeliveryJob {
    pub id: String,
    pub url: String,
    pub secret: String,
    pub event: String,
    pub payload: String,
    /// Attempts made before this one.
    pub attempts: i64,
}

/// How one attempt went.
#[derive(Debug, Clone, PartialEq)]
pub struct AttemptOutcome {
    /// The receiver's HTTP status, when it answered.
    pub status: Option<u16>,
    /// Why it did not count as delivered (a non-2xx status, a connection error); None: delivered.
    pub error: Option<String>,
    /// When to try again; None after a failure: give up.
    pub retry_at: Option<i64>,
}

fn webhook_row(r: &AnyRow) -> Result<WebhookRow> {
    let events: String = r.try_get("events")?;
    Ok(WebhookRow {
        id: r.try_get("id")?,
        url: r.try_get("url")?,
        events: events.split(',').map(str::to_string).collect(),
        source: r.try_get("source")?,
        created_at: r.try_get("created_at")?,
    })
}

/// Checks a subscription's events; returns them sorted, comma-joined.
fn events_column(events: &[String]) -> Result<String> {
    if events.is_empty() {
        return Err(StoreError::Invalid(
            "a webhook needs at least one event".into(),
        ));
    }
    let mut out: Vec<&str> = Vec::new();
    for e in events {
        let Some(known) = EVENTS.iter().find(|k| **k == e.as_str()) else {
            return Err(StoreError::Invalid(format!(
                "unknown event {e:?}; known: {}",
                EVENTS.join(", ")
            )));
        };
        if !out.contains(known) {
            out.push(known);
        }
    }
    out.sort_unstable();
    Ok(out.join(","))
}

/// Writes one delivery per live subscription to `event`, inside the caller's transaction.
pub(super) async fn enqueue_event(
    tx: &mut Transaction<'static, Any>,
    event: &str,
    data: &serde_json::Value,
    now: i64,
) -> Result<()> {
    let hooks: Vec<(String, String)> =
        sqlx::query("SELECT id, events FROM webhooks WHERE deleted_at IS NULL ORDER BY id")
            .fetch_all(&mut **tx)
            .await?
            .iter()
            .map(|r| Ok((r.try_get("id")?, r.try_get("events")?)))
            .collect::<Result<_>>()?;
    for (hook, events) in hooks {
        if !events.split(',').any(|e| e == event) {
            continue;
        }
        let id = random_hex(12)?;
        // The body that is signed and sent, fixed now: retries send the same bytes.
        let payload = serde_json::to_string(&serde_json::json!({
            "id": id,
            "event": event,
            "created_at": now,
            "data": data,
        }))?;
        sqlx::query("INSERT INTO webhook_deliveries (id, webhook_id, event, payload, state, attempts, next_attempt_at, created_at) VALUES ($1, $2, $3, $4, 'pending', 0, $5, $5)")
            .bind(&id)
            .bind(&hook)
            .bind(event)
            .bind(payload)
            .bind(now)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

impl Store {
    /// Subscribes `url` to `events`, signing with `secret`.
    pub async fn create_webhook(
        &self,
        url: &str,
        events: &[String],
        secret: &str,
        now: i64,
    ) -> Result<WebhookRow> {
        let id = random_hex(8)?;
        self.insert_webhook(&id, url, events, secret, "api", now)
            .await?;
        self.webhook(&id).await
    }

    async fn insert_webhook(
        &self,
        id: &str,
        url: &str,
        events: &[String],
        secret: &str,
        source: &str,
        now: i64,
    ) -> Result<()> {
        if secret.is_empty() {
            return Err(StoreError::Invalid(
                "a webhook needs a signing secret".into(),
            ));
        }
        sqlx::query("INSERT INTO webhooks (id, url, events, secret, source, created_at) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (id) DO UPDATE SET url = $2, events = $3, secret = $4, deleted_at = NULL")
            .bind(id)
            .bind(url)
            .bind(events_column(events)?)
            .bind(secret)
            .bind(source)
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Makes the configuration file's webhooks the live `config` subscriptions: each URL gets a
    /// stable id, URLs no longer configured are retired (their delivery log stays).
    pub async fn sync_config_webhooks(
        &self,
        urls: &[String],
        events: &[String],
        secret: &str,
        now: i64,
    ) -> Result<Vec<WebhookRow>> {
        let mut keep = Vec::new();
        for url in urls {
            let id = format!("cfg-{}", &super::hash_secret(url)[..12]);
            self.insert_webhook(&id, url, events, secret, "config", now)
                .await?;
            keep.push(id);
        }
        for hook in self.list_webhooks().await? {
            if hook.source == "config" && !keep.contains(&hook.id) {
                self.delete_webhook(&hook.id, now).await?;
            }
        }
        let mut out = Vec::new();
        for id in keep {
            out.push(self.webhook(&id).await?);
        }
        Ok(out)
    }

    pub async fn webhook(&self, id: &str) -> Result<WebhookRow> {
        let row = sqlx::query("SELECT id, url, events, source, created_at FROM webhooks WHERE id = $1 AND deleted_at IS NULL")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref()
            .map(webhook_row)
            .transpose()?
            .ok_or(StoreError::NotFound("webhook"))
    }

    pub async fn list_webhooks(&self) -> Result<Vec<WebhookRow>> {
        let rows = sqlx::query("SELECT id, url, events, source, created_at FROM webhooks WHERE deleted_at IS NULL ORDER BY created_at, id")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(webhook_row).collect()
    }

    /// Unsubscribes; pending deliveries to it are dropped, the log stays.
    pub async fn delete_webhook(&self, id: &str, now: i64) -> Result<()> {
        let done =
            sqlx::query("UPDATE webhooks SET deleted_at = $1 WHERE id = $2 AND deleted_at IS NULL")
                .bind(now)
                .bind(id)
                .execute(&self.pool)
                .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("webhook"));
        }
        sqlx::query("UPDATE webhook_deliveries SET state = 'failed', last_error = 'webhook deleted' WHERE webhook_id = $1 AND state = 'pending'")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Claims the oldest due delivery (or one whose claim is older than `lease_ms`).
    pub async fn claim_delivery(
        &self,
        worker: &str,
        now: i64,
        lease_ms: i64,
    ) -> Result<Option<DeliveryJob>> {
        let lock = match self.backend {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let due = "(state = 'pending' AND next_attempt_at <= $2 AND (claimed_at IS NULL OR claimed_at < $3))";
        let sql = format!(
            "UPDATE webhook_deliveries SET claimed_by = $1, claimed_at = $2 \
             WHERE id = (SELECT id FROM webhook_deliveries WHERE {due} \
               ORDER BY next_attempt_at, id LIMIT 1{lock}) AND {due} \
             RETURNING id"
        );
        let id: Option<String> = sqlx::query_scalar(&sql)
            .bind(worker)
            .bind(now)
            .bind(now.saturating_sub(lease_ms))
            .fetch_optional(&self.pool)
            .await?;
        let Some(id) = id else {
            return Ok(None);
        };
        let r = sqlx::query("SELECT d.id, w.url, w.secret, d.event, d.payload, d.attempts FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id WHERE d.id = $1")
            .bind(&id)
            .fetch_one(&self.pool)
            .await?;
        Ok(Some(DeliveryJob {
            id: r.try_get("id")?,
            url: r.try_get("url")?,
            secret: r.try_get("secret")?,
            event: r.try_get("event")?,
            payload: r.try_get("payload")?,
            attempts: r.try_get("attempts")?,
        }))
    }

    /// Logs one attempt and settles the delivery: delivered, retried at `retry_at`, or failed
    /// for good. Only while `worker` holds the claim.
    pub async fn record_attempt(
        &self,
        job: &DeliveryJob,
        worker: &str,
        now: i64,
        outcome: &AttemptOutcome,
    ) -> Result<bool> {
        let (status, error, retry_at) =
            (outcome.status, outcome.error.as_deref(), outcome.retry_at);
        let delivered = error.is_none();
        let attempt = job.attempts + 1;
        let state = match (delivered, retry_at) {
            (true, _) => "delivered",
            (false, Some(_)) => "pending",
            (false, None) => "failed",
        };
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query("UPDATE webhook_deliveries SET state = $1, attempts = $2, next_attempt_at = $3, last_status = $4, last_error = $5, delivered_at = $6, claimed_by = NULL, claimed_at = NULL WHERE id = $7 AND claimed_by = $8 AND state = 'pending'")
            .bind(state)
            .bind(attempt)
            .bind(retry_at.unwrap_or(now))
            .bind(status.map(i64::from))
            .bind(error.map(str::to_string))
            .bind(delivered.then_some(now))
            .bind(&job.id)
            .bind(worker)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        sqlx::query("INSERT INTO webhook_attempts (delivery_id, attempt, at, status, error) VALUES ($1, $2, $3, $4, $5)")
            .bind(&job.id)
            .bind(attempt)
            .bind(now)
            .bind(status.map(i64::from))
            .bind(error.map(str::to_string))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// A webhook's delivery log, newest first (at most `limit`), each with its attempts.
    pub async fn deliveries(&self, webhook_id: &str, limit: i64) -> Result<Vec<DeliveryRow>> {
        let rows = sqlx::query("SELECT id, webhook_id, event, state, attempts, next_attempt_at, last_status, last_error, created_at, delivered_at FROM webhook_deliveries WHERE webhook_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2")
            .bind(webhook_id)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let id: String = r.try_get("id")?;
            let log = sqlx::query("SELECT attempt, at, status, error FROM webhook_attempts WHERE delivery_id = $1 ORDER BY attempt")
                .bind(&id)
                .fetch_all(&self.pool)
                .await?
                .iter()
                .map(|a| {
                    Ok(AttemptRow {
                        attempt: a.try_get("attempt")?,
                        at: a.try_get("at")?,
                        status: a.try_get("status")?,
                        error: a.try_get("error")?,
                    })
                })
                .collect::<Result<_>>()?;
            out.push(DeliveryRow {
                id,
                webhook_id: r.try_get("webhook_id")?,
                event: r.try_get("event")?,
                state: r.try_get("state")?,
                attempts: r.try_get("attempts")?,
                next_attempt_at: r.try_get("next_attempt_at")?,
                last_status: r.try_get("last_status")?,
                last_error: r.try_get("last_error")?,
                created_at: r.try_get("created_at")?,
                delivered_at: r.try_get("delivered_at")?,
                log,
            });
        }
        Ok(out)
    }
}
