//! What the words say about a turn: how a (partial) transcript ends, whether it is only a
//! backchannel, whether it opened a list it has not finished, and what kind of answer the
//! interviewer's question asks for. Pure functions over text, in the interview's
//! [`Language`]: English here, Spanish and German word lists in `words_es_de.rs`.

/// The language the candidate speaks (the interview's language).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Language {
    #[default]
    En,
    Es,
    De,
}

impl Language {
    /// From a BCP 47 tag ("es", "de-AT"); anything else is English.
    pub fn from_tag(tag: &str) -> Self {
        let primary = tag
            .split(['-', '_'])
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        match primary.as_str() {
            "es" => Language::Es,
            "de" => Language::De,
            _ => Language::En,
        }
    }

    /// The tag Whisper and the voices know it by ("en", "es", "de").
    pub fn tag(self) -> &'static str {
        match self {
            Language::En => "en",
            Language::Es => "es",
            Language::De => "de",
        }
    }

    pub(crate) fn words(self) -> &'static Words {
        match self {
            Language::En => &EN,
            Language::Es => &super::words_es_de::ES,
            Language::De => &super::words_es_de::DE,
        }
    }
}

/// One language's word lists for the rules below.
pub(crate) struct Words {
    pub unfinished: &'static [&'static str],
    pub open: &'static [&'static str],
    pub backchannel: &'static [&'static str],
    pub interrupt: &'static [&'static str],
    pub list_openers: &'static [&'static str],
    /// Words that open a list only where a clause begins with them ("First, …").
    pub list_first: &'static [&'static str],
    pub list_continuers: &'static [&'static str],
    pub subordinators: &'static [&'static str],
    /// Finite verbs (English adds its "-ed" and contraction rules; other languages rely on
    /// the list, so [`lacks_verb_in`] never fires for them).
    pub verbs: &'static [&'static str],
    pub open_cues: &'static [&'static str],
    pub closed_starts: &'static [&'static str],
}

const EN: Words = Words {
    unfinished: UNFINISHED_WORDS,
    open: OPEN_WORDS,
    backchannel: BACKCHANNEL_WORDS,
    interrupt: INTERRUPT_WORDS,
    list_openers: LIST_OPENERS,
    list_first: &["first"],
    list_continuers: LIST_CONTINUERS,
    subordinators: SUBORDINATORS,
    verbs: VERBS,
    open_cues: OPEN_CUES,
    closed_starts: CLOSED_STARTS,
};

/// How a partial transcript ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TextEnding {
    /// No words.
    #[default]
    Empty,
    /// A complete sentence.
    Complete,
    /// Mid-clause: filler, connective, comma, ellipsis, dash.
    Unfinished,
    /// No hint either way.
    Neutral,
}

/// Words after which a sentence cannot be over, even if the hypothesis closes it with a period
/// (Whisper often ends a partial with "." when it stopped on "because"). Whisper drops most
/// fillers, so connectives, articles and prepositions matter more than "um".
const UNFINISHED_WORDS: &[&str] = &[
    "um",
    "umm",
    "uh",
    "uhh",
    "uhm",
    "erm",
    "er",
    "ah",
    "and",
    "but",
    "or",
    "so",
    "because",
    "cause",
    "cuz",
    "than",
    "the",
    "a",
    "an",
    "to",
    "of",
    "with",
    "for",
    "from",
    "into",
    "by",
    "if",
    "unless",
    "whether",
    "although",
    "my",
    "our",
    "your",
    "their",
    "his",
    "its",
    "we're",
    "i'm",
    "it's",
    "there's",
    "let's",
    "basically",
    "like",
];

