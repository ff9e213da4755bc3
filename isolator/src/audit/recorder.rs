//! The per-session recorder: appends chained records to segment files.
//!
//! One [`Recorder`] per session, owned by whoever owns the session (the
//! session actor). It is synchronous and does small writes: one `write` per
//! record straight to the file (no user-space buffer, so a killed process
//! loses nothing already recorded), `fsync` every `sync_interval_ms` and on
//! every seal. Frames are rate-capped (`max_fps`; the newest skipped frame is
//! written once the interval has passed, on the next call or [`Recorder::tick`])
//! and deduplicated by SHA-256 of the JPEG.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};

use super::config::AuditConfig;
use super::error::{io, Error, Result};
use super::event::{DecisionEvent, Event, Frame, Input, InputEvent};
use super::format::{self, Hash, Header, Kind, Location};
use super::keyframes::{self, Keyframe};
use super::store::Store;

/// Most distinct frames remembered for deduplication (about 4 MiB of map).
const DEDUP_CAPACITY: usize = 65_536;

/// Who and what a session is, for its first record and the index.
#[derive(Clone, Debug, Default)]
pub struct SessionInfo {
    /// Session id: 1 to 128 characters of `[A-Za-z0-9_.-]`, not starting with a dot.
    pub session: String,
    /// User name.
    pub user: String,
    /// The user's groups.
    pub groups: Vec<String>,
    /// Client address.
    pub client_addr: String,
    /// Client User-Agent.
    pub user_agent: String,
    /// The application, if known at start; otherwise the host of the first navigation.
    pub app: Option<String>,
}

/// What a finished recording amounts to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Summary {
    /// Session directory.
    pub dir: PathBuf,
    /// Records written (seals and headers included).
    pub records: u64,
    /// Segment files.
    pub segments: u32,
    /// Bytes of all segment files.
    pub bytes: u64,
    /// The final chain hash (hex in the index and bundle manifests).
    pub head: Hash,
}

/// Checks a session id can name a directory safely.
pub fn check_session_id(id: &str) -> Result<()> {
    let ok = !id.is_empty()
        && id.len() <= 128
        && !id.starts_with('.')
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(Error::Invalid(format!(
            "session id {id:?} must be 1 to 128 characters of A-Z a-z 0-9 _ - . and not start with a dot"
        )))
    }
}

