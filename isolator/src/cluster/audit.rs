//! The cluster's audit index: every node's sessions and incidents in
//! PostgreSQL (`audit_sessions`, `audit_incidents`), so an auditor on any
//! node finds any recording.
//!
//! Each node keeps writing its own SQLite index as it records (the database
//! is never on the path of a session) and ships what changed to the shared
//! index every `cluster.heartbeat_ms` ([`start_shipping`]; rows carry
//! revisions, see `audit::Index::changes`). Shipping is at least once and
//! idempotent: a node that loses the database keeps its rows and ships them
//! when it is back, a node that dies has shipped everything but its last
//! interval. The shared index holds no server paths: a recording found here
//! is read from the bucket (`audit::SegmentSource::of_row`), wherever it
//! was recorded.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio_postgres::types::ToSql;

use super::db::{Db, DbError};
use crate::audit::{Changes, Incident, IncidentQuery, SessionQuery, SessionRow, Shipped, Store};

/// Rows of each kind read from the local index per batch.
const BATCH: usize = 500;
/// Batches shipped per interval at most (a node catching up after an
/// outage spreads the work).
const BATCHES_PER_TICK: usize = 20;

/// A row of the shared index and the node that recorded it.
#[derive(Clone, Debug)]
pub struct OnNode<T> {
    /// The node (`cluster.node_id`).
    pub node: String,
    /// The row. A session's `path` is empty: the shared index holds no
    /// server paths.
    pub row: T,
}

/// Why shipping stopped for this interval.
#[derive(Debug, thiserror::Error)]
enum ShipError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("local audit index: {0}")]
    Local(#[from] crate::audit::Error),
    #[error("local audit index: {0}")]
    Join(#[from] tokio::task::JoinError),
}

impl From<tokio_postgres::Error> for ShipError {
    fn from(e: tokio_postgres::Error) -> Self {
        ShipError::Db(DbError::Query(e))
    }
}

/// Ships `store`'s index to the shared one every `every` until `shutdown`
/// (and once more then, so a node stopping cleanly leaves nothing behind).
pub fn start_shipping(
    db: Arc<Db>,
    node: String,
    store: Arc<Store>,
    every: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    let start = store.index().start_shipping();
    let mut mark = match start {
        Ok(m) => m,
        Err(e) => {
            tracing::error!(error = %e, "the audit index cannot be shipped to the cluster: this node's recordings are found on this node only");
            return;
        }
    };
    tokio::spawn(async move {
        let mut was_down = false;
        loop {
            let stopping = *shutdown.borrow();
            match ship(&db, &node, &store, mark).await {
                Ok(m) => {
                    if was_down {
                        tracing::info!("audit index shipped to the cluster again");
                        was_down = false;
                    }
                    mark = m;
                }
                Err((m, e)) => {
                    mark = m;
                    if !was_down {
                        tracing::warn!(error = %e, "audit index not shipped to the cluster; kept here and shipped when it can be");
                        was_down = true;
                    }
                }
            }
            if stopping {
                break;
            }
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                _ = shutdown.wait_for(|s| *s) => {}
            }
        }
    });
}

/// Ships batches until nothing is left or [`BATCHES_PER_TICK`]; returns the
/// mark reached (also with the error that stopped it).
async fn ship(
    db: &Db,
    node: &str,
    store: &Arc<Store>,
    mut mark: Shipped,
) -> Result<Shipped, (Shipped, ShipError)> {
    for _ in 0..BATCHES_PER_TICK {
        let s = store.clone();
        let changes = tokio::task::spawn_blocking(move || s.index().changes(mark, BATCH))
            .await
            .map_err(|e| (mark, e.into()))?
            .map_err(|e| (mark, e.into()))?;
        if changes.is_empty() {
            break;
        }
        write(db, node, &changes).await.map_err(|e| (mark, e))?;
        let next = changes.shipped_from(mark);
        let s = store.clone();
        tokio::task::spawn_blocking(move || s.index().set_shipped(next))
            .await
            .map_err(|e| (mark, e.into()))?
            .map_err(|e| (mark, e.into()))?;
        mark = next;
    }
    Ok(mark)
}

