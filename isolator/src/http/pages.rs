//! The pages and facts any signed-in user may ask for: the viewer (`/`,
//! or a redirect to the login page) and who they are (`/api/me`).

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Json, Router};

use super::extract::{user_of, SignedIn};
use super::{api_error, AppState};
use crate::auth::config::AuthMode;

/// The routes of this module.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(index))
        .route("/api/me", get(me))
}

/// Serves `name` from the web root as HTML.
pub async fn static_file(state: &AppState, name: &str) -> Response {
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

async fn me(State(state): State<AppState>, SignedIn(u): SignedIn) -> Response {
    Json(serde_json::json!({
        "user": u.name,
        "groups": u.groups,
        "admin": u.admin,
        "auth": state.auth.mode().as_str(),
        "can_change_password": state.auth.manages_own_password(&u.name),
    }))
    .into_response()
}
