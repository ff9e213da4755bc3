//! `isolator scan` over polyglots made by real producers
//! (`enforcer/tests/fixtures/polyglot`, README there): a card number in a zip
//! or text after an image, a PDF or a gzip stream, or in a zip behind an
//! image, is found and reported under `file#trailer`; the same files without
//! their tails, and a PDF with an incremental update, are clean.

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

fn fixture(name: &str) -> PathBuf {
    [
        env!("CARGO_MANIFEST_DIR"),
        "../enforcer/tests/fixtures/polyglot",
        name,
    ]
    .iter()
    .collect()
}

/// Scans `names` in one run; returns the exit code and one JSON document
/// per file.
fn scan(names: &[&str]) -> (Option<i32>, Vec<Value>) {
    let out = Command::new(env!("CARGO_BIN_EXE_isolator"))
        .env("OMP_THREAD_LIMIT", "1")
        .arg("scan")
        .arg("--json")
        .args(names.iter().map(|n| fixture(n)))
        .output()
        .expect("run isolator scan");
    let docs = String::from_utf8(out.stdout)
        .expect("utf-8 output")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l:?}: {e}")))
        .collect();
    (out.status.code(), docs)
}

#[test]
fn card_numbers_after_a_format_end_are_found_in_the_trailer() {
    let cases = [
        ("base-zip.png", "#trailer!/card.txt"),
        ("base-zip.jpg", "#trailer!/card.txt"),
        ("thumb-zip.jpg", "#trailer!/card.txt"),
        ("base-zip.gif", "#trailer!/card.txt"),
        ("base-zip.pdf", "#trailer!/card.txt"),
        ("base-text.png", "#trailer"),
        ("base-text.jpg", "#trailer"),
        ("base-text.gif", "#trailer"),
        ("base-text.bmp", "#trailer"),
        ("base-text.webp", "#trailer"),
        ("base-text.tif", "#trailer"),
        ("base-text.pdf", "#trailer"),
        ("incremental-text.pdf", "#trailer"),
        ("png-then.zip", "#trailer!/card.txt"),
        ("sfx.zip", "#trailer!/card.txt"),
        ("notes-text.gz", "#trailer"),
    ];
    let names: Vec<&str> = cases.iter().map(|c| c.0).collect();
    let (code, docs) = scan(&names);
    assert_eq!(code, Some(1), "{docs:?}");
    assert_eq!(docs.len(), cases.len());
    for ((name, suffix), doc) in cases.iter().zip(&docs) {
        let want = format!("{}{suffix}", fixture(name).display());
        let found = doc["findings"].as_array().expect("findings");
        assert!(
            found
                .iter()
                .any(|f| f["detector"] == "credit_card" && f["path"] == want.as_str()),
            "{name}: no card finding at {want}: {doc}"
        );
    }
}

#[test]
fn the_same_files_without_tails_are_clean() {
    let names = [
        "base.png",
        "base.jpg",
        "thumb.jpg",
        "base.gif",
        "base.bmp",
        "base.webp",
        "base.tif",
        "base.pdf",
        "incremental.pdf",
        "notes.gz",
    ];
    let (code, docs) = scan(&names);
    for (name, doc) in names.iter().zip(&docs) {
        assert_eq!(doc["verdict"], "clean", "{name}: {doc}");
    }
    assert_eq!(code, Some(0), "{docs:?}");
}
