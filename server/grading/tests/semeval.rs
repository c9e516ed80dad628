//! The grader against SemEval-2013 Task 7 human labels (read from ../shared/validity; the data
//! is not in the repository). Skips, visibly, when the files are absent. Runs the
//! test-unseen-answers split only (979 answers, ~1 s); the full report is
//! `viva eval grading` (see the crate README).

use std::path::PathBuf;

use viva_grading::cli::{eval_grading_to, EvalGradingArgs};

#[test]
fn grader_beats_word_overlap_on_unseen_answers() {
    let dir = std::env::var_os("VIVA_VALIDITY_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/validity")
        });
    let answers = dir.join("semeval2013_task7_3way_answers.tsv");
    let questions = dir.join("semeval2013_task7_questions.tsv");
    if !answers.exists() || !questions.exists() {
        eprintln!(
            "SKIPPED: SemEval-2013 Task 7 data not found in {} (set VIVA_VALIDITY_DIR)",
            dir.display()
        );
        return;
    }
    let args = EvalGradingArgs {
        file: answers,
        gold: "label_3way".into(),
        questions: Some(questions),
        split: Some("test-unseen-answers".into()),
        positive: "correct".into(),
        limit: None,
        json: true,
    };
    let r = eval_grading_to(&args, &mut Vec::new(), &mut Vec::new()).expect("eval runs");
    for s in r.slices.iter().filter(|s| s.name.contains('/')) {
        let (g, b) = (&s.grader, &s.baseline);
        eprintln!(
            "{}: AUC {:?} vs {:?}, macro-F1 {:?} vs {:?}",
            s.name, g.auc, b.auc, g.macro_f1, b.macro_f1
        );
        assert!(
            g.auc > b.auc,
            "{}: grader AUC {:?} <= baseline {:?}",
            s.name,
            g.auc,
            b.auc
        );
        assert!(
            g.macro_f1 > b.macro_f1,
            "{}: grader macro-F1 {:?} <= baseline {:?}",
            s.name,
            g.macro_f1,
            b.macro_f1
        );
    }
}
