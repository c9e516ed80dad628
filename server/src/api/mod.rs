//! The recruiter REST API under `/v1`: jobs (validated, versioned), invites, interviews,
//! transcripts, reports with their human review ([`review`]: name-blind identity, audited
//! reveals, overrides), re-scoring, recordings ([`recordings`]), webhooks ([`webhooks`]),
//! candidate erasure, and its OpenAPI document ([`openapi`], `GET /v1/openapi.json`).
//!
//! Auth: recruiter routes need a recruiter API token (`Authorization: Bearer …`, created with
//! `viva admin token create`); no token or an unknown one is 401, a candidate's invite token
//! is 403. A candidate's invite token opens only that candidate's own interview (detail,
//! transcript, recording). Errors are JSON `{"error": code, "message": text}` with a 4xx status
//! for anything the client can fix.

mod export;
pub mod openapi;
pub mod recordings;
mod review;
mod webhooks;

use axum::extract::rejection::JsonRejection;
use axum::extract::{DefaultBodyLimit, FromRequest, Path, Query, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Extension, Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::store::{now_ms, Store, StoreError};

/// Largest request body accepted (a job file is a few KiB; 256 KiB is generous).
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// Default lifetime of an invite link.
const INVITE_TTL_MS: i64 = 7 * 86_400_000;

#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    details: Option<Value>,
}

impl ApiError {
    fn not_found(what: &str) -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{what} not found"),
        )
    }

    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            details: None,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = crate::http_error::error_body(self.code, &self.message);
        if let Some(d) = self.details {
            body["details"] = d;
        }
        (self.status, Json(body)).into_response()
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::NotFound(what) => ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                format!("{what} not found"),
            ),
            StoreError::Invalid(m) => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", m),
            other => {
                tracing::error!(error = %other, "storage failure");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "storage failure",
                )
            }
        }
    }
}

/// `Json` whose rejections (malformed, wrong type, too large) are JSON errors too.
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    Json<T>: FromRequest<S, Rejection = JsonRejection>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(ApiJson(v)),
            Err(rejection) => {
                let status = rejection.status();
                let code = match status {
                    StatusCode::PAYLOAD_TOO_LARGE => "body_too_large",
                    StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
                    StatusCode::UNPROCESSABLE_ENTITY => "invalid_body",
                    _ => "malformed_json",
                };
                Err(ApiError::new(status, code, rejection.body_text()))
            }
        }
    }
}

type ApiResult<T> = Result<T, ApiError>;

/// Who is calling, put into the request's extensions by the auth layers.
#[derive(Debug, Clone)]
pub enum Principal {
    /// A recruiter API token (its name).
    Recruiter(String),
    /// A candidate's invite token: the interviews it opens.
    Candidate(Vec<String>),
}

impl Principal {
    /// Recruiters read every interview; a candidate only their own (403 otherwise).
    fn may_read(&self, interview_id: &str) -> ApiResult<()> {
        match self {
            Principal::Recruiter(_) => Ok(()),
            Principal::Candidate(own) if own.iter().any(|i| i == interview_id) => Ok(()),
            Principal::Candidate(_) => Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "an invite token opens only its own interview",
            )),
        }
    }

    fn actor(&self) -> String {
        match self {
            Principal::Recruiter(name) => format!("api:{name}"),
            Principal::Candidate(_) => "candidate".into(),
        }
    }
}

/// Ids in paths are random hex; anything else (dots, slashes, `%2F`) is refused up front.
fn check_id(id: &str) -> ApiResult<()> {
    if (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_id",
            "ids are letters, digits, '-' and '_'",
        ))
    }
}

fn bearer(req: &Request) -> Option<String> {
    bearer_of(req.headers())
}

fn bearer_of(headers: &axum::http::HeaderMap) -> Option<String> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
}

async fn principal(store: &Store, token: Option<String>) -> Result<Principal, ApiError> {
    let Some(token) = token else {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "missing bearer token",
        ));
    };
    if let Some(name) = store.check_api_token(&token).await? {
        return Ok(Principal::Recruiter(name));
    }
    if let Some(own) = store.candidate_interviews(&token).await? {
        return Ok(Principal::Candidate(own));
    }
    Err(ApiError::new(
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        "invalid or revoked token",
    ))
}

