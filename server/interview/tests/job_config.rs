//! Job files: the demo job is valid, malformed files name the field and the line.

use viva_interview::job::{JobConfig, DEMO_JOB_TOML};
use viva_interview::{demo_job, QuestionBank};

fn replace_once(src: &str, from: &str, to: &str) -> String {
    assert!(src.contains(from), "fixture text not found: {from}");
    src.replacen(from, to, 1)
}

fn line_of(src: &str, needle: &str) -> usize {
    let at = src
        .find(needle)
        .unwrap_or_else(|| panic!("{needle} not in source"));
    src[..at].matches('\n').count() + 1
}

#[test]
fn demo_job_is_valid_and_complete() {
    let job = demo_job();
    assert_eq!(job.title, "Senior Backend Developer — B2B SaaS");
    assert_eq!(job.template.max_follow_ups(), 5);
    assert_eq!(job.duration_minutes, 45);
    assert_eq!(job.knockouts.len(), 2);
    assert_eq!(job.custom_questions.len(), 4);
    assert_eq!(job.blueprints.len(), 2);
    assert!(job.blueprints.iter().all(|b| b.follow_ups.len() == 3));
    assert_eq!(
        job.rubric.dimensions.iter().map(|d| d.weight).sum::<u32>(),
        100
    );
    assert_eq!(job.competencies.len(), 3);
    assert!(job
        .custom_questions
        .iter()
        .chain(&job.blueprints)
        .all(|q| !q.expected_answers.is_empty()
            && !q.key_concepts.is_empty()
            && !q.red_flags.is_empty()));
    assert!(QuestionBank::embedded().check().is_empty());
}

#[test]
fn job_round_trips_through_toml() {
    let job = demo_job();
    let text = job.to_toml_string().expect("serialize");
    let again = JobConfig::from_toml_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(job, again);
}

#[test]
fn weights_not_summing_to_100_name_the_field_and_line() {
    let src = replace_once(DEMO_JOB_TOML, "weight = 25", "weight = 30");
    let errors = JobConfig::from_toml_str(&src).expect_err("weights sum to 105");
    let issue = &errors.0[0];
    assert_eq!(issue.field, "rubric.dimensions");
    assert_eq!(issue.line, Some(line_of(&src, "[[rubric.dimensions]]")));
    assert!(issue.message.contains("sum to 105"), "{}", issue.message);
    assert!(
        issue.fix.contains("lower the weights by 5"),
        "{}",
        issue.fix
    );
}

#[test]
fn unknown_key_names_field_and_line() {
    let src = replace_once(
        DEMO_JOB_TOML,
        "rule = \"min-years\"",
        "rule = \"min-years\"\nthreshhold_years = 3",
    );
    let errors = JobConfig::from_toml_str(&src).expect_err("unknown key");
    let issue = &errors.0[0];
    assert_eq!(issue.line, Some(line_of(&src, "threshhold_years")));
    assert_eq!(issue.field, "knockouts[0].threshhold_years");
    assert!(issue.message.contains("unknown field"), "{}", issue.message);
    assert!(issue
        .to_string()
        .contains(&format!("line {}", line_of(&src, "threshhold_years"))));
}

#[test]
fn empty_question_names_field_and_line() {
    let src = replace_once(
        DEMO_JOB_TOML,
        "text = \"Tell me about a time you optimized a database query. What was the impact on performance?\"",
        "text = \"  \"",
    );
    let errors = JobConfig::from_toml_str(&src).expect_err("empty question");
    let issue = errors
        .0
        .iter()
        .find(|i| i.field == "custom_questions[2].text")
        .expect("issue for the empty text");
    assert_eq!(issue.line, Some(line_of(&src, "text = \"  \"")));
    assert_eq!(issue.message, "empty");
}

