//! The extraction driver: sniffs each file or member and hands it to the
//! reader for its kind, with one [`Budget`] for the whole top-level file.

use std::panic::{catch_unwind, AssertUnwindSafe};

use super::compressed::{self, Codec};
use super::error::{Error, Result};
use super::limits::{Budget, Limits};
use super::model::{Extraction, FileKind, Part, WordBox};
use super::trailer::{self, Bounds};
use super::{
    archive, email, html, image, json, odf, ole, ooxml, pdf, rtf, sevenz, sniff, strings, text,
    xlsx, xml,
};
use crate::labels::markings::{self, EDGE_LINES};
use crate::labels::{self, Label, LabelSource};

/// Most labels recorded for one top-level file.
const MAX_LABELS: usize = 256;

/// Extracts one top-level file; see [`super::extract`].
pub(crate) fn extract_file(name: &str, bytes: &[u8], limits: &Limits) -> Extraction {
    if let Err(err) = limits.validate() {
        return Extraction::unscannable(err.to_string());
    }
    let size = bytes.len() as u64;
    if size > limits.max_input_bytes {
        return Extraction::unscannable(format!(
            "input size ({size} bytes) exceeds the limit of {} bytes (max_input_bytes)",
            limits.max_input_bytes
        ));
    }
    let kind = sniff::sniff(bytes);
    let mismatch = sniff::mismatch(name, kind);
    let mut ctx = Ctx {
        budget: Budget::new(limits, size),
        parts: Vec::new(),
        labels: Vec::new(),
    };
    // Parsers of hostile input can panic (a dependency's bug); a panic must
    // make the file unscannable, not take the caller down.
    let outcome = catch_unwind(AssertUnwindSafe(|| ctx.extract_kind(name, bytes, kind, 0)));
    match outcome {
        Ok(Ok(())) => Extraction::Text {
            kind,
            mismatch,
            parts: ctx.parts,
            labels: ctx.labels,
        },
        Ok(Err(err)) => Extraction::unscannable(err.to_string()),
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown".into());
            Extraction::unscannable(format!("{name}: parser failed on malformed input: {what}"))
        }
    }
}

/// [`super::extract_plain_text`]: the extraction of a plain UTF-8 text file
/// in this process, or the bytes back when the file needs a reader.
pub(crate) fn plain_text(
    name: &str,
    bytes: Vec<u8>,
    limits: &Limits,
) -> std::result::Result<Extraction, Vec<u8>> {
    // A zip's type is told by reading its directory: that is a parser.
    if limits.validate().is_err()
        || bytes.len() as u64 > limits.max_input_bytes
        || bytes.starts_with(b"PK")
        || bytes.starts_with(b"\xef\xbb\xbf")
        || memchr::memchr(0, &bytes).is_some()
    {
        return Err(bytes);
    }
    let kind = sniff::sniff(&bytes);
    if !matches!(kind, FileKind::Text | FileKind::Csv) {
        return Err(bytes);
    }
    let size = bytes.len() as u64;
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => return Err(e.into_bytes()),
    };
    // What `extract_body` does for text, without the copy: anything it
    // would do more (a base64 blob to decode, text that is not textual)
    // goes to the reader.
    if !text::textual(&text) || text::base64_blob(&text).is_some() {
        return Err(text.into_bytes());
    }
    let mut ctx = Ctx {
        budget: Budget::new(limits, size),
        parts: Vec::new(),
        labels: Vec::new(),
    };
    ctx.text_markings(name, &text);
    match ctx.push(name.to_string(), text, Vec::new()) {
        Ok(()) => Ok(Extraction::Text {
            kind,
            mismatch: sniff::mismatch(name, kind),
            parts: ctx.parts,
            labels: ctx.labels,
        }),
        Err(err) => Ok(Extraction::unscannable(err.to_string())),
    }
}

/// The state of one extraction: the budget, and the parts and labels
/// found so far.
pub(crate) struct Ctx<'a> {
    pub(crate) budget: Budget<'a>,
    parts: Vec<Part>,
    labels: Vec<Label>,
}

