//! The scorer: (job, transcript) → report. Pure and deterministic: no clock, no randomness, no
//! hash-map iteration; every float in the report is rounded before it is stored.

use std::collections::BTreeMap;

use viva_grading::{ConceptStatus, GradeInput, GradeResult, TimedWord};
use viva_interview::analysis::{AnswerSignals, Depth};
use viva_interview::job::{Cefr, JobConfig};
use viva_interview::text::{is_stopword, tokenize};
use viva_interview::transcript::{
    Answer, KnockoutVerdict, Phase, QuestionRef, Reason, Transcript, Turn,
};

use crate::evidence::{find_quote, find_term, first_sentence, push_unique, quote};
use crate::report::*;
use crate::{ScoreError, SCORER_VERSION};

/// Composite thresholds (0–100), highest first. Shown in every report.
pub const THRESHOLDS: [(Recommendation, f64); 3] = [
    (Recommendation::StrongYes, 80.0),
    (Recommendation::Yes, 65.0),
    (Recommendation::Maybe, 45.0),
];

/// Anchors of seed 002's 1–5 rubric.
fn anchor(score: u8) -> &'static str {
    match score {
        0 | 1 => "Strong no",
        2 => "No",
        3 => "Mixed",
        4 => "Yes",
        _ => "Strong yes",
    }
}

fn r2(x: f64) -> f64 {
    if !x.is_finite() {
        return 0.0;
    }
    let r = (x * 100.0).round() / 100.0;
    if r == 0.0 {
        0.0
    } else {
        r
    }
}

fn r1(x: f64) -> f64 {
    if !x.is_finite() {
        return 0.0;
    }
    let r = (x * 10.0).round() / 10.0;
    if r == 0.0 {
        0.0
    } else {
        r
    }
}

fn depth_name(d: Option<Depth>) -> String {
    match d {
        None => "not_heard",
        Some(Depth::Surface) => "surface",
        Some(Depth::Working) => "working",
        Some(Depth::Deep) => "deep",
    }
    .to_string()
}

fn depth_weight(d: Option<Depth>) -> f64 {
    match d {
        None => 0.0,
        Some(Depth::Surface) => 0.34,
        Some(Depth::Working) => 0.67,
        Some(Depth::Deep) => 1.0,
    }
}

/// One answer the candidate gave, with the engine's analysis of it.
struct Given<'a> {
    turn: &'a Turn,
    answer: &'a Answer,
    signals: Option<&'a AnswerSignals>,
}

impl Given<'_> {
    /// A request to repeat, or "I don't know": not content to score.
    fn is_content(&self) -> bool {
        match self.signals {
            Some(s) => s.request.is_none() && s.non_answer.is_none(),
            None => !self.answer.text.trim().is_empty(),
        }
    }
}

/// A main question with its follow-ups, probes and repeats.
struct Thread<'a> {
    main: &'a Turn,
    source: String,
    is_custom: bool,
    is_blueprint: bool,
    given: Vec<Given<'a>>,
    follow_ups: usize,
}

impl<'a> Thread<'a> {
    fn content(&self) -> Vec<(&'a Turn, &'a Answer)> {
        self.given
            .iter()
            .filter(|g| g.is_content())
            .map(|g| (g.turn, g.answer))
            .collect()
    }
}

fn given_of(turn: &Turn) -> Vec<Given<'_>> {
    turn.answers
        .iter()
        .enumerate()
        .map(|(i, answer)| Given {
            turn,
            answer,
            signals: turn.signals.get(i),
        })
        .collect()
}

fn threads(transcript: &Transcript) -> Vec<Thread<'_>> {
    let mut out: Vec<Thread<'_>> = Vec::new();
    for turn in &transcript.turns {
        if !turn.awaits_answer {
            continue;
        }
        if let Some(parent) = turn.parent {
            if let Some(t) = out.iter_mut().find(|t| t.main.index == parent) {
                t.given.extend(given_of(turn));
                t.follow_ups += 1;
            }
            continue;
        }
        if !matches!(
            turn.phase,
            Phase::CustomQuestions | Phase::Blueprints | Phase::Coverage
        ) {
            continue;
        }
        let (source, is_custom, is_blueprint) = match &turn.question {
            QuestionRef::Custom { index } => (format!("Custom {}", index + 1), true, false),
            QuestionRef::Blueprint { id } => (format!("Blueprint {id}"), false, true),
            QuestionRef::Bank { id } => (format!("Bank {id}"), false, false),
            QuestionRef::Skill { name } => (format!("Skill {name}"), false, false),
            // Other kinds are not scored questions.
            _ => continue,
        };
        out.push(Thread {
            main: turn,
            source,
            is_custom,
            is_blueprint,
            given: given_of(turn),
            follow_ups: 0,
        });
    }
    out
}

