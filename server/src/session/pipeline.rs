//! The stages of one live session, each a tokio task reading one bounded channel.
//!
//! Time: one session clock, milliseconds since the session was created. Candidate audio is
//! stamped by sample count (exact, so the recording does not drift) and re-anchored to the wall
//! clock when the transport stalls; interviewer audio is stamped when it is played out. Both
//! tracks of the recording and every event therefore share one timeline.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tracing::Instrument;
use viva_audio::frame::{ms_to_samples, samples_to_ms};
use viva_audio::{AudioFrame, SpeechFrontEnd, Track, TurnDecision, TurnDetector, TurnEvent};
use viva_interview::{Action, Event, Interview, JobConfig};

use super::journal::{self, Journal, JournalKey};
use super::manager::Restored;
use super::messages::*;
use super::transcriber::PassKind;
use super::{Engines, SessionConfig, SessionSink};

/// Inbound queue: about 5 s of 20 ms frames; a transport that outruns it waits (backpressure).
pub const INBOUND_CAPACITY: usize = 256;
/// Outbound queue: 10 s of audio frames. Full (a stalled or detached client) drops frames rather
/// than stalling the pipeline.
pub const OUTBOUND_CAPACITY: usize = 512;
const RATE: u32 = viva_audio::SPEECH_RATE_HZ;
const FRAME_MS: u64 = 20;
const FRAME_SAMPLES: usize = 320;
/// How far ahead of real time interviewer audio is sent: what a barge-in may leave queued at the
/// client before the flush arrives, and what covers network jitter.
const PLAYOUT_LEAD_MS: u64 = 120;
/// Partial passes (captions, end-of-turn text hints) at most this often.
const PARTIAL_EVERY_MS: u64 = 500;
/// Audio kept before the detected speech onset (VAD onset lags the first phoneme).
const PREROLL_MS: u64 = 300;
/// Audio kept after the last speech in the final pass (trailing consonants).
const TAIL_MS: u64 = 250;
/// Candidate audio may run this far ahead of the wall clock (network bursts); beyond it the
/// client floods and is closed.
const MAX_AHEAD_MS: u64 = 5_000;
/// A transport that falls further behind than this is re-anchored to the wall clock (a stall or
/// a reconnect), leaving a gap of silence in the recording instead of sliding the track.
const MAX_BEHIND_MS: u64 = 1_000;
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
const SPEECH_THRESHOLD: f32 = 0.5;
/// A partial that reaches this far past the last speech holds every word of the turn.
const REUSE_MARGIN_MS: u64 = 100;
/// Silence after speech that starts an endpoint pass (≥ `REUSE_MARGIN_MS`, and the end-of-turn
/// detector's `text_settle_ms`, so the pass counts as covering the speech for both).
const ENDPOINT_PASS_AFTER_MS: u64 = 120;

/// Close codes the pipeline asks the transport to use (see `docs/protocol.md`).
pub const CLOSE_NORMAL: u16 = 1000;
pub const CLOSE_POLICY: u16 = 1008;
/// RFC 6455 "service restart": the server paused the interview; resume with the same token.
pub const CLOSE_SERVICE_RESTART: u16 = 1012;
/// The reason a session paused by a server shutdown ends with.
pub const REASON_PAUSED: &str = "paused";
/// What the interviewer says when the server must stop mid-interview.
const PAUSE_TEXT: &str = "I'm sorry, I have to pause our interview for a moment. Please rejoin \
with the same link in a minute or two, and we will continue exactly where we left off.";
/// What the interviewer says first when a paused or interrupted interview resumes.
const RESUME_TEXT: &str =
    "Welcome back, and thank you for waiting. Let's continue where we left off.";

/// Milliseconds since the session began (a restored session's clock continues its old one).
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    start: Instant,
    offset_ms: u64,
}

impl Clock {
    fn starting_at(offset_ms: u64) -> Clock {
        Clock {
            start: Instant::now(),
            offset_ms,
        }
    }

    pub fn now_ms(&self) -> u64 {
        self.offset_ms + self.start.elapsed().as_millis() as u64
    }
}

/// Where a session linked to a stored interview writes its journal.
pub struct JournalOut {
    pub key: JournalKey,
    pub sink: Arc<dyn SessionSink>,
}

/// What one session is made of.
pub struct SessionParts {
    pub id: String,
    pub job: JobConfig,
    pub dir: PathBuf,
    pub journal: Option<JournalOut>,
    /// Set when the session continues one a previous process left.
    pub restored: Option<Restored>,
}

/// Bumped on every barge-in: utterances decided or rendered before it are stale.
#[derive(Debug, Clone, Default)]
struct Epoch(Arc<AtomicU64>);

