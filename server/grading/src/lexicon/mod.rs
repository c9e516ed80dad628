//! Hand-written word lists the grader relies on, per language.
//!
//! English is general English (plus a few common technical pairs); nothing is copied from the
//! SemEval data, so the grader does not memorise its development set. Spanish and German
//! (`es.rs`, `de.rs`) are their counterparts, written for this crate. Lists are looked up through
//! hash sets built once in [`Lexicon::for_lang`]; nothing ever iterates a hash set, so output
//! order never depends on hashing.

use std::collections::{HashMap, HashSet};

use rust_stemmers::{Algorithm, Stemmer};

use crate::Lang;

mod de;
mod en;
mod es;
mod words;

pub(crate) use en::*;
pub(crate) use words::*;

/// Every list one language reads an answer with (besides alignment's stop words and synonyms:
/// red flags, units, signals, the CEFR estimate's connectives).
pub(crate) struct Words {
    pub stop: &'static [&'static str],
    pub negators: &'static [&'static str],
    pub breaks: &'static [&'static str],
    pub synonyms: &'static [&'static [&'static str]],
    pub antonyms: &'static [(&'static str, &'static str)],
    pub gendered: &'static [(&'static str, &'static str)],
    pub fillers: &'static [&'static str],
    /// Function words of other languages (the "is this English?" test); empty for es/de.
    pub foreign: &'static [&'static str],
    pub dont_know: &'static [&'static str],
    pub number_words: &'static [(&'static str, &'static str)],
    /// Words a negation reaches through.
    pub transparent: &'static [&'static str],
    /// "not only": a negator followed by one of these does not negate.
    pub not_only: &'static [&'static str],
    /// Units that make a number a measurement (red flags about quantifying).
    pub units: &'static [&'static str],
    pub universal: &'static [&'static str],
    /// Red flags: absence words, behaviour words, words before the absence word, quantifying.
    pub absence: &'static [&'static str],
    pub meta: &'static [&'static str],
    pub lead: &'static [&'static str],
    pub quantify: &'static [&'static str],
    /// Words that end a flagged behaviour and start what it lacks ("without", "instead").
    pub without: &'static [&'static str],
    /// Function words dropped from what a behaviour lacks ("instead *of*").
    pub qualifier_skip: &'static [&'static str],
    /// Interview signals: units, first person singular and plural, past and hypothetical
    /// markers (suffix rules live in `signals.rs`), and words the past rules must not take.
    pub signal_units: &'static [&'static str],
    pub singular: &'static [&'static str],
    pub plural: &'static [&'static str],
    pub past: &'static [&'static str],
    pub not_past: &'static [&'static str],
    pub hypothetical: &'static [&'static str],
    /// CEFR: subordinators and connectives.
    pub subordinators: &'static [&'static str],
}

pub(crate) static EN: Words = Words {
    stop: STOPWORDS,
    negators: NEGATORS,
    breaks: CLAUSE_BREAKS,
    synonyms: SYNONYMS,
    antonyms: ANTONYMS,
    gendered: GENDERED,
    fillers: FILLERS,
    foreign: FOREIGN_FUNCTION_WORDS,
    dont_know: DONT_KNOW,
    number_words: NUMBER_WORDS,
    transparent: TRANSPARENT,
    not_only: NOT_ONLY,
    units: UNITS,
    universal: UNIVERSAL,
    absence: ABSENCE,
    meta: META,
    lead: LEAD,
    quantify: QUANTIFY,
    without: &["without", "instead"],
    qualifier_skip: &["of"],
    signal_units: SIGNAL_UNITS,
    singular: &["i", "me", "my", "mine", "myself"],
    plural: &["we", "us", "our", "ours", "ourselves"],
    past: IRREGULAR_PAST,
    not_past: NOT_PAST_ED,
    hypothetical: HYPOTHETICAL,
    subordinators: SUBORDINATORS,
};

/// The word lists of a language.
pub(crate) fn words(lang: Lang) -> &'static Words {
    match lang {
        Lang::En => &EN,
        Lang::Es => &es::ES,
        Lang::De => &de::DE,
    }
}

/// Folds Spanish accents and German umlauts out of a stem, so that "índice" and "indice" (a
/// recogniser or a keyboard without accents) meet. English stems never contain them.
fn fold(stem: &str) -> String {
    stem.chars()
        .map(|c| match c {
            'á' | 'à' | 'â' | 'ä' => 'a',
            'é' | 'è' | 'ê' => 'e',
            'í' | 'ì' | 'î' => 'i',
            'ó' | 'ò' | 'ô' | 'ö' => 'o',
            'ú' | 'ù' | 'û' | 'ü' => 'u',
            other => other,
        })
        .collect::<String>()
        .replace('ß', "ss")
}

/// The lookup structures built from the lists above.
pub(crate) struct Lexicon {
    pub(crate) lang: Lang,
    pub(crate) words: &'static Words,
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
    /// The English lexicon.
    pub(crate) fn new() -> Self {
        Self::for_lang(Lang::En)
    }

    pub(crate) fn for_lang(lang: Lang) -> Self {
        let words = self::words(lang);
        let stemmer = Stemmer::create(match lang {
            Lang::En => Algorithm::English,
            Lang::Es => Algorithm::Spanish,
            Lang::De => Algorithm::German,
        });
        let stem = |w: &str| -> String {
            let s = stemmer.stem(w).into_owned();
            if lang == Lang::En {
                s
            } else {
                fold(&s)
            }
        };
        let mut syn_groups: HashMap<String, Vec<usize>> = HashMap::new();
        let mut n_groups = words.synonyms.len();
        for (gid, group) in words.synonyms.iter().enumerate() {
            for w in group.iter() {
                let s = stem(w);
                let e = syn_groups.entry(s).or_default();
                if !e.contains(&gid) {
                    e.push(gid);
                }
            }
        }
        // Antonym words that are in no synonym group get a singleton group of their own, so
        // antonymy is always a relation between groups.
        let mut group_of = |w: &str, syn_groups: &mut HashMap<String, Vec<usize>>| -> Vec<usize> {
            let s = stem(w);
            let e = syn_groups.entry(s).or_default();
            if e.is_empty() {
                e.push(n_groups);
                n_groups += 1;
            }
            e.clone()
        };
        let mut antonym_groups = HashSet::new();
        for (a, b) in words.antonyms {
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
            lang,
            words,
            stemmer,
            stop: words.stop.iter().copied().collect(),
            negators: words.negators.iter().copied().collect(),
            breaks: words.breaks.iter().copied().collect(),
            gendered: words.gendered.iter().copied().collect(),
            // Given names are the same in every language.
            names: NAMES.iter().copied().collect(),
            fillers: words.fillers.iter().copied().collect(),
            foreign: words.foreign.iter().copied().collect(),
            syn_groups,
            antonym_groups,
        }
    }

    pub(crate) fn stem(&self, w: &str) -> String {
        let s = self.stemmer.stem(w).into_owned();
        if self.lang == Lang::En {
            s
        } else {
            fold(&s)
        }
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
