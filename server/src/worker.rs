//! The workers behind the queues: scoring (interviews that ended → reports) and webhook
//! delivery. They run inside `viva serve` by default, or as separate `viva worker` processes
//! (several of them, on several machines, against one PostgreSQL) — the queues are claimed
//! with leases, so no job is done twice and a dead worker's job is picked up again.

use std::time::Duration;

use crate::config::Config;
use crate::store::{now_ms, score_one, Store};

/// Scores until the queue is empty; returns how many jobs were taken.
pub async fn drain_scoring(store: &Store, worker: &str, lease_ms: i64) -> usize {
    let mut n = 0;
    loop {
        match score_one(store, worker, now_ms(), lease_ms).await {
            Ok(Some(id)) => {
                tracing::info!(interview = %id, worker, "scored");
                n += 1;
            }
            Ok(None) => return n,
            Err(e) => {
                tracing::warn!(error = %e, "scoring worker");
                return n;
            }
        }
    }
}

/// The scoring loop: drains the queue, then sleeps `poll_ms`.
pub async fn run_scoring(store: Store, worker: String, poll_ms: u64, lease_ms: i64) {
    loop {
        drain_scoring(&store, &worker, lease_ms).await;
        tokio::time::sleep(Duration::from_millis(poll_ms.max(50))).await;
    }
}

/// Starts both loops as tasks of the current runtime.
pub fn spawn(store: &Store, config: &Config, worker: String) {
    tokio::spawn(run_scoring(
        store.clone(),
        worker.clone(),
        config.worker.poll_ms,
        config.worker.lease_ms,
    ));
    tokio::spawn(crate::webhooks::run(
        store.clone(),
        config.webhooks.clone(),
        worker,
        config.worker.poll_ms,
    ));
}
