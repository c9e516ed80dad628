//! Streaming transcription: one shared model, many concurrent streams.
//!
//! - [`InferenceScheduler`] owns the Whisper model's compute: a fixed pool of worker threads
//!   (sized to the cores) and a priority queue in which **finals go before partials**. A newer
//!   partial of a stream replaces its queued older one, so under load captions get sparser
//!   while turn ends stay fast, instead of everything stalling. (Aborting a running partial for
//!   a final would be better still, but whisper-rs 0.16's abort callback aborts every pass.)
//! - [`StreamingTranscriber`] is the per-stream state (no threads, no clocks): it buffers the
//!   current utterance, says when a partial pass is due, turns consecutive partial hypotheses
//!   into a stable prefix (LocalAgreement-2: a word becomes stable once two consecutive passes
//!   agree on it), and produces the final transcript with word times on the session clock.
//!
//! Passes are sized to the utterance (`audio_ctx_margin`), not padded to Whisper's 30 s window:
//! that is where the latency goes (see `shared/design/models.md`).

use std::collections::BinaryHeap;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Instant;

use crate::text::normalize;
use crate::whisper::{TranscribeOptions, Transcription, WhisperError, WhisperModel, Word};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub enum Priority {
    /// The transcript of a finished turn: someone is waiting for it.
    Final,
    /// A pass started when the speaker paused: it is probably the turn's final transcript
    /// (computed while the end-of-turn detector still waits), so it goes before captions. A
    /// newer one of the same stream replaces a queued older one.
    Endpoint,
    /// A caption update: nice to have, droppable.
    Partial,
}

#[derive(Debug, thiserror::Error)]
pub enum SchedulerError {
    #[error("a newer partial of the same stream replaced this one")]
    Superseded,
    #[error("the inference scheduler has shut down")]
    Shutdown,
    #[error(transparent)]
    Whisper(#[from] WhisperError),
}

/// A finished inference with its timings.
#[derive(Debug, Clone)]
pub struct Inference {
    pub transcription: Transcription,
    pub queued_ms: u64,
    pub run_ms: u64,
}

pub type InferenceResult = Result<Inference, SchedulerError>;

/// Where a submitted job's result arrives; usable from async (`.await`) and blocking code.
pub type Ticket = tokio::sync::oneshot::Receiver<InferenceResult>;

struct Job {
    priority: Priority,
    seq: u64,
    stream: u64,
    samples: Vec<f32>,
    opts: TranscribeOptions,
    reply: tokio::sync::oneshot::Sender<InferenceResult>,
    enqueued: Instant,
}

impl PartialEq for Job {
    fn eq(&self, other: &Self) -> bool {
        (self.priority, self.seq) == (other.priority, other.seq)
    }
}
impl Eq for Job {}
impl PartialOrd for Job {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Job {
    // BinaryHeap pops the greatest: finals first, then the oldest.
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        other
            .priority
            .cmp(&self.priority)
            .then(other.seq.cmp(&self.seq))
    }
}

#[derive(Default)]
struct Queue {
    jobs: BinaryHeap<Job>,
    shutdown: bool,
    seq: u64,
}

struct Shared {
    model: Arc<WhisperModel>,
    queue: Mutex<Queue>,
    ready: Condvar,
}

/// Bounded, prioritised access to one Whisper model.
pub struct InferenceScheduler {
    shared: Arc<Shared>,
    workers: Vec<std::thread::JoinHandle<()>>,
    threads_per_job: usize,
}

/// Scheduler sizing.
#[derive(Debug, Clone, Copy)]
pub struct SchedulerConfig {
    /// Concurrent inferences.
    pub workers: usize,
    /// Threads each inference uses.
    pub threads_per_job: usize,
}

impl SchedulerConfig {
    /// One single-threaded worker per core. ggml's threads spin on barriers, so a 2-thread pass
    /// collapses when anything else wants a core (measured: RTF 0.45 with 1 thread vs 1.1 with
    /// 2 under a load of ~3); single-threaded workers also let a final run beside a caption
    /// pass instead of waiting for it.
    pub fn for_cores(cores: usize) -> Self {
        Self {
            workers: cores.clamp(1, 8),
            threads_per_job: 1,
        }
    }
}

impl InferenceScheduler {
    pub fn new(model: Arc<WhisperModel>, config: SchedulerConfig) -> Self {
        let shared = Arc::new(Shared {
            model,
            queue: Mutex::new(Queue::default()),
            ready: Condvar::new(),
        });
        let workers = (0..config.workers.max(1))
            .map(|i| {
                let shared = shared.clone();
                let threads = config.threads_per_job.max(1);
                std::thread::Builder::new()
                    .name(format!("whisper-{i}"))
                    .spawn(move || worker(shared, threads))
                    .expect("spawning a worker thread only fails when the OS is out of threads")
            })
            .collect();
        Self {
            shared,
            workers,
            threads_per_job: config.threads_per_job.max(1),
        }
    }

