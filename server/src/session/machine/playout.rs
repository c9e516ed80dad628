//! The interviewer's side: utterances queued in order, their audio paced to the client in real
//! time (20 ms frames, a little ahead), the interviewer track of the recording, and stopping at
//! once on a barge-in (sans-IO: session time in, outputs and notes out).

use std::collections::VecDeque;

use viva_audio::{AudioFrame, Track};

use super::super::messages::{Outbound, ServerEvent};
use super::messages::{Cx, Metric, Note, Output, Say, FRAME_MS, RATE};

const FRAME_SAMPLES: usize = 320;
/// How far ahead of real time interviewer audio is sent: what a barge-in may leave queued at the
/// client before the flush arrives, and what covers network jitter.
pub(super) const PLAYOUT_LEAD_MS: u64 = 120;

/// One utterance: its text is known at once, its audio arrives as the voice renders it.
struct Utterance {
    /// This session's render id (increasing): what synthesis chunks are matched by.
    id: u64,
    say: Say,
    frames: VecDeque<Vec<f32>>,
    /// Every chunk has arrived (or rendering failed): the utterance ends after its frames.
    rendered: bool,
}

enum Entry {
    Utterance(Utterance),
    /// The session ends here, after everything queued before it has played.
    SessionEnd(String),
}

/// What the playout queue decided at a step.
pub(super) enum Pumped {
    Waiting,
    /// Everything before the session's end has played: end with this reason.
    SessionOver(String),
}

#[derive(Default)]
pub(super) struct Playout {
    queue: VecDeque<Entry>,
    /// Session ms at which the next frame plays at the client.
    play_clock: u64,
    /// The utterance playing: (id, utterance id, awaits_answer).
    current: Option<(u64, String, bool)>,
    /// Set at an utterance start that answers a turn: the candidate's last speech.
    first_audio_for: Option<u64>,
    next_id: u64,
}

impl Playout {
    /// Queues an utterance and asks for its audio.
    pub fn say(&mut self, say: Say, cx: &mut Cx) {
        self.next_id += 1;
        let id = self.next_id;
        cx.output(Output::Synthesize {
            utterance: id,
            text: say.text.clone(),
            language: say.language,
        });
        self.queue.push_back(Entry::Utterance(Utterance {
            id,
            say,
            frames: VecDeque::new(),
            rendered: false,
        }));
    }

    /// Queues the session's end after what is queued (the closing words play out first).
    pub fn end(&mut self, reason: String) {
        tracing::debug!(queued = self.queue.len(), "session end queued");
        self.queue.push_back(Entry::SessionEnd(reason));
    }

    fn utterance(&mut self, id: u64) -> Option<&mut Utterance> {
        self.queue.iter_mut().find_map(|e| match e {
            Entry::Utterance(u) if u.id == id => Some(u),
            _ => None,
        })
    }

    /// Rendered audio of utterance `id` (dropped when the utterance was stopped).
    pub fn audio(&mut self, id: u64, samples: &[f32]) {
        let Some(u) = self.utterance(id) else {
            tracing::debug!(id, "stale audio dropped after a stop");
            return;
        };
        for c in samples.chunks(FRAME_SAMPLES) {
            let mut f = c.to_vec();
            // A whole last frame keeps the client's framing fixed at 20 ms.
            f.resize(FRAME_SAMPLES, 0.0);
            u.frames.push_back(f);
        }
    }

    /// Utterance `id` has all its audio (or its rendering failed: it ends with what it has).
    pub fn rendered(&mut self, id: u64) {
        if let Some(u) = self.utterance(id) {
            u.rendered = true;
        }
    }

    /// Stops the interviewer at once (a barge-in, a bye, a pause, a withdrawn reply): what is
    /// queued is dropped and its rendering cancelled, the client flushes what it buffered.
    pub fn stop(&mut self, now: u64, at_ms: u64, reason: &'static str, cx: &mut Cx) {
        let dropped = self
            .queue
            .iter()
            .filter_map(|e| match e {
                Entry::Utterance(u) => Some(u.id),
                Entry::SessionEnd(_) => None,
            })
            .max();
        self.queue.retain(|e| matches!(e, Entry::SessionEnd(_)));
        if let Some(through) = dropped {
            cx.output(Output::CancelSynthesis { through });
        }
        cx.output(Output::Send(Outbound::Event(ServerEvent::Flush {
            reason: reason.into(),
        })));
        if let Some((_, utterance_id, awaits_answer)) = self.current.take() {
            cx.output(Output::Send(Outbound::Event(
                ServerEvent::InterviewerAudioEnd {
                    utterance_id,
                    interrupted: true,
                    awaits_answer,
                },
            )));
        }
        self.first_audio_for = None;
        self.play_clock = now;
        cx.note(Note::InterviewerStopped { at_ms: now });
        if reason == "barge_in" {
            cx.metric(Metric::Observe(
                "barge_in_detect",
                now.saturating_sub(at_ms) as f64 / 1000.0,
            ));
        }
    }

