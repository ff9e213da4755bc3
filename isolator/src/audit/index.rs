//! The SQLite index of sessions and incidents, `<root>/index.sqlite`.
//!
//! The index is for finding things; the recordings are the evidence. It holds
//! one row per session (who, which app, when, how it ended, size, chain head)
//! and one row per incident (a decision that blocked, audited, or on which a
//! detector fired), each pointing at its record number and time in the
//! recording so a search result links to the moment in the replay.
//! Detectors are stored as `,a,b,` so "incidents by detector" is an exact
//! `LIKE '%,id,%'` match.
//!
//! Every write stamps its row with a revision from one counter, and a
//! session deleted while shipping is on leaves a tombstone, so a cluster
//! node can ship what changed to the shared index ([`changes`]).

mod changes;

pub use changes::{Changes, Shipped};

use std::cell::Cell;
use std::path::{Path, PathBuf};

use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};

use super::error::{Error, Result};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    user TEXT NOT NULL,
    groups TEXT NOT NULL,
    client_addr TEXT NOT NULL,
    app TEXT,
    start_ms INTEGER NOT NULL,
    end_ms INTEGER,
    end_reason TEXT,
    bytes INTEGER NOT NULL DEFAULT 0,
    records INTEGER NOT NULL DEFAULT 0,
    head TEXT,
    path TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_user ON sessions(user, start_ms);
CREATE INDEX IF NOT EXISTS sessions_start ON sessions(start_ms);
CREATE TABLE IF NOT EXISTS incidents (
    id INTEGER PRIMARY KEY,
    session TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    ts_ms INTEGER NOT NULL,
    wall_ms INTEGER NOT NULL,
    gate TEXT NOT NULL,
    decision TEXT NOT NULL,
    detectors TEXT NOT NULL,
    rule TEXT,
    user TEXT NOT NULL,
    app TEXT,
    url TEXT,
    reason TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS incidents_wall ON incidents(wall_ms);
CREATE INDEX IF NOT EXISTS incidents_session ON incidents(session, ts_ms);
CREATE TABLE IF NOT EXISTS index_meta (
    key TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS deleted_sessions (
    id TEXT PRIMARY KEY,
    rev INTEGER NOT NULL
);
";

/// Columns added after the first release, with their definitions; added to
/// an older index when it is opened.
const ADDED_COLUMNS: &[(&str, &str, &str)] = &[
    ("sessions", "rev", "INTEGER NOT NULL DEFAULT 0"),
    ("incidents", "rev", "INTEGER NOT NULL DEFAULT 0"),
];

const REV_INDEXES: &str = "
CREATE INDEX IF NOT EXISTS sessions_rev ON sessions(rev);
CREATE INDEX IF NOT EXISTS incidents_rev ON incidents(rev);
";

/// A session as the index knows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRow {
    /// Session id.
    pub id: String,
    /// User name.
    pub user: String,
    /// Groups.
    pub groups: Vec<String>,
    /// Client address.
    pub client_addr: String,
    /// Application (first site visited unless set at start).
    pub app: Option<String>,
    /// Start, Unix milliseconds.
    pub start_ms: i64,
    /// End, Unix milliseconds; `None` while live (or after a crash).
    pub end_ms: Option<i64>,
    /// Why it ended.
    pub end_reason: Option<String>,
    /// Bytes of recording.
    pub bytes: u64,
    /// Records in the recording (as of the last update).
    pub records: u64,
    /// Final chain hash, hex, once ended.
    pub head: Option<String>,
    /// Session directory.
    pub path: PathBuf,
}

/// An incident: a decision worth finding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Incident {
    /// Session id.
    pub session: String,
    /// Record number in the recording.
    pub seq: u64,
    /// Milliseconds since session start (the replay position).
    pub ts_ms: u64,
    /// Unix milliseconds.
    pub wall_ms: i64,
    /// Gate.
    pub gate: String,
    /// `allow`, `block` or `audit`.
    pub decision: String,
    /// Detector ids.
    pub detectors: Vec<String>,
    /// Deciding rule.
    pub rule: Option<String>,
    /// User.
    pub user: String,
    /// Application.
    pub app: Option<String>,
    /// Page URL.
    pub url: Option<String>,
    /// Reason.
    pub reason: String,
}

