//! The admin REST API under `/api/v1`, its OpenAPI document, and the admin
//! pages at `/admin`.
//!
//! Every endpoint starts with the [`Admin`] extractor
//! ([`crate::http::extract::require_admin`]: an admin signed in with a cookie, or an
//! API client with `Authorization: Bearer <token>` listed in `[admin]
//! api_tokens` or made through `/api/v1/tokens`). The policy endpoints edit the document held by
//! [`policies::PolicyStore`]: a write reads the document in force, changes it,
//! and hands the whole new document to the store, which compiles it (a broken
//! document changes nothing), checks that the version the admin based the
//! edit on is still the one in force (`If-Match` or a `version` field: a
//! stale write is a 409, never a lost change), records the version and
//! writes the policy file back. The file watcher then sees its own content
//! and does not reload it.
//!
//! Modules: [`routes`] (the route table, also used to check the OpenAPI
//! document), [`errors`], [`body`] (request bodies and versions),
//! [`documents`], [`items`] (CRUD shared by [`apps`], [`rules`],
//! [`profiles`] and [`detectors`]), [`test_bench`], [`fingerprints`]
//! (registered confidential documents), [`sessions`], [`users`] and
//! [`tokens`] (managed in a cluster's database),
//! [`history`], [`openapi`], [`pages`].

pub mod apps;
pub mod body;
pub mod config;
pub mod detectors;
pub mod documents;
pub mod fingerprints;
pub mod history;
pub mod items;
pub mod openapi;
pub mod pages;
pub mod profiles;
pub mod routes;
pub mod rules;
pub mod sessions;
pub mod test_bench;
pub mod tokens;
pub mod users;

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

pub use crate::http::extract::Admin;
pub use routes::{endpoints, routes};

/// A JSON answer with `ETag: "<version>"`.
pub fn with_version<T: Serialize>(version: policies::Version, body: T) -> Response {
    let mut res = Json(body).into_response();
    if let Ok(etag) = HeaderValue::from_str(&format!("\"{version}\"")) {
        res.headers_mut().insert(header::ETAG, etag);
    }
    res
}
