//! What the interview showed, section by section: knockouts, concept depth, must-have
//! competencies, skills and the language level.

use super::common::*;
use super::thread::Scored;

/// Each knockout with its verdict and evidence; the first failed one (it decides the
/// recommendation).
pub(super) fn knockouts(
    job: &JobConfig,
    transcript: &Transcript,
) -> (Vec<KnockoutScore>, Option<String>) {
    let mut knockouts = Vec::new();
    let mut failed_knockout: Option<String> = None;
    for k in &job.knockouts {
        let found = transcript.knockouts.iter().find(|r| r.name == k.name);
        let mut evidence = Vec::new();
        if let Some(r) = found {
            if let Some(turn) = transcript.turns.get(r.turn) {
                for a in &turn.answers {
                    push_unique(&mut evidence, first_sentence(turn, a));
                }
            }
        }
        let verdict = match found.map(|r| r.verdict) {
            None => "not_asked",
            Some(KnockoutVerdict::Passed) => "passed",
            Some(KnockoutVerdict::Failed) => "failed",
            Some(KnockoutVerdict::Unclear) => "unclear",
            Some(KnockoutVerdict::Recorded) => "recorded",
        };
        if verdict == "failed" && failed_knockout.is_none() {
            failed_knockout = Some(format!("knockout \"{}\" failed ({})", k.name, k.fail_if));
        }
        knockouts.push(KnockoutScore {
            name: k.name.clone(),
            fail_if: k.fail_if.clone(),
            verdict: verdict.to_string(),
            value: found.and_then(|r| r.value),
            evidence,
        });
    }

    (knockouts, failed_knockout)
}

/// Depth per concept (and per knowledge area of it), with the best evidence heard.
pub(super) struct Concepts {
    pub list: Vec<ConceptDepth>,
    pub depth: BTreeMap<String, Option<Depth>>,
}

