//! A sans-IO reorder (jitter) buffer for RTP-style packets: sequence numbers in, packets out in
//! sequence order, each with the number of packets declared lost just before it.
//!
//! In order, a packet passes straight through: no added delay in the normal case. Only when a
//! packet is missing does the buffer hold the ones after it, until the missing one arrives
//! (reordering repaired) or the hole has waited long enough (`max_held` packets or `max_wait_ms`
//! behind it): then the hole is declared lost and the packet after it is released with
//! `lost_before` set, so the decoder can conceal the gap (PLC, and FEC from that very packet).
//! A packet older than what was already released is late: dropped, counted.
//!
//! Time is passed in (`now_ms`, any monotonic millisecond clock); the caller asks
//! [`JitterBuffer::deadline`] when to call [`JitterBuffer::poll`] if no packet comes.

use std::collections::BTreeMap;

/// A jump this large (in packets, 20 s at 20 ms) either way is a new stream (a restarted
/// sender), not a loss or a late packet.
const RESYNC_JUMP: u64 = 1_000;

/// One packet handed on, in sequence order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Released {
    pub seq: u16,
    pub payload: Vec<u8>,
    /// Packets declared lost immediately before this one.
    pub lost_before: u64,
}

/// What the buffer saw, for metrics and logs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JitterStats {
    pub released: u64,
    /// Packets declared lost.
    pub lost: u64,
    /// Out-of-order packets that arrived in time and were put back in order.
    pub reordered: u64,
    /// Packets that arrived after their slot had been released or concealed.
    pub late: u64,
    pub duplicates: u64,
    /// Sequence jumps treated as a new stream.
    pub resyncs: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JitterConfig {
    /// Packets held behind a hole before it is declared lost.
    pub max_held: usize,
    /// How long a held packet may wait for the hole before it.
    pub max_wait_ms: u64,
}

impl Default for JitterConfig {
    /// 3 packets / 60 ms: at 20 ms per packet, reordering by up to three packets is repaired,
    /// and a real loss costs at most 60 ms of extra delay, only while it is being waited out.
    fn default() -> Self {
        Self {
            max_held: 3,
            max_wait_ms: 60,
        }
    }
}

pub struct JitterBuffer {
    config: JitterConfig,
    /// Extended (unwrapped) sequence number of the next packet to release.
    next: Option<u64>,
    /// Held packets by extended sequence number, with their arrival time.
    held: BTreeMap<u64, (Vec<u8>, u64)>,
    stats: JitterStats,
}

impl JitterBuffer {
    pub fn new(config: JitterConfig) -> Self {
        Self {
            config: JitterConfig {
                max_held: config.max_held.max(1),
                ..config
            },
            next: None,
            held: BTreeMap::new(),
            stats: JitterStats::default(),
        }
    }

    pub fn stats(&self) -> JitterStats {
        self.stats
    }

    /// Packets currently held behind a hole.
    pub fn held(&self) -> usize {
        self.held.len()
    }

    /// One packet arrives at `now_ms`; returns what can be released now, in order.
    pub fn push(&mut self, seq: u16, payload: Vec<u8>, now_ms: u64) -> Vec<Released> {
        let Some(next) = self.next else {
            self.next = Some(u64::from(seq));
            return self.release(u64::from(seq), payload, 0);
        };
        // Unwrap the 16-bit number to the extended one nearest to `next`.
        let delta = seq.wrapping_sub(next as u16) as i16;
        if u64::from(delta.unsigned_abs()) >= RESYNC_JUMP {
            return self.resync(seq, payload);
        }
        let ext = next as i64 + i64::from(delta);
        if ext < next as i64 {
            self.stats.late += 1;
            return Vec::new();
        }
        let ext = ext as u64;
        if ext == next && self.held.is_empty() {
            return self.release(ext, payload, 0);
        }
        if self.held.contains_key(&ext) {
            self.stats.duplicates += 1;
            return Vec::new();
        }
        if ext == next {
            self.stats.reordered += 1;
        }
        self.held.insert(ext, (payload, now_ms));
        self.drain(now_ms)
    }

