//! Interview-length answers (written for viva, `testdata/interview_answers.tsv`): three backend
//! questions, each with a strong long answer, a mixed one, a vague one, "I don't know" and a long
//! off-topic one. Also their robustness to (simulated) speech recognition errors.

use std::collections::BTreeMap;

use viva_grading::asr;
use viva_grading::tsv::Table;
use viva_grading::{GradeInput, GradeResult, Grader, Transcript};

fn split_multi(s: &str) -> Vec<String> {
    s.split(" || ")
        .map(|x| x.trim().to_string())
        .filter(|x| !x.is_empty())
        .collect()
}

/// (id, qid, kind, input) for every row of the test data.
fn rows() -> Vec<(String, String, String, GradeInput)> {
    let text = include_str!("../testdata/interview_answers.tsv");
    let t = Table::parse(text).expect("testdata parses");
    let c = t
        .require(&[
            "id",
            "qid",
            "kind",
            "question",
            "reference_answer",
            "key_concepts",
            "red_flags",
            "answer",
        ])
        .expect("testdata columns");
    t.rows
        .iter()
        .map(|r| {
            (
                r[c[0]].clone(),
                r[c[1]].clone(),
                r[c[2]].clone(),
                GradeInput {
                    question: r[c[3]].clone(),
                    references: split_multi(&r[c[4]]),
                    key_concepts: split_multi(&r[c[5]]),
                    red_flags: split_multi(&r[c[6]]),
                    answer: Transcript::from_text(r[c[7]].clone()),
                },
            )
        })
        .collect()
}

#[test]
fn interview_answers_grade_in_their_bands_and_in_order() {
    let g = Grader::new();
    let mut by_q: BTreeMap<String, BTreeMap<String, GradeResult>> = BTreeMap::new();
    for (id, qid, kind, input) in rows() {
        let r = g.grade(&input);
        eprintln!(
            "{id:<14} grade {} score {:.2} p {:.3} flags {:?}",
            r.grade,
            r.score,
            r.p_correct,
            r.red_flags
                .iter()
                .filter(|f| f.raised)
                .map(|f| f.flag.as_str())
                .collect::<Vec<_>>()
        );
        let words = input.answer.text.split_whitespace().count();
        match kind.as_str() {
            "strong" => {
                assert!((150..=250).contains(&words), "{id}: {words} words");
                assert!(r.grade >= 4, "{id}: strong answer graded {}", r.grade);
                assert!(
                    r.red_flags.iter().all(|f| !f.raised),
                    "{id}: {:#?}",
                    r.red_flags
                );
            }
            "mixed" => assert!((2..=3).contains(&r.grade), "{id}: mixed graded {}", r.grade),
            "weak" => assert!(r.grade <= 2, "{id}: vague graded {}", r.grade),
            "dontknow" => assert_eq!(r.grade, 0, "{id}"),
            "offtopic" => {
                assert!(words >= 100, "{id}: {words} words");
                assert!(r.grade <= 1, "{id}: off-topic graded {}", r.grade);
            }
            other => panic!("unknown kind {other}"),
        }
        by_q.entry(qid).or_default().insert(kind, r);
    }
    assert_eq!(by_q.len(), 3);
    for (q, k) in &by_q {
        let s = |n: &str| k[n].score;
        assert!(s("strong") > s("mixed"), "{q}");
        assert!(s("mixed") > s("weak"), "{q}");
        assert!(s("weak") >= s("dontknow"), "{q}");
        assert!(s("mixed") > s("offtopic"), "{q}");
    }
}

#[test]
fn cannot_quantify_flag_needs_missing_figures() {
    let (_, _, _, strong) = rows()
        .into_iter()
        .find(|(id, ..)| id == "sql-strong")
        .expect("sql-strong");
    let r = Grader::new().grade(&strong);
    let f = &r.red_flags[0];
    assert!(f.flag.starts_with("Cannot quantify"));
    assert!(!f.raised, "{f:#?}");
    assert!(!f.spans.is_empty(), "the figures are the evidence: {f:#?}");
    let mut vague = strong.clone();
    vague.answer = Transcript::from_text(
        "I looked at the plan, added an index and the query became a lot faster.",
    );
    let f = &Grader::new().grade(&vague).red_flags[0];
    assert!(
        !f.raised && f.not_shown,
        "an absence is a point not shown: {f:#?}"
    );
}

/// Simulated ASR (deterministic homophones, dropped function words, number formatting; not the
/// real synthesise → transcribe round trip, see examples/asr_roundtrip.rs): the grade barely moves.
#[test]
fn simulated_asr_errors_barely_move_grades() {
    let g = Grader::new();
    let mut trips = Vec::new();
    for (id, _, _, input) in rows() {
        let heard = asr::simulate(&input.answer.text);
        let t = asr::compare(&g, &input, &heard);
        eprintln!(
            "{id:<14} WER {:.3} grade {} -> {} (score {:.2} -> {:.2})",
            t.wer, t.typed_grade, t.heard_grade, t.typed_score, t.heard_score
        );
        trips.push((asr::word_count(&input.answer.text), t));
    }
    let s = asr::summarise(&trips);
    eprintln!("SIMULATED ASR: {s:?}");
    assert!(s.wer > 0.03, "the simulation should make errors: {s:?}");
    assert!(s.mean_abs_grade_shift <= 0.3, "{s:?}");
}
