//! The real-producer corpus (`tests/corpus`, see its README): files written
//! by Chromium, LibreOffice, wkhtmltopdf, groff, pdflatex, Ghostscript,
//! reportlab, PyMuPDF, qpdf, pandoc, python-docx, openpyxl, python-pptx,
//! Python's e-mail package, 7-Zip, xz, bzip2, zstd, gzip and ImageMagick.
//!
//! - recall: every value planted in a file is found in what we extract;
//! - precision: the same files without planted values yield no finding;
//! - differential: every word an ordinary extractor (MuPDF, LibreOffice,
//!   python-docx, openpyxl, python-pptx) reads from a PDF or Office file is
//!   in our extraction too.
//!
//! Each test prints a per-file table on failure and names what is missing.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use enforcer::extract::{extract, Extraction, Limits};
use enforcer::Engine;
use unicode_normalization::UnicodeNormalization;

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

/// `file name -> detectors that must fire`, from the manifest.
fn manifest() -> BTreeMap<String, Vec<String>> {
    let text = std::fs::read_to_string(corpus().join("manifest.json")).expect("manifest");
    let json: serde_json::Value = serde_json::from_str(&text).expect("manifest json");
    json["files"]
        .as_object()
        .expect("files")
        .iter()
        .map(|(name, entry)| {
            let expect = entry["expect"]
                .as_array()
                .expect("expect")
                .iter()
                .map(|d| d.as_str().expect("detector id").to_string())
                .collect();
            (name.clone(), expect)
        })
        .collect()
}

fn extract_file(set: &str, name: &str) -> Extraction {
    let bytes = std::fs::read(corpus().join(set).join(name)).expect("corpus file");
    extract(name, &bytes, &Limits::default())
}

/// Detector ids that fire on the file's extracted text.
fn detectors(engine: &Engine, extraction: &Extraction) -> BTreeSet<String> {
    extraction
        .parts()
        .iter()
        .flat_map(|p| engine.scan(&p.text))
        .map(|f| f.detector.to_string())
        .collect()
}

#[test]
fn every_planted_value_is_found() {
    let engine = Engine::with_defaults();
    let mut failures = Vec::new();
    for (name, expect) in manifest() {
        let extraction = extract_file("planted", &name);
        if let Extraction::Unscannable { reason } = &extraction {
            failures.push(format!("{name}: unscannable: {reason}"));
            continue;
        }
        let found = detectors(&engine, &extraction);
        let missing: Vec<&String> = expect.iter().filter(|d| !found.contains(*d)).collect();
        if !missing.is_empty() {
            failures.push(format!("{name}: missing {missing:?} (found {found:?})"));
        }
    }
    assert!(
        failures.is_empty(),
        "recall failures:\n{}",
        failures.join("\n")
    );
}

