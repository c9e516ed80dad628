//! Optional LLM phrasing of follow-ups through any OpenAI-compatible `/v1/chat/completions`
//! endpoint (llama.cpp server, Ollama, vLLM, a hosted API).
//!
//! # Design
//! The deterministic engine decides *what* to ask and always has a wording of its own. An LLM
//! may only reword a targeted follow-up or an example probe, so that it sounds like a reply to
//! what the candidate just said. Scripted questions, knockouts and blueprint follow-ups are
//! never reworded: every candidate hears them word for word (fairness and TTS pre-rendering).
//!
//! The flow, with IO only at the edge:
//! 1. The engine emits `Action::Say`; [`crate::Interview::phrasing_request`] returns a
//!    [`PhrasingRequest`] when that utterance may be reworded.
//! 2. The session runner calls its [`Phraser`] with a deadline (default
//!    [`DEFAULT_TIMEOUT_MS`], inside the response-latency budget). The request body is
//!    [`chat_completions_body`]; the answer is read with [`parse_chat_completion`].
//! 3. [`vet`] checks the wording (topic guard, one short question, no hint of a score); on a
//!    timeout, an error or a rejection the runner says the engine's own text.
//! 4. The runner reports what it said with [`crate::Interview::record_phrasing`], which vets
//!    again and stores it beside the engine's text in the transcript.
//!
//! The HTTP client is [`crate::phrasing_http::HttpPhraser`] (std `TcpStream`, no async runtime).

use serde::{Deserialize, Serialize};

use crate::guard::TopicGuard;
use crate::text::Tokens;

/// How long the runner waits for a phrasing before using the engine's own words.
pub const DEFAULT_TIMEOUT_MS: u64 = 700;

/// Longest accepted phrasing, in characters.
pub const MAX_CHARS: usize = 280;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhrasingRequest {
    pub utterance_id: String,
    /// The engine's wording, used whenever the LLM's is not.
    pub default_text: String,
    /// The main question being explored.
    pub question: String,
    /// The candidate's last answer, so the follow-up can refer to it.
    pub last_answer: String,
    /// What the follow-up must find out (e.g. "Knowledge area: Indexing").
    pub purpose: String,
    pub tone: String,
    pub role_brief: String,
}

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum PhrasingError {
    #[error("the phrasing service did not answer within {0} ms")]
    Timeout(u64),
    #[error("the phrasing service failed: {0}")]
    Service(String),
    #[error("the phrasing service's answer could not be read: {0}")]
    BadResponse(String),
}

/// Why a phrasing was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Rejection {
    #[error(
        "this utterance may not be reworded (only targeted follow-ups and example probes may)"
    )]
    NotEligible,
    #[error("empty")]
    Empty,
    #[error("longer than {MAX_CHARS} characters")]
    TooLong,
    #[error("not a single question")]
    NotOneQuestion,
    #[error("{0}")]
    Topic(String),
    #[error("hints at an assessment (\"{0}\")")]
    RevealsAssessment(String),
}

/// Something that rewords a follow-up, synchronously, within `timeout_ms` (the async runner
/// may instead call the endpoint itself with the body and parser below).
pub trait Phraser {
    fn phrase(
        &mut self,
        request: &PhrasingRequest,
        timeout_ms: u64,
    ) -> Result<String, PhrasingError>;
}

/// The JSON body of a `/v1/chat/completions` request for `request`.
pub fn chat_completions_body(model: &str, request: &PhrasingRequest) -> serde_json::Value {
    let system = format!(
        "You are a fair, neutral technical interviewer. Rewrite the follow-up question so it reads as a natural reply to the \
         candidate's answer. Ask exactly one short question (under 40 words) with the same intent. Never mention scores, \
         grades or how well the candidate did; never ask about age, family, religion, health, disability, nationality, \
         ethnicity, gender, sexual orientation, politics or salary. Tone: {}. Role: {}",
        request.tone.trim(),
        request.role_brief.trim()
    );
    let user = format!(
        "Main question: {}\nCandidate's answer: {}\nWhat the follow-up must find out: {}\nFollow-up to rewrite: {}\nReply with the rewritten question only.",
        request.question.trim(),
        request.last_answer.trim(),
        request.purpose.trim(),
        request.default_text.trim()
    );
    serde_json::json!({
        "model": model,
        "temperature": 0.3,
        "max_tokens": 80,
        "messages": [
            {"role": "system", "content": system},
            {"role": "user", "content": user},
        ],
    })
}

