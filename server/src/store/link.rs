//! Live sessions ↔ stored interviews: what a recruiter needs from a voice interview is the
//! interview's recording and transcript. A session created from an invite (or a demo session,
//! filed under the demo job) is linked to an interview row when it starts
//! ([`start_session_interview`]); when it ends, [`StoreSink`] reads the session's `turns.json`,
//! stores the transcript and turns and queues the scoring (or marks the interview abandoned
//! when nothing was said). The recording stays where the session wrote it, referenced by key,
//! unless an object store is configured: then it is uploaded once the interview is filed
//! ([`upload_filed`]), and uploads that failed are retried ([`upload_pending`], run at start
//! and every `storage.upload_retry_ms` by [`run_uploads`]).

use std::path::Path;

use super::{now_ms, Result, Store, StoreError};

/// Files a finished session's transcript under its interview, then uploads its recording when
/// an object store is configured. A failed upload is logged and left for [`upload_pending`]:
/// the interview is filed either way, and the local file stays until an upload is confirmed.
pub async fn file_session(store: &Store, interview_id: &str, dir: &Path, now: i64) -> Result<()> {
    file_transcript(store, interview_id, dir, now).await?;
    if let Err(e) = upload_filed(store, interview_id).await {
        tracing::warn!(interview = %interview_id, error = %e, "recording upload failed; will retry");
    }
    Ok(())
}

/// Uploads the recording of a filed interview (no-op for local storage or when it is uploaded
/// already). Returns whether something was uploaded. If the candidate was erased while the
/// upload ran, the new object is deleted again.
pub async fn upload_filed(store: &Store, interview_id: &str) -> Result<bool> {
    let Some(rec) = store.recordings().filter(|r| r.is_remote()) else {
        return Ok(false);
    };
    let key = match store.recording(interview_id).await {
        Ok((key, _)) => key,
        Err(StoreError::NotFound(_)) => return Ok(false),
        Err(e) => return Err(e),
    };
    if !rec.upload(&key).await? {
        return Ok(false);
    }
    if let Err(StoreError::NotFound(_)) = store.recording(interview_id).await {
        rec.remove_session(&key).await?;
    }
    Ok(true)
}

/// Uploads every recording still on the local disk whose interview is filed (no longer
/// created or in progress): those whose upload failed (store down) or was interrupted.
/// Stops at the first failure (the store is likely still down) and returns it; Ok(n): n
/// uploaded.
pub async fn upload_pending(store: &Store) -> Result<usize> {
    let Some(rec) = store.recordings().filter(|r| r.is_remote()) else {
        return Ok(0);
    };
    let entries = match std::fs::read_dir(rec.root()) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(source) => {
            return Err(StoreError::DataDir {
                path: rec.root().display().to_string(),
                source,
            })
        }
    };
    let mut sessions: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("recording.wav").is_file())
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    sessions.sort();
    let mut n = 0;
    for session in sessions {
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT r.interview_id FROM recordings r JOIN interviews i ON i.id = r.interview_id \
             WHERE r.session_id = $1 AND i.state NOT IN ('created', 'in_progress')",
        )
        .bind(&session)
        .fetch_all(store.pool())
        .await?;
        for id in ids {
            if upload_filed(store, &id).await? {
                n += 1;
            }
        }
    }
    Ok(n)
}

/// The upload retry loop of a server whose recordings go to an object store: at start, then
/// every `every_ms`.
pub async fn run_uploads(store: Store, every_ms: u64) {
    loop {
        match upload_pending(&store).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(uploaded = n, "pending recordings uploaded"),
            Err(e) => tracing::warn!(error = %e, "pending recordings not uploaded; will retry"),
        }
        tokio::time::sleep(std::time::Duration::from_millis(every_ms.max(1000))).await;
    }
}

async fn file_transcript(store: &Store, interview_id: &str, dir: &Path, now: i64) -> Result<()> {
    let path = dir.join("turns.json");
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return store.abandon_interview(interview_id, now).await;
        }
        Err(source) => {
            return Err(StoreError::DataDir {
                path: path.display().to_string(),
                source,
            })
        }
    };
    let transcript: viva_interview::Transcript = serde_json::from_str(&text)?;
    if transcript.turns.iter().all(|t| t.answers.is_empty()) {
        return store.abandon_interview(interview_id, now).await;
    }
    store.finish_interview(interview_id, &transcript, now).await
}

