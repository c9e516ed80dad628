//! From an alignment to what the grade shows: features for the model, concepts heard,
//! contradictions, red flags, and the spans of the answer that prove them.

use super::align::phrases;
use super::*;

impl Grader {
    pub(super) fn features_of(&self, an: &Analysis, input: &GradeInput) -> Features {
        let b = &an.refs[an.best];
        let a = &an.answer;
        let qs = &an.question_stems;
        // Answer-side counts are taken on the answer's core for the best reference.
        let in_core = |i: usize| b.core.as_ref().is_none_or(|m| m[i]);
        let n_a = a.content().filter(|(i, _)| in_core(*i)).count();
        let n_r = b.analysed.content_count();
        let max_recall = an.refs.iter().map(|m| m.recall_plain).fold(0.0, f64::max);
        let mean_recall =
            an.refs.iter().map(|m| m.recall_plain).sum::<f64>() / an.refs.len().max(1) as f64;
        let concepts = self.concepts(an, input);
        let concept_cov = if concepts.is_empty() {
            b.recall
        } else {
            concepts
                .iter()
                .map(|c| match c.status {
                    ConceptStatus::Covered => 1.0,
                    ConceptStatus::Partial => 0.5,
                    _ => 0.0,
                })
                .sum::<f64>()
                / concepts.len() as f64
        };
        let in_q = a
            .content()
            .filter(|(i, t)| in_core(*i) && qs.contains(&t.stem))
            .count();
        let aligned_a: HashSet<usize> = b.pairs.iter().map(|p| p.a).collect();
        let extra = a
            .content()
            .filter(|(i, t)| in_core(*i) && !aligned_a.contains(i) && !qs.contains(&t.stem))
            .count();
        let neg_a = a
            .tokens
            .iter()
            .enumerate()
            .filter(|(i, t)| in_core(*i) && t.kind == Kind::Negator)
            .count();
        let neg_r = b
            .analysed
            .tokens
            .iter()
            .filter(|t| t.kind == Kind::Negator)
            .count();
        let nums = |x: &Analysed, keep: &dyn Fn(usize) -> bool| -> Vec<String> {
            x.tokens
                .iter()
                .enumerate()
                .filter(|(i, t)| t.kind == Kind::Number && keep(*i))
                .map(|(_, t)| t.stem.clone())
                .collect()
        };
        let (na, nr) = (nums(a, &in_core), nums(&b.analysed, &|_| true));
        let number_mismatch = !na.is_empty()
            && nr.iter().any(|n| !na.contains(n))
            && na.iter().any(|n| !nr.contains(n) && !qs.contains(n));
        let any_contra = b.pairs.iter().any(|p| p.conflict);
        // Every reference that the answer substantially matches is contradicted somewhere.
        let matching: Vec<&RefMatch> = an.refs.iter().filter(|m| m.recall_plain >= 0.34).collect();
        let contra_all = f64::from(u8::from(
            !matching.is_empty() && matching.iter().all(|m| m.pairs.iter().any(|p| p.conflict)),
        ));
        Features {
            values: [
                b.recall,
                b.precision,
                b.f1,
                b.recall_novel,
                b.bigram,
                b.contra,
                f64::from(u8::from(any_contra)),
                max_recall,
                mean_recall,
                concept_cov,
                ratio(in_q as f64, n_a as f64),
                ratio(extra as f64, n_a as f64),
                (1.0 + n_a as f64).ln(),
                ((1.0 + n_a as f64) / (1.0 + n_r as f64)).ln(),
                f64::from(u8::from(an.dont_know)),
                f64::from(u8::from(neg_a % 2 != neg_r % 2)),
                f64::from(u8::from(number_mismatch)),
                b.recall * (1.0 - b.contra),
                contra_all,
                an.refs
                    .iter()
                    .map(|m| m.recall_consistent)
                    .fold(0.0, f64::max),
                an.refs
                    .iter()
                    .map(|m| m.precision_consistent)
                    .fold(0.0, f64::max),
                an.refs.iter().map(|m| m.word_overlap).fold(0.0, f64::max),
                an.refs.iter().map(|m| m.word_dice).fold(0.0, f64::max),
                (an.refs.len() as f64).ln(),
                (1.0 + n_r as f64).ln(),
            ],
        }
    }

