//! Request bodies of the policy endpoints, the version every write is based
//! on, and the one read-modify-write path all edits take ([`edit`]).
//!
//! JSON bodies are the object itself (an app, a rule, a whole document) with
//! an optional extra top-level `version`; the same version may instead come
//! as `If-Match: "<version>"` (the `ETag` of the read). A write without a
//! version is refused (428): an edit must say what it was based on.

use std::path::Path;

use axum::body::Bytes;
use axum::http::{header, HeaderMap, StatusCode};
use policies::{PolicyDocument, Version};
use serde::de::DeserializeOwned;

use super::Admin;
use crate::http::error::{ApiError, ApiResult, ProblemBody};
use crate::http::AppState;

/// Name used for a TOML request body in problem locations.
pub const TOML_BODY: &str = "request body";

/// The `If-Match` version: `"3"`, `W/"3"` or `3`.
fn if_match(headers: &HeaderMap) -> ApiResult<Option<Version>> {
    let Some(v) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    let text = v.to_str().unwrap_or("").trim();
    let text = text.strip_prefix("W/").unwrap_or(text).trim_matches('"');
    text.parse().map(Some).map_err(|_| {
        ApiError::bad_field(
            "If-Match",
            format!("`{text}` is not a policy version (send the ETag you read, e.g. \"3\")"),
        )
    })
}

/// The version a write was based on, from `If-Match` or the body's `version`.
pub fn expected_version(headers: &HeaderMap, body: Option<Version>) -> ApiResult<Version> {
    match (if_match(headers)?, body) {
        (Some(h), Some(b)) if h != b => Err(ApiError::bad_field(
            "version",
            format!("If-Match says version {h} but the body says {b}"),
        )),
        (Some(v), _) | (None, Some(v)) => Ok(v),
        (None, None) => {
            let mut e = ApiError::new(
                StatusCode::PRECONDITION_REQUIRED,
                "version_required",
                "say which policy version this edit is based on: If-Match: \"<version>\" or a `version` field",
            );
            e.field = Some("version".to_owned());
            Err(e)
        }
    }
}

/// Splits a JSON object body into its optional `version` and the rest.
pub fn json_object(bytes: &[u8]) -> ApiResult<(serde_json::Value, Option<Version>)> {
    let value: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| ApiError::bad_field("", format!("the body is not JSON: {e}")))?;
    let serde_json::Value::Object(mut map) = value else {
        return Err(ApiError::bad_field("", "the body must be a JSON object"));
    };
    let version = match map.remove("version") {
        None | Some(serde_json::Value::Null) => None,
        Some(v) => Some(v.as_u64().ok_or_else(|| {
            ApiError::bad_field("version", "`version` must be a positive integer")
        })?),
    };
    Ok((serde_json::Value::Object(map), version))
}

/// Deserialises `value` as a `T` whose place in the document is `field`
/// (e.g. `rules[2]`), so a type error names it.
pub fn from_value<T: DeserializeOwned>(value: serde_json::Value, field: &str) -> ApiResult<T> {
    serde_json::from_value(value).map_err(|e| {
        ApiError::invalid(vec![ProblemBody {
            field: field.to_owned(),
            message: e.to_string(),
            line: None,
            column: None,
        }])
    })
}

/// A whole document as sent: JSON (`application/json`) or TOML (anything else
/// textual, e.g. `application/toml`), with its optional body version. For TOML
/// the source is kept, to place problems at line and column.
pub struct DocumentBody {
    /// The parsed document.
    pub document: PolicyDocument,
    /// The TOML text, when the body was TOML.
    pub toml: Option<String>,
    /// The `version` field of a JSON body.
    pub version: Option<Version>,
}

impl DocumentBody {
    /// Parses a request body by its `Content-Type`.
    pub fn parse(headers: &HeaderMap, bytes: &Bytes) -> ApiResult<DocumentBody> {
        let ctype = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        if ctype.starts_with("application/json") {
            let (value, version) = json_object(bytes)?;
            let document = from_value(value, "")?;
            return Ok(DocumentBody {
                document,
                toml: None,
                version,
            });
        }
        let src = std::str::from_utf8(bytes)
            .map_err(|_| ApiError::bad_field("", "the TOML body is not UTF-8"))?
            .to_owned();
        let document = policies::parse_document(&src, Path::new(TOML_BODY))?;
        Ok(DocumentBody {
            document,
            toml: Some(src),
            version: None,
        })
    }

    /// Places the problems of `err` in the TOML source, when there is one.
    pub fn locate(&self, err: policies::Error) -> ApiError {
        match &self.toml {
            Some(src) => policies::load::locate(err, src, Path::new(TOML_BODY)).into(),
            None => err.into(),
        }
    }
}

/// Applies `doc` as a new version based on `expected`, compiling it off the
/// async threads. Refused (nothing changes) if it is invalid or stale.
pub async fn apply(
    state: &AppState,
    admin: &Admin,
    doc: PolicyDocument,
    expected: Version,
) -> Result<Version, policies::Error> {
    state
        .policy_writer
        .replace(doc, &admin.0.name, Some(expected))
        .await
}

/// The read-modify-write of every item edit: `change` edits a copy of the
/// document in force (which must be version `expected`), then the copy is
/// applied. Returns the new version and what `change` returned.
pub async fn edit<R>(
    state: &AppState,
    admin: &Admin,
    expected: Version,
    change: impl FnOnce(&mut PolicyDocument) -> ApiResult<R>,
) -> ApiResult<(Version, R)> {
    let snapshot = state.policies.snapshot();
    if snapshot.version != expected {
        return Err(ApiError::conflict(expected, snapshot.version));
    }
    let mut doc = snapshot.policy.document().clone();
    let out = change(&mut doc)?;
    let version = apply(state, admin, doc, expected).await?;
    Ok((version, out))
}

/// One part of a `multipart/form-data` body: its field name, its file
/// name when it is a file, and its bytes; `None` after the last. Errors
/// name the field.
pub async fn next_part(
    mp: &mut axum::extract::Multipart,
) -> ApiResult<Option<(String, Option<String>, Bytes)>> {
    let field = match mp.next_field().await {
        Ok(Some(f)) => f,
        Ok(None) => return Ok(None),
        Err(e) => return Err(ApiError::bad_field("", e.body_text())),
    };
    let name = field.name().unwrap_or("").to_owned();
    let file_name = field.file_name().map(str::to_owned);
    let bytes = field
        .bytes()
        .await
        .map_err(|e| ApiError::bad_field(&name, e.body_text()))?;
    Ok(Some((name, file_name, bytes)))
}
