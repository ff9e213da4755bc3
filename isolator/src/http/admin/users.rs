//! Password users: `GET/POST /api/v1/users`, `GET/PATCH/DELETE
//! /api/v1/users/{name}`.
//!
//! Users admins manage live in the cluster's database
//! ([`crate::cluster::directory`]); on a single server, users are those of
//! the config file, listed here read-only, and a write is a 409
//! `config_managed`. Users of the config file are never changed here (409
//! `config_user`): the file is their truth. Any change to a user (password,
//! groups, admin, disabled) ends their logins on every node, so they sign
//! in again under what is now true; disabling or removing one also ends
//! their live sessions. An admin cannot take away their own admin rights
//! or account (another admin can), so no one locks themselves out.

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};

use super::Admin;
use crate::auth::config::AuthMode;
use crate::cluster::directory::{DirectoryStore, NewUser, UserChange, UserRow};
use crate::http::error::{ApiError, ApiResult};
use crate::http::AppState;

/// The shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// The longest (argon2 takes any; this bounds the work a request asks for).
pub const MAX_PASSWORD_CHARS: usize = 256;
const MAX_GROUPS: usize = 64;

/// Where users and tokens are managed: `database` in a cluster, `config`
/// (read-only here) on a single server.
pub fn managed(state: &AppState) -> &'static str {
    if state.cluster.is_some() {
        "database"
    } else {
        "config"
    }
}

/// The database's users and tokens, or the 409 of a single server.
pub fn store(state: &AppState) -> Result<&std::sync::Arc<DirectoryStore>, ApiError> {
    state
        .cluster
        .as_ref()
        .map(|c| c.directory())
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::CONFLICT,
                "config_managed",
                "this server keeps its users and API tokens in its config file ([[auth.users]], \
             [admin] api_tokens); they are managed through the API only in a cluster \
             ([cluster] database_url_file)",
            )
        })
}

/// A database error as the API answers it.
pub fn unavailable(e: crate::cluster::DbError) -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "unavailable",
        format!("{e}; nothing was changed, try again when it is back"),
    )
}

/// Reads the directory back into this node after a write, so the change
/// is in force here when the API answers.
pub async fn refresh(state: &AppState, store: &DirectoryStore) {
    if let Err(e) = store.refresh(&state.auth, &state.sessions).await {
        tracing::warn!(error = %e, "a user or token change is stored but not yet read back on this node");
    }
}

#[derive(Serialize)]
struct UserView {
    name: String,
    groups: Vec<String>,
    admin: bool,
    disabled: bool,
    /// `config` (read-only here) or `database`.
    source: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    created_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    created_at: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    updated_at: Option<i64>,
}

impl UserView {
    /// A user of the config file (read-only here).
    fn config(u: crate::auth::User) -> UserView {
        UserView {
            name: u.name,
            groups: u.groups,
            admin: u.admin,
            disabled: false,
            source: "config",
            created_by: None,
            created_at: None,
            updated_at: None,
        }
    }
}

impl From<UserRow> for UserView {
    fn from(u: UserRow) -> Self {
        UserView {
            name: u.name,
            groups: u.groups,
            admin: u.admin,
            disabled: u.disabled,
            source: "database",
            created_by: Some(u.created_by),
            created_at: Some(u.created_at),
            updated_at: Some(u.updated_at),
        }
    }
}

/// `GET /api/v1/users`: the config file's users, then the database's.
pub async fn list(_admin: Admin, State(state): State<AppState>) -> ApiResult<Response> {
    let mut users: Vec<UserView> = state.auth.config_users().map(UserView::config).collect();
    if let Some(c) = &state.cluster {
        let rows = c.directory().users().await.map_err(unavailable)?;
        users.extend(rows.into_iter().map(UserView::from));
    }
    Ok(Json(serde_json::json!({
        "managed": managed(&state),
        "auth_mode": state.auth.mode().as_str(),
        "users": users,
    }))
    .into_response())
}

