//! Behaviour of the grader on hand-made inputs: evidence, contradictions, red flags, word times,
//! determinism and bad input.

use proptest::prelude::*;
use viva_grading::{
    grade, ConceptStatus, GradeInput, Grader, Label, RejectReason, TimedWord, Transcript,
};

fn input(question: &str, refs: &[&str], answer: &str) -> GradeInput {
    GradeInput {
        question: question.to_string(),
        references: refs.iter().map(|s| s.to_string()).collect(),
        answer: Transcript::from_text(answer),
        ..GradeInput::default()
    }
}

const Q: &str = "Why is bulb A still on when switch Y is opened?";
const R: &[&str] = &[
    "Bulb A is still in a closed path with the battery",
    "switch Y is not in bulb A's path",
];

#[test]
fn good_answer_beats_contradiction_and_off_topic() {
    let good = grade(&input(
        Q,
        R,
        "Because bulb A is in a closed path with the battery.",
    ));
    let contra = grade(&input(
        Q,
        R,
        "Bulb A is not in a closed path with the battery.",
    ));
    let off = grade(&input(Q, R, "I like turtles and pizza."));
    assert!(
        good.score > contra.score,
        "good {} vs contradiction {}",
        good.score,
        contra.score
    );
    assert!(good.score > off.score);
    assert_eq!(good.label, Label::Correct, "{good:#?}");
    assert_ne!(contra.label, Label::Correct);
    assert!(!contra.contradictions.is_empty(), "{contra:#?}");
    assert_eq!(contra.contradictions[0].kind, "negation");
    assert!(good
        .concepts
        .iter()
        .any(|c| c.status == ConceptStatus::Covered));
}

#[test]
fn antonym_is_a_contradiction() {
    let r = grade(&input(
        "What happens to the current?",
        &["The current increases when resistance decreases."],
        "The current decreases when resistance decreases.",
    ));
    assert!(
        r.contradictions.iter().any(|c| c.kind == "antonym"),
        "{r:#?}"
    );
}

#[test]
fn key_concepts_and_word_times_give_timed_spans() {
    let words: Vec<TimedWord> =
        "I ran EXPLAIN ANALYZE and found a missing index on the join column"
            .split(' ')
            .enumerate()
            .map(|(i, w)| TimedWord {
                text: w.to_string(),
                start_ms: i as u64 * 300,
                end_ms: i as u64 * 300 + 250,
            })
            .collect();
    let r = grade(&GradeInput {
        question: "How would you optimise a slow query?".into(),
        references: vec![
            "Use EXPLAIN ANALYZE to find the missing index on the join column and add it.".into(),
        ],
        key_concepts: vec![
            "EXPLAIN ANALYZE".into(),
            "missing index".into(),
            "query cache".into(),
        ],
        red_flags: vec!["Candidate fails to mention specific tools (e.g., EXPLAIN)".into()],
        answer: Transcript {
            text: String::new(),
            words,
        },
    });
    let explain = &r.concepts[0];
    assert_eq!(explain.status, ConceptStatus::Covered);
    assert_eq!(explain.spans[0].quote, "EXPLAIN ANALYZE");
    assert_eq!(
        (explain.spans[0].start_ms, explain.spans[0].end_ms),
        (Some(600), Some(1150))
    );
    assert_eq!(r.concepts[2].status, ConceptStatus::Missing);
    assert!(!r.red_flags[0].raised, "{:#?}", r.red_flags);
}

#[test]
fn absence_is_never_a_red_flag_but_a_point_not_shown_that_lowers_the_score() {
    let mut i = input(
        "How do you ensure backward compatibility in API versioning?",
        &["We version the API semantically, deprecate endpoints with warnings and tell clients early."],
        "We version the API and deprecate old endpoints.",
    );
    let before = grade(&i);
    i.red_flags = vec!["Candidate omits the importance of client communication".into()];
    let after = grade(&i);
    assert!(!after.red_flags[0].raised, "{:#?}", after.red_flags);
    assert!(after.red_flags[0].not_shown, "{:#?}", after.red_flags);
    assert!(after.reasons.iter().any(|r| r.starts_with("not shown:")));
    assert!(after.score < before.score || before.score == 0.0);
    // Said in the answer: neither raised nor missing.
    i.answer = Transcript::from_text(
        "We version the API, deprecate old endpoints and communicate every change to clients early.",
    );
    let told = grade(&i);
    assert!(
        !told.red_flags[0].raised && !told.red_flags[0].not_shown,
        "{:#?}",
        told.red_flags
    );
}