/// Writes one batch into the shared index. Each statement is whole on its
/// own (the connection is shared, so no transaction spans them); a batch
/// cut short by an error is written again whole next time.
async fn write(db: &Db, node: &str, changes: &Changes) -> Result<(), ShipError> {
    let client = db.client()?;
    if !changes.sessions.is_empty() {
        let put = client
            .prepare(
                "INSERT INTO audit_sessions
                 (id, node, user_name, groups, client_addr, app, start_ms, end_ms, end_reason, bytes, records, head)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
                 ON CONFLICT (id) DO UPDATE SET node = $2, user_name = $3, groups = $4,
                 client_addr = $5, app = $6, start_ms = $7, end_ms = $8, end_reason = $9,
                 bytes = $10, records = $11, head = $12",
            )
            .await?;
        let writes = changes.sessions.iter().map(|(_, s)| {
            let (bytes, records) = (s.bytes as i64, s.records as i64);
            let client = &client;
            let put = &put;
            async move {
                client
                    .execute(
                        put,
                        &[
                            &s.id,
                            &node,
                            &s.user,
                            &s.groups,
                            &s.client_addr,
                            &s.app,
                            &s.start_ms,
                            &s.end_ms,
                            &s.end_reason,
                            &bytes,
                            &records,
                            &s.head,
                        ],
                    )
                    .await
            }
        });
        futures::future::try_join_all(writes).await?;
    }
    if !changes.incidents.is_empty() {
        let put = client
            .prepare(
                "INSERT INTO audit_incidents
                 (session, seq, node, ts_ms, wall_ms, gate, decision, detectors, rule, user_name, app, url, reason)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
                 ON CONFLICT (session, seq) DO NOTHING",
            )
            .await?;
        let writes = changes.incidents.iter().map(|(_, _, i)| {
            let (seq, ts) = (i.seq as i64, i.ts_ms as i64);
            let client = &client;
            let put = &put;
            async move {
                client
                    .execute(
                        put,
                        &[
                            &i.session,
                            &seq,
                            &node,
                            &ts,
                            &i.wall_ms,
                            &i.gate,
                            &i.decision,
                            &i.detectors,
                            &i.rule,
                            &i.user,
                            &i.app,
                            &i.url,
                            &i.reason,
                        ],
                    )
                    .await
            }
        });
        futures::future::try_join_all(writes).await?;
    }
    if !changes.deleted.is_empty() {
        let ids: Vec<&str> = changes.deleted.iter().map(|(_, id)| id.as_str()).collect();
        client
            .execute(
                "DELETE FROM audit_incidents WHERE session = ANY($1) AND node = $2",
                &[&ids, &node],
            )
            .await?;
        client
            .execute(
                "DELETE FROM audit_sessions WHERE id = ANY($1) AND node = $2",
                &[&ids, &node],
            )
            .await?;
    }
    Ok(())
}

/// A query's text and its arguments, built clause by clause.
#[derive(Default)]
struct Sql {
    text: String,
    args: Vec<Box<dyn ToSql + Sync + Send>>,
}

impl Sql {
    fn new(text: &str) -> Sql {
        Sql {
            text: text.to_owned(),
            args: Vec::new(),
        }
    }

    /// Appends `clause` with its `$` standing for `value`.
    fn and(&mut self, clause: &str, value: impl ToSql + Sync + Send + 'static) {
        self.args.push(Box::new(value));
        let n = format!("${}", self.args.len());
        self.text.push_str(&clause.replace('$', &n));
    }

    async fn query(&self, db: &Db) -> Result<Vec<tokio_postgres::Row>, DbError> {
        let args: Vec<&(dyn ToSql + Sync)> = self
            .args
            .iter()
            .map(|a| a.as_ref() as &(dyn ToSql + Sync))
            .collect();
        Ok(db.client()?.query(&self.text, &args).await?)
    }
}

const SESSION_COLS: &str = "id, node, user_name, groups, client_addr, app, start_ms, end_ms, \
     end_reason, bytes, records, head";
const INCIDENT_COLS: &str = "session, seq, node, ts_ms, wall_ms, gate, decision, detectors, \
     rule, user_name, app, url, reason";

fn limit(l: Option<u32>) -> i64 {
    l.unwrap_or(100).clamp(1, 10_000).into()
}

fn session_of(r: &tokio_postgres::Row) -> Result<OnNode<SessionRow>, DbError> {
    let data = |e: tokio_postgres::Error| DbError::Data(format!("an audit session row: {e}"));
    Ok(OnNode {
        node: r.try_get(1).map_err(data)?,
        row: SessionRow {
            id: r.try_get(0).map_err(data)?,
            user: r.try_get(2).map_err(data)?,
            groups: r.try_get(3).map_err(data)?,
            client_addr: r.try_get(4).map_err(data)?,
            app: r.try_get(5).map_err(data)?,
            start_ms: r.try_get(6).map_err(data)?,
            end_ms: r.try_get(7).map_err(data)?,
            end_reason: r.try_get(8).map_err(data)?,
            bytes: r.try_get::<_, i64>(9).map_err(data)?.max(0) as u64,
            records: r.try_get::<_, i64>(10).map_err(data)?.max(0) as u64,
            head: r.try_get(11).map_err(data)?,
            path: PathBuf::new(),
        },
    })
}