/// Recruiter routes: a recruiter token, else 401 (a candidate's token: 403).
async fn auth(State(store): State<Store>, mut req: Request, next: Next) -> Response {
    match principal(&store, bearer(&req)).await {
        Ok(p @ Principal::Recruiter(_)) => {
            req.extensions_mut().insert(p);
            next.run(req).await
        }
        Ok(Principal::Candidate(_)) => ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "this route needs a recruiter API token, not an invite token",
        )
        .into_response(),
        Err(e) => e.into_response(),
    }
}

/// Routes a candidate may also call (for their own interview).
async fn auth_any(State(store): State<Store>, mut req: Request, next: Next) -> Response {
    match principal(&store, bearer(&req)).await {
        Ok(p) => {
            req.extensions_mut().insert(p);
            next.run(req).await
        }
        Err(e) => e.into_response(),
    }
}

/// What a new invite says about the phone line: its PIN's length and the number to call.
#[derive(Debug, Clone)]
pub struct DialIn {
    pub pin_digits: usize,
    /// Empty: no number is shown (the PIN is still made, for when a line is set up).
    pub number: String,
}

impl Default for DialIn {
    fn default() -> Self {
        Self {
            pin_digits: 8,
            number: String::new(),
        }
    }
}

/// The `/v1` routes, with auth and the body limit; merges into a router of any state.
pub fn router<S: Clone + Send + Sync + 'static>(store: Store) -> Router<S> {
    router_with(store, DialIn::default())
}

/// [`router`] with the server's dial-in settings.
pub fn router_with<S: Clone + Send + Sync + 'static>(store: Store, dial_in: DialIn) -> Router<S> {
    let shared = Router::new()
        .route("/v1/interviews/{id}", get(get_interview))
        .route("/v1/interviews/{id}/transcript", get(get_transcript))
        .route("/v1/interviews/{id}/feedback", post(post_feedback))
        .route_layer(middleware::from_fn_with_state(store.clone(), auth_any));
    // Its own auth step: a bearer token or a signed link (an <audio src> sends no header).
    let public = Router::new()
        .route("/v1/openapi.json", get(openapi::document))
        .route(
            "/v1/interviews/{id}/recording",
            get(recordings::get_recording),
        );
    Router::new()
        .route("/v1/jobs", get(list_jobs).post(create_job))
        .route("/v1/jobs/draft", post(draft_job))
        .route("/v1/bank", get(question_bank))
        .route(
            "/v1/jobs/{id}",
            get(get_job).put(update_job).delete(delete_job),
        )
        .route(
            "/v1/jobs/{id}/invites",
            get(list_invites).post(create_invite),
        )
        .route("/v1/invites/{id}", delete(revoke_invite))
        .route("/v1/jobs/{id}/feedback", get(job_feedback))
        .route(
            "/v1/jobs/{id}/candidates.csv",
            get(export::job_candidates_csv),
        )
        .route("/v1/interviews", get(list_interviews))
        .route("/v1/interviews/{id}/report", get(review::get_report))
        .route("/v1/interviews/{id}/review", get(review::get_review))
        .route("/v1/interviews/{id}/overrides", post(review::post_override))
        .route("/v1/interviews/{id}/reveal", post(review::post_reveal))
        .route("/v1/interviews/{id}/reports", get(list_reports))
        .route("/v1/interviews/{id}/rescore", post(rescore))
        .route(
            "/v1/interviews/{id}/recording/link",
            post(recordings::create_link),
        )
        .route("/v1/candidates/{id}", delete(erase_candidate))
        .route(
            "/v1/webhooks",
            get(webhooks::list_webhooks).post(webhooks::create_webhook),
        )
        .route("/v1/webhooks/{id}", delete(webhooks::delete_webhook))
        .route(
            "/v1/webhooks/{id}/deliveries",
            get(webhooks::list_deliveries),
        )
        .route_layer(middleware::from_fn_with_state(store.clone(), auth))
        .merge(shared)
        .merge(public)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(Extension(dial_in))
        .with_state(store)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JobBody {
    /// The job file, as TOML (what `viva job validate` checks).
    #[serde(default)]
    config_toml: Option<String>,
    /// The same configuration as JSON text (the job schema's fields); stored as TOML.
    #[serde(default)]
    config_json: Option<String>,
}

