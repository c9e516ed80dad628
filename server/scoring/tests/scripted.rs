//! Three scripted interviews of the demo job (strong, mixed, weak): the ranking holds, every
//! score cites timestamped quotes, and scoring is deterministic byte for byte.

mod common;

use common::{interview, Candidate};
use viva_interview::demo_job;
use viva_scoring::{render, score, to_json, Format, Recommendation, Report};

fn report(c: Candidate) -> Report {
    score(&demo_job(), &interview(c)).expect("scores")
}

#[test]
fn strong_ranks_first_weak_last() {
    let strong = report(Candidate::Strong);
    let mixed = report(Candidate::Mixed);
    let weak = report(Candidate::Weak);
    for (name, r) in [("strong", &strong), ("mixed", &mixed), ("weak", &weak)] {
        eprintln!(
            "{name}: composite {} → {} (by score {}), confidence {}",
            r.composite,
            r.decision.recommendation.as_str(),
            r.decision.by_score.as_str(),
            r.confidence.overall
        );
        for d in &r.dimensions {
            eprintln!("    {:<26} {:.2}  {}", d.name, d.score, d.reason);
        }
    }
    assert!(
        strong.composite > mixed.composite,
        "{} vs {}",
        strong.composite,
        mixed.composite
    );
    assert!(
        mixed.composite > weak.composite,
        "{} vs {}",
        mixed.composite,
        weak.composite
    );
    assert!(matches!(
        strong.decision.recommendation,
        Recommendation::StrongYes | Recommendation::Yes
    ));
    assert_eq!(weak.decision.recommendation, Recommendation::No);
    assert!(
        strong.competencies.iter().all(|c| c.passed),
        "{:#?}",
        strong.competencies
    );
}

#[test]
fn every_score_cites_timestamped_quotes() {
    let r = report(Candidate::Strong);
    for d in &r.dimensions {
        assert!(
            !d.evidence.is_empty(),
            "dimension {} has no evidence",
            d.name
        );
        assert!(
            d.evidence
                .iter()
                .all(|q| q.start_ms.is_some() && q.end_ms >= q.start_ms),
            "{}",
            d.name
        );
    }
    for q in &r.questions {
        assert!(
            !q.evidence.is_empty(),
            "question {} has no evidence",
            q.source
        );
        assert!(q.evidence.iter().all(|e| e.start_ms.is_some()));
        assert!((1..=5).contains(&q.score));
    }
    for s in r.required_skills.iter().filter(|s| s.score > 0) {
        assert!(
            s.evidence.iter().all(|e| e.start_ms.is_some()),
            "{}",
            s.name
        );
    }
    for k in &r.knockouts {
        assert_eq!(k.verdict, "passed");
        assert!(k.evidence[0].start_ms.is_some());
    }
    let weights: u32 = r.dimensions.iter().map(|d| d.weight).sum();
    assert_eq!(weights, 100);
    let sum: f64 = r.dimensions.iter().map(|d| d.contribution).sum();
    assert!((sum - r.composite).abs() < 0.1, "{sum} vs {}", r.composite);
}

#[test]
fn same_transcript_same_bytes() {
    let transcript = interview(Candidate::Mixed);
    let a = to_json(&score(&demo_job(), &transcript).expect("scores")).expect("json");
    // Through JSON and back, as a stored transcript would come back from the database.
    let stored = serde_json::to_string(&transcript).expect("encode");
    let reloaded = serde_json::from_str(&stored).expect("decode");
    let b = to_json(&score(&demo_job(), &reloaded).expect("scores")).expect("json");
    assert_eq!(a, b);
    assert!(a.contains("\"scorer_version\": \"viva-scoring/1\""));
    for f in [Format::Markdown, Format::Html] {
        let r = score(&demo_job(), &transcript).expect("scores");
        assert_eq!(
            render(&r, f).expect("render"),
            render(&r, f).expect("render")
        );
    }
}

#[test]
fn renders_escape_and_show_thresholds() {
    let r = report(Candidate::Weak);
    let md = render(&r, Format::Markdown).expect("md");
    assert!(md.contains("Strong Yes ≥ 80"));
    assert!(md.contains("## Knockout criteria"));
    let html = render(&r, Format::Html).expect("html");
    assert!(html.starts_with("<!doctype html>"));
    assert!(!html.contains("<script"));
}

