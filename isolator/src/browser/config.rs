//! `[chromium]`: the isolated browser process, its user and its limits.

use std::path::PathBuf;

use serde::Deserialize;

use crate::config_error::ConfigError;

/// The isolated Chromium process.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ChromiumConfig {
    /// The Chromium binary. Debian's wrapper `/usr/bin/chromium` adds flags of
    /// its own, so the real binary is launched directly.
    pub executable: PathBuf,
    /// Run without Chromium's sandbox: an explicit opt-out for containers that
    /// cannot create namespaces, logged loudly when on. Never needed otherwise:
    /// as root, Chromium runs as `run_as` with its sandbox on.
    pub no_sandbox: bool,
    /// The unprivileged user Chromium runs as when the server runs as root
    /// (the install script creates it). Empty: run as the server's own user.
    pub run_as: String,
    /// Extra command-line switches, without leading dashes (`"lang=en-US"`).
    pub extra_args: Vec<String>,
    /// Seconds to wait for Chromium to start.
    pub launch_timeout_secs: u64,
    /// Seconds a single CDP command may take before it is abandoned.
    pub command_timeout_secs: u64,
    /// Put Chromium's whole process tree in its own cgroup (under the
    /// server's own), created at launch and removed when it exits. Needs a
    /// writable cgroup hierarchy (root, or a delegated group); without one the
    /// server says so in its log and runs Chromium without limits.
    pub cgroup: bool,
    /// Memory cap in MB for Chromium's whole process tree (its cgroup); 0: no
    /// cap. At the cap the kernel stops the largest renderer, which is the
    /// page that grew, and that session is told; the browser and other
    /// sessions go on.
    pub memory_limit_mb: u64,
    /// CPU quota for Chromium's whole process tree, in cores (`1.5`); 0: no quota.
    pub cpu_limit_cores: f64,
}

impl Default for ChromiumConfig {
    fn default() -> Self {
        Self {
            executable: PathBuf::from("/usr/lib/chromium/chromium"),
            no_sandbox: false,
            run_as: "isolator-chromium".into(),
            extra_args: Vec::new(),
            launch_timeout_secs: 20,
            command_timeout_secs: 10,
            cgroup: true,
            memory_limit_mb: 0,
            cpu_limit_cores: 0.0,
        }
    }
}

impl ChromiumConfig {
    /// Checks values that parse but are out of range, and that a root
    /// server has an unprivileged user to run Chromium as.
    pub fn validate(&self, origin: &str) -> Result<(), ConfigError> {
        let bad = |field: &'static str, message: String| {
            Err(ConfigError::invalid(origin, field, message))
        };
        if self.launch_timeout_secs == 0 {
            return bad("chromium.launch_timeout_secs", "must be positive".into());
        }
        if self.command_timeout_secs == 0 {
            return bad("chromium.command_timeout_secs", "must be positive".into());
        }
        if self.memory_limit_mb != 0 && !(256..=4 << 20).contains(&self.memory_limit_mb) {
            return bad(
                "chromium.memory_limit_mb",
                "must be 0 (no cap) or between 256 and 4194304 (Chromium alone needs about 200 MB)"
                    .into(),
            );
        }
        let cores = self.cpu_limit_cores;
        if !(cores == 0.0 || (0.1..=1024.0).contains(&cores)) {
            return bad(
                "chromium.cpu_limit_cores",
                "must be 0 (no quota) or between 0.1 and 1024".into(),
            );
        }
        if crate::os::is_root() && !self.no_sandbox {
            if self.run_as.is_empty() {
                return bad(
                    "chromium.run_as",
                    "the server runs as root, and Chromium's sandbox cannot run as root: name an unprivileged \
                     user (the install script creates `isolator-chromium`) or set chromium.no_sandbox = true"
                        .into(),
                );
            }
            if crate::os::lookup_user(&self.run_as).is_none() {
                return bad(
                    "chromium.run_as",
                    format!(
                        "user {:?} does not exist (run isolator/scripts/install-deps.sh, or name another user)",
                        self.run_as
                    ),
                );
            }
        }
        for (i, arg) in self.extra_args.iter().enumerate() {
            if arg.starts_with('-') {
                return bad(
                    "chromium.extra_args",
                    format!(
                        "entry {i} ({arg:?}) must not start with '-': write the switch name only"
                    ),
                );
            }
            let name = arg.split('=').next().unwrap_or_default();
            if super::args::RESERVED.contains(&name) {
                return bad(
                    "chromium.extra_args",
                    format!(
                        "entry {i} ({arg:?}) is set by the isolator itself: DevTools stays on a \
                         private pipe, the profile in a private directory, and certificates \
                         are checked by the egress proxy"
                    ),
                );
            }
        }
        Ok(())
    }

    /// The uid and gid Chromium runs as: `run_as` when the server is root
    /// and the sandbox is on; `None` when it runs as the server's own user.
    pub fn browser_user(&self) -> Option<(u32, u32)> {
        if crate::os::is_root() && !self.no_sandbox && !self.run_as.is_empty() {
            crate::os::lookup_user(&self.run_as)
        } else {
            None
        }
    }
}
