//! `GET /v1/jobs/{id}/candidates.csv`: a job's candidates for a spreadsheet, best first, as the
//! review shows them (name-blind until an audited reveal; the recommendation in force after
//! human overrides, beside the engine's).

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use viva_scoring::review::rfc3339_from_ms;

use super::{check_id, ApiResult};
use crate::store::Store;

const COLUMNS: [&str; 11] = [
    "rank",
    "interview_id",
    "candidate",
    "state",
    "ended_at",
    "composite",
    "recommendation",
    "engine_recommendation",
    "overridden",
    "override_reason",
    "report_url",
];

/// One CSV field (RFC 4180 quoting). A field a spreadsheet would run as a formula (`=`, `+`,
/// `-`, `@` first) is prefixed with `'`: candidate-supplied text must never execute.
fn field(s: &str) -> String {
    let s = match s.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') if s.parse::<f64>().is_err() => format!("'{s}"),
        _ => s.to_string(),
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

fn line(fields: &[String]) -> String {
    let mut l = fields
        .iter()
        .map(|f| field(f))
        .collect::<Vec<_>>()
        .join(",");
    l.push_str("\r\n");
    l
}

pub(super) async fn job_candidates_csv(
    State(store): State<Store>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    check_id(&id)?;
    let job = store.job(&id).await?;
    let mut rows = Vec::new();
    for iv in store.list_interviews(Some(&id)).await? {
        let loaded = match super::review::load(&store, &iv.id).await {
            Ok(l) => Some(l),
            // No report yet (still running, queued, abandoned).
            Err(e) if e.status == StatusCode::NOT_FOUND => None,
            Err(e) => return Err(e),
        };
        let (candidate, composite, rec, engine, overridden, reason, url) = match &loaded {
            Some(l) => (
                l.review.shown_identity(),
                Some(l.report.composite),
                l.review.effective(&l.report).as_str().to_string(),
                l.report.decision.recommendation.as_str().to_string(),
                if l.overrides.is_empty() { "no" } else { "yes" }.to_string(),
                l.overrides
                    .last()
                    .map(|o| o.reason.clone())
                    .unwrap_or_default(),
                format!("/v1/interviews/{}/report", iv.id),
            ),
            None => (
                format!("candidate {}", iv.candidate_id),
                None,
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
            ),
        };
        rows.push((
            composite,
            vec![
                iv.id.clone(),
                candidate,
                iv.state.clone(),
                iv.ended_at.map(rfc3339_from_ms).unwrap_or_default(),
                composite.map(|c| format!("{c:.1}")).unwrap_or_default(),
                rec,
                engine,
                overridden,
                reason,
                url,
            ],
        ));
    }
    // Best first; interviews without a report after those with one.
    rows.sort_by(|a, b| b.0.unwrap_or(-1.0).total_cmp(&a.0.unwrap_or(-1.0)));
    let mut out = line(&COLUMNS.map(String::from));
    for (i, (_, mut fields)) in rows.into_iter().enumerate() {
        fields.insert(0, (i + 1).to_string());
        out.push_str(&line(&fields));
    }
    let name: String = job
        .title
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}-candidates.csv\""),
            ),
        ],
        out,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_and_formulas_defused() {
        assert_eq!(field("plain"), "plain");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(field("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(field("-12.5"), "-12.5", "a negative number stays a number");
        assert_eq!(line(&["1".into(), "x y".into()]), "1,x y\r\n");
    }
}