/// Session search criteria; `None` fields match anything.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct SessionQuery {
    /// Exact user.
    pub user: Option<String>,
    /// Exact app.
    pub app: Option<String>,
    /// Sessions still running at or after this time (Unix ms).
    pub from_ms: Option<i64>,
    /// Sessions started at or before this time (Unix ms).
    pub to_ms: Option<i64>,
    /// Most rows (default 100, at most 10000).
    pub limit: Option<u32>,
}

/// Incident search criteria; `None` fields match anything.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct IncidentQuery {
    /// Exact session.
    pub session: Option<String>,
    /// A detector id among the incident's detectors.
    pub detector: Option<String>,
    /// Exact gate.
    pub gate: Option<String>,
    /// Exact decision.
    pub decision: Option<String>,
    /// Exact user.
    pub user: Option<String>,
    /// Exact app.
    pub app: Option<String>,
    /// At or after (Unix ms).
    pub from_ms: Option<i64>,
    /// At or before (Unix ms).
    pub to_ms: Option<i64>,
    /// Most rows (default 100, at most 10000).
    pub limit: Option<u32>,
}

/// The index database.
#[derive(Debug)]
pub struct Index {
    conn: Connection,
    path: PathBuf,
    /// The last revision stamped on a row.
    rev: Cell<i64>,
    /// Deleted sessions leave a tombstone (a cluster node ships them).
    tombstones: Cell<bool>,
}

