//! Answer analysis: what an answer contains, each signal with evidence spans (char ranges).
//!
//! Everything is lexical and deterministic. Knowledge-area matching goes through the
//! [`AreaMatcher`] trait so that a sentence-embedding matcher (all-MiniLM) can replace or back up
//! the lexical one without touching the dialogue manager.

use serde::{Deserialize, Serialize};

use crate::job::{AnswerExpectation, KnowledgeArea};
use crate::text::{is_stopword, Cue, Span, Tokens};

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
}

/// Cue-phrase matching on stemmed tokens, skipping negated mentions ("never used tracing").
#[derive(Debug, Clone, Copy, Default)]
pub struct LexicalAreaMatcher;

impl AreaMatcher for LexicalAreaMatcher {
    fn match_areas(&self, answer: &str, areas: &[KnowledgeArea]) -> Vec<AreaHit> {
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
                        if !negated(&tokens, a) {
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

/// A mention is negated when "not", "never", "no" or "without" comes up to three words before it.
fn negated(tokens: &Tokens<'_>, at: usize) -> bool {
    (at.saturating_sub(3)..at)
        .any(|i| matches!(tokens.norm(i), "not" | "never" | "no" | "without" | "nor"))
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

pub fn analyze(
    answer: &str,
    question: &QuestionContext<'_>,
    matcher: &dyn AreaMatcher,
) -> AnswerSignals {
    let tokens = Tokens::new(answer);
    let words = tokens.len();
    let length = match words {
        0 => LengthClass::Empty,
        1..=7 => LengthClass::VeryShort,
        8..=29 => LengthClass::Short,
        30..=300 => LengthClass::Adequate,
        _ => LengthClass::Long,
    };
    let areas = matcher.match_areas(answer, question.areas);
    let best_depth = areas.iter().map(|h| h.depth).max();

    let request = find_request(&tokens, words);
    let question_back = find_question_back(answer, &tokens, words);
    let non_answer = find_non_answer(&tokens, words, best_depth);
    let specificity = specificity(&tokens);
    let star = star(&tokens);
    let ownership = ownership(&tokens);
    let (experience, experience_evidence) = experience(&tokens);
    let hedges = cue_spans(&tokens, HEDGES);

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

    let topical_overlap = topical_overlap(&tokens, question);
    let content_words = tokens
        .tokens
        .iter()
        .filter(|t| !is_stopword(&t.norm) && t.norm.chars().count() > 2)
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

const HEDGES: &str = "i think|i guess|maybe|probably|perhaps|kind of|sort of|not sure|i believe|something like|stuff|things like that|and so on|etc|whatever|more or less|basically|it depends|various|somehow|some sort|i suppose|roughly speaking|in general";

fn find_request(tokens: &Tokens<'_>, words: usize) -> Option<(RequestKind, Span)> {
    if words > 25 {
        return None;
    }
    const REPHRASE: &str = "rephrase|what do you mean|don't understand the question|do not understand the question|didn't understand|did not understand|not sure what you mean|explain the question|another way|say it differently|put it differently|clarify the question|in other words|what are you asking";
    const REPEAT: &str = "repeat|say that again|say it again|come again|pardon|didn't hear|did not hear|didn't catch|did not catch|what was the question|couldn't hear|could not hear|missed the question|one more time";
    if let Some(span) = cue_spans(tokens, REPHRASE).first() {
        return Some((RequestKind::Rephrase, *span));
    }
    cue_spans(tokens, REPEAT)
        .first()
        .map(|s| (RequestKind::Repeat, *s))
}

fn find_question_back(
    answer: &str,
    tokens: &Tokens<'_>,
    words: usize,
) -> Option<(QuestionBackKind, Span)> {
    if words == 0 || words > 45 {
        return None;
    }
    let trimmed = answer.trim_end();
    let ends_with_q = trimmed.ends_with('?') || trimmed.ends_with('？');
    let first = tokens.norm(0);
    let second = tokens.norm(1);
    let interrogative_start = matches!(
        first,
        "what" | "how" | "why" | "which" | "who" | "where" | "when"
    ) || (matches!(
        first,
        "do" | "does" | "did" | "is" | "are" | "can" | "could" | "should" | "would" | "will"
    ) && matches!(
        second,
        "you" | "i" | "it" | "the" | "your" | "this" | "that" | "we" | "there"
    ));
    if !(ends_with_q || (interrogative_start && words <= 20)) {
        return None;
    }
    let span = tokens.span(0, tokens.len().saturating_sub(1));
    const ABOUT_ROLE: &str = "your team|the team|the company|your company|the role|this role|the position|your stack|tech stack|you use|do you have|remote|office|on call rotation|the product|your customers|next step|next steps|the process|hiring process";
    const CLARIFY: &str = "you mean|should i|do you want me|is it about|are you asking|talking about|does it have to|can i|in terms of|like a|for example|which one|or do you";
    if !cue_spans(tokens, CLARIFY).is_empty() {
        return Some((QuestionBackKind::Clarifying, span));
    }
    if !cue_spans(tokens, ABOUT_ROLE).is_empty() {
        return Some((QuestionBackKind::AboutRole, span));
    }
    Some((QuestionBackKind::Clarifying, span))
}

fn find_non_answer(
    tokens: &Tokens<'_>,
    words: usize,
    best_depth: Option<Depth>,
) -> Option<(NonAnswerKind, Span)> {
    if words > 30 || best_depth >= Some(Depth::Working) {
        return None;
    }
    const DONT_KNOW: &str = "i don't know|i do not know|no idea|not sure|i have no clue|no clue|i can't remember|i cannot remember|don't remember|do not remember|can't say|cannot say|i'm blanking|blank on this|can't think of|cannot think of";
    const NO_EXPERIENCE: &str = "never used|never worked|haven't worked|have not worked|haven't used|have not used|no experience|not familiar|never done|haven't done|have not done|never had to|not something i've";
    const SKIP: &str = "skip|pass|next question|move on|rather not";
    if let Some(s) = cue_spans(tokens, NO_EXPERIENCE).first() {
        return Some((NonAnswerKind::NoExperience, *s));
    }
    if let Some(s) = cue_spans(tokens, DONT_KNOW).first() {
        return Some((NonAnswerKind::DontKnow, *s));
    }
    if words <= 8 {
        if let Some(s) = cue_spans(tokens, SKIP).first() {
            return Some((NonAnswerKind::Skip, *s));
        }
    }
    None
}

/// Named tools and technologies; lower-case, matched as cues.
const TOOLS: &str = "postgres|postgresql|mysql|mariadb|sqlite|oracle|sql server|redis|memcached|kafka|rabbitmq|sqs|sns|kinesis|pubsub|nats|kubernetes|k8s|docker|helm|terraform|ansible|aws|gcp|azure|lambda|ec2|s3|cloudwatch|datadog|prometheus|grafana|opentelemetry|otel|jaeger|zipkin|tempo|honeycomb|new relic|sentry|splunk|elasticsearch|opensearch|kibana|loki|mongodb|dynamodb|cassandra|clickhouse|snowflake|bigquery|nginx|envoy|istio|linkerd|haproxy|jenkins|github actions|gitlab|circleci|argo|argocd|spinnaker|launchdarkly|flyway|liquibase|alembic|pgbouncer|explain analyze|pg_stat_statements|pg stat statements|grpc|graphql|openapi|swagger|protobuf|celery|sidekiq|airflow|spark|flink|vault|keycloak|auth0|okta|jwt|oauth|go|golang|java|kotlin|python|rust|node|nodejs|typescript|spring|django|rails|fastapi|express|hibernate|jmeter|k6|locust|pprof|async profiler|flame graph";

const NUMBER_WORDS: &[&str] = &[
    "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
    "fifteen", "twenty", "thirty", "forty", "fifty", "hundred", "thousand", "million", "billion",
    "dozen", "percent",
];

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

fn is_number_word(norm: &str) -> bool {
    NUMBER_WORDS.iter().any(|w| crate::text::stem(w) == norm)
}

fn specificity(tokens: &Tokens<'_>) -> Specificity {
    let numbers: Vec<Span> = tokens
        .tokens
        .iter()
        .enumerate()
        .filter(|(_, t)| t.norm.chars().any(|c| c.is_ascii_digit()) || is_number_word(&t.norm))
        .map(|(i, _)| tokens.span(i, i))
        .collect();
    let tools = cue_spans(tokens, TOOLS);
    const RESULT_VERBS: &str = "reduced|reduce|cut|dropped|drop|improved|improve|increased|decreased|saved|sped up|speed up|lowered|brought down|went from|from|halved|doubled|faster|slower|fewer|less than|under|down to|up to";
    let number_positions: Vec<usize> = tokens
        .tokens
        .iter()
        .enumerate()
        .filter(|(_, t)| t.norm.chars().any(|c| c.is_ascii_digit()) || is_number_word(&t.norm))
        .map(|(i, _)| i)
        .collect();
    let results: Vec<Span> = Cue::new(RESULT_VERBS)
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

fn star(tokens: &Tokens<'_>) -> Star {
    Star {
        situation: cue_spans(tokens, "at my last|at my previous|in my previous|in my last|at my current|in my current|when i was at|when i worked at|last year|a few years ago|one time|we had a|there was a|our team|our system|our service|at the time|back then"),
        task: cue_spans(tokens, "i was responsible|my job was|my task|i was asked|the goal was|we needed to|i needed to|i had to|we had to|the problem was|the challenge was|my role was"),
        action: cue_spans(tokens, "i built|i wrote|i added|i implemented|i designed|i decided|i proposed|i led|i ran|i used|i set up|i introduced|i changed|i moved|i created|i migrated|i investigated|i found|i fixed|i profiled|i rewrote|i measured|i looked|i checked|i split|i replaced|i traced|i started|i suggested|i convinced|i talked"),
        result: cue_spans(tokens, "as a result|the result|resulted|in the end|the outcome|after that|which reduced|which cut|which improved|went from|brought it down|dropped to|we saw|that fixed|it fixed"),
    }
}

fn ownership(tokens: &Tokens<'_>) -> Ownership {
    let singular = tokens
        .tokens
        .iter()
        .filter(|t| matches!(t.norm.as_str(), "i" | "my" | "me" | "myself"))
        .count();
    let plural = tokens
        .tokens
        .iter()
        .filter(|t| matches!(t.norm.as_str(), "we" | "our" | "us" | "ourselves"))
        .count();
    let total = singular + plural;
    Ownership {
        singular,
        plural,
        singular_share: (total > 0).then(|| round2(singular as f32 / total as f32)),
    }
}

const IRREGULAR_PAST: &[&str] = &[
    "built",
    "wrote",
    "ran",
    "found",
    "led",
    "made",
    "chose",
    "took",
    "had",
    "was",
    "were",
    "did",
    "saw",
    "set",
    "put",
    "cut",
    "got",
    "went",
    "gave",
    "knew",
    "brought",
    "caught",
    "kept",
    "spent",
    "sent",
    "began",
    "became",
    "thought",
    "told",
    "rewrote",
    "shipped",
    "broke",
    "fought",
    "held",
    "left",
    "lost",
    "met",
    "paid",
    "split",
    "spoke",
    "understood",
];

fn experience(tokens: &Tokens<'_>) -> (ExperienceMode, Vec<Span>) {
    const HYPOTHETICAL: &str = "i would|we would|would|i could|you could|you would|you can|one would|if i were|if i had to|i might|typically|usually|generally|in general|in theory|ideally|best practice|the idea is|you want to|you need to|you should|i'd probably";
    let hypothetical = cue_spans(tokens, HYPOTHETICAL);
    let mut past = Vec::new();
    for i in 0..tokens.len() {
        let subject = matches!(tokens.norm(i), "i" | "we" | "they" | "it");
        if !subject {
            continue;
        }
        // Look at the next one or two words ("we quickly added", "I then rewrote").
        for k in 1..=2 {
            let Some(t) = tokens.tokens.get(i + k) else {
                break;
            };
            let raw = tokens.text.get(t.start..t.end).unwrap_or("").to_lowercase();
            if (raw.ends_with("ed") && raw.len() > 3) || IRREGULAR_PAST.contains(&raw.as_str()) {
                past.push(tokens.span(i, i + k));
                break;
            }
        }
    }
    let situational = cue_spans(tokens, "at my last|at my previous|in my previous|in my last|when i was at|when i worked at|last year|a few years ago|back then|at the time");
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

/// General software vocabulary: an answer made of these words is on the subject of engineering,
/// even if it matches no cue of the question.
const TECH_WORDS: &str = "service|services|system|systems|database|api|server|code|deploy|deployment|test|tests|data|query|request|requests|user|users|client|clients|latency|cache|queue|team|production|bug|bugs|performance|scale|design|architecture|endpoint|table|index|traffic|load|error|errors|monitor|monitoring|log|logs|metric|metrics|release|feature|customer|customers|backend|frontend|cloud|cluster|container|message|messages|event|events|thread|lock|transaction|schema|migration|incident|alert|debug|debugging|profile|memory|cpu|network|http|rest|json|library|framework|microservice|microservices|monolith|pipeline|review|engineer|engineers|product|project|requirement|requirements|version|storage|throughput|reliability|availability|security|auth|token|key|protocol";

fn topical_overlap(tokens: &Tokens<'_>, question: &QuestionContext<'_>) -> f32 {
    let mut vocabulary: Vec<String> = Vec::new();
    let mut add = |text: &str| {
        for t in crate::text::tokenize(text) {
            if !is_stopword(&t.norm) && t.norm.chars().count() > 2 {
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
    add(&TECH_WORDS.replace('|', " "));
    vocabulary.sort();
    vocabulary.dedup();
    let content: Vec<&str> = tokens
        .tokens
        .iter()
        .map(|t| t.norm.as_str())
        .filter(|n| !is_stopword(n) && n.chars().count() > 2)
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
}
