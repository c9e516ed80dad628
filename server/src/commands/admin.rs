//! `viva admin token create NAME`: a recruiter API token, printed once (only its hash is kept).

use anyhow::Context;

use crate::config::Config;
use crate::store::{now_ms, Store};

#[derive(Debug, Clone, clap::Args)]
pub struct TokenCreateArgs {
    /// A name to tell tokens apart ("ats-integration").
    pub name: String,
}

pub fn token_create(cfg: &Config, args: TokenCreateArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    let token = runtime.block_on(async {
        let store = Store::open_default(&cfg.storage.data_dir).await?;
        let token = store.create_api_token(&args.name, now_ms()).await?;
        store
            .audit(now_ms(), "cli", "api_token.created", &args.name, "")
            .await?;
        Ok::<_, crate::store::StoreError>(token)
    })?;
    eprintln!("API token \"{}\" created; it is shown only now:", args.name);
    println!("{token}");
    Ok(())
}