impl Index {
    /// Opens (creating if needed) the index at `path`.
    pub fn open(path: &Path) -> Result<Index> {
        let err = |source| Error::Index {
            path: path.to_owned(),
            source,
        };
        let conn = Connection::open(path).map_err(err)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(err)?;
        conn.execute_batch("PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON;")
            .map_err(err)?;
        conn.execute_batch(SCHEMA).map_err(err)?;
        for (table, column, definition) in ADDED_COLUMNS {
            let has: bool = conn
                .query_row(
                    &format!("SELECT count(*) FROM pragma_table_info('{table}') WHERE name = ?1"),
                    [column],
                    |r| r.get::<_, i64>(0).map(|n| n > 0),
                )
                .map_err(err)?;
            if !has {
                conn.execute_batch(&format!(
                    "ALTER TABLE {table} ADD COLUMN {column} {definition}"
                ))
                .map_err(err)?;
            }
        }
        conn.execute_batch(REV_INDEXES).map_err(err)?;
        let rev: i64 = conn
            .query_row(
                "SELECT max(coalesce((SELECT max(rev) FROM sessions), 0),
                            coalesce((SELECT max(rev) FROM incidents), 0),
                            coalesce((SELECT max(rev) FROM deleted_sessions), 0))",
                [],
                |r| r.get(0),
            )
            .map_err(err)?;
        let tombstones: bool = conn
            .query_row(
                "SELECT count(*) FROM index_meta WHERE key = 'shipping' AND value = 1",
                [],
                |r| r.get::<_, i64>(0).map(|n| n > 0),
            )
            .map_err(err)?;
        Ok(Index {
            conn,
            path: path.to_owned(),
            rev: Cell::new(rev),
            tombstones: Cell::new(tombstones),
        })
    }

    /// The next revision for a row being written.
    fn next_rev(&self) -> i64 {
        self.rev.set(self.rev.get() + 1);
        self.rev.get()
    }

    fn err(&self) -> impl FnOnce(rusqlite::Error) -> Error + '_ {
        |source| Error::Index {
            path: self.path.clone(),
            source,
        }
    }

    /// Adds or replaces a session row.
    pub fn put_session(&self, s: &SessionRow) -> Result<()> {
        self.conn
            .execute(
                "INSERT OR REPLACE INTO sessions
                 (id, user, groups, client_addr, app, start_ms, end_ms, end_reason, bytes, records, head, path, rev)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
                params![
                    s.id,
                    s.user,
                    serde_json::to_string(&s.groups).unwrap_or_default(),
                    s.client_addr,
                    s.app,
                    s.start_ms,
                    s.end_ms,
                    s.end_reason,
                    s.bytes as i64,
                    s.records as i64,
                    s.head,
                    s.path.to_string_lossy(),
                    self.next_rev(),
                ],
            )
            .map_err(self.err())?;
        Ok(())
    }

    /// Sets a session's app if it has none.
    pub fn set_app(&self, id: &str, app: &str) -> Result<()> {
        self.conn
            .execute(
                "UPDATE sessions SET app = ?2, rev = ?3 WHERE id = ?1 AND app IS NULL",
                params![id, app, self.next_rev()],
            )
            .map_err(self.err())?;
        Ok(())
    }

    /// Updates a live session's size.
    pub fn set_progress(&self, id: &str, bytes: u64, records: u64) -> Result<()> {
        self.conn
            .execute(
                "UPDATE sessions SET bytes = ?2, records = ?3, rev = ?4 WHERE id = ?1",
                params![id, bytes as i64, records as i64, self.next_rev()],
            )
            .map_err(self.err())?;
        Ok(())
    }

    /// Marks a session ended.
    pub fn end_session(
        &self,
        id: &str,
        end_ms: i64,
        reason: &str,
        bytes: u64,
        records: u64,
        head: &str,
    ) -> Result<()> {
        self.conn
            .execute(
                "UPDATE sessions SET end_ms = ?2, end_reason = ?3, bytes = ?4, records = ?5, head = ?6,
                 rev = ?7 WHERE id = ?1",
                params![id, end_ms, reason, bytes as i64, records as i64, head, self.next_rev()],
            )
            .map_err(self.err())?;
        Ok(())
    }

    /// Adds an incident.
    pub fn add_incident(&self, i: &Incident) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO incidents
                 (session, seq, ts_ms, wall_ms, gate, decision, detectors, rule, user, app, url, reason, rev)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
                params![
                    i.session,
                    i.seq as i64,
                    i.ts_ms as i64,
                    i.wall_ms,
                    i.gate,
                    i.decision,
                    join_detectors(&i.detectors),
                    i.rule,
                    i.user,
                    i.app,
                    i.url,
                    i.reason,
                    self.next_rev(),
                ],
            )
            .map_err(self.err())?;
        Ok(())
    }

    /// One session by id.
    pub fn session(&self, id: &str) -> Result<Option<SessionRow>> {
        self.conn
            .query_row(
                &format!("SELECT {SESSION_COLS} FROM sessions WHERE id = ?1"),
                [id],
                session_row,
            )
            .optional()
            .map_err(self.err())
    }

    /// Sessions matching `q`, newest first.
    pub fn sessions(&self, q: &SessionQuery) -> Result<Vec<SessionRow>> {
        let mut sql = format!("SELECT {SESSION_COLS} FROM sessions WHERE 1=1");
        let mut args: Vec<rusqlite::types::Value> = Vec::new();
        let mut add = |clause: &str, v: rusqlite::types::Value| {
            args.push(v);
            sql.push_str(&clause.replace('?', &format!("?{}", args.len())));
        };
        if let Some(u) = &q.user {
            add(" AND user = ?", u.clone().into());
        }
        if let Some(a) = &q.app {
            add(" AND app = ?", a.clone().into());
        }
        if let Some(f) = q.from_ms {
            add(" AND (end_ms IS NULL OR end_ms >= ?)", f.into());
        }
        if let Some(t) = q.to_ms {
            add(" AND start_ms <= ?", t.into());
        }
        sql.push_str(&format!(" ORDER BY start_ms DESC LIMIT {}", limit(q.limit)));
        self.query(&sql, args, session_row)
    }

    /// Sessions oldest first (for retention).
    pub fn sessions_oldest_first(&self) -> Result<Vec<SessionRow>> {
        self.query(
            &format!("SELECT {SESSION_COLS} FROM sessions ORDER BY start_ms ASC"),
            Vec::new(),
            session_row,
        )
    }

    /// Incidents matching `q`, newest first.
    pub fn incidents(&self, q: &IncidentQuery) -> Result<Vec<Incident>> {
        let mut sql = format!("SELECT {INCIDENT_COLS} FROM incidents WHERE 1=1");
        let mut args: Vec<rusqlite::types::Value> = Vec::new();
        let mut add = |clause: &str, v: rusqlite::types::Value| {
            args.push(v);
            sql.push_str(&clause.replace('?', &format!("?{}", args.len())));
        };
        if let Some(v) = &q.session {
            add(" AND session = ?", v.clone().into());
        }
        if let Some(v) = &q.detector {
            let escaped = v
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            add(
                " AND detectors LIKE ? ESCAPE '\\'",
                format!("%,{escaped},%").into(),
            );
        }
        if let Some(v) = &q.gate {
            add(" AND gate = ?", v.clone().into());
        }
        if let Some(v) = &q.decision {
            add(" AND decision = ?", v.clone().into());
        }
        if let Some(v) = &q.user {
            add(" AND user = ?", v.clone().into());
        }
        if let Some(v) = &q.app {
            add(" AND app = ?", v.clone().into());
        }
        if let Some(v) = q.from_ms {
            add(" AND wall_ms >= ?", v.into());
        }
        if let Some(v) = q.to_ms {
            add(" AND wall_ms <= ?", v.into());
        }
        sql.push_str(&format!(
            " ORDER BY wall_ms DESC, id DESC LIMIT {}",
            limit(q.limit)
        ));
        self.query(&sql, args, incident_row)
    }

    /// Removes a session and its incidents.
    pub fn delete_session(&self, id: &str) -> Result<()> {
        self.conn
            .execute("DELETE FROM incidents WHERE session = ?1", [id])
            .map_err(self.err())?;
        self.conn
            .execute("DELETE FROM sessions WHERE id = ?1", [id])
            .map_err(self.err())?;
        if self.tombstones.get() {
            self.conn
                .execute(
                    "INSERT OR REPLACE INTO deleted_sessions (id, rev) VALUES (?1, ?2)",
                    params![id, self.next_rev()],
                )
                .map_err(self.err())?;
        }
        Ok(())
    }

    fn query<T>(
        &self,
        sql: &str,
        args: Vec<rusqlite::types::Value>,
        map: fn(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Vec<T>> {
        let mut stmt = self.conn.prepare(sql).map_err(self.err())?;
        let rows = stmt
            .query_map(rusqlite::params_from_iter(args), map)
            .map_err(self.err())?;
        rows.collect::<rusqlite::Result<Vec<T>>>()
            .map_err(self.err())
    }
}

const SESSION_COLS: &str =
    "id, user, groups, client_addr, app, start_ms, end_ms, end_reason, bytes, records, head, path";
const INCIDENT_COLS: &str =
    "session, seq, ts_ms, wall_ms, gate, decision, detectors, rule, user, app, url, reason";

fn limit(l: Option<u32>) -> u32 {
    l.unwrap_or(100).clamp(1, 10_000)
}

fn join_detectors(d: &[String]) -> String {
    format!(",{},", d.join(","))
}

fn session_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<SessionRow> {
    let groups: String = r.get(2)?;
    Ok(SessionRow {
        id: r.get(0)?,
        user: r.get(1)?,
        groups: serde_json::from_str(&groups).unwrap_or_default(),
        client_addr: r.get(3)?,
        app: r.get(4)?,
        start_ms: r.get(5)?,
        end_ms: r.get(6)?,
        end_reason: r.get(7)?,
        bytes: r.get::<_, i64>(8)? as u64,
        records: r.get::<_, i64>(9)? as u64,
        head: r.get(10)?,
        path: PathBuf::from(r.get::<_, String>(11)?),
    })
}

fn incident_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Incident> {
    let detectors: String = r.get(6)?;
    Ok(Incident {
        session: r.get(0)?,
        seq: r.get::<_, i64>(1)? as u64,
        ts_ms: r.get::<_, i64>(2)? as u64,
        wall_ms: r.get(3)?,
        gate: r.get(4)?,
        decision: r.get(5)?,
        detectors: detectors
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        rule: r.get(7)?,
        user: r.get(8)?,
        app: r.get(9)?,
        url: r.get(10)?,
        reason: r.get(11)?,
    })
}
