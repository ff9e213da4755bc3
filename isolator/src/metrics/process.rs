//! Memory and CPU of a process tree (the isolated Chromium), read from
//! `/proc` and, when the tree has one, its cgroup. Sampled at scrape time.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Linux reports `utime`/`stime` in `USER_HZ` ticks, which the kernel fixes
/// at 100 for user space on every architecture it exports them for.
const USER_HZ: f64 = 100.0;

/// What a process tree uses now.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Usage {
    /// Processes counted.
    pub processes: u64,
    /// Resident set size, summed over the processes (shared pages counted
    /// once per process), bytes.
    pub rss_bytes: u64,
    /// Proportional set size, summed (shared pages split between their
    /// users, so the sum is what the tree costs), bytes.
    pub pss_bytes: u64,
    /// User plus system CPU time of the processes alive now, seconds.
    pub cpu_seconds: f64,
}

/// `pid` and every process descended from it, from `/proc/*/stat`.
pub fn tree(pid: u32) -> Vec<u32> {
    let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for entry in dir.flatten() {
            let Some(p) = entry
                .file_name()
                .to_str()
                .and_then(|s| s.parse::<u32>().ok())
            else {
                continue;
            };
            if let Some(stat) = read_stat(p) {
                children.entry(stat.ppid).or_default().push(p);
            }
        }
    }
    let mut out = vec![pid];
    let mut i = 0;
    while i < out.len() {
        if let Some(kids) = children.get(&out[i]) {
            out.extend(kids.iter().copied().filter(|k| *k != pid));
        }
        i += 1;
    }
    out
}

/// The usage of `pids` (processes that exited meanwhile are skipped).
pub fn usage(pids: &[u32]) -> Usage {
    let mut u = Usage::default();
    for &pid in pids {
        let Some(stat) = read_stat(pid) else { continue };
        u.processes += 1;
        u.cpu_seconds += stat.cpu_ticks as f64 / USER_HZ;
        if let Ok(text) = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")) {
            u.rss_bytes += kib_field(&text, "Rss:") * 1024;
            u.pss_bytes += kib_field(&text, "Pss:") * 1024;
        }
    }
    u
}

/// CPU time charged to a cgroup since it was made, seconds: v2's
/// `cpu.stat` `usage_usec`, or v1's `cpuacct.usage` (ns), in the first of
/// `dirs` that has one. Unlike a sum over live processes this keeps the
/// time of renderers that have exited.
pub fn cgroup_cpu_seconds(dirs: &[PathBuf]) -> Option<f64> {
    dirs.iter().find_map(|d| cpu_in(d))
}

fn cpu_in(dir: &Path) -> Option<f64> {
    if let Ok(text) = std::fs::read_to_string(dir.join("cpu.stat")) {
        if let Some(us) = text.lines().find_map(|l| l.strip_prefix("usage_usec ")) {
            return us.trim().parse::<u64>().ok().map(|us| us as f64 / 1e6);
        }
    }
    let ns = std::fs::read_to_string(dir.join("cpuacct.usage")).ok()?;
    ns.trim().parse::<u64>().ok().map(|ns| ns as f64 / 1e9)
}

struct Stat {
    ppid: u32,
    cpu_ticks: u64,
}

/// `ppid` and `utime + stime` of `/proc/<pid>/stat`. The command name
/// (field 2) may hold spaces and parentheses: fields are counted after its
/// last `)`.
fn read_stat(pid: u32) -> Option<Stat> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_stat(&text)
}

fn parse_stat(text: &str) -> Option<Stat> {
    let rest = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After the name: state(0) ppid(1) ... utime(11) stime(12).
    Some(Stat {
        ppid: fields.get(1)?.parse().ok()?,
        cpu_ticks: fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?,
    })
}

/// The kB value of `name` in a `/proc` key-value file.
fn kib_field(text: &str, name: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_counted_after_the_name() {
        // A name with spaces and a parenthesis, as Chromium's renderers can have.
        let line = "4242 (chrome (rend) x) S 17 4242 4242 0 -1 4194560 100 0 0 0 250 31 0 0 20 0 8 0 1 2 3";
        let s = parse_stat(line).unwrap();
        assert_eq!(s.ppid, 17);
        assert_eq!(s.cpu_ticks, 281);
        assert!(parse_stat("garbage").is_none());
    }

    #[test]
    fn this_process_is_measured() {
        let me = std::process::id();
        let child = std::process::Command::new("sleep")
            .arg("5")
            .spawn()
            .unwrap();
        let pids = tree(me);
        assert!(pids.contains(&child.id()), "{pids:?} lacks the child");
        let u = usage(&[me]);
        assert_eq!(u.processes, 1);
        assert!(u.rss_bytes > 1 << 20, "{u:?}");
        assert!(u.pss_bytes > 0 && u.pss_bytes <= u.rss_bytes, "{u:?}");
        let mut child = child;
        let _ = child.kill();
        let _ = child.wait();
        assert_eq!(usage(&[u32::MAX]).processes, 0);
    }
}
