//! A user's own account: `GET /account` (the page) and `POST
//! /api/me/password`, where a password user an admin added (a cluster's
//! database) changes their own password.
//!
//! The current password is checked as a login checks it (the same
//! throttle per user and address, so a stolen cookie cannot be used to
//! guess it quickly); the new one follows the rules admins get
//! ([`crate::http::admin::users`]). The change ends every login of the user
//! on every node, as an admin's change does, and the browser that made it
//! gets a new login cookie, so it stays signed in. Users of the config file
//! change their password there (409 `config_user`).

use axum::extract::rejection::JsonRejection;
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

use super::client_addr::Client;
use super::error::{ApiError, ApiResult};
use super::extract::SignedIn;
use super::AppState;
use crate::auth::config::AuthMode;
use crate::auth::LoginError;
use crate::cluster::directory::UserChange;

/// The account routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/account", get(page))
        .route("/api/me/password", post(change_password))
}

async fn page(State(state): State<AppState>) -> Response {
    if state.auth.mode() != AuthMode::Static {
        return Redirect::to("/").into_response();
    }
    super::pages::static_file(&state, "account.html").await
}

/// The body of `POST /api/me/password`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordBody {
    current: String,
    new: String,
}

async fn change_password(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Client(peer): Client,
    body: Result<Json<PasswordBody>, JsonRejection>,
) -> ApiResult<Response> {
    let Json(body) = body.map_err(|e| ApiError::bad_field("body", e.body_text()))?;
    if !state.auth.manages_own_password(&user.name) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "config_user",
            "your password is set in the server's configuration; ask an administrator to change it",
        ));
    }
    let store = super::admin::users::store(&state)?;
    super::admin::users::check_password(&body.new, &user.name)
        .map_err(|e| ApiError::bad_field("new", e.message))?;
    if body.new == body.current {
        return Err(ApiError::bad_field(
            "new",
            "the new password is the current one",
        ));
    }
    let auth = state.auth.clone();
    let (name, current) = (user.name.clone(), body.current);
    let checked =
        tokio::task::spawn_blocking(move || auth.check_password(&name, &current, peer)).await;
    match checked {
        Ok(Ok(_)) => {}
        Ok(Err(LoginError::Throttled(secs))) => {
            let mut e = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "throttled",
                format!("too many wrong passwords; try again in {secs} seconds"),
            )
            .into_response();
            e.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
            return Ok(e);
        }
        Ok(Err(_)) | Err(_) => {
            return Err(ApiError::bad_field(
                "current",
                "the current password is wrong",
            ))
        }
    }
    let password_hash = super::admin::users::hash(body.new).await?;
    let change = UserChange {
        password_hash: Some(password_hash),
        ..UserChange::default()
    };
    if !store
        .update_user(&user.name, &change)
        .await
        .map_err(super::admin::users::unavailable)?
    {
        return Err(super::extract::unauthenticated());
    }
    super::admin::users::refresh(&state, store).await;
    tracing::info!(user = %user.name, %peer, "password changed by its user; their other logins ended");
    // This browser stays signed in, with a new login.
    let token = state.auth.issue_login(user);
    super::login::share_login(&state, &token).await;
    let mut res = StatusCode::NO_CONTENT.into_response();
    res.headers_mut().insert(
        header::SET_COOKIE,
        super::login::login_cookie(&state, &token),
    );
    Ok(res)
}
