//! Voice activity detection per session: each session gets its own detector (its own stream
//! state); the Silero network behind them is a pool of model sessions, not one under a lock.

use std::sync::Arc;

use viva_audio::vad::{SileroModel, SileroVad, WebRtcMode, WebRtcVad};
use viva_audio::VoiceActivityDetector;

/// Makes a detector for each new session.
pub trait VoiceActivity: Send + Sync {
    /// Short name for logs.
    fn name(&self) -> &'static str;
    fn detector(&self) -> Box<dyn VoiceActivityDetector>;
}

/// Silero VAD v5; the model holds a pool of ONNX sessions shared by every detector.
pub struct SileroActivity(pub Arc<SileroModel>);

impl VoiceActivity for SileroActivity {
    fn name(&self) -> &'static str {
        "silero"
    }
    fn detector(&self) -> Box<dyn VoiceActivityDetector> {
        Box::new(SileroVad::new(self.0.clone()))
    }
}

/// WebRTC's GMM detector: no model file, the fallback when Silero is not provisioned.
#[derive(Debug, Default, Clone, Copy)]
pub struct WebRtcActivity;

impl VoiceActivity for WebRtcActivity {
    fn name(&self) -> &'static str {
        "webrtc"
    }
    fn detector(&self) -> Box<dyn VoiceActivityDetector> {
        Box::new(WebRtcVad::new(WebRtcMode::default()))
    }
}
