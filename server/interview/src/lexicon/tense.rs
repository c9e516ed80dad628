//! Past and hypothetical verb forms in Spanish and German, where English's "subject + -ed"
//! test does not apply. Heuristics on the word's ending (Spanish preterite "-é", "-ó",
//! conditional "-ría") and German's perfect tense (an auxiliary, then a participle later in
//! the same sentence); each returns token ranges.

use super::Lexicon;
use crate::lang::Lang;
use crate::text::Tokens;

/// The token as spoken, lower-cased (the stemmed form loses the endings read here).
fn raw(tokens: &Tokens<'_>, i: usize) -> String {
    tokens
        .tokens
        .get(i)
        .and_then(|t| tokens.text.get(t.start..t.end))
        .unwrap_or("")
        .to_lowercase()
}

fn chars(w: &str) -> usize {
    w.chars().count()
}

/// Token ranges that tell what the speaker did (past tense).
pub fn past(lex: &Lexicon, tokens: &Tokens<'_>) -> Vec<(usize, usize)> {
    match lex.lang {
        Lang::En => Vec::new(),
        Lang::Es => past_es(lex, tokens),
        Lang::De => past_de(lex, tokens),
    }
}

/// Token ranges of hypothetical verb forms not in the lexicon's cue list.
pub fn hypothetical(lang: Lang, tokens: &Tokens<'_>) -> Vec<(usize, usize)> {
    if lang != Lang::Es {
        return Vec::new();
    }
    (0..tokens.len())
        .filter(|&i| is_conditional_es(&raw(tokens, i)))
        .map(|i| (i, i))
        .collect()
}

/// Words with a preterite-looking ending that are not verbs.
const ES_NOT_PRETERITE: &[&str] = &[
    "porqué",
    "café",
    "bebé",
    "josé",
    "aquí",
    "allí",
    "así",
    "ahí",
    "acá",
    "allá",
    "jabalí",
    "maní",
    "rubí",
    "esquí",
    "iraní",
    "israelí",
    "marroquí",
    "dominó",
    "buró",
    "también",
    "según",
];

fn past_es(lex: &Lexicon, tokens: &Tokens<'_>) -> Vec<(usize, usize)> {
    const PERFECT_AUX: &[&str] = &["he", "hemos", "ha", "han", "había", "habíamos", "habían"];
    const IRREGULAR_PARTICIPLES: &[&str] = &[
        "hecho",
        "escrito",
        "puesto",
        "visto",
        "resuelto",
        "roto",
        "abierto",
        "dicho",
        "vuelto",
        "cubierto",
        "descubierto",
        "reescrito",
        "propuesto",
        "compuesto",
        "dispuesto",
        "rehecho",
    ];
    let mut out = Vec::new();
    for i in 0..tokens.len() {
        let w = raw(tokens, i);
        let n = chars(&w);
        if ES_NOT_PRETERITE.contains(&w.as_str()) {
            continue;
        }
        let preterite = (n >= 4 && (w.ends_with('é') || w.ends_with('í') || w.ends_with('ó')))
            || (n >= 6 && (w.ends_with("aron") || w.ends_with("ieron")))
            || (n >= 5
                && ["aba", "abas", "ábamos", "aban"]
                    .iter()
                    .any(|e| w.ends_with(e)))
            || lex.is(tokens.norm(i), lex.irregular_past);
        if preterite {
            out.push((i, i));
            continue;
        }
        if PERFECT_AUX.contains(&w.as_str()) {
            let participle = (i + 1..=(i + 2).min(tokens.len().saturating_sub(1))).find(|&j| {
                let p = raw(tokens, j);
                chars(&p) >= 4
                    && (["ado", "ido", "ada", "ida", "ados", "idos", "adas", "idas"]
                        .iter()
                        .any(|e| p.ends_with(e))
                        || IRREGULAR_PARTICIPLES.contains(&p.as_str()))
            });
            if let Some(j) = participle {
                out.push((i, j));
            }
        }
    }
    out
}

/// Nouns and imperfect forms that end like a conditional ("-ría").
const ES_NOT_CONDITIONAL: &[&str] = &[
    "ingeniería",
    "librería",
    "batería",
    "mensajería",
    "tubería",
    "galería",
    "cafetería",
    "lotería",
    "paquetería",
    "minería",
    "mercería",
    "panadería",
    "cervecería",
    "carpintería",
    "herrería",
    "frutería",
    "peluquería",
    "consejería",
    "tesorería",
    "cristalería",
    "quería",
    "queríamos",
    "prefería",
    "preferíamos",
    "requería",
    "sugería",
    "refería",
    "corría",
    "ocurría",
    "recorría",
];

fn is_conditional_es(w: &str) -> bool {
    const ENDINGS: &[&str] = &[
        "aría", "ería", "iría", "dría", "bría", "rría", "aríamos", "eríamos", "iríamos", "dríamos",
        "bríamos",
    ];
    chars(w) >= 5 && ENDINGS.iter().any(|e| w.ends_with(e)) && !ES_NOT_CONDITIONAL.contains(&w)
}

