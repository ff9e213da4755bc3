//! Whole-text scan throughput per corpus, one thread, all predefined profiles.
//!
//! ```text
//! cargo run --release -p enforcer --example throughput [-- --mb 4 --runs 7] [--only dense]
//!     [--profiles financial,pii,...] [--no-custom]
//! ```
//!
//! `--profiles` scans with those profiles instead (`--profiles -health`:
//! every predefined profile but `health`). `--no-custom` leaves out the
//! custom rules' table below (what `perf record` of the predefined scan
//! wants).
//!
//! Scans each generated corpus (`benches/support/corpus.rs`: prose, dense
//! data, source code) `--runs` times with `Engine::scan_selection` and prints
//! the best MB/s by wall time and by the thread's CPU time. On a loaded
//! machine the CPU-time figure is the one that says what a core does; the
//! criterion bench (`cargo bench -p enforcer --bench detect`) measures wall
//! time. Targets: 500 MB/s prose, 100 MB/s dense data.
//!
//! Then the same corpora with 20 custom regex detectors and 2 keyword lists
//! added (`benches/support/custom_rules.rs`, all profiles on), next to what
//! the 20 regexes cost searched one pass each (what custom regexes cost
//! before the one-pass gate).

#[path = "../benches/support/corpus.rs"]
mod corpus;
#[path = "../benches/support/cpu_time.rs"]
mod cpu_time;
#[path = "../benches/support/custom_rules.rs"]
mod custom_rules;

use std::time::Duration;

use enforcer::detect::PREDEFINED_PROFILES;
use enforcer::Engine;

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    match args.iter().position(|a| a == name) {
        None => default,
        Some(i) => match args.get(i + 1).map(|v| v.parse::<usize>()) {
            Some(Ok(v)) if v > 0 => v,
            _ => {
                eprintln!("throughput: {name} needs a positive whole number");
                std::process::exit(2);
            }
        },
    }
}

fn mbps(bytes: usize, d: Duration) -> f64 {
    bytes as f64 / (1 << 20) as f64 / d.as_secs_f64().max(1e-9)
}

fn main() {
    let mb = arg("--mb", 4);
    let runs = arg("--runs", 7);
    let args: Vec<String> = std::env::args().collect();
    let only = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1).cloned());
    let engine = Engine::with_defaults();
    let profiles: Vec<String> = match args
        .iter()
        .position(|a| a == "--profiles")
        .and_then(|i| args.get(i + 1))
    {
        Some(list) if list.starts_with('-') => {
            let without: Vec<&str> = list[1..].split(',').collect();
            PREDEFINED_PROFILES
                .iter()
                .filter(|p| !without.contains(p))
                .map(|p| p.to_string())
                .collect()
        }
        Some(list) => list.split(',').map(str::to_string).collect(),
        None => PREDEFINED_PROFILES.iter().map(|p| p.to_string()).collect(),
    };
    let ids: Vec<&str> = profiles.iter().map(String::as_str).collect();
    let sel = engine.selection(&ids).expect("profiles");
    println!("profiles: {}", ids.join(","));
    println!(
        "{:<6} {:>6} {:>12} {:>12} {:>9}",
        "corpus", "MB", "wall MB/s", "cpu MB/s", "findings"
    );
    let mut corpora = Vec::new();
    for (name, text) in [
        ("prose", corpus::prose(mb << 20)),
        ("dense", corpus::dense(mb << 20)),
        ("code", corpus::code(mb << 20)),
    ] {
        if only.as_deref().is_some_and(|o| o != name) {
            continue;
        }
        let (mut wall, mut cpu) = (Duration::MAX, Duration::MAX);
        let mut findings = 0;
        for _ in 0..runs {
            let (r, w, c) = cpu_time::timed(|| engine.scan_selection(&text, &sel));
            wall = wall.min(w);
            cpu = cpu.min(c);
            findings = r.findings.len();
        }
        println!(
            "{name:<6} {:>6.1} {:>12.1} {:>12.1} {findings:>9}",
            text.len() as f64 / (1 << 20) as f64,
            mbps(text.len(), wall),
            mbps(text.len(), cpu)
        );
        corpora.push((name, text));
    }

    if args.iter().any(|a| a == "--no-custom") {
        return;
    }
    let custom = custom_rules::engine();
    let custom_sel = custom.selection(&["all"]).expect("all profile");
    let separate: Vec<regex_automata::meta::Regex> = custom_rules::PATTERNS
        .iter()
        .map(|p| regex_automata::meta::Regex::new(p).expect("pattern compiles"))
        .collect();
    println!(
        "with {} custom regexes and {} keyword lists: scan MB/s | the regexes as one pass each, MB/s",
        custom_rules::PATTERNS.len(),
        custom_rules::KEYWORDS.len()
    );
    println!(
        "{:<6} {:>12} {:>12} {:>9} {:>14}",
        "corpus", "wall MB/s", "cpu MB/s", "findings", "separate cpu"
    );
    for (name, text) in &corpora {
        let (mut cpu, mut sep_cpu) = (Duration::MAX, Duration::MAX);
        let mut wall = Duration::MAX;
        let mut findings = 0;
        for _ in 0..runs {
            let (r, w, c) = cpu_time::timed(|| custom.scan_selection(text, &custom_sel));
            wall = wall.min(w);
            cpu = cpu.min(c);
            findings = r.findings.len();
            let (n, _, c) = cpu_time::timed(|| {
                separate
                    .iter()
                    .map(|re| re.find_iter(text.as_str()).count())
                    .sum::<usize>()
            });
            std::hint::black_box(n);
            sep_cpu = sep_cpu.min(c);
        }
        // Thread CPU time advances in scheduler ticks: twenty prefiltered
        // passes over a few MB can finish inside one.
        let separate = if sep_cpu.is_zero() {
            "< 1 tick".to_string()
        } else {
            format!("{:.1}", mbps(text.len(), sep_cpu))
        };
        println!(
            "{name:<6} {:>12.1} {:>12.1} {findings:>9} {separate:>14}",
            mbps(text.len(), wall),
            mbps(text.len(), cpu),
        );
    }
}
