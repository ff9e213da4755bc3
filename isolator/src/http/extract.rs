//! Who is asking: the extractors handlers start with.
//!
//! - [`SignedIn`]: any signed-in user (401 otherwise);
//! - [`Admin`]: an administrator signed in with a cookie, or an API client
//!   with `Authorization: Bearer <token>` listed in `[admin] api_tokens` or
//!   made through `/api/v1/tokens` (a cluster's database)
//!   (401 for nobody or a wrong token, 403 for a signed-in non-admin);
//! - [`OwnedSession`]: the session named by the path's `{id}`, when the
//!   caller is signed in as its owner and presents its token in
//!   `X-Isolator-Token` (401, or 404 for anyone else: a session of another
//!   user is indistinguishable from one that has ended).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequestParts, Path};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};

use super::{ApiError, AppState, TOKEN_HEADER};
use crate::auth::User;
use crate::session::SessionHandle;

/// The client's address (`0.0.0.0:0` when the server was not started with
/// connection info, as in some unit tests).
pub fn peer_of(parts: &Parts) -> SocketAddr {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0)
        .unwrap_or_else(|| SocketAddr::from(([0, 0, 0, 0], 0)))
}

/// The signed-in user, if any.
pub fn user_of(state: &AppState, headers: &HeaderMap, peer: SocketAddr) -> Option<User> {
    state.auth.identify(headers, peer)
}

/// A signed-in user.
#[derive(Clone, Debug)]
pub struct SignedIn(pub User);

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        user_of(state, &parts.headers, peer_of(parts))
            .map(SignedIn)
            .ok_or_else(unauthenticated)
    }
}

/// The administrator (or API client) making the request.
#[derive(Clone, Debug)]
pub struct Admin(pub User);

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        require_admin(state, &parts.headers, peer_of(parts)).map(Admin)
    }
}

/// The session of the path's `{id}`, owned by the caller.
#[derive(Clone)]
pub struct OwnedSession(pub Arc<SessionHandle>);

impl FromRequestParts<AppState> for OwnedSession {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let params = Path::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(|_| no_session())?;
        let id = params.0.get("id").map(String::as_str).unwrap_or("");
        owned_session(state, &parts.headers, peer_of(parts), id).map(OwnedSession)
    }
}

/// 401: nobody is signed in.
pub fn unauthenticated() -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", "not signed in")
}

/// 404: the session has ended (or was never the caller's).
pub fn no_session() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "no_session",
        "this session has ended",
    )
}

/// The admin (or auditor) making this request, or the error to answer
/// with: 401 when nobody is signed in, 403 for a signed-in non-admin. Every
/// admin and audit endpoint starts here (through [`Admin`]).
///
/// API clients may instead send `Authorization: Bearer <token>` with a token
/// whose hash is in `[admin] api_tokens` or that an admin made through
/// `/api/v1/tokens`; a request carrying that header is
/// judged by it alone (a wrong token is 401, whatever cookie comes with it).
pub fn require_admin(
    state: &AppState,
    headers: &HeaderMap,
    peer: SocketAddr,
) -> Result<User, ApiError> {
    if let Some(token) = crate::auth::bearer(headers) {
        let Some((user, stored)) = state.auth.api_client(&state.config.admin.api_tokens, token)
        else {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "bad_token",
                "the bearer token is not one of [admin] api_tokens, nor an unexpired token \
                 made through /api/v1/tokens",
            ));
        };
        if let (Some(name), Some(cluster)) = (stored, state.cluster.as_ref()) {
            cluster.directory().touch(&name);
        }
        return Ok(user);
    }
    match user_of(state, headers, peer) {
        Some(u) if u.admin => Ok(u),
        Some(_) => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "this needs an administrator",
        )),
        None => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "sign in as an administrator",
        )),
    }
}

/// The session `id` if the caller is signed in as its owner and presents its
/// token (`X-Isolator-Token`).
pub fn owned_session(
    state: &AppState,
    headers: &HeaderMap,
    peer: SocketAddr,
    id: &str,
) -> Result<Arc<SessionHandle>, ApiError> {
    let Some(user) = user_of(state, headers, peer) else {
        return Err(unauthenticated());
    };
    let token = headers
        .get(TOKEN_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    match state.sessions.get(id) {
        Some(h) if h.user.name == user.name && h.check_token(token) => Ok(h),
        _ => Err(no_session()),
    }
}
