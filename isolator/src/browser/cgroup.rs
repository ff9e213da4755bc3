//! A control group for the isolated Chromium: a memory cap and a CPU quota
//! on its whole process tree (browser, zygotes, renderers, utilities).
//!
//! Design choices:
//! - **Under our own cgroup.** The group is created as a child of the cgroup
//!   the server runs in (read from `/proc/self/cgroup`), never at the root of
//!   the hierarchy: whatever limits an operator put on the service (systemd,
//!   a container) still hold for Chromium, and the group disappears with the
//!   service's own tree.
//! - **v2 when its controllers are usable, else v1.** cgroup v2 is used when
//!   its `memory` (and, for a CPU quota, `cpu`) controllers are available;
//!   otherwise the v1 `memory` and `cpu` hierarchies. Mount points come from
//!   `/proc/self/mountinfo`, not from guessed paths.
//! - **Joined before exec.** The shell that launches Chromium writes its own pid
//!   into the group before it execs Chromium, so every process Chromium ever
//!   forks is born inside it; moving a running browser would leave its
//!   already-forked children outside.
//! - **Best effort, said out loud.** Without root, on a read-only hierarchy or
//!   without the controllers, the server logs why and goes on without limits.
//! - **Who the kernel kills.** When the group reaches its memory cap the
//!   kernel's OOM killer picks a victim inside it by size and
//!   `oom_score_adj`; Chromium gives renderers a high adjustment (300 and
//!   up) and the browser process 0, so the victim is the renderer of the page
//!   that grew, not the browser. That renderer's crash reaches its own
//!   session (see `session::actor::limits`), which tells the user; the kill
//!   counter ([`ChromiumCgroup::oom_kills`]) says it was memory.
//!
//! Per-session child groups are not made: CDP does not say which renderer
//! process serves which target, and renderers come and go with cross-site
//! navigations (site isolation), so a pid-to-session map built by watching
//! `/proc` would be a guess. The shared cap plus the kernel's choice of the
//! largest renderer gives the same protection without that guess.

use std::path::{Path, PathBuf};
use std::time::Duration;

use tracing::{info, warn};

/// Limits for the browser's group; `None` leaves a resource unlimited.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Limits {
    /// Memory cap for the whole tree, bytes.
    pub memory_bytes: Option<u64>,
    /// CPU quota, in cores (1.5 = one and a half cores' worth of time).
    pub cpu_cores: Option<f64>,
}

/// Why no group could be made.
#[derive(Debug, thiserror::Error)]
pub enum CgroupError {
    /// No usable hierarchy (none mounted, or without the needed controllers).
    #[error("no usable cgroup hierarchy: {0}")]
    Unavailable(String),
    /// A cgroup file could not be read or written.
    #[error("cgroup {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> CgroupError + '_ {
    move |source| CgroupError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Which cgroup version a group lives in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Version {
    /// The unified hierarchy.
    V2,
    /// Separate `memory` and `cpu` hierarchies.
    V1,
}

/// The browser's control group; removed when dropped (its processes are
/// killed first: the browser they belonged to is gone by then).
#[derive(Debug)]
pub struct ChromiumCgroup {
    version: Version,
    /// One directory per hierarchy (v2: one; v1: memory, then cpu if limited).
    dirs: Vec<PathBuf>,
    memory_dir: PathBuf,
}

impl ChromiumCgroup {
    /// Creates `name` under the server's own cgroup with `limits`.
    pub fn create(name: &str, limits: &Limits) -> Result<ChromiumCgroup, CgroupError> {
        let mounts = std::fs::read_to_string("/proc/self/mountinfo")
            .map_err(io(Path::new("/proc/self/mountinfo")))?;
        let own = std::fs::read_to_string("/proc/self/cgroup")
            .map_err(io(Path::new("/proc/self/cgroup")))?;
        let v2_err = match v2_base(&mounts, &own, limits) {
            // E.g. EBUSY: v2 forbids controllers on a group that holds processes.
            Ok(base) => match Self::create_v2(&base, name, limits) {
                Ok(group) => return Ok(group),
                Err(e) => e.to_string(),
            },
            Err(e) => e,
        };
        Self::create_v1(&mounts, &own, name, limits).map_err(|v1_err| {
            CgroupError::Unavailable(format!("cgroup v2: {v2_err}; cgroup v1: {v1_err}"))
        })
    }

