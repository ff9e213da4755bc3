//! Search: sessions and incidents from the index, recording health, the
//! access log. Each result carries its `replay` link.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures::future::BoxFuture;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{admin_store, audit_error, blocking, replay_link};
use crate::audit::{Incident, IncidentQuery, SessionQuery, SessionRow, Store};
use crate::cluster::{Cluster, DbError};
use crate::http::extract::require_admin;
use crate::http::{ApiError, AppState};

fn bad_query(e: QueryRejection) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "bad_query", e.body_text())
}

/// A session row as the API shows it: no server path, a replay link, and
/// in a cluster the node that recorded it.
pub(super) fn session_json(row: &SessionRow, node: Option<&str>) -> Value {
    let mut v = json!({
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
    });
    if let Some(node) = node {
        v["node"] = json!(node);
    }
    v
}

/// An incident as the API shows it: with its replay link, and in a cluster
/// the node that recorded it.
fn incident_json(i: &Incident, node: Option<&str>) -> Value {
    let mut v = serde_json::to_value(i).unwrap_or(Value::Null);
    v["replay"] = Value::String(replay_link(&i.session, i.ts_ms));
    if let Some(node) = node {
        v["node"] = json!(node);
    }
    v
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

/// Which index a search reads: in a cluster the shared one (every node's
/// recordings) unless `scope=node`; alone, this node's.
#[derive(Debug, Default, Deserialize)]
pub(super) struct Scope {
    scope: Option<String>,
}

/// A search of the shared index: the rows as JSON.
type SharedSearch<Q> = fn(Arc<Cluster>, Q) -> BoxFuture<'static, Result<Vec<Value>, DbError>>;

/// The shape both searches share: admins only, a valid query, the shared
/// index in a cluster (this node's own index when the database does not
/// answer, saying so), else the local index read off the async threads;
/// the rows as JSON under `key`, with the scope they cover.
async fn search<Q: Clone + Send + 'static>(
    state: &AppState,
    (headers, peer): (&HeaderMap, SocketAddr),
    (query, scope): (
        Result<Query<Q>, QueryRejection>,
        Result<Query<Scope>, QueryRejection>,
    ),
    key: &'static str,
    shared: SharedSearch<Q>,
    local: impl FnOnce(&Store, Q, Option<&str>) -> crate::audit::Result<Vec<Value>> + Send + 'static,
) -> Response {
    let (_, store) = match admin_store(state, headers, peer) {
        Ok(x) => x,
        Err(r) => return r.into_response(),
    };
    let (Query(q), Query(scope)) = match (query, scope) {
        (Ok(q), Ok(s)) => (q, s),
        (Err(e), _) | (_, Err(e)) => return bad_query(e).into_response(),
    };
    let cluster = match scope.scope.as_deref() {
        None | Some("cluster") => state.cluster.clone(),
        Some("node") => None,
        Some(other) => {
            return ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad_query",
                format!("scope must be `cluster` or `node`, not {other:?}"),
            )
            .into_response()
        }
    };
    let node = state.cluster.as_ref().map(|c| c.node_id().to_owned());
    let mut warning = None;
    if let Some(cluster) = cluster {
        match shared(cluster, q.clone()).await {
            Ok(rows) => return Json(json!({ key: rows, "scope": "cluster" })).into_response(),
            Err(e) => {
                tracing::warn!(error = %e, "audit search: the shared index does not answer; this node's own");
                warning = Some(format!(
                    "{e}: these are only the recordings of this node ({})",
                    node.as_deref().unwrap_or_default()
                ));
            }
        }
    }
    match blocking(move || local(&store, q, node.as_deref()).map_err(audit_error)).await {
        Ok(rows) => {
            let mut body = json!({ key: rows, "scope": "node" });
            if let Some(w) = warning {
                body["warning"] = json!(w);
            }
            Json(body).into_response()
        }
        Err(r) => r.into_response(),
    }
}

/// `GET /api/v1/audit/sessions`.
pub(super) async fn sessions(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    query: Result<Query<SessionQuery>, QueryRejection>,
    scope: Result<Query<Scope>, QueryRejection>,
) -> Response {
    search(
        &state,
        (&headers, peer),
        (query, scope),
        "sessions",
        |cluster, q| {
            Box::pin(async move {
                let rows = crate::cluster::audit::sessions(cluster.db(), &q).await?;
                Ok(rows
                    .iter()
                    .map(|s| session_json(&s.row, Some(&s.node)))
                    .collect())
            })
        },
        |store, q, node| {
            let rows = store.index().sessions(&q)?;
            Ok(rows.iter().map(|r| session_json(r, node)).collect())
        },
    )
    .await
}

/// `GET /api/v1/audit/incidents`.
pub(super) async fn incidents(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    query: Result<Query<IncidentQuery>, QueryRejection>,
    scope: Result<Query<Scope>, QueryRejection>,
) -> Response {
    search(
        &state,
        (&headers, peer),
        (query, scope),
        "incidents",
        |cluster, q| {
            Box::pin(async move {
                let rows = crate::cluster::audit::incidents(cluster.db(), &q).await?;
                Ok(rows
                    .iter()
                    .map(|i| incident_json(&i.row, Some(&i.node)))
                    .collect())
            })
        },
        |store, q, node| {
            let rows = store.index().incidents(&q)?;
            Ok(rows.iter().map(|i| incident_json(i, node)).collect())
        },
    )
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
