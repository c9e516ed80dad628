//! Streaming transcription: one shared model, many concurrent streams.
//!
//! - [`InferenceScheduler`] owns the Whisper model's compute: a fixed pool of worker threads
//!   (sized to the cores) and a priority queue in which **finals go before partials**. A newer
//!   partial of a stream replaces its queued older one, so under load captions get sparser
//!   while turn ends stay fast, instead of everything stalling. A caption pass still running
//!   when its stream's endpoint or final pass arrives is given up (whisper.cpp checks after the
//!   encoder and after each token), so its core goes to the pass the candidate waits for.
//! - Which audio a live session transcribes when, and which pass stands for a turn's final
//!   text, is the session's decision (`server/src/session/machine/transcription.rs`).
//!
//! Passes are sized to the utterance (`audio_ctx_margin`), not padded to Whisper's 30 s window:
//! that is where the latency goes (see `shared/design/models.md`).

use std::collections::BinaryHeap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Instant;

use crate::whisper::{TranscribeOptions, Transcription, WhisperError, WhisperModel};

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

/// A job a worker is running, and the flag that gives it up.
struct Running {
    seq: u64,
    stream: u64,
    priority: Priority,
    abort: Arc<AtomicBool>,
}

#[derive(Default)]
struct Queue {
    jobs: BinaryHeap<Job>,
    running: Vec<Running>,
    /// A turn-ending pass runs on every core: the other workers wait for it.
    exclusive: bool,
    shutdown: bool,
    seq: u64,
}

struct Shared {
    model: Arc<WhisperModel>,
    /// The model for passes in a language other than English (multilingual Whisper).
    multilingual: Option<Arc<WhisperModel>>,
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
    /// Threads for an endpoint or final pass that finds nothing else running or queued: the
    /// candidate waits for that one, and the other cores would idle.
    pub threads_when_alone: usize,
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
            threads_when_alone: cores.clamp(1, 4),
        }
    }
}

impl InferenceScheduler {
    pub fn new(model: Arc<WhisperModel>, config: SchedulerConfig) -> Self {
        Self::with_multilingual(model, None, config)
    }

    /// A scheduler whose passes in a language other than English run on `multilingual`. Both
    /// models share the one pool of workers, so the cores are never oversubscribed.
    pub fn with_multilingual(
        model: Arc<WhisperModel>,
        multilingual: Option<Arc<WhisperModel>>,
        config: SchedulerConfig,
    ) -> Self {
        let shared = Arc::new(Shared {
            model,
            multilingual,
            queue: Mutex::new(Queue::default()),
            ready: Condvar::new(),
        });
        let workers = (0..config.workers.max(1))
            .map(|i| {
                let shared = shared.clone();
                std::thread::Builder::new()
                    .name(format!("whisper-{i}"))
                    .spawn(move || worker(shared, config))
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
        if priority != Priority::Partial {
            // The stream's caption being computed covers less than this pass: give it up.
            for running in &q.running {
                if running.stream == stream && running.priority == Priority::Partial {
                    running.abort.store(true, Ordering::Relaxed);
                }
            }
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

fn worker(shared: Arc<Shared>, config: SchedulerConfig) {
    loop {
        let (job, abort, threads) = {
            let Ok(mut q) = shared.queue.lock() else {
                return;
            };
            loop {
                if q.shutdown {
                    return;
                }
                let job = if q.exclusive { None } else { q.jobs.pop() };
                if let Some(job) = job {
                    // Alone, a pass the candidate waits for takes every core (ggml's threads
                    // wait on each other at every step, so it must not share them: the other
                    // workers hold back until it is done).
                    let alone = job.priority != Priority::Partial
                        && q.running.is_empty()
                        && q.jobs.is_empty()
                        && config.threads_when_alone > config.threads_per_job;
                    q.exclusive = alone;
                    let threads = if alone {
                        config.threads_when_alone
                    } else {
                        config.threads_per_job.max(1)
                    };
                    let abort = Arc::new(AtomicBool::new(false));
                    q.running.push(Running {
                        seq: job.seq,
                        stream: job.stream,
                        priority: job.priority,
                        abort: abort.clone(),
                    });
                    break (job, abort, threads);
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
        let english = opts.language.as_deref().is_none_or(|l| l == "en");
        let model = match &shared.multilingual {
            Some(multilingual) if !english => multilingual,
            _ => &shared.model,
        };
        let result = model.transcribe_abortable(&job.samples, &opts, Some(&abort));
        let run_ms = started.elapsed().as_millis() as u64;
        if let Ok(mut q) = shared.queue.lock() {
            q.running.retain(|r| r.seq != job.seq);
            if q.running.is_empty() {
                q.exclusive = false;
            }
        }
        shared.ready.notify_all();
        let outcome = match result {
            Ok(transcription) => Ok(Inference {
                transcription,
                queued_ms,
                run_ms,
            }),
            Err(WhisperError::Aborted) => Err(SchedulerError::Superseded),
            Err(e) => Err(e.into()),
        };
        let _ = job.reply.send(outcome);
    }
}

/// Encoder padding (20 ms frames) after a live pass's audio; 128 matched full-window WER on
/// real speech.
pub const LIVE_CTX_MARGIN: u32 = 128;

/// Options of a live pass: sized to the audio plus `ctx_margin` frames, no temperature
/// fallback (a retry is another whole decode: the worst case the candidate would wait for).
pub fn live_options(ctx_margin: u32) -> TranscribeOptions {
    TranscribeOptions {
        audio_ctx_margin: Some(ctx_margin),
        temperature_fallback: false,
        ..TranscribeOptions::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