pub(super) fn concepts(scored: &[Scored<'_>]) -> Concepts {
    let mut concept_areas: BTreeMap<String, BTreeMap<String, Option<(Depth, Quote)>>> =
        BTreeMap::new();
    for s in scored {
        for c in &s.concepts {
            let entry = concept_areas.entry(c.clone()).or_default();
            for a in s.planned_areas.iter().chain(s.areas.keys()) {
                let heard = s.areas.get(a).cloned();
                let slot = entry.entry(a.clone()).or_insert(None);
                let better = match (&slot, &heard) {
                    (_, None) => false,
                    (None, Some(_)) => true,
                    (Some((d0, _)), Some((d1, _))) => d1 > d0,
                };
                if better {
                    *slot = heard;
                }
            }
        }
    }
    let mut concepts = Vec::new();
    let mut concept_depth: BTreeMap<String, Option<Depth>> = BTreeMap::new();
    for (concept, areas) in &concept_areas {
        let heard: Vec<Depth> = areas.values().flatten().map(|(d, _)| *d).collect();
        let deep = heard.iter().filter(|d| **d == Depth::Deep).count();
        let depth = if heard.is_empty() {
            None
        } else if deep >= 1 && deep * 2 >= heard.len() {
            Some(Depth::Deep)
        } else if heard.iter().any(|d| *d >= Depth::Working) {
            Some(Depth::Working)
        } else {
            Some(Depth::Surface)
        };
        concept_depth.insert(concept.clone(), depth);
        concepts.push(ConceptDepth {
            concept: concept.clone(),
            depth: depth_name(depth),
            areas: areas
                .iter()
                .map(|(a, h)| AreaDepth {
                    area: a.clone(),
                    depth: depth_name(h.as_ref().map(|x| x.0)),
                    evidence: h.iter().map(|x| x.1.clone()).collect(),
                })
                .collect(),
        });
    }
    Concepts {
        list: concepts,
        depth: concept_depth,
    }
}

/// The mean raw score of the questions on `concept`.
fn concept_mean(scored: &[Scored<'_>], concept: &str) -> Option<f64> {
    let v: Vec<f64> = scored
        .iter()
        .filter(|s| s.concepts.iter().any(|c| c == concept))
        .map(|s| s.score.raw)
        .collect();
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
}

/// Each must-have competency, passed or not; the first one not shown.
pub(super) fn competencies(
    job: &JobConfig,
    content: &[(&Turn, &Answer)],
    concept_depth: &BTreeMap<String, Option<Depth>>,
) -> (Vec<CompetencyScore>, Option<String>) {
    let mut competencies = Vec::new();
    let mut failed_competency: Option<String> = None;
    for c in &job.competencies {
        let terms = if c.terms.is_empty() {
            vec![c.name.clone()]
        } else {
            c.terms.clone()
        };
        let mut heard = Vec::new();
        let mut missing = Vec::new();
        let mut evidence = Vec::new();
        for t in &terms {
            match find_term(content, t) {
                Some(hit) => {
                    heard.push(first_alt(t));
                    push_unique(&mut evidence, hit.quote);
                }
                None => missing.push(first_alt(t)),
            }
        }
        let depth = c
            .concept
            .as_ref()
            .and_then(|k| concept_depth.get(k).copied().flatten());
        let depth_ok = c.concept.is_none() || depth >= Some(Depth::Working);
        let passed = heard.len() * 2 >= terms.len() && !heard.is_empty() && depth_ok;
        let mut reason = format!("heard {} of {} signs", heard.len(), terms.len());
        if !heard.is_empty() {
            reason.push_str(&format!(" ({})", heard.join(", ")));
        }
        if !missing.is_empty() {
            reason.push_str(&format!("; not heard: {}", missing.join(", ")));
        }
        if let Some(k) = &c.concept {
            reason.push_str(&format!("; {k} at {} depth", depth_name(depth)));
        }
        if !passed && failed_competency.is_none() {
            failed_competency = Some(format!("must-have competency \"{}\" not shown", c.name));
        }
        evidence.truncate(3);
        competencies.push(CompetencyScore {
            name: c.name.clone(),
            description: c.description.clone(),
            passed,
            reason,
            evidence,
        });
    }

    (competencies, failed_competency)
}

/// One skill, 0–10: how many of its terms were heard, and (with a concept) the depth and the
/// scores of its questions.
pub(super) fn skill(
    skill: &viva_interview::job::Skill,
    content: &[(&Turn, &Answer)],
    concept_depth: &BTreeMap<String, Option<Depth>>,
    scored: &[Scored<'_>],
) -> SkillScore {
    let terms = if skill.terms.is_empty() {
        vec![skill.name.clone()]
    } else {
        skill.terms.clone()
    };
    let mut heard = Vec::new();
    let mut evidence = Vec::new();
    let mut mentions = 0;
    let mut concrete = false;
    for t in &terms {
        if let Some(hit) = find_term(content, t) {
            heard.push(first_alt(t));
            mentions += hit.mentions;
            concrete |= hit.quote.text.chars().any(|c| c.is_ascii_digit());
            push_unique(&mut evidence, hit.quote);
        }
    }
    let f = heard.len() as f64 / terms.len() as f64;
    let (score, detail) = match &skill.concept {
        Some(k) => {
            let depth = concept_depth.get(k).copied().flatten();
            let dw = depth_weight(depth);
            let s = match concept_mean(scored, k) {
                Some(q) => 10.0 * (0.3 * f + 0.3 * dw + 0.4 * ((q - 1.0) / 4.0)),
                None => 10.0 * (0.5 * f + 0.5 * dw),
            };
            let q = concept_mean(scored, k)
                .map(|q| format!(", its questions average {:.1}/5", q))
                .unwrap_or_default();
            (s, format!("; {k} at {} depth{q}", depth_name(depth)))
        }
        None if heard.is_empty() => (0.0, String::new()),
        None => {
            let s =
                5.0 + (mentions.saturating_sub(1)).min(3) as f64 + if concrete { 2.0 } else { 0.0 };
            (
                s,
                format!(
                    "; {mentions} mention(s){}",
                    if concrete { ", with numbers" } else { "" }
                ),
            )
        }
    };
    evidence.truncate(3);
    let score = score.round().clamp(0.0, 10.0) as u8;
    SkillScore {
        name: skill.name.clone(),
        level: format!("{:?}", skill.level).to_lowercase(),
        score,
        reason: format!(
            "heard {} of {} terms{}{detail}",
            heard.len(),
            terms.len(),
            if heard.is_empty() {
                String::new()
            } else {
                format!(" ({})", heard.join(", "))
            }
        ),
        evidence,
    }
}

/// The candidate's language level (CEFR), from the language questions or, without them, every
/// answer.
pub(super) fn language(
    job: &JobConfig,
    transcript: &Transcript,
    content: &[(&Turn, &Answer)],
) -> (
    Option<viva_grading::cefr::CefrEstimate>,
    Option<LanguageResult>,
) {
    let language_answers: Vec<(&Turn, &Answer)> = transcript
        .turns
        .iter()
        .filter(|t| t.phase == Phase::Language && t.awaits_answer)
        .flat_map(|t| t.answers.iter().map(move |a| (t, a)))
        .collect();
    let cefr_source: Vec<(&Turn, &Answer)> = if language_answers.is_empty() {
        content.to_vec()
    } else {
        language_answers.clone()
    };
    let cefr = (!cefr_source.is_empty())
        .then(|| viva_grading::cefr::estimate(&grading_transcript(&cefr_source)));
    let language = cefr.as_ref().map(|est| {
        let meets = job
            .language
            .min_cefr
            .map(|req| band_rank(est.band) >= cefr_rank(req));
        LanguageResult {
            language: job
                .language
                .assessment
                .clone()
                .unwrap_or_else(|| job.language.interview.clone()),
            required: job.language.min_cefr.map(cefr_name),
            assessed: format!("{:?}", est.band),
            range: format!("{:?}–{:?}", est.band_low, est.band_high),
            level: r2(est.level),
            meets_requirement: meets,
            evidence: cefr_source
                .iter()
                .take(2)
                .map(|(t, a)| first_sentence(t, a))
                .collect(),
        }
    });

    (cefr, language)
}
