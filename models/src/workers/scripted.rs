//! Scripted stand-ins for the session's workers: no model files, deterministic, instant. The
//! runner and the benchmarks' plumbing are tested with these; what the candidate meets is always
//! the real implementations.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use viva_audio::vad::EnergyVad;
use viva_audio::VoiceActivityDetector;

use super::{
    PassFuture, PassKind, PassResult, PassWord, SpeechChunk, SpeechError, TextToSpeech,
    Transcriber, VoiceActivity,
};

const RATE: usize = 16_000;
const FRAME: usize = RATE / 50;
/// A 20 ms frame above this RMS counts as speech for the scripted transcriber.
const VOICED_RMS: f32 = 0.01;

/// "Recognises" a fixed text: as many of its words as the voiced span of the audio holds at
/// `ms_per_word`, each timed evenly across that span. A pass over the whole answer returns the
/// whole text (with its final punctuation); a pass over part of it, a prefix without.
pub struct ScriptedTranscriber {
    words: Vec<String>,
    ms_per_word: u64,
    next_stream: AtomicU64,
    passes: Mutex<Vec<PassKind>>,
}

impl ScriptedTranscriber {
    pub fn new(text: &str, ms_per_word: u64) -> Self {
        Self {
            words: text.split_whitespace().map(str::to_string).collect(),
            ms_per_word: ms_per_word.max(1),
            next_stream: AtomicU64::new(1),
            passes: Mutex::new(Vec::new()),
        }
    }

    /// The kinds of the passes submitted so far, in order.
    pub fn passes(&self) -> Vec<PassKind> {
        self.passes.lock().map(|p| p.clone()).unwrap_or_default()
    }

    /// What a pass over `samples` returns.
    pub fn recognise(&self, samples: &[f32]) -> PassResult {
        let voiced: Vec<usize> = samples
            .chunks(FRAME)
            .enumerate()
            .filter(|(_, f)| {
                let rms = (f.iter().map(|s| s * s).sum::<f32>() / f.len().max(1) as f32).sqrt();
                rms > VOICED_RMS
            })
            .map(|(i, _)| i)
            .collect();
        let (Some(&first), Some(&last)) = (voiced.first(), voiced.last()) else {
            return PassResult::default();
        };
        let start_ms = first as u64 * 20;
        let span_ms = (last as u64 + 1) * 20 - start_ms;
        let n = ((span_ms / self.ms_per_word) as usize).clamp(1, self.words.len().max(1));
        let words: Vec<PassWord> = self
            .words
            .iter()
            .take(n)
            .enumerate()
            .map(|(i, w)| PassWord {
                text: w.clone(),
                start_ms: start_ms + i as u64 * span_ms / n as u64,
                end_ms: start_ms + (i as u64 + 1) * span_ms / n as u64,
            })
            .collect();
        PassResult {
            text: words
                .iter()
                .map(|w| w.text.as_str())
                .collect::<Vec<_>>()
                .join(" "),
            words,
        }
    }
}

impl Transcriber for ScriptedTranscriber {
    fn new_stream(&self) -> u64 {
        self.next_stream.fetch_add(1, Ordering::Relaxed)
    }

    fn submit(
        &self,
        _stream: u64,
        kind: PassKind,
        samples: Vec<f32>,
        _prompt: Option<String>,
        _language: &str,
    ) -> PassFuture {
        if let Ok(mut p) = self.passes.lock() {
            p.push(kind);
        }
        let result = self.recognise(&samples);
        Box::pin(async move { Ok(result) })
    }

    /// The script is text in whatever language it was written in.
    fn supports_language(&self, _language: &str) -> bool {
        true
    }
}

/// "Speaks" each sentence as a quiet tone, `ms_per_word` per word, and remembers what it said.
pub struct ScriptedSpeech {
    ms_per_word: u64,
    spoken: Mutex<Vec<String>>,
}

impl ScriptedSpeech {
    pub fn new(ms_per_word: u64) -> Self {
        Self {
            ms_per_word,
            spoken: Mutex::new(Vec::new()),
        }
    }

    /// Every text asked for, in order.
    pub fn spoken(&self) -> Vec<String> {
        self.spoken.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

impl TextToSpeech for ScriptedSpeech {
    fn voice(&self) -> String {
        "scripted".into()
    }

    fn speak(
        &self,
        text: &str,
        emit: &mut dyn FnMut(SpeechChunk) -> bool,
    ) -> Result<(), SpeechError> {
        if text.trim().is_empty() {
            return Err(SpeechError("nothing to say: the text is empty".into()));
        }
        if let Ok(mut s) = self.spoken.lock() {
            s.push(text.to_string());
        }
        for sentence in text.split_inclusive(['.', '?', '!']) {
            let words = sentence.split_whitespace().count();
            if words == 0 {
                continue;
            }
            let len = words * self.ms_per_word as usize * RATE / 1000;
            let samples = (0..len)
                .map(|i| 0.05 * (i as f32 * 2.0 * std::f32::consts::PI * 220.0 / RATE as f32).sin())
                .collect();
            if !emit(SpeechChunk {
                samples,
                from_cache: false,
            }) {
                break;
            }
        }
        Ok(())
    }
}

/// The energy detector: speech is whatever is well above the noise floor.
#[derive(Debug, Default, Clone, Copy)]
pub struct EnergyActivity;

impl VoiceActivity for EnergyActivity {
    fn name(&self) -> &'static str {
        "energy"
    }
    fn detector(&self) -> Box<dyn VoiceActivityDetector> {
        Box::new(EnergyVad::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(ms: usize) -> Vec<f32> {
        (0..ms * 16)
            .map(|i| 0.3 * (i as f32 * 0.07).sin())
            .collect()
    }

    #[test]
    fn the_scripted_transcriber_returns_as_many_words_as_the_audio_holds() {
        let t = ScriptedTranscriber::new("I led the migration to Postgres.", 300);
        let mut audio = vec![0.0; 16 * 200];
        audio.extend(tone(900));
        let part = t.recognise(&audio);
        assert_eq!(part.text, "I led the");
        assert_eq!(part.words[0].start_ms, 200);
        assert_eq!(part.words[2].end_ms, 1100);
        audio.extend(tone(3000));
        assert_eq!(t.recognise(&audio).text, "I led the migration to Postgres.");
        assert_eq!(t.recognise(&vec![0.0; 16_000]), PassResult::default());
    }

    #[test]
    fn scripted_speech_renders_a_chunk_per_sentence_and_stops_when_asked() {
        let s = ScriptedSpeech::new(100);
        let mut lens = Vec::new();
        s.speak("Hello there. How are you today?", &mut |c| {
            lens.push(c.samples.len());
            true
        })
        .unwrap();
        assert_eq!(lens, vec![2 * 1600, 4 * 1600]);
        let mut n = 0;
        s.speak("One. Two. Three.", &mut |_| {
            n += 1;
            false
        })
        .unwrap();
        assert_eq!(n, 1, "stopped after the first chunk");
        assert_eq!(s.spoken().len(), 2);
        assert!(s.speak("  ", &mut |_| true).is_err());
    }
}
