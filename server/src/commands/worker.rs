//! `viva worker`: a scoring and webhook worker process. It claims from the same database
//! queues as the server's in-process worker, so several of them (on several machines, against
//! one PostgreSQL via `DATABASE_URL`) share the load; set `worker.in_process = false` on the
//! servers when they do. `--drain` scores what is queued, delivers what is due, and exits.

use anyhow::Context;

use crate::config::Config;
use crate::store::{now_ms, Store};

#[derive(Debug, Clone, clap::Args)]
pub struct WorkerArgs {
    /// Name recorded with each claim (default: worker-<host pid>).
    #[arg(long)]
    pub name: Option<String>,
    /// Exit once the scoring queue is empty and no webhook delivery is due.
    #[arg(long)]
    pub drain: bool,
}

pub fn run(cfg: &Config, args: WorkerArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(async {
        let store = Store::open_default(&cfg.storage.data_dir).await?;
        crate::store::sync_config_webhooks(&store, &cfg.webhooks).await?;
        let name = args
            .name
            .clone()
            .unwrap_or_else(|| format!("worker-{}", std::process::id()));
        if args.drain {
            let scored = crate::worker::drain_scoring(&store, &name, cfg.worker.lease_ms).await;
            let sent = crate::webhooks::deliver_due(&store, &cfg.webhooks, &name, now_ms()).await?;
            eprintln!("{name}: scored {scored}, webhook attempts {sent}");
            return Ok(());
        }
        tracing::info!(worker = %name, "worker started");
        crate::worker::spawn(&store, cfg, name);
        crate::http::shutdown_signal().await;
        tracing::info!("worker stopped");
        Ok::<_, anyhow::Error>(())
    })
}
