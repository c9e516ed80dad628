//! `viva report INTERVIEW_ID [--format json|md|html]`: the interview's latest stored report,
//! read from the database (`DATABASE_URL`, or `data/viva.db`). JSON is printed as stored,
//! byte for byte; Markdown and HTML are rendered from it.

use std::io::Write;

use anyhow::Context;

use crate::config::Config;
use crate::store::Store;

#[derive(Debug, Clone, clap::Args)]
pub struct ReportArgs {
    /// The interview's id (`GET /v1/interviews` lists them).
    pub interview_id: String,
    /// Output format: json, md or html.
    #[arg(long, default_value = "json")]
    pub format: viva_scoring::Format,
}

/// The rendered report (for tests and `run`).
pub async fn render(store: &Store, args: &ReportArgs) -> anyhow::Result<String> {
    let row = store
        .latest_report(&args.interview_id)
        .await
        .with_context(|| format!("no report for interview {:?}", args.interview_id))?;
    if args.format == viva_scoring::Format::Json {
        return Ok(row.report_json);
    }
    let report: viva_scoring::Report =
        serde_json::from_str(&row.report_json).context("the stored report does not parse")?;
    Ok(viva_scoring::render(&report, args.format)?)
}

pub fn run(cfg: &Config, args: ReportArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    let text = runtime.block_on(async {
        let store = Store::open_default(&cfg.storage.data_dir).await?;
        render(&store, &args).await
    })?;
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .context("cannot write the report")
}
