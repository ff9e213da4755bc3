//! The e-mail detector's match, without a regex search per `@`.
//!
//! Dense data (CSV exports, logs) holds an address every hundred bytes or
//! so, and a regex search per `@` (cache from the pool, lazy DFA, look-around)
//! cost about 0.3 µs each. The pattern is simple enough to follow by hand:
//!
//! ```text
//! [A-Za-z0-9._%+\-]{1,64} @ label (\. label)* \. [A-Za-z]{2,24} \b
//! label = [A-Za-z0-9] ([A-Za-z0-9\-]{0,62} [A-Za-z0-9])?
//! ```
//!
//! searched anchored at the start of the local part, with the regex's
//! leftmost-first preferences: the `*` takes as many labels as it can, so the
//! top-level domain is the last dot-separated segment (of the run of domain
//! characters) that starts with 2-24 letters and a word boundary, every
//! segment before it back to the `@` being a whole label. Where the answer
//! would depend on a non-ASCII character (Unicode word boundaries) or on
//! the search range's end, [`match_end`] says it cannot tell and the caller
//! runs the regex. A differential test compares both on random texts.

/// A byte of a domain label (letters, digits, `-`).
fn label_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-'
}

/// Whether `seg` is a whole label: 1-64 bytes, letters, digits and inner hyphens.
fn whole_label(seg: &[u8]) -> bool {
    !seg.is_empty()
        && seg.len() <= 64
        && seg[0].is_ascii_alphanumeric()
        && seg[seg.len() - 1].is_ascii_alphanumeric()
        && seg.iter().all(|&b| label_byte(b))
}

/// The end of the e-mail pattern's match anchored at `lo`, for the `@` at
/// `at`, within `text[..hi]`: `Some(Some(end))` for a match, `Some(None)`
/// for none, `None` when only the regex can tell (see the module docs).
/// `text[lo..at]` must be local-part bytes (at most 64).
pub fn match_end(text: &str, lo: usize, at: usize, hi: usize) -> Option<Option<usize>> {
    let b = text.as_bytes();
    if lo >= at || at - lo > 64 || b.get(at) != Some(&b'@') {
        return Some(None);
    }
    // The run of domain characters after the `@`.
    let d = at + 1;
    let mut run_end = d;
    while run_end < b.len() && (label_byte(b[run_end]) || b[run_end] == b'.') {
        run_end += 1;
    }
    if run_end >= hi || (run_end < b.len() && !b[run_end].is_ascii()) {
        // The range end or a non-ASCII character could change the answer.
        return None;
    }
    // Segments of the run, split at dots (an address with more than 16
    // is left to the regex).
    let mut segments = [(0usize, 0usize); 16];
    let mut count = 0;
    let mut s = d;
    for (k, &c) in b[d..run_end].iter().enumerate() {
        if c == b'.' {
            if count + 1 == segments.len() {
                return None;
            }
            segments[count] = (s, d + k);
            count += 1;
            s = d + k + 1;
        }
    }
    segments[count] = (s, run_end);
    let segments = &segments[..=count];
    // Labels followed by a dot, from the first on: the top-level domain can
    // start at segment m when segments 0..m are whole labels.
    let mut labels = 0;
    while labels + 1 < segments.len() && whole_label(&b[segments[labels].0..segments[labels].1]) {
        labels += 1;
    }
    for m in (1..=labels).rev() {
        let (s, e) = segments[m];
        let letters = b[s..e]
            .iter()
            .take_while(|c| c.is_ascii_alphabetic())
            .count();
        if !(2..=24).contains(&letters) {
            continue;
        }
        let end = s + letters;
        // A word boundary after the last letter: the next byte (inside the
        // run or the byte that ended it) is not a word character.
        let next = b.get(end).copied();
        if next.is_none_or(|c| !(c.is_ascii_alphanumeric() || c == b'_')) {
            return Some(Some(end));
        }
    }
    Some(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use regex_automata::{meta::Regex, Anchored, Input};

    const PATTERN: &str = r"[A-Za-z0-9._%+\-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9\-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]{0,62}[A-Za-z0-9])?)*\.[A-Za-z]{2,24}\b";

    fn local(b: u8) -> bool {
        b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'%' | b'+' | b'-')
    }

    /// Same answers as the regex searched anchored at the local part's start.
    #[test]
    fn agrees_with_the_regex() {
        let re = Regex::new(PATTERN).unwrap();
        let mut next = crate::detect::test_rng(0x2545_F491_4F6C_DD1Du64);
        let pieces = [
            "a",
            "bc",
            "x1",
            "com",
            "org",
            "Z",
            "9",
            "-",
            ".",
            "..",
            "@",
            "_",
            " ",
            ",",
            "é",
            "example",
            "mail",
            "co",
            "uk",
            "a-b",
            "abcdefghijklmnopqrstuvwxyz",
            "42",
            "%",
            "+",
        ];
        let (mut matched, mut decided) = (0, 0);
        let pick = |next: &mut dyn FnMut(u64) -> u64| pieces[next(pieces.len() as u64) as usize];
        for _ in 0..100_000 {
            let mut t = String::new();
            for _ in 0..(1 + next(4)) {
                t.push_str(pick(&mut next));
            }
            // Mostly address-shaped: local @ labels . tld, with noise.
            t.push('@');
            for _ in 0..(1 + next(3)) {
                t.push_str(pick(&mut next));
                if next(4) != 0 {
                    t.push('.');
                }
            }
            t.push_str(
                ["com", "org", "c0m", "co", "x", "abcdefghijklmnopqrstuvwxyz"][next(6) as usize],
            );
            for _ in 0..next(3) {
                t.push_str(pick(&mut next));
            }
            let bytes = t.as_bytes();
            for at in (0..bytes.len()).filter(|&k| bytes[k] == b'@') {
                let mut lo = at;
                while lo > at.saturating_sub(64) && local(bytes[lo - 1]) {
                    lo -= 1;
                }
                let hi = (at + 1 + next(60) as usize).min(t.len());
                let want = re
                    .find(Input::new(&t).range(lo..hi).anchored(Anchored::Yes))
                    .map(|m| m.end());
                if let Some(got) = match_end(&t, lo, at, hi) {
                    decided += 1;
                    matched += usize::from(got.is_some());
                    assert_eq!(got, want, "{t:?} @ {at}, range {lo}..{hi}");
                }
            }
        }
        assert!(
            decided > 50_000 && matched > 2_000,
            "{decided} decided, {matched} matched"
        );
    }

    #[test]
    fn typical_addresses() {
        let t = "mail ann.lee@corp.example.net, then";
        let at = t.find('@').unwrap();
        assert_eq!(match_end(t, 5, at, t.len()), Some(Some(29)));
        assert_eq!(&t[5..29], "ann.lee@corp.example.net");
        let t = "x@host.c0m ";
        assert_eq!(match_end(t, 0, 1, t.len()), Some(None));
    }
}
