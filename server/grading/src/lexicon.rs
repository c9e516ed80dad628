//! Hand-written word lists the grader relies on.
//!
//! Everything here is general English (plus a few common technical pairs); nothing is copied from
//! the SemEval data, so the grader does not memorise its development set. Lists are looked up
//! through hash sets built once in [`Lexicon::new`]; nothing ever iterates a hash set, so output
//! order never depends on hashing.

use std::collections::{HashMap, HashSet};

use rust_stemmers::{Algorithm, Stemmer};

/// Function words: carry no content of their own, ignored by alignment.
/// Deliberately *not* listed: negators (handled as polarity), and words that decide correctness
/// in explanations (`same`, `different`, `more`, `less`, `both`, `all`, `only`, `off`, `open`).
pub(crate) const STOPWORDS: &[&str] = &[
    "a", "about", "above", "after", "again", "am", "an", "and", "any", "are", "as", "at", "be",
    "been", "being", "below", "between", "by", "can", "could", "did", "do", "does", "doing",
    "down", "during", "for", "from", "further", "had", "has", "have", "having", "he", "her",
    "here", "hers", "herself", "him", "himself", "his", "how", "i", "if", "in", "into", "is",
    "it", "its", "itself", "just", "me", "my", "myself", "of", "on", "once", "or", "our", "ours",
    "ourselves", "out", "over", "she", "should", "so", "some", "such", "than", "that", "the",
    "their", "theirs", "them", "themselves", "then", "there", "these", "they", "this", "those",
    "through", "to", "too", "under", "until", "up", "very", "was", "we", "were", "what", "when",
    "where", "which", "while", "who", "whom", "why", "will", "with", "would", "you", "your",
    "yours", "yourself", "yourselves", "also", "because", "since", "get", "got", "gets", "let",
    "may", "might", "must", "shall", "yes", "ok", "okay", "well", "oh", "um", "uh", "er", "erm",
    "hmm", "ah", "really", "actually", "basically", "like", "thing", "things", "something",
    "anything", "everything", "way", "whether", "though", "although", "however", "therefore",
    "thus", "hence", "would've", "could've", "should've", "etc", "e.g", "i.e", "person",
    "people", "someone", "somebody", "anyone", "anybody", "everyone", "everybody", "one", "ones",
    "us", "lot", "lots", "kind", "sort", "bit", "quite", "rather", "pretty", "much", "many",
    "because", "cause", "cuz", "coz", "say", "says", "said", "think", "thinks", "thought",
    "guess", "know", "knows", "mean", "means", "yeah", "yep", "answer", "question",
];

/// Words that flip the polarity of the next content word in their clause.
pub(crate) const NEGATORS: &[&str] = &[
    "not", "no", "never", "none", "nothing", "nobody", "neither", "nor", "without", "cannot",
    "nowhere", "hardly", "barely",
];

/// Words that end a negation's scope and separate clauses.
pub(crate) const CLAUSE_BREAKS: &[&str] = &[
    "but", "and", "or", "because", "since", "so", "while", "whereas", "although", "though",
    "which", "that", "when", "if", "then", "however", "therefore",
];

/// Groups of interchangeable words (after stemming). Kept small and general on purpose: a wrong
/// synonym costs more than a missed one.
pub(crate) const SYNONYMS: &[&[&str]] = &[
    &["connected", "attached", "linked", "joined", "hooked", "wired", "connection"],
    &["separated", "disconnected", "isolated", "apart", "detached", "split", "separate"],
    &["gap", "break", "opening", "hole"],
    &["increase", "increases", "rise", "grow", "raise", "higher", "greater", "bigger", "larger", "more"],
    &["decrease", "decreases", "reduce", "drop", "fall", "lower", "smaller", "fewer", "less", "shrink"],
    &["same", "equal", "identical", "equivalent"],
    &["different", "unequal", "differ", "distinct", "difference"],
    &["path", "route", "pathway", "loop", "circuit"],
    &["closed", "complete", "completed", "whole"],
    &["open", "incomplete", "broken"],
    &["fast", "quick", "quickly", "rapid", "speedy"],
    &["slow", "slowly", "sluggish"],
    &["big", "large", "huge"],
    &["small", "little", "tiny"],
    &["start", "begin", "commence"],
    &["stop", "halt", "end", "cease"],
    &["use", "utilize", "utilise", "employ", "leverage"],
    &["show", "indicate", "demonstrate", "reveal"],
    &["cause", "produce", "create", "generate", "make"],
    &["move", "travel", "go", "flow"],
    &["hot", "warm"],
    &["cold", "cool", "chilly"],
    &["light", "lit", "glow", "shine", "bright"],
    &["electricity", "current", "charge", "electrical", "electric"],
    &["battery", "cell"],
    &["bulb", "lamp", "light bulb"],
    &["wire", "cable"],
    &["voltage", "potential"],
    &["measure", "test", "check"],
    &["find", "locate", "identify", "detect", "discover"],
    &["error", "failure", "fault", "bug", "defect"],
    &["latency", "delay", "lag"],
    &["database", "db", "datastore"],
    &["deploy", "deployment", "release", "rollout", "ship"],
    &["rollback", "revert", "undo"],
    &["monitor", "observe", "track", "watch"],
    &["retry", "retries", "reattempt"],
    &["scale", "scaling", "scalable"],
    &["lock", "locking", "mutex"],
    &["queue", "broker"],
    &["cache", "caching", "memoize"],
    &["fix", "resolve", "repair", "solve"],
    &["improve", "enhance", "optimize", "optimise", "speed up"],
    &["dissolve", "dissolves", "dissolved"],
    &["evaporate", "evaporation", "evaporated", "boil"],
    &["heavy", "heavier", "weight", "weigh", "mass"],
    &["hard", "hardness", "hardest", "harder"],
    &["soft", "softer", "softest"],
];

