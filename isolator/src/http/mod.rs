//! The HTTP layer: every route of the server, its state, its errors and
//! the extractors that say who is asking.
//!
//! `serve(listener, config, shutdown)` runs until `shutdown` turns true, then
//! ends every session and drains with a bound. Every response carries strict
//! security headers (CSP without inline scripts, no framing, no sniffing);
//! state-changing requests need the `X-Isolator-Request` header, which a
//! cross-site page cannot send without a preflight we never grant.
//!
//! Layers, outermost first: [`host_check`] (DNS rebinding), the body limit,
//! [`rate_limit`], [`guard`] (CSRF header, security headers), then the
//! routes: [`pages`] (`/`, `/api/me`), [`login`], [`account`] (a user's
//! own password), [`sessions`] (create,
//! status, close, the WebSocket, files, image paste), [`admin`] (`/api/v1`
//! and `/admin`) and [`audit`] (search, replay, export). Handlers learn who
//! is asking from the extractors of [`extract`] ([`extract::SignedIn`],
//! [`extract::Admin`], [`extract::OwnedSession`]) and answer errors with the
//! one [`error::ApiError`]. Nothing outside this module imports it, except
//! the `serve` command and [`crate::config`], which composes the sections
//! owned here (`[admin]`, `[rate_limit]`, `public_hosts`).

pub mod account;
pub mod admin;
pub mod audit;
pub mod client_addr;
pub mod cluster;
pub mod error;
pub mod extract;
pub mod guard;
pub mod host_check;
pub mod login;
pub mod pages;
pub mod rate_limit;
pub mod sessions;
pub mod state;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::middleware;
use axum::routing::get;
use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower_http::services::ServeDir;

use crate::config::Config;

pub use error::{api_error, ApiError, ApiResult};
pub use state::{build_node_state, build_state, AppState};

/// Header every state-changing request must carry.
pub const REQUEST_HEADER: &str = "x-isolator-request";
/// Header carrying a session token on HTTP requests.
pub const TOKEN_HEADER: &str = "x-isolator-token";

/// Runs the server on `listener` until `shutdown` turns true. A cluster
/// node drains first: no new session, its users told, stopped when its
/// last session ends or `cluster.drain_grace_secs` passed.
pub async fn serve(
    listener: TcpListener,
    config: Config,
    mut shutdown: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let (stop, stopped) = watch::channel(false);
    let state = build_node_state(config, listener.local_addr()?, stopped.clone()).await?;
    let node = state.cluster.clone();
    tokio::spawn(async move {
        let _ = shutdown.wait_for(|s| *s).await;
        if let Some(registry) = node.as_ref().and_then(|c| c.registry()) {
            registry.drain_to_stop().await;
        }
        let _ = stop.send(true);
    });
    serve_state(listener, state, stopped).await
}

/// Runs the server with prepared state (tests keep a clone to reach the managers).
pub async fn serve_state(
    listener: TcpListener,
    state: AppState,
    mut shutdown: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let app = router(state.clone());
    let addr = listener.local_addr()?;
    if let Some(listen) = state.config.metrics.listen {
        let metrics_listener = TcpListener::bind(listen)
            .await
            .map_err(|e| anyhow::anyhow!("metrics.listen {listen}: {e}"))?;
        let at = metrics_listener.local_addr()?;
        tracing::info!(addr = %at, "metrics listening on http://{at}/metrics");
        tokio::spawn(crate::metrics::server::serve(
            metrics_listener,
            state.metrics.clone(),
            shutdown.clone(),
        ));
    }
    tracing::info!(%addr, "isolator listening on http://{addr}/");
    let sessions = state.sessions.clone();
    let readiness = state.metrics.readiness().clone();
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        let _ = shutdown.wait_for(|s| *s).await;
        readiness.set_not_ready("shutdown", "the server is shutting down");
    })
    .await?;
    sessions.drain(Duration::from_secs(5)).await;
    sessions.browser().kill().await;
    Ok(())
}

/// The application's routes.
pub fn router(state: AppState) -> Router {
    let web_root = state.config.web_root.clone();
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .merge(pages::routes())
        .merge(login::routes())
        .merge(account::routes())
        .merge(sessions::routes())
        .merge(audit::routes())
        .merge(admin::routes())
        .fallback_service(ServeDir::new(web_root).append_index_html_on_directories(false))
        .layer(middleware::from_fn_with_state(state.clone(), guard::guard))
        // In a cluster: logins of other nodes, and requests for sessions
        // held elsewhere forwarded there.
        .layer(middleware::from_fn_with_state(
            state.clone(),
            cluster::route,
        ))
        .layer(middleware::from_fn_with_state(
            Arc::new(rate_limit::RateLimiter::new(
                state.config.rate_limit.clone(),
            )),
            rate_limit::limit,
        ))
        .layer(DefaultBodyLimit::max(64 * 1024))
        // Outermost: a request for another host name (DNS rebinding) is
        // refused before anything else sees it.
        .layer(middleware::from_fn_with_state(
            state.hosts.clone(),
            host_check::guard,
        ))
        // Who the client is behind a trusted proxy (`[forwarded]`).
        .layer(middleware::from_fn_with_state(
            state.forwarding.clone(),
            client_addr::resolve,
        ))
        // Before the host check: a request another node of the cluster
        // forwarded (and signed) passed that node's check.
        .layer(middleware::from_fn_with_state(
            state.clone(),
            cluster::accept_forwarded,
        ))
        .with_state(state)
}
