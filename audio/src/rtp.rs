//! Opus over RTP, both directions, sans-IO: what the WebRTC gateway (and `viva eval stt
//! --packet-loss`) put between the network and the 16 kHz pipeline.
//!
//! - [`RtpAudioIn`]: RTP packets (sequence number, Opus payload, arrival time) → the
//!   [`JitterBuffer`] (reordering repaired, holes waited out briefly) → Opus decode, with FEC
//!   from the next packet for the last lost one and PLC for the others → 16 kHz samples.
//! - [`OpusAudioOut`]: 16 kHz PCM16 → 48 kHz → 20 ms Opus packets.

use crate::jitter::{JitterBuffer, JitterConfig, JitterStats, Released};
use crate::{
    AudioError, AudioFrame, OpusDecoder, OpusEncoder, StreamResampler, OPUS_FRAME_SAMPLES,
    OPUS_RATE_HZ, SPEECH_RATE_HZ,
};

/// Lost packets concealed at most per gap (200 ms); a longer gap is left to the pipeline's
/// re-anchoring on the session clock.
const MAX_CONCEAL: u64 = 10;
/// The interviewer's voice: plenty for 16 kHz speech in Opus.
pub const OPUS_VOICE_BITRATE: i32 = 32_000;

/// Candidate audio: RTP packets → 16 kHz samples.
pub struct RtpAudioIn {
    decoder: OpusDecoder,
    down: StreamResampler,
    jitter: JitterBuffer,
    /// Payloads Opus could not decode (concealed instead).
    pub bad: u64,
}

impl RtpAudioIn {
    pub fn new(jitter: JitterConfig) -> Result<Self, AudioError> {
        Ok(Self {
            decoder: OpusDecoder::new(0)?,
            down: StreamResampler::new(OPUS_RATE_HZ, SPEECH_RATE_HZ)?,
            jitter: JitterBuffer::new(jitter),
            bad: 0,
        })
    }

    /// One packet arrives at `now_ms`; returns the 16 kHz samples that are ready (possibly
    /// none: the packet may be held behind a hole).
    pub fn packet(&mut self, seq: u16, payload: &[u8], now_ms: u64) -> Vec<f32> {
        let released = self.jitter.push(seq, payload.to_vec(), now_ms);
        self.decode(released)
    }

    /// No packet came by [`deadline`](Self::deadline): holes waited out, what is behind them
    /// released.
    pub fn poll(&mut self, now_ms: u64) -> Vec<f32> {
        let released = self.jitter.poll(now_ms);
        self.decode(released)
    }

    /// When to call [`poll`](Self::poll) if no packet arrives before.
    pub fn deadline(&self) -> Option<u64> {
        self.jitter.deadline()
    }

    pub fn stats(&self) -> JitterStats {
        self.jitter.stats()
    }

    fn decode(&mut self, released: Vec<Released>) -> Vec<f32> {
        let mut frames: Vec<AudioFrame> = Vec::new();
        for p in released {
            let conceal = p.lost_before.min(MAX_CONCEAL);
            for i in 0..conceal {
                let f = if i + 1 == conceal {
                    self.decoder.recover_with_fec(&p.payload)
                } else {
                    self.decoder.conceal()
                };
                match f {
                    Ok(f) => frames.push(f),
                    Err(_) => self.bad += 1,
                }
            }
            match self.decoder.decode(&p.payload) {
                Ok(f) => frames.push(f),
                Err(_) => {
                    self.bad += 1;
                    // Keep time: a packet we cannot decode is concealed.
                    if let Ok(f) = self.decoder.conceal() {
                        frames.push(f);
                    }
                }
            }
        }
        let mut out = Vec::new();
        for f in frames {
            if let Ok(Some(r)) = self.down.process(&f) {
                out.extend_from_slice(r.samples());
            }
        }
        out
    }
}

/// Interviewer audio: 16 kHz PCM → 48 kHz → 20 ms Opus packets.
pub struct OpusAudioOut {
    up: StreamResampler,
    encoder: OpusEncoder,
    pending: Vec<f32>,
    next: u64,
}

impl OpusAudioOut {
    pub fn new(bitrate: i32) -> Result<Self, AudioError> {
        Ok(Self {
            up: StreamResampler::new(SPEECH_RATE_HZ, OPUS_RATE_HZ)?,
            encoder: OpusEncoder::new(bitrate)?,
            pending: Vec::new(),
            next: 0,
        })
    }

    /// PCM16 at 16 kHz in; whole 20 ms Opus packets out.
    pub fn push(&mut self, pcm: &[i16]) -> Result<Vec<Vec<u8>>, AudioError> {
        let samples: Vec<f32> = pcm.iter().map(|s| f32::from(*s) / 32768.0).collect();
        self.push_f32(&samples)
    }

    /// The same for `f32` samples at 16 kHz.
    pub fn push_f32(&mut self, samples: &[f32]) -> Result<Vec<Vec<u8>>, AudioError> {
        let len = samples.len() as u64;
        let frame = AudioFrame::new(samples.to_vec(), SPEECH_RATE_HZ, self.next)?;
        self.next += len;
        if let Some(f) = self.up.process(&frame)? {
            self.pending.extend_from_slice(f.samples());
        }
        let mut packets = Vec::new();
        while self.pending.len() >= OPUS_FRAME_SAMPLES {
            let rest = self.pending.split_off(OPUS_FRAME_SAMPLES);
            packets.push(self.encoder.encode(&self.pending)?);
            self.pending = rest;
        }
        Ok(packets)
    }

    /// Barge-in: forget what is buffered.
    pub fn clear(&mut self) {
        self.up.reset();
        self.pending.clear();
    }
}

