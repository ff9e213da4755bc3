//! The HTTP and WebSocket server.
//!
//! `serve(listener, config, shutdown)` runs until `shutdown` turns true, then
//! ends every session and drains with a bound. Every response carries strict
//! security headers (CSP without inline scripts, no framing, no sniffing);
//! state-changing requests need the `X-Isolator-Request` header, which a
//! cross-site page cannot send without a preflight we never grant.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Path, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, Request, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower_http::services::ServeDir;

use crate::auth::{Auth, User};
use crate::browser::BrowserManager;
use crate::config::{AuthMode, Config};
use crate::protocol::{EndReason, PROTOCOL_VERSION, SUBPROTOCOL, TOKEN_SUBPROTOCOL_PREFIX};
use crate::session::tab::Viewport;
use crate::session::{socket, CreateError, SessionManager};

/// Header every state-changing request must carry.
pub const REQUEST_HEADER: &str = "x-isolator-request";
/// Header carrying a session token on HTTP requests.
pub const TOKEN_HEADER: &str = "x-isolator-token";

/// Shared server state.
#[derive(Clone)]
pub struct AppState {
    /// Configuration.
    pub config: Arc<Config>,
    /// Authentication.
    pub auth: Arc<Auth>,
    /// Sessions.
    pub sessions: Arc<SessionManager>,
    /// The policy in force (and its history), shared with the enforcer.
    pub policies: Arc<policies::PolicyStore>,
    /// The enforcement gates.
    pub enforcer: Arc<crate::enforce::Enforcer>,
    /// Session recording, its search index and access log.
    pub audit: Arc<crate::audit::AuditService>,
    /// The `Host` names this server answers to.
    pub hosts: Arc<crate::host_check::AllowedHosts>,
}

/// Runs the server on `listener` until `shutdown` turns true.
pub async fn serve(
    listener: TcpListener,
    config: Config,
    shutdown: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let state = build_state(config, listener.local_addr()?, shutdown.clone())?;
    serve_state(listener, state, shutdown).await
}

/// Runs the server with prepared state (tests keep a clone to reach the managers).
pub async fn serve_state(
    listener: TcpListener,
    state: AppState,
    mut shutdown: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let app = router(state.clone());
    let addr = listener.local_addr()?;
    tracing::info!(%addr, "isolator listening on http://{addr}/");
    let sessions = state.sessions.clone();
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        let _ = shutdown.wait_for(|s| *s).await;
    })
    .await?;
    sessions.drain(Duration::from_secs(5)).await;
    sessions.browser().kill().await;
    Ok(())
}

/// Builds the state for a validated config; `local_addr` is where the server
/// listens (protected from the isolated browser).
pub fn build_state(
    config: Config,
    local_addr: SocketAddr,
    shutdown: watch::Receiver<bool>,
) -> anyhow::Result<AppState> {
    crate::private_fs::ensure_private_dir(&config.data_dir)
        .map_err(|e| anyhow::anyhow!("data_dir: {e}"))?;
    let egress = crate::egress::EgressPolicy::new(config.egress.clone())
        .map_err(|e| anyhow::anyhow!("egress: {e}"))?
        .with_protected([local_addr, config.listen]);
    let store = Arc::new(open_policies(&config)?);
    if config.policies.watch_interval_ms > 0 && store.policy_file().is_some() {
        tokio::spawn(crate::policy_watch::watch(
            store.clone(),
            Duration::from_millis(config.policies.watch_interval_ms),
            shutdown.clone(),
        ));
    }
    let workers = crate::enforce::worker_user::worker_config(
        config.enforce.worker_program.clone(),
        &config.enforce.extract_run_as,
    )
    .map_err(|e| anyhow::anyhow!("extraction workers: {e}"))?;
    let enforcer = Arc::new(crate::enforce::Enforcer::new(
        store.clone(),
        config.enforce.clone(),
        workers,
    ));
    let audit = crate::audit::AuditService::open(&config.audit)
        .map_err(|e| anyhow::anyhow!("audit recordings at {}: {e}", config.audit.dir.display()))?;
    audit.spawn_retention(Duration::from_secs(3600), shutdown.clone());
    let hosts =
        crate::host_check::AllowedHosts::new(&[local_addr, config.listen], &config.public_hosts);
    let config = Arc::new(config);
    let browser = Arc::new(BrowserManager::new(config.chromium.clone(), Vec::new()));
    Ok(AppState {
        auth: Arc::new(Auth::new(config.auth.clone(), local_addr.port())),
        sessions: Arc::new(
            SessionManager::new(
                config.clone(),
                browser,
                Arc::new(egress),
                enforcer.clone(),
                shutdown,
            )
            .with_audit(audit.clone()),
        ),
        policies: store,
        enforcer,
        audit,
        hosts: Arc::new(hosts),
        config,
    })
}

