//! Aligning an answer's words with a reference's: similarity, one-to-one assignment, the
//! best-matching reference, word-order recall.

use super::*;

impl Grader {
    pub(super) fn weight(&self, t: &Token, question_stems: &HashSet<String>) -> f64 {
        if question_stems.contains(&t.stem) {
            QUESTION_WEIGHT
        } else {
            1.0
        }
    }

    pub(super) fn token_sim(&self, a: &Token, r: &Token) -> Option<(f64, Rel)> {
        match (a.kind, r.kind) {
            (Kind::Number, Kind::Number) => (a.stem == r.stem).then_some((1.0, Rel::Exact)),
            (Kind::Content, Kind::Content) => {
                if a.stem == r.stem {
                    return Some((1.0, Rel::Exact));
                }
                if self.lex.synonyms(&a.stem, &r.stem) {
                    return Some((0.85, Rel::Synonym));
                }
                if self.lex.antonyms(&a.stem, &r.stem) {
                    return Some((0.8, Rel::Antonym));
                }
                let (la, lr) = (a.norm.chars().count(), r.norm.chars().count());
                if la >= 5 && lr >= 5 {
                    // Spelling slips ("seperated") are frequent in typed and transcribed answers.
                    let max = if la.min(lr) >= 8 { 2 } else { 1 };
                    if text::edit_distance_within(&a.norm, &r.norm, max) <= max {
                        return Some((0.8, Rel::Fuzzy));
                    }
                }
                None
            }
            _ => None,
        }
    }

    /// Align the content words of `r` to those of `a`, one to one, greedily by similarity.
    pub(super) fn align(&self, r: &Analysed, a: &Analysed) -> Vec<Pair> {
        assign(&self.candidates(r, a), r, a, None)
    }

    /// Every possible pairing of a content word of `r` with one of `a`, best first.
    pub(super) fn candidates(&self, r: &Analysed, a: &Analysed) -> Vec<Pair> {
        // Compare each distinct answer word once, then expand to its positions.
        let mut by_stem: BTreeMap<(&str, &str, bool), Vec<usize>> = BTreeMap::new();
        for (i, t) in a.content() {
            by_stem
                .entry((t.stem.as_str(), t.norm.as_str(), t.kind == Kind::Number))
                .or_default()
                .push(i);
        }
        let mut cands: Vec<Pair> = Vec::new();
        for (ri, rt) in r.content() {
            for idxs in by_stem.values() {
                let Some(first) = idxs.first() else { continue };
                let at = &a.tokens[*first];
                let sim = self.token_sim(at, rt).or_else(|| {
                    (a.lang == Lang::De && r.lang == Lang::De)
                        .then(|| compound_sim(at, rt))
                        .flatten()
                });
                let Some((sim, rel)) = sim else {
                    continue;
                };
                for &ai in idxs {
                    let at = &a.tokens[ai];
                    let conflict = (at.negated != rt.negated) != (rel == Rel::Antonym);
                    cands.push(Pair {
                        r: ri,
                        a: ai,
                        sim,
                        rel,
                        conflict,
                    });
                }
            }
        }
        cands.sort_by(|x, y| {
            y.sim
                .total_cmp(&x.sim)
                .then(x.conflict.cmp(&y.conflict))
                .then(x.r.cmp(&y.r))
                .then(x.a.cmp(&y.a))
        });
        cands
    }

