//! Audit recording cost: bytes per minute of ordinary browsing, CPU time per
//! record, and seek time in an hour-long recording.
//!
//! Frames are real JPEGs (1280x720, quality 70, the stream's defaults) of a
//! synthetic text page, encoded with the `image` crate. A simulated minute of
//! browsing offers frames at 10 fps the way a screencast does (only on change):
//! reading with a blinking caret (two alternating frames: deduplicated),
//! typing (a character appears every 300 ms), and scrolling (the page moves
//! 40 px every 100 ms), with input events and navigations. The recorder runs
//! with the default `[audit]` settings (5 fps cap).
//!
//! Run: `cargo bench -p isolator --bench audit`.

// `criterion_group!` generates an undocumented public function.
#![allow(missing_docs)]

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, Criterion};
use image::codecs::jpeg::JpegEncoder;
use image::{Rgb, RgbImage};
use isolator::audit::{AuditConfig, Event, Frame, Input, InputEvent, Reader, SessionInfo, Store};

const W: u32 = 1280;
const H: u32 = 720;

/// A tall "page" of text-like lines.
fn page() -> RgbImage {
    let mut img = RgbImage::from_pixel(W, H * 4, Rgb([250, 250, 250]));
    let mut x: u32 = 12345;
    for line in 0..(H * 4 / 22) {
        let y0 = line * 22 + 6;
        let mut cx = 40;
        while cx < W - 60 {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            let word = 10 + x % 60;
            for y in y0..(y0 + 10).min(H * 4) {
                for px in cx..(cx + word).min(W - 40) {
                    img.put_pixel(px, y, Rgb([40, 40, 60]));
                }
            }
            cx += word + 8;
        }
    }
    img
}

fn encode(img: &RgbImage) -> Arc<[u8]> {
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, 70)
        .encode_image(img)
        .expect("jpeg encodes");
    Arc::from(out)
}

fn view(page: &RgbImage, scroll: u32, typed: u32, caret: bool) -> RgbImage {
    let mut img = image::imageops::crop_imm(page, 0, scroll, W, H).to_image();
    // A text field at the top with `typed` characters and a caret.
    for y in 20..44 {
        for x in 200..1000 {
            img.put_pixel(x, y, Rgb([255, 255, 255]));
        }
    }
    for c in 0..typed.min(90) {
        for y in 26..38 {
            for x in (204 + c * 8)..(210 + c * 8) {
                img.put_pixel(x, y, Rgb([0, 0, 0]));
            }
        }
    }
    if caret {
        let cx = 205 + typed.min(90) * 8;
        for y in 24..40 {
            img.put_pixel(cx, y, Rgb([0, 0, 0]));
        }
    }
    img
}

fn frame(jpeg: Arc<[u8]>) -> Event {
    Event::Frame(Frame {
        tab: 1,
        width: W,
        height: H,
        jpeg,
    })
}

/// Records one simulated minute; prints bytes and CPU time per record.
fn browsing_minute() {
    let page = page();
    let tmp = tempfile::tempdir().expect("tmp");
    let cfg = AuditConfig {
        dir: tmp.path().to_owned(),
        ..AuditConfig::default()
    };
    let store = Store::open(&cfg).expect("store");
    let info = SessionInfo {
        session: "minute".into(),
        user: "bench".into(),
        ..SessionInfo::default()
    };
    let mut rec = store.start_at(&info, 1_764_000_000_000).expect("start");
    // Encode first (not recorder cost), then record.
    let mut offered: Vec<(u64, Event)> = Vec::new();
    let mut cache: std::collections::HashMap<(u32, u32, bool), Arc<[u8]>> = Default::default();
    let (mut scroll, mut typed, mut last_key) = (0u32, 0u32, None::<(u32, u32, bool)>);
    for tick in 0..600u64 {
        let ms = tick * 100;
        let phase = (ms / 10_000) % 3; // 0 reading, 1 typing, 2 scrolling
        if ms % 20_000 == 0 {
            offered.push((
                ms,
                Event::Navigation {
                    tab: 1,
                    url: format!("https://intranet.example.com/page/{}", ms / 20_000),
                },
            ));
        }
        match phase {
            1 if ms % 300 == 0 => {
                typed += 1;
                offered.push((
                    ms,
                    Event::Input(InputEvent::new(1, Input::Key { key: "k" }, false)),
                ));
            }
            2 => {
                scroll = (scroll + 40) % (H * 3);
                offered.push((
                    ms,
                    Event::Input(InputEvent::new(
                        1,
                        Input::Wheel {
                            x: 600.0,
                            y: 400.0,
                            dx: 0.0,
                            dy: 40.0,
                        },
                        false,
                    )),
                ));
            }
            _ => {}
        }
        let caret = (ms / 500) % 2 == 0;
        let key = (scroll, typed, caret);
        if last_key != Some(key) {
            last_key = Some(key);
            let jpeg = cache
                .entry(key)
                .or_insert_with(|| encode(&view(&page, scroll, typed, caret)))
                .clone();
            offered.push((ms, frame(jpeg)));
        }
    }
    let offered_frames = offered
        .iter()
        .filter(|(_, e)| matches!(e, Event::Frame(_)))
        .count();
    let offered_bytes: usize = offered
        .iter()
        .filter_map(|(_, e)| match e {
            Event::Frame(f) => Some(f.jpeg.len()),
            _ => None,
        })
        .sum();
    let n = offered.len();
    let t = Instant::now();
    for (ms, ev) in offered {
        rec.record_at(ms, 1_764_000_000_000 + ms as i64, ev)
            .expect("record");
    }
    let cpu = t.elapsed();
    let summary = rec.end_at(60_000, 1_764_000_060_000, "bench").expect("end");
    let frames = Reader::open(&summary.dir)
        .expect("reader")
        .records()
        .filter(|r| matches!(r.as_ref().map(|r| &r.event), Ok(Event::Frame(_))))
        .count();
    println!(
        "browsing minute: {offered_frames} frames offered ({:.1} MB of JPEG, mean {} KB), {frames} recorded at max_fps {}: \
         {:.2} MB/minute on disk ({} segments); {n} records offered, {:.1} us CPU per record (incl. write syscall)",
        offered_bytes as f64 / 1e6,
        offered_bytes / offered_frames.max(1) / 1000,
        cfg.max_fps,
        summary.bytes as f64 / 1e6,
        summary.segments,
        cpu.as_secs_f64() * 1e6 / n as f64,
    );
}

