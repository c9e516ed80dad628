//! [`Session`]: one live interview as a sans-IO state machine, in the shape of str0m's `Rtc`
//! and quinn-proto's `Connection`. It owns every decision of the session — the audio clock and
//! the VAD front end, the end-of-turn detector and the speech buffer, which transcription pass
//! stands for which turn, the [`viva_interview::Interview`], the playout queue and every timer —
//! and does no IO: no tokio, no wall clock, no channel, no model call but the VAD's.
//!
//! ```text
//! handle_input(now, Input)  ──►  Session  ──►  poll_output() -> Output   (until None)
//! handle_timeout(now)       ──►           ──►  poll_timeout() -> when to call handle_timeout
//! ```
//! Time is milliseconds on the session clock (a restored session's clock continues its old
//! one). Inside, the parts talk through [`Note`]s, handled in order before the call returns:
//! - [`listen`]: speech buffer, passes to transcribe, end of turn, barge-in, cut-off recovery;
//! - [`transcription`]: which pass stands for which turn's final text;
//! - [`dialogue`]: answers into the interview, utterances out, silence, journal, pause;
//! - [`playout`]: utterances in order, paced to the client, stopped on a barge-in.
//!
//! The runner (`super::runner`) is the only IO: it feeds transport messages, Whisper and
//! Smart Turn results and synthesized audio in, and carries the outputs out. The fake-time
//! tests (`tests.rs`) drive whole interviews through it in milliseconds without models.

mod dialogue;
mod listen;
mod messages;
mod playout;
#[cfg(test)]
mod tests;
mod transcription;

use viva_audio::frame::{ms_to_samples, samples_to_ms};
use viva_audio::{AudioFrame, SpeechFrontEnd, Track, VoiceActivityDetector};
use viva_interview::{EngineConfig, Interview, Word};

use super::journal::{Journal, JournalKey};
use super::messages::{Inbound, Outbound, ServerEvent};
use dialogue::{repeat_request, Dialogue};
use listen::Listener;
use messages::{Cx, Note, RATE};
pub use messages::{
    Input, Metric, Output, CLOSE_NORMAL, CLOSE_POLICY, CLOSE_SERVICE_RESTART, REASON_PAUSED,
};
use playout::{Playout, Pumped};
use transcription::{PendingFinal, PlannedPass, TranscriptionState};
use viva_models::workers::{PassKind, PassResult, TranscribeError};

const SPEECH_THRESHOLD: f32 = 0.5;
/// Candidate audio may run this far ahead of the session clock (network bursts); beyond it the
/// client floods and is closed.
const MAX_AHEAD_MS: u64 = 5_000;
/// A transport that falls further behind than this is re-anchored to the session clock (a
/// stall or a reconnect), leaving a gap of silence in the recording instead of sliding the
/// track.
const MAX_BEHIND_MS: u64 = 1_000;
/// The end-of-turn detector's tick (a stalled stream still ends its turn).
const LISTEN_TICK_MS: u64 = 100;
/// The interview's tick (silence, the time budget, the detach grace period).
const DIALOGUE_TICK_MS: u64 = 1_000;
/// The candidate's page hears where the interview stands this often.
const PROGRESS_EVERY_MS: u64 = 5_000;
/// A transport that comes back after this long away (a phone call dialled again, not a
/// network blip) hears the standing question again.
const REJOIN_REPEAT_AFTER_MS: u64 = 3_000;

/// What a session is made of.
pub struct Setup {
    pub interview: Interview,
    pub engine: EngineConfig,
    /// With `acoustic` set when the acoustic model answers and the job's patience applied.
    pub turn: viva_audio::TurnConfig,
    pub cutoff_recovery: bool,
    /// How long a dropped transport may take to come back.
    pub resume_grace_ms: u64,
    /// A restored session's journal (it continues where its previous process stopped).
    pub journal: Option<Journal>,
    pub journal_key: Option<JournalKey>,
    /// The session clock now (a restored session's clock continues its old one).
    pub now_ms: u64,
}

/// The transport's side of the session: attachment and the audio clock.
#[derive(Default)]
struct Link {
    /// Next candidate sample index (16 kHz, session clock).
    next_index: Option<u64>,
    started: bool,
    attached: bool,
    detached_since: Option<u64>,
    /// The standing question was already asked again for the current transport (a long
    /// absence and a new call's `Rejoined` must not ask it twice).
    welcomed_back: bool,
}

