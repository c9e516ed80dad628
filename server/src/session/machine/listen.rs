//! The candidate's side of the session: the speech buffer, when to transcribe it, the
//! end-of-turn detector, barge-in, and cut-off recovery (sans-IO: session time in, notes out).

use std::collections::VecDeque;

use viva_audio::frame::{ms_to_samples, samples_to_ms};
use viva_audio::{AudioFrame, TurnDecision, TurnDetector, TurnEvent, VadChunk};

use super::messages::{Cx, Metric, Note, Output, RATE};
use viva_models::workers::PassKind;

/// Partial passes (captions, end-of-turn text hints) at most this often.
const PARTIAL_EVERY_MS: u64 = 500;
/// Audio kept before the detected speech onset (VAD onset lags the first phoneme).
const PREROLL_MS: u64 = 300;
/// Audio kept after the last speech in the final pass (trailing consonants).
pub(super) const TAIL_MS: u64 = 250;
/// Speech that never became a turn (noise, a cough) is dropped after this much silence.
const NOISE_RESET_MS: u64 = 1_500;
/// Cut-off recovery: speech that resumes this soon after the end of a turn continues that
/// turn (the end was a thinking pause): the reply is withdrawn and the answer merged.
const RECOVERY_WINDOW_MS: u64 = 2_500;
/// Speech needed before a resumption counts (a cough or a click is shorter).
const RECOVERY_MIN_SPEECH_MS: u64 = 300;
/// Resumed speech that starts this long after the interviewer began is not a continuation but
/// a new barge-in. (Within it, the interviewer's own voice coming back through the candidate's
/// speakers could pass for speech: the dialogue drops a "continuation" whose words are the
/// reply's own.) Candidates resume a thought 0.3–0.9 s into the reply on the pauses set.
const RECOVERY_ONSET_AFTER_REPLY_MS: u64 = 1_200;
/// Silence after speech that starts an endpoint pass (≥ the transcription's reuse margin, and
/// the end-of-turn detector's `text_settle_ms`, so the pass counts as covering the speech for
/// both).
const ENDPOINT_PASS_AFTER_MS: u64 = 120;
/// Silence after which no caption pass starts: the endpoint pass follows within
/// `ENDPOINT_PASS_AFTER_MS` and covers the same words, and a caption running beside it would
/// take the core the endpoint pass and the acoustic model need.
const CAPTION_SILENCE_MS: u64 = 60;
/// The detector's clock lags the session's by this much on a tick: only a stalled stream needs
/// the tick, audio that arrives normally is never more than a few frames behind.
const TICK_LAG_MS: u64 = 300;

/// The window after a turn's end in which the candidate may still be mid-thought.
#[derive(Debug, Clone, Copy)]
pub(super) struct Recovery {
    /// Last speech of the ended turn.
    speech_end_ms: u64,
    until_ms: u64,
    /// Resumed speech heard so far, and where it began.
    speech_ms: u64,
    onset_ms: Option<u64>,
    /// The reply was withdrawn; the dialogue holds the answer for its continuation.
    triggered: bool,
}

impl Recovery {
    fn after(speech_end_ms: u64) -> Recovery {
        Recovery {
            speech_end_ms,
            until_ms: speech_end_ms + RECOVERY_WINDOW_MS,
            speech_ms: 0,
            onset_ms: None,
            triggered: false,
        }
    }

    /// Counts a speech chunk; true when the resumption is established (act now).
    fn on_speech(&mut self, start_ms: u64, end_ms: u64, interviewer_since: Option<u64>) -> bool {
        if self.triggered || start_ms < self.speech_end_ms || start_ms > self.until_ms {
            return false;
        }
        let onset = *self.onset_ms.get_or_insert(start_ms);
        if interviewer_since.is_some_and(|t| onset > t + RECOVERY_ONSET_AFTER_REPLY_MS) {
            return false;
        }
        self.speech_ms += end_ms.saturating_sub(start_ms);
        if self.speech_ms >= RECOVERY_MIN_SPEECH_MS {
            self.triggered = true;
            return true;
        }
        false
    }
}