/// Reads `choices[0].message.content` from a chat-completions response.
pub fn parse_chat_completion(body: &str) -> Result<String, PhrasingError> {
    let value: serde_json::Value =
        serde_json::from_str(body).map_err(|e| PhrasingError::BadResponse(e.to_string()))?;
    value
        .pointer("/choices/0/message/content")
        .and_then(|c| c.as_str())
        .map(|s| s.trim().trim_matches('"').trim().to_string())
        .ok_or_else(|| PhrasingError::BadResponse("no choices[0].message.content".into()))
}

/// Accepts a phrasing only when it is one short question that the job's rules allow.
pub fn vet(guard: &TopicGuard, text: &str) -> Result<String, Rejection> {
    let text = text.trim();
    if text.is_empty() {
        return Err(Rejection::Empty);
    }
    if text.chars().count() > MAX_CHARS {
        return Err(Rejection::TooLong);
    }
    if text.matches('?').count() != 1 || !text.ends_with('?') || text.contains('\n') {
        return Err(Rejection::NotOneQuestion);
    }
    if let Some(v) = guard.violations(text).into_iter().next() {
        return Err(Rejection::Topic(v.to_string()));
    }
    let tokens = Tokens::new(text);
    const ASSESSMENT: &[&str] = &[
        "score",
        "grade",
        "pass",
        "fail",
        "correct",
        "wrong",
        "excellent",
        "impressive",
        "great",
        "rating",
    ];
    for t in &tokens.tokens {
        if let Some(word) = ASSESSMENT.iter().find(|w| crate::text::stem(w) == t.norm) {
            return Err(Rejection::RevealsAssessment(word.to_string()));
        }
    }
    Ok(text.to_string())
}

/// Asks `phraser` and falls back to the engine's text on any failure.
pub fn phrase_or_default(
    phraser: &mut dyn Phraser,
    guard: &TopicGuard,
    request: &PhrasingRequest,
    timeout_ms: u64,
) -> String {
    phraser
        .phrase(request, timeout_ms)
        .ok()
        .and_then(|t| vet(guard, &t).ok())
        .unwrap_or_else(|| request.default_text.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixed(Result<String, PhrasingError>);
    impl Phraser for Fixed {
        fn phrase(&mut self, _: &PhrasingRequest, _: u64) -> Result<String, PhrasingError> {
            self.0.clone()
        }
    }

    fn request() -> PhrasingRequest {
        PhrasingRequest {
            utterance_id: "u-1".into(),
            default_text: "How did you choose which columns to index?".into(),
            question: "Tell me about a slow query.".into(),
            last_answer: "I added an index.".into(),
            purpose: "Knowledge area: Indexing".into(),
            tone: "Professional".into(),
            role_brief: "Backend engineer".into(),
        }
    }

    #[test]
    fn vetting_refuses_unsafe_or_leaky_phrasings() {
        let guard = TopicGuard::protected_only();
        assert!(vet(
            &guard,
            "Which columns did that index cover, and why in that order?"
        )
        .is_ok());
        assert_eq!(
            vet(&guard, "Great answer! Which columns?"),
            Err(Rejection::RevealsAssessment("great".into()))
        );
        assert!(matches!(
            vet(&guard, "How old were you when you built it?"),
            Err(Rejection::Topic(_))
        ));
        assert_eq!(vet(&guard, "Tell me more."), Err(Rejection::NotOneQuestion));
        assert_eq!(vet(&guard, "Why? And how?"), Err(Rejection::NotOneQuestion));
    }

    #[test]
    fn failures_fall_back_to_the_engine_text() {
        let guard = TopicGuard::protected_only();
        let req = request();
        let mut slow = Fixed(Err(PhrasingError::Timeout(700)));
        assert_eq!(
            phrase_or_default(&mut slow, &guard, &req, 700),
            req.default_text
        );
        let mut bad = Fixed(Ok("Are you married?".into()));
        assert_eq!(
            phrase_or_default(&mut bad, &guard, &req, 700),
            req.default_text
        );
        let mut good = Fixed(Ok(
            "You mentioned an index: how did you pick its columns?".into()
        ));
        assert_eq!(
            phrase_or_default(&mut good, &guard, &req, 700),
            "You mentioned an index: how did you pick its columns?"
        );
    }

    #[test]
    fn chat_body_and_response_round_trip() {
        let body = chat_completions_body("qwen2.5-3b-instruct", &request());
        assert_eq!(body["messages"][1]["role"], "user");
        assert!(body["messages"][1]["content"]
            .as_str()
            .is_some_and(|c| c.contains("I added an index.")));
        let response = r#"{"choices":[{"message":{"role":"assistant","content":" \"Which columns, and why?\" "}}]}"#;
        assert_eq!(
            parse_chat_completion(response),
            Ok("Which columns, and why?".into())
        );
        assert!(parse_chat_completion("{}").is_err());
    }
}
