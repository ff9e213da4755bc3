//! Throughput of the detection engine next to ripgrep on the same bytes.
//!
//! ```text
//! cargo run --release -p enforcer --example rg_compare [-- --mb 16 --runs 5]
//! ```
//!
//! Writes the benchmark corpora (`benches/support/corpus.rs`: prose, dense
//! data, source code; `--mb` MB each) to a temporary directory, then for each
//! corpus times, best of `--runs`:
//! - `rg -j1 -c` with plain regexes for the card, SSN, AWS key id and e-mail
//!   formats, all four in one run (`-e` each) and each alone (wall time of
//!   the process, which includes reading the file from the page cache);
//! - our engine on the same bytes, one thread, all predefined profiles
//!   (`Engine::scan_selection`: normalisation, 47 detectors, validators,
//!   context, profiles).
//!
//! Both sides are timed by wall clock under the same conditions (best of
//! `--runs`); our thread's CPU time is printed too, since on a loaded
//! machine it is the steadier figure. Prints MB/s and our throughput as a
//! ratio to rg's. Exits 2 with a clear
//! message when `rg` (Debian package `ripgrep`) is not installed.

#[path = "../benches/support/corpus.rs"]
mod corpus;
#[path = "../benches/support/cpu_time.rs"]
mod cpu_time;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use enforcer::detect::PREDEFINED_PROFILES;
use enforcer::Engine;

/// Plain regexes for the formats, as a ripgrep user would write them.
const PATTERNS: [(&str, &str); 4] = [
    (
        "card",
        r"\b(?:4[0-9]{3}|5[1-5][0-9]{2}|2[2-7][0-9]{2}|6011|3[47][0-9]{2})[ -]?[0-9]{4}[ -]?[0-9]{4}[ -]?[0-9]{1,4}\b",
    ),
    ("ssn", r"\b[0-9]{3}-[0-9]{2}-[0-9]{4}\b"),
    ("aws_key", r"\b(?:AKIA|ASIA)[A-Z2-7]{16}\b"),
    ("email", r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"),
];

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    match args.iter().position(|a| a == name) {
        None => default,
        Some(i) => match args.get(i + 1).map(|v| v.parse::<usize>()) {
            Some(Ok(v)) if v > 0 => v,
            _ => {
                eprintln!("rg_compare: {name} needs a positive whole number");
                std::process::exit(2);
            }
        },
    }
}

/// Best wall time of `runs` runs of rg with `patterns` on `file`, and its match count.
fn time_rg(patterns: &[&str], file: &Path, runs: usize) -> (Duration, String) {
    let mut best = Duration::MAX;
    let mut out = String::new();
    for _ in 0..runs {
        let mut cmd = Command::new("rg");
        cmd.args(["-j1", "-c", "--no-config", "--no-mmap"]);
        for p in patterns {
            cmd.arg("-e").arg(p);
        }
        cmd.arg(file);
        let t = Instant::now();
        let o = cmd.output().unwrap_or_else(|e| {
            eprintln!("rg_compare: cannot run rg: {e}");
            std::process::exit(2);
        });
        best = best.min(t.elapsed());
        // rg exits 1 when nothing matched; 2 is an error.
        if o.status.code() == Some(2) {
            eprintln!(
                "rg_compare: rg failed on {}: {}",
                file.display(),
                String::from_utf8_lossy(&o.stderr)
            );
            std::process::exit(2);
        }
        out = String::from_utf8_lossy(&o.stdout).trim().to_string();
    }
    (best, if out.is_empty() { "0".into() } else { out })
}

fn mbps(bytes: usize, d: Duration) -> f64 {
    bytes as f64 / (1 << 20) as f64 / d.as_secs_f64()
}

fn main() {
    let mb = arg("--mb", 16);
    let runs = arg("--runs", 5);
    match Command::new("rg").arg("--version").output() {
        Ok(o) if o.status.success() => {
            let v = String::from_utf8_lossy(&o.stdout);
            println!("{}", v.lines().next().unwrap_or("rg"));
        }
        _ => {
            eprintln!(
                "rg_compare: ripgrep (`rg`) is not installed or not on PATH; \
                 install the Debian package `ripgrep` (apt-get install ripgrep)"
            );
            std::process::exit(2);
        }
    }
    let dir = tempfile::tempdir().unwrap_or_else(|e| {
        eprintln!("rg_compare: cannot create a temporary directory: {e}");
        std::process::exit(2);
    });
    let engine = Engine::with_defaults();
    let sel = engine
        .selection(&PREDEFINED_PROFILES)
        .expect("predefined profiles");
    println!(
        "{:<6} {:>7} {:<10} {:>10} {:>10} {:>10} {:>8}",
        "corpus", "MB", "rg regex", "rg MB/s", "rg count", "ours MB/s", "ours/rg"
    );
    for (name, text) in [
        ("prose", corpus::prose(mb << 20)),
        ("dense", corpus::dense(mb << 20)),
        ("code", corpus::code(mb << 20)),
    ] {
        let file = dir.path().join(format!("{name}.txt"));
        std::fs::write(&file, &text).unwrap_or_else(|e| {
            eprintln!("rg_compare: cannot write {}: {e}", file.display());
            std::process::exit(2);
        });
        let (mut ours, mut ours_cpu) = (Duration::MAX, Duration::MAX);
        let mut findings = 0;
        for _ in 0..runs {
            let (r, wall, cpu) = cpu_time::timed(|| engine.scan_selection(&text, &sel));
            ours = ours.min(wall);
            ours_cpu = ours_cpu.min(cpu);
            findings = r.findings.len();
        }
        let ours_mbps = mbps(text.len(), ours);
        let mut rows: Vec<(&str, Vec<&str>)> =
            vec![("all four", PATTERNS.iter().map(|p| p.1).collect())];
        rows.extend(PATTERNS.iter().map(|(n, p)| (*n, vec![*p])));
        for (label, pats) in rows {
            let (d, count) = time_rg(&pats, &file, runs);
            let rg_mbps = mbps(text.len(), d);
            println!(
                "{name:<6} {:>7.1} {label:<10} {rg_mbps:>10.1} {count:>10} {ours_mbps:>10.1} {:>8.2}",
                text.len() as f64 / (1 << 20) as f64,
                ours_mbps / rg_mbps
            );
        }
        println!(
            "{name:<6} engine: {findings} findings counted by the profiles; {:.1} MB/s by thread CPU time",
            mbps(text.len(), ours_cpu)
        );
    }
}
