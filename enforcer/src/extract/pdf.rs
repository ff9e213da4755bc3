//! PDF: text laid out by poppler's `pdftotext`, document metadata, and
//! scanned pages rendered and OCR'd.
//!
//! Why poppler and not a PDF library of our own: text in a PDF is glyphs
//! placed one by one or in kerned runs, and where a word ends is only known
//! from glyph positions and font widths. Chromium's kerned runs, wkhtmltopdf's
//! and groff's per-glyph positioning came out of a hand-written layout on
//! lopdf as `jane.r oe@e xample.com` or one letter per word, and owner-password
//! encryption (RC4 and AES, as PyMuPDF and qpdf write it) was not decrypted.
//! `pdftotext` (installed with poppler-utils by `install-deps.sh`, which also
//! gives `pdftoppm`) does layout, fonts, encodings and decryption as PDF
//! viewers do. It runs as a child of the extraction worker ([`tool`]): same
//! unprivileged user, memory and CPU limits, input on stdin, output capped
//! by the expansion budget, killed at the file's deadline; any failure makes
//! the file unscannable.
//!
//! - One `pdftotext -htmlmeta` run gives the text of every page (each ended
//!   by a form feed) and the Info dictionary's Title, Subject, Keywords and
//!   Author, which it HTML-escapes (the page text it does not; it is taken
//!   from the `<pre>` block as is). At most `max_pages + 1` pages are read,
//!   so a document over the page limit is refused without reading the rest.
//! - A PDF that opens with the empty user password (owner password only) is
//!   read like any other; one that needs a password is unscannable and says
//!   so.
//! - poppler decompresses without a cap, so before it sees the file a linear
//!   pre-pass finds every `FlateDecode` stream and inflates it into a
//!   counting sink, charging the budget: a compression bomb stops at the cap
//!   having allocated nothing.
//! - A page with no extractable text is an image (a scan, a photo, a "print
//!   to PDF" of a screenshot): it is rendered by `pdftoppm` (greyscale, long
//!   side 2000 px, PNG on stdout) and OCR'd, with word boxes on that page.
//! - Sensitivity labels (see [`crate::labels`]): a PDF saved from a labelled
//!   Office document carries `MSIP_Label_*` keys in its Info dictionary and
//!   its XMP metadata. The pre-pass looks for that name in the raw bytes and
//!   in every inflated stream (object streams included); only when it is
//!   there do `pdfinfo -custom` and `pdfinfo -meta` run (children like
//!   `pdftotext`) and their output is read for labels, so an unlabelled PDF
//!   costs nothing more. Classification markings are read on the top and
//!   bottom [`EDGE_LINES`] lines of each page, and count when on the first
//!   page or on at least half of the pages.

use std::io::{Read, Write};

use flate2::read::ZlibDecoder;
use quick_xml::events::Event;

use super::dispatch::{join, Ctx};
use super::error::{Error, Result};
use super::{image, tool};
use crate::labels::markings::{self, EDGE_LINES};
use crate::labels::{msip, Label, LabelSource};

/// Long side of a rendered page in pixels (~170 dpi for A4/Letter).
const RENDER_PX: u32 = 2000;

/// Info dictionary entries that people write (the others are tools' names
/// and dates).
const META_KEYS: [&str; 3] = ["Subject", "Keywords", "Author"];

/// Extracts the text of a PDF.
pub(crate) fn extract(ctx: &mut Ctx<'_>, path: &str, bytes: &[u8]) -> Result<()> {
    let labelled = precheck_streams(ctx, bytes)?;
    if labelled {
        mip_labels(ctx, path, bytes)?;
    }
    let out = pdftotext(ctx, path, bytes)?;
    let Some(doc) = parse_htmlmeta(&out) else {
        return Err(Error::Tool {
            program: "pdftotext",
            detail: "output not in the expected -htmlmeta form".into(),
        });
    };
    if !doc.meta.trim().is_empty() {
        ctx.push(join(path, "metadata"), doc.meta, Vec::new())?;
    }
    let pages: Vec<&str> = match doc.body.strip_suffix('\x0c') {
        Some(body) => body.split('\x0c').collect(),
        None if doc.body.trim().is_empty() => Vec::new(),
        None => vec![doc.body],
    };
    ctx.budget.charge_pages(pages.len() as u64)?;
    page_markings(ctx, path, &pages);
    for (index, text) in pages.into_iter().enumerate() {
        ctx.budget.check_time()?;
        let number = index as u32 + 1;
        let page_path = join(path, &format!("page{number}"));
        if !text.trim().is_empty() {
            ctx.push(page_path, text.to_string(), Vec::new())?;
            continue;
        }
        let png = render_page(ctx, bytes, number).map_err(|e| e.in_member(&page_path))?;
        let gray = image::decode(ctx, &png).map_err(|e| e.in_member(&page_path))?;
        let recognised = image::ocr_gray(ctx, gray, number)?;
        ctx.push(page_path, recognised.text, recognised.boxes)?;
    }
    Ok(())
}

