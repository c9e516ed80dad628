//! `GET /v1/openapi.json`: the API's OpenAPI 3.1 document, hand-written in `openapi.json`
//! beside the routes and compiled into the binary. Hand-written rather than generated
//! (utoipa): no proc-macro dependency on every handler, and the document says what the
//! handlers cannot (auth per route, error codes, the Range behaviour). A test
//! (`tests/api.rs`) checks that every route of the router is in it and vice versa.

use axum::http::header;
use axum::response::{IntoResponse, Response};

/// The document's text.
pub const DOCUMENT: &str = include_str!("openapi.json");

pub(super) async fn document() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], DOCUMENT).into_response()
}
