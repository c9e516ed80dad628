//! End-of-turn detection, sans-IO: events in (VAD-analysed audio chunks with timestamps, the
//! partial transcript, the interviewer's playback), one decision out per event. Time is passed
//! in with every event; there are no clocks, no sleeps, no audio here.
//!
//! # How a turn ends
//! A turn ends after a run of silence whose required length — the *budget* — comes from every
//! signal at hand ([`silence_budget`], which has the table):
//! - **text** ([`classify_ending`]): a complete sentence, an unfinished clause (trailing
//!   "um"/"so"/"and"/"because"/an article/a preposition, a comma, an ellipsis or a dash, an
//!   opened list with no second item), or no hint. Whisper's final period is not trusted on
//!   its own; a hypothesis that does not cover the latest speech is not trusted at all;
//! - **acoustic**: Smart Turn's probability that the speaker has finished, asked once per pause
//!   after [`TurnConfig::acoustic_after_ms`] of silence ([`TurnDetector::poll_acoustic_request`],
//!   answered by [`TurnEvent::Acoustic`]);
//! - **the question asked** ([`classify_question`] on the interviewer's words): a closed
//!   question caps acoustic doubt, an open one gives a story's first words more time;
//! - **the job's patience** ([`Patience`]).
//!
//! Budgets run from 350 ms (text and acoustic agree the answer is complete) to 2 s (a clause
//! left open), capped by [`TurnConfig::max_silence_ms`]. Every turn end carries its signals in
//! [`EndReason::Silence`] so that a wrong decision can be explained from the log.
//!
//! Sounds shorter than [`TurnConfig::min_speech_ms`] never start a turn; a turn longer than
//! [`TurnConfig::max_turn_ms`] is ended.
//!
//! # While the interviewer speaks
//! Candidate speech during interviewer playback is held as an *overlap* and classified:
//! - a transcript with at least [`TurnConfig::barge_in_min_words`] words that are neither
//!   backchannels nor echo of the interviewer's own sentence, or sustained speech of
//!   [`TurnConfig::barge_in_fallback_ms`] whose transcript is not (yet) a backchannel → [`TurnDecision::BargeIn`]:
//!   stop playback, flush the far end, the candidate has the turn;
//! - "mm-hmm", "yeah", "ok", "right"… → [`TurnDecision::Backchannel`] when it ends: the
//!   interviewer goes on (and nothing needs to resume, because nothing was stopped);
//! - words that all occur in what the interviewer is saying → [`TurnDecision::Echo`]: the
//!   interviewer heard itself through the candidate's speakers;
//! - shorter than `min_speech_ms` → ignored as noise.

mod budget;
mod text;
mod words_es_de;

pub use budget::{silence_budget, Acoustic, Budget, Patience, Signals};
use text::words;
pub use text::{
    classify_ending, classify_ending_in, classify_question, classify_question_in, dangling_clause,
    dangling_clause_in, is_backchannel, is_backchannel_in, lacks_verb, lacks_verb_in, opened_list,
    opened_list_in, Language, QuestionKind, TextEnding,
};

/// Tunables; the defaults are the ones argued for in the module docs.
#[derive(Debug, Clone, PartialEq)]
pub struct TurnConfig {
    /// Silence that ends a turn when the transcript gives no hint.
    pub silence_ms: u64,
    /// Silence that ends a turn after a complete sentence.
    pub complete_silence_ms: u64,
    /// Silence that ends a turn after an unfinished clause, a filler or a trailing connective.
    pub unfinished_silence_ms: u64,
    /// Speech shorter than this is noise: it starts no turn and no barge-in.
    pub min_speech_ms: u64,
    /// A turn is ended after this long whatever happens.
    pub max_turn_ms: u64,
    /// VAD probability at which a chunk is speech (it stays speech down to this − 0.15).
    pub speech_threshold: f32,
    /// Non-backchannel, non-echo words needed for a barge-in.
    pub barge_in_min_words: usize,
    /// Speech this long during playback is a barge-in even before words arrive (unless the
    /// words so far are a backchannel or echo).
    pub barge_in_fallback_ms: u64,
    /// Silence that closes a short utterance during playback (a backchannel or noise).
    pub overlap_gap_ms: u64,
    /// A silence this long before `min_speech_ms` is reached discards the onset as noise.
    pub onset_gap_ms: u64,
    /// Once transcripts flow for a turn, how much longer than `silence_ms` to wait for a
    /// hypothesis that covers the latest speech before deciding without one. Partials lag the
    /// audio (≈ 0.3 s + their 0.5 s period), so the last word's hint ("…and", "…because")
    /// often arrives after 600 ms of silence; deciding on the stale text cut many thinking
    /// pauses in `examples/turn_eval.rs`.
    pub stale_text_grace_ms: u64,
    /// A hypothesis counts as covering the latest speech only if it covers this much audio
    /// past it: a recogniser commits the last word only after hearing it end.
    pub text_settle_ms: u64,
    /// Silence that ends a turn when a complete sentence and the acoustic model agree.
    pub agreed_complete_ms: u64,
    /// Silence that ends a turn when the acoustic model says the speaker is not finished.
    pub incomplete_silence_ms: u64,
    /// No budget exceeds this (after [`Patience`]).
    pub max_silence_ms: u64,
    /// Acoustic probability below which the speaker is not finished.
    pub acoustic_threshold: f32,
    /// Acoustic probability from which the speaker is confidently finished (between the two:
    /// unsure, [`TurnConfig::unsure_silence_ms`]).
    pub acoustic_confident: f32,
    /// Silence that ends a turn when the acoustic model is unsure.
    pub unsure_silence_ms: u64,
    /// Whether acoustic results will come ([`TurnDetector::poll_acoustic_request`] is served):
    /// then a short budget waits for the result of the latest speech up to `silence_ms`.
    pub acoustic: bool,
    /// Silence after which the acoustic model is asked about the latest speech.
    pub acoustic_after_ms: u64,
    /// The job's patience with pauses.
    pub patience: Patience,
    /// The language the candidate speaks: which word lists the text rules use.
    pub language: Language,
}