#[test]
fn files_without_planted_values_have_no_findings() {
    let engine = Engine::with_defaults();
    let mut failures = Vec::new();
    for name in manifest().keys() {
        let extraction = extract_file("clean", name);
        if let Extraction::Unscannable { reason } = &extraction {
            failures.push(format!("{name}: unscannable: {reason}"));
            continue;
        }
        for part in extraction.parts() {
            // Values only: the whole-text `source_code` classifier rightly
            // reads the EPUB's stylesheet as CSS (tests/source_code.rs
            // judges it on its own corpus).
            for f in engine
                .scan(&part.text)
                .into_iter()
                .filter(|f| f.detector != "source_code")
            {
                failures.push(format!(
                    "{name}: {} in {} ({})",
                    f.detector, part.path, f.evidence
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "false positives:\n{}",
        failures.join("\n")
    );
}

/// Words of two or more letters or digits, compatibility-normalised (a
/// ligature `ﬁ` is `fi`), lowercased.
fn words(text: &str) -> BTreeSet<String> {
    let normal: String = text.nfkc().collect::<String>().to_lowercase();
    normal
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() >= 2)
        .map(str::to_string)
        .collect()
}

#[test]
fn we_read_every_word_an_ordinary_extractor_reads() {
    let mut failures = Vec::new();
    let mut compared = 0;
    for set in ["planted", "clean"] {
        let dir = corpus().join("reference").join(set);
        for entry in std::fs::read_dir(&dir).expect("reference dir") {
            let path = entry.expect("entry").path();
            let reference = std::fs::read_to_string(&path).expect("reference text");
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_suffix(".txt"))
                .expect("reference name");
            let ours = extract_file(set, name);
            let ours = words(&ours.joined_text());
            let missing: Vec<String> = words(&reference).difference(&ours).cloned().collect();
            if !missing.is_empty() {
                failures.push(format!("{set}/{name}: {missing:?}"));
            }
            compared += 1;
        }
    }
    assert!(compared >= 20, "only {compared} reference texts");
    assert!(
        failures.is_empty(),
        "words the reference extractor reads and we do not:\n{}",
        failures.join("\n")
    );
}

#[test]
fn a_pdf_that_needs_a_password_is_unscannable_and_says_so() {
    let bytes = std::fs::read(corpus().join("password/pymupdf_user_password.pdf")).expect("file");
    match extract("locked.pdf", &bytes, &Limits::default()) {
        Extraction::Unscannable { reason } => {
            assert!(reason.contains("needs a password"), "{reason}")
        }
        other => panic!("a locked PDF was read: {other:?}"),
    }
}

/// Recall per format and per producer, and extraction speed per format, as
/// a table (`cargo test -p enforcer --test extract_corpus -- --ignored
/// --nocapture`); the figures in `BENCHMARKS.md` come from it.
#[test]
#[ignore = "a report, not a check: run it by name"]
fn report_recall_and_speed() {
    let text = std::fs::read_to_string(corpus().join("manifest.json")).expect("manifest");
    let json: serde_json::Value = serde_json::from_str(&text).expect("manifest json");
    let engine = Engine::with_defaults();
    // key -> (values found, values planted, bytes, seconds)
    let mut by_format: BTreeMap<String, (usize, usize, u64, f64)> = BTreeMap::new();
    let mut by_producer: BTreeMap<String, (usize, usize, u64, f64)> = BTreeMap::new();
    for (name, entry) in json["files"].as_object().expect("files") {
        let expect: Vec<&str> = entry["expect"]
            .as_array()
            .expect("expect")
            .iter()
            .filter_map(|d| d.as_str())
            .collect();
        let bytes = std::fs::read(corpus().join("planted").join(name)).expect("file");
        let start = std::time::Instant::now();
        let extraction = extract(name, &bytes, &Limits::default());
        let seconds = start.elapsed().as_secs_f64();
        let found = detectors(&engine, &extraction);
        let hits = expect.iter().filter(|d| found.contains(**d)).count();
        println!(
            "{name:32} {hits}/{} {:7.1} ms{}",
            expect.len(),
            seconds * 1000.0,
            match &extraction {
                Extraction::Unscannable { reason } => format!("  unscannable: {reason}"),
                _ => String::new(),
            }
        );
        for (map, key) in [
            (&mut by_format, entry["format"].as_str().unwrap_or("?")),
            (&mut by_producer, entry["producer"].as_str().unwrap_or("?")),
        ] {
            let row = map.entry(key.to_string()).or_default();
            row.0 += hits;
            row.1 += expect.len();
            row.2 += bytes.len() as u64;
            row.3 += seconds;
        }
    }
    for (title, map) in [("format", &by_format), ("producer", &by_producer)] {
        println!("\n| {title} | found / planted | recall | input | time | MB/s |");
        println!("| --- | --- | --- | --- | --- | --- |");
        let mut total = (0, 0);
        for (key, (hits, planted, bytes, seconds)) in map {
            total.0 += hits;
            total.1 += planted;
            println!(
                "| {key} | {hits} / {planted} | {:.0}% | {:.1} KB | {:.0} ms | {:.2} |",
                100.0 * *hits as f64 / *planted as f64,
                *bytes as f64 / 1e3,
                seconds * 1000.0,
                *bytes as f64 / 1e6 / seconds.max(1e-9)
            );
        }
        println!(
            "| all | {} / {} | {:.0}% | | | |",
            total.0,
            total.1,
            100.0 * total.0 as f64 / total.1 as f64
        );
    }
}
