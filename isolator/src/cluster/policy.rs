//! The policy document shared by every node, with its versions in the
//! cluster database.
//!
//! The database decides versions: a change is written as the row of the
//! next version (its primary key refuses a second writer of the same
//! number, which becomes a version conflict, the API's `412`/`409`), and the
//! same statement sends `NOTIFY isolator_policy` with the version number.
//! Every node listens on its own connection and adopts the new rows into its
//! local [`PolicyStore`] (compiled there, then one atomic swap), so each
//! action still reads the policy in force with one atomic load and never
//! waits on the database. A node that missed notifications (its listening
//! connection dropped) catches up when it listens again, and polls every
//! `cluster.policy_poll_ms` as a backstop. While the database is down the
//! policy in force stays, every action is still judged by it, and changes
//! are refused with [`policies::Error::Unavailable`].
//!
//! The first node to start on an empty database seeds version 1 from its
//! own policy file (or the built-in policy). After that the file is not
//! read again: the database is the source of truth, changed through the
//! admin API, the admin pages, or `isolator policies` against a node.

use std::sync::Arc;
use std::time::Duration;

use policies::{PolicyDocument, PolicyStore, Version, VersionInfo, VersionRecord};
use tokio::sync::{watch, Mutex};
use tokio_postgres::error::SqlState;

use super::db::{describe, Db, DbError};

/// The notification channel of policy changes.
pub const CHANNEL: &str = "isolator_policy";

/// Writes and follows the shared policy; see the module docs.
pub struct SharedPolicy {
    db: Arc<Db>,
    store: Arc<PolicyStore>,
    /// One writer at a time on this node (the database orders nodes).
    writing: Mutex<()>,
}

impl std::fmt::Debug for SharedPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedPolicy")
            .field("version", &self.store.version())
            .finish_non_exhaustive()
    }
}

fn unavailable(e: DbError) -> policies::Error {
    policies::Error::Unavailable(e.to_string())
}

fn row_record(row: &tokio_postgres::Row) -> Result<VersionRecord, DbError> {
    let version: i64 = row.get("version");
    let summary: serde_json::Value = row.get("summary");
    let document: serde_json::Value = row.get("document");
    let bad = |what: &str, e: serde_json::Error| {
        DbError::Data(format!(
            "policy version {version}: its {what} is unreadable: {e}"
        ))
    };
    Ok(VersionRecord {
        info: VersionInfo {
            version: version as Version,
            author: row.get("author"),
            at: row.get("at"),
            summary: serde_json::from_value(summary).map_err(|e| bad("summary", e))?,
            rollback_of: row
                .get::<_, Option<i64>>("rollback_of")
                .map(|v| v as Version),
        },
        document: serde_json::from_value::<PolicyDocument>(document)
            .map_err(|e| bad("document", e))?,
    })
}

/// Every version newer than `after`, oldest first.
async fn versions_after(db: &Db, after: Version) -> Result<Vec<VersionRecord>, DbError> {
    let rows = db
        .client()?
        .query(
            "SELECT version, author, at, summary, rollback_of, document
               FROM policy_versions WHERE version > $1 ORDER BY version",
            &[&(after as i64)],
        )
        .await?;
    rows.iter().map(row_record).collect()
}