fn invalid_job(errors: viva_interview::JobErrors) -> ApiError {
    ApiError {
        status: StatusCode::UNPROCESSABLE_ENTITY,
        code: "invalid_job",
        message: format!("{} problem(s) in the job configuration", errors.0.len()),
        details: serde_json::to_value(&errors.0).ok(),
    }
}

/// The checked job and the TOML to store for it.
fn validated(body: &JobBody) -> ApiResult<(viva_interview::JobConfig, String)> {
    use viva_interview::{JobConfig, JobErrors, JobIssue};
    match (&body.config_toml, &body.config_json) {
        (Some(toml), None) => JobConfig::from_toml_str(toml)
            .map(|job| (job, toml.clone()))
            .map_err(invalid_job),
        (None, Some(text)) => {
            // Types, unknown and missing fields (with the JSON line), then the same rules as
            // a TOML file (with the field; lines of the TOML rendering would mean nothing).
            let job: JobConfig = serde_json::from_str(text).map_err(|e| {
                let message = e.to_string();
                let message = match message.rsplit_once(" at line ") {
                    Some((m, _)) => m.to_string(),
                    None => message,
                };
                invalid_job(JobErrors(vec![JobIssue {
                    field: String::new(),
                    line: (e.line() > 0).then_some(e.line()),
                    message,
                    fix: "make it a JSON object with the fields of the job schema (/v1/openapi.json, server/interview/job.schema.json)".into(),
                }]))
            })?;
            let toml = job.to_toml_string().map_err(|e| {
                ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_job",
                    e.to_string(),
                )
            })?;
            match JobConfig::from_toml_str(&toml) {
                Ok(job) => Ok((job, toml)),
                Err(mut errors) => {
                    for issue in &mut errors.0 {
                        issue.line = None;
                    }
                    Err(invalid_job(errors))
                }
            }
        }
        _ => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
            "send exactly one of config_toml (TOML text) or config_json (JSON text)",
        )),
    }
}

/// Longest job description a draft is made from.
const MAX_JD_CHARS: usize = 20_000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DraftBody {
    /// The pasted job description.
    description: String,
    /// Overrides the title found in the description.
    #[serde(default)]
    title: Option<String>,
}

/// `POST /v1/jobs/draft`: a job configuration drafted from a job description (what `viva job
/// from-jd` does), for a person to review and then save with `POST /v1/jobs`. Nothing is stored.
async fn draft_job(ApiJson(body): ApiJson<DraftBody>) -> ApiResult<Json<Value>> {
    let text = body.description.trim();
    let words = text.split_whitespace().count();
    if words < 10 {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "description_too_short",
            format!("paste the whole job description (at least 10 words; got {words})"),
        ));
    }
    if text.chars().count() > MAX_JD_CHARS {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "description_too_long",
            format!("a job description of at most {MAX_JD_CHARS} characters, please"),
        ));
    }
    let title = body
        .title
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty());
    let job = viva_interview::draft::draft_job(text, title);
    let body = job.to_toml_string().map_err(|e| {
        tracing::error!(error = %e, "rendering a drafted job");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the draft could not be rendered",
        )
    })?;
    let config_toml = format!(
        "# Drafted by viva from a job description. Review and edit every field before saving.\n\n{body}"
    );
    Ok(Json(
        json!({"title": job.title, "config_toml": config_toml, "config": job}),
    ))
}

/// `GET /v1/bank`: the question bank's concepts and questions, each question also as the
/// `custom_questions` entry a job would use for it (what the dashboard's job form picks from).
async fn question_bank() -> Json<Value> {
    let bank = viva_interview::QuestionBank::embedded();
    let concepts: Vec<Value> = bank
        .concepts
        .iter()
        .map(|c| json!({"id": c.id, "name": c.name, "kind": c.kind}))
        .collect();
    let questions: Vec<Value> = bank
        .questions
        .iter()
        .map(|q| {
            let spec = viva_interview::job::QuestionSpec {
                text: q.text.clone(),
                rephrased: q.rephrased.clone(),
                expects: Some(q.expects),
                concepts: vec![q.concept.clone()],
                bank_areas: bank
                    .areas_of(q)
                    .iter()
                    .map(|a| format!("{}.{}", q.concept, a.id))
                    .collect(),
                expected_answers: q.expected_answers.clone(),
                key_concepts: q.key_concepts.clone(),
                red_flags: q.red_flags.clone(),
                ..Default::default()
            };
            json!({"id": q.id, "concept": q.concept, "text": q.text, "expects": q.expects, "spec": spec})
        })
        .collect();
    Json(json!({"concepts": concepts, "questions": questions}))
}