/// Runs `pdftotext -htmlmeta` on the document, reading at most one page
/// past the page limit.
fn pdftotext(ctx: &Ctx<'_>, path: &str, bytes: &[u8]) -> Result<String> {
    let last = (u64::from(ctx.budget.limits.max_pages) + 1).to_string();
    let cap = ctx.budget.expandable().saturating_add(64 << 10);
    let args = [
        "-htmlmeta",
        "-enc",
        "UTF-8",
        "-eol",
        "unix",
        "-l",
        &last,
        "-",
        "-",
    ];
    let out = tool::run(ctx, "pdftotext", &args, bytes, cap)?;
    if out.stdout.len() as u64 > cap {
        return Err(ctx.budget.expansion_error("the PDF's text"));
    }
    if !out.status.success() {
        if out.stderr.contains("Incorrect password") {
            return Err(Error::Encrypted(format!(
                "PDF {path} (needs a password to open)"
            )));
        }
        let said = out.stderr.lines().next().unwrap_or("no message");
        return Err(Error::corrupt(
            "PDF",
            format!("pdftotext could not read it ({}): {said}", out.status),
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// What `pdftotext -htmlmeta` printed: metadata lines and the page text.
struct HtmlMeta<'a> {
    /// `Title: ...`, `Author: ...` lines, unescaped.
    meta: String,
    /// The text of the pages, each ended by a form feed.
    body: &'a str,
}

/// Splits `pdftotext -htmlmeta` output. The head's values are escaped (no
/// `<` inside them), so the head ends at the first `</head>`; the body is
/// not, so it runs from the `<pre>` after the head to the last `</pre>`.
fn parse_htmlmeta(out: &str) -> Option<HtmlMeta<'_>> {
    let head_end = out.find("</head>")?;
    let head = &out[..head_end];
    let rest = &out[head_end..];
    let body_start = rest.find("<pre>\n")? + "<pre>\n".len();
    let body_end = rest.rfind("</pre>")?;
    let body = rest.get(body_start..body_end.max(body_start))?;
    let mut meta = String::new();
    if let Some(title) = between(head, "<title>", "</title>") {
        meta.push_str(&format!("Title: {}\n", unescape(title)));
    }
    for key in META_KEYS {
        let open = format!("<meta name=\"{key}\" content=\"");
        if let Some(value) = between(head, &open, "\"/>") {
            meta.push_str(&format!("{key}: {}\n", unescape(value)));
        }
    }
    Some(HtmlMeta { meta, body })
}

fn between<'a>(text: &'a str, open: &str, close: &str) -> Option<&'a str> {
    let start = text.find(open)? + open.len();
    let len = text[start..].find(close)?;
    Some(&text[start..start + len])
}