impl Epoch {
    fn get(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
    fn bump(&self) -> u64 {
        self.0.fetch_add(1, Ordering::SeqCst) + 1
    }
}

/// Starts every stage of a session; the returned task ends, with the session's end reason, when
/// the session is over.
pub fn spawn(
    parts: SessionParts,
    engines: Arc<Engines>,
    config: SessionConfig,
    in_rx: mpsc::Receiver<Inbound>,
    out_tx: mpsc::Sender<Outbound>,
) -> anyhow::Result<JoinHandle<String>> {
    let SessionParts {
        id,
        job,
        dir,
        journal: journal_out,
        restored,
    } = parts;
    let epoch = Epoch::default();
    let rec_config = viva_audio::RecorderConfig {
        flush_every: super::recording::FLUSH_EVERY_SAMPLES,
        ..Default::default()
    };
    let rec_path = dir.join("recording.wav");
    let recorder = if restored.is_some() {
        viva_audio::Recorder::open_append(&rec_path, rec_config)?
    } else {
        viva_audio::Recorder::create(&rec_path, rec_config)?
    };
    // A restored session's clock goes on from where it stopped: past its last saved state and
    // past the audio already recorded, so both tracks continue the same timeline.
    let recorded_ms = samples_to_ms(recorder.len(), recorder.sample_rate());
    let clock = Clock::starting_at(restored.as_ref().map_or(0, |r| r.clock_ms.max(recorded_ms)));
    let (interview, journal) = match restored {
        Some(r) => (
            journal::replay(job, config.engine.clone(), &r.events),
            Some(Journal::resume(r.events, r.seq)),
        ),
        None => (Interview::new(job, config.engine.clone()), None),
    };
    let is_restored = journal.is_some();
    let mut turn_config = config.turn.clone();
    turn_config.acoustic = config.turn_model && engines.smart_turn.is_some();
    turn_config.patience = match interview.job().turn.patience {
        viva_interview::TurnPatience::Low => viva_audio::turn::Patience::Low,
        viva_interview::TurnPatience::Normal => viva_audio::turn::Patience::Normal,
        viva_interview::TurnPatience::High => viva_audio::turn::Patience::High,
    };
    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    let (turn_tx, turn_rx) = mpsc::channel(64);
    let (asr_tx, asr_rx) = mpsc::channel(4);
    let (dlg_tx, dlg_rx) = mpsc::channel(32);
    let (synth_tx, synth_rx) = mpsc::channel(16);
    let (play_tx, play_rx) = mpsc::channel(16);
    let (ctl_tx, ctl_rx) = mpsc::channel(4);
    let (rec_tx, rec_rx) = mpsc::channel::<RecordFrame>(512);
    let vad: Box<dyn viva_audio::VoiceActivityDetector> = match &engines.silero {
        Some(m) => Box::new(viva_audio::vad::SileroVad::new(m.clone())),
        None => Box::new(viva_audio::vad::WebRtcVad::new(
            viva_audio::vad::WebRtcMode::default(),
        )),
    };
    let span = |stage: &'static str| tracing::info_span!("session", session_id = %id, stage);
    let metrics = engines.metrics.clone();
    metrics.live_sessions.inc();

    let recorder_task = super::recording::spawn(recorder, rec_rx);
    let front = FrontEnd {
        clock,
        grace: config.resume_grace,
        engines: engines.clone(),
        epoch: epoch.clone(),
        restored: is_restored,
        out_tx: out_tx.clone(),
        turn_tx: turn_tx.clone(),
        dlg_tx: dlg_tx.clone(),
        ctl_tx: ctl_tx.clone(),
        rec_tx: rec_tx.clone(),
    };
    let tasks = vec![
        tokio::spawn(
            front
                .run(in_rx, vad, shutdown_rx.clone())
                .instrument(span("front_end")),
        ),
        tokio::spawn(
            TurnStage::new(
                clock,
                turn_config,
                epoch.clone(),
                out_tx.clone(),
                metrics.clone(),
                config.cutoff_recovery,
            )
            .with_acoustic(
                engines.smart_turn.clone().filter(|_| config.turn_model),
                turn_tx.clone(),
            )
            .run(
                turn_rx,
                asr_tx,
                dlg_tx.clone(),
                ctl_tx.clone(),
                shutdown_rx.clone(),
            )
            .instrument(span("turn")),
        ),
        tokio::spawn(
            transcription(
                engines.clone(),
                asr_rx,
                turn_tx.clone(),
                dlg_tx.clone(),
                out_tx.clone(),
                shutdown_rx.clone(),
            )
            .instrument(span("transcription")),
        ),
        tokio::spawn(
            Dialogue {
                interview,
                engine_config: config.engine.clone(),
                ctl_tx: ctl_tx.clone(),
                last_voice_answer: None,
                held: None,
                hold_next: None,
                journal: journal.unwrap_or_default(),
                journal_out,
                dirty: false,
                clock,
                epoch: epoch.clone(),
                out_tx: out_tx.clone(),
                synth_tx,
                turns_path: dir.join("turns.json"),
                metrics: metrics.clone(),
                silent_since: None,
                ended: false,
            }
            .run(dlg_rx, shutdown_rx.clone())
            .instrument(span("dialogue")),
        ),
        tokio::spawn(
            synthesis(engines.clone(), epoch.clone(), synth_rx, play_tx)
                .instrument(span("synthesis")),
        ),
    ];
    let playout = tokio::spawn(
        Playout {
            clock,
            epoch,
            out_tx,
            turn_tx,
            dlg_tx,
            rec_tx,
            metrics: metrics.clone(),
            queue: VecDeque::new(),
            play_clock: 0,
            current: None,
            first_audio_for: None,
            discard_below: 0,
        }
        .run(play_rx, ctl_rx, shutdown_rx)
        .instrument(span("playout")),
    );
    let span = span("supervisor");
    Ok(tokio::spawn(
        async move {
            // The playout stage ends the session: after the closing words have played, or when
            // the pipeline behind it is gone.
            let reason = playout.await.unwrap_or_else(|_| "failed".into());
            let _ = shutdown_tx.send(true);
            for t in tasks {
                let _ = t.await;
            }
            match recorder_task.await {
                Ok(Ok(stats)) => tracing::info!(
                    path = %stats.path.display(),
                    frames = stats.frames,
                    "recording finished"
                ),
                Ok(Err(e)) => tracing::warn!(error = %e, "recording could not be finished"),
                Err(e) => tracing::warn!(error = %e, "recorder task failed"),
            }
            metrics.live_sessions.dec();
            tracing::info!(%reason, "session over");
            reason
        }
        .instrument(span),
    ))
}

/// Sends without waiting: a slow or detached client loses frames, the pipeline never stalls.
fn emit(out: &mpsc::Sender<Outbound>, msg: Outbound, metrics: &super::Metrics) {
    if out.try_send(msg).is_err() {
        metrics.count("outbound_dropped");
    }
}

// ---------------------------------------------------------------------------------------------
// Front end: stamp, record, resample, VAD.

struct FrontEnd {
    clock: Clock,
    grace: Duration,
    engines: Arc<Engines>,
    epoch: Epoch,
    /// The session continues one a previous process left: its first transport resumes it.
    restored: bool,
    out_tx: mpsc::Sender<Outbound>,
    turn_tx: mpsc::Sender<TurnIn>,
    dlg_tx: mpsc::Sender<DialogueIn>,
    ctl_tx: mpsc::Sender<PlayCtl>,
    rec_tx: mpsc::Sender<RecordFrame>,
}

impl FrontEnd {
    async fn run(
        self,
        mut rx: mpsc::Receiver<Inbound>,
        vad: Box<dyn viva_audio::VoiceActivityDetector>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let mut front = SpeechFrontEnd::new(vad, SPEECH_THRESHOLD);
        let mut next_index: Option<u64> = None;
        let mut started = false;
        let mut attached = false;
        let mut detached_since: Option<Instant> = None;
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        let metrics = self.engines.metrics.clone();
        loop {
            tokio::select! {
                _ = shutdown.changed() => break,
                _ = tick.tick() => {
                    if detached_since.is_some_and(|t| t.elapsed() >= self.grace) {
                        tracing::info!("no resume within the grace period: candidate left");
                        detached_since = None;
                        // Nobody listens: end now, not after what the interviewer was saying.
                        self.stop_speaking("left").await;
                        let _ = self.dlg_tx.send(DialogueIn::Left).await;
                    }
                }
                msg = rx.recv() => {
                    let Some(msg) = msg else { break };
                    match msg {
                        Inbound::Audio(samples) => {
                            if samples.is_empty() {
                                continue;
                            }
                            let t = Instant::now();
                            let wall = ms_to_samples(self.clock.now_ms(), RATE);
                            let len = samples.len() as u64;
                            let start = match next_index {
                                Some(n) if n + ms_to_samples(MAX_BEHIND_MS, RATE) >= wall => n,
                                _ => wall.saturating_sub(len),
                            };
                            if start > wall + ms_to_samples(MAX_AHEAD_MS, RATE) {
                                metrics.count("flood");
                                emit(&self.out_tx, Outbound::Close {
                                    code: CLOSE_POLICY,
                                    reason: "audio arrives faster than real time".into(),
                                }, &metrics);
                                continue;
                            }
                            next_index = Some(start + len);
                            let frame = match AudioFrame::new(samples, RATE, start) {
                                Ok(f) => f,
                                Err(e) => {
                                    metrics.count("bad_frame");
                                    tracing::debug!(error = %e, "frame refused");
                                    continue;
                                }
                            };
                            let _ = self.rec_tx.send(RecordFrame {
                                track: Track::Candidate,
                                frame: frame.clone(),
                            }).await;
                            match front.push(&frame) {
                                Ok((Some(frame), chunks)) => {
                                    metrics.observe("front_end", t.elapsed().as_secs_f64());
                                    if self.turn_tx.send(TurnIn::Audio { frame, chunks }).await.is_err() {
                                        break;
                                    }
                                }
                                Ok((None, _)) => {}
                                Err(e) => tracing::warn!(error = %e, "VAD failed on a frame"),
                            }
                        }
                        Inbound::Attached { resumed } => {
                            detached_since = None;
                            attached = true;
                            tracing::info!(resumed, "transport attached");
                            if !started {
                                started = true;
                                let first = if self.restored { DialogueIn::Resume } else { DialogueIn::Start };
                                let _ = self.dlg_tx.send(first).await;
                            }
                        }
                        Inbound::Detached => {
                            if attached || detached_since.is_none() {
                                tracing::info!("transport lost; waiting for a resume");
                                detached_since = Some(Instant::now());
                            }
                            attached = false;
                        }
                        Inbound::TextAnswer(text) => {
                            let _ = self.dlg_tx.send(DialogueIn::Answer {
                                text,
                                words: None,
                                speech_end_ms: None,
                            }).await;
                        }
                        Inbound::Repeat => {
                            // The engine understands a spoken request; a button says the same.
                            let _ = self.dlg_tx.send(DialogueIn::Answer {
                                text: "Could you repeat the question, please?".into(),
                                words: None,
                                speech_end_ms: None,
                            }).await;
                        }
                        Inbound::Bye => {
                            // At once: not after the sentence the interviewer is saying.
                            self.stop_speaking("bye").await;
                            let _ = self.dlg_tx.send(DialogueIn::Left).await;
                        }
                        Inbound::Pause => {
                            self.stop_speaking("pause").await;
                            let _ = self.dlg_tx.send(DialogueIn::Pause { say: started && attached }).await;
                        }
                        Inbound::Expire => {
                            let _ = self.dlg_tx.send(DialogueIn::Expire).await;
                        }
                    }
                }
            }
        }
    }
}

impl FrontEnd {
    /// Makes everything the interviewer was going to say stale and stops what is playing.
    async fn stop_speaking(&self, reason: &'static str) {
        self.epoch.bump();
        let _ = self.ctl_tx.send(PlayCtl::Stop { reason }).await;
    }
}

// ---------------------------------------------------------------------------------------------
// Turn: end of turn, barge-in, partial scheduling.

struct TurnStage {
    clock: Clock,
    det: TurnDetector,
    epoch: Epoch,
    out_tx: mpsc::Sender<Outbound>,
    metrics: Arc<super::Metrics>,
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
    /// The acoustic end-of-turn model, and where its answers go (this stage's own inbox).
    acoustic: Option<(Arc<viva_audio::SmartTurnModel>, mpsc::Sender<TurnIn>)>,
}

/// The window after a turn's end in which the candidate may still be mid-thought.
#[derive(Debug, Clone, Copy)]
struct Recovery {
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

impl TurnStage {
    fn new(
        clock: Clock,
        config: viva_audio::TurnConfig,
        epoch: Epoch,
        out_tx: mpsc::Sender<Outbound>,
        metrics: Arc<super::Metrics>,
        cutoff_recovery: bool,
    ) -> Self {
        Self {
            cutoff_recovery,
            clock,
            det: TurnDetector::new(config),
            epoch,
            out_tx,
            metrics,
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
            acoustic: None,
        }
    }

