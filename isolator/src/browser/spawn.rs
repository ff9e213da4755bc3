//! Starting the Chromium process, with nothing on disk that another local
//! user could prepare or change.
//!
//! There is no launcher script file: the server runs `/bin/sh -c` with a
//! fixed script text ([`LAUNCH_SCRIPT`]) whose data (the cgroup files to
//! join, the command to exec) arrive as positional arguments, never pasted
//! into the script. The shell joins the cgroup (so every process Chromium
//! forks is born inside it), moves the DevTools pipe ends from its
//! stdin/stdout to fds 3 and 4 where `--remote-debugging-pipe` expects them,
//! and execs `setpriv` (as root, dropping to the unprivileged Chromium user
//! with no capabilities and a parent-death signal) or Chromium directly. The
//! process id stays the same through each exec, so the child's pid is
//! Chromium's.
//!
//! The server's ends of the pipes are close-on-exec (`std::io::pipe`), so
//! no other child of the server (the extraction workers) inherits a channel
//! to the browser.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::AsyncBufReadExt;

use super::pipe::{self, Bridge};

/// `sh -c` text: `$1..` up to `--` are cgroup files to write our pid into,
/// the rest is the command to exec with the pipe on fds 3 (commands, from
/// stdin) and 4 (messages, to stdout); stdout then goes to stderr.
pub const LAUNCH_SCRIPT: &str = r#"while [ "$#" -gt 0 ] && [ "$1" != -- ]; do
  echo $$ > "$1" || { echo "isolator: cannot join the cgroup ($1)" >&2; exit 1; }
  shift
done
shift
exec 3<&0 4>&1 </dev/null >&2
exec "$@"
"#;

/// What to start.
pub struct Launch<'a> {
    /// Chromium's binary.
    pub executable: &'a Path,
    /// Its switches (with leading dashes).
    pub args: Vec<String>,
    /// The profile directory (also `$HOME`).
    pub profile: &'a Path,
    /// `cgroup.procs` files to join before exec.
    pub cgroup_procs: Vec<PathBuf>,
    /// Drop to this (uid, gid) with `setpriv` (root with the sandbox on).
    pub run_as: Option<(u32, u32)>,
    /// How long chromiumoxide has to connect to the bridge.
    pub connect_within: Duration,
}

/// A started Chromium.
pub struct Spawned {
    /// The process (killed when dropped).
    pub child: tokio::process::Child,
    /// Its pid (Chromium's: the shell and setpriv exec it).
    pub pid: Option<u32>,
    /// Where chromiumoxide connects.
    pub bridge: Bridge,
    /// The last lines Chromium wrote to stderr (for launch errors).
    pub stderr_tail: Arc<Mutex<VecDeque<String>>>,
}

/// The command that [`spawn`] runs: program and arguments.
pub fn argv(launch: &Launch<'_>) -> Vec<String> {
    let mut argv: Vec<String> = vec![
        "/bin/sh".into(),
        "-c".into(),
        LAUNCH_SCRIPT.into(),
        "sh".into(),
    ];
    argv.extend(launch.cgroup_procs.iter().map(|p| p.display().to_string()));
    argv.push("--".into());
    if let Some((uid, gid)) = launch.run_as {
        argv.extend([
            "setpriv".into(),
            format!("--reuid={uid}"),
            format!("--regid={gid}"),
            "--clear-groups".into(),
            "--inh-caps=-all".into(),
            "--pdeathsig".into(),
            "KILL".into(),
            "--".into(),
        ]);
    }
    argv.push(launch.executable.display().to_string());
    argv.extend(launch.args.iter().cloned());
    argv
}

/// Starts Chromium with its DevTools pipe bridged to a WebSocket URL.
pub fn spawn(launch: &Launch<'_>) -> Result<Spawned, String> {
    let (commands_r, commands_w) =
        std::io::pipe().map_err(|e| format!("cannot make a pipe: {e}"))?;
    let (messages_r, messages_w) =
        std::io::pipe().map_err(|e| format!("cannot make a pipe: {e}"))?;
    let argv = argv(launch);
    let mut cmd = tokio::process::Command::new(&argv[0]);
    cmd.args(&argv[1..])
        .env("HOME", launch.profile)
        // Chromium's own temporary files (org.chromium.Chromium.*) go into
        // its private profile and leave with it, not into the shared /tmp.
        .env("TMPDIR", launch.profile)
        .stdin(Stdio::from(commands_r))
        .stdout(Stdio::from(messages_w))
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let spawned = cmd.spawn();
    // The child's ends are closed here so that either side sees the other go.
    drop(cmd);
    let mut child = spawned.map_err(|e| format!("cannot start /bin/sh: {e}"))?;
    let pid = child.id();
    let stderr_tail = Arc::new(Mutex::new(VecDeque::new()));
    if let Some(stderr) = child.stderr.take() {
        let tail = stderr_tail.clone();
        tokio::spawn(async move {
            let mut lines = tokio::io::BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                tracing::debug!(target: "isolator::chromium", "{line}");
                let mut tail = tail.lock().unwrap_or_else(|e| e.into_inner());
                if tail.len() == 20 {
                    tail.pop_front();
                }
                tail.push_back(line);
            }
        });
    }
    let bridge = pipe::start(commands_w, messages_r, launch.connect_within)
        .map_err(|e| format!("cannot start the DevTools bridge: {e}"))?;
    Ok(Spawned {
        child,
        pid,
        bridge,
        stderr_tail,
    })
}

impl Spawned {
    /// The last lines of Chromium's stderr, for an error message.
    pub fn stderr_tail(&self) -> String {
        let tail = self.stderr_tail.lock().unwrap_or_else(|e| e.into_inner());
        tail.iter().cloned().collect::<Vec<_>>().join("\n")
    }
}
