//! all-MiniLM-L6-v2 behind the interviewer's knowledge-area seam: answers that describe an area
//! in their own words (no cue of that area in them) are matched to it; unrelated answers and
//! denials are not. Needs the provisioned model (`viva models fetch`): skips with a message
//! when it is missing, or fails when `VIVA_REQUIRE_MODELS=1`.

use std::sync::{Arc, OnceLock};

use viva_embed::MiniLm;
use viva_interview::analysis::{AreaMatcher, LexicalAreaMatcher};
use viva_interview::job::KnowledgeArea;
use viva_interview::semantic::SemanticAreaMatcher;
use viva_interview::QuestionBank;

fn require() -> bool {
    std::env::var("VIVA_REQUIRE_MODELS").is_ok_and(|v| v == "1")
}

fn matcher() -> Option<&'static SemanticAreaMatcher> {
    static M: OnceLock<Option<SemanticAreaMatcher>> = OnceLock::new();
    M.get_or_init(|| {
        let dir = viva_embed::default_models_dir();
        match MiniLm::load(&dir) {
            Ok(model) => Some(viva_embed::semantic_matcher(Arc::new(model), []).expect("anchors")),
            Err(e) if require() => panic!("VIVA_REQUIRE_MODELS=1 but {e}"),
            Err(e) => {
                eprintln!("SKIPPED: {e}");
                None
            }
        }
    })
    .as_ref()
}

/// The knowledge areas a bank question assesses.
fn areas_of(question_id: &str) -> Vec<KnowledgeArea> {
    let bank = QuestionBank::embedded();
    let q = bank
        .questions
        .iter()
        .find(|q| q.id == question_id)
        .expect("question");
    let concept = bank
        .concepts
        .iter()
        .find(|c| c.id == q.concept)
        .expect("concept");
    concept
        .areas
        .iter()
        .filter(|a| q.areas.is_empty() || q.areas.contains(&a.id))
        .cloned()
        .collect()
}

/// (question, paraphrased answer, the area it describes). None of them uses a cue of its area.
const PARAPHRASES: &[(&str, &str, &str)] = &[
    (
        "api-idempotency",
        "When a client sends the same payment twice because its connection dropped, the server \
         remembers the unique token attached to the first attempt and hands back the earlier \
         outcome instead of charging the card again.",
        "idempotency",
    ),
    (
        "db-slow-query",
        "I asked the database to show how it intended to run the statement, and saw that it \
         was reading every single row of the orders table before filtering.",
        "query-plans",
    ),
    (
        "rel-observability",
        "We attach a shared identifier to every call as it hops between services, so we can \
         follow one user's click through all the backends and see which hop was slow.",
        "tracing",
    ),
    (
        "db-migration",
        "We changed the table layout while the site stayed up: first we added the new column, \
         copied the old rows over a little at a time, switched the code to read it, and only \
         weeks later dropped the old one.",
        "migrations",
    ),
    (
        "sec-secrets",
        "The database credentials are kept out of the code base entirely: the app pulls them \
         at startup from a locked-down store, and they are swapped for new ones every month.",
        "secrets",
    ),
];

#[test]
fn paraphrases_are_matched_to_their_area_by_meaning() {
    let Some(m) = matcher() else { return };
    for (q, answer, want) in PARAPHRASES {
        let areas = areas_of(q);
        let lexical = LexicalAreaMatcher.match_areas(answer, &areas);
        assert!(
            lexical.iter().all(|h| h.area_id != *want),
            "{q}: the lexical cues already find {want}; the paraphrase must avoid them: {lexical:?}"
        );
        let hits = m.semantic_hits(answer, &areas).expect("embed");
        eprintln!("{q}: {:?}", m.similarities(answer, &areas).expect("embed"));
        assert!(
            hits.iter().any(|h| h.area_id == *want),
            "{q}: {want} not matched by meaning: {hits:?}"
        );
        // …and only it: the question's neighbouring areas stay uncovered.
        assert_eq!(hits.len(), 1, "{q}: {hits:?}");
        // The evidence points at the answer and says why.
        let hit = hits.iter().find(|h| h.area_id == *want).unwrap();
        assert!(hit.evidence[0].cue.starts_with("meaning"));
        assert!(!hit.evidence[0].span.slice(answer).is_empty());
        // Through the AreaMatcher seam, the area is there too.
        assert!(m
            .match_areas(answer, &areas)
            .iter()
            .any(|h| h.area_id == *want));
    }
}

