//! Whole interviews in fake time: the real [`Session`] with scripted workers — a VAD that hears
//! any sound, a transcriber that returns the words the candidate "said" in the audio it is
//! given, a voice that renders 300 ms per word — and no sleeps. Each test runs in milliseconds.

use std::collections::VecDeque;

use viva_audio::frame::{ms_to_samples, samples_to_ms};
use viva_audio::VoiceActivityDetector;
use viva_interview::{demo_job, EngineConfig, Interview, JobConfig};

use super::super::journal::{self, Journal, JournalKey, Logged, Snapshot};
use super::super::messages::{Inbound, Outbound, ServerEvent};
use super::*;
use viva_models::workers::{PassResult, PassWord, TranscribeError};

/// Each word the candidate says takes this long.
const WORD_MS: u64 = 300;
/// A transcription pass comes back this long after it was asked for.
const ASR_MS: u64 = 150;
/// The voice renders an utterance this long after it was asked for, 300 ms of audio a word.
const TTS_MS: u64 = 80;
const TTS_WORD_MS: u64 = 300;

/// Speech is anything louder than a whisper.
struct LoudnessVad;

impl VoiceActivityDetector for LoudnessVad {
    fn name(&self) -> &'static str {
        "loudness"
    }
    fn chunk_len(&self) -> usize {
        512
    }
    fn speech_probability(&mut self, chunk: &[f32]) -> Result<f32, viva_audio::VadError> {
        let rms = (chunk.iter().map(|s| s * s).sum::<f32>() / chunk.len() as f32).sqrt();
        Ok(if rms > 0.05 { 0.95 } else { 0.02 })
    }
    fn reset(&mut self) {}
}

/// A word the candidate said, on the session clock.
#[derive(Debug, Clone)]
struct Spoken {
    text: String,
    start_ms: u64,
    end_ms: u64,
    /// The last word of a sentence (the transcriber punctuates it).
    last: bool,
}

enum Work {
    Transcribe {
        pass: u64,
        start_ms: u64,
        end_ms: u64,
        fail: bool,
    },
    Render {
        utterance: u64,
        words: usize,
    },
    Acoustic(Input),
}

/// The session, its clock, the candidate's script and what came out.
struct Harness {
    s: Session,
    now: u64,
    /// Sentences still to say, each at its start time.
    script: VecDeque<(u64, String)>,
    spoken: Vec<Spoken>,
    /// The candidate's microphone is open from here (the transport is attached).
    mic_from: Option<u64>,
    /// Next candidate sample index.
    next_sample: u64,
    work: Vec<(u64, Work)>,
    events: Vec<(u64, ServerEvent)>,
    closed: Option<u16>,
    ended: Option<String>,
    persisted: Vec<Snapshot>,
    transcribes: usize,
    /// Every pass fails (the transcriber is down).
    asr_fails: bool,
    /// The interviewer's words, rendered by the scripted voice.
    rendered: Vec<(u64, usize)>,
    cancelled_through: u64,
}

fn setup(interview: Interview, journal: Option<Journal>, now_ms: u64) -> Setup {
    Setup {
        interview,
        engine: EngineConfig::default(),
        turn: viva_audio::TurnConfig::default(),
        cutoff_recovery: true,
        resume_grace_ms: 10_000,
        journal,
        journal_key: Some(JournalKey {
            session_id: "s".into(),
            interview_id: "i".into(),
            token_hash: "h".into(),
        }),
        now_ms,
    }
}

impl Harness {
    fn new(job: JobConfig) -> Harness {
        Harness::with(setup(Interview::new(job, EngineConfig::default()), None, 0))
    }

    fn with_engine(job: JobConfig, engine: EngineConfig) -> Harness {
        let mut s = setup(Interview::new(job, engine.clone()), None, 0);
        s.engine = engine;
        Harness::with(s)
    }