/// `GET /api/v1/users/{name}`.
pub async fn get_one(
    _admin: Admin,
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> ApiResult<Response> {
    if let Some(u) = state.auth.config_users().find(|u| u.name == name) {
        return Ok(Json(UserView::config(u)).into_response());
    }
    let Some(c) = &state.cluster else {
        return Err(ApiError::not_found(&format!("user `{name}`")));
    };
    match c.directory().user(&name).await.map_err(unavailable)? {
        Some(u) => Ok(Json(UserView::from(u)).into_response()),
        None => Err(ApiError::not_found(&format!("user `{name}`"))),
    }
}

/// The body of `POST /api/v1/users`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateBody {
    name: String,
    password: String,
    #[serde(default)]
    groups: Vec<String>,
    #[serde(default)]
    admin: bool,
}

/// `POST /api/v1/users`: a new password user (201).
pub async fn create(
    admin: Admin,
    State(state): State<AppState>,
    body: Result<Json<CreateBody>, JsonRejection>,
) -> ApiResult<Response> {
    let store = store(&state)?;
    let Json(body) = body.map_err(|e| ApiError::bad_field("body", e.body_text()))?;
    password_users_only(&state)?;
    check_name(&body.name)?;
    check_password(&body.password, &body.name)?;
    check_groups(&body.groups)?;
    if state.auth.is_config_user(&body.name) {
        return Err(config_user(&body.name));
    }
    let password_hash = hash(body.password).await?;
    let made = store
        .create_user(
            &NewUser {
                name: body.name.clone(),
                password_hash,
                groups: body.groups,
                admin: body.admin,
            },
            &admin.0.name,
        )
        .await
        .map_err(unavailable)?;
    if !made {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "exists",
            format!("a user named `{}` already exists", body.name),
        ));
    }
    refresh(&state, store).await;
    tracing::info!(admin = %admin.0.name, user = %body.name, "user added by an admin");
    let row = store
        .user(&body.name)
        .await
        .map_err(unavailable)?
        .ok_or_else(|| ApiError::not_found(&format!("user `{}`", body.name)))?;
    Ok((StatusCode::CREATED, Json(UserView::from(row))).into_response())
}

/// The body of `PATCH /api/v1/users/{name}`: what changes.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangeBody {
    password: Option<String>,
    groups: Option<Vec<String>>,
    admin: Option<bool>,
    disabled: Option<bool>,
}

/// `PATCH /api/v1/users/{name}`: changes a user; their logins end.
pub async fn update(
    admin: Admin,
    State(state): State<AppState>,
    Path(name): Path<String>,
    body: Result<Json<ChangeBody>, JsonRejection>,
) -> ApiResult<Response> {
    let store = store(&state)?;
    let Json(body) = body.map_err(|e| ApiError::bad_field("body", e.body_text()))?;
    if state.auth.is_config_user(&name) {
        return Err(config_user(&name));
    }
    if body.password.is_none()
        && body.groups.is_none()
        && body.admin.is_none()
        && body.disabled.is_none()
    {
        return Err(ApiError::bad_field(
            "body",
            "nothing to change: give password, groups, admin or disabled",
        ));
    }
    if name == admin.0.name && (body.admin == Some(false) || body.disabled == Some(true)) {
        return Err(own_account());
    }
    if let Some(p) = &body.password {
        check_password(p, &name)?;
    }
    if let Some(g) = &body.groups {
        check_groups(g)?;
    }
    let password_hash = match body.password {
        Some(p) => Some(hash(p).await?),
        None => None,
    };
    let change = UserChange {
        password_hash,
        groups: body.groups,
        admin: body.admin,
        disabled: body.disabled,
    };
    if !store
        .update_user(&name, &change)
        .await
        .map_err(unavailable)?
    {
        return Err(ApiError::not_found(&format!("user `{name}`")));
    }
    refresh(&state, store).await;
    tracing::info!(
        admin = %admin.0.name,
        user = %name,
        password = change.password_hash.is_some(),
        groups = change.groups.is_some(),
        admin_rights = ?change.admin,
        disabled = ?change.disabled,
        "user changed by an admin; their logins ended"
    );
    let row = store
        .user(&name)
        .await
        .map_err(unavailable)?
        .ok_or_else(|| ApiError::not_found(&format!("user `{name}`")))?;
    Ok(Json(UserView::from(row)).into_response())
}

