//! Every supported format, built in code with planted values that must come
//! out in the extracted text, under the right part path.

mod extract_fixtures;

use enforcer::extract::{extract, Extraction, FileKind, Limits};
use extract_fixtures::*;

const CARD: &str = "4111 1111 1111 1111";
const SSN: &str = "078-05-1120";
const IBAN: &str = "GB82 WEST 1234 5698 7654 32";

fn text_of(name: &str, bytes: &[u8]) -> (FileKind, Option<String>, Vec<(String, String)>) {
    match extract(name, bytes, &Limits::default()) {
        Extraction::Text {
            kind,
            mismatch,
            parts,
            ..
        } => (
            kind,
            mismatch,
            parts.into_iter().map(|p| (p.path, p.text)).collect(),
        ),
        Extraction::Unscannable { reason } => panic!("{name}: unscannable: {reason}"),
    }
}

fn part<'a>(parts: &'a [(String, String)], path: &str) -> &'a str {
    parts
        .iter()
        .find(|(p, _)| p == path)
        .map(|(_, t)| t.as_str())
        .unwrap_or_else(|| panic!("no part {path} in {parts:?}"))
}

#[test]
fn plain_text_in_many_encodings() {
    let text = format!("Card: {CARD} café 日本");
    let mut utf16le = vec![0xff, 0xfe];
    utf16le.extend(text.encode_utf16().flat_map(|u| u.to_le_bytes()));
    let mut utf16be_no_bom = Vec::new();
    utf16be_no_bom.extend(text.encode_utf16().flat_map(|u| u.to_be_bytes()));
    let (sjis, _, _) = encoding_rs::SHIFT_JIS.encode(&text);
    let latin = format!("Card: {CARD} café");
    let (w1252, _, _) = encoding_rs::WINDOWS_1252.encode(&latin);
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("utf8.txt", text.clone().into_bytes()),
        (
            "utf8bom.txt",
            [&[0xef, 0xbb, 0xbf][..], text.as_bytes()].concat(),
        ),
        ("utf16le.txt", utf16le),
        ("utf16be.txt", utf16be_no_bom),
        ("sjis.txt", sjis.into_owned()),
        ("w1252.txt", w1252.into_owned()),
    ];
    for (name, bytes) in cases {
        let (kind, mismatch, parts) = text_of(name, &bytes);
        assert_eq!(kind, FileKind::Text, "{name}");
        assert_eq!(mismatch, None, "{name}");
        let t = part(&parts, name);
        assert!(t.contains(CARD), "{name}: {t}");
        if name != "sjis.txt" {
            assert!(t.contains("café"), "{name}: {t}");
        }
        if name != "w1252.txt" {
            assert!(t.contains("日本"), "{name}: {t}");
        }
    }
}

#[test]
fn csv_json_xml_html() {
    let csv = format!("name,ssn,card\nAnn,{SSN},{CARD}\nBob,219-09-9999,5500 0000 0000 0004\n");
    let (kind, _, parts) = text_of("people.csv", csv.as_bytes());
    assert_eq!(kind, FileKind::Csv);
    assert!(part(&parts, "people.csv").contains(SSN));

    let json = br#"{"customer": {"ssn": "078\u002d05-1120", "cards": ["4111 1111 1111 1111"]}}"#;
    let (kind, _, parts) = text_of("c.json", json);
    assert_eq!(kind, FileKind::Json);
    let t = part(&parts, "c.json");
    assert!(
        t.contains(&format!("ssn: {SSN}")) && t.contains(CARD),
        "{t}"
    );

    let xml = format!("<?xml version=\"1.0\"?><r><iban value=\"{IBAN}\"/><ssn>{SSN}</ssn></r>");
    let (kind, _, parts) = text_of("r.xml", xml.as_bytes());
    assert_eq!(kind, FileKind::Xml);
    let t = part(&parts, "r.xml");
    assert!(t.contains(IBAN) && t.contains(SSN), "{t}");

    let html = format!(
        "<!DOCTYPE html><html><body><script>var x='{SSN}'</script><p>Card {CARD}</p></body></html>"
    );
    let (kind, _, parts) = text_of("page.html", html.as_bytes());
    assert_eq!(kind, FileKind::Html);
    let t = part(&parts, "page.html");
    assert!(t.contains(CARD) && !t.contains(SSN), "{t}");
}

