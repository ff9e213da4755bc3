//! OCR of rendered images (sizes, fonts, dark mode) and of a scanned PDF:
//! planted values must be recalled, word boxes must point at them.
//! `OMP_THREAD_LIMIT=1` comes from `.cargo/config.toml`.

mod extract_fixtures;

use std::time::Instant;

use enforcer::extract::{extract, Extraction, FileKind, Limits};
use extract_fixtures::*;

const VALUES: &[&str] = &[
    "4111 1111 1111 1111",
    "078-05-1120",
    "alice.smith@example.com",
    "GB82 WEST 1234 5698 7654 32",
    "5500 0000 0000 0004",
    "219-09-9999",
];

fn ocr(name: &str, bytes: &[u8]) -> (FileKind, String, Vec<enforcer::extract::Part>) {
    match extract(name, bytes, &Limits::default()) {
        Extraction::Text { kind, parts, .. } => {
            let text = parts
                .iter()
                .map(|p| p.text.as_str())
                .collect::<Vec<_>>()
                .join("\n");
            (kind, text, parts)
        }
        Extraction::Unscannable { reason } => panic!("{name}: unscannable: {reason}"),
    }
}

#[test]
fn recall_of_planted_values_across_sizes_fonts_and_dark_mode() {
    let fonts = [DEJAVU_SANS, DEJAVU_SERIF, LIBERATION_SANS, DEJAVU_MONO];
    let mut planted = 0;
    let mut hits = 0;
    let mut misses = Vec::new();
    for (i, font) in fonts.iter().enumerate() {
        for px in [13.0, 16.0, 22.0] {
            for dark in [false, true] {
                let lines: Vec<String> = VALUES
                    .iter()
                    .enumerate()
                    .filter(|(j, _)| (j + i) % 2 == 0)
                    .map(|(_, v)| format!("Customer record: {v}"))
                    .collect();
                let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
                let img = render(&refs, font, px, dark, 1280, 720);
                let (kind, text, _) = ocr("shot.png", &png(&img));
                assert_eq!(kind, FileKind::Png);
                for line in &lines {
                    let value = line.trim_start_matches("Customer record: ");
                    planted += 1;
                    if found(&text, value) {
                        hits += 1;
                    } else {
                        misses.push(format!("{font} {px}px dark={dark}: {value} in {text:?}"));
                    }
                }
            }
        }
    }
    let recall = f64::from(hits) / f64::from(planted);
    eprintln!("OCR recall {hits}/{planted} = {recall:.3}");
    assert!(
        recall >= 0.95,
        "recall {recall:.3}; misses:\n{}",
        misses.join("\n")
    );
}

#[test]
fn word_boxes_locate_the_value() {
    let img = render(
        &["Invoice total", "Card 4111 1111 1111 1111"],
        DEJAVU_SANS,
        20.0,
        false,
        800,
        200,
    );
    let (_, _, parts) = ocr("crop.png", &png(&img));
    let part = &parts[0];
    let word = part
        .boxes
        .iter()
        .find(|b| &part.text[b.text_start..b.text_end] == "Invoice")
        .unwrap_or_else(|| panic!("no box for Invoice in {:?}", part.text));
    // Rendered at x=40, baseline ~40+ascent: the box must be near there, in
    // original (not upscaled) pixels.
    assert!((30..=50).contains(&word.x), "{word:?}");
    assert!((35..=70).contains(&word.y), "{word:?}");
    assert!(word.h >= 10 && word.h <= 30, "{word:?}");
    assert_eq!(word.page, 1);
}

#[test]
fn screenshot_ocr_time_at_1280x720() {
    let img = render(
        &[
            "Account holder: Alice Smith",
            "Card number 4111 1111 1111 1111",
            "SSN 078-05-1120",
        ],
        DEJAVU_SANS,
        18.0,
        false,
        1280,
        720,
    );
    let bytes = png(&img);
    let _ = ocr("warm.png", &bytes);
    let start = Instant::now();
    let (_, text, _) = ocr("shot.png", &bytes);
    let took = start.elapsed();
    eprintln!("1280x720 screenshot OCR: {took:?}");
    assert!(found(&text, "4111 1111 1111 1111"), "{text}");
    // The 300 ms target is for release builds on one core (see
    // EXTRACT_BENCHMARKS.md); this debug-build guard only catches gross regressions
    // such as a missing OMP_THREAD_LIMIT (6-8x slower).
    assert!(took.as_millis() < 3000, "took {took:?}");
}

#[test]
fn scanned_pdf_page_is_rendered_and_ocred() {
    let img = render(
        &[
            "SCANNED STATEMENT",
            "Account 4111 1111 1111 1111",
            "Reference 078-05-1120",
        ],
        DEJAVU_SERIF,
        28.0,
        false,
        1240,
        800,
    );
    let pdf = pdf_scanned(&img);
    let (kind, text, parts) = ocr("scan.pdf", &pdf);
    assert_eq!(kind, FileKind::Pdf);
    assert_eq!(parts[0].path, "scan.pdf!/page1");
    assert!(!parts[0].boxes.is_empty());
    assert!(
        found(&text, "4111 1111 1111 1111") && found(&text, "078-05-1120"),
        "{text}"
    );
}

#[test]
fn images_in_every_format() {
    let img = render(
        &["Card 4111 1111 1111 1111"],
        DEJAVU_SANS,
        24.0,
        false,
        700,
        120,
    );
    for (name, format, kind) in [
        ("a.jpg", image::ImageFormat::Jpeg, FileKind::Jpeg),
        ("a.gif", image::ImageFormat::Gif, FileKind::Gif),
        ("a.bmp", image::ImageFormat::Bmp, FileKind::Bmp),
        ("a.tiff", image::ImageFormat::Tiff, FileKind::Tiff),
        ("a.webp", image::ImageFormat::WebP, FileKind::Webp),
    ] {
        let mut out = std::io::Cursor::new(Vec::new());
        image::DynamicImage::ImageLuma8(img.clone())
            .to_rgb8()
            .write_to(&mut out, format)
            .expect("encode");
        let (got, text, _) = ocr(name, &out.into_inner());
        assert_eq!(got, kind, "{name}");
        assert!(found(&text, "4111 1111 1111 1111"), "{name}: {text}");
    }
}