/// Words that suggest more is coming when no punctuation says otherwise ("which", "is",
/// "would"), but that can end a sentence ("could you repeat that?").
const OPEN_WORDS: &[&str] = &[
    "then", "that", "which", "who", "whom", "whose", "where", "when", "while", "though", "in",
    "on", "at", "about", "as", "is", "are", "was", "were", "be", "been", "being", "will", "would",
    "can", "could", "should", "might", "must", "shall", "have", "has", "had", "do", "does", "did",
    "her", "this", "these", "those", "we", "i", "they", "he", "she", "also", "plus", "very",
    "more", "most", "not", "just", "actually", "maybe", "first", "second", "hmm", "mm",
];

/// Utterances that acknowledge without taking the turn.
pub(crate) const BACKCHANNEL_WORDS: &[&str] = &[
    "mm",
    "mmm",
    "hmm",
    "mhm",
    "mm-hmm",
    "mmhmm",
    "uh-huh",
    "uhhuh",
    "uh",
    "huh",
    "yeah",
    "yes",
    "yep",
    "yup",
    "ok",
    "okay",
    "right",
    "sure",
    "alright",
    "i",
    "see",
    "got",
    "it",
    "cool",
    "great",
    "nice",
    "fine",
    "good",
    "true",
    "exactly",
    "oh",
    "ah",
    "aha",
    "wow",
    "indeed",
    "totally",
    "absolutely",
    "definitely",
    "makes",
    "sense",
    "thanks",
    "thank",
    "you",
];

/// Single words that interrupt on their own ("wait", "sorry?").
pub(crate) const INTERRUPT_WORDS: &[&str] = &[
    "wait", "stop", "sorry", "pardon", "excuse", "hold", "repeat",
];

pub(crate) fn words(text: &str) -> Vec<String> {
    text.split(|c: char| c.is_whitespace())
        .map(|w| {
            w.trim_matches(|c: char| !c.is_alphanumeric() && c != '\'' && c != '-')
                .trim_matches('-')
                .to_lowercase()
        })
        .filter(|w| !w.is_empty())
        .collect()
}

/// Classifies how a (partial) English transcript ends.
pub fn classify_ending(text: &str) -> TextEnding {
    classify_ending_in(text, Language::En)
}

/// Classifies how a (partial) transcript in `lang` ends.
pub fn classify_ending_in(text: &str, lang: Language) -> TextEnding {
    let list = lang.words();
    let trimmed = text.trim_end();
    let ws = words(trimmed);
    let Some(last) = ws.last() else {
        return TextEnding::Empty;
    };
    if trimmed.ends_with("...")
        || trimmed.ends_with('…')
        || trimmed.ends_with(',')
        || trimmed.ends_with('-')
        || trimmed.ends_with('—')
        || trimmed.ends_with(':')
        || trimmed.ends_with(';')
    {
        return TextEnding::Unfinished;
    }
    // The word decides before the punctuation: Whisper often closes a partial hypothesis with a
    // period even when it stopped on "because".
    if list.unfinished.contains(&last.as_str()) {
        return TextEnding::Unfinished;
    }
    if trimmed.ends_with('.') || trimmed.ends_with('?') || trimmed.ends_with('!') {
        return TextEnding::Complete;
    }
    if list.open.contains(&last.as_str()) {
        return TextEnding::Unfinished;
    }
    TextEnding::Neutral
}

/// True when every word is a backchannel ("mm-hmm", "yeah okay", "I see").
pub fn is_backchannel(text: &str) -> bool {
    is_backchannel_in(text, Language::En)
}

/// [`is_backchannel`] in `lang` ("vale, claro", "ja genau").
pub fn is_backchannel_in(text: &str, lang: Language) -> bool {
    let ws = words(text);
    let list = lang.words().backchannel;
    !ws.is_empty() && ws.len() <= 4 && ws.iter().all(|w| list.contains(&w.as_str()))
}

/// Words that open an enumeration the speaker owes the rest of ("first, …", "two things").
const LIST_OPENERS: &[&str] = &[
    "firstly",
    "first of all",
    "first off",
    "two things",
    "three things",
    "a few things",
    "couple of things",
    "two reasons",
    "three reasons",
    "two ways",
    "three ways",
    "number one",
    "two parts",
    "three parts",
    "several things",
];