    /// When the next frame (or the end of what is playing) is due, if anything waits on time.
    pub fn next_due(&self, now: u64) -> Option<u64> {
        match self.queue.front()? {
            Entry::Utterance(u) if u.frames.is_empty() && !u.rendered => None,
            Entry::Utterance(u) if !u.frames.is_empty() => {
                Some(self.play_clock.max(now).saturating_sub(PLAYOUT_LEAD_MS))
            }
            _ => Some(self.play_clock.max(now)),
        }
    }

    /// Sends what is due at `now`.
    pub fn pump(&mut self, now: u64, cx: &mut Cx) -> Pumped {
        loop {
            let Some(head) = self.queue.front_mut() else {
                return Pumped::Waiting;
            };
            match head {
                Entry::Utterance(u) => {
                    if self.current.as_ref().is_none_or(|(id, _, _)| *id != u.id) {
                        // The utterance starts: its text goes out before its audio.
                        self.play_clock = self.play_clock.max(now);
                        cx.output(Output::Send(Outbound::Event(ServerEvent::Interviewer {
                            utterance_id: u.say.utterance_id.clone(),
                            text: u.say.text.clone(),
                            kind: u.say.kind,
                            awaits_answer: u.say.awaits_answer,
                        })));
                        cx.note(Note::InterviewerStarted {
                            at_ms: self.play_clock,
                            text: u.say.text.clone(),
                        });
                        self.current =
                            Some((u.id, u.say.utterance_id.clone(), u.say.awaits_answer));
                        self.first_audio_for = u.say.speech_end_ms;
                    }
                    if !u.frames.is_empty() {
                        self.play_clock = self.play_clock.max(now);
                        if self.play_clock > now + PLAYOUT_LEAD_MS {
                            return Pumped::Waiting;
                        }
                        let Some(samples) = u.frames.pop_front() else {
                            return Pumped::Waiting;
                        };
                        if let Some(speech_end) = self.first_audio_for.take() {
                            let s = now.saturating_sub(speech_end) as f64 / 1000.0;
                            cx.metric(Metric::Response(s));
                            tracing::info!(
                                response_ms = (s * 1000.0) as u64,
                                "first interviewer audio"
                            );
                        }
                        let pcm = viva_tts::to_i16(&samples);
                        if let Ok(frame) = AudioFrame::at_ms(samples, RATE, self.play_clock) {
                            cx.output(Output::Record(Track::Interviewer, frame));
                        }
                        cx.output(Output::Send(Outbound::Audio(pcm)));
                        self.play_clock += FRAME_MS;
                        continue;
                    }
                    if !u.rendered || now < self.play_clock {
                        return Pumped::Waiting;
                    }
                    self.queue.pop_front();
                    let at_ms = self.play_clock;
                    if let Some((_, utterance_id, awaits_answer)) = self.current.take() {
                        cx.output(Output::Send(Outbound::Event(
                            ServerEvent::InterviewerAudioEnd {
                                utterance_id: utterance_id.clone(),
                                interrupted: false,
                                awaits_answer,
                            },
                        )));
                        cx.note(Note::InterviewerStopped { at_ms });
                        cx.note(Note::InterviewerDone {
                            at_ms,
                            awaits_answer,
                            utterance_id,
                        });
                    }
                }
                Entry::SessionEnd(_) => {
                    if now < self.play_clock {
                        return Pumped::Waiting;
                    }
                    let Some(Entry::SessionEnd(reason)) = self.queue.pop_front() else {
                        return Pumped::Waiting;
                    };
                    tracing::debug!(play_clock = self.play_clock, now, "closing words played");
                    return Pumped::SessionOver(reason);
                }
            }
        }
    }
}