struct Scored<'a> {
    thread: Thread<'a>,
    score: QuestionScore,
    grade: Option<GradeResult>,
    /// Deepest depth per area id heard in the thread, with the evidence quote.
    areas: BTreeMap<String, (Depth, crate::report::Quote)>,
    concepts: Vec<String>,
    planned_areas: Vec<String>,
    /// Mean (1 − vagueness) of the content answers.
    clarity: Option<f64>,
}

fn grade_thread(thread: &Thread<'_>) -> Option<GradeResult> {
    let reference = thread.main.reference.as_ref()?;
    if reference.expected_answers.is_empty() {
        return None;
    }
    let content = thread.content();
    if content.is_empty() {
        return None;
    }
    let text = content
        .iter()
        .map(|(_, a)| a.text.trim())
        .collect::<Vec<_>>()
        .join(" ");
    // Word times are passed only when every piece has them, so the grader's text is consistent.
    let words: Vec<TimedWord> = if content.iter().all(|(_, a)| a.words.is_some()) {
        content
            .iter()
            .flat_map(|(_, a)| a.words.iter().flatten())
            .map(|w| TimedWord {
                text: w.text.clone(),
                start_ms: w.start_ms,
                end_ms: w.end_ms,
            })
            .collect()
    } else {
        Vec::new()
    };
    Some(viva_grading::grade(&GradeInput {
        question: reference.question.clone(),
        references: reference.expected_answers.clone(),
        key_concepts: reference.key_concepts.clone(),
        red_flags: reference.red_flags.clone(),
        answer: viva_grading::Transcript { text, words },
    }))
}

