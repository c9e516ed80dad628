//! The recommendation and the words around it: rationale, strengths, risks, notable quotes,
//! the next step and the summary.

use super::common::*;
use super::thread::Scored;

/// The recommendation with its rationale, and the dimensions strongest first.
pub(super) fn decide<'d>(
    thresholds: &[(Recommendation, f64); 3],
    composite: f64,
    failed_knockout: &Option<String>,
    failed_competency: &Option<String>,
    dimensions: &'d [DimensionScore],
) -> (Decision, Vec<&'d DimensionScore>) {
    let by_score = thresholds
        .iter()
        .find(|(_, min)| composite >= *min)
        .map(|(r, _)| *r)
        .unwrap_or(Recommendation::No);
    let (recommendation, overridden_by) = if let Some(k) = &failed_knockout {
        (Recommendation::No, Some(k.clone()))
    } else if let (Some(c), true) = (&failed_competency, by_score < Recommendation::Maybe) {
        (Recommendation::Maybe, Some(format!("{c}: capped at Maybe")))
    } else {
        (by_score, None)
    };
    let mut dims_sorted: Vec<&DimensionScore> = dimensions.iter().collect();
    dims_sorted.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.name.cmp(&b.name)));
    let top = dims_sorted.first();
    let low = dims_sorted.last();
    let rationale = match (&overridden_by, top, low) {
        (Some(o), _, _) => format!(
            "{} because {o}; the composite alone gives {}.",
            recommendation.as_str(),
            by_score.as_str()
        ),
        (None, Some(t), Some(l)) => {
            // Which dimension cost the composite most: its weight minus what it contributed.
            let lost = dimensions
                .iter()
                .map(|d| (f64::from(d.weight) - d.contribution, d))
                .max_by(|a, b| a.0.total_cmp(&b.0).then(b.1.name.cmp(&a.1.name)));
            let lost = match lost {
                Some((points, d)) if points >= 0.05 => format!(
                    " Most points lost on {}: {:.1} of its {}.",
                    d.name, points, d.weight
                ),
                _ => String::new(),
            };
            format!(
                "Composite {composite}/100 is in the {} band. Strongest: {} ({:.1}/5); weakest: {} ({:.1}/5).{lost}",
                by_score.as_str(), t.name, t.score, l.name, l.score
            )
        }
        _ => format!("Composite {composite}/100."),
    };

    let decision = Decision {
        recommendation,
        by_score,
        thresholds: thresholds
            .iter()
            .map(|(r, m)| Threshold {
                recommendation: *r,
                min_composite: *m,
            })
            .chain(std::iter::once(Threshold {
                recommendation: Recommendation::No,
                min_composite: 0.0,
            }))
            .collect(),
        overridden_by,
        rationale,
    };
    (decision, dims_sorted)
}

/// What the report says in words.
pub(super) struct Narrative {
    pub strengths: Vec<String>,
    pub risks: Vec<String>,
    pub notable_quotes: Vec<Quote>,
    pub weakest_quotes: Vec<Quote>,
    pub next_step: String,
    pub summary: String,
}

pub(super) struct Findings<'a> {
    pub composite: f64,
    pub recommendation: Recommendation,
    pub failed_knockout: &'a Option<String>,
    pub dims_sorted: &'a [&'a DimensionScore],
    pub concepts: &'a [ConceptDepth],
    pub required_skills: &'a [SkillScore],
    pub preferred_skills: &'a [SkillScore],
    pub knockouts: &'a [KnockoutScore],
    pub competencies: &'a [CompetencyScore],
    pub coverage: &'a CoverageStats,
}

