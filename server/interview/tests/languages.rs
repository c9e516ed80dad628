//! Interviews in Spanish and German: the demo jobs in those languages run end to end with their
//! scripted candidates (every interviewer phrase from the language's catalogue, knockouts read
//! from number words, follow-ups asked), and a candidate can switch between allowed languages.

use std::path::{Path, PathBuf};

use viva_interview::candidate::{last_question, ScriptedCandidate};
use viva_interview::engine::{prerenderable_phrases, prerenderable_phrases_in};
use viva_interview::guard::TopicGuard;
use viva_interview::phrases::{catalogue, Phrases};
use viva_interview::transcript::{Decision, KnockoutVerdict, QuestionRef, Reason, UtteranceKind};
use viva_interview::{demo_job, Action, EngineConfig, Event, Interview, JobConfig, Lang};

const SEC: u64 = 1000;

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn job_file(file: &str) -> JobConfig {
    JobConfig::load(&crate_dir().join("jobs").join(file)).unwrap_or_else(|e| panic!("{e}"))
}

fn said(actions: &[Action]) -> Vec<String> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Say { text, .. } => Some(text.clone()),
            _ => None,
        })
        .collect()
}

/// Runs a whole interview of the candidate's own job; returns the engine and every utterance.
fn run_candidate(file: &Path) -> (JobConfig, Interview, Vec<String>) {
    let candidate = ScriptedCandidate::load(file).expect("candidate");
    let job_path = candidate
        .job_path(file)
        .expect("the candidate names its job");
    let job = JobConfig::load(&job_path).unwrap_or_else(|e| panic!("{e}"));
    let mut replay = candidate.replay();
    let mut interview = Interview::new(job.clone(), EngineConfig::default());
    let mut now = 0;
    let mut actions = interview.handle(now, Event::Start);
    let mut all = said(&actions);
    for _ in 0..150 {
        if interview.is_ended() {
            break;
        }
        let text = replay.answer(&last_question(&actions)).to_string();
        now += 20 * SEC;
        actions = interview.handle(now, Event::CandidateAnswered { text, words: None });
        all.extend(said(&actions));
    }
    (job, interview, all)
}

/// English phrases and words that must never be heard in a Spanish or German interview.
fn assert_no_english(lang: Lang, utterances: &[String]) {
    let english: Vec<&String> = catalogue(Lang::En).values().flatten().collect();
    for u in utterances {
        let padded = format!(
            " {} ",
            u.to_lowercase().replace(['?', '.', ',', ';', ':'], " ")
        );
        for word in [
            " the ", " you ", " your ", " and ", " what ", " how ", " let's ",
        ] {
            assert!(!padded.contains(word), "{lang}: English {word:?} in: {u}");
        }
        assert!(!u.contains("Thank you"), "{lang}: {u}");
        assert!(!english.iter().any(|e| e.as_str() == u), "{lang}: {u}");
    }
}

fn check_whole_interview(file: &str, lang: Lang) {
    let path = crate_dir().join("candidates/languages").join(file);
    let (job, interview, utterances) = run_candidate(&path);
    assert_eq!(job.interview_lang(), lang);
    assert_eq!(interview.language(), lang);
    let phrases = Phrases::for_job(&job, &TopicGuard::for_job(&job));
    assert_eq!(phrases.lang, lang);
    let t = interview.transcript();

    // Greeting and closing are the catalogue's.
    assert_eq!(utterances.first(), phrases.greeting.as_ref());
    assert_eq!(utterances.last(), phrases.closing.as_ref());
    assert_eq!(t.end_reason, Some(Reason::NoMoreCandidateQuestions));
    assert_no_english(lang, &utterances);

    // Knockouts read from number words ("seis años", "in einem Monat") and passed.
    assert_eq!(t.knockouts.len(), 2, "{:?}", t.knockouts);
    assert!(t
        .knockouts
        .iter()
        .all(|k| k.verdict == KnockoutVerdict::Passed));
    assert_eq!(t.knockouts[0].value, Some(6.0));
    assert_eq!(t.knockouts[1].value, Some(4.35));

    // Follow-ups: the blueprints' own and targeted ones from the job's areas.
    let count = |d: Decision| t.turns.iter().filter(|x| x.decision == d).count();
    assert!(count(Decision::PrewrittenFollowUp) >= 3);
    assert!(count(Decision::TargetedFollowUp) >= 1);
    // The English bank is never heard; nothing outside the catalogue and the job is said.
    assert!(!t
        .turns
        .iter()
        .any(|x| matches!(x.question, QuestionRef::Bank { .. })));
    let prerendered = prerenderable_phrases(&job);
    for u in &utterances {
        assert!(prerendered.contains(u), "not pre-renderable: {u}");
    }
    // The language check used the catalogue's prompts.
    let prompts = &catalogue(lang)["language_prompts"];
    let asked: Vec<&String> = t
        .turns
        .iter()
        .filter(|x| matches!(x.question, QuestionRef::Language { .. }) && x.awaits_answer)
        .map(|x| &x.prompt)
        .collect();
    assert_eq!(asked.len(), 3);
    assert!(asked.iter().all(|p| prompts.contains(p)));
}

