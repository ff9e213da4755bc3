//! Registered confidential documents (document fingerprinting, the
//! `fingerprints` profile): `GET /api/v1/fingerprints` lists them,
//! `POST /api/v1/fingerprints` registers the files of a
//! `multipart/form-data` body (one or more `file` parts; `background=true`
//! registers them as boilerplate that never counts as a match), and
//! `DELETE /api/v1/fingerprints/{id}` removes one.
//!
//! Files are read like uploads (the sandboxed extraction worker, any format
//! it reads, within the file budget); only salted, winnowed hashes of their
//! text are kept, never the text or the file. Changes are in force for the
//! next scan.

use std::sync::Arc;

use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use enforcer::fingerprint::Document;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::Admin;
use crate::enforce::fingerprints::ChangeError;
use crate::http::error::{ApiError, ApiResult};
use crate::http::AppState;

/// Largest file registered at once (the upload limit applies too).
pub const MAX_DOCUMENT_BYTES: usize = 64 * 1024 * 1024;

#[derive(Serialize)]
struct DocumentList {
    /// Whether a store is configured (`[enforce] fingerprints`).
    configured: bool,
    documents: Vec<Document>,
}

#[derive(Serialize)]
struct Added {
    documents: Vec<Document>,
}

fn store_error(e: ChangeError) -> ApiError {
    match e {
        ChangeError::NotConfigured => {
            ApiError::new(StatusCode::CONFLICT, "not_configured", e.to_string())
        }
        ChangeError::Unknown(id) => ApiError::not_found(&format!("registered document {id}")),
        ChangeError::Store(e) => ApiError::bad_field("file", e.to_string()),
    }
}

/// `GET /api/v1/fingerprints`.
pub async fn list(_admin: Admin, State(state): State<AppState>) -> ApiResult<Response> {
    let fp = state.enforcer.fingerprints().clone();
    let configured = fp.dir().is_some();
    let documents = tokio::task::spawn_blocking(move || fp.documents())
        .await
        .map_err(|e| ApiError::bad_field("", e.to_string()))?
        .map_err(|e| store_error(e.into()))?;
    Ok(Json(DocumentList {
        configured,
        documents,
    })
    .into_response())
}

/// `POST /api/v1/fingerprints`.
pub async fn add(admin: Admin, State(state): State<AppState>, req: Request) -> ApiResult<Response> {
    if state.enforcer.fingerprints().dir().is_none() {
        return Err(store_error(ChangeError::NotConfigured));
    }
    let mut mp = Multipart::from_request(req, &state)
        .await
        .map_err(|e| ApiError::bad_field("", e.body_text()))?;
    let mut background = false;
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    while let Some((name, file_name, bytes)) = super::body::next_part(&mut mp).await? {
        match name.as_str() {
            "background" => background = matches!(&bytes[..], b"true" | b"on" | b"1"),
            "file" => {
                let Some(file_name) = file_name.filter(|n| !n.trim().is_empty()) else {
                    return Err(ApiError::bad_field("file", "a file part needs a file name"));
                };
                files.push((file_name, bytes.to_vec()));
            }
            other => {
                return Err(ApiError::bad_field(
                    other,
                    format!("unknown field `{other}` (expected file or background)"),
                ))
            }
        }
    }
    if files.is_empty() {
        return Err(ApiError::bad_field(
            "file",
            "give one or more files to register",
        ));
    }
    let mut added = Vec::new();
    for (name, bytes) in files {
        let sha = hex::encode(Sha256::digest(&bytes));
        let text = state
            .enforcer
            .extract_text(&name, Arc::new(bytes))
            .await
            .map_err(|why| ApiError::bad_field("file", format!("{name}: {why}")))?;
        let fp = state.enforcer.fingerprints().clone();
        let doc_name = name.clone();
        let doc = tokio::task::spawn_blocking(move || fp.add(&doc_name, &sha, &text, background))
            .await
            .map_err(|e| ApiError::bad_field("file", e.to_string()))?
            .map_err(store_error)?;
        tracing::info!(admin = %admin.0.name, id = doc.id, name = %doc.name, fingerprints = doc.fingerprints, background, "document registered");
        added.push(doc);
    }
    Ok((StatusCode::CREATED, Json(Added { documents: added })).into_response())
}

/// `DELETE /api/v1/fingerprints/{id}`.
pub async fn remove(
    admin: Admin,
    State(state): State<AppState>,
    Path(id): Path<u32>,
) -> ApiResult<Response> {
    let fp = state.enforcer.fingerprints().clone();
    let doc = tokio::task::spawn_blocking(move || fp.remove(id))
        .await
        .map_err(|e| ApiError::bad_field("", e.to_string()))?
        .map_err(store_error)?;
    tracing::info!(admin = %admin.0.name, id, name = %doc.name, "registered document removed");
    Ok(StatusCode::NO_CONTENT.into_response())
}
