//! The schema, as portable SQL that SQLite and PostgreSQL both run unchanged. Ids are random
//! hex text, times are milliseconds since the Unix epoch (BIGINT), JSON is stored as text: the
//! same statements, the same types, on both databases.

/// (version, statements). Append only: an applied migration is never edited.
pub const MIGRATIONS: &[(i64, &str)] = &[
    (
        1,
        r#"
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    current_version BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    deleted_at BIGINT
);
CREATE TABLE IF NOT EXISTS job_versions (
    job_id TEXT NOT NULL REFERENCES jobs(id),
    version BIGINT NOT NULL,
    config_toml TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (job_id, version)
);
CREATE TABLE IF NOT EXISTS candidates (
    id TEXT PRIMARY KEY,
    name TEXT,
    email TEXT,
    created_at BIGINT NOT NULL,
    erased_at BIGINT
);
CREATE TABLE IF NOT EXISTS invites (
    id TEXT PRIMARY KEY,
    job_id TEXT NOT NULL REFERENCES jobs(id),
    job_version BIGINT NOT NULL,
    candidate_id TEXT NOT NULL REFERENCES candidates(id),
    token_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    revoked_at BIGINT
);
CREATE TABLE IF NOT EXISTS interviews (
    id TEXT PRIMARY KEY,
    job_id TEXT NOT NULL REFERENCES jobs(id),
    job_version BIGINT NOT NULL,
    candidate_id TEXT NOT NULL REFERENCES candidates(id),
    invite_id TEXT,
    state TEXT NOT NULL,
    consent_at BIGINT,
    started_at BIGINT,
    ended_at BIGINT,
    transcript_json TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS interviews_job ON interviews (job_id, created_at);
CREATE TABLE IF NOT EXISTS turns (
    interview_id TEXT NOT NULL REFERENCES interviews(id),
    idx BIGINT NOT NULL,
    phase TEXT NOT NULL,
    question_json TEXT NOT NULL,
    prompt TEXT NOT NULL,
    decision TEXT NOT NULL,
    reason_json TEXT NOT NULL,
    asked_at_ms BIGINT NOT NULL,
    answer_text TEXT,
    words_json TEXT,
    audio_start_ms BIGINT,
    audio_end_ms BIGINT,
    PRIMARY KEY (interview_id, idx)
);
CREATE TABLE IF NOT EXISTS reports (
    id TEXT PRIMARY KEY,
    interview_id TEXT NOT NULL REFERENCES interviews(id),
    scorer_version TEXT NOT NULL,
    composite DOUBLE PRECISION NOT NULL,
    recommendation TEXT NOT NULL,
    report_json TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS reports_interview ON reports (interview_id, created_at);
CREATE TABLE IF NOT EXISTS audit_events (
    id TEXT PRIMARY KEY,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    subject TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS scoring_queue (
    interview_id TEXT PRIMARY KEY REFERENCES interviews(id),
    state TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    enqueued_at BIGINT NOT NULL,
    claimed_by TEXT,
    claimed_at BIGINT,
    finished_at BIGINT,
    error TEXT
);
CREATE INDEX IF NOT EXISTS scoring_queue_state ON scoring_queue (state, enqueued_at);
CREATE TABLE IF NOT EXISTS api_tokens (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
)
"#,
    ),
    (
        2,
        r#"
CREATE TABLE IF NOT EXISTS recordings (
    interview_id TEXT PRIMARY KEY REFERENCES interviews(id),
    session_id TEXT NOT NULL,
    object_key TEXT NOT NULL,
    content_type TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS webhooks (
    id TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    events TEXT NOT NULL,
    secret TEXT NOT NULL,
    source TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    deleted_at BIGINT
);
CREATE TABLE IF NOT EXISTS webhook_deliveries (
    id TEXT PRIMARY KEY,
    webhook_id TEXT NOT NULL REFERENCES webhooks(id),
    event TEXT NOT NULL,
    payload TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    claimed_by TEXT,
    claimed_at BIGINT,
    last_status BIGINT,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    delivered_at BIGINT
);
CREATE INDEX IF NOT EXISTS webhook_deliveries_due ON webhook_deliveries (state, next_attempt_at);
CREATE TABLE IF NOT EXISTS webhook_attempts (
    delivery_id TEXT NOT NULL REFERENCES webhook_deliveries(id),
    attempt BIGINT NOT NULL,
    at BIGINT NOT NULL,
    status BIGINT,
    error TEXT,
    PRIMARY KEY (delivery_id, attempt)
)
"#,
    ),
    (
        3,
        r#"
CREATE TABLE IF NOT EXISTS server_secrets (
    name TEXT PRIMARY KEY,
    secret TEXT NOT NULL,
    created_at BIGINT NOT NULL
)
"#,
    ),
    (
        4,
        r#"
CREATE TABLE IF NOT EXISTS review_overrides (
    id TEXT PRIMARY KEY,
    interview_id TEXT NOT NULL REFERENCES interviews(id),
    report_id TEXT NOT NULL,
    actor_token_id TEXT NOT NULL,
    actor TEXT NOT NULL,
    at BIGINT NOT NULL,
    from_recommendation TEXT NOT NULL,
    to_recommendation TEXT NOT NULL,
    reason TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS review_overrides_interview ON review_overrides (interview_id, at);
CREATE TABLE IF NOT EXISTS identity_reveals (
    id TEXT PRIMARY KEY,
    interview_id TEXT NOT NULL REFERENCES interviews(id),
    candidate_id TEXT NOT NULL,
    actor_token_id TEXT NOT NULL,
    actor TEXT NOT NULL,
    at BIGINT NOT NULL,
    reason TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS identity_reveals_interview ON identity_reveals (interview_id, at)
"#,
    ),
    (
        5,
        r#"
CREATE TABLE IF NOT EXISTS live_sessions (
    session_id TEXT PRIMARY KEY,
    interview_id TEXT NOT NULL REFERENCES interviews(id),
    token_hash TEXT NOT NULL,
    seq BIGINT NOT NULL,
    clock_ms BIGINT NOT NULL,
    events_json TEXT NOT NULL,
    transcript_json TEXT NOT NULL,
    paused BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS live_sessions_interview ON live_sessions (interview_id)
"#,
    ),
    (
        6,
        r#"
CREATE TABLE IF NOT EXISTS interview_feedback (
    interview_id TEXT PRIMARY KEY REFERENCES interviews(id),
    job_id TEXT NOT NULL,
    rating BIGINT NOT NULL,
    comment TEXT,
    channel TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS interview_feedback_job ON interview_feedback (job_id, created_at)
"#,
    ),
    (
        7,
        r#"
ALTER TABLE invites ADD COLUMN pin_hash TEXT;
CREATE INDEX IF NOT EXISTS invites_pin ON invites (pin_hash);
ALTER TABLE invites ADD COLUMN accommodations_json TEXT
"#,
    ),
];