impl SharedPolicy {
    /// Loads the shared history, seeding it with `seed`'s policy in force
    /// when the database holds none, and returns the store every session
    /// reads, kept current in the background until `shutdown`.
    pub async fn open(
        db: Arc<Db>,
        seed: &PolicyStore,
        poll: Duration,
        shutdown: watch::Receiver<bool>,
    ) -> anyhow::Result<Arc<SharedPolicy>> {
        let first = seed.history().into_iter().last();
        let author = first.map_or_else(|| "built-in".to_owned(), |i| i.author);
        let document = serde_json::to_value(seed.current().document())?;
        db.client()?
            .execute(
                "INSERT INTO policy_versions (version, author, at, summary, document)
                 VALUES (1, $1, $2, $3, $4) ON CONFLICT (version) DO NOTHING",
                &[
                    &author,
                    &now(),
                    &serde_json::json!(["initial version"]),
                    &document,
                ],
            )
            .await
            .map_err(|e| anyhow::anyhow!("seeding the shared policy: {}", describe(&e)))?;
        let records = versions_after(&db, 0).await?;
        let store = PolicyStore::from_versions(records, seed.current().data_dir().clone())
            .map_err(|e| anyhow::anyhow!("the shared policy does not compile on this node: {e}"))?;
        tracing::info!(
            version = store.version(),
            rules = store.current().rule_count(),
            "shared policy loaded from the cluster database"
        );
        let shared = Arc::new(SharedPolicy {
            db,
            store: Arc::new(store),
            writing: Mutex::new(()),
        });
        tokio::spawn(shared.clone().follow(poll, shutdown));
        Ok(shared)
    }

    /// The store every action reads.
    pub fn store(&self) -> &Arc<PolicyStore> {
        &self.store
    }

    /// Adopts the versions written since the one in force; returns the
    /// version in force when it changed.
    pub async fn catch_up(&self) -> Result<Option<Version>, DbError> {
        let known = self.store.history().last().map_or(0, |i| i.version);
        let fresh = versions_after(&self.db, known).await?;
        if fresh.is_empty() {
            return Ok(None);
        }
        let store = self.store.clone();
        let adopted = tokio::task::spawn_blocking(move || store.adopt(fresh))
            .await
            .map_err(|e| DbError::Data(format!("compiling the shared policy failed: {e}")))?;
        match adopted {
            Ok(Some(v)) => {
                tracing::info!(version = v, "policy changed by another node, now in force");
                Ok(Some(v))
            }
            Ok(None) => Ok(None),
            Err(e) => {
                // The policy in force stays; the admin sees the error in the
                // log and on the node's readiness.
                tracing::error!(error = %e, "a shared policy version does not compile on this node; the one in force stays");
                Err(DbError::Data(e.to_string()))
            }
        }
    }

    /// Follows changes: a notification or the poll timer triggers a catch-up.
    async fn follow(self: Arc<Self>, poll: Duration, mut shutdown: watch::Receiver<bool>) {
        let mut listener = None;
        loop {
            if listener.is_none() {
                match self.db.listen(CHANNEL).await {
                    Ok(l) => {
                        listener = Some(l);
                        // Whatever was written while nobody listened.
                        let _ = self.catch_up().await;
                    }
                    Err(e) => tracing::debug!(error = %e, "cannot listen for policy changes yet"),
                }
            }
            // Without a listening connection, retry it soon.
            let wait = match listener {
                Some(_) => poll,
                None => Duration::from_millis(500),
            };
            let heard = async {
                match listener.as_mut() {
                    Some(l) => l.next().await,
                    None => std::future::pending().await,
                }
            };
            let lost = tokio::select! {
                note = heard => note.is_none(),
                _ = tokio::time::sleep(wait) => false,
                _ = shutdown.wait_for(|s| *s) => return,
            };
            if lost {
                listener = None;
                tokio::time::sleep(Duration::from_millis(250)).await;
                continue;
            }
            if let Err(e) = self.catch_up().await {
                tracing::debug!(error = %e, "policy catch-up failed; retrying");
            }
        }
    }

    /// Compiles and applies `doc` as the next version for the cluster.
    pub async fn replace(
        &self,
        doc: PolicyDocument,
        author: &str,
        expected: Option<Version>,
    ) -> Result<Version, policies::Error> {
        let policy = self.compile(doc).await?;
        self.write(policy, author, expected, None).await
    }

    /// Makes version `to`'s document current again, as the next version.
    pub async fn rollback(
        &self,
        to: Version,
        author: &str,
        expected: Option<Version>,
    ) -> Result<Version, policies::Error> {
        let policy = self.compile(self.store.document_at(to)?).await?;
        self.write(policy, author, expected, Some(to)).await
    }

