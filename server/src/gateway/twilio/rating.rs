//! The phone's experience rating: after the closing words of an invited candidate's interview,
//! the caller hears "press 1 to 5"; a key from 1 to 5 is stored as their rating (channel
//! `phone`, the same as the page's), anything else is asked again once, silence or a hang-up
//! leaves no rating. Never shown to the scorer.

use std::time::Duration;

use axum::extract::ws::Message;

use super::{Action, Conn, TwilioStream};
use crate::session::SessionManager;

pub const RATING_PROMPT: &str =
    "Before you go: how was this interview for you? Press a key from 1, poor, to 5, excellent. Or simply hang up.";
pub const RATING_AGAIN: &str = "Please press a key from 1 to 5.";
pub const RATING_THANKS: &str = "Thank you for your rating. Goodbye.";
/// How long the caller has, after the prompt has played, to press a key.
const KEY_WAIT: Duration = Duration::from_secs(10);

/// The voice's rendering of `text` at 16 kHz (on the synthesis threads; the prompt cache
/// makes the second call free).
async fn render(sessions: &SessionManager, text: &'static str) -> Option<Vec<f32>> {
    let voice = sessions.engines().voice_for(viva_audio::turn::Language::En);
    let rendered = sessions
        .engines()
        .synth
        .run(move || {
            let mut samples = Vec::new();
            voice
                .speak(text, &mut |chunk| {
                    samples.extend(chunk.samples);
                    true
                })
                .map(|()| samples)
        })
        .await;
    match rendered {
        Ok(Ok(s)) => Some(s),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "the rating prompt could not be spoken");
            None
        }
        Err(_) => None,
    }
}

impl Conn {
    /// Plays `text` to the caller; returns how long it lasts (None: not sent).
    async fn play(
        &mut self,
        stream: &mut TwilioStream,
        sessions: &SessionManager,
        text: &'static str,
    ) -> Option<Duration> {
        let samples = render(sessions, text).await?;
        let len = Duration::from_millis(samples.len() as u64 / 16);
        let actions = match stream.epilogue(samples, "rating") {
            Ok(a) => a,
            Err(e) => {
                tracing::warn!(error = %e, "the rating prompt could not be encoded");
                return None;
            }
        };
        for a in actions {
            if let Action::Send(t) = a {
                if self.socket.send(Message::Text(t.into())).await.is_err() {
                    return None;
                }
            }
        }
        Some(len)
    }

    /// Asks for the rating and stores the key pressed under `interview_id`.
    pub(super) async fn ask_rating(
        &mut self,
        stream: &mut TwilioStream,
        sessions: &SessionManager,
        store: &crate::store::Store,
        interview_id: &str,
    ) {
        let Some(len) = self.play(stream, sessions, RATING_PROMPT).await else {
            return;
        };
        let mut deadline = tokio::time::Instant::now() + len + KEY_WAIT;
        let mut asked_again = false;
        loop {
            let msg = match tokio::time::timeout_at(deadline, self.socket.recv()).await {
                Ok(Some(Ok(Message::Text(t)))) => t,
                Ok(Some(Ok(Message::Close(_)))) | Ok(None) | Ok(Some(Err(_))) => return,
                Ok(Some(Ok(_))) => continue,
                Err(_) => {
                    tracing::info!("no rating key pressed");
                    return;
                }
            };
            for a in stream.on_text(&msg) {
                match a {
                    Action::Hangup => return,
                    Action::Digit(d @ '1'..='5') => {
                        let rating = d as u8 - b'0';
                        let now = crate::store::now_ms();
                        match store
                            .save_feedback(interview_id, rating, None, "phone", now)
                            .await
                        {
                            Ok(_) => {
                                tracing::info!(rating, "phone rating stored");
                                self.metrics.count("phone_ratings");
                                if let Some(len) = self.play(stream, sessions, RATING_THANKS).await
                                {
                                    // Let the thanks play before the line closes.
                                    tokio::time::sleep(len + Duration::from_millis(300)).await;
                                }
                            }
                            Err(e) => tracing::warn!(error = %e, "phone rating not stored"),
                        }
                        return;
                    }
                    Action::Digit(other) => {
                        tracing::info!(key = %other, "rating key outside 1–5");
                        if asked_again {
                            return;
                        }
                        asked_again = true;
                        if let Some(len) = self.play(stream, sessions, RATING_AGAIN).await {
                            deadline = tokio::time::Instant::now() + len + KEY_WAIT;
                        }
                    }
                    _ => {}
                }
            }
        }
    }
}
