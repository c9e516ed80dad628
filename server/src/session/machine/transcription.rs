//! Which Whisper pass stands for which turn's final text (sans-IO: no scheduler, no clock).
//!
//! Passes over a growing speech buffer give captions; the pass started when the candidate
//! paused (an endpoint pass) usually already holds the whole turn, so the turn's final text
//! reuses it instead of waiting for a pass after the decision. Long answers are committed at
//! pauses so that no pass grows with the whole answer.

use std::collections::VecDeque;

use viva_audio::frame::{ms_to_samples, samples_to_ms};

use super::messages::RATE;
use viva_models::workers::{PassKind, PassResult, PassWord, TranscribeError};

/// A partial that reaches this far past the last speech holds every word of the turn.
pub(super) const REUSE_MARGIN_MS: u64 = 100;

/// A pass of this session on the scheduler.
#[derive(Debug, Clone, Copy)]
pub(super) struct PassInfo {
    pub seq: u64,
    pub kind: PassKind,
    pub generation: u64,
    /// Session time of the speech buffer's start (what word times are relative to).
    buffer_start_ms: u64,
    /// Session time where this pass's audio starts (the buffer start, or a committed pause).
    pub start_ms: u64,
    pub covers_until_ms: u64,
}

/// A pass ready to submit: its audio (from `pass.start_ms`) and the text before it.
pub(super) struct PlannedPass {
    pub pass: PassInfo,
    pub samples: Vec<f32>,
    pub prompt: Option<String>,
}

/// A turn whose final text is owed to the dialogue, in turn order.
pub(super) struct PendingFinal {
    pub turn: u32,
    pub generation: u64,
    pub start_ms: u64,
    pub end_ms: u64,
    pub speech_end_ms: u64,
    /// The turn's audio (for its own final pass when no other pass covers it).
    pub samples: Vec<f32>,
    /// Session time the turn ended at (how long the final text took).
    pub requested_ms: u64,
    /// The text (words relative to `start_ms`), and how it was obtained (for the log).
    pub ready: Option<(PassResult, &'static str)>,
    /// The pass whose result will be the text.
    pub waiting_on: Option<u64>,
}

/// Text of a long turn that is settled: everything before a pause that an endpoint pass
/// transcribed. Later passes start at the pause, so no pass grows with the whole answer.
#[derive(Debug, Clone, Default)]
struct Committed {
    generation: u64,
    /// Session time of the pause the text ends in.
    until_ms: u64,
    /// Words relative to the buffer start.
    text: PassResult,
}

/// Which pass result can stand for which turn's final text (sans-IO: no scheduler, no clock).
#[derive(Default)]
pub(super) struct TranscriptionState {
    seq: u64,
    /// Passes submitted and not back yet, with the committed text they continue.
    running: Vec<(PassInfo, Option<Committed>)>,
    /// The newest finished pass of the current buffer, with the whole text so far.
    latest: Option<(PassInfo, PassResult)>,
    committed: Option<Committed>,
    finals: VecDeque<PendingFinal>,
}

/// What a finished pass changes.
#[derive(Default)]
pub(super) struct PassOutcome {
    /// The caption to show: the whole turn's text so far (None: the pass was dropped).
    pub caption: Option<String>,
    /// Passes to submit for finals left without one.
    pub resubmit: Vec<PlannedPass>,
}

/// A turn's text is committed at a pause once this much audio is uncommitted; shorter turns
/// keep one pass over all their audio (more context, better words). Kept short because the
/// pass after the candidate's last words gates the reply: on one core a pass costs ≈ 0.1 s per
/// second of audio, so a 10 s answer transcribed whole would add a second to every reply.
const COMMIT_AFTER_MS: u64 = 4_000;
/// Words of the committed text given to the next pass as its prompt (continuity).
const PROMPT_WORDS: usize = 40;

impl TranscriptionState {
    /// Plans a pass over `samples` (the buffer from `buffer_start_ms`): it starts where the
    /// committed text of the same buffer ends.
    pub fn plan(
        &mut self,
        generation: u64,
        buffer_start_ms: u64,
        samples: &[f32],
        kind: PassKind,
    ) -> PlannedPass {
        self.seq += 1;
        let committed = self
            .committed
            .clone()
            .filter(|c| c.generation == generation && c.until_ms > buffer_start_ms);
        let start_ms = committed.as_ref().map_or(buffer_start_ms, |c| c.until_ms);
        let skip = (ms_to_samples(start_ms - buffer_start_ms, RATE) as usize).min(samples.len());
        let pass = PassInfo {
            seq: self.seq,
            kind,
            generation,
            buffer_start_ms,
            start_ms,
            covers_until_ms: buffer_start_ms + samples_to_ms(samples.len() as u64, RATE),
        };
        let prompt = committed.as_ref().map(|c| {
            let words: Vec<&str> = c.text.text.split_whitespace().collect();
            words[words.len().saturating_sub(PROMPT_WORDS)..].join(" ")
        });
        self.running.push((pass, committed));
        PlannedPass {
            pass,
            samples: samples[skip..].to_vec(),
            prompt,
        }
    }

