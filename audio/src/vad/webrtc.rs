//! WebRTC's voice activity detector (libfvad, bundled C) through the `webrtc-vad` crate.

use super::{check_chunk, VadError, VoiceActivityDetector};

/// libfvad's aggressiveness: higher modes say "speech" less often.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WebRtcMode {
    Quality,
    LowBitrate,
    #[default]
    Aggressive,
    VeryAggressive,
}

/// 30 ms frames at 16 kHz (the longest frame libfvad takes: fewest calls, steadiest decisions).
const CHUNK: usize = 480;

/// WebRTC VAD; probability is 0 or 1.
pub struct WebRtcVad {
    vad: webrtc_vad::Vad,
    mode: WebRtcMode,
    pcm: Vec<i16>,
}

// SAFETY: `webrtc_vad::Vad` owns a heap-allocated libfvad instance through a raw pointer, which
// makes it !Send by default. libfvad has no thread-local or global state; the instance is only
// touched through `&mut self`, so moving it to another thread is sound.
unsafe impl Send for WebRtcVad {}

fn make(mode: WebRtcMode) -> webrtc_vad::Vad {
    let m = match mode {
        WebRtcMode::Quality => webrtc_vad::VadMode::Quality,
        WebRtcMode::LowBitrate => webrtc_vad::VadMode::LowBitrate,
        WebRtcMode::Aggressive => webrtc_vad::VadMode::Aggressive,
        WebRtcMode::VeryAggressive => webrtc_vad::VadMode::VeryAggressive,
    };
    webrtc_vad::Vad::new_with_rate_and_mode(webrtc_vad::SampleRate::Rate16kHz, m)
}

impl WebRtcVad {
    pub fn new(mode: WebRtcMode) -> Self {
        Self {
            vad: make(mode),
            mode,
            pcm: vec![0; CHUNK],
        }
    }
}

impl VoiceActivityDetector for WebRtcVad {
    fn name(&self) -> &'static str {
        "webrtc"
    }
    fn chunk_len(&self) -> usize {
        CHUNK
    }
    fn speech_probability(&mut self, chunk: &[f32]) -> Result<f32, VadError> {
        // Length is checked here: the crate indexes `buffer[0]` and would panic on empty input.
        check_chunk(chunk, CHUNK)?;
        for (d, &s) in self.pcm.iter_mut().zip(chunk) {
            *d = crate::wav::to_i16(s);
        }
        match self.vad.is_voice_segment(&self.pcm) {
            Ok(true) => Ok(1.0),
            Ok(false) => Ok(0.0),
            Err(()) => Err(VadError::Detector("libfvad rejected the frame".into())),
        }
    }
    fn reset(&mut self) {
        // `Vad::reset` also resets the mode and rate to libfvad's defaults; rebuild instead.
        self.vad = make(self.mode);
    }
}
