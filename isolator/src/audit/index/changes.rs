//! What changed in the index since this node last shipped it to the
//! cluster's shared index (`cluster::audit`): rows stamped with a later
//! revision, and the tombstones of deleted sessions.
//!
//! Shipping is at least once: the marks move only after the shared index
//! took a batch, and writing a row there twice is harmless. A row changed
//! again after it was read has a newer revision and goes in the next batch.

use rusqlite::params;

use super::{incident_row, session_row, Incident, Index, SessionRow, INCIDENT_COLS, SESSION_COLS};
use crate::audit::error::Result;

/// How far shipping got: the last revision shipped of each kind of row
/// (-1: none yet; rows written before revisions existed have revision 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shipped {
    /// Session rows.
    pub sessions: i64,
    /// Incident rows.
    pub incidents: i64,
    /// Tombstones of deleted sessions.
    pub deleted: i64,
}

/// Rows changed after a [`Shipped`] mark, oldest first.
#[derive(Debug, Default)]
pub struct Changes {
    /// Sessions and their revisions.
    pub sessions: Vec<(i64, SessionRow)>,
    /// Incidents: revision, the row's id in this index, the incident.
    pub incidents: Vec<(i64, i64, Incident)>,
    /// Deleted sessions and the revisions of their tombstones.
    pub deleted: Vec<(i64, String)>,
}

impl Changes {
    /// Nothing changed.
    pub fn is_empty(&self) -> bool {
        self.sessions.is_empty() && self.incidents.is_empty() && self.deleted.is_empty()
    }

    /// The mark once this batch is shipped, from the mark it was read after.
    pub fn shipped_from(&self, from: Shipped) -> Shipped {
        Shipped {
            sessions: self.sessions.last().map_or(from.sessions, |r| r.0),
            incidents: self.incidents.last().map_or(from.incidents, |r| r.0),
            deleted: self.deleted.last().map_or(from.deleted, |r| r.0),
        }
    }
}

impl Shipped {
    /// Nothing shipped yet.
    pub const NONE: Shipped = Shipped {
        sessions: -1,
        incidents: -1,
        deleted: -1,
    };
}

const MARKS: [&str; 3] = ["shipped_sessions", "shipped_incidents", "shipped_deleted"];

impl Index {
    /// Turns shipping on (deleted sessions leave tombstones from now on,
    /// also after a restart) and returns how far it got before.
    pub fn start_shipping(&self) -> Result<Shipped> {
        self.conn
            .execute(
                "INSERT OR REPLACE INTO index_meta (key, value) VALUES ('shipping', 1)",
                [],
            )
            .map_err(self.err())?;
        self.tombstones.set(true);
        let mark = |key: &str| -> Result<i64> {
            self.conn
                .query_row(
                    "SELECT coalesce((SELECT value FROM index_meta WHERE key = ?1), -1)",
                    [key],
                    |r| r.get(0),
                )
                .map_err(self.err())
        };
        Ok(Shipped {
            sessions: mark(MARKS[0])?,
            incidents: mark(MARKS[1])?,
            deleted: mark(MARKS[2])?,
        })
    }

