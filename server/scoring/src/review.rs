//! What people do with a report, as pure data: who the candidate is (shown name-blind by
//! default), who revealed that identity and when (the audit log), and every human override of
//! the recommendation with who, when and why. Rendering shows all of it beside the report.
//!
//! Storage keeps a [`Review`] per report (append-only lists); this module validates each new
//! entry ([`Review::reveal`], [`Review::override_recommendation`]) and renders
//! ([`markdown`], [`html`]). The scored [`Report`] itself is never changed: an override is shown
//! beside the engine's recommendation, never in place of its evidence.
//!
//! Name-blind mode: the candidate appears as their id, and every occurrence of their name in
//! the report's text (quotes, summary, …) is replaced by "[candidate]", until a reveal for that
//! id is in the log.

use serde::{Deserialize, Serialize};

use crate::report::{Recommendation, Report};

/// The candidate's identity as storage knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candidate {
    /// Opaque, shown in name-blind mode (e.g. "cand-7f3a").
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentityMode {
    /// Identity hidden until revealed (the default).
    #[default]
    NameBlind,
    /// Identity always shown (a job or company that does not use blind review).
    Named,
}

/// One entry of the reveal audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevealEvent {
    pub candidate_id: String,
    /// The recruiter who revealed it.
    pub by: String,
    /// RFC 3339 UTC time, e.g. `2026-12-01T20:30:00Z`.
    pub at: String,
    pub reason: String,
}

