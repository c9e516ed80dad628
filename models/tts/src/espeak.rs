//! espeak-ng through a five-function FFI to the system `libespeak-ng` (Debian `libespeak-ng1`,
//! linked via `libespeak-ng-dev`), used two ways: as the always-available fallback voice
//! ([`EspeakSynth`]) and as the phonemizer of the neural voice ([`Espeak::phonemize_ipa`]).
//!
//! # Why a process-wide handle
//! libespeak-ng keeps all of its state (current voice, parameters, the synthesis callback, its
//! output buffers) in C globals: two "instances" would silently share and corrupt one state. So
//! the library is initialised once per process behind a `OnceLock`, and every call goes through
//! one `Mutex`. Calls are short (phonemes: ~0.3 ms a sentence; synthesis: ~7 ms a sentence), so
//! the lock is not a bottleneck; a handle ([`Espeak`]) is still passed to the engines so that the
//! dependency stays visible.

use std::ffi::{c_char, c_int, c_uint, c_void, CStr, CString};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use crate::error::TtsError;
use crate::{CancelToken, Synthesizer, VoiceId};

mod ffi {
    use super::*;

    /// `espeak_EVENT` from speak_lib.h (only `user_data` is read).
    #[repr(C)]
    pub struct EspeakEvent {
        pub kind: c_int,
        pub unique_identifier: c_uint,
        pub text_position: c_int,
        pub length: c_int,
        pub audio_position: c_int,
        pub sample: c_int,
        pub user_data: *mut c_void,
        pub id: [u8; 8],
    }

    pub type SynthCallback = extern "C" fn(*mut i16, c_int, *mut EspeakEvent) -> c_int;

    pub const AUDIO_OUTPUT_SYNCHRONOUS: c_int = 2;
    pub const INITIALIZE_DONT_EXIT: c_int = 0x8000;
    pub const CHARS_UTF8: c_uint = 1;
    pub const PHONEMES_IPA: c_int = 0x02;
    pub const POS_CHARACTER: c_int = 1;
    pub const PARAM_RATE: c_int = 1;
    pub const PARAM_PITCH: c_int = 3;
    pub const EE_OK: c_int = 0;

    #[link(name = "espeak-ng")]
    extern "C" {
        pub fn espeak_Initialize(
            output: c_int,
            buflength: c_int,
            path: *const c_char,
            options: c_int,
        ) -> c_int;
        pub fn espeak_SetSynthCallback(cb: SynthCallback);
        pub fn espeak_SetVoiceByName(name: *const c_char) -> c_int;
        pub fn espeak_SetParameter(parameter: c_int, value: c_int, relative: c_int) -> c_int;
        pub fn espeak_Synth(
            text: *const c_void,
            size: usize,
            position: c_uint,
            position_type: c_int,
            end_position: c_uint,
            flags: c_uint,
            unique_identifier: *mut c_uint,
            user_data: *mut c_void,
        ) -> c_int;
        pub fn espeak_TextToPhonemes(
            textptr: *mut *const c_void,
            textmode: c_int,
            phonememode: c_int,
        ) -> *const c_char;
    }
}

/// Where the synthesis callback puts samples; passed through espeak's `user_data`.
struct Sink<'a> {
    samples: Vec<i16>,
    cancel: &'a AtomicBool,
}

extern "C" fn synth_callback(wav: *mut i16, n: c_int, events: *mut ffi::EspeakEvent) -> c_int {
    // SAFETY: espeak calls this synchronously from inside `espeak_Synth`, on the calling thread,
    // with `events` pointing at a list whose first entry carries the `user_data` we passed, which
    // is a live `&mut Sink` for the duration of that call. `wav` holds `n` samples when non-null.
    unsafe {
        if events.is_null() {
            return 0;
        }
        let sink = (*events).user_data as *mut Sink;
        if sink.is_null() {
            return 0;
        }
        let sink = &mut *sink;
        if !wav.is_null() && n > 0 {
            sink.samples
                .extend_from_slice(std::slice::from_raw_parts(wav, n as usize));
        }
        // Returning 1 makes espeak abort this synthesis: barge-in stops mid-sentence.
        c_int::from(sink.cancel.load(Ordering::Relaxed))
    }
}

/// Voice settings for one synthesis; applied under the lock before each call because the C
/// library's parameters are global.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Settings {
    voice: String,
    words_per_minute: i32,
    pitch: i32,
}

struct State {
    applied: Option<Settings>,
}

/// The process-wide libespeak-ng handle. Obtain it with [`Espeak::global`].
pub struct Espeak {
    state: Mutex<State>,
    sample_rate: u32,
}

static ESPEAK: OnceLock<Result<Espeak, String>> = OnceLock::new();

