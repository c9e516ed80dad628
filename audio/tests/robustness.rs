//! Malformed input never panics: every entry point that takes data from outside gets arbitrary
//! bytes, lengths, rates, timestamps and float values (NaN, ±inf, subnormals) and must answer
//! with a value or an error.

use proptest::prelude::*;
use viva_audio::g711::{alaw_decode, alaw_encode, ulaw_decode, ulaw_encode, G711Decoder, G711Law};
use viva_audio::vad::{EnergyVad, WebRtcMode, WebRtcVad};
use viva_audio::{
    resample, AudioFrame, OpusDecoder, OpusEncoder, Recorder, RecorderConfig, StreamResampler,
    Track, VadStream, VoiceActivityDetector, OPUS_FRAME_SAMPLES,
};

fn any_f32() -> impl Strategy<Value = f32> {
    prop_oneof![
        4 => -1.5f32..1.5,
        1 => Just(f32::NAN),
        1 => Just(f32::INFINITY),
        1 => Just(f32::NEG_INFINITY),
        1 => proptest::num::f32::ANY,
    ]
}

fn any_rate() -> impl Strategy<Value = u32> {
    prop_oneof![
        Just(8_000u32),
        Just(16_000),
        Just(22_050),
        Just(48_000),
        0u32..200_000,
        Just(u32::MAX),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn opus_decoder_survives_any_packet(
        packets in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..1600), 1..8),
        fec in any::<bool>(),
    ) {
        let mut dec = OpusDecoder::new(0).expect("decoder");
        for p in &packets {
            let r = if fec { dec.recover_with_fec(p) } else { dec.decode(p) };
            if let Ok(f) = r {
                prop_assert!(f.samples().iter().all(|s| s.is_finite() && s.abs() <= 1.0));
            }
        }
        let _ = dec.conceal();
    }

    #[test]
    fn truncated_real_packets_are_handled(cut in 0usize..200, flip in any::<u8>(), at in 0usize..200) {
        let mut enc = OpusEncoder::new(32_000).expect("encoder");
        let frame: Vec<f32> = (0..OPUS_FRAME_SAMPLES).map(|i| ((i as f32) * 0.05).sin() * 0.3).collect();
        let mut p = enc.encode(&frame).expect("encode");
        let n = p.len();
        if n > 0 { p[at % n] ^= flip; }
        p.truncate(cut.min(n));
        let mut dec = OpusDecoder::new(0).expect("decoder");
        let _ = dec.decode(&p);
    }

    #[test]
    fn opus_encoder_rejects_bad_frames(samples in proptest::collection::vec(any_f32(), 0..2000)) {
        let mut enc = OpusEncoder::new(24_000).expect("encoder");
        let ok_shape = samples.len() == OPUS_FRAME_SAMPLES && samples.iter().all(|s| s.is_finite());
        prop_assert_eq!(enc.encode(&samples).is_ok(), ok_shape);
    }

    #[test]
    fn frames_validate_rates_and_samples(samples in proptest::collection::vec(any_f32(), 0..64), rate in any_rate(), start in any::<u64>()) {
        if let Ok(f) = AudioFrame::new(samples, rate, start) {
            prop_assert!(f.samples().iter().all(|s| s.is_finite()));
            let _ = (f.end(), f.end_ms(), f.start_ms());
        }
    }

    #[test]
    fn resamplers_survive_anything(
        samples in proptest::collection::vec(any_f32(), 0..3000),
        from in any_rate(), to in any_rate(),
        starts in proptest::collection::vec(any::<u64>(), 1..4),
    ) {
        let _ = resample(&samples, from, to);
        if let Ok(mut r) = StreamResampler::new(from, to) {
            for s in starts {
                if let Ok(f) = AudioFrame::new(samples.clone(), from, s % (u64::MAX / 2)) {
                    if let Ok(Some(out)) = r.process(&f) {
                        prop_assert!(out.samples().iter().all(|s| s.is_finite()));
                    }
                }
            }
            let _ = r.flush();
        }
    }

    #[test]
    fn g711_any_length(bytes in proptest::collection::vec(any::<u8>(), 0..10_000), samples in proptest::collection::vec(any_f32(), 0..500)) {
        prop_assert_eq!(ulaw_decode(&bytes).len(), bytes.len());
        prop_assert_eq!(alaw_decode(&bytes).len(), bytes.len());
        for law in [G711Law::MuLaw, G711Law::ALaw] {
            let mut d = G711Decoder::new(law, u64::MAX - 100);
            let r = d.decode(&bytes);
            prop_assert_eq!(r.is_ok(), !bytes.is_empty() && bytes.len() <= 8_000);
        }
        let finite = samples.iter().all(|s| s.is_finite());
        prop_assert_eq!(ulaw_encode(&samples).is_ok(), finite);
        prop_assert_eq!(alaw_encode(&samples).is_ok(), finite);
    }

    #[test]
    fn detectors_reject_bad_chunks(samples in proptest::collection::vec(any_f32(), 0..1000)) {
        let mut dets: Vec<Box<dyn VoiceActivityDetector>> =
            vec![Box::new(EnergyVad::default()), Box::new(WebRtcVad::new(WebRtcMode::Quality))];
        for d in dets.iter_mut() {
            let ok = samples.len() == d.chunk_len() && samples.iter().all(|s| s.is_finite());
            let r = d.speech_probability(&samples);
            prop_assert_eq!(r.is_ok(), ok);
            if let Ok(p) = r { prop_assert!((0.0..=1.0).contains(&p)); }
        }
    }

    #[test]
    fn vad_stream_survives_odd_timestamps(lens in proptest::collection::vec((0usize..2000, any::<u64>()), 1..6)) {
        let mut s = VadStream::new(Box::new(WebRtcVad::new(WebRtcMode::Aggressive)), 0.5);
        for (len, start) in lens {
            let f = AudioFrame::new(vec![0.01; len], 16_000, start % (u64::MAX / 2)).expect("frame");
            let _ = s.push(&f);
        }
    }

    #[test]
    fn recorder_survives_odd_frames(frames in proptest::collection::vec((any::<bool>(), prop_oneof![Just(16_000u32), Just(48_000), Just(22_050)], 0u64..200_000, 0usize..2_000), 1..10)) {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("r.wav");
        let mut rec = Recorder::create(&path, RecorderConfig { flush_every: 4_000, ..RecorderConfig::default() }).expect("create");
        for (cand, rate, start, len) in frames {
            let f = AudioFrame::new(vec![0.2; len], rate, start).expect("frame");
            let _ = rec.push(if cand { Track::Candidate } else { Track::Interviewer }, &f);
        }
        rec.finish().expect("finish");
        let r = hound::WavReader::open(&path).expect("readable");
        prop_assert_eq!(r.spec().channels, 2);
    }
}
