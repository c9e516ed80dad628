//! Opus in and out for WebRTC / WebSocket clients: 48 kHz mono, 20 ms frames.
//!
//! The decoder turns each RTP payload into an [`AudioFrame`] on the session clock, conceals a
//! lost packet (Opus PLC) and, when the next packet carries in-band FEC, recovers the lost one
//! from it instead. Every packet is validated before libopus sees it, so a malformed or hostile
//! packet is an [`AudioError`], never a crash.

use opus::{Application, Bitrate, Channels};

use crate::error::{check_finite, AudioError};
use crate::frame::AudioFrame;

/// Opus's native rate; viva runs Opus only at 48 kHz (what WebRTC negotiates).
pub const OPUS_RATE_HZ: u32 = 48_000;
/// Samples in one 20 ms frame at 48 kHz.
pub const OPUS_FRAME_SAMPLES: usize = 960;
/// The largest packet RFC 6716 allows for one frame (1275 bytes) times the 3 frames a 60 ms
/// packet may hold; anything longer is not Opus.
pub const MAX_PACKET_BYTES: usize = 1275 * 3;
/// The longest duration one packet may decode to (120 ms).
const MAX_PACKET_SAMPLES: usize = 5760;

fn opus_err(e: opus::Error) -> AudioError {
    AudioError::Opus(e.to_string())
}

/// Decodes one Opus stream. Keeps its own sample clock: each decoded or concealed packet
/// advances it by the packet's duration, so the frames it returns are contiguous on the session
/// clock even across losses.
pub struct OpusDecoder {
    dec: opus::Decoder,
    next: u64,
    /// Duration of the last good packet, used to size concealment.
    last_len: usize,
    buf: Vec<f32>,
}

impl OpusDecoder {
    /// A decoder whose first frame starts at `start` (a 48 kHz index on the session clock).
    pub fn new(start: u64) -> Result<Self, AudioError> {
        Ok(Self {
            dec: opus::Decoder::new(OPUS_RATE_HZ, Channels::Mono).map_err(opus_err)?,
            next: start,
            last_len: OPUS_FRAME_SAMPLES,
            buf: vec![0.0; MAX_PACKET_SAMPLES],
        })
    }

    /// Index at which the next frame will start.
    pub fn next_index(&self) -> u64 {
        self.next
    }

    /// Moves the clock, e.g. when the transport's timestamps show packets were skipped without
    /// the caller concealing them. Refuses to go backwards.
    pub fn set_next_index(&mut self, index: u64) -> Result<(), AudioError> {
        if index < self.next {
            return Err(AudioError::Backwards {
                expected: self.next,
                got: index,
            });
        }
        self.next = index;
        Ok(())
    }

    /// Decodes one packet into a frame.
    pub fn decode(&mut self, packet: &[u8]) -> Result<AudioFrame, AudioError> {
        let n = self.validate(packet)?;
        let got = self
            .dec
            .decode_float(packet, &mut self.buf[..n], false)
            .map_err(opus_err)?;
        self.last_len = got;
        Ok(self.emit(got))
    }

    /// Conceals one lost packet (Opus packet-loss concealment) with the duration of the last
    /// good one.
    pub fn conceal(&mut self) -> Result<AudioFrame, AudioError> {
        let n = self.last_len.clamp(120, MAX_PACKET_SAMPLES);
        let got = self
            .dec
            .decode_float(&[], &mut self.buf[..n], false)
            .map_err(opus_err)?;
        Ok(self.emit(got))
    }

    /// Recovers a lost packet from the in-band FEC of the packet that followed it; returns the
    /// recovered frame (plain PLC where `next_packet` carries no FEC: libopus falls back to it).
    /// Call it before decoding `next_packet` itself with [`OpusDecoder::decode`].
    pub fn recover_with_fec(&mut self, next_packet: &[u8]) -> Result<AudioFrame, AudioError> {
        let n = self.validate(next_packet)?;
        // FEC data describes the previous frame; its duration equals the next packet's frame size
        // (libopus requires a multiple of 2.5 ms, which a validated packet's duration is).
        let got = self
            .dec
            .decode_float(next_packet, &mut self.buf[..n], true)
            .map_err(opus_err)?;
        Ok(self.emit(got))
    }

    /// Checks a packet and returns how many samples it decodes to.
    fn validate(&self, packet: &[u8]) -> Result<usize, AudioError> {
        if packet.is_empty() {
            return Err(AudioError::EmptyPacket);
        }
        if packet.len() > MAX_PACKET_BYTES {
            return Err(AudioError::PacketTooLarge {
                len: packet.len(),
                max: MAX_PACKET_BYTES,
            });
        }
        // Parses the TOC and frame count (rejects truncated multi-frame headers).
        let n = opus::packet::get_nb_samples(packet, OPUS_RATE_HZ).map_err(opus_err)?;
        if n == 0 || n > MAX_PACKET_SAMPLES {
            return Err(AudioError::Opus(format!("packet declares {n} samples")));
        }
        if opus::packet::get_nb_channels(packet).map_err(opus_err)? != Channels::Mono {
            // A stereo packet still decodes into a mono decoder (libopus downmixes); accepted.
        }
        Ok(n)
    }

    fn emit(&mut self, got: usize) -> AudioFrame {
        let got = got.min(self.buf.len());
        // libopus float output is finite; clamp defensively anyway (a crafted packet must not
        // push a NaN downstream where the VAD state would keep it).
        let samples: Vec<f32> = self.buf[..got]
            .iter()
            .map(|s| {
                if s.is_finite() {
                    s.clamp(-1.0, 1.0)
                } else {
                    0.0
                }
            })
            .collect();
        let frame = AudioFrame::trusted(samples, OPUS_RATE_HZ, self.next);
        self.next = self.next.saturating_add(got as u64);
        frame
    }
}

