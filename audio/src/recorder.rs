//! The session recording: one two-channel WAV, candidate on the left, interviewer on the right,
//! both placed by their timestamps on the one session clock.
//!
//! Why one stereo file rather than a file per track plus offsets: a single file cannot drift —
//! sample `n` of both channels is the same instant by construction, every player replays it
//! correctly, and there is no offset metadata to lose. Silence where a track sent nothing is
//! written as zeros, so pauses survive (the "recordings that drift" bug class: tracks that lose
//! their silences or slide apart).
//!
//! Crash safety: samples are kept in memory for at most `flush_every` (1 s by default), then
//! appended to the file, and the RIFF/data sizes in the 44-byte header are rewritten on every
//! flush. A process killed at any moment leaves a valid WAV holding everything up to the last
//! flush (at worst a few bytes of the last write beyond the header's size, which readers
//! ignore). Frames that arrive late for a region already flushed are written in place (seek,
//! read, merge, write), so late packets are not lost either.
//!
//! Tracks at other rates (Opus 48 kHz, TTS 22.05 kHz) are converted by a [`StreamResampler`] per
//! track; their timestamps are converted exactly, so the tracks stay aligned to the sample.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::error::{check_rate, AudioError};
use crate::frame::{rescale_index, AudioFrame};
use crate::resample::StreamResampler;
use crate::wav::to_i16;

/// Which side of the conversation a frame belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Track {
    /// Left channel.
    Candidate,
    /// Right channel.
    Interviewer,
}

impl Track {
    fn channel(self) -> usize {
        match self {
            Track::Candidate => 0,
            Track::Interviewer => 1,
        }
    }
}

/// Recorder settings.
#[derive(Debug, Clone)]
pub struct RecorderConfig {
    /// The file's rate (16 kHz by default: what the speech models heard; 64 kB/s of stereo i16).
    pub sample_rate: u32,
    /// Append to the file and rewrite the header at least this often (in samples of the file's
    /// rate): what a killed process can lose.
    pub flush_every: u64,
    /// Refuse a frame that starts further than this past the recording's end (an absurd
    /// timestamp would otherwise write gigabytes of silence).
    pub max_gap: u64,
}

impl Default for RecorderConfig {
    fn default() -> Self {
        Self {
            sample_rate: 16_000,
            flush_every: 16_000,
            max_gap: 16_000 * 600,
        }
    }
}

const HEADER_LEN: u64 = 44;
const CHANNELS: u64 = 2;
const BYTES_PER_FRAME: u64 = 2 * CHANNELS;
/// RIFF sizes are u32: stop before the file outgrows the format (≈ 9.3 h at 16 kHz stereo).
const MAX_DATA_BYTES: u64 = u32::MAX as u64 - HEADER_LEN;

/// Writes one session's time-aligned stereo recording.
pub struct Recorder {
    file: File,
    path: PathBuf,
    config: RecorderConfig,
    /// Sample frames (one per instant, both channels) already in the file.
    flushed: u64,
    /// Interleaved i16 for instants `flushed..flushed + tail.len()/2`.
    tail: Vec<i16>,
    resamplers: [Option<StreamResampler>; 2],
    late_writes: u64,
}

/// What a finished recording holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordingStats {
    pub path: PathBuf,
    pub sample_rate: u32,
    /// Instants (stereo sample frames) in the file.
    pub frames: u64,
    /// Frames that arrived after their region had been flushed and were written in place.
    pub late_writes: u64,
}