#[test]
fn knockout_failure_is_no_whatever_the_score() {
    let mut t = interview(Candidate::Strong);
    for k in &mut t.knockouts {
        k.verdict = viva_interview::transcript::KnockoutVerdict::Failed;
    }
    let r = score(&demo_job(), &t).expect("scores");
    assert_eq!(r.decision.recommendation, Recommendation::No);
    assert!(r
        .decision
        .overridden_by
        .as_deref()
        .is_some_and(|o| o.contains("Backend experience")));
}

#[test]
fn other_format_version_is_an_error() {
    let mut t = interview(Candidate::Weak);
    t.format_version = 99;
    assert!(score(&demo_job(), &t).is_err());
}

/// Writes the three reports to `VIVA_SCORING_DUMP` (a folder) for people to read.
#[test]
fn dump_reports_when_asked() {
    let Some(dir) = std::env::var_os("VIVA_SCORING_DUMP") else {
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    for (name, c) in [
        ("strong", Candidate::Strong),
        ("mixed", Candidate::Mixed),
        ("weak", Candidate::Weak),
    ] {
        let t = interview(c);
        let r = score(&demo_job(), &t).expect("scores");
        std::fs::write(
            dir.join(format!("{name}-transcript.json")),
            serde_json::to_string_pretty(&t).expect("json"),
        )
        .expect("write");
        std::fs::write(
            dir.join(format!("{name}.md")),
            render(&r, Format::Markdown).expect("md"),
        )
        .expect("write");
        std::fs::write(dir.join(format!("{name}.json")), to_json(&r).expect("json"))
            .expect("write");
    }
}

#[test]
fn the_jobs_thresholds_set_the_band() {
    let transcript = interview(Candidate::Strong);
    let default = score(&demo_job(), &transcript).expect("scores");
    let mut strict = demo_job();
    strict.rubric.thresholds.strong_yes = 99;
    strict.rubric.thresholds.yes = 98;
    strict.rubric.thresholds.maybe = 97;
    let r = score(&strict, &transcript).expect("scores");
    assert_eq!(
        r.composite, default.composite,
        "the composite does not move"
    );
    assert_eq!(r.decision.recommendation, Recommendation::No);
    assert_eq!(r.decision.thresholds[0].min_composite, 99.0);
    assert_ne!(default.decision.recommendation, Recommendation::No);
}

#[test]
fn below_the_required_language_level_the_must_have_fails_with_evidence() {
    // The weak candidate's short answers assess well below C2.
    let transcript = interview(Candidate::Weak);
    let mut job = demo_job();
    job.language.min_cefr = Some(viva_interview::job::Cefr::C2);
    let r = score(&job, &transcript).expect("scores");
    let lang = r.language.as_ref().expect("assessed");
    assert_eq!(lang.meets_requirement, Some(false), "{lang:?}");
    let c = r
        .competencies
        .iter()
        .find(|c| c.name.contains("C2"))
        .expect("the language must-have is listed");
    assert!(!c.passed);
    assert!(
        c.reason.contains("below the required level"),
        "{}",
        c.reason
    );
    assert!(!c.evidence.is_empty(), "with the evidence");
    // Where the level is met, nothing is added.
    let strong = score(&demo_job(), &interview(Candidate::Strong)).expect("scores");
    assert_eq!(
        strong.language.as_ref().and_then(|l| l.meets_requirement),
        Some(true)
    );
    assert!(strong
        .competencies
        .iter()
        .all(|c| !c.name.contains("or above")));
}

#[test]
fn the_report_names_the_weakest_moments_and_where_the_composite_lost_most() {
    for c in [Candidate::Strong, Candidate::Mixed, Candidate::Weak] {
        let r = report(c);
        assert!(
            !r.weakest_quotes.is_empty(),
            "{c:?}: the weakest moment is named"
        );
        assert!(r.weakest_quotes.iter().all(|q| q.start_ms.is_some()));
        assert!(
            r.weakest_quotes
                .iter()
                .all(|q| !r.notable_quotes.contains(q)),
            "{c:?}: a moment is strong or weak, not both"
        );
        assert!((1..=5).contains(&r.notable_quotes.len()) || r.notable_quotes.is_empty());
        assert!(
            r.decision.rationale.contains("Most points lost on"),
            "{}",
            r.decision.rationale
        );
    }
}
