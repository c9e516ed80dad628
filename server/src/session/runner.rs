//! The one tokio task that runs a [`Session`]: the same for the WebSocket, WebRTC and phone
//! gateways, which only turn bytes into [`Inbound`] messages and [`Outbound`] ones into bytes.
//!
//! The runner owns the IO the session asks for: the wall clock, Whisper passes on the shared
//! scheduler, Smart Turn on the blocking pool, the voice on the synthesis pool (one utterance
//! at a time, in order, cancellable), the recording, the transcript file and the journal sink.
//! Every result comes back as an [`Input`]; every decision stays in the session.
//!
//! Time: one session clock, milliseconds since the session was created (a restored session's
//! clock continues its old one). Candidate audio is stamped by sample count and interviewer
//! audio when it is played out, so both tracks of the recording and every event share one
//! timeline.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tracing::Instrument;
use viva_audio::frame::samples_to_ms;
use viva_audio::turn::Language;
use viva_interview::{Interview, JobConfig};

use super::journal::{self, Journal, JournalKey};
use super::machine::{Input, Metric, Output, Session, Setup};
use super::messages::{Inbound, Outbound, RecordFrame, ServerEvent};
use super::setup::{Restored, SessionConfig, SessionSink};
use super::Engines;
use viva_models::workers::{PassKind, TranscribeError};

