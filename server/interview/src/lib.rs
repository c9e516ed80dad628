//! viva-interview: the interviewer's mind, without IO.
//!
//! # Layout
//! - [`job`]: the job configuration file (TOML), its validation with field and line, its JSON
//!   Schema, and the embedded demo job ([`demo_job`]).
//! - [`lang`]: the interview languages ([`Lang`]: English, Spanish, German); [`phrases`] holds
//!   what the interviewer says in each (catalogues in `data/phrases/`), [`lexicon`] what it
//!   understands in each, [`lang_switch`] the candidate asking to change language.
//! - [`bank`]: the embedded question bank (six backend concepts plus behavioural, situational
//!   and motivation questions), with knowledge areas, probes, reference answers and red flags.
//! - [`analysis`]: signals of one answer with evidence spans; [`analysis::AreaMatcher`] is the
//!   seam for a sentence-embedding matcher.
//! - [`engine`]: the dialogue manager ([`Interview`]): event in, actions out, time passed in.
//! - [`transcript`]: the record handed to storage and scoring ([`Transcript`]).
//! - [`guard`]: banned topics and protected characteristics; nothing the engine says passes
//!   without it.
//! - [`semantic`]: knowledge areas matched by meaning (a [`semantic::SentenceEmbedder`] passed in).
//! - [`phrasing`]: the optional LLM rephrasing hook (bounded, checked, never required).
//! - [`phrasing_http`]: the IO edge of phrasing: a deadline-bounded HTTP/1.1 client of an
//!   OpenAI-compatible `/v1/chat/completions` endpoint (std only; off unless configured).
//! - [`cli`]: `viva interview --text`, `viva job from-jd`, `viva job validate` as library
//!   functions for the `viva` binary.
//!
//! # Contract
//! The core does no IO: no clock reads, sleeps, sockets or threads. Bad input (any UTF-8 text,
//! any job file) is an error or a decision, never a panic.

pub mod analysis;
pub mod bank;
pub mod candidate;
pub mod cli;
pub mod draft;
pub mod engine;
pub mod guard;
pub mod job;
pub mod knockout;
pub mod lang;
pub mod lang_switch;
pub mod lexicon;
pub mod phrases;
pub mod phrasing;
pub mod phrasing_http;
pub mod semantic;
pub mod text;
pub mod transcript;

pub use bank::QuestionBank;
pub use engine::{
    prerenderable_phrases, prerenderable_phrases_in, utterance_id, Action, EngineConfig, Event,
    Interview,
};
pub use job::{demo_job, JobConfig, JobErrors, JobIssue, TurnPatience};
pub use lang::Lang;
pub use transcript::{Decision, Phase, QuestionRef, Reason, Transcript, Turn, UtteranceKind, Word};
