//! Scripted interviews of the demo job: each answer leads to the decision a good interviewer
//! would take, budgets hold, knockouts end early.

use viva_interview::analysis::{ExperienceMode, NonAnswerKind};
use viva_interview::demo_job;
use viva_interview::engine::{Action, EngineConfig, Event, Interview};
use viva_interview::job::{JobConfig, KnockoutOutcome};
use viva_interview::transcript::{
    Decision, KnockoutVerdict, Phase, QuestionRef, Reason, UtteranceKind,
};

const SEC: u64 = 1000;

struct Run {
    interview: Interview,
    now: u64,
}

impl Run {
    fn new(job: JobConfig) -> Run {
        Run {
            interview: Interview::new(job, EngineConfig::default()),
            now: 0,
        }
    }

    fn start(&mut self) -> Vec<Action> {
        self.interview.handle(self.now, Event::Start)
    }

    /// Answers after `secs` seconds.
    fn answer(&mut self, secs: u64, text: &str) -> Vec<Action> {
        self.now += secs * SEC;
        self.interview.handle(
            self.now,
            Event::CandidateAnswered {
                text: text.to_string(),
                words: None,
            },
        )
    }

    /// Greeting and both knockouts passed; the first custom question has been asked.
    fn through_knockouts(&mut self) -> Vec<Action> {
        self.start();
        self.answer(3, "Yes, I'm ready.");
        self.answer(5, "About seven years, mostly Java and Go services.");
        self.answer(5, "I could start in three weeks.")
    }
}

fn first_say(actions: &[Action]) -> (Decision, Reason, String) {
    actions
        .iter()
        .find_map(|a| match a {
            Action::Say {
                decision,
                reason,
                text,
                ..
            } => Some((*decision, reason.clone(), text.clone())),
            _ => None,
        })
        .expect("a Say action")
}

fn asked(actions: &[Action]) -> Option<String> {
    actions.iter().rev().find_map(|a| match a {
        Action::Say {
            text,
            awaits_answer: true,
            ..
        } => Some(text.clone()),
        _ => None,
    })
}

fn ends(actions: &[Action]) -> Option<Reason> {
    actions.iter().find_map(|a| match a {
        Action::EndInterview { reason } => Some(reason.clone()),
        _ => None,
    })
}

const DB_QUESTION: &str =
    "Tell me about a time you optimized a database query. What was the impact on performance?";

/// Runs to the third custom question (database optimisation).
fn at_db_question() -> Run {
    let mut run = Run::new(demo_job());
    run.through_knockouts();
    run.answer(20, "Sorry, I don't know.");
    let a = run.answer(20, "Sorry, I don't know.");
    assert_eq!(asked(&a).as_deref(), Some(DB_QUESTION));
    run
}

#[test]
fn greeting_carries_the_recording_and_ai_notice() {
    let mut run = Run::new(demo_job());
    let a = run.start();
    let (decision, reason, text) = first_say(&a);
    assert_eq!(
        (decision, reason),
        (Decision::Greet, Reason::InterviewStart)
    );
    assert!(
        text.contains("recorded") && text.contains("AI") && text.contains("45 minutes"),
        "{text}"
    );
    assert!(text.contains("Senior Backend Developer"), "{text}");
}

#[test]
fn knockouts_come_first_in_order() {
    let mut run = Run::new(demo_job());
    run.start();
    let a = run.answer(3, "Yes, let's go.");
    assert_eq!(
        asked(&a).as_deref(),
        Some(demo_job().knockouts[0].question.as_str())
    );
    let a = run.answer(3, "Nine years.");
    assert_eq!(
        asked(&a).as_deref(),
        Some(demo_job().knockouts[1].question.as_str())
    );
    let a = run.answer(3, "Right away.");
    assert_eq!(
        asked(&a).as_deref(),
        Some(demo_job().custom_questions[0].text.as_str())
    );
    let kos = &run.interview.transcript().knockouts;
    assert_eq!(
        kos.iter().map(|k| k.verdict).collect::<Vec<_>>(),
        [KnockoutVerdict::Passed, KnockoutVerdict::Passed]
    );
}

#[test]
fn strong_answer_gets_a_follow_up_on_the_missing_area() {
    let mut run = at_db_question();
    let a = run.answer(
        60,
        "At my last company a tenant report query took about 12 seconds. I found it in pg_stat_statements, ran EXPLAIN ANALYZE \
         and saw a sequential scan on the invoices table. I added a composite index on tenant_id and created_at, built \
         concurrently so writes were not blocked, and p95 dropped from 12 seconds to 300 milliseconds.",
    );
    let (decision, reason, text) = first_say(&a);
    assert_eq!(decision, Decision::TargetedFollowUp);
    assert!(
        matches!(&reason, Reason::MissingKnowledgeArea { area, importance: 3, heard: Some(_) } if area == "schema-design"),
        "{reason:?}"
    );
    assert!(text.contains("access patterns"), "{text}");
}