/// Inbound queue: about 5 s of 20 ms frames; a transport that outruns it waits (backpressure).
pub const INBOUND_CAPACITY: usize = 256;
/// Outbound queue: 10 s of audio frames. Full (a stalled or detached client) drops frames rather
/// than stalling the session.
pub const OUTBOUND_CAPACITY: usize = 512;

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

    fn instant_at(&self, ms: u64) -> Instant {
        self.start + Duration::from_millis(ms.saturating_sub(self.offset_ms))
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

/// Starts a session; the returned task ends, with the session's end reason, when it is over.
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
    let slower_speech = interview.job().accommodations.slower_speech;
    let acoustic = engines.smart_turn.clone().filter(|_| config.turn_model);
    let mut turn = config.turn.clone();
    turn.acoustic = acoustic.is_some();
    turn.patience = match interview.job().turn.patience {
        // Extra time: a candidate who needs it gets the longest pauses too.
        _ if interview.job().accommodations.extra_time > 1.0 => viva_audio::turn::Patience::High,
        viva_interview::TurnPatience::Low => viva_audio::turn::Patience::Low,
        viva_interview::TurnPatience::Normal => viva_audio::turn::Patience::Normal,
        viva_interview::TurnPatience::High => viva_audio::turn::Patience::High,
    };
    let vad = engines.vad.detector();
    let (journal_key, sink) = match journal_out {
        Some(j) => (Some(j.key), Some(j.sink)),
        None => (None, None),
    };
    let session = Session::new(
        Setup {
            interview,
            engine: config.engine.clone(),
            turn,
            cutoff_recovery: config.cutoff_recovery,
            resume_grace_ms: config.resume_grace.as_millis() as u64,
            journal,
            journal_key,
            now_ms: clock.now_ms(),
        },
        vad,
    );
    let (rec_tx, rec_rx) = mpsc::channel::<RecordFrame>(512);
    let recorder_task = super::recording::spawn(recorder, rec_rx);
    let (work_tx, work_rx) = mpsc::unbounded_channel();
    let cancel_through = Arc::new(AtomicU64::new(0));
    let synth_tx = spawn_synthesis(
        engines.clone(),
        cancel_through.clone(),
        work_tx.clone(),
        slower_speech,
    );
    let metrics = engines.metrics.clone();
    metrics.live_sessions.inc();
    let runner = Runner {
        stream: engines.transcriber.new_stream(),
        session,
        clock,
        engines,
        acoustic,
        out_tx,
        rec_tx,
        sink,
        turns_path: dir.join("turns.json"),
        work_tx,
        synth_tx,
        cancel_through,
        step_started: Instant::now(),
    };
    let span = tracing::info_span!("session", session_id = %id);
    Ok(tokio::spawn(
        async move {
            let reason = runner.run(in_rx, work_rx).await;
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

struct Runner {
    session: Session,
    clock: Clock,
    engines: Arc<Engines>,
    acoustic: Option<Arc<viva_audio::SmartTurnModel>>,
    /// This session's stream on the transcription scheduler.
    stream: u64,
    out_tx: mpsc::Sender<Outbound>,
    rec_tx: mpsc::Sender<RecordFrame>,
    sink: Option<Arc<dyn SessionSink>>,
    turns_path: PathBuf,
    /// Where the workers' results come back.
    work_tx: mpsc::UnboundedSender<Input>,
    synth_tx: mpsc::UnboundedSender<(u64, String, Language)>,
    /// Utterances up to this id are no longer wanted.
    cancel_through: Arc<AtomicU64>,
    /// When the current step began (what the step metrics measure).
    step_started: Instant,
}

impl Runner {
    async fn run(
        mut self,
        mut in_rx: mpsc::Receiver<Inbound>,
        mut work_rx: mpsc::UnboundedReceiver<Input>,
    ) -> String {
        let mut inbound_open = true;
        loop {
            while let Some(output) = self.session.poll_output() {
                if let Some(reason) = self.carry_out(output).await {
                    // Rendering still running for this session stops.
                    self.cancel_through.store(u64::MAX, Ordering::SeqCst);
                    return reason;
                }
            }
            let Some(due) = self.session.poll_timeout() else {
                return "ended".into();
            };
            let deadline = tokio::time::Instant::from_std(self.clock.instant_at(due));
            tokio::select! {
                biased;
                msg = in_rx.recv(), if inbound_open => match msg {
                    Some(msg) => {
                        let audio = matches!(msg, Inbound::Audio(_));
                        self.step_started = Instant::now();
                        self.session.handle_input(self.clock.now_ms(), Input::Transport(msg));
                        if audio {
                            self.engines.metrics.observe("front_end", self.step_started.elapsed().as_secs_f64());
                        }
                    }
                    // The transport side is gone for good: the session runs on its timers
                    // (the detach grace, the silence give-up) to its end.
                    None => inbound_open = false,
                },
                Some(done) = work_rx.recv() => {
                    self.step_started = Instant::now();
                    self.session.handle_input(self.clock.now_ms(), done);
                }
                _ = tokio::time::sleep_until(deadline) => {}
            }
            // Timers run when due even while inputs keep arriving (a burst after a stall).
            let now = self.clock.now_ms();
            if self.session.poll_timeout().is_some_and(|due| due <= now) {
                self.step_started = Instant::now();
                self.session.handle_timeout(now);
            }
        }
    }

    /// Does what the session asked; the end reason when it is over.
    async fn carry_out(&mut self, output: Output) -> Option<String> {
        let metrics = &self.engines.metrics;
        match output {
            Output::Send(Outbound::Close { code, reason }) => {
                // The close must not be lost to a full queue: wait a little for room.
                let _ = tokio::time::timeout(
                    Duration::from_secs(2),
                    self.out_tx.send(Outbound::Close { code, reason }),
                )
                .await;
            }
            Output::Send(msg) => {
                if let Outbound::Event(ServerEvent::Flush { reason }) = &msg {
                    if reason == "barge_in" {
                        metrics.observe("barge_in_stop", self.step_started.elapsed().as_secs_f64());
                    }
                }
                // A slow or detached client loses frames; the session never stalls.
                if self.out_tx.try_send(msg).is_err() {
                    metrics.count("outbound_dropped");
                }
            }
            Output::Record(track, frame) => {
                let _ = self.rec_tx.send(RecordFrame { track, frame }).await;
            }
            Output::Transcribe {
                pass,
                kind,
                samples,
                prompt,
                language,
                ..
            } => self.transcribe(pass, kind, samples, prompt, language),
            Output::AskAcoustic {
                speech_end_ms,
                samples,
            } => self.ask_acoustic(speech_end_ms, samples),
            Output::Synthesize {
                utterance,
                text,
                language,
            } => {
                let _ = self.synth_tx.send((utterance, text, language));
            }
            Output::CancelSynthesis { through } => {
                self.cancel_through.fetch_max(through, Ordering::SeqCst);
            }
            Output::SaveTranscript(json) => {
                metrics.observe("dialogue", self.step_started.elapsed().as_secs_f64());
                // Atomically: a crash leaves the previous complete file.
                let tmp = self.turns_path.with_extension("json.tmp");
                let written = std::fs::write(&tmp, json)
                    .and_then(|_| std::fs::rename(&tmp, &self.turns_path));
                if let Err(e) = written {
                    tracing::warn!(error = %e, path = %self.turns_path.display(), "turns not saved");
                }
            }
            Output::Persist(snapshot) => {
                if let Some(sink) = &self.sink {
                    sink.progress(snapshot);
                }
            }
            Output::Metric(Metric::Count(kind)) => metrics.count(kind),
            Output::Metric(Metric::Observe(stage, s)) => metrics.observe(stage, s),
            Output::Metric(Metric::Response(s)) => metrics.response_seconds.observe(s),
            Output::Ended { reason } => return Some(reason),
        }
        None
    }

    /// A pass on the shared scheduler; its result comes back as [`Input::Transcribed`].
    fn transcribe(
        &self,
        pass: u64,
        kind: PassKind,
        samples: Vec<f32>,
        prompt: Option<String>,
        language: Language,
    ) {
        let fut =
            self.engines
                .transcriber
                .submit(self.stream, kind, samples, prompt, language.tag());
        let work_tx = self.work_tx.clone();
        let metrics = self.engines.metrics.clone();
        let started = Instant::now();
        tokio::spawn(async move {
            let result = fut.await;
            metrics.observe(
                match kind {
                    PassKind::Partial => "asr_partial",
                    PassKind::Endpoint => "asr_endpoint",
                    PassKind::Final => "asr_final_pass",
                },
                started.elapsed().as_secs_f64(),
            );
            if let Err(e) = &result {
                if !matches!(e, TranscribeError::Superseded) {
                    tracing::warn!(error = %e, ?kind, "pass failed");
                }
            }
            let _ = work_tx.send(Input::Transcribed { pass, result });
        });
    }

    /// Smart Turn on the blocking pool; its answer comes back as [`Input::Acoustic`].
    fn ask_acoustic(&self, speech_end_ms: u64, samples: Vec<f32>) {
        let Some(model) = self.acoustic.clone() else {
            return;
        };
        let work_tx = self.work_tx.clone();
        let metrics = self.engines.metrics.clone();
        tokio::task::spawn_blocking(move || {
            let t = Instant::now();
            match model.probability(&samples) {
                Ok(p_complete) => {
                    metrics.observe("turn_acoustic", t.elapsed().as_secs_f64());
                    let _ = work_tx.send(Input::Acoustic {
                        speech_end_ms,
                        p_complete,
                    });
                }
                Err(e) => tracing::warn!(error = %e, "Smart Turn failed; text and silence decide"),
            }
        });
    }
}

/// The session's voice: utterances rendered one at a time, in order, on the synthesis pool
/// (prompt cache first), each chunk sent back as it is ready; an utterance at or below
/// `cancel_through` stops rendering.
fn spawn_synthesis(
    engines: Arc<Engines>,
    cancel_through: Arc<AtomicU64>,
    work_tx: mpsc::UnboundedSender<Input>,
    slower_speech: bool,
) -> mpsc::UnboundedSender<(u64, String, Language)> {
    let (tx, mut rx) = mpsc::unbounded_channel::<(u64, String, Language)>();
    tokio::spawn(
        async move {
            while let Some((utterance, text, language)) = rx.recv().await {
                if cancel_through.load(Ordering::SeqCst) >= utterance {
                    tracing::debug!(utterance, "stale utterance dropped after a stop");
                    continue;
                }
                let voice = engines.voice_at(language, slower_speech);
                let metrics = engines.metrics.clone();
                let cancelled = cancel_through.clone();
                let out = work_tx.clone();
                let rendered = engines
                    .synth
                    .run(move || {
                        let t = Instant::now();
                        let mut first = true;
                        voice.speak(&text, &mut |chunk| {
                            if cancelled.load(Ordering::SeqCst) >= utterance {
                                // Stopped: what was rendered is dropped by the session.
                                return false;
                            }
                            if first {
                                first = false;
                                let stage = if chunk.from_cache {
                                    "tts_first_audio_cached"
                                } else {
                                    "tts_first_audio"
                                };
                                metrics.observe(stage, t.elapsed().as_secs_f64());
                            }
                            let samples = chunk.samples;
                            out.send(Input::Synthesized { utterance, samples }).is_ok()
                        })
                    })
                    .await;
                match rendered {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => tracing::warn!(utterance, error = %e, "synthesis failed"),
                    Err(_) => tracing::warn!(utterance, "synthesis job panicked"),
                }
                if work_tx.send(Input::SynthesisDone { utterance }).is_err() {
                    break;
                }
            }
        }
        .in_current_span(),
    );
    tx
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clock_maps_session_time_back_to_instants() {
        let c = Clock::starting_at(5_000);
        let at = c.instant_at(6_000);
        assert_eq!(at - c.start, Duration::from_millis(1_000));
        assert_eq!(c.instant_at(4_000), c.start, "the past is now");
    }
}