    /// Compiling is CPU work: off the async threads.
    async fn compile(&self, doc: PolicyDocument) -> Result<policies::Policy, policies::Error> {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || store.validate(doc))
            .await
            .map_err(|e| policies::Error::Unavailable(format!("compiling failed: {e}")))?
    }

    async fn write(
        &self,
        policy: policies::Policy,
        author: &str,
        expected: Option<Version>,
        rollback_of: Option<Version>,
    ) -> Result<Version, policies::Error> {
        let _one = self.writing.lock().await;
        // Judge `expected` against the newest version anywhere.
        self.catch_up().await.map_err(unavailable)?;
        let current = self.store.version();
        if let Some(expected) = expected.filter(|e| *e != current) {
            return Err(policies::Error::Conflict { expected, current });
        }
        let record = self.store.next_version(&policy, author, rollback_of);
        let insert = self
            .db
            .client()
            .map_err(unavailable)?
            .query_one(
                "WITH written AS (
                     INSERT INTO policy_versions (version, author, at, summary, rollback_of, document)
                     VALUES ($1, $2, $3, $4, $5, $6) RETURNING version)
                 SELECT pg_notify($7, version::text) FROM written",
                &[
                    &(record.info.version as i64),
                    &record.info.author,
                    &record.info.at,
                    &serde_json::to_value(&record.info.summary).unwrap_or_default(),
                    &record.info.rollback_of.map(|v| v as i64),
                    &serde_json::to_value(&record.document).unwrap_or_default(),
                    &CHANNEL,
                ],
            )
            .await;
        match insert {
            Ok(_) => {}
            Err(e) if e.code() == Some(&SqlState::UNIQUE_VIOLATION) => {
                // Another node wrote this version number first.
                let _ = self.catch_up().await;
                return Err(policies::Error::Conflict {
                    expected: expected.unwrap_or(current),
                    current: self.store.version(),
                });
            }
            Err(e) => return Err(unavailable(DbError::Query(e))),
        }
        let version = record.info.version;
        // Compiled above: adopted without compiling it again.
        self.store.adopt_compiled(record, policy)?;
        tracing::info!(version, author, "policy changed for the cluster");
        Ok(version)
    }
}

/// Writes policy changes: to the local store and its file on a single
/// node, through the database in a cluster.
#[derive(Clone, Debug)]
pub enum PolicyWriter {
    /// A single node: the store writes its history and policy file.
    Local(Arc<PolicyStore>),
    /// A cluster: the database decides versions.
    Shared(Arc<SharedPolicy>),
}

impl PolicyWriter {
    /// Compiles and applies `doc` (see [`PolicyStore::replace`]).
    pub async fn replace(
        &self,
        doc: PolicyDocument,
        author: &str,
        expected: Option<Version>,
    ) -> Result<Version, policies::Error> {
        match self {
            PolicyWriter::Local(store) => {
                let store = store.clone();
                let author = author.to_owned();
                blocking(move || store.replace(doc, &author, expected)).await
            }
            PolicyWriter::Shared(shared) => shared.replace(doc, author, expected).await,
        }
    }

    /// Restores version `to` as a new version (see [`PolicyStore::rollback`]).
    pub async fn rollback(
        &self,
        to: Version,
        author: &str,
        expected: Option<Version>,
    ) -> Result<Version, policies::Error> {
        match self {
            PolicyWriter::Local(store) => {
                let store = store.clone();
                let author = author.to_owned();
                blocking(move || store.rollback(to, &author, expected)).await
            }
            PolicyWriter::Shared(shared) => shared.rollback(to, author, expected).await,
        }
    }
}

/// Compiling a policy is CPU work: off the async threads.
async fn blocking(
    f: impl FnOnce() -> Result<Version, policies::Error> + Send + 'static,
) -> Result<Version, policies::Error> {
    tokio::task::spawn_blocking(f).await.unwrap_or_else(|e| {
        Err(policies::Error::Invalid(policies::Problems(vec![
            policies::Problem::new("", format!("compiling the policy failed: {e}")),
        ])))
    })
}

fn now() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| "unknown".to_owned())
}
