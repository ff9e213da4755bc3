//! `isolator scan` over the real binary: files go through the extraction
//! worker pool (`isolator extract-worker`), findings name the member path
//! and, for OCR'd images, the page and box; bombs are unscannable (exit 2);
//! a renamed file reports the mismatch. Fixtures are built here, in code.

#[path = "../../enforcer/tests/extract_fixtures/mod.rs"]
mod extract_fixtures;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use extract_fixtures::*;
use serde_json::Value;

const CARD: &str = "4111 1111 1111 1111";
const SSN: &str = "536-22-8452";

fn isolator() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_isolator"));
    cmd.env("OMP_THREAD_LIMIT", "1");
    cmd
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("mkdir");
    }
    std::fs::write(&path, bytes).expect("write fixture");
    path
}

fn scan_json(args: &[&str], files: &[&Path]) -> (Output, Vec<Value>) {
    let out = isolator()
        .arg("scan")
        .arg("--json")
        .args(args)
        .args(files)
        .output()
        .expect("run isolator scan");
    let docs = String::from_utf8(out.stdout.clone())
        .expect("utf-8 output")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l:?}: {e}")))
        .collect();
    (out, docs)
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn findings(doc: &Value) -> &Vec<Value> {
    doc["findings"].as_array().expect("findings array")
}

fn finding<'a>(doc: &'a Value, detector: &str, path_suffix: &str) -> &'a Value {
    findings(doc)
        .iter()
        .find(|f| f["detector"] == detector && f["path"].as_str().unwrap().ends_with(path_suffix))
        .unwrap_or_else(|| panic!("no {detector} finding in a path ending {path_suffix}: {doc}"))
}

#[test]
fn docx_is_extracted_in_a_worker_and_findings_name_the_part() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(
        dir.path(),
        "report.docx",
        &docx(
            &[
                "Quarterly summary",
                &format!("Customer card {CARD} on file"),
            ],
            "ACME internal",
            "page footer",
            "no notes",
            &format!("SSN {SSN} from the customer"),
        ),
    );
    let (out, docs) = scan_json(&[], &[&path]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(docs.len(), 1);
    let doc = &docs[0];
    assert_eq!(doc["input"], path.display().to_string());
    assert_eq!(doc["verdict"], "match");
    assert_eq!(doc["kind"], "docx");
    assert!(doc.get("mismatch").is_none(), "{doc}");
    let card = finding(doc, "credit_card", "report.docx!/body");
    assert_eq!(card["evidence"], "4111 **** **** 1111");
    let (start, end) = (
        card["start"].as_u64().unwrap(),
        card["end"].as_u64().unwrap(),
    );
    assert_eq!(end - start, CARD.len() as u64, "{card}");
    assert!(card.get("box").is_none() && card.get("page").is_none());
    finding(doc, "us_ssn", "report.docx!/comments");
    // The full values never reach the output.
    let raw = String::from_utf8_lossy(&out.stdout);
    assert!(!raw.contains(CARD) && !raw.contains(SSN), "{raw}");
}

#[test]
fn nested_zip_reports_the_member_path() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sheet = xlsx(&[(
        "Sheet1",
        vec![vec![Cell::Text("card"), Cell::Text("4111 1111 1111 1111")]],
    )]);
    let inner = zip_of(&[("notes.txt", format!("SSN {SSN}").as_bytes())]);
    let outer = zip_of(&[
        ("q3/sheet.xlsx", &sheet),
        ("q3/archive/old.zip", &inner),
        ("readme.txt", b"nothing here"),
    ]);
    let path = write(dir.path(), "report.zip", &outer);
    let name = path.display().to_string();
    let (out, docs) = scan_json(&[], &[&path]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let doc = &docs[0];
    assert_eq!(doc["kind"], "zip");
    let card = finding(doc, "credit_card", "!/q3/sheet.xlsx!/Sheet1");
    assert_eq!(card["path"], format!("{name}!/q3/sheet.xlsx!/Sheet1"));
    let ssn = finding(doc, "us_ssn", "!/notes.txt");
    assert_eq!(
        ssn["path"],
        format!("{name}!/q3/archive/old.zip!/notes.txt")
    );
    assert!(findings(doc)
        .iter()
        .all(|f| !f["path"].as_str().unwrap().contains("readme.txt")));
}

