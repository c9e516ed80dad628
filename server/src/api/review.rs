//! Human review through the API: the report shown name-blind (the candidate as an id, their
//! name masked in every quote) until a recruiter reveals the identity, with every override of
//! the recommendation shown with who, when and why.
//!
//! - `GET /v1/interviews/{id}/report` (json, md, html): the latest report as the review shows it.
//!   JSON is the scorer's report (name-masked while name-blind) plus a `review` object.
//! - `GET /v1/interviews/{id}/review`: the review alone (identity, recommendation in force,
//!   overrides, reveals).
//! - `POST /v1/interviews/{id}/overrides` `{recommendation, reason}`: a human override.
//! - `POST /v1/interviews/{id}/reveal` `{reason}`: shows the identity, audit-logged.
//!
//! All four are recruiter routes (an invite token gets 403). "Who" is the recruiter API token
//! (its name and id); a reason is required for both writes (400 without one).

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use viva_scoring::review::{
    self, parse_recommendation, rfc3339_from_ms, Candidate, HumanOverride, IdentityMode,
    RevealEvent, Review,
};

use super::{check_id, ApiError, ApiJson, ApiResult, ReportQuery};
use crate::store::review::{OverrideRow, RevealRow, Reviewer};
use crate::store::{now_ms, Store, StoreError};

/// The recruiter behind the request (the auth layer has already accepted the token).
async fn reviewer(store: &Store, headers: &HeaderMap) -> ApiResult<Reviewer> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .unwrap_or_default();
    store.api_token_reviewer(token).await?.ok_or_else(|| {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "invalid or revoked token",
        )
    })
}

fn bad_request(code: &'static str, message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, code, message)
}

/// The reason field: present, not blank, not too long (400 otherwise).
fn reason(given: Option<&str>) -> ApiResult<String> {
    match given.map(str::trim) {
        None | Some("") => Err(bad_request(
            "missing_reason",
            "`reason` is required: say why (it is shown in the report and kept in the audit log)",
        )),
        Some(r) => crate::store::review::check_reason(r)
            .map_err(|e| bad_request("bad_reason", e.to_string())),
    }
}

fn who(by: &str, token_id: &str) -> String {
    format!("{by} (token {token_id})")
}

/// The stored review of one interview's report, as the scoring crate's [`Review`].
pub(super) struct Loaded {
    pub report: viva_scoring::Report,
    pub review: Review,
    pub overrides: Vec<OverrideRow>,
    reveals: Vec<RevealRow>,
}

pub(super) async fn load(store: &Store, id: &str) -> ApiResult<Loaded> {
    let interview = store.interview(id).await?;
    let row = store.latest_report(id).await?;
    let report: viva_scoring::Report = serde_json::from_str(&row.report_json)
        .map_err(|e| StoreError::Invalid(format!("stored report: {e}")))?;
    let identity = store.candidate_identity(&interview.candidate_id).await?;
    let overrides = store.overrides(id).await?;
    let reveals = store.reveals(id).await?;
    let mut review = Review::new(
        Some(Candidate {
            id: identity.id,
            name: identity.name.unwrap_or_default(),
            email: identity.email,
        }),
        IdentityMode::NameBlind,
    );
    for r in &reveals {
        review.reveals.push(RevealEvent {
            candidate_id: r.candidate_id.clone(),
            by: who(&r.by, &r.by_token_id),
            at: rfc3339_from_ms(r.at),
            reason: r.reason.clone(),
        });
    }
    for o in &overrides {
        let (Some(from), Some(to)) = (parse_recommendation(&o.from), parse_recommendation(&o.to))
        else {
            return Err(StoreError::Invalid(format!(
                "stored override {} has an unknown recommendation",
                o.id
            ))
            .into());
        };
        review.overrides.push(HumanOverride {
            by: who(&o.by, &o.by_token_id),
            at: rfc3339_from_ms(o.at),
            from,
            to,
            why: o.reason.clone(),
        });
    }
    Ok(Loaded {
        report,
        review,
        overrides,
        reveals,
    })
}

fn override_json(o: &OverrideRow) -> Value {
    json!({
        "id": o.id,
        "report_id": o.report_id,
        "by": o.by,
        "by_token_id": o.by_token_id,
        "at": o.at,
        "at_utc": rfc3339_from_ms(o.at),
        "from": o.from,
        "to": o.to,
        "reason": o.reason,
    })
}

fn reveal_json(r: &RevealRow) -> Value {
    json!({
        "id": r.id,
        "candidate_id": r.candidate_id,
        "by": r.by,
        "by_token_id": r.by_token_id,
        "at": r.at,
        "at_utc": rfc3339_from_ms(r.at),
        "reason": r.reason,
    })
}

