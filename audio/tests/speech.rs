//! End-to-end checks on real and synthesized speech.
//!
//! - Always run: espeak-ng speech (generated at test time; espeak-ng is a declared Debian
//!   dependency) through the whole pure-audio path: resample → Opus → PLC → resample → WebRTC
//!   VAD → end-of-turn.
//! - Need models (Silero + ONNX Runtime under `$VIVA_MODELS_DIR`, default `models/store`, filled
//!   by `viva models fetch`): skip with a message, or fail when `VIVA_REQUIRE_MODELS=1`.
//! - Need `../shared/speech`: skip with a message when absent.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use viva_audio::turn::EndReason;
use viva_audio::vad::provision::{default_models_dir, locate_onnxruntime, locate_vad_model};
use viva_audio::vad::{onnx_environment, SileroModel, SileroVad, WebRtcMode, WebRtcVad};
use viva_audio::{
    read_wav, resample, AudioFrame, OpusDecoder, OpusEncoder, StreamResampler, TurnDecision,
    TurnDetector, VadStream, VoiceActivityDetector, OPUS_FRAME_SAMPLES,
};

/// espeak-ng speech at 16 kHz, with `pad_ms` of silence before and after.
fn espeak(text: &str, pad_ms: usize) -> Vec<f32> {
    let dir = tempfile::tempdir().expect("tmp");
    let wav = dir.path().join("s.wav");
    let status = Command::new("espeak-ng")
        .arg("-w")
        .arg(&wav)
        .arg(text)
        .status()
        .expect("espeak-ng must be installed (Debian package espeak-ng)");
    assert!(status.success(), "espeak-ng failed");
    let a = read_wav(&wav).expect("espeak wav");
    let x = resample(&a.samples, a.sample_rate, 16_000).expect("resample");
    let pad = vec![0.0; pad_ms * 16];
    [pad.clone(), x, pad].concat()
}

/// Prints past libtest's output capture (which swallows `eprintln!` of passing tests), so a
/// skipped check is visible in every `cargo test` run.
fn skip(why: &str) {
    let _ = writeln!(std::io::stderr(), "SKIPPED: {why}");
}

fn require_models() -> bool {
    std::env::var("VIVA_REQUIRE_MODELS").as_deref() == Ok("1")
}

fn silero() -> Option<Arc<SileroModel>> {
    let dir = default_models_dir();
    let found = locate_vad_model(&dir).and_then(|m| Ok((m, locate_onnxruntime(&dir)?)));
    match found {
        Ok((model, lib)) => {
            let env = onnx_environment(&lib).expect("ONNX Runtime loads");
            Some(Arc::new(
                SileroModel::load(env, &model).expect("Silero loads"),
            ))
        }
        Err(e) => {
            if require_models() {
                panic!("VIVA_REQUIRE_MODELS=1 but {e}");
            }
            skip(&format!("models not provisioned: {e}"));
            None
        }
    }
}

fn speech_dir() -> Option<PathBuf> {
    let d = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/speech");
    if d.join("manifest.tsv").is_file() {
        Some(d)
    } else {
        skip(&format!("no real speech at {}", d.display()));
        None
    }
}

fn speech_fraction(
    det: Box<dyn VoiceActivityDetector>,
    x: &[f32],
    from_ms: u64,
    to_ms: u64,
) -> f32 {
    let mut s = VadStream::new(det, 0.5);
    let chunks = s
        .push(&AudioFrame::new(x.to_vec(), 16_000, 0).expect("frame"))
        .expect("vad");
    let inside: Vec<_> = chunks
        .iter()
        .filter(|c| c.start_ms() >= from_ms && c.end_ms() <= to_ms)
        .collect();
    inside.iter().filter(|c| c.speech).count() as f32 / inside.len().max(1) as f32
}

