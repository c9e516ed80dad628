//! Markdown and HTML renderings of a report (the JSON is the report itself).

use std::fmt::Write;

use crate::evidence::clock;
use crate::report::{Quote, Report};

fn stamp(q: &Quote) -> String {
    match (q.start_ms, q.end_ms) {
        (Some(a), Some(b)) => format!(" [{}–{}]", clock(a), clock(b)),
        _ => format!(" [turn {}]", q.turn),
    }
}

fn md_quotes(out: &mut String, quotes: &[Quote]) {
    for q in quotes {
        let _ = writeln!(out, "  > “{}”{}", q.text.replace('\n', " "), stamp(q));
    }
}

/// Where the interview was not (only) in English: in which languages, and that quotes are the
/// candidate's own words, untranslated.
fn languages_note(r: &Report) -> Option<String> {
    if r.interview_languages.is_empty() {
        return None;
    }
    let names: Vec<&str> = r
        .interview_languages
        .iter()
        .map(|t| {
            viva_interview::Lang::from_tag(t)
                .map(|l| l.name_in(viva_interview::Lang::En))
                .unwrap_or(t.as_str())
        })
        .collect();
    Some(format!(
        "Interview held in {}; quotes are the candidate's own words, untranslated.",
        names.join(", then ")
    ))
}