/// Words that start like a participle ("ge…t", "ge…en") but are not one.
const DE_NOT_PARTICIPLE: &[&str] = &[
    "gegen",
    "gehen",
    "geben",
    "gelten",
    "gestern",
    "gesamten",
    "gemeinsamen",
    "generellen",
    "gewinnen",
    "genießen",
    "gehören",
    "gestalten",
    "gelingen",
    "gegenüber",
    "geeignet",
];

/// Separable prefixes before "ge" ("eingeführt", "umgestellt").
const DE_SEPARABLE: &[&str] = &[
    "ab", "an", "auf", "aus", "bei", "ein", "fest", "her", "hin", "hinzu", "los", "mit", "nach",
    "um", "vor", "weg", "zu", "zurück", "zusammen", "durch", "dar", "neu", "hoch", "runter",
];

/// Inseparable prefixes: their participles have no "ge" ("verbessert", "behoben").
const DE_INSEPARABLE: &[&str] = &["be", "ver", "er", "ent", "zer", "über", "miss"];

fn is_participle_de(w: &str) -> bool {
    if chars(w) < 5 || DE_NOT_PARTICIPLE.contains(&w) {
        return false;
    }
    let ending = w.ends_with('t') || w.ends_with("en");
    if w.ends_with("iert") {
        return true;
    }
    if !ending {
        return false;
    }
    if w.starts_with("ge") {
        return true;
    }
    let after_separable = DE_SEPARABLE.iter().any(|p| {
        w.strip_prefix(p)
            .is_some_and(|r| r.starts_with("ge") && chars(r) >= 4)
    });
    // Adjectives share the prefixes ("verschiedenen", "ersten", "bereit"): not their endings.
    let adjective = ["enen", "sten", "eren"].iter().any(|e| w.ends_with(e)) || w == "bereit";
    let inseparable = !adjective
        && DE_INSEPARABLE
            .iter()
            .any(|p| w.strip_prefix(p).is_some_and(|r| chars(r) >= 3));
    after_separable || inseparable
}

fn past_de(lex: &Lexicon, tokens: &Tokens<'_>) -> Vec<(usize, usize)> {
    const AUX: &[&str] = &[
        "habe", "haben", "hat", "hatte", "hatten", "habt", "bin", "sind", "ist", "war", "waren",
        "wurde", "wurden",
    ];
    let mut out = Vec::new();
    for i in 0..tokens.len() {
        let w = raw(tokens, i);
        if AUX.contains(&w.as_str()) {
            // The participle closes the clause: look ahead to the end of the sentence.
            let participle = (i + 1..tokens.len().min(i + 13))
                .take_while(|&j| !tokens.tokens.get(j).is_some_and(|t| t.sentence_start))
                .find(|&j| is_participle_de(&raw(tokens, j)));
            if let Some(j) = participle {
                out.push((i, j));
                continue;
            }
        }
        if lex.is(tokens.norm(i), lex.irregular_past) && !AUX.contains(&w.as_str()) {
            out.push((i, i));
        }
    }
    // "war"/"hatte" alone are past too ("es war langsam").
    for i in 0..tokens.len() {
        let w = raw(tokens, i);
        if ["war", "waren", "hatte", "hatten", "wurde", "wurden"].contains(&w.as_str())
            && !out.iter().any(|(a, _)| *a == i)
        {
            out.push((i, i));
        }
    }
    out.sort_unstable();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn past_words(lang: Lang, text: &str) -> Vec<String> {
        let t = Tokens::new(text);
        past(Lexicon::of(lang), &t)
            .into_iter()
            .map(|(a, b)| t.span(a, b).slice(text).to_string())
            .collect()
    }

    #[test]
    fn spanish_past_and_conditional_forms() {
        assert_eq!(
            past_words(Lang::Es, "Añadí un índice y la consulta bajó a 300 ms."),
            ["Añadí", "bajó"]
        );
        assert_eq!(
            past_words(Lang::Es, "Hemos migrado todo y aquí lo usamos."),
            ["Hemos migrado"]
        );
        assert!(past_words(Lang::Es, "Normalmente usaría una cola.").is_empty());
        let t = Tokens::new("Yo usaría Kafka y la ingeniería haría el resto.");
        let h: Vec<_> = hypothetical(Lang::Es, &t)
            .into_iter()
            .map(|(a, _)| t.norm(a).to_string())
            .collect();
        assert_eq!(h.len(), 2, "{h:?}");
    }

    #[test]
    fn german_perfect_tense_is_read_across_the_clause() {
        assert_eq!(
            past_words(
                Lang::De,
                "Ich habe einen Index auf die Spalte angelegt. Dann war es schnell."
            ),
            ["habe einen Index auf die Spalte angelegt", "war"]
        );
        assert_eq!(
            past_words(Lang::De, "Wir haben das Deployment automatisiert."),
            ["haben das Deployment automatisiert"]
        );
        assert!(past_words(Lang::De, "Ich würde normalerweise einen Cache einsetzen.").is_empty());
        assert!(past_words(Lang::De, "Das ist gegen die Regel.").is_empty());
    }
}
