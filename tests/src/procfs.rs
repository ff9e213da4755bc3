//! What the benchmarks read from `/proc`: a process tree (the isolated
//! Chromium and its children), its memory and CPU time, and percentiles of
//! measured samples.

use crate::Isolator;

/// PIDs of `root` and all its descendants.
pub fn process_tree(root: u32) -> Vec<u32> {
    let mut parents = Vec::new();
    for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        if let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            if let Some((_, rest)) = stat.rsplit_once(')') {
                let ppid: u32 = rest
                    .split_whitespace()
                    .nth(1)
                    .and_then(|p| p.parse().ok())
                    .unwrap_or(0);
                parents.push((pid, ppid));
            }
        }
    }
    let mut out = vec![root];
    let mut i = 0;
    while i < out.len() {
        let p = out[i];
        out.extend(parents.iter().filter(|(_, pp)| *pp == p).map(|(c, _)| *c));
        i += 1;
    }
    out
}

/// The number after `name` (`Pss:`, `VmRSS:`) in a `/proc` file's text, in KB.
pub fn field_kb(text: &str, name: &str) -> u64 {
    text.lines()
        .find(|l| l.starts_with(name))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .unwrap_or(0)
}

/// PSS of `root` and its descendants, in KB.
pub fn tree_pss_kb(root: u32) -> u64 {
    process_tree(root)
        .into_iter()
        .filter_map(|p| std::fs::read_to_string(format!("/proc/{p}/smaps_rollup")).ok())
        .map(|s| field_kb(&s, "Pss:"))
        .sum()
}

/// CPU time (user + system, in clock ticks) of `root` and its descendants.
pub fn tree_cpu_ticks(root: u32) -> u64 {
    process_tree(root)
        .into_iter()
        .filter_map(|p| std::fs::read_to_string(format!("/proc/{p}/stat")).ok())
        .filter_map(|s| {
            let rest = s.rsplit_once(')')?.1.to_owned();
            let f: Vec<&str> = rest.split_whitespace().collect();
            Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
        })
        .sum()
}

/// The isolated Chromium's PID, when it runs.
pub async fn chromium_pid(iso: &Isolator) -> Option<u32> {
    iso.state
        .sessions
        .browser()
        .peek()
        .await
        .and_then(|r| r.pid())
}

/// The `p` quantile (0..=1) of `v`; NaN when empty.
pub fn percentile(v: &[f64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    let mut v = v.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}
