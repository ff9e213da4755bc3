//! The whole policy document: read (JSON or TOML), replace, validate a draft.

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::body::{apply, expected_version, DocumentBody};
use super::{with_version, Admin};
use crate::http::error::ApiResult;
use crate::http::AppState;

/// `?format=toml|json` of reads.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FormatQuery {
    /// `json` (default) or `toml`.
    #[serde(default)]
    pub format: Option<String>,
}

/// Whether the client asked for TOML (`?format=toml` or `Accept: application/toml`).
pub fn wants_toml(q: &FormatQuery, headers: &HeaderMap) -> bool {
    match q.format.as_deref() {
        Some(f) => f.eq_ignore_ascii_case("toml"),
        None => headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("toml")),
    }
}

/// A TOML answer with `ETag: "<version>"`.
pub fn toml_response(version: policies::Version, doc: &policies::PolicyDocument) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                "application/toml; charset=utf-8".to_owned(),
            ),
            (header::ETAG, format!("\"{version}\"")),
        ],
        policies::to_toml(doc),
    )
        .into_response()
}

/// `{version, document}`.
#[derive(Serialize)]
struct DocumentView<'a> {
    version: policies::Version,
    document: &'a policies::PolicyDocument,
}

/// `GET /api/v1/document`.
pub async fn get_document(
    _admin: Admin,
    State(state): State<AppState>,
    Query(q): Query<FormatQuery>,
    headers: HeaderMap,
) -> Response {
    let snap = state.policies.snapshot();
    let doc = snap.policy.document();
    if wants_toml(&q, &headers) {
        return toml_response(snap.version, doc);
    }
    with_version(
        snap.version,
        DocumentView {
            version: snap.version,
            document: doc,
        },
    )
}

/// `{version, summary}` after a write.
#[derive(Serialize)]
pub struct Written {
    /// The version now in force.
    pub version: policies::Version,
    /// What changed, one line per item.
    pub summary: Vec<String>,
}

/// What the store recorded for `version`.
pub fn written(state: &AppState, version: policies::Version) -> Response {
    let summary = state
        .policies
        .history()
        .into_iter()
        .find(|i| i.version == version)
        .map(|i| i.summary)
        .unwrap_or_default();
    with_version(version, Written { version, summary })
}

/// `PUT /api/v1/document`: replaces the whole document (JSON or TOML).
pub async fn put_document(
    admin: Admin,
    State(state): State<AppState>,
    headers: HeaderMap,
    bytes: Bytes,
) -> ApiResult<Response> {
    let body = DocumentBody::parse(&headers, &bytes)?;
    let expected = expected_version(&headers, body.version)?;
    let version = apply(&state, &admin, body.document.clone(), expected)
        .await
        .map_err(|e| body.locate(e))?;
    Ok(written(&state, version))
}

/// The answer of a successful validation.
#[derive(Serialize)]
struct Valid {
    valid: bool,
    /// The version the draft was compared with.
    based_on: policies::Version,
    /// What applying it would change.
    summary: Vec<String>,
    rules: usize,
}

/// `POST /api/v1/document/validate`: compiles a draft without applying it.
pub async fn validate_document(
    _admin: Admin,
    State(state): State<AppState>,
    headers: HeaderMap,
    bytes: Bytes,
) -> ApiResult<Response> {
    let body = DocumentBody::parse(&headers, &bytes)?;
    let snap = state.policies.snapshot();
    let store = state.policies.clone();
    let draft = body.document.clone();
    let compiled = tokio::task::spawn_blocking(move || store.validate(draft))
        .await
        .map_err(|e| {
            crate::http::error::ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                format!("validation failed: {e}"),
            )
        })?
        .map_err(|e| body.locate(e))?;
    Ok(axum::Json(Valid {
        valid: true,
        based_on: snap.version,
        summary: policies::diff::summarize(snap.policy.document(), compiled.document()),
        rules: compiled.rule_count(),
    })
    .into_response())
}
