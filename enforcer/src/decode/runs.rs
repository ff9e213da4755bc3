//! Views of encoded runs inside text: base64/base64url and hex, each
//! decoded at every alignment and kept only for the text it holds.
//!
//! Much ordinary text *looks* encoded: words glued by `+` in a form body
//! are one long base64 run, a SHA-256 in a log line is a hex run, and a
//! `data:` image is megabytes of real base64 that decodes to binary.
//! Decoding those yields bytes no detector can match, but pushed as text
//! (each invalid byte a 3-byte U+FFFD) and expanded again they used to
//! triple the text to scan. So a decoded run is kept whole only when it is
//! text, a compressed stream (the next level inflates it) or UTF-16/32
//! (narrowed here); of binary, only its stretches of text are kept
//! ([`MIN_STRETCH`] characters or more, one per line). That makes every
//! alignment cheap to try, so a run is always tried at all of them: a
//! payload glued behind filler of any length is found.

use super::{compress, text};

use base64::alphabet;
use base64::engine::general_purpose::GeneralPurpose;
use base64::engine::{DecodePaddingMode, GeneralPurposeConfig};
use base64::Engine as _;

/// Runs shorter than this are left alone (16 base64 characters are 12
/// bytes; a card number is 16 or more).
const MIN_RUN: usize = 16;

/// The shortest stretch of text kept from a decoding that is not all text
/// (random bytes hold a 6-character stretch about once in 400 positions;
/// the shortest value a detector matches, a 9-digit number, is longer).
pub(super) const MIN_STRETCH: usize = 6;

fn lenient(alphabet: &alphabet::Alphabet) -> GeneralPurpose {
    GeneralPurpose::new(
        alphabet,
        GeneralPurposeConfig::new()
            .with_decode_allow_trailing_bits(true)
            .with_decode_padding_mode(DecodePaddingMode::Indifferent),
    )
}

fn is_b64(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'-' | b'_')
}

/// The base64 runs of `input` (line breaks inside a run skipped), each
/// decoded at its four alignments, keeping what is worth scanning.
pub(super) fn base64_runs(input: &[u8]) -> Vec<Vec<u8>> {
    let standard = lenient(&alphabet::STANDARD);
    let url = lenient(&alphabet::URL_SAFE);
    let mut out = Vec::new();
    let mut i = 0;
    while i < input.len() {
        if !is_b64(input[i]) {
            i += 1;
            continue;
        }
        let mut run = Vec::new();
        while i < input.len() {
            let b = input[i];
            if is_b64(b) {
                run.push(b);
                i += 1;
            } else if (b == b'\r' || b == b'\n')
                && input.get(i + 1).is_some_and(|&c| is_b64(c) || c == b'\n')
                && run.len() >= 40
            {
                // MIME wraps base64 at 76 characters.
                i += 1;
            } else {
                break;
            }
        }
        while input.get(i) == Some(&b'=') {
            i += 1;
        }
        if run.len() < MIN_RUN || run.iter().all(u8::is_ascii_digit) {
            continue;
        }
        let engine = if run.iter().any(|&b| b == b'-' || b == b'_') {
            &url
        } else {
            &standard
        };
        for skip in 0..4 {
            let mut piece = &run[skip..];
            if piece.len() % 4 == 1 {
                piece = &piece[..piece.len() - 1];
            }
            if let Some(text) = engine.decode(piece).ok().and_then(worth_scanning) {
                out.push(text);
            }
        }
    }
    out
}

fn hex_val(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

fn is_hex_sep(b: u8) -> bool {
    matches!(b, b' ' | b':' | b'-' | b',')
}

/// Hex runs of `input`: contiguous digits (both alignments), or byte pairs
/// with one separator between them (`34 31 31 31`, `34:31:31:31`).
pub(super) fn hex_runs(input: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < input.len() {
        if hex_val(input[i]).is_none() {
            i += 1;
            continue;
        }
        let start = i;
        while i < input.len() && hex_val(input[i]).is_some() {
            i += 1;
        }
        let run = &input[start..i];
        if run.len() >= MIN_RUN {
            for skip in 0..2 {
                let bytes: Vec<u8> = run[skip..]
                    .chunks_exact(2)
                    .map(|p| hex_val(p[0]).unwrap_or(0) << 4 | hex_val(p[1]).unwrap_or(0))
                    .collect();
                out.extend(worth_scanning(bytes));
            }
            continue;
        }
        // Separated pairs: "hh" (sep "hh")+, at least 8 pairs.
        if run.len() == 2 {
            let mut bytes = vec![hex_val(run[0]).unwrap_or(0) << 4 | hex_val(run[1]).unwrap_or(0)];
            let sep = input.get(i).copied().filter(|b| is_hex_sep(*b));
            let mut j = i;
            if let Some(sep) = sep {
                while j + 2 < input.len()
                    && input[j] == sep
                    && hex_val(input[j + 1]).is_some()
                    && hex_val(input[j + 2]).is_some()
                    && input.get(j + 3).is_none_or(|b| hex_val(*b).is_none())
                {
                    bytes.push(
                        hex_val(input[j + 1]).unwrap_or(0) << 4
                            | hex_val(input[j + 2]).unwrap_or(0),
                    );
                    j += 3;
                }
            }
            if bytes.len() >= 8 {
                out.extend(worth_scanning(bytes));
                i = j;
            }
        }
    }
    out
}

/// What of a decoded run is worth scanning (see the module docs): the
/// bytes whole when they are text (any script) or a compressed stream,
/// UTF-16/32 narrowed, and otherwise their printable ASCII stretches, one
/// per line; `None` when nothing is left.
pub(super) fn worth_scanning(bytes: Vec<u8>) -> Option<Vec<u8>> {
    if compress::has_magic(&bytes) {
        return Some(bytes);
    }
    let bytes = text::narrow(&bytes).unwrap_or(bytes);
    let is_text = |c: char| !c.is_control() || matches!(c, '\t' | '\n' | '\r');
    if std::str::from_utf8(&bytes).is_ok_and(|s| s.chars().all(is_text)) {
        return Some(bytes);
    }
    // Binary: its printable ASCII stretches (non-ASCII characters in random
    // bytes are valid UTF-8 often enough to make noise).
    let mut out = Vec::new();
    let printable = |b: &u8| matches!(b, b' '..=b'~' | b'\t' | b'\n' | b'\r');
    for stretch in bytes.split(|b| !printable(b)) {
        if stretch.len() >= MIN_STRETCH {
            if !out.is_empty() {
                out.push(b'\n');
            }
            out.extend_from_slice(stretch);
        }
    }
    (!out.is_empty()).then_some(out)
}
