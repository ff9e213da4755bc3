//! The audit API and pages: search recordings and incidents, replay them,
//! export them. Admins and auditors only ([`require_admin`]).
//!
//! ```text
//! GET /api/v1/audit/health                      recording state (failures, drops, retention)
//! GET /api/v1/audit/sessions?user&app&from_ms&to_ms&limit&scope
//! GET /api/v1/audit/incidents?detector&gate&decision&user&app&session&from_ms&to_ms&limit&scope
//! GET /api/v1/audit/sessions/{id}               details, verification, event list    (logged: view)
//! GET /api/v1/audit/sessions/{id}/chunk?from_ms&len_ms   frame on screen + records  (logged: replay)
//! GET /api/v1/audit/sessions/{id}/export        the bundle (tar)                     (logged: export)
//! GET /api/v1/audit/access                      the access log, verified
//! GET /admin/recordings, /admin/sessions/{id}   the search page and the player
//! ```
//!
//! Search results link to the moment in the player (`/admin/sessions/<id>?t=<ms>`).
//!
//! In a cluster the searches read the shared index (every node's
//! recordings, each row naming its `node`; `scope=node` for this node's
//! own), and fall back to this node's index with a `warning` when the
//! database does not answer; the answer's `scope` says which was read. A
//! recording of another node is replayed and exported from the bucket.
//! Every view of a recording is appended to the hash-chained access log
//! ([`crate::audit::AccessLog`]) before any of it is sent.

mod pages;
mod replay;
mod search;

use std::net::SocketAddr;

use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use axum::Router;

use crate::audit::{AuditService, Store};
use crate::auth::User;
use crate::http::extract::require_admin;
use crate::http::{ApiError, AppState};

/// The routes of this module, merged into the server's router.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/audit/health", get(search::health))
        .route("/api/v1/audit/sessions", get(search::sessions))
        .route("/api/v1/audit/incidents", get(search::incidents))
        .route("/api/v1/audit/access", get(search::access))
        .route("/api/v1/audit/sessions/{id}", get(replay::session))
        .route("/api/v1/audit/sessions/{id}/chunk", get(replay::chunk))
        .route("/api/v1/audit/sessions/{id}/export", get(replay::export))
        .route("/admin/recordings", get(pages::recordings))
        .route("/admin/sessions/{id}", get(pages::replay))
}

/// The player link for a moment of a session.
pub fn replay_link(session: &str, t_ms: u64) -> String {
    format!("/admin/sessions/{session}?t={t_ms}")
}

/// The admin making the request and the store, or the error to answer with.
fn admin_store(
    state: &AppState,
    headers: &HeaderMap,
    peer: SocketAddr,
) -> Result<(User, std::sync::Arc<Store>), ApiError> {
    let user = require_admin(state, headers, peer)?;
    match state.audit.store() {
        Some(store) => Ok((user, store.clone())),
        None => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "audit_disabled",
            "sessions are not recorded on this server (audit.enabled = false)",
        )),
    }
}

/// Appends a view to the access log; a view that cannot be logged is refused.
fn log_view(
    audit: &AuditService,
    user: &User,
    peer: SocketAddr,
    session: &str,
    what: &str,
) -> Result<(), ApiError> {
    let Some(log) = audit.access_log() else {
        return Ok(());
    };
    match log.record(
        &user.name,
        &peer.ip().to_string(),
        session,
        what,
        crate::audit::recorder::now_wall_ms(),
    ) {
        Ok(_) => Ok(()),
        Err(err) => {
            tracing::error!(%err, session, "access log write failed; view refused");
            Err(ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "access_log",
                format!("the access log cannot be written ({err}); recordings cannot be viewed"),
            ))
        }
    }
}

/// Maps an audit error to a JSON error response.
fn audit_error(err: crate::audit::Error) -> ApiError {
    match err {
        crate::audit::Error::NotFound(id) => ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no recording of session {id:?}"),
        ),
        crate::audit::Error::Invalid(msg) => {
            ApiError::new(StatusCode::BAD_REQUEST, "bad_request", &msg)
        }
        // The recording is in the bucket and the bucket does not answer: not our fault.
        crate::audit::Error::Bucket(msg) => {
            tracing::warn!(err = %msg, "audit API: object storage");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "object_storage",
                format!("object storage: {msg}"),
            )
        }
        other => {
            tracing::error!(err = %other, "audit API");
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "audit",
                other.to_string(),
            )
        }
    }
}

/// Runs blocking index or file work off the async threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f).await.unwrap_or_else(|e| {
        Err(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            format!("audit task failed: {e}"),
        ))
    })
}