impl Ctx<'_> {
    /// Extracts a member of a container found at nesting `depth` (the
    /// top-level file is depth 0, its members depth 1).
    pub(crate) fn member(&mut self, path: &str, bytes: &[u8], depth: u32) -> Result<()> {
        if depth > self.budget.limits.max_depth {
            return Err(Error::Limit {
                what: format!("nesting depth ({depth}) at {path}"),
                limit: format!("{} (max_depth)", self.budget.limits.max_depth),
            });
        }
        self.budget.check_time()?;
        let kind = sniff::sniff(bytes);
        self.extract_kind(path, bytes, kind, depth)
            .map_err(|err| err.in_member(path))
    }

    /// Extracts `bytes` as `kind`, then whatever lies before or after the
    /// span its format uses ([`trailer::bounds`]) as independent files
    /// (`path#prefix`, `path#trailer`) one level deeper: a polyglot's other
    /// half is read, not skipped.
    fn extract_kind(&mut self, path: &str, bytes: &[u8], kind: FileKind, depth: u32) -> Result<()> {
        self.extract_body(path, bytes, kind, depth)?;
        let Bounds { start, end } = trailer::bounds(kind, bytes);
        self.extra(path, "prefix", &bytes[..start], depth)?;
        self.trailing(path, bytes, end.max(start), depth)
    }

    /// Extracts `bytes[end..]`, the data after a format's span, as
    /// `path#trailer`.
    fn trailing(&mut self, path: &str, bytes: &[u8], end: usize, depth: u32) -> Result<()> {
        let tail = &bytes[end..];
        if tail.starts_with(b"PK\x03\x04") && trailer::zip_bounds(tail).is_none() {
            // A self-extracting archive's offsets count from the start of
            // the whole file (`zip -A` rewrites them so): read it in place.
            let whole = trailer::zip_bounds(bytes).filter(|z| z.start == 0 && z.end > end);
            if let Some(Bounds { end: zip_end, .. }) = whole {
                let at = format!("{path}#trailer");
                archive::zip(self, &at, &bytes[..zip_end], depth + 2)?;
                return self.extra(&at, "trailer", &bytes[zip_end..], depth + 1);
            }
        }
        self.extra(path, "trailer", tail, depth)
    }

    /// Extracts data found outside a format's span, unless it is only
    /// padding (zero bytes and whitespace).
    pub(crate) fn extra(&mut self, path: &str, what: &str, bytes: &[u8], depth: u32) -> Result<()> {
        if bytes.iter().all(|&b| b == 0 || b.is_ascii_whitespace()) {
            return Ok(());
        }
        self.member(&format!("{path}#{what}"), bytes, depth + 1)
    }

    fn extract_body(&mut self, path: &str, bytes: &[u8], kind: FileKind, depth: u32) -> Result<()> {
        match kind {
            FileKind::Empty => Ok(()),
            FileKind::Text | FileKind::Csv => match text::decode(bytes) {
                Some(text) => {
                    let blob = text::base64_blob(&text);
                    self.text_markings(path, &text);
                    self.push(path.to_string(), text, Vec::new())?;
                    match blob {
                        Some(decoded) => self.base64_member(path, &decoded, depth),
                        None => Ok(()),
                    }
                }
                // Text up front, binary further on (an archive appended to
                // a text file): read it as binary, archive and all.
                None => self.extract_body(path, bytes, FileKind::Binary, depth),
            },
            FileKind::Json => match text::decode(bytes) {
                Some(text) => {
                    let flat = json::flatten(&text).unwrap_or(text);
                    self.push(path.to_string(), flat, Vec::new())
                }
                None => self.extract_body(path, bytes, FileKind::Binary, depth),
            },
            FileKind::Xml => {
                let text = xml::generic_text(bytes)?;
                self.push(path.to_string(), text, Vec::new())
            }
            FileKind::Html => {
                let source = text::decode(bytes).unwrap_or_default();
                let text = html::visible_text(&source);
                self.push(path.to_string(), text, Vec::new())
            }
            FileKind::Pdf => pdf::extract(self, path, bytes),
            FileKind::Docx | FileKind::Pptx => ooxml::extract(self, path, bytes, kind, depth + 1),
            FileKind::Xlsx => xlsx::extract(self, path, bytes, depth + 1),
            FileKind::Odt | FileKind::Ods | FileKind::Odp => {
                odf::extract(self, path, bytes, depth + 1)
            }
            FileKind::Zip => archive::zip(self, path, bytes, depth + 1),
            FileKind::Tar => archive::tar(self, path, bytes, depth + 1),
            FileKind::Gzip => compressed::extract(self, Codec::Gzip, path, bytes, depth + 1),
            FileKind::Xz => compressed::extract(self, Codec::Xz, path, bytes, depth + 1),
            FileKind::Bzip2 => compressed::extract(self, Codec::Bzip2, path, bytes, depth + 1),
            FileKind::Zstd => compressed::extract(self, Codec::Zstd, path, bytes, depth + 1),
            FileKind::SevenZip => sevenz::extract(self, path, bytes, depth + 1),
            FileKind::Email if bytes.starts_with(b"From ") => {
                email::mbox(self, path, bytes, depth + 1)
            }
            FileKind::Email => email::eml(self, path, bytes, depth + 1),
            FileKind::Rtf => {
                // RTF is 7-bit by its specification; bytes that make it look
                // binary are still read, each as one Windows-1252 character.
                let source = text::decode(bytes)
                    .unwrap_or_else(|| encoding_rs::WINDOWS_1252.decode(bytes).0.into_owned());
                let text = rtf::text(&source);
                self.push(path.to_string(), text, Vec::new())
            }
            FileKind::Ole => ole::extract(self, path, bytes, depth + 1),
            FileKind::Png
            | FileKind::Jpeg
            | FileKind::Gif
            | FileKind::Webp
            | FileKind::Bmp
            | FileKind::Tiff => image::extract(self, path, bytes),
            FileKind::Binary => {
                let text = strings::printable(bytes, self.budget.expandable());
                self.push(path.to_string(), text, Vec::new())?;
                self.embedded_zip(path, bytes, depth)
            }
        }
    }

    /// A text file that is one base64 blob: what it encodes is extracted as
    /// `path!/base64` when it is a file type we read or text (random bytes
    /// that happen to be valid base64 are left alone).
    fn base64_member(&mut self, path: &str, decoded: &[u8], depth: u32) -> Result<()> {
        let kind = sniff::sniff(decoded);
        if kind == FileKind::Binary || kind == FileKind::Empty {
            return Ok(());
        }
        self.budget.charge_expanded(decoded.len() as u64)?;
        self.member(&join(path, "base64"), decoded, depth + 1)
    }

    /// A zip behind other data (a self-extracting archive, an archive
    /// appended to a binary) is extracted as `path#zip`; printable strings
    /// alone would miss its compressed members. One that cannot be read
    /// makes the file unscannable.
    fn embedded_zip(&mut self, path: &str, bytes: &[u8], depth: u32) -> Result<()> {
        let finder = memchr::memmem::Finder::new(b"PK\x05\x06");
        if finder.find(bytes).is_none() {
            return Ok(());
        }
        match trailer::zip_bounds(bytes) {
            Some(Bounds { start, end }) => {
                archive::zip(self, &format!("{path}#zip"), &bytes[start..end], depth + 2)
            }
            None if memchr::memmem::find(bytes, b"PK\x03\x04").is_some() => Err(Error::corrupt(
                "zip",
                format!("{path}: holds a zip archive that cannot be read"),
            )),
            None => Ok(()),
        }
    }

    /// Adds a part (skipped when it has no visible text) and charges its size.
    pub(crate) fn push(&mut self, path: String, text: String, boxes: Vec<WordBox>) -> Result<()> {
        if text.trim().is_empty() {
            return Ok(());
        }
        self.budget.charge_expanded(text.len() as u64)?;
        self.parts.push(Part { path, text, boxes });
        Ok(())
    }

    /// Records a label of the file or member at `path` (once; at most
    /// [`MAX_LABELS`] per top-level file, so a zip of a million labelled
    /// members costs linear time).
    pub(crate) fn label(&mut self, label: Label) {
        if self.labels.len() < MAX_LABELS {
            labels::add_unique(&mut self.labels, label);
        }
    }

    /// Records the classification markings of a header or footer text
    /// found in the file at `path`.
    pub(crate) fn header_footer(&mut self, path: &str, text: &str) {
        for name in markings::header_footer_markings(text) {
            self.label(Label::new(name, LabelSource::HeaderFooter, None, path));
        }
    }

    /// Records the markings on the first and last lines of a text file
    /// (see [`markings::edge_markings`]).
    fn text_markings(&mut self, path: &str, text: &str) {
        for (name, _, _) in markings::edge_markings(text, EDGE_LINES, EDGE_LINES) {
            self.label(Label::new(name, LabelSource::TextLine, None, path));
        }
    }

    /// Checks that a container at `depth` may open its members.
    pub(crate) fn check_depth(&self, path: &str, depth: u32) -> Result<()> {
        if depth > self.budget.limits.max_depth {
            return Err(Error::Limit {
                what: format!("nesting depth ({depth}) at {path}"),
                limit: format!("{} (max_depth)", self.budget.limits.max_depth),
            });
        }
        Ok(())
    }
}