    fn with(setup: Setup) -> Harness {
        let now = setup.now_ms;
        Harness {
            s: Session::new(setup, Box::new(LoudnessVad)),
            now,
            script: VecDeque::new(),
            spoken: Vec::new(),
            mic_from: None,
            next_sample: 0,
            work: Vec::new(),
            events: Vec::new(),
            closed: None,
            ended: None,
            persisted: Vec::new(),
            transcribes: 0,
            asr_fails: false,
            rendered: Vec::new(),
            cancelled_through: 0,
        }
    }

    fn attach(&mut self) {
        self.mic_from = Some(self.now);
        self.next_sample = ms_to_samples(self.now, RATE);
        self.input(Input::Transport(Inbound::Attached { resumed: false }));
    }

    fn input(&mut self, input: Input) {
        self.s.handle_input(self.now, input);
        self.drain();
    }

    /// The candidate says `text` starting at `at_ms`.
    fn say_at(&mut self, at_ms: u64, text: &str) {
        self.script.push_back((at_ms, text.to_string()));
    }

    /// The candidate says `text` as soon as the interviewer's next question has played.
    fn answer_next_question(&mut self, text: &str) -> u64 {
        let asked = self.count(is_question_end);
        self.run_until_event(|h| h.count(is_question_end) > asked, 120_000);
        let at = self.now + 700;
        self.say_at(at, text);
        at
    }

    fn drain(&mut self) {
        while let Some(o) = self.s.poll_output() {
            match o {
                Output::Send(Outbound::Event(e)) => self.events.push((self.now, e)),
                Output::Send(Outbound::Close { code, .. }) => self.closed = Some(code),
                Output::Send(Outbound::Audio(_)) | Output::Record(..) | Output::Metric(_) => {}
                Output::Transcribe {
                    pass,
                    start_ms,
                    samples,
                    ..
                } => {
                    self.transcribes += 1;
                    let end_ms = start_ms + samples_to_ms(samples.len() as u64, RATE);
                    let fail = self.asr_fails;
                    self.work.push((
                        self.now + ASR_MS,
                        Work::Transcribe {
                            pass,
                            start_ms,
                            end_ms,
                            fail,
                        },
                    ));
                }
                Output::AskAcoustic { speech_end_ms, .. } => self.work.push((
                    self.now + 50,
                    Work::Acoustic(Input::Acoustic {
                        speech_end_ms,
                        p_complete: 0.9,
                    }),
                )),
                Output::Synthesize {
                    utterance, text, ..
                } => {
                    let words = text.split_whitespace().count();
                    self.work
                        .push((self.now + TTS_MS, Work::Render { utterance, words }));
                }
                Output::CancelSynthesis { through } => self.cancelled_through = through,
                Output::SaveTranscript(_) => {}
                Output::Persist(s) => self.persisted.push(s),
                Output::Ended { reason } => self.ended = Some(reason),
            }
        }
    }

    /// Where the candidate's audio has reached on the session clock.
    fn audio_end_ms(&self) -> u64 {
        samples_to_ms(self.next_sample, RATE)
    }

    /// One 20 ms microphone frame at the current time: speech if a script line is being said.
    fn mic_frame(&mut self) {
        let start = self.audio_end_ms();
        if let Some(&(at, _)) = self.script.front() {
            if at <= start {
                let (_, text) = self.script.pop_front().unwrap_or_default();
                let words: Vec<&str> = text.split_whitespace().collect();
                let n = words.len();
                for (i, w) in words.iter().enumerate() {
                    let t = start + i as u64 * WORD_MS;
                    self.spoken.push(Spoken {
                        text: w.to_string(),
                        start_ms: t,
                        end_ms: t + WORD_MS,
                        last: i + 1 == n,
                    });
                }
            }
        }
        let speaking = self
            .spoken
            .iter()
            .any(|w| w.start_ms <= start && start < w.end_ms);
        let samples: Vec<f32> = (0..320)
            .map(|i| {
                if speaking {
                    let t = (self.next_sample + i) as f32 / RATE as f32;
                    0.3 * (t * 2.0 * std::f32::consts::PI * 220.0).sin()
                } else {
                    0.0
                }
            })
            .collect();
        self.next_sample += 320;
        self.input(Input::Transport(Inbound::Audio(samples)));
    }

