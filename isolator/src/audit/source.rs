//! Where a recording's files are: a local directory or the bucket.
//!
//! Every reader of recordings (the player, export, `isolator audit verify`)
//! asks [`SegmentSource::of_row`] where an indexed session is, then
//! [`SegmentSource::local_copy`] for a directory to read: the session's own
//! directory when it is on this node's disk, else a download of its objects
//! (segments and keyframe index, each size-limited) into a private directory.
//! The [`Reader`](super::Reader) and [`verify`](super::verify) then work as
//! on any local recording, so a recording read from the bucket verifies (or
//! fails to) exactly like the same files on disk.
//!
//! Downloads go either to a temporary directory removed after use (the CLI)
//! or to a cache, `<dir>/.bucket-cache/<session>/` (the player asks for the
//! same recording chunk after chunk). A cached file is reused only while its
//! object's entity tag and size are unchanged in the bucket (one listing per
//! use), so a replaced object is downloaded again and verified as it is now.
//! The cache keeps at most `cache_max_bytes`, dropping the least recently
//! used sessions.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::bucket::Bucket;
use super::error::{io, Error, Result};
use super::format;
use super::index::SessionRow;
use super::keyframes;
use super::recorder::utc_date;

/// Name of the download cache under the recordings root.
pub const CACHE_DIR: &str = ".bucket-cache";
/// File whose modification time marks a cached session's last use.
const USED: &str = ".used";

/// Where a session's segments and keyframe index are read from.
#[derive(Clone, Debug)]
pub enum SegmentSource {
    /// A session directory on this node's disk.
    Local(PathBuf),
    /// Objects `<key>/NNNNNN.seg` and `<key>/keyframes.idx` in a bucket.
    Bucket {
        /// The bucket.
        bucket: Arc<Bucket>,
        /// The session's key (`<prefix>/<yyyy-mm-dd>/<session>`).
        key: String,
        /// The session id.
        session: String,
    },
}

/// A local directory holding a recording, valid while this value lives (a
/// temporary download is removed when it is dropped).
#[derive(Debug)]
pub struct LocalCopy {
    dir: PathBuf,
    _temp: Option<tempfile::TempDir>,
}

impl LocalCopy {
    /// The directory to read.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl SegmentSource {
    /// The source of an indexed session: its directory when it exists on this
    /// node, else the bucket (when configured), where its key follows from
    /// the row (start date and id), whichever node recorded it.
    pub fn of_row(row: &SessionRow, bucket: Option<&Arc<Bucket>>) -> Result<SegmentSource> {
        super::recorder::check_session_id(&row.id)?;
        if row.path.is_dir() {
            return Ok(SegmentSource::Local(row.path.clone()));
        }
        match bucket {
            Some(b) => Ok(SegmentSource::Bucket {
                bucket: b.clone(),
                key: b.session_key(&utc_date(row.start_ms), &row.id),
                session: row.id.clone(),
            }),
            None => Err(Error::Io {
                path: row.path.clone(),
                source: std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "the recording is not on this node and no audit.object_store is configured",
                ),
            }),
        }
    }

    /// A directory to read the recording from: the local directory itself,
    /// or a download into `cache` (see the module docs; `None`: a temporary
    /// directory). Objects over `max_object_bytes` are refused.
    pub fn local_copy(&self, cache: Option<&Cache>, max_object_bytes: u64) -> Result<LocalCopy> {
        match self {
            SegmentSource::Local(dir) => Ok(LocalCopy {
                dir: dir.clone(),
                _temp: None,
            }),
            SegmentSource::Bucket {
                bucket,
                key,
                session,
            } => match cache {
                Some(cache) => {
                    let dir = cache.dir.join(session);
                    private_dir(&cache.dir)?;
                    private_dir(&dir)?;
                    download(bucket, key, session, &dir, max_object_bytes)?;
                    touch(&dir.join(USED))?;
                    cache.evict(&dir);
                    Ok(LocalCopy { dir, _temp: None })
                }
                None => {
                    let temp = tempfile::Builder::new()
                        .prefix("isolator-audit-")
                        .tempdir()
                        .map_err(io(std::env::temp_dir()))?;
                    download(bucket, key, session, temp.path(), max_object_bytes)?;
                    Ok(LocalCopy {
                        dir: temp.path().to_owned(),
                        _temp: Some(temp),
                    })
                }
            },
        }
    }
}