/// The report as Markdown.
pub fn markdown(r: &Report) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "# Interview report — {}\n", r.job_title);
    if let Some(note) = languages_note(r) {
        let _ = writeln!(o, "_{note}_\n");
    }
    if !r.accommodations.is_empty() {
        let _ = writeln!(
            o,
            "_Accommodations: {}. They changed the interview, not the score._\n",
            r.accommodations.join("; ")
        );
    }
    let _ = writeln!(
        o,
        "**Recommendation: {}** · composite **{}/100** · confidence {:.0}%\n",
        r.decision.recommendation.as_str(),
        r.composite,
        r.confidence.overall * 100.0
    );
    let thresholds: Vec<String> = r
        .decision
        .thresholds
        .iter()
        .map(|t| format!("{} ≥ {}", t.recommendation.as_str(), t.min_composite))
        .collect();
    let _ = writeln!(
        o,
        "Thresholds: {}.  \n{}\n",
        thresholds.join(", "),
        r.decision.rationale
    );
    let _ = writeln!(o, "{}\n", r.summary);

    let _ = writeln!(o, "## Knockout criteria\n");
    for k in &r.knockouts {
        let _ = writeln!(
            o,
            "- **{}** — {} (fail if: {})",
            k.name, k.verdict, k.fail_if
        );
        md_quotes(&mut o, &k.evidence);
    }
    let _ = writeln!(o, "\n## Must-have competencies\n");
    for c in &r.competencies {
        let _ = writeln!(
            o,
            "- **{}** — {}: {}",
            c.name,
            if c.passed { "pass" } else { "fail" },
            c.reason
        );
        md_quotes(&mut o, &c.evidence);
    }
    let _ = writeln!(o, "\n## Scoring dimensions\n");
    let _ = writeln!(
        o,
        "| Dimension | Weight | Score (1–5) | 0–100 | Points |\n|---|---|---|---|---|"
    );
    for d in &r.dimensions {
        let _ = writeln!(
            o,
            "| {} | {}% | {:.2} | {} | {} |",
            d.name, d.weight, d.score, d.score_100, d.contribution
        );
    }
    let _ = writeln!(o);
    for d in &r.dimensions {
        let _ = writeln!(o, "- **{}**: {}", d.name, d.reason);
        md_quotes(&mut o, &d.evidence);
    }
    for (title, skills) in [
        ("Required skills", &r.required_skills),
        ("Preferred skills", &r.preferred_skills),
    ] {
        let _ = writeln!(o, "\n## {title} (0–10)\n");
        for s in skills {
            let _ = writeln!(
                o,
                "- **{}** ({}) — {}/10: {}",
                s.name, s.level, s.score, s.reason
            );
            md_quotes(&mut o, &s.evidence);
        }
    }
    let _ = writeln!(o, "\n## Questions (1–5)\n");
    for q in &r.questions {
        let _ = writeln!(
            o,
            "- **{}** — {}/5 ({}), {} follow-up(s): {}",
            q.source, q.score, q.anchor, q.follow_ups, q.question
        );
        for reason in &q.reasons {
            let _ = writeln!(o, "  - {reason}");
        }
        md_quotes(&mut o, &q.evidence);
    }
    let _ = writeln!(o, "\n## Concept depth\n");
    for c in &r.concepts {
        let areas: Vec<String> = c
            .areas
            .iter()
            .map(|a| format!("{} {}", a.area, a.depth))
            .collect();
        let _ = writeln!(o, "- **{}**: {} ({})", c.concept, c.depth, areas.join(", "));
    }
    if let Some(l) = &r.language {
        let _ = writeln!(
            o,
            "\n## Language\n\n{}: assessed at {} (range {}){}",
            l.language,
            l.assessed,
            l.range,
            l.required
                .as_ref()
                .map(|x| format!(", required {x}"))
                .unwrap_or_default()
        );
    }
    let _ = writeln!(o, "\n## Strengths\n");
    for s in &r.strengths {
        let _ = writeln!(o, "- {s}");
    }
    let _ = writeln!(o, "\n## Risks\n");
    for s in &r.risks {
        let _ = writeln!(o, "- {s}");
    }
    let _ = writeln!(o, "\n## Notable quotes\n");
    md_quotes(&mut o, &r.notable_quotes);
    if !r.weakest_quotes.is_empty() {
        let _ = writeln!(o, "\n## Weakest moments\n");
        md_quotes(&mut o, &r.weakest_quotes);
    }
    let c = &r.coverage;
    let _ = writeln!(
        o,
        "\n## Coverage\n\nOverall {}% · custom questions {}/{} · blueprints {}/{} · competencies {}/{} · required skills {}/{} · preferred skills {}/{} · language prompts {}/{} · {} follow-ups",
        c.overall_pct, c.custom_questions.done, c.custom_questions.total, c.blueprints.done, c.blueprints.total,
        c.competencies.done, c.competencies.total, c.required_skills.done, c.required_skills.total,
        c.preferred_skills.done, c.preferred_skills.total, c.language_prompts.done, c.language_prompts.total, c.follow_ups
    );
    for g in &c.gaps {
        let _ = writeln!(o, "- gap: {g}");
    }
    let _ = writeln!(
        o,
        "\nConfidence: coverage {:.0}%, transcription {:.0}%. {}",
        r.confidence.coverage * 100.0,
        r.confidence.transcription_quality * 100.0,
        r.confidence.notes.join("; ")
    );
    let _ = writeln!(o, "\n## Suggested next step\n\n{}", r.next_step);
    if !r.integrity_signals.is_empty() {
        let _ = writeln!(o, "\n## Integrity signals (information only, not scored)\n");
        for s in &r.integrity_signals {
            let _ = writeln!(
                o,
                "- [{}] {} — {}. _{}_",
                clock(s.start_ms),
                s.question,
                s.detail,
                s.meaning
            );
        }
    }
    if !r.candidate_questions.is_empty() {
        let _ = writeln!(o, "\n## Candidate's questions\n");
        for q in &r.candidate_questions {
            let _ = writeln!(o, "- {q}");
        }
    }
    let _ = writeln!(
        o,
        "\n---\nScored by {} with {}.",
        r.scorer_version, r.grader_version
    );
    o
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

fn html_quotes(o: &mut String, quotes: &[Quote]) {
    for q in quotes {
        let attr = match q.start_ms {
            Some(ms) => format!(" data-start-ms=\"{ms}\""),
            None => String::new(),
        };
        let _ = writeln!(
            o,
            "<blockquote{attr}>“{}”<small>{}</small></blockquote>",
            esc(&q.text),
            esc(&stamp(q))
        );
    }
}