    /// What the scripted transcriber hears between `start_ms` and `end_ms`.
    fn transcript(&self, start_ms: u64, end_ms: u64) -> PassResult {
        let words: Vec<&Spoken> = self
            .spoken
            .iter()
            .filter(|w| w.start_ms >= start_ms && w.end_ms <= end_ms)
            .collect();
        let text = words
            .iter()
            .map(|w| {
                if w.last {
                    format!("{}.", w.text.trim_end_matches('.'))
                } else {
                    w.text.clone()
                }
            })
            .collect::<Vec<_>>()
            .join(" ");
        PassResult {
            text,
            words: words
                .iter()
                .map(|w| PassWord {
                    text: w.text.clone(),
                    start_ms: w.start_ms - start_ms,
                    end_ms: w.end_ms - start_ms,
                })
                .collect(),
        }
    }

    /// Advances fake time to `until`, feeding the microphone, finishing work and firing timers.
    fn run_until(&mut self, until: u64) {
        while self.now < until && self.ended.is_none() {
            let mic = self
                .mic_from
                .map(|_| self.audio_end_ms() + 20)
                .unwrap_or(u64::MAX);
            let work = self.work.iter().map(|(t, _)| *t).min().unwrap_or(u64::MAX);
            let timer = self.s.poll_timeout().unwrap_or(u64::MAX);
            let next = mic.min(work).min(timer).min(until).max(self.now);
            self.now = next;
            if work <= next {
                let i = self
                    .work
                    .iter()
                    .position(|(t, _)| *t == work)
                    .unwrap_or_default();
                let (_, w) = self.work.remove(i);
                self.finish(w);
            } else if mic <= next {
                self.mic_frame();
            } else if timer <= next {
                self.s.handle_timeout(self.now);
                self.drain();
            }
        }
    }

    fn finish(&mut self, w: Work) {
        match w {
            Work::Transcribe {
                pass,
                start_ms,
                end_ms,
                fail,
            } => {
                let result = if fail {
                    Err(TranscribeError::Model("scripted failure".into()))
                } else {
                    Ok(self.transcript(start_ms, end_ms))
                };
                self.input(Input::Transcribed { pass, result });
            }
            Work::Render { utterance, words } => {
                self.rendered.push((utterance, words));
                let samples = vec![0.1; ms_to_samples(words as u64 * TTS_WORD_MS, RATE) as usize];
                self.input(Input::Synthesized { utterance, samples });
                self.input(Input::SynthesisDone { utterance });
            }
            Work::Acoustic(input) => self.input(input),
        }
    }

    fn run_until_event(&mut self, done: impl Fn(&Harness) -> bool, max_ms: u64) {
        let stop = self.now + max_ms;
        while !done(self) && self.now < stop && self.ended.is_none() {
            let step = self.now + 20;
            self.run_until(step);
        }
    }

    fn count(&self, f: impl Fn(&ServerEvent) -> bool) -> usize {
        self.events.iter().filter(|(_, e)| f(e)).count()
    }

    fn said(&self) -> Vec<String> {
        self.events
            .iter()
            .filter_map(|(_, e)| match e {
                ServerEvent::Interviewer { text, .. } => Some(text.clone()),
                _ => None,
            })
            .collect()
    }

    fn finals(&self) -> Vec<String> {
        self.events
            .iter()
            .filter_map(|(_, e)| match e {
                ServerEvent::Caption {
                    is_final: true,
                    text,
                    ..
                } => Some(text.clone()),
                _ => None,
            })
            .collect()
    }
}

fn is_question_end(e: &ServerEvent) -> bool {
    matches!(
        e,
        ServerEvent::InterviewerAudioEnd {
            awaits_answer: true,
            interrupted: false,
            ..
        }
    )
}