async fn list_jobs(State(store): State<Store>) -> ApiResult<Json<Value>> {
    Ok(Json(json!({"jobs": store.list_jobs().await?})))
}

async fn create_job(
    State(store): State<Store>,
    ApiJson(body): ApiJson<JobBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let (job, config_toml) = validated(&body)?;
    let row = store.create_job(&job.title, &config_toml, now_ms()).await?;
    store
        .audit(now_ms(), "api", "job.created", &row.id, &job.title)
        .await?;
    Ok((StatusCode::CREATED, Json(json!(row))))
}

async fn get_job(State(store): State<Store>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    check_id(&id)?;
    Ok(Json(json!(store.job(&id).await?)))
}

async fn update_job(
    State(store): State<Store>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<JobBody>,
) -> ApiResult<Json<Value>> {
    check_id(&id)?;
    let (job, config_toml) = validated(&body)?;
    let row = store
        .update_job(&id, &job.title, &config_toml, now_ms())
        .await?;
    store
        .audit(
            now_ms(),
            "api",
            "job.updated",
            &row.id,
            &format!("version {}", row.version),
        )
        .await?;
    Ok(Json(json!(row)))
}

async fn delete_job(State(store): State<Store>, Path(id): Path<String>) -> ApiResult<StatusCode> {
    check_id(&id)?;
    store.delete_job(&id, now_ms()).await?;
    store.audit(now_ms(), "api", "job.deleted", &id, "").await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InviteBody {
    #[serde(default)]
    candidate_name: Option<String>,
    #[serde(default)]
    candidate_email: Option<String>,
    /// Lifetime in hours (default 7 days, at most 90 days).
    #[serde(default)]
    expires_in_hours: Option<u32>,
    /// Adjustments for this candidate (`docs/accommodations.md`).
    #[serde(default)]
    accommodations: Option<viva_interview::job::Accommodations>,
}

async fn create_invite(
    State(store): State<Store>,
    Extension(dial_in): Extension<DialIn>,
    Path(job_id): Path<String>,
    ApiJson(body): ApiJson<InviteBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let ttl = match body.expires_in_hours {
        None => INVITE_TTL_MS,
        Some(h) if (1..=24 * 90).contains(&h) => i64::from(h) * 3_600_000,
        Some(_) => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid",
                "expires_in_hours must be 1–2160",
            ))
        }
    };
    if let Some(p) = body.accommodations.as_ref().and_then(|a| a.problem()) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            format!("accommodations: {p}"),
        ));
    }
    store.job(&job_id).await?;
    let now = now_ms();
    let candidate = store
        .create_candidate(
            body.candidate_name.as_deref(),
            body.candidate_email.as_deref(),
            now,
        )
        .await?;
    let (invite, token) = store.create_invite(&job_id, &candidate, ttl, now).await?;
    let pin = store
        .assign_pin(&invite.id, dial_in.pin_digits, now)
        .await?;
    let invite = match body.accommodations.filter(|a| !a.is_none()) {
        Some(a) => {
            store.set_accommodations(&invite.id, &a).await?;
            store.invite(&invite.id).await?
        }
        None => invite,
    };
    store
        .audit(now, "api", "invite.created", &invite.id, &job_id)
        .await?;
    // The token and the PIN are shown once: only their hashes are stored.
    let number = (!dial_in.number.is_empty()).then_some(dial_in.number);
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "invite": invite,
            "token": token,
            "link": format!("/i/{token}"),
            "pin": pin,
            "dial_in_number": number,
        })),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FeedbackBody {
    rating: u8,
    #[serde(default)]
    comment: Option<String>,
    /// `web` (default) or `phone`.
    #[serde(default)]
    channel: Option<String>,
}

