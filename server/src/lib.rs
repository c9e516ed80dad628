//! The `viva` server: command line, configuration, HTTP API and (as they land) the gateways,
//! session pipeline, dialogue manager, scoring worker and storage.
//!
//! # Layout
//! - [`cli`]: the clap command tree; `main.rs` only parses it and calls [`cli::run`].
//! - [`config`]: one TOML file plus `VIVA_*` environment overrides.
//! - [`logging`]: `tracing` setup (pretty on a terminal, JSON on request).
//! - [`http`]: the axum router and `serve`.
//! - [`commands`]: one module per subcommand that is more than a call into a library crate.
//! - [`session`]: the live interview pipeline (one chain of tasks per interview).
//! - [`gateway`]: transports into sessions (WebSocket today).
//! - [`store`]: SQLite/PostgreSQL storage, migrations, the scoring queue and worker.
//! - [`api`]: the recruiter REST API under `/v1` (bearer API tokens), its OpenAPI document.
//! - [`worker`]: the scoring and webhook workers (in-process or `viva worker`).
//! - [`webhooks`]: signed webhook delivery with retries.
//! - [`tls`]: the one rustls crypto provider (ring) of the process's HTTPS clients.

pub mod api;
pub mod cli;
pub mod commands;
pub mod config;
pub mod gateway;
pub mod http;
pub mod http_error;
pub mod logging;
pub mod session;
pub mod store;
pub mod tls;
pub mod webhooks;
pub mod worker;

pub use config::Config;