    /// A pass of the same audio that holds every word of the turn can stand for its final: the
    /// same greedy decoding would give the same text.
    fn covers(pass: &PassInfo, fin: &PendingFinal) -> bool {
        pass.generation == fin.generation
            && pass.buffer_start_ms == fin.start_ms
            && pass.covers_until_ms >= fin.speech_end_ms + REUSE_MARGIN_MS
    }

    /// Registers a turn's final; returns a pass to submit when no finished or running pass
    /// covers it.
    pub fn add_final(&mut self, mut fin: PendingFinal) -> Option<PlannedPass> {
        let reusable = self
            .latest
            .take()
            .filter(|(p, r)| Self::covers(p, &fin) && !r.text.is_empty());
        let submit = if let Some((_, result)) = reusable {
            fin.ready = Some((result, "endpoint or caption pass reused"));
            None
        } else if let Some((p, _)) = self
            .running
            .iter()
            .rev()
            // Not a caption pass: it waits at the back of the scheduler's queue, so under
            // load a turn that counted on one waited seconds (`viva bench live`, 24 sessions).
            .find(|(p, _)| p.kind != PassKind::Partial && Self::covers(p, &fin))
        {
            fin.waiting_on = Some(p.seq);
            None
        } else {
            let samples = std::mem::take(&mut fin.samples);
            let planned = self.plan(fin.generation, fin.start_ms, &samples, PassKind::Final);
            fin.samples = samples;
            fin.waiting_on = Some(planned.pass.seq);
            Some(planned)
        };
        self.finals.push_back(fin);
        submit
    }

    /// The pass `seq` that is running, if it is.
    pub fn running(&self, seq: u64) -> Option<PassInfo> {
        self.running
            .iter()
            .find(|(p, _)| p.seq == seq)
            .map(|(p, _)| *p)
    }

    /// Folds a finished pass in.
    pub fn pass_done(
        &mut self,
        pass: PassInfo,
        result: Result<PassResult, TranscribeError>,
    ) -> PassOutcome {
        let prefix = self
            .running
            .iter()
            .position(|(p, _)| p.seq == pass.seq)
            .and_then(|i| self.running.remove(i).1);
        let mut outcome = PassOutcome::default();
        match result {
            Ok(r) => {
                let whole = join_passes(prefix.as_ref(), &pass, r);
                outcome.caption = Some(whole.text.clone());
                for fin in self.finals.iter_mut() {
                    if fin.waiting_on == Some(pass.seq) {
                        fin.waiting_on = None;
                        let how = match pass.kind {
                            PassKind::Final => "final pass",
                            PassKind::Endpoint => "endpoint pass (waited for it)",
                            PassKind::Partial => "caption pass (waited for it)",
                        };
                        fin.ready = Some((whole.clone(), how));
                    }
                }
                if pass.kind == PassKind::Final {
                    return outcome;
                }
                // A long stretch up to a pause is settled: later passes start there.
                let commit_from = prefix.as_ref().map_or(pass.buffer_start_ms, |c| c.until_ms);
                let extends_current = match (&self.committed, &prefix) {
                    (Some(c), Some(p)) => c.generation == p.generation && c.until_ms == p.until_ms,
                    (Some(c), None) => c.generation != pass.generation,
                    (None, _) => true,
                };
                if pass.kind == PassKind::Endpoint
                    && extends_current
                    && pass.covers_until_ms >= commit_from + COMMIT_AFTER_MS
                    && !whole.text.is_empty()
                {
                    self.committed = Some(Committed {
                        generation: pass.generation,
                        until_ms: pass.covers_until_ms,
                        text: whole.clone(),
                    });
                }
                let newer = self.latest.as_ref().is_none_or(|(p, _)| {
                    p.generation != pass.generation || p.covers_until_ms <= pass.covers_until_ms
                });
                if newer {
                    self.latest = Some((pass, whole));
                }
            }
            Err(_) => {
                // Dropped or failed: a final that counted on it gets its own pass.
                let waiting: Vec<usize> = self
                    .finals
                    .iter()
                    .enumerate()
                    .filter(|(_, f)| f.waiting_on == Some(pass.seq))
                    .map(|(i, _)| i)
                    .collect();
                for i in waiting {
                    if pass.kind == PassKind::Final {
                        // The final pass itself failed: the turn goes on with the committed
                        // words, if any.
                        let fin = &mut self.finals[i];
                        fin.waiting_on = None;
                        let text = prefix.clone().map(|c| c.text).unwrap_or_default();
                        fin.ready = Some((text, "final pass failed"));
                        continue;
                    }
                    let samples = std::mem::take(&mut self.finals[i].samples);
                    let (generation, start_ms) =
                        (self.finals[i].generation, self.finals[i].start_ms);
                    let planned = self.plan(generation, start_ms, &samples, PassKind::Final);
                    self.finals[i].samples = samples;
                    self.finals[i].waiting_on = Some(planned.pass.seq);
                    outcome.resubmit.push(planned);
                }
            }
        }
        outcome
    }