#[test]
fn unrelated_answers_and_denials_match_nothing() {
    let Some(m) = matcher() else { return };
    let unrelated = [
        "On weekends I mostly go hiking with my family and we cook Italian food together.",
        "The weather in Lisbon was lovely last spring and we visited a lot of museums.",
        "My favourite football team won the league this year after a very long wait.",
        "I have never set up anything like that, so I honestly don't know.",
    ];
    let mut worst: f32 = -1.0;
    for (q, _, _) in PARAPHRASES {
        let areas = areas_of(q);
        for answer in unrelated {
            let hits = m.match_areas(answer, &areas);
            assert!(hits.is_empty(), "{q}: {answer:?} matched {hits:?}");
            for (_, sim) in m.similarities(answer, &areas).expect("embed") {
                worst = worst.max(sim);
            }
        }
    }
    eprintln!(
        "closest unrelated answer: cosine {worst:.2} (threshold {:.2})",
        m.config().threshold
    );
}

#[test]
fn identical_input_gives_identical_hits() {
    let Some(m) = matcher() else { return };
    let (q, answer, _) = PARAPHRASES[0];
    let areas = areas_of(q);
    let a = serde_json::to_string(&m.match_areas(answer, &areas)).unwrap();
    let b = serde_json::to_string(&m.match_areas(answer, &areas)).unwrap();
    assert_eq!(a, b);
}

#[test]
fn embeddings_are_unit_length_and_similar_sentences_are_close() {
    let Some(_) = matcher() else { return };
    let model = MiniLm::load(&viva_embed::default_models_dir()).expect("model");
    let v = model
        .embed(&[
            "A man is eating food.",
            "A man is eating a piece of bread.",
            "The new movie is awesome.",
            "",
        ])
        .expect("embed");
    assert_eq!(v.len(), 4);
    for e in &v {
        assert_eq!(e.len(), viva_embed::DIM);
        let n: f32 = e.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((n - 1.0).abs() < 1e-3, "norm {n}");
    }
    let close = viva_embed::cosine(&v[0], &v[1]);
    let far = viva_embed::cosine(&v[0], &v[2]);
    assert!(close > 0.6 && far < 0.2, "close {close}, far {far}");
    // Batch padding does not change an embedding.
    let alone = model.embed(&["A man is eating food."]).expect("embed");
    assert!(viva_embed::cosine(&alone[0], &v[0]) > 0.9999);
    // 20,000 characters are truncated, not refused.
    let long = "word ".repeat(4000);
    assert_eq!(
        model.embed(&[&long]).expect("embed")[0].len(),
        viva_embed::DIM
    );
}

/// Through the dialogue manager: an answer that covers the most important area in its own
/// words gets a follow-up on that area from the cue matcher, and on the next missing one when
/// areas are matched by meaning.
#[test]
fn the_interviewer_does_not_ask_again_about_what_was_said_in_other_words() {
    use viva_interview::engine::{Action, EngineConfig, Event, Interview};
    use viva_interview::transcript::{Decision, Reason};
    let Some(m) = matcher() else { return };
    let answer = "At my last job I owned the public orders API. We never removed or renamed a field \
                  in place: new fields were only ever added, so old integrations kept working, and \
                  before switching off an old endpoint we checked the access logs for clients still \
                  calling it and gave them six months to move.";
    let follow_up = |matcher: Box<dyn AreaMatcher + Send + Sync>| -> (Decision, Reason) {
        let mut i =
            Interview::with_matcher(viva_interview::demo_job(), EngineConfig::default(), matcher);
        let mut now = 0;
        let mut say = |i: &mut Interview, text: Option<&str>| {
            now += 5_000;
            let event = match text {
                None => Event::Start,
                Some(t) => Event::CandidateAnswered {
                    text: t.into(),
                    words: None,
                },
            };
            i.handle(now, event)
        };
        say(&mut i, None);
        say(&mut i, Some("Yes, I'm ready."));
        say(
            &mut i,
            Some("About seven years, mostly Java and Go services."),
        );
        say(&mut i, Some("I could start in three weeks."));
        let actions = say(&mut i, Some(answer));
        actions
            .iter()
            .find_map(|a| match a {
                Action::Say {
                    decision, reason, ..
                } => Some((*decision, reason.clone())),
                _ => None,
            })
            .expect("a Say")
    };
    let lexical = follow_up(Box::new(LexicalAreaMatcher));
    let semantic = follow_up(Box::new(m.clone()));
    eprintln!("lexical: {lexical:?}\nsemantic: {semantic:?}");
    assert!(
        matches!(&lexical, (Decision::TargetedFollowUp, Reason::MissingKnowledgeArea { area, .. }) if area == "versioning"),
        "{lexical:?}"
    );
    // Versioning was heard (by meaning), so the next must-hear area is probed instead.
    assert!(
        matches!(&semantic, (Decision::TargetedFollowUp, Reason::MissingKnowledgeArea { area, .. }) if area == "idempotency"),
        "{semantic:?}"
    );
}