/// The candidate rates their own interview (1–5, optional comment); the last rating counts.
/// Only the candidate's invite token may: a recruiter cannot rate for them.
async fn post_feedback(
    State(store): State<Store>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<FeedbackBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    check_id(&id)?;
    if matches!(principal, Principal::Recruiter(_)) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "only the candidate rates their interview (with their invite token)",
        ));
    }
    principal.may_read(&id)?;
    let invalid = |m: String| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", m);
    if !(1..=5).contains(&body.rating) {
        return Err(invalid(format!(
            "rating must be 1 to 5, got {}",
            body.rating
        )));
    }
    if body
        .comment
        .as_ref()
        .is_some_and(|c| c.chars().count() > crate::store::feedback::MAX_COMMENT_CHARS)
    {
        return Err(invalid(format!(
            "comment must be at most {} characters",
            crate::store::feedback::MAX_COMMENT_CHARS
        )));
    }
    let channel = match body.channel.as_deref() {
        None | Some("web") => "web",
        Some("phone") => "phone",
        Some(other) => {
            return Err(invalid(format!(
                "channel must be web or phone, not {other:?}"
            )))
        }
    };
    let row = store
        .save_feedback(&id, body.rating, body.comment.as_deref(), channel, now_ms())
        .await?;
    Ok((StatusCode::CREATED, Json(json!(row))))
}

/// A job's candidate-experience ratings: count, average, distribution, comments.
async fn job_feedback(
    State(store): State<Store>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    check_id(&id)?;
    Ok(Json(json!(store.job_feedback(&id).await?)))
}

async fn list_invites(
    State(store): State<Store>,
    Path(job_id): Path<String>,
) -> ApiResult<Json<Value>> {
    store.job(&job_id).await?;
    Ok(Json(json!({"invites": store.list_invites(&job_id).await?})))
}

async fn revoke_invite(
    State(store): State<Store>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    check_id(&id)?;
    store.revoke_invite(&id, now_ms()).await?;
    store
        .audit(now_ms(), "api", "invite.revoked", &id, "")
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct InterviewFilter {
    job_id: Option<String>,
}

async fn list_interviews(
    State(store): State<Store>,
    Query(f): Query<InterviewFilter>,
) -> ApiResult<Json<Value>> {
    Ok(Json(
        json!({"interviews": store.list_interviews(f.job_id.as_deref()).await?}),
    ))
}

async fn get_interview(
    State(store): State<Store>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    check_id(&id)?;
    who.may_read(&id)?;
    let row = store.interview(&id).await?;
    let recording = match store.recording(&id).await {
        Ok(_) => Some(format!("/v1/interviews/{id}/recording")),
        Err(StoreError::NotFound(_)) => None,
        Err(e) => return Err(e.into()),
    };
    let mut v = json!(row);
    v["recording_url"] = json!(recording);
    v["queue_state"] = json!(store.queue_state(&id).await?);
    Ok(Json(v))
}

async fn get_transcript(
    State(store): State<Store>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    check_id(&id)?;
    who.may_read(&id)?;
    let json = store.transcript_json(&id).await?;
    Ok(([(header::CONTENT_TYPE, "application/json")], json).into_response())
}

/// `?format=json|md|html` of the report route ([`review::get_report`]).
#[derive(Deserialize)]
struct ReportQuery {
    format: Option<String>,
}

async fn list_reports(
    State(store): State<Store>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    check_id(&id)?;
    store.interview(&id).await?;
    let reports: Vec<Value> = store
        .report_versions(&id)
        .await?
        .into_iter()
        .map(|(rid, version, at)| json!({"id": rid, "scorer_version": version, "created_at": at}))
        .collect();
    Ok(Json(json!({"reports": reports})))
}

/// Queues the interview for scoring again (the current scorer, the job version it ran with).
async fn rescore(
    State(store): State<Store>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    check_id(&id)?;
    let now = now_ms();
    store.requeue(&id, now).await.map_err(|e| match e {
        StoreError::NotFound("transcript") => ApiError::new(
            StatusCode::CONFLICT,
            "no_transcript",
            "the interview has no transcript to score (not finished, or erased)",
        ),
        other => other.into(),
    })?;
    store
        .audit(
            now,
            &who.actor(),
            "interview.rescore",
            &id,
            viva_scoring::SCORER_VERSION,
        )
        .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(
            json!({"interview_id": id, "state": "queued", "scorer_version": viva_scoring::SCORER_VERSION}),
        ),
    ))
}

async fn erase_candidate(
    State(store): State<Store>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    check_id(&id)?;
    store.erase_candidate(&id, &who.actor(), now_ms()).await?;
    Ok(StatusCode::NO_CONTENT)
}
