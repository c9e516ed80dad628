use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = viva_server::cli::Cli::parse();
    match viva_server::cli::run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
