//! The parent side: a pool of reusable worker processes.

use std::ffi::OsString;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::protocol::{self, Ready, Request, Setup, MAX_CONTROL, MAX_REPLY};
use crate::extract::{Error, Extraction, Limits, Result};

/// How to run extraction workers.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct WorkerConfig {
    /// The worker program (for isolator: its own executable).
    pub program: PathBuf,
    /// Its arguments (for isolator: `["extract-worker"]`).
    pub args: Vec<OsString>,
    /// How many workers run at once (default 2). Files beyond that wait
    /// for a free worker, at most their wall time.
    pub workers: usize,
    /// Limits for each file.
    pub limits: Limits,
    /// Address-space limit per worker, bytes (default 2 GiB; 0 = none).
    pub memory_bytes: u64,
    /// CPU seconds per file (default 60; 0 = none). Wall time usually
    /// strikes first; this also catches a runaway that the parent could not.
    pub cpu_seconds_per_file: u64,
    /// How long a new worker may take to report ready (default 10 s).
    pub startup_timeout: Duration,
    /// Extra time past a file's wall-time limit before its worker is killed,
    /// so the worker's own deadline check answers first (default 1 s).
    pub kill_grace: Duration,
}

impl WorkerConfig {
    /// A configuration running `program args...` with default limits.
    pub fn new<I, S>(program: impl Into<PathBuf>, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        WorkerConfig {
            program: program.into(),
            args: args.into_iter().map(Into::into).collect(),
            workers: 2,
            limits: Limits::default(),
            memory_bytes: 2 << 30,
            cpu_seconds_per_file: 60,
            startup_timeout: Duration::from_secs(10),
            kill_grace: Duration::from_secs(1),
        }
    }

    /// Workers running this executable as `<exe> extract-worker`.
    pub fn current_exe() -> Result<Self> {
        let exe =
            std::env::current_exe().map_err(|e| Error::io("finding the current executable", e))?;
        Ok(WorkerConfig::new(exe, ["extract-worker"]))
    }
}

/// A pool of extraction worker processes; see the [module docs](super).
/// `Send + Sync`: share it (e.g. in an `Arc`) and call
/// [`extract`](WorkerPool::extract) from blocking threads.
pub struct WorkerPool {
    cfg: WorkerConfig,
    state: Mutex<State>,
    freed: Condvar,
    /// Workers replaced after a failure or found dead.
    restarts: AtomicU64,
}

struct State {
    idle: Vec<Worker>,
    /// Workers alive, idle or busy.
    live: usize,
}

impl std::fmt::Debug for WorkerPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkerPool")
            .field("program", &self.cfg.program)
            .field("workers", &self.cfg.workers)
            .finish_non_exhaustive()
    }
}

impl WorkerPool {
    /// Starts `cfg.workers` workers and waits until each is ready (limits set,
    /// OCR warm). Fails, naming the program, when one cannot start.
    pub fn new(cfg: WorkerConfig) -> Result<WorkerPool> {
        if cfg.workers == 0 {
            return Err(Error::Worker("`workers` must be at least 1".into()));
        }
        cfg.limits.validate()?;
        let mut idle = Vec::with_capacity(cfg.workers);
        for _ in 0..cfg.workers {
            idle.push(Worker::spawn(&cfg)?);
        }
        Ok(WorkerPool {
            state: Mutex::new(State {
                live: idle.len(),
                idle,
            }),
            cfg,
            freed: Condvar::new(),
            restarts: AtomicU64::new(0),
        })
    }

    /// The configuration the pool runs with.
    pub fn config(&self) -> &WorkerConfig {
        &self.cfg
    }

    /// Workers replaced since the pool started: killed after a crash, a
    /// timeout or a protocol error, or found dead while idle (for metrics).
    pub fn restarts(&self) -> u64 {
        self.restarts.load(Ordering::Relaxed)
    }

    /// Process ids of the idle workers (for metrics and tests).
    pub fn idle_pids(&self) -> Vec<u32> {
        self.lock().idle.iter().map(|w| w.pid).collect()
    }