/// Builds a synthetic hour: one distinct 30 KB frame per second and four
/// input events per second.
fn hour(tmp: &std::path::Path) -> std::path::PathBuf {
    let cfg = AuditConfig {
        dir: tmp.to_owned(),
        ..AuditConfig::default()
    };
    let store = Store::open(&cfg).expect("store");
    let info = SessionInfo {
        session: "hour".into(),
        user: "bench".into(),
        ..SessionInfo::default()
    };
    let mut rec = store.start_at(&info, 1_764_000_000_000).expect("start");
    let mut jpeg = vec![0x5au8; 30_000];
    for s in 0..3600u64 {
        jpeg[..8].copy_from_slice(&s.to_le_bytes());
        rec.record_at(s * 1000, 0, frame(Arc::from(jpeg.as_slice())))
            .expect("frame");
        for k in 0..4 {
            rec.record_at(
                s * 1000 + 100 + k * 200,
                0,
                Event::Input(InputEvent::new(1, Input::Key { key: "x" }, false)),
            )
            .expect("input");
        }
    }
    rec.end_at(3_600_000, 0, "bench").expect("end").dir
}

fn benches(c: &mut Criterion) {
    browsing_minute();

    let tmp = tempfile::tempdir().expect("tmp");
    let t = Instant::now();
    let dir = hour(tmp.path());
    println!(
        "synthetic hour written in {:.2} s",
        t.elapsed().as_secs_f64()
    );
    let reader = Reader::open(&dir).expect("reader");
    let mut worst = Duration::ZERO;
    for i in 0..200u64 {
        let at = (i * 7_919_993) % 3_600_000;
        let t = Instant::now();
        let seek = Reader::open(&dir)
            .expect("reader")
            .seek(at)
            .expect("seek")
            .frame;
        worst = worst.max(t.elapsed());
        assert!(seek.is_some());
    }
    println!(
        "seek in an hour-long recording (open + seek, 200 random points): worst {:.2} ms",
        worst.as_secs_f64() * 1e3
    );
    let t = Instant::now();
    let events = reader.timeline().count();
    println!(
        "timeline of the hour without frames: {events} events in {:.1} ms",
        t.elapsed().as_secs_f64() * 1e3
    );

    let mut group = c.benchmark_group("audit");
    let mut at = 0u64;
    group.bench_function("seek_hour", |b| {
        b.iter(|| {
            at = (at + 1_234_567) % 3_600_000;
            black_box(reader.seek(at).expect("seek").frame)
        })
    });
    let cfg = AuditConfig {
        dir: tmp.path().join("small"),
        ..AuditConfig::default()
    };
    let store = Store::open(&cfg).expect("store");
    let mut rec = store
        .start(&SessionInfo {
            session: "events".into(),
            ..SessionInfo::default()
        })
        .expect("start");
    group.bench_function("record_input_event", |b| {
        b.iter(|| {
            rec.input(1, Input::Text("hello world"), false)
                .expect("input")
        })
    });
    let repeat: Arc<[u8]> = Arc::from(vec![7u8; 60_000]);
    let mut ms = 0;
    group.bench_function("record_repeated_60k_frame", |b| {
        b.iter(|| {
            ms += 1000;
            rec.record_at(ms, 0, frame(repeat.clone())).expect("frame")
        })
    });
    group.finish();
}

criterion_group! {
    name = audit;
    config = Criterion::default().measurement_time(Duration::from_secs(3)).sample_size(30);
    targets = benches
}

fn main() {
    audit();
    Criterion::default().configure_from_args().final_summary();
}
