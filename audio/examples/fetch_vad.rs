//! `cargo run -p viva-audio --example fetch_vad [MODELS_DIR]`: provisions silero_vad.onnx.
fn main() {
    let dir = std::env::args()
        .nth(1)
        .map(std::path::PathBuf::from)
        .unwrap_or_else(viva_audio::vad::provision::default_models_dir);
    match viva_audio::fetch_vad_model(&dir, |l| println!("{l}")) {
        Ok(p) => println!("{}", p.display()),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}
