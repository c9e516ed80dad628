//! The one shape of an HTTP error body: `{"error": code, "message": text}` (plus
//! `retry_after_s` on a refusal to retry, and `details` where the API has them), used by the
//! REST API, the gateways and the page routes alike (`docs/protocol.md`).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

/// The error body.
pub(crate) fn error_body(code: &str, message: &str) -> Value {
    json!({"error": code, "message": message})
}

pub(crate) fn json_error(status: StatusCode, code: &str, message: String) -> Response {
    (status, Json(error_body(code, &message))).into_response()
}

/// A refusal the client should retry: 503 or 429 with `Retry-After` and the seconds in the
/// body too (`retry_after_s`), for pages that cannot read headers of a failed fetch easily.
pub(crate) fn retry_later(status: StatusCode, code: &str, message: String, secs: u64) -> Response {
    let mut body = error_body(code, &message);
    body["retry_after_s"] = json!(secs);
    (
        status,
        [(axum::http::header::RETRY_AFTER, secs.to_string())],
        Json(body),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_to_retry_carries_the_seconds_in_the_header_and_the_body() {
        let r = retry_later(StatusCode::SERVICE_UNAVAILABLE, "busy", "later".into(), 7);
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(r.headers()["retry-after"], "7");
        assert_eq!(
            error_body("bad", "no"),
            json!({"error": "bad", "message": "no"})
        );
    }
}