/// The report as a standalone HTML page (all text escaped).
pub fn html(r: &Report) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Report — {}</title>", esc(&r.job_title));
    let _ = writeln!(o, "<style>body{{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}}table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:.3rem .6rem}}blockquote{{margin:.3rem 0 .3rem 1.5rem;color:#333}}small{{color:#777;margin-left:.5rem}}.pass{{color:#060}}.fail{{color:#a00}}</style></head><body>");
    let _ = writeln!(o, "<h1>{}</h1>", esc(&r.job_title));
    if let Some(note) = languages_note(r) {
        let _ = writeln!(o, "<p><em>{}</em></p>", esc(&note));
    }
    if !r.accommodations.is_empty() {
        let _ = writeln!(
            o,
            "<p><em>Accommodations: {}. They changed the interview, not the score.</em></p>",
            esc(&r.accommodations.join("; "))
        );
    }
    let _ = writeln!(
        o,
        "<p><strong>Recommendation: {}</strong> · composite <strong>{}/100</strong> · confidence {:.0}%</p>",
        esc(r.decision.recommendation.as_str()),
        r.composite,
        r.confidence.overall * 100.0
    );
    let thresholds: Vec<String> = r
        .decision
        .thresholds
        .iter()
        .map(|t| format!("{} ≥ {}", t.recommendation.as_str(), t.min_composite))
        .collect();
    let _ = writeln!(
        o,
        "<p>Thresholds: {}. {}</p><p>{}</p>",
        esc(&thresholds.join(", ")),
        esc(&r.decision.rationale),
        esc(&r.summary)
    );
    let _ = writeln!(o, "<h2>Knockout criteria</h2><ul>");
    for k in &r.knockouts {
        let _ = writeln!(
            o,
            "<li><strong>{}</strong> — {} (fail if: {})",
            esc(&k.name),
            esc(&k.verdict),
            esc(&k.fail_if)
        );
        html_quotes(&mut o, &k.evidence);
        let _ = writeln!(o, "</li>");
    }
    let _ = writeln!(o, "</ul><h2>Must-have competencies</h2><ul>");
    for c in &r.competencies {
        let (class, word) = if c.passed {
            ("pass", "pass")
        } else {
            ("fail", "fail")
        };
        let _ = writeln!(
            o,
            "<li><strong>{}</strong> — <span class=\"{class}\">{word}</span>: {}",
            esc(&c.name),
            esc(&c.reason)
        );
        html_quotes(&mut o, &c.evidence);
        let _ = writeln!(o, "</li>");
    }
    let _ = writeln!(o, "</ul><h2>Scoring dimensions</h2><table><tr><th>Dimension</th><th>Weight</th><th>Score (1–5)</th><th>0–100</th><th>Points</th></tr>");
    for d in &r.dimensions {
        let _ = writeln!(
            o,
            "<tr><td>{}</td><td>{}%</td><td>{:.2}</td><td>{}</td><td>{}</td></tr>",
            esc(&d.name),
            d.weight,
            d.score,
            d.score_100,
            d.contribution
        );
    }
    let _ = writeln!(o, "</table><ul>");
    for d in &r.dimensions {
        let _ = writeln!(
            o,
            "<li><strong>{}</strong>: {}",
            esc(&d.name),
            esc(&d.reason)
        );
        html_quotes(&mut o, &d.evidence);
        let _ = writeln!(o, "</li>");
    }
    let _ = writeln!(o, "</ul>");
    for (title, skills) in [
        ("Required skills", &r.required_skills),
        ("Preferred skills", &r.preferred_skills),
    ] {
        let _ = writeln!(o, "<h2>{title} (0–10)</h2><ul>");
        for s in skills {
            let _ = writeln!(
                o,
                "<li><strong>{}</strong> ({}) — {}/10: {}",
                esc(&s.name),
                esc(&s.level),
                s.score,
                esc(&s.reason)
            );
            html_quotes(&mut o, &s.evidence);
            let _ = writeln!(o, "</li>");
        }
        let _ = writeln!(o, "</ul>");
    }
    let _ = writeln!(o, "<h2>Questions (1–5)</h2><ul>");
    for q in &r.questions {
        let _ = writeln!(
            o,
            "<li><strong>{}</strong> — {}/5 ({}): {}<ul>",
            esc(&q.source),
            q.score,
            esc(&q.anchor),
            esc(&q.question)
        );
        for reason in &q.reasons {
            let _ = writeln!(o, "<li>{}</li>", esc(reason));
        }
        let _ = writeln!(o, "</ul>");
        html_quotes(&mut o, &q.evidence);
        let _ = writeln!(o, "</li>");
    }
    let _ = writeln!(o, "</ul><h2>Concept depth</h2><ul>");
    for c in &r.concepts {
        let areas: Vec<String> = c
            .areas
            .iter()
            .map(|a| format!("{} {}", a.area, a.depth))
            .collect();
        let _ = writeln!(
            o,
            "<li><strong>{}</strong>: {} ({})</li>",
            esc(&c.concept),
            esc(&c.depth),
            esc(&areas.join(", "))
        );
    }
    let _ = writeln!(o, "</ul>");
    if let Some(l) = &r.language {
        let _ = writeln!(
            o,
            "<h2>Language</h2><p>{}: assessed at {} (range {}){}</p>",
            esc(&l.language),
            esc(&l.assessed),
            esc(&l.range),
            esc(&l
                .required
                .as_ref()
                .map(|x| format!(", required {x}"))
                .unwrap_or_default())
        );
    }
    for (title, list) in [("Strengths", &r.strengths), ("Risks", &r.risks)] {
        let _ = writeln!(o, "<h2>{title}</h2><ul>");
        for s in list {
            let _ = writeln!(o, "<li>{}</li>", esc(s));
        }
        let _ = writeln!(o, "</ul>");
    }
    let _ = writeln!(o, "<h2>Notable quotes</h2>");
    html_quotes(&mut o, &r.notable_quotes);
    if !r.weakest_quotes.is_empty() {
        let _ = writeln!(o, "<h2>Weakest moments</h2>");
        html_quotes(&mut o, &r.weakest_quotes);
    }
    let c = &r.coverage;
    let _ = writeln!(
        o,
        "<h2>Coverage</h2><p>Overall {}% · custom questions {}/{} · blueprints {}/{} · competencies {}/{} · required skills {}/{} · preferred skills {}/{} · language prompts {}/{}</p><ul>",
        c.overall_pct, c.custom_questions.done, c.custom_questions.total, c.blueprints.done, c.blueprints.total,
        c.competencies.done, c.competencies.total, c.required_skills.done, c.required_skills.total,
        c.preferred_skills.done, c.preferred_skills.total, c.language_prompts.done, c.language_prompts.total
    );
    for g in &c.gaps {
        let _ = writeln!(o, "<li>gap: {}</li>", esc(g));
    }
    let _ = writeln!(
        o,
        "</ul><h2>Suggested next step</h2><p>{}</p>",
        esc(&r.next_step)
    );
    if !r.integrity_signals.is_empty() {
        let _ = writeln!(
            o,
            "<h2>Integrity signals</h2><p><em>Information only: not part of any score or the recommendation.</em></p><ul>"
        );
        for s in &r.integrity_signals {
            let _ = writeln!(
                o,
                "<li>[{}] {} — {}. <em>{}</em></li>",
                clock(s.start_ms),
                esc(&s.question),
                esc(&s.detail),
                esc(&s.meaning)
            );
        }
        let _ = writeln!(o, "</ul>");
    }
    let _ = writeln!(
        o,
        "<footer><small>Scored by {} with {}.</small></footer></body></html>",
        esc(&r.scorer_version),
        esc(&r.grader_version)
    );
    o
}
