//! The HTTP surface: health, embedded pages, and (as they land) the API and gateways.

use std::sync::Arc;
use std::time::Duration;

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
    /// Demo sessions started per client address.
    pub demo_limiter: crate::gateway::admission::RateLimiter,
    /// Dial-in PIN entries per caller number.
    pub pin_limiter: crate::gateway::admission::RateLimiter<String>,
}

/// Largest request body on any route (a job file, an SDP offer, a JSON control message all fit
/// many times over); a larger one is refused with 413 before it is read.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

pub fn router(state: Arc<AppState>) -> Router {
    // Static `/v1/...` routes take precedence over the catch-all page route.
    let api = match &state.store {
        Some(store) => crate::api::router_with(
            store.clone(),
            crate::api::DialIn {
                pin_digits: state.config.telephony.pin_digits,
                number: state.config.telephony.dial_in_number.clone(),
            },
        ),
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
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn(refuse_large_bodies))
        .with_state(state)
}

/// A body that says it is over the limit is refused from its `Content-Length`, before a byte of
/// it is read (a streamed body without one is still cut at the limit by `DefaultBodyLimit`).
async fn refuse_large_bodies(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        return (
            StatusCode::PAYLOAD_TOO_LARGE,
            Json(serde_json::json!({
                "error": "body_too_large",
                "message": format!("request bodies are limited to {} KiB", MAX_BODY_BYTES / 1024),
            })),
        )
            .into_response();
    }
    next.run(req).await
}

