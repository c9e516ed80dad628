//! The recorder stage: frames of both tracks into the session's WAV, written in batches on the
//! blocking pool. No thread is held per session: a batch (at most a quarter second of frames)
//! takes a blocking thread for the milliseconds it needs, then gives it back, so a thousand
//! idle sessions cannot exhaust the pool that synthesis also uses.

use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use viva_audio::{AudioError, Recorder, RecordingStats};

use super::messages::RecordFrame;

/// Frames are gathered this long before a batch is written.
const BATCH_WINDOW: Duration = Duration::from_millis(250);
const BATCH_MAX: usize = 512;

/// What a killed process may lose of the recording: the recorder keeps one flush period
/// unwritten as slack for late frames and writes once the tail reaches two, so at most two
/// periods (0.5 s) plus one batch window (0.25 s) are lost.
pub const FLUSH_EVERY_SAMPLES: u64 = 4_000;

/// Runs the recorder until every sender is gone, then finishes the file.
pub fn spawn(
    recorder: Recorder,
    mut rx: mpsc::Receiver<RecordFrame>,
) -> JoinHandle<Result<RecordingStats, AudioError>> {
    tokio::spawn(async move {
        let mut recorder = recorder;
        let mut failures = 0u64;
        let mut batch: Vec<RecordFrame> = Vec::new();
        let mut open = true;
        while open {
            match rx.recv().await {
                Some(f) => batch.push(f),
                None => break,
            }
            let deadline = tokio::time::Instant::now() + BATCH_WINDOW;
            while batch.len() < BATCH_MAX {
                match tokio::time::timeout_at(deadline, rx.recv()).await {
                    Ok(Some(f)) => batch.push(f),
                    Ok(None) => {
                        open = false;
                        break;
                    }
                    Err(_) => break,
                }
            }
            let written = tokio::task::spawn_blocking(move || {
                let mut refused = 0u64;
                for RecordFrame { track, frame } in batch.drain(..) {
                    if let Err(e) = recorder.push(track, &frame) {
                        refused += 1;
                        if refused == 1 {
                            tracing::warn!(error = %e, ?track, "recording frame refused");
                        }
                    }
                }
                (recorder, batch, refused)
            })
            .await;
            match written {
                Ok((r, b, refused)) => {
                    recorder = r;
                    batch = b;
                    failures += refused;
                }
                Err(e) => {
                    return Err(AudioError::Io {
                        what: "recording",
                        path: String::new(),
                        source: std::io::Error::other(e.to_string()),
                    })
                }
            }
        }
        if failures > 0 {
            tracing::warn!(failures, "recording frames refused in total");
        }
        tokio::task::spawn_blocking(move || recorder.finish())
            .await
            .unwrap_or_else(|e| {
                Err(AudioError::Io {
                    what: "finishing the recording",
                    path: String::new(),
                    source: std::io::Error::other(e.to_string()),
                })
            })
    })
}
