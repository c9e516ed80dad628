//! Hand-written word lists the grader relies on.
//!
//! Everything here is general English (plus a few common technical pairs); nothing is copied from
//! the SemEval data, so the grader does not memorise its development set. Lists are looked up
//! through hash sets built once in [`Lexicon::new`]; nothing ever iterates a hash set, so output
//! order never depends on hashing.

use std::collections::{HashMap, HashSet};

use rust_stemmers::{Algorithm, Stemmer};

mod words;

pub(crate) use words::*;

/// The lookup structures built from the lists above.
pub(crate) struct Lexicon {
    stemmer: Stemmer,
    stop: HashSet<&'static str>,
    negators: HashSet<&'static str>,
    breaks: HashSet<&'static str>,
    gendered: HashMap<&'static str, &'static str>,
    names: HashSet<&'static str>,
    fillers: HashSet<&'static str>,
    foreign: HashSet<&'static str>,
    /// stem → synonym group ids (a word may sit in several groups).
    syn_groups: HashMap<String, Vec<usize>>,
    /// (group, group) pairs that are opposites, both orders.
    antonym_groups: HashSet<(usize, usize)>,
}

impl Lexicon {
    pub(crate) fn new() -> Self {
        let stemmer = Stemmer::create(Algorithm::English);
        let mut syn_groups: HashMap<String, Vec<usize>> = HashMap::new();
        let mut n_groups = SYNONYMS.len();
        for (gid, group) in SYNONYMS.iter().enumerate() {
            for w in group.iter() {
                let s = stemmer.stem(w).into_owned();
                let e = syn_groups.entry(s).or_default();
                if !e.contains(&gid) {
                    e.push(gid);
                }
            }
        }
        // Antonym words that are in no synonym group get a singleton group of their own, so
        // antonymy is always a relation between groups.
        let mut group_of = |w: &str, syn_groups: &mut HashMap<String, Vec<usize>>| -> Vec<usize> {
            let s = stemmer.stem(w).into_owned();
            let e = syn_groups.entry(s).or_default();
            if e.is_empty() {
                e.push(n_groups);
                n_groups += 1;
            }
            e.clone()
        };
        let mut antonym_groups = HashSet::new();
        for (a, b) in ANTONYMS {
            let ga = group_of(a, &mut syn_groups);
            let gb = group_of(b, &mut syn_groups);
            for x in &ga {
                for y in &gb {
                    if x != y {
                        antonym_groups.insert((*x, *y));
                        antonym_groups.insert((*y, *x));
                    }
                }
            }
        }
        Lexicon {
            stemmer,
            stop: STOPWORDS.iter().copied().collect(),
            negators: NEGATORS.iter().copied().collect(),
            breaks: CLAUSE_BREAKS.iter().copied().collect(),
            gendered: GENDERED.iter().copied().collect(),
            names: NAMES.iter().copied().collect(),
            fillers: FILLERS.iter().copied().collect(),
            foreign: FOREIGN_FUNCTION_WORDS.iter().copied().collect(),
            syn_groups,
            antonym_groups,
        }
    }

    pub(crate) fn stem(&self, w: &str) -> String {
        self.stemmer.stem(w).into_owned()
    }
    pub(crate) fn is_stop(&self, w: &str) -> bool {
        self.stop.contains(w)
    }
    pub(crate) fn is_negator(&self, w: &str) -> bool {
        self.negators.contains(w)
    }
    pub(crate) fn is_break(&self, w: &str) -> bool {
        self.breaks.contains(w)
    }
    pub(crate) fn is_filler(&self, w: &str) -> bool {
        self.fillers.contains(w)
    }
    pub(crate) fn is_foreign(&self, w: &str) -> bool {
        self.foreign.contains(w)
    }

    /// The neutral form of a gendered word or given name, if it is one.
    pub(crate) fn neutral(&self, w: &str) -> Option<&'static str> {
        if let Some(n) = self.gendered.get(w) {
            return Some(n);
        }
        if self.names.contains(w) {
            return Some("person");
        }
        None
    }

    pub(crate) fn synonyms(&self, stem_a: &str, stem_b: &str) -> bool {
        match (self.syn_groups.get(stem_a), self.syn_groups.get(stem_b)) {
            (Some(a), Some(b)) => a.iter().any(|g| b.contains(g)),
            _ => false,
        }
    }

    pub(crate) fn antonyms(&self, stem_a: &str, stem_b: &str) -> bool {
        match (self.syn_groups.get(stem_a), self.syn_groups.get(stem_b)) {
            (Some(a), Some(b)) => a
                .iter()
                .any(|x| b.iter().any(|y| self.antonym_groups.contains(&(*x, *y)))),
            _ => false,
        }
    }
}
