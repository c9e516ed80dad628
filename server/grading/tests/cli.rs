//! The `viva grade` / `viva eval grading` entry points on small files.

use std::io::Write;

use viva_grading::cli::{eval_grading_to, grade_to, EvalGradingArgs, Format, GradeArgs};

fn file(content: &str) -> tempfile::NamedTempFile {
    let mut f = tempfile::NamedTempFile::new().expect("temp file");
    f.write_all(content.as_bytes()).expect("write");
    f
}

const GOOD: &str = "id\tquestion\treference_answer\tanswer\tlabel\tscore\n\
1\tWhy is bulb A on?\tBulb A is in a closed path with the battery || A is still connected to the battery\tbulb A is in a closed path with the battery\tcorrect\t5\n\
2\tWhy is bulb A on?\tBulb A is in a closed path with the battery\tA is not in a closed path\tcontradictory\t1\n\
3\tWhy is bulb A on?\tBulb A is in a closed path with the battery\t\tincorrect\t0\n\
4\tWhy is bulb A on?\tBulb A is in a closed path with the battery\tbecause it is connected to the battery in a closed path\tcorrect\t4\n";

fn grade_args(path: &std::path::Path, format: Format) -> GradeArgs {
    GradeArgs {
        file: path.to_path_buf(),
        out: None,
        format,
    }
}

#[test]
fn grade_tsv_passes_columns_through_and_is_deterministic() {
    let f = file(GOOD);
    let mut out = Vec::new();
    let mut err = Vec::new();
    let n = grade_to(&grade_args(f.path(), Format::Tsv), &mut out, &mut err).expect("grades");
    assert_eq!(n, 4);
    let text = String::from_utf8(out.clone()).expect("utf-8");
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with(
        "id\tquestion\treference_answer\tanswer\tlabel\tscore\tgrade\tscore\tconfidence"
    ));
    assert_eq!(lines.len(), 5);
    assert!(lines[3].contains("empty answer"), "{}", lines[3]);
    assert!(String::from_utf8_lossy(&err).contains("graded 4/4 rows"));
    let mut again = Vec::new();
    grade_to(
        &grade_args(f.path(), Format::Tsv),
        &mut again,
        &mut Vec::new(),
    )
    .expect("grades");
    assert_eq!(out, again);
    let mut json = Vec::new();
    grade_to(
        &grade_args(f.path(), Format::Json),
        &mut json,
        &mut Vec::new(),
    )
    .expect("grades");
    let v: serde_json::Value = serde_json::from_slice(&json).expect("json");
    assert_eq!(v["rows"][0]["columns"]["id"], "1");
    assert!(v["rows"][0]["result"]["concepts"].is_array());
}

#[test]
fn missing_columns_and_ragged_rows_are_clear_errors() {
    let f = file("question\tanswer\nq\ta\n");
    let e = grade_to(
        &grade_args(f.path(), Format::Tsv),
        &mut Vec::new(),
        &mut Vec::new(),
    )
    .expect_err("missing column");
    assert!(e.to_string().contains("reference_answer"), "{e}");
    let f = file("question\treference_answer\tanswer\nq\tr\ta\nq\tr\n");
    let e = grade_to(
        &grade_args(f.path(), Format::Tsv),
        &mut Vec::new(),
        &mut Vec::new(),
    )
    .expect_err("ragged");
    assert!(e.to_string().contains("row 2 (line 3)"), "{e}");
    let e = grade_to(
        &grade_args(std::path::Path::new("/nonexistent/x.tsv"), Format::Tsv),
        &mut Vec::new(),
        &mut Vec::new(),
    )
    .expect_err("missing file");
    assert!(e.to_string().contains("/nonexistent/x.tsv"), "{e}");
}

fn eval_args(path: &std::path::Path, gold: &str) -> EvalGradingArgs {
    EvalGradingArgs {
        file: path.to_path_buf(),
        gold: gold.into(),
        questions: None,
        split: None,
        positive: "correct".into(),
        limit: None,
        json: true,
    }
}

#[test]
fn eval_labels_and_numbers() {
    let f = file(GOOD);
    let mut out = Vec::new();
    let r =
        eval_grading_to(&eval_args(f.path(), "label"), &mut out, &mut Vec::new()).expect("eval");
    assert_eq!(r.gold_kind, "labels");
    assert_eq!(r.rows, 4);
    assert_eq!(r.rejected, 1);
    assert!(r.slices[0].grader.auc.is_some() && r.slices[0].baseline.auc.is_some());
    let v: serde_json::Value = serde_json::from_slice(&out).expect("one JSON document");
    assert_eq!(v["slices"][0]["name"], "all");
    let r = eval_grading_to(
        &eval_args(f.path(), "score"),
        &mut Vec::new(),
        &mut Vec::new(),
    )
    .expect("eval");
    assert_eq!(r.gold_kind, "numeric");
    assert!(r.slices[0].grader.pearson.is_some());
    assert!(r.slices[0].grader.qwk.is_some());
    let e = eval_grading_to(
        &eval_args(f.path(), "nope"),
        &mut Vec::new(),
        &mut Vec::new(),
    )
    .expect_err("no gold column");
    assert!(e.to_string().contains("nope"), "{e}");
}

#[test]
fn eval_joins_questions_and_names_unmatched_rows() {
    let q = file("corpus\tsplit\tqid\tquestion\treference_answer\tn_reference_answers\tall_reference_answers\n\
c\ttest\tQ1\tWhy is bulb A on?\tA is in a closed path\t2\tA is in a closed path || A is connected to the battery\n");
    let a = file(
        "corpus\tsplit\tqid\tanswer_id\tanswer\tlabel_3way\n\
c\ttest\tQ1\t1\tA is in a closed path\tcorrect\n\
c\ttest\tQ1\t2\tA is not connected\tcontradictory\n\
c\ttrain\tQ1\t3\tno idea\tincorrect\n",
    );
    let mut args = eval_args(a.path(), "label_3way");
    args.questions = Some(q.path().to_path_buf());
    args.split = Some("test".into());
    let r = eval_grading_to(&args, &mut Vec::new(), &mut Vec::new()).expect("eval");
    assert_eq!(r.rows, 2);
    assert!(r.slices.iter().any(|s| s.name == "c/test"));
    assert_eq!(r.per_question[0].name, "c/Q1");
    args.split = None;
    let e = eval_grading_to(&args, &mut Vec::new(), &mut Vec::new())
        .expect_err("train row has no question");
    assert!(e.to_string().contains("row 3"), "{e}");
}
