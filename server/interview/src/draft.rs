//! Drafting a job configuration from a pasted job description, with skills, competencies and
//! questions from the bank. The draft is valid but meant for a person to edit.

use crate::analysis::named_tools;
use crate::bank::{BankQuestion, ConceptKind, QuestionBank};
use crate::job::{
    AnswerExpectation, BannedTopic, Cefr, Competency, JobConfig, JobFamily, Knockout,
    KnockoutOutcome, KnockoutRule, LanguageSettings, QuestionSpec, Rubric, RubricDimension, Skill,
    SkillLevel, Skills, Template, TemplatePreset,
};
use crate::text::{Cue, Tokens};

/// Drafts a job from a job description. `title` overrides the title found in the text.
pub fn draft_job(description: &str, title: Option<&str>) -> JobConfig {
    let bank = QuestionBank::embedded();
    let text = description.trim();
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let found_title = lines
        .first()
        .map(|l| l.trim_start_matches(|c: char| c == '#' || c.is_whitespace()))
        .map(|l| {
            l.strip_prefix("Job title:")
                .or_else(|| l.strip_prefix("Title:"))
                .unwrap_or(l)
                .trim()
        })
        .filter(|l| !l.is_empty() && l.chars().count() <= 80 && !l.ends_with('.'));
    let title = title
        .map(str::to_string)
        .or(found_title.map(str::to_string))
        .unwrap_or_else(|| "Backend Engineer".to_string());
    let body: String = lines
        .iter()
        .skip(usize::from(found_title.is_some()))
        .copied()
        .collect::<Vec<_>>()
        .join("\n");
    let tokens = Tokens::new(&body);

    // Concepts ranked by how often the description mentions them.
    let mut ranked: Vec<(usize, usize, &str)> = bank
        .concepts
        .iter()
        .enumerate()
        .filter(|(_, c)| c.kind == ConceptKind::Technical)
        .map(|(i, c)| {
            (
                c.terms
                    .iter()
                    .map(|t| Cue::new(t).find_all(&tokens).len())
                    .sum::<usize>(),
                i,
                c.id.as_str(),
            )
        })
        .filter(|(n, _, _)| *n > 0)
        .collect();
    ranked.sort_by_key(|(n, i, _)| (std::cmp::Reverse(*n), *i));
    let mut concepts: Vec<&str> = ranked.iter().map(|(_, _, id)| *id).take(5).collect();
    for fallback in ["api-design", "data-modeling", "reliability"] {
        if concepts.len() >= 3 {
            break;
        }
        if !concepts.contains(&fallback) {
            concepts.push(fallback);
        }
    }

    let senior = Cue::new("senior|lead|staff|principal|architect")
        .find_first(&Tokens::new(&format!("{title} {body}")))
        .is_some();
    let level = if senior {
        SkillLevel::Advanced
    } else {
        SkillLevel::Intermediate
    };
    let concept_name = |id: &str| {
        bank.concept(id)
            .map(|c| c.name.clone())
            .unwrap_or_else(|| id.to_string())
    };

    let required: Vec<Skill> = concepts
        .iter()
        .map(|c| Skill {
            name: concept_name(c),
            level,
            concept: Some(c.to_string()),
            terms: bank.concept(c).map(|x| x.terms.clone()).unwrap_or_default(),
        })
        .collect();
    let preferred: Vec<Skill> = named_tools(&body)
        .into_iter()
        .take(6)
        .map(|tool| Skill {
            terms: vec![tool.to_lowercase()],
            name: tool,
            level: SkillLevel::Intermediate,
            concept: None,
        })
        .collect();
    let competencies: Vec<Competency> = concepts
        .iter()
        .take(3)
        .map(|c| Competency {
            name: format!("{} in production", concept_name(c)),
            description: format!(
                "Shows hands-on, independent work in {} on real systems.",
                concept_name(c).to_lowercase()
            ),
            concept: Some(c.to_string()),
            terms: Vec::new(),
        })
        .collect();

    let mut knockouts = Vec::new();
    if let Some(years) = required_years(&tokens) {
        knockouts.push(Knockout {
            name: "Professional experience".into(),
            question: "To start, how many years of professional experience do you have in this kind of role?".into(),
            fail_if: format!("Less than {years} years of professional experience"),
            rule: KnockoutRule::MinYears,
            threshold: Some(years),
            rationale: "Taken from the job description's experience requirement.".into(),
            on_fail: KnockoutOutcome::FlagAndContinue,
        });
    }
    if Cue::new("authorized to work|authorised to work|work authorization|work authorisation|right to work|work permit").find_first(&tokens).is_some() {
        knockouts.push(Knockout {
            name: "Work authorisation".into(),
            question: "Are you authorised to work in the country where this role is based?".into(),
            fail_if: "Not authorised to work where the role is based".into(),
            rule: KnockoutRule::MustConfirm,
            threshold: None,
            rationale: "The job description requires it.".into(),
            on_fail: KnockoutOutcome::FlagAndContinue,
        });
    }

    let spec = |q: &BankQuestion, id: Option<String>, follow_ups: Vec<String>| QuestionSpec {
        id,
        text: q.text.clone(),
        rephrased: q.rephrased.clone(),
        expects: Some(q.expects),
        concepts: vec![q.concept.clone()],
        bank_areas: bank
            .areas_of(q)
            .iter()
            .map(|a| format!("{}.{}", q.concept, a.id))
            .collect(),
        knowledge_areas: Vec::new(),
        follow_ups,
        expected_answers: q.expected_answers.clone(),
        key_concepts: q.key_concepts.clone(),
        red_flags: q.red_flags.clone(),
    };
    let mut used: Vec<&str> = Vec::new();
    let mut custom_questions = Vec::new();
    for c in concepts.iter().take(3) {
        if let Some(q) = bank
            .questions_for(c)
            .find(|q| q.expects == AnswerExpectation::Experience && !used.contains(&q.id.as_str()))
        {
            used.push(&q.id);
            custom_questions.push(spec(q, None, Vec::new()));
        }
    }
    if let Some(q) = bank.question("beh-hard-bug") {
        used.push(&q.id);
        custom_questions.push(spec(q, None, Vec::new()));
    }
    let mut blueprints = Vec::new();
    for c in &concepts {
        if blueprints.len() == 2 {
            break;
        }
        if let Some(q) = bank
            .questions_for(c)
            .find(|q| q.expects == AnswerExpectation::Approach && !used.contains(&q.id.as_str()))
        {
            used.push(&q.id);
            let follow_ups: Vec<String> = bank
                .areas_of(q)
                .iter()
                .filter_map(|a| a.probes.first().cloned())
                .take(3)
                .collect();
            blueprints.push(spec(
                q,
                Some(format!("B{}", blueprints.len() + 1)),
                follow_ups,
            ));
        }
    }

    // Rubric: technical depth, one dimension per leading concept, problem-solving, communication.
    let mut dimensions = vec![RubricDimension {
        name: "Technical Depth".into(),
        weight: 25,
        description: "Depth of backend knowledge shown in the answers".into(),
    }];
    let shown: Vec<&str> = concepts.iter().take(4).copied().collect();
    let share = 50 / shown.len().max(1) as u32;
    for c in &shown {
        dimensions.push(RubricDimension {
            name: concept_name(c),
            weight: share,
            description: format!(
                "Knowledge and practice of {}",
                concept_name(c).to_lowercase()
            ),
        });
    }
    dimensions.push(RubricDimension {
        name: "Problem-Solving".into(),
        weight: 15,
        description: "Approach to debugging and resolving complex technical issues".into(),
    });
    dimensions.push(RubricDimension {
        name: "Communication".into(),
        weight: 10,
        description: "Clarity in explaining technical concepts".into(),
    });
    let sum: u32 = dimensions.iter().map(|d| d.weight).sum();
    if let Some(first) = dimensions.first_mut() {
        // Integer shares leave a remainder; it goes to technical depth.
        first.weight += 100u32.saturating_sub(sum);
    }

    let role_brief = {
        let sentences: Vec<&str> = body
            .split_inclusive(['.', '!', '\n'])
            .map(str::trim)
            .filter(|s| s.chars().count() > 20)
            .take(2)
            .collect();
        let brief = sentences.join(" ");
        if brief.is_empty() {
            format!("{title}.")
        } else {
            brief.chars().take(400).collect()
        }
    };
    let description: String = if text.is_empty() {
        format!("{title}.")
    } else {
        text.chars().take(4000).collect()
    };
    let mentions_english = Cue::new("english|fluent|communication|written|verbal")
        .find_first(&tokens)
        .is_some();
    JobConfig {
        title,
        family: JobFamily::Engineering,
        description,
        role_brief,
        duration_minutes: 45,
        tone:
            "Professional and approachable. Value specifics; follow up politely on vague answers."
                .into(),
        company_instructions: String::new(),
        evaluation_notes: "Drafted by viva from a job description; review every field before use."
            .into(),
        video: false,
        template: Template {
            preset: TemplatePreset::DeepTechnicalScreen,
            max_follow_ups_per_question: None,
        },
        language: LanguageSettings {
            interview: "en".into(),
            allowed: Vec::new(),
            assessment: None,
            min_cefr: mentions_english.then_some(Cefr::B2),
            questions: 3,
            prompts: Vec::new(),
        },
        skills: Skills {
            required,
            preferred,
        },
        competencies,
        knockouts,
        custom_questions,
        blueprints,
        rubric: Rubric {
            dimensions,
            thresholds: Default::default(),
        },
        banned_topics: vec![BannedTopic {
            topic: "Salary, equity or compensation".into(),
            terms: vec![
                "salary|salaries".into(),
                "compensation".into(),
                "equity".into(),
            ],
        }],
        turn: Default::default(),
        accommodations: Default::default(),
        integrity_signals: true,
    }
}