    fn create_v2(base: &Path, name: &str, limits: &Limits) -> Result<ChromiumCgroup, CgroupError> {
        let mut wanted = vec!["+memory"];
        if limits.cpu_cores.is_some() {
            wanted.push("+cpu");
        }
        let control = base.join("cgroup.subtree_control");
        std::fs::write(&control, wanted.join(" ")).map_err(io(&control))?;
        let dir = base.join(name);
        make_dir(&dir)?;
        let group = ChromiumCgroup {
            version: Version::V2,
            dirs: vec![dir.clone()],
            memory_dir: dir.clone(),
        };
        if let Some(bytes) = limits.memory_bytes {
            write(&dir.join("memory.max"), &bytes.to_string())?;
            // No swap for a browser whose pages are untrusted: the cap is the cap.
            let _ = std::fs::write(dir.join("memory.swap.max"), "0");
        }
        if let Some(cores) = limits.cpu_cores {
            let period = 100_000u64;
            let quota = (cores * period as f64).round().max(1000.0) as u64;
            write(&dir.join("cpu.max"), &format!("{quota} {period}"))?;
        }
        Ok(group)
    }

    fn create_v1(
        mounts: &str,
        own: &str,
        name: &str,
        limits: &Limits,
    ) -> Result<ChromiumCgroup, CgroupError> {
        let memory_base = v1_base(mounts, own, "memory")?;
        let memory_dir = memory_base.join(name);
        make_dir(&memory_dir)?;
        let mut group = ChromiumCgroup {
            version: Version::V1,
            dirs: vec![memory_dir.clone()],
            memory_dir: memory_dir.clone(),
        };
        if let Some(bytes) = limits.memory_bytes {
            write(
                &memory_dir.join("memory.limit_in_bytes"),
                &bytes.to_string(),
            )?;
            // Never swap instead of stopping the page (ignored without swap accounting).
            let _ = std::fs::write(memory_dir.join("memory.swappiness"), "0");
        }
        if let Some(cores) = limits.cpu_cores {
            let cpu_dir = v1_base(mounts, own, "cpu")?.join(name);
            make_dir(&cpu_dir)?;
            group.dirs.push(cpu_dir.clone());
            let period = 100_000u64;
            let quota = (cores * period as f64).round().max(1000.0) as u64;
            write(&cpu_dir.join("cpu.cfs_period_us"), &period.to_string())?;
            write(&cpu_dir.join("cpu.cfs_quota_us"), &quota.to_string())?;
        }
        Ok(group)
    }

    /// The cgroup version in use.
    pub fn version(&self) -> Version {
        self.version
    }

    /// The group's directories (one per hierarchy).
    pub fn dirs(&self) -> &[PathBuf] {
        &self.dirs
    }

    /// The files a process writes its pid into to join the group.
    pub fn procs_files(&self) -> Vec<PathBuf> {
        self.dirs.iter().map(|d| d.join("cgroup.procs")).collect()
    }