pub struct Session {
    now: u64,
    cx: Cx,
    link: Link,
    front: SpeechFrontEnd,
    listen: Listener,
    transcription: TranscriptionState,
    dialogue: Dialogue,
    playout: Playout,
    restored: bool,
    resume_grace_ms: u64,
    next_listen_tick: u64,
    next_dialogue_tick: u64,
    next_progress: u64,
    over: bool,
}

impl Session {
    pub fn new(setup: Setup, vad: Box<dyn VoiceActivityDetector>) -> Session {
        let restored = setup.journal.is_some();
        let now = setup.now_ms;
        Session {
            now,
            cx: Cx::default(),
            link: Link::default(),
            front: SpeechFrontEnd::new(vad, SPEECH_THRESHOLD),
            listen: Listener::new(setup.turn, setup.cutoff_recovery),
            transcription: TranscriptionState::default(),
            dialogue: Dialogue::new(
                setup.interview,
                setup.engine,
                setup.journal.unwrap_or_default(),
                setup.journal_key,
            ),
            playout: Playout::default(),
            restored,
            resume_grace_ms: setup.resume_grace_ms,
            next_listen_tick: now + LISTEN_TICK_MS,
            next_dialogue_tick: now + DIALOGUE_TICK_MS,
            next_progress: now + PROGRESS_EVERY_MS,
            over: false,
        }
    }

    /// Whether the session has ended ([`Output::Ended`] was given).
    pub fn is_over(&self) -> bool {
        self.over
    }

    #[cfg(test)]
    fn interview(&self) -> &Interview {
        self.dialogue.interview()
    }

    pub fn poll_output(&mut self) -> Option<Output> {
        self.cx.outputs.pop_front()
    }

    /// When [`Session::handle_timeout`] is next due (None: the session is over).
    pub fn poll_timeout(&self) -> Option<u64> {
        if self.over {
            return None;
        }
        let ticks = self.next_listen_tick.min(self.next_dialogue_tick);
        Some(match self.playout.next_due(self.now) {
            Some(due) => ticks.min(due.max(self.now)),
            None => ticks,
        })
    }

    pub fn handle_timeout(&mut self, now: u64) {
        if self.over {
            return;
        }
        self.now = self.now.max(now);
        let now = self.now;
        if now >= self.next_listen_tick {
            self.next_listen_tick = now + LISTEN_TICK_MS;
            self.listen.tick(now, &mut self.cx);
        }
        if now >= self.next_dialogue_tick {
            self.next_dialogue_tick = now + DIALOGUE_TICK_MS;
            if self
                .link
                .detached_since
                .is_some_and(|t| now.saturating_sub(t) >= self.resume_grace_ms)
            {
                tracing::info!("no resume within the grace period: candidate left");
                self.link.detached_since = None;
                // Nobody listens: end now, not after what the interviewer was saying.
                self.playout.stop(now, now, "left", &mut self.cx);
                self.dialogue.left(now, &mut self.cx);
            }
            // Nobody is there to hear it: no reprompt, move-on or time-up is said to an empty
            // line (the checks resume when a transport is back).
            if self.link.detached_since.is_none() {
                self.dialogue.tick(now, &mut self.cx);
            }
            if now >= self.next_progress {
                self.next_progress = now + PROGRESS_EVERY_MS;
                self.dialogue.progress(now, &mut self.cx);
            }
        }
        self.settle();
    }

    pub fn handle_input(&mut self, now: u64, input: Input) {
        if self.over {
            return;
        }
        self.now = self.now.max(now);
        let now = self.now;
        match input {
            Input::Transport(msg) => self.transport(now, msg),
            Input::Transcribed { pass, result } => self.transcribed(now, pass, result),
            Input::Acoustic {
                speech_end_ms,
                p_complete,
            } => self
                .listen
                .acoustic(speech_end_ms, p_complete, &mut self.cx),
            Input::Synthesized { utterance, samples } => self.playout.audio(utterance, &samples),
            Input::SynthesisDone { utterance } => self.playout.rendered(utterance),
        }
        self.settle();
    }

