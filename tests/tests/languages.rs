//! Interviews in Spanish and German through the real binary: the job's language picks the
//! multilingual Whisper model, the interviewer's phrases and voice, and the text rules of the
//! end-of-turn decision. The content answers are real read speech by native speakers (FLEURS,
//! `../shared/speech/ml/`); only the short knockout replies are espeak-ng's voice.

use std::path::Path;

use viva_e2e::*;

fn shared_ml() -> std::path::PathBuf {
    workspace_root().join("../shared/speech/ml")
}

/// The manifest's reference transcript of `file`.
fn reference(file: &str) -> String {
    let text = std::fs::read_to_string(shared_ml().join("manifest.tsv")).expect("ml manifest");
    text.lines()
        .find(|l| l.starts_with(file))
        .and_then(|l| l.split('\t').nth(3))
        .unwrap_or_else(|| panic!("{file} not in the manifest"))
        .to_string()
}

/// Words of `hyp` found in `reference` (case and punctuation aside): a recall that the
/// candidate's real speech came through in its language.
fn recall(reference: &str, hyp: &str) -> f64 {
    let norm = |s: &str| -> Vec<String> {
        s.split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .collect()
    };
    let heard = norm(hyp);
    let want = norm(reference);
    let found = want.iter().filter(|w| heard.contains(w)).count();
    found as f64 / want.len().max(1) as f64
}

struct Run {
    interviewer: Vec<String>,
    candidate: Vec<String>,
}

fn simulate(
    job: &Path,
    answers: &[std::path::PathBuf],
    data: &Path,
    env: &[(&str, &str)],
) -> Result<Run, String> {
    let list = answers
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(",");
    let mut cmd = viva();
    cmd.args(["simulate", "--json", "--timeout-s", "300", "--job"])
        .arg(job)
        .args(["--answers", &list])
        .env("VIVA_STORAGE_DATA_DIR", data)
        .env_remove("DATABASE_URL");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = run(&mut cmd);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("json report");
    let said = |who: &str| -> Vec<String> {
        report["transcript"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|l| l["speaker"] == who)
            .map(|l| l["text"].as_str().unwrap().to_string())
            .collect()
    };
    Ok(Run {
        interviewer: said("interviewer"),
        candidate: said("candidate"),
    })
}

fn interview_in(
    job: &str,
    voice: &str,
    replies: &[&str],
    fleurs: &[&str],
    english_words: &[&str],
    greeting_word: &str,
) {
    if !model_available() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let mut answers = Vec::new();
    for (i, text) in replies.iter().enumerate() {
        let path = tmp.path().join(format!("reply{i}.wav"));
        espeak_wav_in(voice, text, &path);
        answers.push(path);
    }
    answers.extend(fleurs.iter().map(|f| shared_ml().join(f)));
    let job = workspace_root().join("server/interview/jobs").join(job);
    let run = simulate(&job, &answers, &tmp.path().join("data"), &[]).expect("simulate");
    eprintln!(
        "interviewer: {:#?}\ncandidate: {:#?}",
        run.interviewer, run.candidate
    );
    // The interviewer speaks the job's language from the first word.
    assert!(
        run.interviewer[0].to_lowercase().contains(greeting_word),
        "greeting: {}",
        run.interviewer[0]
    );
    for line in &run.interviewer {
        let padded = format!(" {} ", line.to_lowercase());
        for w in english_words {
            assert!(!padded.contains(w), "English {w:?} in {line:?}");
        }
    }
    // The knockout was asked and answered, and the interview went on to the job's questions.
    assert!(run.interviewer.len() >= 5, "{:?}", run.interviewer);
    // Each real answer came through in its language.
    for f in fleurs {
        let want = reference(f);
        let best = run
            .candidate
            .iter()
            .map(|c| recall(&want, c))
            .fold(0.0, f64::max);
        assert!(
            best >= 0.6,
            "{f}: no caption close to {want:?} in {:?}",
            run.candidate
        );
    }
}

#[test]
fn a_spanish_interview_over_the_websocket_with_real_speech() {
    interview_in(
        "desarrollo-backend-senior-es.toml",
        "es",
        &[
            "Sí, estoy lista para empezar.",
            "Tengo siete años de experiencia profesional en desarrollo backend.",
            "Podría empezar en dos semanas.",
        ],
        &["fleurs-es-002.wav", "fleurs-es-003.wav"],
        &[" the ", " thank you ", " question "],
        "entrevista",
    );
}