/// "5+ years", "at least 3 years", "three years of experience": the smallest such number
/// (the floor the description sets), between 1 and 20.
fn required_years(tokens: &Tokens<'_>) -> Option<f32> {
    let mut found: Option<f32> = None;
    for i in 1..tokens.len() {
        if tokens.norm(i) != "year" {
            continue;
        }
        let n = tokens
            .norm(i - 1)
            .trim_end_matches('+')
            .parse::<f32>()
            .ok()
            .or_else(|| {
                const WORDS: &[(&str, f32)] = &[
                    ("two", 2.0),
                    ("three", 3.0),
                    ("four", 4.0),
                    ("five", 5.0),
                    ("six", 6.0),
                    ("seven", 7.0),
                    ("eight", 8.0),
                    ("ten", 10.0),
                ];
                WORDS
                    .iter()
                    .find(|(w, _)| crate::text::stem(w) == tokens.norm(i - 1))
                    .map(|(_, v)| *v)
            });
        if let Some(n) = n.filter(|n| (1.0..=20.0).contains(n)) {
            found = Some(found.map_or(n, |f: f32| f.min(n)));
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    const JD: &str = "Senior Backend Engineer\n\
        We are looking for an engineer to build REST APIs and event-driven services on Kafka and PostgreSQL.\n\
        You will own database schema design, query performance and observability with Prometheus and OpenTelemetry.\n\
        Requirements: 5+ years of backend experience, strong SQL, experience with microservices and Kubernetes.\n\
        You must be authorized to work in the EU. Fluent English.\n\
        Nice to have: Redis, Go.";

    #[test]
    fn draft_is_valid_and_uses_the_description() {
        let job = draft_job(JD, None);
        assert_eq!(job.validate(), Vec::new());
        assert_eq!(job.title, "Senior Backend Engineer");
        let concepts: Vec<_> = job
            .skills
            .required
            .iter()
            .filter_map(|s| s.concept.clone())
            .collect();
        assert!(
            concepts.contains(&"data-modeling".to_string())
                && concepts.contains(&"api-design".to_string()),
            "{concepts:?}"
        );
        assert!(job
            .skills
            .required
            .iter()
            .all(|s| s.level == SkillLevel::Advanced));
        let tools: Vec<_> = job
            .skills
            .preferred
            .iter()
            .map(|s| s.name.as_str())
            .collect();
        assert!(
            tools.contains(&"Kafka") && tools.contains(&"PostgreSQL"),
            "{tools:?}"
        );
        assert_eq!(job.knockouts[0].threshold, Some(5.0));
        assert_eq!(job.knockouts[1].rule, KnockoutRule::MustConfirm);
        assert!(job.custom_questions.len() >= 3 && job.blueprints.len() == 2);
        assert!(job.blueprints.iter().all(|b| !b.follow_ups.is_empty()));
        assert_eq!(
            job.rubric.dimensions.iter().map(|d| d.weight).sum::<u32>(),
            100
        );
        let text = job.to_toml_string().expect("toml");
        assert_eq!(
            JobConfig::from_toml_str(&text).map(|j| j.title),
            Ok(job.title)
        );
    }

    #[test]
    fn empty_or_odd_descriptions_still_give_a_valid_draft() {
        for jd in [
            "",
            "   ",
            "Wir suchen Entwickler:innen für unser Team.",
            "💥💥💥",
            "x\n\n\ny",
        ] {
            let job = draft_job(jd, None);
            assert_eq!(job.validate(), Vec::new(), "{jd:?}");
        }
    }
}