#[test]
fn strong_answer_at_working_depth_gets_probed_for_depth() {
    let mut run = at_db_question();
    let a = run.answer(
        60,
        "At my last company a tenant report query took about 12 seconds. I ran EXPLAIN ANALYZE and saw a sequential scan. \
         The invoices table was normalized, with a foreign key to tenants, so I added a composite index on tenant_id and \
         created_at, built concurrently, and p95 dropped from 12 seconds to 300 milliseconds.",
    );
    let (decision, reason, text) = first_say(&a);
    assert_eq!(decision, Decision::TargetedFollowUp);
    assert_eq!(
        reason,
        Reason::ProbeForDepth {
            area: "schema-design".into(),
            heard: viva_interview::analysis::Depth::Working
        }
    );
    assert!(
        text.contains("invariants"),
        "the area's second, deeper probe: {text}"
    );
}

#[test]
fn strong_answer_deep_in_every_area_moves_on() {
    let mut run = at_db_question();
    let a = run.answer(
        60,
        "At my last company a tenant report query took about 12 seconds. I ran EXPLAIN ANALYZE and saw a sequential scan. \
         The invoices table was normalized, and every query filtered by tenant and date, so following that access pattern \
         I added a composite index on tenant_id and created_at, built concurrently, and p95 dropped from 12 seconds to 300 milliseconds.",
    );
    let (decision, reason, _) = first_say(&a);
    assert_eq!((decision, reason), (Decision::MoveOn, Reason::AreasCovered));
    assert_eq!(
        asked(&a).as_deref(),
        Some(demo_job().custom_questions[3].text.as_str())
    );
}

#[test]
fn dont_know_to_a_blueprint_follow_up_keeps_the_pre_written_ones() {
    let mut run = Run::new(demo_job());
    run.through_knockouts();
    for _ in 0..4 {
        run.answer(10, "Sorry, I don't know.");
    }
    let job = demo_job();
    let a = run.answer(
        10,
        "I'd split it by business domain behind an API gateway, with Kafka between the services.",
    );
    assert_eq!(
        asked(&a).as_deref(),
        Some(job.blueprints[0].follow_ups[0].as_str())
    );
    let a = run.answer(10, "I don't know.");
    let (decision, reason, _) = first_say(&a);
    assert_eq!(
        (decision, reason),
        (
            Decision::MoveOn,
            Reason::CandidateCouldNotAnswer {
                kind: NonAnswerKind::DontKnow
            }
        )
    );
    assert_eq!(
        asked(&a).as_deref(),
        Some(job.blueprints[0].follow_ups[1].as_str()),
        "the same follow-ups for every candidate"
    );
}

#[test]
fn vague_answer_gets_a_probe_for_a_concrete_example() {
    let mut run = at_db_question();
    let a = run.answer(30, "We looked at the database and made some changes to the query, and things got better, more or less. It was fine in the end.");
    let (decision, reason, text) = first_say(&a);
    assert_eq!(decision, Decision::ProbeForExample);
    assert!(
        matches!(reason, Reason::VagueAnswer { vagueness } if vagueness >= 0.6),
        "{reason:?}"
    );
    assert!(text.contains("specific time"), "{text}");
}

#[test]
fn hypothetical_answer_gets_asked_for_a_real_example() {
    let mut run = at_db_question();
    let a = run.answer(
        40,
        "I would run EXPLAIN ANALYZE on the query to get the query plan, look for a sequential scan, and then add a \
         composite index on the columns in the WHERE clause and the join.",
    );
    let (decision, reason, text) = first_say(&a);
    assert_eq!(decision, Decision::ProbeForExample);
    assert_eq!(
        reason,
        Reason::NoPastExample {
            mode: ExperienceMode::Hypothetical
        }
    );
    assert!(text.contains("real situation"), "{text}");
}

#[test]
fn off_topic_answer_is_brought_back_once_then_moved_on() {
    let mut run = at_db_question();
    let a = run.answer(20, "Honestly I mostly spend my weekends hiking in the mountains and cooking Italian food with friends.");
    let (decision, reason, _) = first_say(&a);
    assert_eq!(decision, Decision::Redirect);
    assert!(matches!(reason, Reason::OffTopic { .. }), "{reason:?}");
    assert_eq!(
        asked(&a).as_deref(),
        Some(DB_QUESTION),
        "the question is asked again"
    );
    let a = run.answer(20, "Cooking is really my passion, especially fresh pasta and long walks afterwards with friends.");
    let (decision, reason, _) = first_say(&a);
    assert_eq!(
        (decision, reason),
        (Decision::MoveOn, Reason::OffTopicAgain)
    );
}

