//! Search: sessions and incidents from the index, recording health, the
//! access log. Each result carries its `replay` link.

use std::net::SocketAddr;

use axum::extract::rejection::QueryRejection;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::{admin_store, audit_error, blocking, replay_link};
use crate::audit::{IncidentQuery, SessionQuery, SessionRow, Store};
use crate::http::extract::require_admin;
use crate::http::{ApiError, AppState};

fn bad_query(e: QueryRejection) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "bad_query", e.body_text())
}

/// A session row as the API shows it: no server path, a replay link.
pub(super) fn session_json(row: &SessionRow) -> Value {
    json!({
        "id": row.id,
        "user": row.user,
        "groups": row.groups,
        "client_addr": row.client_addr,
        "app": row.app,
        "start_ms": row.start_ms,
        "end_ms": row.end_ms,
        "end_reason": row.end_reason,
        "bytes": row.bytes,
        "records": row.records,
        "head": row.head,
        "replay": replay_link(&row.id, 0),
    })
}

/// `GET /api/v1/audit/health`.
pub(super) async fn health(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = require_admin(&state, &headers, peer) {
        return r.into_response();
    }
    Json(state.audit.health()).into_response()
}

/// The shape both searches share: admins only, a valid query, the index
/// read off the async threads, the rows as JSON under `key`.
async fn search<Q: Send + 'static>(
    state: &AppState,
    headers: &HeaderMap,
    peer: SocketAddr,
    query: Result<Query<Q>, QueryRejection>,
    key: &'static str,
    rows: impl FnOnce(&Store, Q) -> crate::audit::Result<Vec<Value>> + Send + 'static,
) -> Response {
    let (_, store) = match admin_store(state, headers, peer) {
        Ok(x) => x,
        Err(r) => return r.into_response(),
    };
    let Query(q) = match query {
        Ok(q) => q,
        Err(e) => return bad_query(e).into_response(),
    };
    match blocking(move || rows(&store, q).map_err(audit_error)).await {
        Ok(rows) => Json(json!({ key: rows })).into_response(),
        Err(r) => r.into_response(),
    }
}

/// `GET /api/v1/audit/sessions`.
pub(super) async fn sessions(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    query: Result<Query<SessionQuery>, QueryRejection>,
) -> Response {
    search(&state, &headers, peer, query, "sessions", |store, q| {
        let rows = store.index().sessions(&q)?;
        Ok(rows.iter().map(session_json).collect())
    })
    .await
}

/// `GET /api/v1/audit/incidents`.
pub(super) async fn incidents(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    query: Result<Query<IncidentQuery>, QueryRejection>,
) -> Response {
    search(&state, &headers, peer, query, "incidents", |store, q| {
        let rows = store.index().incidents(&q)?;
        Ok(rows
            .iter()
            .map(|i| {
                let mut v = serde_json::to_value(i).unwrap_or(Value::Null);
                v["replay"] = Value::String(replay_link(&i.session, i.ts_ms));
                v
            })
            .collect())
    })
    .await
}

/// `GET /api/v1/audit/access`: who viewed which recording, verified.
pub(super) async fn access(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = admin_store(&state, &headers, peer) {
        return r.into_response();
    }
    let audit = state.audit.clone();
    let entries = blocking(move || {
        let log = audit.access_log().expect("store implies a log");
        log.entries().map_err(audit_error)
    })
    .await;
    match entries {
        Ok(e) => Json(json!({ "entries": e })).into_response(),
        Err(r) => r.into_response(),
    }
}