/// Pairs of opposites. Applied to whole synonym groups: any word of one side opposes any word of
/// the other.
pub(crate) const ANTONYMS: &[(&str, &str)] = &[
    ("connected", "separated"),
    ("closed", "open"),
    ("increase", "decrease"),
    ("same", "different"),
    ("positive", "negative"),
    ("on", "off"),
    ("high", "low"),
    ("true", "false"),
    ("fast", "slow"),
    ("hot", "cold"),
    ("big", "small"),
    ("conductor", "insulator"),
    ("attract", "repel"),
    ("absorb", "reflect"),
    ("always", "never"),
    ("before", "after"),
    ("inside", "outside"),
    ("hard", "soft"),
    ("sink", "float"),
    ("success", "failure"),
    ("sync", "async"),
    ("synchronous", "asynchronous"),
    ("stateless", "stateful"),
    ("valid", "invalid"),
    ("possible", "impossible"),
    ("safe", "unsafe"),
    ("accept", "reject"),
    ("allow", "block"),
    ("enable", "disable"),
    ("add", "remove"),
    ("strong", "weak"),
    ("start", "stop"),
    ("parallel", "series"),
    ("solid", "liquid"),
    ("gain", "lose"),
];

/// Gendered words mapped to a neutral form before anything else sees the text, so that the grade
/// cannot depend on them (fairness by construction).
pub(crate) const GENDERED: &[(&str, &str)] = &[
    ("he", "they"), ("she", "they"), ("him", "them"), ("her", "them"), ("his", "their"),
    ("hers", "theirs"), ("himself", "themself"), ("herself", "themself"),
    ("man", "person"), ("woman", "person"), ("men", "people"), ("women", "people"),
    ("boy", "child"), ("girl", "child"), ("boys", "children"), ("girls", "children"),
    ("male", "person"), ("female", "person"), ("males", "people"), ("females", "people"),
    ("guy", "person"), ("gal", "person"), ("guys", "people"), ("gals", "people"),
    ("lady", "person"), ("gentleman", "person"), ("ladies", "people"), ("gentlemen", "people"),
    ("mr", "person"), ("mrs", "person"), ("ms", "person"), ("miss", "person"), ("sir", "person"),
    ("madam", "person"), ("husband", "spouse"), ("wife", "spouse"), ("husbands", "spouses"),
    ("wives", "spouses"), ("father", "parent"), ("mother", "parent"), ("dad", "parent"),
    ("mom", "parent"), ("mum", "parent"), ("fathers", "parents"), ("mothers", "parents"),
    ("son", "child"), ("daughter", "child"), ("sons", "children"), ("daughters", "children"),
    ("brother", "sibling"), ("sister", "sibling"), ("brothers", "siblings"),
    ("sisters", "siblings"), ("uncle", "relative"), ("aunt", "relative"), ("nephew", "relative"),
    ("niece", "relative"), ("grandfather", "grandparent"), ("grandmother", "grandparent"),
    ("boyfriend", "partner"), ("girlfriend", "partner"), ("king", "monarch"),
    ("queen", "monarch"), ("prince", "royal"), ("princess", "royal"), ("actor", "performer"),
    ("actress", "performer"), ("waiter", "server"), ("waitress", "server"),
    ("chairman", "chair"), ("chairwoman", "chair"), ("businessman", "businessperson"),
    ("businesswoman", "businessperson"), ("salesman", "salesperson"),
    ("saleswoman", "salesperson"), ("spokesman", "spokesperson"),
    ("spokeswoman", "spokesperson"), ("masculine", "gendered"), ("feminine", "gendered"),
];

