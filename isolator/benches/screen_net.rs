//! The screen net's cost per frame, on real Chromium frames (1280x800 JPEG
//! q70 of a dense text page, see `benches/screen_frames/README.md`):
//!
//! - `prepare`: decode, greyscale, tile diff against the last checked
//!   frame, text-like tiles and bands; for a still page (the same frame
//!   again), typing (a few words added), scrolling (everything moved) and a
//!   first frame (nothing checked yet);
//! - OCR of the bands in a real extraction worker (the `isolator` binary's
//!   `extract-worker`, real tesseract, `OMP_THREAD_LIMIT=1`) and the scan
//!   with the `page` decision ([`check_bands`]), wall time and the worker's
//!   CPU (from `/proc/<pid>/stat`);
//! - `render`: the frame with the found regions mosaicked, re-encoded.
//!
//! Prints p50/p95 of each. Run: `cargo bench -p isolator --bench screen_net`.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use isolator::auth::User;
use isolator::enforce::config::EnforceConfig;
use isolator::enforce::Enforcer;
use isolator::gates::screen::check::check_bands;
use isolator::gates::screen::frame::{prepare, render, Checked};
use policies::{Action, PolicyStore};

const POLICY: &str = r#"
[[rules]]
name = "catch-all"
page = { mode = "scan", profiles = ["financial"], on_match = "audit" }
mask = ["credit_card"]
"#;

fn frame(name: &str) -> Vec<u8> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/screen_frames");
    std::fs::read(dir.join(name)).expect("bench frame")
}

/// CPU seconds (user + system) a process has used.
fn cpu_secs(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// p50 and p95 of `runs` timings of `f`, after one warm-up.
fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> (f64, f64, T) {
    let mut last = f();
    let mut t = Vec::with_capacity(runs);
    for _ in 0..runs {
        let s = Instant::now();
        last = f();
        t.push(s.elapsed());
    }
    t.sort();
    (
        ms(t[runs / 2]),
        ms(t[(runs * 95 / 100).min(runs - 1)]),
        last,
    )
}

fn main() {
    std::env::set_var("OMP_THREAD_LIMIT", "1");
    let policy =
        policies::compile_str(POLICY, Path::new("bench-policy.toml")).expect("bench policy");
    let store = Arc::new(PolicyStore::new(policy, "bench"));
    let workers = enforcer::extract::worker::WorkerConfig::new(
        env!("CARGO_BIN_EXE_isolator"),
        ["extract-worker"],
    );
    let config = EnforceConfig {
        extract_workers: 1,
        ..EnforceConfig::default()
    };
    let enforcer = Enforcer::new(store, config, workers);
    let decision = enforcer.decide(
        &User::anonymous(),
        "https://intranet.example.com/",
        Action::Page,
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let pool = rt.block_on(enforcer.pool()).expect("worker pool");
    let key = (0u16, "https://intranet.example.com/".to_string());

    let base = frame("article.jpg");
    let (p50, p95, first) = time(20, || prepare(&base, &key, None).expect("frame"));
    println!(
        "prepare, first frame ({} bytes; {} of {} tiles text-like, {} band(s)): p50 {p50:.1} ms, p95 {p95:.1} ms",
        base.len(),
        first.unchecked.count(),
        first.unchecked.cols * first.unchecked.rows,
        first.bands.len()
    );
    let checked = Checked {
        key: key.clone(),
        gray: first.gray.clone(),
        hide: Vec::new(),
    };
    let mut cases = Vec::new();
    for (what, name) in [
        ("still page (same frame)", "article.jpg"),
        ("typing (three words added)", "article_typed.jpg"),
        ("scrolling (48 px)", "article_scrolled.jpg"),
    ] {
        let jpeg = frame(name);
        let (p50, p95, p) = time(20, || prepare(&jpeg, &key, Some(&checked)).expect("frame"));
        let rows: u32 = p.bands.iter().map(|b| b.h).sum();
        println!(
            "prepare, {what}: {} tiles changed and text-like, bands {} px tall: p50 {p50:.1} ms, p95 {p95:.1} ms",
            p.unchecked.count(),
            rows
        );
        cases.push((what, p));
    }
    cases.push(("first frame (whole screen)", first));

    for (what, p) in &cases {
        if p.bands.is_empty() {
            println!("OCR, {what}: nothing to read");
            continue;
        }
        let mut wall = Vec::new();
        let mut cpu = Vec::new();
        let mut last = None;
        for round in 0..6 {
            let pids = pool.idle_pids();
            let before: f64 = pids.iter().map(|p| cpu_secs(*p)).sum();
            let s = Instant::now();
            let c = check_bands(&pool, &decision, &p.gray, &p.bands, 10_000);
            let took = s.elapsed();
            let after: f64 = pids.iter().map(|p| cpu_secs(*p)).sum();
            if round > 0 {
                wall.push(took);
                cpu.push(after - before);
            }
            last = Some(c);
        }
        wall.sort();
        cpu.sort_by(f64::total_cmp);
        let c = last.expect("checked");
        println!(
            "OCR + scan, {what}: wall p50 {:.0} ms, max {:.0} ms; worker CPU p50 {:.0} ms; {} chars read, {} region(s) hidden, failed: {:?}",
            ms(wall[wall.len() / 2]),
            ms(wall[wall.len() - 1]),
            cpu[cpu.len() / 2] * 1000.0,
            c.chars,
            c.hide.len(),
            c.failed
        );
        if c.hide.is_empty() {
            continue;
        }
        let (p50, p95, _) = time(20, || render(&p.rgb, &c.hide, 70));
        println!("render with the found regions hidden: p50 {p50:.1} ms, p95 {p95:.1} ms");
        let (p50, p95, _) = time(10, || render(&p.rgb, &p.fail_closed(), 70));
        println!("render, failing closed (every unchecked tile hidden): p50 {p50:.1} ms, p95 {p95:.1} ms");
    }
}