    /// Concepts to check: the given key concepts, else the content phrases of the best reference.
    pub(super) fn concepts(&self, an: &Analysis, input: &GradeInput) -> Vec<ConceptEvidence> {
        let given: Vec<&str> = input
            .key_concepts
            .iter()
            .map(|c| c.trim())
            .filter(|c| !c.is_empty())
            .collect();
        let (texts, source): (Vec<String>, ConceptSource) = if given.is_empty() {
            (
                phrases(&an.refs[an.best].analysed),
                ConceptSource::Reference,
            )
        } else {
            (
                given.iter().map(|s| s.to_string()).collect(),
                ConceptSource::KeyConcept,
            )
        };
        let mut out = Vec::new();
        for c in texts {
            let ca = text::analyse(self.lexicon(an.ref_lang), &c);
            let n = ca.content_count();
            if n == 0 {
                continue;
            }
            let pairs = self.align(&ca, &an.answer);
            let coverage = pairs.iter().map(|p| p.sim).sum::<f64>() / n as f64;
            let conflicts = pairs.iter().filter(|p| p.conflict).count();
            let status = if conflicts > 0 && conflicts * 2 >= pairs.len() && coverage >= 0.5 {
                ConceptStatus::Contradicted
            } else if coverage >= 0.6 && conflicts == 0 {
                ConceptStatus::Covered
            } else if coverage >= 0.3 {
                ConceptStatus::Partial
            } else {
                ConceptStatus::Missing
            };
            let idxs: Vec<usize> = pairs.iter().map(|p| p.a).collect();
            out.push(ConceptEvidence {
                concept: c,
                source,
                status,
                coverage: round_to(coverage.min(1.0), 2),
                spans: spans_of(&an.answer, &idxs, &input.answer.words),
            });
        }
        out
    }

    pub(super) fn contradictions(
        &self,
        an: &Analysis,
        words: &[crate::TimedWord],
    ) -> Vec<Contradiction> {
        let b = &an.refs[an.best];
        b.pairs
            .iter()
            .filter(|p| p.conflict)
            .map(|p| {
                let a_start = negator_before(&an.answer.tokens, p.a);
                let r_start = negator_before(&b.analysed.tokens, p.r);
                let at = &an.answer.tokens;
                let rt = &b.analysed.tokens;
                Contradiction {
                    answer: make_span(&an.answer, at[a_start].start, at[p.a].end, words),
                    reference: b.analysed.text[rt[r_start].start..rt[p.r].end].to_string(),
                    kind: if p.rel == Rel::Antonym && at[p.a].negated == rt[p.r].negated {
                        "antonym".to_string()
                    } else {
                        "negation".to_string()
                    },
                }
            })
            .collect()
    }