/// Links a new live session to `interview_id` (in progress, recording under the session).
pub async fn start_session_interview(
    store: &Store,
    interview_id: &str,
    session_id: &str,
) -> Result<()> {
    let key = crate::session::SessionManager::recording_key(session_id);
    store
        .start_interview(interview_id, session_id, &key, now_ms())
        .await
}

/// The [`crate::session::SessionSink`] of a server with a database: one writer task applies
/// every session's state changes and ends in the order they happened, so a session's end is
/// never overtaken by an older state write.
pub struct StoreSink {
    tx: tokio::sync::mpsc::UnboundedSender<SinkJob>,
}

enum SinkJob {
    Progress(crate::session::journal::Snapshot),
    Ended(
        crate::session::EndedSession,
        tokio::sync::oneshot::Sender<()>,
    ),
}

impl StoreSink {
    /// Starts the writer (inside the tokio runtime).
    pub fn start(store: Store) -> StoreSink {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<SinkJob>();
        tokio::spawn(async move {
            while let Some(job) = rx.recv().await {
                match job {
                    SinkJob::Progress(snap) => {
                        // A failed write is retried once the database answers again: the next
                        // snapshot of the session carries everything this one did.
                        if let Err(e) = store.save_live(&snap, now_ms()).await {
                            tracing::error!(session_id = %snap.key.session_id, error = %e, "session state not saved");
                        }
                    }
                    SinkJob::Ended(ended, done) => {
                        file_ended(&store, &ended).await;
                        let _ = done.send(());
                    }
                }
            }
        });
        StoreSink { tx }
    }
}

/// What a session's end means for its stored interview.
async fn file_ended(store: &Store, e: &crate::session::EndedSession) {
    use crate::session::Outcome;
    let (sid, iv) = (&e.session_id, &e.interview_id);
    let result = match e.outcome {
        Outcome::Finished => file_session(store, iv, &e.dir, now_ms()).await,
        Outcome::Interrupted => file_interrupted(store, sid, iv, &e.dir).await,
        Outcome::Paused => store.pause_live(sid, now_ms()).await,
        Outcome::Discarded => match store.discard_unjoined(iv).await {
            Ok(()) => {
                let _ = tokio::fs::remove_dir_all(&e.dir).await;
                Ok(())
            }
            Err(e) => Err(e),
        },
    };
    match result {
        Ok(()) => {
            tracing::info!(session_id = %sid, interview = %iv, outcome = ?e.outcome, "session filed")
        }
        Err(err) => {
            tracing::error!(session_id = %sid, interview = %iv, outcome = ?e.outcome, error = %err, "session could not be filed")
        }
    }
}

/// Files an interview whose session died and was not resumed in time: what was answered, as
/// `interrupted` (scored like any other; the recruiter sees why it is short).
pub async fn file_interrupted(
    store: &Store,
    session_id: &str,
    interview_id: &str,
    dir: &Path,
) -> Result<()> {
    let text = match tokio::fs::read_to_string(dir.join("turns.json")).await {
        Ok(t) => Some(t),
        Err(_) => store
            .live_sessions()
            .await?
            .into_iter()
            .find(|r| r.session_id == session_id)
            .map(|r| r.transcript_json),
    };
    let transcript: Option<viva_interview::Transcript> =
        text.and_then(|t| serde_json::from_str(&t).ok());
    match transcript {
        Some(t) if t.turns.iter().any(|t| !t.answers.is_empty()) => {
            store
                .file_interview(interview_id, &t, now_ms(), "interrupted")
                .await?;
            if let Err(e) = upload_filed(store, interview_id).await {
                tracing::warn!(interview = %interview_id, error = %e, "recording upload failed; will retry");
            }
        }
        _ => store.abandon_interview(interview_id, now_ms()).await?,
    }
    store.delete_live(session_id).await
}

impl crate::session::SessionSink for StoreSink {
    fn progress(&self, snapshot: crate::session::journal::Snapshot) {
        let _ = self.tx.send(SinkJob::Progress(snapshot));
    }

    fn ended(&self, ended: crate::session::EndedSession) -> tokio::sync::oneshot::Receiver<()> {
        let (done, rx) = tokio::sync::oneshot::channel();
        let _ = self.tx.send(SinkJob::Ended(ended, done));
        rx
    }
}
