//! The one shared Chromium process.
//!
//! Chromium is started on first need and shared by every session, each of
//! which gets its own BrowserContext (separate cookies, storage and cache; its
//! own renderer). Chromium speaks CDP over a pipe only this server holds
//! ([`pipe`]): it never listens on a TCP port. It is spawned here, not by
//! chromiumoxide ([`spawn`]), with a command line built here ([`args`]). When the process dies, every session that lived in it is told
//! through [`Running::died`] (they end with reason `browser_crashed`), and the
//! next session start launches a fresh process.
//!
//! Each launch puts Chromium's whole process tree in its own cgroup
//! ([`crate::browser::cgroup`]) with the configured memory cap and CPU quota: the
//! launching shell joins the group before it execs Chromium, so every process
//! Chromium forks is born inside. The group is removed when the browser is
//! gone. Where cgroups cannot be used the log says why and Chromium runs
//! without limits.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chromiumoxide::browser::Browser;
use chromiumoxide::handler::HandlerConfig;
use futures::StreamExt;
use tokio::sync::{watch, Mutex};
use tracing::{error, info, warn};

use crate::browser::cgroup::{ChromiumCgroup, Limits};

pub mod args;
pub mod cdp;
pub mod cgroup;
pub mod config;
pub mod pipe;
pub mod spawn;
use config::ChromiumConfig;

/// Why the browser could not be used; always the browser's fault or ours, never the client's.
#[derive(Debug, thiserror::Error)]
pub enum BrowserError {
    /// Chromium did not start.
    #[error("the isolated browser could not be started: {0}")]
    Launch(String),
    /// A CDP command failed.
    #[error("the isolated browser failed: {0}")]
    Cdp(#[from] chromiumoxide::error::CdpError),
    /// A CDP command did not answer in time.
    #[error("the isolated browser did not answer within {0:?}")]
    Timeout(Duration),
}

/// A running Chromium process.
pub struct Running {
    /// The CDP client (commands take `&self`).
    pub browser: Browser,
    /// Increases with every launch; sessions remember the one they live in.
    pub generation: u64,
    pid: Option<u32>,
    uid: u32,
    died: watch::Receiver<bool>,
    /// The process and its DevTools bridge: killed when dropped.
    _process: spawn::Spawned,
    /// Removed after the process was killed.
    profile: Profile,
    /// Declared after `process`: dropped (processes killed, group removed)
    /// after the browser process was.
    cgroup: Option<ChromiumCgroup>,
}

impl Running {
    /// Resolves when this browser process has died (or was shut down).
    pub async fn died(&self) {
        let mut rx = self.died.clone();
        // An error means the sender is gone, which also means the browser is gone.
        let _ = rx.wait_for(|dead| *dead).await;
    }

    /// The process id, when known.
    pub fn pid(&self) -> Option<u32> {
        self.pid
    }

    /// The Unix user Chromium runs as (the server's own without a
    /// privilege drop): the only user besides the server's whose
    /// connections a session's egress proxy serves.
    pub fn uid(&self) -> u32 {
        self.uid
    }

    /// Whether the process is known to be gone.
    pub fn is_dead(&self) -> bool {
        *self.died.borrow()
    }

    /// The cgroup holding the browser's process tree, when there is one.
    pub fn cgroup(&self) -> Option<&ChromiumCgroup> {
        self.cgroup.as_ref()
    }

