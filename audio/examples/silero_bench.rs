//! `cargo run -p viva-audio --example silero_bench`: time per Silero step (32 ms of audio).
use std::sync::Arc;
use std::time::Instant;
use viva_audio::vad::provision::{default_models_dir, locate_onnxruntime, locate_vad_model};
use viva_audio::vad::{onnx_environment, SileroModel, SileroVad};
use viva_audio::VoiceActivityDetector;

fn main() {
    let dir = default_models_dir();
    let (model, lib) = match locate_vad_model(&dir).and_then(|m| Ok((m, locate_onnxruntime(&dir)?)))
    {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    let env = onnx_environment(&lib).expect("ort");
    let m = Arc::new(SileroModel::load(env, &model).expect("model"));
    let mut vad = SileroVad::new(m);
    let chunk: Vec<f32> = (0..512).map(|i| ((i as f32) * 0.07).sin() * 0.1).collect();
    for _ in 0..50 {
        vad.speech_probability(&chunk).expect("step");
    }
    let n = 2_000;
    let t = Instant::now();
    for _ in 0..n {
        vad.speech_probability(&chunk).expect("step");
    }
    let per = t.elapsed().as_secs_f64() / f64::from(n) * 1e3;
    println!(
        "Silero: {per:.3} ms per 32 ms step (RTF {:.4}); one core serves ~{:.0} real-time streams",
        per / 32.0,
        32.0 / per
    );
}