#[test]
fn a_whole_spanish_interview_is_held_in_spanish() {
    check_whole_interview("es-solid.toml", Lang::Es);
}

#[test]
fn a_whole_german_interview_is_held_in_german() {
    check_whole_interview("de-solid.toml", Lang::De);
}

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

    fn answer(&mut self, text: &str) -> Vec<Action> {
        self.now += 10 * SEC;
        self.interview.handle(
            self.now,
            Event::CandidateAnswered {
                text: text.to_string(),
                words: None,
            },
        )
    }
}

fn english_job_allowing_spanish() -> JobConfig {
    let mut job = demo_job();
    job.language.allowed = vec!["es".into()];
    assert!(job.validate().is_empty());
    job
}

#[test]
fn switching_from_english_to_spanish_mid_interview() {
    let job = english_job_allowing_spanish();
    let es = Phrases::for_job_in(&job, &TopicGuard::for_job(&job), Lang::Es);
    let mut run = Run::new(job.clone());
    run.interview.handle(0, Event::Start);
    let a = run.answer("Yes, I'm ready.");
    let knockout = said(&a).last().cloned().expect("first knockout");
    assert_eq!(run.interview.language(), Lang::En);

    let a = run.answer("Can we continue in Spanish?");
    let s = said(&a);
    // Confirmed in Spanish, then the question again (the job's own words, as written).
    assert_eq!(s.first(), es.language_switched.as_ref());
    assert_eq!(
        s.first().map(String::as_str),
        Some("De acuerdo, seguimos en español.")
    );
    assert_eq!(s.last(), Some(&knockout));
    assert_eq!(run.interview.language(), Lang::Es);
    let t = run.interview.transcript();
    let switch = Reason::LanguageSwitched {
        from: Lang::En,
        to: Lang::Es,
    };
    assert!(t
        .decisions
        .iter()
        .any(|d| d.decision == Decision::SwitchLanguage && d.reason == switch));
    assert_eq!(t.language_switches().len(), 1);
    assert_eq!(t.language_switches()[0].1, Lang::En);
    assert_eq!(t.language_switches()[0].2, Lang::Es);
    // The transcript still reads as before (serde round trip).
    let json = serde_json::to_string(t).expect("json");
    let back: viva_interview::Transcript = serde_json::from_str(&json).expect("parse");
    assert_eq!(&back, t);

    // From now on the answers are read in Spanish and the engine speaks Spanish.
    let a = run.answer("Unos siete años, sobre todo con Java.");
    assert_eq!(said(&a).first(), es.thanks.as_ref());
    run.answer("Podría empezar en tres semanas.");
    let t = run.interview.transcript();
    assert_eq!(t.knockouts[0].value, Some(7.0));
    assert_eq!(t.knockouts[1].value, Some(3.0));
    let mut utterances = Vec::new();
    for _ in 0..80 {
        if run.interview.is_ended() {
            break;
        }
        let a = run.answer("No lo sé, la verdad.");
        utterances.extend(said(&a));
    }
    if !run.interview.is_ended() {
        let a = run.answer("No, gracias.");
        utterances.extend(said(&a));
    }
    assert!(run.interview.is_ended());
    assert_eq!(utterances.last(), es.closing.as_ref());
    assert!(utterances
        .iter()
        .any(|u| Some(u) == es.move_on_after_non_answer.as_ref()));
    // No English catalogue phrase and no bank question after the switch; skills are asked with
    // the Spanish skill question.
    let english: Vec<&String> = catalogue(Lang::En).values().flatten().collect();
    for u in &utterances {
        assert!(
            !english.iter().any(|e| e.as_str() == u),
            "English phrase: {u}"
        );
        assert!(
            prerenderable_phrases_in(&job, Lang::Es).contains(u),
            "not pre-renderable in Spanish: {u}"
        );
    }
    let t = run.interview.transcript();
    assert!(!t
        .turns
        .iter()
        .any(|x| matches!(x.question, QuestionRef::Bank { .. })));
    assert!(t
        .turns
        .iter()
        .any(|x| matches!(x.question, QuestionRef::Skill { .. })
            && x.prompt
                .starts_with("Hábleme de su experiencia práctica con")));
}