/// Undoes poppler's escaping of metadata values (`&amp;` last).
fn unescape(value: &str) -> String {
    value
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// The classification markings on the top and bottom lines of the pages:
/// those on the first page, and those on at least half of the pages.
fn page_markings(ctx: &mut Ctx<'_>, path: &str, pages: &[&str]) {
    let mut counts: Vec<(&'static str, usize)> = Vec::new();
    let mut first: Vec<&'static str> = Vec::new();
    for (index, page) in pages.iter().enumerate() {
        for (name, _, _) in markings::edge_markings(page, EDGE_LINES, EDGE_LINES) {
            if index == 0 {
                first.push(name);
            }
            match counts.iter_mut().find(|(n, _)| *n == name) {
                Some((_, count)) => *count += 1,
                None => counts.push((name, 1)),
            }
        }
    }
    for (name, count) in counts {
        if first.contains(&name) || count * 2 >= pages.len() {
            ctx.label(Label::new(name, LabelSource::HeaderFooter, None, path));
        }
    }
}

/// Reads the MIP labels of the Info dictionary (`pdfinfo -custom`) and of
/// the XMP metadata (`pdfinfo -meta`).
fn mip_labels(ctx: &mut Ctx<'_>, path: &str, bytes: &[u8]) -> Result<()> {
    let cap = 1 << 20;
    let info = tool::run(
        ctx,
        "pdfinfo",
        &["-custom", "-enc", "UTF-8", "-"],
        bytes,
        cap,
    )?;
    if info.status.success() && info.stdout.len() as u64 <= cap {
        let text = String::from_utf8_lossy(&info.stdout);
        let pairs = text
            .lines()
            .filter_map(|line| line.split_once(':'))
            .map(|(k, v)| (k.trim(), v.trim()));
        for label in msip::from_properties(pairs, LabelSource::PdfInfo, path) {
            ctx.label(label);
        }
    }
    let meta = tool::run(ctx, "pdfinfo", &["-meta", "-"], bytes, cap)?;
    if meta.status.success() && meta.stdout.len() as u64 <= cap {
        let pairs = xmp_properties(&meta.stdout);
        let pairs = pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()));
        for label in msip::from_properties(pairs, LabelSource::Xmp, path) {
            ctx.label(label);
        }
    }
    Ok(())
}

