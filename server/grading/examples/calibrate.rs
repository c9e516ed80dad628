//! Fit the grader's logistic models on the SemEval-2013 Task 7 **train** split only.
//!
//!     CARGO_TARGET_DIR=/work/target-grading cargo run --release -p viva-grading --example calibrate [-- --write]
//!
//! Prints a question-grouped 5-fold cross-validation on train (the development estimate: test
//! splits are never read here), then fits on all of train. `--write` regenerates
//! `src/model_params.rs`. Deterministic: Newton's method from zero, fixed iterations, sorted data.
//! Reads `$VIVA_VALIDITY_DIR` or `../shared/validity` beside the workspace.

use std::collections::BTreeMap;
use std::path::PathBuf;

use viva_grading::baseline::word_overlap;
use viva_grading::eval::{auc, macro_f1};
use viva_grading::tsv::Table;
use viva_grading::{GradeInput, Grader, Transcript, FEATURE_NAMES};

const L2: f64 = 1.0;
/// Must match `CLIP` in src/model.rs.
const CLIP: f64 = 2.5;
/// Features fitted with weight 0 (override with `VIVA_DROP=a,b`; empty keeps them all).
const DROPPED: &[&str] = &["log_answer_len", "log_ref_len"];

struct Row {
    x: Vec<f64>,
    label: String,
    qkey: String,
    overlap: f64,
    answer: String,
    refs: String,
}

fn validity_dir() -> PathBuf {
    std::env::var_os("VIVA_VALIDITY_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/validity")
        })
}