#[test]
fn a_german_interview_over_the_websocket_with_real_speech() {
    interview_in(
        "backend-senior-de.toml",
        "de",
        &[
            "Ja, ich bin bereit.",
            "Ich habe sieben Jahre Berufserfahrung in der Backend-Entwicklung.",
            "Ich könnte in zwei Wochen anfangen.",
        ],
        &["fleurs-de-001.wav", "fleurs-de-004.wav"],
        &[" the ", " thank you ", " question "],
        "gespräch",
    );
}

/// Without the multilingual model a Spanish interview is refused at its start with a message
/// that says what to provision; nothing is half-started.
#[test]
fn a_language_without_its_model_is_refused_clearly() {
    if !model_available() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let reply = tmp.path().join("reply.wav");
    espeak_wav_in("es", "Sí.", &reply);
    let job = workspace_root().join("server/interview/jobs/desarrollo-backend-senior-es.toml");
    let err = match simulate(
        &job,
        &[reply],
        &tmp.path().join("data"),
        &[("VIVA_MODELS_WHISPER_MULTILINGUAL", "")],
    ) {
        Ok(run) => panic!(
            "a Spanish interview ran without its model: {:?}",
            run.interviewer
        ),
        Err(e) => e,
    };
    assert!(err.contains("viva models fetch --model base-q8_0"), "{err}");
}

/// A candidate on an English job that allows Spanish asks to continue in Spanish, over WebRTC:
/// the interviewer confirms in Spanish and from then on speaks Spanish, and the candidate's
/// next (real, Spanish) answer is transcribed in Spanish.
#[test]
fn a_candidate_switches_from_english_to_spanish_over_webrtc() {
    if !model_available() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let job = tmp.path().join("job.toml");
    let english = std::fs::read_to_string(
        workspace_root().join("server/interview/jobs/bench-open-questions.toml"),
    )
    .unwrap();
    std::fs::write(
        &job,
        english.replace(
            "interview = \"en\"",
            "interview = \"en\"\nallowed = [\"en\", \"es\"]",
        ),
    )
    .unwrap();
    let ready = tmp.path().join("ready.wav");
    espeak_wav("Yes, I am ready to begin.", &ready);
    let switch = tmp.path().join("switch.wav");
    espeak_wav("Can we continue in Spanish, please?", &switch);
    let answers = [ready, switch, shared_ml().join("fleurs-es-002.wav")];
    let list = answers
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(",");
    let out = run(viva()
        .args([
            "simulate",
            "--transport",
            "webrtc",
            "--json",
            "--timeout-s",
            "300",
            "--job",
        ])
        .arg(&job)
        .args(["--answers", &list])
        .env("VIVA_STORAGE_DATA_DIR", tmp.path().join("data"))
        .env_remove("DATABASE_URL"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "simulate failed: {}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("json report");
    let lines = report["transcript"].as_array().unwrap();
    let said = |who: &str| -> Vec<String> {
        lines
            .iter()
            .filter(|l| l["speaker"] == who)
            .map(|l| l["text"].as_str().unwrap().to_string())
            .collect()
    };
    let interviewer = said("interviewer");
    let candidate = said("candidate");
    eprintln!("interviewer: {interviewer:#?}\ncandidate: {candidate:#?}");
    let confirmed = interviewer
        .iter()
        .position(|t| t.to_lowercase().contains("español"))
        .unwrap_or_else(|| panic!("no confirmation in Spanish: {interviewer:?}"));
    assert!(
        interviewer[0].contains("ready to begin"),
        "the interview began in English"
    );
    // After the confirmation the interviewer's own phrases are Spanish.
    for t in &interviewer[confirmed..] {
        let lower = format!(" {} ", t.to_lowercase());
        for w in [" thank you", " let's ", " great,"] {
            assert!(!lower.contains(w), "English {w:?} after the switch: {t:?}");
        }
    }
    // The Spanish answer was transcribed as Spanish (by the multilingual model).
    let want = reference("fleurs-es-002.wav");
    let best = candidate
        .iter()
        .map(|c| recall(&want, c))
        .fold(0.0, f64::max);
    assert!(
        best >= 0.6,
        "no Spanish caption close to {want:?}: {candidate:?}"
    );
}
