//! `viva interview --text` without the `viva` binary: how the lead wires the CLI functions.
//!
//! cargo run -p viva-interview --example text_interview -- interview --text --out t.json < answers.txt

use clap::{Parser, Subcommand};
use viva_interview::cli::{
    run_interview, run_job_from_jd, run_job_validate, InterviewArgs, JobFromJdArgs, JobValidateArgs,
};

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Interview(InterviewArgs),
    FromJd(JobFromJdArgs),
    Validate(JobValidateArgs),
}

fn main() -> std::process::ExitCode {
    let stdin = std::io::stdin().lock();
    let stdout = std::io::stdout().lock();
    let result = match Cli::parse().command {
        Command::Interview(args) => run_interview(&args, stdin, stdout).map(|_| ()),
        Command::FromJd(args) => run_job_from_jd(&args, stdin, stdout).map(|_| ()),
        Command::Validate(args) => run_job_validate(&args, stdout).map(|_| ()),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
