//! Human review of a report: name-blind identity until an audited reveal, and every override
//! of the recommendation stored with who, when and why and shown in the rendered report.

mod common;

use common::{interview, Candidate};
use viva_interview::demo_job;
use viva_scoring::review::{self, IdentityMode, Review, ReviewError};
use viva_scoring::{score, Recommendation, Report};

fn candidate() -> review::Candidate {
    review::Candidate {
        id: "cand-7f3a".into(),
        name: "Maria Lopez".into(),
        email: Some("maria.lopez@example.com".into()),
    }
}

/// A scored report whose text mentions the candidate, as real transcripts do.
fn report_naming_the_candidate() -> Report {
    let mut r = score(&demo_job(), &interview(Candidate::Strong)).expect("scores");
    r.summary = format!("Maria presented clearly. {}", r.summary);
    if let Some(q) = r.notable_quotes.first_mut() {
        q.text = format!("Hi, I'm Maria Lopez, maria.lopez@example.com. {}", q.text);
    }
    if let Some(d) = r.dimensions.first_mut() {
        if let Some(q) = d.evidence.first_mut() {
            q.text = format!("As LOPEZ's team lead I said: {}", q.text);
        }
    }
    r
}

fn renderings(r: &Report, review: &Review) -> [String; 2] {
    [review::markdown(r, review), review::html(r, review)]
}

#[test]
fn name_blind_until_revealed_and_the_reveal_is_logged() {
    let r = report_naming_the_candidate();
    let mut rv = Review::new(Some(candidate()), IdentityMode::NameBlind);
    for text in renderings(&r, &rv) {
        for secret in ["Maria", "Lopez", "LOPEZ", "maria.lopez@example.com"] {
            assert!(!text.contains(secret), "{secret} shown before a reveal");
        }
        assert!(text.contains("candidate cand-7f3a"));
        assert!(text.contains("name-blind"));
        assert!(text.contains("[candidate]"));
    }
    // Redaction never touches scores or structure.
    let visible = rv.visible_report(&r);
    assert_eq!(visible.composite, r.composite);
    assert_eq!(visible.decision, r.decision);
    assert_eq!(visible.questions.len(), r.questions.len());

    // A reveal needs who and why, a valid time and the right candidate.
    assert_eq!(
        rv.reveal("cand-7f3a", " ", "2026-12-01T20:30:00Z", "scheduling"),
        Err(ReviewError::NoActor("by"))
    );
    assert_eq!(
        rv.reveal("cand-7f3a", "rita@corp", "2026-12-01T20:30:00Z", ""),
        Err(ReviewError::NoReason("reason"))
    );
    assert!(matches!(
        rv.reveal("cand-7f3a", "rita@corp", "Tuesday", "scheduling"),
        Err(ReviewError::BadTime(_))
    ));
    assert!(matches!(
        rv.reveal(
            "cand-0000",
            "rita@corp",
            "2026-12-01T20:30:00Z",
            "scheduling"
        ),
        Err(ReviewError::WrongCandidate { .. })
    ));
    assert!(!rv.revealed());
    assert!(rv.reveals.is_empty(), "a refused reveal is not logged");

    let event = rv
        .reveal(
            "cand-7f3a",
            "rita@corp",
            "2026-12-01T20:30:00Z",
            "schedule the on-site",
        )
        .expect("reveal")
        .clone();
    assert_eq!(event.by, "rita@corp");
    assert!(rv.revealed());
    for text in renderings(&r, &rv) {
        assert!(text.contains("Maria Lopez"));
        assert!(text.contains("Identity reveals (audit log)"));
        assert!(text.contains("rita@corp"));
        assert!(text.contains("2026-12-01T20:30:00Z"));
        assert!(text.contains("schedule the on-site"));
    }
    // The log survives storage.
    let stored = serde_json::to_string(&rv).unwrap();
    let back: Review = serde_json::from_str(&stored).unwrap();
    assert_eq!(back, rv);
}

#[test]
fn named_mode_shows_the_identity_without_a_reveal() {
    let r = report_naming_the_candidate();
    let rv = Review::new(Some(candidate()), IdentityMode::Named);
    let md = review::markdown(&r, &rv);
    assert!(md.contains("Maria Lopez"));
    assert!(!md.contains("name-blind"));
}

#[test]
fn overrides_are_stored_with_who_when_why_and_shown() {
    let r = report_naming_the_candidate();
    let engine = r.decision.recommendation;
    let mut rv = Review::new(Some(candidate()), IdentityMode::NameBlind);
    assert_eq!(rv.effective(&r), engine);
    assert_eq!(
        rv.override_recommendation(&r, engine, "sam@corp", "2026-12-01T21:00:00Z", "agree"),
        Err(ReviewError::Unchanged(engine.as_str()))
    );
    assert_eq!(
        rv.override_recommendation(
            &r,
            Recommendation::Maybe,
            "sam@corp",
            "2026-12-01T21:00:00Z",
            "  "
        ),
        Err(ReviewError::NoReason("why"))
    );
    let to = if engine == Recommendation::No {
        Recommendation::Maybe
    } else {
        Recommendation::No
    };
    let o = rv
        .override_recommendation(
            &r,
            to,
            "sam@corp",
            "2026-12-01T21:00:00Z",
            "Reference check contradicted the incident story",
        )
        .expect("override")
        .clone();
    assert_eq!((o.from, o.to, o.by.as_str()), (engine, to, "sam@corp"));
    assert_eq!(rv.effective(&r), to);
    // A second override starts from the first.
    let o2 = rv
        .override_recommendation(
            &r,
            Recommendation::Yes,
            "lee@corp",
            "2026-12-02T09:15:00Z",
            "Second reference was glowing",
        )
        .expect("override")
        .clone();
    assert_eq!(o2.from, to);
    assert_eq!(rv.effective(&r), Recommendation::Yes);
    // The scored report is untouched: the engine's recommendation is still what it was.
    assert_eq!(r.decision.recommendation, engine);
    for text in renderings(&r, &rv) {
        assert!(text.contains("Recommendation after human review: Yes"));
        assert!(text.contains("Human overrides"));
        for needle in [
            "sam@corp",
            "2026-12-01T21:00:00Z",
            "Reference check contradicted the incident story",
            "lee@corp",
            "2026-12-02T09:15:00Z",
            "Second reference was glowing",
        ] {
            assert!(text.contains(needle), "{needle} missing");
        }
        // Overrides do not reveal the candidate.
        assert!(!text.contains("Maria"));
    }
}

#[test]
fn review_rendering_is_deterministic_and_escapes_html() {
    let r = report_naming_the_candidate();
    let mut rv = Review::new(Some(candidate()), IdentityMode::NameBlind);
    rv.override_recommendation(
        &r,
        if r.decision.recommendation == Recommendation::No {
            Recommendation::Yes
        } else {
            Recommendation::No
        },
        "<script>x</script>",
        "2026-12-01T21:00:00Z",
        "a & b",
    )
    .expect("override");
    let a = review::html(&r, &rv);
    assert_eq!(a, review::html(&r, &rv));
    assert!(!a.contains("<script>"));
    assert!(a.contains("&lt;script&gt;"));
    assert_eq!(review::markdown(&r, &rv), review::markdown(&r, &rv));
}
