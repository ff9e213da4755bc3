//! Fuzzes Office Open XML (docx, xlsx, pptx) and OpenDocument extraction:
//! a valid package whose parts (document, sheets, shared strings, styles,
//! slides, notes, content.xml) are cut from the fuzz input.
#![no_main]

#[path = "extract_common.rs"]
mod extract_common;

use libfuzzer_sys::fuzz_target;

const CT: &str = "[Content_Types].xml";

fuzz_target!(|data: &[u8]| {
    let (sel, rest) = extract_common::split(data);
    let (name, mut members, fixed): (&str, Vec<&str>, &[(&str, &[u8])]) = match sel % 5 {
        0 => (
            "a.docx",
            vec![
                "word/document.xml",
                "word/header1.xml",
                "word/footnotes.xml",
                "word/comments.xml",
            ],
            &[],
        ),
        1 => (
            "a.xlsx",
            vec![
                "xl/workbook.xml",
                "xl/_rels/workbook.xml.rels",
                "xl/sharedStrings.xml",
                "xl/styles.xml",
                "xl/worksheets/sheet1.xml",
            ],
            &[],
        ),
        2 => (
            "a.pptx",
            vec![
                "ppt/presentation.xml",
                "ppt/slides/slide1.xml",
                "ppt/notesSlides/notesSlide1.xml",
            ],
            &[],
        ),
        3 => (
            "a.odt",
            vec!["content.xml"],
            &[("mimetype", b"application/vnd.oasis.opendocument.text")],
        ),
        _ => (
            "a.ods",
            vec!["content.xml"],
            &[(
                "mimetype",
                b"application/vnd.oasis.opendocument.spreadsheet",
            )],
        ),
    };
    // The fixed members come first (their content is not fuzzed).
    let mut payload = Vec::new();
    let mut names = Vec::new();
    if name.ends_with('x') {
        names.push(CT);
        payload.extend_from_slice(b"<Types/>\0");
    }
    for (n, content) in fixed {
        names.push(n);
        payload.extend_from_slice(content);
        payload.push(0);
    }
    names.append(&mut members);
    payload.extend_from_slice(rest);
    let bytes = extract_common::zip_members(&names, &payload, sel & 0x80 != 0);
    extract_common::check(name, &bytes);
});
