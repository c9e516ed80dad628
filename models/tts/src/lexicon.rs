//! A small pronunciation lexicon for the jargon of technical interviews.
//!
//! Both engines read text through espeak-ng's English rules, which get common tech terms wrong
//! ("idempotency" as "IDM-potency", "Kubernetes" as "cube-er-neets", "Redis" as "re-DEEZ"). The
//! measured cost was a few points of round-trip WER on interview questions, and a wrong word from
//! the interviewer is worse than a slow one. The fix is a respelling in plain English letters,
//! applied before phonemization, so it helps espeak and Piper alike and needs no IPA upkeep.
//! Entries were chosen by listening to espeak-ng 1.51's `--ipa` output for each term; terms espeak
//! already says right (SQL, API, OAuth, gRPC, JSON-as-"jay-sahn", HTTP, GraphQL, ...) are not here.

/// (word as written, lower-cased; respelling). Matching is case-insensitive on whole words; a key
/// ending in '.' also consumes the period so that "e.g." does not end a sentence.
const ENTRIES: &[(&str, &str)] = &[
    ("idempotency", "eye dem potency"),
    ("idempotent", "eye dem potent"),
    ("idempotence", "eye dem potence"),
    ("idempotently", "eye dem potently"),
    ("postgresql", "post gress Q L"),
    ("postgres", "post gress"),
    ("kubernetes", "Koobernetteez"),
    ("k8s", "Koobernetteez"),
    ("kubectl", "cube control"),
    ("redis", "red iss"),
    ("nginx", "engine X"),
    ("ci/cd", "C I C D"),
    ("tcp/ip", "T C P I P"),
    ("aws", "A W S"),
    ("node.js", "node J S"),
    ("async", "ay sink"),
    ("regex", "rej ex"),
    ("saas", "sass"),
    ("orm", "O R M"),
    ("oop", "O O P"),
    ("cli", "C L I"),
    ("django", "jango"),
    ("elasticsearch", "elastic search"),
    ("restful", "rest ful"),
    ("etcd", "et C D"),
    ("enum", "ee num"),
    ("enums", "ee nums"),
    ("inode", "eye node"),
    ("inodes", "eye nodes"),
    ("stdout", "standard out"),
    ("stderr", "standard error"),
    ("stdin", "standard in"),
    ("vue", "view"),
    ("sqlite", "S Q lite"),
    ("mongodb", "mongo D B"),
    ("dynamodb", "dynamo D B"),
    ("e.g.", "for example"),
    ("i.e.", "that is"),
    ("etc.", "et cetera"),
    ("vs.", "versus"),
    ("vs", "versus"),
];

fn lookup(word: &str) -> Option<&'static str> {
    let lower = word.to_lowercase();
    ENTRIES.iter().find(|(k, _)| *k == lower).map(|(_, v)| *v)
}

/// Replace lexicon words in `text`, leaving everything else (spacing, punctuation) as it was.
pub fn respell(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len() + 16);
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_alphanumeric() {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        // A word: letters/digits, with inner '.', '/' or '-' joining parts ("node.js", "ci/cd").
        let start = i;
        let mut end = i;
        while end < chars.len() {
            let c = chars[end];
            let joiner = matches!(c, '.' | '/' | '-')
                && chars.get(end + 1).is_some_and(|n| n.is_alphanumeric());
            if c.is_alphanumeric() || joiner {
                end += 1;
            } else {
                break;
            }
        }
        let word: String = chars[start..end].iter().collect();
        // Abbreviations written with a final period ("e.g.", "etc.") eat that period.
        if chars.get(end) == Some(&'.') {
            if let Some(r) = lookup(&format!("{word}.")) {
                out.push_str(r);
                i = end + 1;
                continue;
            }
        }
        match lookup(&word) {
            Some(r) => out.push_str(r),
            None => respell_parts(&word, &mut out),
        }
        i = end;
    }
    out
}

/// "Redis/Postgres" or "Kubernetes-native": look the parts up one by one.
fn respell_parts(word: &str, out: &mut String) {
    let mut part = String::new();
    for c in word.chars() {
        if matches!(c, '.' | '/' | '-') {
            out.push_str(lookup(&part).unwrap_or(&part));
            out.push(c);
            part.clear();
        } else {
            part.push(c);
        }
    }
    out.push_str(lookup(&part).unwrap_or(&part));
}

#[cfg(test)]
mod tests {
    use super::respell;

    #[test]
    fn respells_whole_words_only() {
        assert_eq!(
            respell("Is Redis idempotent? Deploy on Kubernetes."),
            "Is red iss eye dem potent? Deploy on Koobernetteez."
        );
        assert_eq!(respell("redistribute the vsync"), "redistribute the vsync");
    }

    #[test]
    fn abbreviations_eat_their_period_and_parts_are_looked_up() {
        assert_eq!(
            respell("e.g. PostgreSQL vs. MySQL"),
            "for example post gress Q L versus MySQL"
        );
        assert_eq!(
            respell("Redis/Postgres, CI/CD, Node.js."),
            "red iss/post gress, C I C D, node J S."
        );
        assert_eq!(respell("Redis's"), "red iss's");
    }
}
