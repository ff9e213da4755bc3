//! The text the submit gate scans in a request body.
//!
//! - `application/x-www-form-urlencoded`: the fields decoded, one
//!   `name=value` line each (so a card number split by `+` or `%20` is
//!   whole again).
//! - `multipart/form-data`: every text field as a `name=value` line. A file
//!   part whose bytes are exactly those of a file the upload gate passed for
//!   this session (same SHA-256) is not scanned again: the upload gate owns
//!   files, and its verdict (which may differ: `upload = "allow"`,
//!   `submit = "scan"`) stands. Any other file part (a `Blob` or `File` the
//!   page built itself, which never met the upload gate) is scanned as text
//!   like a field. A body that does not parse as multipart is scanned whole.
//! - anything else: the body as UTF-8 (lossy).
//!
//! Fields that belong together are also judged together: the short text
//! fields of a form (up to [`MAX_JOINED_FIELD`] characters each, as the four
//! boxes of a card form) are joined, in order, with spaces into one more
//! line, so a value split over several fields is found whole.
//!
//! Holes: Chromium's `Fetch.requestPaused` inlines a body's bytes, except
//! the content of a file the page reads from disk (a `File` from a file
//! input; measured from 1 KB up): that post-data entry has no `bytes`.
//! The only files on disk a page can reach are the ones the upload gate
//! staged for it, so a hole is accepted as one of them when it is the whole
//! content of a file part named like a file the gate passed in this session
//! (or, in a body that is not multipart, when the session has passed a file
//! at all). Any other hole makes the body unreadable, and the gate blocks it
//! (fail closed). A hole is never a reason to drop the rest: the text
//! fields around it are scanned as usual.

use std::collections::VecDeque;
use std::sync::Mutex;

use sha2::{Digest, Sha256};

/// A request body as the interception shows it: its inline bytes, and the
/// offsets in them where a file's content was left out.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RawBody {
    /// The inline bytes, in order.
    pub bytes: Vec<u8>,
    /// Where (offsets into `bytes`, ascending) a file's content is missing.
    pub holes: Vec<usize>,
}

impl RawBody {
    /// Appends inline bytes.
    pub fn push_bytes(&mut self, b: &[u8]) {
        self.bytes.extend_from_slice(b);
    }

    /// Appends a file whose content was left out.
    pub fn push_hole(&mut self) {
        self.holes.push(self.bytes.len());
    }
}

/// The files the upload gate passed in one session (name and SHA-256),
/// newest kept.
#[derive(Debug, Default)]
pub struct PassedFiles {
    files: Mutex<VecDeque<(String, [u8; 32])>>,
}

/// Files remembered per session; older ones are scanned again if sent.
const MAX_PASSED_FILES: usize = 256;

impl PassedFiles {
    /// The digest [`PassedFiles::remember`] and [`PassedFiles::contains`] use.
    pub fn digest(bytes: &[u8]) -> [u8; 32] {
        Sha256::digest(bytes).into()
    }

    /// Notes that the upload gate passed file `name` with `digest`.
    pub fn remember(&self, name: &str, digest: [u8; 32]) {
        let mut files = self.files.lock().expect("passed files lock");
        files.retain(|(n, d)| !(n == name && *d == digest));
        if files.len() >= MAX_PASSED_FILES {
            files.pop_front();
        }
        files.push_back((name.to_owned(), digest));
    }

    /// Whether `bytes` are those of a file the upload gate passed.
    pub fn contains(&self, bytes: &[u8]) -> bool {
        if self.is_empty() {
            return false;
        }
        let digest = Self::digest(bytes);
        let files = self.files.lock().expect("passed files lock");
        files.iter().any(|(_, d)| *d == digest)
    }

    /// Whether the upload gate passed a file named `name`.
    pub fn has_name(&self, name: &str) -> bool {
        let files = self.files.lock().expect("passed files lock");
        files.iter().any(|(n, _)| n == name)
    }

    /// Whether the upload gate passed no file yet.
    pub fn is_empty(&self) -> bool {
        self.files.lock().expect("passed files lock").is_empty()
    }
}

/// What a body gives the scan.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct BodyText {
    /// The text to scan.
    pub text: String,
    /// File parts left out: the upload gate passed them.
    pub files_passed: usize,
    /// File parts scanned as text (built by the page).
    pub files_scanned: usize,
    /// Why the body cannot be scanned (a hole that is no passed file); the
    /// gate blocks such a body.
    pub unreadable: Option<String>,
}

