//! Answer analysis: what an answer contains, each signal with evidence spans (char ranges).
//!
//! Everything is lexical and deterministic. Knowledge-area matching goes through the
//! [`AreaMatcher`] trait so that a sentence-embedding matcher (all-MiniLM) can replace or back up
//! the lexical one without touching the dialogue manager.

use serde::{Deserialize, Serialize};

use crate::job::{AnswerExpectation, KnowledgeArea};
use crate::lang::Lang;
use crate::lexicon::{tense, Lexicon};
use crate::text::{Cue, Span, Tokens};

/// How deep an answer went on a knowledge area (seed 004's ladder).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Depth {
    Surface,
    Working,
    Deep,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    pub span: Span,
    /// The cue (or, for other matchers, the reference text) that matched.
    pub cue: String,
    pub depth: Depth,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AreaHit {
    pub area_id: String,
    pub depth: Depth,
    pub evidence: Vec<Evidence>,
}

/// Finds which knowledge areas an answer covers, and how deeply.
pub trait AreaMatcher {
    fn match_areas(&self, answer: &str, areas: &[KnowledgeArea]) -> Vec<AreaHit>;

    /// The same for an answer in `lang`; matchers that know no language but English read it
    /// as [`AreaMatcher::match_areas`] does.
    fn match_areas_in(&self, lang: Lang, answer: &str, areas: &[KnowledgeArea]) -> Vec<AreaHit> {
        let _ = lang;
        self.match_areas(answer, areas)
    }
}

/// Cue-phrase matching on stemmed tokens, skipping negated mentions ("never used tracing").
#[derive(Debug, Clone, Copy, Default)]
pub struct LexicalAreaMatcher;

impl AreaMatcher for LexicalAreaMatcher {
    fn match_areas(&self, answer: &str, areas: &[KnowledgeArea]) -> Vec<AreaHit> {
        self.match_areas_in(Lang::En, answer, areas)
    }

    fn match_areas_in(&self, lang: Lang, answer: &str, areas: &[KnowledgeArea]) -> Vec<AreaHit> {
        let lex = Lexicon::of(lang);
        let tokens = Tokens::new(answer);
        let mut hits = Vec::new();
        for area in areas {
            let mut evidence = Vec::new();
            for (depth, cues) in [
                (Depth::Surface, &area.surface),
                (Depth::Working, &area.working),
                (Depth::Deep, &area.deep),
            ] {
                for cue_text in cues {
                    let cue = Cue::new(cue_text);
                    for (a, b) in cue.find_all(&tokens) {
                        if !negated(lex, &tokens, a) {
                            evidence.push(Evidence {
                                span: tokens.span(a, b),
                                cue: cue_text.clone(),
                                depth,
                            });
                        }
                    }
                }
            }
            if let Some(depth) = evidence.iter().map(|e| e.depth).max() {
                evidence.sort_by_key(|e| e.span);
                hits.push(AreaHit {
                    area_id: area.id.clone(),
                    depth,
                    evidence,
                });
            }
        }
        hits
    }
}

