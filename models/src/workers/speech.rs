//! The interviewer's voice as the session sees it: text in, 16 kHz audio out, a sentence at a
//! time so the first plays while the rest renders.

/// One rendered piece of an utterance (a sentence, or the whole utterance from a cache).
#[derive(Debug, Clone, PartialEq)]
pub struct SpeechChunk {
    /// Mono samples in [-1, 1] at 16 kHz.
    pub samples: Vec<f32>,
    /// Came from a cache of prerendered phrases (no synthesis ran).
    pub from_cache: bool,
}

/// Why an utterance could not be (fully) rendered.
#[derive(Debug, thiserror::Error)]
#[error("speech synthesis failed: {0}")]
pub struct SpeechError(pub String);

/// Text to speech for live sessions. Blocking: the runner calls it on threads of its own.
pub trait TextToSpeech: Send + Sync {
    /// Which voice speaks (logs, cache keys).
    fn voice(&self) -> String;
    /// Renders `text`, handing each chunk to `emit` as soon as it is ready; stops early (without
    /// an error) when `emit` returns false.
    fn speak(
        &self,
        text: &str,
        emit: &mut dyn FnMut(SpeechChunk) -> bool,
    ) -> Result<(), SpeechError>;
    /// Renders fixed phrases ahead of time so speaking them later is cheap; returns how many
    /// were rendered now. The default has no cache and does nothing.
    fn prepare(&self, _phrases: &[String]) -> Result<usize, SpeechError> {
        Ok(0)
    }
}
