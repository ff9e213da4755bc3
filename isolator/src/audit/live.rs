//! Recording live sessions: the server's audit service and the per-session
//! [`LiveRecorder`] handle the session actor holds.
//!
//! [`Recorder`](super::Recorder) calls are synchronous file writes. The actor
//! must never wait on a disk, so each session's recorder lives on its own
//! thread, fed by a channel:
//!
//! - events (navigations, titles, input, decisions, the end) are never
//!   dropped: the channel is unbounded and they are small;
//! - frames are dropped, and counted, when more than [`MAX_FRAMES_QUEUED`]
//!   wait (the disk is slower than the screen): the recording then holds
//!   fewer frames, never a stalled session;
//! - times are taken when the actor sends, not when the thread writes, so a
//!   slow disk does not shift the recording's clock.
//!
//! A recording that fails (disk full, directory gone) is logged, counted in
//! [`Health`] (the admin API shows it) and abandoned: the session goes on
//! unrecorded. What was written up to the failure still verifies as a
//! crash-truncated recording.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::access::AccessLog;
use super::config::AuditConfig;
use super::error::Result;
use super::event::{DecisionEvent, Event, Frame, Input, InputEvent};
use super::recorder::{now_wall_ms, SessionInfo};
use super::store::Store;

/// Frames waiting for the writer beyond which new frames are dropped.
pub const MAX_FRAMES_QUEUED: usize = 8;

/// How often the writer flushes a rate-capped frame and syncs when idle.
const TICK: Duration = Duration::from_millis(200);

/// A recording that failed.
#[derive(Clone, Debug, Serialize)]
pub struct Failure {
    /// The session.
    pub session: String,
    /// When (Unix ms).
    pub wall_ms: i64,
    /// What went wrong.
    pub error: String,
}

/// The state of recording, for the admin (`GET /api/v1/audit/health`).
#[derive(Clone, Debug, Serialize)]
pub struct Health {
    /// Sessions are recorded.
    pub enabled: bool,
    /// The recordings root.
    pub dir: PathBuf,
    /// Recordings being written now.
    pub live: u64,
    /// Recordings started since the server started.
    pub started: u64,
    /// Recordings that failed (and sessions that went on unrecorded).
    pub failures: u64,
    /// The most recent failure.
    pub last_failure: Option<Failure>,
    /// Frames dropped because the disk was slower than the screen.
    pub frames_dropped: u64,
    /// CPU time spent by recording threads (hashing, writing), microseconds.
    pub writer_cpu_us: u64,
    /// Last retention run (Unix ms), if any.
    pub retention_last_ms: Option<i64>,
    /// Recordings deleted by retention since the server started.
    pub retention_deleted: u64,
    /// The last retention error, if the last run failed.
    pub retention_error: Option<String>,
    /// Uploads to the bucket, with `[audit.object_store]`.
    pub bucket: Option<super::upload::BucketHealth>,
}

#[derive(Debug, Default)]
struct Counters {
    live: AtomicU64,
    started: AtomicU64,
    failures: AtomicU64,
    frames_dropped: AtomicU64,
    writer_cpu_us: AtomicU64,
    bytes_written: AtomicU64,
    last_failure: Mutex<Option<Failure>>,
    retention: Mutex<(Option<i64>, u64, Option<String>)>,
}

impl Counters {
    fn fail(&self, session: &str, error: String) {
        tracing::error!(
            session,
            %error,
            "recording failed; the session goes on unrecorded"
        );
        self.failures.fetch_add(1, Ordering::Relaxed);
        *self.last_failure.lock().unwrap_or_else(|p| p.into_inner()) = Some(Failure {
            session: session.to_owned(),
            wall_ms: now_wall_ms(),
            error,
        });
    }
}

/// The audit side of a running server: the store, the access log, health.
#[derive(Debug)]
pub struct AuditService {
    config: AuditConfig,
    store: Option<Arc<Store>>,
    access: Option<AccessLog>,
    counters: Arc<Counters>,
}

impl AuditService {
    /// Opens the store named by the configuration (nothing when disabled).
    pub fn open(config: &AuditConfig) -> Result<Arc<AuditService>> {
        let store = if config.enabled {
            Some(Store::open(config)?)
        } else {
            None
        };
        let access = store.as_ref().map(|s| AccessLog::new(s.root()));
        Ok(Arc::new(AuditService {
            config: config.clone(),
            store,
            access,
            counters: Arc::default(),
        }))
    }

    /// The store, when recording is enabled.
    pub fn store(&self) -> Option<&Arc<Store>> {
        self.store.as_ref()
    }

    /// The access log, when recording is enabled.
    pub fn access_log(&self) -> Option<&AccessLog> {
        self.access.as_ref()
    }

    /// The configuration.
    pub fn config(&self) -> &AuditConfig {
        &self.config
    }

