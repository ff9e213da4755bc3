//! The recordings search page and the replay player (static HTML from the
//! web root; their scripts and styles are files too, the CSP forbids inline
//! code). The pages hold no data: everything comes from the admin-only API.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::http::{api_error, AppState};

async fn page(state: &AppState, name: &str) -> Response {
    let path = state.config.web_root.join("admin").join(name);
    match tokio::fs::read(&path).await {
        Ok(body) => (
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            body,
        )
            .into_response(),
        Err(e) => {
            tracing::error!(path = %path.display(), %e, "admin page missing");
            api_error(StatusCode::NOT_FOUND, "not_found", "page not found")
        }
    }
}

/// `GET /admin/recordings`: search sessions and incidents.
pub(super) async fn recordings(State(state): State<AppState>) -> Response {
    page(&state, "recordings.html").await
}

/// `GET /admin/sessions/{id}`: the player (the id is read by the script from the URL).
pub(super) async fn replay(State(state): State<AppState>) -> Response {
    page(&state, "replay.html").await
}
