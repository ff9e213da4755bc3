//! Files from Microsoft Office and Outlook, which nothing on this machine
//! writes: Apache POI's test data (`tests/public`, README there). The
//! expected strings are POI's own test expectations (its
//! `TestOutlookTextExtractor`, `hslf` `TestExtractor`) and the text files POI
//! ships beside its samples (`SampleDoc.txt`, `SampleSS.txt`).

use std::collections::BTreeSet;
use std::path::Path;

use enforcer::extract::{extract, Extraction, FileKind, Limits};
use enforcer::Engine;

fn text_of(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/public")
        .join(name);
    let bytes = std::fs::read(&path).expect("sample");
    match extract(name, &bytes, &Limits::default()) {
        Extraction::Text { kind, parts, .. } => {
            assert_eq!(kind, FileKind::Ole, "{name}");
            parts
                .iter()
                .map(|p| format!("[{}]\n{}\n", p.path, p.text))
                .collect()
        }
        Extraction::Unscannable { reason } => panic!("{name}: unscannable: {reason}"),
    }
}

fn words(text: &str) -> BTreeSet<String> {
    text.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() >= 2)
        .map(str::to_string)
        .collect()
}

#[test]
fn outlook_messages_as_poi_reads_them() {
    let cases: [(&str, &[&str]); 4] = [
        (
            "quick.msg",
            &[
                "Kevin Roast",
                "kevin.roast@alfresco.org",
                "Test the content transformer",
                "The quick brown fox jumps over the lazy dog",
            ],
        ),
        (
            "simple_test_msg.msg",
            &[
                "Travis Ferguson",
                "travis@overwrittenstack.com",
                "test message",
                "This is a test message.",
            ],
        ),
        (
            "attachment_test_msg.msg",
            &[
                "Nicolas1",
                "nicolas1.23456@free.fr",
                "!/test-unicode.doc",
                "!/pj1.txt",
                "contenu",
            ],
        ),
        (
            "chinese-traditional.msg",
            &[
                "Tests Chang@FT",
                "tests.chang@fengttt.com",
                "(\u{5f35}\u{6bd3}\u{502b})",
                "( MSG \u{683c}\u{5f0f}\u{6e2c}\u{8a66} )",
            ],
        ),
    ];
    for (name, expected) in cases {
        let text = text_of(name);
        for want in expected {
            assert!(text.contains(want), "{name}: no {want:?} in\n{text}");
        }
    }
}

#[test]
fn powerpoint_97_text_as_poi_reads_it_and_nothing_else_found() {
    let text = text_of("basic_test_ppt_file.ppt");
    let expected = "This is a test title\nThis is a test subtitle\n\nThis is on page 1\n\
        This is the title on page 2\nThis is page two\n\nIt has several blocks of text\n\n\
        None of them have formatting\n";
    for line in expected.lines().filter(|l| !l.is_empty()) {
        assert!(text.contains(line), "no {line:?} in\n{text}");
    }
    let findings = Engine::with_defaults().scan(&text);
    assert!(findings.is_empty(), "{findings:?}");
}

/// Every word of the text POI ships beside a sample (metadata values and
/// body; the `Key = ` labels are POI's, not the document's) is read.
fn every_word_of(sample: &str, reference: &str) {
    let text = text_of(sample);
    let reference = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/public")
            .join(reference),
    )
    .expect("reference");
    // A formula cell (`=SUM(A7:C7)`) is stored as parsed tokens, not as
    // text: POI prints it back, no reader of the file's text sees it.
    let values: String = reference
        .lines()
        .map(|l| l.split_once(" = ").map_or(l, |(_, v)| v))
        .flat_map(|l| l.split('\t'))
        .filter(|cell| !cell.starts_with('='))
        .collect::<Vec<_>>()
        .join("\n");
    let ours = words(&text);
    let missing: Vec<String> = words(&values).difference(&ours).cloned().collect();
    assert!(
        missing.is_empty(),
        "{sample}: missing {missing:?} in\n{text}"
    );
}

#[test]
fn word_97_document_and_its_properties() {
    every_word_of("SampleDoc.doc", "SampleDoc.txt");
}

#[test]
fn excel_97_workbook_and_its_properties() {
    every_word_of("SampleSS.xls", "SampleSS.txt");
}
