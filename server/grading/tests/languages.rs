//! Spanish and German answers are read in their language.
//!
//! `testdata/languages/{es,de}-solid.json` are the scored threads of the solid mid-level
//! candidates (`server/interview/candidates/languages/*-solid.toml`, panel "yes" or "maybe")
//! interviewed for the Spanish and German demo jobs, as the scorer hands them to the grader
//! (question, references, key concepts, red flags, the content answers joined); made with
//! `viva interview --text --candidate … --simulated-answer-secs 4 --out` from those files.
//! `*-language-answers.json` are the same interviews' language-phase answers with word times.
//! The report-level check (composite in the panel's band through `viva score`) belongs to the
//! workspace's calibration test, which has the scorer.

use viva_grading::cefr::{self, CefrBand};
use viva_grading::signals::{interview_signals_in, Experience};
use viva_grading::{grade, grade_in, GradeInput, Lang, RejectReason, Transcript};

fn fixture<T: serde::de::DeserializeOwned>(name: &str) -> T {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/languages")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn solid_spanish_and_german_answers_are_graded_in_their_language() {
    for (file, lang) in [("es-solid.json", Lang::Es), ("de-solid.json", Lang::De)] {
        let threads: Vec<GradeInput> = fixture(file);
        assert!(threads.len() >= 5, "{file}");
        let mut scores = Vec::new();
        for t in &threads {
            let g = grade(&t.clone());
            assert_eq!(g.rejected, None, "{file}: {:?}", g.reasons);
            assert_eq!(g.language, lang, "{file}");
            // The explicit language gives the same reading.
            assert_eq!(grade_in(t, lang), g, "{file}");
            scores.push(g.score);
        }
        // Before, every one of these answers was rejected as "not English" and graded 0. A
        // solid mid-level candidate earns grades in the range the English solid-mid candidate
        // earns on the same questions (0.4–2.5): well above zero, none near the top.
        let mean = scores.iter().sum::<f64>() / scores.len() as f64;
        assert!(mean >= 1.0, "{file}: {scores:?}");
        assert!(scores.iter().all(|s| *s > 0.5), "{file}: {scores:?}");
    }
}

#[test]
fn a_vague_spanish_answer_scores_below_a_concrete_one() {
    let threads: Vec<GradeInput> = fixture("es-solid.json");
    // The query-optimisation question.
    let q = threads
        .iter()
        .find(|t| t.question.contains("optimizó una consulta"))
        .expect("the query question");
    let concrete = GradeInput {
        answer: Transcript::from_text(
            "Nuestro informe mensual tardaba unos ocho segundos. Lo detecté en el log de consultas \
             lentas, ejecuté EXPLAIN ANALYZE y vi un escaneo secuencial sobre la tabla de reservas, \
             así que creé un índice compuesto sobre clinic_id y created_at con CONCURRENTLY, y la \
             consulta bajó a unos 300 milisegundos.",
        ),
        ..q.clone()
    };
    let vague = GradeInput {
        answer: Transcript::from_text(
            "Bueno, depende mucho del caso. Normalmente miro un poco la consulta y pruebo cosas \
             hasta que va mejor, quizá con algún índice o algo así. En general suele ir bastante \
             más rápido después.",
        ),
        ..q.clone()
    };
    let (c, v) = (grade(&concrete), grade(&vague));
    assert_eq!((c.language, v.language), (Lang::Es, Lang::Es));
    assert!(
        c.score > v.score + 0.5,
        "concrete {} vs vague {}",
        c.score,
        v.score
    );
    assert!(c.signals.specificity > v.signals.specificity + 0.3);
    assert_eq!(c.signals.experience, Experience::Past);
    assert_eq!(v.signals.experience, Experience::Hypothetical);
}

#[test]
fn english_questions_still_reject_other_languages_and_english_switches_are_read_as_english() {
    let english = GradeInput {
        question: "Why does the bulb stay on?".into(),
        references: vec!["The bulb is in a closed path with the battery.".into()],
        answer: Transcript::from_text(
            "La bombilla está en un circuito cerrado con la batería y por eso sigue encendida",
        ),
        ..Default::default()
    };
    assert_eq!(grade(&english).rejected, Some(RejectReason::NotEnglish));
    // Told the answer is Spanish, the grader reads it as Spanish instead.
    let g = grade_in(&english, Lang::Es);
    assert_eq!((g.rejected, g.language), (None, Lang::Es));

    // A Spanish question answered in English (a recorded switch): read as English.
    let spanish = GradeInput {
        question: "¿Cómo optimizó la consulta?".into(),
        references: vec!["Leyó el plan con EXPLAIN ANALYZE y añadió un índice compuesto.".into()],
        answer: Transcript::from_text(
            "I read the plan with EXPLAIN ANALYZE and added a composite index on the two columns.",
        ),
        ..Default::default()
    };
    let g = grade(&spanish);
    assert_eq!((g.rejected, g.language), (None, Lang::En));
    // Another script under a Spanish question is rejected, naming the language.
    let chinese = GradeInput {
        answer: Transcript::from_text("我们用 EXPLAIN 看了查询计划，然后加了一个复合索引。"),
        ..spanish
    };
    let g = grade(&chinese);
    assert_eq!(g.rejected, Some(RejectReason::WrongLanguage));
    assert!(g.reasons[0].contains("Spanish"), "{:?}", g.reasons);
}

