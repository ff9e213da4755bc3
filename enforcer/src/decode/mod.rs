//! # Decoding what a page can trivially encode
//!
//! Data leaving the isolated browser need not look like itself: a page can
//! percent-encode a card number, put it in base64 or hex, in UTF-16, behind a
//! JSON `\u` escape, in a gzip stream, or with dots between its digit groups.
//! [`expand`] turns bytes into the text to scan: the bytes themselves (as
//! lossy UTF-8) followed by every *view* a decoder finds in them, each view
//! expanded again up to [`MAX_DEPTH`] levels (base64 of percent-encoded
//! UTF-16 is three levels). The detectors then scan that one text; they are
//! not changed (this module only decodes).
//!
//! The views ([`views`]):
//! - percent and form encoding (`%34%31`, and `+` for space where there is
//!   an escape);
//! - escapes: JSON and JavaScript (`\u0034`, `\x34`, `\n`...) and HTML
//!   numeric character references (`&#52;`, `&#x34;`);
//! - base64 and base64url runs of 16 characters or more (MIME line breaks
//!   inside a run are skipped), at every alignment;
//! - hex runs of 16 digits or more, with or without one separator
//!   (space, `:`, `-`, `,`) between bytes, at both alignments;
//! - of a decoded run, only what is text is kept: all of it when it is
//!   text, a compressed stream or UTF-16/32, else its stretches of text
//!   (words glued by `+`, hashes and images only look encoded; see
//!   `runs`);
//! - UTF-16 and UTF-32 (either byte order, any alignment): ASCII text in them
//!   is the bytes without their NULs;
//! - digit groups joined by `.`, `/`, `_`, `+`, tab or line breaks,
//!   rewritten with spaces (the separators the detectors know): only the
//!   rewritten runs with 256 bytes of context each;
//! - gzip, zlib and zstd streams found by their magic bytes anywhere a
//!   view starts (a body posted as gzip without `Content-Encoding`).
//!
//! `Content-Encoding` (gzip, deflate, br, zstd) is undone as a stream by
//! [`compress::StreamDecoder`], in bounded steps.
//!
//! Limits: the expanded text is at most [`Limits::max_output`] bytes and the
//! expansion [`MAX_DEPTH`] levels deep; an expansion that hit the output
//! limit says so ([`Expanded::complete`] is false) so the caller can fail
//! closed rather than pass what it did not read.

pub mod compress;
mod runs;
mod text;

/// How many decoding levels are followed (base64 inside percent-encoding
/// inside JSON is three).
pub const MAX_DEPTH: usize = 4;

/// Bounds on one expansion.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// The most bytes of text [`expand`] returns.
    pub max_output: usize,
}

impl Limits {
    /// Limits for `input_len` bytes: up to 8 times the input plus 1 MiB.
    pub fn for_input(input_len: usize) -> Self {
        Limits {
            max_output: input_len.saturating_mul(8).saturating_add(1 << 20),
        }
    }
}

/// The text to scan for some bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expanded {
    /// The bytes as lossy UTF-8, then each decoded view on a line of its own.
    pub text: String,
    /// False when the output limit stopped the expansion early.
    pub complete: bool,
}

/// The bytes and every decoded view of them, as one text; see the module docs.
pub fn expand(input: &[u8], limits: Limits) -> Expanded {
    let mut out = Expanded {
        text: String::with_capacity(input.len() + 64),
        complete: true,
    };
    push_text(&mut out, input, limits.max_output);
    expand_into(&mut out, input, 0, limits.max_output);
    out
}

fn push_text(out: &mut Expanded, bytes: &[u8], max: usize) -> bool {
    let text = String::from_utf8_lossy(bytes);
    if out.text.len() + text.len() + 1 > max {
        out.complete = false;
        return false;
    }
    if !out.text.is_empty() {
        out.text.push('\n');
    }
    out.text.push_str(&text);
    true
}

fn expand_into(out: &mut Expanded, input: &[u8], depth: usize, max: usize) {
    if depth >= MAX_DEPTH || !out.complete {
        return;
    }
    for view in views(input, max.saturating_sub(out.text.len())) {
        if !push_text(out, &view, max) {
            return;
        }
        expand_into(out, &view, depth + 1, max);
    }
}

/// The decoded views of `input` (one level; see the module docs); `room`
/// bounds what decompression may produce.
pub fn views(input: &[u8], room: usize) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    if let Some(v) = text::percent(input) {
        out.push(v);
    }
    if let Some(v) = text::unescape(input) {
        out.push(v);
    }
    if let Some(v) = text::narrow(input) {
        out.push(v);
    }
    if let Some(v) = text::joined_digit_groups(input) {
        out.push(v);
    }
    out.extend(runs::base64_runs(input));
    out.extend(runs::hex_runs(input));
    if let Some(v) = compress::sniff(input, room) {
        out.push(v);
    }
    out
}