/// A strong candidate's answer to whatever was asked.
fn answer_to(question: &str) -> &'static str {
    let q = question.to_lowercase();
    if q.contains("ready") {
        "Yes I am ready"
    } else if q.contains("how many years") {
        "About seven years mostly Java and Go services"
    } else if q.contains("how soon") {
        "I could start in three weeks"
    } else if q.contains("questions for")
        || q.contains("any questions")
        || q.contains("anything you")
    {
        "No thank you that is all from me"
    } else {
        "At my last company I led the redesign of our payments API because clients kept timing \
         out under load so I measured the p99 latency added idempotency keys and a queue and \
         the p99 dropped from two seconds to three hundred milliseconds"
    }
}

#[test]
fn a_whole_interview_runs_to_its_closing_words() {
    let mut h = Harness::new(demo_job());
    h.attach();
    for _ in 0..40 {
        if h.ended.is_some() {
            break;
        }
        let asked = h.count(is_question_end);
        h.run_until_event(
            |h| h.count(is_question_end) > asked || h.ended.is_some(),
            600_000,
        );
        if h.ended.is_some() {
            break;
        }
        let question = h.said().last().cloned().unwrap_or_default();
        let at = h.now + 700;
        h.say_at(at, answer_to(&question));
    }
    h.run_until(h.now + 60_000);
    let reason = h.ended.clone().expect("the interview ended");
    assert_eq!(
        reason,
        "no_more_candidate_questions",
        "said: {:#?}",
        h.said()
    );
    assert_eq!(h.closed, Some(CLOSE_NORMAL));
    // The closing words played out before the end: their audio end came before `ended`.
    let ended_at = h
        .events
        .iter()
        .find(|(_, e)| matches!(e, ServerEvent::Ended { .. }))
        .map(|(t, _)| *t)
        .expect("an ended event");
    let last_audio_end = h
        .events
        .iter()
        .filter(|(_, e)| matches!(e, ServerEvent::InterviewerAudioEnd { .. }))
        .map(|(t, _)| *t)
        .max()
        .expect("the interviewer spoke");
    assert!(last_audio_end <= ended_at);
    // Every answer the candidate gave is in the transcript, word for word.
    let t = h.s.interview().transcript();
    assert!(t.turns.len() >= 8, "turns: {}", t.turns.len());
    // Each question answered was said to its end first: when it ended is on its turn (where
    // an answer's start is measured from), before the answer began.
    for turn in t
        .turns
        .iter()
        .filter(|t| t.awaits_answer && !t.answers.is_empty())
    {
        let said = turn.spoken_end_ms.expect("the question's end is kept");
        assert!(said >= turn.asked_at_ms);
        if let Some(start) = turn.answers[0].audio_start_ms {
            assert!(
                start + 400 >= said,
                "turn {}: answered at {start}, said until {said}",
                turn.index
            );
        }
    }
    assert!(h
        .finals()
        .iter()
        .any(|f| f.starts_with("At my last company") && f.ends_with("milliseconds.")));
    assert!(
        !h.persisted.is_empty(),
        "the journal was handed to the sink"
    );
}

#[test]
fn silence_brings_a_reprompt_then_a_give_up_and_the_session_ends_with_its_reason() {
    let mut h = Harness::new(demo_job());
    h.attach();
    // The candidate never says a word.
    h.run_until(300_000);
    let said = h.said();
    let reprompts = said
        .iter()
        .filter(|s| s.starts_with("Take your time"))
        .count();
    assert_eq!(reprompts, 2, "one reprompt per question: {said:#?}");
    assert!(
        said.iter().any(|s| s.contains("how many years")),
        "the first give-up moves on: {said:#?}"
    );
    assert_eq!(h.ended.as_deref(), Some("silence_timeout"), "{said:#?}");
    assert!(said
        .last()
        .is_some_and(|s| s.contains("haven't heard from you")));
    // The give-ups come 30 s after each question's end, reprompt or not.
    let question_ends: Vec<u64> = h
        .events
        .iter()
        .filter(|(_, e)| is_question_end(e))
        .map(|(t, _)| *t)
        .collect();
    let last_words = h
        .events
        .iter()
        .filter(|(_, e)| matches!(e, ServerEvent::Interviewer { .. }))
        .map(|(t, _)| *t)
        .next_back()
        .unwrap_or_default();
    let waited = last_words - question_ends[1];
    assert!(
        (30_000..31_100).contains(&waited),
        "gave up after {waited} ms"
    );
}