impl Recorder {
    /// Creates (truncating) the WAV at `path` and writes a valid empty header right away.
    pub fn create(path: &Path, config: RecorderConfig) -> Result<Self, AudioError> {
        check_rate(config.sample_rate)?;
        let file = File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)
            .map_err(AudioError::io("creating", path))?;
        let mut rec = Self {
            file,
            path: path.to_path_buf(),
            config,
            flushed: 0,
            tail: Vec::new(),
            resamplers: [None, None],
            late_writes: 0,
        };
        rec.write_header()?;
        Ok(rec)
    }

    /// Reopens a recording a previous process left (paused, or killed at any moment) to go on
    /// appending: its length is what the file holds (a torn last sample frame is cut), the header
    /// is rewritten to match, and the next frames continue its timeline. A missing or unreadable
    /// file starts a new recording.
    pub fn open_append(path: &Path, config: RecorderConfig) -> Result<Self, AudioError> {
        check_rate(config.sample_rate)?;
        let mut file = match File::options().read(true).write(true).open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Self::create(path, config)
            }
            Err(e) => return Err(AudioError::io("opening", path)(e)),
        };
        let len = file
            .metadata()
            .map_err(AudioError::io("reading the size of", path))?
            .len();
        let mut header = [0u8; HEADER_LEN as usize];
        let ours = len >= HEADER_LEN
            && file.read_exact(&mut header).is_ok()
            && &header[0..4] == b"RIFF"
            && &header[36..40] == b"data"
            && u16::from_le_bytes([header[22], header[23]]) == CHANNELS as u16
            && u32::from_le_bytes([header[24], header[25], header[26], header[27]])
                == config.sample_rate;
        if !ours {
            drop(file);
            return Self::create(path, config);
        }
        let data = (len - HEADER_LEN).min(MAX_DATA_BYTES);
        let flushed = data / BYTES_PER_FRAME;
        file.set_len(HEADER_LEN + flushed * BYTES_PER_FRAME)
            .map_err(AudioError::io("truncating", path))?;
        let mut rec = Self {
            file,
            path: path.to_path_buf(),
            config,
            flushed,
            tail: Vec::new(),
            resamplers: [None, None],
            late_writes: 0,
        };
        rec.write_header()?;
        Ok(rec)
    }

    /// Sample rate of the file.
    pub fn sample_rate(&self) -> u32 {
        self.config.sample_rate
    }

    /// Instants recorded so far (flushed or not).
    pub fn len(&self) -> u64 {
        self.flushed + (self.tail.len() as u64) / CHANNELS
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Places `frame` on `track` at its timestamp. Frames of one track must come in order at
    /// one rate (they go through that track's resampler when it differs from the file's rate);
    /// the two tracks are independent and may arrive in any interleaving.
    pub fn push(&mut self, track: Track, frame: &AudioFrame) -> Result<(), AudioError> {
        let rate = self.config.sample_rate;
        if frame.sample_rate() == rate {
            return self.place(track, frame.start(), frame.samples());
        }
        let slot = &mut self.resamplers[track.channel()];
        if slot
            .as_ref()
            .is_some_and(|r| r.input_rate() != frame.sample_rate())
        {
            // The track changed rate (e.g. the TTS voice changed): finish the old stream first.
            if let Some(out) = slot
                .as_mut()
                .map(StreamResampler::flush)
                .transpose()?
                .flatten()
            {
                self.place(track, out.start(), out.samples())?;
            }
            self.resamplers[track.channel()] = None;
        }
        let slot = &mut self.resamplers[track.channel()];
        if slot.is_none() {
            *slot = Some(StreamResampler::new(frame.sample_rate(), rate)?);
        }
        let out = match slot.as_mut() {
            Some(r) => {
                // A gap in a resampled track (the interviewer stopped talking) restarts its
                // stream instead of feeding seconds of zeros through the filter.
                if r.next_input_index()
                    .is_some_and(|next| frame.start() > next)
                {
                    let tail = r.flush()?;
                    if let Some(t) = tail {
                        self.place(track, t.start(), t.samples())?;
                    }
                }
                match self.resamplers[track.channel()].as_mut() {
                    Some(r) => r.process(frame)?,
                    None => None,
                }
            }
            None => None,
        };
        if let Some(out) = out {
            self.place(track, out.start(), out.samples())?;
        }
        Ok(())
    }

    fn place(&mut self, track: Track, start: u64, samples: &[f32]) -> Result<(), AudioError> {
        if samples.is_empty() {
            return Ok(());
        }
        let end = start.saturating_add(samples.len() as u64);
        let now = self.len();
        if start > now && start - now > self.config.max_gap {
            return Err(AudioError::GapTooLarge {
                gap: start - now,
                max: self.config.max_gap,
            });
        }
        if end.saturating_mul(BYTES_PER_FRAME) > MAX_DATA_BYTES {
            return Err(AudioError::GapTooLarge {
                gap: end,
                max: MAX_DATA_BYTES / BYTES_PER_FRAME,
            });
        }
        let ch = track.channel();
        // The part before `flushed` goes into the file in place.
        if start < self.flushed {
            let late_end = end.min(self.flushed);
            let n = (late_end - start) as usize;
            self.write_late(ch, start, &samples[..n])?;
        }
        // The rest goes into the in-memory tail, which grows with zeros as needed.
        let from = start.max(self.flushed);
        if end > from {
            let needed = ((end - self.flushed) * CHANNELS) as usize;
            if self.tail.len() < needed {
                self.tail.resize(needed, 0);
            }
            let skip = (from - start) as usize;
            for (i, &s) in samples[skip..].iter().enumerate() {
                let idx = ((from - self.flushed) as usize + i) * CHANNELS as usize + ch;
                self.tail[idx] = to_i16(s);
            }
        }
        // Keep a little slack for the other track's late frames before flushing: flush when
        // the tail holds more than twice the period, writing all but one period.
        let tail_frames = self.tail.len() as u64 / CHANNELS;
        if tail_frames >= 2 * self.config.flush_every.max(1) {
            let keep = self.config.flush_every.max(1);
            self.flush_upto(self.flushed + tail_frames - keep)?;
        }
        Ok(())
    }

    fn write_late(&mut self, ch: usize, start: u64, samples: &[f32]) -> Result<(), AudioError> {
        self.late_writes += 1;
        let offset = HEADER_LEN + start * BYTES_PER_FRAME;
        let mut bytes = vec![0u8; samples.len() * BYTES_PER_FRAME as usize];
        let path = self.path.clone();
        self.file
            .seek(SeekFrom::Start(offset))
            .map_err(AudioError::io("seeking in", &path))?;
        self.file
            .read_exact(&mut bytes)
            .map_err(AudioError::io("reading back", &path))?;
        for (i, &s) in samples.iter().enumerate() {
            let at = i * BYTES_PER_FRAME as usize + ch * 2;
            bytes[at..at + 2].copy_from_slice(&to_i16(s).to_le_bytes());
        }
        self.file
            .seek(SeekFrom::Start(offset))
            .map_err(AudioError::io("seeking in", &path))?;
        self.file
            .write_all(&bytes)
            .map_err(AudioError::io("writing", &path))
    }

    /// Appends everything buffered to the file and rewrites the header (the file is then a
    /// complete WAV of the session so far).
    pub fn flush(&mut self) -> Result<(), AudioError> {
        let end = self.len();
        self.flush_upto(end)
    }

    fn flush_upto(&mut self, upto: u64) -> Result<(), AudioError> {
        let n = upto
            .saturating_sub(self.flushed)
            .min(self.tail.len() as u64 / CHANNELS);
        if n > 0 {
            let count = (n * CHANNELS) as usize;
            let mut bytes = Vec::with_capacity(count * 2);
            for s in &self.tail[..count] {
                bytes.extend_from_slice(&s.to_le_bytes());
            }
            let offset = HEADER_LEN + self.flushed * BYTES_PER_FRAME;
            let path = self.path.clone();
            self.file
                .seek(SeekFrom::Start(offset))
                .map_err(AudioError::io("seeking in", &path))?;
            self.file
                .write_all(&bytes)
                .map_err(AudioError::io("writing", &path))?;
            self.tail.drain(..count);
            self.flushed += n;
        }
        self.write_header()
    }

    fn write_header(&mut self) -> Result<(), AudioError> {
        let data = (self.flushed * BYTES_PER_FRAME) as u32;
        let rate = self.config.sample_rate;
        let mut h = Vec::with_capacity(HEADER_LEN as usize);
        h.extend_from_slice(b"RIFF");
        h.extend_from_slice(&(36 + data).to_le_bytes());
        h.extend_from_slice(b"WAVEfmt ");
        h.extend_from_slice(&16u32.to_le_bytes());
        h.extend_from_slice(&1u16.to_le_bytes()); // PCM
        h.extend_from_slice(&(CHANNELS as u16).to_le_bytes());
        h.extend_from_slice(&rate.to_le_bytes());
        h.extend_from_slice(&(rate * BYTES_PER_FRAME as u32).to_le_bytes());
        h.extend_from_slice(&(BYTES_PER_FRAME as u16).to_le_bytes());
        h.extend_from_slice(&16u16.to_le_bytes());
        h.extend_from_slice(b"data");
        h.extend_from_slice(&data.to_le_bytes());
        let path = self.path.clone();
        self.file
            .seek(SeekFrom::Start(0))
            .map_err(AudioError::io("seeking in", &path))?;
        self.file
            .write_all(&h)
            .map_err(AudioError::io("writing header of", &path))
    }

    /// Flushes the resamplers' tails and the buffer, syncs the file to disk and closes it.
    pub fn finish(mut self) -> Result<RecordingStats, AudioError> {
        for ch in 0..2 {
            let track = if ch == 0 {
                Track::Candidate
            } else {
                Track::Interviewer
            };
            if let Some(out) = self.resamplers[ch]
                .as_mut()
                .map(StreamResampler::flush)
                .transpose()?
                .flatten()
            {
                self.place(track, out.start(), out.samples())?;
            }
        }
        self.flush()?;
        let path = self.path.clone();
        self.file
            .sync_all()
            .map_err(AudioError::io("syncing", &path))?;
        Ok(RecordingStats {
            path: self.path,
            sample_rate: self.config.sample_rate,
            frames: self.flushed,
            late_writes: self.late_writes,
        })
    }

    /// Converts an instant on another rate's clock to this file's clock.
    pub fn index_for(&self, index: u64, rate: u32) -> u64 {
        rescale_index(index, rate, self.config.sample_rate)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A recording left by a killed process is reopened where its file ends: the torn last
    /// sample frame is cut, the header fixed, and new frames continue the timeline.
    #[test]
    fn a_killed_recording_is_reopened_and_continued() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("r.wav");
        let mut rec = Recorder::create(&path, RecorderConfig::default()).expect("create");
        let f = AudioFrame::new(vec![0.25; 16_000], 16_000, 0).expect("frame");
        rec.push(Track::Candidate, &f).expect("push");
        rec.flush().expect("flush");
        drop(rec); // killed: no finish()
                   // A torn write: half a sample frame past the end.
        let mut raw = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        raw.write_all(&[1, 2]).unwrap();
        drop(raw);
        let mut rec = Recorder::open_append(&path, RecorderConfig::default()).expect("reopen");
        assert_eq!(rec.len(), 16_000);
        let g = AudioFrame::new(vec![-0.5; 8_000], 16_000, 16_000).expect("frame");
        rec.push(Track::Candidate, &g).expect("push");
        let stats = rec.finish().expect("finish");
        assert_eq!(stats.frames, 24_000);
        let (spec, samples) = read_stereo(&path);
        assert_eq!(spec.channels, 2);
        assert_eq!(samples.len(), 48_000);
        assert!(samples[0] > 8_000 && samples[2 * 16_000] < -16_000);
        // Not ours: a fresh recording.
        std::fs::write(&path, b"garbage").unwrap();
        let rec = Recorder::open_append(&path, RecorderConfig::default()).expect("fresh");
        assert_eq!(rec.len(), 0);
    }

    fn read_stereo(path: &Path) -> (hound::WavSpec, Vec<i16>) {
        let mut r = hound::WavReader::open(path).expect("readable wav");
        let spec = r.spec();
        let s: Vec<i16> = r.samples::<i16>().map(|s| s.expect("sample")).collect();
        (spec, s)
    }

    #[test]
    fn tracks_are_aligned_and_silences_kept() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("rec.wav");
        let cfg = RecorderConfig {
            flush_every: 800,
            ..RecorderConfig::default()
        };
        let mut rec = Recorder::create(&path, cfg).expect("create");
        // Candidate: 20 ms frames of 0.5 at 16 kHz for 1 s.
        for i in 0..50u64 {
            let f = AudioFrame::new(vec![0.5; 320], 16_000, i * 320).expect("frame");
            rec.push(Track::Candidate, &f).expect("push");
        }
        // Interviewer: a burst of 0.25 at 48 kHz from 0.5 s to 0.7 s (arrives after the
        // candidate's audio has been flushed past it: written in place).
        for i in 0..10u64 {
            let f = AudioFrame::new(vec![-0.25; 960], 48_000, 24_000 + i * 960).expect("frame");
            rec.push(Track::Interviewer, &f).expect("push");
        }
        let stats = rec.finish().expect("finish");
        assert_eq!(stats.frames, 16_000);
        let (spec, s) = read_stereo(&path);
        assert_eq!((spec.channels, spec.sample_rate), (2, 16_000));
        let left = |i: usize| s[2 * i];
        let right = |i: usize| s[2 * i + 1];
        assert_eq!(left(100), to_i16(0.5));
        assert_eq!(right(100), 0, "interviewer silent before 0.5 s");
        assert_eq!(right(7_900), 0);
        // Mid-burst, the resampled interviewer is at -0.25 (FFT resampler edge ringing aside).
        assert!(
            (i32::from(right(9_600)) - i32::from(to_i16(-0.25))).abs() < 400,
            "{}",
            right(9_600)
        );
        assert!(
            right(12_000).abs() < 400,
            "silent again after 0.7 s: {}",
            right(12_000)
        );
    }

    #[test]
    fn killed_process_leaves_a_readable_file() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("rec.wav");
        let mut rec = Recorder::create(&path, RecorderConfig::default()).expect("create");
        // Readable before any audio.
        assert_eq!(read_stereo(&path).1.len(), 0);
        for i in 0..200u64 {
            let f = AudioFrame::new(vec![0.1; 320], 16_000, i * 320).expect("frame");
            rec.push(Track::Candidate, &f).expect("push");
        }
        // Simulate a kill: the recorder is never finished (leak it so Drop cannot help).
        std::mem::forget(rec);
        let (_, s) = read_stereo(&path);
        // 4 s pushed, flush every 1 s keeping 1 s of slack: at least 2 s is on disk.
        assert!(s.len() / 2 >= 32_000, "{} frames on disk", s.len() / 2);
    }

    #[test]
    fn absurd_timestamps_are_refused() {
        let dir = tempfile::tempdir().expect("tmp");
        let mut rec =
            Recorder::create(&dir.path().join("r.wav"), RecorderConfig::default()).expect("create");
        let f = AudioFrame::new(vec![0.1; 320], 16_000, u64::MAX / 4).expect("frame");
        assert!(matches!(
            rec.push(Track::Candidate, &f),
            Err(AudioError::GapTooLarge { .. })
        ));
        assert!(Recorder::create(
            &dir.path().join("x.wav"),
            RecorderConfig {
                sample_rate: 1,
                ..RecorderConfig::default()
            }
        )
        .is_err());
    }
}