/// The text to scan in `body`, sent with `content_type`; `passed` are the
/// files the session's upload gate passed.
pub fn body_text(content_type: &str, body: &RawBody, passed: &PassedFiles) -> BodyText {
    let lower = content_type.to_ascii_lowercase();
    if lower.starts_with("multipart/") {
        if let Some(b) = boundary(content_type) {
            if let Some(parts) = multipart(&body.bytes, b.as_bytes()) {
                return multipart_text(&parts, body, passed);
            }
        }
    }
    let mut out = BodyText::default();
    if !body.holes.is_empty() && passed.is_empty() {
        out.unreadable =
            Some("the request carries a file that did not come through the upload gate".into());
    }
    out.files_passed = body.holes.len();
    if lower.starts_with("application/x-www-form-urlencoded") {
        out.text.reserve(body.bytes.len());
        let mut short = Vec::new();
        for (k, v) in url::form_urlencoded::parse(&body.bytes) {
            push_field(&mut out.text, &k, &v);
            note_short(&mut short, &v);
        }
        push_together(&mut out.text, &short);
    } else {
        out.text = String::from_utf8_lossy(&body.bytes).into_owned();
    }
    out
}

/// Longest field value joined with its neighbours, in characters.
pub const MAX_JOINED_FIELD: usize = 32;

/// Keeps `value` for the joined line when it is short and not empty.
fn note_short(short: &mut Vec<String>, value: &str) {
    let v = value.trim();
    if !v.is_empty() && v.chars().count() <= MAX_JOINED_FIELD && !v.contains(['\n', '\r']) {
        short.push(v.to_owned());
    }
}

/// The line of the short fields together, when there are two or more.
fn push_together(text: &mut String, short: &[String]) {
    if short.len() >= 2 {
        push_field(text, "(fields together)", &short.join(" "));
    }
}

fn push_field(text: &mut String, name: &str, value: &str) {
    text.push_str(name);
    text.push('=');
    text.push_str(value);
    text.push('\n');
}

fn multipart_text(parts: &[Part], body: &RawBody, passed: &PassedFiles) -> BodyText {
    let mut out = BodyText::default();
    let mut short = Vec::new();
    let mut holes = body.holes.iter().copied().peekable();
    for p in parts {
        // Holes in this part's content (a hole at its very end belongs to it too).
        let mut in_part = 0;
        while holes.next_if(|h| *h >= p.start && *h <= p.end).is_some() {
            in_part += 1;
        }
        let content = &body.bytes[p.start..p.end];
        if in_part > 0 {
            let whole_file = in_part == 1 && content.is_empty();
            match &p.filename {
                Some(name) if whole_file && passed.has_name(name) => out.files_passed += 1,
                _ => {
                    out.unreadable = Some(format!(
                        "part {:?} of the form could not be read to scan (a file that did not come through the upload gate)",
                        p.name
                    ));
                }
            }
            continue;
        }
        match &p.filename {
            None => {
                let value = String::from_utf8_lossy(content);
                push_field(&mut out.text, &p.name, &value);
                note_short(&mut short, &value);
            }
            Some(file) => {
                if passed.contains(content) {
                    out.files_passed += 1;
                } else {
                    out.files_scanned += 1;
                    let label = format!("{} (file {file})", p.name);
                    push_field(&mut out.text, &label, &String::from_utf8_lossy(content));
                }
            }
        }
    }
    if holes.next().is_some() {
        out.unreadable = Some("the form carries data outside its parts".into());
    }
    push_together(&mut out.text, &short);
    out
}

/// The `boundary` parameter of a multipart content type.
fn boundary(content_type: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|param| {
        let (k, v) = param.split_once('=')?;
        if !k.trim().eq_ignore_ascii_case("boundary") {
            return None;
        }
        let v = v.trim().trim_matches('"');
        (!v.is_empty() && v.len() <= 200).then(|| v.to_owned())
    })
}

/// One part of a multipart body: its names and where its content is.
#[derive(Debug)]
struct Part {
    name: String,
    filename: Option<String>,
    start: usize,
    end: usize,
}

