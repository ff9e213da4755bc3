//! The admin pages: `/admin` and `/admin/` serve `web-client/admin/index.html`
//! to administrators (its scripts and styles come from the static file
//! fallback). Someone not signed in is sent to the login page (static
//! users) or told to sign in; a signed-in non-admin gets 403.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};

use crate::auth::config::AuthMode;
use crate::http::extract::require_admin;
use crate::http::{api_error, AppState};

/// `GET /admin`, `GET /admin/`.
pub async fn index(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    if let Err(refused) = require_admin(&state, &headers, peer) {
        let signed_in = state.auth.identify(&headers, peer).is_some();
        if !signed_in && state.auth.mode() == AuthMode::Static {
            return Redirect::to("/login?next=%2Fadmin").into_response();
        }
        return refused.into_response();
    }
    match tokio::fs::read(state.config.web_root.join("admin/index.html")).await {
        Ok(body) => (
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            body,
        )
            .into_response(),
        Err(_) => api_error(
            StatusCode::NOT_FOUND,
            "not_found",
            "the admin pages are not installed (web_root has no admin/index.html)",
        ),
    }
}
