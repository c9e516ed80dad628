//! G.711 μ-law and A-law (ITU-T G.711), the 8 kHz codecs of phone streams (Twilio Media Streams
//! send μ-law). Decoding is a 256-entry table built at compile time; encoding is the standard
//! segment search. Both are bit-exact with the reference (checked against known code points
//! and SoX in the tests).

use crate::error::{check_finite, AudioError};
use crate::frame::AudioFrame;

/// G.711's rate.
pub const G711_RATE_HZ: u32 = 8_000;
/// The most bytes one payload may hold (1 s): a longer one is a protocol error, and refusing it
/// bounds the memory a peer can make us allocate.
pub const MAX_PAYLOAD_BYTES: usize = 8_000;

const fn ulaw_to_linear(byte: u8) -> i16 {
    let u = !byte;
    let t = (((u & 0x0F) as i32) << 3) + 0x84;
    let t = t << ((u & 0x70) >> 4);
    (if u & 0x80 != 0 { 0x84 - t } else { t - 0x84 }) as i16
}

const fn alaw_to_linear(byte: u8) -> i16 {
    let a = byte ^ 0x55;
    let mut t = ((a & 0x0F) as i32) << 4;
    let seg = ((a & 0x70) >> 4) as i32;
    match seg {
        0 => t += 8,
        1 => t += 0x108,
        _ => {
            t += 0x108;
            t <<= seg - 1;
        }
    }
    (if a & 0x80 != 0 { t } else { -t }) as i16
}

// Decode tables, built at compile time from the reference formulas above.
const ULAW_TABLE: [i16; 256] = {
    let mut t = [0i16; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = ulaw_to_linear(i as u8);
        i += 1;
    }
    t
};
const ALAW_TABLE: [i16; 256] = {
    let mut t = [0i16; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = alaw_to_linear(i as u8);
        i += 1;
    }
    t
};

/// μ-law byte → 16-bit linear.
pub fn ulaw_decode_sample(byte: u8) -> i16 {
    ULAW_TABLE[usize::from(byte)]
}

/// A-law byte → 16-bit linear.
pub fn alaw_decode_sample(byte: u8) -> i16 {
    ALAW_TABLE[usize::from(byte)]
}

/// 16-bit linear → μ-law byte (bias 0x84, clip 32635, as the reference encoder).
pub fn ulaw_encode_sample(pcm: i16) -> u8 {
    const BIAS: i32 = 0x84;
    const CLIP: i32 = 32_635;
    let mut s = i32::from(pcm);
    let sign = if s < 0 {
        s = -s;
        0x80
    } else {
        0
    };
    let s = s.min(CLIP) + BIAS;
    // Segment = position of the highest set bit above bit 7.
    let mut exponent = 7;
    let mut mask = 0x4000;
    while exponent > 0 && s & mask == 0 {
        exponent -= 1;
        mask >>= 1;
    }
    let mantissa = (s >> (exponent + 3)) & 0x0F;
    !((sign | (exponent << 4) | mantissa) as u8)
}

/// 16-bit linear → A-law byte.
pub fn alaw_encode_sample(pcm: i16) -> u8 {
    let pcm = i32::from(pcm);
    let (sign, mag) = if pcm >= 0 {
        (0x80, pcm)
    } else {
        (0x00, -pcm - 1)
    };
    let mag = mag.min(0x7FFF);
    let code = if mag < 256 {
        mag >> 4
    } else {
        let mut seg = 1;
        while seg < 7 && mag >= (256 << seg) {
            seg += 1;
        }
        (seg << 4) | ((mag >> (seg + 3)) & 0x0F)
    };
    ((sign | code) as u8) ^ 0x55
}

fn to_pcm(s: f32) -> i16 {
    crate::wav::to_i16(s)
}

/// μ-law bytes → floats in [-1, 1). Every byte is a valid code, so this cannot fail.
pub fn ulaw_decode(bytes: &[u8]) -> Vec<f32> {
    bytes
        .iter()
        .map(|&b| f32::from(ulaw_decode_sample(b)) / 32768.0)
        .collect()
}

/// A-law bytes → floats in [-1, 1).
pub fn alaw_decode(bytes: &[u8]) -> Vec<f32> {
    bytes
        .iter()
        .map(|&b| f32::from(alaw_decode_sample(b)) / 32768.0)
        .collect()
}

/// Floats → μ-law bytes; NaN or infinite samples are an error.
pub fn ulaw_encode(samples: &[f32]) -> Result<Vec<u8>, AudioError> {
    check_finite(samples)?;
    Ok(samples
        .iter()
        .map(|&s| ulaw_encode_sample(to_pcm(s)))
        .collect())
}

/// Floats → A-law bytes; NaN or infinite samples are an error.
pub fn alaw_encode(samples: &[f32]) -> Result<Vec<u8>, AudioError> {
    check_finite(samples)?;
    Ok(samples
        .iter()
        .map(|&s| alaw_encode_sample(to_pcm(s)))
        .collect())
}

/// Which G.711 law.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum G711Law {
    MuLaw,
    ALaw,
}