    pub fn threads_per_job(&self) -> usize {
        self.threads_per_job
    }

    /// Queues `samples` (16 kHz mono) for transcription on behalf of `stream`.
    pub fn submit(
        &self,
        stream: u64,
        priority: Priority,
        samples: Vec<f32>,
        opts: TranscribeOptions,
    ) -> Ticket {
        let (reply, ticket) = tokio::sync::oneshot::channel();
        let Ok(mut q) = self.shared.queue.lock() else {
            let _ = reply.send(Err(SchedulerError::Shutdown));
            return ticket;
        };
        if q.shutdown {
            let _ = reply.send(Err(SchedulerError::Shutdown));
            return ticket;
        }
        if priority != Priority::Final {
            // Only the newest caption of a stream is worth computing; a newer endpoint pass
            // covers everything an older queued one would (and any queued caption).
            let jobs = std::mem::take(&mut q.jobs).into_vec();
            for job in jobs {
                if job.stream == stream && job.priority >= priority {
                    let _ = job.reply.send(Err(SchedulerError::Superseded));
                } else {
                    q.jobs.push(job);
                }
            }
        }
        q.seq += 1;
        let seq = q.seq;
        q.jobs.push(Job {
            priority,
            seq,
            stream,
            samples,
            opts,
            reply,
            enqueued: Instant::now(),
        });
        drop(q);
        self.shared.ready.notify_one();
        ticket
    }

    /// Jobs waiting (not running).
    pub fn queued(&self) -> usize {
        self.shared.queue.lock().map(|q| q.jobs.len()).unwrap_or(0)
    }
}

impl Drop for InferenceScheduler {
    fn drop(&mut self) {
        if let Ok(mut q) = self.shared.queue.lock() {
            q.shutdown = true;
            for job in std::mem::take(&mut q.jobs).into_vec() {
                let _ = job.reply.send(Err(SchedulerError::Shutdown));
            }
        }
        self.shared.ready.notify_all();
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }
}

fn worker(shared: Arc<Shared>, threads: usize) {
    loop {
        let job = {
            let Ok(mut q) = shared.queue.lock() else {
                return;
            };
            loop {
                if q.shutdown {
                    return;
                }
                if let Some(job) = q.jobs.pop() {
                    break job;
                }
                q = match shared.ready.wait(q) {
                    Ok(q) => q,
                    Err(_) => return,
                };
            }
        };
        let queued_ms = job.enqueued.elapsed().as_millis() as u64;
        let mut opts = job.opts;
        opts.threads = threads;
        let started = Instant::now();
        let result = shared.model.transcribe(&job.samples, &opts);
        let run_ms = started.elapsed().as_millis() as u64;
        let outcome = match result {
            Ok(transcription) => Ok(Inference {
                transcription,
                queued_ms,
                run_ms,
            }),
            Err(e) => Err(e.into()),
        };
        let _ = job.reply.send(outcome);
    }
}

/// Per-stream tuning.
#[derive(Debug, Clone)]
pub struct StreamConfig {
    /// New audio between two partial passes.
    pub partial_interval_ms: u64,
    /// No partial before the utterance has this much audio.
    pub min_partial_ms: u64,
    /// Encoder padding (20 ms frames) after the audio; 128 matched full-window WER on real speech.
    pub ctx_margin: u32,
}

impl Default for StreamConfig {
    fn default() -> Self {
        Self {
            partial_interval_ms: 700,
            min_partial_ms: 500,
            ctx_margin: 128,
        }
    }
}

/// Options of a live pass: sized to the audio plus `ctx_margin` frames, no temperature
/// fallback (a retry is another whole decode: the worst case the candidate would wait for).
pub fn live_options(ctx_margin: u32) -> TranscribeOptions {
    TranscribeOptions {
        audio_ctx_margin: Some(ctx_margin),
        temperature_fallback: false,
        ..TranscribeOptions::default()
    }
}

/// What the caption shows: the agreed prefix and the still-moving tail.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Caption {
    pub stable: String,
    pub unstable: String,
}