impl Default for TurnConfig {
    fn default() -> Self {
        Self {
            silence_ms: 600,
            complete_silence_ms: 400,
            unfinished_silence_ms: 2_000,
            min_speech_ms: 200,
            max_turn_ms: 120_000,
            speech_threshold: 0.5,
            barge_in_min_words: 2,
            barge_in_fallback_ms: 1_500,
            overlap_gap_ms: 300,
            onset_gap_ms: 300,
            stale_text_grace_ms: 400,
            text_settle_ms: 120,
            agreed_complete_ms: 350,
            incomplete_silence_ms: 1_600,
            max_silence_ms: 2_500,
            acoustic_threshold: 0.5,
            acoustic_confident: 0.8,
            unsure_silence_ms: 1_500,
            acoustic: false,
            acoustic_after_ms: 120,
            patience: Patience::Normal,
            language: Language::En,
        }
    }
}

/// What the detector is told.
#[derive(Debug, Clone, PartialEq)]
pub enum TurnEvent {
    /// A VAD-analysed chunk of candidate audio, `[start_ms, end_ms)` on the session clock.
    Audio {
        start_ms: u64,
        end_ms: u64,
        speech_prob: f32,
    },
    /// The partial transcript of the candidate's current turn (replaces the previous one),
    /// covering candidate audio up to `covers_until_ms`.
    Transcript { covers_until_ms: u64, text: String },
    /// Interviewer audio started playing at the candidate's end; `text` is what it says.
    InterviewerStarted { at_ms: u64, text: String },
    /// Interviewer playback finished (or was stopped).
    InterviewerStopped { at_ms: u64 },
    /// Time passed with nothing else happening (a stalled stream still ends a turn).
    Tick { at_ms: u64 },
    /// The acoustic model's answer for the speech that ended at `speech_end_ms` (the value
    /// [`TurnDetector::poll_acoustic_request`] returned): `p_complete` that the speaker has
    /// finished. Ignored when the candidate spoke again since.
    Acoustic { speech_end_ms: u64, p_complete: f32 },
}

impl From<crate::vad::VadChunk> for TurnEvent {
    fn from(c: crate::vad::VadChunk) -> Self {
        TurnEvent::Audio {
            start_ms: c.start_ms(),
            end_ms: c.end_ms(),
            speech_prob: c.probability,
        }
    }
}

/// Why a turn ended.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum EndReason {
    /// Enough silence for what the signals said.
    Silence {
        ending: TextEnding,
        waited_ms: u64,
        /// The acoustic model's probability for the last speech, if it answered in time.
        acoustic: Option<f32>,
        question: QuestionKind,
        needed_ms: u64,
        basis: &'static str,
    },
    /// [`TurnConfig::max_turn_ms`] reached.
    MaxLength,
}

/// What the detector decided after an event.
#[derive(Debug, Clone, PartialEq)]
pub enum TurnDecision {
    /// Nothing is happening: waiting for the candidate.
    Idle,
    /// The interviewer is speaking and nothing interrupts it.
    InterviewerSpeaking,
    /// The candidate started a turn whose first speech was at `at_ms` (start streaming ASR).
    SpeechStarted { at_ms: u64 },
    /// The candidate's turn goes on; `silence_ms` of silence so far out of `needed_ms`.
    TurnContinuing { silence_ms: u64, needed_ms: u64 },
    /// The candidate's turn is over: last speech ended at `at_ms`, decided at `decided_at_ms`.
    TurnEnded {
        at_ms: u64,
        decided_at_ms: u64,
        started_at_ms: u64,
        reason: EndReason,
    },
    /// The candidate interrupts the interviewer (speech started at `at_ms`): stop playback and
    /// flush queued audio; the candidate now has the turn.
    BargeIn { at_ms: u64 },
    /// A backchannel ("mm-hmm") during playback ended: the interviewer goes on.
    Backchannel { at_ms: u64, text: String },
    /// Candidate audio that repeats the interviewer's own words: ignored.
    Echo { at_ms: u64 },
}

/// The text signals of one transcript (see [`Signals`]).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct TextView {
    ending: TextEnding,
    open_list: bool,
    open_syntax: bool,
    words: usize,
}