    /// No packet came: releases what has waited too long behind a hole.
    pub fn poll(&mut self, now_ms: u64) -> Vec<Released> {
        self.drain(now_ms)
    }

    /// When [`poll`](Self::poll) would release something if nothing else arrives.
    pub fn deadline(&self) -> Option<u64> {
        self.held
            .values()
            .map(|(_, at)| *at)
            .min()
            .map(|at| at + self.config.max_wait_ms)
    }

    fn release(&mut self, ext: u64, payload: Vec<u8>, lost_before: u64) -> Vec<Released> {
        self.next = Some(ext + 1);
        self.stats.released += 1;
        self.stats.lost += lost_before;
        vec![Released {
            seq: ext as u16,
            payload,
            lost_before,
        }]
    }

    fn drain(&mut self, now_ms: u64) -> Vec<Released> {
        let mut out = Vec::new();
        while let Some(next) = self.next {
            let Some((&first, _)) = self.held.first_key_value() else {
                break;
            };
            if first == next {
                if let Some((payload, _)) = self.held.remove(&first) {
                    out.extend(self.release(first, payload, 0));
                }
                continue;
            }
            let oldest = self
                .held
                .values()
                .map(|(_, at)| *at)
                .min()
                .unwrap_or(now_ms);
            let overdue = now_ms.saturating_sub(oldest) >= self.config.max_wait_ms;
            if self.held.len() > self.config.max_held || overdue {
                if let Some((payload, _)) = self.held.remove(&first) {
                    out.extend(self.release(first, payload, first - next));
                }
                continue;
            }
            break;
        }
        out
    }

