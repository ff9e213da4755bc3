//! PDF: text of every page with lopdf, scanned pages rendered and OCR'd.
//!
//! lopdf has no cap on decompression (a 1 MB compression bomb can take
//! gigabytes), so before it sees the file a linear pre-pass finds every
//! `FlateDecode` stream and inflates it into a counting sink, charging the
//! budget: a bomb stops at the cap having allocated nothing. Only then is the
//! document loaded and its pages counted against `max_pages`.
//!
//! A page with no extractable text is an image (a scan, a photo, a "print to
//! PDF" of a screenshot): it is rendered by poppler's `pdftoppm` (greyscale,
//! long side 2000 px, fed on stdin, PNG on stdout, killed at the deadline)
//! and OCR'd, with word boxes on that page.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

use flate2::read::ZlibDecoder;

use super::dispatch::{join, Ctx};
use super::error::{Error, Result};
use super::{image, pdf_text};

/// Long side of a rendered page in pixels (~170 dpi for A4/Letter).
const RENDER_PX: u32 = 2000;

/// Extracts the text of a PDF.
pub(crate) fn extract(ctx: &mut Ctx<'_>, path: &str, bytes: &[u8]) -> Result<()> {
    precheck_streams(ctx, bytes)?;
    let mut doc = lopdf::Document::load_mem(bytes).map_err(|e| pdf_error(e, path))?;
    if doc.is_encrypted() && doc.decrypt("").is_err() {
        return Err(Error::Encrypted(format!("PDF {path} (password protected)")));
    }
    let pages = doc.get_pages();
    ctx.budget.charge_pages(pages.len() as u64)?;
    for (&number, &page_id) in &pages {
        ctx.budget.check_time()?;
        let page_path = join(path, &format!("page{number}"));
        let text = pdf_text::page_text(&doc, page_id).unwrap_or_default();
        if !text.trim().is_empty() {
            ctx.push(page_path, text, Vec::new())?;
            continue;
        }
        let png = render_page(ctx, bytes, number).map_err(|e| e.in_member(&page_path))?;
        let gray = image::decode(ctx, &png).map_err(|e| e.in_member(&page_path))?;
        let recognised = image::ocr_gray(ctx, gray, number)?;
        ctx.push(page_path, recognised.text, recognised.boxes)?;
    }
    Ok(())
}

fn pdf_error(err: lopdf::Error, path: &str) -> Error {
    let text = err.to_string();
    if text.to_ascii_lowercase().contains("decrypt") || text.contains("password") {
        Error::Encrypted(format!("PDF {path}"))
    } else {
        Error::corrupt("PDF", text)
    }
}

/// Inflates every FlateDecode stream into a counting sink, charging the
/// budget, so a compression bomb is refused before lopdf decompresses it.
fn precheck_streams(ctx: &mut Ctx<'_>, bytes: &[u8]) -> Result<()> {
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
            // Errors are lopdf's to report; here we only measure.
            let _ = std::io::copy(
                &mut ZlibDecoder::new(&bytes[data_start..data_end]).take(allowed.saturating_add(1)),
                &mut sink,
            );
            if sink.0 > allowed {
                return Err(ctx.budget.expansion_error("a PDF stream"));
            }
            ctx.budget.charge_expanded(sink.0)?;
        }
        pos = data_end;
    }
    Ok(())
}

#[derive(Default)]
struct CountingSink(u64);

impl Write for CountingSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Renders page `number` to a greyscale PNG with `pdftoppm`, within the
/// remaining wall time.
fn render_page(ctx: &mut Ctx<'_>, pdf: &[u8], number: u32) -> Result<Vec<u8>> {
    let tool = |detail: String| Error::Tool {
        program: "pdftoppm",
        detail,
    };
    let page = number.to_string();
    let scale = RENDER_PX.to_string();
    let mut child = Command::new("pdftoppm")
        .args(["-f", &page, "-l", &page, "-singlefile", "-gray", "-png"])
        .args(["-scale-to", &scale, "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| tool(format!("cannot start (is poppler-utils installed?): {e}")))?;
    let mut stdin = child.stdin.take().ok_or_else(|| tool("no stdin".into()))?;
    let mut stdout = child
        .stdout
        .take()
        .ok_or_else(|| tool("no stdout".into()))?;
    let input = pdf.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let cap = u64::from(RENDER_PX) * u64::from(RENDER_PX) * 4 + (1 << 20);
    let reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        let result = (&mut stdout).take(cap).read_to_end(&mut out);
        result.map(|_| out)
    });
    let deadline = std::time::Instant::now() + ctx.budget.remaining_time();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if std::time::Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(Error::Timeout(ctx.budget.limits.max_wall_time_ms));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => return Err(tool(e.to_string())),
        }
    };
    let _ = writer.join();
    let png = reader
        .join()
        .map_err(|_| tool("reader thread failed".into()))?
        .map_err(|e| tool(e.to_string()))?;
    if !status.success() || png.is_empty() {
        return Err(tool(format!("could not render page {number} ({status})")));
    }
    Ok(png)
}