    pub(super) fn match_reference(
        &self,
        r: Analysed,
        a: &Analysed,
        qs: &HashSet<String>,
    ) -> RefMatch {
        let cands = self.candidates(&r, a);
        let pairs = assign(&cands, &r, a, None);
        let r_total: f64 = r.content().map(|(_, t)| self.weight(t, qs)).sum();
        let r_hit: f64 = pairs
            .iter()
            .map(|p| self.weight(&r.tokens[p.r], qs) * p.sim)
            .sum();
        // Recall-side figures use the whole answer: every correct detail counts, wherever it is.
        let recall = ratio(r_hit, r_total);
        // Precision-side figures use the answer's core (see `core`): extra detail elsewhere in a
        // long answer is not held against it.
        let core = self.core(&cands, &r, a, qs, r_total);
        let core_pairs = match &core {
            Some(m) => assign(&cands, &r, a, Some(m)),
            None => pairs.clone(),
        };
        let in_core = |i: usize| core.as_ref().is_none_or(|m| m[i]);
        let a_total: f64 = a
            .content()
            .filter(|(i, _)| in_core(*i))
            .map(|(_, t)| self.weight(t, qs))
            .sum();
        let a_hit: f64 = core_pairs
            .iter()
            .map(|p| self.weight(&a.tokens[p.a], qs) * p.sim)
            .sum();
        let precision = ratio(a_hit, a_total);
        let f1 = if recall + precision > 0.0 {
            2.0 * recall * precision / (recall + precision)
        } else {
            0.0
        };
        let r_n = r.content_count();
        let recall_plain = ratio(pairs.len() as f64, r_n as f64);
        let novel: Vec<usize> = r
            .content()
            .filter(|(_, t)| !qs.contains(&t.stem))
            .map(|(i, _)| i)
            .collect();
        let recall_novel = if novel.is_empty() {
            recall
        } else {
            let hit: f64 = pairs
                .iter()
                .filter(|p| novel.contains(&p.r))
                .map(|p| p.sim)
                .sum();
            hit / novel.len() as f64
        };
        let bigram = bigram_recall(&r, a, &pairs).unwrap_or(recall_plain);
        let aligned_w: f64 = pairs.iter().map(|p| self.weight(&r.tokens[p.r], qs)).sum();
        let conflict_w: f64 = pairs
            .iter()
            .filter(|p| p.conflict)
            .map(|p| self.weight(&r.tokens[p.r], qs))
            .sum();
        let contra = ratio(conflict_w, aligned_w);
        let r_ok: f64 = pairs
            .iter()
            .filter(|p| !p.conflict)
            .map(|p| self.weight(&r.tokens[p.r], qs) * p.sim)
            .sum();
        let a_ok: f64 = core_pairs
            .iter()
            .filter(|p| !p.conflict)
            .map(|p| self.weight(&a.tokens[p.a], qs) * p.sim)
            .sum();
        let set = |x: &Analysed, keep: &dyn Fn(usize) -> bool| -> Vec<String> {
            let mut v: Vec<String> = x
                .tokens
                .iter()
                .enumerate()
                .filter(|(i, t)| t.kind != Kind::Punct && keep(*i))
                .map(|(_, t)| t.norm.clone())
                .collect();
            v.sort_unstable();
            v.dedup();
            v
        };
        let (rs, as_full, as_core) = (set(&r, &|_| true), set(a, &|_| true), set(a, &in_core));
        let common = |x: &[String]| rs.iter().filter(|w| x.binary_search(w).is_ok()).count();
        let word_overlap = ratio(common(&as_full) as f64, rs.len() as f64);
        let word_dice = ratio(
            2.0 * common(&as_core) as f64,
            (rs.len() + as_core.len()) as f64,
        );
        RefMatch {
            word_overlap,
            word_dice,
            analysed: r,
            pairs,
            core,
            recall,
            precision,
            f1,
            recall_plain,
            recall_novel,
            bigram,
            contra,
            recall_consistent: ratio(r_ok, r_total),
            precision_consistent: ratio(a_ok, a_total),
        }
    }

    /// The answer's core for reference `r`: when the answer is much longer than the reference
    /// and has several sentences, the sentences chosen greedily to maximise weighted F1 against
    /// the reference (a best-covering subset); `None` (the whole answer) otherwise. Short
    /// answers, the norm in the calibration data, are unaffected.
    pub(super) fn core(
        &self,
        cands: &[Pair],
        r: &Analysed,
        a: &Analysed,
        qs: &HashSet<String>,
        r_total: f64,
    ) -> Option<Vec<bool>> {
        let (sid, n_sent) = sentence_ids(a);
        let n_a = a.content_count() as f64;
        if n_sent < 2 || n_a <= CORE_LENGTH_FACTOR * r.content_count().max(1) as f64 {
            return None;
        }
        let f1_of = |chosen: &[bool]| -> f64 {
            let mask: Vec<bool> = sid.iter().map(|s| chosen[*s]).collect();
            let pairs = assign(cands, r, a, Some(&mask));
            let a_total: f64 = a
                .content()
                .filter(|(i, _)| mask[*i])
                .map(|(_, t)| self.weight(t, qs))
                .sum();
            let rec = ratio(
                pairs
                    .iter()
                    .map(|p| self.weight(&r.tokens[p.r], qs) * p.sim)
                    .sum(),
                r_total,
            );
            let prec = ratio(
                pairs
                    .iter()
                    .map(|p| self.weight(&a.tokens[p.a], qs) * p.sim)
                    .sum(),
                a_total,
            );
            if rec + prec > 0.0 {
                2.0 * rec * prec / (rec + prec)
            } else {
                0.0
            }
        };
        let mut chosen = vec![false; n_sent];
        let mut best = 0.0;
        loop {
            let mut pick: Option<(usize, f64)> = None;
            for s in 0..n_sent {
                if chosen[s] {
                    continue;
                }
                chosen[s] = true;
                let f = f1_of(&chosen);
                chosen[s] = false;
                if f > best + 1e-9 && pick.is_none_or(|(_, pf)| f > pf + 1e-12) {
                    pick = Some((s, f));
                }
            }
            match pick {
                Some((s, f)) => {
                    chosen[s] = true;
                    best = f;
                }
                None => break,
            }
        }
        if !chosen.iter().any(|c| *c) {
            // Nothing matches: the whole answer is the core (its precision is 0 either way).
            return None;
        }
        Some(sid.iter().map(|s| chosen[*s]).collect())
    }
}

