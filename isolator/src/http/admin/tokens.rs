//! Admin API tokens: `GET/POST /api/v1/tokens`, `DELETE
//! /api/v1/tokens/{name}`.
//!
//! In a cluster an admin makes a named token here: the answer shows the
//! token once (`Cache-Control: no-store`), the database keeps only its
//! SHA-256, and its API client is `api-token:<name>` in the policy history
//! and logs. It may expire after a number of days; removing it stops it
//! on every node within a second. Tokens of the config file (`[admin]
//! api_tokens`) are listed by the first 8 hex digits of their hash,
//! read-only. On a single server every write is a 409 `config_managed`.

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;

use super::users::{managed, refresh, store, unavailable};
use super::Admin;
use crate::cluster::directory::TokenRow;
use crate::http::error::{ApiError, ApiResult};
use crate::http::AppState;

/// The longest lifetime a token may be given, in days.
pub const MAX_DAYS: i32 = 3650;

/// `GET /api/v1/tokens`: the config file's tokens, then the database's.
/// Neither a token nor its hash is ever listed.
pub async fn list(_admin: Admin, State(state): State<AppState>) -> ApiResult<Response> {
    let mut tokens: Vec<serde_json::Value> = state
        .config
        .admin
        .api_tokens
        .iter()
        .map(|h| {
            let id: String = h
                .strip_prefix("sha256:")
                .unwrap_or(h)
                .chars()
                .take(8)
                .collect();
            serde_json::json!({ "name": id.to_ascii_lowercase(), "source": "config" })
        })
        .collect();
    if let Some(c) = &state.cluster {
        let rows = c.directory().tokens().await.map_err(unavailable)?;
        tokens.extend(rows.iter().map(database_token));
    }
    Ok(Json(serde_json::json!({ "managed": managed(&state), "tokens": tokens })).into_response())
}

fn database_token(row: &TokenRow) -> serde_json::Value {
    let mut v = serde_json::to_value(row).unwrap_or_default();
    v["source"] = "database".into();
    v
}

/// The body of `POST /api/v1/tokens`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateBody {
    name: String,
    /// Days until it stops working; none: until removed.
    expires_in_days: Option<i32>,
}

/// `POST /api/v1/tokens`: a new token, shown once (201).
pub async fn create(
    admin: Admin,
    State(state): State<AppState>,
    body: Result<Json<CreateBody>, JsonRejection>,
) -> ApiResult<Response> {
    let store = store(&state)?;
    let Json(body) = body.map_err(|e| ApiError::bad_field("body", e.body_text()))?;
    check_name(&body.name)?;
    if let Some(days) = body.expires_in_days {
        if !(1..=MAX_DAYS).contains(&days) {
            return Err(ApiError::bad_field(
                "expires_in_days",
                format!(
                    "from 1 to {MAX_DAYS} days, or leave it out for a token that does not expire"
                ),
            ));
        }
    }
    let token = crate::auth::random_token();
    let row = store
        .create_token(
            &body.name,
            &crate::auth::token_key(&token),
            body.expires_in_days,
            &admin.0.name,
        )
        .await
        .map_err(unavailable)?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::CONFLICT,
                "exists",
                format!("a token named `{}` already exists", body.name),
            )
        })?;
    refresh(&state, store).await;
    tracing::info!(admin = %admin.0.name, token = %body.name, expires_at = ?row.expires_at, "API token made by an admin");
    let mut res = (
        StatusCode::CREATED,
        Json({
            let mut v = database_token(&row);
            v["token"] = token.into();
            v["note"] =
                "This is the only time the token is shown: the server keeps only its hash.".into();
            v
        }),
    )
        .into_response();
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

/// `DELETE /api/v1/tokens/{name}`: the token stops working everywhere.
pub async fn delete(
    admin: Admin,
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> ApiResult<Response> {
    let store = store(&state)?;
    if !store.delete_token(&name).await.map_err(unavailable)? {
        return Err(ApiError::not_found(&format!("token `{name}`")));
    }
    refresh(&state, store).await;
    tracing::info!(admin = %admin.0.name, token = %name, "API token removed by an admin");
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// A token name: 1 to 64 lowercase letters, digits, `.`, `_` or `-`,
/// starting with a letter or digit, and not 8 hex digits alone (the way
/// config tokens are named).
pub fn check_name(name: &str) -> Result<(), ApiError> {
    let ok = (1..=64).contains(&name.len())
        && name
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && name.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
        });
    if !ok {
        return Err(ApiError::bad_field(
            "name",
            "a token name is 1 to 64 lowercase letters, digits, '.', '_' or '-', starting with a letter or digit",
        ));
    }
    if name.len() == 8 && name.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ApiError::bad_field(
            "name",
            "8 hex digits name a token of the config file; choose another name",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_names_are_checked() {
        for good in ["ci", "grafana-reader", "deploy.v2", "a_b"] {
            assert!(check_name(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "CI",
            "-x",
            "has space",
            "deadbeef",
            &"a".repeat(65),
            "é",
        ] {
            let e = check_name(bad).unwrap_err();
            assert_eq!(e.field.as_deref(), Some("name"), "{bad:?}");
        }
    }
}
