//! Extraction benchmarks on the real path (`enforcer::extract::extract`):
//! OCR of a 1280x720 screenshot on one and on two threads (one warm engine
//! each, as in two workers), and extraction throughput for a 20-page PDF and
//! a 10 MB docx. Figures and commands: `enforcer/EXTRACT_BENCHMARKS.md`.
//! `OMP_THREAD_LIMIT=1` comes from `.cargo/config.toml`.
#![allow(missing_docs)]

#[path = "../tests/extract_fixtures/mod.rs"]
mod extract_fixtures;

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use enforcer::extract::{extract, Extraction, Limits};
use extract_fixtures::*;

fn ok(e: Extraction) -> Extraction {
    assert!(!e.is_unscannable(), "{e:?}");
    e
}

fn bench(c: &mut Criterion) {
    let limits = Limits::default();
    let shot = mailbox_screenshot(55_102);
    let mut group = c.benchmark_group("ocr");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(8));
    group.throughput(Throughput::Elements(1));
    group.bench_function("1280x720 screenshot, 1 engine", |b| {
        b.iter(|| ok(extract("shot.png", &shot, &limits)))
    });
    group.throughput(Throughput::Elements(2));
    group.bench_function("1280x720 screenshot, 2 engines in parallel", |b| {
        b.iter(|| {
            std::thread::scope(|s| {
                let a = s.spawn(|| ok(extract("a.png", &shot, &limits)));
                let b2 = s.spawn(|| ok(extract("b.png", &shot, &limits)));
                (a.join().ok(), b2.join().ok())
            })
        })
    });
    group.finish();

    let pdf = pdf_of_words(20, false);
    let docx = docx_of_words(2_400_000);
    let mut group = c.benchmark_group("extract");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(8));
    group.throughput(Throughput::Bytes(pdf.len() as u64));
    group.bench_function(format!("pdf 20 pages ({} KB)", pdf.len() / 1024), |b| {
        b.iter(|| ok(extract("report.pdf", &pdf, &limits)))
    });
    group.throughput(Throughput::Bytes(docx.len() as u64));
    group.bench_function(format!("docx ({:.1} MB)", docx.len() as f64 / 1e6), |b| {
        b.iter(|| ok(extract("big.docx", &docx, &limits)))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
