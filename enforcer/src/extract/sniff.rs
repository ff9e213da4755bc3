//! File type by content, and the name/content mismatch report.
//!
//! Magic numbers decide binary formats; zip packages are told apart by their
//! members (`word/document.xml`, `mimetype`); text is decoded first and then
//! classified (HTML, XML, JSON, CSV/TSV, plain). The file name never decides
//! the type: it is only compared with the result so a renamed file (a zip
//! called `.jpg`) is reported.

use std::io::Cursor;

use super::model::FileKind;
use super::text;

/// How much of a file decides text versus binary.
const SNIFF_HEAD: usize = 64 << 10;

/// Decides the [`FileKind`] of `bytes` from their content alone.
pub fn sniff(bytes: &[u8]) -> FileKind {
    if bytes.is_empty() {
        return FileKind::Empty;
    }
    if let Some(kind) = sniff_magic(bytes) {
        return kind;
    }
    // The head decides text versus binary; the whole file is decoded later.
    let head = &bytes[..bytes.len().min(SNIFF_HEAD)];
    match text::decode_prefix(head, head.len() < bytes.len()) {
        Some(decoded) => classify_text(&decoded),
        None => FileKind::Binary,
    }
}

fn sniff_magic(b: &[u8]) -> Option<FileKind> {
    let starts = |m: &[u8]| b.starts_with(m);
    if starts(b"PK\x03\x04") || starts(b"PK\x05\x06") {
        return Some(sniff_zip(b));
    }
    // PDF readers accept the header anywhere in the first KiB.
    if memchr::memmem::find(&b[..b.len().min(1024)], b"%PDF-").is_some() {
        return Some(FileKind::Pdf);
    }
    if starts(b"\x1f\x8b") {
        return Some(FileKind::Gzip);
    }
    if starts(b"\xfd7zXZ\0") {
        return Some(FileKind::Xz);
    }
    if starts(b"\x28\xb5\x2f\xfd") {
        return Some(FileKind::Zstd);
    }
    if starts(b"7z\xbc\xaf\x27\x1c") {
        return Some(FileKind::SevenZip);
    }
    if is_bzip2(b) {
        return Some(FileKind::Bzip2);
    }
    if starts(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1") {
        return Some(FileKind::Ole);
    }
    if starts(b"{\\rtf") {
        return Some(FileKind::Rtf);
    }
    if starts(b"\x89PNG\r\n\x1a\n") {
        return Some(FileKind::Png);
    }
    if starts(b"\xff\xd8\xff") {
        return Some(FileKind::Jpeg);
    }
    if starts(b"GIF87a") || starts(b"GIF89a") {
        return Some(FileKind::Gif);
    }
    if b.len() >= 12 && &b[..4] == b"RIFF" && &b[8..12] == b"WEBP" {
        return Some(FileKind::Webp);
    }
    if starts(b"II*\0") || starts(b"MM\0*") {
        return Some(FileKind::Tiff);
    }
    if is_bmp(b) {
        return Some(FileKind::Bmp);
    }
    if b.len() >= 262 && &b[257..262] == b"ustar" {
        return Some(FileKind::Tar);
    }
    None
}

/// "BZh" and a block size digit, then a block header or an empty stream's
/// end-of-stream marker (the magic numbers of pi and sqrt(pi)).
fn is_bzip2(b: &[u8]) -> bool {
    b.len() >= 10
        && b.starts_with(b"BZh")
        && (b'1'..=b'9').contains(&b[3])
        && (&b[4..10] == b"\x31\x41\x59\x26\x53\x59" || &b[4..10] == b"\x17\x72\x45\x38\x50\x90")
}

/// "BM" alone would match text starting with "BM": also require a known DIB
/// header size.
fn is_bmp(b: &[u8]) -> bool {
    if b.len() < 18 || !b.starts_with(b"BM") {
        return false;
    }
    let dib = u32::from_le_bytes([b[14], b[15], b[16], b[17]]);
    matches!(dib, 12 | 40 | 52 | 56 | 64 | 108 | 124)
}