#[test]
fn speaking_over_a_question_stops_the_interviewer_at_once() {
    let mut h = Harness::new(demo_job());
    h.attach();
    // Let the greeting start playing, then talk over it.
    h.run_until_event(
        |h| h.count(|e| matches!(e, ServerEvent::Interviewer { .. })) > 0,
        5_000,
    );
    let talk_at = h.now + 200;
    h.say_at(talk_at, "Sorry can I ask something before we start please");
    h.run_until(talk_at + 3_000);
    let flush = h
        .events
        .iter()
        .find(|(_, e)| matches!(e, ServerEvent::Flush { reason } if reason == "barge_in"))
        .map(|(t, _)| *t)
        .expect("a barge-in flush");
    assert!(
        flush < talk_at + 1_600,
        "stopped {} ms after",
        flush - talk_at
    );
    assert_eq!(
        h.count(|e| matches!(
            e,
            ServerEvent::InterviewerAudioEnd {
                interrupted: true,
                ..
            }
        )),
        1
    );
    assert!(h.cancelled_through >= 1, "its rendering was cancelled");
}

#[test]
fn a_backchannel_during_a_question_does_not_interrupt() {
    let mut h = Harness::new(demo_job());
    h.attach();
    h.run_until_event(
        |h| h.count(|e| matches!(e, ServerEvent::Interviewer { .. })) > 0,
        5_000,
    );
    let at = h.now + 300;
    h.say_at(at, "mhm");
    h.run_until_event(|h| h.count(is_question_end) > 0, 30_000);
    assert_eq!(h.count(|e| matches!(e, ServerEvent::Flush { .. })), 0);
    assert_eq!(
        h.count(is_question_end),
        1,
        "the question played to its end"
    );
    assert!(h.finals().is_empty(), "no turn: {:?}", h.finals());
}

#[test]
fn a_thinking_pause_taken_for_the_end_is_recovered_into_one_answer() {
    let mut h = Harness::new(demo_job());
    h.attach();
    h.answer_next_question("Yes I am ready");
    h.answer_next_question("About seven years mostly Java and Go services");
    h.answer_next_question("I could start in three weeks");
    // The first blueprint question: a half sentence the transcriber punctuates as complete,
    // a pause long enough to end the turn, then the rest of the thought.
    let at = h.answer_next_question("I designed a billing API");
    // 1.2 s after the last word: past the 0.4 s a complete sentence needs.
    let rest_at = at + 5 * WORD_MS + 1_200;
    h.say_at(
        rest_at,
        "for partners with versioned endpoints and idempotency keys so retries were safe",
    );
    h.run_until(rest_at + 12_000);
    let finals = h.finals();
    assert!(
        h.count(|e| matches!(e, ServerEvent::Flush { reason } if reason == "resume")) >= 1,
        "the reply was withdrawn; finals {finals:#?}"
    );
    let t = h.s.interview().transcript();
    let merged = t
        .turns
        .iter()
        .flat_map(|turn| turn.answers.iter())
        .find(|a| a.text.contains("billing API"))
        .unwrap_or_else(|| {
            panic!(
                "the answer is in the transcript: {finals:#?} {:#?}",
                h.said()
            )
        });
    assert!(
        merged.text.contains("idempotency keys"),
        "one answer, not split: {:?}",
        merged.text
    );
}