/// Loads the policy document named by the config, or the built-in one that
/// allows everything.
fn open_policies(config: &Config) -> anyhow::Result<policies::PolicyStore> {
    match &config.policies.file {
        Some(file) => {
            let history = config.policies.history_dir(&config.data_dir);
            let store = policies::PolicyStore::open_in(file, &history, config.policies.data_dir())
                .map_err(|e| anyhow::anyhow!("policies: {e}"))?;
            tracing::info!(
                file = %file.display(),
                version = store.version(),
                rules = store.current().rule_count(),
                "policy loaded"
            );
            Ok(store)
        }
        None => {
            let policy = policies::compile_str_in(
                "",
                std::path::Path::new("built-in policy"),
                &config.policies.data_dir(),
            )
            .map_err(|e| anyhow::anyhow!("built-in policy: {e}"))?;
            tracing::warn!(
                "no policies.file configured: every action is allowed and nothing is scanned"
            );
            Ok(policies::PolicyStore::new(policy, "built-in"))
        }
    }
}

/// The application's routes.
pub fn router(state: AppState) -> Router {
    let web_root = state.config.web_root.clone();
    Router::new()
        .route("/", get(index))
        .route("/healthz", get(|| async { "ok" }))
        .route("/api/me", get(me))
        .route("/api/sessions", post(create_session))
        .route(
            "/api/sessions/{id}",
            get(session_status).delete(close_session),
        )
        .route("/api/sessions/{id}/ws", get(session_ws))
        .merge(crate::server_login::routes())
        .merge(crate::audit_api::routes())
        .merge(crate::admin::routes())
        .merge(crate::server_files::routes())
        .merge(crate::server_paste::routes())
        .fallback_service(ServeDir::new(web_root).append_index_html_on_directories(false))
        .layer(middleware::from_fn_with_state(state.clone(), guard))
        .layer(middleware::from_fn_with_state(
            Arc::new(crate::rate_limit::RateLimiter::new(
                state.config.rate_limit.clone(),
            )),
            crate::rate_limit::limit,
        ))
        .layer(DefaultBodyLimit::max(64 * 1024))
        // Outermost: a request for another host name (DNS rebinding) is
        // refused before anything else sees it.
        .layer(middleware::from_fn_with_state(
            state.hosts.clone(),
            crate::host_check::guard,
        ))
        .with_state(state)
}

/// Security headers on every response; CSRF header on state-changing requests.
async fn guard(State(_): State<AppState>, req: Request<axum::body::Body>, next: Next) -> Response {
    let state_changing = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    // The login form is a plain form post; `server_login` checks that it comes
    // from this server's own page (Origin, Sec-Fetch-Site).
    // Admin API clients authenticate with a bearer token, which a cross-site
    // page cannot attach (it is not a CORS-safelisted header): no CSRF risk.
    let login = req.uri().path() == "/login";
    let exempt = login
        || (req.uri().path().starts_with("/api/v1/")
            && crate::auth::bearer(req.headers()).is_some());
    if state_changing && !exempt && !req.headers().contains_key(REQUEST_HEADER) {
        return api_error(
            StatusCode::FORBIDDEN,
            "csrf",
            "state-changing requests need the X-Isolator-Request header",
        );
    }
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    let set = |h: &mut HeaderMap, k: &'static str, v: &'static str| {
        h.insert(k, HeaderValue::from_static(v));
    };
    set(
        h,
        "content-security-policy",
        "default-src 'self'; img-src 'self' blob: data:; style-src 'self'; script-src 'self'; \
         connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'",
    );
    set(h, "x-frame-options", "DENY");
    set(h, "x-content-type-options", "nosniff");
    // The login page posts its form with `same-origin`, so the post carries
    // its real `Origin` (under `no-referrer` browsers send `Origin: null`).
    set(
        h,
        "referrer-policy",
        if login { "same-origin" } else { "no-referrer" },
    );
    set(h, "cross-origin-opener-policy", "same-origin");
    set(h, "cross-origin-resource-policy", "same-origin");
    set(
        h,
        "permissions-policy",
        "camera=(), microphone=(), geolocation=(), usb=(), payment=()",
    );
    res
}

