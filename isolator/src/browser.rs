//! The one shared Chromium process.
//!
//! Chromium is started on first need and shared by every session, each of
//! which gets its own BrowserContext (separate cookies, storage and cache; its
//! own renderer). The CDP endpoint listens on loopback on a random port that is
//! never exposed. When the process dies, every session that lived in it is told
//! through [`Running::died`] (they end with reason `browser_crashed`), and the
//! next session start launches a fresh process.
//!
//! Each launch puts Chromium's whole process tree in its own cgroup
//! ([`crate::cgroup`]) with the configured memory cap and CPU quota: the
//! launcher script joins the group before it execs Chromium, so every process
//! Chromium forks is born inside. The group is removed when the browser is
//! gone. Where cgroups cannot be used the log says why and Chromium runs
//! without limits.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chromiumoxide::browser::{Browser, BrowserConfig};
use futures::StreamExt;
use tokio::sync::{watch, Mutex};
use tracing::{error, info, warn};

use crate::cgroup::{ChromiumCgroup, Limits};
use crate::config::ChromiumConfig;

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
    died: watch::Receiver<bool>,
    profile_dir: PathBuf,
    /// Declared after `browser`: dropped (processes killed, group removed)
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

impl Drop for Running {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.profile_dir);
        let _ = std::fs::remove_file(self.profile_dir.with_extension("launch.sh"));
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

    /// The program to launch: Chromium itself, or, when the server runs as root,
    /// a wrapper that drops to the unprivileged `run_as` user first so that
    /// Chromium's sandbox can stay on.
    fn launcher(
        &self,
        profile_dir: &Path,
        cgroup: Option<&ChromiumCgroup>,
    ) -> Result<PathBuf, BrowserError> {
        let exe = &self.config.executable;
        if !exe.is_file() {
            return Err(BrowserError::Launch(format!(
                "{} does not exist (install Debian's chromium package)",
                exe.display()
            )));
        }
        let join = cgroup.map(ChromiumCgroup::join_script).unwrap_or_default();
        let drop_privileges =
            crate::config::is_root() && !self.config.no_sandbox && !self.config.run_as.is_empty();
        if !drop_privileges && join.is_empty() {
            return Ok(exe.clone());
        }
        let exec = if drop_privileges {
            let (uid, gid) = lookup_user(&self.config.run_as).ok_or_else(|| {
                BrowserError::Launch(format!("user {:?} does not exist", self.config.run_as))
            })?;
            std::os::unix::fs::chown(profile_dir, Some(uid), Some(gid)).map_err(|e| {
                BrowserError::Launch(format!(
                    "cannot hand {} to uid {uid}: {e}",
                    profile_dir.display()
                ))
            })?;
            format!(
                "export HOME={home}\nexec setpriv --reuid={uid} --regid={gid} --clear-groups --inh-caps=-all --pdeathsig KILL -- {exe} \"$@\"\n",
                home = shell_quote(&profile_dir.display().to_string()),
                exe = shell_quote(&exe.display().to_string()),
            )
        } else {
            format!("exec {} \"$@\"\n", shell_quote(&exe.display().to_string()))
        };
        let wrapper = profile_dir.with_extension("launch.sh");
        let script = format!(
            "#!/bin/sh\n# Written by isolator: joins Chromium's cgroup, drops to an unprivileged user (sandbox on).\n{join}{exec}"
        );
        std::fs::write(&wrapper, script)
            .and_then(|_| {
                std::fs::set_permissions(
                    &wrapper,
                    std::os::unix::fs::PermissionsExt::from_mode(0o755),
                )
            })
            .map_err(|e| {
                BrowserError::Launch(format!("cannot write {}: {e}", wrapper.display()))
            })?;
        if drop_privileges {
            info!(user = %self.config.run_as, "isolated browser runs as an unprivileged user with its sandbox on");
        }
        Ok(wrapper)
    }

    async fn launch(&self) -> Result<Running, BrowserError> {
        let generation = self
            .generation
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst)
            + 1;
        // The profile lives outside data_dir so that an unprivileged Chromium user
        // can reach it whatever data_dir's permissions are.
        // Unique per process and launch, even with several managers in one process (tests).
        static LAUNCHES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let launch_no = LAUNCHES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let profile_dir = std::env::temp_dir().join(format!(
            "isolator-chromium-{}-{launch_no}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&profile_dir);
        std::fs::create_dir_all(&profile_dir).map_err(|e| {
            BrowserError::Launch(format!("cannot create {}: {e}", profile_dir.display()))
        })?;
        let cgroup = self.cgroup(launch_no);
        let executable = self.launcher(&profile_dir, cgroup.as_ref())?;

        let mut builder = BrowserConfig::builder()
            .chrome_executable(&executable)
            .user_data_dir(&profile_dir)
            .viewport(None)
            .respect_https_errors()
            .launch_timeout(Duration::from_secs(self.config.launch_timeout_secs))
            .request_timeout(Duration::from_secs(self.config.command_timeout_secs))
            .args(chromium_args())
            .args(self.extra_args.iter().cloned())
            .args(self.config.extra_args.iter().cloned());
        if self.config.no_sandbox {
            warn!(
                "SECURITY: the isolated Chromium runs WITHOUT its sandbox (chromium.no_sandbox = true); \
                 a renderer exploit would run with this process's rights"
            );
            builder = builder.no_sandbox();
        }
        let config = builder.build().map_err(BrowserError::Launch)?;
        let started = std::time::Instant::now();
        let (mut browser, mut handler) = Browser::launch(config)
            .await
            .map_err(|e| BrowserError::Launch(e.to_string()))?;
        let pid = browser.get_mut_child().and_then(|c| c.inner.id());

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
        // Dropping `Running` drops `Browser`, which reaps (or kills) the child.
        Ok(Running {
            browser,
            generation,
            pid,
            died: dead_rx,
            profile_dir,
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

/// Process-wide Chromium switches (without leading dashes: chromiumoxide adds them).
pub fn chromium_args() -> Vec<String> {
    let mut disabled = vec![
        // Halves memory per context (measured on Chromium 156).
        "WebUIOmniboxPopup",
        "WebUIOmniboxAimPopup",
        "PreloadTopChromeWebUI",
    ];
    disabled.extend(crate::egress::chromium_disabled_features());
    let mut args: Vec<String> = [
        "disable-gpu",
        "disable-dev-shm-usage",
        "disable-client-side-phishing-detection",
        "password-store=basic",
        "use-mock-keychain",
        "font-render-hinting=none",
        "force-color-profile=srgb",
        "remote-allow-origins=http://127.0.0.1",
        // Every session's page is on someone's screen: Chromium must not treat
        // all but one of them as background tabs (no frames, throttled timers).
        "disable-renderer-backgrounding",
        "disable-background-timer-throttling",
        "disable-backgrounding-occluded-windows",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    // Keep all traffic in the per-session egress proxies (one --disable-features only:
    // Chromium honours the last one).
    args.extend(crate::egress::chromium_hardening_args());
    args.push(format!("disable-features={}", disabled.join(",")));
    args
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

/// The uid and gid of a user, from /etc/passwd.
pub fn lookup_user(name: &str) -> Option<(u32, u32)> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let f: Vec<&str> = line.split(':').collect();
        (f.len() >= 4 && f[0] == name).then(|| Some((f[2].parse().ok()?, f[3].parse().ok()?)))?
    })
}

/// `s` quoted for a POSIX shell.
pub fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}