impl Espeak {
    /// Initialise libespeak-ng once for the process (see the module docs for why it is global).
    pub fn global() -> Result<&'static Espeak, TtsError> {
        ESPEAK
            .get_or_init(|| {
                // SAFETY: called once (OnceLock); a null path means the packaged espeak-ng-data.
                // DONT_EXIT: on a missing data directory return an error instead of exit().
                let rate = unsafe {
                    ffi::espeak_Initialize(
                        ffi::AUDIO_OUTPUT_SYNCHRONOUS,
                        0,
                        std::ptr::null(),
                        ffi::INITIALIZE_DONT_EXIT,
                    )
                };
                if rate <= 0 {
                    return Err(format!(
                        "espeak_Initialize failed ({rate}); is espeak-ng-data installed?"
                    ));
                }
                // SAFETY: the callback is a plain extern "C" fn valid for the program's lifetime.
                unsafe { ffi::espeak_SetSynthCallback(synth_callback) };
                tracing::debug!(sample_rate = rate, "libespeak-ng initialised");
                // `rate` is positive here (checked above).
                Ok(Espeak {
                    state: Mutex::new(State { applied: None }),
                    sample_rate: rate as u32,
                })
            })
            .as_ref()
            .map_err(|e| TtsError::Espeak(e.clone()))
    }

    /// espeak-ng's output rate (22,050 Hz for the standard voices).
    pub fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the C state half-changed in a way that
        // matters (settings are re-applied each call), so a poisoned lock is still usable.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn apply(state: &mut State, settings: &Settings) -> Result<(), TtsError> {
        if state.applied.as_ref() == Some(settings) {
            return Ok(());
        }
        let name = CString::new(settings.voice.as_str())
            .map_err(|_| TtsError::Espeak(format!("bad voice name {:?}", settings.voice)))?;
        // SAFETY: plain calls with a valid NUL-terminated string, under the lock.
        unsafe {
            if ffi::espeak_SetVoiceByName(name.as_ptr()) != ffi::EE_OK {
                state.applied = None;
                return Err(TtsError::Espeak(format!(
                    "voice {:?} not found",
                    settings.voice
                )));
            }
            ffi::espeak_SetParameter(ffi::PARAM_RATE, settings.words_per_minute, 0);
            ffi::espeak_SetParameter(ffi::PARAM_PITCH, settings.pitch, 0);
        }
        state.applied = Some(settings.clone());
        Ok(())
    }

    /// IPA phonemes for one sentence, clause by clause, with the clause punctuation put back
    /// (espeak-ng 1.51 drops it and lacks `espeak_TextToPhonemesWithTerminator`): Piper was trained
    /// on phonemes with punctuation, which drives its pauses and intonation.
    pub fn phonemize_ipa(&self, voice: &str, text: &str) -> Result<String, TtsError> {
        let c_text = CString::new(text.replace('\0', " "))
            .map_err(|_| TtsError::Espeak("text contains NUL".into()))?;
        let bytes = c_text.as_bytes();
        let mut state = self.lock();
        let settings = match &state.applied {
            Some(s) if s.voice == voice => s.clone(),
            _ => Settings {
                voice: voice.to_string(),
                words_per_minute: 175,
                pitch: 50,
            },
        };
        Self::apply(&mut state, &settings)?;
        let base = c_text.as_ptr() as usize;
        let mut ptr: *const c_void = c_text.as_ptr().cast();
        let mut out = String::new();
        let mut consumed = 0usize;
        while !ptr.is_null() {
            // SAFETY: `ptr` points into `c_text` (NUL-terminated, alive), under the lock; espeak
            // advances it within the string or sets it to null at the end. The returned string is
            // espeak's static buffer, copied before the next call.
            let ph = unsafe {
                ffi::espeak_TextToPhonemes(&mut ptr, ffi::CHARS_UTF8 as c_int, ffi::PHONEMES_IPA)
            };
            let next = if ptr.is_null() {
                bytes.len()
            } else {
                (ptr as usize).saturating_sub(base).min(bytes.len())
            };
            if !ph.is_null() {
                // SAFETY: non-null, NUL-terminated per the API.
                let ph = unsafe { CStr::from_ptr(ph) }.to_string_lossy();
                out.push_str(ph.trim());
            }
            // The clause's punctuation is the last non-space character espeak skipped over.
            // espeak reads one character ahead: when it stops mid-text the pointer is already
            // past the first character of the next clause, which must not count.
            let mut clause = String::from_utf8_lossy(&bytes[consumed.min(next)..next]).into_owned();
            if !ptr.is_null() {
                clause.pop();
            }
            match clause
                .trim_end()
                .trim_end_matches(['"', '\'', ')', ']'])
                .chars()
                .last()
            {
                Some(p @ ('.' | '?' | '!' | ',' | ':' | ';')) => {
                    out.push(p);
                    out.push(' ');
                }
                _ => out.push(' '),
            }
            if next <= consumed && !ptr.is_null() {
                // No progress: never loop forever on a library quirk.
                break;
            }
            consumed = next;
        }
        Ok(out.trim().to_string())
    }

    /// Synthesize one sentence at [`Espeak::sample_rate`]; stops early when `cancel` is set.
    fn synth(
        &self,
        settings: &Settings,
        text: &str,
        cancel: &AtomicBool,
    ) -> Result<Vec<i16>, TtsError> {
        let c_text = CString::new(text.replace('\0', " "))
            .map_err(|_| TtsError::Espeak("text contains NUL".into()))?;
        let mut state = self.lock();
        Self::apply(&mut state, settings)?;
        let mut sink = Sink {
            samples: Vec::new(),
            cancel,
        };
        // SAFETY: synchronous mode: the callback runs on this thread before `espeak_Synth`
        // returns, so `sink` outlives every use of the pointer. Flags: UTF-8 text, no SSML (markup
        // was stripped; espeak's SSML would also act on `<audio>` and the like).
        let rc = unsafe {
            ffi::espeak_Synth(
                c_text.as_ptr().cast(),
                c_text.as_bytes_with_nul().len(),
                0,
                ffi::POS_CHARACTER,
                0,
                ffi::CHARS_UTF8,
                std::ptr::null_mut(),
                (&mut sink as *mut Sink).cast(),
            )
        };
        drop(state);
        if cancel.load(Ordering::Relaxed) {
            return Err(TtsError::Cancelled);
        }
        if rc != ffi::EE_OK {
            return Err(TtsError::Espeak(format!("espeak_Synth returned {rc}")));
        }
        Ok(sink.samples)
    }
}