    /// The oldest turn's final, once its text is there (finals leave in turn order).
    pub fn pop_ready(&mut self) -> Option<PendingFinal> {
        if self.finals.front().is_some_and(|f| f.ready.is_some()) {
            self.finals.pop_front()
        } else {
            None
        }
    }
}

/// The committed text before a pass, then the pass's words (moved onto the buffer's timeline).
fn join_passes(prefix: Option<&Committed>, pass: &PassInfo, r: PassResult) -> PassResult {
    let shift = pass.start_ms - pass.buffer_start_ms;
    let words = r.words.into_iter().map(|w| PassWord {
        start_ms: w.start_ms + shift,
        end_ms: w.end_ms + shift,
        ..w
    });
    match prefix {
        None => PassResult {
            text: r.text,
            words: words.collect(),
        },
        Some(c) => {
            let mut all = c.text.words.clone();
            all.extend(words);
            let text = [c.text.text.as_str(), r.text.as_str()]
                .iter()
                .filter(|t| !t.is_empty())
                .copied()
                .collect::<Vec<_>>()
                .join(" ");
            PassResult { text, words: all }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fin(turn: u32, generation: u64, speech_end_ms: u64) -> PendingFinal {
        PendingFinal {
            turn,
            generation,
            start_ms: 1_000,
            end_ms: speech_end_ms + 250,
            speech_end_ms,
            samples: audio(speech_end_ms + 250 - 1_000),
            requested_ms: 0,
            ready: None,
            waiting_on: None,
        }
    }

    fn text(t: &str) -> PassResult {
        PassResult {
            text: t.into(),
            words: t
                .split_whitespace()
                .enumerate()
                .map(|(i, w)| PassWord {
                    text: w.into(),
                    start_ms: i as u64 * 300,
                    end_ms: i as u64 * 300 + 250,
                })
                .collect(),
        }
    }

    /// `ms` of audio (the buffer starts at 1 000 ms in these tests).
    fn audio(ms: u64) -> Vec<f32> {
        vec![0.0; ms_to_samples(ms, RATE) as usize]
    }

    #[test]
    fn a_finished_endpoint_pass_that_covers_the_turn_is_its_final() {
        let mut s = TranscriptionState::default();
        let p = s.plan(7, 1_000, &audio(2_300), PassKind::Endpoint).pass;
        let out = s.pass_done(p, Ok(text("I used Kafka.")));
        assert_eq!(out.caption.as_deref(), Some("I used Kafka."));
        assert!(out.resubmit.is_empty());
        // Speech ended at 3 100 ms; the pass covers up to 3 300 ms.
        assert!(s.add_final(fin(0, 7, 3_100)).is_none(), "no new pass");
        let f = s.pop_ready().expect("ready at once");
        assert_eq!(f.ready.unwrap().0.text, "I used Kafka.");
    }

    #[test]
    fn a_pass_that_stops_short_of_the_speech_or_is_stale_is_not_reused() {
        let mut s = TranscriptionState::default();
        let p = s.plan(7, 1_000, &audio(2_000), PassKind::Partial).pass;
        s.pass_done(p, Ok(text("I used")));
        let planned = s.add_final(fin(0, 7, 3_100)).expect("needs its own pass");
        assert_eq!(planned.pass.kind, PassKind::Final);
        assert_eq!(planned.samples.len(), audio(2_350).len());
        assert!(s.pop_ready().is_none());
        s.pass_done(planned.pass, Ok(text("I used Kafka.")));
        assert_eq!(
            s.pop_ready().unwrap().ready.unwrap().0.text,
            "I used Kafka."
        );

        // Another buffer's pass never stands for this turn.
        let p = s.plan(8, 1_000, &audio(5_000), PassKind::Endpoint).pass;
        s.pass_done(p, Ok(text("old words")));
        assert!(s.add_final(fin(1, 9, 3_100)).is_some());
    }

    #[test]
    fn a_final_waits_for_a_running_pass_and_reruns_if_it_is_dropped() {
        let mut s = TranscriptionState::default();
        let p = s.plan(3, 1_000, &audio(2_400), PassKind::Endpoint).pass;
        assert!(
            s.add_final(fin(0, 3, 3_100)).is_none(),
            "waits for the running pass"
        );
        assert!(s.pop_ready().is_none());
        let out = s.pass_done(p, Err(TranscribeError::Superseded));
        assert_eq!(out.caption, None);
        assert_eq!(out.resubmit.len(), 1, "the final gets its own pass");
        let rerun = out.resubmit[0].pass;
        assert_eq!(rerun.kind, PassKind::Final);
        assert!(s.pop_ready().is_none());
        s.pass_done(rerun, Ok(text("done")));
        assert_eq!(s.pop_ready().unwrap().ready.unwrap().0.text, "done");
    }

    /// A running caption pass is never waited for: it has the lowest priority on the
    /// scheduler, so the final gets its own pass (a running endpoint pass is waited for).
    #[test]
    fn a_final_never_waits_behind_a_caption_pass() {
        let mut s = TranscriptionState::default();
        let _caption = s.plan(3, 1_000, &audio(2_400), PassKind::Partial).pass;
        let planned = s.add_final(fin(0, 3, 3_100)).expect("its own pass");
        assert_eq!(planned.pass.kind, PassKind::Final);
        let mut s = TranscriptionState::default();
        let _caption = s.plan(3, 1_000, &audio(2_400), PassKind::Partial).pass;
        let endpoint = s.plan(3, 1_000, &audio(2_400), PassKind::Endpoint).pass;
        let _later_caption = s.plan(3, 1_000, &audio(2_400), PassKind::Partial).pass;
        assert!(
            s.add_final(fin(0, 3, 3_100)).is_none(),
            "waits for the endpoint pass"
        );
        s.pass_done(endpoint, Ok(text("done")));
        assert_eq!(s.pop_ready().unwrap().ready.unwrap().0.text, "done");
    }

    #[test]
    fn finals_leave_in_turn_order_and_a_failed_final_still_ends_the_turn() {
        let mut s = TranscriptionState::default();
        let first = s.add_final(fin(0, 1, 3_100)).unwrap().pass;
        let second = s.add_final(fin(1, 2, 3_100)).unwrap().pass;
        s.pass_done(second, Ok(text("second")));
        assert!(s.pop_ready().is_none(), "turn 1 waits for turn 0");
        s.pass_done(first, Err(TranscribeError::Model("boom".into())));
        let f0 = s.pop_ready().unwrap();
        assert_eq!((f0.turn, f0.ready.unwrap().0.text), (0, String::new()));
        assert_eq!(s.pop_ready().unwrap().turn, 1);
    }

    #[test]
    fn a_long_answer_is_committed_at_a_pause_and_later_passes_start_there() {
        let mut s = TranscriptionState::default();
        // 14 s into the answer the candidate pauses: the endpoint pass settles those words.
        let p = s.plan(5, 1_000, &audio(14_000), PassKind::Endpoint).pass;
        s.pass_done(p, Ok(text("first part of a long answer")));
        // The answer goes on; the next pass only carries the audio after the pause.
        let next = s.plan(5, 1_000, &audio(20_000), PassKind::Partial);
        assert_eq!(next.pass.start_ms, 15_000);
        assert_eq!(next.samples.len(), audio(6_000).len());
        assert_eq!(next.prompt.as_deref(), Some("first part of a long answer"));
        let out = s.pass_done(next.pass, Ok(text("and the rest")));
        assert_eq!(
            out.caption.as_deref(),
            Some("first part of a long answer and the rest")
        );
        // The final joins both, word times on the buffer's timeline.
        let planned = s.add_final(fin(0, 5, 22_000)).expect("own pass");
        assert_eq!(planned.pass.start_ms, 15_000);
        s.pass_done(planned.pass, Ok(text("and the rest, done.")));
        let (whole, _) = s.pop_ready().unwrap().ready.unwrap();
        assert_eq!(
            whole.text,
            "first part of a long answer and the rest, done."
        );
        let and = whole.words.iter().find(|w| w.text == "and").unwrap();
        assert_eq!(
            and.start_ms, 14_000,
            "pass-relative 0 ms + 14 s into the buffer"
        );
        // A short answer (under COMMIT_AFTER_MS) is never committed: one pass keeps all its
        // context.
        let p = s.plan(6, 30_000, &audio(3_000), PassKind::Endpoint).pass;
        s.pass_done(p, Ok(text("short")));
        assert_eq!(
            s.plan(6, 30_000, &audio(3_500), PassKind::Partial)
                .pass
                .start_ms,
            30_000
        );
    }
}
