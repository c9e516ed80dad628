//! Properties over many generated interviews: the interviewer never says a banned or protected
//! topic, says only what can be pre-rendered, and never panics on any UTF-8 input.

use proptest::prelude::*;
use viva_interview::engine::{prerenderable_phrases, Action, EngineConfig, Event, Interview};
use viva_interview::guard::TopicGuard;
use viva_interview::job::{BannedTopic, JobConfig};
use viva_interview::{demo_job, Word};

/// Words a company might ban, including ones the bank and fixed phrases use ("team",
/// "database", "retries"), so that the engine's fallbacks are exercised.
const BANNABLE: &[&str] = &[
    "salary",
    "equity",
    "compensation",
    "bonus",
    "stock options",
    "personal projects",
    "other offers",
    "team",
    "database",
    "retries",
    "cache",
    "microservices",
    "kafka",
    "monolith",
    "deadline",
    "incident",
    "timeout",
    "security",
    "password",
    "customers",
    "interview",
    "recorded",
    "hiring",
    "role",
    "manager",
    "product",
    "weekend",
    "overtime",
    "relocation",
    "visa",
    "startup",
    "competitor",
    "acquisition",
    "layoffs",
];

const ANSWERS: &[&str] = &[
    "Yes, ready.",
    "About seven years.",
    "Two weeks.",
    "Sorry, I don't know.",
    "Could you repeat that?",
    "What do you mean?",
    "Do you mean REST or gRPC?",
    "What is the salary for this role?",
    "How did I do?",
    "No, that's all.",
    "I mostly go hiking on weekends and cook pasta with friends and family.",
    "We made some changes and it got better, more or less.",
    "I would add an index and look at the query plan with EXPLAIN.",
    "At my last job I added OpenTelemetry tracing to our Kafka consumers; p99 dropped from 900 ms to 200 ms.",
    "I'm not ready yet.",
    "",
];

#[derive(Debug, Clone)]
enum Step {
    Answer(String),
    Silence(u64),
    Tick,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        6 => proptest::sample::select(ANSWERS).prop_map(|s| Step::Answer(s.to_string())),
        2 => any::<String>().prop_map(Step::Answer),
        1 => (0u64..60_000).prop_map(Step::Silence),
        1 => Just(Step::Tick),
    ]
}

fn job_with_banned(terms: &[&str]) -> Option<JobConfig> {
    let mut job = demo_job();
    job.banned_topics.push(BannedTopic {
        topic: "generated".into(),
        terms: terms.iter().map(|t| t.to_string()).collect(),
    });
    // A job whose own questions use a banned word is rejected by validation, so a company
    // would drop those questions; do the same, keeping the rest of the job.
    let guard = TopicGuard::for_job(&job);
    let clean = |q: &viva_interview::job::QuestionSpec| {
        guard.allows(&q.text)
            && q.follow_ups
                .iter()
                .chain(&q.rephrased)
                .all(|f| guard.allows(f))
            && q.knowledge_areas
                .iter()
                .flat_map(|a| &a.probes)
                .all(|p| guard.allows(p))
    };
    job.custom_questions.retain(clean);
    job.blueprints.retain(clean);
    job.knockouts.retain(|k| guard.allows(&k.question));
    job.validate().is_empty().then_some(job)
}

/// Runs the steps; returns every text the interviewer said.
fn run(job: JobConfig, steps: &[Step], dt_ms: u64) -> Vec<String> {
    let mut interview = Interview::new(job, EngineConfig::default());
    let mut now = 0;
    let mut said = Vec::new();
    let collect = |actions: Vec<Action>, said: &mut Vec<String>| {
        for a in actions {
            if let Action::Say { text, .. } = a {
                said.push(text);
            }
        }
    };
    collect(interview.handle(now, Event::Start), &mut said);
    for s in steps {
        now += dt_ms;
        let event = match s {
            Step::Answer(text) => {
                let words = Some(
                    text.split_whitespace()
                        .enumerate()
                        .map(|(i, w)| Word {
                            text: w.into(),
                            start_ms: now + i as u64 * 300,
                            end_ms: now + i as u64 * 300 + 250,
                        })
                        .collect(),
                );
                Event::CandidateAnswered {
                    text: text.clone(),
                    words,
                }
            }
            Step::Silence(ms) => Event::Silence { ms: *ms },
            Step::Tick => Event::TimeTick,
        };
        collect(interview.handle(now, event), &mut said);
    }
    // The transcript is always serializable.
    let t = interview.into_transcript();
    assert!(serde_json::to_string(&t).is_ok());
    said
}