/// The `review` object: identity as shown, the recommendation in force, both logs.
fn review_json(l: &Loaded) -> Value {
    let revealed = l.review.revealed();
    let candidate = l.review.candidate.as_ref();
    json!({
        "identity_mode": "name_blind",
        "revealed": revealed,
        "candidate_id": candidate.map(|c| c.id.clone()),
        "candidate": l.review.shown_identity(),
        "candidate_name": candidate.filter(|_| revealed).map(|c| c.name.clone()),
        "candidate_email": candidate.filter(|_| revealed).and_then(|c| c.email.clone()),
        "engine_recommendation": l.report.decision.recommendation.as_str(),
        "effective_recommendation": l.review.effective(&l.report).as_str(),
        "overrides": l.overrides.iter().map(override_json).collect::<Vec<_>>(),
        "reveals": l.reveals.iter().map(reveal_json).collect::<Vec<_>>(),
    })
}

/// `GET /v1/interviews/{id}/report`: the latest report as the review shows it.
pub(super) async fn get_report(
    State(store): State<Store>,
    Path(id): Path<String>,
    Query(q): Query<ReportQuery>,
) -> ApiResult<Response> {
    check_id(&id)?;
    let format = match q.format.as_deref().map(str::parse::<viva_scoring::Format>) {
        None => viva_scoring::Format::Json,
        Some(Ok(f)) => f,
        Some(Err(m)) => return Err(bad_request("bad_format", m)),
    };
    let l = load(&store, &id).await?;
    let (ctype, body) = match format {
        viva_scoring::Format::Json => {
            let mut v = serde_json::to_value(l.review.visible_report(&l.report))
                .map_err(StoreError::from)?;
            v["review"] = review_json(&l);
            let text = serde_json::to_string_pretty(&v).map_err(StoreError::from)? + "\n";
            ("application/json", text)
        }
        viva_scoring::Format::Markdown => (
            "text/markdown; charset=utf-8",
            review::markdown(&l.report, &l.review),
        ),
        viva_scoring::Format::Html => (
            "text/html; charset=utf-8",
            review::html(&l.report, &l.review),
        ),
    };
    Ok(([(header::CONTENT_TYPE, ctype)], body).into_response())
}

/// `GET /v1/interviews/{id}/review`.
pub(super) async fn get_review(
    State(store): State<Store>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    check_id(&id)?;
    let l = load(&store, &id).await?;
    Ok(Json(review_json(&l)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct OverrideBody {
    #[serde(default)]
    recommendation: Option<String>,
    #[serde(default)]
    reason: Option<String>,
}

/// `POST /v1/interviews/{id}/overrides`.
pub(super) async fn post_override(
    State(store): State<Store>,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<OverrideBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    check_id(&id)?;
    let by = reviewer(&store, &headers).await?;
    store.interview(&id).await?;
    let to = body
        .recommendation
        .as_deref()
        .and_then(parse_recommendation)
        .ok_or_else(|| {
            bad_request(
                "bad_recommendation",
                "`recommendation` must be one of \"Strong Yes\", \"Yes\", \"Maybe\", \"No\"",
            )
        })?;
    let why = reason(body.reason.as_deref())?;
    if let Err(StoreError::NotFound(_)) = store.latest_report(&id).await {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "no_report",
            "the interview has no report yet: nothing to override",
        ));
    }
    let row = store
        .add_override(&id, &by, to.as_str(), &why, now_ms())
        .await
        .map_err(|e| match e {
            StoreError::Invalid(m) => ApiError::new(StatusCode::CONFLICT, "unchanged", m),
            other => other.into(),
        })?;
    tracing::info!(interview = %id, by = %by.name, from = %row.from, to = %row.to, "recommendation overridden");
    Ok((StatusCode::CREATED, Json(override_json(&row))))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RevealBody {
    #[serde(default)]
    reason: Option<String>,
}

/// `POST /v1/interviews/{id}/reveal`.
pub(super) async fn post_reveal(
    State(store): State<Store>,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<RevealBody>,
) -> ApiResult<Json<Value>> {
    check_id(&id)?;
    let by = reviewer(&store, &headers).await?;
    store.interview(&id).await?;
    let why = reason(body.reason.as_deref())?;
    let (row, identity) = store.add_reveal(&id, &by, &why, now_ms()).await?;
    tracing::info!(interview = %id, by = %by.name, "candidate identity revealed");
    Ok(Json(json!({
        "candidate": {"id": identity.id, "name": identity.name, "email": identity.email},
        "reveal": reveal_json(&row),
    })))
}
