//! A stand-in for the `viva` binary's grading subcommands, until the lead wires them:
//!
//!     cargo run -p viva-grading --example cli -- grade FILE.tsv [--format json] [--out F]
//!     cargo run -p viva-grading --example cli -- eval grading FILE.tsv --gold COLUMN [...]

use clap::{Parser, Subcommand};
use viva_grading::cli::{run_eval_grading, run_grade, EvalGradingArgs, GradeArgs};

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Grade every row of a TSV.
    Grade(GradeArgs),
    /// Evaluate against gold.
    Eval {
        #[command(subcommand)]
        what: EvalCmd,
    },
}

#[derive(Subcommand)]
enum EvalCmd {
    Grading(EvalGradingArgs),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let res = match cli.cmd {
        Cmd::Grade(a) => run_grade(&a),
        Cmd::Eval {
            what: EvalCmd::Grading(a),
        } => run_eval_grading(&a).map(|_| ()),
    };
    match res {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
