//! `/v1/webhooks`: subscribe a receiver to `interview.completed` / `report.ready`, list,
//! unsubscribe, and read the delivery log (every attempt with its HTTP status or error).
//! Deliveries are signed with the subscription's secret (see `docs/webhooks.md`).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::{json, Value};

use super::{check_id, ApiError, ApiJson, ApiResult, Principal};
use crate::store::{now_ms, random_hex, Store};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct WebhookBody {
    url: String,
    /// Default: every event.
    #[serde(default)]
    events: Option<Vec<String>>,
    /// Signing secret (at least 16 characters); generated and returned once when absent.
    #[serde(default)]
    secret: Option<String>,
}

pub(super) async fn create_webhook(
    State(store): State<Store>,
    Extension(who): Extension<Principal>,
    ApiJson(body): ApiJson<WebhookBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    crate::webhooks::check_url(&body.url).map_err(|e| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_url",
            e.to_string(),
        )
    })?;
    let secret = match body.secret {
        Some(s) if s.len() >= 16 => s,
        Some(_) => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid",
                "secret must be at least 16 characters",
            ))
        }
        None => format!("whsec_{}", random_hex(24)?),
    };
    // Without a list: the interview events (a candidate's rating is opted into by name).
    let events = body.events.unwrap_or_else(|| {
        crate::store::DEFAULT_EVENTS
            .iter()
            .map(|e| e.to_string())
            .collect()
    });
    let now = now_ms();
    let hook = store
        .create_webhook(&body.url, &events, &secret, now)
        .await?;
    store
        .audit(now, &who.actor(), "webhook.created", &hook.id, &hook.url)
        .await?;
    // The secret is shown once here; listings never include it.
    Ok((
        StatusCode::CREATED,
        Json(json!({"webhook": hook, "secret": secret})),
    ))
}

pub(super) async fn list_webhooks(State(store): State<Store>) -> ApiResult<Json<Value>> {
    Ok(Json(json!({"webhooks": store.list_webhooks().await?})))
}

pub(super) async fn delete_webhook(
    State(store): State<Store>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    check_id(&id)?;
    let now = now_ms();
    store.delete_webhook(&id, now).await?;
    store
        .audit(now, &who.actor(), "webhook.deleted", &id, "")
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
pub(super) struct DeliveryFilter {
    limit: Option<i64>,
}

pub(super) async fn list_deliveries(
    State(store): State<Store>,
    Path(id): Path<String>,
    Query(f): Query<DeliveryFilter>,
) -> ApiResult<Json<Value>> {
    check_id(&id)?;
    store.webhook(&id).await?;
    let limit = f.limit.unwrap_or(50).clamp(1, 500);
    Ok(Json(
        json!({"deliveries": store.deliveries(&id, limit).await?}),
    ))
}