#[test]
fn switching_from_spanish_to_english_at_the_greeting_repeats_it_in_english() {
    let job = job_file("desarrollo-backend-senior-es.toml");
    let en = Phrases::for_job_in(&job, &TopicGuard::for_job(&job), Lang::En);
    let mut run = Run::new(job);
    run.interview.handle(0, Event::Start);
    let a = run.answer("Hola. Could we do this in English, please?");
    let s = said(&a);
    assert_eq!(s.first(), en.language_switched.as_ref());
    assert_eq!(s.last(), en.greeting.as_ref());
    assert_eq!(run.interview.language(), Lang::En);
    assert!(a.iter().any(|x| matches!(
        x,
        Action::Say {
            kind: UtteranceKind::Repeat,
            awaits_answer: true,
            ..
        }
    )));
    let a = run.answer("Yes, ready.");
    assert_eq!(said(&a).first(), en.begin.as_ref());
    // The job's own knockout question, as written.
    assert!(said(&a)
        .last()
        .is_some_and(|q| q.contains("¿cuántos años de experiencia")));
    run.answer("About seven years.");
    assert_eq!(
        run.interview.transcript().knockouts[0].verdict,
        KnockoutVerdict::Passed
    );
}

#[test]
fn a_language_the_job_does_not_allow_is_refused_politely() {
    // The demo job allows English only.
    let job = demo_job();
    let en = Phrases::for_job(&job, &TopicGuard::for_job(&job));
    let mut run = Run::new(job);
    run.interview.handle(0, Event::Start);
    let a = run.answer("Yes, ready.");
    let knockout = said(&a).last().cloned().expect("knockout");
    let a = run.answer("¿Podemos seguir en español?");
    let s = said(&a);
    assert_eq!(
        s.first().map(String::as_str),
        Some("I'm sorry, this interview can only be held in English.")
    );
    assert_eq!(s.first(), en.language_declined.as_ref());
    assert_eq!(s.last(), Some(&knockout));
    assert_eq!(run.interview.language(), Lang::En);
    let t = run.interview.transcript();
    assert!(t
        .decisions
        .iter()
        .any(|d| d.decision == Decision::DeclineLanguageSwitch
            && d.reason
                == Reason::LanguageSwitchDeclined {
                    requested: "es".into()
                }));
    assert!(t.language_switches().is_empty());

    // In Spanish, a language viva does not speak is refused in Spanish, naming the allowed ones.
    let mut run = Run::new(job_file("desarrollo-backend-senior-es.toml"));
    run.interview.handle(0, Event::Start);
    let a = run.answer("¿Podríamos hacer la entrevista en francés?");
    assert_eq!(
        said(&a).first().map(String::as_str),
        Some("Lo siento, esta entrevista solo puede hacerse en español o inglés.")
    );
    assert_eq!(run.interview.language(), Lang::Es);
}

#[test]
fn mentioning_a_language_in_an_answer_does_not_switch() {
    let mut run = Run::new(english_job_allowing_spanish());
    run.interview.handle(0, Event::Start);
    run.answer("Yes, ready.");
    run.answer("Seven years. I worked in Spain, and I speak Spanish and English.");
    assert_eq!(run.interview.language(), Lang::En);
    let t = run.interview.transcript();
    assert_eq!(t.knockouts[0].value, Some(7.0));

    let mut run = Run::new(job_file("backend-senior-de.toml"));
    run.interview.handle(0, Event::Start);
    run.answer("Ja, gerne.");
    run.answer("Sieben Jahre. Ich spreche Deutsch und Englisch und habe in Spanien gearbeitet.");
    assert_eq!(run.interview.language(), Lang::De);
    assert_eq!(run.interview.transcript().knockouts[0].value, Some(7.0));
}