pub(super) struct Listener {
    det: TurnDetector,
    turn: u32,
    /// Identifies the current speech buffer; partials of an older one are stale.
    generation: u64,
    collecting: bool,
    buf: Vec<f32>,
    buf_start_ms: u64,
    preroll: VecDeque<f32>,
    preroll_end_ms: u64,
    last_speech_ms: u64,
    last_partial_ms: u64,
    partial_pending: bool,
    /// The speech end the last endpoint pass was started for.
    endpoint_for_ms: u64,
    /// After a turn ended: resumed speech within the window withdraws the reply.
    recovery: Option<Recovery>,
    /// When the interviewer's current utterance started playing.
    interviewer_since: Option<u64>,
    cutoff_recovery: bool,
    /// Whether the acoustic end-of-turn model answers (else the detector's requests are
    /// dropped and text and silence decide).
    acoustic: bool,
}

impl Listener {
    pub fn new(config: viva_audio::TurnConfig, cutoff_recovery: bool) -> Self {
        Self {
            acoustic: config.acoustic,
            det: TurnDetector::new(config),
            cutoff_recovery,
            turn: 0,
            generation: 0,
            collecting: false,
            buf: Vec::new(),
            buf_start_ms: 0,
            preroll: VecDeque::new(),
            preroll_end_ms: 0,
            last_speech_ms: 0,
            last_partial_ms: 0,
            partial_pending: false,
            endpoint_for_ms: 0,
            recovery: None,
            interviewer_since: None,
        }
    }

    /// A 16 kHz frame on the session clock and the VAD chunks it completed.
    pub fn audio(&mut self, frame: &AudioFrame, chunks: Vec<VadChunk>, cx: &mut Cx) {
        self.push_audio(frame);
        let mut resumed = false;
        let mut decisions = Vec::with_capacity(chunks.len());
        for c in chunks {
            if c.speech {
                self.last_speech_ms = c.end_ms();
                if !self.collecting {
                    self.start_collecting();
                }
                let since = self.interviewer_since;
                if self
                    .recovery
                    .as_mut()
                    .is_some_and(|r| r.on_speech(c.start_ms(), c.end_ms(), since))
                {
                    resumed = true;
                }
            }
            decisions.push(self.det.handle(c.into()));
        }
        if resumed {
            self.withdraw_reply(cx);
        }
        for d in decisions {
            self.on_decision(d, cx);
        }
        self.housekeeping(cx);
    }

    /// A caption pass of buffer `generation` came back (None: it was dropped).
    pub fn partial(
        &mut self,
        generation: u64,
        covers_until_ms: u64,
        text: Option<String>,
        cx: &mut Cx,
    ) {
        self.partial_pending = false;
        if let (true, true, Some(text)) = (generation == self.generation, self.collecting, text) {
            cx.caption(
                self.turn,
                false,
                text.clone(),
                self.buf_start_ms,
                covers_until_ms,
            );
            let d = self.det.handle(TurnEvent::Transcript {
                covers_until_ms,
                text,
            });
            self.on_decision(d, cx);
        }
        self.housekeeping(cx);
    }

    /// The candidate now speaks `language`.
    pub fn set_language(&mut self, language: viva_audio::turn::Language) {
        self.det.set_language(language);
    }

    pub fn interviewer_started(&mut self, at_ms: u64, text: String, cx: &mut Cx) {
        self.interviewer_since = Some(at_ms);
        let d = self
            .det
            .handle(TurnEvent::InterviewerStarted { at_ms, text });
        self.on_decision(d, cx);
    }

    pub fn interviewer_stopped(&mut self, at_ms: u64, cx: &mut Cx) {
        self.interviewer_since = None;
        let d = self.det.handle(TurnEvent::InterviewerStopped { at_ms });
        self.on_decision(d, cx);
    }

    /// The acoustic model's answer for the pause after `speech_end_ms`.
    pub fn acoustic(&mut self, speech_end_ms: u64, p_complete: f32, cx: &mut Cx) {
        tracing::debug!(
            turn = self.turn,
            speech_end_ms,
            p_complete,
            "acoustic end-of-turn"
        );
        let d = self.det.handle(TurnEvent::Acoustic {
            speech_end_ms,
            p_complete,
        });
        self.on_decision(d, cx);
        self.housekeeping(cx);
    }

    /// Time passes without audio (a stalled stream still ends its turn).
    pub fn tick(&mut self, now_ms: u64, cx: &mut Cx) {
        let d = self.det.handle(TurnEvent::Tick {
            at_ms: now_ms.saturating_sub(TICK_LAG_MS),
        });
        self.on_decision(d, cx);
        self.housekeeping(cx);
    }

