//! The store: a recordings root with its index, shared by all sessions.

use std::collections::HashSet;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use super::bucket::Bucket;
use super::config::AuditConfig;
use super::error::{io, Error, Result};
use super::event::DecisionEvent;
use super::index::{Incident, Index, SessionRow};
use super::recorder::{now_wall_ms, Recorder, SessionInfo, Summary};
use super::retention::{self, RetentionEntry};
use super::source::{self, Cache, LocalCopy, SegmentSource};
use super::upload::{self, BucketHealth, Job, SweepOutcome, Uploads};

/// Creates the recordings root 0700 (parents as usual), or adopts an
/// existing one only when it is a real directory owned by this process's
/// user, tightening it to 0700. Recordings hold every user's URLs, titles
/// and screens: a root another user created first (the default lives under
/// `/tmp`) is refused, never written into.
fn private_root(root: &Path) -> Result<()> {
    if let Some(parent) = root.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(io(parent))?;
    }
    match std::fs::DirBuilder::new().mode(0o700).create(root) {
        Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => return Err(io(root)(e)),
        _ => {}
    }
    let meta = std::fs::symlink_metadata(root).map_err(io(root))?;
    if !meta.file_type().is_dir() {
        return Err(Error::Invalid(format!(
            "{} is not a directory (a symlink or a file); refusing to record there",
            root.display()
        )));
    }
    let me = rustix::process::geteuid().as_raw();
    if meta.uid() != me {
        return Err(Error::Invalid(format!(
            "{} is owned by uid {}, not by this server's user (uid {me}): another user may have \
             created it to read the recordings; remove it or configure another audit.dir",
            root.display(),
            meta.uid()
        )));
    }
    if meta.mode() & 0o7777 != 0o700 {
        std::fs::set_permissions(root, std::fs::Permissions::from_mode(0o700)).map_err(io(root))?;
    }
    Ok(())
}

/// The largest object read back from the bucket for a recording under
/// `config`: a full segment plus one record past its limit (a segment
/// rotates after the record that fills it).
pub fn object_limit(config: &AuditConfig) -> u64 {
    config.segment_max_bytes + u64::from(super::format::MAX_LEN) + (1 << 20)
}

/// File name of the index under the root.
pub const INDEX_FILE: &str = "index.sqlite";

/// A recordings root (`AuditConfig::dir`) and its SQLite index, and with
/// `[audit.object_store]` the bucket recordings are uploaded to.
///
/// Shared as `Arc<Store>`; recorders update the index through it. Index
/// failures while recording are logged and do not stop the recording: the
/// recording is the evidence, the index only finds it.
#[derive(Debug)]
pub struct Store {
    root: PathBuf,
    config: AuditConfig,
    index: Mutex<Index>,
    bucket: Option<Arc<Bucket>>,
    uploads: Option<Uploads>,
    cache: Option<Cache>,
    /// Sessions recording now (their last segment is open).
    live: Mutex<HashSet<String>>,
}