pub(super) fn narrative(f: &Findings<'_>, scored: &[Scored<'_>]) -> Narrative {
    let Findings {
        composite,
        recommendation,
        failed_knockout,
        dims_sorted,
        concepts,
        required_skills,
        preferred_skills,
        knockouts,
        competencies,
        coverage,
    } = *f;
    let mut strengths = Vec::new();
    for d in dims_sorted.iter().filter(|d| d.score >= 3.75) {
        strengths.push(format!("{} ({:.1}/5)", d.name, d.score));
    }
    for c in concepts.iter().filter(|c| c.depth == "deep") {
        strengths.push(format!("Deep answers on {}", c.concept));
    }
    for s in required_skills
        .iter()
        .chain(preferred_skills)
        .filter(|s| s.score >= 8)
    {
        strengths.push(format!("{} ({}/10)", s.name, s.score));
    }
    strengths.truncate(6);
    let mut risks = Vec::new();
    for k in knockouts.iter().filter(|k| k.verdict != "passed") {
        risks.push(format!(
            "Knockout {}: {} ({})",
            k.name, k.verdict, k.fail_if
        ));
    }
    // Red flags come right after knockouts: each is something the candidate said.
    for s in scored {
        if let Some(g) = &s.grade {
            // A red flag always carries the words that show it (and where they were said).
            for f in g.red_flags.iter().filter(|f| f.raised) {
                let quote = f.spans.first().map_or(String::new(), |q| match q.start_ms {
                    Some(ms) => format!(
                        " — \"{}\" at {}:{:02}",
                        q.quote,
                        ms / 60_000,
                        ms / 1000 % 60
                    ),
                    None => format!(" — \"{}\"", q.quote),
                });
                risks.push(format!("{}: {}{quote}", s.score.source, f.flag));
            }
        }
    }
    for c in competencies.iter().filter(|c| !c.passed) {
        risks.push(format!("Must-have not shown: {} — {}", c.name, c.reason));
    }
    for d in dims_sorted.iter().rev().filter(|d| d.score < 2.75) {
        risks.push(format!("Weak {} ({:.1}/5)", d.name, d.score));
    }
    for s in required_skills.iter().filter(|s| s.score < 5) {
        risks.push(format!("Required skill {} at {}/10", s.name, s.score));
    }
    risks.truncate(8);
    let mut ranked: Vec<&Scored<'_>> = scored.iter().collect();
    ranked.sort_by(|a, b| {
        b.score
            .raw
            .total_cmp(&a.score.raw)
            .then(a.score.turn.cmp(&b.score.turn))
    });
    let mut notable_quotes = Vec::new();
    for s in ranked.iter().filter(|s| s.score.score >= 3) {
        // Prefer a quote with a number in it: outcomes are the most telling evidence.
        let q = s
            .score
            .evidence
            .iter()
            .find(|q| q.text.chars().any(|c| c.is_ascii_digit()))
            .or(s.score.evidence.first());
        if let Some(q) = q {
            push_unique(&mut notable_quotes, q.clone());
        }
        // The three to five strongest moments: every well-scored answer up to five.
        if notable_quotes.len() == 5 {
            break;
        }
    }
    // The weakest moments: what raised a red flag first, then the lowest-scored answers.
    let mut weakest_quotes = Vec::new();
    for s in scored {
        for f in &s.score.red_flags {
            push_unique(&mut weakest_quotes, f.quote.clone());
        }
    }
    // Then the lowest-scored answers (the weakest is named even in a strong interview, unless
    // it is already among the strongest moments).
    let mut lowest = 0;
    for s in ranked.iter().rev() {
        if weakest_quotes.len() >= 3 || lowest == 2 {
            break;
        }
        if let Some(q) = s.score.evidence.first() {
            if !notable_quotes.contains(q) {
                push_unique(&mut weakest_quotes, q.clone());
                lowest += 1;
            }
        }
    }
    weakest_quotes.truncate(3);
    let focus: Vec<String> = dims_sorted
        .iter()
        .rev()
        .take(2)
        .map(|d| d.name.clone())
        .collect();
    let next_step = match (recommendation, &failed_knockout) {
        (_, Some(k)) => format!("Do not advance: {k}. A person confirms from the recording before the candidate is told."),
        (Recommendation::StrongYes | Recommendation::Yes, _) => format!(
            "Advance to the technical round; concentrate on {}.",
            focus.join(" and ")
        ),
        (Recommendation::Maybe, _) => format!(
            "A person reviews the recording before deciding; if advanced, probe {} first.",
            focus.join(" and ")
        ),
        (Recommendation::No, _) => "Do not advance on this evidence; a person reviews the recording before the candidate is told.".to_string(),
    };
    let summary = format!(
        "{composite}/100, {}. {} of {} questions answered with {} follow-ups; {} of {} must-have competencies shown.",
        recommendation.as_str(),
        coverage.questions_answered.done,
        coverage.questions_answered.total,
        coverage.follow_ups,
        competencies.iter().filter(|c| c.passed).count(),
        competencies.len()
    );

    Narrative {
        strengths,
        risks,
        notable_quotes,
        weakest_quotes,
        next_step,
        summary,
    }
}