fn load(path: &PathBuf) -> Table {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    Table::parse(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn main() {
    let write = std::env::args().any(|a| a == "--write");
    let dir = validity_dir();
    let q = load(&dir.join("semeval2013_task7_questions.tsv"));
    let a = load(&dir.join("semeval2013_task7_3way_answers.tsv"));
    let qc = q
        .require(&[
            "corpus",
            "split",
            "qid",
            "question",
            "all_reference_answers",
            "reference_answer",
        ])
        .expect("question columns");
    let ac = a
        .require(&["corpus", "split", "qid", "answer", "label_3way"])
        .expect("answer columns");
    let mut questions: BTreeMap<(String, String), (String, Vec<String>)> = BTreeMap::new();
    for r in &q.rows {
        if r[qc[1]] != "train" {
            continue;
        }
        // `all_reference_answers` is empty where there is a single reference.
        let mut refs: Vec<String> = r[qc[4]]
            .split(" || ")
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
        if refs.is_empty() {
            refs.push(r[qc[5]].trim().to_string());
        }
        questions.insert(
            (r[qc[0]].clone(), r[qc[2]].clone()),
            (r[qc[3]].clone(), refs),
        );
    }
    let grader = Grader::new();
    let mut rows = Vec::new();
    let mut rejected = 0;
    for r in &a.rows {
        if r[ac[1]] != "train" {
            continue;
        }
        let Some((question, refs)) = questions.get(&(r[ac[0]].clone(), r[ac[2]].clone())) else {
            continue;
        };
        let input = GradeInput {
            question: question.clone(),
            references: refs.clone(),
            answer: Transcript::from_text(r[ac[3]].clone()),
            ..GradeInput::default()
        };
        match grader.features(&input) {
            Ok(f) => rows.push(Row {
                x: f.values.to_vec(),
                label: r[ac[4]].clone(),
                qkey: format!("{}/{}", r[ac[0]], r[ac[2]]),
                overlap: word_overlap(refs, &input.answer.text),
                answer: input.answer.text.clone(),
                refs: refs.join(" || "),
            }),
            Err(e) => {
                rejected += 1;
                if rejected <= 10 {
                    eprintln!("rejected ({e:?}): {:?}", input.answer.text);
                }
            }
        }
    }
    eprintln!("train rows: {} (rejected {rejected})", rows.len());
    // Features left out of the model (their weights become 0): absolute sizes, which do not
    // transfer from SemEval's one-sentence answers to interview-length answers and references.
    let drop: Vec<usize> = std::env::var("VIVA_DROP")
        .map(|v| v.split(',').map(str::to_string).collect::<Vec<_>>())
        .unwrap_or_else(|_| DROPPED.iter().map(|s| s.to_string()).collect())
        .iter()
        .filter(|n| !n.is_empty())
        .map(|n| {
            FEATURE_NAMES
                .iter()
                .position(|f| f == n)
                .unwrap_or_else(|| panic!("unknown feature {n}"))
        })
        .collect();
    for r in &mut rows {
        for &j in &drop {
            r.x[j] = 0.0;
        }
    }

    // Grouped 5-fold CV: questions are assigned to folds in sorted order, so held-out folds
    // contain only unseen questions (the harder of SemEval's test conditions).
    let mut qkeys: Vec<&str> = rows.iter().map(|r| r.qkey.as_str()).collect();
    qkeys.sort_unstable();
    qkeys.dedup();
    let fold_of: BTreeMap<&str, usize> =
        qkeys.iter().enumerate().map(|(i, k)| (*k, i % 5)).collect();
    let mut cv_p = vec![0.0; rows.len()];
    for fold in 0..5 {
        let train: Vec<&Row> = rows
            .iter()
            .filter(|r| fold_of[r.qkey.as_str()] != fold)
            .collect();
        let m = fit_regimes(&train);
        for (i, r) in rows.iter().enumerate() {
            if fold_of[r.qkey.as_str()] == fold {
                cv_p[i] = m.p_correct(r);
            }
        }
    }
    let gold: Vec<bool> = rows.iter().map(|r| r.label == "correct").collect();
    // Development aid: VIVA_DUMP=file writes each train answer with its cross-validated p.
    if let Some(dump) = std::env::var_os("VIVA_DUMP") {
        let mut s = format!(
            "p\tlabel\tqkey\tanswer\trefs\t{}\n",
            FEATURE_NAMES.join("\t")
        );
        for (r, p) in rows.iter().zip(&cv_p) {
            let x: Vec<String> = r.x.iter().map(|v| format!("{v:.4}")).collect();
            s.push_str(&format!(
                "{p:.3}\t{}\t{}\t{}\t{}\t{}\n",
                r.label,
                r.qkey,
                r.answer,
                r.refs,
                x.join("\t")
            ));
        }
        std::fs::write(&dump, s).unwrap_or_else(|e| panic!("cannot write dump: {e}"));
    }
    let overlap: Vec<f64> = rows.iter().map(|r| r.overlap).collect();
    let t_cv = best_threshold(&cv_p, &gold);
    let bt = best_threshold(&overlap, &gold);
    let mf1 = |s: &[f64], t: f64| {
        macro_f1(&s.iter().map(|p| *p >= t).collect::<Vec<_>>(), &gold).unwrap_or(0.0)
    };
    println!(
        "train 5-fold CV (unseen questions): grader AUC {:.4} macro-F1 {:.4} | baseline AUC {:.4} macro-F1 {:.4}",
        auc(&cv_p, &gold).unwrap_or(0.0),
        mf1(&cv_p, t_cv),
        auc(&overlap, &gold).unwrap_or(0.0),
        mf1(&overlap, bt)
    );
    for corpus in ["beetle", "sciEntsBank"] {
        let idx: Vec<usize> = (0..rows.len())
            .filter(|i| rows[*i].qkey.starts_with(corpus))
            .collect();
        let g: Vec<bool> = idx.iter().map(|i| gold[*i]).collect();
        let p: Vec<f64> = idx.iter().map(|i| cv_p[*i]).collect();
        let o: Vec<f64> = idx.iter().map(|i| overlap[*i]).collect();
        println!(
            "  {corpus}: grader AUC {:.4} | baseline AUC {:.4}",
            auc(&p, &g).unwrap_or(0.0),
            auc(&o, &g).unwrap_or(0.0)
        );
    }

    // Final fit on all of train.
    let all: Vec<&Row> = rows.iter().collect();
    let m = fit_regimes(&all);
    let p: Vec<f64> = rows.iter().map(|r| m.p_correct(r)).collect();
    let threshold = best_threshold(&p, &gold);
    println!(
        "fit on train: AUC {:.4}, threshold {threshold:.2}, baseline threshold {bt:.2}",
        auc(&p, &gold).unwrap_or(0.0)
    );
    for (k, name) in ["single reference", "several references"]
        .iter()
        .enumerate()
    {
        println!("{name}:");
        for (i, n) in FEATURE_NAMES.iter().enumerate() {
            println!(
                "  {n:<26} mean {:8.4} sd {:8.4}  w_correct {:8.4}  w_contra {:8.4}",
                m.mean[k][i], m.scale[k][i], m.w[k][i], m.wc[k][i]
            );
        }
    }
    if write {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src/model_params.rs");
        let arr = |v: &[f64]| {
            v.iter()
                .map(|x| format!("{x:.6}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let arr2 =
            |v: &[Vec<f64>; 2]| format!("[\n    [{}],\n    [{}],\n]", arr(&v[0]), arr(&v[1]));
        let text = format!(
            "// Generated by `cargo run -p viva-grading --example calibrate -- --write`\n\
             // from the SemEval-2013 Task 7 train split ({} answers). Do not edit by hand.\n\
             // Index 0: questions with a single reference answer; 1: with several.\n\
             pub const MEAN: [[f64; super::N_FEATURES]; 2] = {};\n\
             pub const SCALE: [[f64; super::N_FEATURES]; 2] = {};\n\
             pub const W_CORRECT: [[f64; super::N_FEATURES]; 2] = {};\n\
             pub const B_CORRECT: [f64; 2] = [{:.6}, {:.6}];\n\
             pub const W_CONTRA: [[f64; super::N_FEATURES]; 2] = {};\n\
             pub const B_CONTRA: [f64; 2] = [{:.6}, {:.6}];\n\
             pub const THRESHOLD: f64 = {threshold:.2};\n\
             pub const BASELINE_THRESHOLD: f64 = {bt:.2};\n",
            rows.len(),
            arr2(&m.mean),
            arr2(&m.scale),
            arr2(&m.w),
            m.b[0],
            m.b[1],
            arr2(&m.wc),
            m.bc[0],
            m.bc[1],
        );
        std::fs::write(&path, text)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        println!("wrote {}", path.display());
    }
}

/// Separate models for questions with one reference and with several: with several paraphrased
/// references, a close match to any one is strong evidence; with one, partial matches are the
/// norm and coverage matters more.
struct Model {
    mean: [Vec<f64>; 2],
    scale: [Vec<f64>; 2],
    w: [Vec<f64>; 2],
    b: [f64; 2],
    wc: [Vec<f64>; 2],
    bc: [f64; 2],
}

fn regime(r: &Row) -> usize {
    let i = FEATURE_NAMES
        .iter()
        .position(|n| *n == "log_n_refs")
        .unwrap_or(0);
    usize::from(r.x[i] > 0.0)
}

impl Model {
    fn p_correct(&self, r: &Row) -> f64 {
        let k = regime(r);
        predict(&r.x, &self.mean[k], &self.scale[k], &self.w[k], self.b[k])
    }
}

fn fit_regimes(rows: &[&Row]) -> Model {
    // (mean, scale, w, b, w_contra, b_contra) per regime.
    type Part = (Vec<f64>, Vec<f64>, Vec<f64>, f64, Vec<f64>, f64);
    let mut parts: Vec<Part> = Vec::new();
    for k in 0..2 {
        let sub: Vec<&Row> = rows.iter().copied().filter(|r| regime(r) == k).collect();
        let (mean, scale) = standardise(&sub);
        let (w, b) = fit(&sub, &mean, &scale, |r| r.label == "correct");
        let nc: Vec<&Row> = sub
            .iter()
            .copied()
            .filter(|r| r.label != "correct")
            .collect();
        let (wc, bc) = fit(&nc, &mean, &scale, |r| r.label == "contradictory");
        parts.push((mean, scale, w, b, wc, bc));
    }
    let p1 = parts.pop().expect("two regimes");
    let p0 = parts.pop().expect("two regimes");
    Model {
        mean: [p0.0, p1.0],
        scale: [p0.1, p1.1],
        w: [p0.2, p1.2],
        b: [p0.3, p1.3],
        wc: [p0.4, p1.4],
        bc: [p0.5, p1.5],
    }
}

fn standardise(rows: &[&Row]) -> (Vec<f64>, Vec<f64>) {
    let n = rows[0].x.len();
    let m = rows.len() as f64;
    let mean: Vec<f64> = (0..n)
        .map(|j| rows.iter().map(|r| r.x[j]).sum::<f64>() / m)
        .collect();
    let scale: Vec<f64> = (0..n)
        .map(|j| {
            let v = rows.iter().map(|r| (r.x[j] - mean[j]).powi(2)).sum::<f64>() / m;
            if v > 1e-12 {
                v.sqrt()
            } else {
                1.0
            }
        })
        .collect();
    (mean, scale)
}

fn predict(x: &[f64], mean: &[f64], scale: &[f64], w: &[f64], b: f64) -> f64 {
    let z: f64 = b
        + (0..x.len())
            .map(|j| w[j] * ((x[j] - mean[j]) / scale[j]).clamp(-CLIP, CLIP))
            .sum::<f64>();
    1.0 / (1.0 + (-z).exp())
}

/// L2-regularised logistic regression by Newton's method (intercept not penalised).
fn fit(
    rows: &[&Row],
    mean: &[f64],
    scale: &[f64],
    positive: impl Fn(&Row) -> bool,
) -> (Vec<f64>, f64) {
    let n = mean.len();
    let d = n + 1;
    let mut beta = vec![0.0; d];
    let xs: Vec<Vec<f64>> = rows
        .iter()
        .map(|r| {
            let mut v: Vec<f64> = (0..n)
                .map(|j| ((r.x[j] - mean[j]) / scale[j]).clamp(-CLIP, CLIP))
                .collect();
            v.push(1.0);
            v
        })
        .collect();
    let ys: Vec<f64> = rows
        .iter()
        .map(|r| if positive(r) { 1.0 } else { 0.0 })
        .collect();
    for _ in 0..25 {
        let mut g = vec![0.0; d];
        let mut h = vec![vec![0.0; d]; d];
        for (x, y) in xs.iter().zip(&ys) {
            let z: f64 = x.iter().zip(&beta).map(|(a, b)| a * b).sum();
            let p = 1.0 / (1.0 + (-z).exp());
            let wgt = p * (1.0 - p);
            for i in 0..d {
                g[i] += (p - y) * x[i];
                for k in 0..d {
                    h[i][k] += wgt * x[i] * x[k];
                }
            }
        }
        for i in 0..n {
            g[i] += L2 * beta[i];
            h[i][i] += L2;
        }
        let step = solve(h, g);
        for i in 0..d {
            beta[i] -= step[i];
        }
    }
    let b = beta[n];
    beta.truncate(n);
    (beta, b)
}

/// Gaussian elimination with partial pivoting.
fn solve(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Vec<f64> {
    let n = b.len();
    for c in 0..n {
        let p = (c..n)
            .max_by(|x, y| a[*x][c].abs().total_cmp(&a[*y][c].abs()))
            .unwrap_or(c);
        a.swap(c, p);
        b.swap(c, p);
        let piv = a[c][c];
        if piv.abs() < 1e-12 {
            continue;
        }
        for r in c + 1..n {
            let f = a[r][c] / piv;
            let pivot_row = a[c].clone();
            for (x, p) in a[r][c..n].iter_mut().zip(&pivot_row[c..n]) {
                *x -= f * p;
            }
            b[r] -= f * b[c];
        }
    }
    let mut x = vec![0.0; n];
    for c in (0..n).rev() {
        let s: f64 = (c + 1..n).map(|k| a[c][k] * x[k]).sum();
        x[c] = if a[c][c].abs() < 1e-12 {
            0.0
        } else {
            (b[c] - s) / a[c][c]
        };
    }
    x
}

/// Threshold maximising macro-F1 of `score >= t` on train (grid of 0.01).
fn best_threshold(score: &[f64], gold: &[bool]) -> f64 {
    let mut best = (0.5, -1.0);
    for i in 5..=95 {
        let t = i as f64 / 100.0;
        let pred: Vec<bool> = score.iter().map(|s| *s >= t).collect();
        let f = macro_f1(&pred, gold).unwrap_or(0.0);
        if f > best.1 + 1e-12 {
            best = (t, f);
        }
    }
    best.0
}