#[test]
fn german_answers_are_understood() {
    let job = job_file("backend-senior-de.toml");
    let de = Phrases::for_job(&job, &TopicGuard::for_job(&job));
    let mut run = Run::new(job);
    run.interview.handle(0, Event::Start);
    // Not ready yet, then ready.
    let a = run.answer("Einen Moment bitte.");
    assert_eq!(said(&a).first(), de.not_ready.as_ref());
    run.answer("Jetzt, ja.");
    // A knockout answer without a number gets the German clarification.
    let a = run.answer("Schon eine ganze Weile.");
    assert_eq!(said(&a).first(), de.clarify_years.as_ref());
    let a = run.answer("Ungefähr acht Jahre.");
    assert_eq!(said(&a).first(), de.thanks.as_ref());
    assert_eq!(run.interview.transcript().knockouts[0].value, Some(8.0));
    run.answer("Sofort.");
    assert_eq!(run.interview.transcript().knockouts[1].value, Some(0.0));
    // A repeat request repeats the question; "I don't know" moves on without pressing.
    let a = run.answer("Können Sie die Frage bitte wiederholen?");
    let (decision, kind) = a
        .iter()
        .find_map(|x| match x {
            Action::Say { decision, kind, .. } => Some((*decision, *kind)),
            _ => None,
        })
        .expect("a say");
    assert_eq!((decision, kind), (Decision::Repeat, UtteranceKind::Repeat));
    let a = run.answer("Das weiß ich leider nicht.");
    assert_eq!(said(&a).first(), de.move_on_after_non_answer.as_ref());
    // A hypothetical answer where a real example was asked for.
    let a = run.answer(
        "Ich würde normalerweise zuerst die Latenz in Grafana anschauen und dann die Traces in Jaeger prüfen, bevor ich etwas ändere.",
    );
    assert!(a.iter().any(|x| matches!(
        x,
        Action::Say {
            decision: Decision::ProbeForExample,
            ..
        }
    )));
}

mod properties {
    use proptest::prelude::*;

    use super::*;

    const ANSWERS: &[&str] = &[
        "Sí, podemos empezar.",
        "Unos siete años.",
        "En dos meses.",
        "No lo sé.",
        "¿Podría repetir la pregunta, por favor?",
        "Can we continue in English, please?",
        "¿Podemos volver al español?",
        "Können wir auf Deutsch weitermachen?",
        "Could we continue in French?",
        "Normalmente haría un análisis con EXPLAIN y añadiría un índice.",
        "En mi último trabajo añadí un índice compuesto y la consulta bajó de 8 segundos a 300 ms.",
        "¿Cuál es el salario?",
        "No, gracias.",
        "",
    ];

    proptest! {
        #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

        /// Whatever is said, in whatever language, the engine never panics and says only what
        /// the job's rules allow and what can be pre-rendered in one of its languages.
        #[test]
        fn any_mix_of_languages_is_safe(
            steps in proptest::collection::vec(
                prop_oneof![
                    4 => proptest::sample::select(ANSWERS).prop_map(str::to_string),
                    1 => any::<String>(),
                ],
                1..50,
            ),
            dt in 1_000u64..90_000,
        ) {
            let job = job_file("desarrollo-backend-senior-es.toml");
            let guard = TopicGuard::for_job(&job);
            let sayable: Vec<String> = job
                .allowed_langs()
                .into_iter()
                .flat_map(|l| prerenderable_phrases_in(&job, l))
                .collect();
            let mut interview = Interview::new(job, EngineConfig::default());
            let mut now = 0;
            let mut out = said(&interview.handle(now, Event::Start));
            for text in steps {
                now += dt;
                out.extend(said(&interview.handle(now, Event::CandidateAnswered { text, words: None })));
                prop_assert!(matches!(interview.language(), Lang::Es | Lang::En));
            }
            for u in &out {
                prop_assert!(guard.allows(u), "said: {u}");
                prop_assert!(sayable.contains(u), "not pre-renderable: {u}");
            }
        }
    }
}