impl TextView {
    fn of(text: &str, lang: Language) -> Self {
        Self {
            ending: classify_ending_in(text, lang),
            open_list: opened_list_in(text, lang),
            open_syntax: dangling_clause_in(text, lang) || lacks_verb_in(text, 5, lang),
            words: words(text).len(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum State {
    Idle,
    /// Candidate sound, not yet `min_speech_ms` of it.
    Onset {
        start: u64,
        speech_ms: u64,
        last_speech: u64,
    },
    /// The candidate's turn.
    Turn {
        start: u64,
        last_speech: u64,
        speaking: bool,
    },
    /// Candidate sound while the interviewer plays.
    Overlap {
        start: u64,
        speech_ms: u64,
        last_speech: u64,
    },
}

/// The end-of-turn state machine for one session. Feed it with [`TurnDetector::handle`].
#[derive(Debug, Clone)]
pub struct TurnDetector {
    config: TurnConfig,
    state: State,
    now: u64,
    /// Hysteresis of the speech decision.
    speaking: bool,
    transcript: String,
    /// What the transcript's words say, computed once per transcript (not per audio chunk).
    text_view: TextView,
    transcript_covers: u64,
    /// A transcript arrived during the current turn (so waiting for a fresher one makes sense).
    transcript_seen: bool,
    interviewer: Option<String>,
    /// What the interviewer's latest utterance asks for (kept after it stops playing).
    question: QuestionKind,
    /// The acoustic model's answer: (speech end it judged, probability).
    acoustic: Option<(u64, f32)>,
    /// The speech end the acoustic model was last asked about.
    acoustic_asked: Option<u64>,
}

impl TurnDetector {
    pub fn new(config: TurnConfig) -> Self {
        Self {
            config,
            state: State::Idle,
            now: 0,
            speaking: false,
            transcript: String::new(),
            text_view: TextView::default(),
            transcript_covers: 0,
            transcript_seen: false,
            interviewer: None,
            question: QuestionKind::Unknown,
            acoustic: None,
            acoustic_asked: None,
        }
    }

    /// The speech end to ask the acoustic model about, once per pause: in the candidate's turn,
    /// silent for `acoustic_after_ms`, and not asked yet. The caller runs the model on the
    /// turn's audio up to now and answers with [`TurnEvent::Acoustic`].
    pub fn poll_acoustic_request(&mut self) -> Option<u64> {
        if !self.config.acoustic {
            return None;
        }
        let State::Turn {
            last_speech,
            speaking: false,
            ..
        } = self.state
        else {
            return None;
        };
        if self.acoustic_asked == Some(last_speech)
            || self.now.saturating_sub(last_speech) < self.config.acoustic_after_ms
        {
            return None;
        }
        self.acoustic_asked = Some(last_speech);
        Some(last_speech)
    }

    /// What the interviewer's latest utterance asks for.
    pub fn question(&self) -> QuestionKind {
        self.question
    }

    /// The candidate now speaks `language` (the interview switched): the text rules follow.
    pub fn set_language(&mut self, language: Language) {
        if self.config.language != language {
            self.config.language = language;
            self.text_view = TextView::of(&self.transcript, language);
        }
    }

    pub fn config(&self) -> &TurnConfig {
        &self.config
    }

    /// True while the candidate holds the turn (after `SpeechStarted` / `BargeIn`, before
    /// `TurnEnded`).
    pub fn in_turn(&self) -> bool {
        matches!(self.state, State::Turn { .. })
    }

    /// The latest time seen (events never move it backwards).
    pub fn now_ms(&self) -> u64 {
        self.now
    }

    /// Processes one event and returns the decision.
    pub fn handle(&mut self, event: TurnEvent) -> TurnDecision {
        match event {
            TurnEvent::Audio {
                start_ms,
                end_ms,
                speech_prob,
            } => {
                let start_ms = start_ms.max(self.now.min(end_ms));
                self.advance(end_ms);
                let dur = end_ms.saturating_sub(start_ms);
                let p = if speech_prob.is_finite() {
                    speech_prob
                } else {
                    0.0
                };
                let thr = self.config.speech_threshold;
                self.speaking = if self.speaking {
                    p >= thr - 0.15
                } else {
                    p >= thr
                };
                if self.speaking {
                    self.on_speech(start_ms, end_ms, dur)
                } else {
                    self.on_silence()
                }
            }
            TurnEvent::Transcript {
                covers_until_ms,
                text,
            } => {
                self.set_transcript(text);
                self.transcript_covers = covers_until_ms;
                self.transcript_seen = true;
                if let State::Overlap { start, .. } = self.state {
                    if self.words_for_barge_in() >= self.config.barge_in_min_words {
                        return self.barge_in(start);
                    }
                }
                self.on_silence_or_status()
            }
            TurnEvent::InterviewerStarted { at_ms, text } => {
                self.advance(at_ms);
                let kind = classify_question_in(&text, self.config.language);
                if kind != QuestionKind::Unknown || text.trim_end().ends_with('?') {
                    self.question = kind;
                }
                self.interviewer = Some(text);
                match self.state {
                    // Speech already in progress when playback starts: the session should not
                    // have started playback; treat the candidate's speech as an overlap.
                    State::Onset {
                        start,
                        speech_ms,
                        last_speech,
                    } => {
                        self.state = State::Overlap {
                            start,
                            speech_ms,
                            last_speech,
                        }
                    }
                    State::Turn { .. } => {
                        // Playback during the candidate's turn (e.g. a time-limit prompt): the
                        // turn stays the candidate's; it ends by the normal rules.
                    }
                    _ => {}
                }
                self.status()
            }
            TurnEvent::InterviewerStopped { at_ms } => {
                self.advance(at_ms);
                self.interviewer = None;
                if let State::Overlap {
                    start,
                    speech_ms,
                    last_speech,
                } = self.state
                {
                    // The candidate goes on speaking after playback ended: an ordinary onset.
                    self.state = State::Onset {
                        start,
                        speech_ms,
                        last_speech,
                    };
                    self.clear_transcript_if_backchannel();
                }
                self.on_silence_or_status()
            }
            TurnEvent::Tick { at_ms } => {
                self.advance(at_ms);
                self.on_silence_or_status()
            }
            TurnEvent::Acoustic {
                speech_end_ms,
                p_complete,
            } => {
                if let State::Turn { last_speech, .. } = self.state {
                    if last_speech == speech_end_ms {
                        let p = if p_complete.is_finite() {
                            p_complete.clamp(0.0, 1.0)
                        } else {
                            0.5
                        };
                        self.acoustic = Some((speech_end_ms, p));
                    }
                }
                self.on_silence_or_status()
            }
        }
    }

    fn advance(&mut self, t: u64) {
        self.now = self.now.max(t);
    }

    fn on_speech(&mut self, start: u64, end: u64, dur: u64) -> TurnDecision {
        let cfg = &self.config;
        match self.state.clone() {
            State::Idle if self.interviewer.is_some() => {
                self.clear_transcript();
                self.transcript_seen = false;
                self.state = State::Overlap {
                    start,
                    speech_ms: dur,
                    last_speech: end,
                };
                self.check_overlap()
            }
            State::Idle => {
                self.clear_transcript();
                self.transcript_seen = false;
                self.state = State::Onset {
                    start,
                    speech_ms: dur,
                    last_speech: end,
                };
                self.check_onset()
            }
            State::Onset {
                start, speech_ms, ..
            } => {
                self.state = State::Onset {
                    start,
                    speech_ms: speech_ms + dur,
                    last_speech: end,
                };
                self.check_onset()
            }
            State::Overlap {
                start, speech_ms, ..
            } => {
                self.state = State::Overlap {
                    start,
                    speech_ms: speech_ms + dur,
                    last_speech: end,
                };
                self.check_overlap()
            }
            State::Turn { start, .. } => {
                self.state = State::Turn {
                    start,
                    last_speech: end,
                    speaking: true,
                };
                if end.saturating_sub(start) >= cfg.max_turn_ms {
                    return self.end_turn(EndReason::MaxLength);
                }
                TurnDecision::TurnContinuing {
                    silence_ms: 0,
                    needed_ms: self.needed_silence().1,
                }
            }
        }
    }

    fn check_onset(&mut self) -> TurnDecision {
        if let State::Onset {
            start,
            speech_ms,
            last_speech,
        } = self.state
        {
            if speech_ms >= self.config.min_speech_ms {
                self.state = State::Turn {
                    start,
                    last_speech,
                    speaking: true,
                };
                return TurnDecision::SpeechStarted { at_ms: start };
            }
        }
        self.status()
    }

    fn check_overlap(&mut self) -> TurnDecision {
        if let State::Overlap {
            start, speech_ms, ..
        } = self.state
        {
            let words_so_far_excuse = is_backchannel_in(&self.transcript, self.config.language)
                || self.is_echo(&self.transcript);
            if speech_ms >= self.config.barge_in_fallback_ms && !words_so_far_excuse {
                return self.barge_in(start);
            }
        }
        self.status()
    }

    fn barge_in(&mut self, start: u64) -> TurnDecision {
        let last_speech = match self.state {
            State::Overlap { last_speech, .. } => last_speech,
            _ => self.now,
        };
        self.interviewer = None;
        self.state = State::Turn {
            start,
            last_speech,
            speaking: self.speaking,
        };
        TurnDecision::BargeIn { at_ms: start }
    }

    fn on_silence(&mut self) -> TurnDecision {
        if let State::Turn {
            start, last_speech, ..
        } = self.state
        {
            self.state = State::Turn {
                start,
                last_speech,
                speaking: false,
            };
        }
        self.on_silence_or_status()
    }

    /// Applies the silence rules at `self.now`, whatever event brought us here.
    fn on_silence_or_status(&mut self) -> TurnDecision {
        let now = self.now;
        match self.state.clone() {
            State::Onset { last_speech, .. }
                if !self.speaking
                    && now.saturating_sub(last_speech) >= self.config.onset_gap_ms =>
            {
                self.state = State::Idle;
                self.status()
            }
            State::Overlap {
                start,
                speech_ms,
                last_speech,
            } if !self.speaking
                && now.saturating_sub(last_speech) >= self.config.overlap_gap_ms =>
            {
                self.state = State::Idle;
                let text = self.clear_transcript();
                if speech_ms < self.config.min_speech_ms {
                    self.status()
                } else if self.is_echo(&text) {
                    TurnDecision::Echo { at_ms: start }
                } else {
                    TurnDecision::Backchannel { at_ms: start, text }
                }
            }
            State::Turn {
                start,
                last_speech,
                speaking,
            } => {
                if now.saturating_sub(start) >= self.config.max_turn_ms {
                    return self.end_turn(EndReason::MaxLength);
                }
                if speaking {
                    return TurnDecision::TurnContinuing {
                        silence_ms: 0,
                        needed_ms: self.needed_silence().1,
                    };
                }
                let silence = now.saturating_sub(last_speech);
                let (ending, budget, acoustic) = self.budget();
                if silence >= budget.needed_ms {
                    self.end_turn(EndReason::Silence {
                        ending,
                        waited_ms: silence,
                        acoustic,
                        question: self.question,
                        needed_ms: budget.needed_ms,
                        basis: budget.basis,
                    })
                } else {
                    TurnDecision::TurnContinuing {
                        silence_ms: silence,
                        needed_ms: budget.needed_ms,
                    }
                }
            }
            _ => self.status(),
        }
    }

    fn set_transcript(&mut self, text: String) {
        self.text_view = TextView::of(&text, self.config.language);
        self.transcript = text;
    }

    /// Empties the transcript and returns what it held.
    fn clear_transcript(&mut self) -> String {
        self.text_view = TextView::default();
        std::mem::take(&mut self.transcript)
    }

    /// The text's ending and the silence it requires (see [`silence_budget`]).
    fn needed_silence(&self) -> (TextEnding, u64) {
        let (ending, budget, _) = self.budget();
        (ending, budget.needed_ms)
    }

    fn budget(&self) -> (TextEnding, Budget, Option<f32>) {
        let text = self.text_view;
        let mut ending = text.ending;
        let last_speech = match self.state {
            State::Turn { last_speech, .. } => last_speech,
            _ => self.now,
        };
        // A hypothesis made before the latest speech ended may be missing the words that
        // followed: a "complete" one is not trusted for the short wait, and (once transcripts
        // flow) a fresher one is awaited for up to `stale_text_grace_ms` more.
        let stale = self.transcript_covers < last_speech + self.config.text_settle_ms;
        if ending == TextEnding::Complete && stale {
            ending = TextEnding::Neutral;
        }
        let acoustic = self
            .acoustic
            .filter(|(at, _)| *at == last_speech)
            .map(|(_, p)| p);
        let signals = Signals {
            text: ending,
            open_list: text.open_list,
            open_syntax: text.open_syntax,
            words: text.words,
            awaiting_text: stale && self.transcript_seen,
            acoustic: acoustic.map_or(Acoustic::Unknown, Acoustic::Said),
            question: self.question,
            patience: self.config.patience,
        };
        let mut budget = silence_budget(&signals, &self.config);
        // The acoustic model was asked and has not answered yet: a short budget waits for it
        // (up to `silence_ms`), so that a slow model delays a reply rather than cuts one off.
        if self.config.acoustic && acoustic.is_none() && budget.needed_ms < self.config.silence_ms {
            budget = Budget {
                needed_ms: self.config.silence_ms,
                basis: "awaiting the acoustic model",
            };
        }
        (ending, budget, acoustic)
    }

    fn end_turn(&mut self, reason: EndReason) -> TurnDecision {
        let (start, last_speech) = match self.state {
            State::Turn {
                start, last_speech, ..
            } => (start, last_speech),
            _ => (self.now, self.now),
        };
        self.state = State::Idle;
        self.speaking = false;
        self.clear_transcript();
        self.transcript_covers = 0;
        self.transcript_seen = false;
        self.acoustic = None;
        TurnDecision::TurnEnded {
            at_ms: last_speech,
            decided_at_ms: self.now,
            started_at_ms: start,
            reason,
        }
    }

    fn status(&self) -> TurnDecision {
        match self.state {
            State::Turn {
                last_speech,
                speaking,
                ..
            } => TurnDecision::TurnContinuing {
                silence_ms: if speaking {
                    0
                } else {
                    self.now.saturating_sub(last_speech)
                },
                needed_ms: self.needed_silence().1,
            },
            _ if self.interviewer.is_some() => TurnDecision::InterviewerSpeaking,
            _ => TurnDecision::Idle,
        }
    }

    fn words_for_barge_in(&self) -> usize {
        if self.is_echo(&self.transcript) {
            return 0;
        }
        let ws = words(&self.transcript);
        let lists = self.config.language.words();
        if ws.iter().any(|w| lists.interrupt.contains(&w.as_str())) {
            return usize::MAX;
        }
        ws.iter()
            .filter(|w| !lists.backchannel.contains(&w.as_str()))
            .count()
    }

    /// Candidate words that all occur in the interviewer's current sentence are its echo.
    fn is_echo(&self, text: &str) -> bool {
        let Some(said) = self.interviewer.as_deref() else {
            return false;
        };
        let said = words(said);
        let heard = words(text);
        heard.len() >= 2 && heard.iter().all(|w| said.contains(w))
    }

    fn clear_transcript_if_backchannel(&mut self) {
        if is_backchannel_in(&self.transcript, self.config.language) {
            self.clear_transcript();
        }
    }
}

impl Default for TurnDetector {
    fn default() -> Self {
        Self::new(TurnConfig::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A synthetic timeline: 20 ms VAD chunks, transcripts and playback events at given times.
    struct Sim {
        det: TurnDetector,
        t: u64,
        log: Vec<(u64, TurnDecision)>,
    }

    impl Sim {
        fn new() -> Self {
            Self::with(TurnConfig::default())
        }
        fn with(cfg: TurnConfig) -> Self {
            Self {
                det: TurnDetector::new(cfg),
                t: 0,
                log: Vec::new(),
            }
        }
        fn audio(&mut self, ms: u64, prob: f32) -> &mut Self {
            let end = self.t + ms;
            while self.t < end {
                let e = TurnEvent::Audio {
                    start_ms: self.t,
                    end_ms: self.t + 20,
                    speech_prob: prob,
                };
                self.t += 20;
                let d = self.det.handle(e);
                self.log.push((self.t, d));
            }
            self
        }
        fn speech(&mut self, ms: u64) -> &mut Self {
            self.audio(ms, 0.9)
        }
        fn silence(&mut self, ms: u64) -> &mut Self {
            self.audio(ms, 0.05)
        }
        fn text(&mut self, text: &str) -> &mut Self {
            let d = self.det.handle(TurnEvent::Transcript {
                covers_until_ms: self.t,
                text: text.into(),
            });
            self.log.push((self.t, d));
            self
        }
        fn event(&mut self, e: TurnEvent) -> &mut Self {
            let d = self.det.handle(e);
            self.log.push((self.t, d));
            self
        }
        fn ends(&self) -> Vec<(u64, u64)> {
            self.log
                .iter()
                .filter_map(|(_, d)| match d {
                    TurnDecision::TurnEnded {
                        at_ms,
                        decided_at_ms,
                        ..
                    } => Some((*at_ms, *decided_at_ms)),
                    _ => None,
                })
                .collect()
        }
        fn count(&self, f: impl Fn(&TurnDecision) -> bool) -> usize {
            self.log.iter().filter(|(_, d)| f(d)).count()
        }
    }

    #[test]
    fn classifies_endings() {
        assert_eq!(classify_ending(""), TextEnding::Empty);
        assert_eq!(classify_ending("I'd use a hash map."), TextEnding::Complete);
        assert_eq!(classify_ending("Is that right?"), TextEnding::Complete);
        assert_eq!(
            classify_ending("I'd use a hash map because."),
            TextEnding::Unfinished
        );
        assert_eq!(classify_ending("so first, um"), TextEnding::Unfinished);
        assert_eq!(classify_ending("and then,"), TextEnding::Unfinished);
        assert_eq!(classify_ending("I think..."), TextEnding::Unfinished);
        assert_eq!(classify_ending("It depends on the"), TextEnding::Unfinished);
        assert_eq!(
            classify_ending("It depends on the load"),
            TextEnding::Neutral
        );
        assert_eq!(
            classify_ending("Could you repeat that?"),
            TextEnding::Complete
        );
        assert_eq!(
            classify_ending("and I would pick the one that"),
            TextEnding::Unfinished
        );
        assert!(is_backchannel("Mm-hmm."));
        assert!(is_backchannel("yeah, okay"));
        assert!(is_backchannel("I see."));
        assert!(!is_backchannel("wait, I have a question"));
        assert!(!is_backchannel(""));
    }

    #[test]
    fn plain_turn_ends_after_default_silence() {
        let mut s = Sim::new();
        s.silence(500).speech(2_000).silence(1_000);
        assert_eq!(
            s.count(|d| matches!(d, TurnDecision::SpeechStarted { at_ms: 500 })),
            1
        );
        assert_eq!(s.ends(), vec![(2_500, 3_100)]);
    }

    #[test]
    fn complete_sentence_ends_sooner() {
        let mut s = Sim::new();
        s.speech(1_500)
            .silence(200)
            .text("I would use a hash map.")
            .silence(1_000);
        assert_eq!(s.ends(), vec![(1_500, 1_900)]);
        // Without a settled hypothesis the fast path is not taken (600 + 400 ms of grace).
        let mut s = Sim::new();
        s.speech(1_500)
            .text("I would use a hash map.")
            .silence(1_200);
        assert_eq!(s.ends(), vec![(1_500, 2_500)]);
    }

    /// A Sim whose detector expects acoustic answers; `answer` plays the model.
    fn acoustic_sim() -> Sim {
        Sim::with(TurnConfig {
            acoustic: true,
            ..TurnConfig::default()
        })
    }

    /// Runs silence in 20 ms steps, answering the detector's acoustic request with `p`.
    fn silence_answering(s: &mut Sim, ms: u64, p: f32) {
        for _ in 0..ms / 20 {
            s.silence(20);
            if let Some(speech_end_ms) = s.det.poll_acoustic_request() {
                s.event(TurnEvent::Acoustic {
                    speech_end_ms,
                    p_complete: p,
                });
            }
        }
    }

    #[test]
    fn acoustic_doubt_waits_through_a_thinking_pause_after_a_period() {
        // Whisper closed the half sentence with a period; Smart Turn hears it is not over.
        let mut s = acoustic_sim();
        s.speech(1_500)
            .silence(200)
            .text("We moved the billing service.");
        silence_answering(&mut s, 1_200, 0.1);
        assert!(
            s.ends().is_empty(),
            "cut off in a 1.2 s pause: {:?}",
            s.ends()
        );
        s.speech(800);
        silence_answering(&mut s, 2_000, 0.9);
        assert_eq!(s.ends().len(), 1);
        // Agreement ends the turn sooner than text alone.
        let mut s = acoustic_sim();
        s.speech(1_500).silence(200).text("I would use a hash map.");
        silence_answering(&mut s, 1_000, 0.9);
        assert_eq!(s.ends(), vec![(1_500, 1_860)]);
    }

    #[test]
    fn acoustic_is_asked_once_per_pause_and_a_late_answer_is_ignored() {
        let mut s = acoustic_sim();
        s.speech(1_000).silence(100);
        assert_eq!(s.det.poll_acoustic_request(), None, "too early");
        s.silence(40);
        assert_eq!(s.det.poll_acoustic_request(), Some(1_000));
        assert_eq!(s.det.poll_acoustic_request(), None, "asked already");
        // The candidate goes on before the answer comes: it is for old speech.
        s.speech(500)
            .silence(200)
            .text("and then we sharded the table.");
        s.event(TurnEvent::Acoustic {
            speech_end_ms: 1_000,
            p_complete: 0.99,
        });
        s.silence(160);
        assert!(
            s.ends().is_empty(),
            "a stale answer must not shorten the wait"
        );
        // Without an answer at all, a short budget waits `silence_ms` for it.
        s.silence(400);
        assert_eq!(s.ends(), vec![(1_640, 2_240)]);
    }

    #[test]
    fn the_question_asked_is_remembered_and_open_questions_give_time_to_start() {
        let mut s = acoustic_sim();
        interviewer(&mut s, "Tell me about a time you fixed a slow query.");
        s.event(TurnEvent::InterviewerStopped { at_ms: s.t });
        assert_eq!(s.det.question(), QuestionKind::Open);
        s.silence(200).speech(600).silence(200).text("Sure.");
        silence_answering(&mut s, 1_000, 0.9);
        assert!(
            s.ends().is_empty(),
            "a story's first word is not the answer"
        );
        let mut s = acoustic_sim();
        interviewer(&mut s, "Do you have the right to work in the EU?");
        s.event(TurnEvent::InterviewerStopped { at_ms: s.t });
        s.silence(200).speech(600).silence(200).text("Yes.");
        silence_answering(&mut s, 1_200, 0.2);
        assert_eq!(s.ends().len(), 1, "a closed answer is not held for long");
        match s.log.iter().find_map(|(_, d)| match d {
            TurnDecision::TurnEnded { reason, .. } => Some(*reason),
            _ => None,
        }) {
            Some(EndReason::Silence {
                acoustic, question, ..
            }) => {
                assert_eq!(acoustic, Some(0.2));
                assert_eq!(question, QuestionKind::Closed);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn stale_complete_hypothesis_is_not_trusted() {
        let mut s = Sim::new();
        // The hypothesis stops at 1 s but speech went on to 2 s.
        s.speech(1_000)
            .text("I would use a hash map.")
            .speech(1_000)
            .silence(1_200);
        // No fresher hypothesis arrives: 600 ms + 400 ms of grace.
        assert_eq!(s.ends(), vec![(2_000, 3_000)]);
        // A fresh neutral hypothesis covering the end arrives 300 ms into the silence.
        let mut s = Sim::new();
        s.speech(1_000)
            .text("I would use a hash map.")
            .speech(1_000)
            .silence(300);
        s.det.handle(TurnEvent::Transcript {
            covers_until_ms: 2_250,
            text: "I would use a hash map with a lock".into(),
        });
        s.silence(900);
        assert_eq!(s.ends(), vec![(2_000, 2_600)]);
    }

    #[test]
    fn thinking_pauses_with_unfinished_text_do_not_end_the_turn() {
        for (text, pause) in [
            ("I would use a hash map because", 1_200),
            ("So the first thing, um", 1_500),
            ("We could shard it by user and", 800),
            ("The complexity is O of n,", 1_000),
            ("I think...", 1_900),
            ("I'd put the cache in front of the.", 600),
        ] {
            let mut s = Sim::new();
            s.speech(2_000).text(text).silence(pause).speech(1_500);
            assert!(
                s.ends().is_empty(),
                "{text:?} with a {pause} ms pause ended the turn"
            );
            s.silence(200)
                .text("and that keeps reads fast.")
                .silence(1_000);
            assert_eq!(s.ends(), vec![(3_500 + pause, 3_900 + pause)], "{text:?}");
        }
    }

    #[test]
    fn unfinished_text_still_ends_eventually() {
        let mut s = Sim::new();
        s.speech(1_000).text("and so").silence(3_000);
        assert_eq!(s.ends(), vec![(1_000, 3_000)]);
    }

    #[test]
    fn neutral_pause_mid_answer_without_text_hint() {
        // Without any text hint 600 ms ends the turn: the transcript is the lever.
        let mut s = Sim::new();
        s.speech(1_000).silence(700);
        assert_eq!(s.ends().len(), 1);
    }

    #[test]
    fn short_noises_start_no_turn() {
        let mut s = Sim::new();
        s.silence(200)
            .speech(100)
            .silence(1_000)
            .speech(60)
            .silence(2_000);
        assert_eq!(
            s.count(|d| matches!(d, TurnDecision::SpeechStarted { .. })),
            0
        );
        assert!(s.ends().is_empty());
        assert!(matches!(s.log.last(), Some((_, TurnDecision::Idle))));
    }

    #[test]
    fn max_turn_length_is_enforced() {
        let mut s = Sim::with(TurnConfig {
            max_turn_ms: 5_000,
            ..TurnConfig::default()
        });
        s.speech(6_000);
        let ended: Vec<_> = s
            .log
            .iter()
            .filter_map(|(_, d)| match d {
                TurnDecision::TurnEnded {
                    reason,
                    decided_at_ms,
                    ..
                } => Some((*reason, *decided_at_ms)),
                _ => None,
            })
            .collect();
        assert_eq!(ended.first(), Some(&(EndReason::MaxLength, 5_000)));
    }

    #[test]
    fn stalled_stream_ends_the_turn_on_ticks() {
        let mut s = Sim::new();
        s.speech(1_000).silence(100);
        s.event(TurnEvent::Tick { at_ms: 1_400 });
        assert!(s.ends().is_empty());
        s.event(TurnEvent::Tick { at_ms: 1_700 });
        assert_eq!(s.ends(), vec![(1_000, 1_700)]);
    }

    fn interviewer(s: &mut Sim, text: &str) {
        let at_ms = s.t;
        s.event(TurnEvent::InterviewerStarted {
            at_ms,
            text: text.into(),
        });
    }

    #[test]
    fn backchannel_does_not_interrupt_the_interviewer() {
        let mut s = Sim::new();
        interviewer(
            &mut s,
            "Tell me about a time you disagreed with a teammate.",
        );
        s.silence(800).speech(400).text("Mm-hmm.").silence(400);
        s.silence(300).speech(300).text("yeah okay").silence(500);
        assert_eq!(s.count(|d| matches!(d, TurnDecision::BargeIn { .. })), 0);
        assert_eq!(
            s.count(|d| matches!(d, TurnDecision::Backchannel { .. })),
            2
        );
        assert_eq!(
            s.count(|d| matches!(d, TurnDecision::SpeechStarted { .. })),
            0
        );
        assert!(matches!(
            s.log.last(),
            Some((_, TurnDecision::InterviewerSpeaking))
        ));
        // The interviewer finishes; the candidate answers normally.
        let at_ms = s.t;
        s.event(TurnEvent::InterviewerStopped { at_ms });
        s.silence(300)
            .speech(1_500)
            .silence(200)
            .text("We disagreed once, on a design review.")
            .silence(400);
        assert_eq!(s.ends().len(), 1);
    }

    #[test]
    fn real_words_barge_in() {
        let mut s = Sim::new();
        interviewer(
            &mut s,
            "Explain how a B-tree index works and when you would use one.",
        );
        s.silence(500).speech(500).text("Sorry, could you repeat");
        assert_eq!(
            s.log.last().map(|(_, d)| d.clone()),
            Some(TurnDecision::BargeIn { at_ms: 500 })
        );
        assert!(s.det.in_turn());
        s.speech(500)
            .text("Sorry, could you repeat that?")
            .silence(1_000);
        assert_eq!(s.ends().len(), 1);
    }

    #[test]
    fn sustained_speech_barges_in_before_words_arrive() {
        let mut s = Sim::new();
        interviewer(&mut s, "What is a mutex?");
        s.speech(1_600);
        assert_eq!(
            s.count(|d| matches!(d, TurnDecision::BargeIn { at_ms: 0 })),
            1
        );
    }

    #[test]
    fn long_backchannel_is_still_a_backchannel() {
        let mut s = Sim::new();
        interviewer(&mut s, "What is a mutex?");
        s.speech(300).text("yeah yeah").speech(1_500).silence(400);
        assert_eq!(s.count(|d| matches!(d, TurnDecision::BargeIn { .. })), 0);
        assert_eq!(
            s.count(|d| matches!(d, TurnDecision::Backchannel { .. })),
            1
        );
    }

    #[test]
    fn echo_of_the_interviewer_is_ignored() {
        let mut s = Sim::new();
        interviewer(&mut s, "How would you design a rate limiter for an API?");
        s.speech(800).text("design a rate limiter").silence(400);
        assert_eq!(s.count(|d| matches!(d, TurnDecision::BargeIn { .. })), 0);
        assert_eq!(s.count(|d| matches!(d, TurnDecision::Echo { .. })), 1);
    }

    #[test]
    fn noise_during_playback_is_ignored() {
        let mut s = Sim::new();
        interviewer(&mut s, "Next question.");
        s.speech(100).silence(500);
        assert_eq!(
            s.count(|d| !matches!(d, TurnDecision::InterviewerSpeaking)),
            0
        );
    }

    #[test]
    fn time_going_backwards_does_not_confuse_it() {
        let mut det = TurnDetector::default();
        det.handle(TurnEvent::Tick { at_ms: 10_000 });
        let d = det.handle(TurnEvent::Audio {
            start_ms: 5_000,
            end_ms: 5_020,
            speech_prob: f32::NAN,
        });
        assert_eq!(d, TurnDecision::Idle);
        assert_eq!(det.now_ms(), 10_000);
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_timelines_never_panic_and_stay_ordered(
            steps in proptest::collection::vec((0u8..6, 0u64..3_000, proptest::num::f32::ANY), 0..200)
        ) {
            let mut det = TurnDetector::default();
            let mut t = 0u64;
            for (kind, dt, p) in steps {
                let ev = match kind {
                    0 | 1 => { let s = t; t += dt % 100 + 1; TurnEvent::Audio { start_ms: s, end_ms: t, speech_prob: p } }
                    2 => TurnEvent::Transcript { covers_until_ms: t, text: ["", "um", "so and", "Done.", "yeah", "wait what"][(dt % 6) as usize].into() },
                    3 => TurnEvent::InterviewerStarted { at_ms: t, text: "what is a mutex".into() },
                    4 => TurnEvent::InterviewerStopped { at_ms: t },
                    _ => { t += dt; TurnEvent::Tick { at_ms: t } }
                };
                if let TurnDecision::TurnEnded { at_ms, decided_at_ms, started_at_ms, .. } = det.handle(ev) {
                    proptest::prop_assert!(started_at_ms <= at_ms && at_ms <= decided_at_ms);
                }
            }
        }
    }
}