/// The download cache of a store (see the module docs).
#[derive(Debug)]
pub struct Cache {
    dir: PathBuf,
    max_bytes: u64,
}

impl Cache {
    /// A cache in `dir` holding at most `max_bytes`.
    pub fn new(dir: PathBuf, max_bytes: u64) -> Cache {
        Cache { dir, max_bytes }
    }

    /// Removes a session's cached copy (retention deleted it).
    pub fn remove(&self, session: &str) {
        let _ = std::fs::remove_dir_all(self.dir.join(session));
    }

    /// Drops least recently used sessions (never `keep`) while over the limit.
    fn evict(&self, keep: &Path) {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return;
        };
        let mut sessions: Vec<(std::time::SystemTime, u64, PathBuf)> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_dir())
            .map(|p| {
                let used = std::fs::metadata(p.join(USED))
                    .and_then(|m| m.modified())
                    .unwrap_or(std::time::UNIX_EPOCH);
                (used, dir_bytes(&p), p)
            })
            .collect();
        let mut total: u64 = sessions.iter().map(|s| s.1).sum();
        sessions.sort();
        for (_, bytes, path) in sessions {
            if total <= self.max_bytes {
                break;
            }
            if path != keep && std::fs::remove_dir_all(&path).is_ok() {
                total = total.saturating_sub(bytes);
            }
        }
    }
}

fn dir_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|es| {
            es.flatten()
                .filter_map(|e| e.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

fn private_dir(dir: &Path) -> Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    match std::fs::DirBuilder::new().mode(0o700).create(dir) {
        Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => Err(io(dir)(e)),
        _ => Ok(()),
    }
}

fn touch(path: &Path) -> Result<()> {
    std::fs::write(path, b"").map_err(io(path))
}

/// Brings `dir` in line with the objects under `key`: downloads what is
/// missing or changed (by entity tag and size), removes segment files the
/// bucket no longer has. Only segment files and the keyframe index are taken.
fn download(bucket: &Bucket, key: &str, session: &str, dir: &Path, max: u64) -> Result<()> {
    let objects = bucket.list(key)?;
    let mut wanted = Vec::new();
    for o in &objects {
        let Some(name) = o.key.strip_prefix(key).and_then(|n| n.strip_prefix('/')) else {
            continue;
        };
        if name == keyframes::FILE_NAME || format::segment_number(name).is_some() {
            wanted.push((name.to_owned(), o));
        }
    }
    if !wanted.iter().any(|(n, _)| n.ends_with(".seg")) {
        return Err(Error::NotFound(session.to_owned()));
    }
    for (name, o) in &wanted {
        let path = dir.join(name);
        let tag_path = dir.join(format!(".{name}.etag"));
        let tag = format!("{}:{}", o.size, o.etag.as_deref().unwrap_or(""));
        let have = std::fs::read_to_string(&tag_path).ok();
        if o.etag.is_some() && have.as_deref() == Some(tag.as_str()) && path.is_file() {
            continue;
        }
        let part = dir.join(format!(".{name}.part-{:016x}", rand::random::<u64>()));
        let got = bucket.get_to_file(&o.key, &part, max);
        if let Err(e) = got {
            let _ = std::fs::remove_file(&part);
            return Err(e);
        }
        std::fs::rename(&part, &path).map_err(io(&path))?;
        std::fs::write(&tag_path, &tag).map_err(io(&tag_path))?;
    }
    // A segment the bucket no longer has must not be read from an old copy.
    for entry in std::fs::read_dir(dir).map_err(io(dir))?.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let listed = wanted.iter().any(|(n, _)| *n == name);
        if !listed && (name.ends_with(".seg") || name == keyframes::FILE_NAME) {
            std::fs::remove_file(entry.path()).map_err(io(entry.path()))?;
        }
    }
    Ok(())
}