fn score_thread(thread: Thread<'_>) -> Scored<'_> {
    let content = thread.content();
    let grade = grade_thread(&thread);
    let planned_areas = thread
        .main
        .reference
        .as_ref()
        .map(|r| r.area_ids.clone())
        .unwrap_or_default();
    let concepts = thread
        .main
        .reference
        .as_ref()
        .map(|r| r.concepts.clone())
        .unwrap_or_default();

    let mut areas: BTreeMap<String, (Depth, Quote)> = BTreeMap::new();
    let mut spec: f64 = 0.0;
    let mut star: f64 = 0.0;
    let mut clarity_sum = 0.0;
    let mut clarity_n = 0usize;
    let mut off_topic = 0usize;
    let mut non_answers = 0usize;
    for g in &thread.given {
        let Some(s) = g.signals else { continue };
        if s.non_answer.is_some() {
            non_answers += 1;
        }
        if !g.is_content() {
            continue;
        }
        if s.off_topic {
            off_topic += 1;
        }
        spec = spec.max(f64::from(s.specificity.score));
        star = star.max(s.star.parts() as f64 / 4.0);
        clarity_sum += 1.0 - f64::from(s.vagueness);
        clarity_n += 1;
        for hit in &s.areas {
            let Some(best) = hit
                .evidence
                .iter()
                .max_by_key(|e| (e.depth, std::cmp::Reverse(e.span)))
            else {
                continue;
            };
            let better = areas.get(&hit.area_id).is_none_or(|(d, _)| hit.depth > *d);
            if better {
                areas.insert(
                    hit.area_id.clone(),
                    (hit.depth, quote(g.turn, g.answer, best.span)),
                );
            }
        }
    }

    let mut reasons = Vec::new();
    let area_part = if planned_areas.is_empty() {
        let heard: Vec<f64> = areas
            .values()
            .map(|(d, _)| depth_weight(Some(*d)))
            .collect();
        if heard.is_empty() {
            spec.max(star * 0.75)
        } else {
            heard.iter().sum::<f64>() / heard.len() as f64
        }
    } else {
        planned_areas
            .iter()
            .map(|a| depth_weight(areas.get(a).map(|x| x.0)))
            .sum::<f64>()
            / planned_areas.len() as f64
    };
    let detail_part = (0.6 * spec.min(1.0) + 0.4 * star).min(1.0);
    let mut raw = match &grade {
        Some(g) if g.rejected.is_none() => {
            0.45 * (1.0 + 0.8 * g.score)
                + 0.35 * (1.0 + 4.0 * area_part)
                + 0.2 * (1.0 + 4.0 * detail_part)
        }
        _ => 0.65 * (1.0 + 4.0 * area_part) + 0.35 * (1.0 + 4.0 * detail_part),
    };
    if let Some(g) = &grade {
        reasons.push(format!(
            "reference answer grade {:.1}/5 ({}): {}",
            g.score,
            g.label.as_str(),
            g.reasons.first().cloned().unwrap_or_default()
        ));
        let raised: Vec<&str> = g
            .red_flags
            .iter()
            .filter(|f| f.raised)
            .map(|f| f.flag.as_str())
            .collect();
        if !raised.is_empty() {
            raw -= (0.3 * raised.len() as f64).min(0.6);
            reasons.push(format!("red flag: {}", raised.join("; ")));
        }
    }
    if !planned_areas.is_empty() {
        let parts: Vec<String> = planned_areas
            .iter()
            .map(|a| format!("{a} {}", depth_name(areas.get(a).map(|x| x.0))))
            .collect();
        reasons.push(format!("knowledge areas: {}", parts.join(", ")));
    }
    reasons.push(format!(
        "specificity {:.2}, STAR parts {}/4",
        spec,
        (star * 4.0).round() as u8
    ));
    if non_answers > 0 {
        reasons.push(format!("{non_answers} follow-up(s) not answered"));
    }
    if off_topic > 0 {
        reasons.push(format!("{off_topic} answer(s) off topic"));
    }
    if content.is_empty() {
        raw = 1.0;
        reasons.insert(0, "no usable answer".to_string());
    }
    let raw = r2(raw.clamp(1.0, 5.0));
    let score = raw.round().clamp(1.0, 5.0) as u8;

    let mut evidence = Vec::new();
    if let Some(g) = &grade {
        for c in g
            .concepts
            .iter()
            .filter(|c| c.status == ConceptStatus::Covered)
        {
            if let Some(q) = c.spans.first().and_then(|s| find_quote(&content, &s.quote)) {
                push_unique(&mut evidence, q);
            }
        }
    }
    let mut by_depth: Vec<&(Depth, Quote)> = areas.values().collect();
    by_depth.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.turn.cmp(&b.1.turn)));
    for (_, q) in by_depth {
        push_unique(&mut evidence, q.clone());
    }
    if evidence.is_empty() {
        if let Some((t, a)) = content.first() {
            push_unique(&mut evidence, first_sentence(t, a));
        }
    }
    evidence.truncate(3);

    let clarity = (clarity_n > 0).then(|| clarity_sum / clarity_n as f64);
    let score = QuestionScore {
        turn: thread.main.index,
        source: thread.source.clone(),
        question: thread.main.prompt.clone(),
        score,
        anchor: anchor(score).to_string(),
        raw,
        reference_grade: grade.as_ref().map(|g| r2(g.score)),
        reasons,
        follow_ups: thread.follow_ups,
        evidence,
    };
    Scored {
        thread,
        score,
        grade,
        areas,
        concepts,
        planned_areas,
        clarity,
    }
}

/// Words of a rubric dimension that say nothing about its topic.
const RUBRIC_FILLER: &[&str] = &[
    "abil",
    "skill",
    "knowledg",
    "understand",
    "approach",
    "clariti",
    "clarity",
    "depth",
    "in",
    "creat",
    "effici",
    "robust",
    "manag",
    "complex",
    "technic",
    "resolv",
    "explain",
    "concept",
    "design",
    "scalabl",
    "structur",
    "question",
];

fn topic_words(text: &str) -> Vec<String> {
    let mut words: Vec<String> = tokenize(text)
        .into_iter()
        .map(|t| t.norm)
        .filter(|w| w.len() >= 3 && !is_stopword(w) && !RUBRIC_FILLER.contains(&w.as_str()))
        .collect();
    words.sort();
    words.dedup();
    words
}

fn thread_topic(s: &Scored<'_>) -> Vec<String> {
    let mut text = s.thread.main.prompt.clone();
    if let Some(r) = &s.thread.main.reference {
        text.push(' ');
        text.push_str(&r.question);
        for c in r.concepts.iter().chain(&r.key_concepts).chain(&r.area_ids) {
            text.push(' ');
            text.push_str(&c.replace('-', " "));
        }
    }
    topic_words(&text)
}