#[test]
fn a_confidently_wrong_claim_is_a_red_flag_with_its_quote_and_caps_the_grade() {
    let mut i = input(
        "How should a service store user passwords?",
        &["Hash them with a slow, salted password hash such as bcrypt or argon2, never store them in plain text, and rehash when the cost factor rises."],
        "We never store them in plain text: we hash them with a salted hash and rehash when the cost factor rises.",
    );
    let right = grade(&i);
    assert!(
        right.red_flags.iter().all(|f| !f.raised),
        "{:#?}",
        right.red_flags
    );
    i.answer = Transcript::from_text(
        "We never store them in plain text: we hash them with a salted hash and rehash when the cost factor rises. MD5 encrypts them, so they are safe.",
    );
    let wrong = grade(&i);
    let flag = wrong
        .red_flags
        .iter()
        .find(|f| f.raised)
        .expect("the wrong claim is raised");
    assert_eq!(flag.spans[0].quote, "MD5 encrypts them, so they are safe.");
    assert!(wrong.score <= 1.5, "{}", wrong.score);
    assert!(wrong.score < right.score);
}

#[test]
fn identical_input_gives_byte_identical_output() {
    let i = GradeInput {
        key_concepts: vec!["closed path".into()],
        red_flags: vec!["Cannot explain what a closed path is".into()],
        ..input(
            Q,
            R,
            "bulb a is still on a closed path with the battery, it isn't affected by Y",
        )
    };
    let a = serde_json::to_string(&grade(&i)).expect("serialise");
    let b = serde_json::to_string(&Grader::new().grade(&i.clone())).expect("serialise");
    assert_eq!(a, b);
    // And across a round trip of the input through JSON.
    let back: GradeInput =
        serde_json::from_str(&serde_json::to_string(&i).expect("ser")).expect("de");
    assert_eq!(a, serde_json::to_string(&grade(&back)).expect("serialise"));
}

#[test]
fn bad_inputs_grade_zero_with_a_reason() {
    let cases: Vec<(String, RejectReason)> = vec![
        (String::new(), RejectReason::EmptyAnswer),
        ("   ?!  ".to_string(), RejectReason::EmptyAnswer),
        ("word ".repeat(4000), RejectReason::TooLong),
        ("Die Glühbirne ist immer noch an, weil sie in einem geschlossenen Stromkreis mit der Batterie ist und nicht".to_string(), RejectReason::NotEnglish),
        ("电池和灯泡在一个闭合回路中，所以灯泡还亮着。".to_string(), RejectReason::NotEnglish),
        ("La bombilla está en un circuito cerrado con la batería y por eso sigue encendida".to_string(), RejectReason::NotEnglish),
    ];
    for (answer, reason) in cases {
        let r = grade(&input(Q, R, &answer));
        assert_eq!(r.grade, 0, "{answer:.40}");
        assert_eq!(r.rejected, Some(reason), "{answer:.40}");
        assert!(!r.reasons.is_empty());
    }
    assert_eq!(
        grade(&input(Q, &[" "], "bulb A")).rejected,
        Some(RejectReason::NoReference)
    );
    // 20,000 characters: refused quickly, not graded.
    let long = "a".repeat(20_000);
    assert_eq!(
        grade(&input(Q, R, &long)).rejected,
        Some(RejectReason::TooLong)
    );
}

#[test]
fn dont_know_scores_low() {
    let r = grade(&input(Q, R, "I don't know"));
    assert!(r.score < 2.5, "{r:#?}");
}

fn arb_text() -> impl Strategy<Value = String> {
    prop_oneof![
        ".{0,200}",
        "[a-zA-Z ,.'!?0-9-]{0,200}",
        proptest::collection::vec(
            prop_oneof![
                Just("not"),
                Just("no"),
                Just("bulb"),
                Just("A"),
                Just("closed"),
                Just("open"),
                Just("path"),
                Just("isn't"),
                Just("1.5"),
                Just("."),
                Just("Maria"),
                Just("she")
            ],
            0..40
        )
        .prop_map(|v| v.join(" ")),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn never_panics_and_stays_in_range(
        q in arb_text(),
        refs in proptest::collection::vec(arb_text(), 0..4),
        concepts in proptest::collection::vec(arb_text(), 0..3),
        flags in proptest::collection::vec(arb_text(), 0..3),
        answer in arb_text(),
        times in proptest::collection::vec((0u64..100_000, 0u64..5_000), 0..30),
    ) {
        let words: Vec<TimedWord> = answer
            .split_whitespace()
            .zip(times.iter())
            .map(|(w, (s, d))| TimedWord { text: w.to_string(), start_ms: *s, end_ms: s + d })
            .collect();
        for transcript in [Transcript::from_text(answer.clone()), Transcript { text: answer.clone(), words }] {
            let i = GradeInput { question: q.clone(), references: refs.clone(), key_concepts: concepts.clone(), red_flags: flags.clone(), answer: transcript };
            let r = grade(&i);
            prop_assert!(r.grade <= 5);
            prop_assert!((0.0..=5.0).contains(&r.score));
            prop_assert!((0.0..=1.0).contains(&r.confidence));
            for c in &r.concepts {
                for s in &c.spans {
                    prop_assert!(s.start <= s.end);
                }
            }
            let again = grade(&i);
            prop_assert_eq!(serde_json::to_string(&r).ok(), serde_json::to_string(&again).ok());
            let _ = viva_grading::cefr::estimate(&i.answer);
            let _ = viva_grading::signals::interview_signals(&i.answer);
        }
    }
}