#[test]
fn extra_time_stretches_the_wait_before_a_reprompt_and_the_stated_duration() {
    let mut job = demo_job();
    job.accommodations.extra_time = 2.0;
    let minutes = job.duration_minutes * 2;
    let mut h = Harness::new(job);
    h.attach();
    h.run_until(60_000);
    let said = h.said();
    assert!(
        said[0].contains(&format!("{minutes} minutes")),
        "the greeting states the time the candidate has: {}",
        said[0]
    );
    // The first question ends; its reprompt comes after 24 s (12 s without extra time).
    let question_end = h
        .events
        .iter()
        .find(|(_, e)| is_question_end(e))
        .map(|(t, _)| *t)
        .expect("a question");
    let reprompt = h
        .events
        .iter()
        .find(|(_, e)| matches!(e, ServerEvent::Interviewer { text, .. } if text.starts_with("Take your time")))
        .map(|(t, _)| *t)
        .expect("a reprompt");
    let waited = reprompt - question_end;
    assert!(
        (24_000..25_100).contains(&waited),
        "reprompted after {waited} ms"
    );
}

#[test]
fn a_dropped_transport_that_comes_back_in_time_continues_and_one_that_does_not_ends() {
    let mut h = Harness::new(demo_job());
    h.attach();
    h.answer_next_question("Yes I am ready");
    h.run_until(h.now + 3_000);
    h.input(Input::Transport(Inbound::Detached));
    h.mic_from = None;
    h.run_until(h.now + 5_000);
    assert!(h.ended.is_none(), "within the grace period");
    h.attach();
    h.answer_next_question("About seven years mostly Java and Go services");
    h.run_until(h.now + 3_000);
    assert!(h.ended.is_none());
    // Gone for good this time.
    h.input(Input::Transport(Inbound::Detached));
    h.mic_from = None;
    h.run_until(h.now + 15_000);
    assert_eq!(h.ended.as_deref(), Some("candidate_left"));
}

#[test]
fn a_candidate_away_for_a_while_is_not_reprompted_and_hears_the_question_again() {
    let mut h = Harness::new(demo_job());
    h.attach();
    h.answer_next_question("Yes I am ready");
    // Wait for the next question to be asked in full, then the call drops.
    while !h.said().iter().any(|s| s.contains("how many years")) && h.now < 60_000 {
        h.run_until(h.now + 500);
    }
    h.run_until(h.now + 8_000);
    let before = h.said().len();
    h.input(Input::Transport(Inbound::Detached));
    h.mic_from = None;
    // Longer than the reprompt's wait would be, within the grace period.
    h.run_until(h.now + 9_500);
    let meanwhile: Vec<String> = h.said()[before..].to_vec();
    assert!(
        meanwhile.is_empty(),
        "nothing said to nobody: {meanwhile:#?}"
    );
    h.mic_from = Some(h.now);
    h.next_sample = ms_to_samples(h.now, RATE);
    h.input(Input::Transport(Inbound::Attached { resumed: true }));
    // A phone call dialled again also says so: the question is still asked once.
    h.input(Input::Transport(Inbound::Rejoined));
    h.run_until(h.now + 2_000);
    let back = h.said()[before..].to_vec();
    assert_eq!(
        back.iter()
            .filter(|s| s.starts_with("Welcome back"))
            .count(),
        1,
        "{back:#?}"
    );
    assert!(
        back.iter()
            .any(|s| s.starts_with("Welcome back") && s.contains("how many years")),
        "{back:#?}"
    );
    assert!(h.ended.is_none());
}

#[test]
fn the_time_budget_running_out_mid_answer_closes_the_interview() {
    let mut job = demo_job();
    job.duration_minutes = 1;
    let engine = EngineConfig {
        overrun_grace_ms: 30_000,
        ..EngineConfig::default()
    };
    let mut h = Harness::with_engine(job, engine);
    h.attach();
    h.answer_next_question("Yes I am ready");
    h.answer_next_question("About seven years mostly Java and Go services");
    h.answer_next_question("I could start in three weeks");
    // A long answer that runs past the budget and its grace.
    let long = std::iter::repeat_n("and then we measured it again", 60)
        .collect::<Vec<_>>()
        .join(" ");
    h.answer_next_question(&long);
    h.run_until(h.now + 600_000);
    let reason = h.ended.clone().expect("the interview closed");
    assert!(reason.contains("time"), "ended for time, not {reason}");
}