/// Words that go on with (or close) an enumeration.
const LIST_CONTINUERS: &[&str] = &[
    "second",
    "secondly",
    "then",
    "next",
    "finally",
    "lastly",
    "another",
    "also",
    "third",
    "thirdly",
    "number two",
    "the other",
];

/// True when the turn opened an enumeration ("first, we measured…", "there are two things")
/// and has not yet gone on to a second item: the speaker is probably not done, whatever
/// the punctuation says.
pub fn opened_list(text: &str) -> bool {
    opened_list_in(text, Language::En)
}

/// [`opened_list`] in `lang`.
pub fn opened_list_in(text: &str, lang: Language) -> bool {
    let lists = lang.words();
    let lower = format!(" {} ", words(text).join(" "));
    let has = |list: &[&str]| list.iter().any(|w| lower.contains(&format!(" {w} ")));
    // "First, …" opens a list; "the first book" does not: a bare "first" counts only where a
    // clause begins with it.
    let first_leads = text.split(['.', ',', ';', '?', '!', ':']).any(|clause| {
        words(clause)
            .first()
            .is_some_and(|w| lists.list_first.contains(&w.as_str()))
    });
    (has(lists.list_openers) || first_leads) && !has(lists.list_continuers)
}

/// Finite verbs and auxiliaries common in spoken answers (besides any word in "-ed" and any
/// contraction): a clause without one has not said what its subject does yet.
const VERBS: &[&str] = &[
    "is",
    "are",
    "was",
    "were",
    "be",
    "am",
    "been",
    "being",
    "have",
    "has",
    "had",
    "do",
    "does",
    "did",
    "will",
    "would",
    "can",
    "could",
    "should",
    "shall",
    "may",
    "might",
    "must",
    "get",
    "gets",
    "got",
    "go",
    "goes",
    "went",
    "make",
    "makes",
    "made",
    "take",
    "takes",
    "took",
    "use",
    "uses",
    "think",
    "thinks",
    "thought",
    "know",
    "knows",
    "knew",
    "see",
    "saw",
    "say",
    "says",
    "said",
    "need",
    "needs",
    "want",
    "wants",
    "work",
    "works",
    "run",
    "runs",
    "ran",
    "build",
    "builds",
    "built",
    "write",
    "writes",
    "wrote",
    "find",
    "finds",
    "found",
    "give",
    "gives",
    "gave",
    "keep",
    "keeps",
    "kept",
    "let",
    "lets",
    "put",
    "puts",
    "set",
    "sets",
    "come",
    "comes",
    "came",
    "mean",
    "means",
    "meant",
    "feel",
    "feels",
    "felt",
    "become",
    "became",
    "begin",
    "began",
    "show",
    "shows",
    "try",
    "tries",
    "leave",
    "left",
    "call",
    "calls",
    "lead",
    "led",
    "bring",
    "brought",
    "seem",
    "seems",
    "help",
    "helps",
    "start",
    "starts",
    "move",
    "moves",
    "like",
    "likes",
    "prefer",
    "prefers",
    "depend",
    "depends",
    "differ",
    "differs",
    "consist",
    "consists",
    "follow",
    "follows",
    "look",
    "looks",
    "handle",
    "handles",
    "cut",
    "cuts",
    "hit",
    "hits",
    "spend",
    "spent",
    "lose",
    "lost",
    "pay",
    "paid",
    "sell",
    "sold",
    "send",
    "sent",
    "tell",
    "told",
    "read",
    "grow",
    "grew",
    "hold",
    "held",
    "stand",
    "stood",
    "understand",
    "understood",
    "choose",
    "chose",
    "rely",
    "relies",
    "agree",
    "love",
    "hate",
    "guess",
    "believe",
    "focus",
    "learn",
    "learnt",
    "own",
    "lack",
    "yes",
    "no",
    "yeah",
    "nope",
];