#[test]
fn docx_body_headers_footers_notes_comments() {
    let bytes = docx(
        &["Quarterly report", &format!("Card {CARD}")],
        &format!("SSN {SSN}"),
        "footer: confidential",
        &format!("IBAN {IBAN}"),
        "comment: call alice@example.com",
    );
    let (kind, _, parts) = text_of("report.docx", &bytes);
    assert_eq!(kind, FileKind::Docx);
    assert!(part(&parts, "report.docx!/body").contains(CARD));
    assert!(part(&parts, "report.docx!/header1").contains(SSN));
    assert!(part(&parts, "report.docx!/footer1").contains("confidential"));
    assert!(part(&parts, "report.docx!/footnotes").contains(IBAN));
    assert!(part(&parts, "report.docx!/comments").contains("alice@example.com"));
}

#[test]
fn xlsx_sheets_numbers_as_shown() {
    let bytes = xlsx(&[
        (
            "Customers",
            vec![
                vec![Cell::Text("name"), Cell::Text("ssn")],
                vec![Cell::Text("Ann"), Cell::Text(SSN)],
            ],
        ),
        (
            "Payments",
            vec![vec![
                Cell::Number("4111111111111111", 0),
                Cell::Number("1234.5", 1),
                Cell::Number("44927", 2),
            ]],
        ),
    ]);
    let (kind, _, parts) = text_of("book.xlsx", &bytes);
    assert_eq!(kind, FileKind::Xlsx);
    assert_eq!(
        part(&parts, "book.xlsx!/Customers"),
        format!("name\tssn\nAnn\t{SSN}\n")
    );
    assert_eq!(
        part(&parts, "book.xlsx!/Payments"),
        "4111111111111111\t1,234.50\t2023-01-01\n"
    );
}

#[test]
fn pptx_slides_and_notes() {
    let bytes = pptx(
        &["Title slide", &format!("Wire to {IBAN}")],
        &format!("speaker: card {CARD}"),
    );
    let (kind, _, parts) = text_of("deck.pptx", &bytes);
    assert_eq!(kind, FileKind::Pptx);
    assert!(part(&parts, "deck.pptx!/slide2").contains(IBAN));
    assert!(part(&parts, "deck.pptx!/notes1").contains(CARD));
}

#[test]
fn odt_and_ods() {
    let odt = odf(
        "application/vnd.oasis.opendocument.text",
        &format!("<office:text><text:p>SSN<text:s/>{SSN}</text:p></office:text>"),
    );
    let (kind, _, parts) = text_of("memo.odt", &odt);
    assert_eq!(kind, FileKind::Odt);
    assert!(part(&parts, "memo.odt!/content").contains(&format!("SSN {SSN}")));
    let ods = odf(
        "application/vnd.oasis.opendocument.spreadsheet",
        &format!("<office:spreadsheet><table:table><table:table-row><table:table-cell><text:p>card</text:p></table:table-cell><table:table-cell><text:p>{CARD}</text:p></table:table-cell></table:table-row></table:table></office:spreadsheet>"),
    );
    let (kind, _, parts) = text_of("sheet.ods", &ods);
    assert_eq!(kind, FileKind::Ods);
    assert!(part(&parts, "sheet.ods!/content").contains(&format!("card\t{CARD}")));
}

