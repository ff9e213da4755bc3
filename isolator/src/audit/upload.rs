//! Uploading sealed recordings to the bucket, off the recording path.
//!
//! When a recorder seals a segment (rotation) or ends, it queues a job on a
//! bounded channel with `try_send`: the recorder never waits on the bucket,
//! and a full queue only means the segment waits for the next sweep. One
//! uploader thread per store takes the jobs:
//!
//! - a job brings one session in line: every *sealed* segment (all but the
//!   open last one while the session records) and the keyframe index are put
//!   under `<prefix>/<yyyy-mm-dd>/<session>/` unless the bucket already holds
//!   an object of that name and size (sealed segments never change);
//! - once a session has ended and every file of it is in the bucket, its
//!   local directory is removed (with `keep_local`, marked [`UPLOADED`]
//!   instead, so sweeps stop looking at it);
//! - a **sweep**, at start and every `sweep_interval_secs`, runs the same for
//!   every session directory still on local disk: what failed to upload
//!   (bucket down, queue full) is uploaded once the bucket answers again, and
//!   a session left unfinished by a crash is uploaded as it is (its tail
//!   unsealed; verify says so).
//!
//! Nothing is deleted locally before the bucket holds it, so a bucket outage
//! loses nothing. Failures are logged and shown in [`BucketHealth`].

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Mutex, Weak};
use std::time::{Duration, Instant};

use serde::Serialize;

use super::bucket::Bucket;
use super::error::{io, Result};
use super::keyframes;
use super::recorder::now_wall_ms;
use super::store::Store;
use super::verify;

/// Marker left in a session directory kept on local disk (`keep_local`)
/// once every file of the ended session is in the bucket.
pub const UPLOADED: &str = ".uploaded";

/// The state of uploads, for the admin (`bucket` in the audit health).
#[derive(Clone, Debug, Serialize)]
pub struct BucketHealth {
    /// The bucket's name.
    pub bucket: String,
    /// The last bucket request succeeded (false: the bucket is down or
    /// refusing; recordings wait on local disk).
    pub ok: bool,
    /// Objects uploaded since the server started.
    pub uploaded: u64,
    /// Failed uploads (each retried by a later sweep).
    pub failures: u64,
    /// The last failure.
    pub last_error: Option<String>,
    /// When the last failure happened (Unix ms).
    pub last_error_ms: Option<i64>,
    /// Sessions on local disk not wholly in the bucket after the last sweep.
    pub pending_sessions: u64,
    /// Upload jobs left to the next sweep because the queue was full.
    pub queue_full: u64,
    /// When the last sweep ended (Unix ms).
    pub last_sweep_ms: Option<i64>,
}

#[derive(Debug, Default)]
struct Counters {
    ok: AtomicBool,
    uploaded: AtomicU64,
    failures: AtomicU64,
    pending: AtomicU64,
    queue_full: AtomicU64,
    last_error: Mutex<Option<(i64, String)>>,
    last_sweep_ms: Mutex<Option<i64>>,
}

/// One session to bring in line with the bucket.
#[derive(Debug)]
pub(crate) struct Job {
    /// The session directory.
    pub dir: PathBuf,
    /// The session is still recording: its last segment is open.
    pub live: bool,
}

/// The store's upload queue and state.
#[derive(Debug)]
pub(crate) struct Uploads {
    tx: mpsc::SyncSender<Job>,
    counters: std::sync::Arc<Counters>,
    keep_local: bool,
}

/// What a sweep did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SweepOutcome {
    /// Objects uploaded.
    pub uploaded: usize,
    /// Sessions whose local directory was removed (all in the bucket).
    pub removed: usize,
    /// Sessions that could not be brought in line (left on local disk).
    pub failed: usize,
}

impl Uploads {
    /// The queue and its receiving end (for [`spawn`]).
    pub fn new(queue: usize, keep_local: bool) -> (Uploads, mpsc::Receiver<Job>) {
        let (tx, rx) = mpsc::sync_channel(queue);
        let counters = std::sync::Arc::new(Counters {
            ok: AtomicBool::new(true),
            ..Counters::default()
        });
        (
            Uploads {
                tx,
                counters,
                keep_local,
            },
            rx,
        )
    }

