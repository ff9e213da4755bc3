//! End-to-end figures for `isolator scan` (the real binary, extraction in
//! its worker processes): wall time for a 10 MB docx, a 20-page text PDF and
//! a 3-page scanned (image-only) PDF; and OCR throughput of 1280x720
//! screenshots through the worker pool with 1 and 2 workers. Fixtures are
//! built here. Prints a table; medians over several runs.
//!
//! Run: `cargo bench -p isolator --bench scan_cli`.
#![allow(missing_docs)]

#[path = "../../enforcer/tests/extract_fixtures/mod.rs"]
mod extract_fixtures;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use enforcer::extract::{Extraction, WorkerConfig, WorkerPool};
use extract_fixtures::*;
use image::GrayImage;

const BIN: &str = env!("CARGO_BIN_EXE_isolator");

fn page_image(n: usize) -> GrayImage {
    let lines: Vec<String> = (0..25)
        .map(|i| {
            format!(
                "Page {n} line {i}: customer record {}",
                10_000 + n * 100 + i
            )
        })
        .collect();
    let mut lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    lines[3] = "Card number 4111 1111 1111 1111";
    render(&lines, DEJAVU_SANS, 22.0, false, 1240, 1754)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Median wall time of `isolator scan --json FILE` over `runs` runs (exit
/// 1: each fixture holds a card number that must be found).
fn scan_time(path: &Path, runs: usize) -> Duration {
    let times = (0..runs)
        .map(|_| {
            let start = Instant::now();
            let out = Command::new(BIN)
                .args(["scan", "--json", "--timeout", "120"])
                .arg(path)
                .env("OMP_THREAD_LIMIT", "1")
                .output()
                .expect("run isolator scan");
            let took = start.elapsed();
            assert_eq!(
                out.status.code(),
                Some(1),
                "{}: {}",
                path.display(),
                String::from_utf8_lossy(&out.stderr)
            );
            took
        })
        .collect();
    median(times)
}

/// Images per second through a warm pool of `workers`, `images` screenshots.
fn ocr_rate(workers: usize, shots: &[Vec<u8>]) -> f64 {
    let mut cfg = WorkerConfig::new(BIN, ["extract-worker"]);
    cfg.workers = workers;
    let pool = WorkerPool::new(cfg).expect("pool");
    // Warm-up: one image per worker.
    std::thread::scope(|s| {
        for shot in shots.iter().take(workers) {
            let pool = &pool;
            s.spawn(move || pool.extract("warm.png", shot));
        }
    });
    let next = std::sync::atomic::AtomicUsize::new(0);
    let start = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..workers {
            let (pool, next) = (&pool, &next);
            s.spawn(move || loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(shot) = shots.get(i) else { break };
                let e = pool.extract("shot.png", shot);
                assert!(
                    matches!(&e, Extraction::Text { .. }) && e.joined_text().contains("refund"),
                    "{e:?}"
                );
            });
        }
    });
    shots.len() as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` runs it too: skip
    // the long measurements there.
    if !std::env::args().any(|a| a == "--bench") {
        println!("scan_cli bench: run with `cargo bench -p isolator --bench scan_cli`");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let docx = docx_of_words(4_500_000);
    let pdf = pdf_of_words(20, true);
    let scanned = pdf_scanned_pages(&[page_image(1), page_image(2), page_image(3)]);
    let small = dir.path().join("small.txt");
    std::fs::write(&small, "card 4111 1111 1111 1111").expect("write");
    let files = [
        ("report.docx", &docx, "docx"),
        ("report.pdf", &pdf, "20-page text PDF"),
        (
            "scan.pdf",
            &scanned,
            "3-page scanned PDF (A4 at 150 dpi, OCR)",
        ),
    ];
    println!("| input | size | `isolator scan` wall time (median) | throughput |");
    println!("| --- | --- | --- | --- |");
    let base = scan_time(&small, 5);
    println!(
        "| 25-byte text file (process + 2 workers start-up) | 25 B | {} ms | - |",
        base.as_millis()
    );
    for (name, bytes, what) in files {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).expect("write");
        let t = scan_time(&path, 3);
        println!(
            "| {what} | {} KB | {} ms | {:.0} KB/s |",
            bytes.len() / 1000,
            t.as_millis(),
            bytes.len() as f64 / 1e3 / t.as_secs_f64()
        );
    }
    let shots: Vec<Vec<u8>> = (0..12).map(|i| mailbox_screenshot(55_100 + i)).collect();
    for workers in [1, 2] {
        println!(
            "| OCR 1280x720 screenshots, {workers} worker(s), warm pool | 12 images | - | {:.2} images/s |",
            ocr_rate(workers, &shots)
        );
    }
}