#[test]
fn pdf_text_every_page() {
    let pages: Vec<Vec<String>> = (1..=3)
        .map(|n| {
            vec![
                format!("Page {n} of the statement"),
                format!("Account {n}: {CARD}"),
            ]
        })
        .collect();
    let bytes = pdf_text(&pages);
    let (kind, _, parts) = text_of("statement.pdf", &bytes);
    assert_eq!(kind, FileKind::Pdf);
    for n in 1..=3 {
        let t = part(&parts, &format!("statement.pdf!/page{n}"));
        assert!(
            found(t, CARD) && t.contains(&format!("Page {n}")),
            "page {n}: {t}"
        );
    }
}

#[test]
fn nested_archives_name_member_paths() {
    let sheet = xlsx(&[("Sheet1", vec![vec![Cell::Text(SSN)]])]);
    let q3 = zip_of(&[
        ("q3/sheet.xlsx", &sheet),
        ("q3/notes.txt", format!("card {CARD}").as_bytes()),
    ]);
    let outer = zip_of(&[("inner.zip", &q3), ("readme.md", b"hello")]);
    let (kind, _, parts) = text_of("report.zip", &outer);
    assert_eq!(kind, FileKind::Zip);
    assert!(part(&parts, "report.zip!/inner.zip!/q3/sheet.xlsx!/Sheet1").contains(SSN));
    assert!(part(&parts, "report.zip!/inner.zip!/q3/notes.txt").contains(CARD));

    // tar.gz with a docx inside.
    let doc = docx(&[&format!("IBAN {IBAN}")], "", "", "", "");
    let mut tar_bytes = Vec::new();
    {
        let mut builder = tar::Builder::new(&mut tar_bytes);
        let mut header = tar::Header::new_gnu();
        header.set_size(doc.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder
            .append_data(&mut header, "docs/contract.docx", &doc[..])
            .expect("tar");
        builder.finish().expect("tar");
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, &tar_bytes).expect("gz");
    let tgz = gz.finish().expect("gz");
    let (kind, _, parts) = text_of("backup.tar.gz", &tgz);
    assert_eq!(kind, FileKind::Gzip);
    assert!(part(&parts, "backup.tar.gz!/docs/contract.docx!/body").contains(IBAN));
}

#[test]
fn depth_limit_is_enforced() {
    let mut bytes = format!("card {CARD}").into_bytes();
    for level in 0..7 {
        bytes = zip_of(&[(&format!("level{level}.zip"), &bytes)]);
    }
    match extract("deep.zip", &bytes, &Limits::default()) {
        Extraction::Unscannable { reason } => assert!(reason.contains("max_depth"), "{reason}"),
        other => panic!("expected unscannable, got {other:?}"),
    }
    let limits = Limits {
        max_depth: 10,
        ..Limits::default()
    };
    assert!(extract("deep.zip", &bytes, &limits)
        .joined_text()
        .contains(CARD));
}

#[test]
fn type_by_content_and_mismatch_reported() {
    let bytes = zip_of(&[("secret.txt", format!("ssn {SSN}").as_bytes())]);
    let (kind, mismatch, parts) = text_of("holiday.jpg", &bytes);
    assert_eq!(kind, FileKind::Zip);
    let mismatch = mismatch.expect("mismatch reported");
    assert!(
        mismatch.contains(".jpg") && mismatch.contains("zip"),
        "{mismatch}"
    );
    assert!(part(&parts, "holiday.jpg!/secret.txt").contains(SSN));
}

#[test]
fn unknown_binary_gives_printable_strings() {
    let mut bytes = vec![0u8, 159, 146, 150, 0, 1, 2, 3];
    bytes.extend_from_slice(format!("key={CARD}").as_bytes());
    bytes.extend_from_slice(&[0, 0, 255, 254, 7]);
    let (kind, _, parts) = text_of("blob.bin", &bytes);
    assert_eq!(kind, FileKind::Binary);
    assert!(part(&parts, "blob.bin").contains(CARD));
}

#[test]
fn empty_file_has_no_parts() {
    let (kind, _, parts) = text_of("empty.txt", b"");
    assert_eq!(kind, FileKind::Empty);
    assert!(parts.is_empty());
}