/// Collects every content answer of the interview (threads only), in order.
fn all_content<'a>(scored: &[Scored<'a>]) -> Vec<(&'a Turn, &'a Answer)> {
    let mut v: Vec<(&Turn, &Answer)> = scored.iter().flat_map(|s| s.thread.content()).collect();
    v.sort_by_key(|(t, _)| t.index);
    v
}

fn cefr_name(c: Cefr) -> String {
    format!("{c:?}")
}

fn band_rank(b: viva_grading::cefr::CefrBand) -> u8 {
    use viva_grading::cefr::CefrBand::*;
    match b {
        A1 => 1,
        A2 => 2,
        B1 => 3,
        B2 => 4,
        C1 => 5,
        C2 => 6,
    }
}

fn cefr_rank(c: Cefr) -> u8 {
    match c {
        Cefr::A1 => 1,
        Cefr::A2 => 2,
        Cefr::B1 => 3,
        Cefr::B2 => 4,
        Cefr::C1 => 5,
        Cefr::C2 => 6,
    }
}

fn reason_code(r: &Reason) -> String {
    serde_json::to_value(r)
        .ok()
        .and_then(|v| v.get("code").and_then(|c| c.as_str()).map(str::to_string))
        .unwrap_or_else(|| "unknown".into())
}

fn ratio(done: usize, total: usize) -> Ratio {
    Ratio { done, total }
}