#[test]
fn png_text_is_ocrd_with_page_and_box() {
    let dir = tempfile::tempdir().expect("tempdir");
    let img = render(
        &[
            "Inbox - Customer support",
            &format!("Card number {CARD}, expiry 12/29"),
        ],
        DEJAVU_SANS,
        18.0,
        false,
        1280,
        720,
    );
    let path = write(dir.path(), "shot.png", &png(&img));
    let (out, docs) = scan_json(&["--detector", "credit_card"], &[&path]);
    assert_eq!(out.status.code(), Some(1), "{docs:?} {}", stderr(&out));
    let doc = &docs[0];
    assert_eq!(doc["kind"], "png");
    let card = finding(doc, "credit_card", "shot.png");
    assert_eq!(card["page"], 1, "{card}");
    let b = &card["box"];
    let (x, y, w, h) = (
        b["x"].as_u64().unwrap(),
        b["y"].as_u64().unwrap(),
        b["w"].as_u64().unwrap(),
        b["h"].as_u64().unwrap(),
    );
    // The card is on the second line (about y = 85..105), right of "Card
    // number ": the box must sit there, not cover the image or line one.
    assert!(x > 100 && x + w <= 640, "{b}");
    assert!(w > 100 && w < 400, "{b}");
    assert!(y > 60 && y + h < 160 && h < 60, "{b}");
}

#[test]
fn zip_bomb_is_unscannable_with_exit_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let zeros = vec![0u8; 64 << 20];
    let bomb = zip_of(&[("zeros.bin", &zeros)]);
    let bomb_path = write(dir.path(), "bomb.zip", &bomb);
    let clean = write(dir.path(), "clean.txt", b"nothing sensitive here");
    let (out, docs) = scan_json(&[], &[&bomb_path, &clean]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(docs.len(), 2, "the other input is still scanned");
    assert_eq!(docs[0]["verdict"], "unscannable");
    let reason = docs[0]["reason"].as_str().expect("reason");
    assert!(reason.contains("max_expansion_ratio"), "{reason}");
    assert_eq!(docs[1]["verdict"], "clean");
    assert_eq!(docs[1]["kind"], "text");
    let err = stderr(&out);
    assert!(
        err.contains(&format!("{}: unscannable", bomb_path.display())),
        "{err}"
    );
}

#[test]
fn renamed_file_reports_the_mismatch() {
    let dir = tempfile::tempdir().expect("tempdir");
    let zip = zip_of(&[("secret.txt", format!("card {CARD}").as_bytes())]);
    let path = write(dir.path(), "holiday.jpg", &zip);
    let (out, docs) = scan_json(&[], &[&path]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let doc = &docs[0];
    assert_eq!(doc["kind"], "zip");
    let mismatch = doc["mismatch"].as_str().expect("mismatch reported");
    assert!(mismatch.contains("zip"), "{mismatch}");
    finding(doc, "credit_card", "holiday.jpg!/secret.txt");

    // Human output says it too.
    let out = isolator().arg("scan").arg(&path).output().expect("run");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("type mismatch:"), "{text}");
    assert!(
        text.contains("in ") && text.contains("!/secret.txt"),
        "{text}"
    );
}

