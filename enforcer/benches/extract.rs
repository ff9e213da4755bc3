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

fn screenshot() -> Vec<u8> {
    let lines = [
        "Inbox - Customer support",
        "From: alice.smith@example.com   Subject: refund request",
        "Card number 4111 1111 1111 1111, expiry 12/29",
        "Please refund order 55102 to IBAN GB82 WEST 1234 5698 7654 32",
        "SSN on file: 078-05-1120",
    ];
    png(&render(&lines, DEJAVU_SANS, 18.0, false, 1280, 720))
}

/// Words from a fixed generator: realistic, not trivially compressible.
fn words(n: usize) -> Vec<String> {
    const SYLLABLES: &[&str] = &[
        "ka", "lo", "mi", "ne", "sut", "ver", "da", "quo", "rin", "tel", "pa", "gon",
    ];
    let mut seed = 0x9e37_79b9_u32;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        seed
    };
    (0..n)
        .map(|_| {
            let len = 1 + next() % 4;
            (0..len)
                .map(|_| SYLLABLES[(next() % SYLLABLES.len() as u32) as usize])
                .collect()
        })
        .collect()
}

fn big_docx() -> Vec<u8> {
    let words = words(2_400_000);
    let paras: Vec<String> = words
        .chunks(40)
        .enumerate()
        .map(|(i, c)| {
            let mut p = c.join(" ");
            if i % 500 == 0 {
                p.push_str(" card 4111 1111 1111 1111");
            }
            p
        })
        .collect();
    let refs: Vec<&str> = paras.iter().map(String::as_str).collect();
    docx(&refs, "header", "footer", "note", "comment")
}

fn twenty_page_pdf() -> Vec<u8> {
    let words = words(20 * 50 * 12);
    let pages: Vec<Vec<String>> = words
        .chunks(50 * 12)
        .map(|page| page.chunks(12).map(|line| line.join(" ")).collect())
        .collect();
    pdf_text(&pages)
}

fn ok(e: Extraction) -> Extraction {
    assert!(!e.is_unscannable(), "{e:?}");
    e
}

fn bench(c: &mut Criterion) {
    let limits = Limits::default();
    let shot = screenshot();
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

    let pdf = twenty_page_pdf();
    let docx = big_docx();
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
