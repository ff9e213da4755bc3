//! Page-content gate cost for images (rules with `ocr_images`): one
//! 600x200 image showing a card number in 32 px text, as the page script
//! sends it (PNG), OCR'd in a real extraction worker (the `isolator`
//! binary's `extract-worker`, real tesseract) and scanned with the `page`
//! decision, through [`Enforcer::check_page_image`], the path the gate takes.
//!
//! Prints the wall time (p50/p95/max of 20 images after 3 warm-ups) and the
//! worker's CPU time per image (from `/proc/<pid>/stat`), which is what a
//! loaded machine cannot distort. `OMP_THREAD_LIMIT=1` is set for the
//! workers (tesseract runs 6-8x slower without it).
//!
//! Run: `cargo bench -p isolator --bench page_ocr`.

use std::io::Cursor;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ab_glyph::{Font, FontVec, PxScale, ScaleFont};
use image::{GrayImage, Luma};
use isolator::auth::User;
use isolator::enforce::config::EnforceConfig;
use isolator::enforce::Enforcer;
use policies::{Action, PolicyStore};

const POLICY: &str = r#"
[[rules]]
name = "catch-all"
page = { mode = "scan", profiles = ["financial", "national_ids"], on_match = "audit" }
mask = ["credit_card", "us_ssn"]
ocr_images = true
"#;

/// A 600x200 PNG of `text`, 32 px Liberation Sans, dark on white.
fn text_png(text: &str) -> Vec<u8> {
    let (w, h) = (600u32, 200u32);
    let font = FontVec::try_from_vec(
        std::fs::read("/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf")
            .expect("font file"),
    )
    .expect("font");
    let px = PxScale::from(32.0);
    let scaled = font.as_scaled(px);
    let mut img = GrayImage::from_pixel(w, h, Luma([255]));
    let mut x = 30.0f32;
    let y = 80.0 + scaled.ascent();
    for c in text.chars() {
        let id = scaled.glyph_id(c);
        let glyph = id.with_scale_and_position(px, ab_glyph::point(x, y));
        x += scaled.h_advance(id);
        if let Some(outline) = font.outline_glyph(glyph) {
            let b = outline.px_bounds();
            outline.draw(|gx, gy, cov| {
                let (px_x, px_y) = (b.min.x as i64 + gx as i64, b.min.y as i64 + gy as i64);
                if px_x >= 0 && px_y >= 0 && (px_x as u32) < w && (px_y as u32) < h {
                    let v: f32 = 255.0 - 235.0 * cov.min(1.0);
                    img.put_pixel(px_x as u32, px_y as u32, Luma([v.round() as u8]));
                }
            });
        }
    }
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .expect("png");
    out.into_inner()
}

/// CPU seconds (user + system) a process has used.
fn cpu_secs(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
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
        "https://intranet.example.com/statement",
        Action::Page,
    );
    let png = text_png("4111 1111 1111 1111");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let pool = rt.block_on(enforcer.pool()).expect("worker pool");
    let mut times = Vec::new();
    let mut cpu = Vec::new();
    for round in 0..23 {
        let pids = pool.idle_pids();
        let before: f64 = pids.iter().map(|p| cpu_secs(*p)).sum();
        let started = Instant::now();
        let check = rt
            .block_on(isolator::gates::page::image::check_page_image(
                &enforcer,
                &decision,
                png.clone(),
            ))
            .expect("the rule OCRs images");
        let took = started.elapsed();
        let after: f64 = pids.iter().map(|p| cpu_secs(*p)).sum();
        assert!(
            check.verdict.detectors.iter().any(|d| d == "credit_card"),
            "{:?}",
            check.verdict
        );
        assert!(check.mask);
        if round >= 3 {
            times.push(took);
            cpu.push(after - before);
        }
    }
    times.sort();
    cpu.sort_by(f64::total_cmp);
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "page-image OCR + scan of a 600x200 PNG ({} bytes): wall p50 {:.0} ms, p95 {:.0} ms, max {:.0} ms; worker CPU p50 {:.0} ms",
        png.len(),
        ms(times[times.len() / 2]),
        ms(times[times.len() * 95 / 100]),
        ms(times[times.len() - 1]),
        cpu[cpu.len() / 2] * 1000.0,
    );
}
