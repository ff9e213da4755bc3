//! The access log, `<root>/access.log`: every view of a recording.
//!
//! Who looked at which session, how (`view`, `replay`, `export`) and when,
//! as a hash-chained [`chainlog`] like the retention log: an auditor's own
//! access is evidence too, and cannot be quietly removed. Each entry is also
//! a `tracing` line (target `isolator::audit_access`).
//!
//! Replay fetches chunks of a recording while it plays; those are one
//! `replay` view per user and session every [`COALESCE`], not one entry per
//! chunk, so the log stays readable.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::chainlog::{self, Chained};
use super::error::Result;

/// File name of the access log under the store root.
pub const FILE_NAME: &str = "access.log";

/// Repeated `replay` fetches by one user of one session within this window
/// are one view.
pub const COALESCE: Duration = Duration::from_secs(600);

/// One view of a recording.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessEntry {
    /// Entry number, from 0.
    pub seq: u64,
    /// When (Unix ms).
    pub wall_ms: i64,
    /// Who (the admin or auditor).
    pub user: String,
    /// From where.
    pub client_addr: String,
    /// The session viewed.
    pub session: String,
    /// `view` (details and events), `replay` (frames), `export` (bundle download).
    pub what: String,
    /// Previous entry's hash (hex).
    pub prev: String,
    /// This entry's hash (hex).
    #[serde(default)]
    pub hash: String,
}

impl Chained for AccessEntry {
    fn links(&mut self) -> (&mut u64, &mut String, &mut String) {
        (&mut self.seq, &mut self.prev, &mut self.hash)
    }
}

/// The access log of a store root; appends are serialized.
#[derive(Debug)]
pub struct AccessLog {
    path: PathBuf,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    tail: Option<(u64, String)>,
    recent: HashMap<(String, String, String), Instant>,
}

impl AccessLog {
    /// The log under `root` (read on first append).
    pub fn new(root: &Path) -> AccessLog {
        AccessLog {
            path: root.join(FILE_NAME),
            state: Mutex::default(),
        }
    }

    /// Where the log is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Records a view (and logs it); returns the entry written, or `None`
    /// when a `replay` view was coalesced with a recent one.
    pub fn record(
        &self,
        user: &str,
        client_addr: &str,
        session: &str,
        what: &str,
        wall_ms: i64,
    ) -> Result<Option<AccessEntry>> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let key = (user.to_owned(), session.to_owned(), what.to_owned());
        if what == "replay" {
            if let Some(at) = state.recent.get(&key) {
                if at.elapsed() < COALESCE {
                    return Ok(None);
                }
            }
        }
        let after = match state.tail.take() {
            Some(t) => t,
            None => chainlog::tail::<AccessEntry>(&self.path)?,
        };
        let entry = AccessEntry {
            seq: 0,
            wall_ms,
            user: user.to_owned(),
            client_addr: client_addr.to_owned(),
            session: session.to_owned(),
            what: what.to_owned(),
            prev: String::new(),
            hash: String::new(),
        };
        // On failure the tail stays unknown: the next append re-reads (and
        // re-verifies) the file.
        let entry = chainlog::append_after(&self.path, entry, after)?;
        state.tail = Some((entry.seq + 1, entry.hash.clone()));
        state.recent.retain(|_, at| at.elapsed() < COALESCE);
        state.recent.insert(key, Instant::now());
        tracing::info!(
            target: "isolator::audit_access",
            user, client = client_addr, session, what, seq = entry.seq,
            "recording accessed"
        );
        Ok(Some(entry))
    }

    /// Reads and verifies the log.
    pub fn entries(&self) -> Result<Vec<AccessEntry>> {
        chainlog::verify(&self.path)
    }
}
