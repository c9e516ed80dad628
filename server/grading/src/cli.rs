//! Entry points for `viva grade FILE.tsv` and `viva eval grading FILE.tsv --gold COLUMN`.
//!
//! The `viva` binary flattens [`GradeArgs`] / [`EvalGradingArgs`] into its subcommands and calls
//! [`run_grade`] / [`run_eval_grading`]. The `*_to` variants take the output and progress
//! streams, for tests and embedding.

use std::collections::BTreeMap;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::baseline::{baseline_score, word_overlap};
use crate::eval::{self, Metrics};
use crate::tsv::{clean_field, Table, TsvError};
use crate::{ConceptStatus, GradeInput, GradeResult, Grader, Transcript, GRADER_VERSION};

/// Several values in one TSV field (references, key concepts, red flags) are joined by this,
/// as in the SemEval release's `all_reference_answers`.
pub const MULTI_SEPARATOR: &str = " || ";

#[derive(Debug, Error)]
pub enum CliError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: io::Error },
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: io::Error },
    #[error("{path}: {source}")]
    Tsv { path: PathBuf, source: TsvError },
    #[error("{path}: row {row} (line {line}): {message}")]
    Row {
        path: PathBuf,
        row: usize,
        line: usize,
        message: String,
    },
    #[error("{0}")]
    Usage(String),
    #[error("output failed: {0}")]
    Output(#[from] io::Error),
    #[error("JSON output failed: {0}")]
    Json(#[from] serde_json::Error),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize, Deserialize)]
pub enum Format {
    Tsv,
    Json,
}

/// `viva grade FILE.tsv`: grade every row of a TSV.
#[derive(Debug, Clone, clap::Args)]
pub struct GradeArgs {
    /// TSV with columns `question`, `reference_answer` (several joined by " || "), `answer`;
    /// optional `key_concepts`, `red_flags` (" || "-joined); other columns pass through.
    /// `-` reads standard input.
    pub file: PathBuf,
    /// Write here instead of standard output.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// tsv: the input columns plus grade columns; json: one document with full evidence.
    #[arg(long, value_enum, default_value_t = Format::Tsv)]
    pub format: Format,
}

/// `viva eval grading FILE.tsv --gold COLUMN`: agreement of grades with human gold.
#[derive(Debug, Clone, clap::Args)]
pub struct EvalGradingArgs {
    /// TSV of answers: `question`, `reference_answer`, `answer` and the gold column; or, with
    /// `--questions`, `corpus`, `split`, `qid`, `answer` (the SemEval-2013 Task 7 layout).
    pub file: PathBuf,
    /// The gold column: numbers (Pearson, Spearman, RMSE, QWK) or labels (accuracy, macro-F1,
    /// AUC of the positive label vs the rest).
    #[arg(long)]
    pub gold: String,
    /// Questions TSV to join on (corpus, split, qid); gives question and reference answers.
    #[arg(long)]
    pub questions: Option<PathBuf>,
    /// Keep only rows whose `split` column is one of these (comma-separated).
    #[arg(long)]
    pub split: Option<String>,
    /// The label that counts as a good answer.
    #[arg(long, default_value = "correct")]
    pub positive: String,
    /// Evaluate only the first N rows (after filtering).
    #[arg(long)]
    pub limit: Option<usize>,
    /// Print one JSON document instead of text.
    #[arg(long)]
    pub json: bool,
}

/// One graded row of `viva grade`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GradedRow {
    /// 1-based data row.
    pub row: usize,
    /// The row's input columns, by name.
    pub columns: BTreeMap<String, String>,
    pub result: GradeResult,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GradeOutput {
    pub grader_version: String,
    pub rows: Vec<GradedRow>,
}

/// Run `viva grade` on standard output and standard error.
pub fn run_grade(args: &GradeArgs) -> Result<(), CliError> {
    let mut err = io::stderr().lock();
    match &args.out {
        Some(path) => {
            let mut buf = Vec::new();
            grade_to(args, &mut buf, &mut err)?;
            std::fs::write(path, buf).map_err(|source| CliError::Write {
                path: path.clone(),
                source,
            })
        }
        None => grade_to(args, &mut io::stdout().lock(), &mut err).map(|_| ()),
    }
}

/// `viva grade` with explicit streams (ignores `args.out`). Returns the number of rows.
pub fn grade_to(
    args: &GradeArgs,
    out: &mut dyn Write,
    progress: &mut dyn Write,
) -> Result<usize, CliError> {
    let table = load(&args.file)?;
    let cols = table
        .require(&["question", "reference_answer", "answer"])
        .map_err(|source| CliError::Tsv {
            path: args.file.clone(),
            source,
        })?;
    let (q, r, a) = (cols[0], cols[1], cols[2]);
    let all_refs = table.column("all_reference_answers");
    let concepts = table.column("key_concepts");
    let flags = table.column("red_flags");
    let grader = Grader::shared();
    let mut graded = Vec::with_capacity(table.rows.len());
    for (i, row) in table.rows.iter().enumerate() {
        let input = GradeInput {
            question: row[q].clone(),
            references: references(row, r, all_refs),
            key_concepts: concepts.map(|c| split_multi(&row[c])).unwrap_or_default(),
            red_flags: flags.map(|c| split_multi(&row[c])).unwrap_or_default(),
            answer: Transcript::from_text(row[a].clone()),
        };
        graded.push((i + 1, grader.grade(&input)));
        report_progress(progress, i + 1, table.rows.len())?;
    }
    match args.format {
        Format::Tsv => {
            let mut header = table.header.clone();
            header.extend(
                [
                    "grade",
                    "score",
                    "confidence",
                    "label",
                    "covered",
                    "missing",
                    "contradicted",
                    "red_flags",
                    "reason",
                ]
                .map(String::from),
            );
            writeln!(out, "{}", header.join("\t"))?;
            for ((_, res), row) in graded.iter().zip(&table.rows) {
                let mut fields: Vec<String> = row.iter().map(|f| clean_field(f)).collect();
                let concepts_with = |s: ConceptStatus| {
                    res.concepts
                        .iter()
                        .filter(|c| c.status == s)
                        .map(|c| c.concept.clone())
                        .collect::<Vec<_>>()
                        .join(MULTI_SEPARATOR)
                };
                fields.push(res.grade.to_string());
                fields.push(format!("{:.2}", res.score));
                fields.push(format!("{:.2}", res.confidence));
                fields.push(res.label.as_str().to_string());
                fields.push(concepts_with(ConceptStatus::Covered));
                fields.push(concepts_with(ConceptStatus::Missing));
                fields.push(
                    res.contradictions
                        .iter()
                        .map(|c| c.answer.quote.clone())
                        .collect::<Vec<_>>()
                        .join(MULTI_SEPARATOR),
                );
                fields.push(
                    res.red_flags
                        .iter()
                        .filter(|f| f.raised)
                        .map(|f| f.flag.clone())
                        .collect::<Vec<_>>()
                        .join(MULTI_SEPARATOR),
                );
                fields.push(res.reasons.join("; "));
                let fields: Vec<String> = fields.iter().map(|f| clean_field(f)).collect();
                writeln!(out, "{}", fields.join("\t"))?;
            }
        }
        Format::Json => {
            let rows = graded
                .into_iter()
                .zip(&table.rows)
                .map(|((row, result), fields)| GradedRow {
                    row,
                    columns: table
                        .header
                        .iter()
                        .cloned()
                        .zip(fields.iter().cloned())
                        .collect(),
                    result,
                })
                .collect();
            let doc = GradeOutput {
                grader_version: GRADER_VERSION.to_string(),
                rows,
            };
            serde_json::to_writer_pretty(&mut *out, &doc)?;
            writeln!(out)?;
        }
    }
    Ok(table.rows.len())
}

/// Figures for one slice of the rows, for the grader and the baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SliceFigures {
    pub name: String,
    pub grader: Metrics,
    pub baseline: Metrics,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalReport {
    pub grader_version: String,
    pub file: String,
    pub gold: String,
    /// `labels` or `numeric`.
    pub gold_kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub positive_label: Option<String>,
    pub rows: usize,
    /// Rows the grader refused (empty, too long, not English, no reference): graded 0.
    pub rejected: usize,
    pub baseline: String,
    /// All rows, then each split, then each corpus/split (when those columns exist).
    pub slices: Vec<SliceFigures>,
    /// One entry per question (qid, or question text).
    pub per_question: Vec<SliceFigures>,
}

enum Gold {
    Label(String),
    Number(f64),
}

struct EvalRow {
    input: GradeInput,
    gold: Gold,
    slices: Vec<String>,
    question_key: String,
}

/// One answer of an evaluation file, loaded as `viva eval grading` loads it (joined to its
/// question and references), for other evaluations (the speech round trip).
#[derive(Debug, Clone, PartialEq)]
pub struct LabelledAnswer {
    pub input: GradeInput,
    /// The gold value as written (a label such as `correct`, or a number).
    pub gold: String,
    /// `corpus/qid` when the file has them, else the question.
    pub question_key: String,
    /// The row's `split`, when the file has that column.
    pub split: Option<String>,
}

/// The rows `viva eval grading` would grade with these arguments (`--split`, `--questions`,
/// `--limit` applied), with their gold values.
pub fn load_labelled(args: &EvalGradingArgs) -> Result<Vec<LabelledAnswer>, CliError> {
    Ok(eval_rows(args)?
        .into_iter()
        .map(|r| LabelledAnswer {
            gold: match r.gold {
                Gold::Label(l) => l,
                Gold::Number(v) => format!("{v}"),
            },
            split: r
                .slices
                .first()
                .and_then(|s| s.strip_prefix("split="))
                .map(str::to_string),
            question_key: r.question_key,
            input: r.input,
        })
        .collect())
}

/// Run `viva eval grading` on standard output and standard error.
pub fn run_eval_grading(args: &EvalGradingArgs) -> Result<EvalReport, CliError> {
    eval_grading_to(args, &mut io::stdout().lock(), &mut io::stderr().lock())
}

/// `viva eval grading` with explicit streams.
pub fn eval_grading_to(
    args: &EvalGradingArgs,
    out: &mut dyn Write,
    progress: &mut dyn Write,
) -> Result<EvalReport, CliError> {
    let rows = eval_rows(args)?;
    if rows.is_empty() {
        return Err(CliError::Usage(format!(
            "{}: no rows to evaluate after filtering",
            args.file.display()
        )));
    }
    let numeric = rows.iter().all(|r| matches!(r.gold, Gold::Number(_)));
    let grader = Grader::shared();
    let mut results: Vec<GradeResult> = Vec::with_capacity(rows.len());
    for (i, r) in rows.iter().enumerate() {
        results.push(grader.grade(&r.input));
        report_progress(progress, i + 1, rows.len())?;
    }
    let base: Vec<(f64, f64)> = rows
        .iter()
        .map(|r| {
            let text = &r.input.answer.text;
            (
                word_overlap(&r.input.references, text),
                baseline_score(&r.input.references, text),
            )
        })
        .collect();

    // Slices: every row once per slice name it carries, in first-seen order of a sorted list.
    let mut slice_rows: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    let mut question_rows: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, r) in rows.iter().enumerate() {
        for s in &r.slices {
            slice_rows.entry(s.clone()).or_default().push(i);
        }
        question_rows
            .entry(r.question_key.clone())
            .or_default()
            .push(i);
    }
    let figures = |name: &str, idx: &[usize]| -> SliceFigures {
        if numeric {
            let gold: Vec<f64> = idx
                .iter()
                .map(|&i| {
                    if let Gold::Number(g) = rows[i].gold {
                        g
                    } else {
                        0.0
                    }
                })
                .collect();
            let g: Vec<f64> = idx.iter().map(|&i| results[i].score).collect();
            let b: Vec<f64> = idx.iter().map(|&i| base[i].1).collect();
            SliceFigures {
                name: name.to_string(),
                grader: eval::numeric_metrics(&g, &gold),
                baseline: eval::numeric_metrics(&b, &gold),
            }
        } else {
            let labels: Vec<&str> = idx
                .iter()
                .map(|&i| {
                    if let Gold::Label(l) = &rows[i].gold {
                        l.as_str()
                    } else {
                        ""
                    }
                })
                .collect();
            let gold: Vec<bool> = labels.iter().map(|l| *l == args.positive).collect();
            let g_score: Vec<f64> = idx.iter().map(|&i| results[i].p_correct).collect();
            let g_pred: Vec<bool> = idx.iter().map(|&i| results[i].score >= 2.5).collect();
            let b_score: Vec<f64> = idx.iter().map(|&i| base[i].0).collect();
            let b_pred: Vec<bool> = idx.iter().map(|&i| base[i].1 >= 2.5).collect();
            let mut grader_m = eval::binary_metrics(&g_score, &g_pred, &gold);
            let three_way = labels
                .iter()
                .all(|l| matches!(*l, "correct" | "contradictory" | "incorrect"));
            if three_way && args.positive == "correct" {
                let pred: Vec<&str> = idx.iter().map(|&i| results[i].label.as_str()).collect();
                grader_m.accuracy_3way =
                    eval::accuracy(&pred, &labels).map(|x| crate::round_to(x, 4));
                grader_m.macro_f1_3way =
                    eval::macro_f1(&pred, &labels).map(|x| crate::round_to(x, 4));
            }
            SliceFigures {
                name: name.to_string(),
                grader: grader_m,
                baseline: eval::binary_metrics(&b_score, &b_pred, &gold),
            }
        }
    };
    let all: Vec<usize> = (0..rows.len()).collect();
    let mut slices = vec![figures("all", &all)];
    // Splits first ("split=…"), then corpus/split pairs, each sorted by name.
    let mut names: Vec<&String> = slice_rows.keys().collect();
    names.sort_by_key(|n| (n.contains('/'), n.to_string()));
    for n in names {
        slices.push(figures(n, &slice_rows[n]));
    }
    let per_question = question_rows
        .iter()
        .map(|(k, idx)| figures(k, idx))
        .collect();
    let report = EvalReport {
        grader_version: GRADER_VERSION.to_string(),
        file: args.file.display().to_string(),
        gold: args.gold.clone(),
        gold_kind: if numeric { "numeric" } else { "labels" }.to_string(),
        positive_label: (!numeric).then(|| args.positive.clone()),
        rows: rows.len(),
        rejected: results.iter().filter(|r| r.rejected.is_some()).count(),
        baseline: "word overlap: share of the best reference's distinct words found in the answer"
            .to_string(),
        slices,
        per_question,
    };
    if args.json {
        serde_json::to_writer_pretty(&mut *out, &report)?;
        writeln!(out)?;
    } else {
        write_report_text(out, &report)?;
    }
    Ok(report)
}

fn eval_rows(args: &EvalGradingArgs) -> Result<Vec<EvalRow>, CliError> {
    let path = &args.file;
    let table = load(path)?;
    let tsv_err = |source| CliError::Tsv {
        path: path.clone(),
        source,
    };
    let gold_col = table.require(&[args.gold.as_str()]).map_err(tsv_err)?[0];
    let answer_col = table.require(&["answer"]).map_err(tsv_err)?[0];
    let split_col = table.column("split");
    let corpus_col = table.column("corpus");
    let qid_col = table.column("qid");
    let splits: Option<Vec<&str>> = args.split.as_deref().map(|s| {
        s.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect()
    });
    if splits.is_some() && split_col.is_none() {
        return Err(CliError::Usage(format!(
            "{}: --split needs a `split` column",
            path.display()
        )));
    }

    // Where questions and references come from: a joined questions file, or this file's columns.
    struct QuestionInfo {
        question: String,
        references: Vec<String>,
    }
    let mut joined: BTreeMap<(String, String, String), QuestionInfo> = BTreeMap::new();
    let own_cols = match &args.questions {
        Some(qpath) => {
            let qt = load(qpath)?;
            let qerr = |source| CliError::Tsv {
                path: qpath.clone(),
                source,
            };
            let c = qt
                .require(&["corpus", "split", "qid", "question", "reference_answer"])
                .map_err(qerr)?;
            let all_refs = qt.column("all_reference_answers");
            for row in &qt.rows {
                joined.insert(
                    (row[c[0]].clone(), row[c[1]].clone(), row[c[2]].clone()),
                    QuestionInfo {
                        question: row[c[3]].clone(),
                        references: references(row, c[4], all_refs),
                    },
                );
            }
            table
                .require(&["corpus", "split", "qid"])
                .map_err(tsv_err)?;
            None
        }
        None => {
            let c = table
                .require(&["question", "reference_answer"])
                .map_err(tsv_err)?;
            Some((c[0], c[1], table.column("all_reference_answers")))
        }
    };

    let mut out = Vec::new();
    for (i, row) in table.rows.iter().enumerate() {
        let row_err = |message: String| CliError::Row {
            path: path.clone(),
            row: i + 1,
            line: table.lines[i],
            message,
        };
        let split = split_col.map(|c| row[c].as_str());
        if let (Some(keep), Some(s)) = (&splits, split) {
            if !keep.contains(&s) {
                continue;
            }
        }
        let (question, refs) = match own_cols {
            Some((q, r, all)) => (row[q].clone(), references(row, r, all)),
            None => {
                // `require` above guarantees these columns exist when joining.
                let key = (
                    corpus_col.map(|c| row[c].clone()).unwrap_or_default(),
                    split.unwrap_or_default().to_string(),
                    qid_col.map(|c| row[c].clone()).unwrap_or_default(),
                );
                let info = joined.get(&key).ok_or_else(|| {
                    row_err(format!(
                        "no question for (corpus, split, qid) = {key:?} in the questions file"
                    ))
                })?;
                (info.question.clone(), info.references.clone())
            }
        };
        let g = row[gold_col].trim();
        if g.is_empty() {
            return Err(row_err(format!(
                "empty gold value in column {:?}",
                args.gold
            )));
        }
        let gold = match g.parse::<f64>() {
            Ok(v) if v.is_finite() => Gold::Number(v),
            _ => Gold::Label(g.to_string()),
        };
        let mut slices = Vec::new();
        if let Some(s) = split {
            slices.push(format!("split={s}"));
            if let Some(c) = corpus_col {
                slices.push(format!("{}/{s}", row[c]));
            }
        }
        let question_key = match (corpus_col, qid_col) {
            (Some(c), Some(q)) => format!("{}/{}", row[c], row[q]),
            (None, Some(q)) => row[q].clone(),
            _ => question.clone(),
        };
        out.push(EvalRow {
            input: GradeInput {
                question,
                references: refs,
                answer: Transcript::from_text(row[answer_col].clone()),
                ..GradeInput::default()
            },
            gold,
            slices,
            question_key,
        });
        if args.limit.is_some_and(|l| out.len() >= l) {
            break;
        }
    }
    // A gold column mixing numbers and labels is a label column: numbers become label text.
    if out.iter().any(|r| matches!(r.gold, Gold::Label(_))) {
        for r in &mut out {
            if let Gold::Number(v) = r.gold {
                r.gold = Gold::Label(format!("{v}"));
            }
        }
    }
    Ok(out)
}

fn write_report_text(out: &mut dyn Write, r: &EvalReport) -> io::Result<()> {
    writeln!(out, "viva eval grading — {} ({})", r.file, r.grader_version)?;
    match &r.positive_label {
        Some(p) => writeln!(
            out,
            "gold column {:?}: labels; positive = {p:?} vs the rest",
            r.gold
        )?,
        None => writeln!(out, "gold column {:?}: numeric", r.gold)?,
    }
    writeln!(
        out,
        "rows: {} (rejected by the grader: {})",
        r.rows, r.rejected
    )?;
    writeln!(out, "baseline: {}", r.baseline)?;
    let numeric = r.gold_kind == "numeric";
    let f = |x: Option<f64>| x.map_or("   -  ".to_string(), |v| format!("{v:6.3}"));
    let line = |out: &mut dyn Write, s: &SliceFigures| -> io::Result<()> {
        let (g, b) = (&s.grader, &s.baseline);
        if numeric {
            writeln!(
                out,
                "{:<44} {:>6}  pearson {} / {}  spearman {} / {}  rmse {} / {}  qwk {} / {}",
                s.name,
                g.n,
                f(g.pearson),
                f(b.pearson),
                f(g.spearman),
                f(b.spearman),
                f(g.rmse),
                f(b.rmse),
                f(g.qwk),
                f(b.qwk)
            )
        } else {
            let three = match (g.accuracy_3way, g.macro_f1_3way) {
                (Some(a), Some(m)) => format!("  3-way acc {a:.3} mF1 {m:.3}"),
                _ => String::new(),
            };
            writeln!(
                out,
                "{:<44} {:>6}  AUC {} / {}  macro-F1 {} / {}  acc {} / {}{three}",
                s.name,
                g.n,
                f(g.auc),
                f(b.auc),
                f(g.macro_f1),
                f(b.macro_f1),
                f(g.accuracy),
                f(b.accuracy)
            )
        }
    };
    writeln!(
        out,
        "\nslice                                             n  (grader / baseline)"
    )?;
    for s in &r.slices {
        line(out, s)?;
    }
    writeln!(out, "\nper question ({}):", r.per_question.len())?;
    for s in &r.per_question {
        line(out, s)?;
    }
    Ok(())
}

fn load(path: &Path) -> Result<Table, CliError> {
    let mut text = String::new();
    let res = if path.as_os_str() == "-" {
        io::stdin().read_to_string(&mut text).map(|_| ())
    } else {
        std::fs::read(path).and_then(|bytes| {
            String::from_utf8(bytes).map(|s| text = s).map_err(|e| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("not UTF-8 (at byte {})", e.utf8_error().valid_up_to()),
                )
            })
        })
    };
    res.map_err(|source| CliError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    Table::parse(&text).map_err(|source| CliError::Tsv {
        path: path.to_path_buf(),
        source,
    })
}

fn split_multi(s: &str) -> Vec<String> {
    s.split(MULTI_SEPARATOR)
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(String::from)
        .collect()
}

/// References of a row: `all_reference_answers` when present and non-empty, else
/// `reference_answer`, each split on " || ".
fn references(row: &[String], reference: usize, all: Option<usize>) -> Vec<String> {
    if let Some(c) = all {
        let v = split_multi(&row[c]);
        if !v.is_empty() {
            return v;
        }
    }
    split_multi(&row[reference])
}

fn report_progress(progress: &mut dyn Write, done: usize, total: usize) -> io::Result<()> {
    if done % 1000 == 0 || done == total {
        writeln!(progress, "graded {done}/{total} rows")?;
    }
    Ok(())
}