/// A finished utterance, with word times on the session clock.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FinalTranscript {
    pub text: String,
    pub words: Vec<Word>,
    pub start_ms: u64,
    pub end_ms: u64,
}

const RATE: u64 = 16_000;

/// The state of one audio stream's current utterance.
#[derive(Debug, Clone)]
pub struct StreamingTranscriber {
    config: StreamConfig,
    audio: Vec<f32>,
    /// Session-clock time of `audio[0]`.
    start_ms: u64,
    partial_requested_at: usize,
    partial_in_flight: bool,
    previous: Vec<Word>,
    stable: Vec<Word>,
}

impl StreamingTranscriber {
    pub fn new(config: StreamConfig) -> Self {
        Self {
            config,
            audio: Vec::new(),
            start_ms: 0,
            partial_requested_at: 0,
            partial_in_flight: false,
            previous: Vec::new(),
            stable: Vec::new(),
        }
    }

    /// Starts a new utterance at `start_ms` on the session clock (drops any unfinished one).
    pub fn begin(&mut self, start_ms: u64) {
        *self = Self::new(self.config.clone());
        self.start_ms = start_ms;
    }

    /// Appends 16 kHz samples of the current utterance. Non-finite samples become silence.
    pub fn push(&mut self, samples: &[f32]) {
        self.audio.extend(samples.iter().map(|s| {
            if s.is_finite() {
                s.clamp(-1.0, 1.0)
            } else {
                0.0
            }
        }));
    }

    pub fn audio_ms(&self) -> u64 {
        self.audio.len() as u64 * 1000 / RATE
    }

    pub fn is_empty(&self) -> bool {
        self.audio.is_empty()
    }

    /// True when enough new audio arrived for another caption update and none is in flight.
    pub fn partial_due(&self) -> bool {
        let new_ms = (self.audio.len() - self.partial_requested_at.min(self.audio.len())) as u64
            * 1000
            / RATE;
        !self.partial_in_flight
            && self.audio_ms() >= self.config.min_partial_ms
            && new_ms >= self.config.partial_interval_ms
    }

    fn options(&self) -> TranscribeOptions {
        live_options(self.config.ctx_margin)
    }

    /// The audio and options of the next partial pass; marks one in flight.
    pub fn partial_request(&mut self) -> (Vec<f32>, TranscribeOptions) {
        self.partial_in_flight = true;
        self.partial_requested_at = self.audio.len();
        (self.audio.clone(), self.options())
    }

    /// A partial pass failed or was dropped: allow the next one.
    pub fn partial_dropped(&mut self) {
        self.partial_in_flight = false;
    }

    /// Folds a partial hypothesis in; returns the caption to show.
    pub fn accept_partial(&mut self, t: &Transcription) -> Caption {
        self.partial_in_flight = false;
        let current: Vec<Word> = t.words().cloned().collect();
        // LocalAgreement-2: extend the stable prefix by what this and the previous pass agree on.
        let key = |w: &Word| normalize(&w.text).join(" ");
        let agreed = self
            .previous
            .iter()
            .zip(&current)
            .take_while(|(a, b)| key(a) == key(b))
            .count();
        if agreed > self.stable.len() {
            self.stable = current[..agreed].to_vec();
        }
        self.previous = current;
        let unstable: Vec<&str> = self
            .previous
            .iter()
            .skip(self.stable.len())
            .map(|w| w.text.as_str())
            .collect();
        Caption {
            stable: join(&self.stable),
            unstable: unstable.join(" "),
        }
    }

    /// The audio and options of the final pass for this utterance.
    pub fn final_request(&self) -> (Vec<f32>, TranscribeOptions) {
        (self.audio.clone(), self.options())
    }