    /// The state of recording.
    pub fn health(&self) -> Health {
        let c = &self.counters;
        let retention = c
            .retention
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        Health {
            enabled: self.store.is_some(),
            dir: self.config.dir.clone(),
            live: c.live.load(Ordering::Relaxed),
            started: c.started.load(Ordering::Relaxed),
            failures: c.failures.load(Ordering::Relaxed),
            last_failure: c
                .last_failure
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone(),
            frames_dropped: c.frames_dropped.load(Ordering::Relaxed),
            writer_cpu_us: c.writer_cpu_us.load(Ordering::Relaxed),
            retention_last_ms: retention.0,
            retention_deleted: retention.1,
            retention_error: retention.2,
            bucket: self.store.as_ref().and_then(|s| s.bucket_health()),
        }
    }

    /// Bytes written to recordings since the server started (for metrics).
    pub fn bytes_written(&self) -> u64 {
        self.counters.bytes_written.load(Ordering::Relaxed)
    }

    /// Applies retention now (blocking file I/O); the outcome shows in [`Health`].
    pub fn run_retention(&self) {
        let Some(store) = &self.store else { return };
        let now = now_wall_ms();
        let outcome = store.apply_retention(now);
        let mut r = self
            .counters
            .retention
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        r.0 = Some(now);
        match outcome {
            Ok(deleted) => {
                r.1 += deleted.len() as u64;
                r.2 = None;
            }
            Err(err) => {
                tracing::error!(%err, "audit retention failed");
                r.2 = Some(err.to_string());
            }
        }
    }

    /// Runs retention now and then every `every` until `shutdown` turns true.
    pub fn spawn_retention(
        self: &Arc<Self>,
        every: Duration,
        mut shutdown: tokio::sync::watch::Receiver<bool>,
    ) {
        if self.store.is_none() {
            return;
        }
        let me = self.clone();
        tokio::spawn(async move {
            loop {
                let m = me.clone();
                let _ = tokio::task::spawn_blocking(move || m.run_retention()).await;
                tokio::select! {
                    _ = tokio::time::sleep(every) => {}
                    _ = shutdown.wait_for(|s| *s) => return,
                }
            }
        });
    }

    /// Starts recording a session on its own writer thread; `None` when
    /// recording is disabled. Failing to start is a [`Health`] failure, not
    /// an error: the session goes on.
    pub fn start_session(self: &Arc<Self>, info: SessionInfo) -> Option<LiveRecorder> {
        let store = self.store.clone()?;
        let (tx, rx) = mpsc::channel();
        let start = Instant::now();
        let start_wall_ms = now_wall_ms();
        let queued = Arc::new(AtomicUsize::new(0));
        let failed = Arc::new(AtomicBool::new(false));
        let counters = self.counters.clone();
        counters.started.fetch_add(1, Ordering::Relaxed);
        counters.live.fetch_add(1, Ordering::Relaxed);
        let writer = Writer {
            queued: queued.clone(),
            failed: failed.clone(),
            counters: counters.clone(),
            start_wall_ms,
        };
        let session = info.session.clone();
        let thread = std::thread::Builder::new()
            .name(format!("audit-{}", &session[..session.len().min(8)]))
            .spawn(move || writer.run(&store, &info, rx));
        let thread = match thread {
            Ok(t) => Some(t),
            Err(e) => {
                counters.live.fetch_sub(1, Ordering::Relaxed);
                counters.fail(&session, format!("cannot start the recording thread: {e}"));
                failed.store(true, Ordering::Relaxed);
                None
            }
        };
        Some(LiveRecorder {
            tx,
            start,
            queued,
            failed,
            counters,
            thread,
            keep_typed_text: self.config.keep_typed_text,
        })
    }
}

enum Msg {
    Frame {
        mono_ms: u64,
        tab: u32,
        width: u32,
        height: u32,
        jpeg: Arc<dyn AsRef<[u8]> + Send + Sync>,
    },
    Event(u64, Event),
    End(u64, String),
}

/// The session actor's handle on its recording. Every call returns at once.
pub struct LiveRecorder {
    tx: mpsc::Sender<Msg>,
    start: Instant,
    queued: Arc<AtomicUsize>,
    failed: Arc<AtomicBool>,
    counters: Arc<Counters>,
    thread: Option<JoinHandle<()>>,
    keep_typed_text: bool,
}

impl std::fmt::Debug for LiveRecorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveRecorder")
            .field("failed", &self.failed())
            .finish_non_exhaustive()
    }
}

impl LiveRecorder {
    fn mono(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }

    /// The recording failed; nothing more is written.
    pub fn failed(&self) -> bool {
        self.failed.load(Ordering::Relaxed)
    }

