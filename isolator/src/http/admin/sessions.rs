//! Live sessions: `GET /api/v1/sessions` lists them, `DELETE
//! /api/v1/sessions/{id}` ends one (its user sees "An administrator ended
//! this session."). URLs are listed without query, fragment or credentials.
//! In a cluster the list is every node's, from the registry, each session
//! naming its node, and `GET /api/v1/cluster/nodes` lists the nodes.

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
    sessions: Vec<Listed>,
}

#[derive(Serialize)]
struct Listed {
    #[serde(skip_serializing_if = "Option::is_none")]
    node: Option<String>,
    #[serde(flatten)]
    summary: SessionSummary,
}

/// `GET /api/v1/sessions`.
pub async fn list(_admin: Admin, State(state): State<AppState>) -> ApiResult<Response> {
    if let Some(registry) = state.cluster.as_ref().and_then(|c| c.registry()) {
        let rows = registry.sessions().await.map_err(unavailable)?;
        let sessions = rows
            .into_iter()
            .map(|r| Listed {
                node: Some(r.node),
                summary: r.summary,
            })
            .collect();
        return Ok(Json(SessionList { sessions }).into_response());
    }
    let sessions = state
        .sessions
        .list()
        .into_iter()
        .map(|mut s| {
            s.url = redact_url(&s.url);
            Listed {
                node: None,
                summary: s,
            }
        })
        .collect();
    Ok(Json(SessionList { sessions }).into_response())
}

#[derive(Serialize)]
struct NodeList {
    this_node: String,
    nodes: Vec<crate::cluster::NodeRow>,
}

/// `GET /api/v1/cluster/nodes`: the registry's nodes (404 on a single node).
pub async fn nodes(_admin: Admin, State(state): State<AppState>) -> ApiResult<Response> {
    let Some(cluster) = state.cluster.as_ref() else {
        return Err(ApiError::not_found("cluster (this server runs alone)"));
    };
    let Some(registry) = cluster.registry() else {
        return Err(ApiError::not_found("cluster registry"));
    };
    let nodes = registry.nodes().await.map_err(unavailable)?;
    Ok(Json(NodeList {
        this_node: cluster.node_id().to_owned(),
        nodes,
    })
    .into_response())
}

/// The body of a drain request.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DrainBody {
    /// Drain (true) or take sessions again (false).
    pub draining: bool,
}

/// `PUT /api/v1/cluster/nodes/{id}/drain` with `{"draining": true}`: the
/// node takes no new session, its users are told, and its sessions end
/// after `cluster.drain_grace_secs`; `false` undoes it.
pub async fn drain(
    admin: Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Result<Json<DrainBody>, axum::extract::rejection::JsonRejection>,
) -> ApiResult<Response> {
    let Json(body) = body.map_err(|e| ApiError::bad_field("draining", e.body_text()))?;
    let Some(registry) = state.cluster.as_ref().and_then(|c| c.registry()) else {
        return Err(ApiError::not_found("cluster (this server runs alone)"));
    };
    if !registry
        .request_drain(&id, body.draining)
        .await
        .map_err(unavailable)?
    {
        return Err(ApiError::not_found(&format!("node `{id}`")));
    }
    tracing::warn!(admin = %admin.0.name, node = %id, draining = body.draining, "node drain changed by an admin");
    Ok(Json(serde_json::json!({ "node": id, "draining": body.draining })).into_response())
}

fn unavailable(e: crate::cluster::DbError) -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "unavailable",
        e.to_string(),
    )
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