/// The espeak-ng formant voice: always there, tiny and fast (≈ 7 ms a sentence), robotic.
/// A fallback, not the interviewer's preferred voice (≈ 28 % round-trip WER vs ≈ 8 % for Piper).
///
/// `Send + Sync`; calls from several threads are serialised on the library lock.
pub struct EspeakSynth {
    espeak: &'static Espeak,
    settings: Settings,
}

impl EspeakSynth {
    /// The US English voice at a conversational 165 words per minute.
    pub fn new(espeak: &'static Espeak) -> Self {
        Self::with_voice(espeak, "en-us", 165)
    }

    /// Any installed espeak-ng voice (`espeak-ng --voices`) at `words_per_minute` (80–450).
    pub fn with_voice(espeak: &'static Espeak, voice: &str, words_per_minute: u32) -> Self {
        let words_per_minute = words_per_minute.clamp(80, 450) as i32;
        Self {
            espeak,
            settings: Settings {
                voice: voice.to_string(),
                words_per_minute,
                pitch: 50,
            },
        }
    }
}

impl Synthesizer for EspeakSynth {
    fn slower(self: Arc<Self>, slower: f32) -> Option<Arc<dyn Synthesizer>> {
        let wpm = (self.settings.words_per_minute as f32 / slower.max(0.5)).round() as u32;
        Some(Arc::new(EspeakSynth::with_voice(
            self.espeak,
            &self.settings.voice,
            wpm,
        )))
    }

    fn voice_id(&self) -> VoiceId {
        VoiceId {
            engine: "espeak-ng",
            voice: format!(
                "{}@{}wpm",
                self.settings.voice, self.settings.words_per_minute
            ),
        }
    }

    fn native_rate(&self) -> u32 {
        self.espeak.sample_rate()
    }

    fn render_sentence(&self, sentence: &str, cancel: &CancelToken) -> Result<Vec<f32>, TtsError> {
        let pcm = self.espeak.synth(&self.settings, sentence, cancel.flag())?;
        Ok(pcm.into_iter().map(|s| f32::from(s) / 32768.0).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phonemizes_with_punctuation() {
        let e = Espeak::global().unwrap();
        let ph = e
            .phonemize_ipa("en-us", "Hello, world. How are you?")
            .unwrap();
        assert_eq!(ph, "həlˈoʊ, wˈɜːld. hˈaʊ ɑːɹ juː?");
        // Several spaces, a multi-byte letter, a closing quote after the period.
        let ph = e
            .phonemize_ipa("en-us", "Hi,    there!  Émile said: \"ok.\" Next")
            .unwrap();
        assert_eq!(ph.matches([',', '!', ':', '.']).count(), 4, "{ph}");
    }

    #[test]
    fn synthesizes_and_cancels() {
        let e = Espeak::global().unwrap();
        let s = EspeakSynth::new(e);
        let audio = s
            .render_sentence("Tell me about yourself.", &CancelToken::new())
            .unwrap();
        // About a second of speech at 22,050 Hz.
        assert!(
            audio.len() > 11_025 && audio.len() < 5 * 22_050,
            "{}",
            audio.len()
        );
        assert!(audio.iter().any(|x| x.abs() > 0.05));
        let cancel = CancelToken::new();
        cancel.cancel();
        assert!(matches!(
            s.render_sentence("Tell me about yourself.", &cancel),
            Err(TtsError::Cancelled)
        ));
    }
}