#[test]
fn missing_field_and_bad_enum_value_are_reported() {
    let src = replace_once(DEMO_JOB_TOML, "duration_minutes = 45\n", "");
    let errors = JobConfig::from_toml_str(&src).expect_err("missing field");
    assert!(errors.0[0].message.contains("duration_minutes"), "{errors}");
    assert!(
        errors.0[0].fix.contains("add `duration_minutes"),
        "{errors}"
    );

    let src = replace_once(
        DEMO_JOB_TOML,
        "preset = \"deep-technical-screen\"",
        "preset = \"deep\"",
    );
    let errors = JobConfig::from_toml_str(&src).expect_err("bad preset");
    assert_eq!(errors.0[0].field, "template.preset");
    assert_eq!(errors.0[0].line, Some(line_of(&src, "preset = \"deep\"")));
}

#[test]
fn syntax_error_gives_a_line() {
    let src = replace_once(
        DEMO_JOB_TOML,
        "duration_minutes = 45",
        "duration_minutes = = 45",
    );
    let errors = JobConfig::from_toml_str(&src).expect_err("syntax");
    assert_eq!(
        errors.0[0].line,
        Some(line_of(&src, "duration_minutes = = 45"))
    );
}

#[test]
fn questions_touching_banned_or_protected_topics_are_rejected() {
    let src = replace_once(
        DEMO_JOB_TOML,
        "How do you approach debugging a performance issue in production? Please give a specific example.",
        "What salary do you expect, and how old are you?",
    );
    let errors = JobConfig::from_toml_str(&src).expect_err("banned");
    let fields: Vec<_> = errors
        .0
        .iter()
        .map(|i| (i.field.as_str(), i.message.as_str()))
        .collect();
    assert!(
        fields
            .iter()
            .any(|(f, m)| *f == "custom_questions[1].text" && m.contains("bans")),
        "{fields:?}"
    );
    assert!(
        fields
            .iter()
            .any(|(f, m)| *f == "custom_questions[1].text" && m.contains("protected")),
        "{fields:?}"
    );
}

#[test]
fn knockout_threshold_and_references_are_checked() {
    let src = replace_once(DEMO_JOB_TOML, "threshold = 3\n", "");
    let errors = JobConfig::from_toml_str(&src).expect_err("no threshold");
    assert_eq!(errors.0[0].field, "knockouts[0].threshold");
    assert_eq!(
        errors.0[0].line,
        Some(line_of(&src, "[[knockouts]]")),
        "missing field → its table's line"
    );

    let src = replace_once(
        DEMO_JOB_TOML,
        "\"api-design.idempotency\"",
        "\"api-design.idempotence\"",
    );
    let errors = JobConfig::from_toml_str(&src).expect_err("bad area ref");
    assert_eq!(errors.0[0].field, "custom_questions[0].bank_areas[1]");
    assert_eq!(
        errors.0[0].line,
        Some(line_of(
            &src,
            "bank_areas = [\"api-design.versioning\", \"api-design.idempotence\""
        ))
    );
}

#[test]
fn no_questions_at_all_is_an_error() {
    let mut job = demo_job();
    job.custom_questions.clear();
    job.blueprints.clear();
    let problems = job.validate();
    assert!(problems
        .iter()
        .any(|p| p.message == "the job has no questions"));
}

#[test]
fn recommendation_thresholds_are_the_jobs_and_must_fall() {
    let job = demo_job();
    assert_eq!(
        (
            job.rubric.thresholds.strong_yes,
            job.rubric.thresholds.yes,
            job.rubric.thresholds.maybe
        ),
        (80, 65, 45)
    );
    let src = replace_once(DEMO_JOB_TOML, "yes = 65", "yes = 85");
    let errors = JobConfig::from_toml_str(&src).expect_err("yes above strong_yes");
    let text = errors.to_string();
    assert!(text.contains("thresholds"), "{text}");
    assert!(text.contains("falling order"), "{text}");
}