#[test]
fn accents_and_stemming_match_spanish_and_german_key_concepts() {
    let es = GradeInput {
        question: "¿Cómo eligió el índice?".into(),
        references: vec!["Eligió un índice compuesto según el orden de las columnas.".into()],
        key_concepts: vec!["índices compuestos".into(), "orden de las columnas".into()],
        // No accents, plural/singular swapped: a keyboard or a recogniser without accents.
        answer: Transcript::from_text(
            "Cree un indice compuesto y elegi el orden de la columna por la igualdad primero.",
        ),
        ..Default::default()
    };
    let g = grade(&es);
    assert_eq!(g.language, Lang::Es);
    assert!(
        g.concepts
            .iter()
            .all(|c| c.status == viva_grading::ConceptStatus::Covered),
        "{:#?}",
        g.concepts
    );
    let de = GradeInput {
        question: "Wie haben Sie die Abfrage beschleunigt?".into(),
        references: vec!["Mit einem zusammengesetzten Index nach dem Lesen des Abfrageplans.".into()],
        key_concepts: vec!["Abfrageplan".into(), "zusammengesetzter Index".into()],
        answer: Transcript::from_text(
            "Ich habe den Plan der Abfrage gelesen und einen zusammengesetzten Datenbankindex angelegt.",
        ),
        ..Default::default()
    };
    let g = grade(&de);
    assert_eq!(g.language, Lang::De);
    assert!(
        g.concepts
            .iter()
            .all(|c| c.status != viva_grading::ConceptStatus::Missing),
        "{:#?}",
        g.concepts
    );
}

#[test]
fn ownership_hypothetical_and_numbers_in_spanish_and_german() {
    let es = |t: &str| interview_signals_in(&Transcript::from_text(t), Lang::Es);
    let de = |t: &str| interview_signals_in(&Transcript::from_text(t), Lang::De);

    // Spanish drops the pronoun: the verb ending says who did it.
    let s = es("Diseñé la API y añadí una clave de idempotencia; migré el esquema en dos semanas.");
    assert_eq!(
        (s.first_person_singular, s.first_person_plural),
        (3, 0),
        "{s:?}"
    );
    assert_eq!(s.experience, Experience::Past);
    assert!(s.specifics.iter().any(|x| x == "dos"), "{s:?}");
    let s = es("Versionamos la API y nuestro equipo la documentó con OpenAPI.");
    assert!(s.first_person_plural >= 2 && s.ownership < 0.5, "{s:?}");
    let s = es(
        "Yo usaría una cola y probablemente pondría un balanceador; si hiciera falta, haría caché.",
    );
    assert_eq!(s.experience, Experience::Hypothetical, "{s:?}");

    let s =
        de("Ich habe einen Index hinzugefügt und die Abfrage dauerte danach 300 Millisekunden.");
    assert_eq!(s.experience, Experience::Past, "{s:?}");
    assert_eq!(s.first_person_singular, 1);
    assert!(s.specifics.iter().any(|x| x == "300"), "{s:?}");
    let s = de("Wir würden vielleicht einen Cache einsetzen, wenn es langsam wäre.");
    assert_eq!(s.experience, Experience::Hypothetical, "{s:?}");
    assert!(s.first_person_plural >= 1 && s.ownership == 0.0);
    // German nouns are capitalised: only names with an inner capital count as specifics.
    let s = de("Die Datenbank und die Abfrage liefen auf PostgreSQL.");
    assert_eq!(s.specifics, vec!["PostgreSQL".to_string()], "{s:?}");
}

#[test]
fn spanish_and_german_numbers_are_read_as_numbers() {
    // Decimal comma, thousands dot and number words agree with a digit reference.
    for (lang, reference, answer) in [
        (
            Lang::Es,
            "Bajó de 1500 a 2.5 segundos.",
            "Bajó de mil quinientos… no: de 1.500 a 2,5 segundos.",
        ),
        (
            Lang::De,
            "Von 1500 auf 2.5 Sekunden gesenkt.",
            "Von 1.500 auf 2,5 Sekunden gesenkt.",
        ),
    ] {
        let g = grade_in(
            &GradeInput {
                question: "?".into(),
                references: vec![reference.into()],
                answer: Transcript::from_text(answer),
                ..Default::default()
            },
            lang,
        );
        let mismatch = g
            .features
            .iter()
            .find(|(n, _)| n == "number_mismatch")
            .map(|(_, v)| *v);
        assert_eq!(mismatch, Some(0.0), "{lang:?}: {:?}", g.features);
        assert!(g.p_correct > 0.5, "{lang:?}: {g:#?}");
    }
}

#[test]
fn language_answers_get_a_labelled_cefr_estimate_that_is_not_inflated() {
    for (file, lang) in [
        ("es-language-answers.json", Lang::Es),
        ("de-language-answers.json", Lang::De),
    ] {
        let t: Transcript = fixture(file);
        let est = cefr::estimate(&t);
        assert_eq!(est.language, lang, "{file}");
        assert_eq!(cefr::estimate_in(&t, lang), est);
        // Fluent, plain answers of a mid-level professional: B2-ish, never C1 from word
        // length alone (the English reading said C1).
        assert!(
            (CefrBand::B1..=CefrBand::C1).contains(&est.band),
            "{file}: {est:?}"
        );
        assert!(est.level < 5.0, "{file}: {}", est.level);
        assert!(
            est.notes.iter().any(|n| n.contains(lang.name())),
            "{file}: {:?}",
            est.notes
        );
        let json = serde_json::to_string(&est).expect("json");
        assert!(json.contains(&format!("\"language\":\"{}\"", lang.tag())));
    }
}
