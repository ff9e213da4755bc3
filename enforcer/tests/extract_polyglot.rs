//! Polyglots: data after (or before) a format's own span is extracted like
//! an independent file, so a card number in a ZIP or text appended to an
//! image, a PDF or a gzip stream is found. The fixtures come from real
//! producers (`tests/fixtures/polyglot/make.sh`, README there); the clean
//! originals are the controls and must stay clean.

use std::path::PathBuf;

use enforcer::extract::{extract, Extraction, FileKind, Limits};
use enforcer::{Engine, EngineBuilder};

fn fixture(name: &str) -> Vec<u8> {
    let path: PathBuf = [env!("CARGO_MANIFEST_DIR"), "tests/fixtures/polyglot", name]
        .iter()
        .collect();
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn engine() -> Engine {
    EngineBuilder::new().build().expect("predefined engine")
}

/// `(kind, part path, detector)` for every finding in the file's parts.
fn scan(name: &str, bytes: &[u8]) -> (FileKind, Vec<(String, String)>) {
    let e = engine();
    match extract(name, bytes, &Limits::default()) {
        Extraction::Text { kind, parts, .. } => {
            let found = parts
                .iter()
                .flat_map(|p| {
                    e.scan(&p.text)
                        .into_iter()
                        .map(|f| (p.path.clone(), f.detector.to_string()))
                })
                .collect();
            (kind, found)
        }
        Extraction::Unscannable { reason } => panic!("{name}: unscannable: {reason}"),
    }
}

fn card_in(name: &str, part: &str) {
    let (_, found) = scan(name, &fixture(name));
    assert!(
        found.iter().any(|(p, d)| d == "credit_card" && p == part),
        "{name}: no card finding in part {part}: {found:?}"
    );
}

#[test]
fn a_zip_after_an_image_or_a_pdf_is_read_as_a_zip() {
    for name in [
        "base-zip.png",
        "base-zip.jpg",
        "base-zip.gif",
        "base-zip.pdf",
    ] {
        card_in(name, &format!("{name}#trailer!/card.txt"));
    }
}

#[test]
fn a_jpeg_end_is_found_past_its_exif_thumbnail() {
    // The thumbnail's own end-of-image marker sits inside APP1: a reader
    // that stopped there would call the main image a trailer, one that
    // trusted the last FFD9 would miss the zip.
    card_in("thumb-zip.jpg", "thumb-zip.jpg#trailer!/card.txt");
    let (kind, found) = scan("thumb.jpg", &fixture("thumb.jpg"));
    assert_eq!(kind, FileKind::Jpeg);
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn text_after_each_format_is_read_as_text() {
    for name in [
        "base-text.png",
        "base-text.jpg",
        "base-text.gif",
        "base-text.bmp",
        "base-text.webp",
        "base-text.tif",
        "base-text.pdf",
        "incremental-text.pdf",
    ] {
        card_in(name, &format!("{name}#trailer"));
    }
    card_in("notes-text.gz", "notes-text.gz#trailer");
}

#[test]
fn a_zip_behind_an_image_is_read_whichever_way_its_offsets_count() {
    card_in("png-then.zip", "png-then.zip#trailer!/card.txt");
    let (kind, found) = scan("sfx.zip", &fixture("sfx.zip"));
    assert_eq!(kind, FileKind::Png);
    assert!(
        found
            .iter()
            .any(|(p, d)| d == "credit_card" && p.ends_with("!/card.txt")),
        "{found:?}"
    );
}

#[test]
fn a_zip_behind_a_binary_stub_is_read() {
    // A self-extracting archive: an executable stub, then the zip.
    let mut sfx = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0".to_vec();
    sfx.extend_from_slice(&[0u8; 4096]);
    sfx.extend_from_slice(&fixture("card.zip"));
    let (kind, found) = scan("setup.bin", &sfx);
    assert_eq!(kind, FileKind::Binary);
    assert!(
        found
            .iter()
            .any(|(p, d)| d == "credit_card" && p == "setup.bin#zip!/card.txt"),
        "{found:?}"
    );
}

#[test]
fn controls_without_tails_scan_clean() {
    for name in [
        "base.png",
        "base.jpg",
        "base.gif",
        "base.bmp",
        "base.webp",
        "base.tif",
        "base.pdf",
        "incremental.pdf",
        "thumb.jpg",
        "notes.gz",
    ] {
        let bytes = fixture(name);
        match extract(name, &bytes, &Limits::default()) {
            Extraction::Text { parts, .. } => {
                assert!(
                    parts.iter().all(|p| !p.path.contains('#')),
                    "{name}: a clean file has no prefix or trailer: {:?}",
                    parts.iter().map(|p| &p.path).collect::<Vec<_>>()
                );
                let e = engine();
                for p in &parts {
                    assert!(e.scan(&p.text).is_empty(), "{name}: {}", p.text);
                }
            }
            Extraction::Unscannable { reason } => panic!("{name}: {reason}"),
        }
    }
}

#[test]
fn a_tail_that_cannot_be_read_makes_the_file_unscannable() {
    // A broken zip after an image: its members cannot be vouched for.
    let mut bytes = fixture("base.png");
    let mut zip = fixture("card.zip");
    let cut = zip.len() - 30;
    zip[cut..].fill(0xEE);
    bytes.extend_from_slice(&zip);
    assert!(extract("x.png", &bytes, &Limits::default()).is_unscannable());
    // Tails nest no deeper than max_depth.
    let mut chain = fixture("base-zip.png");
    for _ in 0..6 {
        chain = [fixture("base.gif"), chain].concat();
    }
    match extract("chain.gif", &chain, &Limits::default()) {
        Extraction::Unscannable { reason } => assert!(reason.contains("max_depth"), "{reason}"),
        Extraction::Text { .. } => panic!("a chain deeper than max_depth was read"),
    }
}