#[test]
fn dont_know_moves_on_without_pressing() {
    let mut run = at_db_question();
    let a = run.answer(10, "Sorry, I don't know.");
    let (decision, reason, text) = first_say(&a);
    assert_eq!(
        (decision, reason),
        (
            Decision::MoveOn,
            Reason::CandidateCouldNotAnswer {
                kind: NonAnswerKind::DontKnow
            }
        )
    );
    assert_eq!(text, "That's fine. Let's move on.");
    assert_eq!(
        asked(&a).as_deref(),
        Some(demo_job().custom_questions[3].text.as_str())
    );
}

#[test]
fn repeat_and_rephrase_requests() {
    let mut run = at_db_question();
    let a = run.answer(5, "Sorry, could you repeat the question?");
    assert_eq!(first_say(&a).0, Decision::Repeat);
    assert_eq!(asked(&a).as_deref(), Some(DB_QUESTION));
    let a = run.answer(5, "What do you mean exactly?");
    let (decision, reason, text) = first_say(&a);
    assert_eq!(
        (decision, reason),
        (Decision::Rephrase, Reason::RephraseRequested)
    );
    assert_eq!(Some(text), demo_job().custom_questions[2].rephrased);
    let a = run.answer(5, "Can you say that again?");
    assert_eq!(
        first_say(&a).1,
        Reason::RepeatLimitReached,
        "two repeats per question at most"
    );
}

#[test]
fn clarifying_question_back_is_answered_and_the_question_repeated() {
    let mut run = at_db_question();
    let a = run.answer(
        5,
        "Do you mean a SQL database, or does a search index count too?",
    );
    let (decision, reason, _) = first_say(&a);
    assert_eq!(
        (decision, reason),
        (Decision::Clarify, Reason::ClarificationRequested)
    );
    assert_eq!(asked(&a).as_deref(), Some(DB_QUESTION));
}

#[test]
fn blueprint_pre_written_follow_ups_then_budget() {
    let mut run = Run::new(demo_job());
    run.through_knockouts();
    for _ in 0..4 {
        run.answer(10, "Sorry, I don't know.");
    }
    let medium = "In my last role we split the system into services behind a load balancer, and we used Kafka for events between them.";
    let mut follow_ups = Vec::new();
    let mut moved_on = None;
    for _ in 0..10 {
        let a = run.answer(20, medium);
        let (decision, reason, text) = first_say(&a);
        if decision == Decision::MoveOn {
            moved_on = Some(reason);
            break;
        }
        follow_ups.push((decision, reason, text));
    }
    let job = demo_job();
    let prewritten: Vec<_> = follow_ups
        .iter()
        .filter(|f| f.0 == Decision::PrewrittenFollowUp)
        .map(|f| f.2.clone())
        .collect();
    assert_eq!(
        prewritten, job.blueprints[0].follow_ups,
        "all pre-written follow-ups, in order"
    );
    assert_eq!(follow_ups.len(), 5, "{follow_ups:#?}");
    assert_eq!(
        moved_on,
        Some(Reason::FollowUpBudgetSpent { used: 5, max: 5 })
    );
}

#[test]
fn follow_up_budget_of_the_template_is_respected() {
    let mut job = demo_job();
    job.template.max_follow_ups_per_question = Some(1);
    let mut run = Run::new(job);
    run.through_knockouts();
    let a = run.answer(30, "We changed some things in the API, more or less.");
    assert_eq!(first_say(&a).0, Decision::ProbeForExample);
    let a = run.answer(30, "We changed some things in the API, more or less.");
    assert_eq!(
        first_say(&a).1,
        Reason::FollowUpBudgetSpent { used: 1, max: 1 }
    );
}

#[test]
fn question_time_budget_is_respected() {
    let mut run = at_db_question();
    let budget = run.interview.question_budget_ms();
    let a = run.answer(budget / SEC + 1, "We looked at the database and made some changes to the query, and things got better, more or less.");
    let (decision, reason, _) = first_say(&a);
    assert_eq!(decision, Decision::MoveOn);
    assert!(
        matches!(reason, Reason::QuestionTimeBudgetSpent { budget_ms, .. } if budget_ms == budget),
        "{reason:?}"
    );
}