    fn with_acoustic(
        mut self,
        model: Option<Arc<viva_audio::SmartTurnModel>>,
        inbox: mpsc::Sender<TurnIn>,
    ) -> Self {
        self.acoustic = model.map(|m| (m, inbox));
        self
    }

    /// Asks Smart Turn about the pause the detector is in (once per pause), on the blocking
    /// pool: the answer comes back as [`TurnIn::Acoustic`]. The audio is the turn so far, up to
    /// now (the last speech and the silence after it).
    fn maybe_ask_acoustic(&mut self) {
        let Some(speech_end_ms) = self.det.poll_acoustic_request() else {
            return;
        };
        let Some((model, inbox)) = self.acoustic.clone() else {
            return;
        };
        if !self.collecting {
            return;
        }
        let keep = viva_audio::smart_turn::SMART_TURN_SAMPLES.min(self.buf.len());
        let samples = self.buf[self.buf.len() - keep..].to_vec();
        let metrics = self.metrics.clone();
        tokio::task::spawn_blocking(move || {
            let t = Instant::now();
            match model.probability(&samples) {
                Ok(p_complete) => {
                    metrics.observe("turn_acoustic", t.elapsed().as_secs_f64());
                    let _ = inbox.blocking_send(TurnIn::Acoustic {
                        speech_end_ms,
                        p_complete,
                    });
                }
                Err(e) => tracing::warn!(error = %e, "Smart Turn failed; text and silence decide"),
            }
        });
    }

    async fn run(
        mut self,
        mut rx: mpsc::Receiver<TurnIn>,
        asr_tx: mpsc::Sender<AsrJob>,
        dlg_tx: mpsc::Sender<DialogueIn>,
        ctl_tx: mpsc::Sender<PlayCtl>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let mut tick = tokio::time::interval(Duration::from_millis(100));
        loop {
            let mut decisions = Vec::new();
            let mut resumed = false;
            tokio::select! {
                _ = shutdown.changed() => break,
                _ = tick.tick() => {
                    // Only a stalled stream needs the clock: audio that arrives normally is
                    // never more than a few frames behind it.
                    let at_ms = self.clock.now_ms().saturating_sub(300);
                    decisions.push(self.det.handle(TurnEvent::Tick { at_ms }));
                }
                msg = rx.recv() => {
                    let Some(msg) = msg else { break };
                    match msg {
                        TurnIn::Audio { frame, chunks } => {
                            self.push_audio(&frame);
                            for c in chunks {
                                if c.speech {
                                    self.last_speech_ms = c.end_ms();
                                    if !self.collecting {
                                        self.start_collecting();
                                    }
                                    let since = self.interviewer_since;
                                    if self.recovery.as_mut().is_some_and(|r| r.on_speech(c.start_ms(), c.end_ms(), since)) {
                                        resumed = true;
                                    }
                                }
                                decisions.push(self.det.handle(c.into()));
                            }
                        }
                        TurnIn::Partial { generation, covers_until_ms, text } => {
                            self.partial_pending = false;
                            if let (true, true, Some(text)) =
                                (generation == self.generation, self.collecting, text)
                            {
                                emit(&self.out_tx, Outbound::Event(ServerEvent::Caption {
                                    turn: self.turn,
                                    is_final: false,
                                    text: text.clone(),
                                    start_ms: self.buf_start_ms,
                                    end_ms: covers_until_ms,
                                }), &self.metrics);
                                decisions.push(self.det.handle(TurnEvent::Transcript {
                                    covers_until_ms,
                                    text,
                                }));
                            }
                        }
                        TurnIn::InterviewerStarted { at_ms, text } => {
                            self.interviewer_since = Some(at_ms);
                            decisions.push(self.det.handle(TurnEvent::InterviewerStarted { at_ms, text }));
                        }
                        TurnIn::InterviewerStopped { at_ms } => {
                            self.interviewer_since = None;
                            decisions.push(self.det.handle(TurnEvent::InterviewerStopped { at_ms }));
                        }
                        TurnIn::Acoustic { speech_end_ms, p_complete } => {
                            tracing::debug!(turn = self.turn, speech_end_ms, p_complete, "acoustic end-of-turn");
                            decisions.push(self.det.handle(TurnEvent::Acoustic { speech_end_ms, p_complete }));
                        }
                    }
                }
            }
            if resumed {
                self.withdraw_reply(&dlg_tx, &ctl_tx).await;
            }
            for d in decisions {
                if self
                    .on_decision(d, &asr_tx, &dlg_tx, &ctl_tx)
                    .await
                    .is_err()
                {
                    return;
                }
            }
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
                    let _ = dlg_tx.send(DialogueIn::ReleaseHeld).await;
                }
            }
            self.maybe_partial(&asr_tx);
            self.maybe_ask_acoustic();
        }
    }