/// A JSON error body `{"error", "code"}`.
pub fn api_error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        Json(serde_json::json!({ "error": message, "code": code })),
    )
        .into_response()
}

fn user_of(state: &AppState, headers: &HeaderMap, peer: SocketAddr) -> Option<User> {
    state.auth.identify(headers, peer)
}

/// The admin (or auditor) making this request, or the JSON error to answer
/// with: 401 when nobody is signed in, 403 for a signed-in non-admin. Every
/// admin and audit endpoint starts here.
///
/// API clients may instead send `Authorization: Bearer <token>` with a token
/// whose hash is in `[admin] api_tokens`; a request carrying that header is
/// judged by it alone (a wrong token is 401, whatever cookie comes with it).
// The error is the response itself, built once per refused request; boxing it
// would only add an allocation to every caller's match.
#[allow(clippy::result_large_err)]
pub fn require_admin(
    state: &AppState,
    headers: &HeaderMap,
    peer: SocketAddr,
) -> Result<User, Response> {
    if let Some(token) = crate::auth::bearer(headers) {
        return crate::auth::api_token_user(&state.config.admin.api_tokens, token).ok_or_else(
            || {
                api_error(
                    StatusCode::UNAUTHORIZED,
                    "bad_token",
                    "the bearer token is not one of [admin] api_tokens",
                )
            },
        );
    }
    match user_of(state, headers, peer) {
        Some(u) if u.admin => Ok(u),
        Some(_) => Err(api_error(
            StatusCode::FORBIDDEN,
            "forbidden",
            "this needs an administrator",
        )),
        None => Err(api_error(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "sign in as an administrator",
        )),
    }
}

/// Serves `name` from the web root as HTML.
pub(crate) async fn static_file(state: &AppState, name: &str) -> Response {
    match tokio::fs::read(state.config.web_root.join(name)).await {
        Ok(body) => (
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            body,
        )
            .into_response(),
        Err(_) => api_error(StatusCode::NOT_FOUND, "not_found", "page not found"),
    }
}

async fn index(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    uri: axum::http::Uri,
) -> Response {
    if user_of(&state, &headers, peer).is_none() {
        return match state.auth.mode() {
            AuthMode::Static => {
                let next = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
                let next =
                    url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>();
                Redirect::to(&format!("/login?next={next}")).into_response()
            }
            _ => api_error(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "sign in through your organisation's login first",
            ),
        };
    }
    static_file(&state, "index.html").await
}