    /// The processes in the group now.
    pub fn pids(&self) -> Vec<u32> {
        std::fs::read_to_string(self.memory_dir.join("cgroup.procs"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.trim().parse().ok())
            .collect()
    }

    /// Memory charged to the group now, bytes.
    pub fn memory_usage(&self) -> Option<u64> {
        let file = match self.version {
            Version::V2 => "memory.current",
            Version::V1 => "memory.usage_in_bytes",
        };
        std::fs::read_to_string(self.memory_dir.join(file))
            .ok()?
            .trim()
            .parse()
            .ok()
    }

    /// Processes the kernel killed in this group for going over its memory
    /// cap, since it was made.
    pub fn oom_kills(&self) -> u64 {
        let file = match self.version {
            Version::V2 => "memory.events",
            Version::V1 => "memory.oom_control",
        };
        std::fs::read_to_string(self.memory_dir.join(file))
            .unwrap_or_default()
            .lines()
            .find_map(|l| l.strip_prefix("oom_kill ")?.trim().parse().ok())
            .unwrap_or(0)
    }
}

impl Drop for ChromiumCgroup {
    fn drop(&mut self) {
        // The browser was killed just before; its children may still be
        // exiting. Clean up off the async runtime.
        let dirs = std::mem::take(&mut self.dirs);
        let memory_dir = self.memory_dir.clone();
        let _ = std::thread::Builder::new()
            .name("cgroup-cleanup".into())
            .spawn(move || remove_group(&memory_dir, &dirs));
    }
}

/// Kills what is left in the group and removes its directories (retrying
/// while processes exit).
fn remove_group(memory_dir: &Path, dirs: &[PathBuf]) {
    for attempt in 0..50 {
        let pids: Vec<u32> = std::fs::read_to_string(memory_dir.join("cgroup.procs"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.trim().parse().ok())
            .collect();
        for pid in &pids {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .stderr(std::process::Stdio::null())
                .status();
        }
        let left: Vec<&PathBuf> = dirs
            .iter()
            .filter(|d| d.exists() && std::fs::remove_dir(d).is_err())
            .collect();
        if left.is_empty() {
            info!(dir = %memory_dir.display(), "browser cgroup removed");
            return;
        }
        if attempt == 49 {
            warn!(dir = %memory_dir.display(), processes = pids.len(), "browser cgroup could not be removed");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Removes empty groups of earlier servers that exited without cleaning up
/// (`isolator-chromium-<pid>-<n>` whose pid is gone).
fn sweep_stale(base: &Path) {
    for entry in std::fs::read_dir(base).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix("isolator-chromium-")
            .and_then(|rest| rest.split('-').next())
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        if pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists() {
            // Fails, harmlessly, while processes remain in it.
            if std::fs::remove_dir(entry.path()).is_ok() {
                info!(dir = %entry.path().display(), "removed a stale browser cgroup");
            }
        }
    }
}

fn make_dir(dir: &Path) -> Result<(), CgroupError> {
    if let Some(base) = dir.parent() {
        sweep_stale(base);
    }
    match std::fs::create_dir(dir) {
        // Left over from a crashed run with the same name: never share it
        // (its limits and processes are not ours); an empty one is replaced.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => std::fs::remove_dir(dir)
            .and_then(|()| std::fs::create_dir(dir))
            .map_err(io(dir)),
        other => other.map_err(io(dir)),
    }
}

fn write(path: &Path, value: &str) -> Result<(), CgroupError> {
    std::fs::write(path, value).map_err(io(path))
}

/// Mount points of cgroup file systems: (fs type, super options, mount point).
fn cgroup_mounts(mountinfo: &str) -> Vec<(&str, &str, &str)> {
    mountinfo
        .lines()
        .filter_map(|line| {
            let (left, right) = line.split_once(" - ")?;
            let mount_point = left.split_whitespace().nth(4)?;
            let mut r = right.split_whitespace();
            let fstype = r.next()?;
            let _source = r.next()?;
            let options = r.next().unwrap_or("");
            fstype
                .starts_with("cgroup")
                .then_some((fstype, options, mount_point))
        })
        .collect()
}

/// The server's own v2 group, when v2 has the controllers `limits` need.
fn v2_base(mountinfo: &str, own: &str, limits: &Limits) -> Result<PathBuf, String> {
    let mount = cgroup_mounts(mountinfo)
        .into_iter()
        .find(|(t, _, _)| *t == "cgroup2")
        .map(|(_, _, m)| PathBuf::from(m))
        .ok_or("not mounted")?;
    let path = own
        .lines()
        .find_map(|l| l.strip_prefix("0::"))
        .ok_or("this process is in no v2 group")?;
    let base = mount.join(path.trim_start_matches('/'));
    let controllers = std::fs::read_to_string(base.join("cgroup.controllers"))
        .map_err(|e| format!("{}: {e}", base.display()))?;
    let have: Vec<&str> = controllers.split_whitespace().collect();
    let mut need = vec!["memory"];
    if limits.cpu_cores.is_some() {
        need.push("cpu");
    }
    if let Some(missing) = need.iter().find(|c| !have.contains(c)) {
        return Err(format!(
            "controller {missing} not available in {} (have: {})",
            base.display(),
            if have.is_empty() {
                "none".to_owned()
            } else {
                have.join(" ")
            }
        ));
    }
    Ok(base)
}

/// The server's own group in the v1 hierarchy of `controller`.
fn v1_base(mountinfo: &str, own: &str, controller: &str) -> Result<PathBuf, CgroupError> {
    let mount = cgroup_mounts(mountinfo)
        .into_iter()
        .find(|(t, opts, _)| *t == "cgroup" && opts.split(',').any(|o| o == controller))
        .map(|(_, _, m)| PathBuf::from(m))
        .ok_or_else(|| CgroupError::Unavailable(format!("no v1 {controller} hierarchy mounted")))?;
    let path = own
        .lines()
        .find_map(|l| {
            let mut f = l.splitn(3, ':');
            let _id = f.next()?;
            let controllers = f.next()?;
            let path = f.next()?;
            controllers
                .split(',')
                .any(|c| c == controller)
                .then_some(path)
        })
        .unwrap_or("/");
    Ok(mount.join(path.trim_start_matches('/')))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::ExitStatusExt;

    const MOUNTINFO: &str = "\
35 26 0:30 / /sys/fs/cgroup ro,nosuid - tmpfs tmpfs ro,mode=755
36 35 0:31 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
40 35 0:35 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct
41 35 0:36 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
";
    const OWN: &str = "4:memory:/svc/isolator\n3:cpu,cpuacct:/svc\n0::/svc/isolator\n";

    #[test]
    fn finds_v1_hierarchies_under_our_own_group() {
        assert_eq!(
            v1_base(MOUNTINFO, OWN, "memory").unwrap(),
            Path::new("/sys/fs/cgroup/memory/svc/isolator")
        );
        assert_eq!(
            v1_base(MOUNTINFO, OWN, "cpu").unwrap(),
            Path::new("/sys/fs/cgroup/cpu,cpuacct/svc")
        );
        // `cpu` must not match `cpuset` or `cpuacct` alone.
        let only_cpuset = "50 35 0:40 / /sys/fs/cgroup/cpuset rw - cgroup cgroup rw,cpuset\n";
        assert!(v1_base(only_cpuset, OWN, "cpu").is_err());
    }

    #[test]
    fn parses_mounts() {
        let m = cgroup_mounts(MOUNTINFO);
        assert_eq!(m.len(), 3);
        assert_eq!(m[0], ("cgroup2", "rw", "/sys/fs/cgroup/unified"));
    }

    #[test]
    fn v2_without_controllers_says_which_is_missing() {
        // The mount exists but the directory does not: the error names it.
        let err = v2_base(MOUNTINFO, OWN, &Limits::default()).unwrap_err();
        assert!(err.contains("/sys/fs/cgroup/unified/svc/isolator"), "{err}");
        assert!(v2_base("", OWN, &Limits::default())
            .unwrap_err()
            .contains("not mounted"));
    }

    /// On a machine with a writable hierarchy (root here): a real group with
    /// real limits, joined by a real shell, removed on drop.
    #[test]
    fn a_real_group_caps_joins_and_goes_away() {
        let limits = Limits {
            memory_bytes: Some(300 << 20),
            cpu_cores: Some(0.5),
        };
        let name = format!("isolator-unit-{}", std::process::id());
        let group = match ChromiumCgroup::create(&name, &limits) {
            Ok(g) => g,
            Err(e) => {
                eprintln!("SKIPPED: no writable cgroup hierarchy here: {e}");
                return;
            }
        };
        let dir = group.dirs()[0].clone();
        match group.version() {
            Version::V1 => {
                let cap = std::fs::read_to_string(dir.join("memory.limit_in_bytes")).unwrap();
                assert_eq!(cap.trim(), (300u64 << 20).to_string());
                let cpu = &group.dirs()[1];
                let quota = std::fs::read_to_string(cpu.join("cpu.cfs_quota_us")).unwrap();
                assert_eq!(quota.trim(), "50000");
            }
            Version::V2 => {
                let cap = std::fs::read_to_string(dir.join("memory.max")).unwrap();
                assert_eq!(cap.trim(), (300u64 << 20).to_string());
                let cpu = std::fs::read_to_string(dir.join("cpu.max")).unwrap();
                assert_eq!(cpu.trim(), "50000 100000");
            }
        }
        // The browser's own launch script, with the group's files as arguments.
        let mut child = std::process::Command::new("sh")
            .arg("-c")
            .arg(crate::browser::spawn::LAUNCH_SCRIPT)
            .arg("sh")
            .args(group.procs_files())
            .args(["--", "sleep", "30"])
            .spawn()
            .unwrap();
        let pid = child.id();
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while !group.pids().contains(&pid) {
            assert!(std::time::Instant::now() < deadline, "{pid} never joined");
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(group.memory_usage().is_some_and(|b| b > 0));
        assert_eq!(group.oom_kills(), 0);
        drop(group);
        // The cleanup kills what is left and removes the directories.
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while dir.exists() {
            assert!(
                std::time::Instant::now() < deadline,
                "{} not removed",
                dir.display()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        assert!(
            child.wait().unwrap().signal().is_some(),
            "the process was killed"
        );
    }
}
