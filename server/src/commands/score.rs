//! `viva score TRANSCRIPT.json --job FILE [--format json|md|html]`: scores a saved transcript
//! (e.g. from `viva interview --text --out`) offline and prints the report, for calibration and
//! re-scoring.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;

#[derive(Debug, Clone, clap::Args)]
pub struct ScoreArgs {
    /// Transcript JSON saved by `viva interview --text --out` (or exported by the server).
    #[arg(value_name = "TRANSCRIPT.json")]
    pub transcript: PathBuf,
    /// Job file (TOML) the interview ran for; the built-in demo job when absent.
    #[arg(long, value_name = "FILE")]
    pub job: Option<PathBuf>,
    /// Output format: json, md or html.
    #[arg(long, default_value = "json")]
    pub format: viva_scoring::Format,
    /// Write the report here instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// Loads, scores and renders; the rendered report is returned for tests.
pub fn render(args: &ScoreArgs) -> anyhow::Result<String> {
    let job = match &args.job {
        Some(path) => viva_interview::JobConfig::load(path)?,
        None => viva_interview::demo_job(),
    };
    let text = std::fs::read_to_string(&args.transcript)
        .with_context(|| format!("cannot read {}", args.transcript.display()))?;
    let transcript: viva_interview::Transcript = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a viva transcript", args.transcript.display()))?;
    let report = viva_scoring::score(&job, &transcript)?;
    Ok(viva_scoring::render(&report, args.format)?)
}

pub fn run(args: ScoreArgs) -> anyhow::Result<()> {
    let rendered = render(&args)?;
    match &args.out {
        Some(path) => std::fs::write(path, rendered)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => std::io::stdout()
            .lock()
            .write_all(rendered.as_bytes())
            .context("cannot write the report")?,
    }
    Ok(())
}