async fn me(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    match user_of(&state, &headers, peer) {
        Some(u) => Json(serde_json::json!({
            "user": u.name,
            "groups": u.groups,
            "admin": u.admin,
            "auth": state.auth.mode().as_str(),
        }))
        .into_response(),
        None => api_error(StatusCode::UNAUTHORIZED, "unauthenticated", "not signed in"),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateSession {
    #[serde(default)]
    url: Option<String>,
    #[serde(default = "default_width")]
    width: u32,
    #[serde(default = "default_height")]
    height: u32,
    #[serde(default = "default_dpr")]
    dpr: f64,
}

fn default_width() -> u32 {
    1280
}
fn default_height() -> u32 {
    720
}
fn default_dpr() -> f64 {
    1.0
}

async fn create_session(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Result<Json<CreateSession>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let Some(user) = user_of(&state, &headers, peer) else {
        return api_error(StatusCode::UNAUTHORIZED, "unauthenticated", "not signed in");
    };
    let Json(req) = match body {
        Ok(b) => b,
        Err(e) => return api_error(StatusCode::BAD_REQUEST, "bad_request", &e.body_text()),
    };
    let valid = (100..=4096).contains(&req.width)
        && (100..=4096).contains(&req.height)
        && req.dpr.is_finite()
        && (0.5..=4.0).contains(&req.dpr);
    if !valid {
        return api_error(
            StatusCode::BAD_REQUEST,
            "bad_viewport",
            "width and height must be 100 to 4096 and dpr 0.5 to 4",
        );
    }
    let viewport = Viewport {
        width: req.width,
        height: req.height,
        dpr: req.dpr,
    };
    let url = req.url.as_deref().filter(|u| !u.trim().is_empty());
    let origin = crate::session::SessionOrigin {
        addr: peer.to_string(),
        user_agent: headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .chars()
            .take(512)
            .collect(),
    };
    match state
        .sessions
        .create_from(user, url, viewport, origin)
        .await
    {
        Ok((handle, token)) => (
            StatusCode::CREATED,
            Json(serde_json::json!({
                "id": handle.id,
                "token": token,
                "user": handle.user.name,
                "ws": format!("/api/sessions/{}/ws", handle.id),
                "protocol": PROTOCOL_VERSION,
            })),
        )
            .into_response(),
        Err(CreateError::Full(_)) => api_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "full",
            &format!(
                "All {} sessions of this server are in use. Try again in a minute.",
                state.config.sessions.max
            ),
        ),
        Err(CreateError::UserFull(n)) => api_error(
            StatusCode::TOO_MANY_REQUESTS,
            "user_full",
            &format!(
                "You already have {n} sessions open, the most one user may have. \
                 Close one (in another tab or window) and try again."
            ),
        ),
        Err(CreateError::BadUrl(msg)) => api_error(StatusCode::BAD_REQUEST, "bad_url", &msg),
        Err(CreateError::ShuttingDown) => api_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "shutting_down",
            "The server is restarting. Try again in a moment.",
        ),
        Err(CreateError::Browser(e)) => {
            tracing::error!("session start failed: {e}");
            api_error(
                StatusCode::BAD_GATEWAY,
                "browser",
                "The remote browser could not be started. Try again; if it keeps failing, tell your admin.",
            )
        }
    }
}

/// Why [`owned_session`] refused.
pub(crate) enum NotOwned {
    Unauthenticated,
    NoSession,
}

impl IntoResponse for NotOwned {
    fn into_response(self) -> Response {
        match self {
            NotOwned::Unauthenticated => {
                api_error(StatusCode::UNAUTHORIZED, "unauthenticated", "not signed in")
            }
            NotOwned::NoSession => api_error(
                StatusCode::NOT_FOUND,
                "no_session",
                "this session has ended",
            ),
        }
    }
}

