//! Views that rewrite text in place: percent/form decoding, escapes, wide
//! characters, digit-group separators. Each returns `None` when it would
//! change nothing, so clean text costs one pass of `memchr`-speed checks.

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// `%XX` decoded and `+` read as a space (URLs, query strings, form
/// bodies), when there is an escape. Without one, `+` alone changes nothing
/// a detector reads but digit groups (`4111+1111`, see
/// [`joined_digit_groups`]), and copying all of a base64 run or a JSON body
/// for its `+` signs would double what is scanned.
pub(super) fn percent(input: &[u8]) -> Option<Vec<u8>> {
    let has_escape = memchr::memchr_iter(b'%', input).any(|i| {
        input.len() > i + 2 && hex_val(input[i + 1]).is_some() && hex_val(input[i + 2]).is_some()
    });
    if !has_escape {
        return None;
    }
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        let b = input[i];
        if b == b'%' && i + 2 < input.len() {
            if let (Some(h), Some(l)) = (hex_val(input[i + 1]), hex_val(input[i + 2])) {
                out.push(h << 4 | l);
                i += 3;
                continue;
            }
        }
        out.push(if b == b'+' { b' ' } else { b });
        i += 1;
    }
    Some(out)
}

fn push_char(out: &mut Vec<u8>, c: u32) {
    if let Some(c) = char::from_u32(c) {
        let mut buf = [0u8; 4];
        out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
    }
}

fn hex_number(digits: &[u8]) -> Option<u32> {
    if digits.is_empty() || digits.len() > 6 {
        return None;
    }
    digits
        .iter()
        .try_fold(0u32, |acc, &d| Some(acc * 16 + u32::from(hex_val(d)?)))
}

/// JSON and JavaScript escapes (`\uXXXX` with surrogate pairs, `\u{...}`,
/// `\xXX`, `\n`, `\t`, `\/`...) and HTML numeric character references.
pub(super) fn unescape(input: &[u8]) -> Option<Vec<u8>> {
    let backslash = memchr::memchr(b'\\', input).is_some();
    let entity = memchr::memmem::find(input, b"&#").is_some();
    if !backslash && !entity {
        return None;
    }
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    let mut pending_high: Option<u32> = None;
    while i < input.len() {
        let b = input[i];
        if b == b'\\' && i + 1 < input.len() {
            let e = input[i + 1];
            let (code, used) = match e {
                b'u' if input.get(i + 2) == Some(&b'{') => {
                    let end = input[i + 3..].iter().take(7).position(|&c| c == b'}');
                    match end.and_then(|n| Some((hex_number(&input[i + 3..i + 3 + n])?, n + 4))) {
                        Some((c, n)) => (Some(c), n),
                        None => (None, 0),
                    }
                }
                b'u' if i + 6 <= input.len() => match hex_number(&input[i + 2..i + 6]) {
                    Some(c) => (Some(c), 6),
                    None => (None, 0),
                },
                b'x' if i + 4 <= input.len() => match hex_number(&input[i + 2..i + 4]) {
                    Some(c) => (Some(c), 4),
                    None => (None, 0),
                },
                b'n' => (Some(u32::from(b'\n')), 2),
                b't' => (Some(u32::from(b'\t')), 2),
                b'r' => (Some(u32::from(b'\r')), 2),
                b'b' | b'f' | b'v' | b'0' => (Some(u32::from(b' ')), 2),
                b'"' | b'\\' | b'/' | b'\'' => (Some(u32::from(e)), 2),
                _ => (None, 0),
            };
            if let Some(c) = code {
                match (pending_high.take(), c) {
                    (Some(h), 0xDC00..=0xDFFF) => {
                        push_char(&mut out, 0x10000 + ((h - 0xD800) << 10) + (c - 0xDC00))
                    }
                    (_, 0xD800..=0xDBFF) => pending_high = Some(c),
                    (_, c) => push_char(&mut out, c),
                }
                i += used;
                continue;
            }
        }
        if b == b'&' && input.get(i + 1) == Some(&b'#') {
            let rest = &input[i + 2..];
            let (hex, digits) = match rest.first() {
                Some(b'x' | b'X') => (true, &rest[1..]),
                _ => (false, rest),
            };
            let n = digits
                .iter()
                .take(8)
                .take_while(|c| {
                    if hex {
                        hex_val(**c).is_some()
                    } else {
                        c.is_ascii_digit()
                    }
                })
                .count();
            if n > 0 {
                let ds = &digits[..n];
                let code = if hex {
                    hex_number(ds)
                } else {
                    std::str::from_utf8(ds).ok().and_then(|s| s.parse().ok())
                };
                if let Some(c) = code {
                    push_char(&mut out, c);
                    let mut used = 2 + usize::from(hex) + n;
                    if input.get(i + used) == Some(&b';') {
                        used += 1;
                    }
                    i += used;
                    continue;
                }
            }
        }
        pending_high = None;
        out.push(b);
        i += 1;
    }
    (out != input).then_some(out)
}

