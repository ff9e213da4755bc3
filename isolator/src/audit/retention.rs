//! The retention log, `<root>/retention.log`: every deletion, hash-chained.
//!
//! One JSON object per line, written with a single `write` and synced. Each
//! entry carries `prev` (the previous entry's hash, zeros first) and `hash`
//! = SHA-256 of the entry's JSON without `hash`, so removing, editing or
//! reordering a deletion record shows. Entries name the deleted recording's
//! chain head: the log proves what was deleted, not just that something was.

use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::error::{format, io, Result};

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

impl RetentionEntry {
    fn compute_hash(&self) -> String {
        let mut body = self.clone();
        body.hash = String::new();
        let json = serde_json::to_vec(&body).expect("entry serializes");
        hex::encode(Sha256::digest(&json))
    }
}

/// The last entry's (seq, hash) of the log at `path`, verifying it.
fn tail(path: &Path) -> Result<(u64, String)> {
    let entries = verify_retention_log(path)?;
    Ok(entries
        .last()
        .map(|e| (e.seq + 1, e.hash.clone()))
        .unwrap_or((0, hex::encode([0u8; 32]))))
}

/// Appends a deletion to the log (filling `seq`, `prev` and `hash`) and syncs.
pub fn append(path: &Path, mut entry: RetentionEntry) -> Result<RetentionEntry> {
    let (seq, prev) = if path.exists() {
        tail(path)?
    } else {
        (0, hex::encode([0u8; 32]))
    };
    entry.seq = seq;
    entry.prev = prev;
    entry.hash = entry.compute_hash();
    let mut line = serde_json::to_vec(&entry).expect("entry serializes");
    line.push(b'\n');
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(io(path))?;
    file.write_all(&line).map_err(io(path))?;
    file.sync_all().map_err(io(path))?;
    Ok(entry)
}

/// Reads and verifies the retention log; an error names the first bad line.
/// A missing log is an empty one.
pub fn verify_retention_log(path: &Path) -> Result<Vec<RetentionEntry>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io(path)(e)),
    };
    let mut out: Vec<RetentionEntry> = Vec::new();
    let mut prev = hex::encode([0u8; 32]);
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        let entry: RetentionEntry = serde_json::from_str(line)
            .map_err(|e| format(path, format!("line {n}: not a retention entry: {e}")))?;
        if entry.seq != i as u64 {
            return Err(format(
                path,
                format!(
                    "line {n}: entry #{} where #{i} was expected (deleted or reordered)",
                    entry.seq
                ),
            ));
        }
        if entry.prev != prev {
            return Err(format(
                path,
                format!("line {n}: chain broken (prev does not match line {i})"),
            ));
        }
        if entry.compute_hash() != entry.hash {
            return Err(format(
                path,
                format!("line {n}: entry was edited (hash mismatch)"),
            ));
        }
        prev = entry.hash.clone();
        out.push(entry);
    }
    if !text.is_empty() && !text.ends_with('\n') {
        return Err(format(path, "the last line is incomplete"));
    }
    Ok(out)
}
