//! Printable-string extraction for unknown binary data, like `strings(1)`:
//! runs of at least [`MIN_RUN`] printable ASCII characters, and the same in
//! UTF-16LE (how Windows programs and many formats store text).

/// Shortest run worth reporting.
const MIN_RUN: usize = 4;

/// Printable runs of `bytes`, one per line, at most `cap` bytes of output.
pub(crate) fn printable(bytes: &[u8], cap: u64) -> String {
    let cap = usize::try_from(cap).unwrap_or(usize::MAX);
    let mut out = String::new();
    ascii_runs(bytes, &mut out, cap);
    utf16le_runs(bytes, &mut out, cap);
    out
}

fn is_printable(b: u8) -> bool {
    b == b'\t' || (0x20..0x7f).contains(&b)
}

fn emit(out: &mut String, run: &[u8], cap: usize) {
    if run.len() >= MIN_RUN && out.len() + run.len() < cap {
        // Printable ASCII is valid UTF-8.
        out.push_str(std::str::from_utf8(run).unwrap_or_default());
        out.push('\n');
    }
}

fn ascii_runs(bytes: &[u8], out: &mut String, cap: usize) {
    let mut start = None;
    for (i, &b) in bytes.iter().enumerate() {
        match (is_printable(b), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                emit(out, &bytes[s..i], cap);
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        emit(out, &bytes[s..], cap);
    }
}

fn utf16le_runs(bytes: &[u8], out: &mut String, cap: usize) {
    for offset in 0..2 {
        let mut run = Vec::new();
        for pair in bytes[offset.min(bytes.len())..].chunks_exact(2) {
            if pair[1] == 0 && is_printable(pair[0]) {
                run.push(pair[0]);
            } else {
                emit(out, &run, cap);
                run.clear();
            }
        }
        emit(out, &run, cap);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_ascii_and_utf16_runs() {
        let mut data = vec![0u8, 1, 2];
        data.extend_from_slice(b"secret=4111111111111111");
        data.extend_from_slice(&[0, 0xff, 3]);
        for c in "WIDE-TEXT".bytes() {
            data.extend_from_slice(&[c, 0]);
        }
        data.extend_from_slice(b"\x01ab\x02");
        let out = printable(&data, 1 << 20);
        assert!(out.contains("secret=4111111111111111"), "{out}");
        assert!(out.contains("WIDE-TEXT"), "{out}");
        assert!(!out.contains("ab\n"), "short runs are dropped: {out}");
    }

    #[test]
    fn respects_the_cap() {
        let data = b"abcdefgh\0".repeat(1000);
        assert!(printable(&data, 100).len() <= 100);
    }
}
