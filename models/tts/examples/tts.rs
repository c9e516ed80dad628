//! Stand-alone driver until the `viva` binary wires these in:
//! `cargo run -p viva-tts --release --example tts -- say "Hello" --out /tmp/a.wav`,
//! `… -- bench`, `… -- fetch`.

use clap::{Parser, Subcommand};
use viva_tts::cli::{run_bench_tts, run_say, BenchTtsArgs, SayArgs};

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    Say(SayArgs),
    Bench(BenchTtsArgs),
    /// Provision the Piper voice and ONNX Runtime into $VIVA_MODELS_DIR (or models/store).
    Fetch,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    match Cli::parse().cmd {
        Cmd::Say(a) => println!("{}", run_say(&a)?),
        Cmd::Bench(a) => print!("{}", run_bench_tts(&a)?),
        Cmd::Fetch => {
            let dir = viva_tts::provision::default_models_dir();
            let paths = viva_tts::fetch_voice(&dir, |line| println!("{line}"))?;
            println!("{paths:?}");
        }
    }
    Ok(())
}