/// German compounds: "Datenbankindex" contains "Index", "Abfrageplan" contains "Abfrage". A
/// stem of five letters or more that ends (head) or, from six letters, starts (modifier) the
/// other word's stem is a partial match, weighed like a spelling slip.
fn compound_sim(a: &Token, r: &Token) -> Option<(f64, Rel)> {
    if a.kind != Kind::Content || r.kind != Kind::Content || a.stem == r.stem {
        return None;
    }
    let (short, long) = if a.stem.chars().count() <= r.stem.chars().count() {
        (&a.stem, &r.stem)
    } else {
        (&r.stem, &a.stem)
    };
    let n = short.chars().count();
    ((n >= 5 && long.ends_with(short.as_str())) || (n >= 6 && long.starts_with(short.as_str())))
        .then_some((0.8, Rel::Fuzzy))
}

/// One-to-one alignment from the sorted candidates, greedily by similarity, using only the
/// answer tokens in `mask` (all when `None`). Two kinds of conflict are discarded afterwards, as
/// they are artefacts of one-to-one alignment in longer answers rather than contradictions:
/// - a conflicting pair whose reference word is also aligned, with the same polarity, to another
///   answer word (the answer affirms what the reference says there);
/// - an antonym pair with no consistent aligned neighbour on both sides ("starting at 200 ms"
///   against "stops duplicates": opposite words about different things).
pub(super) fn assign(
    cands: &[Pair],
    r: &Analysed,
    a: &Analysed,
    mask: Option<&[bool]>,
) -> Vec<Pair> {
    let mut used_r = vec![false; r.tokens.len()];
    let mut used_a = vec![false; a.tokens.len()];
    let mut pairs = Vec::new();
    for c in cands {
        if mask.is_some_and(|m| !m[c.a]) {
            continue;
        }
        if !used_r[c.r] && !used_a[c.a] {
            used_r[c.r] = true;
            used_a[c.a] = true;
            pairs.push(*c);
        }
    }
    if pairs.iter().any(|p| p.conflict) {
        let rank = |x: &Analysed| {
            let mut v = vec![0usize; x.tokens.len()];
            for (k, (i, _)) in x.content().enumerate() {
                v[i] = k;
            }
            v
        };
        let (rr, ar) = (rank(r), rank(a));
        let keep: Vec<bool> = pairs
            .iter()
            .map(|p| {
                if !p.conflict {
                    return true;
                }
                let stem = &r.tokens[p.r].stem;
                let affirmed = pairs
                    .iter()
                    .any(|q| !q.conflict && q.r != p.r && r.tokens[q.r].stem == *stem);
                if affirmed {
                    return false;
                }
                if p.rel != Rel::Antonym {
                    return true;
                }
                pairs.iter().any(|q| {
                    !q.conflict
                        && q.r != p.r
                        && rr[q.r].abs_diff(rr[p.r]) <= 2
                        && ar[q.a].abs_diff(ar[p.a]) <= 3
                })
            })
            .collect();
        let mut k = keep.iter();
        pairs.retain(|_| k.next().copied().unwrap_or(true));
    }
    pairs.sort_by_key(|p| p.r);
    pairs
}

/// Share of the reference's adjacent content-word pairs found in the same order, close together,
/// in the answer. `None` when the reference has no such pair.
pub(super) fn bigram_recall(r: &Analysed, a: &Analysed, pairs: &[Pair]) -> Option<f64> {
    let mut a_of_r = vec![None; r.tokens.len()];
    for p in pairs {
        a_of_r[p.r] = Some(p.a);
    }
    // Position of each answer token among the answer's content tokens.
    let mut a_rank = vec![0usize; a.tokens.len()];
    for (rank, (i, _)) in a.content().enumerate() {
        a_rank[i] = rank;
    }
    let mut total = 0usize;
    let mut hit = 0usize;
    let mut prev: Option<usize> = None;
    for (i, t) in r.tokens.iter().enumerate() {
        if t.kind == Kind::Punct {
            prev = None;
            continue;
        }
        if !t.is_contentful() {
            continue;
        }
        if let Some(p) = prev {
            total += 1;
            if let (Some(x), Some(y)) = (a_of_r[p], a_of_r[i]) {
                if a_rank[x] < a_rank[y] && a_rank[y] - a_rank[x] <= 3 {
                    hit += 1;
                }
            }
        }
        prev = Some(i);
    }
    (total > 0).then(|| hit as f64 / total as f64)
}

/// Content phrases of a reference: runs of content words, with a negator in front kept.
pub(super) fn phrases(r: &Analysed) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut run: Option<(usize, usize)> = None;
    let toks = &r.tokens;
    let flush = |run: &mut Option<(usize, usize)>, out: &mut Vec<String>| {
        if let Some((s, e)) = run.take() {
            let start = negator_before(toks, s);
            let p = r.text[toks[start].start..toks[e].end].to_string();
            if !out.contains(&p) {
                out.push(p);
            }
        }
    };
    for (i, t) in toks.iter().enumerate() {
        if t.is_contentful() {
            run = Some(match run {
                Some((s, _)) => (s, i),
                None => (i, i),
            });
        } else {
            flush(&mut run, &mut out);
        }
    }
    flush(&mut run, &mut out);
    out
}