#[test]
fn every_shipped_job_file_is_valid() {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("jobs");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("jobs folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    assert!(files.len() >= 4, "{files:?}");
    for file in &files {
        let job = JobConfig::load(file).unwrap_or_else(|e| panic!("{e}"));
        // Every allowed tag is a language the interviewer speaks.
        assert_eq!(
            job.allowed_langs().len(),
            1 + job
                .language
                .allowed
                .iter()
                .filter(|t| viva_interview::Lang::from_tag(t) != Some(job.interview_lang()))
                .count(),
            "{}",
            file.display()
        );
    }
}

#[test]
fn spanish_and_german_demo_jobs_mirror_the_english_one() {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("jobs");
    let en = demo_job();
    for (file, lang) in [
        (
            "desarrollo-backend-senior-es.toml",
            viva_interview::Lang::Es,
        ),
        ("backend-senior-de.toml", viva_interview::Lang::De),
    ] {
        let job = JobConfig::load(&dir.join(file)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(job.interview_lang(), lang, "{file}");
        assert_eq!(
            job.allowed_langs(),
            [lang, viva_interview::Lang::En],
            "{file}"
        );
        assert_eq!(job.knockouts.len(), en.knockouts.len(), "{file}");
        assert_eq!(
            job.custom_questions.len(),
            en.custom_questions.len(),
            "{file}"
        );
        assert_eq!(job.blueprints.len(), en.blueprints.len(), "{file}");
        assert_eq!(
            job.skills.required.len(),
            en.skills.required.len(),
            "{file}"
        );
        assert_eq!(job.competencies.len(), en.competencies.len(), "{file}");
        assert_eq!(job.duration_minutes, en.duration_minutes);
        for (a, b) in job.knockouts.iter().zip(&en.knockouts) {
            assert_eq!((a.rule, a.threshold), (b.rule, b.threshold), "{file}");
        }
        for q in job.custom_questions.iter().chain(&job.blueprints) {
            // Written for the language: areas of its own, none borrowed from the English bank.
            assert!(
                q.bank_areas.is_empty() && !q.knowledge_areas.is_empty(),
                "{file}: {}",
                q.text
            );
            assert!(q.rephrased.is_some(), "{file}: {}", q.text);
            assert!(
                !q.expected_answers.is_empty()
                    && !q.key_concepts.is_empty()
                    && !q.red_flags.is_empty()
            );
        }
        assert!(job.blueprints.iter().all(|b| b.follow_ups.len() == 3));
    }
}

#[test]
fn interview_languages_are_checked() {
    let src = replace_once(DEMO_JOB_TOML, "interview = \"en\"", "interview = \"fr\"");
    let errors = JobConfig::from_toml_str(&src).expect_err("French is not supported");
    let issue = &errors.0[0];
    assert_eq!(issue.field, "language.interview");
    assert_eq!(issue.line, Some(line_of(&src, "interview = \"fr\"")));
    assert!(issue.message.contains("\"fr\""), "{}", issue.message);
    assert!(issue.message.contains("en, es, de"), "{}", issue.message);

    let src = replace_once(
        DEMO_JOB_TOML,
        "interview = \"en\"",
        "interview = \"es-MX\"\nallowed = [\"en\", \"it\"]",
    );
    let errors = JobConfig::from_toml_str(&src).expect_err("Italian is not supported");
    assert_eq!(errors.0.len(), 1, "{errors}");
    assert_eq!(errors.0[0].field, "language.allowed[1]");
    assert!(
        errors.0[0].fix.contains("en, es, de"),
        "{}",
        errors.0[0].fix
    );

    // A Spanish interview of an English job validates: catalogue prompts for the language check.
    let src = replace_once(DEMO_JOB_TOML, "interview = \"en\"", "interview = \"es-MX\"");
    let job = JobConfig::from_toml_str(&src).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(job.interview_lang(), viva_interview::Lang::Es);
    assert_eq!(job.allowed_langs(), [viva_interview::Lang::Es]);
}