/// Subordinating words that open a clause which needs a main clause after it.
const SUBORDINATORS: &[&str] = &[
    "that", "which", "whereas", "although", "though", "while", "unless", "whenever", "whether",
];

/// The last sentence of `text`: after the last `.`, `?` or `!` that a capitalised word follows
/// (Whisper also puts periods inside sentences, "…may be considered. as the invention…").
fn last_sentence(text: &str) -> &str {
    let body = text.trim_end().trim_end_matches(['.', '?', '!']);
    let mut start = 0;
    for (i, c) in body.char_indices() {
        if matches!(c, '.' | '?' | '!') {
            let rest = body[i + 1..].trim_start();
            if rest.chars().next().is_some_and(char::is_uppercase) {
                start = i + 1;
            }
        }
    }
    &body[start..]
}

/// True when the last sentence is long (`min_words` or more) and has no finite verb: a subject
/// still waiting for its predicate ("the invention of movable metal letters in the middle of
/// the fifteenth century…"), whatever period Whisper put after it.
pub fn lacks_verb(text: &str, min_words: usize) -> bool {
    lacks_verb_in(text, min_words, Language::En)
}

/// [`lacks_verb`] in `lang`: English only; Spanish and German inflect too many verb forms for
/// a list to recognise, so there it never says "no verb".
pub fn lacks_verb_in(text: &str, min_words: usize, lang: Language) -> bool {
    if lang != Language::En {
        return false;
    }
    let ws = words(last_sentence(text));
    // A subject pronoun with a word after it ("we split…", "they shard…") has its verb: the
    // list below cannot name every verb, but speech rarely puts anything else there.
    let pronoun_then_word = ws.iter().rev().skip(1).any(|w| {
        matches!(
            w.as_str(),
            "i" | "we" | "you" | "they" | "he" | "she" | "it" | "who"
        )
    });
    ws.len() >= min_words
        && !pronoun_then_word
        && !ws.iter().any(|w| {
            VERBS.contains(&w.as_str())
                || (w.len() > 3 && w.ends_with("ed"))
                || w.ends_with("n't")
                || w.ends_with("'s")
                || w.ends_with("'re")
                || w.ends_with("'ve")
                || w.ends_with("'ll")
                || w.ends_with("'d")
                || w.ends_with("'m")
        })
}

/// True when the last sentence is a subordinate clause with no main clause yet: it opens with
/// "that", "which", "although"… and no comma has come to close it ("that the forms of printed
/// letters should follow more or less closely those of the written…").
pub fn dangling_clause(text: &str) -> bool {
    dangling_clause_in(text, Language::En)
}

/// [`dangling_clause`] in `lang` ("porque el servicio…", "weil wir die Datenbank…").
pub fn dangling_clause_in(text: &str, lang: Language) -> bool {
    let lists = lang.words();
    let sentence = last_sentence(text);
    let ws = words(sentence);
    // "That was…", "which is why…": a demonstrative or a relative that already has its verb.
    let verb_next = ws.get(1).is_some_and(|w| lists.verbs.contains(&w.as_str()));
    // A German subordinate clause puts its verb last: one that ends in a listed verb
    // ("weil wir das System umgebaut haben") is complete as far as this rule can tell.
    let verb_last =
        lang == Language::De && ws.last().is_some_and(|w| lists.verbs.contains(&w.as_str()));
    ws.len() >= 4
        && !verb_last
        && ws
            .first()
            .is_some_and(|w| lists.subordinators.contains(&w.as_str()))
        && !verb_next
        && !sentence.contains(',')
}

/// What kind of answer a question asks for: how much patience the candidate's pauses deserve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum QuestionKind {
    /// Nothing asked yet, or not recognisably either kind.
    #[default]
    Unknown,
    /// A yes/no, a number, a name, a date: the answer is short and its end is clear.
    Closed,
    /// A story or an explanation ("tell me about a time…", "how would you…"): the candidate
    /// thinks aloud and pauses mid-sentence.
    Open,
}