/// Tells OOXML and ODF packages from plain zips by their members.
fn sniff_zip(bytes: &[u8]) -> FileKind {
    let Ok(mut archive) = zip::ZipArchive::new(Cursor::new(bytes)) else {
        return FileKind::Zip;
    };
    let has = |name: &str| archive.index_for_name(name).is_some();
    if has("[Content_Types].xml") {
        if has("word/document.xml") {
            return FileKind::Docx;
        }
        if has("xl/workbook.xml") {
            return FileKind::Xlsx;
        }
        if has("ppt/presentation.xml") {
            return FileKind::Pptx;
        }
    }
    if has("mimetype") && has("content.xml") {
        let mut mime = String::new();
        if let Ok(file) = archive.by_name("mimetype") {
            use std::io::Read;
            let _ = file.take(100).read_to_string(&mut mime);
        }
        match mime.trim() {
            "application/vnd.oasis.opendocument.text" => return FileKind::Odt,
            "application/vnd.oasis.opendocument.spreadsheet" => return FileKind::Ods,
            "application/vnd.oasis.opendocument.presentation" => return FileKind::Odp,
            _ => {}
        }
    }
    FileKind::Zip
}

/// Classifies decoded text by its first non-blank characters and its shape.
pub(crate) fn classify_text(text: &str) -> FileKind {
    let head: String = text.trim_start().chars().take(1024).collect();
    let lower = head.to_ascii_lowercase();
    if lower.starts_with("{\\rtf") {
        return FileKind::Rtf;
    }
    if looks_like_email(text.trim_start()) {
        return FileKind::Email;
    }
    if lower.starts_with("<!doctype html")
        || lower.starts_with("<html")
        || (lower.starts_with('<')
            && [
                "<head", "<body", "<div", "<p>", "<table", "<script", "<meta",
            ]
            .iter()
            .any(|t| lower.contains(t)))
    {
        return FileKind::Html;
    }
    if lower.starts_with("<?xml") || (lower.starts_with('<') && lower.contains("</")) {
        return if lower.contains("<html") {
            FileKind::Html
        } else {
            FileKind::Xml
        };
    }
    let t = text.trim();
    if (t.starts_with('{') && t.ends_with('}')) || (t.starts_with('[') && t.ends_with(']')) {
        return FileKind::Json;
    }
    if looks_delimited(text) {
        return FileKind::Csv;
    }
    FileKind::Text
}

/// Header fields that mark a message (an mbox starts with a `From ` line).
const MAIL_HEADERS: [&str; 9] = [
    "from:",
    "to:",
    "subject:",
    "date:",
    "message-id:",
    "mime-version:",
    "received:",
    "return-path:",
    "content-type:",
];

/// An RFC 5322 header block: every line up to the first blank one is a
/// header field (`Name: value`) or its continuation, and at least two of
/// them are fields every mailer writes. An mbox adds a `From ` line first.
fn looks_like_email(text: &str) -> bool {
    // Long headers (Received, DKIM-Signature) can fill kilobytes; the last
    // line of the head may be cut, so it is not judged.
    let end = text.len().min(16 << 10);
    let end = (0..=end)
        .rev()
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(0);
    let head = &text[..end];
    let head = match head.rfind('\n') {
        Some(cut) if end < text.len() => &head[..cut],
        _ => head,
    };
    let mut lines = head.lines().peekable();
    if lines.peek().is_some_and(|l| l.starts_with("From ")) {
        lines.next();
    }
    let mut known = 0;
    let mut fields = 0;
    for line in lines {
        if line.trim().is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            continue;
        }
        let Some((name, _)) = line.split_once(':') else {
            return false;
        };
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return false;
        }
        fields += 1;
        let field = format!("{}:", name.to_ascii_lowercase());
        if MAIL_HEADERS.contains(&field.as_str()) {
            known += 1;
        }
    }
    fields >= 2 && known >= 2
}

/// At least two lines with the same non-zero count of `,` `;` or tab.
fn looks_delimited(text: &str) -> bool {
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .take(10)
        .collect();
    if lines.len() < 2 {
        return false;
    }
    [',', '\t', ';'].iter().any(|&d| {
        let first = lines[0].matches(d).count();
        first > 0
            && lines
                .iter()
                .take(lines.len().min(5))
                .all(|l| l.matches(d).count() == first)
    })
}

