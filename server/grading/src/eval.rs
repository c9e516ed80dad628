//! Agreement statistics between grades and human gold labels or scores.
//!
//! Every function returns `None` when the statistic is undefined for its input (too few items,
//! a constant series, a single class), so a report never prints NaN.

use serde::{Deserialize, Serialize};

/// Pearson correlation.
pub fn pearson(x: &[f64], y: &[f64]) -> Option<f64> {
    let n = x.len();
    if n < 2 || n != y.len() {
        return None;
    }
    let mx = x.iter().sum::<f64>() / n as f64;
    let my = y.iter().sum::<f64>() / n as f64;
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for i in 0..n {
        let (dx, dy) = (x[i] - mx, y[i] - my);
        sxy += dx * dy;
        sxx += dx * dx;
        syy += dy * dy;
    }
    (sxx > 0.0 && syy > 0.0).then(|| sxy / (sxx * syy).sqrt())
}

/// Ranks (1-based) with ties given their average rank.
pub fn ranks(x: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..x.len()).collect();
    idx.sort_by(|a, b| x[*a].total_cmp(&x[*b]).then(a.cmp(b)));
    let mut r = vec![0.0; x.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && x[idx[j + 1]] == x[idx[i]] {
            j += 1;
        }
        let avg = (i + j) as f64 / 2.0 + 1.0;
        for k in i..=j {
            r[idx[k]] = avg;
        }
        i = j + 1;
    }
    r
}

/// Spearman rank correlation (Pearson on average ranks).
pub fn spearman(x: &[f64], y: &[f64]) -> Option<f64> {
    if x.len() != y.len() {
        return None;
    }
    pearson(&ranks(x), &ranks(y))
}

pub fn rmse(x: &[f64], y: &[f64]) -> Option<f64> {
    if x.is_empty() || x.len() != y.len() {
        return None;
    }
    let s: f64 = x.iter().zip(y).map(|(a, b)| (a - b) * (a - b)).sum();
    Some((s / x.len() as f64).sqrt())
}

/// Quadratic-weighted Cohen's kappa on integer ratings (values are rounded).
pub fn quadratic_weighted_kappa(x: &[f64], y: &[f64]) -> Option<f64> {
    if x.len() < 2 || x.len() != y.len() {
        return None;
    }
    let xi: Vec<i64> = x.iter().map(|v| v.round() as i64).collect();
    let yi: Vec<i64> = y.iter().map(|v| v.round() as i64).collect();
    let lo = *xi.iter().chain(&yi).min()?;
    let hi = *xi.iter().chain(&yi).max()?;
    let k = (hi - lo + 1) as usize;
    if !(2..=1000).contains(&k) {
        return None;
    }
    let mut obs = vec![vec![0.0; k]; k];
    let mut hx = vec![0.0; k];
    let mut hy = vec![0.0; k];
    for (a, b) in xi.iter().zip(&yi) {
        let (a, b) = ((a - lo) as usize, (b - lo) as usize);
        obs[a][b] += 1.0;
        hx[a] += 1.0;
        hy[b] += 1.0;
    }
    let n = x.len() as f64;
    let (mut num, mut den) = (0.0, 0.0);
    for i in 0..k {
        for j in 0..k {
            let w = ((i as f64 - j as f64) / (k as f64 - 1.0)).powi(2);
            num += w * obs[i][j];
            den += w * hx[i] * hy[j] / n;
        }
    }
    (den > 0.0).then(|| 1.0 - num / den)
}

/// Area under the ROC curve of `score` for `positive` (Mann–Whitney, ties count half).
pub fn auc(score: &[f64], positive: &[bool]) -> Option<f64> {
    if score.len() != positive.len() {
        return None;
    }
    let n_pos = positive.iter().filter(|p| **p).count();
    let n_neg = positive.len() - n_pos;
    if n_pos == 0 || n_neg == 0 {
        return None;
    }
    let r = ranks(score);
    let sum_pos: f64 = r
        .iter()
        .zip(positive)
        .filter(|(_, p)| **p)
        .map(|(r, _)| r)
        .sum();
    let u = sum_pos - (n_pos * (n_pos + 1)) as f64 / 2.0;
    Some(u / (n_pos as f64 * n_neg as f64))
}

