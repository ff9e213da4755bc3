//! Text decoding: the encoding is detected from the first bytes.
//!
//! Order: a byte-order mark (UTF-8, UTF-16 LE/BE); UTF-16 without a BOM from
//! the pattern of zero bytes; valid UTF-8; Shift_JIS when the bytes form valid
//! double-byte sequences; otherwise Windows-1252, which maps every byte. Data
//! with zero bytes or many control characters is not text at all and goes to
//! printable-string extraction instead.

use encoding_rs::{Encoding, SHIFT_JIS, UTF_16BE, UTF_16LE, UTF_8, WINDOWS_1252};

/// Decodes `bytes` as text, or returns `None` when they look binary.
pub(crate) fn decode(bytes: &[u8]) -> Option<String> {
    decode_prefix(bytes, false)
}

/// Like [`decode`]; `truncated` says `bytes` is a prefix of the file, so a
/// UTF-8 sequence cut at its end is not an error.
pub(crate) fn decode_prefix(bytes: &[u8], truncated: bool) -> Option<String> {
    if let Some((encoding, bom_len)) = Encoding::for_bom(bytes) {
        let (text, _) = encoding.decode_without_bom_handling(&bytes[bom_len..]);
        return Some(text.into_owned());
    }
    if let Some(encoding) = utf16_without_bom(bytes) {
        let (text, _) = encoding.decode_without_bom_handling(bytes);
        return textual(&text).then(|| text.into_owned());
    }
    if bytes.contains(&0) {
        return None;
    }
    let encoding = match std::str::from_utf8(bytes) {
        Ok(_) => UTF_8,
        // A sequence cut at the end (we may be decoding a head) is still UTF-8.
        Err(e) if truncated && e.error_len().is_none() => UTF_8,
        Err(_) if is_shift_jis(bytes) => SHIFT_JIS,
        Err(_) => WINDOWS_1252,
    };
    let (text, _) = encoding.decode_without_bom_handling(bytes);
    textual(&text).then(|| text.into_owned())
}

/// UTF-16 text without a BOM has a zero byte in every other position for
/// Latin text: count zeros at even and odd offsets of the first 4 KiB.
fn utf16_without_bom(bytes: &[u8]) -> Option<&'static Encoding> {
    let head = &bytes[..bytes.len().min(4096) & !1];
    if head.len() < 4 {
        return None;
    }
    let pairs = head.len() / 2;
    let even = head.iter().step_by(2).filter(|&&b| b == 0).count();
    let odd = head.iter().skip(1).step_by(2).filter(|&&b| b == 0).count();
    if odd * 10 >= pairs * 7 && even * 20 < pairs {
        Some(UTF_16LE)
    } else if even * 10 >= pairs * 7 && odd * 20 < pairs {
        Some(UTF_16BE)
    } else {
        None
    }
}

/// Valid Shift_JIS with at least one double-byte character.
fn is_shift_jis(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(64 << 10)];
    let mut decoder = SHIFT_JIS.new_decoder_without_bom_handling();
    let mut out = String::with_capacity(head.len() * 3);
    let (result, _) =
        decoder.decode_to_string_without_replacement(head, &mut out, bytes.len() <= head.len());
    let ok = !matches!(result, encoding_rs::DecoderResult::Malformed(_, _));
    ok && out
        .chars()
        .any(|c| ('\u{3000}'..='\u{9fff}').contains(&c) || ('\u{ff00}'..='\u{ffef}').contains(&c))
}

/// Text has few control characters besides whitespace.
pub(crate) fn textual(text: &str) -> bool {
    let mut total = 0usize;
    let mut control = 0usize;
    for c in text.chars().take(64 << 10) {
        total += 1;
        if c.is_control() && !matches!(c, '\n' | '\r' | '\t' | '\x0c') || c == '\u{fffd}' {
            control += 1;
        }
    }
    control * 100 <= total
}

/// The bytes of a text that is one base64 blob (standard or URL-safe
/// alphabet, wrapped or not, padded or not): at least 24 characters and
/// nothing but the alphabet and line breaks. `None` for anything else, so
/// ordinary text is never decoded.
pub(crate) fn base64_blob(text: &str) -> Option<Vec<u8>> {
    use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
    use base64::engine::DecodePaddingMode;
    use base64::Engine as _;
    // Cheap refusals first (most text): a byte outside the alphabet, or
    // prose (spaces inside the trimmed text); then the compact copy.
    let alphabet_or_space = |b: u8| {
        b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'+' | b'/' | b'-' | b'_' | b'=' | b'\r' | b'\n' | b' ' | b'\t'
            )
    };
    if !text.bytes().all(alphabet_or_space) || text.trim().contains([' ', '\t']) {
        return None;
    }
    let compact: String = text
        .chars()
        .filter(|c| !matches!(c, '\r' | '\n' | ' ' | '\t'))
        .collect();
    if compact.len() < 24
        || !compact
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'-' | b'_' | b'='))
        // One long line with no break but spaces inside is prose, not a blob.
        || text.trim().contains([' ', '\t'])
    {
        return None;
    }
    let config =
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
    let alphabet = if compact.contains(['-', '_']) {
        &base64::alphabet::URL_SAFE
    } else {
        &base64::alphabet::STANDARD
    };
    GeneralPurpose::new(alphabet, config).decode(compact).ok()
}
