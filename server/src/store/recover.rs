//! Interviews a dead or stopped process left in progress. At start, each one whose session
//! state is recent enough is restored on this node (the candidate resumes with the resume token,
//! where the plan stood); the others — and, by the periodic sweep, those nobody resumed — are
//! filed as `interrupted` with what was answered, and scored.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use super::{now_ms, Result, Store, StoreError};
use crate::session::journal::Logged;
use crate::session::{RestoreSpec, SessionManager};

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Recovered {
    /// Brought back, waiting for their candidates.
    pub restored: usize,
    /// Filed as interrupted (or abandoned when nothing was answered).
    pub filed: usize,
}

/// One pass over the live-session rows. `restore`: bring recent ones back (at start); without
/// it only those past the resume window are filed (the sweep).
pub async fn recover(
    store: &Store,
    sessions: Option<&Arc<SessionManager>>,
    recordings_dir: &Path,
    window: Duration,
    restore: bool,
) -> Result<Recovered> {
    let mut done = Recovered::default();
    let window_ms = i64::try_from(window.as_millis()).unwrap_or(i64::MAX);
    for row in store.live_sessions().await? {
        if sessions.is_some_and(|m| m.get(&row.session_id).is_some()) {
            continue; // live on this node
        }
        let interview = match store.interview(&row.interview_id).await {
            Ok(iv) => iv,
            Err(StoreError::NotFound(_)) => {
                store.delete_live(&row.session_id).await?;
                continue;
            }
            Err(e) => return Err(e),
        };
        if interview.state != "in_progress" {
            store.delete_live(&row.session_id).await?;
            continue;
        }
        let age = now_ms().saturating_sub(row.updated_at).max(0);
        let dir = recordings_dir.join(&row.session_id);
        if age < window_ms {
            let Some(manager) = sessions.filter(|_| restore) else {
                continue; // still within its window: the sweep leaves it alone
            };
            match restore_one(store, manager, &row, &interview, window_ms - age).await {
                Ok(()) => {
                    tracing::info!(session_id = %row.session_id, interview = %row.interview_id, paused = row.paused, "interrupted session restored; waiting for the candidate");
                    done.restored += 1;
                    continue;
                }
                Err(e) => {
                    tracing::error!(session_id = %row.session_id, error = %e, "session could not be restored; filing it as interrupted");
                }
            }
        }
        super::link::file_interrupted(store, &row.session_id, &row.interview_id, &dir).await?;
        tracing::info!(session_id = %row.session_id, interview = %row.interview_id, "interrupted interview filed");
        done.filed += 1;
    }
    Ok(done)
}

async fn restore_one(
    store: &Store,
    manager: &Arc<SessionManager>,
    row: &super::live::LiveRow,
    interview: &super::InterviewRow,
    left_ms: i64,
) -> anyhow::Result<()> {
    let toml = store
        .job_version(&interview.job_id, interview.job_version)
        .await?;
    let mut job = viva_interview::JobConfig::from_toml_str(&toml)
        .map_err(|e| anyhow::anyhow!("the stored job does not load: {e}"))?;
    // The candidate's adjustments survive a restart with the rest of the interview.
    if let Some(a) = store.interview_accommodations(&interview.id).await? {
        job.accommodations = job.accommodations.merged(&a);
    }
    let events: Vec<Logged> = serde_json::from_str(&row.events_json)?;
    manager.restore(RestoreSpec {
        session_id: row.session_id.clone(),
        token_hash: row.token_hash.clone(),
        interview_id: row.interview_id.clone(),
        job,
        events,
        seq: u64::try_from(row.seq).unwrap_or(0),
        clock_ms: u64::try_from(row.clock_ms).unwrap_or(0),
        window: Duration::from_millis(u64::try_from(left_ms).unwrap_or(0).max(1_000)),
    })
}

/// The sweep: every minute, interviews whose session died (on any node sharing the database)
/// and whose resume window has passed are filed.
pub async fn run_sweep(
    store: Store,
    sessions: Option<Arc<SessionManager>>,
    recordings_dir: std::path::PathBuf,
    window: Duration,
) {
    let every = Duration::from_secs(60).min(window.max(Duration::from_secs(1)));
    loop {
        tokio::time::sleep(every).await;
        match recover(&store, sessions.as_ref(), &recordings_dir, window, false).await {
            Ok(r) if r.filed > 0 => tracing::info!(filed = r.filed, "interrupted interviews filed"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "sweep of interrupted interviews failed"),
        }
    }
}
