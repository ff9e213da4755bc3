//! Redacted evidence strings: enough to recognise a finding, never the value.
//!
//! Letters and digits are masked with `*` except `keep_start` leading and
//! `keep_end` trailing ones; punctuation and separators stay so the shape
//! remains readable (`4111 **** **** 1111`). At least half of the
//! alphanumerics are always masked, whatever a detector asks for, and long
//! values are cut at [`MAX_EVIDENCE`] characters.

/// Longest evidence string, in characters.
pub const MAX_EVIDENCE: usize = 48;

/// Masks `value`, revealing at most `keep_start` + `keep_end` alphanumerics.
pub fn redact(value: &str, keep_start: usize, keep_end: usize) -> String {
    let mut out = String::new();
    redact_into(value, keep_start, keep_end, &mut out);
    out
}

/// [`redact`] into `out` (cleared first), reusing its allocation.
pub fn redact_into(value: &str, keep_start: usize, keep_end: usize, out: &mut String) {
    out.clear();
    if value.is_ascii() {
        redact_ascii(value.as_bytes(), keep_start, keep_end, out);
    } else {
        out.push_str(&redact_chars(value, keep_start, keep_end));
    }
}

/// [`redact`] of ASCII text, byte by byte (most findings), appended to `out`.
fn redact_ascii(value: &[u8], keep_start: usize, keep_end: usize, out: &mut String) {
    let total = value.iter().filter(|c| c.is_ascii_alphanumeric()).count();
    let budget = total / 2;
    let keep_start = keep_start.min(budget);
    let keep_end = keep_end.min(budget - keep_start);
    out.reserve(value.len().min(MAX_EVIDENCE) + 3);
    let mut seen = 0;
    for (n, &c) in value.iter().enumerate() {
        if n == MAX_EVIDENCE {
            out.push('…');
            break;
        }
        if c.is_ascii_alphanumeric() {
            let visible = seen < keep_start || seen >= total - keep_end;
            out.push(if visible { char::from(c) } else { '*' });
            seen += 1;
        } else if c == b'\n' || c == b'\r' {
            out.push(' ');
        } else {
            out.push(char::from(c));
        }
    }
}

/// [`redact`] of any text, character by character.
fn redact_chars(value: &str, keep_start: usize, keep_end: usize) -> String {
    let total = value.chars().filter(|c| c.is_alphanumeric()).count();
    let budget = total / 2;
    let keep_start = keep_start.min(budget);
    let keep_end = keep_end.min(budget - keep_start);
    let mut out = String::with_capacity(value.len().min(MAX_EVIDENCE * 4));
    let mut seen = 0;
    for (n, c) in value.chars().enumerate() {
        if n == MAX_EVIDENCE {
            out.push('…');
            break;
        }
        if c.is_alphanumeric() {
            let visible = seen < keep_start || seen >= total - keep_end;
            out.push(if visible { c } else { '*' });
            seen += 1;
        } else if c == '\n' || c == '\r' {
            out.push(' ');
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn card_shape_is_kept() {
        assert_eq!(redact("4111 1111 1111 1111", 4, 4), "4111 **** **** 1111");
    }

    #[test]
    fn never_more_than_half() {
        assert_eq!(redact("abcd", 4, 4), "ab**");
        assert_eq!(redact("a", 1, 1), "*");
    }

    /// The ASCII path and the character path agree.
    #[test]
    fn ascii_path_agrees_with_chars() {
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let alphabet = b"4111 abcXYZ-./@:\n\r_=+";
        for _ in 0..5000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let len = (state % 70) as usize;
            let v: String = (0..len)
                .map(|k| alphabet[((state >> (k % 50)) as usize + k * 7) % alphabet.len()] as char)
                .collect();
            for (a, b) in [(4, 4), (0, 3), (2, 2), (40, 0), (0, 0)] {
                let mut ascii = String::new();
                super::redact_ascii(v.as_bytes(), a, b, &mut ascii);
                assert_eq!(ascii, super::redact_chars(&v, a, b), "{v:?} {a} {b}");
            }
        }
    }

    #[test]
    fn long_values_are_cut() {
        let r = redact(&"x".repeat(200), 2, 0);
        assert_eq!(r.chars().count(), super::MAX_EVIDENCE + 1);
    }
}