    /// Extracts one file in a worker with the pool's limits.
    pub fn extract(&self, name: &str, bytes: &[u8]) -> Extraction {
        self.extract_with(name, bytes, &self.cfg.limits)
    }

    /// Extracts an open file in a worker with the pool's limits, streaming
    /// it to the worker in small chunks: the caller never holds the file in
    /// memory (only the worker does, under its own memory limit). The file
    /// is read from its current position; its size is taken once, and a
    /// file that shrinks meanwhile is unscannable.
    pub fn extract_file(&self, name: &str, file: File) -> Extraction {
        self.extract_file_with(name, file, &self.cfg.limits)
    }

    /// [`extract_file`](Self::extract_file) with the given limits.
    pub fn extract_file_with(&self, name: &str, file: File, limits: &Limits) -> Extraction {
        let len = match file.metadata() {
            Ok(m) if m.is_file() => m.len(),
            Ok(_) => return Extraction::unscannable("not a regular file"),
            Err(e) => return Extraction::unscannable(format!("the file cannot be read ({e})")),
        };
        self.run(name, len, Body::File(file, len), limits)
    }

    /// Extracts one file in a worker with the given limits. Every failure
    /// (worker crash, timeout, protocol error, no worker available) is
    /// [`Extraction::Unscannable`] with the reason.
    pub fn extract_with(&self, name: &str, bytes: &[u8], limits: &Limits) -> Extraction {
        self.run(
            name,
            bytes.len() as u64,
            Body::Bytes(bytes.to_vec()),
            limits,
        )
    }