/// The `MSIP_Label_*` properties of an XMP packet, written as elements
/// (`<pdfx:MSIP_Label_<id>_Name>Confidential</pdfx:...>`) or as attributes
/// of `rdf:Description`. Malformed XML yields what was read before the
/// fault.
fn xmp_properties(xml: &[u8]) -> Vec<(String, String)> {
    let mut reader = quick_xml::Reader::from_reader(xml);
    reader.config_mut().check_end_names = false;
    let mut pairs = Vec::new();
    let mut open: Option<(String, String)> = None;
    let is_msip = |name: &[u8]| name.starts_with(msip::PREFIX.as_bytes());
    while let Ok(event) = reader.read_event() {
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                for attr in e.attributes().flatten() {
                    if is_msip(attr.key.local_name().as_ref()) {
                        let key =
                            String::from_utf8_lossy(attr.key.local_name().as_ref()).into_owned();
                        let value = attr
                            .unescape_value()
                            .map(|v| v.into_owned())
                            .unwrap_or_default();
                        pairs.push((key, value));
                    }
                }
                if matches!(event, Event::Start(_)) && is_msip(e.local_name().as_ref()) {
                    let key = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                    open = Some((key, String::new()));
                }
            }
            Event::Text(t) => {
                if let (Some((_, value)), Ok(text)) = (open.as_mut(), t.decode()) {
                    value.push_str(&text);
                }
            }
            Event::End(_) => {
                if let Some(pair) = open.take() {
                    pairs.push(pair);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    pairs
}

/// Inflates every FlateDecode stream into a counting sink, charging the
/// budget, so a compression bomb is refused before poppler decompresses
/// it. Says whether `MSIP_Label_` occurs in the raw bytes or in an
/// inflated stream (the file may carry MIP labels).
fn precheck_streams(ctx: &mut Ctx<'_>, bytes: &[u8]) -> Result<bool> {
    let mut labelled = memchr::memmem::find(bytes, msip::PREFIX.as_bytes()).is_some();
    let mut pos = 0;
    let finder = memchr::memmem::Finder::new(b"stream");
    let end_finder = memchr::memmem::Finder::new(b"endstream");
    while let Some(found) = finder.find(&bytes[pos..]) {
        let keyword = pos + found;
        pos = keyword + b"stream".len();
        // Skip the "stream" inside "endstream".
        if keyword >= 3 && &bytes[keyword - 3..keyword] == b"end" {
            continue;
        }
        let data_start = match bytes.get(pos..pos + 2) {
            Some(b"\r\n") => pos + 2,
            Some([b'\n', _]) | Some([b'\r', _]) => pos + 1,
            _ => continue,
        };
        let dict = &bytes[keyword.saturating_sub(2048)..keyword];
        let dict = match memchr::memmem::rfind(dict, b"<<") {
            Some(open) => &dict[open..],
            None => dict,
        };
        let data_end = end_finder
            .find(&bytes[data_start..])
            .map_or(bytes.len(), |e| data_start + e);
        if memchr::memmem::find(dict, b"FlateDecode").is_some() {
            ctx.budget.check_time()?;
            let allowed = ctx.budget.expandable();
            let mut sink = CountingSink::default();
            // Errors are poppler's to report; here we only measure.
            let _ = std::io::copy(
                &mut ZlibDecoder::new(&bytes[data_start..data_end]).take(allowed.saturating_add(1)),
                &mut sink,
            );
            if sink.count > allowed {
                return Err(ctx.budget.expansion_error("a PDF stream"));
            }
            ctx.budget.charge_expanded(sink.count)?;
            labelled |= sink.found;
        }
        pos = data_end;
    }
    Ok(labelled)
}

/// Counts what is written to it and looks for `MSIP_Label_` in it (across
/// writes: the last bytes of each write are kept).
#[derive(Default)]
struct CountingSink {
    count: u64,
    found: bool,
    tail: Vec<u8>,
}

impl Write for CountingSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.count += buf.len() as u64;
        if !self.found {
            let needle = msip::PREFIX.as_bytes();
            self.tail
                .extend_from_slice(&buf[..buf.len().min(needle.len())]);
            self.found = memchr::memmem::find(&self.tail, needle).is_some()
                || memchr::memmem::find(buf, needle).is_some();
            let keep = buf.len().saturating_sub(needle.len() - 1);
            self.tail.clear();
            self.tail.extend_from_slice(&buf[keep..]);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Renders page `number` to a greyscale PNG with `pdftoppm`, within the
/// remaining wall time.
fn render_page(ctx: &mut Ctx<'_>, pdf: &[u8], number: u32) -> Result<Vec<u8>> {
    let page = number.to_string();
    let scale = RENDER_PX.to_string();
    let args = [
        "-f",
        &page,
        "-l",
        &page,
        "-singlefile",
        "-gray",
        "-png",
        "-scale-to",
        &scale,
        "-",
    ];
    let cap = u64::from(RENDER_PX) * u64::from(RENDER_PX) * 4 + (1 << 20);
    let out = tool::run(ctx, "pdftoppm", &args, pdf, cap)?;
    if !out.status.success() || out.stdout.is_empty() || out.stdout.len() as u64 > cap {
        return Err(Error::Tool {
            program: "pdftoppm",
            detail: format!("could not render page {number} ({})", out.status),
        });
    }
    Ok(out.stdout)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_label_name_is_found_across_writes() {
        let mut sink = CountingSink::default();
        sink.write_all(b"xxxx MSIP_La").unwrap();
        sink.write_all(b"bel_1234").unwrap();
        assert!(sink.found);
        assert_eq!(sink.count, 20);
        let mut sink = CountingSink::default();
        sink.write_all(b"nothing MSIP here").unwrap();
        assert!(!sink.found);
    }

    #[test]
    fn xmp_elements_and_attributes() {
        let xmp = br#"<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description xmlns:pdfx="http://ns.adobe.com/pdfx/1.3/" pdfx:MSIP_Label_a_Enabled="true"><pdfx:MSIP_Label_a_Name>Secret</pdfx:MSIP_Label_a_Name><pdfx:Other>x</pdfx:Other></rdf:Description></rdf:RDF></x:xmpmeta>"#;
        assert_eq!(
            xmp_properties(xmp),
            vec![
                ("MSIP_Label_a_Enabled".to_string(), "true".to_string()),
                ("MSIP_Label_a_Name".to_string(), "Secret".to_string())
            ]
        );
    }

    #[test]
    fn htmlmeta_output_splits_into_metadata_and_pages() {
        let out = "<!DOCTYPE html><html>\n<head>\n<title>Q3 &lt;draft&gt; &amp; plan</title>\n\
            <meta name=\"Subject\" content=\"card 4111 &quot;x&quot;\"/>\n\
            <meta name=\"Creator\" content=\"Chrome/156.0.0.0\"/>\n</head>\n<body>\n<pre>\n\
            one </pre> <b>\n\x0c\x0ctwo\n\x0c</pre>\n</body>\n</html>\n";
        let doc = parse_htmlmeta(out).expect("parsed");
        assert_eq!(
            doc.meta,
            "Title: Q3 <draft> & plan\nSubject: card 4111 \"x\"\n"
        );
        assert_eq!(doc.body, "one </pre> <b>\n\x0c\x0ctwo\n\x0c");
    }
}