    /// A frame as shown to the user. Dropped (and counted) when the writer
    /// is [`MAX_FRAMES_QUEUED`] frames behind.
    pub fn frame(
        &self,
        tab: u32,
        width: u32,
        height: u32,
        jpeg: Arc<dyn AsRef<[u8]> + Send + Sync>,
    ) {
        if self.failed() {
            return;
        }
        if self.queued.load(Ordering::Relaxed) >= MAX_FRAMES_QUEUED {
            self.counters.frames_dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        self.queued.fetch_add(1, Ordering::Relaxed);
        let msg = Msg::Frame {
            mono_ms: self.mono(),
            tab,
            width,
            height,
            jpeg,
        };
        if self.tx.send(msg).is_err() {
            self.queued.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// Any event but frames, start and end (never dropped).
    pub fn event(&self, event: Event) {
        if !self.failed() {
            let _ = self.tx.send(Msg::Event(self.mono(), event));
        }
    }

    /// A navigation.
    pub fn navigation(&self, tab: u32, url: &str) {
        self.event(Event::Navigation {
            tab,
            url: url.to_owned(),
        });
    }

    /// A title change.
    pub fn title(&self, tab: u32, title: &str) {
        self.event(Event::Title {
            tab,
            title: title.to_owned(),
        });
    }

    /// Input, redacted here (before it leaves the actor) unless `keep` or
    /// `audit.keep_typed_text`.
    pub fn input(&self, tab: u32, input: Input<'_>, keep: bool) {
        let keep = keep || self.keep_typed_text;
        self.event(Event::Input(InputEvent::new(tab, input, keep)));
    }

    /// An enforcement decision (indexed as an incident when it is one).
    pub fn decision(&self, decision: DecisionEvent) {
        self.event(Event::Decision(decision));
    }

    /// Ends the recording with `reason` and waits (blocking) until it is
    /// sealed and indexed.
    pub fn end(mut self, reason: &str) {
        let _ = self.tx.send(Msg::End(self.mono(), reason.to_owned()));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

struct Writer {
    queued: Arc<AtomicUsize>,
    failed: Arc<AtomicBool>,
    counters: Arc<Counters>,
    start_wall_ms: i64,
}

impl Writer {
    fn run(self, store: &Arc<Store>, info: &SessionInfo, rx: mpsc::Receiver<Msg>) {
        let mut rec = match store.start_at(info, self.start_wall_ms) {
            Ok(r) => Some(r),
            Err(e) => {
                self.fail(&info.session, format!("cannot start: {e}"));
                None
            }
        };
        let mut cpu = thread_cpu_us();
        let mut written = 0u64;
        loop {
            let msg = rx.recv_timeout(TICK);
            if let Ok(Msg::Frame { .. }) = msg {
                self.queued.fetch_sub(1, Ordering::Relaxed);
            }
            let Some(r) = rec.as_mut() else {
                // Failed: drain until the session ends.
                match msg {
                    Ok(Msg::End(..)) | Err(RecvTimeoutError::Disconnected) => break,
                    _ => continue,
                }
            };
            let outcome = match msg {
                Ok(Msg::Frame {
                    mono_ms,
                    tab,
                    width,
                    height,
                    jpeg,
                }) => {
                    let frame = Frame {
                        tab,
                        width,
                        height,
                        jpeg: Arc::from((*jpeg).as_ref()),
                    };
                    r.record_at(mono_ms, self.wall(mono_ms), Event::Frame(frame))
                }
                Ok(Msg::Event(mono_ms, ev)) => r.record_at(mono_ms, self.wall(mono_ms), ev),
                Ok(Msg::End(mono_ms, reason)) => {
                    let r = rec.take().expect("checked above");
                    if let Err(e) = r.end_at(mono_ms, self.wall(mono_ms), &reason) {
                        self.fail(&info.session, format!("cannot end: {e}"));
                    }
                    break;
                }
                Err(RecvTimeoutError::Timeout) => {
                    cpu = self.account_cpu(cpu);
                    r.tick()
                }
                // The actor went away without ending (a panic): dropping seals.
                Err(RecvTimeoutError::Disconnected) => break,
            };
            if let Err(e) = outcome {
                self.fail(&info.session, e.to_string());
                rec = None;
            }
            if let Some(r) = &rec {
                let total = r.bytes();
                let new = total.saturating_sub(std::mem::replace(&mut written, total));
                self.counters
                    .bytes_written
                    .fetch_add(new, Ordering::Relaxed);
            }
        }
        self.account_cpu(cpu);
        self.counters.live.fetch_sub(1, Ordering::Relaxed);
    }

    /// Adds the thread's CPU time since `since` to the counters; returns now's.
    fn account_cpu(&self, since: u64) -> u64 {
        let now = thread_cpu_us();
        self.counters
            .writer_cpu_us
            .fetch_add(now.saturating_sub(since), Ordering::Relaxed);
        now
    }

    fn wall(&self, mono_ms: u64) -> i64 {
        self.start_wall_ms + mono_ms as i64
    }

    fn fail(&self, session: &str, error: String) {
        self.failed.store(true, Ordering::Relaxed);
        self.counters.fail(session, error);
    }
}

/// CPU time (user + system) of the calling thread, in microseconds, from
/// `/proc/thread-self/stat` (clock ticks of 10 ms: Linux's USER_HZ is 100).
/// 0 where that file does not exist.
fn thread_cpu_us() -> u64 {
    let Ok(stat) = std::fs::read_to_string("/proc/thread-self/stat") else {
        return 0;
    };
    // Fields after the command name (which may hold spaces) in parentheses.
    let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
        return 0;
    };
    let f: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 here.
    let ticks: u64 = [11, 12]
        .iter()
        .filter_map(|&i| f.get(i).and_then(|v| v.parse::<u64>().ok()))
        .sum();
    ticks * 10_000
}