    /// After every input: windows that closed, noise that never became a turn, the passes and
    /// the acoustic question now due.
    fn housekeeping(&mut self, cx: &mut Cx) {
        if self
            .recovery
            .is_some_and(|r| !r.triggered && self.det.now_ms() > r.until_ms)
        {
            self.recovery = None;
        }
        if self.collecting
            && !self.det.in_turn()
            && self.det.now_ms().saturating_sub(self.last_speech_ms) > NOISE_RESET_MS
        {
            self.reset_buffer();
            if self.recovery.take().is_some_and(|r| r.triggered) {
                // The resumption never became a turn: the held answer stands alone.
                cx.note(Note::ReleaseHeld);
            }
        }
        self.maybe_pass(cx);
        self.maybe_ask_acoustic(cx);
    }

    /// The candidate resumed right after their turn was ended: the reply stops at once and the
    /// dialogue withdraws it; the continuation will be merged into the same answer.
    fn withdraw_reply(&mut self, cx: &mut Cx) {
        let Some(r) = self.recovery else {
            return;
        };
        cx.metric(Metric::Count("turn_resumed"));
        tracing::info!(
            turn = self.turn,
            speech_end_ms = r.speech_end_ms,
            onset_ms = r.onset_ms,
            "the candidate went on after the turn was ended: reply withdrawn"
        );
        cx.note(Note::Withdraw {
            speech_end_ms: r.speech_end_ms,
        });
    }

    /// Asks the acoustic model about the pause the detector is in (once per pause). The audio
    /// is the turn so far, up to now (the last speech and the silence after it).
    fn maybe_ask_acoustic(&mut self, cx: &mut Cx) {
        let Some(speech_end_ms) = self.det.poll_acoustic_request() else {
            return;
        };
        if !self.acoustic || !self.collecting {
            return;
        }
        let keep = viva_audio::smart_turn::SMART_TURN_SAMPLES.min(self.buf.len());
        cx.output(Output::AskAcoustic {
            speech_end_ms,
            samples: self.buf[self.buf.len() - keep..].to_vec(),
        });
    }

    fn push_audio(&mut self, frame: &AudioFrame) {
        if self.collecting {
            self.buf.extend_from_slice(frame.samples());
        } else {
            self.preroll.extend(frame.samples());
            let keep = ms_to_samples(PREROLL_MS, RATE) as usize;
            while self.preroll.len() > keep {
                self.preroll.pop_front();
            }
        }
        self.preroll_end_ms = frame.end_ms();
    }

    fn start_collecting(&mut self) {
        self.collecting = true;
        self.buf = self.preroll.drain(..).collect();
        self.buf_start_ms = self
            .preroll_end_ms
            .saturating_sub(samples_to_ms(self.buf.len() as u64, RATE));
        self.last_partial_ms = self.preroll_end_ms;
    }

    fn reset_buffer(&mut self) {
        self.collecting = false;
        self.buf.clear();
        self.generation += 1;
    }

    fn buf_end_ms(&self) -> u64 {
        self.buf_start_ms + samples_to_ms(self.buf.len() as u64, RATE)
    }

    /// A caption pass every `PARTIAL_EVERY_MS` (one at a time), and an endpoint pass as soon as
    /// the candidate pauses.
    fn maybe_pass(&mut self, cx: &mut Cx) {
        let end = self.buf_end_ms();
        // The candidate paused: transcribe now, while the end-of-turn detector still waits.
        // If the turn ends here this pass is its final text (and the detector's hint about a
        // finished sentence), so the candidate does not wait for a pass after the decision.
        if self.collecting
            && self.last_speech_ms > self.endpoint_for_ms
            && end >= self.last_speech_ms + ENDPOINT_PASS_AFTER_MS
        {
            cx.note(Note::Pass {
                kind: PassKind::Endpoint,
                generation: self.generation,
                samples: self.buf.clone(),
                start_ms: self.buf_start_ms,
            });
            self.endpoint_for_ms = self.last_speech_ms;
            self.last_partial_ms = end;
            return;
        }
        // Nothing was said since the last pass (the candidate is pausing after the endpoint
        // pass): another caption would only add silence, and costs a pass every 0.5 s.
        if !self.collecting
            || self.partial_pending
            || self.last_speech_ms <= self.endpoint_for_ms
            || end >= self.last_speech_ms + CAPTION_SILENCE_MS
            || end.saturating_sub(self.last_partial_ms) < PARTIAL_EVERY_MS
        {
            return;
        }
        cx.note(Note::Pass {
            kind: PassKind::Partial,
            generation: self.generation,
            samples: self.buf.clone(),
            start_ms: self.buf_start_ms,
        });
        self.partial_pending = true;
        self.last_partial_ms = end;
    }

