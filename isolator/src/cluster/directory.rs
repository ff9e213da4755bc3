//! Users and admin API tokens in the cluster's database, and every node's
//! copy of them.
//!
//! Admins manage them through `/api/v1/users` and `/api/v1/tokens` on any
//! node. Each write is one statement that also ends the logins of the user
//! it changed (their rows are deleted and every node told, as a logout is)
//! and notifies `isolator_directory`; every node then reads the whole
//! directory again and swaps it into [`crate::auth::Auth`], which ends its
//! own logins of changed users, and this module ends the live sessions of
//! users who may no longer sign in (removed or disabled). The node that
//! wrote reads it back at once; the others within the notification's
//! delay, or at the next policy poll if they missed it.
//!
//! Tokens are stored as their SHA-256 only; the token is shown once when it
//! is made. A token's last use is written at most once a minute per node,
//! off the request's path.
//!
//! While the database is down, nodes keep the copy they have: known users
//! still sign in, known tokens still work, and every change is refused.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::watch;

use super::db::{Db, DbError};
use crate::auth::directory::{Directory, DirectoryToken, DirectoryUser};
use crate::auth::Auth;
use crate::protocol::EndReason;
use crate::session::SessionManager;

/// The channel on which directory changes are announced.
const CHANNEL: &str = "isolator_directory";

/// How often a token's last use is written, at most, per node.
const TOUCH_EVERY: Duration = Duration::from_secs(60);

/// A user as the admin API lists it (no password hash).
#[derive(Clone, Debug, Serialize)]
pub struct UserRow {
    /// Login name.
    pub name: String,
    /// Groups, for policy rules.
    pub groups: Vec<String>,
    /// May use the admin pages and API.
    pub admin: bool,
    /// May not sign in.
    pub disabled: bool,
    /// The admin (or API client) who added it.
    pub created_by: String,
    /// When, in seconds since the Unix epoch.
    pub created_at: i64,
    /// Its last change, in seconds since the Unix epoch.
    pub updated_at: i64,
}

/// A token as the admin API lists it (neither the token nor its hash).
#[derive(Clone, Debug, Serialize)]
pub struct TokenRow {
    /// Its name; its API client is `api-token:<name>`.
    pub name: String,
    /// The admin (or API client) who made it.
    pub created_by: String,
    /// When, in seconds since the Unix epoch.
    pub created_at: i64,
    /// When it stops working (none: never).
    pub expires_at: Option<i64>,
    /// Its last use seen (to the minute), if any.
    pub last_used_at: Option<i64>,
}

/// What a change to a user sets; `None` leaves a field as it is.
#[derive(Clone, Debug, Default)]
pub struct UserChange {
    /// A new argon2 PHC string.
    pub password_hash: Option<String>,
    /// New groups.
    pub groups: Option<Vec<String>>,
    /// Admin or not.
    pub admin: Option<bool>,
    /// Disabled or not.
    pub disabled: Option<bool>,
}

/// A new user.
#[derive(Clone)]
pub struct NewUser {
    /// Login name.
    pub name: String,
    /// Argon2 PHC string.
    pub password_hash: String,
    /// Groups.
    pub groups: Vec<String>,
    /// Admin or not.
    pub admin: bool,
}

/// The users and tokens of the database; see the module docs.
#[derive(Debug)]
pub struct DirectoryStore {
    db: Arc<Db>,
    /// When each token's last use was last written by this node.
    touched: Mutex<HashMap<String, Instant>>,
}

/// Seconds since the Unix epoch of a `timestamptz` column, as SQL.
fn epoch(column: &str) -> String {
    format!("extract(epoch FROM {column})::bigint")
}

/// The statement tail that ends the logins of the users in CTE `changed`
/// (rows deleted, every node told as for a logout) and announces the
/// change; selects how many users were changed.
const END_LOGINS_AND_TELL: &str = ",
     ended AS (DELETE FROM logins WHERE user_name IN (SELECT name FROM changed) RETURNING key),
     told AS (SELECT pg_notify('isolator_logout', encode(key, 'hex')) FROM ended)
SELECT (SELECT count(*) FROM changed), (SELECT count(*) FROM told), pg_notify('isolator_directory', 'users')";

impl DirectoryStore {
    /// Over the cluster's database.
    pub fn new(db: Arc<Db>) -> DirectoryStore {
        DirectoryStore {
            db,
            touched: Mutex::new(HashMap::new()),
        }
    }

