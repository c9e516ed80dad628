//! Confidently wrong technical claims: positive evidence against an answer, whatever right
//! keywords surround it. Each claim is a few word groups that must appear in order in one clause,
//! each within a few words of the previous (any word of each group; `*` ends a prefix). A clause
//! that hedges or corrects the claim ("a common myth is…", "MD5 is not encryption"), or names
//! what makes it true ("Kafka's transactions give exactly-once"), is not the claim. Conservative on purpose: a
//! red flag a transcript contradicts costs more trust than a missed one.

use crate::text::Analysed;
use crate::{Lang, RedFlagEvidence, TimedWord};

use super::evidence::make_span;

/// One wrong claim and what is wrong with it.
pub(super) struct Claim {
    pub(super) flag: &'static str,
    pub(super) groups: &'static [&'static [&'static str]],
    /// Most words between one group's word and the next group's.
    pub(super) window: usize,
    /// At least one of these anywhere in the clause (empty: no condition).
    pub(super) also: &'static [&'static str],
    /// Words that make the clause something else (the right mechanism, the other protocol).
    pub(super) unless: &'static [&'static str],
    /// The claim itself is a negation ("indexes never slow writes"): one negation word belongs
    /// to it, a second one undoes it.
    pub(super) negative: bool,
}

const CLAIMS: &[Claim] = &[
    Claim {
        flag: "Says a hash (MD5/SHA) encrypts data: hashing is one-way, not encryption",
        groups: &[&["md5", "sha1", "sha", "sha256"], &["encrypt*", "decrypt*"]],
        window: 2,
        also: &[],
        unless: &["aes", "rsa", "tls", "ssl", "chacha", "kms"],
        negative: false,
    },
    Claim {
        flag: "Calls MD5/SHA-1 safe for storing passwords: they are fast hashes, made for brute force",
        groups: &[
            &["md5", "sha1"],
            &["safe", "secure", "fine", "good", "enough", "sufficient"],
            &["password*"],
        ],
        window: 4,
        also: &[],
        unless: &["bcrypt", "scrypt", "argon2", "argon", "pbkdf2"],
        negative: false,
    },
    Claim {
        flag: "Says Base64 encrypts or secures data: it is an encoding anyone can reverse",
        groups: &[&["base64"], &["encrypt*", "secure*", "protect*"]],
        window: 3,
        also: &[],
        unless: &[],
        negative: false,
    },
    Claim {
        flag: "Says indexes do not slow down writes: every index is updated on each write",
        groups: &[
            &["index", "indexes", "indices", "indexing"],
            &["never", "not", "no", "don't", "doesn't", "dont", "doesnt", "zero"],
            &["slow*", "affect*", "cost*", "impact*", "hurt*", "overhead", "penalty"],
            &["write*", "insert*", "update*"],
        ],
        window: 3,
        also: &[],
        unless: &[],
        negative: true,
    },
    Claim {
        flag: "Says Kafka gives exactly-once delivery for free: it needs idempotent producers, transactions and consumer-side care",
        groups: &[&["kafka"], &["exactly"], &["once"]],
        window: 6,
        also: &["free", "automatic*", "default", "box", "always", "guarantee*", "built"],
        unless: &["idempotent", "idempotence", "transaction*", "dedup*", "configure*"],
        negative: false,
    },
    Claim {
        flag: "Says UDP guarantees delivery or order: it guarantees neither",
        groups: &[
            &["udp"],
            &["guarantee*", "reliabl*", "ensures"],
            &["deliver*", "order*", "arriv*"],
        ],
        window: 4,
        also: &[],
        unless: &["tcp", "quic", "ack", "acks", "retransmit*"],
        negative: false,
    },
    Claim {
        flag: "Calls a bigger machine horizontal scaling: that is vertical scaling",
        groups: &[
            &["horizontal", "horizontally"],
            &["bigger", "larger", "stronger", "beefier"],
            &["machine*", "server*", "instance*", "box*", "cpu*", "ram", "memory"],
        ],
        window: 5,
        also: &[],
        unless: &["vertical", "vertically"],
        negative: false,
    },
];

/// Words that undo or distance a claim in the same sentence.
const NEGATIONS: &[&str] = &[
    "not", "no", "never", "don't", "doesn't", "dont", "doesnt", "isn't", "isnt", "aren't", "arent",
    "can't", "cant", "cannot", "won't", "wont", "nor", "zero",
];
const DISTANCING: &[&str] = &[
    "myth",
    "misconception",
    "wrong",
    "wrongly",
    "mistake",
    "mistaken",
    "mistakenly",
    "incorrect",
    "incorrectly",
    "misunderstanding",
    "confuse",
    "confused",
    "confusing",
    "instead",
    "rather",
    "if",
    "whether",
];

fn matches(pattern: &str, word: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => word.starts_with(prefix),
        None => pattern == word,
    }
}

/// Clauses end at sentence punctuation and at contrast words ("TCP guarantees order, but UDP…").
const CLAUSE_BREAKS: &[&str] = &["but", "while", "whereas", "although", "though", "unlike"];

/// Whether the groups occur in order, each within `window` words of the previous one.
fn chain(words: &[&str], groups: &[&[&str]], window: usize) -> bool {
    fn from(words: &[&str], groups: &[&[&str]], window: usize, after: usize) -> bool {
        let Some((group, rest)) = groups.split_first() else {
            return true;
        };
        let last = (after + window + 1).min(words.len());
        (after + 1..last)
            .any(|i| group.iter().any(|p| matches(p, words[i])) && from(words, rest, window, i))
    }
    let Some((first, rest)) = groups.split_first() else {
        return false;
    };
    (0..words.len())
        .any(|i| first.iter().any(|p| matches(p, words[i])) && from(words, rest, window, i))
}

