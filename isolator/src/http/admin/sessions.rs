//! Live sessions: `GET /api/v1/sessions` lists them, `DELETE
//! /api/v1/sessions/{id}` ends one (its user sees "An administrator ended
//! this session."). URLs are listed without query, fragment or credentials.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

use super::Admin;
use crate::enforce::redact_url;
use crate::http::error::{ApiError, ApiResult};
use crate::http::AppState;
use crate::protocol::EndReason;
use crate::session::SessionSummary;

#[derive(Serialize)]
struct SessionList {
    sessions: Vec<SessionSummary>,
}

/// `GET /api/v1/sessions`.
pub async fn list(_admin: Admin, State(state): State<AppState>) -> Response {
    let sessions = state
        .sessions
        .list()
        .into_iter()
        .map(|mut s| {
            s.url = redact_url(&s.url);
            s
        })
        .collect();
    Json(SessionList { sessions }).into_response()
}

/// `DELETE /api/v1/sessions/{id}`.
pub async fn terminate(
    admin: Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    if state.sessions.end(&id, EndReason::Terminated).await {
        tracing::info!(admin = %admin.0.name, session = %id, "session terminated by an admin");
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(ApiError::not_found(&format!("live session `{id}`")))
    }
}