/// Common given names from many cultures; each becomes the neutral token `person`.
/// A name outside this list is graded as an ordinary (unknown) word; see the fairness test.
pub(crate) const NAMES: &[&str] = &[
    "james", "john", "robert", "michael", "william", "david", "richard", "joseph", "thomas",
    "charles", "christopher", "daniel", "matthew", "anthony", "mark", "donald", "steven", "paul",
    "andrew", "joshua", "kevin", "brian", "george", "edward", "ronald", "timothy", "jason",
    "jeffrey", "ryan", "jacob", "gary", "nicholas", "eric", "jonathan", "stephen", "larry",
    "justin", "scott", "brandon", "benjamin", "samuel", "frank", "gregory", "raymond",
    "alexander", "patrick", "jack", "dennis", "jerry", "tyler", "aaron", "jose", "adam",
    "henry", "nathan", "douglas", "zachary", "peter", "kyle", "walter", "ethan", "jeremy",
    "harold", "keith", "christian", "roger", "noah", "gerald", "carl", "terry", "sean", "austin",
    "arthur", "lawrence", "jesse", "dylan", "bryan", "joe", "jordan", "billy", "bruce", "albert",
    "willie", "gabriel", "logan", "alan", "juan", "wayne", "roy", "ralph", "randy", "eugene",
    "vincent", "russell", "elijah", "louis", "bobby", "philip", "johnny", "bob", "tom", "mike",
    "mary", "patricia", "jennifer", "linda", "elizabeth", "barbara", "susan", "jessica", "sarah",
    "karen", "nancy", "lisa", "betty", "margaret", "sandra", "ashley", "kimberly", "emily",
    "donna", "michelle", "dorothy", "carol", "amanda", "melissa", "deborah", "stephanie",
    "rebecca", "sharon", "laura", "cynthia", "kathleen", "amy", "shirley", "angela", "helen",
    "anna", "brenda", "pamela", "nicole", "emma", "samantha", "katherine", "christine", "debra",
    "rachel", "catherine", "carolyn", "janet", "ruth", "maria", "heather", "diane", "virginia",
    "julie", "joyce", "victoria", "olivia", "kelly", "christina", "lauren", "joan", "evelyn",
    "judith", "megan", "cheryl", "andrea", "hannah", "martha", "jacqueline", "frances", "gloria",
    "ann", "teresa", "kathryn", "sara", "janice", "jean", "alice", "madison", "doris", "abigail",
    "julia", "judy", "grace", "denise", "amber", "marilyn", "beverly", "danielle", "theresa",
    "sophia", "marie", "diana", "brittany", "natalie", "isabella", "charlotte", "rose", "alexis",
    "kayla", "alex", "sam", "chris", "pat", "taylor", "casey", "jamie", "morgan", "riley",
    "mohammed", "muhammad", "ahmed", "ali", "omar", "hassan", "hussein", "fatima", "aisha",
    "zainab", "mariam", "yusuf", "ibrahim", "khalid", "layla", "noor", "amir", "leila",
    "wei", "li", "ming", "jun", "hui", "yan", "xiao", "lei", "hao", "chen", "mei", "ling",
    "hiroshi", "takashi", "yuki", "haruto", "sakura", "yui", "kenji", "akira", "minjun",
    "jiwoo", "seojun", "jisoo", "priya", "ananya", "aarav", "arjun", "rahul", "raj", "vikram",
    "deepika", "sanjay", "anil", "sunita", "kavya", "rohan", "neha", "pooja", "amit", "ravi",
    "lakshmi", "krishna", "kwame", "kofi", "ama", "abena", "chidi", "ngozi", "oluwaseun",
    "adebayo", "amara", "thabo", "zanele", "tendai", "wanjiru", "juma", "fatou", "mamadou",
    "aminata", "carlos", "luis", "miguel", "jorge", "pedro", "alejandro", "diego", "sofia",
    "lucia", "valentina", "camila", "mateo", "santiago", "isabel", "carmen", "rosa", "ana",
    "javier", "pablo", "elena", "ivan", "dmitri", "olga", "natasha", "sergei", "anastasia",
    "oleksandr", "katarzyna", "piotr", "jan", "lars", "sven", "ingrid", "astrid", "hans",
    "klaus", "greta", "lukas", "leon", "mia", "lena", "pierre", "jean-pierre", "claire",
    "camille", "louise", "giulia", "marco", "giuseppe", "francesca", "luca", "chiara",
    "mehmet", "ayse", "emre", "elif", "yosef", "david", "noa", "tamar", "avi", "sipho",
];

/// Hesitation fillers counted by the language estimate (single tokens).
pub(crate) const FILLERS: &[&str] = &["um", "uh", "er", "erm", "hmm", "ah", "uhm", "mm", "eh"];

/// Function words of other languages written in Latin script: a cheap "is this English?" test.
pub(crate) const FOREIGN_FUNCTION_WORDS: &[&str] = &[
    "der", "die", "das", "und", "ist", "nicht", "mit", "ein", "eine", "ich", "sie", "wir", "auf",
    "el", "la", "los", "las", "que", "es", "y", "en", "un", "una", "por", "para", "con", "del",
    "le", "les", "des", "est", "et", "une", "pas", "je", "nous", "vous", "dans", "pour", "avec",
    "il", "di", "che", "non", "sono", "della", "het", "een", "niet", "ik", "och", "att", "jag",
    "och", "ett", "ne", "da", "um", "sem", "não", "com", "uma", "os", "também",
];

/// Phrases that mean "I do not know"; graded as such rather than as content.
pub(crate) const DONT_KNOW: &[&str] = &[
    "i don't know", "i dont know", "i do not know", "dont know", "don't know", "no idea",
    "not sure", "idk", "dunno", "no clue", "i have no idea", "i'm not sure",
];

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
