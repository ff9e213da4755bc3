//! `isolator fingerprint` and `isolator scan --fingerprints` over the real
//! binary, on documents made by real producers (pandoc, LibreOffice; see
//! `tests/fingerprint/README.md`): a DOCX is registered, its PDF re-save and
//! a paragraph pasted on standard input are found as `document_match`
//! naming it, an unrelated document is clean, a file that cannot be read is
//! refused by name, and `list`/`remove` manage the store.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

fn isolator() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_isolator"));
    cmd.env("OMP_THREAD_LIMIT", "1");
    cmd
}

fn doc(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fingerprint")
        .join(name)
}

fn run(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = isolator()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run isolator");
    let mut input = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

fn json_lines(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect()
}

fn matches(doc: &Value) -> Vec<String> {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["detector"] == "document_match")
        .map(|f| f["evidence"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn a_registered_document_is_found_re_saved_and_pasted_and_others_are_clean() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let store_s = store.to_str().unwrap();
    let docx = doc("gpl-3.docx");
    let out = run(
        &[
            "fingerprint",
            "add",
            "--store",
            store_s,
            docx.to_str().unwrap(),
        ],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("added 1 "));

    // The PDF LibreOffice made from the DOCX.
    let pdf = doc("gpl-3.pdf");
    let out = run(
        &[
            "scan",
            "--json",
            "--fingerprints",
            store_s,
            pdf.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let docs = json_lines(&out);
    let found = matches(&docs[0]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("gpl-3.docx"), "{found:?}");
    assert!(docs[0]["fired"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f == "fingerprints"));

    // A paragraph of it pasted into a message, on standard input.
    let gpl = std::fs::read_to_string("/usr/share/common-licenses/GPL-3").unwrap();
    let start = gpl.find("  13. Use with the GNU Affero").unwrap();
    // The section's heading and its first paragraph (about 100 words).
    let para = gpl[start..]
        .split("\n\n")
        .take(2)
        .collect::<Vec<_>>()
        .join("\n\n");
    let message =
        format!("Legal asked us to keep this out of the repo:\n{para}\n-- sent from my phone");
    let out = run(
        &["scan", "--json", "--fingerprints", store_s, "-"],
        Some(&message),
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(matches(&json_lines(&out)[0])[0].contains("gpl-3.docx"));

    // The evidence names the document, never its text.
    assert!(!String::from_utf8_lossy(&out.stdout).contains("Affero General Public License"));

    // Another document (CC0, as ODT) and ordinary prose are clean.
    let odt = doc("cc0-1.0.odt");
    let out = run(
        &[
            "scan",
            "--json",
            "--fingerprints",
            store_s,
            odt.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let prose = "The quarterly report shows invoice volumes up 4 percent; the customer \
                 account team will review the order backlog with finance next week.";
    let out = run(
        &["scan", "--json", "--fingerprints", store_s, "-"],
        Some(prose),
    );
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn the_store_is_managed_and_bad_input_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let store_s = store.to_str().unwrap();
    // A folder: both documents; a corrupt DOCX is refused by name, the rest added.
    let folder = dir.path().join("docs");
    std::fs::create_dir(&folder).unwrap();
    std::fs::copy(doc("gpl-3.docx"), folder.join("a.docx")).unwrap();
    std::fs::copy(doc("cc0-1.0.odt"), folder.join("b.odt")).unwrap();
    std::fs::write(folder.join("c.docx"), b"PK\x03\x04 this is not a zip").unwrap();
    let out = run(
        &[
            "fingerprint",
            "add",
            "--store",
            store_s,
            folder.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("c.docx") && err.contains("not registered"),
        "{err}"
    );
    let out = run(&["fingerprint", "list", "--store", store_s, "--json"], None);
    let docs = json_lines(&out);
    assert_eq!(docs.len(), 2, "{docs:?}");
    let id = docs[1]["id"].as_u64().unwrap().to_string();
    let out = run(&["fingerprint", "remove", "--store", store_s, &id], None);
    assert!(out.status.success());
    let out = run(&["fingerprint", "list", "--store", store_s], None);
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 1);
    // Removing it again, or scanning with no store, says what is wrong.
    let out = run(&["fingerprint", "remove", "--store", store_s, &id], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains(&format!("no document {id}")));
    let missing = dir.path().join("nowhere");
    let out = run(
        &["scan", "--fingerprints", missing.to_str().unwrap(), "-"],
        Some("hello"),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no fingerprint store"));
}