/// The parts of a multipart body, or `None` when it is not well formed.
fn multipart(body: &[u8], boundary: &[u8]) -> Option<Vec<Part>> {
    let mut delim = Vec::with_capacity(boundary.len() + 4);
    delim.extend_from_slice(b"\r\n--");
    delim.extend_from_slice(boundary);
    let finder = memchr::memmem::Finder::new(&delim);
    // The first delimiter may start the body (no CRLF before it).
    let mut at = if body.starts_with(&delim[2..]) {
        delim.len() - 2
    } else {
        finder.find(body)? + delim.len()
    };
    let mut parts = Vec::new();
    loop {
        let rest = body.get(at..)?;
        if rest.starts_with(b"--") {
            return Some(parts);
        }
        let rest = rest.strip_prefix(b"\r\n")?;
        let head_end = memchr::memmem::find(rest, b"\r\n\r\n")?;
        let head = std::str::from_utf8(&rest[..head_end]).ok()?;
        let content = &rest[head_end + 4..];
        let end = finder.find(content)?;
        let (name, filename) = disposition(head)?;
        let start = body.len() - content.len();
        parts.push(Part {
            name,
            filename,
            start,
            end: start + end,
        });
        // Past the part and its delimiter.
        at = start + end + delim.len();
    }
}

/// The field name and file name of a part's `Content-Disposition`.
fn disposition(head: &str) -> Option<(String, Option<String>)> {
    let line = head.split("\r\n").find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim()
            .eq_ignore_ascii_case("content-disposition")
            .then_some(v)
    })?;
    let mut name = None;
    let mut filename = None;
    for param in line.split(';').skip(1) {
        let Some((k, v)) = param.split_once('=') else {
            continue;
        };
        let v = v.trim().trim_matches('"').to_owned();
        match k.trim().to_ascii_lowercase().as_str() {
            "name" => name = Some(v),
            "filename" => filename = Some(v),
            _ => {}
        }
    }
    Some((name.unwrap_or_default(), filename))
}

#[cfg(test)]
mod tests {
    use super::*;

    const CT: &str = "multipart/form-data; boundary=----WebKitFormBoundaryAbC";