/// Encodes 48 kHz mono 20 ms frames for the interviewer's voice. In-band FEC is on (expecting
/// ~10 % loss) so a client decoder can recover a single lost packet.
pub struct OpusEncoder {
    enc: opus::Encoder,
    out: Vec<u8>,
}

impl OpusEncoder {
    /// A VoIP-tuned encoder at `bitrate` bits/s (e.g. 32_000).
    pub fn new(bitrate: i32) -> Result<Self, AudioError> {
        let mut enc = opus::Encoder::new(OPUS_RATE_HZ, Channels::Mono, Application::Voip)
            .map_err(opus_err)?;
        enc.set_bitrate(Bitrate::Bits(bitrate.clamp(6_000, 510_000)))
            .map_err(opus_err)?;
        enc.set_inband_fec(true).map_err(opus_err)?;
        enc.set_packet_loss_perc(10).map_err(opus_err)?;
        Ok(Self {
            enc,
            out: vec![0; 1500],
        })
    }

    /// Encodes exactly [`OPUS_FRAME_SAMPLES`] finite samples into one packet.
    pub fn encode(&mut self, samples: &[f32]) -> Result<Vec<u8>, AudioError> {
        if samples.len() != OPUS_FRAME_SAMPLES {
            return Err(AudioError::FrameSize {
                expected: OPUS_FRAME_SAMPLES,
                got: samples.len(),
            });
        }
        check_finite(samples)?;
        let n = self
            .enc
            .encode_float(samples, &mut self.out)
            .map_err(opus_err)?;
        Ok(self.out[..n].to_vec())
    }

    /// Encodes a 48 kHz frame of exactly 20 ms.
    pub fn encode_frame(&mut self, frame: &AudioFrame) -> Result<Vec<u8>, AudioError> {
        if frame.sample_rate() != OPUS_RATE_HZ {
            return Err(AudioError::RateMismatch {
                expected_rate: OPUS_RATE_HZ,
                got_rate: frame.sample_rate(),
            });
        }
        self.encode(frame.samples())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone_frame(i: usize) -> Vec<f32> {
        (0..OPUS_FRAME_SAMPLES)
            .map(|k| {
                let t = (i * OPUS_FRAME_SAMPLES + k) as f32 / OPUS_RATE_HZ as f32;
                (2.0 * std::f32::consts::PI * 440.0 * t).sin() * 0.4
            })
            .collect()
    }

    fn rms(x: &[f32]) -> f32 {
        (x.iter().map(|s| s * s).sum::<f32>() / x.len().max(1) as f32).sqrt()
    }

    #[test]
    fn round_trip_plc_and_fec_keep_the_clock() {
        let mut enc = OpusEncoder::new(32_000).expect("enc");
        let packets: Vec<Vec<u8>> = (0..20)
            .map(|i| enc.encode(&tone_frame(i)).expect("encode"))
            .collect();
        let mut dec = OpusDecoder::new(48_000).expect("dec");
        let mut frames = Vec::new();
        for (i, p) in packets.iter().enumerate() {
            let f = match i {
                // Packet 7 lost: plain concealment.
                7 => dec.conceal().expect("plc"),
                // Packet 12 lost: recovered from packet 13's FEC.
                12 => dec.recover_with_fec(&packets[13]).expect("fec"),
                _ => dec.decode(p).expect("decode"),
            };
            frames.push(f);
        }
        for (i, f) in frames.iter().enumerate() {
            assert_eq!(f.len(), OPUS_FRAME_SAMPLES, "frame {i}");
            assert_eq!(
                f.start(),
                48_000 + (i * OPUS_FRAME_SAMPLES) as u64,
                "frame {i}"
            );
        }
        // The tone survives (0.4 amplitude sine: rms ≈ 0.28), FEC-recovered frame included.
        assert!(
            rms(frames[10].samples()) > 0.2,
            "{}",
            rms(frames[10].samples())
        );
        assert!(
            rms(frames[12].samples()) > 0.1,
            "fec {}",
            rms(frames[12].samples())
        );
    }

    #[test]
    fn malformed_packets_are_errors() {
        let mut dec = OpusDecoder::new(0).expect("dec");
        assert!(matches!(dec.decode(&[]), Err(AudioError::EmptyPacket)));
        assert!(matches!(
            dec.decode(&vec![0u8; 5000]),
            Err(AudioError::PacketTooLarge { .. })
        ));
        // Code-3 packet (TOC ends in 0b11) with its frame-count byte cut off.
        assert!(dec.decode(&[0x03]).is_err());
        let mut enc = OpusEncoder::new(24_000).expect("enc");
        let good = enc.encode(&tone_frame(0)).expect("encode");
        // A truncated packet either fails or decodes to something finite; never panics.
        for cut in 1..good.len() {
            if let Ok(f) = dec.decode(&good[..cut]) {
                assert!(f.samples().iter().all(|s| s.is_finite()));
            }
        }
        assert!(matches!(
            enc.encode(&[0.0; 100]),
            Err(AudioError::FrameSize {
                expected: 960,
                got: 100
            })
        ));
        let mut nan = tone_frame(0);
        nan[5] = f32::NAN;
        assert!(matches!(
            enc.encode(&nan),
            Err(AudioError::NonFinite { index: 5, .. })
        ));
    }
}