fn incident_of(r: &tokio_postgres::Row) -> Result<OnNode<Incident>, DbError> {
    let data = |e: tokio_postgres::Error| DbError::Data(format!("an audit incident row: {e}"));
    Ok(OnNode {
        node: r.try_get(2).map_err(data)?,
        row: Incident {
            session: r.try_get(0).map_err(data)?,
            seq: r.try_get::<_, i64>(1).map_err(data)?.max(0) as u64,
            ts_ms: r.try_get::<_, i64>(3).map_err(data)?.max(0) as u64,
            wall_ms: r.try_get(4).map_err(data)?,
            gate: r.try_get(5).map_err(data)?,
            decision: r.try_get(6).map_err(data)?,
            detectors: r.try_get(7).map_err(data)?,
            rule: r.try_get(8).map_err(data)?,
            user: r.try_get(9).map_err(data)?,
            app: r.try_get(10).map_err(data)?,
            url: r.try_get(11).map_err(data)?,
            reason: r.try_get(12).map_err(data)?,
        },
    })
}

/// Sessions of every node matching `q`, newest first (the same criteria as
/// the local index's search).
pub async fn sessions(db: &Db, q: &SessionQuery) -> Result<Vec<OnNode<SessionRow>>, DbError> {
    let mut sql = Sql::new(&format!(
        "SELECT {SESSION_COLS} FROM audit_sessions WHERE true"
    ));
    if let Some(u) = &q.user {
        sql.and(" AND user_name = $", u.clone());
    }
    if let Some(a) = &q.app {
        sql.and(" AND app = $", a.clone());
    }
    if let Some(f) = q.from_ms {
        sql.and(" AND (end_ms IS NULL OR end_ms >= $)", f);
    }
    if let Some(t) = q.to_ms {
        sql.and(" AND start_ms <= $", t);
    }
    sql.and(" ORDER BY start_ms DESC, id LIMIT $", limit(q.limit));
    sql.query(db).await?.iter().map(session_of).collect()
}

/// One session of any node.
pub async fn session(db: &Db, id: &str) -> Result<Option<OnNode<SessionRow>>, DbError> {
    let mut sql = Sql::new(&format!("SELECT {SESSION_COLS} FROM audit_sessions"));
    sql.and(" WHERE id = $", id.to_owned());
    sql.query(db).await?.first().map(session_of).transpose()
}

/// Incidents of every node matching `q`, newest first.
pub async fn incidents(db: &Db, q: &IncidentQuery) -> Result<Vec<OnNode<Incident>>, DbError> {
    let mut sql = Sql::new(&format!(
        "SELECT {INCIDENT_COLS} FROM audit_incidents WHERE true"
    ));
    if let Some(v) = &q.session {
        sql.and(" AND session = $", v.clone());
    }
    if let Some(v) = &q.detector {
        sql.and(" AND detectors @> ARRAY[$::text]", v.clone());
    }
    if let Some(v) = &q.gate {
        sql.and(" AND gate = $", v.clone());
    }
    if let Some(v) = &q.decision {
        sql.and(" AND decision = $", v.clone());
    }
    if let Some(v) = &q.user {
        sql.and(" AND user_name = $", v.clone());
    }
    if let Some(v) = &q.app {
        sql.and(" AND app = $", v.clone());
    }
    if let Some(v) = q.from_ms {
        sql.and(" AND wall_ms >= $", v);
    }
    if let Some(v) = q.to_ms {
        sql.and(" AND wall_ms <= $", v);
    }
    sql.and(
        " ORDER BY wall_ms DESC, session, seq DESC LIMIT $",
        limit(q.limit),
    );
    sql.query(db).await?.iter().map(incident_of).collect()
}

#[cfg(test)]
mod tests {
    use super::Sql;

    #[test]
    fn clauses_number_their_arguments_in_order() {
        let mut sql = Sql::new("SELECT 1 WHERE true");
        sql.and(" AND a = $", "x".to_owned());
        sql.and(" AND b @> ARRAY[$::text]", "y".to_owned());
        sql.and(" LIMIT $", 5i64);
        assert_eq!(
            sql.text,
            "SELECT 1 WHERE true AND a = $1 AND b @> ARRAY[$2::text] LIMIT $3"
        );
        assert_eq!(sql.args.len(), 3);
    }
}
