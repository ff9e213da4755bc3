//! Hash-chained JSON-lines logs (the retention log, the access log).
//!
//! One JSON object per line, written with a single `write` and synced. Each
//! entry carries `seq` (from 0), `prev` (the previous entry's hash, zeros
//! first) and `hash` = SHA-256 of the entry's JSON with `hash` empty, so
//! removing, editing or reordering an entry shows on verification.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use serde::de::DeserializeOwned;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::error::{format, io, Result};

/// An entry of a chained log: exposes its chain fields.
pub trait Chained: Serialize + DeserializeOwned + Clone {
    /// `(seq, prev, hash)` of the entry.
    fn links(&mut self) -> (&mut u64, &mut String, &mut String);
}

/// The hash of the first entry's `prev`.
pub fn zero_hash() -> String {
    hex::encode([0u8; 32])
}

fn compute_hash<T: Chained>(entry: &T) -> String {
    let mut body = entry.clone();
    body.links().2.clear();
    let json = serde_json::to_vec(&body).expect("entry serializes");
    hex::encode(Sha256::digest(&json))
}

/// The `(next seq, last hash)` of the log at `path`, verifying it; a missing
/// log is an empty one.
pub fn tail<T: Chained>(path: &Path) -> Result<(u64, String)> {
    let entries: Vec<T> = verify::<T>(path)?;
    Ok(match entries.last() {
        Some(e) => {
            let mut e = e.clone();
            let (seq, _, hash) = e.links();
            (*seq + 1, hash.clone())
        }
        None => (0, zero_hash()),
    })
}

/// Appends `entry` after `(seq, prev)` (from [`tail`] or the last append),
/// filling its chain fields, and syncs. Returns the entry as written.
pub fn append_after<T: Chained>(path: &Path, mut entry: T, after: (u64, String)) -> Result<T> {
    {
        let (seq, prev, _) = entry.links();
        *seq = after.0;
        *prev = after.1;
    }
    let hash = compute_hash(&entry);
    *entry.links().2 = hash;
    let mut line = serde_json::to_vec(&entry).expect("entry serializes");
    line.push(b'\n');
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)
        .map_err(io(path))?;
    file.write_all(&line).map_err(io(path))?;
    file.sync_all().map_err(io(path))?;
    Ok(entry)
}

/// Appends `entry` at the end of the log (verifying it first).
pub fn append<T: Chained>(path: &Path, entry: T) -> Result<T> {
    let after = tail::<T>(path)?;
    append_after(path, entry, after)
}

/// Reads and verifies a log; an error names the first bad line. A missing
/// log is an empty one.
pub fn verify<T: Chained>(path: &Path) -> Result<Vec<T>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io(path)(e)),
    };
    let mut out: Vec<T> = Vec::new();
    let mut prev = zero_hash();
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        let mut entry: T = serde_json::from_str(line)
            .map_err(|e| format(path, format!("line {n}: not a log entry: {e}")))?;
        let computed = compute_hash(&entry);
        let (seq, eprev, hash) = entry.links();
        if *seq != i as u64 {
            return Err(format(
                path,
                format!("line {n}: entry #{seq} where #{i} was expected (deleted or reordered)"),
            ));
        }
        if *eprev != prev {
            return Err(format(
                path,
                format!("line {n}: chain broken (prev does not match line {i})"),
            ));
        }
        if computed != *hash {
            return Err(format(
                path,
                format!("line {n}: entry was edited (hash mismatch)"),
            ));
        }
        prev = hash.clone();
        out.push(entry);
    }
    if !text.is_empty() && !text.ends_with('\n') {
        return Err(format(path, "the last line is incomplete"));
    }
    Ok(out)
}
