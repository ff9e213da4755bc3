//! Hostile inputs for the readers added for real-world files: 7z, xz,
//! bzip2 and zstd bombs stop at the caps; truncated and corrupted e-mail,
//! RTF, OLE2, 7z and compressed files never panic or hang; a PDF that
//! pdftotext cannot read, one over the page limit and one past the
//! deadline are unscannable with the reason; nesting e-mail in e-mail stops
//! at `max_depth`.

mod extract_fixtures;

use std::path::Path;
use std::time::{Duration, Instant};

use enforcer::extract::{extract, Extraction, Limits};
use extract_fixtures::*;

fn unscannable(name: &str, bytes: &[u8], limits: &Limits) -> String {
    match extract(name, bytes, limits) {
        Extraction::Unscannable { reason } => reason,
        other => panic!("{name}: expected unscannable, got {other:?}"),
    }
}

fn fixture(path: &str) -> Vec<u8> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    std::fs::read(root.join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn bombs_in_every_new_codec_stop_at_the_caps() {
    for name in ["zeros.bin.xz", "zeros.bin.bz2", "zeros.bin.zst", "zeros.7z"] {
        let bomb = fixture(&format!("fixtures/bombs/{name}"));
        let start = Instant::now();
        let reason = unscannable(name, &bomb, &Limits::default());
        assert!(reason.contains("max_expan"), "{name}: {reason}");
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{name}: {:?}",
            start.elapsed()
        );
    }
}

#[test]
fn truncated_and_corrupted_new_formats_never_panic() {
    let files = [
        "7z.7z",
        "7z-solid-lzma.7z",
        "7z-bzip2.7z",
        "xz.tar.xz",
        "bzip2.tar.bz2",
        "zstd.tar.zst",
        "python-email.eml",
        "python-mailbox.mbox",
        "libreoffice.rtf",
        "libreoffice.doc",
        "libreoffice.ppt",
        "libreoffice.xls",
        "imagemagick_text_chunk.png",
        "qpdf_aes256.pdf",
    ];
    let limits = Limits {
        max_wall_time_ms: 10_000,
        ..Limits::default()
    };
    let mut outcomes = 0;
    for name in files {
        let bytes = fixture(&format!("corpus/planted/{name}"));
        let n = bytes.len();
        let mut variants: Vec<Vec<u8>> = [1, 8, n / 10, n / 3, n / 2, n * 9 / 10, n - 1]
            .iter()
            .map(|&cut| bytes[..cut.min(n)].to_vec())
            .collect();
        for seed in 0..4usize {
            let mut flipped = bytes.clone();
            let mut i = 7 + seed * 13;
            while i < flipped.len() {
                flipped[i] ^= 0x5a;
                i += n / 12 + 1 + seed;
            }
            variants.push(flipped);
        }
        for variant in variants {
            // Either outcome is acceptable; a panic or a hang is not.
            let _ = extract(name, &variant, &limits);
            outcomes += 1;
        }
    }
    assert_eq!(outcomes, files.len() * 11);
}

#[test]
fn pdfs_poppler_cannot_read_or_over_the_limits_are_unscannable() {
    let garbage = b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 9 0 R >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";
    let reason = unscannable("broken.pdf", garbage, &Limits::default());
    assert!(reason.contains("PDF"), "{reason}");

    let pages: Vec<Vec<String>> = (1..=3).map(|i| vec![format!("page {i}")]).collect();
    let three = pdf_text(&pages);
    let limits = Limits {
        max_pages: 2,
        ..Limits::default()
    };
    let reason = unscannable("three.pdf", &three, &limits);
    assert!(reason.contains("max_pages"), "{reason}");

    let limits = Limits {
        max_wall_time_ms: 1,
        ..Limits::default()
    };
    let big = fixture("corpus/planted/pdflatex.pdf");
    let reason = unscannable("slow.pdf", &big, &limits);
    assert!(reason.contains("wall time"), "{reason}");
}

#[test]
fn mail_nested_in_mail_stops_at_max_depth() {
    let mut message = "Subject: innermost\r\n\r\ncard 4111 1111 1111 1111\r\n".to_string();
    for level in 0..8 {
        message = format!(
            "From: a@example.org\r\nSubject: level {level}\r\nMIME-Version: 1.0\r\n\
             Content-Type: multipart/mixed; boundary=\"b{level}\"\r\n\r\n--b{level}\r\n\
             Content-Type: message/rfc822\r\n\r\n{message}\r\n--b{level}--\r\n"
        );
    }
    let reason = unscannable("deep.eml", message.as_bytes(), &Limits::default());
    assert!(reason.contains("max_depth"), "{reason}");
}