/// `yyyy-mm-dd` (UTC) of a Unix time in milliseconds.
pub fn utc_date(wall_ms: i64) -> String {
    // Howard Hinnant's civil_from_days.
    let days = wall_ms.div_euclid(86_400_000);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Milliseconds since the Unix epoch, now.
pub fn now_wall_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Records one session. See the module docs.
pub struct Recorder {
    store: Option<Arc<Store>>,
    config: AuditConfig,
    dir: PathBuf,
    session: String,
    user: String,
    app: Option<String>,
    url: Option<String>,
    start: Instant,
    start_wall_ms: i64,
    file: File,
    kf_file: File,
    segment: u32,
    seg_bytes: u64,
    seg_records: u64,
    seg_started_ms: u64,
    closed_bytes: u64,
    seq: u64,
    prev: Hash,
    last_ms: u64,
    frames: HashMap<Hash, Location>,
    last_frame_ms: Option<u64>,
    pending: Option<(u64, i64, Frame)>,
    last_keyframe_ms: Option<u64>,
    last_sync: Instant,
    ended: bool,
}

impl Recorder {
    /// Starts a recording under `root` without an index (the [`Store`] adds one).
    pub fn create(root: &Path, config: &AuditConfig, info: &SessionInfo) -> Result<Recorder> {
        Recorder::create_at(root, config, info, now_wall_ms(), None)
    }

    /// Starts a recording whose session began at `start_wall_ms`.
    pub(crate) fn create_at(
        root: &Path,
        config: &AuditConfig,
        info: &SessionInfo,
        start_wall_ms: i64,
        store: Option<Arc<Store>>,
    ) -> Result<Recorder> {
        check_session_id(&info.session)?;
        let dir = root.join(utc_date(start_wall_ms)).join(&info.session);
        if dir.exists() {
            return Err(Error::Invalid(format!(
                "a recording of session {:?} already exists at {}",
                info.session,
                dir.display()
            )));
        }
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)
            .map_err(io(&dir))?;
        let file = create_new(&dir.join(format::segment_name(1)))?;
        let kf_path = dir.join(keyframes::FILE_NAME);
        let mut kf_file = create_new(&kf_path)?;
        kf_file.write_all(keyframes::MAGIC).map_err(io(&kf_path))?;
        let mut rec = Recorder {
            store,
            config: config.clone(),
            dir,
            session: info.session.clone(),
            user: info.user.clone(),
            app: info.app.clone(),
            url: None,
            start: Instant::now(),
            start_wall_ms,
            file,
            kf_file,
            segment: 1,
            seg_bytes: 0,
            seg_records: 0,
            seg_started_ms: 0,
            closed_bytes: 0,
            seq: 0,
            prev: format::ZERO_HASH,
            last_ms: 0,
            frames: HashMap::new(),
            last_frame_ms: None,
            pending: None,
            last_keyframe_ms: None,
            last_sync: Instant::now(),
            ended: false,
        };
        rec.write_header(0, start_wall_ms)?;
        rec.write_event(
            0,
            start_wall_ms,
            &Event::SessionStart {
                session: info.session.clone(),
                user: info.user.clone(),
                groups: info.groups.clone(),
                client_addr: info.client_addr.clone(),
                user_agent: info.user_agent.clone(),
            },
        )?;
        Ok(rec)
    }

    /// The session directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The session id.
    pub fn session(&self) -> &str {
        &self.session
    }

    /// The current chain head (hash of the last record written).
    pub fn head(&self) -> Hash {
        self.prev
    }

    /// Records written so far.
    pub fn records(&self) -> u64 {
        self.seq
    }

    /// Bytes written so far (all segments).
    pub fn bytes(&self) -> u64 {
        self.closed_bytes + self.seg_bytes
    }

    /// Milliseconds since the session started, by the monotonic clock.
    pub fn elapsed_ms(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }

    /// Records an event now.
    pub fn record(&mut self, event: Event) -> Result<()> {
        let mono = self.elapsed_ms();
        self.record_at(mono, self.start_wall_ms + mono as i64, event)
    }

    /// Records an event with explicit times (replays, imports, tests).
    /// Times going backwards are clamped to the last recorded time so the
    /// recording stays monotonic.
    pub fn record_at(&mut self, mono_ms: u64, wall_ms: i64, event: Event) -> Result<()> {
        if self.ended {
            return Err(Error::Invalid(format!(
                "the recording of session {:?} has ended",
                self.session
            )));
        }
        let mono_ms = mono_ms.max(self.last_ms);
        self.flush_pending(mono_ms)?;
        match event {
            Event::Frame(frame) => self.frame_at(mono_ms, wall_ms, frame)?,
            Event::SessionStart { .. } => {
                return Err(Error::Invalid(
                    "session start is recorded by Recorder::create".into(),
                ))
            }
            Event::SessionEnd { reason } => {
                self.finish(mono_ms, wall_ms, &reason)?;
                return Ok(());
            }
            other => {
                self.index_side_effects(mono_ms, wall_ms, &other);
                self.write_event(mono_ms, wall_ms, &other)?;
            }
        }
        self.maybe_sync()
    }

    /// Records a frame now (rate-capped and deduplicated).
    pub fn frame(&mut self, tab: u32, width: u32, height: u32, jpeg: Arc<[u8]>) -> Result<()> {
        self.record(Event::Frame(Frame {
            tab,
            width,
            height,
            jpeg,
        }))
    }

    /// Records a navigation now.
    pub fn navigation(&mut self, tab: u32, url: &str) -> Result<()> {
        self.record(Event::Navigation {
            tab,
            url: url.to_owned(),
        })
    }

    /// Records a title change now.
    pub fn title(&mut self, tab: u32, title: &str) -> Result<()> {
        self.record(Event::Title {
            tab,
            title: title.to_owned(),
        })
    }

    /// Records input now; text is reduced to its length unless `keep` or the
    /// configuration's `keep_typed_text` is set.
    pub fn input(&mut self, tab: u32, input: Input<'_>, keep: bool) -> Result<()> {
        let keep = keep || self.config.keep_typed_text;
        self.record(Event::Input(InputEvent::new(tab, input, keep)))
    }

    /// Records an enforcement decision now (evidence already redacted).
    pub fn decision(&mut self, decision: DecisionEvent) -> Result<()> {
        self.record(Event::Decision(decision))
    }

    /// Writes a rate-capped frame that is now due, and syncs on the cadence.
    /// The owner calls this on a timer (every 100-500 ms) so the last frame of
    /// a burst is not held back until the next event.
    pub fn tick(&mut self) -> Result<()> {
        if self.ended {
            return Ok(());
        }
        let now = self.elapsed_ms().max(self.last_ms);
        self.flush_pending(now)?;
        self.maybe_sync()
    }

    /// Ends the recording: writes the end record, seals and syncs, updates the index.
    pub fn end(mut self, reason: &str) -> Result<Summary> {
        let mono = self.elapsed_ms().max(self.last_ms);
        self.finish(mono, self.start_wall_ms + mono as i64, reason)?;
        Ok(self.summary())
    }

    /// Ends the recording at an explicit time.
    pub fn end_at(mut self, mono_ms: u64, wall_ms: i64, reason: &str) -> Result<Summary> {
        self.finish(mono_ms.max(self.last_ms), wall_ms, reason)?;
        Ok(self.summary())
    }

    fn summary(&self) -> Summary {
        Summary {
            dir: self.dir.clone(),
            records: self.seq,
            segments: self.segment,
            bytes: self.bytes(),
            head: self.prev,
        }
    }

    fn finish(&mut self, mono_ms: u64, wall_ms: i64, reason: &str) -> Result<()> {
        if self.ended {
            return Ok(());
        }
        self.flush_pending(mono_ms)?;
        self.write_event(
            mono_ms,
            wall_ms,
            &Event::SessionEnd {
                reason: reason.to_owned(),
            },
        )?;
        self.seal(mono_ms, wall_ms)?;
        self.ended = true;
        if let Some(store) = &self.store {
            let summary = self.summary();
            store.index_session_end(&self.session, wall_ms, reason, &summary);
        }
        Ok(())
    }

    fn frame_at(&mut self, mono_ms: u64, wall_ms: i64, frame: Frame) -> Result<()> {
        if self.config.max_fps == 0 {
            return Ok(());
        }
        let interval = 1000 / u64::from(self.config.max_fps);
        if let Some(last) = self.last_frame_ms {
            if mono_ms < last + interval {
                self.pending = Some((mono_ms, wall_ms, frame));
                return Ok(());
            }
        }
        self.pending = None;
        self.write_frame(mono_ms, wall_ms, frame)
    }

    fn flush_pending(&mut self, now_ms: u64) -> Result<()> {
        let interval = 1000 / u64::from(self.config.max_fps.max(1));
        let due = match (&self.pending, self.last_frame_ms) {
            (Some(_), Some(last)) => now_ms >= last + interval,
            (Some(_), None) => true,
            _ => false,
        };
        if due {
            if let Some((_, wall, frame)) = self.pending.take() {
                let at = self
                    .last_frame_ms
                    .map_or(now_ms, |l| (l + interval).min(now_ms));
                self.write_frame(at.max(self.last_ms), wall, frame)?;
            }
        }
        Ok(())
    }

    fn write_frame(&mut self, mono_ms: u64, wall_ms: i64, frame: Frame) -> Result<()> {
        self.last_frame_ms = Some(mono_ms);
        let digest: Hash = Sha256::digest(&frame.jpeg).into();
        let full_at = match self.frames.get(&digest) {
            Some(&at) => {
                let payload = format::frame_ref_payload(frame.tab, frame.width, frame.height, at);
                self.write(Kind::FrameRef, mono_ms, wall_ms, &[&payload])?;
                at
            }
            None => {
                let prefix = format::frame_prefix(frame.tab, frame.width, frame.height);
                let at = self.write(Kind::Frame, mono_ms, wall_ms, &[&prefix, &frame.jpeg])?;
                if self.frames.len() >= DEDUP_CAPACITY {
                    self.frames.clear();
                }
                self.frames.insert(digest, at);
                at
            }
        };
        let due = self
            .last_keyframe_ms
            .is_none_or(|k| mono_ms >= k + self.config.keyframe_interval_secs * 1000);
        if due {
            self.last_keyframe_ms = Some(mono_ms);
            let kf = Keyframe {
                mono_ms,
                frame: full_at,
                resume: Location {
                    segment: self.segment,
                    offset: self.seg_bytes,
                },
            };
            let path = self.dir.join(keyframes::FILE_NAME);
            self.kf_file.write_all(&kf.encode()).map_err(io(path))?;
        }
        Ok(())
    }

    fn write_event(&mut self, mono_ms: u64, wall_ms: i64, event: &Event) -> Result<()> {
        let json = serde_json::to_vec(event).map_err(|e| {
            Error::Invalid(format!("cannot encode {} event: {e}", event.type_name()))
        })?;
        self.write(Kind::Event, mono_ms, wall_ms, &[&json])?;
        Ok(())
    }

    fn index_side_effects(&mut self, mono_ms: u64, wall_ms: i64, event: &Event) {
        match event {
            Event::Navigation { url, .. } => {
                self.url = Some(url.clone());
                if self.app.is_none() {
                    if let Some(host) = url::Url::parse(url)
                        .ok()
                        .and_then(|u| u.host_str().map(str::to_owned))
                    {
                        self.app = Some(host.clone());
                        if let Some(store) = &self.store {
                            store.index_session_app(&self.session, &host);
                        }
                    }
                }
            }
            Event::Decision(d) if d.is_incident() => {
                if let Some(store) = &self.store {
                    store.index_incident(
                        &self.session,
                        &self.user,
                        self.app.as_deref(),
                        self.url.as_deref(),
                        self.seq,
                        mono_ms,
                        wall_ms,
                        d,
                    );
                }
            }
            _ => {}
        }
    }

    /// Writes one record (rotating first if the segment is full); returns its location.
    fn write(
        &mut self,
        kind: Kind,
        mono_ms: u64,
        wall_ms: i64,
        payload: &[&[u8]],
    ) -> Result<Location> {
        let full = self.seg_bytes >= self.config.segment_max_bytes
            || mono_ms.saturating_sub(self.seg_started_ms) >= self.config.segment_max_secs * 1000;
        if self.seg_records > 1 && full {
            self.rotate(mono_ms, wall_ms)?;
        }
        self.append(kind, mono_ms, wall_ms, payload)
    }

    fn append(
        &mut self,
        kind: Kind,
        mono_ms: u64,
        wall_ms: i64,
        payload: &[&[u8]],
    ) -> Result<Location> {
        let (bytes, hash) = format::encode(&self.prev, kind, self.seq, mono_ms, wall_ms, payload);
        let at = Location {
            segment: self.segment,
            offset: self.seg_bytes,
        };
        // One write per record: a crash leaves at most one partial record, at the end.
        self.file
            .write_all(&bytes)
            .map_err(io(self.dir.join(format::segment_name(self.segment))))?;
        self.prev = hash;
        self.seq += 1;
        self.seg_records += 1;
        self.seg_bytes += bytes.len() as u64;
        self.last_ms = mono_ms;
        Ok(at)
    }

    fn write_header(&mut self, mono_ms: u64, wall_ms: i64) -> Result<()> {
        let header = Header {
            segment: self.segment,
            prev: self.prev,
            session: self.session.clone(),
        }
        .encode();
        self.seg_started_ms = mono_ms;
        self.append(Kind::Header, mono_ms, wall_ms, &[&header])?;
        Ok(())
    }

    fn seal(&mut self, mono_ms: u64, wall_ms: i64) -> Result<()> {
        let payload = format::seal_payload(self.seg_records);
        self.append(Kind::Seal, mono_ms, wall_ms, &[&payload])?;
        let path = self.dir.join(format::segment_name(self.segment));
        self.file.sync_all().map_err(io(&path))?;
        self.kf_file
            .sync_all()
            .map_err(io(self.dir.join(keyframes::FILE_NAME)))?;
        self.last_sync = Instant::now();
        Ok(())
    }

    fn rotate(&mut self, mono_ms: u64, wall_ms: i64) -> Result<()> {
        self.seal(mono_ms, wall_ms)?;
        self.closed_bytes += self.seg_bytes;
        self.segment += 1;
        self.file = create_new(&self.dir.join(format::segment_name(self.segment)))?;
        self.seg_bytes = 0;
        self.seg_records = 0;
        self.write_header(mono_ms, wall_ms)?;
        if let Some(store) = &self.store {
            store.index_session_bytes(&self.session, self.bytes(), self.seq);
            store.segment_sealed(&self.dir);
        }
        Ok(())
    }

    fn maybe_sync(&mut self) -> Result<()> {
        if self.last_sync.elapsed() >= Duration::from_millis(self.config.sync_interval_ms) {
            let path = self.dir.join(format::segment_name(self.segment));
            self.file.sync_data().map_err(io(path))?;
            self.last_sync = Instant::now();
        }
        Ok(())
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        if !self.ended {
            let mono = self.elapsed_ms().max(self.last_ms);
            let wall = self.start_wall_ms + mono as i64;
            if let Err(err) = self.finish(mono, wall, "recorder dropped") {
                tracing::warn!(session = %self.session, %err, "could not seal the recording");
            }
        }
        if let Some(store) = &self.store {
            store.recording_closed(&self.session, &self.dir);
        }
    }
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder")
            .field("session", &self.session)
            .field("dir", &self.dir)
            .field("segment", &self.segment)
            .field("records", &self.seq)
            .finish_non_exhaustive()
    }
}

fn create_new(path: &Path) -> Result<File> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(io(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_ids() {
        assert_eq!(utc_date(0), "1970-01-01");
        assert_eq!(utc_date(1_764_000_000_000), "2025-11-24");
        assert_eq!(utc_date(951_782_400_000), "2000-02-29");
        assert!(check_session_id("abc-123_x.y").is_ok());
        for bad in ["", "../x", "a/b", ".hidden", &"x".repeat(129)] {
            assert!(check_session_id(bad).is_err(), "{bad:?}");
        }
    }
}
