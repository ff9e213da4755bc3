//! Sensitivity labels in a policy: a `label` detector and a profile using
//! it decide an upload of a labelled file (files written by real
//! producers, `enforcer/tests/labels/`), and bad label detectors are
//! refused with the field and position.

use std::path::Path;

use enforcer::extract::{extract, Limits};
use policies::{compile_str, Action, Error, Identity, Mode, OnMatch};

const DOC: &str = r#"
[[apps]]
name = "webmail"
hosts = ["mail.example.com"]

[[detectors]]
id = "label_confidential"
kind = "label"
names = ["Confidential", "Highly Confidential*"]

[[profiles]]
id = "labelled_confidential"
detectors = ["label_confidential"]

[[rules]]
name = "no-confidential-attachments"
apps = ["webmail"]
upload = { mode = "scan", profiles = ["labelled_confidential", "credentials"] }
"#;

fn file(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../enforcer/tests/labels")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn an_upload_rule_blocks_the_labelled_file_and_allows_the_others() {
    let policy = compile_str(DOC, Path::new("labels.toml")).unwrap_or_else(|e| panic!("{e}"));
    let who = Identity::new("eve", std::iter::empty::<&str>());
    let d = policy
        .decide_str(&who, "https://mail.example.com/compose", Action::Upload)
        .unwrap();
    assert_eq!(d.mode, Mode::Scan);
    assert_eq!(d.on_match, OnMatch::Block);
    let sel = d
        .selection
        .as_ref()
        .expect("a scan decision has a selection");
    let verdict = |name: &str| {
        let extraction = extract(name, &file(name), &Limits::default());
        assert!(!extraction.is_unscannable(), "{name}");
        d.engine.scan_extraction(&extraction, sel)
    };
    for name in [
        "xlsxwriter_msip_confidential.xlsx",
        "openpyxl_msip_highly_confidential.xlsx",
        "python_docx_header_confidential.docx",
        "pypdf_info_confidential.pdf",
        "nested_attachment.eml",
    ] {
        let report = verdict(name);
        assert_eq!(report.fired, ["labelled_confidential"], "{name}");
        assert!(
            report.findings[0].evidence.contains("\"Confidential\"")
                || report.findings[0]
                    .evidence
                    .contains("\"Highly Confidential\"")
        );
    }
    for name in [
        "pandoc_unlabelled.docx",
        "pandoc_msip_public.docx",
        "xlsxwriter_msip_disabled.xlsx",
        "reportlab_unlabelled.pdf",
    ] {
        assert!(!verdict(name).is_match(), "{name}");
    }
}

#[test]
fn bad_label_detectors_name_the_field_and_line() {
    let src = r#"[[detectors]]
id = "no_names"
kind = "label"

[[detectors]]
id = "star"
kind = "label"
names = ["Secret", "*"]

[[detectors]]
id = "words_on_label"
kind = "label"
names = ["Internal"]
words = ["x"]
context = ["y"]

[[detectors]]
id = "names_on_regex"
kind = "regex"
pattern = 'x\d'
names = ["Secret"]
"#;
    let problems = match compile_str(src, Path::new("bad.toml")) {
        Err(Error::Invalid(p)) => p.0,
        other => panic!("document should be refused: {other:?}"),
    };
    let text: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
    let find = |field: &str, needle: &str| {
        let p = problems
            .iter()
            .find(|p| p.field == field && p.message.contains(needle))
            .unwrap_or_else(|| panic!("no problem at {field} with {needle:?} in {text:#?}"));
        p.location
            .as_ref()
            .unwrap_or_else(|| panic!("no location for {p}"))
            .line
    };
    assert_eq!(find("detectors[0].names", "empty"), 1);
    assert_eq!(find("detectors[1].names", "name 2"), 8);
    assert!(find("detectors[2].words", "does not apply to a label detector") >= 12);
    assert!(find("detectors[2].context", "does not apply to a label detector") >= 12);
    assert_eq!(
        find("detectors[3].names", "does not apply to a regex detector"),
        21
    );
}
