//! The HTTP surface: health, embedded pages, and (as they land) the API and gateways.

use std::sync::Arc;

use anyhow::Context;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};

use crate::config::Config;

/// Things every request handler may need, loaded once at start and shared.
pub struct AppState {
    pub config: Config,
    pub whisper: Option<Arc<viva_models::WhisperModel>>,
    pub started: std::time::Instant,
    /// Live interview sessions (None when the voice/VAD engines could not load).
    pub sessions: Option<Arc<crate::session::SessionManager>>,
    /// The database behind the recruiter API (`/v1`); None serves without the API.
    pub store: Option<crate::store::Store>,
}

pub fn router(state: Arc<AppState>) -> Router {
    // Static `/v1/...` routes take precedence over the catch-all page route.
    let api = match &state.store {
        Some(store) => crate::api::router(store.clone()),
        None => Router::new(),
    };
    Router::new()
        .merge(api)
        .route("/healthz", get(health))
        .route("/", get(index))
        .merge(crate::gateway::ws::routes())
        .merge(crate::gateway::twilio::routes())
        .merge(crate::gateway::webrtc::routes())
        .route("/{*path}", get(static_asset))
        .with_state(state)
}

async fn health(State(state): State<Arc<AppState>>) -> Json<serde_json::Value> {
    Json(serde_json::json!({
        "status": if state.whisper.is_some() { "ok" } else { "degraded" },
        "version": env!("CARGO_PKG_VERSION"),
        "uptime_s": state.started.elapsed().as_secs(),
        "whisper": {
            "model": state.config.models.whisper,
            "ready": state.whisper.is_some(),
        },
    }))
}

async fn index() -> Response {
    static_asset(Path(String::new())).await
}

async fn static_asset(Path(path): Path<String>) -> Response {
    match viva_web_client::asset(&path) {
        Some(a) => ([(header::CONTENT_TYPE, a.content_type)], a.bytes).into_response(),
        None => (StatusCode::NOT_FOUND, Json(serde_json::json!({"error": "not_found", "message": format!("no such page: /{path}")}))).into_response(),
    }
}

/// Loads the shared models, binds, and serves until Ctrl-C / SIGTERM.
pub async fn serve(config: Config, bind_override: Option<String>) -> anyhow::Result<()> {
    let bind = bind_override.unwrap_or_else(|| config.server.bind.clone());
    let state = load_state(config).await?;
    let listener = tokio::net::TcpListener::bind(&bind)
        .await
        .with_context(|| format!("cannot listen on {bind}"))?;
    tracing::info!(address = %listener.local_addr()?, "viva is listening; open http://{}/", listener.local_addr()?);
    serve_on(listener, state, shutdown_signal()).await?;
    tracing::info!("viva stopped");
    Ok(())
}

/// Loads everything shared (Whisper, the voice, the VAD model) once.
pub async fn load_state(config: Config) -> anyhow::Result<Arc<AppState>> {
    let model_path = crate::commands::whisper_path(&config);
    let whisper = tokio::task::spawn_blocking(move || viva_models::WhisperModel::load(&model_path))
        .await
        .context("loading the Whisper model")??;
    tracing::info!(model = %whisper.path().display(), "whisper model loaded");
    let whisper = Arc::new(whisper);
    let store = crate::store::open_and_seed(&config).await?;
    let sessions = {
        let models = config.models.dir.clone();
        let (w, threads) = (whisper.clone(), crate::commands::threads(&config));
        match tokio::task::spawn_blocking(move || {
            crate::session::Engines::load(&models, w, threads)
        })
        .await
        .context("loading the session engines")?
        {
            Ok(engines) => {
                let engines = Arc::new(engines);
                // The demo job's prompts, rendered while nobody waits for them.
                engines.prerender_in_background(&viva_interview::demo_job());
                let cfg = crate::session::SessionConfig::new(&config.storage.data_dir);
                // Sessions linked to stored interviews are filed when they end.
                let sink = crate::store::link::StoreSink {
                    store: store.clone(),
                };
                Some(crate::session::SessionManager::with_sink(
                    engines,
                    cfg,
                    Some(Arc::new(sink)),
                ))
            }
            Err(e) => {
                tracing::warn!(error = %format!("{e:#}"), "live sessions disabled");
                None
            }
        }
    };
    Ok(Arc::new(AppState {
        config,
        whisper: Some(whisper),
        started: std::time::Instant::now(),
        sessions,
        store: Some(store),
    }))
}

/// Serves `state` on `listener` until `shutdown` resolves.
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    state: Arc<AppState>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await?;
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM.
pub(crate) async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