/// The claims and clause words of one language.
pub(super) struct Claims {
    pub(super) claims: &'static [Claim],
    pub(super) negations: &'static [&'static str],
    pub(super) distancing: &'static [&'static str],
    pub(super) breaks: &'static [&'static str],
}

const EN: Claims = Claims {
    claims: CLAIMS,
    negations: NEGATIONS,
    distancing: DISTANCING,
    breaks: CLAUSE_BREAKS,
};

/// The wrong claims an English answer makes, each raised with the sentence that makes it.
pub(super) fn find(a: &Analysed, timed: &[TimedWord]) -> Vec<RedFlagEvidence> {
    find_with(&EN, a, timed)
}

/// The wrong claims an answer makes in its own language (Spanish and German have the same
/// claims, in their words; the flags stay in English like every other reason).
pub(super) fn find_in(a: &Analysed, timed: &[TimedWord]) -> Vec<RedFlagEvidence> {
    match a.lang {
        Lang::En => find_with(&EN, a, timed),
        Lang::Es => find_with(&super::claims_es_de::ES, a, timed),
        Lang::De => find_with(&super::claims_es_de::DE, a, timed),
    }
}

fn find_with(lists: &Claims, a: &Analysed, timed: &[TimedWord]) -> Vec<RedFlagEvidence> {
    let text = a.text.as_str();
    let mut out: Vec<RedFlagEvidence> = Vec::new();
    let mut start = 0;
    for (i, c) in text
        .char_indices()
        .chain(std::iter::once((text.len(), '.')))
    {
        if !matches!(c, '.' | '?' | '!' | ';') {
            continue;
        }
        let end = (i + c.len_utf8()).min(text.len());
        let (sentence_start, sentence) = (start, &text[start..end]);
        start = end;
        let lower = sentence.to_lowercase().replace(['’', '‘'], "'");
        let all_words: Vec<&str> = lower
            .split(|ch: char| !ch.is_alphanumeric() && ch != '\'')
            .map(|w| w.trim_matches('\''))
            .filter(|w| !w.is_empty())
            .collect();
        if all_words.iter().any(|w| lists.distancing.contains(w)) {
            continue;
        }
        for clause in all_words.split(|w| lists.breaks.contains(w)) {
            let negations = clause
                .iter()
                .filter(|w| lists.negations.contains(w))
                .count();
            for claim in lists.claims {
                if negations > usize::from(claim.negative)
                    || clause
                        .iter()
                        .any(|w| claim.unless.iter().any(|p| matches(p, w)))
                    || !chain(clause, claim.groups, claim.window)
                    || !(claim.also.is_empty()
                        || clause
                            .iter()
                            .any(|w| claim.also.iter().any(|p| matches(p, w))))
                    || out.iter().any(|f| f.flag == claim.flag)
                {
                    continue;
                }
                // The quote is the whole sentence: the claim in its context.
                let quote_start = sentence_start + (sentence.len() - sentence.trim_start().len());
                let quote_end = sentence_start + sentence.trim_end().len();
                out.push(RedFlagEvidence {
                    flag: claim.flag.to_string(),
                    raised: true,
                    why: crate::WRONG_CLAIM.into(),
                    spans: vec![make_span(a, quote_start, quote_end, timed)],
                    not_shown: false,
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(answer: &str) -> Vec<String> {
        let a = crate::text::analyse(&crate::lexicon::Lexicon::new(), answer);
        find(&a, &[]).into_iter().map(|f| f.flag).collect()
    }

    #[test]
    fn wrong_claims_are_raised_with_their_sentence() {
        let a = crate::text::analyse(
            &crate::lexicon::Lexicon::new(),
            "We store passwords safely. MD5 encrypts them so nobody can read them.",
        );
        let f = find(&a, &[]);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert!(f[0].raised);
        assert_eq!(
            f[0].spans[0].quote,
            "MD5 encrypts them so nobody can read them."
        );
        for wrong in [
            "Indexes never slow down writes, so I add them everywhere.",
            "Kafka gives you exactly once delivery for free.",
            "With Kafka you always get exactly-once, out of the box.",
            "UDP guarantees delivery, so we used it for payments.",
            "Horizontal scaling means buying a bigger machine.",
            "MD5 is secure enough for passwords.",
            "Base64 encrypts the token.",
        ] {
            assert_eq!(flags(wrong).len(), 1, "{wrong}");
        }
    }

    #[test]
    fn right_claims_corrections_and_contrasts_are_not_flagged() {
        for right in [
            "MD5 is a hash, it does not encrypt anything.",
            "We encrypt data at rest with AES and store a SHA-256 checksum.",
            "We hash passwords with bcrypt and encrypt backups.",
            "Adding an index doesn't slow reads but slows writes.",
            "Every index slows down writes a little.",
            "Kafka can give exactly-once with idempotent producers and transactions.",
            "Kafka does not give you exactly once for free.",
            "TCP guarantees delivery and order, while UDP does not.",
            "UDP is fast but does not guarantee delivery.",
            "We scaled horizontally instead of buying a bigger machine.",
            "Vertical scaling is a bigger machine; horizontal scaling adds machines.",
            "A common myth is that MD5 encrypts passwords.",
            "Base64 is only an encoding, it does not encrypt.",
        ] {
            assert!(flags(right).is_empty(), "{right}: {:?}", flags(right));
        }
    }
}