    /// Queues a job without waiting; a full queue leaves it to the sweep.
    pub fn queue(&self, job: Job) {
        if self.tx.try_send(job).is_err() {
            self.counters.queue_full.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The state, for the health report.
    pub fn health(&self, bucket: &str) -> BucketHealth {
        let c = &self.counters;
        let last = c
            .last_error
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        BucketHealth {
            bucket: bucket.to_owned(),
            ok: c.ok.load(Ordering::Relaxed),
            uploaded: c.uploaded.load(Ordering::Relaxed),
            failures: c.failures.load(Ordering::Relaxed),
            last_error_ms: last.as_ref().map(|l| l.0),
            last_error: last.map(|l| l.1),
            pending_sessions: c.pending.load(Ordering::Relaxed),
            queue_full: c.queue_full.load(Ordering::Relaxed),
            last_sweep_ms: *c.last_sweep_ms.lock().unwrap_or_else(|p| p.into_inner()),
        }
    }

    /// Brings one session directory in line with the bucket (see the module
    /// docs). Returns (objects uploaded, local directory removed). Failures
    /// are counted in the health and returned.
    pub fn sync(&self, bucket: &Bucket, job: &Job) -> Result<(usize, bool)> {
        let out = sync_dir(bucket, &job.dir, job.live, self.keep_local);
        let c = &self.counters;
        match &out {
            Ok((n, _)) => {
                c.uploaded.fetch_add(*n as u64, Ordering::Relaxed);
                c.ok.store(true, Ordering::Relaxed);
            }
            Err(e) => {
                tracing::warn!(dir = %job.dir.display(), err = %e,
                    "audit upload failed; the recording stays on local disk for the next sweep");
                c.failures.fetch_add(1, Ordering::Relaxed);
                c.ok.store(false, Ordering::Relaxed);
                *c.last_error.lock().unwrap_or_else(|p| p.into_inner()) =
                    Some((now_wall_ms(), e.to_string()));
            }
        }
        out
    }

    /// Records the end of a sweep.
    pub fn swept(&self, outcome: &SweepOutcome) {
        self.counters
            .pending
            .store(outcome.failed as u64, Ordering::Relaxed);
        *self
            .counters
            .last_sweep_ms
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = Some(now_wall_ms());
    }
}

/// Runs the uploader thread of `store`: jobs as they come, a sweep at start
/// and every `interval`. Ends when the store is dropped.
pub(crate) fn spawn(store: Weak<Store>, rx: mpsc::Receiver<Job>, interval: Duration) {
    let run = move || {
        let mut next_sweep = Instant::now();
        loop {
            let wait = next_sweep.saturating_duration_since(Instant::now());
            match rx.recv_timeout(wait) {
                Ok(job) => {
                    let Some(store) = store.upgrade() else { return };
                    store.upload(&job);
                }
                Err(RecvTimeoutError::Timeout) => {
                    let Some(store) = store.upgrade() else { return };
                    if let Err(err) = store.sweep_uploads() {
                        tracing::warn!(%err, "audit upload sweep failed");
                    }
                    next_sweep = Instant::now() + interval;
                }
                Err(RecvTimeoutError::Disconnected) => return,
            }
        }
    };
    if let Err(err) = std::thread::Builder::new()
        .name("audit-upload".into())
        .spawn(run)
    {
        tracing::error!(%err, "cannot start the audit uploader; recordings stay on local disk");
    }
}

/// The bucket key of a session directory `<root>/<yyyy-mm-dd>/<session>`.
pub(crate) fn key_of(bucket: &Bucket, dir: &Path) -> Option<String> {
    let session = dir.file_name()?.to_str()?;
    let date = dir.parent()?.file_name()?.to_str()?;
    Some(bucket.session_key(date, session))
}

fn sync_dir(bucket: &Bucket, dir: &Path, live: bool, keep_local: bool) -> Result<(usize, bool)> {
    if !dir.is_dir() || dir.join(UPLOADED).exists() {
        // Removed meanwhile (by an earlier job or retention), or kept
        // locally and wholly uploaded already: nothing to do.
        return Ok((0, false));
    }
    let key = key_of(bucket, dir).ok_or_else(|| {
        super::error::Error::Invalid(format!("{} is not a session directory", dir.display()))
    })?;
    let objects = bucket.list(&key)?;
    let size_of = |name: &str| {
        let k = format!("{key}/{name}");
        objects.iter().find(|o| o.key == k).map(|o| o.size)
    };
    let mut segments = verify::segment_files(dir)?;
    if live {
        // The last segment is open: it is uploaded once sealed.
        segments.pop();
    }
    let mut uploaded = 0;
    let mut files: Vec<String> = segments.into_iter().map(|(_, name)| name).collect();
    files.push(keyframes::FILE_NAME.to_owned());
    for name in files {
        let path = dir.join(&name);
        let len = match std::fs::metadata(&path) {
            Ok(m) => m.len(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(io(&path)(e)),
        };
        if size_of(&name) == Some(len) {
            continue;
        }
        let bytes = std::fs::read(&path).map_err(io(&path))?;
        bucket.put(&format!("{key}/{name}"), bytes)?;
        uploaded += 1;
    }
    let mut removed = false;
    if !live && keep_local {
        // Kept: mark it done so sweeps stop listing it.
        let done = dir.join(UPLOADED);
        std::fs::write(&done, b"").map_err(io(&done))?;
    }
    if !live && !keep_local {
        std::fs::remove_dir_all(dir).map_err(io(dir))?;
        if let Some(day) = dir.parent() {
            // The day directory goes once empty; failure (not empty) is fine.
            let _ = std::fs::remove_dir(day);
        }
        removed = true;
    }
    Ok((uploaded, removed))
}