    /// Every user and token, for [`Auth::set_directory`].
    pub async fn load(&self) -> Result<Directory, DbError> {
        let client = self.db.client()?;
        let users = client
            .query(
                "SELECT name, password_hash, groups, admin, disabled FROM users",
                &[],
            )
            .await?;
        let users = users
            .into_iter()
            .map(|r| {
                Ok(DirectoryUser {
                    name: r.get(0),
                    password_hash: r.get(1),
                    groups: groups_of(r.get(2))?,
                    admin: r.get(3),
                    disabled: r.get(4),
                })
            })
            .collect::<Result<Vec<_>, DbError>>()?;
        let tokens = client
            .query(
                &format!("SELECT name, hash, {} FROM api_tokens", epoch("expires_at")),
                &[],
            )
            .await?;
        let tokens = tokens
            .into_iter()
            .map(|r| {
                let hash: Vec<u8> = r.get(1);
                Ok(DirectoryToken {
                    name: r.get(0),
                    hash: hash
                        .try_into()
                        .map_err(|_| DbError::Data("a token hash is not 32 bytes".into()))?,
                    expires_at: r.get(2),
                })
            })
            .collect::<Result<Vec<_>, DbError>>()?;
        Ok(Directory::new(users, tokens))
    }

    /// Every user, for the admin API, by name.
    pub async fn users(&self) -> Result<Vec<UserRow>, DbError> {
        self.user_rows("ORDER BY name", &[]).await
    }

    /// One user, for the admin API.
    pub async fn user(&self, name: &str) -> Result<Option<UserRow>, DbError> {
        Ok(self.user_rows("WHERE name = $1", &[&name]).await?.pop())
    }

    /// The users the SQL `tail` selects, as the admin API lists them.
    async fn user_rows(
        &self,
        tail: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<Vec<UserRow>, DbError> {
        let rows = self
            .db
            .client()?
            .query(
                &format!(
                    "SELECT name, groups, admin, disabled, created_by, {}, {} FROM users {tail}",
                    epoch("created_at"),
                    epoch("updated_at")
                ),
                params,
            )
            .await?;
        rows.into_iter()
            .map(|r| {
                Ok(UserRow {
                    name: r.get(0),
                    groups: groups_of(r.get(1))?,
                    admin: r.get(2),
                    disabled: r.get(3),
                    created_by: r.get(4),
                    created_at: r.get(5),
                    updated_at: r.get(6),
                })
            })
            .collect()
    }

    /// Adds `user`; false when the name is taken.
    pub async fn create_user(&self, user: &NewUser, by: &str) -> Result<bool, DbError> {
        let row = self
            .db
            .client()?
            .query_one(
                "WITH made AS (
                    INSERT INTO users (name, password_hash, groups, admin, created_by)
                    VALUES ($1, $2, $3, $4, $5) ON CONFLICT (name) DO NOTHING RETURNING name)
                 SELECT (SELECT count(*) FROM made), pg_notify('isolator_directory', 'users')",
                &[
                    &user.name,
                    &user.password_hash,
                    &serde_json::json!(user.groups),
                    &user.admin,
                    &by,
                ],
            )
            .await?;
        Ok(row.get::<_, i64>(0) == 1)
    }