/// Compares the name's extension with the content type. Returns a report when
/// they disagree and the extension is one we know.
pub fn mismatch(name: &str, kind: FileKind) -> Option<String> {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let (_, ext) = base.rsplit_once('.')?;
    let ext = ext.to_ascii_lowercase();
    let expected: &[FileKind] = match ext.as_str() {
        "txt" | "log" | "md" => &[
            FileKind::Text,
            FileKind::Csv,
            FileKind::Json,
            FileKind::Empty,
        ],
        "csv" | "tsv" => &[FileKind::Csv, FileKind::Text, FileKind::Empty],
        "json" => &[FileKind::Json, FileKind::Text, FileKind::Empty],
        "xml" => &[
            FileKind::Xml,
            FileKind::Html,
            FileKind::Text,
            FileKind::Empty,
        ],
        "html" | "htm" | "xhtml" => &[
            FileKind::Html,
            FileKind::Xml,
            FileKind::Text,
            FileKind::Empty,
        ],
        "pdf" => &[FileKind::Pdf],
        "docx" | "docm" | "dotx" => &[FileKind::Docx],
        "xlsx" | "xlsm" | "xltx" => &[FileKind::Xlsx],
        "pptx" | "pptm" | "potx" => &[FileKind::Pptx],
        "odt" => &[FileKind::Odt],
        "ods" => &[FileKind::Ods],
        "odp" => &[FileKind::Odp],
        "zip" => &[
            FileKind::Zip,
            FileKind::Docx,
            FileKind::Xlsx,
            FileKind::Pptx,
            FileKind::Odt,
            FileKind::Ods,
            FileKind::Odp,
        ],
        "tar" => &[FileKind::Tar],
        "gz" | "tgz" => &[FileKind::Gzip],
        "xz" | "txz" => &[FileKind::Xz],
        "bz2" | "tbz2" => &[FileKind::Bzip2],
        "zst" => &[FileKind::Zstd],
        "7z" => &[FileKind::SevenZip],
        "eml" | "mbox" => &[FileKind::Email, FileKind::Text],
        "rtf" => &[FileKind::Rtf],
        "msg" | "doc" | "xls" | "ppt" => &[FileKind::Ole],
        "png" => &[FileKind::Png],
        "jpg" | "jpeg" | "jpe" => &[FileKind::Jpeg],
        "gif" => &[FileKind::Gif],
        "webp" => &[FileKind::Webp],
        "bmp" => &[FileKind::Bmp],
        "tif" | "tiff" => &[FileKind::Tiff],
        _ => return None,
    };
    if expected.contains(&kind) {
        return None;
    }
    Some(format!(
        "named .{ext} ({}) but content is {}",
        expected[0].describe(),
        kind.describe()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rtf_email_and_new_archives_by_content() {
        // LibreOffice's RTF starts with `{` and ends with `}`: not JSON.
        let rtf = b"{\\rtf1\\ansi{\\*\\generator LibreOffice/7.4.7.2$Linux_X86_64}\\pard hi\\par}";
        assert_eq!(sniff(rtf), FileKind::Rtf);
        assert_eq!(sniff(b"{\"a\": 1}"), FileKind::Json);
        let eml = b"Received: from x\r\nFrom: a@example.org\r\nSubject: hi\r\n\r\nbody\r\n";
        assert_eq!(sniff(eml), FileKind::Email);
        let mbox = b"From MAILER-DAEMON Sun Dec  6 07:00:00 2026\nFrom: a@example.org\nTo: b@example.org\n\nx\n";
        assert_eq!(sniff(mbox), FileKind::Email);
        // One header-like line is not a message.
        assert_eq!(
            sniff(b"Subject: my notes\nnothing else here\n"),
            FileKind::Text
        );
        assert_eq!(sniff(b"\xfd7zXZ\0\0\x04"), FileKind::Xz);
        assert_eq!(sniff(b"BZh91AY&SY\0\0"), FileKind::Bzip2);
        assert_eq!(sniff(b"BZh9 is not bzip2"), FileKind::Text);
        assert_eq!(sniff(b"\x28\xb5\x2f\xfd\0\0"), FileKind::Zstd);
        assert_eq!(sniff(b"7z\xbc\xaf\x27\x1c\0\x04"), FileKind::SevenZip);
        assert_eq!(
            sniff(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\0\0"),
            FileKind::Ole
        );
    }
}