#[test]
fn interview_time_budget_skips_to_the_language_check_and_hard_limit_closes() {
    let mut run = Run::new(demo_job());
    run.through_knockouts();
    // The four custom questions are mandatory, but take 10 minutes each.
    let mut last = Vec::new();
    for _ in 0..4 {
        last = run.answer(600, "Sorry, I don't know.");
    }
    assert_eq!(
        run.interview.phase(),
        Phase::Language,
        "blueprints and coverage skipped for time"
    );
    assert!(run
        .interview
        .transcript()
        .decisions
        .iter()
        .any(|d| d.reason == Reason::InterviewTimeBudgetSpent));
    assert!(asked(&last).is_some());
    run.now += 3600 * SEC;
    let a = run.interview.handle(run.now, Event::TimeTick);
    assert_eq!(ends(&a), Some(Reason::TimeLimitReached));
}

#[test]
fn failed_knockout_ends_early_without_telling_the_result() {
    let mut run = Run::new(demo_job());
    run.start();
    run.answer(3, "Ready.");
    let a = run.answer(5, "Two years, mostly internships.");
    let expected = Reason::KnockoutFailed {
        name: "Backend experience".into(),
        outcome: KnockoutOutcome::EndInterview,
    };
    assert_eq!(ends(&a), Some(expected.clone()));
    let (decision, _, text) = first_say(&a);
    assert_eq!(decision, Decision::Close);
    assert!(
        !text.to_lowercase().contains("fail") && !text.contains("years"),
        "{text}"
    );
    let t = run.interview.transcript();
    assert_eq!(t.knockouts[0].verdict, KnockoutVerdict::Failed);
    assert_eq!(t.knockouts[0].value, Some(2.0));
    assert_eq!(t.end_reason, Some(expected));
    assert!(run.answer(5, "Hello?").is_empty(), "nothing after the end");
}

#[test]
fn knockout_flag_and_continue_and_unclear_answers() {
    let mut job = demo_job();
    job.knockouts[1].on_fail = KnockoutOutcome::FlagAndContinue;
    let mut run = Run::new(job.clone());
    run.start();
    run.answer(3, "Ready.");
    let a = run.answer(5, "Quite a while, honestly.");
    assert_eq!(first_say(&a).0, Decision::ClarifyKnockout);
    let a = run.answer(5, "About six years.");
    assert_eq!(
        asked(&a).as_deref(),
        Some(job.knockouts[1].question.as_str())
    );
    let a = run.answer(5, "My notice period is four months.");
    assert!(ends(&a).is_none(), "flag-and-continue keeps going");
    assert_eq!(
        asked(&a).as_deref(),
        Some(job.custom_questions[0].text.as_str())
    );
    let kos = &run.interview.transcript().knockouts;
    assert_eq!(kos[0].verdict, KnockoutVerdict::Passed);
    assert_eq!(kos[0].value, Some(6.0));
    assert_eq!(kos[1].verdict, KnockoutVerdict::Failed);
}

#[test]
fn full_interview_reaches_candidate_questions_and_closes() {
    let mut run = Run::new(demo_job());
    run.through_knockouts();
    let mut guard = 0;
    while run.interview.phase() < Phase::CandidateQuestions {
        run.answer(30, "Sorry, I don't know.");
        guard += 1;
        assert!(guard < 40, "stuck in {:?}", run.interview.phase());
    }
    let t = run.interview.transcript();
    let asked_refs: Vec<_> = t
        .turns
        .iter()
        .filter(|t| t.decision == Decision::AskQuestion)
        .map(|t| t.question.clone())
        .collect();
    assert_eq!(asked_refs[0], QuestionRef::Custom { index: 0 });
    assert!(asked_refs.contains(&QuestionRef::Blueprint { id: "B2".into() }));
    assert!(
        asked_refs
            .iter()
            .any(|r| matches!(r, QuestionRef::Bank { .. })),
        "uncovered skills get bank questions: {asked_refs:?}"
    );
    assert_eq!(
        t.turns
            .iter()
            .filter(|t| matches!(t.question, QuestionRef::Language { .. }) && t.parent.is_none())
            .count(),
        3
    );
    let a = run.answer(5, "What is the salary range for this role?");
    assert_eq!(first_say(&a).1, Reason::BannedTopicDeferred);
    let a = run.answer(5, "How did I do? Did I pass?");
    assert_eq!(first_say(&a).1, Reason::ScoreRequestDeclined);
    let a = run.answer(5, "No, that's all, thank you.");
    assert_eq!(ends(&a), Some(Reason::NoMoreCandidateQuestions));
    let t = run.interview.transcript();
    assert_eq!(t.candidate_questions.len(), 2);
    for turn in &t.turns {
        let lower = turn.prompt.to_lowercase();
        assert!(
            !lower.contains("salary") && !lower.contains("score"),
            "{}",
            turn.prompt
        );
    }
}