pub fn accuracy<T: PartialEq>(pred: &[T], gold: &[T]) -> Option<f64> {
    if pred.is_empty() || pred.len() != gold.len() {
        return None;
    }
    Some(pred.iter().zip(gold).filter(|(p, g)| p == g).count() as f64 / pred.len() as f64)
}

/// Macro-averaged F1 over the classes that occur in `gold` or `pred` (sorted, so stable).
pub fn macro_f1<T: Ord + Clone>(pred: &[T], gold: &[T]) -> Option<f64> {
    if pred.is_empty() || pred.len() != gold.len() {
        return None;
    }
    let mut classes: Vec<T> = gold.iter().chain(pred).cloned().collect();
    classes.sort();
    classes.dedup();
    let mut total = 0.0;
    for c in &classes {
        let tp = pred
            .iter()
            .zip(gold)
            .filter(|(p, g)| *p == c && *g == c)
            .count() as f64;
        let fp = pred
            .iter()
            .zip(gold)
            .filter(|(p, g)| *p == c && *g != c)
            .count() as f64;
        let fne = pred
            .iter()
            .zip(gold)
            .filter(|(p, g)| *p != c && *g == c)
            .count() as f64;
        let f1 = if tp > 0.0 {
            2.0 * tp / (2.0 * tp + fp + fne)
        } else {
            0.0
        };
        total += f1;
    }
    Some(total / classes.len() as f64)
}

/// Figures for one set of predictions against gold.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    pub n: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auc: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub macro_f1: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accuracy: Option<f64>,
    /// Three-way (correct / contradictory / incorrect), when the gold has those labels.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accuracy_3way: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub macro_f1_3way: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pearson: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spearman: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rmse: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qwk: Option<f64>,
}

/// Binary correct-vs-rest figures from a continuous score, a decision, and the gold.
pub fn binary_metrics(score: &[f64], predicted: &[bool], gold: &[bool]) -> Metrics {
    Metrics {
        n: gold.len(),
        auc: auc(score, gold).map(r4),
        macro_f1: macro_f1(predicted, gold).map(r4),
        accuracy: accuracy(predicted, gold).map(r4),
        ..Metrics::default()
    }
}

/// Numeric-gold figures from a 0–5 score.
pub fn numeric_metrics(score: &[f64], gold: &[f64]) -> Metrics {
    Metrics {
        n: gold.len(),
        pearson: pearson(score, gold).map(r4),
        spearman: spearman(score, gold).map(r4),
        rmse: rmse(score, gold).map(r4),
        qwk: quadratic_weighted_kappa(score, gold).map(r4),
        ..Metrics::default()
    }
}

fn r4(x: f64) -> f64 {
    crate::round_to(x, 4)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        let x = [1.0, 2.0, 3.0, 4.0];
        assert!((pearson(&x, &[2.0, 4.0, 6.0, 8.0]).unwrap_or(0.0) - 1.0).abs() < 1e-12);
        assert!((spearman(&x, &[1.0, 10.0, 100.0, 1000.0]).unwrap_or(0.0) - 1.0).abs() < 1e-12);
        assert_eq!(pearson(&x, &[1.0; 4]), None);
        assert_eq!(
            auc(&[0.1, 0.4, 0.35, 0.8], &[false, false, true, true]),
            Some(0.75)
        );
        assert_eq!(auc(&[0.5, 0.5], &[true, false]), Some(0.5));
        assert_eq!(quadratic_weighted_kappa(&x, &x), Some(1.0));
        assert_eq!(rmse(&[1.0, 3.0], &[1.0, 1.0]), Some(2f64.sqrt()));
        assert_eq!(
            macro_f1(&[true, true, false, false], &[true, false, false, false]),
            Some((2.0 / 3.0 + 0.8) / 2.0)
        );
        assert_eq!(ranks(&[3.0, 1.0, 3.0]), vec![2.5, 1.0, 2.5]);
    }
}
