//! [`Voice`] as a live session's [`TextToSpeech`] worker: 16 kHz, sentence by sentence, the
//! prompt cache first.

use viva_models::workers::{SpeechChunk, SpeechError, TextToSpeech};

use crate::{CancelToken, SampleRate, Voice};

impl TextToSpeech for Voice {
    fn voice(&self) -> String {
        self.voice_id().to_string()
    }

    fn speak(
        &self,
        text: &str,
        emit: &mut dyn FnMut(SpeechChunk) -> bool,
    ) -> Result<(), SpeechError> {
        let cancel = CancelToken::new();
        let chunks = Voice::speak(self, text, SampleRate::Hz16000, &cancel)
            .map_err(|e| SpeechError(e.to_string()))?;
        for chunk in chunks {
            let chunk = chunk.map_err(|e| SpeechError(e.to_string()))?;
            let wanted = emit(SpeechChunk {
                samples: chunk.samples,
                from_cache: chunk.from_cache,
            });
            if !wanted {
                // Stops espeak inside its sentence; the rest is never rendered.
                cancel.cancel();
                break;
            }
        }
        Ok(())
    }

    fn prepare(&self, phrases: &[String]) -> Result<usize, SpeechError> {
        let stats = self
            .prerender(phrases, SampleRate::Hz16000)
            .map_err(|e| SpeechError(e.to_string()))?;
        tracing::info!(
            rendered = stats.rendered,
            cached = stats.already_cached,
            failed = stats.failed,
            "prompt cache ready"
        );
        Ok(stats.rendered)
    }
}
