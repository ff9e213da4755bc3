//! Logins every node recognises, and the secret nodes prove themselves with.
//!
//! A password login (`auth.mode = "static"`) made on one node is written
//! here (the SHA-256 of the cookie's token, never the token; the user; the
//! expiry), so the user's next request is recognised by whichever node it
//! reaches: a node that does not know a login cookie looks it up once and
//! keeps it in its own table. Logging out deletes it everywhere. Expired
//! rows are swept by the registry's heartbeat.
//!
//! The **cluster secret** (32 random bytes, made by the first node) keys the
//! HMAC a node puts on a request it forwards to the node holding a session,
//! so that node can trust the forwarded client address and host name.

use std::sync::Arc;
use std::time::Duration;

use super::db::{Db, DbError};
use crate::auth::User;

/// The channel on which logouts are announced.
const LOGOUT_CHANNEL: &str = "isolator_logout";

/// The shared logins; see the module docs.
#[derive(Debug)]
pub struct Logins {
    db: Arc<Db>,
}

impl Logins {
    /// Over the cluster's database.
    pub fn new(db: Arc<Db>) -> Logins {
        Logins { db }
    }

    /// Records a login made on this node, valid for `ttl`.
    pub async fn store(&self, key: [u8; 32], user: &User, ttl: Duration) -> Result<(), DbError> {
        self.db
            .client()?
            .execute(
                "INSERT INTO logins (key, user_name, groups, admin, expires_at)
                 VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5))
                 ON CONFLICT (key) DO NOTHING",
                &[
                    &key.as_slice(),
                    &user.name,
                    &serde_json::json!(user.groups),
                    &user.admin,
                    &ttl.as_secs_f64(),
                ],
            )
            .await?;
        Ok(())
    }

    /// The user of a login made on any node, with the time it has left.
    pub async fn lookup(&self, key: [u8; 32]) -> Result<Option<(User, Duration)>, DbError> {
        let row = self
            .db
            .client()?
            .query_opt(
                "SELECT user_name, groups, admin, extract(epoch FROM expires_at - now())::float8
                   FROM logins WHERE key = $1 AND expires_at > now()",
                &[&key.as_slice()],
            )
            .await?;
        let Some(row) = row else { return Ok(None) };
        let groups: serde_json::Value = row.get(1);
        let groups = serde_json::from_value(groups)
            .map_err(|e| DbError::Data(format!("a login's groups are unreadable: {e}")))?;
        let left: f64 = row.get(3);
        Ok(Some((
            User {
                name: row.get(0),
                groups,
                admin: row.get(2),
            },
            Duration::from_secs_f64(left.max(0.0)),
        )))
    }

    /// Ends a login everywhere: deleted, and every node told to forget it.
    pub async fn remove(&self, key: [u8; 32]) -> Result<(), DbError> {
        self.db
            .client()?
            .execute(
                "WITH gone AS (DELETE FROM logins WHERE key = $1)
                 SELECT pg_notify($2, $3)",
                &[&key.as_slice(), &LOGOUT_CHANNEL, &hex::encode(key)],
            )
            .await?;
        Ok(())
    }

    /// Forgets, on this node, every login another node ended, until
    /// `shutdown`. A login adopted from the database is only as fresh as
    /// this: while the database is down a logout elsewhere is not heard
    /// (the login still expires with its cookie's lifetime).
    pub fn follow_logouts(
        &self,
        auth: Arc<crate::auth::Auth>,
        mut shutdown: tokio::sync::watch::Receiver<bool>,
    ) {
        let db = self.db.clone();
        tokio::spawn(async move {
            loop {
                let listener = tokio::select! {
                    l = db.listen(LOGOUT_CHANNEL) => l,
                    _ = shutdown.wait_for(|s| *s) => return,
                };
                let Ok(mut listener) = listener else {
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_millis(500)) => continue,
                        _ = shutdown.wait_for(|s| *s) => return,
                    }
                };
                loop {
                    let note = tokio::select! {
                        n = listener.next() => n,
                        _ = shutdown.wait_for(|s| *s) => return,
                    };
                    let Some(note) = note else { break };
                    let key = hex::decode(note)
                        .ok()
                        .and_then(|k| <[u8; 32]>::try_from(k).ok());
                    if let Some(key) = key {
                        auth.forget_login(&key);
                    }
                }
            }
        });
    }
}

/// The cluster secret: made by the first node, read by every other.
pub async fn cluster_secret(db: &Db) -> Result<[u8; 32], DbError> {
    let fresh: [u8; 32] = rand::random();
    let client = db.client()?;
    client
        .execute(
            "INSERT INTO cluster_secret (secret) VALUES ($1) ON CONFLICT (id) DO NOTHING",
            &[&fresh.as_slice()],
        )
        .await?;
    let row = client
        .query_one("SELECT secret FROM cluster_secret", &[])
        .await?;
    let secret: Vec<u8> = row.get(0);
    secret
        .try_into()
        .map_err(|_| DbError::Data("the cluster secret is not 32 bytes".to_owned()))
}
