//! The retention log, `<root>/retention.log`: every deletion, hash-chained.
//!
//! A [`chainlog`] (one JSON object per line, each committing to the previous
//! one), so removing, editing or reordering a deletion record shows. Entries name the deleted recording's
//! chain head: the log proves what was deleted, not just that something was.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::chainlog::{self, Chained};
use super::error::Result;

/// File name of the retention log under the store root.
pub const FILE_NAME: &str = "retention.log";

/// One deletion.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetentionEntry {
    /// Entry number, from 0.
    pub seq: u64,
    /// When the deletion happened (Unix ms).
    pub wall_ms: i64,
    /// The deleted session.
    pub session: String,
    /// Its user.
    pub user: String,
    /// When it started (Unix ms).
    pub start_ms: i64,
    /// Bytes freed.
    pub bytes: u64,
    /// The recording's chain head (hex), if it had ended.
    pub head: Option<String>,
    /// Why: `"older than N days"` or `"total size over N bytes"`.
    pub reason: String,
    /// Previous entry's hash (hex).
    pub prev: String,
    /// This entry's hash (hex).
    #[serde(default)]
    pub hash: String,
}

impl Chained for RetentionEntry {
    fn links(&mut self) -> (&mut u64, &mut String, &mut String) {
        (&mut self.seq, &mut self.prev, &mut self.hash)
    }
}

/// Appends a deletion to the log (filling `seq`, `prev` and `hash`) and syncs.
pub fn append(path: &Path, entry: RetentionEntry) -> Result<RetentionEntry> {
    chainlog::append(path, entry)
}

/// Reads and verifies the retention log; an error names the first bad line.
/// A missing log is an empty one.
pub fn verify_retention_log(path: &Path) -> Result<Vec<RetentionEntry>> {
    chainlog::verify(path)
}
