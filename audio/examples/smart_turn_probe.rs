//! `cargo run -p viva-audio --example smart_turn_probe -- [--phone] FILE.wav SECONDS...`:
//! Smart Turn's probability that the speaker has finished, on the audio of FILE up to each
//! given time. `--phone`: through the phone gateway's path first (8 kHz μ-law and back).
use viva_audio::smart_turn::SmartTurnModel;
use viva_audio::vad::onnx_environment;
use viva_audio::vad::provision::{default_models_dir, locate_onnxruntime, SMART_TURN};

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let phone = args.first().is_some_and(|a| a == "--phone");
    if phone {
        args.remove(0);
    }
    let Some((file, times)) = args.split_first() else {
        eprintln!("usage: smart_turn_probe FILE.wav SECONDS...");
        std::process::exit(2);
    };
    let dir = default_models_dir();
    let (model, lib) = match SMART_TURN
        .locate(&dir)
        .and_then(|m| Ok((m, locate_onnxruntime(&dir)?)))
    {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    let env = onnx_environment(&lib).expect("ort");
    let st = SmartTurnModel::load(env, &model, 1).expect("model");
    let audio = viva_audio::read_wav(std::path::Path::new(file)).expect("wav");
    let mut samples =
        viva_audio::resample(&audio.samples, audio.sample_rate, 16_000).expect("rate");
    if phone {
        let narrow = viva_audio::resample(&samples, 16_000, 8_000).expect("8 kHz");
        let ulaw = viva_audio::g711::ulaw_encode(&narrow).expect("μ-law");
        let back = viva_audio::g711::ulaw_decode(&ulaw);
        samples = viva_audio::resample(&back, 8_000, 16_000).expect("16 kHz");
    }
    for t in times {
        let s: f64 = t.parse().expect("seconds");
        let end = ((s * 16_000.0) as usize).min(samples.len());
        let start = std::time::Instant::now();
        let p = st.probability(&samples[..end]).expect("p");
        println!(
            "{t} s: p = {p:.4} ({:.0} ms)",
            start.elapsed().as_secs_f64() * 1e3
        );
    }
}
