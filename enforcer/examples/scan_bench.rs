//! Scan speed on business corpora, side by side with ripgrep, through the
//! paths users hit (issue 21).
//!
//! ```text
//! cargo build --release -p enforcer --example scan_bench
//! cargo build --release -p isolator --bin isolator
//! taskset -c 1 target/release/examples/scan_bench [--sizes 1,64] [--runs 3] [--only prose]
//! SCAN_BENCH_GB=1 taskset -c 1 target/release/examples/scan_bench   # adds 1 GB corpora
//! ```
//!
//! Writes the corpora of `benches/support/business.rs` (business prose,
//! e-mail threads, CSV, JSON, logs, HTML, source code; fixed seeds) to
//! `target/bench-corpora/` (`--dir` to change; files are reused when their
//! size matches), then for each corpus and size prints, best of `--runs`:
//! - `rg`: `rg -c --no-config` with four plain regexes (card, SSN, AWS key
//!   id, e-mail), wall time of the process;
//! - `engine`: our engine in this process, all predefined profiles
//!   (`Engine::scan_selection` on the file's text), wall time;
//! - `file`: `isolator scan --json FILE` (the upload path: type sniffing,
//!   extraction as the file's type needs, scan, JSON output), wall time of the process;
//! - `stdin`: `isolator scan --json - < FILE`;
//! - the ratios engine/rg and file/rg, and what the `file` path adds over
//!   the engine alone (`file+%`, by CPU time: the child's CPU time, read
//!   from `/proc/self/stat` in 10 ms ticks, against the engine thread's;
//!   shown for runs of 200 ms or more).
//!
//! Then the start-up time of `isolator scan --json -` on a 12-byte input.
//! The `isolator` binary is `target/release/isolator` next to this example
//! (or `--isolator PATH` / `ISOLATOR_BIN`); when it or `rg` is missing
//! the benchmark says so and prints the other columns. Run it pinned to one
//! core (`taskset -c N`): it prints the CPUs it may use and the load average.

#[path = "../benches/support/business.rs"]
mod business;
#[path = "../benches/support/corpus.rs"]
mod corpus;
#[path = "../benches/support/cpu_time.rs"]
mod cpu_time;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use business::Kind;
use enforcer::detect::PREDEFINED_PROFILES;
use enforcer::Engine;

/// Plain regexes for the formats, as a ripgrep user would write them.
const PATTERNS: [&str; 4] = [
    r"\b(?:4[0-9]{3}|5[1-5][0-9]{2}|2[2-7][0-9]{2}|6011|3[47][0-9]{2})[ -]?[0-9]{4}[ -]?[0-9]{4}[ -]?[0-9]{1,4}\b",
    r"\b[0-9]{3}-[0-9]{2}-[0-9]{4}\b",
    r"\b(?:AKIA|ASIA)[A-Z2-7]{16}\b",
    r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}",
];

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    let i = args.iter().position(|a| a == name)?;
    match args.get(i + 1) {
        Some(v) => Some(v.clone()),
        None => fail(&format!("{name} needs a value")),
    }
}

fn fail(msg: &str) -> ! {
    eprintln!("scan_bench: {msg}");
    std::process::exit(2)
}

fn mbps(bytes: u64, d: Duration) -> f64 {
    bytes as f64 / 1e6 / d.as_secs_f64()
}

/// CPU time (user + system) of this process's waited-for children, from
/// `/proc/self/stat` (clock ticks, usually 10 ms).
fn children_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which may hold spaces) in parentheses.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<u64> = rest
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0))
        .collect();
    // cutime and cstime are fields 16 and 17 of the line; `rest` starts at field 3.
    let ticks = f.get(13).copied().unwrap_or(0) + f.get(14).copied().unwrap_or(0);
    Duration::from_millis(ticks * 10)
}

thread_local! {
    /// The least child CPU time of the last [`time_cmd`] call's runs.
    static LAST_CPU: std::cell::Cell<Duration> = const { std::cell::Cell::new(Duration::ZERO) };
}