impl Store {
    /// Opens (creating) the root directory and its index.
    pub fn open(config: &AuditConfig) -> Result<Arc<Store>> {
        let root = config.dir.clone();
        private_root(&root)?;
        // Made 0600 before SQLite opens it: its WAL and shared-memory
        // files copy the database file's mode.
        let index_file = root.join(INDEX_FILE);
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(&index_file)
            .map_err(io(&index_file))?;
        std::fs::set_permissions(&index_file, std::fs::Permissions::from_mode(0o600))
            .map_err(io(&index_file))?;
        let index = Index::open(&index_file)?;
        let (bucket, uploads, cache, rx) = match &config.object_store {
            Some(os) => {
                let (uploads, rx) = Uploads::new(os.queue, os.keep_local);
                let cache = Cache::new(root.join(source::CACHE_DIR), os.cache_max_bytes);
                (
                    Some(Bucket::open(os)?),
                    Some(uploads),
                    Some(cache),
                    Some(rx),
                )
            }
            None => (None, None, None, None),
        };
        let store = Arc::new(Store {
            root,
            config: config.clone(),
            index: Mutex::new(index),
            bucket,
            uploads,
            cache,
            live: Mutex::default(),
        });
        if let (Some(rx), Some(os)) = (rx, &config.object_store) {
            let every = Duration::from_secs(os.sweep_interval_secs);
            upload::spawn(Arc::downgrade(&store), rx, every);
        }
        Ok(store)
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The configuration.
    pub fn config(&self) -> &AuditConfig {
        &self.config
    }

    /// The index, for queries.
    pub fn index(&self) -> MutexGuard<'_, Index> {
        self.index.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts recording a session now.
    pub fn start(self: &Arc<Self>, info: &SessionInfo) -> Result<Recorder> {
        self.start_at(info, now_wall_ms())
    }

    /// Starts recording a session that began at `start_wall_ms` (Unix ms).
    pub fn start_at(self: &Arc<Self>, info: &SessionInfo, start_wall_ms: i64) -> Result<Recorder> {
        let rec = Recorder::create_at(
            &self.root,
            &self.config,
            info,
            start_wall_ms,
            Some(self.clone()),
        )?;
        self.live_set().insert(info.session.clone());
        self.index().put_session(&SessionRow {
            id: info.session.clone(),
            user: info.user.clone(),
            groups: info.groups.clone(),
            client_addr: info.client_addr.clone(),
            app: info.app.clone(),
            start_ms: start_wall_ms,
            end_ms: None,
            end_reason: None,
            bytes: rec.bytes(),
            records: rec.records(),
            head: None,
            path: rec.dir().to_owned(),
        })?;
        Ok(rec)
    }

    fn live_set(&self) -> MutexGuard<'_, HashSet<String>> {
        self.live.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The bucket, with `[audit.object_store]`.
    pub fn bucket(&self) -> Option<&Arc<Bucket>> {
        self.bucket.as_ref()
    }

    /// The state of uploads, with `[audit.object_store]`.
    pub fn bucket_health(&self) -> Option<BucketHealth> {
        let (bucket, uploads) = (self.bucket.as_ref()?, self.uploads.as_ref()?);
        Some(uploads.health(bucket.name()))
    }

    /// Where an indexed session's files are: on this node's disk, else in the bucket.
    pub fn source(&self, row: &SessionRow) -> Result<SegmentSource> {
        SegmentSource::of_row(row, self.bucket.as_ref())
    }

    /// A local directory with the session's recording: its own directory, or
    /// a download from the bucket into the store's cache (`<dir>/.bucket-cache`).
    pub fn local_copy(&self, row: &SessionRow) -> Result<LocalCopy> {
        self.source(row)?
            .local_copy(self.cache.as_ref(), object_limit(&self.config))
    }

    /// A segment was sealed and a new one opened (the recorder never waits).
    pub(crate) fn segment_sealed(&self, dir: &Path) {
        if let Some(uploads) = &self.uploads {
            uploads.queue(Job {
                dir: dir.to_owned(),
                live: true,
            });
        }
    }

    /// A recorder is done (ended, or dropped after a failure): its last
    /// segment is no longer open.
    pub(crate) fn recording_closed(&self, session: &str, dir: &Path) {
        self.live_set().remove(session);
        if let Some(uploads) = &self.uploads {
            uploads.queue(Job {
                dir: dir.to_owned(),
                live: false,
            });
        }
    }

    /// Uploads one session (the uploader thread's jobs).
    pub(crate) fn upload(&self, job: &Job) {
        if let (Some(bucket), Some(uploads)) = (&self.bucket, &self.uploads) {
            let _ = uploads.sync(bucket, job);
        }
    }

    /// Uploads whatever of the recordings on local disk is not in the bucket
    /// yet and removes the local copies of ended sessions that are wholly
    /// there (unless `keep_local`). Run at start and every
    /// `sweep_interval_secs` by the uploader thread; a session the bucket
    /// refuses is left for the next sweep and counted as failed.
    pub fn sweep_uploads(&self) -> Result<SweepOutcome> {
        let (Some(bucket), Some(uploads)) = (&self.bucket, &self.uploads) else {
            return Ok(SweepOutcome::default());
        };
        let mut out = SweepOutcome::default();
        // Rows first: the index lock is not held while talking to the bucket
        // (recorders update the index and must never wait on the bucket).
        let rows = self.index().sessions_oldest_first()?;
        for row in rows {
            if !row.path.starts_with(&self.root) || !row.path.is_dir() {
                continue;
            }
            let live = self.live_set().contains(&row.id);
            match uploads.sync(
                bucket,
                &Job {
                    dir: row.path,
                    live,
                },
            ) {
                Ok((n, removed)) => {
                    out.uploaded += n;
                    out.removed += usize::from(removed);
                }
                Err(_) => out.failed += 1,
            }
        }
        uploads.swept(&out);
        Ok(out)
    }

    /// The directory of a session's recording, from the index.
    pub fn session_dir(&self, id: &str) -> Result<PathBuf> {
        super::recorder::check_session_id(id)?;
        match self.index().session(id)? {
            Some(row) => Ok(row.path),
            None => Err(Error::NotFound(id.to_owned())),
        }
    }

    pub(crate) fn index_session_app(&self, id: &str, app: &str) {
        if let Err(err) = self.index().set_app(id, app) {
            tracing::warn!(session = id, %err, "audit index: cannot set app");
        }
    }

    pub(crate) fn index_session_bytes(&self, id: &str, bytes: u64, records: u64) {
        if let Err(err) = self.index().set_progress(id, bytes, records) {
            tracing::warn!(session = id, %err, "audit index: cannot update size");
        }
    }

    pub(crate) fn index_session_end(&self, id: &str, end_ms: i64, reason: &str, s: &Summary) {
        let head = hex::encode(s.head);
        if let Err(err) = self
            .index()
            .end_session(id, end_ms, reason, s.bytes, s.records, &head)
        {
            tracing::warn!(session = id, %err, "audit index: cannot record the end");
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn index_incident(
        &self,
        session: &str,
        user: &str,
        app: Option<&str>,
        url: Option<&str>,
        seq: u64,
        ts_ms: u64,
        wall_ms: i64,
        d: &DecisionEvent,
    ) {
        let incident = Incident {
            session: session.to_owned(),
            seq,
            ts_ms,
            wall_ms,
            gate: d.gate.clone(),
            decision: d.decision.as_str().to_owned(),
            detectors: d.detectors.clone(),
            rule: d.rule.clone(),
            user: user.to_owned(),
            app: d.app.clone().or_else(|| app.map(str::to_owned)),
            url: d.url.clone().or_else(|| url.map(str::to_owned)),
            reason: d.reason.clone(),
        };
        if let Err(err) = self.index().add_incident(&incident) {
            tracing::warn!(session, %err, "audit index: cannot add incident");
        }
    }

    /// Deletes ended recordings past the retention limits, oldest first, and
    /// logs each deletion in `retention.log`. Live sessions (no end) are kept
    /// unless older than the age limit, which means the server crashed while
    /// recording them. Returns the deletions made.
    pub fn apply_retention(&self, now_ms: i64) -> Result<Vec<RetentionEntry>> {
        let sessions = self.index().sessions_oldest_first()?;
        let mut total: u64 = sessions.iter().map(|s| s.bytes).sum();
        let log = self.root.join(retention::FILE_NAME);
        let mut deleted = Vec::new();
        for s in sessions {
            let age_limit = self.config.retention_days;
            let reason = if age_limit > 0
                && s.end_ms.unwrap_or(s.start_ms) < now_ms - (age_limit as i64) * 86_400_000
            {
                format!("older than {age_limit} days")
            } else if self.config.retention_max_bytes > 0
                && total > self.config.retention_max_bytes
                && s.end_ms.is_some()
            {
                format!("total size over {} bytes", self.config.retention_max_bytes)
            } else {
                continue;
            };
            // Log first: a deletion that happened is always in the log.
            let entry = retention::append(
                &log,
                RetentionEntry {
                    seq: 0,
                    wall_ms: now_ms,
                    session: s.id.clone(),
                    user: s.user.clone(),
                    start_ms: s.start_ms,
                    bytes: s.bytes,
                    head: s.head.clone(),
                    reason,
                    prev: String::new(),
                    hash: String::new(),
                },
            )?;
            if s.path.starts_with(&self.root) && s.path.exists() {
                std::fs::remove_dir_all(&s.path).map_err(io(&s.path))?;
                if let Some(day) = s.path.parent() {
                    // Remove the day directory once empty; failure (not empty) is fine.
                    let _ = std::fs::remove_dir(day);
                }
            }
            if let Some(bucket) = &self.bucket {
                // A bucket that fails keeps the index row: the next run tries
                // again (and logs the deletion again).
                let key = bucket.session_key(&super::recorder::utc_date(s.start_ms), &s.id);
                let n = bucket.delete_dir(&key)?;
                tracing::info!(session = %s.id, objects = n, "bucket objects deleted by retention");
            }
            if let Some(cache) = &self.cache {
                cache.remove(&s.id);
            }
            self.index().delete_session(&s.id)?;
            total = total.saturating_sub(s.bytes);
            tracing::info!(session = %s.id, bytes = s.bytes, reason = %entry.reason, "recording deleted by retention");
            deleted.push(entry);
        }
        Ok(deleted)
    }
}