    /// The candidate resumed right after their turn was ended: stop the reply at once and have
    /// the dialogue withdraw it; the continuation will be merged into the same answer.
    async fn withdraw_reply(
        &mut self,
        dlg_tx: &mpsc::Sender<DialogueIn>,
        ctl_tx: &mpsc::Sender<PlayCtl>,
    ) {
        let Some(r) = self.recovery else {
            return;
        };
        self.epoch.bump();
        let _ = ctl_tx.send(PlayCtl::Stop { reason: "resume" }).await;
        self.metrics.count("turn_resumed");
        tracing::info!(
            turn = self.turn,
            speech_end_ms = r.speech_end_ms,
            onset_ms = r.onset_ms,
            "the candidate went on after the turn was ended: reply withdrawn"
        );
        let _ = dlg_tx
            .send(DialogueIn::Withdraw {
                speech_end_ms: r.speech_end_ms,
            })
            .await;
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

    fn maybe_partial(&mut self, asr_tx: &mpsc::Sender<AsrJob>) {
        let end = self.buf_end_ms();
        // The candidate paused: transcribe now, while the end-of-turn detector still waits.
        // If the turn ends here this pass is its final text (and the detector's hint about a
        // finished sentence), so the candidate does not wait for a pass after the decision.
        if self.collecting
            && self.last_speech_ms > self.endpoint_for_ms
            && end >= self.last_speech_ms + ENDPOINT_PASS_AFTER_MS
        {
            let job = AsrJob::Partial {
                generation: self.generation,
                turn: self.turn,
                samples: self.buf.clone(),
                start_ms: self.buf_start_ms,
                kind: PassKind::Endpoint,
            };
            if asr_tx.try_send(job).is_ok() {
                self.endpoint_for_ms = self.last_speech_ms;
                self.last_partial_ms = end;
            }
            return;
        }
        if !self.collecting
            || self.partial_pending
            || end.saturating_sub(self.last_partial_ms) < PARTIAL_EVERY_MS
        {
            return;
        }
        let job = AsrJob::Partial {
            generation: self.generation,
            turn: self.turn,
            samples: self.buf.clone(),
            start_ms: self.buf_start_ms,
            kind: PassKind::Partial,
        };
        // A full queue means recognition is behind: skip this caption rather than wait.
        if asr_tx.try_send(job).is_ok() {
            self.partial_pending = true;
            self.last_partial_ms = end;
        }
    }

    async fn on_decision(
        &mut self,
        d: TurnDecision,
        asr_tx: &mpsc::Sender<AsrJob>,
        dlg_tx: &mpsc::Sender<DialogueIn>,
        ctl_tx: &mpsc::Sender<PlayCtl>,
    ) -> Result<(), ()> {
        match d {
            TurnDecision::SpeechStarted { at_ms } => {
                tracing::debug!(turn = self.turn, at_ms, "speech started");
                let _ = dlg_tx.send(DialogueIn::CandidateSpeaking).await;
            }
            TurnDecision::BargeIn { at_ms } => {
                let epoch = self.epoch.bump();
                tracing::info!(turn = self.turn, at_ms, epoch, "barge-in");
                let _ = ctl_tx.send(PlayCtl::BargeIn { at_ms }).await;
                let _ = dlg_tx.send(DialogueIn::CandidateSpeaking).await;
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
                self.recovery = self.cutoff_recovery.then_some(Recovery {
                    speech_end_ms: at_ms,
                    until_ms: at_ms + RECOVERY_WINDOW_MS,
                    speech_ms: 0,
                    onset_ms: None,
                    triggered: false,
                });
                let end_idx =
                    ms_to_samples((at_ms + TAIL_MS).saturating_sub(self.buf_start_ms), RATE)
                        as usize;
                let mut samples = std::mem::take(&mut self.buf);
                samples.truncate(end_idx.max(1));
                let job = AsrJob::Final {
                    turn,
                    generation: self.generation,
                    samples,
                    start_ms: self.buf_start_ms,
                    speech_end_ms: at_ms,
                };
                self.turn += 1;
                self.reset_buffer();
                self.partial_pending = false;
                if asr_tx.send(job).await.is_err() {
                    return Err(());
                }
            }
            TurnDecision::Idle
            | TurnDecision::InterviewerSpeaking
            | TurnDecision::TurnContinuing { .. } => {}
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Transcription: partial and final passes, finals first.

async fn transcription(
    engines: Arc<Engines>,
    mut rx: mpsc::Receiver<AsrJob>,
    turn_tx: mpsc::Sender<TurnIn>,
    dlg_tx: mpsc::Sender<DialogueIn>,
    out_tx: mpsc::Sender<Outbound>,
    mut shutdown: watch::Receiver<bool>,
) {
    let metrics = engines.metrics.clone();
    let stream = engines.transcriber.new_stream();
    // Passes run on the shared scheduler; their results come back here, so a final never waits
    // behind this session's caption pass (it runs beside it, or reuses it).
    let (done_tx, mut done_rx) = mpsc::channel::<PassDone>(16);
    let mut state = TranscriptionState::default();
    loop {
        tokio::select! {
            _ = shutdown.changed() => break,
            job = rx.recv() => {
                let Some(job) = job else { break };
                match job {
                    AsrJob::Partial { generation, turn, samples, start_ms, kind } => {
                        let planned = state.plan(generation, start_ms, &samples, kind);
                        tracing::debug!(turn, seq = planned.pass.seq, ?kind, from = planned.pass.start_ms, covers = planned.pass.covers_until_ms, "pass queued");
                        submit(&engines, stream, planned, &done_tx);
                    }
                    AsrJob::Final { turn, generation, samples, start_ms, speech_end_ms } => {
                        let end_ms = start_ms + samples_to_ms(samples.len() as u64, RATE);
                        let fin = PendingFinal {
                            turn, generation, start_ms, end_ms, speech_end_ms, samples,
                            requested: Instant::now(), ready: None, waiting_on: None,
                        };
                        if let Some(planned) = state.add_final(fin) {
                            // Nothing done or running covers the turn: a final pass of its own.
                            submit(&engines, stream, planned, &done_tx);
                        }
                    }
                }
            }
            done = done_rx.recv() => {
                let Some(done) = done else { break };
                let elapsed = done.started.elapsed().as_secs_f64();
                metrics.observe(match done.pass.kind {
                    PassKind::Partial => "asr_partial",
                    PassKind::Endpoint => "asr_endpoint",
                    PassKind::Final => "asr_final_pass",
                }, elapsed);
                if let Err(e) = &done.result {
                    if !matches!(e, super::transcriber::TranscribeError::Superseded) {
                        tracing::warn!(error = %e, kind = ?done.pass.kind, "pass failed");
                    }
                }
                let pass = done.pass;
                let outcome = state.pass_done(pass, done.result);
                if pass.kind != PassKind::Final {
                    let _ = turn_tx.send(TurnIn::Partial {
                        generation: pass.generation,
                        covers_until_ms: pass.covers_until_ms,
                        text: outcome.caption,
                    }).await;
                }
                // A final that waited for this pass (or whose own pass failed) needs one now.
                for planned in outcome.resubmit {
                    submit(&engines, stream, planned, &done_tx);
                }
            }
        }
        while let Some(fin) = state.pop_ready() {
            let (pass, how) = fin.ready.unwrap_or_default();
            let waited = fin.requested.elapsed();
            metrics.observe("asr_final", waited.as_secs_f64());
            tracing::info!(
                turn = fin.turn,
                text = %pass.text,
                waited_ms = waited.as_millis() as u64,
                how,
                "final transcript"
            );
            if !finish_turn(
                fin.turn,
                pass,
                fin.start_ms,
                fin.end_ms,
                fin.speech_end_ms,
                &out_tx,
                &dlg_tx,
                &metrics,
            )
            .await
            {
                return;
            }
        }
    }
}

/// A pass of this session on the scheduler.
#[derive(Debug, Clone, Copy)]
struct PassInfo {
    seq: u64,
    kind: PassKind,
    generation: u64,
    /// Session time of the speech buffer's start (what word times are relative to).
    buffer_start_ms: u64,
    /// Session time where this pass's audio starts (the buffer start, or a committed pause).
    start_ms: u64,
    covers_until_ms: u64,
}

/// A pass ready to submit: its audio (from `pass.start_ms`) and the text before it.
struct PlannedPass {
    pass: PassInfo,
    samples: Vec<f32>,
    prompt: Option<String>,
}

struct PassDone {
    pass: PassInfo,
    started: Instant,
    result: Result<PassResult, super::transcriber::TranscribeError>,
}

fn submit(
    engines: &Arc<Engines>,
    stream: u64,
    planned: PlannedPass,
    done_tx: &mpsc::Sender<PassDone>,
) {
    let PlannedPass {
        pass,
        samples,
        prompt,
    } = planned;
    let fut = engines
        .transcriber
        .submit(stream, pass.kind, samples, prompt);
    let done_tx = done_tx.clone();
    let started = Instant::now();
    tokio::spawn(async move {
        let result = fut.await;
        let _ = done_tx
            .send(PassDone {
                pass,
                started,
                result,
            })
            .await;
    });
}

use super::transcriber::{PassResult, PassWord};

/// A turn whose final text is owed to the dialogue, in turn order.
struct PendingFinal {
    turn: u32,
    generation: u64,
    start_ms: u64,
    end_ms: u64,
    speech_end_ms: u64,
    /// The turn's audio (for its own final pass when no other pass covers it).
    samples: Vec<f32>,
    requested: Instant,
    /// The text (words relative to `start_ms`), and how it was obtained (for the log).
    ready: Option<(PassResult, &'static str)>,
    /// The pass whose result will be the text.
    waiting_on: Option<u64>,
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
struct TranscriptionState {
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
struct PassOutcome {
    /// The caption to show: the whole turn's text so far (None: the pass was dropped).
    caption: Option<String>,
    /// Passes to submit for finals left without one.
    resubmit: Vec<PlannedPass>,
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
    fn plan(
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
    fn add_final(&mut self, mut fin: PendingFinal) -> Option<PlannedPass> {
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
            .find(|(p, _)| Self::covers(p, &fin))
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

    /// Folds a finished pass in.
    fn pass_done(
        &mut self,
        pass: PassInfo,
        result: Result<PassResult, super::transcriber::TranscribeError>,
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
    fn pop_ready(&mut self) -> Option<PendingFinal> {
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

/// Sends a turn's final text to the client and the dialogue; false when the dialogue is gone.
#[allow(clippy::too_many_arguments)]
async fn finish_turn(
    turn: u32,
    pass: PassResult,
    start_ms: u64,
    end_ms: u64,
    speech_end_ms: u64,
    out_tx: &mpsc::Sender<Outbound>,
    dlg_tx: &mpsc::Sender<DialogueIn>,
    metrics: &super::Metrics,
) -> bool {
    emit(
        out_tx,
        Outbound::Event(ServerEvent::Caption {
            turn,
            is_final: true,
            text: pass.text.clone(),
            start_ms,
            end_ms,
        }),
        metrics,
    );
    // Word times on the session clock, so evidence points into the recording.
    let words = pass
        .words
        .iter()
        .map(|w| viva_interview::Word {
            text: w.text.clone(),
            start_ms: start_ms + w.start_ms,
            end_ms: start_ms + w.end_ms,
        })
        .collect::<Vec<_>>();
    let msg = DialogueIn::Answer {
        text: pass.text,
        words: (!words.is_empty()).then_some(words),
        speech_end_ms: Some(speech_end_ms),
    };
    dlg_tx.send(msg).await.is_ok()
}

// ---------------------------------------------------------------------------------------------
// Dialogue: the interview engine.

/// A spoken answer as the dialogue received it, with where the journal stood before it.
struct VoiceAnswer {
    journal_len: usize,
    text: String,
    words: Option<Vec<viva_interview::Word>>,
    speech_end_ms: u64,
    /// What the interviewer said in reply (withdrawn when the candidate went on).
    reply: String,
}

/// Whether `heard` is the interviewer's own `reply` picked up by the candidate's microphone:
/// at least two words, nearly all of them in the reply.
fn is_echo_of(heard: &str, reply: &str) -> bool {
    let words = |t: &str| -> Vec<String> {
        t.split_whitespace()
            .map(|w| {
                w.trim_matches(|c: char| !c.is_alphanumeric())
                    .to_lowercase()
            })
            .filter(|w| !w.is_empty())
            .collect()
    };
    let (heard, reply) = (words(heard), words(reply));
    if heard.len() < 2 || reply.is_empty() {
        return false;
    }
    let inside = heard.iter().filter(|w| reply.contains(w)).count();
    inside * 10 >= heard.len() * 8
}

struct Dialogue {
    interview: Interview,
    engine_config: viva_interview::EngineConfig,
    ctl_tx: mpsc::Sender<PlayCtl>,
    /// The last spoken answer handled (its reply may still be withdrawn).
    last_voice_answer: Option<VoiceAnswer>,
    /// A withdrawn answer waiting for its continuation.
    held: Option<VoiceAnswer>,
    /// The speech end of an answer to hold when its transcript comes.
    hold_next: Option<u64>,
    /// Every event that changed the interview (write-ahead: replayed after a crash).
    journal: Journal,
    journal_out: Option<JournalOut>,
    /// The journal has events not yet handed to the sink.
    dirty: bool,
    clock: Clock,
    epoch: Epoch,
    out_tx: mpsc::Sender<Outbound>,
    synth_tx: mpsc::Sender<SynthJob>,
    turns_path: PathBuf,
    metrics: Arc<super::Metrics>,
    /// When the interviewer last stopped with a question the candidate has not started on.
    silent_since: Option<u64>,
    ended: bool,
}

impl Dialogue {
    async fn run(
        mut self,
        mut rx: mpsc::Receiver<DialogueIn>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        let mut ticks = 0u64;
        loop {
            tokio::select! {
                _ = shutdown.changed() => break,
                _ = tick.tick() => {
                    ticks += 1;
                    if self.ended {
                        continue;
                    }
                    let now = self.clock.now_ms();
                    if let Some(since) = self.silent_since {
                        let actions = self.handle(now, Event::Silence { ms: now.saturating_sub(since) });
                        self.act(actions, None).await;
                    }
                    let actions = self.handle(now, Event::TimeTick);
                    self.act(actions, None).await;
                    if ticks.is_multiple_of(5) {
                        self.progress();
                    }
                }
                msg = rx.recv() => {
                    let Some(msg) = msg else { break };
                    if self.ended {
                        continue;
                    }
                    let now = self.clock.now_ms();
                    match msg {
                        DialogueIn::Start => {
                            let actions = self.handle(now, Event::Start);
                            self.act(actions, None).await;
                        }
                        DialogueIn::Resume => self.resume().await,
                        DialogueIn::Pause { say } => self.pause(say).await,
                        DialogueIn::Expire => {
                            self.ended = true;
                            let _ = self.synth_tx.send(SynthJob::End { reason: "expired".into() }).await;
                        }
                        DialogueIn::Answer { text, words, speech_end_ms } => {
                            self.on_answer(now, text, words, speech_end_ms).await;
                        }
                        DialogueIn::Withdraw { speech_end_ms } => self.withdraw(speech_end_ms).await,
                        DialogueIn::ReleaseHeld => {
                            self.hold_next = None;
                            if let Some(h) = self.held.take() {
                                tracing::info!("no continuation came: the held answer stands alone");
                                self.on_answer(now, h.text, h.words, Some(h.speech_end_ms)).await;
                            }
                        }
                        DialogueIn::CandidateSpeaking => self.silent_since = None,
                        DialogueIn::InterviewerDone { at_ms, awaits_answer } => {
                            // Silence counts from the end of a question. A remark that awaits
                            // nothing (the reprompt) leaves the count running: the give-up
                            // comes `silence_give_up` after the question, reprompt or not.
                            if awaits_answer {
                                self.silent_since = Some(at_ms);
                            }
                        }
                        DialogueIn::Left => {
                            let actions = self.handle(now, Event::CandidateLeft);
                            self.act(actions, None).await;
                        }
                    }
                }
            }
        }
        self.save();
    }

    /// A final transcript: held when its reply was withdrawn before it came, merged with a held
    /// answer when it is that answer's continuation, else handed to the interview.
    async fn on_answer(
        &mut self,
        now: u64,
        text: String,
        words: Option<Vec<viva_interview::Word>>,
        speech_end_ms: Option<u64>,
    ) {
        if let (Some(hold), Some(end)) = (self.hold_next, speech_end_ms) {
            if hold == end {
                self.hold_next = None;
                tracing::info!(%text, "answer held for its continuation");
                self.held = Some(VoiceAnswer {
                    journal_len: self.journal.len(),
                    text,
                    words,
                    speech_end_ms: end,
                    reply: String::new(),
                });
                return;
            }
        }
        let (text, words) = match self.held.take() {
            Some(first) if !first.reply.is_empty() && is_echo_of(&text, &first.reply) => {
                // Not the candidate going on: the reply came back through their speakers.
                tracing::info!(%text, "the continuation was the reply's echo; the answer stands alone");
                self.metrics.count("turn_resume_echo");
                (first.text, first.words)
            }
            Some(first) => {
                let merged = [first.text.trim(), text.trim()]
                    .iter()
                    .filter(|t| !t.is_empty())
                    .copied()
                    .collect::<Vec<_>>()
                    .join(" ");
                let words = match (first.words, words) {
                    (Some(mut a), Some(b)) => {
                        a.extend(b);
                        Some(a)
                    }
                    (a, b) => a.or(b),
                };
                tracing::info!(text = %merged, "continuation merged into the same answer");
                (merged, words)
            }
            None => (text, words),
        };
        let journal_len = self.journal.len();
        let turn = self.interview.transcript().turns.len();
        let span = tracing::info_span!("answer", turn);
        self.silent_since = None;
        let t = Instant::now();
        let actions = self.handle(
            now,
            Event::CandidateAnswered {
                text: text.clone(),
                words: words.clone(),
            },
        );
        self.metrics.observe("dialogue", t.elapsed().as_secs_f64());
        span.in_scope(|| tracing::info!(actions = actions.len(), "answer handled"));
        let reply = actions
            .iter()
            .filter_map(|a| match a {
                Action::Say { text, .. } => Some(text.as_str()),
                _ => None,
            })
            .collect::<Vec<_>>()
            .join(" ");
        self.last_voice_answer = speech_end_ms.map(|end| VoiceAnswer {
            journal_len,
            text,
            words,
            speech_end_ms: end,
            reply,
        });
        self.act(actions, speech_end_ms).await;
    }

    /// The candidate went on after their turn was ended. If the answer was already handled,
    /// the interview is rebuilt from the journal as it stood before it (its reply leaves the
    /// transcript) and the answer is held; if it is still being transcribed, it will be held
    /// when it comes. Either way the continuation is merged into it.
    async fn withdraw(&mut self, speech_end_ms: u64) {
        match self.last_voice_answer.take() {
            Some(a) if a.speech_end_ms == speech_end_ms => {
                self.journal.truncate(a.journal_len);
                self.interview = journal::replay(
                    self.interview.job().clone(),
                    self.engine_config.clone(),
                    self.journal.events(),
                );
                self.silent_since = None;
                // A reply decided after the turn stage stopped playback carries the new epoch:
                // stop again so that it is dropped too.
                self.epoch.bump();
                let _ = self.ctl_tx.send(PlayCtl::Stop { reason: "resume" }).await;
                self.dirty = true;
                self.save();
                tracing::info!(text = %a.text, "reply withdrawn; the answer waits for its continuation");
                self.held = Some(a);
            }
            other => {
                self.last_voice_answer = other;
                self.hold_next = Some(speech_end_ms);
            }
        }
    }

    /// One event into the interview, kept in the journal when it changed something.
    fn handle(&mut self, now: u64, event: Event) -> Vec<Action> {
        let actions = self.interview.handle(now, event.clone());
        if self.journal.record(now, &event, !actions.is_empty()) {
            self.dirty = true;
        }
        actions
    }

    /// A restored session's candidate is back: a word of welcome, then the question they owe
    /// an answer to. Neither is a new turn: the answer still belongs to that question.
    async fn resume(&mut self) {
        let Some(prompt) = journal::pending_prompt(&self.interview) else {
            // It had ended before the process died (its filing was lost): file it now.
            self.ended = true;
            let _ = self
                .synth_tx
                .send(SynthJob::End {
                    reason: "completed".into(),
                })
                .await;
            return;
        };
        let text = format!("{RESUME_TEXT} {prompt}");
        tracing::info!("restored interview resumed");
        self.silent_since = None;
        let job = SynthJob::Say {
            utterance_id: viva_interview::utterance_id(&text),
            text,
            kind: viva_interview::UtteranceKind::Repeat,
            awaits_answer: true,
            epoch: self.epoch.get(),
            speech_end_ms: None,
        };
        let _ = self.synth_tx.send(job).await;
    }

    /// The server is stopping: everything is saved, the candidate is told, the session ends
    /// with [`REASON_PAUSED`] (kept for a resume, not filed).
    async fn pause(&mut self, say: bool) {
        if self.ended {
            return;
        }
        self.ended = true;
        self.dirty = true;
        self.save();
        tracing::info!(say, "interview paused for a server restart");
        if say {
            let job = SynthJob::Say {
                utterance_id: viva_interview::utterance_id(PAUSE_TEXT),
                text: PAUSE_TEXT.into(),
                kind: viva_interview::UtteranceKind::Transition,
                awaits_answer: false,
                epoch: self.epoch.get(),
                speech_end_ms: None,
            };
            let _ = self.synth_tx.send(job).await;
        }
        let _ = self
            .synth_tx
            .send(SynthJob::End {
                reason: REASON_PAUSED.into(),
            })
            .await;
    }

    async fn act(&mut self, actions: Vec<Action>, mut speech_end_ms: Option<u64>) {
        if actions.is_empty() {
            return;
        }
        for a in actions {
            match a {
                Action::Say {
                    utterance_id,
                    text,
                    kind,
                    awaits_answer,
                    ..
                } => {
                    if kind != viva_interview::UtteranceKind::Reprompt {
                        self.silent_since = None;
                    }
                    let job = SynthJob::Say {
                        utterance_id,
                        text,
                        kind,
                        awaits_answer,
                        epoch: self.epoch.get(),
                        // Only the first utterance answers the candidate's turn.
                        speech_end_ms: speech_end_ms.take(),
                    };
                    let _ = self.synth_tx.send(job).await;
                }
                Action::EndInterview { reason } => {
                    self.ended = true;
                    let reason = serde_json::to_value(reason)
                        .ok()
                        .and_then(|v| match v {
                            serde_json::Value::String(s) => Some(s),
                            serde_json::Value::Object(o) => {
                                o.get("code").and_then(|c| c.as_str()).map(str::to_string)
                            }
                            _ => None,
                        })
                        .unwrap_or_else(|| "ended".into());
                    tracing::info!(%reason, "interview ended");
                    let _ = self.synth_tx.send(SynthJob::End { reason }).await;
                }
            }
        }
        self.save();
        self.progress();
    }

    fn progress(&self) {
        let t = self.interview.transcript();
        let total_ms = u64::from(self.interview.job().duration_minutes) * 60_000;
        let elapsed = t
            .started_at_ms
            .map(|s| self.clock.now_ms().saturating_sub(s))
            .unwrap_or(0);
        emit(
            &self.out_tx,
            Outbound::Event(ServerEvent::Progress {
                phase: self.interview.phase(),
                turns: t.turns.len(),
                remaining_s: total_ms.saturating_sub(elapsed) / 1000,
            }),
            &self.metrics,
        );
    }

    /// Writes the transcript so far (atomically: a crash leaves the previous complete file) and
    /// hands the journal's new state to the sink (the database), which writes it in order.
    fn save(&mut self) {
        let write = || -> std::io::Result<()> {
            let json = serde_json::to_vec_pretty(self.interview.transcript())?;
            let tmp = self.turns_path.with_extension("json.tmp");
            std::fs::write(&tmp, json)?;
            std::fs::rename(&tmp, &self.turns_path)
        };
        if let Err(e) = write() {
            tracing::warn!(error = %e, path = %self.turns_path.display(), "turns not saved");
        }
        if !std::mem::take(&mut self.dirty) {
            return;
        }
        if let Some(out) = &self.journal_out {
            match self
                .journal
                .snapshot(&out.key, self.clock.now_ms(), &self.interview)
            {
                Ok(snapshot) => out.sink.progress(snapshot),
                Err(e) => tracing::warn!(error = %e, "session state not saved"),
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Synthesis: prompt cache first, then the voice, sentence by sentence.

async fn synthesis(
    engines: Arc<Engines>,
    epoch: Epoch,
    mut rx: mpsc::Receiver<SynthJob>,
    play_tx: mpsc::Sender<PlayItem>,
) {
    while let Some(job) = rx.recv().await {
        match job {
            SynthJob::Say {
                utterance_id,
                text,
                kind,
                awaits_answer,
                epoch: job_epoch,
                speech_end_ms,
            } => {
                if job_epoch != epoch.get() {
                    tracing::debug!(%utterance_id, "stale utterance dropped after a barge-in");
                    continue;
                }
                let start = PlayItem::Start {
                    utterance_id: utterance_id.clone(),
                    text: text.clone(),
                    kind,
                    awaits_answer,
                    epoch: job_epoch,
                    speech_end_ms,
                };
                if play_tx.send(start).await.is_err() {
                    break;
                }
                let voice = engines.voice.clone();
                let tx = play_tx.clone();
                let ep = epoch.clone();
                let metrics = engines.metrics.clone();
                let rendered = engines
                    .synth
                    .run(move || {
                        let t = Instant::now();
                        let cancel = viva_tts::CancelToken::new();
                        let utterance =
                            voice.speak(&text, viva_tts::SampleRate::Hz16000, &cancel)?;
                        let mut first = true;
                        for chunk in utterance {
                            if ep.get() != job_epoch {
                                // Barged in: stop rendering; what was rendered is dropped downstream.
                                cancel.cancel();
                                break;
                            }
                            let chunk = chunk?;
                            if first {
                                first = false;
                                let stage = if chunk.from_cache {
                                    "tts_first_audio_cached"
                                } else {
                                    "tts_first_audio"
                                };
                                metrics.observe(stage, t.elapsed().as_secs_f64());
                            }
                            let item = PlayItem::Samples {
                                epoch: job_epoch,
                                samples: chunk.samples,
                            };
                            if tx.blocking_send(item).is_err() {
                                break;
                            }
                        }
                        Ok::<(), viva_tts::TtsError>(())
                    })
                    .await;
                match rendered {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => tracing::warn!(%utterance_id, error = %e, "synthesis failed"),
                    Err(_) => tracing::warn!(%utterance_id, "synthesis job panicked"),
                }
                if play_tx
                    .send(PlayItem::End { epoch: job_epoch })
                    .await
                    .is_err()
                {
                    break;
                }
            }
            SynthJob::End { reason } => {
                let _ = play_tx.send(PlayItem::SessionEnd { reason }).await;
                break;
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Playout: real-time pacing to the client, the interviewer track, barge-in flushes.

enum Queued {
    Start {
        utterance_id: String,
        text: String,
        kind: viva_interview::UtteranceKind,
        awaits_answer: bool,
        speech_end_ms: Option<u64>,
    },
    Frame(Vec<f32>),
    End,
    SessionEnd(String),
}

struct Playout {
    clock: Clock,
    epoch: Epoch,
    out_tx: mpsc::Sender<Outbound>,
    turn_tx: mpsc::Sender<TurnIn>,
    dlg_tx: mpsc::Sender<DialogueIn>,
    rec_tx: mpsc::Sender<RecordFrame>,
    metrics: Arc<super::Metrics>,
    queue: VecDeque<Queued>,
    /// Session ms at which the next frame plays at the client.
    play_clock: u64,
    /// The utterance playing: (id, awaits_answer).
    current: Option<(String, bool)>,
    /// Set at an utterance start that answers a turn: the candidate's last speech.
    first_audio_for: Option<u64>,
    /// Items rendered before the latest barge-in are dropped.
    discard_below: u64,
}

impl Playout {
    async fn run(
        mut self,
        mut rx: mpsc::Receiver<PlayItem>,
        mut ctl: mpsc::Receiver<PlayCtl>,
        mut shutdown: watch::Receiver<bool>,
    ) -> String {
        // Synthesis hangs up right after queueing the session's end: what is queued (the closing
        // words) still plays out before the session ends.
        let (mut items_open, mut ctl_open) = (true, true);
        loop {
            tokio::select! {
                biased;
                _ = shutdown.changed() => return "shutdown".into(),
                c = ctl.recv(), if ctl_open => match c {
                    Some(PlayCtl::BargeIn { at_ms }) => self.stop(at_ms, "barge_in").await,
                    Some(PlayCtl::Stop { reason }) => self.stop(self.clock.now_ms(), reason).await,
                    None => ctl_open = false,
                },
                item = rx.recv(), if items_open => match item {
                    Some(item) => self.enqueue(item),
                    None => items_open = false,
                },
                _ = tokio::time::sleep(Duration::from_millis(FRAME_MS / 2)) => {}
            }
            if let Some(reason) = self.pump().await {
                return reason;
            }
            if !items_open && self.queue.is_empty() {
                return "pipeline_closed".into();
            }
        }
    }

    fn enqueue(&mut self, item: PlayItem) {
        match item {
            PlayItem::Start {
                utterance_id,
                text,
                kind,
                awaits_answer,
                epoch,
                speech_end_ms,
            } if epoch >= self.discard_below => self.queue.push_back(Queued::Start {
                utterance_id,
                text,
                kind,
                awaits_answer,
                speech_end_ms,
            }),
            PlayItem::Samples { epoch, samples } if epoch >= self.discard_below => {
                for c in samples.chunks(FRAME_SAMPLES) {
                    let mut f = c.to_vec();
                    // A whole last frame keeps the client's framing fixed at 20 ms.
                    f.resize(FRAME_SAMPLES, 0.0);
                    self.queue.push_back(Queued::Frame(f));
                }
            }
            PlayItem::End { epoch } if epoch >= self.discard_below => {
                self.queue.push_back(Queued::End)
            }
            PlayItem::SessionEnd { reason } => {
                tracing::debug!(queued = self.queue.len(), "session end queued");
                self.queue.push_back(Queued::SessionEnd(reason))
            }
            _ => tracing::debug!(
                discard_below = self.discard_below,
                "stale item dropped after a barge-in"
            ),
        }
    }

    /// Stops the interviewer at once (a barge-in, a bye, a pause): what is queued is dropped,
    /// the client flushes what it buffered.
    async fn stop(&mut self, at_ms: u64, reason: &'static str) {
        let t = Instant::now();
        self.discard_below = self.epoch.get();
        self.queue.retain(|q| matches!(q, Queued::SessionEnd(_)));
        let now = self.clock.now_ms();
        emit(
            &self.out_tx,
            Outbound::Event(ServerEvent::Flush {
                reason: reason.into(),
            }),
            &self.metrics,
        );
        if let Some((utterance_id, awaits_answer)) = self.current.take() {
            emit(
                &self.out_tx,
                Outbound::Event(ServerEvent::InterviewerAudioEnd {
                    utterance_id,
                    interrupted: true,
                    awaits_answer,
                }),
                &self.metrics,
            );
        }
        self.play_clock = now;
        let _ = self
            .turn_tx
            .send(TurnIn::InterviewerStopped { at_ms: now })
            .await;
        if reason == "barge_in" {
            self.metrics
                .observe("barge_in_stop", t.elapsed().as_secs_f64());
            self.metrics
                .observe("barge_in_detect", now.saturating_sub(at_ms) as f64 / 1000.0);
        }
    }

    /// Sends what is due; the session's end reason when it is over.
    async fn pump(&mut self) -> Option<String> {
        let now = self.clock.now_ms();
        while let Some(head) = self.queue.front() {
            match head {
                Queued::Start { .. } => {
                    let Some(Queued::Start {
                        utterance_id,
                        text,
                        kind,
                        awaits_answer,
                        speech_end_ms,
                    }) = self.queue.pop_front()
                    else {
                        break;
                    };
                    self.play_clock = self.play_clock.max(now);
                    emit(
                        &self.out_tx,
                        Outbound::Event(ServerEvent::Interviewer {
                            utterance_id: utterance_id.clone(),
                            text: text.clone(),
                            kind,
                            awaits_answer,
                        }),
                        &self.metrics,
                    );
                    let _ = self
                        .turn_tx
                        .send(TurnIn::InterviewerStarted {
                            at_ms: self.play_clock,
                            text,
                        })
                        .await;
                    self.current = Some((utterance_id, awaits_answer));
                    self.first_audio_for = speech_end_ms;
                }
                Queued::Frame(_) => {
                    self.play_clock = self.play_clock.max(now);
                    if self.play_clock > now + PLAYOUT_LEAD_MS {
                        break;
                    }
                    let Some(Queued::Frame(samples)) = self.queue.pop_front() else {
                        break;
                    };
                    if let Some(speech_end) = self.first_audio_for.take() {
                        let s = now.saturating_sub(speech_end) as f64 / 1000.0;
                        self.metrics.response_seconds.observe(s);
                        tracing::info!(
                            response_ms = (s * 1000.0) as u64,
                            "first interviewer audio"
                        );
                    }
                    let pcm = viva_tts::to_i16(&samples);
                    if let Ok(frame) = AudioFrame::at_ms(samples, RATE, self.play_clock) {
                        let _ = self
                            .rec_tx
                            .send(RecordFrame {
                                track: Track::Interviewer,
                                frame,
                            })
                            .await;
                    }
                    emit(&self.out_tx, Outbound::Audio(pcm), &self.metrics);
                    self.play_clock += FRAME_MS;
                }
                Queued::End => {
                    if now < self.play_clock {
                        break;
                    }
                    self.queue.pop_front();
                    let at_ms = self.play_clock;
                    if let Some((utterance_id, awaits_answer)) = self.current.take() {
                        emit(
                            &self.out_tx,
                            Outbound::Event(ServerEvent::InterviewerAudioEnd {
                                utterance_id,
                                interrupted: false,
                                awaits_answer,
                            }),
                            &self.metrics,
                        );
                        let _ = self
                            .turn_tx
                            .send(TurnIn::InterviewerStopped { at_ms })
                            .await;
                        let _ = self
                            .dlg_tx
                            .send(DialogueIn::InterviewerDone {
                                at_ms,
                                awaits_answer,
                            })
                            .await;
                    }
                }
                Queued::SessionEnd(_) => {
                    if now < self.play_clock {
                        break;
                    }
                    let Some(Queued::SessionEnd(reason)) = self.queue.pop_front() else {
                        break;
                    };
                    tracing::debug!(play_clock = self.play_clock, now, "closing words played");
                    emit(
                        &self.out_tx,
                        Outbound::Event(ServerEvent::Ended {
                            reason: reason.clone(),
                        }),
                        &self.metrics,
                    );
                    let (code, why) = if reason == REASON_PAUSED {
                        (
                            CLOSE_SERVICE_RESTART,
                            "interview paused; rejoin with the same link to resume",
                        )
                    } else {
                        (CLOSE_NORMAL, "interview ended")
                    };
                    // The close must not be lost to a full queue: wait a little for room.
                    let _ = tokio::time::timeout(
                        Duration::from_secs(2),
                        self.out_tx.send(Outbound::Close {
                            code,
                            reason: why.into(),
                        }),
                    )
                    .await;
                    return Some(reason);
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod transcription_tests {
    use super::super::transcriber::TranscribeError;
    use super::*;

    fn fin(turn: u32, generation: u64, speech_end_ms: u64) -> PendingFinal {
        PendingFinal {
            turn,
            generation,
            start_ms: 1_000,
            end_ms: speech_end_ms + TAIL_MS,
            speech_end_ms,
            samples: audio(speech_end_ms + TAIL_MS - 1_000),
            requested: Instant::now(),
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

#[cfg(test)]
mod playout_tests {
    use super::*;

    /// Synthesis queues the session's end right behind the closing words and hangs up at once:
    /// the closing words still play out in full (to the client and the recording) before the
    /// close. They used to be cut after their first frames.
    #[tokio::test]
    async fn closing_words_play_out_before_the_session_ends() {
        let (out_tx, mut out_rx) = mpsc::channel(1024);
        let (turn_tx, _turn_rx) = mpsc::channel(64);
        let (dlg_tx, _dlg_rx) = mpsc::channel(64);
        let (rec_tx, mut rec_rx) = mpsc::channel(1024);
        let (play_tx, play_rx) = mpsc::channel(64);
        let (_ctl_tx, ctl_rx) = mpsc::channel(4);
        let (_shutdown_tx, shutdown_rx) = watch::channel(false);
        let playout = Playout {
            clock: Clock::starting_at(0),
            epoch: Epoch::default(),
            out_tx,
            turn_tx,
            dlg_tx,
            rec_tx,
            metrics: Arc::new(super::super::Metrics::new()),
            queue: VecDeque::new(),
            play_clock: 0,
            current: None,
            first_audio_for: None,
            discard_below: 0,
        };
        // 600 ms of closing words: 30 frames.
        let samples = vec![0.1f32; 600 * RATE as usize / 1000];
        for item in [
            PlayItem::Start {
                utterance_id: "u-close".into(),
                text: "Goodbye.".into(),
                kind: viva_interview::UtteranceKind::Closing,
                awaits_answer: false,
                epoch: 0,
                speech_end_ms: None,
            },
            PlayItem::Samples { epoch: 0, samples },
            PlayItem::End { epoch: 0 },
            PlayItem::SessionEnd {
                reason: "completed".into(),
            },
        ] {
            play_tx.send(item).await.unwrap();
        }
        drop(play_tx);
        let started = Instant::now();
        tokio::time::timeout(
            Duration::from_secs(10),
            playout.run(play_rx, ctl_rx, shutdown_rx),
        )
        .await
        .expect("the playout ends");
        let (mut frames, mut closed_after) = (0, None);
        while let Ok(m) = out_rx.try_recv() {
            match m {
                Outbound::Audio(_) => frames += 1,
                Outbound::Close { .. } => closed_after = Some(frames),
                _ => {}
            }
        }
        assert_eq!(frames, 30, "every closing frame was sent");
        assert_eq!(closed_after, Some(30), "the close came after them");
        let mut recorded = 0;
        while rec_rx.try_recv().is_ok() {
            recorded += 1;
        }
        assert_eq!(recorded, 30, "and recorded");
        // Paced in real time: the close waits for the audio to have played at the client.
        assert!(
            started.elapsed() >= Duration::from_millis(600 - PLAYOUT_LEAD_MS),
            "closed after {:?}",
            started.elapsed()
        );
    }
}

#[cfg(test)]
mod recovery_tests {
    use super::*;

    fn window(speech_end_ms: u64) -> Recovery {
        Recovery {
            speech_end_ms,
            until_ms: speech_end_ms + RECOVERY_WINDOW_MS,
            speech_ms: 0,
            onset_ms: None,
            triggered: false,
        }
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

    #[test]
    fn the_replys_own_words_coming_back_are_an_echo_not_a_continuation() {
        let reply = "Thank you. Tell me about a system you designed for high write load.";
        assert!(is_echo_of("tell me about a system you designed", reply));
        assert!(!is_echo_of("and that is why we sharded the table", reply));
        assert!(!is_echo_of("system", reply), "one word proves nothing");
        assert!(!is_echo_of("by a similar process", ""));
    }
}
