//! Speed of the `source_code` detector through the engine: per-text latency
//! and throughput for 1 KB and 100 KB texts of code and of prose.
//!
//! ```text
//! cargo run --release -p enforcer --example source_code_bench
//! ```
//!
//! Texts are built from the committed samples
//! (`enforcer/tests/source_code/samples`), repeated to size. Each case runs
//! the classifier alone, then `Engine::scan_selection` with the profile
//! `source_code` alone, and with every predefined profile (what a gate
//! with `all` + `source_code` pays).

use std::path::Path;
use std::time::{Duration, Instant};

use enforcer::detect::PREDEFINED_PROFILES;
use enforcer::Engine;

fn load(dir: &Path) -> String {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("samples directory")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_none_or(|e| e != "md"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n")
}

/// A text of `size` bytes (at a character boundary) cut from `pool`,
/// repeated if needed.
fn text_of(pool: &str, size: usize) -> String {
    let mut t = String::new();
    while t.len() < size {
        t.push_str(pool);
    }
    let mut end = size;
    while !t.is_char_boundary(end) {
        end -= 1;
    }
    t.truncate(end);
    t
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/source_code/samples");
    let code = load(&root.join("code"));
    let prose = load(&root.join("prose"));
    let engine = Engine::with_defaults();
    let only = engine.selection(&["source_code"]).expect("profile");
    let every = engine.selection(&PREDEFINED_PROFILES).expect("profiles");
    println!("| text | profiles | median latency | throughput |\n|---|---|---:|---:|");
    for (kind, pool) in [("code", &code), ("prose", &prose)] {
        for size in [1usize << 10, 100 << 10] {
            let text = text_of(pool, size);
            // The classifier alone (no engine around it).
            let classifier = enforcer::detect::classify::SourceCode::builtin();
            let rounds = if size < 4096 { 2000 } else { 200 };
            let mut times = Vec::with_capacity(rounds);
            for _ in 0..rounds {
                let t = Instant::now();
                std::hint::black_box(classifier.classify(&text));
                times.push(t.elapsed());
            }
            println!(
                "| {kind} {} KB | classifier alone | {:.1} µs | |",
                size >> 10,
                median(times).as_secs_f64() * 1e6
            );
            for (name, sel) in [("source_code", &only), ("all predefined", &every)] {
                // Warm up (the model is parsed on first use).
                let _ = engine.scan_selection(&text, sel);
                let rounds = if size < 4096 { 2000 } else { 200 };
                let mut times = Vec::with_capacity(rounds);
                let start = Instant::now();
                for _ in 0..rounds {
                    let t = Instant::now();
                    let r = engine.scan_selection(&text, sel);
                    times.push(t.elapsed());
                    std::hint::black_box(r);
                }
                let total = start.elapsed();
                let mbs = (size * rounds) as f64 / total.as_secs_f64() / 1e6;
                println!(
                    "| {kind} {} KB | {name} | {:.1} µs | {mbs:.0} MB/s |",
                    size >> 10,
                    median(times).as_secs_f64() * 1e6
                );
            }
        }
    }
}