#[test]
fn a_failed_knockout_ends_the_interview_politely() {
    let mut h = Harness::new(demo_job());
    h.attach();
    h.answer_next_question("Yes I am ready");
    h.answer_next_question("I have about one year of professional backend experience");
    h.run_until(h.now + 60_000);
    let reason = h.ended.clone().expect("ended");
    assert!(
        reason.contains("knockout"),
        "ended for a knockout, not {reason}"
    );
    assert!(h.said().len() >= 3, "a goodbye was said: {:#?}", h.said());
}

#[test]
fn a_repeat_request_and_a_typed_answer_are_handled_like_spoken_ones() {
    let mut h = Harness::new(demo_job());
    h.attach();
    h.run_until_event(|h| h.count(is_question_end) > 0, 30_000);
    let before = h.said().len();
    h.input(Input::Transport(Inbound::Repeat));
    h.run_until(h.now + 5_000);
    assert!(h.said().len() > before, "the question was said again");
    h.input(Input::Transport(Inbound::TextAnswer(
        "Yes, I'm ready.".into(),
    )));
    h.run_until(h.now + 40_000);
    let said = h.said();
    assert!(
        said.iter().any(|q| q.contains("how many years")),
        "moved on to the first knockout: {said:#?}"
    );
}

#[test]
fn a_server_pause_says_so_saves_and_a_restored_session_resumes_where_it_stood() {
    let mut h = Harness::new(demo_job());
    h.attach();
    h.answer_next_question("Yes I am ready");
    h.run_until_event(|h| h.count(is_question_end) >= 2, 30_000);
    h.input(Input::Transport(Inbound::Pause));
    h.run_until(h.now + 30_000);
    assert_eq!(h.ended.as_deref(), Some(REASON_PAUSED));
    assert_eq!(h.closed, Some(CLOSE_SERVICE_RESTART));
    assert!(h.said().last().is_some_and(|s| s.contains("pause")));
    let snap = h.persisted.last().expect("saved").clone();
    let events: Vec<Logged> = serde_json::from_str(&snap.events_json).expect("journal");

    // A new process restores it from the journal; the candidate comes back.
    let interview = journal::replay(demo_job(), EngineConfig::default(), &events);
    let mut r = Harness::with(setup(
        interview,
        Some(Journal::resume(events, snap.seq)),
        snap.clock_ms + 1_000,
    ));
    r.attach();
    r.run_until_event(|h| h.count(is_question_end) > 0, 30_000);
    let said = r.said();
    assert_eq!(said.len(), 1, "{said:#?}");
    assert!(said[0].starts_with("Welcome back"));
    assert!(
        said[0].contains("how many years"),
        "the pending question again"
    );
}

#[test]
fn a_transcriber_that_fails_still_ends_the_turn_and_the_interview_goes_on() {
    let mut h = Harness::new(demo_job());
    h.attach();
    h.asr_fails = true;
    h.answer_next_question("Yes I am ready");
    h.run_until(h.now + 8_000);
    assert!(h.transcribes > 0);
    assert!(
        h.finals().iter().any(|f| f.is_empty()),
        "the turn ended with no text"
    );
    assert!(h.ended.is_none(), "the interview goes on");
    // No text is no answer: the silence count starts again and the interviewer reprompts.
    h.run_until(h.now + 15_000);
    assert!(
        h.said().iter().any(|s| s.starts_with("Take your time")),
        "{:#?}",
        h.said()
    );
}

#[test]
fn audio_far_ahead_of_the_clock_closes_the_transport_for_flooding() {
    let mut h = Harness::new(demo_job());
    h.attach();
    for _ in 0..400 {
        // 8 s of audio at one instant.
        h.input(Input::Transport(Inbound::Audio(vec![0.0; 320])));
    }
    assert_eq!(h.closed, Some(CLOSE_POLICY));
}

#[test]
fn nobody_joining_expires_without_a_word() {
    let mut h = Harness::new(demo_job());
    h.input(Input::Transport(Inbound::Expire));
    h.run_until(1_000);
    assert_eq!(h.ended.as_deref(), Some("expired"));
    assert!(h.said().is_empty());
    assert!(h.rendered.is_empty());
}
