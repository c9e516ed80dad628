//! Live sessions ↔ stored interviews: what a recruiter needs from a voice interview is the
//! interview's recording and transcript. A session created from an invite (or a demo session,
//! filed under the demo job) is linked to an interview row when it starts
//! ([`start_session_interview`]); when it ends, [`StoreSink`] reads the session's `turns.json`,
//! stores the transcript and turns and queues the scoring (or marks the interview abandoned
//! when nothing was said). The recording stays where the session wrote it, referenced by key.

use std::path::Path;

use super::{now_ms, Result, Store, StoreError};

/// Files a finished session's transcript under its interview.
pub async fn file_session(store: &Store, interview_id: &str, dir: &Path, now: i64) -> Result<()> {
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

/// The [`crate::session::SessionSink`] of a server with a database.
pub struct StoreSink {
    pub store: Store,
}

impl crate::session::SessionSink for StoreSink {
    fn session_ended(&self, session_id: String, interview_id: String, dir: std::path::PathBuf) {
        let store = self.store.clone();
        tokio::spawn(async move {
            match file_session(&store, &interview_id, &dir, now_ms()).await {
                Ok(()) => tracing::info!(session_id, interview = %interview_id, "session filed"),
                Err(e) => {
                    tracing::error!(session_id, interview = %interview_id, error = %e, "session could not be filed")
                }
            }
        });
    }
}