const OPEN_CUES: &[&str] = &[
    "tell me about",
    "tell me how",
    "tell me what",
    "describe",
    "walk me through",
    "walk us through",
    "explain",
    "talk me through",
    "talk about",
    "give me an example",
    "give an example",
    "how would you",
    "how did you",
    "how do you",
    "how have you",
    "what would you do",
    "what did you",
    "what was the",
    "what were the",
    "why ",
    "say more",
    "tell me more",
    "elaborate",
    "what happened",
    "in what way",
];

const CLOSED_STARTS: &[&str] = &[
    "do you",
    "did you",
    "are you",
    "were you",
    "is it",
    "is that",
    "is there",
    "have you",
    "has ",
    "can you confirm",
    "could you confirm",
    "will you",
    "would you be",
    "how many",
    "how much",
    "how long",
    "how old",
    "how soon",
    "what is your",
    "what's your",
    "what is the name",
    "which ",
    "when can",
    "when could",
    "when would you be able",
    "where are you",
    "where do you live",
];

/// Classifies the interviewer's utterance by its last question (the words after the last
/// sentence end before the final `?`, so "Thanks. Next: how many years…?" is closed).
pub fn classify_question(utterance: &str) -> QuestionKind {
    classify_question_in(utterance, Language::En)
}

/// [`classify_question`] in `lang` (Spanish "¿" and "¡" are punctuation too).
pub fn classify_question_in(utterance: &str, lang: Language) -> QuestionKind {
    let lists = lang.words();
    let text = utterance.trim();
    if text.is_empty() {
        return QuestionKind::Unknown;
    }
    // The last sentence that asks something (or the last sentence).
    let body =
        text.trim_end_matches(|c: char| c == '?' || c == '.' || c == '!' || c.is_whitespace());
    let last = body
        .rsplit(['.', '?', '!', ':'])
        .find(|s| !s.trim().is_empty())
        .unwrap_or(body);
    let lower = format!("{} ", words(last).join(" "));
    if lists.open_cues.iter().any(|c| lower.contains(c)) {
        return QuestionKind::Open;
    }
    // "To start, how many years…": the question may follow a lead-in clause.
    let closed = last.split(',').any(|clause| {
        let clause = format!("{} ", words(clause).join(" "));
        lists.closed_starts.iter().any(|c| clause.starts_with(c))
    });
    if closed {
        return QuestionKind::Closed;
    }
    QuestionKind::Unknown
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verbless_subjects_and_dangling_clauses_are_not_finished_sentences() {
        assert!(lacks_verb(
            "The invention of movable metal letters in the middle of the 15th century.",
            5
        ));
        assert!(lacks_verb("And so my fellow Americans.", 5));
        assert!(!lacks_verb("We moved the billing service to Kafka.", 5));
        assert!(!lacks_verb("It's the index on the orders table.", 5));
        assert!(!lacks_verb("I think PostgreSQL.", 5), "short");
        assert!(
            !lacks_verb("About five years.", 5),
            "a short answer needs no verb"
        );
        // Only the last sentence counts.
        assert!(!lacks_verb(
            "The first service. Then we split the monolith.",
            5
        ));
        assert!(dangling_clause(
            "that the forms of printed letters should follow more or less closely those of the written."
        ));
        assert!(
            !dangling_clause("That was the hardest part of the migration."),
            "that as a subject"
        );
        assert!(!dangling_clause("Although it was slow, we shipped it."));
        assert!(!dangling_clause("We shipped it."));
    }

    #[test]
    fn lists_opened_and_not_continued_are_unfinished() {
        assert!(opened_list("First, we measured the p99 latency."));
        assert!(opened_list("So, first of all the database."));
        assert!(
            !opened_list("It is of the first importance."),
            "an ordinal, not a list"
        );
        assert!(!opened_list(
            "The first books were printed in black letter."
        ));
        assert!(opened_list("There are two things I would look at."));
        assert!(!opened_list(
            "First we measured it, then we fixed the index."
        ));
        assert!(!opened_list("We fixed the index."));
        // A word inside another word is not an opener.
        assert!(!opened_list("Our thirst for speed."));
    }

    #[test]
    fn spanish_and_german_endings_lists_and_questions() {
        use Language::{De, Es};
        use QuestionKind::*;
        // Whisper's period after a dangling connective or article does not finish a sentence.
        assert_eq!(
            classify_ending_in("Primero medimos la latencia y.", Es),
            TextEnding::Unfinished
        );
        assert_eq!(
            classify_ending_in("Optimizamos el índice de la.", Es),
            TextEnding::Unfinished
        );
        assert_eq!(
            classify_ending_in("Optimizamos el índice de la tabla.", Es),
            TextEnding::Complete
        );
        assert_eq!(
            classify_ending_in("Wir haben zuerst die Metriken angeschaut, weil.", De),
            TextEnding::Unfinished
        );
        assert_eq!(
            classify_ending_in("Wir haben den Index neu gebaut.", De),
            TextEnding::Complete
        );
        // The English lists do not leak into other languages: "the" is a German word ending
        // nothing, "y" is a Spanish one that ends nothing either.
        assert_eq!(classify_ending_in("Es war gut.", De), TextEnding::Complete);
        assert!(is_backchannel_in("Vale, claro.", Es));
        assert!(is_backchannel_in("Ja genau.", De));
        assert!(!is_backchannel_in("Espere, tengo una pregunta", Es));
        assert!(opened_list_in("Primero, medimos la latencia.", Es));
        assert!(!opened_list_in(
            "Primero medimos la latencia y luego arreglamos el índice.",
            Es
        ));
        assert!(opened_list_in("Da gibt es zwei Dinge.", De));
        assert!(dangling_clause_in(
            "aunque el servicio de facturación no escalaba bien con tantos clientes.",
            Es
        ));
        assert!(dangling_clause_in(
            "obwohl der Dienst für die Abrechnung bei so vielen Kunden.",
            De
        ));
        assert!(!dangling_clause_in(
            "obwohl wir den Dienst umgebaut haben.",
            De
        ));
        assert!(!lacks_verb_in(
            "La invención de las letras de metal móviles.",
            5,
            Es
        ));
        for (q, lang, want) in [
            ("Cuénteme de una vez que resolvió un incidente.", Es, Open),
            ("¿Cómo diseñaría un limitador de peticiones?", Es, Open),
            (
                "Para empezar, ¿cuántos años de experiencia tiene?",
                Es,
                Closed,
            ),
            (
                "Erzählen Sie mir von einem Vorfall in Produktion.",
                De,
                Open,
            ),
            ("Wie viele Jahre Erfahrung haben Sie?", De, Closed),
            ("Ab wann könnten Sie anfangen?", De, Closed),
        ] {
            assert_eq!(classify_question_in(q, lang), want, "{q}");
        }
        assert_eq!(Language::from_tag("es-MX"), Es);
        assert_eq!(Language::from_tag("DE"), De);
        assert_eq!(Language::from_tag("fr"), Language::En);
    }

    #[test]
    fn questions_are_classified_by_their_last_question() {
        use QuestionKind::*;
        for (q, want) in [
            (
                "Tell me about a time you debugged a production issue.",
                Open,
            ),
            (
                "Thanks. Next question: how would you design a rate limiter?",
                Open,
            ),
            ("Can you describe your last project?", Open),
            ("Do you have the right to work in Germany?", Closed),
            (
                "Great. How many years have you worked with PostgreSQL?",
                Closed,
            ),
            ("What's your notice period?", Closed),
            (
                "To start, how many years of professional backend development experience do you have?",
                Closed,
            ),
            ("If you were offered the role, how soon could you start?", Closed),
            ("Why did you choose Rust?", Open),
            ("Hello, welcome to the interview.", Unknown),
            ("", Unknown),
        ] {
            assert_eq!(classify_question(q), want, "{q}");
        }
    }
}
