//! The session's write-ahead journal: every event that changed the interview, with its time on
//! the session clock. The dialogue manager is a deterministic state machine, so replaying the
//! journal into a fresh [`Interview`] rebuilds exactly where the plan stood — after a crash, a
//! restart or a move to another process — without serializing the engine's internals.
//!
//! Sans-IO: the journal only records and replays; the session hands each [`Snapshot`] to its
//! [`super::SessionSink`], which writes it to the database in order.

use serde::{Deserialize, Serialize};
use viva_interview::{EngineConfig, Event, Interview, JobConfig};

/// One event the interview engine handled, at `at_ms` on the session clock.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Logged {
    pub at_ms: u64,
    pub event: Event,
}

/// Which stored interview a session writes its state for.
#[derive(Debug, Clone)]
pub struct JournalKey {
    pub session_id: String,
    pub interview_id: String,
    /// SHA-256 (hex) of the candidate's resume token: a resume after a restart checks it.
    pub token_hash: String,
}

/// The session's state as it stands: what the database keeps while the interview runs.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub key: JournalKey,
    /// Increases with every snapshot of the session: a late write never replaces a newer one.
    pub seq: u64,
    /// The session clock when it was taken (a resumed session's clock continues from here).
    pub clock_ms: u64,
    /// [`Logged`] events, JSON.
    pub events_json: String,
    /// The transcript so far, JSON (what an interrupted interview is filed with).
    pub transcript_json: String,
}

/// The events of one session, in order.
#[derive(Debug, Default, Clone)]
pub struct Journal {
    events: Vec<Logged>,
    seq: u64,
}

impl Journal {
    /// A journal that continues `events` (a restored session).
    pub fn resume(events: Vec<Logged>, seq: u64) -> Journal {
        Journal { events, seq }
    }

    /// Whether handling `event` may have changed the engine: starts, answers and departures
    /// always do; a silence or time tick only when it made the engine act.
    pub fn changes_state(event: &Event, acted: bool) -> bool {
        acted || !matches!(event, Event::Silence { .. } | Event::TimeTick)
    }

    /// Records `event`; returns whether it was kept.
    pub fn record(&mut self, at_ms: u64, event: &Event, acted: bool) -> bool {
        if !Self::changes_state(event, acted) {
            return false;
        }
        self.events.push(Logged {
            at_ms,
            event: event.clone(),
        });
        true
    }

    pub fn events(&self) -> &[Logged] {
        &self.events
    }

    pub fn len(&self) -> usize {
        self.events.len()
    }

    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// Forgets every event from `len` on (an answer withdrawn with what followed it).
    pub fn truncate(&mut self, len: usize) {
        self.events.truncate(len);
    }

    /// The state to write now.
    pub fn snapshot(
        &mut self,
        key: &JournalKey,
        clock_ms: u64,
        interview: &Interview,
    ) -> serde_json::Result<Snapshot> {
        self.seq += 1;
        Ok(Snapshot {
            key: key.clone(),
            seq: self.seq,
            clock_ms,
            events_json: serde_json::to_string(&self.events)?,
            transcript_json: serde_json::to_string(interview.transcript())?,
        })
    }

    pub fn seq(&self) -> u64 {
        self.seq
    }
}

/// Rebuilds the interview from its journal (the actions it produced were carried out before).
pub fn replay(job: JobConfig, config: EngineConfig, events: &[Logged]) -> Interview {
    let mut interview = Interview::new(job, config);
    for e in events {
        let _ = interview.handle(e.at_ms, e.event.clone());
    }
    interview
}

/// The question the candidate owes an answer to (the last utterance that awaits one), to say
/// again when a paused or crashed interview resumes.
pub fn pending_prompt(interview: &Interview) -> Option<String> {
    if interview.is_ended() {
        return None;
    }
    interview
        .transcript()
        .turns
        .iter()
        .rev()
        .find(|t| t.awaits_answer)
        .map(|t| t.prompt.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(text: &str) -> Event {
        Event::CandidateAnswered {
            text: text.into(),
            words: None,
        }
    }

    /// The engine's state is rebuilt from the journal: the replayed interview asks the same
    /// next question, and reacts to the next answer exactly as the original does.
    #[test]
    fn replaying_the_journal_rebuilds_where_the_plan_stood() {
        let job = viva_interview::demo_job();
        let cfg = EngineConfig::default();
        let mut live = Interview::new(job.clone(), cfg.clone());
        let mut journal = Journal::default();
        let script = [
            (1_000, Event::Start),
            (9_000, Event::TimeTick),
            (12_000, answer("Yes, I'm ready.")),
            (15_000, Event::Silence { ms: 3_000 }),
            (
                30_000,
                answer("I have seven years of professional backend development experience."),
            ),
        ];
        for (at, e) in script {
            let acted = !live.handle(at, e.clone()).is_empty();
            journal.record(at, &e, acted);
        }
        assert_eq!(
            journal.events().len(),
            3,
            "ticks and silences that changed nothing are not kept"
        );
        let json = serde_json::to_string(journal.events()).unwrap();
        let events: Vec<Logged> = serde_json::from_str(&json).unwrap();
        let mut restored = replay(job, cfg, &events);
        assert_eq!(restored.transcript(), live.transcript());
        assert_eq!(pending_prompt(&restored), pending_prompt(&live));
        assert!(pending_prompt(&restored).is_some());
        let next = answer("I designed an event pipeline on Kafka with idempotent consumers.");
        assert_eq!(
            restored.handle(45_000, next.clone()),
            live.handle(45_000, next)
        );
        assert_eq!(restored.transcript(), live.transcript());
    }

    #[test]
    fn an_ended_interview_owes_no_question() {
        let job = viva_interview::demo_job();
        let mut iv = Interview::new(job, EngineConfig::default());
        iv.handle(0, Event::Start);
        assert!(pending_prompt(&iv).is_some());
        iv.handle(1_000, Event::CandidateLeft);
        assert_eq!(pending_prompt(&iv), None);
    }
}