/// A mention is negated when "not", "never", "no", "without" or "nor" (or the language's
/// equivalent) comes up to three words before it.
fn negated(lex: &Lexicon, tokens: &Tokens<'_>, at: usize) -> bool {
    (at.saturating_sub(3)..at).any(|i| lex.is(tokens.norm(i), lex.negators))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NonAnswerKind {
    DontKnow,
    NoExperience,
    Skip,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestKind {
    Repeat,
    Rephrase,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuestionBackKind {
    /// About the question itself ("do you mean REST or gRPC?").
    Clarifying,
    /// About the role, team or company.
    AboutRole,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExperienceMode {
    /// Tells what they did.
    Past,
    /// Tells what one would do.
    Hypothetical,
    /// General statements, neither.
    Generic,
    Mixed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LengthClass {
    Empty,
    VeryShort,
    Short,
    Adequate,
    Long,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Specificity {
    /// 0 (nothing concrete) to 1.
    pub score: f32,
    pub numbers: Vec<Span>,
    pub tools: Vec<Span>,
    pub results: Vec<Span>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Star {
    pub situation: Vec<Span>,
    pub task: Vec<Span>,
    pub action: Vec<Span>,
    pub result: Vec<Span>,
}

impl Star {
    /// How many of the four parts are present.
    pub fn parts(&self) -> usize {
        [&self.situation, &self.task, &self.action, &self.result]
            .iter()
            .filter(|v| !v.is_empty())
            .count()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Ownership {
    pub singular: usize,
    pub plural: usize,
    /// Share of "I" among "I" and "we" mentions; None when neither occurs.
    pub singular_share: Option<f32>,
}

/// Everything the analysis found in one answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnswerSignals {
    pub words: usize,
    pub length: LengthClass,
    pub non_answer: Option<(NonAnswerKind, Span)>,
    pub request: Option<(RequestKind, Span)>,
    pub question_back: Option<(QuestionBackKind, Span)>,
    pub areas: Vec<AreaHit>,
    pub specificity: Specificity,
    pub star: Star,
    pub ownership: Ownership,
    pub experience: ExperienceMode,
    pub experience_evidence: Vec<Span>,
    pub hedges: Vec<Span>,
    /// 0 (precise) to 1 (vague): hedging and lack of anything concrete.
    pub vagueness: f32,
    /// Share of the answer's content words that belong to the question's topic.
    pub topical_overlap: f32,
    pub off_topic: bool,
}

impl AnswerSignals {
    pub fn depth_of(&self, area_id: &str) -> Option<Depth> {
        self.areas
            .iter()
            .find(|h| h.area_id == area_id)
            .map(|h| h.depth)
    }

    /// Areas covered at working depth or deeper.
    pub fn covered_areas(&self) -> usize {
        self.areas
            .iter()
            .filter(|h| h.depth >= Depth::Working)
            .count()
    }

    pub fn is_vague(&self) -> bool {
        self.vagueness >= 0.6
    }
}

/// What the analysis needs to know about the question.
#[derive(Debug, Clone, Copy)]
pub struct QuestionContext<'a> {
    pub text: &'a str,
    pub areas: &'a [KnowledgeArea],
    pub expects: AnswerExpectation,
    /// Key concepts and reference answers widen the topic vocabulary.
    pub references: &'a [String],
}

/// Analyses an English answer.
pub fn analyze(
    answer: &str,
    question: &QuestionContext<'_>,
    matcher: &dyn AreaMatcher,
) -> AnswerSignals {
    analyze_in(Lang::En, answer, question, matcher)
}

/// Analyses an answer given in `lang`.
pub fn analyze_in(
    lang: Lang,
    answer: &str,
    question: &QuestionContext<'_>,
    matcher: &dyn AreaMatcher,
) -> AnswerSignals {
    let lex = Lexicon::of(lang);
    let tokens = Tokens::new(answer);
    let words = tokens.len();
    let length = match words {
        0 => LengthClass::Empty,
        1..=7 => LengthClass::VeryShort,
        8..=29 => LengthClass::Short,
        30..=300 => LengthClass::Adequate,
        _ => LengthClass::Long,
    };
    let areas = matcher.match_areas_in(lang, answer, question.areas);
    let best_depth = areas.iter().map(|h| h.depth).max();

    let request = find_request(lex, &tokens, words);
    let question_back = find_question_back(lex, answer, &tokens, words);
    let non_answer = find_non_answer(lex, &tokens, words, best_depth);
    let specificity = specificity(lex, &tokens);
    let star = star(lex, &tokens);
    let ownership = ownership(lex, &tokens);
    let (experience, experience_evidence) = experience(lex, &tokens);
    let hedges = cue_spans(&tokens, lex.hedges);

    let hedge_density = hedges.len() as f32 / (words.max(1) as f32 / 25.0).max(1.0);
    let concrete = specificity.score.max(match best_depth {
        Some(Depth::Deep) => 0.8,
        Some(Depth::Working) => 0.5,
        Some(Depth::Surface) => 0.25,
        None => 0.0,
    });
    let brevity = match length {
        LengthClass::Empty | LengthClass::VeryShort => 0.4,
        LengthClass::Short => 0.2,
        _ => 0.0,
    };
    let vagueness =
        ((1.0 - concrete) * 0.6 + (hedge_density * 0.2).min(0.3) + brevity).clamp(0.0, 1.0);

    let topical_overlap = topical_overlap(lex, &tokens, question);
    let content_words = tokens
        .tokens
        .iter()
        .filter(|t| !lex.is_stopword(&t.norm) && t.norm.chars().count() > 2)
        .count();
    let off_topic = non_answer.is_none()
        && request.is_none()
        && question_back.is_none()
        && content_words >= 6
        && areas.is_empty()
        && specificity.tools.is_empty()
        && topical_overlap < 0.15;

    AnswerSignals {
        words,
        length,
        non_answer,
        request,
        question_back,
        areas,
        specificity,
        star,
        ownership,
        experience,
        experience_evidence,
        hedges,
        vagueness: round2(vagueness),
        topical_overlap: round2(topical_overlap),
        off_topic,
    }
}

fn round2(x: f32) -> f32 {
    (x * 100.0).round() / 100.0
}

fn cue_spans(tokens: &Tokens<'_>, cues: &str) -> Vec<Span> {
    let mut spans: Vec<Span> = Cue::new(cues)
        .find_all(tokens)
        .into_iter()
        .map(|(a, b)| tokens.span(a, b))
        .collect();
    spans.sort();
    spans.dedup();
    spans
}

fn find_request(lex: &Lexicon, tokens: &Tokens<'_>, words: usize) -> Option<(RequestKind, Span)> {
    if words > 25 {
        return None;
    }
    if let Some(span) = cue_spans(tokens, lex.rephrase).first() {
        return Some((RequestKind::Rephrase, *span));
    }
    cue_spans(tokens, lex.repeat)
        .first()
        .map(|s| (RequestKind::Repeat, *s))
}

fn find_question_back(
    lex: &Lexicon,
    answer: &str,
    tokens: &Tokens<'_>,
    words: usize,
) -> Option<(QuestionBackKind, Span)> {
    if words == 0 || words > 45 {
        return None;
    }
    let trimmed = answer.trim();
    // Spanish opens a question with "¿" (speech recognition writes it).
    let ends_with_q = trimmed.ends_with('?')
        || trimmed.ends_with('？')
        || (lex.lang == Lang::Es && trimmed.starts_with('¿'));
    let first = tokens.norm(0);
    let second = tokens.norm(1);
    let interrogative_start = lex.is(first, lex.interrogatives)
        || (lex.is(first, lex.question_verbs) && lex.is(second, lex.question_subjects))
        || lex
            .question_openers
            .iter()
            .any(|(a, b)| lex.is(first, &[a]) && lex.is(second, &[b]));
    if !(ends_with_q || (interrogative_start && words <= 20)) {
        return None;
    }
    let span = tokens.span(0, tokens.len().saturating_sub(1));
    if !cue_spans(tokens, lex.clarify).is_empty() {
        return Some((QuestionBackKind::Clarifying, span));
    }
    if !cue_spans(tokens, lex.about_role).is_empty() {
        return Some((QuestionBackKind::AboutRole, span));
    }
    Some((QuestionBackKind::Clarifying, span))
}

fn find_non_answer(
    lex: &Lexicon,
    tokens: &Tokens<'_>,
    words: usize,
    best_depth: Option<Depth>,
) -> Option<(NonAnswerKind, Span)> {
    if words > 30 || best_depth >= Some(Depth::Working) {
        return None;
    }
    if let Some(s) = cue_spans(tokens, lex.no_experience).first() {
        return Some((NonAnswerKind::NoExperience, *s));
    }
    if let Some(s) = cue_spans(tokens, lex.dont_know).first() {
        return Some((NonAnswerKind::DontKnow, *s));
    }
    if words <= 8 {
        if let Some(s) = cue_spans(tokens, lex.skip).first() {
            return Some((NonAnswerKind::Skip, *s));
        }
    }
    None
}

/// Named tools and technologies; lower-case, matched as cues (the same in every language).
const TOOLS: &str = "postgres|postgresql|mysql|mariadb|sqlite|oracle|sql server|redis|memcached|kafka|rabbitmq|sqs|sns|kinesis|pubsub|nats|kubernetes|k8s|docker|helm|terraform|ansible|aws|gcp|azure|lambda|ec2|s3|cloudwatch|datadog|prometheus|grafana|opentelemetry|otel|jaeger|zipkin|tempo|honeycomb|new relic|sentry|splunk|elasticsearch|opensearch|kibana|loki|mongodb|dynamodb|cassandra|clickhouse|snowflake|bigquery|nginx|envoy|istio|linkerd|haproxy|jenkins|github actions|gitlab|circleci|argo|argocd|spinnaker|launchdarkly|flyway|liquibase|alembic|pgbouncer|explain analyze|pg_stat_statements|pg stat statements|grpc|graphql|openapi|swagger|protobuf|celery|sidekiq|airflow|spark|flink|vault|keycloak|auth0|okta|jwt|oauth|go|golang|java|kotlin|python|rust|node|nodejs|typescript|spring|django|rails|fastapi|express|hibernate|jmeter|k6|locust|pprof|async profiler|flame graph";

/// Named tools and technologies in `text`, as written there, in order, without repeats.
pub fn named_tools(text: &str) -> Vec<String> {
    let tokens = Tokens::new(text);
    let mut out: Vec<String> = Vec::new();
    for span in cue_spans(&tokens, TOOLS) {
        let name = span.slice(text).to_string();
        if !out.iter().any(|o| o.eq_ignore_ascii_case(&name)) {
            out.push(name);
        }
    }
    out
}

fn is_number_word(lex: &Lexicon, norm: &str) -> bool {
    lex.number_words
        .iter()
        .any(|w| crate::text::stem(w) == norm)
}

fn specificity(lex: &Lexicon, tokens: &Tokens<'_>) -> Specificity {
    let number_positions: Vec<usize> = tokens
        .tokens
        .iter()
        .enumerate()
        .filter(|(_, t)| t.norm.chars().any(|c| c.is_ascii_digit()) || is_number_word(lex, &t.norm))
        .map(|(i, _)| i)
        .collect();
    let numbers: Vec<Span> = number_positions
        .iter()
        .map(|&i| tokens.span(i, i))
        .collect();
    let tools = cue_spans(tokens, TOOLS);
    let results: Vec<Span> = Cue::new(lex.result_verbs)
        .find_all(tokens)
        .into_iter()
        .filter(|(_, b)| number_positions.iter().any(|&n| n > *b && n <= b + 8))
        .map(|(a, b)| tokens.span(a, b))
        .collect();
    let score = (numbers.len().min(4) as f32 * 0.15
        + tools.len().min(4) as f32 * 0.15
        + results.len().min(2) as f32 * 0.25)
        .min(1.0);
    Specificity {
        score: round2(score),
        numbers,
        tools,
        results,
    }
}

fn star(lex: &Lexicon, tokens: &Tokens<'_>) -> Star {
    Star {
        situation: cue_spans(tokens, lex.star_situation),
        task: cue_spans(tokens, lex.star_task),
        action: cue_spans(tokens, lex.star_action),
        result: cue_spans(tokens, lex.star_result),
    }
}

/// Spanish verbs carry the person: "implementé" is "I", "implementamos" is "we".
fn person_of_verb(lex: &Lexicon, raw: &str) -> Option<bool> {
    if lex.lang != Lang::Es || raw.chars().count() < 5 {
        return None;
    }
    if raw.ends_with('é') {
        Some(true)
    } else if raw.ends_with("amos") || raw.ends_with("imos") || raw.ends_with("emos") {
        Some(false)
    } else {
        None
    }
}

fn ownership(lex: &Lexicon, tokens: &Tokens<'_>) -> Ownership {
    let mut singular = 0;
    let mut plural = 0;
    for t in &tokens.tokens {
        if lex.is(&t.norm, lex.singular) {
            singular += 1;
        } else if lex.is(&t.norm, lex.plural) {
            plural += 1;
        } else {
            let raw = tokens.text.get(t.start..t.end).unwrap_or("").to_lowercase();
            match person_of_verb(lex, &raw) {
                Some(true) => singular += 1,
                Some(false) => plural += 1,
                None => {}
            }
        }
    }
    let total = singular + plural;
    Ownership {
        singular,
        plural,
        singular_share: (total > 0).then(|| round2(singular as f32 / total as f32)),
    }
}

fn experience(lex: &Lexicon, tokens: &Tokens<'_>) -> (ExperienceMode, Vec<Span>) {
    let mut hypothetical = cue_spans(tokens, lex.hypothetical);
    let mut past = Vec::new();
    if lex.lang == Lang::En {
        for i in 0..tokens.len() {
            let subject = lex.is(tokens.norm(i), lex.past_subjects);
            if !subject {
                continue;
            }
            // Look at the next one or two words ("we quickly added", "I then rewrote").
            for k in 1..=2 {
                let Some(t) = tokens.tokens.get(i + k) else {
                    break;
                };
                let raw = tokens.text.get(t.start..t.end).unwrap_or("").to_lowercase();
                if (raw.ends_with("ed") && raw.len() > 3)
                    || lex.irregular_past.contains(&raw.as_str())
                {
                    past.push(tokens.span(i, i + k));
                    break;
                }
            }
        }
    } else {
        hypothetical.extend(
            tense::hypothetical(lex.lang, tokens)
                .into_iter()
                .map(|(a, b)| tokens.span(a, b)),
        );
        hypothetical.sort();
        hypothetical.dedup();
        past.extend(
            tense::past(lex, tokens)
                .into_iter()
                .map(|(a, b)| tokens.span(a, b)),
        );
    }
    let situational = cue_spans(tokens, lex.past_situational);
    past.extend(situational);
    past.sort();
    past.dedup();
    let (h, p) = (hypothetical.len(), past.len());
    let mode = match (h, p) {
        (0, 0) => ExperienceMode::Generic,
        (0, _) => ExperienceMode::Past,
        (_, 0) => ExperienceMode::Hypothetical,
        (h, p) if p >= 2 * h => ExperienceMode::Past,
        (h, p) if h >= 2 * p => ExperienceMode::Hypothetical,
        _ => ExperienceMode::Mixed,
    };
    let mut evidence = match mode {
        ExperienceMode::Hypothetical => hypothetical,
        ExperienceMode::Past => past,
        _ => hypothetical.into_iter().chain(past).collect(),
    };
    evidence.sort();
    (mode, evidence)
}

fn topical_overlap(lex: &Lexicon, tokens: &Tokens<'_>, question: &QuestionContext<'_>) -> f32 {
    let mut vocabulary: Vec<String> = Vec::new();
    let mut add = |text: &str| {
        for t in crate::text::tokenize(text) {
            if !lex.is_stopword(&t.norm) && t.norm.chars().count() > 2 {
                vocabulary.push(t.norm);
            }
        }
    };
    add(question.text);
    for area in question.areas {
        add(&area.name);
        for cue in area.surface.iter().chain(&area.working).chain(&area.deep) {
            add(&cue.replace('|', " "));
        }
    }
    for r in question.references {
        add(r);
    }
    add(&lex.tech_words.replace('|', " "));
    // Engineers speaking Spanish or German use the English terms too ("deploy", "tracing").
    if lex.lang != Lang::En {
        add(&Lexicon::of(Lang::En).tech_words.replace('|', " "));
    }
    vocabulary.sort();
    vocabulary.dedup();
    let content: Vec<&str> = tokens
        .tokens
        .iter()
        .map(|t| t.norm.as_str())
        .filter(|n| !lex.is_stopword(n) && n.chars().count() > 2)
        .collect();
    if content.is_empty() {
        return 0.0;
    }
    let on_topic = content
        .iter()
        .filter(|n| vocabulary.binary_search_by(|v| v.as_str().cmp(n)).is_ok())
        .count();
    on_topic as f32 / content.len() as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn area() -> KnowledgeArea {
        KnowledgeArea {
            id: "tracing".into(),
            name: "Tracing".into(),
            importance: 3,
            surface: vec!["logs".into()],
            working: vec!["distributed tracing|tracing".into(), "opentelemetry".into()],
            deep: vec!["sampling".into()],
            probes: vec!["How do you sample?".into()],
        }
    }

    fn ctx(areas: &[KnowledgeArea]) -> QuestionContext<'_> {
        QuestionContext {
            text: "How do you trace requests?",
            areas,
            expects: AnswerExpectation::Experience,
            references: &[],
        }
    }

    #[test]
    fn negated_mentions_do_not_count() {
        let areas = [area()];
        let s = analyze(
            "We never used tracing, only logs.",
            &ctx(&areas),
            &LexicalAreaMatcher,
        );
        assert_eq!(s.depth_of("tracing"), Some(Depth::Surface));
        let s = analyze(
            "We added OpenTelemetry tracing with tail sampling.",
            &ctx(&areas),
            &LexicalAreaMatcher,
        );
        assert_eq!(s.depth_of("tracing"), Some(Depth::Deep));
        let ev = &s.areas[0].evidence[0];
        assert_eq!(
            ev.span
                .slice("We added OpenTelemetry tracing with tail sampling."),
            "OpenTelemetry"
        );
    }

    #[test]
    fn signals_of_a_concrete_past_answer() {
        let areas = [area()];
        let text = "At my last job I added OpenTelemetry to our Kafka consumers. As a result p99 latency dropped from 900 ms to 200 ms.";
        let s = analyze(text, &ctx(&areas), &LexicalAreaMatcher);
        assert_eq!(s.experience, ExperienceMode::Past);
        assert!(s.specificity.tools.len() >= 2);
        assert!(!s.specificity.results.is_empty());
        assert!(s.star.parts() >= 3, "{:?}", s.star);
        assert!(!s.is_vague());
        assert!(!s.off_topic);
    }

    #[test]
    fn requests_and_non_answers() {
        let areas = [area()];
        let c = ctx(&areas);
        assert_eq!(
            analyze("Sorry, could you repeat that?", &c, &LexicalAreaMatcher)
                .request
                .map(|r| r.0),
            Some(RequestKind::Repeat)
        );
        assert_eq!(
            analyze("What do you mean by that?", &c, &LexicalAreaMatcher)
                .request
                .map(|r| r.0),
            Some(RequestKind::Rephrase)
        );
        assert_eq!(
            analyze("Honestly, I don't know.", &c, &LexicalAreaMatcher)
                .non_answer
                .map(|r| r.0),
            Some(NonAnswerKind::DontKnow)
        );
        assert_eq!(
            analyze("I've never used tracing.", &c, &LexicalAreaMatcher)
                .non_answer
                .map(|r| r.0),
            Some(NonAnswerKind::NoExperience)
        );
        let q = analyze(
            "Do you mean tracing across services or inside one?",
            &c,
            &LexicalAreaMatcher,
        );
        assert_eq!(
            q.question_back.map(|r| r.0),
            Some(QuestionBackKind::Clarifying)
        );
    }

    #[test]
    fn off_topic_answer_is_detected() {
        let areas = [area()];
        let s = analyze(
            "I really enjoy hiking in the mountains on weekends, and my favourite food is fresh pasta with friends.",
            &ctx(&areas),
            &LexicalAreaMatcher,
        );
        assert!(s.off_topic, "{s:?}");
    }

    fn read(lang: Lang, text: &str) -> AnswerSignals {
        let areas = [area()];
        analyze_in(lang, text, &ctx(&areas), &LexicalAreaMatcher)
    }

    #[test]
    fn spanish_requests_non_answers_and_questions_back() {
        let es = |t| read(Lang::Es, t);
        // The candidate page's repeat button says this in a Spanish interview.
        assert_eq!(
            es("¿Podría repetir la pregunta, por favor?")
                .request
                .map(|r| r.0),
            Some(RequestKind::Repeat)
        );
        assert_eq!(
            es("Perdone, no entiendo la pregunta.").request.map(|r| r.0),
            Some(RequestKind::Rephrase)
        );
        assert_eq!(
            es("La verdad es que no lo sé.").non_answer.map(|r| r.0),
            Some(NonAnswerKind::DontKnow)
        );
        assert_eq!(
            es("Nunca he usado trazas distribuidas.")
                .non_answer
                .map(|r| r.0),
            Some(NonAnswerKind::NoExperience)
        );
        assert_eq!(
            es("¿Se refiere a trazas entre servicios o dentro de uno?")
                .question_back
                .map(|r| r.0),
            Some(QuestionBackKind::Clarifying)
        );
        assert_eq!(
            es("¿Su equipo trabaja en remoto?")
                .question_back
                .map(|r| r.0),
            Some(QuestionBackKind::AboutRole)
        );
    }

    #[test]
    fn spanish_past_hypothetical_and_vague_answers() {
        let past = read(
            Lang::Es,
            "En mi último trabajo añadí OpenTelemetry a los consumidores de Kafka y la latencia p99 bajó de 900 ms a 200 ms.",
        );
        assert_eq!(past.experience, ExperienceMode::Past);
        assert!(!past.is_vague());
        assert!(
            !past.specificity.results.is_empty(),
            "{:?}",
            past.specificity
        );
        assert!(!past.off_topic);
        let would = read(
            Lang::Es,
            "Normalmente haría un análisis primero y yo usaría alguna herramienta de monitorización.",
        );
        assert_eq!(would.experience, ExperienceMode::Hypothetical);
        let vague = read(
            Lang::Es,
            "Pues depende, creo que hicimos cosas así, más o menos.",
        );
        assert!(vague.is_vague(), "{vague:?}");
        let ours = read(
            Lang::Es,
            "Implementé el cambio y revisamos los resultados juntos.",
        );
        assert_eq!((ours.ownership.singular, ours.ownership.plural), (1, 1));
    }

    #[test]
    fn german_signals() {
        let de = |t| read(Lang::De, t);
        assert_eq!(
            de("Könnten Sie die Frage bitte wiederholen?")
                .request
                .map(|r| r.0),
            Some(RequestKind::Repeat)
        );
        assert_eq!(
            de("Wie meinen Sie das?").request.map(|r| r.0),
            Some(RequestKind::Rephrase)
        );
        assert_eq!(
            de("Keine Ahnung, ehrlich gesagt.").non_answer.map(|r| r.0),
            Some(NonAnswerKind::DontKnow)
        );
        assert_eq!(
            de("Meinen Sie Tracing zwischen Diensten?")
                .question_back
                .map(|r| r.0),
            Some(QuestionBackKind::Clarifying)
        );
        let past = de("Bei meinem letzten Arbeitgeber habe ich OpenTelemetry in unsere Kafka-Consumer eingebaut, danach ist die p99-Latenz von 900 ms auf 200 ms gesunken.");
        assert_eq!(past.experience, ExperienceMode::Past);
        assert_eq!(past.depth_of("tracing"), Some(Depth::Working));
        assert!(!past.off_topic);
        let would = de("Ich würde normalerweise zuerst die Logs anschauen und dann vielleicht Tracing einführen.");
        assert_eq!(would.experience, ExperienceMode::Hypothetical);
        // A negated mention does not count ("nie Tracing").
        assert_eq!(
            de("Wir haben nie Tracing benutzt.").depth_of("tracing"),
            None
        );
    }
}