    pub(super) fn red_flags(&self, an: &Analysis, input: &GradeInput) -> Vec<RedFlagEvidence> {
        // Flags are written in the job's language, like the references.
        let rlex = self.lexicon(an.ref_lang);
        let w = rlex.words;
        let without = |x: &str| w.without.contains(&x);
        let mut out = Vec::new();
        for flag in input
            .red_flags
            .iter()
            .map(|f| f.trim())
            .filter(|f| !f.is_empty())
        {
            let lower = normalise_apostrophes(&flag.to_lowercase());
            let words: Vec<&str> = lower
                .split(|c: char| !c.is_alphanumeric() && c != '\'')
                .filter(|w| !w.is_empty())
                .collect();
            // An absence flag says what the answer lacks ("Cannot quantify…", "Candidate fails
            // to…", "No mention of…"): the absence word leads the flag. Elsewhere ("Retries every
            // request without checking…") it qualifies a behaviour, which is what is flagged.
            let absence_at = words
                .iter()
                .take(3)
                .position(|x| w.absence.contains(x))
                .filter(|&i| words[..i].iter().all(|x| w.lead.contains(x)))
                .or_else(|| late_negation(an.ref_lang, &words));
            let subject: Vec<&str> = match absence_at {
                // German puts the negation after the verb and its object ("Misst das Ergebnis
                // nicht"): the subject is the rest of the flag.
                Some(i) if an.ref_lang == Lang::De => words
                    .iter()
                    .enumerate()
                    .filter(|(j, _)| *j != i)
                    .map(|(_, x)| *x)
                    .collect(),
                Some(i) => words[i + 1..].to_vec(),
                // The behaviour is what comes before "without" / "instead of".
                None => {
                    let cut = words
                        .iter()
                        .position(|x| without(x))
                        .filter(|&i| i > 0)
                        .unwrap_or(words.len());
                    words[..cut].to_vec()
                }
            };
            let universal = subject.iter().any(|x| w.universal.contains(x));
            let quantify = absence_at.is_some() && subject.iter().any(|x| w.quantify.contains(x));
            // Single letters are the debris of "e.g." and similar abbreviations.
            let subject: Vec<&str> = subject
                .into_iter()
                .filter(|x| !w.meta.contains(x) && x.chars().count() > 1)
                .collect();
            let mut sa = text::analyse(rlex, &subject.join(" "));
            if sa.content_count() == 0 {
                // Everything was behaviour words ("fails to mention specific tools (e.g.,
                // EXPLAIN)"): fall back to the examples after "e.g.", else the whole flag.
                let eg = words
                    .windows(2)
                    .position(|w| w == ["e", "g"])
                    .map_or(0, |i| i + 2);
                sa = text::analyse(rlex, &words[eg..].join(" "));
            }
            let n = sa.content_count();
            if quantify {
                // The opposite evidence for "cannot quantify": measurements in the answer. Too
                // few is a point not shown, never a red flag: nothing in the answer shows it.
                let idxs = measurements(&an.answer);
                out.push(RedFlagEvidence {
                    flag: flag.to_string(),
                    raised: false,
                    why: format!("answer gives {} measured figure(s)", idxs.len()),
                    spans: spans_of(&an.answer, &idxs, &input.answer.words),
                    not_shown: idxs.len() < 2,
                });
                continue;
            }
            if n == 0 {
                continue;
            }
            let pairs = self.align(&sa, &an.answer);
            // Negated mentions ("I never used tracing") do not count as mentioning the subject.
            let found: Vec<&Pair> = pairs
                .iter()
                .filter(|p| !an.answer.tokens[p.a].negated)
                .collect();
            let coverage = found.iter().map(|p| p.sim).sum::<f64>() / n as f64;
            let idxs: Vec<usize> = found.iter().map(|p| p.a).collect();
            // "Designs tables without asking how they are queried": the behaviour is flagged
            // only if what it goes "without" is not in the answer either.
            let qualifier_covered = absence_at.is_none() && {
                let after: Vec<&str> = words
                    .iter()
                    .position(|x| without(x))
                    .filter(|&i| i > 0)
                    .map(|i| {
                        words[i + 1..]
                            .iter()
                            .copied()
                            .filter(|x| {
                                !w.meta.contains(x)
                                    && !w.qualifier_skip.contains(x)
                                    && x.chars().count() > 1
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                let qa = text::analyse(rlex, &after.join(" "));
                qa.content_count() > 0 && {
                    let qpairs = self.align(&qa, &an.answer);
                    let c = qpairs
                        .iter()
                        .filter(|p| !an.answer.tokens[p.a].negated)
                        .map(|p| p.sim)
                        .sum::<f64>()
                        / qa.content_count() as f64;
                    c >= 0.5
                }
            };
            let (raised, not_shown, why) = if absence_at.is_some() {
                // An absence is never a red flag: nothing in the answer shows it.
                let missing = coverage < 0.25;
                (
                    false,
                    missing,
                    format!(
                        "answer covers {:.0}% of \"{}\"{}",
                        coverage * 100.0,
                        subject.join(" "),
                        if missing { ": not shown" } else { "" }
                    ),
                )
            } else if universal && coverage >= 0.6 && !universal_near(&an.answer, &idxs) {
                // "Adds an index on every column": mentioning indexes is not the flagged
                // behaviour; saying it applies to everything is.
                (
                    false,
                    false,
                    format!(
                        "answer matches {:.0}% of the flagged behaviour's words, but not its \"every/all/always\"",
                        coverage * 100.0
                    ),
                )
            } else if coverage >= 0.6 && qualifier_covered {
                (
                    false,
                    false,
                    "answer shows the behaviour together with what the flag says it lacks".into(),
                )
            } else {
                (
                    coverage >= 0.6,
                    false,
                    format!(
                        "answer matches {:.0}% of the flagged behaviour",
                        coverage * 100.0
                    ),
                )
            };
            let spans = spans_of(&an.answer, &idxs, &input.answer.words);
            out.push(RedFlagEvidence {
                flag: flag.to_string(),
                // Raised only with the quote that shows it.
                raised: raised && !spans.is_empty(),
                why,
                spans,
                not_shown,
            });
        }
        out
    }
}

/// Answer tokens that are measured figures: numbers written as digits, or followed by a unit.
pub(super) fn measurements(a: &Analysed) -> Vec<usize> {
    let toks = &a.tokens;
    (0..toks.len())
        .filter(|&i| toks[i].kind == Kind::Number)
        .filter(|&i| {
            toks[i].surface.chars().any(|c| c.is_ascii_digit())
                || toks.get(i + 1).is_some_and(|t| {
                    crate::lexicon::words(a.lang)
                        .units
                        .contains(&t.norm.as_str())
                })
        })
        .collect()
}

/// A universal word ("every", "all", "always", …) within six tokens of one of `idxs`.
pub(super) fn universal_near(a: &Analysed, idxs: &[usize]) -> bool {
    let universal = crate::lexicon::words(a.lang).universal;
    idxs.iter().any(|&i| {
        let lo = i.saturating_sub(6);
        let hi = (i + 7).min(a.tokens.len());
        a.tokens[lo..hi]
            .iter()
            .any(|t| universal.contains(&t.norm.as_str()))
    })
}

/// German negates late ("Kann die Werkzeuge nicht nennen", "Erwähnt die Clients nicht"): a
/// negation anywhere before a "without" word makes the flag an absence too.
fn late_negation(lang: Lang, words: &[&str]) -> Option<usize> {
    const LATE: &[&str] = &[
        "nicht", "nie", "niemals", "kein", "keine", "keinen", "keiner", "keinem",
    ];
    if lang != Lang::De {
        return None;
    }
    let end = words
        .iter()
        .position(|x| matches!(*x, "ohne" | "statt" | "anstatt"))
        .unwrap_or(words.len());
    words[..end].iter().position(|x| LATE.contains(x))
}

pub(super) fn make_span(
    a: &Analysed,
    start: usize,
    end: usize,
    words: &[crate::TimedWord],
) -> Span {
    let (start_ms, end_ms) = if a.word_spans.is_empty() {
        (None, None)
    } else {
        let first = a.word_spans.partition_point(|(_, e)| *e <= start);
        let last = a
            .word_spans
            .partition_point(|(s, _)| *s < end)
            .saturating_sub(1);
        (
            words.get(first).map(|w| w.start_ms),
            words.get(last).map(|w| w.end_ms),
        )
    };
    Span {
        quote: a.text.get(start..end).unwrap_or_default().to_string(),
        start,
        end,
        start_ms,
        end_ms,
    }
}

/// Spans covering the given answer tokens: tokens within four positions of each other merge.
pub(super) fn spans_of(a: &Analysed, idxs: &[usize], words: &[crate::TimedWord]) -> Vec<Span> {
    let mut idxs: Vec<usize> = idxs.to_vec();
    idxs.sort_unstable();
    idxs.dedup();
    let mut groups: Vec<(usize, usize)> = Vec::new();
    for i in idxs {
        match groups.last_mut() {
            Some((_, e)) if i <= *e + 4 => *e = i,
            _ => groups.push((i, i)),
        }
    }
    groups
        .into_iter()
        .map(|(s, e)| {
            let s = negator_before(&a.tokens, s);
            make_span(a, a.tokens[s].start, a.tokens[e].end, words)
        })
        .collect()
}
