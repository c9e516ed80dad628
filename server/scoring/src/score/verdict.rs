//! From the evidence to the verdict: rubric dimensions and the composite, coverage, confidence,
//! the recommendation, and what the report says about them.

use super::common::*;
use super::thread::{thread_topic, topic_words, Scored};

/// Each rubric dimension (1–5, 0–100, its share of the composite) and the composite.
pub(super) fn dimensions(
    job: &JobConfig,
    scored: &[Scored<'_>],
    content: &[(&Turn, &Answer)],
    cefr: Option<&viva_grading::cefr::CefrEstimate>,
) -> (Vec<DimensionScore>, f64) {
    let total_weight: u32 = job.rubric.dimensions.iter().map(|d| d.weight).sum();
    let mut dimensions = Vec::new();
    for d in &job.rubric.dimensions {
        let name = d.name.to_lowercase();
        let mut picked: Vec<(usize, f64)> = Vec::new(); // (index into scored, weight)
        let mut reason;
        let value: f64;
        let mut evidence = Vec::new();
        // The dimension's kind by its name, in any interview language (es: comunicación,
        // idioma, técnica, preguntas estructuradas; de: Kommunikation, Sprache, technisch).
        let has = |stems: &[&str]| stems.iter().any(|s| name.contains(s));
        if has(&[
            "communicat",
            "language",
            "comunicaci",
            "idioma",
            "kommunikation",
            "sprach",
        ]) {
            let clar: Vec<f64> = scored.iter().filter_map(|s| s.clarity).collect();
            let clarity = if clar.is_empty() {
                0.0
            } else {
                clar.iter().sum::<f64>() / clar.len() as f64
            };
            let level = cefr
                .map(|c| ((c.level - 1.0) / 5.0).clamp(0.0, 1.0))
                .unwrap_or(0.0);
            value = if content.is_empty() {
                1.0
            } else {
                1.0 + 4.0 * (0.5 * clarity + 0.5 * level)
            };
            reason = format!(
                "clarity {:.2} (1 − vagueness, mean of answers); language level {}",
                clarity,
                cefr.map(|c| format!("{:?} ({:.1})", c.band, c.level))
                    .unwrap_or_else(|| "not assessed".into())
            );
            // The clearest answers speak for communication.
            let mut best: Vec<&Scored<'_>> =
                scored.iter().filter(|s| s.clarity.is_some()).collect();
            best.sort_by(|a, b| {
                b.clarity
                    .unwrap_or(0.0)
                    .total_cmp(&a.clarity.unwrap_or(0.0))
                    .then(a.score.turn.cmp(&b.score.turn))
            });
            for s in best.into_iter().take(2) {
                if let Some(q) = s.score.evidence.first() {
                    push_unique(&mut evidence, q.clone());
                }
            }
        } else {
            if has(&["technical", "técnica", "tecnica", "technisch"]) {
                // Technical depth is read across every technical question, not one topic.
                picked = (0..scored.len()).map(|i| (i, 1.0)).collect();
                reason = "mean of all technical questions".to_string();
            } else if has(&["blueprint", "estructurada", "strukturiert"]) {
                picked = scored
                    .iter()
                    .enumerate()
                    .filter(|(_, s)| s.thread.is_blueprint)
                    .map(|(i, _)| (i, 1.0))
                    .collect();
                reason = "mean of the blueprint questions".to_string();
            } else {
                let words = topic_words(&format!("{} {}", d.name, d.description));
                for (i, s) in scored.iter().enumerate() {
                    let topic = thread_topic(s);
                    let overlap = words.iter().filter(|w| topic.contains(w)).count();
                    if overlap > 0 {
                        picked.push((i, overlap as f64));
                    }
                }
                reason = if picked.is_empty() {
                    "no question matched this dimension; mean of all questions".to_string()
                } else {
                    "weighted mean of the questions on its topic".to_string()
                };
                if picked.is_empty() {
                    picked = (0..scored.len()).map(|i| (i, 1.0)).collect();
                }
            }
            let wsum: f64 = picked.iter().map(|p| p.1).sum();
            value = if wsum > 0.0 {
                picked
                    .iter()
                    .map(|(i, w)| scored[*i].score.raw * w)
                    .sum::<f64>()
                    / wsum
            } else {
                1.0
            };
            let parts: Vec<String> = picked
                .iter()
                .map(|(i, _)| format!("{} {}/5", scored[*i].score.source, scored[*i].score.score))
                .collect();
            if !parts.is_empty() {
                reason.push_str(&format!(": {}", parts.join(", ")));
            }
            let mut order: Vec<&(usize, f64)> = picked.iter().collect();
            order.sort_by(|a, b| {
                b.1.total_cmp(&a.1)
                    .then(scored[b.0].score.raw.total_cmp(&scored[a.0].score.raw))
                    .then(a.0.cmp(&b.0))
            });
            for (i, _) in order.into_iter().take(3) {
                if let Some(q) = scored[*i].score.evidence.first() {
                    push_unique(&mut evidence, q.clone());
                }
            }
        }
        let value = r2(value.clamp(1.0, 5.0));
        let score_100 = r1((value - 1.0) * 25.0);
        let contribution = if total_weight > 0 {
            r2(score_100 * f64::from(d.weight) / f64::from(total_weight))
        } else {
            0.0
        };
        let mut qs: Vec<usize> = picked.iter().map(|(i, _)| scored[*i].score.turn).collect();
        qs.sort_unstable();
        dimensions.push(DimensionScore {
            name: d.name.clone(),
            weight: d.weight,
            score: value,
            score_100,
            contribution,
            reason,
            questions: qs,
            evidence,
        });
    }
    let composite = r1(if total_weight > 0 {
        dimensions
            .iter()
            .map(|d| d.score_100 * f64::from(d.weight))
            .sum::<f64>()
            / f64::from(total_weight)
    } else {
        0.0
    });

    (dimensions, composite)
}

/// How much of the plan the interview covered, and its gaps.
pub(super) fn coverage(
    job: &JobConfig,
    transcript: &Transcript,
    scored: &[Scored<'_>],
) -> CoverageStats {
    let answered = |pred: &dyn Fn(&Scored<'_>) -> bool| -> usize {
        scored
            .iter()
            .filter(|s| pred(s) && !s.thread.content().is_empty())
            .count()
    };
    let covered = |kind: viva_interview::transcript::CoverageKind| -> usize {
        transcript
            .coverage
            .iter()
            .filter(|c| c.kind == kind && c.covered)
            .count()
    };
    use viva_interview::transcript::CoverageKind as K;
    let language_total = if job.language.min_cefr.is_some() {
        usize::from(job.language.questions)
    } else {
        0
    };
    let language_done = transcript
        .turns
        .iter()
        .filter(|t| {
            t.phase == Phase::Language
                && t.awaits_answer
                && t.answers.iter().any(|a| !a.text.trim().is_empty())
        })
        .count()
        .min(language_total);
    let mut coverage = CoverageStats {
        overall_pct: 0.0,
        custom_questions: ratio(
            answered(&|s| s.thread.is_custom),
            job.custom_questions.len(),
        ),
        blueprints: ratio(answered(&|s| s.thread.is_blueprint), job.blueprints.len()),
        competencies: ratio(covered(K::Competency), job.competencies.len()),
        required_skills: ratio(covered(K::RequiredSkill), job.skills.required.len()),
        preferred_skills: ratio(covered(K::PreferredSkill), job.skills.preferred.len()),
        language_prompts: ratio(language_done, language_total),
        questions_answered: ratio(answered(&|_| true), scored.len()),
        follow_ups: scored.iter().map(|s| s.thread.follow_ups).sum(),
        duration_ms: match (transcript.started_at_ms, transcript.ended_at_ms) {
            (Some(a), Some(b)) => Some(b.saturating_sub(a)),
            _ => None,
        },
        gaps: Vec::new(),
    };
    // Preferred skills are a bonus, so they do not count against coverage.
    let parts = [
        &coverage.custom_questions,
        &coverage.blueprints,
        &coverage.competencies,
        &coverage.required_skills,
        &coverage.language_prompts,
    ];
    let (sum, n) = parts
        .iter()
        .filter(|r| r.total > 0)
        .fold((0.0, 0usize), |(s, n), r| {
            (s + r.done as f64 / r.total as f64, n + 1)
        });
    coverage.overall_pct = r1(if n > 0 { 100.0 * sum / n as f64 } else { 0.0 });
    for c in &transcript.coverage {
        if !c.covered && c.kind != K::PreferredSkill {
            coverage.gaps.push(
                format!("{:?} not covered: {}", c.kind, c.name)
                    .replace("RequiredSkill", "required skill")
                    .replace("Competency", "competency"),
            );
        }
    }
    for s in scored {
        if s.thread.content().is_empty() {
            coverage
                .gaps
                .push(format!("{}: no usable answer", s.score.source));
        }
    }

    coverage
}

/// How far the report can be trusted, and how the interview ended.
pub(super) fn confidence(
    transcript: &Transcript,
    coverage: &CoverageStats,
) -> (Confidence, String) {
    let all_answers: Vec<&Answer> = transcript.turns.iter().flat_map(|t| &t.answers).collect();
    let timed = all_answers.iter().filter(|a| a.words.is_some()).count();
    let mut notes = Vec::new();
    let transcription_quality = if timed == 0 {
        notes.push(
            "typed answers (text mode): no recognition errors, no audio timestamps".to_string(),
        );
        1.0
    } else {
        // Plausible speech runs at 1–5 words a second; far outside that, recognition likely failed.
        let plausible = all_answers
            .iter()
            .filter_map(|a| a.words.as_ref())
            .filter(|w| {
                let (Some(f), Some(l)) = (w.first(), w.last()) else {
                    return false;
                };
                let secs = (l.end_ms.saturating_sub(f.start_ms)) as f64 / 1000.0;
                let rate = w.len() as f64 / secs.max(0.2);
                (0.8..=5.5).contains(&rate)
            })
            .count();
        let q =
            (timed as f64 / all_answers.len().max(1) as f64) * (plausible as f64 / timed as f64);
        notes.push(format!(
            "{timed} of {} answers have word times; {plausible} at a plausible speech rate",
            all_answers.len()
        ));
        q
    };
    let coverage_share = coverage.overall_pct / 100.0;
    let ended = transcript
        .end_reason
        .as_ref()
        .map(reason_code)
        .unwrap_or_else(|| "unfinished".into());
    let mut overall = 0.7 * coverage_share + 0.3 * transcription_quality;
    if !matches!(ended.as_str(), "completed" | "all_questions_asked") {
        notes.push(format!("interview ended early ({ended})"));
        overall *= 0.8;
    }
    let confidence = Confidence {
        overall: r2(overall),
        coverage: r2(coverage_share),
        transcription_quality: r2(transcription_quality),
        notes,
    };

    (confidence, ended)
}