    /// Turns the final pass into the utterance's transcript on the session clock and resets
    /// for the next utterance.
    pub fn finish(&mut self, t: &Transcription) -> FinalTranscript {
        let words: Vec<Word> = t
            .words()
            .map(|w| Word {
                start_ms: w.start_ms + self.start_ms,
                end_ms: w.end_ms + self.start_ms,
                ..w.clone()
            })
            .collect();
        let out = FinalTranscript {
            text: t.text.trim().to_string(),
            words,
            start_ms: self.start_ms,
            end_ms: self.start_ms + self.audio_ms(),
        };
        let next_start = out.end_ms;
        self.begin(next_start);
        out
    }
}

fn join(words: &[Word]) -> String {
    words
        .iter()
        .map(|w| w.text.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hyp(words: &[&str]) -> Transcription {
        let words: Vec<Word> = words
            .iter()
            .enumerate()
            .map(|(i, w)| Word {
                text: w.to_string(),
                start_ms: i as u64 * 300,
                end_ms: i as u64 * 300 + 250,
                probability: 0.9,
            })
            .collect();
        Transcription {
            text: join(&words),
            segments: vec![crate::whisper::Segment {
                start_ms: 0,
                end_ms: 1000,
                text: join(&words),
                words,
                no_speech_probability: 0.0,
            }],
            audio_ms: 1000,
            elapsed_ms: 1,
        }
    }

    #[test]
    fn local_agreement_only_stabilises_what_two_passes_agree_on() {
        let mut s = StreamingTranscriber::new(StreamConfig::default());
        let c = s.accept_partial(&hyp(&["we", "used", "a"]));
        assert_eq!(c.stable, "", "one pass is never enough");
        assert_eq!(c.unstable, "we used a");
        let c = s.accept_partial(&hyp(&["We", "used", "Postgres,", "and"]));
        assert_eq!(
            c.stable, "We used",
            "case and punctuation do not break agreement"
        );
        assert_eq!(c.unstable, "Postgres, and");
        // A later pass that disagrees never takes back stable words.
        let c = s.accept_partial(&hyp(&["Three", "used"]));
        assert_eq!(c.stable, "We used");
    }

    #[test]
    fn partials_are_paced_and_finals_use_the_session_clock() {
        let mut s = StreamingTranscriber::new(StreamConfig {
            partial_interval_ms: 700,
            min_partial_ms: 500,
            ctx_margin: 64,
        });
        s.begin(10_000);
        s.push(&vec![0.1; 16_000 * 4 / 10]);
        assert!(!s.partial_due(), "400 ms is below the minimum");
        s.push(&vec![0.1; 16_000 * 4 / 10]);
        assert!(s.partial_due());
        let (audio, opts) = s.partial_request();
        assert_eq!(audio.len(), 12_800);
        assert_eq!(opts.audio_ctx_margin, Some(64));
        assert!(!s.partial_due(), "one in flight at a time");
        s.partial_dropped();
        assert!(!s.partial_due(), "no new audio since the last request");
        s.push(&[f32::NAN; 16_000]);
        assert!(s.partial_due());
        let (audio, _) = s.final_request();
        assert!(
            audio.iter().all(|x| x.is_finite()),
            "NaN never reaches the model"
        );
        let f = s.finish(&hyp(&["hello", "there"]));
        assert_eq!(f.words[1].start_ms, 10_300);
        assert_eq!(f.start_ms, 10_000);
        assert_eq!(f.end_ms, 11_800);
        assert!(s.is_empty(), "ready for the next utterance");
    }

    #[test]
    fn jobs_order_finals_first_then_fifo() {
        let (tx, _rx) = tokio::sync::oneshot::channel();
        let mk = |priority, seq, reply| Job {
            priority,
            seq,
            stream: 0,
            samples: vec![],
            opts: TranscribeOptions::default(),
            reply,
            enqueued: Instant::now(),
        };
        let mut heap = BinaryHeap::new();
        heap.push(mk(Priority::Partial, 1, tx));
        let (tx, _rx2) = tokio::sync::oneshot::channel();
        heap.push(mk(Priority::Final, 3, tx));
        let (tx, _rx3) = tokio::sync::oneshot::channel();
        heap.push(mk(Priority::Final, 2, tx));
        let order: Vec<(Priority, u64)> =
            std::iter::from_fn(|| heap.pop().map(|j| (j.priority, j.seq))).collect();
        assert_eq!(
            order,
            vec![
                (Priority::Final, 2),
                (Priority::Final, 3),
                (Priority::Partial, 1)
            ]
        );
    }
}