    /// A part: field name, file name, content (`None`: left out, a hole).
    type P<'a> = (&'a str, Option<&'a str>, Option<&'a [u8]>);

    fn form(parts: &[P<'_>]) -> RawBody {
        let mut b = RawBody::default();
        for (name, file, body) in parts {
            b.push_bytes(b"------WebKitFormBoundaryAbC\r\n");
            let head = match file {
                Some(f) => format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: application/octet-stream\r\n\r\n"),
                None => format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n"),
            };
            b.push_bytes(head.as_bytes());
            match body {
                Some(body) => b.push_bytes(body),
                None => b.push_hole(),
            }
            b.push_bytes(b"\r\n");
        }
        b.push_bytes(b"------WebKitFormBoundaryAbC--\r\n");
        b
    }

    fn passed(files: &[(&str, &[u8])]) -> PassedFiles {
        let p = PassedFiles::default();
        for (name, bytes) in files {
            p.remember(name, PassedFiles::digest(bytes));
        }
        p
    }

    #[test]
    fn text_fields_are_scanned_and_passed_files_are_not() {
        let file: &[u8] = b"card 4111 1111 1111 1111 in an allowed file";
        let body = form(&[
            ("note", None, Some(b"hello\r\nworld")),
            ("file", Some("a.txt"), Some(file)),
            ("card", None, Some(b"5555 5555 5555 4444")),
        ]);
        let out = body_text(CT, &body, &passed(&[("a.txt", file)]));
        assert_eq!(out.text, "note=hello\r\nworld\ncard=5555 5555 5555 4444\n");
        assert_eq!((out.files_passed, out.files_scanned), (1, 0));
        assert_eq!(out.unreadable, None);
    }

    #[test]
    fn a_file_part_the_upload_gate_never_saw_is_scanned() {
        let body = form(&[("file", Some("blob"), Some(b"4111 1111 1111 1111"))]);
        let out = body_text(CT, &body, &passed(&[("blob", b"other")]));
        assert_eq!(out.text, "file (file blob)=4111 1111 1111 1111\n");
        assert_eq!((out.files_passed, out.files_scanned), (0, 1));
    }

    #[test]
    fn a_left_out_file_named_like_a_passed_upload_is_that_upload() {
        let body = form(&[
            ("file", Some("notes.txt"), None),
            ("note", None, Some(b"4111 1111 1111 1111")),
        ]);
        let out = body_text(CT, &body, &passed(&[("notes.txt", b"x")]));
        assert_eq!(out.unreadable, None);
        assert_eq!(out.files_passed, 1);
        // The field after the file is still scanned.
        assert_eq!(out.text, "note=4111 1111 1111 1111\n");
    }

    #[test]
    fn a_left_out_file_the_gate_did_not_pass_makes_the_body_unreadable() {
        let body = form(&[("file", Some("other.txt"), None), ("t", None, Some(b"v"))]);
        let out = body_text(CT, &body, &passed(&[("notes.txt", b"x")]));
        assert!(out.unreadable.is_some());
        assert_eq!(out.text, "t=v\n");
        // Not multipart: any hole needs a passed file in the session.
        let mut raw = RawBody::default();
        raw.push_hole();
        assert!(
            body_text("application/octet-stream", &raw, &PassedFiles::default())
                .unreadable
                .is_some()
        );
        let out = body_text("application/octet-stream", &raw, &passed(&[("a", b"a")]));
        assert_eq!((out.unreadable, out.files_passed), (None, 1));
    }

    #[test]
    fn binary_file_content_with_crlf_and_dashes_is_one_part() {
        let file: &[u8] = b"\r\n--not-the-boundary\r\n\x00\xff--";
        let body = form(&[("file", Some("x.bin"), Some(file)), ("t", None, Some(b"v"))]);
        let parts = multipart(&body.bytes, b"----WebKitFormBoundaryAbC").expect("parses");
        assert_eq!(parts.len(), 2);
        assert_eq!(&body.bytes[parts[0].start..parts[0].end], file);
        assert_eq!(&body.bytes[parts[1].start..parts[1].end], b"v");
    }

    #[test]
    fn a_card_split_over_the_boxes_of_a_form_is_whole_in_one_line() {
        let body = RawBody {
            bytes: b"c1=4111&c2=1111&c3=1111&c4=1111&note=thanks".to_vec(),
            holes: Vec::new(),
        };
        let t = body_text(
            "application/x-www-form-urlencoded",
            &body,
            &PassedFiles::default(),
        );
        assert!(
            t.text
                .contains("(fields together)=4111 1111 1111 1111 thanks\n"),
            "{}",
            t.text
        );
        let mp = form(&[
            ("a", None, Some(b"4111 1111")),
            ("b", None, Some(b"1111 1111")),
        ]);
        let t = body_text(CT, &mp, &PassedFiles::default());
        assert!(
            t.text.contains("(fields together)=4111 1111 1111 1111\n"),
            "{}",
            t.text
        );
        // One field alone is not repeated.
        let one = RawBody {
            bytes: b"q=hello".to_vec(),
            holes: Vec::new(),
        };
        let t = body_text(
            "application/x-www-form-urlencoded",
            &one,
            &PassedFiles::default(),
        );
        assert_eq!(t.text, "q=hello\n");
    }

    #[test]
    fn a_malformed_multipart_body_is_scanned_whole() {
        let raw = RawBody {
            bytes: b"------WebKitFormBoundaryAbC\r\nno headers end 4111 1111 1111 1111".to_vec(),
            holes: vec![],
        };
        let out = body_text(CT, &raw, &PassedFiles::default());
        assert_eq!(out.text, String::from_utf8_lossy(&raw.bytes));
        let raw = RawBody {
            bytes: b"no boundary".to_vec(),
            holes: vec![],
        };
        let out = body_text("multipart/form-data", &raw, &PassedFiles::default());
        assert_eq!(out.text, "no boundary");
    }

    #[test]
    fn url_encoded_fields_are_decoded() {
        let raw = RawBody {
            bytes: b"card=4111+1111%201111+1111&x=%E2%82%AC".to_vec(),
            holes: vec![],
        };
        let out = body_text(
            "application/x-www-form-urlencoded; charset=UTF-8",
            &raw,
            &PassedFiles::default(),
        );
        assert_eq!(
            out.text,
            "card=4111 1111 1111 1111\nx=\u{20ac}\n(fields together)=4111 1111 1111 1111 \u{20ac}\n"
        );
    }

    #[test]
    fn quoted_boundary() {
        assert_eq!(
            boundary("multipart/form-data; charset=utf-8; boundary=\"a b\"").as_deref(),
            Some("a b")
        );
    }

    #[test]
    fn passed_files_are_bounded() {
        let p = PassedFiles::default();
        for i in 0..(MAX_PASSED_FILES + 1) {
            p.remember(
                &format!("f{i}"),
                PassedFiles::digest(format!("{i}").as_bytes()),
            );
        }
        assert!(!p.contains(b"0"));
        assert!(!p.has_name("f0"));
        assert!(p.contains(b"1"));
        assert!(p.has_name(&format!("f{MAX_PASSED_FILES}")));
    }
}
