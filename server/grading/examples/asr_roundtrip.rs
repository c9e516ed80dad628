//! Grade answers as typed and after speech recognition; print the WER and the grade shift.
//!
//!     CARGO_TARGET_DIR=/work/target-grading cargo run -q -p viva-grading --example asr_roundtrip -- \
//!       [--viva /root/.cache/viva/target/release/viva] [FILE.tsv]
//!
//! FILE.tsv has the `viva grade` columns (`question`, `reference_answer`, `answer`, optional
//! `key_concepts`, `red_flags`); default: `testdata/interview_answers.tsv`. With `--viva`, each
//! answer makes the real round trip: `viva say TEXT --out x.wav` (the interviewer voice), then
//! `viva transcribe x.wav --json` (viva's Whisper; the `text` field is the transcript). When
//! `--viva` is absent or the binary has no `say` command, the round trip is SIMULATED with
//! `asr::simulate` (deterministic homophones, dropped function words, number formatting), and the
//! output says so.

use std::path::{Path, PathBuf};
use std::process::Command;

use viva_grading::asr;
use viva_grading::tsv::Table;
use viva_grading::{GradeInput, Grader, Transcript};

fn split_multi(s: &str) -> Vec<String> {
    s.split(" || ")
        .map(|x| x.trim().to_string())
        .filter(|x| !x.is_empty())
        .collect()
}

fn real_round_trip(viva: &Path, text: &str, wav: &Path) -> Result<String, String> {
    let say = Command::new(viva)
        .args(["say", text, "--out"])
        .arg(wav)
        .output()
        .map_err(|e| format!("viva say: {e}"))?;
    if !say.status.success() {
        return Err(format!(
            "viva say: {}",
            String::from_utf8_lossy(&say.stderr)
        ));
    }
    let tr = Command::new(viva)
        .arg("transcribe")
        .arg(wav)
        .arg("--json")
        .output()
        .map_err(|e| format!("viva transcribe: {e}"))?;
    if !tr.status.success() {
        return Err(format!(
            "viva transcribe: {}",
            String::from_utf8_lossy(&tr.stderr)
        ));
    }
    let v: serde_json::Value =
        serde_json::from_slice(&tr.stdout).map_err(|e| format!("transcript JSON: {e}"))?;
    v.get("text")
        .and_then(|t| t.as_str())
        .map(|s| s.trim().to_string())
        .ok_or_else(|| "transcript JSON has no \"text\"".to_string())
}

fn has_say(viva: &Path) -> bool {
    Command::new(viva)
        .args(["say", "--help"])
        .output()
        .is_ok_and(|o| o.status.success())
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut viva: Option<PathBuf> = None;
    let mut file = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/interview_answers.tsv");
    let mut i = 0;
    while i < args.len() {
        if args[i] == "--viva" {
            viva = args.get(i + 1).map(PathBuf::from);
            i += 2;
        } else {
            file = PathBuf::from(&args[i]);
            i += 1;
        }
    }
    let viva = viva.filter(|v| {
        let ok = has_say(v);
        if !ok {
            eprintln!("{} has no `say` command: simulating", v.display());
        }
        ok
    });
    let mode = if viva.is_some() {
        "REAL (viva say → viva transcribe)"
    } else {
        "SIMULATED (asr::simulate)"
    };
    let text = std::fs::read_to_string(&file)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()));
    let t = Table::parse(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let c = t
        .require(&["question", "reference_answer", "answer"])
        .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let (kc, rf) = (t.column("key_concepts"), t.column("red_flags"));
    let dir = tempfile_dir();
    let g = Grader::new();
    let mut trips = Vec::new();
    for (n, r) in t.rows.iter().enumerate() {
        let input = GradeInput {
            question: r[c[0]].clone(),
            references: split_multi(&r[c[1]]),
            key_concepts: kc.map(|k| split_multi(&r[k])).unwrap_or_default(),
            red_flags: rf.map(|k| split_multi(&r[k])).unwrap_or_default(),
            answer: Transcript::from_text(r[c[2]].clone()),
        };
        let heard = match &viva {
            Some(v) => {
                match real_round_trip(v, &input.answer.text, &dir.join(format!("{n}.wav"))) {
                    Ok(h) => h,
                    Err(e) => {
                        eprintln!("row {}: {e}; skipped", n + 1);
                        continue;
                    }
                }
            }
            None => asr::simulate(&input.answer.text),
        };
        let trip = asr::compare(&g, &input, &heard);
        println!(
            "row {:>2}: WER {:.3}  grade {} -> {}  score {:.2} -> {:.2}",
            n + 1,
            trip.wer,
            trip.typed_grade,
            trip.heard_grade,
            trip.typed_score,
            trip.heard_score
        );
        trips.push((asr::word_count(&input.answer.text), trip));
    }
    let s = asr::summarise(&trips);
    println!(
        "{mode}: {} answers, WER {:.2}%, mean |Δ grade| {:.3} (max {}), mean |Δ score| {:.3}",
        s.n,
        s.wer * 100.0,
        s.mean_abs_grade_shift,
        s.max_abs_grade_shift,
        s.mean_abs_score_shift
    );
}

fn tempfile_dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("viva-asr-roundtrip-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&d);
    d
}