/// Best wall time of `runs` runs of `cmd` (built fresh each run), or why it
/// failed; the least CPU time of a run is left in [`LAST_CPU`].
fn time_cmd(
    runs: usize,
    mut cmd: impl FnMut() -> Command,
    stdin: Option<&Path>,
) -> Result<Duration, String> {
    let mut best = Duration::MAX;
    let mut best_cpu = Duration::MAX;
    for _ in 0..runs {
        let cpu0 = children_cpu();
        let mut c = cmd();
        c.stdout(Stdio::null()).stderr(Stdio::piped());
        match stdin {
            Some(p) => c.stdin(std::fs::File::open(p).map_err(|e| e.to_string())?),
            None => c.stdin(Stdio::null()),
        };
        let t = Instant::now();
        let out = c.output().map_err(|e| e.to_string())?;
        let d = t.elapsed();
        // rg: 1 = nothing matched; isolator scan: 1 = something matched.
        if !matches!(out.status.code(), Some(0 | 1)) {
            return Err(format!(
                "exit {:?}: {}",
                out.status.code(),
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        best = best.min(d);
        best_cpu = best_cpu.min(children_cpu().saturating_sub(cpu0));
    }
    LAST_CPU.with(|c| c.set(best_cpu));
    Ok(best)
}

fn cell(r: &Result<Duration, String>, bytes: u64) -> String {
    match r {
        Ok(d) => format!("{:.0}", mbps(bytes, *d)),
        Err(_) => "-".into(),
    }
}

fn ratio(a: &Result<Duration, String>, b: &Result<Duration, String>) -> String {
    match (a, b) {
        // Throughput ratio a/b = time b / time a.
        (Ok(a), Ok(b)) => format!("{:.2}", b.as_secs_f64() / a.as_secs_f64()),
        _ => "-".into(),
    }
}

fn main() {
    let sizes: Vec<u64> = {
        let mut v: Vec<u64> = arg("--sizes")
            .unwrap_or_else(|| "1,64".into())
            .split(',')
            .map(|s| {
                s.trim()
                    .parse()
                    .unwrap_or_else(|_| fail("--sizes takes MB counts such as 1,64"))
            })
            .collect();
        if std::env::var_os("SCAN_BENCH_GB").is_some() {
            v.push(1024);
        }
        v
    };
    let runs: Option<usize> = arg("--runs").map(|r| {
        r.parse()
            .ok()
            .filter(|&n| n > 0)
            .unwrap_or_else(|| fail("--runs takes a positive number"))
    });
    let only = arg("--only");
    let exe = std::env::current_exe().unwrap_or_default();
    let release = exe
        .parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let dir = arg("--dir")
        .map(PathBuf::from)
        .unwrap_or_else(|| release.join("../bench-corpora"));
    let isolator = arg("--isolator")
        .or_else(|| std::env::var("ISOLATOR_BIN").ok())
        .map(PathBuf::from)
        .unwrap_or_else(|| release.join("isolator"));
    std::fs::create_dir_all(&dir)
        .unwrap_or_else(|e| fail(&format!("cannot create {}: {e}", dir.display())));

    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let cpus = status
        .lines()
        .find_map(|l| l.strip_prefix("Cpus_allowed_list:"))
        .map(str::trim)
        .unwrap_or("?");
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "CPUs allowed: {cpus} (pin with taskset -c N); load average: {}",
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
    let rg = match Command::new("rg").arg("--version").output() {
        Ok(o) if o.status.success() => {
            let v = String::from_utf8_lossy(&o.stdout);
            println!("{}", v.lines().next().unwrap_or("rg"));
            true
        }
        _ => {
            println!("rg: NOT INSTALLED (apt-get install ripgrep): the rg columns are empty");
            false
        }
    };
    let has_cli = isolator.is_file();
    if has_cli {
        println!("isolator: {}", isolator.display());
    } else {
        println!(
            "isolator: NOT FOUND at {} (cargo build --release -p isolator --bin isolator, \
             or --isolator PATH): the file/stdin columns are empty",
            isolator.display()
        );
    }

    let t = Instant::now();
    let engine = Engine::with_defaults();
    let sel = engine
        .selection(&PREDEFINED_PROFILES)
        .expect("predefined profiles");
    let built = t.elapsed();
    let t = Instant::now();
    let _ = engine.scan_selection("hello world\n", &sel);
    println!(
        "engine build (this process): {:.1} ms; first scan of 12 bytes: {:.2} ms",
        built.as_secs_f64() * 1e3,
        t.elapsed().as_secs_f64() * 1e3
    );
    println!(
        "{} detectors, all predefined profiles; MB/s = 10^6 bytes per second, best of the runs",
        engine.detectors().len()
    );
    println!(
        "{:<6} {:>6} {:>7} {:>7} {:>7} {:>7} {:>8} {:>7} {:>8} {:>8} {:>8} {:>9}",
        "corpus",
        "MB",
        "rg",
        "engine",
        "eng cpu",
        "file",
        "file cpu",
        "stdin",
        "eng/rg",
        "file/rg",
        "file+%",
        "findings"
    );
    for &mb in &sizes {
        let runs = runs.unwrap_or(if mb <= 8 { 5 } else { 2 });
        for kind in Kind::ALL {
            if only.as_deref().is_some_and(|o| o != kind.name()) {
                continue;
            }
            let path = dir.join(format!("{}-{mb}m.{}", kind.name(), kind.ext()));
            let want = mb << 20;
            let fresh = std::fs::metadata(&path)
                .map(|m| m.len() < want || m.len() > want + (4 << 20))
                .unwrap_or(true);
            if fresh {
                business::write(kind, want, &path)
                    .unwrap_or_else(|e| fail(&format!("cannot write {}: {e}", path.display())));
            }
            let bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
            let rg_t = if rg {
                time_cmd(
                    runs,
                    || {
                        let mut c = Command::new("rg");
                        c.args(["-c", "--no-config"]);
                        for p in PATTERNS {
                            c.arg("-e").arg(p);
                        }
                        c.arg(&path);
                        c
                    },
                    None,
                )
            } else {
                Err("rg missing".into())
            };
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| fail(&format!("cannot read {}: {e}", path.display())));
            let (mut eng, mut eng_cpu, mut findings) = (Duration::MAX, Duration::MAX, 0);
            for _ in 0..runs {
                let (r, wall, cpu) = cpu_time::timed(|| engine.scan_selection(&text, &sel));
                eng = eng.min(wall);
                eng_cpu = eng_cpu.min(cpu);
                findings = r.findings.len();
            }
            drop(text);
            let eng_t: Result<Duration, String> = Ok(eng);
            let max = format!("{}", bytes + 1);
            let cli = |input: Option<&Path>| {
                if !has_cli {
                    return Err("isolator missing".to_string());
                }
                let stdin = input.is_none().then_some(path.as_path());
                time_cmd(
                    runs,
                    || {
                        let mut c = Command::new(&isolator);
                        c.args(["scan", "--json", "--max-size", &max]);
                        match input {
                            Some(p) => c.arg(p),
                            None => c.arg("-"),
                        };
                        c
                    },
                    stdin,
                )
            };
            let file_t = cli(Some(&path));
            let file_cpu = LAST_CPU.with(|c| c.get());
            let stdin_t = cli(None);
            for (what, r) in [("rg", &rg_t), ("file", &file_t), ("stdin", &stdin_t)] {
                if let Err(e) = r {
                    if !e.ends_with("missing") {
                        println!("  ({} {mb} MB: {what} failed: {e})", kind.name());
                    }
                }
            }
            // What the file path adds over the engine, by CPU time (steady
            // on a loaded machine; the child's clock ticks are 10 ms, so
            // only meaningful on large files).
            let overhead = match &file_t {
                Ok(_) if file_cpu >= Duration::from_millis(200) => format!(
                    "{:+.0}",
                    (file_cpu.as_secs_f64() / eng_cpu.as_secs_f64() - 1.0) * 100.0
                ),
                _ => "-".into(),
            };
            let file_cpu_mbps = match &file_t {
                Ok(_) if file_cpu >= Duration::from_millis(200) => {
                    format!("{:.0}", mbps(bytes, file_cpu))
                }
                _ => "-".into(),
            };
            println!(
                "{:<6} {:>6.1} {:>7} {:>7} {:>7.0} {:>7} {:>8} {:>7} {:>8} {:>8} {:>8} {:>9}",
                kind.name(),
                bytes as f64 / 1e6,
                cell(&rg_t, bytes),
                cell(&eng_t, bytes),
                mbps(bytes, eng_cpu),
                cell(&file_t, bytes),
                file_cpu_mbps,
                cell(&stdin_t, bytes),
                ratio(&eng_t, &rg_t),
                ratio(&file_t, &rg_t),
                overhead,
                findings
            );
        }
    }
    if has_cli {
        let mut times: Vec<Duration> = Vec::new();
        for _ in 0..20 {
            let t = Instant::now();
            let child = Command::new(&isolator)
                .args(["scan", "--json", "-"])
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .spawn();
            let Ok(mut child) = child else {
                println!("start-up: cannot run {}", isolator.display());
                return;
            };
            if let Some(mut si) = child.stdin.take() {
                use std::io::Write as _;
                let _ = si.write_all(b"hello world\n");
            }
            let _ = child.wait();
            times.push(t.elapsed());
        }
        times.sort();
        println!(
            "start-up (`isolator scan --json -` on 12 bytes, 20 runs): best {:.1} ms, median {:.1} ms",
            times[0].as_secs_f64() * 1e3,
            times[10].as_secs_f64() * 1e3
        );
    }
}
