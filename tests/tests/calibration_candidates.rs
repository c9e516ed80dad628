//! The team's calibration candidates (`server/interview/candidates/*.toml`) through the real
//! binary: `viva interview --text --candidate` then `viva score`. Each must land in the band a
//! hiring panel gives it, and every red flag in its report must quote words the candidate said.
//! No models needed: text interviews and scoring are pure.

use std::path::Path;

use viva_e2e::*;

struct Outcome {
    name: String,
    /// The languages the report says the interview was held in (empty: English only).
    languages: Vec<String>,
    composite: f64,
    recommendation: String,
}

fn band_key(recommendation: &str) -> String {
    recommendation.to_lowercase().replace(' ', "_")
}

fn interview_and_score(file: &Path, dir: &Path) -> Outcome {
    interview_and_score_for(file, dir, None)
}

/// [`interview_and_score`] for a candidate of another job (scored against that job file).
fn interview_and_score_for(file: &Path, dir: &Path, job: Option<&Path>) -> Outcome {
    let stem = file.file_stem().and_then(|s| s.to_str()).expect("name");
    let transcript = dir.join(format!("{stem}.json"));
    let out = run(viva().args([
        "interview",
        "--text",
        "--candidate",
        file.to_str().expect("utf-8 path"),
        "--simulated-answer-secs",
        "4",
        "--out",
        transcript.to_str().expect("utf-8 path"),
    ]));
    assert!(
        out.status.success(),
        "{stem}: interview failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut score = viva();
    score.args([
        "score",
        transcript.to_str().expect("utf-8 path"),
        "--format",
        "json",
    ]);
    if let Some(job) = job {
        score.arg("--job").arg(job);
    }
    let out = run(&mut score);
    assert!(
        out.status.success(),
        "{stem}: score failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("report json");
    let said: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&transcript).expect("transcript"))
            .expect("transcript json");
    let answers: Vec<String> = said["turns"]
        .as_array()
        .expect("turns")
        .iter()
        .flat_map(|t| t["answers"].as_array().into_iter().flatten())
        .filter_map(|a| a["text"].as_str().map(str::to_string))
        .collect();
    // Every red flag cites the candidate's own words, said in that interview.
    for q in report["questions"].as_array().expect("questions") {
        for f in q["red_flags"].as_array().into_iter().flatten() {
            let quote = f["quote"]["text"].as_str().expect("a red flag has a quote");
            assert!(
                !quote.trim().is_empty() && answers.iter().any(|a| a.contains(quote)),
                "{stem}: red flag {} quotes {quote:?}, which the candidate did not say",
                f["flag"]
            );
            assert!(
                f["quote"]["start_ms"].is_u64(),
                "{stem}: the quote has its time"
            );
        }
    }
    let candidate: toml::Value =
        toml::from_str(&std::fs::read_to_string(file).expect("candidate")).expect("toml");
    let panel: Vec<String> = candidate["panel"]
        .as_array()
        .expect("panel")
        .iter()
        .filter_map(|b| b.as_str().map(str::to_string))
        .collect();
    let recommendation = report["decision"]["recommendation"]
        .as_str()
        .expect("recommendation")
        .to_string();
    let composite = report["composite"].as_f64().expect("composite");
    eprintln!("{stem:<20} {composite:>5.1} {recommendation:<10} panel {panel:?}");
    assert!(
        panel.contains(&band_key(&recommendation)),
        "{stem}: scored {recommendation} ({composite}), a panel says {panel:?}; risks: {:#}",
        report["risks"]
    );
    Outcome {
        languages: report["interview_languages"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|l| l.as_str().map(str::to_string))
            .collect(),
        name: stem.to_string(),
        composite,
        recommendation,
    }
}

#[test]
fn calibration_candidates_land_in_their_panel_bands() {
    let dir = tempfile::tempdir().expect("tmp");
    let folder = workspace_root().join("server/interview/candidates");
    let mut files: Vec<_> = std::fs::read_dir(&folder)
        .expect("candidates folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    assert!(files.len() >= 6, "at least six calibration candidates");
    let outcomes: Vec<Outcome> = files
        .iter()
        .map(|f| interview_and_score(f, dir.path()))
        .collect();
    let composite = |n: &str| {
        outcomes
            .iter()
            .find(|o| o.name == n)
            .map(|o| o.composite)
            .unwrap_or_else(|| panic!("no candidate {n}"))
    };
    // The order a panel would give, where it is not a tie.
    assert!(composite("strong-senior") > composite("solid-mid"));
    assert!(composite("solid-mid") > composite("vague-talker"));
    assert!(composite("solid-mid") > composite("confident-bluffer"));
    assert!(
        outcomes.iter().all(|o| o.languages.is_empty()),
        "an English interview's report names no language"
    );
    assert!(
        outcomes
            .iter()
            .filter(|o| o.name == "knockout-fail")
            .all(|o| o.recommendation == "No"),
        "a failed knockout is a No"
    );
}

/// The Spanish and German candidates (`candidates/languages/`, each naming its job): the whole
/// interview in their language through the binary, scored against that job, in the panel's
/// band, the report says which language the quotes are in, and no English phrase is spoken.
#[test]
fn spanish_and_german_candidates_land_in_their_panel_bands() {
    let dir = tempfile::tempdir().expect("tmp");
    let folder = workspace_root().join("server/interview/candidates/languages");
    for (file, lang) in [("es-solid.toml", "es"), ("de-solid.toml", "de")] {
        let path = folder.join(file);
        let candidate: toml::Value =
            toml::from_str(&std::fs::read_to_string(&path).expect("candidate")).expect("toml");
        let job = folder.join(
            candidate["job"]
                .as_str()
                .expect("the candidate names its job"),
        );
        let outcome = interview_and_score_for(&path, dir.path(), Some(&job));
        assert!(outcome.composite > 0.0, "{lang}: scored");
        assert_eq!(
            outcome.languages,
            vec![lang.to_string()],
            "{lang}: the report says"
        );
        let transcript = std::fs::read_to_string(dir.path().join(format!(
            "{}.json",
            path.file_stem().unwrap().to_str().unwrap()
        )))
        .expect("transcript");
        assert!(
            !transcript.contains("Thank you") && !transcript.contains("Are you ready"),
            "{lang}: an English phrase in the interview"
        );
    }
}