#[test]
fn opus_call_path_ends_the_turn_after_the_answer() {
    // Candidate speaks (espeak at 16 kHz → 48 kHz as a browser would send), 2 packets lost.
    let speech = espeak("I would put a cache in front of the database.", 500);
    let speech_end_ms = (speech.len() / 16) as u64 - 500;
    let mut up = resample(&speech, 16_000, 48_000).expect("up");
    up.extend(std::iter::repeat_n(0.0, 48 * 1500)); // 1.5 s of silence after
    let mut enc = OpusEncoder::new(32_000).expect("encoder");
    let mut dec = OpusDecoder::new(0).expect("decoder");
    let mut down = StreamResampler::new(48_000, 16_000).expect("resampler");
    let mut vad = VadStream::new(Box::new(WebRtcVad::new(WebRtcMode::Aggressive)), 0.5);
    let mut turn = TurnDetector::default();
    let mut decisions = Vec::new();
    for (i, frame) in up.chunks_exact(OPUS_FRAME_SAMPLES).enumerate() {
        let packet = enc.encode(frame).expect("encode");
        let pcm = if i == 40 || i == 41 {
            dec.conceal().expect("plc")
        } else {
            dec.decode(&packet).expect("decode")
        };
        assert_eq!(
            pcm.start(),
            (i * OPUS_FRAME_SAMPLES) as u64,
            "decoder clock"
        );
        if let Some(f16) = down.process(&pcm).expect("resample") {
            for chunk in vad.push(&f16).expect("vad") {
                decisions.push(turn.handle(chunk.into()));
            }
        }
    }
    let started = decisions
        .iter()
        .find_map(|d| match d {
            TurnDecision::SpeechStarted { at_ms } => Some(*at_ms),
            _ => None,
        })
        .expect("speech started");
    assert!((400..800).contains(&started), "started at {started} ms");
    let ended: Vec<_> = decisions
        .iter()
        .filter_map(|d| match d {
            TurnDecision::TurnEnded {
                at_ms,
                decided_at_ms,
                reason,
                ..
            } => Some((*at_ms, *decided_at_ms, *reason)),
            _ => None,
        })
        .collect();
    assert_eq!(ended.len(), 1, "{ended:?}");
    let (at, decided, reason) = ended[0];
    assert!(matches!(reason, EndReason::Silence { .. }));
    assert!(
        at.abs_diff(speech_end_ms) < 200,
        "last speech {at} ms vs {speech_end_ms} ms"
    );
    assert!(
        decided - at >= 600 && decided - at < 700,
        "waited {} ms",
        decided - at
    );
}

#[test]
fn webrtc_finds_espeak_speech_and_not_the_silence() {
    let x = espeak("The quick brown fox jumps over the lazy dog.", 1_000);
    let end = (x.len() / 16) as u64;
    let mk = || Box::new(WebRtcVad::new(WebRtcMode::Aggressive)) as Box<dyn VoiceActivityDetector>;
    assert!(speech_fraction(mk(), &x, 0, 900) < 0.05);
    assert!(speech_fraction(mk(), &x, 1_100, end - 1_100) > 0.8);
    assert!(speech_fraction(mk(), &x, end - 800, end) < 0.1);
}

#[test]
fn silero_finds_speech_and_not_the_silence() {
    let Some(model) = silero() else { return };
    let x = espeak("The quick brown fox jumps over the lazy dog.", 1_000);
    let end = (x.len() / 16) as u64;
    let mk = || Box::new(SileroVad::new(model.clone())) as Box<dyn VoiceActivityDetector>;
    assert!(speech_fraction(mk(), &x, 0, 900) < 0.05);
    assert!(speech_fraction(mk(), &x, 1_100, end - 1_100) > 0.8);
    assert!(speech_fraction(mk(), &x, end - 700, end) < 0.1);
    // White noise alone is not speech.
    let mut seed = 12345u32;
    let noise: Vec<f32> = (0..32_000)
        .map(|_| {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (seed >> 8) as f32 / (1u32 << 24) as f32 * 0.4 - 0.2
        })
        .collect();
    assert!(speech_fraction(mk(), &noise, 0, 2_000) < 0.05);
}

#[test]
fn silero_on_real_speech() {
    let Some(model) = silero() else { return };
    let Some(dir) = speech_dir() else { return };
    let a = read_wav(&dir.join("jfk_inaugural_1961.wav")).expect("jfk");
    let x = resample(&a.samples, a.sample_rate, 16_000).expect("resample");
    // JFK: "And so my fellow Americans ... ask not" starts ~0.3 s; the clip is speech-dense.
    let f = speech_fraction(Box::new(SileroVad::new(model)), &x, 300, 10_500);
    assert!(f > 0.6, "speech fraction {f}");
}

#[test]
fn fetch_is_idempotent_when_provisioned() {
    // Never downloads: only checks that a provisioned model is recognised without work.
    let dir = default_models_dir();
    if let Err(e) = locate_vad_model(&dir) {
        if require_models() {
            panic!("VIVA_REQUIRE_MODELS=1 but {e}");
        }
        skip(&format!("Silero VAD model not provisioned: {e}"));
        return;
    }
    let path = locate_vad_model(&dir).expect("located");
    assert!(path.is_file());
    // A file that is not the pinned one (here: truncated, same sidecar) is not trusted.
    let copy = tempfile::tempdir().expect("tmp");
    let dest = copy.path().join(viva_audio::vad::provision::SILERO.rel);
    std::fs::create_dir_all(dest.parent().expect("parent")).expect("mkdir");
    std::fs::write(&dest, b"truncated").expect("write");
    let mut side = dest.as_os_str().to_owned();
    side.push(".sha256");
    std::fs::copy(format!("{}.sha256", path.display()), side).expect("sidecar");
    assert!(locate_vad_model(copy.path()).is_err());
}
