//! Each question with its follow-ups (a thread), graded against its reference and scored
//! 1–5.

use super::common::*;

/// One answer the candidate gave, with the engine's analysis of it.
pub(super) struct Given<'a> {
    pub(super) turn: &'a Turn,
    pub(super) answer: &'a Answer,
    pub(super) signals: Option<&'a AnswerSignals>,
}

impl Given<'_> {
    /// A request to repeat, or "I don't know": not content to score.
    pub(super) fn is_content(&self) -> bool {
        match self.signals {
            Some(s) => s.request.is_none() && s.non_answer.is_none(),
            None => !self.answer.text.trim().is_empty(),
        }
    }
}

/// A main question with its follow-ups, probes and repeats.
pub(super) struct Thread<'a> {
    pub(super) main: &'a Turn,
    pub(super) source: String,
    pub(super) is_custom: bool,
    pub(super) is_blueprint: bool,
    pub(super) given: Vec<Given<'a>>,
    pub(super) follow_ups: usize,
}

impl<'a> Thread<'a> {
    pub(super) fn content(&self) -> Vec<(&'a Turn, &'a Answer)> {
        self.given
            .iter()
            .filter(|g| g.is_content())
            .map(|g| (g.turn, g.answer))
            .collect()
    }
}

pub(super) fn given_of(turn: &Turn) -> Vec<Given<'_>> {
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

pub(super) fn threads(transcript: &Transcript) -> Vec<Thread<'_>> {
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

pub(super) struct Scored<'a> {
    pub(super) thread: Thread<'a>,
    pub(super) score: QuestionScore,
    pub(super) grade: Option<GradeResult>,
    /// Deepest depth per area id heard in the thread, with the evidence quote.
    pub(super) areas: BTreeMap<String, (Depth, crate::report::Quote)>,
    pub(super) concepts: Vec<String>,
    pub(super) planned_areas: Vec<String>,
    /// Mean (1 − vagueness) of the content answers.
    pub(super) clarity: Option<f64>,
}

pub(super) fn grade_thread(thread: &Thread<'_>) -> Option<GradeResult> {
    let reference = thread.main.reference.as_ref()?;
    if reference.expected_answers.is_empty() {
        return None;
    }
    let content = thread.content();
    if content.is_empty() {
        return None;
    }
    Some(viva_grading::grade(&GradeInput {
        question: reference.question.clone(),
        references: reference.expected_answers.clone(),
        key_concepts: reference.key_concepts.clone(),
        red_flags: reference.red_flags.clone(),
        answer: grading_transcript(&content),
    }))
}

pub(super) fn score_thread(thread: Thread<'_>) -> Scored<'_> {
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
    let credited = grade
        .as_ref()
        .map(|g| credited_grade(g, &planned_areas, area_part));
    let mut raw = match (&grade, credited) {
        (Some(g), Some(credited)) if g.rejected.is_none() => {
            0.45 * (1.0 + 0.8 * credited)
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
        let credited = credited.unwrap_or(g.score);
        if g.rejected.is_none() && credited > g.score {
            reasons.push(format!(
                "credited {credited:.1}/5: the answer covers the question's knowledge areas in its own words"
            ));
        }
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
        // Points the answer did not show are reported as such, never as red flags.
        let not_shown: Vec<&str> = g
            .red_flags
            .iter()
            .filter(|f| f.not_shown)
            .map(|f| f.flag.as_str())
            .collect();
        if !not_shown.is_empty() {
            reasons.push(format!("not shown: {}", not_shown.join("; ")));
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
    let red_flags = grade
        .iter()
        .flat_map(|g| g.red_flags.iter().filter(|f| f.raised))
        .filter_map(|f| {
            let span = f.spans.first()?;
            let turn = thread
                .given
                .iter()
                .find(|g| g.answer.text.contains(span.quote.as_str()))
                .map_or(thread.main.index, |g| g.turn.index);
            Some(crate::report::RedFlag {
                flag: f.flag.clone(),
                quote: Quote {
                    turn,
                    text: span.quote.clone(),
                    start_ms: span.start_ms,
                    end_ms: span.end_ms,
                },
            })
        })
        .collect();
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
        red_flags,
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
pub(super) const RUBRIC_FILLER: &[&str] = &[
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

pub(super) fn topic_words(text: &str) -> Vec<String> {
    let mut words: Vec<String> = tokenize(text)
        .into_iter()
        .map(|t| t.norm)
        .filter(|w| w.len() >= 3 && !is_stopword(w) && !RUBRIC_FILLER.contains(&w.as_str()))
        .collect();
    words.sort();
    words.dedup();
    words
}

pub(super) fn thread_topic(s: &Scored<'_>) -> Vec<String> {
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
pub(super) fn all_content<'a>(scored: &[Scored<'a>]) -> Vec<(&'a Turn, &'a Answer)> {
    let mut v: Vec<(&Turn, &Answer)> = scored.iter().flat_map(|s| s.thread.content()).collect();
    v.sort_by_key(|(t, _)| t.index);
    v
}

/// The reference answer is one good answer, not the only one: an answer that tells another
/// story but covers the question's planned knowledge areas (matched by meaning, at their depth)
/// earns what those areas show. A confidently wrong claim keeps the grader's cap.
fn credited_grade(g: &viva_grading::GradeResult, planned_areas: &[String], area_part: f64) -> f64 {
    let wrong = g
        .red_flags
        .iter()
        .any(|f| f.raised && f.why == viva_grading::WRONG_CLAIM);
    if wrong || planned_areas.is_empty() || g.rejected.is_some() {
        return g.score;
    }
    g.score.max(5.0 * area_part.clamp(0.0, 1.0))
}