    fn resync(&mut self, seq: u16, payload: Vec<u8>) -> Vec<Released> {
        self.stats.resyncs += 1;
        let mut out = Vec::new();
        let held = std::mem::take(&mut self.held);
        for (ext, (p, _)) in held {
            out.extend(self.release(ext, p, 0));
        }
        out.extend(self.release(u64::from(seq), payload, 0));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seqs(r: &[Released]) -> Vec<(u16, u64)> {
        r.iter().map(|p| (p.seq, p.lost_before)).collect()
    }

    #[test]
    fn in_order_packets_pass_straight_through() {
        let mut j = JitterBuffer::new(JitterConfig::default());
        for (i, s) in (100u16..110).enumerate() {
            let out = j.push(s, vec![s as u8], i as u64 * 20);
            assert_eq!(seqs(&out), vec![(s, 0)]);
        }
        assert_eq!(j.held(), 0);
        assert_eq!(j.deadline(), None);
    }

    #[test]
    fn reordering_within_the_window_is_repaired() {
        let mut j = JitterBuffer::new(JitterConfig::default());
        assert_eq!(seqs(&j.push(1, vec![], 0)), vec![(1, 0)]);
        assert!(j.push(3, vec![], 20).is_empty());
        assert!(j.push(4, vec![], 40).is_empty());
        let out = j.push(2, vec![], 45);
        assert_eq!(seqs(&out), vec![(2, 0), (3, 0), (4, 0)]);
        assert_eq!(j.stats().reordered, 1);
        assert_eq!(j.stats().lost, 0);
    }

    #[test]
    fn a_hole_is_declared_lost_when_too_many_packets_wait_behind_it() {
        let mut j = JitterBuffer::new(JitterConfig {
            max_held: 3,
            max_wait_ms: 10_000,
        });
        j.push(10, vec![], 0);
        for (t, s) in [(20, 12u16), (40, 13), (60, 14)] {
            assert!(j.push(s, vec![], t).is_empty());
        }
        let out = j.push(15, vec![], 80);
        assert_eq!(seqs(&out), vec![(12, 1), (13, 0), (14, 0), (15, 0)]);
        assert_eq!(j.stats().lost, 1);
        // The lost packet arriving now is late.
        assert!(j.push(11, vec![], 90).is_empty());
        assert_eq!(j.stats().late, 1);
    }

    #[test]
    fn a_hole_is_declared_lost_after_the_wait_when_nothing_else_comes() {
        let mut j = JitterBuffer::new(JitterConfig::default());
        j.push(1, vec![], 0);
        assert!(j.push(4, vec![], 20).is_empty());
        assert_eq!(j.deadline(), Some(80));
        assert!(j.poll(79).is_empty());
        assert_eq!(seqs(&j.poll(80)), vec![(4, 2)]);
        assert_eq!(j.deadline(), None);
    }

    #[test]
    fn duplicates_and_old_packets_are_dropped() {
        let mut j = JitterBuffer::new(JitterConfig::default());
        j.push(5, vec![], 0);
        assert!(j.push(5, vec![], 1).is_empty());
        j.push(7, vec![], 2);
        assert!(j.push(7, vec![], 3).is_empty());
        let s = j.stats();
        assert_eq!((s.late, s.duplicates), (1, 1));
    }

    #[test]
    fn sequence_numbers_wrap() {
        let mut j = JitterBuffer::new(JitterConfig::default());
        j.push(65_534, vec![], 0);
        assert_eq!(seqs(&j.push(65_535, vec![], 20)), vec![(65_535, 0)]);
        assert!(j.push(1, vec![], 40).is_empty());
        assert_eq!(seqs(&j.push(0, vec![], 41)), vec![(0, 0), (1, 0)]);
    }

    #[test]
    fn a_restarted_sender_is_followed_not_dropped() {
        let mut j = JitterBuffer::new(JitterConfig::default());
        j.push(30_000, vec![], 0);
        assert_eq!(seqs(&j.push(7, vec![], 20)), vec![(7, 0)]);
        assert_eq!(seqs(&j.push(8, vec![], 40)), vec![(8, 0)]);
        assert_eq!(j.stats().resyncs, 1);
        assert_eq!(j.stats().lost, 0);
    }

    #[test]
    fn payloads_stay_with_their_sequence_numbers() {
        let mut j = JitterBuffer::new(JitterConfig::default());
        j.push(1, b"a".to_vec(), 0);
        j.push(3, b"c".to_vec(), 1);
        let out = j.push(2, b"b".to_vec(), 2);
        let got: Vec<&[u8]> = out.iter().map(|p| p.payload.as_slice()).collect();
        assert_eq!(got, vec![b"b".as_slice(), b"c".as_slice()]);
    }

    #[test]
    fn any_arrival_order_releases_increasing_sequences_and_accounts_for_every_packet() {
        // A deterministic shuffle with losses: every packet is released once or counted as
        // lost/late/duplicate, never both released twice.
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut rand = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..50 {
            let mut j = JitterBuffer::new(JitterConfig::default());
            let mut order: Vec<u16> = (0..400u16).map(|i| i.wrapping_add(65_400)).collect();
            for i in 0..order.len() {
                let k = i + (rand() % 4) as usize;
                if k < order.len() {
                    order.swap(i, k);
                }
            }
            let mut released: Vec<u16> = Vec::new();
            let mut t = 0;
            for s in order {
                t += 20;
                if rand() % 20 == 0 {
                    continue; // lost on the wire
                }
                if rand() % 30 == 0 {
                    released.extend(j.push(s, vec![], t).iter().map(|p| p.seq));
                }
                released.extend(j.push(s, vec![], t).iter().map(|p| p.seq));
            }
            released.extend(j.poll(t + 1_000).iter().map(|p| p.seq));
            let ext: Vec<i64> = released
                .iter()
                .scan(None::<i64>, |prev, &s| {
                    let e = match *prev {
                        None => i64::from(s),
                        Some(p) => p + i64::from(s.wrapping_sub(p as u16) as i16),
                    };
                    *prev = Some(e);
                    Some(e)
                })
                .collect();
            assert!(ext.windows(2).all(|w| w[0] < w[1]), "not increasing");
            let s = j.stats();
            assert_eq!(s.released as usize, released.len());
            assert_eq!(j.held(), 0);
        }
    }
}