async fn health(State(state): State<Arc<AppState>>) -> Json<serde_json::Value> {
    let draining = state.sessions.as_ref().is_some_and(|s| s.is_draining());
    let status = match (draining, state.whisper.is_some()) {
        (true, _) => "draining",
        (false, true) => "ok",
        (false, false) => "degraded",
    };
    let sessions = state.sessions.as_ref().map(|s| {
        serde_json::json!({
            "live": s.live_count(),
            "pending": s.pending_count(),
            "max_live": s.config().max_live,
        })
    });
    Json(serde_json::json!({
        "status": status,
        "sessions": sessions,
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
        None => crate::http_error::json_error(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no such page: /{path}"),
        ),
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
    let grace = Duration::from_secs(state.config.shutdown.grace_s);
    let sessions = state.sessions.clone();
    // On SIGTERM/SIGINT: refuse new sessions, pause the live ones (the candidates hear why and
    // can resume after the restart), and only then stop serving. Connections still open after
    // the grace period are not waited for.
    let (stopped_tx, stopped_rx) = tokio::sync::oneshot::channel::<()>();
    let drained = async move {
        shutdown_signal().await;
        tracing::info!(grace_s = grace.as_secs(), "stopping: pausing live sessions");
        if let Some(s) = sessions {
            s.drain(grace).await;
        }
        let _ = stopped_tx.send(());
    };
    let serving = serve_on(listener, state, drained);
    tokio::pin!(serving);
    tokio::select! {
        r = &mut serving => r?,
        _ = async {
            let _ = stopped_rx.await;
            tokio::time::sleep(Duration::from_secs(2)).await;
        } => tracing::warn!("connections still open after the shutdown grace; closing them"),
    }
    tracing::info!("viva stopped");
    Ok(())
}

/// The multilingual Whisper model for Spanish and German interviews, when provisioned. Without
/// it the server still serves English; an interview in another language is refused at its
/// start with a message that says how to provision the model.
async fn load_multilingual(config: &Config) -> Option<Arc<viva_models::WhisperModel>> {
    let name = config.models.whisper_multilingual.trim().to_string();
    if name.is_empty() {
        return None;
    }
    let path = viva_models::provision::model_path(&config.models.dir, &name);
    if !path.exists() {
        tracing::info!(model = %name, "no multilingual Whisper model provisioned: English interviews only (`viva models fetch --model {name}`)");
        return None;
    }
    let loaded = tokio::task::spawn_blocking(move || viva_models::WhisperModel::load(&path)).await;
    match loaded {
        Ok(Ok(m)) if m.is_multilingual() => {
            tracing::info!(model = %m.path().display(), "multilingual whisper model loaded");
            Some(Arc::new(m))
        }
        Ok(Ok(m)) => {
            tracing::warn!(model = %m.path().display(), "models.whisper_multilingual is an English-only model; ignored");
            None
        }
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "multilingual Whisper model not loaded: English interviews only");
            None
        }
        Err(e) => {
            tracing::warn!(error = %e, "loading the multilingual Whisper model failed");
            None
        }
    }
}

/// Loads everything shared (Whisper, the voice, the VAD model) once.
pub async fn load_state(config: Config) -> anyhow::Result<Arc<AppState>> {
    let model_path = crate::commands::whisper_path(&config);
    let whisper = tokio::task::spawn_blocking(move || viva_models::WhisperModel::load(&model_path))
        .await
        .context("loading the Whisper model")??;
    tracing::info!(model = %whisper.path().display(), "whisper model loaded");
    let whisper = Arc::new(whisper);
    let multilingual = load_multilingual(&config).await;
    let store = crate::store::open_and_seed(&config).await?;
    let sessions = {
        let models = config.models.dir.clone();
        let (w, threads) = (whisper.clone(), crate::commands::threads(&config));
        match tokio::task::spawn_blocking(move || {
            crate::session::Engines::load(&models, w, multilingual, threads)
        })
        .await
        .context("loading the session engines")?
        {
            Ok(engines) => {
                let engines = Arc::new(engines);
                prerender_jobs(&engines, &store).await;
                let cfg = crate::session::SessionConfig::from_settings(
                    &config.storage.data_dir,
                    &config.session,
                );
                // Sessions linked to stored interviews write their state as it changes and are
                // filed when they end.
                let sink = crate::store::link::StoreSink::start(store.clone());
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
    // Interviews a crashed or stopped process left: restored for their candidates, or filed.
    let recordings_dir = config.storage.data_dir.join("recordings");
    let window = Duration::from_secs(config.session.resume_window_s);
    match crate::store::recover::recover(&store, sessions.as_ref(), &recordings_dir, window, true)
        .await
    {
        Ok(r) if r.restored + r.filed > 0 => tracing::info!(
            restored = r.restored,
            filed = r.filed,
            "interviews left in progress by an earlier process recovered"
        ),
        Ok(_) => {}
        Err(e) => tracing::error!(error = %e, "recovering interrupted interviews failed"),
    }
    tokio::spawn(crate::store::recover::run_sweep(
        store.clone(),
        sessions.clone(),
        recordings_dir,
        window,
    ));
    let demo_limiter =
        crate::gateway::admission::RateLimiter::per_hour(config.demo.per_address_per_hour);
    let config_pin_per_hour = config.telephony.pin_attempts_per_hour;
    Ok(Arc::new(AppState {
        config,
        whisper: Some(whisper),
        started: std::time::Instant::now(),
        sessions,
        store: Some(store),
        demo_limiter,
        pin_limiter: crate::gateway::admission::RateLimiter::per_hour(config_pin_per_hour),
    }))
}

/// The demo job's and every stored job's prompts, rendered while nobody waits for them (a
/// job's first candidate would otherwise hear each question synthesized on the spot).
async fn prerender_jobs(engines: &crate::session::Engines, store: &crate::store::Store) {
    let stored = store.list_jobs().await.unwrap_or_else(|e| {
        tracing::warn!(error = %e, "stored jobs' prompts not prerendered");
        Vec::new()
    });
    let mut jobs = vec![viva_interview::demo_job()];
    jobs.extend(
        stored
            .iter()
            .filter_map(|j| viva_interview::JobConfig::from_toml_str(&j.config_toml).ok()),
    );
    engines.prerender_in_background(&jobs);
}

/// A server is kept running in this process while this lives (dropping it stops the server).
pub struct InProcessServer {
    _stop: tokio::sync::oneshot::Sender<()>,
    _task: tokio::task::JoinHandle<anyhow::Result<()>>,
    /// The server's database (a benchmark files its job there).
    pub store: Option<crate::store::Store>,
}

/// The base URL a benchmark or simulation talks to: `external` when given, else a server it
/// starts in this process on a free loopback port (configured by [`Config::in_process_harness`],
/// so its CPU and memory can be measured).
pub async fn server_for(
    config: &Config,
    external: Option<&str>,
) -> anyhow::Result<(String, Option<InProcessServer>)> {
    if let Some(s) = external {
        return Ok((s.trim_end_matches('/').to_string(), None));
    }
    let state = load_state(config.in_process_harness()).await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let store = state.store.clone();
    let task = tokio::spawn(serve_on(listener, state, async move {
        let _ = rx.await;
    }));
    Ok((
        format!("http://{addr}"),
        Some(InProcessServer {
            _stop: tx,
            _task: task,
            store,
        }),
    ))
}

/// Serves `state` on `listener` until `shutdown` resolves.
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    state: Arc<AppState>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let app = router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app)
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
