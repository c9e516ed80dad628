//! Three of the team's calibration candidates (`server/interview/candidates/`) for the demo
//! job, driven through the real interview engine in process. Each answer is chosen by keywords
//! of the question the engine just asked, so the engine's own decisions (follow-ups, probes)
//! shape the transcript. Answers get synthetic word times so
//! the report's quotes carry audio timestamps.

#![allow(dead_code)]

use viva_interview::candidate::{last_question, ScriptedCandidate};
use viva_interview::demo_job;
use viva_interview::engine::{EngineConfig, Event, Interview};
use viva_interview::transcript::{Transcript, Word};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Candidate {
    Strong,
    Mixed,
    Weak,
}

/// The team's calibration candidates (`server/interview/candidates/`) that play these parts.
fn scripted(candidate: Candidate) -> ScriptedCandidate {
    let file = match candidate {
        Candidate::Strong => "strong-senior.toml",
        Candidate::Mixed => "solid-mid.toml",
        Candidate::Weak => "vague-talker.toml",
    };
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../interview/candidates")
        .join(file);
    ScriptedCandidate::load(&path).expect("calibration candidate")
}

/// Words with times as a recogniser would give them: 380 ms a word after a 1.5 s pause.
fn timed_words(text: &str, from_ms: u64) -> (Vec<Word>, u64) {
    let mut t = from_ms + 1500;
    let words = text
        .split_whitespace()
        .map(|w| {
            let word = Word {
                text: w.to_string(),
                start_ms: t,
                end_ms: t + 330,
            };
            t += 380;
            word
        })
        .collect();
    (words, t + 600)
}

/// Runs one whole interview of the demo job and returns its transcript.
pub fn interview(candidate: Candidate) -> Transcript {
    let script = scripted(candidate);
    let mut replay = script.replay();
    let mut engine = Interview::new(demo_job(), EngineConfig::default());
    let mut now = 0u64;
    let mut actions = engine.handle(now, Event::Start);
    for _ in 0..120 {
        if engine.is_ended() {
            break;
        }
        let text = replay.answer(&last_question(&actions)).to_string();
        let (words, end) = timed_words(&text, now);
        now = end;
        actions = engine.handle(
            now,
            Event::CandidateAnswered {
                text,
                words: Some(words),
            },
        );
    }
    if !engine.is_ended() {
        engine.handle(now, Event::CandidateLeft);
    }
    engine.into_transcript()
}