/// Scores one interview. Fails only on a transcript of another format version.
pub fn score(job: &JobConfig, transcript: &Transcript) -> Result<Report, ScoreError> {
    if transcript.format_version != Transcript::FORMAT_VERSION {
        return Err(ScoreError::FormatVersion {
            found: transcript.format_version,
            supported: Transcript::FORMAT_VERSION,
        });
    }
    let scored: Vec<Scored<'_>> = threads(transcript).into_iter().map(score_thread).collect();
    let content = all_content(&scored);

    // ---- knockouts
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

    // ---- concept depth
    let mut concept_areas: BTreeMap<String, BTreeMap<String, Option<(Depth, Quote)>>> =
        BTreeMap::new();
    for s in &scored {
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
    let concept_mean = |concept: &str| -> Option<f64> {
        let v: Vec<f64> = scored
            .iter()
            .filter(|s| s.concepts.iter().any(|c| c == concept))
            .map(|s| s.score.raw)
            .collect();
        (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
    };

    // ---- competencies
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
            match find_term(&content, t) {
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

    // ---- skills
    let skill_score = |skill: &viva_interview::job::Skill| -> SkillScore {
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
            if let Some(hit) = find_term(&content, t) {
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
                let s = match concept_mean(k) {
                    Some(q) => 10.0 * (0.3 * f + 0.3 * dw + 0.4 * ((q - 1.0) / 4.0)),
                    None => 10.0 * (0.5 * f + 0.5 * dw),
                };
                let q = concept_mean(k)
                    .map(|q| format!(", its questions average {:.1}/5", q))
                    .unwrap_or_default();
                (s, format!("; {k} at {} depth{q}", depth_name(depth)))
            }
            None if heard.is_empty() => (0.0, String::new()),
            None => {
                let s = 5.0
                    + (mentions.saturating_sub(1)).min(3) as f64
                    + if concrete { 2.0 } else { 0.0 };
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
    };
    let required_skills: Vec<SkillScore> = job.skills.required.iter().map(skill_score).collect();
    let preferred_skills: Vec<SkillScore> = job.skills.preferred.iter().map(skill_score).collect();

    // ---- language
    let language_answers: Vec<(&Turn, &Answer)> = transcript
        .turns
        .iter()
        .filter(|t| t.phase == Phase::Language && t.awaits_answer)
        .flat_map(|t| t.answers.iter().map(move |a| (t, a)))
        .collect();
    let cefr_source: Vec<(&Turn, &Answer)> = if language_answers.is_empty() {
        content.clone()
    } else {
        language_answers.clone()
    };
    let cefr = (!cefr_source.is_empty()).then(|| {
        let text = cefr_source
            .iter()
            .map(|(_, a)| a.text.trim())
            .collect::<Vec<_>>()
            .join(" ");
        let words = if cefr_source.iter().all(|(_, a)| a.words.is_some()) {
            cefr_source
                .iter()
                .flat_map(|(_, a)| a.words.iter().flatten())
                .map(|w| TimedWord {
                    text: w.text.clone(),
                    start_ms: w.start_ms,
                    end_ms: w.end_ms,
                })
                .collect()
        } else {
            Vec::new()
        };
        viva_grading::cefr::estimate(&viva_grading::Transcript { text, words })
    });
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

    // ---- dimensions
    let total_weight: u32 = job.rubric.dimensions.iter().map(|d| d.weight).sum();
    let mut dimensions = Vec::new();
    for d in &job.rubric.dimensions {
        let name = d.name.to_lowercase();
        let mut picked: Vec<(usize, f64)> = Vec::new(); // (index into scored, weight)
        let mut reason;
        let value: f64;
        let mut evidence = Vec::new();
        if name.contains("communicat") || name.contains("language") {
            let clar: Vec<f64> = scored.iter().filter_map(|s| s.clarity).collect();
            let clarity = if clar.is_empty() {
                0.0
            } else {
                clar.iter().sum::<f64>() / clar.len() as f64
            };
            let level = cefr
                .as_ref()
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
                cefr.as_ref()
                    .map(|c| format!("{:?} ({:.1})", c.band, c.level))
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
            if name.contains("technical") {
                // Technical depth is read across every technical question, not one topic.
                picked = (0..scored.len()).map(|i| (i, 1.0)).collect();
                reason = "mean of all technical questions".to_string();
            } else if name.contains("blueprint") {
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

    // ---- coverage
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
    for s in &scored {
        if s.thread.content().is_empty() {
            coverage
                .gaps
                .push(format!("{}: no usable answer", s.score.source));
        }
    }

    // ---- confidence
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

    // ---- recommendation
    let by_score = THRESHOLDS
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
        (Some(o), _, _) => format!("{} because {o}; the composite alone gives {}.", recommendation.as_str(), by_score.as_str()),
        (None, Some(t), Some(l)) => format!(
            "Composite {composite}/100 is in the {} band. Strongest: {} ({:.1}/5); weakest: {} ({:.1}/5).",
            by_score.as_str(), t.name, t.score, l.name, l.score
        ),
        _ => format!("Composite {composite}/100."),
    };

    // ---- strengths, risks, quotes, next step
    let mut strengths = Vec::new();
    for d in dims_sorted.iter().filter(|d| d.score >= 3.75) {
        strengths.push(format!("{} ({:.1}/5)", d.name, d.score));
    }
    for c in concepts.iter().filter(|c| c.depth == "deep") {
        strengths.push(format!("Deep answers on {}", c.concept));
    }
    for s in required_skills
        .iter()
        .chain(&preferred_skills)
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
    for c in competencies.iter().filter(|c| !c.passed) {
        risks.push(format!("Must-have not shown: {} — {}", c.name, c.reason));
    }
    for d in dims_sorted.iter().rev().filter(|d| d.score < 2.75) {
        risks.push(format!("Weak {} ({:.1}/5)", d.name, d.score));
    }
    for s in required_skills.iter().filter(|s| s.score < 5) {
        risks.push(format!("Required skill {} at {}/10", s.name, s.score));
    }
    for s in &scored {
        if let Some(g) = &s.grade {
            for f in g.red_flags.iter().filter(|f| f.raised) {
                risks.push(format!("{}: {}", s.score.source, f.flag));
            }
        }
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
        if notable_quotes.len() == 3 {
            break;
        }
    }
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

    Ok(Report {
        scorer_version: SCORER_VERSION.to_string(),
        grader_version: viva_grading::GRADER_VERSION.to_string(),
        transcript_format_version: transcript.format_version,
        job_title: job.title.clone(),
        ended,
        composite,
        decision: Decision {
            recommendation,
            by_score,
            thresholds: THRESHOLDS
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
        },
        confidence,
        summary,
        knockouts,
        competencies,
        required_skills,
        preferred_skills,
        dimensions,
        questions: scored.iter().map(|s| s.score.clone()).collect(),
        concepts,
        language,
        strengths,
        risks,
        notable_quotes,
        next_step,
        coverage,
        candidate_questions: transcript.candidate_questions.clone(),
    })
}

/// The first alternative of a `a|b|c` term, for display.
fn first_alt(term: &str) -> String {
    term.split('|').next().unwrap_or(term).trim().to_string()
}
