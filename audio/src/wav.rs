//! WAV in and out. Any channel count, 8/16/24/32-bit integer or 32-bit float, any rate.

use std::io::{Read, Seek};
use std::path::Path;

/// Mono audio as floats in [-1, 1] with the rate it was recorded at.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodedAudio {
    pub samples: Vec<f32>,
    pub sample_rate: u32,
    /// Channels in the source file (the samples are already mixed down to mono).
    pub source_channels: u16,
}

impl DecodedAudio {
    pub fn duration_secs(&self) -> f64 {
        if self.sample_rate == 0 {
            return 0.0;
        }
        self.samples.len() as f64 / f64::from(self.sample_rate)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum WavError {
    #[error("cannot open {path}: {source}")]
    Open {
        path: String,
        source: std::io::Error,
    },
    #[error("not a readable WAV file ({0}); convert it first, e.g. `sox in.mp3 out.wav`")]
    Format(#[from] hound::Error),
    #[error("unsupported WAV sample format: {bits}-bit {format}")]
    Unsupported { bits: u16, format: &'static str },
    #[error("WAV declares an implausible sample rate {0} Hz (expected 4000..=384000)")]
    BadRate(u32),
    #[error("WAV declares zero channels")]
    NoChannels,
}

/// Reads a WAV file and mixes it down to mono `f32`.
pub fn read_wav(path: &Path) -> Result<DecodedAudio, WavError> {
    let file = std::fs::File::open(path).map_err(|source| WavError::Open {
        path: path.display().to_string(),
        source,
    })?;
    decode(std::io::BufReader::new(file))
}

/// Same as [`read_wav`] for bytes already in memory.
pub fn read_wav_bytes(bytes: &[u8]) -> Result<DecodedAudio, WavError> {
    decode(std::io::Cursor::new(bytes))
}

fn decode<R: Read + Seek>(reader: R) -> Result<DecodedAudio, WavError> {
    let reader = hound::WavReader::new(reader)?;
    let spec = reader.spec();
    if !(4_000..=384_000).contains(&spec.sample_rate) {
        return Err(WavError::BadRate(spec.sample_rate));
    }
    if spec.channels == 0 {
        return Err(WavError::NoChannels);
    }
    let interleaved: Vec<f32> = match (spec.sample_format, spec.bits_per_sample) {
        (hound::SampleFormat::Float, 32) => {
            reader.into_samples::<f32>().collect::<Result<_, _>>()?
        }
        (hound::SampleFormat::Int, bits @ 1..=32) => {
            let scale = 1.0 / (1u64 << (bits - 1)) as f32;
            reader
                .into_samples::<i32>()
                .map(|s| s.map(|v| v as f32 * scale))
                .collect::<Result<_, _>>()?
        }
        (hound::SampleFormat::Float, bits) => {
            return Err(WavError::Unsupported {
                bits,
                format: "float",
            })
        }
        (hound::SampleFormat::Int, bits) => {
            return Err(WavError::Unsupported {
                bits,
                format: "integer",
            })
        }
    };
    let channels = usize::from(spec.channels);
    let samples = if channels == 1 {
        interleaved
    } else {
        interleaved
            .chunks_exact(channels)
            .map(|frame| frame.iter().sum::<f32>() / channels as f32)
            .collect()
    };
    Ok(DecodedAudio {
        samples,
        sample_rate: spec.sample_rate,
        source_channels: spec.channels,
    })
}

/// Writes mono `f32` samples as 16-bit PCM (clamped; NaN becomes silence).
pub fn write_wav_i16(path: &Path, samples: &[f32], sample_rate: u32) -> Result<(), WavError> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::create(path, spec)?;
    for &s in samples {
        writer.write_sample(to_i16(s))?;
    }
    writer.finalize()?;
    Ok(())
}

/// Float sample to 16-bit PCM, clamped; NaN maps to 0.
pub fn to_i16(s: f32) -> i16 {
    if s.is_nan() {
        0
    } else {
        (s.clamp(-1.0, 1.0) * 32767.0).round() as i16
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wav_bytes(
        spec: hound::WavSpec,
        write: impl FnOnce(&mut hound::WavWriter<std::io::Cursor<&mut Vec<u8>>>),
    ) -> Vec<u8> {
        let mut buf = Vec::new();
        {
            let mut w =
                hound::WavWriter::new(std::io::Cursor::new(&mut buf), spec).expect("writer");
            write(&mut w);
            w.finalize().expect("finalize");
        }
        buf
    }

    #[test]
    fn stereo_24bit_mixes_to_mono() {
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate: 44_100,
            bits_per_sample: 24,
            sample_format: hound::SampleFormat::Int,
        };
        let bytes = wav_bytes(spec, |w| {
            for _ in 0..10 {
                w.write_sample(1 << 22).expect("l");
                w.write_sample(0).expect("r");
            }
        });
        let audio = read_wav_bytes(&bytes).expect("decode");
        assert_eq!(audio.samples.len(), 10);
        assert_eq!(audio.sample_rate, 44_100);
        assert_eq!(audio.source_channels, 2);
        assert!(
            (audio.samples[0] - 0.25).abs() < 1e-6,
            "{}",
            audio.samples[0]
        );
    }

    #[test]
    fn float_and_8bit_decode() {
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: 16_000,
            bits_per_sample: 32,
            sample_format: hound::SampleFormat::Float,
        };
        let bytes = wav_bytes(spec, |w| w.write_sample(-0.5f32).expect("s"));
        assert_eq!(read_wav_bytes(&bytes).expect("f32").samples, vec![-0.5]);
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: 8_000,
            bits_per_sample: 8,
            sample_format: hound::SampleFormat::Int,
        };
        let bytes = wav_bytes(spec, |w| w.write_sample(64i8).expect("s"));
        assert_eq!(read_wav_bytes(&bytes).expect("i8").samples, vec![0.5]);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(matches!(
            read_wav_bytes(b"this is not audio"),
            Err(WavError::Format(_))
        ));
        assert!(read_wav_bytes(&[]).is_err());
        let dir = tempfile::tempdir().expect("tmp");
        assert!(matches!(
            read_wav(&dir.path().join("missing.wav")),
            Err(WavError::Open { .. })
        ));
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
            let mut with_header = b"RIFF".to_vec();
            with_header.extend_from_slice(&bytes);
            let _ = read_wav_bytes(&with_header);
            let _ = read_wav_bytes(&bytes);
        }
    }
}