#[test]
fn banning_a_word_the_engine_uses_removes_it_from_everything_it_can_say() {
    let said_before = prerenderable_phrases(&demo_job());
    assert!(said_before
        .iter()
        .any(|p| p.to_lowercase().contains("database")));
    assert!(said_before
        .iter()
        .any(|p| p.to_lowercase().contains("team")));
    let job = job_with_banned(&["database", "team"])
        .expect("job still valid without its database questions");
    let said_after = prerenderable_phrases(&job);
    assert!(
        said_after.len() > 20,
        "the interview still has plenty to say"
    );
    for p in &said_after {
        let lower = p.to_lowercase();
        assert!(
            !lower.contains("database") && !lower.contains(" team"),
            "{p}"
        );
    }
    let answers: Vec<Step> = ANSWERS
        .iter()
        .cycle()
        .take(60)
        .map(|a| Step::Answer(a.to_string()))
        .collect();
    for text in run(job, &answers, 20_000) {
        assert!(!text.to_lowercase().contains("database"), "{text}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn banned_topics_never_appear_in_any_prompt(
        banned in proptest::sample::subsequence(BANNABLE, 1..6),
        steps in proptest::collection::vec(step(), 1..60),
        dt in 1_000u64..120_000,
    ) {
        let Some(job) = job_with_banned(&banned) else { return Ok(()) };
        let guard = TopicGuard::for_job(&job);
        let prerenderable = prerenderable_phrases(&job);
        for p in &prerenderable {
            prop_assert!(guard.allows(p), "prerenderable phrase breaks the rules: {p}");
        }
        for text in run(job, &steps, dt) {
            prop_assert!(guard.allows(&text), "said: {text}");
            let lower = text.to_lowercase();
            for term in banned.iter().chain(["salary", "equity", "compensation", "how old", "married", "religion"].iter()) {
                let pattern = format!(" {term} ");
                let padded = format!(" {} ", lower.replace(|c: char| !c.is_alphanumeric(), " "));
                prop_assert!(!padded.contains(&pattern), "said banned word {term:?}: {text}");
            }
            prop_assert!(prerenderable.contains(&text), "not pre-renderable: {text}");
        }
    }

    #[test]
    fn any_utf8_answers_never_panic(answers in proptest::collection::vec(any::<String>(), 1..40), dt in 0u64..400_000) {
        let steps: Vec<Step> = answers.into_iter().map(Step::Answer).collect();
        let said = run(demo_job(), &steps, dt);
        prop_assert!(!said.is_empty());
    }

    #[test]
    fn any_utf8_job_file_is_an_error_not_a_panic(src in any::<String>()) {
        let _ = JobConfig::from_toml_str(&src);
    }

    #[test]
    fn damaged_demo_job_is_an_error_with_a_field_or_line(cut in 0usize..30_000, len in 1usize..40) {
        let src = viva_interview::job::DEMO_JOB_TOML;
        let chars: Vec<char> = src.chars().collect();
        let start = cut % chars.len();
        let damaged: String = chars[..start].iter().chain(chars[(start + len).min(chars.len())..].iter()).collect();
        if let Err(errors) = JobConfig::from_toml_str(&damaged) {
            for issue in &errors.0 {
                prop_assert!(issue.line.is_some() || !issue.field.is_empty(), "{issue}");
                prop_assert!(!issue.fix.is_empty());
            }
        }
    }

    #[test]
    fn analysis_spans_always_fit_the_answer(answer in any::<String>()) {
        let job = demo_job();
        let bank = viva_interview::QuestionBank::embedded();
        let areas: Vec<_> = bank.concepts.iter().flat_map(|c| c.areas.clone()).collect();
        let ctx = viva_interview::analysis::QuestionContext {
            text: &job.custom_questions[0].text,
            areas: &areas,
            expects: viva_interview::job::AnswerExpectation::Experience,
            references: &[],
        };
        let s = viva_interview::analysis::analyze(&answer, &ctx, &viva_interview::analysis::LexicalAreaMatcher);
        let n = answer.chars().count();
        for hit in &s.areas {
            for e in &hit.evidence {
                prop_assert!(e.span.start <= e.span.end && e.span.end <= n);
            }
        }
        prop_assert!((0.0..=1.0).contains(&s.vagueness));
    }
}