    fn on_decision(&mut self, d: TurnDecision, cx: &mut Cx) {
        match d {
            TurnDecision::SpeechStarted { at_ms } => {
                tracing::debug!(turn = self.turn, at_ms, "speech started");
                cx.note(Note::CandidateSpeaking);
            }
            TurnDecision::BargeIn { at_ms } => {
                tracing::info!(turn = self.turn, at_ms, "barge-in");
                cx.note(Note::BargeIn { at_ms });
                cx.note(Note::CandidateSpeaking);
            }
            TurnDecision::Backchannel { at_ms, text } => {
                tracing::info!(turn = self.turn, at_ms, %text, "backchannel: interviewer goes on");
                self.reset_buffer();
            }
            TurnDecision::Echo { at_ms } => {
                tracing::info!(turn = self.turn, at_ms, "echo of the interviewer ignored");
                self.reset_buffer();
            }
            TurnDecision::TurnEnded {
                at_ms,
                decided_at_ms,
                started_at_ms,
                reason,
            } => {
                let turn = self.turn;
                tracing::info!(
                    turn,
                    started_at_ms,
                    at_ms,
                    waited_ms = decided_at_ms.saturating_sub(at_ms),
                    ?reason,
                    "turn ended"
                );
                cx.metric(Metric::Observe(
                    "end_of_turn",
                    decided_at_ms.saturating_sub(at_ms) as f64 / 1000.0,
                ));
                self.recovery = self.cutoff_recovery.then(|| Recovery::after(at_ms));
                let end_idx =
                    ms_to_samples((at_ms + TAIL_MS).saturating_sub(self.buf_start_ms), RATE)
                        as usize;
                let mut samples = std::mem::take(&mut self.buf);
                samples.truncate(end_idx.max(1));
                cx.note(Note::Final {
                    turn,
                    generation: self.generation,
                    samples,
                    start_ms: self.buf_start_ms,
                    speech_end_ms: at_ms,
                });
                self.turn += 1;
                self.reset_buffer();
                self.partial_pending = false;
            }
            TurnDecision::Idle
            | TurnDecision::InterviewerSpeaking
            | TurnDecision::TurnContinuing { .. } => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(speech_end_ms: u64) -> Recovery {
        Recovery::after(speech_end_ms)
    }

    /// Speech that resumes inside the window counts once 300 ms of it is heard, and only once.
    #[test]
    fn resumed_speech_inside_the_window_withdraws_the_reply_once() {
        let mut r = window(10_000);
        assert!(!r.on_speech(10_800, 10_900, None));
        assert!(!r.on_speech(10_900, 11_000, None));
        assert!(r.on_speech(11_000, 11_100, None), "300 ms of speech");
        assert!(!r.on_speech(11_100, 11_200, None), "acted already");
    }

    /// Too late, or starting well after the reply began (the reply's own echo, or a new
    /// barge-in), is not a continuation.
    #[test]
    fn late_or_echo_like_speech_is_not_a_continuation() {
        let mut late = window(10_000);
        assert!(!late.on_speech(12_600, 13_000, None));
        let mut echo = window(10_000);
        // The reply started at 10.6 s; this sound begins 1.3 s into it: a new barge-in.
        for t in (11_900..12_400).step_by(100) {
            assert!(!echo.on_speech(t, t + 100, Some(10_600)));
        }
        // 0.7 s into the reply: the candidate going on with the thought.
        let mut late_start = window(10_000);
        assert!(!late_start.on_speech(11_300, 11_500, Some(10_600)));
        assert!(late_start.on_speech(11_500, 11_600, Some(10_600)));
        // A continuation that began before the reply keeps counting while it plays.
        let mut cont = window(10_000);
        assert!(!cont.on_speech(10_500, 10_700, None));
        assert!(cont.on_speech(10_700, 10_800, Some(10_600)));
    }
}