/// `DELETE /api/v1/users/{name}`: removes a user; their logins and live
/// sessions end.
pub async fn delete(
    admin: Admin,
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> ApiResult<Response> {
    let store = store(&state)?;
    if state.auth.is_config_user(&name) {
        return Err(config_user(&name));
    }
    if name == admin.0.name {
        return Err(own_account());
    }
    if !store.delete_user(&name).await.map_err(unavailable)? {
        return Err(ApiError::not_found(&format!("user `{name}`")));
    }
    refresh(&state, store).await;
    tracing::info!(admin = %admin.0.name, user = %name, "user removed by an admin");
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn password_users_only(state: &AppState) -> Result<(), ApiError> {
    match state.auth.mode() {
        AuthMode::Static => Ok(()),
        mode => Err(ApiError::new(
            StatusCode::CONFLICT,
            "not_static",
            format!(
                "auth.mode is \"{}\": password users sign in only with auth.mode = \"static\"",
                mode.as_str()
            ),
        )),
    }
}

fn config_user(name: &str) -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "config_user",
        format!("user `{name}` is set in the config file ([[auth.users]]); change it there"),
    )
}

fn own_account() -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "own_account",
        "you cannot remove, disable or take admin rights from your own account; another admin can",
    )
}

/// Hashes a new password (argon2 is CPU work: off the async threads).
pub async fn hash(password: String) -> Result<String, ApiError> {
    tokio::task::spawn_blocking(move || crate::auth::hash_password(&password))
        .await
        .map_err(|e| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                format!("hashing the password failed: {e}"),
            )
        })
}

/// A user name: 1 to 64 characters, letters, digits and `.`, `_`, `@`,
/// `-`, starting with a letter or digit (it appears in logs, rules and
/// recordings).
pub fn check_name(name: &str) -> Result<(), ApiError> {
    let ok = (1..=64).contains(&name.chars().count())
        && name.chars().next().is_some_and(char::is_alphanumeric)
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '@' | '-'));
    if ok {
        Ok(())
    } else {
        Err(ApiError::bad_field(
            "name",
            "a user name is 1 to 64 letters, digits, '.', '_', '@' or '-', starting with a letter or digit",
        ))
    }
}

/// The rules of a new password: 12 to 256 characters, not containing the
/// user name.
pub fn check_password(password: &str, name: &str) -> Result<(), ApiError> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(ApiError::bad_field(
            "password",
            format!("a password has at least {MIN_PASSWORD_CHARS} characters"),
        ));
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(ApiError::bad_field(
            "password",
            format!("a password has at most {MAX_PASSWORD_CHARS} characters"),
        ));
    }
    if password.to_lowercase().contains(&name.to_lowercase()) {
        return Err(ApiError::bad_field(
            "password",
            "a password must not contain the user name",
        ));
    }
    Ok(())
}

fn check_groups(groups: &[String]) -> Result<(), ApiError> {
    if groups.len() > MAX_GROUPS {
        return Err(ApiError::bad_field(
            "groups",
            format!("at most {MAX_GROUPS} groups"),
        ));
    }
    for (i, g) in groups.iter().enumerate() {
        let ok = (1..=64).contains(&g.chars().count())
            && g.trim() == g
            && !g.chars().any(|c| c.is_control() || c == ',');
        if !ok {
            return Err(ApiError::bad_field(
                &format!("groups[{i}]"),
                "a group is 1 to 64 characters, without commas, control characters or spaces at its ends",
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_passwords_and_groups_are_checked_with_the_field_named() {
        for good in ["bob", "bob.smith@example.com", "x", "Zoë-1"] {
            assert!(check_name(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            ".bob",
            "bob smith",
            "bob\n",
            "bob/../x",
            &"a".repeat(65),
        ] {
            let e = check_name(bad).unwrap_err();
            assert_eq!(e.field.as_deref(), Some("name"), "{bad:?}");
        }
        assert!(check_password("a long enough one", "bob").is_ok());
        let short = check_password("short", "bob").unwrap_err();
        assert_eq!(short.field.as_deref(), Some("password"));
        assert!(check_password("my name is BOB ok", "bob").is_err());
        assert!(check_password(&"p".repeat(257), "bob").is_err());
        assert!(check_groups(&["finance".into(), "eng team".into()]).is_ok());
        let comma = check_groups(&["ok".into(), "a,admins".into()]).unwrap_err();
        assert_eq!(comma.field.as_deref(), Some("groups[1]"));
        assert!(check_groups(&[" padded".into()]).is_err());
        assert!(check_groups(&vec!["g".to_string(); 65]).is_err());
    }
}