    fn transport(&mut self, now: u64, msg: Inbound) {
        match msg {
            Inbound::Audio(samples) => self.candidate_audio(now, samples),
            Inbound::Attached { resumed } => {
                let away_ms = self.link.detached_since.map(|t| now.saturating_sub(t));
                self.link.detached_since = None;
                self.link.attached = true;
                self.link.welcomed_back = false;
                tracing::info!(resumed, away_ms, "transport attached");
                if !self.link.started {
                    self.link.started = true;
                    if self.restored {
                        self.dialogue.resume(&mut self.cx);
                    } else {
                        self.dialogue.start(now, &mut self.cx);
                    }
                } else if away_ms.is_some_and(|ms| ms >= REJOIN_REPEAT_AFTER_MS) {
                    self.rejoined(now);
                }
            }
            Inbound::Rejoined => {
                if self.link.started && self.link.attached && !self.link.welcomed_back {
                    self.rejoined(now);
                }
            }
            Inbound::Detached => {
                if self.link.attached || self.link.detached_since.is_none() {
                    tracing::info!("transport lost; waiting for a resume");
                    self.link.detached_since = Some(now);
                }
                self.link.attached = false;
            }
            Inbound::TextAnswer(text) => self.dialogue.answer(now, text, None, None, &mut self.cx),
            Inbound::Repeat => {
                let asked = repeat_request(self.dialogue.language()).to_string();
                self.dialogue.answer(now, asked, None, None, &mut self.cx)
            }
            Inbound::Bye => {
                // At once: not after the sentence the interviewer is saying.
                self.playout.stop(now, now, "bye", &mut self.cx);
                self.dialogue.left(now, &mut self.cx);
            }
            Inbound::Pause => {
                self.playout.stop(now, now, "pause", &mut self.cx);
                let say = self.link.started && self.link.attached;
                self.dialogue.pause(now, say, &mut self.cx);
            }
            Inbound::Expire => self.dialogue.expire(&mut self.cx),
        }
    }

    /// The candidate is back after missing what was said: the standing question again.
    fn rejoined(&mut self, now: u64) {
        self.link.welcomed_back = true;
        // Whatever was being said went to nobody.
        self.playout.stop(now, now, "rejoined", &mut self.cx);
        self.dialogue.rejoined(&mut self.cx);
    }

    /// Candidate audio: stamped on the session clock by sample count (exact, so the recording
    /// does not drift), re-anchored when the transport stalls, recorded, then through the VAD.
    fn candidate_audio(&mut self, now: u64, samples: Vec<f32>) {
        if samples.is_empty() {
            return;
        }
        let wall = ms_to_samples(now, RATE);
        let len = samples.len() as u64;
        let start = match self.link.next_index {
            Some(n) if n + ms_to_samples(MAX_BEHIND_MS, RATE) >= wall => n,
            _ => wall.saturating_sub(len),
        };
        if start > wall + ms_to_samples(MAX_AHEAD_MS, RATE) {
            self.cx.metric(Metric::Count("flood"));
            self.cx.output(Output::Send(Outbound::Close {
                code: CLOSE_POLICY,
                reason: "audio arrives faster than real time".into(),
            }));
            return;
        }
        self.link.next_index = Some(start + len);
        let frame = match AudioFrame::new(samples, RATE, start) {
            Ok(f) => f,
            Err(e) => {
                self.cx.metric(Metric::Count("bad_frame"));
                tracing::debug!(error = %e, "frame refused");
                return;
            }
        };
        self.cx
            .output(Output::Record(Track::Candidate, frame.clone()));
        match self.front.push(&frame) {
            Ok((Some(frame), chunks)) => self.listen.audio(&frame, chunks, &mut self.cx),
            Ok((None, _)) => {}
            Err(e) => tracing::warn!(error = %e, "VAD failed on a frame"),
        }
    }

    fn transcribed(&mut self, now: u64, seq: u64, result: Result<PassResult, TranscribeError>) {
        let Some(pass) = self.transcription.running(seq) else {
            tracing::debug!(seq, "result of an unknown pass dropped");
            return;
        };
        tracing::debug!(seq, kind = ?pass.kind, covers = pass.covers_until_ms, now, ok = result.is_ok(), "pass done");
        let outcome = self.transcription.pass_done(pass, result);
        if pass.kind != PassKind::Final {
            self.listen.partial(
                pass.generation,
                pass.covers_until_ms,
                outcome.caption,
                &mut self.cx,
            );
        }
        // A final that waited for this pass (or whose own pass failed) needs one now.
        for planned in outcome.resubmit {
            self.submit(planned);
        }
        self.finals_ready(now);
    }

    fn submit(&mut self, planned: PlannedPass) {
        let PlannedPass {
            pass,
            samples,
            prompt,
        } = planned;
        tracing::debug!(seq = pass.seq, kind = ?pass.kind, from = pass.start_ms, covers = pass.covers_until_ms, "pass queued");
        self.cx.output(Output::Transcribe {
            pass: pass.seq,
            kind: pass.kind,
            start_ms: pass.start_ms,
            samples,
            prompt,
            language: self.dialogue.language(),
        });
    }