/// `parent!/child`: the path of a member or sub-part.
pub(crate) fn join(parent: &str, child: &str) -> String {
    format!("{parent}!/{child}")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The in-process plain-text path gives exactly what the reader gives,
    /// and hands back (unchanged) every file it does not take.
    #[test]
    fn plain_text_agrees_with_the_reader_or_declines() {
        let limits = Limits::default();
        let csv = "id,name,email\n1,Alice,alice@example.com\n2,Bruno,bruno@example.com\n";
        let taken: [(&str, &[u8]); 6] = [
            (
                "notes.txt",
                b"card 4111 1111 1111 1111\nthe customer account\n",
            ),
            ("export.csv", csv.as_bytes()),
            ("renamed.pdf", b"plain text under a wrong name\n"),
            (
                "utf8.txt",
                "caf\u{e9} na\u{ef}ve r\u{e9}sum\u{e9} \u{4e2d}\u{6587}\n".as_bytes(),
            ),
            ("blank.txt", b"   \n\t\n"),
            (
                "prose.txt",
                b"Short words, not a blob: QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo= here\n",
            ),
        ];
        for (name, bytes) in taken {
            let got = plain_text(name, bytes.to_vec(), &limits).expect(name);
            assert_eq!(got, extract_file(name, bytes, &limits), "{name}");
        }
        let zip = b"PK\x03\x04\x14\x00\x00\x00\x08\x00";
        let declined: [(&str, &[u8]); 8] = [
            ("empty.txt", b""),
            ("bom.txt", b"\xef\xbb\xbfhello\n"),
            ("latin1.txt", b"caf\xe9 cr\xe8me\n"),
            ("zero.txt", b"a\x00b\n"),
            ("data.json", b"{\"card\": \"4111 1111 1111 1111\"}\n"),
            ("page.html", b"<!DOCTYPE html><html><body>x</body></html>\n"),
            (
                "blob.txt",
                b"QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0MTExMTExMTExMTExMTEx\n",
            ),
            ("a.zip", zip),
        ];
        for (name, bytes) in declined {
            let back = plain_text(name, bytes.to_vec(), &limits).expect_err(name);
            assert_eq!(back, bytes, "{name}");
        }
        let small = Limits {
            max_input_bytes: 4,
            ..Limits::default()
        };
        assert!(plain_text("big.txt", b"hello world\n".to_vec(), &small).is_err());
    }
}
