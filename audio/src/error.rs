//! The error type for streaming audio: every malformed input becomes one of these, never a panic.

/// What went wrong with a frame, packet or stream. Input-derived problems (bad packets, bad
/// rates, NaN samples, timestamps that go backwards) are separate variants so a gateway can
/// count and drop them instead of tearing the session down.
#[derive(Debug, thiserror::Error)]
pub enum AudioError {
    #[error("implausible sample rate {0} Hz (supported: {min}..={max})", min = crate::MIN_RATE_HZ, max = crate::MAX_RATE_HZ)]
    BadRate(u32),
    #[error("sample {index} is not a finite number ({value})")]
    NonFinite { index: usize, value: f32 },
    #[error("wrong frame size: expected {expected} samples, got {got}")]
    FrameSize { expected: usize, got: usize },
    #[error("frame is at {got_rate} Hz but this stream runs at {expected_rate} Hz")]
    RateMismatch { expected_rate: u32, got_rate: u32 },
    #[error("frame starts at sample {got} but the stream is already at {expected}: timestamps went backwards")]
    Backwards { expected: u64, got: u64 },
    #[error("gap of {gap} samples before this frame is larger than the {max} allowed")]
    GapTooLarge { gap: u64, max: u64 },
    #[error("empty packet")]
    EmptyPacket,
    #[error("packet of {len} bytes is larger than the {max} allowed")]
    PacketTooLarge { len: usize, max: usize },
    #[error("invalid Opus packet: {0}")]
    Opus(String),
    #[error("resampler failed: {0}")]
    Resample(String),
    #[error("{what} {path}: {source}")]
    Io {
        what: &'static str,
        path: String,
        source: std::io::Error,
    },
}

impl AudioError {
    pub(crate) fn io(
        what: &'static str,
        path: &std::path::Path,
    ) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.display().to_string();
        move |source| Self::Io { what, path, source }
    }
}

/// Rejects NaN and infinities (a NaN fed to a codec or a neural VAD poisons its state for the
/// rest of the session, so it is refused at the door).
pub fn check_finite(samples: &[f32]) -> Result<(), AudioError> {
    match samples.iter().position(|s| !s.is_finite()) {
        Some(index) => Err(AudioError::NonFinite {
            index,
            value: samples[index],
        }),
        None => Ok(()),
    }
}

/// Checks a rate against [`crate::MIN_RATE_HZ`]..=[`crate::MAX_RATE_HZ`].
pub fn check_rate(rate: u32) -> Result<u32, AudioError> {
    if (crate::MIN_RATE_HZ..=crate::MAX_RATE_HZ).contains(&rate) {
        Ok(rate)
    } else {
        Err(AudioError::BadRate(rate))
    }
}