/// The session `id` if the caller is signed in as its owner and presents its
/// token (`X-Isolator-Token`).
pub(crate) fn owned_session(
    state: &AppState,
    headers: &HeaderMap,
    peer: SocketAddr,
    id: &str,
) -> Result<Arc<crate::session::SessionHandle>, NotOwned> {
    let Some(user) = user_of(state, headers, peer) else {
        return Err(NotOwned::Unauthenticated);
    };
    let token = headers
        .get(TOKEN_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    match state.sessions.get(id) {
        Some(h) if h.user.name == user.name && h.check_token(token) => Ok(h),
        _ => Err(NotOwned::NoSession),
    }
}

/// Whether a session can be re-attached: the client asks after a refused upgrade,
/// whose reason a browser cannot see.
async fn session_status(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    match owned_session(&state, &headers, peer, &id) {
        Ok(h) => Json(serde_json::json!({ "id": h.id, "live": true, "attached": h.is_attached() }))
            .into_response(),
        Err(refused) => refused.into_response(),
    }
}

async fn close_session(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    match owned_session(&state, &headers, peer, &id) {
        Ok(_) => {
            state.sessions.end(&id, EndReason::Closed).await;
            StatusCode::NO_CONTENT.into_response()
        }
        Err(refused) => refused.into_response(),
    }
}

/// Whether `Origin` names this server (the `Host` the request came to).
pub(crate) fn same_origin(headers: &HeaderMap) -> bool {
    let (Some(origin), Some(host)) = (
        headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()),
        headers.get(header::HOST).and_then(|v| v.to_str().ok()),
    ) else {
        return false;
    };
    match url::Url::parse(origin) {
        Ok(o) if matches!(o.scheme(), "http" | "https") => {
            let Some(ohost) = o.host_str() else {
                return false;
            };
            let oport = o.port_or_known_default();
            let authority = match (oport, o.scheme()) {
                (Some(80), "http") | (Some(443), "https") | (None, _) => ohost.to_owned(),
                (Some(p), _) => format!("{ohost}:{p}"),
            };
            authority.eq_ignore_ascii_case(host)
        }
        _ => false,
    }
}

/// The `host:port` of an http(s) `Origin` value (port always written), for
/// checking it against [`crate::host_check::AllowedHosts`].
pub(crate) fn origin_authority(origin: &str) -> Option<String> {
    let o = url::Url::parse(origin).ok()?;
    if !matches!(o.scheme(), "http" | "https") {
        return None;
    }
    Some(format!("{}:{}", o.host_str()?, o.port_or_known_default()?))
}

async fn session_ws(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(id): Path<String>,
    ws: WebSocketUpgrade,
) -> Response {
    if !same_origin(&headers) {
        tracing::warn!(%peer, "cross-origin WebSocket refused");
        return api_error(
            StatusCode::FORBIDDEN,
            "origin",
            "cross-origin WebSocket refused",
        );
    }
    let Some(user) = user_of(&state, &headers, peer) else {
        return api_error(StatusCode::UNAUTHORIZED, "unauthenticated", "not signed in");
    };
    let protocols: Vec<String> = headers
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|s| s.trim().to_owned())
        .collect();
    let token = protocols
        .iter()
        .find_map(|p| p.strip_prefix(TOKEN_SUBPROTOCOL_PREFIX))
        .unwrap_or("");
    if !protocols.iter().any(|p| p == SUBPROTOCOL) {
        return api_error(
            StatusCode::BAD_REQUEST,
            "protocol",
            "the client must speak the isolator.v1 sub-protocol",
        );
    }
    let Some(handle) = state.sessions.get(&id) else {
        return NotOwned::NoSession.into_response();
    };
    if !handle.check_token(token) || handle.user.name != user.name {
        tracing::warn!(%peer, session = %id, "WebSocket with a wrong token refused");
        return api_error(StatusCode::FORBIDDEN, "token", "wrong session token");
    }
    let resumed = handle.was_attached();
    ws.protocols([SUBPROTOCOL])
        .max_message_size(socket::MAX_WS_MESSAGE)
        .max_frame_size(socket::MAX_WS_MESSAGE)
        .on_upgrade(move |sock| socket::run(sock, handle, resumed))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(origin: &str, host: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::ORIGIN, origin.parse().unwrap());
        h.insert(header::HOST, host.parse().unwrap());
        h
    }

    #[test]
    fn origin_check() {
        assert!(same_origin(&headers(
            "http://127.0.0.1:8080",
            "127.0.0.1:8080"
        )));
        assert!(same_origin(&headers(
            "https://rbi.example.com",
            "rbi.example.com"
        )));
        assert!(!same_origin(&headers(
            "http://evil.example",
            "127.0.0.1:8080"
        )));
        assert!(!same_origin(&headers(
            "http://127.0.0.1:8081",
            "127.0.0.1:8080"
        )));
        assert!(!same_origin(&headers("null", "127.0.0.1:8080")));
        assert!(!same_origin(&HeaderMap::new()));
    }
}
