//! The sessions of the signed-in user: create one, ask whether it can be
//! re-attached, close it, open its WebSocket ([`ws`]), move files in and out
//! ([`files`]) and paste images ([`paste_image`]).

pub mod files;
pub mod paste_image;
pub mod ws;

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

use super::extract::{OwnedSession, SignedIn};
use super::{api_error, AppState};
use crate::protocol::{EndReason, PROTOCOL_VERSION};
use crate::session::tab::Viewport;
use crate::session::CreateError;

/// The routes of this module and its children.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/sessions", post(create_session))
        .route(
            "/api/sessions/{id}",
            get(session_status).delete(close_session),
        )
        .route("/api/sessions/{id}/ws", get(ws::session_ws))
        .merge(files::routes())
        .merge(paste_image::routes())
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
    crate::http::client_addr::Client(client): crate::http::client_addr::Client,
    headers: HeaderMap,
    SignedIn(user): SignedIn,
    body: Result<Json<CreateSession>, axum::extract::rejection::JsonRejection>,
) -> Response {
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
        // The connection's address and port when the client made it; the
        // address alone when a trusted proxy named it (its port is the proxy's).
        addr: if client == peer.ip() {
            peer.to_string()
        } else {
            client.to_string()
        },
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
        Ok((handle, token)) => {
            if let Some(registry) = state.cluster.as_ref().and_then(|c| c.registry()) {
                registry.session_started(handle.summary()).await;
            }
            (
                StatusCode::CREATED,
                Json(serde_json::json!({
                    "id": handle.id,
                    "token": token,
                    "user": handle.user.name,
                    "ws": format!("/api/sessions/{}/ws", handle.id),
                    "protocol": PROTOCOL_VERSION,
                })),
            )
                .into_response()
        }
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

/// Whether a session can be re-attached: the client asks after a refused upgrade,
/// whose reason a browser cannot see.
async fn session_status(OwnedSession(h): OwnedSession) -> Response {
    Json(serde_json::json!({ "id": h.id, "live": true, "attached": h.is_attached() }))
        .into_response()
}

async fn close_session(State(state): State<AppState>, OwnedSession(h): OwnedSession) -> Response {
    state.sessions.end(&h.id, EndReason::Closed).await;
    StatusCode::NO_CONTENT.into_response()
}