/// A seeded network impairment for tests and evaluations: drops and reorders a packet
/// sequence the way a lossy path would (deterministic for a given seed).
#[derive(Debug, Clone, Copy)]
pub struct Impairment {
    /// Share of packets lost, 0–1.
    pub loss: f64,
    /// Share of packets delivered late, 0–1.
    pub reorder: f64,
    /// How many packet slots (20 ms each) a reordered packet arrives late, at most.
    pub max_displacement: usize,
    pub seed: u64,
}

impl Impairment {
    /// The arrival order of `n` packets sent every 20 ms: (index sent, arrival ms), lost ones
    /// left out.
    pub fn arrivals(&self, n: usize) -> Vec<(usize, u64)> {
        let mut state = self.seed | 1;
        let mut uniform = move || {
            // xorshift64*: small, seeded, good enough to place losses.
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            (state.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64
        };
        let mut out: Vec<(usize, u64)> = Vec::with_capacity(n);
        for i in 0..n {
            if uniform() < self.loss {
                continue;
            }
            let mut at = i as u64 * 20;
            if self.max_displacement > 0 && uniform() < self.reorder {
                let slots = 1 + (uniform() * self.max_displacement as f64) as u64;
                at += slots * 20 + 1;
            }
            out.push((i, at));
        }
        out.sort_by_key(|&(i, at)| (at, i));
        out
    }
}

/// Sends `samples` (16 kHz) through Opus, the impairment and [`RtpAudioIn`]: what the server
/// would hear over a lossy WebRTC path. Returns the received samples and the jitter stats.
pub fn opus_round_trip(
    samples: &[f32],
    impairment: &Impairment,
    jitter: JitterConfig,
) -> Result<(Vec<f32>, JitterStats), AudioError> {
    let mut out = OpusAudioOut::new(OPUS_VOICE_BITRATE)?;
    let mut packets = Vec::new();
    for c in samples.chunks(320) {
        packets.extend(out.push_f32(c)?);
    }
    // Flush the resampler's tail with silence so the last words are encoded too.
    packets.extend(out.push_f32(&[0.0; 1_600])?);
    let mut input = RtpAudioIn::new(jitter)?;
    let mut got = Vec::with_capacity(samples.len());
    for (i, at) in impairment.arrivals(packets.len()) {
        while let Some(d) = input.deadline().filter(|d| *d <= at) {
            got.extend(input.poll(d));
        }
        got.extend(input.packet(i as u16, &packets[i], at));
    }
    got.extend(input.poll(u64::MAX / 2));
    Ok((got, input.stats()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone() -> Vec<i16> {
        (0..16_000)
            .map(|i| ((i as f32 * 440.0 * std::f32::consts::TAU / 16_000.0).sin() * 8000.0) as i16)
            .collect()
    }

    #[test]
    fn opus_round_trip_with_loss_and_reordering() {
        let mut out = OpusAudioOut::new(OPUS_VOICE_BITRATE).unwrap();
        let mut packets = Vec::new();
        for c in tone().chunks(320) {
            packets.extend(out.push(c).unwrap());
        }
        assert!(packets.len() >= 48, "{} packets", packets.len());
        let mut input = RtpAudioIn::new(JitterConfig::default()).unwrap();
        let mut got = 0;
        let base = 65_530u16;
        for (i, p) in packets.iter().enumerate() {
            let seq = (i as u16).wrapping_add(base);
            let t = i as u64 * 20;
            match i {
                10 => continue, // lost
                30 => continue, // arrives after 31: reordered
                31 => {
                    got += input.packet(seq, p, t).len();
                    got += input.packet(seq.wrapping_sub(1), &packets[30], t + 1).len();
                }
                20 => {
                    got += input.packet(seq, p, t).len();
                    // A repeat of an earlier packet: dropped.
                    got += input.packet(seq.wrapping_sub(3), p, t).len();
                }
                _ => got += input.packet(seq, p, t).len(),
            }
        }
        got += input.poll(10_000).len();
        let s = input.stats();
        assert_eq!(s.lost, 1);
        assert_eq!(s.reordered, 1);
        assert_eq!(s.late, 1);
        assert_eq!(input.bad, 0);
        // Every 20 ms of stream time (the lost packet concealed) comes out at 16 kHz, less the
        // resampler's buffer.
        let expect = packets.len() * 320;
        assert!(got + 1000 >= expect && got <= expect, "{got} of {expect}");
        // Garbage is concealed, not a crash.
        let _ = input.packet(
            (packets.len() as u16).wrapping_add(base),
            &[0xFF; 3],
            99_999,
        );
        assert!(input.bad >= 1);
    }

    #[test]
    fn impaired_round_trip_keeps_stream_time_and_counts_what_it_repaired() {
        let samples: Vec<f32> = tone().iter().map(|s| f32::from(*s) / 32768.0).collect();
        let clean = opus_round_trip(
            &samples,
            &Impairment {
                loss: 0.0,
                reorder: 0.0,
                max_displacement: 0,
                seed: 1,
            },
            JitterConfig::default(),
        )
        .unwrap();
        let lossy = Impairment {
            loss: 0.05,
            reorder: 0.05,
            max_displacement: 2,
            seed: 7,
        };
        let (got, stats) = opus_round_trip(&samples, &lossy, JitterConfig::default()).unwrap();
        assert_eq!(clean.1.lost, 0);
        assert!(stats.lost >= 1, "{stats:?}");
        assert!(stats.reordered >= 1, "{stats:?}");
        // Concealment keeps the length: the same stream time comes out.
        assert_eq!(got.len(), clean.0.len(), "{stats:?}");
        // The same seed gives the same arrivals.
        assert_eq!(lossy.arrivals(500), lossy.arrivals(500));
    }
}