    /// At most `limit` rows of each kind changed after `after`.
    pub fn changes(&self, after: Shipped, limit: usize) -> Result<Changes> {
        let limit = limit as i64;
        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT {SESSION_COLS}, rev FROM sessions WHERE rev > ?1 ORDER BY rev LIMIT ?2"
            ))
            .map_err(self.err())?;
        let sessions = stmt
            .query_map(params![after.sessions, limit], |r| {
                Ok((r.get::<_, i64>(12)?, session_row(r)?))
            })
            .map_err(self.err())?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(self.err())?;
        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT {INCIDENT_COLS}, rev, id FROM incidents WHERE rev > ?1 ORDER BY rev LIMIT ?2"
            ))
            .map_err(self.err())?;
        let incidents = stmt
            .query_map(params![after.incidents, limit], |r| {
                Ok((r.get::<_, i64>(12)?, r.get::<_, i64>(13)?, incident_row(r)?))
            })
            .map_err(self.err())?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(self.err())?;
        let mut stmt = self
            .conn
            .prepare("SELECT rev, id FROM deleted_sessions WHERE rev > ?1 ORDER BY rev LIMIT ?2")
            .map_err(self.err())?;
        let deleted = stmt
            .query_map(params![after.deleted, limit], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .map_err(self.err())?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(self.err())?;
        Ok(Changes {
            sessions,
            incidents,
            deleted,
        })
    }

    /// Records that everything up to `marks` is in the shared index, and
    /// drops the tombstones it covers.
    pub fn set_shipped(&self, marks: Shipped) -> Result<()> {
        for (key, value) in MARKS
            .iter()
            .zip([marks.sessions, marks.incidents, marks.deleted])
        {
            self.conn
                .execute(
                    "INSERT OR REPLACE INTO index_meta (key, value) VALUES (?1, ?2)",
                    params![key, value],
                )
                .map_err(self.err())?;
        }
        self.conn
            .execute(
                "DELETE FROM deleted_sessions WHERE rev <= ?1",
                [marks.deleted],
            )
            .map_err(self.err())?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn session(id: &str) -> SessionRow {
        SessionRow {
            id: id.into(),
            user: "dana".into(),
            groups: vec!["staff".into()],
            client_addr: "127.0.0.1:5000".into(),
            app: None,
            start_ms: 1_700_000_000_000,
            end_ms: None,
            end_reason: None,
            bytes: 0,
            records: 0,
            head: None,
            path: PathBuf::from("/recordings/x"),
        }
    }

    fn incident(session: &str, seq: u64) -> Incident {
        Incident {
            session: session.into(),
            seq,
            ts_ms: seq * 10,
            wall_ms: 1_700_000_000_000 + seq as i64,
            gate: "paste".into(),
            decision: "block".into(),
            detectors: vec!["credit_card".into()],
            rule: Some("r".into()),
            user: "dana".into(),
            app: None,
            url: None,
            reason: "credit card".into(),
        }
    }

    #[test]
    fn each_change_ships_once_and_a_later_change_ships_again() {
        let dir = tempfile::tempdir().unwrap();
        let index = Index::open(&dir.path().join("i.sqlite")).unwrap();
        index.put_session(&session("a")).unwrap();
        index.put_session(&session("b")).unwrap();
        index.add_incident(&incident("a", 1)).unwrap();
        let from = index.start_shipping().unwrap();
        assert_eq!(from, Shipped::NONE);
        // A batch of one at a time: the marks walk the rows in order.
        let first = index.changes(from, 1).unwrap();
        assert_eq!(first.sessions[0].1.id, "a");
        let mark = first.shipped_from(from);
        index.set_shipped(mark).unwrap();
        let rest = index.changes(mark, 100).unwrap();
        assert_eq!(rest.sessions.len(), 1);
        assert_eq!(rest.sessions[0].1.id, "b");
        assert!(
            rest.incidents.is_empty(),
            "the incident went with the first batch"
        );
        let mark = rest.shipped_from(mark);
        index.set_shipped(mark).unwrap();
        assert!(index.changes(mark, 100).unwrap().is_empty());
        // "a" ends: its row goes again, with the end.
        index
            .end_session("a", 1_700_000_100_000, "closed", 10, 2, "ff")
            .unwrap();
        let again = index.changes(mark, 100).unwrap();
        assert_eq!(again.sessions.len(), 1);
        assert_eq!(again.sessions[0].1.end_reason.as_deref(), Some("closed"));
    }

    #[test]
    fn marks_and_tombstones_survive_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("i.sqlite");
        let mark = {
            let index = Index::open(&path).unwrap();
            index.put_session(&session("a")).unwrap();
            let from = index.start_shipping().unwrap();
            let c = index.changes(from, 100).unwrap();
            let mark = c.shipped_from(from);
            index.set_shipped(mark).unwrap();
            mark
        };
        let index = Index::open(&path).unwrap();
        // Shipping stays on: a deletion after the restart leaves a tombstone,
        // with a revision after every row written before.
        index.delete_session("a").unwrap();
        assert_eq!(index.start_shipping().unwrap(), mark);
        let c = index.changes(mark, 100).unwrap();
        assert_eq!(c.deleted.len(), 1);
        assert_eq!(c.deleted[0].1, "a");
        assert!(c.deleted[0].0 > mark.sessions);
        let mark = c.shipped_from(mark);
        index.set_shipped(mark).unwrap();
        assert!(index.changes(mark, 100).unwrap().is_empty());
    }

    #[test]
    fn without_shipping_a_deletion_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let index = Index::open(&dir.path().join("i.sqlite")).unwrap();
        index.put_session(&session("a")).unwrap();
        index.delete_session("a").unwrap();
        assert!(index
            .changes(Shipped::NONE, 100)
            .unwrap()
            .deleted
            .is_empty());
    }

    #[test]
    fn an_index_from_before_revisions_gains_them() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("i.sqlite");
        {
            let conn = rusqlite::Connection::open(&path).unwrap();
            conn.execute_batch(
                "CREATE TABLE sessions (id TEXT PRIMARY KEY, user TEXT NOT NULL, groups TEXT NOT NULL,
                 client_addr TEXT NOT NULL, app TEXT, start_ms INTEGER NOT NULL, end_ms INTEGER,
                 end_reason TEXT, bytes INTEGER NOT NULL DEFAULT 0, records INTEGER NOT NULL DEFAULT 0,
                 head TEXT, path TEXT NOT NULL);
                 INSERT INTO sessions VALUES ('old', 'dana', '[]', 'x', NULL, 1, NULL, NULL, 0, 0, NULL, '/r');
                 CREATE TABLE incidents (id INTEGER PRIMARY KEY, session TEXT NOT NULL, seq INTEGER NOT NULL,
                 ts_ms INTEGER NOT NULL, wall_ms INTEGER NOT NULL, gate TEXT NOT NULL, decision TEXT NOT NULL,
                 detectors TEXT NOT NULL, rule TEXT, user TEXT NOT NULL, app TEXT, url TEXT, reason TEXT NOT NULL);",
            )
            .unwrap();
        }
        let index = Index::open(&path).unwrap();
        assert_eq!(index.session("old").unwrap().unwrap().user, "dana");
        index.put_session(&session("new")).unwrap();
        // Rows from before have revision 0: the first shipping sends them.
        let c = index.changes(index.start_shipping().unwrap(), 100).unwrap();
        let ids: Vec<&str> = c.sessions.iter().map(|s| s.1.id.as_str()).collect();
        assert_eq!(ids, ["old", "new"]);
    }
}
