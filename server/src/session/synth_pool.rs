//! The interviewer's voice renders on threads of its own, a fixed few, so that synthesis never
//! competes with file IO (tokio's blocking pool) or transcription (the inference scheduler's
//! workers) for a thread, and a burst of sessions queues its sentences instead of spawning
//! threads without bound.

use std::sync::mpsc;
use std::sync::{Arc, Mutex};

type Job = Box<dyn FnOnce() + Send + 'static>;

/// A fixed set of synthesis threads fed from one queue.
pub struct SynthPool {
    tx: Mutex<mpsc::Sender<Job>>,
    threads: usize,
}

impl SynthPool {
    /// Starts `threads` workers (at least one).
    pub fn new(threads: usize) -> std::io::Result<SynthPool> {
        let threads = threads.max(1);
        let (tx, rx) = mpsc::channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..threads {
            let rx = rx.clone();
            std::thread::Builder::new()
                .name(format!("viva-synth-{i}"))
                .spawn(move || loop {
                    let job = match rx.lock() {
                        Ok(guard) => guard.recv(),
                        Err(poisoned) => poisoned.into_inner().recv(),
                    };
                    match job {
                        // A panicking job loses its own answer, never the thread.
                        Ok(job) => {
                            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                        }
                        Err(_) => return, // the pool is gone
                    }
                })?;
        }
        Ok(SynthPool {
            tx: Mutex::new(tx),
            threads,
        })
    }

    pub fn threads(&self) -> usize {
        self.threads
    }

    /// Runs `f` on a synthesis thread; its result comes back through the returned receiver
    /// (which fails if the job panicked).
    pub fn run<T, F>(&self, f: F) -> tokio::sync::oneshot::Receiver<T>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let (done, rx) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = done.send(f());
        });
        let tx = self.tx.lock().unwrap_or_else(|p| p.into_inner());
        // Workers only stop when the pool is dropped, so sending cannot fail while it lives.
        let _ = tx.send(job);
        rx
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn jobs_run_on_the_pool_threads_and_return_their_results() {
        let pool = SynthPool::new(2).expect("threads");
        let a = pool.run(|| std::thread::current().name().map(str::to_string));
        let b = pool.run(|| 40 + 2);
        assert!(a.await.unwrap().unwrap().starts_with("viva-synth-"));
        assert_eq!(b.await.unwrap(), 42);
        // A panicking job loses its answer, not the pool.
        let bad = pool.run(|| -> u8 { panic!("boom") });
        assert!(bad.await.is_err());
        assert_eq!(pool.run(|| 7).await.unwrap(), 7);
    }
}