#[test]
fn silence_reprompts_then_moves_on() {
    let mut run = at_db_question();
    run.now += 13 * SEC;
    let a = run.interview.handle(run.now, Event::Silence { ms: 13_000 });
    let (decision, _, text) = first_say(&a);
    assert_eq!(decision, Decision::Reprompt);
    assert!(text.contains("repeat"));
    run.now += 20 * SEC;
    let a = run.interview.handle(run.now, Event::Silence { ms: 33_000 });
    assert!(matches!(first_say(&a).1, Reason::SilenceTimeout { .. }));
    assert_eq!(
        asked(&a).as_deref(),
        Some(demo_job().custom_questions[3].text.as_str())
    );
}

#[test]
fn candidate_leaving_ends_the_interview() {
    let mut run = at_db_question();
    let a = run.interview.handle(run.now + 1, Event::CandidateLeft);
    assert_eq!(ends(&a), Some(Reason::CandidateLeft));
    assert!(run.interview.is_ended());
}

#[test]
fn transcript_serializes_and_keeps_references_and_word_times() {
    let mut run = at_db_question();
    run.now += 30 * SEC;
    let words = vec![
        viva_interview::Word {
            text: "I".into(),
            start_ms: 100_000,
            end_ms: 100_200,
        },
        viva_interview::Word {
            text: "indexed".into(),
            start_ms: 100_200,
            end_ms: 100_900,
        },
    ];
    run.interview.handle(
        run.now,
        Event::CandidateAnswered {
            text: "I indexed it.".into(),
            words: Some(words),
        },
    );
    let t = run.interview.transcript();
    let db_turn = t
        .turns
        .iter()
        .find(|t| t.prompt == DB_QUESTION)
        .expect("db turn");
    let reference = db_turn
        .reference
        .as_ref()
        .expect("reference on main question turns");
    assert!(!reference.expected_answers.is_empty() && !reference.red_flags.is_empty());
    assert_eq!(db_turn.answers[0].audio_start_ms, Some(100_000));
    assert_eq!(db_turn.answers[0].audio_end_ms, Some(100_900));
    let json = serde_json::to_string(t).expect("serialize");
    let back: viva_interview::Transcript = serde_json::from_str(&json).expect("deserialize");
    assert_eq!(&back, t);
    assert!(json.contains("\"code\":\"scripted_order\""));
    let kinds: Vec<_> = t.turns.iter().map(|t| t.kind).collect();
    assert!(kinds.contains(&UtteranceKind::Greeting));
}

#[test]
fn only_follow_ups_may_be_reworded_and_rewordings_are_vetted() {
    let mut run = at_db_question();
    let scripted_id = viva_interview::utterance_id(DB_QUESTION);
    assert!(
        run.interview.phrasing_request(&scripted_id).is_none(),
        "scripted questions stay word for word"
    );
    let answer = "I would run EXPLAIN ANALYZE on the query to get the query plan, look for a sequential scan, and then add a \
                  composite index on the columns in the WHERE clause and the join.";
    let a = run.answer(40, answer);
    let Some(Action::Say {
        utterance_id, text, ..
    }) = a.first()
    else {
        panic!("a probe")
    };
    let request = run
        .interview
        .phrasing_request(utterance_id)
        .expect("probes may be reworded");
    assert_eq!(&request.default_text, text);
    assert_eq!(request.question, DB_QUESTION);
    assert_eq!(request.last_answer, answer);
    use viva_interview::phrasing::Rejection;
    assert_eq!(
        run.interview
            .record_phrasing(utterance_id, "Great answer! Any real example?"),
        Err(Rejection::RevealsAssessment("great".into()))
    );
    assert_eq!(
        run.interview
            .record_phrasing(&scripted_id, "Which query was it?"),
        Err(Rejection::NotEligible)
    );
    let reworded = "When did you last do this on a real system, and what happened?";
    assert_eq!(
        run.interview.record_phrasing(utterance_id, reworded),
        Ok(())
    );
    let turn = run
        .interview
        .transcript()
        .turns
        .iter()
        .find(|t| &t.utterance_id == utterance_id)
        .expect("turn");
    assert_eq!(turn.spoken_text.as_deref(), Some(reworded));
    assert_eq!(
        &turn.prompt, text,
        "the engine's own wording is kept beside it"
    );
}