/// Turns a stream of G.711 payloads (one per transport message) into frames on the session
/// clock, like [`crate::OpusDecoder`].
#[derive(Debug, Clone)]
pub struct G711Decoder {
    law: G711Law,
    next: u64,
}

impl G711Decoder {
    /// First frame at `start` (an 8 kHz index on the session clock).
    pub fn new(law: G711Law, start: u64) -> Self {
        Self { law, next: start }
    }

    /// Decodes one payload. Empty or longer than [`MAX_PAYLOAD_BYTES`] → error (a zero-length
    /// media message carries nothing and an oversized one is a protocol violation).
    pub fn decode(&mut self, payload: &[u8]) -> Result<AudioFrame, AudioError> {
        if payload.is_empty() {
            return Err(AudioError::EmptyPacket);
        }
        if payload.len() > MAX_PAYLOAD_BYTES {
            return Err(AudioError::PacketTooLarge {
                len: payload.len(),
                max: MAX_PAYLOAD_BYTES,
            });
        }
        let samples = match self.law {
            G711Law::MuLaw => ulaw_decode(payload),
            G711Law::ALaw => alaw_decode(payload),
        };
        let frame = AudioFrame::trusted(samples, G711_RATE_HZ, self.next);
        self.next = self.next.saturating_add(payload.len() as u64);
        Ok(frame)
    }

    /// Index at which the next frame will start.
    pub fn next_index(&self) -> u64 {
        self.next
    }
}

/// Encodes an 8 kHz frame with `law`; the frame must already be at 8 kHz.
pub fn encode_frame(law: G711Law, frame: &AudioFrame) -> Result<Vec<u8>, AudioError> {
    if frame.sample_rate() != G711_RATE_HZ {
        return Err(AudioError::RateMismatch {
            expected_rate: G711_RATE_HZ,
            got_rate: frame.sample_rate(),
        });
    }
    match law {
        G711Law::MuLaw => ulaw_encode(frame.samples()),
        G711Law::ALaw => alaw_encode(frame.samples()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_code_points() {
        // μ-law: 0xFF and 0x7F are ±0, 0x00 is the most negative, 0x80 the most positive.
        assert_eq!(ulaw_decode_sample(0xFF), 0);
        assert_eq!(ulaw_decode_sample(0x7F), 0);
        assert_eq!(ulaw_decode_sample(0x00), -32_124);
        assert_eq!(ulaw_decode_sample(0x80), 32_124);
        assert_eq!(ulaw_encode_sample(0), 0xFF);
        assert_eq!(ulaw_encode_sample(i16::MAX), 0x80);
        assert_eq!(ulaw_encode_sample(i16::MIN), 0x00);
        // A-law: 0xD5 / 0x55 are the smallest positive / negative steps (±8).
        assert_eq!(alaw_decode_sample(0xD5), 8);
        assert_eq!(alaw_decode_sample(0x55), -8);
        assert_eq!(alaw_decode_sample(0xAA), 32_256);
        assert_eq!(alaw_decode_sample(0x2A), -32_256);
        assert_eq!(alaw_encode_sample(0), 0xD5);
        assert_eq!(alaw_encode_sample(i16::MAX), 0xAA);
        assert_eq!(alaw_encode_sample(i16::MIN), 0x2A);
    }

    #[test]
    fn every_code_round_trips() {
        for b in 0..=255u8 {
            let back = ulaw_encode_sample(ulaw_decode_sample(b));
            // -0 (0x7F) comes back as +0 (0xFF); everything else is exact.
            assert!(
                back == b || (b == 0x7F && back == 0xFF),
                "ulaw {b:#x} -> {back:#x}"
            );
            assert_eq!(alaw_encode_sample(alaw_decode_sample(b)), b, "alaw {b:#x}");
        }
    }

    #[test]
    fn quantisation_error_is_small() {
        for pcm in (-32_000i16..32_000).step_by(7) {
            let u = i32::from(ulaw_decode_sample(ulaw_encode_sample(pcm)));
            let a = i32::from(alaw_decode_sample(alaw_encode_sample(pcm)));
            let tol = (i32::from(pcm).abs() / 16).max(16);
            assert!((u - i32::from(pcm)).abs() <= tol, "ulaw {pcm} -> {u}");
            assert!((a - i32::from(pcm)).abs() <= tol, "alaw {pcm} -> {a}");
        }
    }

    #[test]
    fn decoder_keeps_the_clock_and_rejects_bad_lengths() {
        let mut d = G711Decoder::new(G711Law::MuLaw, 800);
        let f = d.decode(&[0xFF; 160]).expect("frame");
        assert_eq!((f.start(), f.len(), f.sample_rate()), (800, 160, 8_000));
        assert_eq!(d.next_index(), 960);
        assert!(matches!(d.decode(&[]), Err(AudioError::EmptyPacket)));
        assert!(matches!(
            d.decode(&vec![0; MAX_PAYLOAD_BYTES + 1]),
            Err(AudioError::PacketTooLarge { .. })
        ));
        assert!(ulaw_encode(&[0.0, f32::NAN]).is_err());
        let wrong_rate = AudioFrame::new(vec![0.0; 10], 16_000, 0).expect("frame");
        assert!(encode_frame(G711Law::ALaw, &wrong_rate).is_err());
    }
}
