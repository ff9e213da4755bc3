//! Versions of the policy: `GET /api/v1/history` (newest first), `GET
//! /api/v1/history/{version}` (that version's document, JSON or TOML) and
//! `POST /api/v1/history/{version}/rollback`, which makes it current again
//! as a new version (based on the version in `If-Match` or the body).

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Serialize;

use super::body::{expected_version, json_object};
use super::documents::{toml_response, wants_toml, written, FormatQuery};
use super::{with_version, Admin};
use crate::http::error::{ApiError, ApiResult};
use crate::http::AppState;

#[derive(Serialize)]
struct HistoryView {
    current_version: policies::Version,
    versions: Vec<policies::VersionInfo>,
}

/// `GET /api/v1/history`.
pub async fn list(_admin: Admin, State(state): State<AppState>) -> Response {
    let current_version = state.policies.version();
    let mut versions = state.policies.history();
    versions.reverse();
    with_version(
        current_version,
        HistoryView {
            current_version,
            versions,
        },
    )
}

#[derive(Serialize)]
struct VersionView {
    info: policies::VersionInfo,
    document: policies::PolicyDocument,
}

/// `GET /api/v1/history/{version}`.
pub async fn get_version(
    _admin: Admin,
    State(state): State<AppState>,
    Path(version): Path<policies::Version>,
    Query(q): Query<FormatQuery>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let document = state.policies.document_at(version)?;
    if wants_toml(&q, &headers) {
        return Ok(toml_response(version, &document));
    }
    let info = state
        .policies
        .history()
        .into_iter()
        .find(|i| i.version == version)
        .ok_or_else(|| ApiError::not_found(&format!("policy version {version}")))?;
    Ok(with_version(version, VersionView { info, document }))
}

/// `POST /api/v1/history/{version}/rollback`.
pub async fn rollback(
    admin: Admin,
    State(state): State<AppState>,
    Path(to): Path<policies::Version>,
    headers: HeaderMap,
    bytes: Bytes,
) -> ApiResult<Response> {
    let body_version = if bytes.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        json_object(&bytes)?.1
    };
    let expected = expected_version(&headers, body_version)?;
    let version = state
        .policy_writer
        .rollback(to, &admin.0.name, Some(expected))
        .await?;
    Ok(written(&state, version))
}
