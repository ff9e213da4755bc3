//! The keyframe index sidecar, `keyframes.idx`.
//!
//! An 8-byte magic followed by fixed-size 32-byte entries:
//! `mono_ms u64 | frame segment u32 | frame offset u64 | resume segment u32 | resume offset u64`.
//! `frame` is where the full JPEG of the screen at `mono_ms` is stored
//! (possibly much earlier, when the frame was deduplicated); `resume` is the
//! record after which reading continues. Fixed-size entries make a torn tail
//! harmless (ignored) and seeking a binary search.
//!
//! The index is not part of the hash chain: it is a hint, rebuilt by nothing
//! and trusted for nothing. The reader checks every location it follows.

use std::path::Path;

use super::error::{format, io, Result};
use super::format::Location;

/// File name of the sidecar in a session directory.
pub const FILE_NAME: &str = "keyframes.idx";
/// Magic at the start of the file.
pub const MAGIC: &[u8; 8] = b"ISOKF001";
/// Size of one entry.
pub const ENTRY_LEN: usize = 32;

/// One keyframe entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Keyframe {
    /// Milliseconds since session start.
    pub mono_ms: u64,
    /// Where the full frame is.
    pub frame: Location,
    /// Where to continue reading after showing the frame.
    pub resume: Location,
}

impl Keyframe {
    /// Encodes the entry.
    pub fn encode(&self) -> [u8; ENTRY_LEN] {
        let mut b = [0; ENTRY_LEN];
        b[..8].copy_from_slice(&self.mono_ms.to_le_bytes());
        b[8..12].copy_from_slice(&self.frame.segment.to_le_bytes());
        b[12..20].copy_from_slice(&self.frame.offset.to_le_bytes());
        b[20..24].copy_from_slice(&self.resume.segment.to_le_bytes());
        b[24..].copy_from_slice(&self.resume.offset.to_le_bytes());
        b
    }

    fn decode(b: &[u8]) -> Keyframe {
        use super::format::{u32_at, u64_at};
        Keyframe {
            mono_ms: u64_at(b, 0),
            frame: Location {
                segment: u32_at(b, 8),
                offset: u64_at(b, 12),
            },
            resume: Location {
                segment: u32_at(b, 20),
                offset: u64_at(b, 24),
            },
        }
    }
}

/// Parses a keyframe index; a torn last entry is ignored and entries must be
/// in time order (a file that is not is rejected, naming the entry).
pub fn parse(bytes: &[u8], path: &Path) -> Result<Vec<Keyframe>> {
    if bytes.is_empty() {
        return Ok(Vec::new());
    }
    if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
        return Err(format(path, "not a keyframe index (bad magic)"));
    }
    let mut out: Vec<Keyframe> = Vec::new();
    for (i, chunk) in bytes[MAGIC.len()..].chunks_exact(ENTRY_LEN).enumerate() {
        let kf = Keyframe::decode(chunk);
        if out.last().is_some_and(|prev| prev.mono_ms > kf.mono_ms) {
            return Err(format(path, format!("entry {i} goes back in time")));
        }
        out.push(kf);
    }
    Ok(out)
}

/// Reads and parses the keyframe index of a session directory (empty if absent).
pub fn load(dir: &Path) -> Result<Vec<Keyframe>> {
    let path = dir.join(FILE_NAME);
    match std::fs::read(&path) {
        Ok(bytes) => parse(&bytes, &path),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(io(&path)(e)),
    }
}

/// The last keyframe at or before `mono_ms`.
pub fn lookup(keyframes: &[Keyframe], mono_ms: u64) -> Option<&Keyframe> {
    let n = keyframes.partition_point(|k| k.mono_ms <= mono_ms);
    n.checked_sub(1).map(|i| &keyframes[i])
}