/// A person's override of the recommendation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HumanOverride {
    pub by: String,
    /// RFC 3339 UTC time.
    pub at: String,
    /// The recommendation in force before (the engine's, or the previous override's).
    pub from: Recommendation,
    pub to: Recommendation,
    pub why: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReviewError {
    #[error("`{0}` is empty: say who did it")]
    NoActor(&'static str),
    #[error("`{0}` is empty: a reason is required and is shown in the report")]
    NoReason(&'static str),
    #[error("`at` {0:?} is not an RFC 3339 UTC time like 2026-12-01T20:30:00Z")]
    BadTime(String),
    #[error("the recommendation is already {0}; an override must change it")]
    Unchanged(&'static str),
    #[error("candidate id {given:?} is not this report's candidate ({expected:?})")]
    WrongCandidate { given: String, expected: String },
}

/// Everything people did with one report.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Review {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub candidate: Option<Candidate>,
    #[serde(default)]
    pub mode: IdentityMode,
    #[serde(default)]
    pub reveals: Vec<RevealEvent>,
    #[serde(default)]
    pub overrides: Vec<HumanOverride>,
}

/// `YYYY-MM-DDTHH:MM:SS[.fff]Z` with plausible field ranges.
fn valid_time(at: &str) -> bool {
    let b = at.as_bytes();
    let digits = |r: std::ops::Range<usize>| {
        b.get(r.clone())
            .is_some_and(|s| s.iter().all(u8::is_ascii_digit))
    };
    let num = |r: std::ops::Range<usize>| -> u32 {
        at.get(r).and_then(|s| s.parse().ok()).unwrap_or(u32::MAX)
    };
    if b.len() < 20 || !at.is_ascii() || !at.ends_with('Z') {
        return false;
    }
    let shape = digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19);
    let frac = &at[19..at.len() - 1];
    let frac_ok = frac.is_empty()
        || (frac.len() >= 2
            && frac.starts_with('.')
            && frac[1..].bytes().all(|c| c.is_ascii_digit()));
    shape
        && frac_ok
        && (1..=12).contains(&num(5..7))
        && (1..=31).contains(&num(8..10))
        && num(11..13) < 24
        && num(14..16) < 60
        && num(17..19) < 61
}

fn required(value: &str, err: impl Fn() -> ReviewError) -> Result<&str, ReviewError> {
    let v = value.trim();
    if v.is_empty() {
        Err(err())
    } else {
        Ok(v)
    }
}

impl Review {
    pub fn new(candidate: Option<Candidate>, mode: IdentityMode) -> Review {
        Review {
            candidate,
            mode,
            reveals: Vec::new(),
            overrides: Vec::new(),
        }
    }

    /// Whether the identity may be shown.
    pub fn revealed(&self) -> bool {
        match (&self.candidate, self.mode) {
            (None, _) => false,
            (Some(_), IdentityMode::Named) => true,
            (Some(c), IdentityMode::NameBlind) => {
                self.reveals.iter().any(|r| r.candidate_id == c.id)
            }
        }
    }

    /// How the candidate is shown: the id in name-blind mode until revealed, else the name.
    pub fn shown_identity(&self) -> String {
        match &self.candidate {
            None => "unknown candidate".into(),
            Some(c) if self.revealed() && c.name.trim().is_empty() => match &c.email {
                Some(e) => format!("<{e}> ({})", c.id),
                None => format!("candidate {} (no name on file)", c.id),
            },
            Some(c) if self.revealed() => match &c.email {
                Some(e) => format!("{} <{}> ({})", c.name, e, c.id),
                None => format!("{} ({})", c.name, c.id),
            },
            Some(c) => format!("candidate {}", c.id),
        }
    }

    /// Records a reveal and returns the audit entry to store. Revealing twice is allowed (each
    /// look is logged).
    pub fn reveal(
        &mut self,
        candidate_id: &str,
        by: &str,
        at: &str,
        reason: &str,
    ) -> Result<&RevealEvent, ReviewError> {
        let expected = self
            .candidate
            .as_ref()
            .map(|c| c.id.clone())
            .unwrap_or_default();
        if candidate_id != expected {
            return Err(ReviewError::WrongCandidate {
                given: candidate_id.to_string(),
                expected,
            });
        }
        let by = required(by, || ReviewError::NoActor("by"))?;
        let reason = required(reason, || ReviewError::NoReason("reason"))?;
        if !valid_time(at) {
            return Err(ReviewError::BadTime(at.to_string()));
        }
        self.reveals.push(RevealEvent {
            candidate_id: candidate_id.to_string(),
            by: by.to_string(),
            at: at.to_string(),
            reason: reason.to_string(),
        });
        Ok(&self.reveals[self.reveals.len() - 1])
    }

    /// The recommendation in force: the last override's, else the engine's.
    pub fn effective(&self, report: &Report) -> Recommendation {
        self.overrides
            .last()
            .map_or(report.decision.recommendation, |o| o.to)
    }

    /// Records a human override and returns it (to store).
    pub fn override_recommendation(
        &mut self,
        report: &Report,
        to: Recommendation,
        by: &str,
        at: &str,
        why: &str,
    ) -> Result<&HumanOverride, ReviewError> {
        let by = required(by, || ReviewError::NoActor("by"))?;
        let why = required(why, || ReviewError::NoReason("why"))?;
        if !valid_time(at) {
            return Err(ReviewError::BadTime(at.to_string()));
        }
        let from = self.effective(report);
        if from == to {
            return Err(ReviewError::Unchanged(to.as_str()));
        }
        self.overrides.push(HumanOverride {
            by: by.to_string(),
            at: at.to_string(),
            from,
            to,
            why: why.to_string(),
        });
        Ok(&self.overrides[self.overrides.len() - 1])
    }

    /// The report as this review may show it: in name-blind mode before a reveal, every
    /// occurrence of the candidate's name (each part of it, whole words, any case) in any text
    /// of the report becomes "[candidate]".
    pub fn visible_report(&self, report: &Report) -> Report {
        match &self.candidate {
            Some(c) if !self.revealed() => redact(report, c),
            _ => report.clone(),
        }
    }
}

/// The recommendation named as [`Recommendation::as_str`] writes it ("Strong Yes", "Yes",
/// "Maybe", "No"; case and surrounding space ignored; "strong_yes" accepted too).
pub fn parse_recommendation(s: &str) -> Option<Recommendation> {
    let norm: String = s
        .trim()
        .chars()
        .map(|c| {
            if c == '_' || c == '-' {
                ' '
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect();
    [
        Recommendation::StrongYes,
        Recommendation::Yes,
        Recommendation::Maybe,
        Recommendation::No,
    ]
    .into_iter()
    .find(|r| r.as_str().to_ascii_lowercase() == norm)
}

/// Milliseconds since the Unix epoch as an RFC 3339 UTC time (`2026-12-01T20:30:00.123Z`),
/// the form [`Review`] stores; times before 1970 are clamped to the epoch.
pub fn rfc3339_from_ms(ms: i64) -> String {
    let ms = ms.max(0);
    let (secs, milli) = (ms / 1000, ms % 1000);
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{milli:03}Z",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60
    )
}

/// Every string in `report` with the candidate's name parts and email replaced.
pub fn redact(report: &Report, candidate: &Candidate) -> Report {
    let mut parts: Vec<String> = candidate
        .name
        .split(|c: char| !c.is_alphanumeric() && c != '\'' && c != '-')
        .filter(|p| p.chars().count() >= 2)
        .map(str::to_lowercase)
        .collect();
    parts.sort();
    parts.dedup();
    let email = candidate.email.as_deref().map(str::to_lowercase);
    let Ok(mut value) = serde_json::to_value(report) else {
        return report.clone();
    };
    scrub(&mut value, &parts, email.as_deref());
    serde_json::from_value(value).unwrap_or_else(|_| report.clone())
}

fn scrub(v: &mut serde_json::Value, parts: &[String], email: Option<&str>) {
    match v {
        serde_json::Value::String(s) => *s = redact_text(s, parts, email),
        serde_json::Value::Array(items) => {
            for i in items {
                scrub(i, parts, email);
            }
        }
        serde_json::Value::Object(map) => {
            for (_, i) in map.iter_mut() {
                scrub(i, parts, email);
            }
        }
        _ => {}
    }
}

/// Replaces whole-word, case-insensitive occurrences of `parts` (and the email) in `text`.
pub fn redact_text(text: &str, parts: &[String], email: Option<&str>) -> String {
    const MASK: &str = "[candidate]";
    let mut out = String::with_capacity(text.len());
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        if word.is_empty() {
            return;
        }
        // Punctuation taken in while reading an email-shaped word ("Lee." at a sentence end).
        let core = word.trim_end_matches(['.', '-', '_', '+', '@']);
        let tail = &word[core.len()..];
        let lower = core.to_lowercase();
        let possessive = lower.ends_with("'s");
        let bare = lower.trim_end_matches("'s").trim_end_matches('\'');
        let is_email = email.is_some_and(|e| lower == e);
        if is_email || parts.iter().any(|p| p == bare || *p == lower) {
            out.push_str(MASK);
            if possessive && !is_email && parts.iter().all(|p| *p != lower) {
                out.push_str("'s");
            }
        } else {
            out.push_str(core);
        }
        out.push_str(tail);
        word.clear();
    };
    for c in text.chars() {
        let in_word = c.is_alphanumeric()
            || c == '\''
            || (email.is_some() && matches!(c, '@' | '.' | '_' | '+' | '-') && !word.is_empty());
        if in_word {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

/// The review's block: identity, effective recommendation, overrides, reveal log (Markdown).
fn md_block(report: &Report, review: &Review) -> String {
    use std::fmt::Write;
    let mut o = String::new();
    let mode = match (review.mode, review.revealed()) {
        (IdentityMode::NameBlind, false) => " (name-blind: identity hidden until revealed)",
        (IdentityMode::NameBlind, true) => " (revealed)",
        (IdentityMode::Named, _) => "",
    };
    let _ = writeln!(o, "**Candidate:** {}{mode}\n", review.shown_identity());
    if let Some(last) = review.overrides.last() {
        let _ = writeln!(
            o,
            "**Recommendation after human review: {}** (overridden by {} at {}: “{}”; viva recommended {})\n",
            last.to.as_str(),
            last.by,
            last.at,
            last.why,
            report.decision.recommendation.as_str()
        );
    }
    o
}

fn md_logs(review: &Review) -> String {
    use std::fmt::Write;
    let mut o = String::new();
    if !review.overrides.is_empty() {
        let _ = writeln!(o, "\n## Human overrides\n");
        for h in &review.overrides {
            let _ = writeln!(
                o,
                "- {} — **{}** changed {} → {}: “{}”",
                h.at,
                h.by,
                h.from.as_str(),
                h.to.as_str(),
                h.why
            );
        }
    }
    if !review.reveals.is_empty() {
        let _ = writeln!(o, "\n## Identity reveals (audit log)\n");
        for r in &review.reveals {
            let _ = writeln!(
                o,
                "- {} — **{}** revealed {}: “{}”",
                r.at, r.by, r.candidate_id, r.reason
            );
        }
    }
    o
}

/// The report as Markdown with the review: identity (name-blind unless revealed), the
/// recommendation in force, every override with who/when/why, and the reveal log.
pub fn markdown(report: &Report, review: &Review) -> String {
    let visible = review.visible_report(report);
    let base = crate::render::markdown(&visible);
    // After the title line.
    let (title, rest) = base.split_once("\n\n").unwrap_or((base.as_str(), ""));
    let logs = md_logs(review);
    let (body, footer) = match rest.rfind("\n---\n") {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    format!(
        "{title}\n\n{}{body}{logs}{footer}",
        md_block(&visible, review)
    )
}

fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

/// The report as HTML with the review (see [`markdown`]); all text escaped.
pub fn html(report: &Report, review: &Review) -> String {
    use std::fmt::Write;
    let visible = review.visible_report(report);
    let base = crate::render::html(&visible);
    let mut block = String::new();
    let mode = match (review.mode, review.revealed()) {
        (IdentityMode::NameBlind, false) => " (name-blind: identity hidden until revealed)",
        (IdentityMode::NameBlind, true) => " (revealed)",
        (IdentityMode::Named, _) => "",
    };
    let _ = writeln!(
        block,
        "<p class=\"candidate\"><strong>Candidate:</strong> {}{}</p>",
        esc(&review.shown_identity()),
        esc(mode)
    );
    if let Some(last) = review.overrides.last() {
        let _ = writeln!(
            block,
            "<p class=\"override\"><strong>Recommendation after human review: {}</strong> (overridden by {} at {}: “{}”; viva recommended {})</p>",
            esc(last.to.as_str()),
            esc(&last.by),
            esc(&last.at),
            esc(&last.why),
            esc(visible.decision.recommendation.as_str())
        );
    }
    let mut logs = String::new();
    if !review.overrides.is_empty() {
        let _ = writeln!(logs, "<h2>Human overrides</h2><ul>");
        for h in &review.overrides {
            let _ = writeln!(
                logs,
                "<li>{} — <strong>{}</strong> changed {} → {}: “{}”</li>",
                esc(&h.at),
                esc(&h.by),
                esc(h.from.as_str()),
                esc(h.to.as_str()),
                esc(&h.why)
            );
        }
        let _ = writeln!(logs, "</ul>");
    }
    if !review.reveals.is_empty() {
        let _ = writeln!(logs, "<h2>Identity reveals (audit log)</h2><ul>");
        for r in &review.reveals {
            let _ = writeln!(
                logs,
                "<li>{} — <strong>{}</strong> revealed {}: “{}”</li>",
                esc(&r.at),
                esc(&r.by),
                esc(&r.candidate_id),
                esc(&r.reason)
            );
        }
        let _ = writeln!(logs, "</ul>");
    }
    let with_block = match base.find("</h1>\n") {
        Some(i) => format!("{}{block}{}", &base[..i + 6], &base[i + 6..]),
        None => format!("{block}{base}"),
    };
    match with_block.rfind("</body>") {
        Some(i) => format!("{}{logs}{}", &with_block[..i], &with_block[i..]),
        None => with_block + &logs,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_millis_format_as_rfc3339() {
        assert_eq!(rfc3339_from_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339_from_ms(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(
            rfc3339_from_ms(1_796_157_000_123),
            "2026-12-01T20:30:00.123Z"
        );
        assert!(valid_time(&rfc3339_from_ms(1_796_157_000_123)));
        assert_eq!(rfc3339_from_ms(-5), "1970-01-01T00:00:00.000Z");
    }

    #[test]
    fn recommendations_parse_by_name() {
        assert_eq!(
            parse_recommendation("Strong Yes"),
            Some(Recommendation::StrongYes)
        );
        assert_eq!(
            parse_recommendation(" strong_yes "),
            Some(Recommendation::StrongYes)
        );
        assert_eq!(parse_recommendation("no"), Some(Recommendation::No));
        assert_eq!(parse_recommendation("Maybe"), Some(Recommendation::Maybe));
        assert_eq!(parse_recommendation("hire"), None);
        assert_eq!(parse_recommendation(""), None);
    }

    #[test]
    fn times_are_checked() {
        assert!(valid_time("2026-12-01T20:30:00Z"));
        assert!(valid_time("2026-12-01T20:30:00.123Z"));
        for bad in [
            "",
            "yesterday",
            "2026-13-01T20:30:00Z",
            "2026-12-01 20:30:00Z",
            "2026-12-01T20:30:00+01:00",
            "2026-12-01T20:30:00.Z",
            "２０２６-12-01T20:30:00Z",
        ] {
            assert!(!valid_time(bad), "{bad}");
        }
    }

    #[test]
    fn names_are_masked_as_whole_words_only() {
        let parts = vec!["ann".to_string(), "lee".to_string()];
        assert_eq!(
            redact_text(
                "Hi, I'm Ann Lee. Ann's team planned annual leave.",
                &parts,
                None
            ),
            "Hi, I'm [candidate] [candidate]. [candidate]'s team planned annual leave."
        );
        assert_eq!(
            redact_text("I'm Ann Lee. Bye", &parts, Some("ann.lee@example.com")),
            "I'm [candidate] [candidate]. Bye"
        );
        assert_eq!(
            redact_text(
                "mail ann.lee@example.com please",
                &parts,
                Some("ann.lee@example.com")
            ),
            "mail [candidate] please"
        );
    }
}
