//! Shared by the `extract*` fuzz targets: small limits so each input runs
//! fast, and the checks every extraction must pass whatever the input.
#![allow(dead_code)]

use std::io::{Cursor, Write};

use enforcer::extract::{extract, Extraction, Limits};

/// Limits small enough for fuzzing speed; still exercise every check.
pub fn limits() -> Limits {
    Limits {
        max_input_bytes: 4 << 20,
        max_expanded_bytes: 16 << 20,
        max_expansion_ratio: 200,
        max_depth: 5,
        max_members: 500,
        max_pages: 50,
        max_ocr_pixels: 300_000,
        max_wall_time_ms: 5_000,
        detect_orientation: true,
    }
}

/// Extracts `bytes` named `name` and checks the result: never a panic (the
/// harness catches one), parts within limits, word boxes inside their text
/// and on character boundaries, and the worker protocol's JSON round trip
/// gives the same value back.
pub fn check(name: &str, bytes: &[u8]) -> Extraction {
    let limits = limits();
    let result = extract(name, bytes, &limits);
    match &result {
        Extraction::Unscannable { reason } => assert!(!reason.is_empty()),
        Extraction::Text { parts, .. } => {
            let total: usize = parts.iter().map(|p| p.text.len()).sum();
            assert!(total as u64 <= limits.max_expanded_bytes, "{total} bytes");
            for part in parts {
                assert!(part.path.starts_with(name), "{} vs {name}", part.path);
                for b in &part.boxes {
                    assert!(b.text_start <= b.text_end && b.text_end <= part.text.len());
                    assert!(part.text.is_char_boundary(b.text_start));
                    assert!(part.text.is_char_boundary(b.text_end));
                }
            }
        }
    }
    let json = serde_json::to_vec(&result).expect("extraction serialises");
    let back: Extraction = serde_json::from_slice(&json).expect("extraction deserialises");
    assert_eq!(back, result);
    result
}

/// The first byte selects a variant; the rest is the payload.
pub fn split(data: &[u8]) -> (u8, &[u8]) {
    match data.split_first() {
        Some((sel, rest)) => (*sel, rest),
        None => (0, &[]),
    }
}

/// A zip (stored or deflated) of members named `names`, with contents cut
/// from `data` at NUL bytes (missing pieces are empty).
pub fn zip_members(names: &[&str], data: &[u8], deflate: bool) -> Vec<u8> {
    let mut pieces = data.split(|b| *b == 0);
    let mut out = Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut out);
        let method = if deflate {
            zip::CompressionMethod::Deflated
        } else {
            zip::CompressionMethod::Stored
        };
        let opts = zip::write::SimpleFileOptions::default().compression_method(method);
        for name in names {
            zip.start_file(*name, opts).expect("zip entry");
            zip.write_all(pieces.next().unwrap_or_default())
                .expect("zip write");
        }
        zip.finish().expect("zip finish");
    }
    out.into_inner()
}