#[test]
fn limits_on_the_command_line_apply() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(dir.path(), "big.txt", &vec![b'a'; 10_000]);
    let (out, docs) = scan_json(&["--max-size", "4K"], &[&path]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(docs[0]["verdict"], "unscannable");
    assert!(docs[0]["reason"].as_str().unwrap().contains("4096 bytes"));

    let out = isolator()
        .args(["scan", "--max-size", "lots"])
        .arg(&path)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("`lots` is not a size"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn missing_file_and_directory_are_errors_naming_the_input() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("nope.pdf");
    let clean = write(dir.path(), "ok.txt", b"hello");
    let (out, docs) = scan_json(&[], &[&missing, dir.path(), &clean]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains(&format!("{}: cannot open", missing.display())),
        "{err}"
    );
    assert!(
        err.contains(&format!("{}: is a directory", dir.path().display())),
        "{err}"
    );
    assert_eq!(docs.len(), 1);
    assert_eq!(docs[0]["verdict"], "clean");
}

#[test]
fn stdin_and_lines_stay_text() {
    let mut child = isolator()
        .args(["scan", "--json", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    // Bytes that would sniff as a zip are still plain text on stdin.
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("PK\u{3}\u{4} card {CARD}\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().expect("wait");
    assert_eq!(out.status.code(), Some(1));
    let doc: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(doc.get("kind").is_none(), "{doc}");
    let f = finding(&doc, "credit_card", "-");
    assert_eq!(f["start"], 10);

    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(
        dir.path(),
        "list.docx",
        format!("clean line\nssn {SSN}\n").as_bytes(),
    );
    let (out, docs) = scan_json(&["--lines"], &[&path]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(docs.len(), 2);
    assert_eq!(docs[0]["verdict"], "clean");
    assert_eq!(docs[1]["line"], 2);
    assert_eq!(finding(&docs[1], "us_ssn", "list.docx")["start"], 4);
}

#[test]
fn source_code_is_classified_only_when_asked_for() {
    // A real Rust file from a crate (the classifier's committed samples,
    // `enforcer/tests/source_code/README.md`): every program is code, so
    // the default scan (sensitive values) leaves it clean; by name, the
    // `source_code` profile fires and names the language.
    let dir =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../enforcer/tests/source_code/samples/code");
    let rust = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|x| x == "rs"))
        .expect("a Rust sample");
    let (out, docs) = scan_json(&[], &[&rust]);
    assert_eq!(out.status.code(), Some(0), "{}: {:?}", rust.display(), docs);
    let (out, docs) = scan_json(&["--profile", "source_code"], &[&rust]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let f = &docs[0]["findings"][0];
    assert_eq!(f["detector"], "source_code", "{}", docs[0]);
    assert!(
        f["evidence"]
            .as_str()
            .unwrap()
            .starts_with("rust source code"),
        "{}",
        docs[0]
    );
}

#[test]
fn the_health_dictionaries_run_only_when_asked_for() {
    // A clinical note of the MTSamples transcriptions (CC0,
    // `enforcer/tests/health/README.md`): drugs and conditions about a
    // patient. The default scan (sensitive values) leaves the dictionaries
    // out; the `health` profile names both detectors.
    let notes = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../enforcer/tests/health/clinical.txt"),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let note = dir.path().join("note.txt");
    std::fs::write(&note, notes.split("\n=====\n").next().unwrap()).unwrap();
    let detectors = |docs: &[Value]| -> Vec<String> {
        docs.iter()
            .flat_map(|d| d["findings"].as_array().cloned().unwrap_or_default())
            .filter_map(|f| f["detector"].as_str().map(str::to_owned))
            .collect()
    };
    let (_, docs) = scan_json(&[], &[&note]);
    let default = detectors(&docs);
    assert!(
        !default
            .iter()
            .any(|d| d == "medication" || d == "diagnosis"),
        "{default:?}"
    );
    let (out, docs) = scan_json(&["--profile", "health"], &[&note]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let health = detectors(&docs);
    assert!(health.iter().any(|d| d == "medication"), "{health:?}");
    assert!(health.iter().any(|d| d == "diagnosis"), "{health:?}");
}

#[test]
fn sensitivity_labels_are_listed_and_reported_where_they_are() {
    // Files written by real producers (`enforcer/tests/labels/README.md`):
    // an XlsxWriter workbook with a MIP label, the same inside a zip, and
    // a pandoc document without a label.
    let out = isolator()
        .args(["scan", "--list-detectors"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("sensitivity_label"));
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../enforcer/tests/labels");
    let labelled = dir.join("xlsxwriter_msip_confidential.xlsx");
    let nested = dir.join("nested_labelled.zip");
    let plain = dir.join("pandoc_unlabelled.docx");
    let (out, docs) = scan_json(&[], &[&labelled, &nested, &plain]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let f = finding(
        &docs[0],
        "sensitivity_label",
        "xlsxwriter_msip_confidential.xlsx",
    );
    assert_eq!(f["evidence"], "\"Confidential\" (MIP label property)");
    finding(
        &docs[1],
        "sensitivity_label",
        "nested_labelled.zip!/reports/q3.xlsx",
    );
    assert_eq!(docs[2]["verdict"], "clean", "{}", docs[2]);
}