    /// Changes user `name` and ends their logins everywhere; false when
    /// there is no such user.
    pub async fn update_user(&self, name: &str, change: &UserChange) -> Result<bool, DbError> {
        let groups = change.groups.as_ref().map(|g| serde_json::json!(g));
        let row = self
            .db
            .client()?
            .query_one(
                &format!(
                    "WITH changed AS (
                        UPDATE users SET
                            password_hash = COALESCE($2, password_hash),
                            groups = COALESCE($3, groups),
                            admin = COALESCE($4, admin),
                            disabled = COALESCE($5, disabled),
                            updated_at = now()
                        WHERE name = $1 RETURNING name){END_LOGINS_AND_TELL}"
                ),
                &[
                    &name,
                    &change.password_hash,
                    &groups,
                    &change.admin,
                    &change.disabled,
                ],
            )
            .await?;
        Ok(row.get::<_, i64>(0) == 1)
    }

    /// Removes user `name` and ends their logins everywhere; false when
    /// there is no such user.
    pub async fn delete_user(&self, name: &str) -> Result<bool, DbError> {
        let row = self
            .db
            .client()?
            .query_one(
                &format!(
                    "WITH changed AS (DELETE FROM users WHERE name = $1 RETURNING name){END_LOGINS_AND_TELL}"
                ),
                &[&name],
            )
            .await?;
        Ok(row.get::<_, i64>(0) == 1)
    }

    /// Every token, for the admin API, by name.
    pub async fn tokens(&self) -> Result<Vec<TokenRow>, DbError> {
        let rows = self
            .db
            .client()?
            .query(
                &format!(
                    "SELECT name, created_by, {}, {}, {} FROM api_tokens ORDER BY name",
                    epoch("created_at"),
                    epoch("expires_at"),
                    epoch("last_used_at")
                ),
                &[],
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| TokenRow {
                name: r.get(0),
                created_by: r.get(1),
                created_at: r.get(2),
                expires_at: r.get(3),
                last_used_at: r.get(4),
            })
            .collect())
    }

    /// Stores a token by its SHA-256, valid for `days` (none: until
    /// removed); `None` when the name is taken.
    pub async fn create_token(
        &self,
        name: &str,
        hash: &[u8; 32],
        days: Option<i32>,
        by: &str,
    ) -> Result<Option<TokenRow>, DbError> {
        let row = self
            .db
            .client()?
            .query_one(
                &format!(
                    "WITH made AS (
                        INSERT INTO api_tokens (name, hash, created_by, expires_at)
                        VALUES ($1, $2, $3, CASE WHEN $4::int IS NULL THEN NULL
                                                 ELSE now() + make_interval(days => $4::int) END)
                        ON CONFLICT DO NOTHING
                        RETURNING name, created_by, {}, {})
                     SELECT (SELECT count(*) FROM made),
                            (SELECT created_at FROM made), (SELECT expires_at FROM made),
                            pg_notify('isolator_directory', 'tokens')",
                    epoch("created_at") + " AS created_at",
                    epoch("expires_at") + " AS expires_at"
                ),
                &[&name, &hash.as_slice(), &by, &days],
            )
            .await?;
        if row.get::<_, i64>(0) != 1 {
            return Ok(None);
        }
        Ok(Some(TokenRow {
            name: name.to_owned(),
            created_by: by.to_owned(),
            created_at: row.get(1),
            expires_at: row.get(2),
            last_used_at: None,
        }))
    }

    /// Removes token `name`: it stops working on every node. False when
    /// there is no such token.
    pub async fn delete_token(&self, name: &str) -> Result<bool, DbError> {
        let row = self
            .db
            .client()?
            .query_one(
                "WITH gone AS (DELETE FROM api_tokens WHERE name = $1 RETURNING name)
                 SELECT (SELECT count(*) FROM gone), pg_notify('isolator_directory', 'tokens')",
                &[&name],
            )
            .await?;
        Ok(row.get::<_, i64>(0) == 1)
    }

    /// Notes that token `name` was used: written at most once a minute by
    /// this node, in the background.
    pub fn touch(self: &Arc<Self>, name: &str) {
        {
            let mut touched = self.touched.lock().expect("touched lock");
            let now = Instant::now();
            if touched
                .get(name)
                .is_some_and(|at| now.duration_since(*at) < TOUCH_EVERY)
            {
                return;
            }
            touched.insert(name.to_owned(), now);
        }
        let (store, name) = (self.clone(), name.to_owned());
        tokio::spawn(async move {
            let Ok(client) = store.db.client() else {
                return;
            };
            if let Err(e) = client
                .execute(
                    "UPDATE api_tokens SET last_used_at = now() WHERE name = $1",
                    &[&name],
                )
                .await
            {
                tracing::debug!(error = %e, "a token's last use was not recorded");
            }
        });
    }

    /// Reads the directory into `auth`, and ends the live sessions on this
    /// node of users who may no longer sign in. A node calls it after its
    /// own writes, so they are in force here when the API answers.
    pub async fn refresh(&self, auth: &Auth, sessions: &SessionManager) -> Result<(), DbError> {
        let shut_out = auth.set_directory(self.load().await?);
        for name in shut_out {
            let ended = sessions.end_user(&name, EndReason::Terminated).await;
            if ended > 0 {
                tracing::info!(user = %name, sessions = ended, "sessions of a user who may no longer sign in ended");
            }
        }
        Ok(())
    }

    /// Keeps `auth`'s copy of the directory current until `shutdown`:
    /// [`DirectoryStore::refresh`] on every notification, when listening
    /// starts (what was written while nobody listened) and every `poll`.
    pub fn follow(
        self: &Arc<Self>,
        auth: Arc<Auth>,
        sessions: Arc<SessionManager>,
        poll: Duration,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let store = self.clone();
        tokio::spawn(async move {
            let mut listener = None;
            loop {
                if listener.is_none() {
                    match store.db.listen(CHANNEL).await {
                        Ok(l) => listener = Some(l),
                        Err(e) => tracing::debug!(error = %e, "cannot listen for user changes yet"),
                    }
                }
                let fresh = match store.refresh(&auth, &sessions).await {
                    Ok(()) => true,
                    Err(e) => {
                        tracing::debug!(error = %e, "users and tokens not read; keeping the copy held");
                        false
                    }
                };
                let wait = match (&listener, fresh) {
                    (Some(_), true) => poll,
                    _ => Duration::from_millis(500),
                };
                let heard = async {
                    match listener.as_mut() {
                        Some(l) => l.next().await,
                        None => std::future::pending().await,
                    }
                };
                tokio::select! {
                    note = heard => {
                        if note.is_none() {
                            listener = None;
                        }
                    }
                    _ = tokio::time::sleep(wait) => {}
                    _ = shutdown.wait_for(|s| *s) => return,
                }
            }
        });
    }
}

fn groups_of(value: serde_json::Value) -> Result<Vec<String>, DbError> {
    serde_json::from_value(value)
        .map_err(|e| DbError::Data(format!("a user's groups are unreadable: {e}")))
}