    /// Processes the kernel stopped in the browser's cgroup for going over
    /// its memory cap since launch (0 without a cgroup).
    pub fn oom_kills(&self) -> u64 {
        self.cgroup.as_ref().map_or(0, ChromiumCgroup::oom_kills)
    }
}

/// Chromium's profile directory (`<tmp>/isolator-chromium-<random>`, 0700,
/// owned by the user Chromium runs as); removed when dropped.
struct Profile(PathBuf);

impl Profile {
    fn create(run_as: Option<(u32, u32)>) -> Result<Profile, BrowserError> {
        let dir =
            crate::os::private_fs::fresh_temp_dir("isolator-chromium-", 0o700).map_err(|e| {
                BrowserError::Launch(format!("cannot create its profile directory: {e}"))
            })?;
        let profile = Profile(dir);
        let default = profile.0.join("Default");
        let prefs = default.join("Preferences");
        crate::os::private_fs::create_dir_exclusive(&default, 0o700)
            .and_then(|()| std::fs::write(&prefs, args::profile_preferences()))
            .map_err(|e| BrowserError::Launch(format!("cannot write its preferences: {e}")))?;
        if let Some((uid, gid)) = run_as {
            for path in [&profile.0, &default, &prefs] {
                std::os::unix::fs::chown(path, Some(uid), Some(gid)).map_err(|e| {
                    BrowserError::Launch(format!(
                        "cannot hand {} to uid {uid}: {e}",
                        path.display()
                    ))
                })?;
            }
        }
        Ok(profile)
    }
}

impl Drop for Profile {
    fn drop(&mut self) {
        // `remove_dir_all` does not follow symlinks Chromium's user may have made.
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Running {
    /// The profile directory (for tests of its ownership and mode).
    pub fn profile_dir(&self) -> &Path {
        &self.profile.0
    }
}

/// Starts, shares and restarts the Chromium process.
pub struct BrowserManager {
    config: ChromiumConfig,
    extra_args: Vec<String>,
    current: Mutex<Option<Arc<Running>>>,
    generation: std::sync::atomic::AtomicU64,
}

impl BrowserManager {
    /// A manager that launches nothing until [`BrowserManager::get`] is called.
    pub fn new(config: ChromiumConfig, extra_args: Vec<String>) -> Self {
        Self {
            config,
            extra_args,
            current: Mutex::new(None),
            generation: 0.into(),
        }
    }

    /// The live browser, launching one if there is none or the last one died.
    pub async fn get(&self) -> Result<Arc<Running>, BrowserError> {
        let mut current = self.current.lock().await;
        if let Some(running) = current.as_ref() {
            if !running.is_dead() {
                return Ok(running.clone());
            }
            warn!(
                generation = running.generation,
                "isolated browser had died; relaunching"
            );
        }
        let running = Arc::new(self.launch().await?);
        *current = Some(running.clone());
        Ok(running)
    }

    /// The live browser if one is running, without launching.
    pub async fn peek(&self) -> Option<Arc<Running>> {
        self.current
            .lock()
            .await
            .as_ref()
            .filter(|r| !r.is_dead())
            .cloned()
    }

    /// The live browser if one is running, without waiting: `None` also
    /// while a launch holds the lock (for samplers, which must not block).
    pub fn try_peek(&self) -> Option<Arc<Running>> {
        let current = self.current.try_lock().ok()?;
        current.as_ref().filter(|r| !r.is_dead()).cloned()
    }

    /// The CDP command timeout.
    pub fn command_timeout(&self) -> Duration {
        Duration::from_secs(self.config.command_timeout_secs)
    }

    /// Kills the browser process (used at shutdown and by fault tests).
    pub async fn kill(&self) {
        if let Some(running) = self.current.lock().await.take() {
            if let Some(pid) = running.pid() {
                kill_pid(pid);
            }
        }
    }

    /// The unprivileged (uid, gid) Chromium runs as, when the server is root
    /// with the sandbox on.
    fn run_as(&self) -> Result<Option<(u32, u32)>, BrowserError> {
        if !(crate::os::is_root() && !self.config.no_sandbox && !self.config.run_as.is_empty()) {
            return Ok(None);
        }
        crate::os::lookup_user(&self.config.run_as)
            .map(Some)
            .ok_or_else(|| {
                BrowserError::Launch(format!("user {:?} does not exist", self.config.run_as))
            })
    }

    async fn launch(&self) -> Result<Running, BrowserError> {
        let generation = self
            .generation
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst)
            + 1;
        let started = std::time::Instant::now();
        let exe = &self.config.executable;
        if !exe.is_file() {
            return Err(BrowserError::Launch(format!(
                "{} does not exist (install Debian's chromium package)",
                exe.display()
            )));
        }
        let run_as = self.run_as()?;
        // The profile lives outside data_dir so that an unprivileged Chromium user
        // can reach it whatever data_dir's permissions are: a fresh directory
        // with an unguessable name, made atomically (0700), then given to that user.
        let profile = Profile::create(run_as)?;
        static LAUNCHES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let launch_no = LAUNCHES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let cgroup = self.cgroup(launch_no);
        if self.config.no_sandbox {
            warn!(
                "SECURITY: the isolated Chromium runs WITHOUT its sandbox (chromium.no_sandbox = true); \
                 a renderer exploit would run with this process's rights"
            );
        }
        let extra: Vec<String> = self
            .extra_args
            .iter()
            .chain(&self.config.extra_args)
            .cloned()
            .collect();
        let launch_timeout = Duration::from_secs(self.config.launch_timeout_secs);
        let spawned = spawn::spawn(&spawn::Launch {
            executable: exe,
            args: args::command_line(&profile.0, self.config.no_sandbox, &extra),
            profile: &profile.0,
            cgroup_procs: cgroup
                .as_ref()
                .map(ChromiumCgroup::procs_files)
                .unwrap_or_default(),
            run_as,
            connect_within: launch_timeout,
        })
        .map_err(BrowserError::Launch)?;
        if run_as.is_some() {
            info!(user = %self.config.run_as, "isolated browser runs as an unprivileged user with its sandbox on");
        }
        let handler_config = HandlerConfig {
            ignore_https_errors: false,
            ignore_invalid_messages: true,
            viewport: None,
            context_ids: Vec::new(),
            request_timeout: Duration::from_secs(self.config.command_timeout_secs),
            request_intercept: false,
            cache_enabled: true,
        };
        let pid = spawned.pid;
        let connected = tokio::time::timeout(
            launch_timeout,
            Browser::connect_with_config(spawned.bridge.url.clone(), handler_config),
        )
        .await;
        let (browser, mut handler) = match connected {
            Ok(Ok(pair)) => pair,
            Ok(Err(e)) => {
                return Err(BrowserError::Launch(format!(
                    "cannot connect to it: {e}; {}",
                    spawned.stderr_tail()
                )))
            }
            Err(_) => {
                return Err(BrowserError::Launch(format!(
                    "no DevTools connection within {launch_timeout:?}; {}",
                    spawned.stderr_tail()
                )))
            }
        };

        let (dead_tx, dead_rx) = watch::channel(false);
        let dead_tx = Arc::new(dead_tx);
        // The handler must be polled forever; an Err is one event that failed to
        // parse (harmless), the end of the stream is the connection dropping.
        let tx = dead_tx.clone();
        tokio::spawn(async move {
            while let Some(event) = handler.next().await {
                if let Err(e) = event {
                    tracing::trace!("cdp handler: {e}");
                }
            }
            warn!(generation, "isolated browser connection closed");
            let _ = tx.send(true);
        });
        // Chromium answers once it is up; until then commands wait in the pipe.
        match tokio::time::timeout(launch_timeout, browser.version()).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => {
                return Err(BrowserError::Launch(format!(
                    "it did not answer: {e}; {}",
                    spawned.stderr_tail()
                )))
            }
            Err(_) => {
                return Err(BrowserError::Launch(format!(
                    "it did not answer within {launch_timeout:?}; {}",
                    spawned.stderr_tail()
                )))
            }
        }
        // Watch the process itself too: a wedged connection must not hide a dead process.
        if let Some(pid) = pid {
            let tx = dead_tx.clone();
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(Duration::from_millis(250)).await;
                    if *tx.borrow() {
                        break;
                    }
                    if !pid_alive(pid) {
                        error!(generation, pid, "isolated browser process exited");
                        let _ = tx.send(true);
                        break;
                    }
                }
            });
        }
        info!(
            generation,
            pid,
            ms = started.elapsed().as_millis() as u64,
            "isolated browser started"
        );
        Ok(Running {
            browser,
            generation,
            pid,
            uid: run_as.map_or_else(crate::os::private_fs::euid, |(uid, _)| uid),
            died: dead_rx,
            _process: spawned,
            profile,
            cgroup,
        })
    }

    /// The cgroup for one launch, or `None` (said in the log) when cgroups
    /// are off or cannot be used here.
    fn cgroup(&self, launch_no: u64) -> Option<ChromiumCgroup> {
        let limits = Limits {
            memory_bytes: (self.config.memory_limit_mb > 0)
                .then_some(self.config.memory_limit_mb << 20),
            cpu_cores: (self.config.cpu_limit_cores > 0.0).then_some(self.config.cpu_limit_cores),
        };
        if !self.config.cgroup {
            if limits != Limits::default() {
                warn!(
                    "chromium.cgroup = false: memory_limit_mb and cpu_limit_cores are not applied"
                );
            }
            return None;
        }
        // Unique per process and launch, like the profile directory: several
        // managers in one process (tests) must never share a group.
        let name = format!("isolator-chromium-{}-{launch_no}", std::process::id());
        match ChromiumCgroup::create(&name, &limits) {
            Ok(group) => {
                info!(
                    version = ?group.version(),
                    dir = %group.dirs()[0].display(),
                    memory_limit_mb = self.config.memory_limit_mb,
                    cpu_limit_cores = self.config.cpu_limit_cores,
                    "isolated browser runs in its own cgroup"
                );
                Some(group)
            }
            Err(e) => {
                warn!(
                    error = %e,
                    "isolated browser runs WITHOUT a cgroup: no memory cap or CPU quota \
                     (needs root or a delegated, writable cgroup hierarchy)"
                );
                None
            }
        }
    }
}

fn pid_alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // Field 3 is the state; Z (zombie) and X (dead) mean gone.
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z" && state != "X"),
        Err(_) => false,
    }
}

fn kill_pid(pid: u32) {
    let _ = std::process::Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status();
    info!(pid, "isolated browser killed");
}
