//! Safe content extraction: turns untrusted files into text for the DLP engine.
//!
//! Uploads, downloads, pasted images and page images arrive as bytes. [`extract`]
//! identifies them by content ([`sniff`]), never by name, reports a name/content
//! mismatch, and produces [`Part`]s: text with a path naming where it came from
//! (`report.zip!/q3/sheet.xlsx!/Sheet1`), plus OCR word boxes for images so a
//! region can be masked. When a file cannot be read completely and within its
//! [`Limits`], the answer is [`Extraction::Unscannable`] with a reason: callers
//! fail closed and block the action.
//!
//! Design choices:
//! - **Everything is bounded.** One [`Budget`](limits) per file tracks expanded
//!   bytes, the expansion ratio, members, pages, OCR pixels and wall time; every
//!   decompression reads through a capped reader, so a bomb stops at the cap
//!   rather than after allocating it.
//! - **Nothing recurses on input structure.** HTML goes through the html5ever
//!   *tokenizer* (linear, no DOM), XML through quick-xml's pull parser, JSON is
//!   walked with an explicit stack. Only archive nesting recurses, and that is
//!   capped by `max_depth`.
//! - **Fail closed inside containers.** A corrupt or encrypted member makes the
//!   whole file unscannable, naming the member: skipping it would let data out.
//! - **Parsers run out of process.** [`extract`] is the in-process core; the
//!   server calls it through [`WorkerPool`], whose worker processes carry
//!   memory and CPU limits and are killed on wall-time overrun, so a crash, an
//!   out-of-memory or a stack overflow costs one worker, not the server.
//! - **Polyglots are read whole.** Each format's own span is found by
//!   walking its structure (`trailer`); data before it or after it (a ZIP
//!   after a PNG's `IEND`, an image in front of a ZIP) is extracted as an
//!   independent file, `name#prefix` or `name#trailer`, within the same
//!   budget, and a zip hidden in binary data as `name#zip`.
//! - **Extractors made for the job.** PDF layout, fonts and decryption are
//!   poppler's (`pdftotext`, `pdftoppm`) and orientation detection is
//!   tesseract's (`tesseract --psm 0`): programs run as children of the
//!   worker (module `tool`), inside its sandbox, with their input on stdin, their
//!   output capped and a kill at the deadline. E-mail is parsed as MIME
//!   (`mail-parser`), 7z, xz, bzip2 and zstd by pure-Rust decoders, OLE2
//!   compound files (`.msg`, `.doc`, `.xls`, `.ppt`) with `cfb`; RTF, PNG
//!   text chunks and base64 blobs by small readers here. Each was chosen
//!   against a corpus of files from real producers (`tests/corpus`), whose
//!   values an ordinary reader found and ours missed.
//! - **OCR stays warm.** Each worker thread keeps one tesseract engine
//!   (`OMP_THREAD_LIMIT=1`, page segmentation mode set explicitly); images are
//!   greyscaled, inverted when dark and upscaled when the text is small.

mod archive;
mod compressed;
mod dispatch;
mod email;
mod error;
mod html;
mod image;
mod json;
mod limits;
mod model;
pub mod ocr;
mod odf;
mod office_labels;
mod ole;
mod ooxml;
mod pdf;
mod rtf;
mod sevenz;
pub mod sniff;
mod strings;
mod text;
mod tool;
mod trailer;
pub mod worker;
mod xlsx;
mod xml;
mod zipread;

pub use crate::labels::{Label, LabelSource};
pub use error::{Error, Result};
pub use limits::Limits;
pub use model::{Extraction, FileKind, Part, WordBox};
pub use worker::{WorkerConfig, WorkerPool};

/// Extracts the text of one untrusted file, in this process.
///
/// `name` is only used to name parts and to report a name/content mismatch;
/// the type is decided by content. Never panics on bad input: anything that
/// cannot be read completely within `limits` yields
/// [`Extraction::Unscannable`] with a reason naming the member and the limit.
///
/// Run this inside a worker process ([`WorkerPool`]) when the input is
/// untrusted and the caller must survive a parser crash.
pub fn extract(name: &str, bytes: &[u8], limits: &Limits) -> Extraction {
    dispatch::extract_file(name, bytes, limits)
}

/// The extraction of a plain UTF-8 text or CSV file, in this process and
/// without copying it, or the bytes back (`Err`) when the file needs a
/// reader: any other type, another encoding, a BOM, zero bytes, a base64
/// blob, or text that does not look textual.
///
/// Plain text needs no parser: deciding this takes the magic-number checks
/// and a UTF-8 validation, linear and allocation-free, so it is safe
/// outside the worker; the result is what [`extract`] gives for the same
/// bytes (a test compares them). Everything else must go to the worker.
pub fn extract_plain_text(
    name: &str,
    bytes: Vec<u8>,
    limits: &Limits,
) -> std::result::Result<Extraction, Vec<u8>> {
    dispatch::plain_text(name, bytes, limits)
}