    /// Turns whose final text is there go to the dialogue, in turn order.
    fn finals_ready(&mut self, now: u64) {
        while let Some(fin) = self.transcription.pop_ready() {
            let (pass, how) = fin.ready.unwrap_or_default();
            let waited_ms = now.saturating_sub(fin.requested_ms);
            self.cx
                .metric(Metric::Observe("asr_final", waited_ms as f64 / 1000.0));
            tracing::info!(turn = fin.turn, text = %pass.text, waited_ms, how, "final transcript");
            self.cx
                .caption(fin.turn, true, pass.text.clone(), fin.start_ms, fin.end_ms);
            // Word times on the session clock, so evidence points into the recording.
            let words: Vec<Word> = pass
                .words
                .iter()
                .map(|w| Word {
                    text: w.text.clone(),
                    start_ms: fin.start_ms + w.start_ms,
                    end_ms: fin.start_ms + w.end_ms,
                })
                .collect();
            self.dialogue.answer(
                now,
                pass.text,
                (!words.is_empty()).then_some(words),
                Some(fin.speech_end_ms),
                &mut self.cx,
            );
        }
    }

    /// Handles every note the parts left, then plays what is due.
    fn settle(&mut self) {
        let now = self.now;
        // The interview may have switched language: the text rules of the end-of-turn
        // decision follow (transcription and voice take it from each request).
        self.listen.set_language(self.dialogue.language());
        loop {
            while let Some(note) = self.cx.notes.pop_front() {
                self.route(now, note);
            }
            match self.playout.pump(now, &mut self.cx) {
                Pumped::Waiting => {}
                Pumped::SessionOver(reason) => {
                    self.end(now, reason);
                    return;
                }
            }
            if self.cx.notes.is_empty() {
                return;
            }
        }
    }

    fn route(&mut self, now: u64, note: Note) {
        match note {
            Note::CandidateSpeaking => self.dialogue.candidate_speaking(),
            Note::BargeIn { at_ms } => self.playout.stop(now, at_ms, "barge_in", &mut self.cx),
            Note::Pass {
                kind,
                generation,
                samples,
                start_ms,
            } => {
                let planned = self
                    .transcription
                    .plan(generation, start_ms, &samples, kind);
                self.submit(planned);
            }
            Note::Final {
                turn,
                generation,
                samples,
                start_ms,
                speech_end_ms,
            } => {
                let end_ms = start_ms + samples_to_ms(samples.len() as u64, RATE);
                let fin = PendingFinal {
                    turn,
                    generation,
                    start_ms,
                    end_ms,
                    speech_end_ms,
                    samples,
                    requested_ms: now,
                    ready: None,
                    waiting_on: None,
                };
                if let Some(planned) = self.transcription.add_final(fin) {
                    // Nothing done or running covers the turn: a final pass of its own.
                    self.submit(planned);
                }
                self.finals_ready(now);
            }
            Note::Withdraw { speech_end_ms } => {
                self.playout.stop(now, now, "resume", &mut self.cx);
                self.dialogue.withdraw(now, speech_end_ms, &mut self.cx);
            }
            Note::ReleaseHeld => self.dialogue.release_held(now, &mut self.cx),
            Note::Say(say) => self.playout.say(say, &mut self.cx),
            Note::End(reason) => self.playout.end(reason),
            Note::InterviewerStarted { at_ms, text } => {
                self.listen.interviewer_started(at_ms, text, &mut self.cx)
            }
            Note::InterviewerStopped { at_ms } => {
                self.listen.interviewer_stopped(at_ms, &mut self.cx)
            }
            Note::InterviewerDone {
                at_ms,
                awaits_answer,
                utterance_id,
            } => self
                .dialogue
                .interviewer_done(at_ms, awaits_answer, &utterance_id),
        }
    }

    /// Everything before the end has played: the client hears why, the transport closes.
    fn end(&mut self, now: u64, reason: String) {
        self.dialogue.finish(now, &mut self.cx);
        self.cx
            .output(Output::Send(Outbound::Event(ServerEvent::Ended {
                reason: reason.clone(),
            })));
        let (code, why) = if reason == REASON_PAUSED {
            (
                CLOSE_SERVICE_RESTART,
                "interview paused; rejoin with the same link to resume",
            )
        } else {
            (CLOSE_NORMAL, "interview ended")
        };
        self.cx.output(Output::Send(Outbound::Close {
            code,
            reason: why.into(),
        }));
        self.cx.output(Output::Ended { reason });
        self.over = true;
        self.cx.notes.clear();
    }
}