    fn run(&self, name: &str, len: u64, body: Body, limits: &Limits) -> Extraction {
        if let Err(err) = limits.validate() {
            return Extraction::unscannable(err.to_string());
        }
        if len > limits.max_input_bytes {
            return Extraction::unscannable(format!(
                "input size ({len} bytes) exceeds the limit of {} bytes (max_input_bytes)",
                limits.max_input_bytes
            ));
        }
        let wall = Duration::from_millis(limits.max_wall_time_ms);
        let mut worker = match self.checkout(Instant::now() + wall) {
            Ok(worker) => worker,
            Err(err) => return Extraction::unscannable(err.to_string()),
        };
        match worker.call(name, body, limits, wall + self.cfg.kill_grace) {
            Ok(extraction) => {
                self.checkin(worker);
                extraction
            }
            Err(failure) => {
                let reason = worker.finish(failure);
                drop(worker);
                self.restarts.fetch_add(1, Ordering::Relaxed);
                // Replace it now so the next file finds a warm worker.
                match Worker::spawn(&self.cfg) {
                    Ok(fresh) => self.checkin(fresh),
                    Err(_) => {
                        self.lock().live -= 1;
                        self.freed.notify_one();
                    }
                }
                Extraction::unscannable(reason)
            }
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Takes an idle live worker, starts one if under the cap, or waits.
    fn checkout(&self, deadline: Instant) -> Result<Worker> {
        let mut state = self.lock();
        loop {
            while let Some(mut worker) = state.idle.pop() {
                if worker.is_alive() {
                    return Ok(worker);
                }
                state.live -= 1;
                self.restarts.fetch_add(1, Ordering::Relaxed);
            }
            if state.live < self.cfg.workers {
                state.live += 1;
                drop(state);
                return Worker::spawn(&self.cfg).inspect_err(|_| {
                    self.lock().live -= 1;
                });
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(Error::Worker(format!(
                    "all {} extraction workers stayed busy past the wall time limit",
                    self.cfg.workers
                )));
            }
            state = self
                .freed
                .wait_timeout(state, deadline - now)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }

    fn checkin(&self, worker: Worker) {
        self.lock().idle.push(worker);
        self.freed.notify_one();
    }
}

/// A file's content on its way to a worker.
enum Body {
    /// Already in memory.
    Bytes(Vec<u8>),
    /// An open file and the number of bytes to send from it, streamed in
    /// small chunks by the I/O thread.
    File(File, u64),
}

/// What the I/O thread sends to a worker before reading one reply.
struct Job {
    frames: Vec<Vec<u8>>,
    body: Option<Body>,
}

/// Why a call to a worker failed.
enum Failure {
    TimedOut(Duration),
    Died(String),
    Protocol(String),
}

/// One worker process and the thread that talks to it.
struct Worker {
    child: Child,
    pid: u32,
    jobs: Option<Sender<Job>>,
    replies: Receiver<std::io::Result<Vec<u8>>>,
    io: Option<JoinHandle<()>>,
}

impl Worker {
    fn spawn(cfg: &WorkerConfig) -> Result<Worker> {
        let program = cfg.program.display().to_string();
        let mut child = Command::new(&cfg.program)
            .args(&cfg.args)
            .env("OMP_THREAD_LIMIT", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| Error::io(format!("starting extraction worker `{program}`"), e))?;
        let pid = child.id();
        let (stdin, stdout) = match (child.stdin.take(), child.stdout.take()) {
            (Some(i), Some(o)) => (i, o),
            _ => return Err(Error::Worker(format!("`{program}`: no pipes"))),
        };
        let (jobs, job_rx) = mpsc::channel();
        let (reply_tx, replies) = mpsc::channel();
        let io = std::thread::Builder::new()
            .name(format!("extract-worker-{pid}"))
            .spawn(move || io_loop(stdin, stdout, job_rx, reply_tx))
            .map_err(|e| Error::io("starting worker I/O thread", e))?;
        let mut worker = Worker {
            child,
            pid,
            jobs: Some(jobs),
            replies,
            io: Some(io),
        };
        let setup = Setup {
            version: protocol::VERSION,
            memory_bytes: cfg.memory_bytes,
            cpu_seconds_per_file: cfg.cpu_seconds_per_file,
        };
        let setup = serde_json::to_vec(&setup).map_err(|e| Error::Worker(e.to_string()))?;
        let setup = Job {
            frames: vec![setup],
            body: None,
        };
        let ready = match worker.exchange(setup, cfg.startup_timeout) {
            Ok(reply) => serde_json::from_slice::<Ready>(&reply).map_err(|e| {
                Error::Worker(format!("`{program}` is not an extraction worker: {e}"))
            }),
            Err(failure) => Err(Error::Worker(format!(
                "`{program}` did not start: {}",
                worker.finish(failure)
            ))),
        }?;
        if ready.version != protocol::VERSION {
            return Err(Error::Worker(format!(
                "`{program}` speaks protocol {}, expected {}",
                ready.version,
                protocol::VERSION
            )));
        }
        Ok(worker)
    }

    fn is_alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Sends a job and waits for one reply frame.
    fn exchange(&mut self, job: Job, timeout: Duration) -> Result<Vec<u8>, Failure> {
        let sent = self.jobs.as_ref().map(|jobs| jobs.send(job));
        if !matches!(sent, Some(Ok(()))) {
            return Err(Failure::Died("its I/O thread has stopped".into()));
        }
        match self.replies.recv_timeout(timeout) {
            Ok(Ok(reply)) => Ok(reply),
            Ok(Err(e)) => Err(Failure::Died(e.to_string())),
            Err(RecvTimeoutError::Timeout) => Err(Failure::TimedOut(timeout)),
            Err(RecvTimeoutError::Disconnected) => {
                Err(Failure::Died("its I/O thread has stopped".into()))
            }
        }
    }

    fn call(
        &mut self,
        name: &str,
        body: Body,
        limits: &Limits,
        timeout: Duration,
    ) -> Result<Extraction, Failure> {
        let request = Request {
            name: name.to_string(),
            limits: limits.clone(),
        };
        let header = serde_json::to_vec(&request).map_err(|e| Failure::Protocol(e.to_string()))?;
        let job = Job {
            frames: vec![header],
            body: Some(body),
        };
        let reply = self.exchange(job, timeout)?;
        serde_json::from_slice(&reply).map_err(|e| Failure::Protocol(format!("bad reply: {e}")))
    }

    /// Ends a failed worker and says what happened to it.
    fn finish(&mut self, failure: Failure) -> String {
        let killed_by_us = matches!(failure, Failure::TimedOut(_) | Failure::Protocol(_));
        let status = if killed_by_us {
            let _ = self.child.kill();
            self.child.wait().ok()
        } else {
            self.wait_briefly()
        };
        match failure {
            Failure::TimedOut(after) => format!(
                "extraction timed out after {} ms; worker killed",
                after.as_millis()
            ),
            Failure::Protocol(detail) => {
                format!("extraction worker broke protocol ({detail}); worker killed")
            }
            Failure::Died(detail) => match status {
                Some(status) => format!("extraction worker {}", describe_exit(status)),
                None => format!("extraction worker stopped answering ({detail}); worker killed"),
            },
        }
    }

    /// Waits up to a second for a worker whose pipe broke, then kills it.
    fn wait_briefly(&mut self) -> Option<ExitStatus> {
        let until = Instant::now() + Duration::from_secs(1);
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => return Some(status),
                Ok(None) if Instant::now() < until => std::thread::sleep(Duration::from_millis(5)),
                _ => {
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    return None;
                }
            }
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        // Closing stdin lets an idle worker exit on its own; kill covers a
        // busy or stuck one.
        self.jobs.take();
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(io) = self.io.take() {
            let _ = io.join();
        }
    }
}

fn describe_exit(status: ExitStatus) -> String {
    match status.signal() {
        Some(24) => "exceeded its CPU time limit (SIGXCPU)".into(),
        Some(11) => "crashed (SIGSEGV: stack overflow or memory fault)".into(),
        Some(6) => "aborted (SIGABRT: out of memory or internal error)".into(),
        Some(9) => "was killed (SIGKILL, e.g. by the out-of-memory killer)".into(),
        Some(sig) => format!("died on signal {sig}"),
        None => match status.code() {
            Some(code) => format!("exited with status {code}"),
            None => "ended".into(),
        },
    }
}

/// Writes a body frame: from memory, or streamed from a file in chunks of
/// the writer's buffer, exactly `len` bytes (a file that shrank is an error).
fn write_body<W: Write>(out: &mut W, body: Body) -> std::io::Result<()> {
    match body {
        Body::Bytes(bytes) => protocol::write_frame(out, &bytes),
        Body::File(file, len) => {
            let frame_len = u32::try_from(len).map_err(|_| {
                std::io::Error::new(std::io::ErrorKind::InvalidInput, "frame over 4 GiB")
            })?;
            out.write_all(&frame_len.to_be_bytes())?;
            let sent = std::io::copy(&mut file.take(len), out)?;
            if sent != len {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    format!("the file shrank while it was sent ({sent} of {len} bytes)"),
                ));
            }
            out.flush()
        }
    }
}

/// Owns the worker's pipes: writes each job's frames, reads one reply.
fn io_loop(
    stdin: ChildStdin,
    stdout: ChildStdout,
    jobs: Receiver<Job>,
    replies: Sender<std::io::Result<Vec<u8>>>,
) {
    let mut stdin = BufWriter::with_capacity(64 << 10, stdin);
    let mut stdout = BufReader::new(stdout);
    let mut first = true;
    for job in jobs {
        let result = job
            .frames
            .iter()
            .try_for_each(|frame| protocol::write_frame(&mut stdin, frame))
            .and_then(|()| match job.body {
                Some(body) => write_body(&mut stdin, body),
                None => Ok(()),
            })
            .and_then(|()| {
                let cap = if first { MAX_CONTROL } else { MAX_REPLY };
                protocol::read_frame(&mut stdout, u64::from(cap), "worker reply")
            })
            .and_then(|reply| {
                reply.ok_or_else(|| {
                    std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        "worker closed its output",
                    )
                })
            });
        first = false;
        let failed = result.is_err();
        if replies.send(result).is_err() || failed {
            return;
        }
    }
}