/// Text in UTF-16 or UTF-32 (any byte order or alignment): when at least
/// a fifth of the bytes are NUL, the bytes without them. ASCII characters
/// (digits, letters, separators) come out whole; a BOM is dropped.
pub(super) fn narrow(input: &[u8]) -> Option<Vec<u8>> {
    let nuls = memchr::memchr_iter(0, input).count();
    if nuls == 0 || nuls * 5 < input.len() {
        return None;
    }
    let mut out: Vec<u8> = input.iter().copied().filter(|&b| b != 0).collect();
    for bom in [&[0xFF, 0xFE][..], &[0xFE, 0xFF][..]] {
        if out.starts_with(bom) {
            out.drain(..2);
        }
    }
    Some(out)
}

/// Separators a page may put between digit groups that the detectors do
/// not treat as one (they know spaces and dashes).
fn is_group_separator(b: u8) -> bool {
    matches!(
        b,
        b'.' | b'/'
            | b'_'
            | b'+'
            | b'\t'
            | b'\n'
            | b'\r'
            | b'\\'
            | b'|'
            | b'*'
            | b'~'
            | b','
            | b';'
            | b':'
    )
}

/// Bytes of the text around a rewritten digit run kept with it, for the
/// detectors' context words (their default window is 80 bytes).
pub(super) const DIGIT_RUN_CONTEXT: usize = 256;

/// Fewest digits in a joined run worth rewriting: the shortest number a
/// detector matches has 9 (a US SSN), and fewer are versions, times, short
/// dates and the digit pairs of any base64 text.
const MIN_JOINED_DIGITS: usize = 8;

/// Digits joined by one or two separator characters (`4111.1111.1111`,
/// `4111\r\n1111`), runs of [`MIN_JOINED_DIGITS`] digits or more, with the
/// separators turned into one space: only the rewritten runs and
/// [`DIGIT_RUN_CONTEXT`] bytes around each, one stretch per line (dates, versions and addresses are everywhere in
/// ordinary text; a whole copy of it for each would double what is
/// scanned).
pub(super) fn joined_digit_groups(input: &[u8]) -> Option<Vec<u8>> {
    let joined = |i: usize| -> Option<usize> {
        // Length of the separator run at `i` when digits stand on both sides.
        if i == 0 || !input[i - 1].is_ascii_digit() {
            return None;
        }
        let n = input[i..]
            .iter()
            .take(3)
            .take_while(|b| is_group_separator(**b))
            .count();
        (n > 0 && n <= 2 && input.get(i + n).is_some_and(u8::is_ascii_digit)).then_some(n)
    };
    // The spans to copy: each joined run of enough digits with its
    // context, overlapping ones merged.
    let mut spans: Vec<(usize, usize)> = Vec::new();
    let mut i = 0;
    while i < input.len() {
        if !input[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let (start, mut digits, mut joints) = (i, 0, 0);
        loop {
            while input.get(i).is_some_and(u8::is_ascii_digit) {
                digits += 1;
                i += 1;
            }
            match joined(i) {
                Some(n) => {
                    joints += 1;
                    i += n;
                }
                None => break,
            }
        }
        if joints == 0 || digits < MIN_JOINED_DIGITS {
            continue;
        }
        let (from, to) = (
            start.saturating_sub(DIGIT_RUN_CONTEXT),
            (i + DIGIT_RUN_CONTEXT).min(input.len()),
        );
        match spans.last_mut() {
            Some(last) if from <= last.1 => last.1 = to,
            _ => spans.push((from, to)),
        }
    }
    if spans.is_empty() {
        return None;
    }
    let mut out = Vec::with_capacity(spans.iter().map(|(a, b)| b - a + 1).sum());
    for (from, to) in spans {
        if !out.is_empty() {
            out.push(b'\n');
        }
        let mut i = from;
        while i < to {
            match joined(i) {
                Some(n) => {
                    out.push(b' ');
                    i += n;
                }
                None => {
                    out.push(input[i]);
                    i += 1;
                }
            }
        }
    }
    Some(out)
}
