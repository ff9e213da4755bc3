//! Candidate generation for number-like and code-like identifiers.
//!
//! Most predefined detectors look for short runs of digits and letters in
//! groups (`4111 1111 1111 1111`, `123-45-6789`, `GB82 WEST 1234 ...`,
//! `AB 12 34 56 C`). Rather than run twenty overlapping regexes, one pass
//! finds *chains*: alphanumeric words joined by short separator runs
//! (` `, `-`, `.`, `/`, `(`, `)`), anchored on words holding a digit. Every
//! contiguous sub-range of a chain (bounded in words and length) becomes a
//! [`Cand`] that detectors check by shape first and checksum second. Longer
//! candidates are checked first and claim their span, so `1111 1111` inside
//! an accepted card number is not re-reported.

/// The most words a candidate spans (`1 85 05 78 006 084 36` is 7).
pub const MAX_WORDS: usize = 8;
/// The most alphanumeric characters a candidate holds (IBAN maximum).
pub const MAX_COMPACT: usize = 34;

/// One candidate: a sub-range of a chain.
#[derive(Debug)]
pub struct Cand<'t> {
    /// Start byte in the normalised text (includes a leading `+` or `(`).
    pub start: usize,
    /// End byte (exclusive).
    pub end: usize,
    /// The normalised text of the span.
    pub raw: &'t str,
    /// Alphanumeric characters only, upper-cased.
    pub compact: String,
    /// Whether `compact` is all ASCII digits.
    pub digits_only: bool,
    /// Length of each word.
    pub groups: Vec<usize>,
    /// Separator run between consecutive words.
    pub seps: Vec<&'t str>,
    /// Whether the span starts with `+` (E.164 phone numbers).
    pub plus: bool,
}

impl Cand<'_> {
    /// Whether every separator is exactly `sep`.
    pub fn seps_all(&self, sep: &str) -> bool {
        self.seps.iter().all(|s| *s == sep)
    }
    /// Whether there is one word only.
    pub fn single(&self) -> bool {
        self.groups.len() == 1
    }
    /// Whether separators are all one of ` ` or `-` (mixed allowed).
    pub fn seps_space_dash(&self) -> bool {
        self.seps.iter().all(|s| *s == " " || *s == "-")
    }
}

/// Position of the first ASCII digit in `bytes[from..to]`, eight bytes at a
/// time (SWAR): most text between numbers is skipped at several GB/s.
#[inline]
pub fn next_digit(bytes: &[u8], from: usize, to: usize) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = ONES * 0x80;
    let to = to.min(bytes.len());
    // Dense data: the next byte is often a digit already.
    if from < to && bytes[from].is_ascii_digit() {
        return Some(from);
    }
    let mut i = from;
    while i + 8 <= to {
        let mut chunk = [0u8; 8];
        chunk.copy_from_slice(&bytes[i..i + 8]);
        let x = u64::from_le_bytes(chunk);
        // High bit of each byte set iff the byte is in 0x30..=0x39 (exact
        // per byte: no borrow or carry crosses byte lanes).
        let low7 = x & (ONES * 0x7F);
        let hit = (ONES * (127 + 0x3A)).wrapping_sub(low7)
            & !x
            & low7.wrapping_add(ONES * (127 - 0x2F))
            & HIGH;
        if hit != 0 {
            return Some(i + (hit.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    bytes[i..to]
        .iter()
        .position(u8::is_ascii_digit)
        .map(|p| i + p)
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric()
}

fn is_sep(b: u8) -> bool {
    matches!(b, b' ' | b'-' | b'.' | b'/' | b'(' | b')')
}

/// A word: [start, end) of alphanumerics.
#[derive(Clone, Copy, Debug)]
struct Word {
    start: usize,
    end: usize,
    digit: bool,
}

/// Whether a word without digits may sit in a chain: short and upper-case
/// (`GB82 WEST`, `AB 12 34 56 C`).
fn joinable_alpha(text: &[u8], w: &Word) -> bool {
    w.end - w.start <= 4
        && text[w.start..w.end]
            .iter()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

fn word_at(text: &[u8], start: usize) -> Word {
    let mut end = start;
    let mut digit = false;
    while end < text.len() && is_word(text[end]) {
        digit |= text[end].is_ascii_digit();
        end += 1;
    }
    Word { start, end, digit }
}

/// Finds the next word to the right of `end` across a separator run of 1-3 bytes.
fn next_word(text: &[u8], end: usize) -> Option<Word> {
    let mut i = end;
    while i < text.len() && i - end < 3 && is_sep(text[i]) {
        i += 1;
    }
    if i == end || i >= text.len() || !is_word(text[i]) {
        return None;
    }
    Some(word_at(text, i))
}

/// Finds the previous word to the left of `start` across a separator run.
fn prev_word(text: &[u8], start: usize) -> Option<Word> {
    let mut i = start;
    while i > 0 && start - i < 3 && is_sep(text[i - 1]) {
        i -= 1;
    }
    if i == start || i == 0 || !is_word(text[i - 1]) {
        return None;
    }
    let end = i;
    let mut s = end;
    while s > 0 && is_word(text[s - 1]) {
        s -= 1;
    }
    Some(word_at(text, s))
}

/// Calls `f` with every chain of words in `text[from..to]`, in order.
/// Chains are returned as word lists; the caller builds candidates.
pub fn for_each_chain(text: &str, from: usize, to: usize, mut f: impl FnMut(&[(usize, usize)])) {
    let bytes = text.as_bytes();
    let to = to.min(bytes.len());
    let mut i = from;
    let mut lead: Vec<Word> = Vec::with_capacity(MAX_WORDS);
    let mut chain: Vec<Word> = Vec::with_capacity(16);
    let mut spans: Vec<(usize, usize)> = Vec::with_capacity(16);
    while i < to {
        // Skip to the next digit.
        match next_digit(bytes, i, to) {
            Some(p) => i = p,
            None => break,
        }
        let mut s = i;
        while s > 0 && is_word(bytes[s - 1]) {
            s -= 1;
        }
        let first = word_at(bytes, s);
        // Extend left.
        let mut left = first;
        lead.clear();
        while lead.len() < MAX_WORDS {
            match prev_word(bytes, left.start) {
                Some(w) if w.start >= from && (w.digit || joinable_alpha(bytes, &w)) => {
                    lead.push(w);
                    left = w;
                }
                _ => break,
            }
        }
        chain.clear();
        chain.extend(lead.iter().rev());
        chain.push(first);
        // Extend right.
        let mut right = first;
        let mut alpha_run = 0;
        while let Some(w) = next_word(bytes, right.end) {
            if w.digit {
                alpha_run = 0;
            } else if joinable_alpha(bytes, &w) && alpha_run == 0 {
                alpha_run += 1;
            } else {
                break;
            }
            chain.push(w);
            right = w;
            if chain.len() > 64 {
                break;
            }
        }
        // Trailing alphabetic words are kept (NINO suffix letter).
        spans.clear();
        spans.extend(chain.iter().map(|w| (w.start, w.end)));
        f(&spans);
        i = right.end.max(i + 1);
    }
}

/// Whether the candidate `words[i..=j]` is a piece of a longer grouped number.
/// It must have several words, and behind one of its own separators a
/// neighbouring word of the chain that holds a digit and either has 3+
/// characters (`3597-6512-9946` inside `5130-3597-6512-9946`, `0339 1245 7109`
/// inside a card number) or, on the right, ends the chain or continues it with
/// the same separator (`8849 3729 9286` in `GB33 JAMY 8849 3729 9286 86`).
/// A card followed by its expiry (`... 1111 12/25`), a number followed by a
/// letter group (`... 1111 EXP`) and a short prefix (`1-555-123-4567`) are
/// not embedded.
pub fn embedded(text: &str, words: &[(usize, usize)], i: usize, j: usize) -> bool {
    if i == j {
        return false;
    }
    let inner = |k: usize| &text[words[k].1..words[k + 1].0];
    let digit_word = |k: usize| {
        let (s, e) = words[k];
        text.as_bytes()[s..e].iter().any(u8::is_ascii_digit)
    };
    let long = |k: usize| words[k].1 - words[k].0 >= 3;
    let same_sep = |sep: &str| (i..j).any(|k| inner(k) == sep);
    let left = i > 0 && digit_word(i - 1) && long(i - 1) && same_sep(inner(i - 1));
    let r = j + 1;
    let right = r < words.len()
        && digit_word(r)
        && same_sep(inner(j))
        && (long(r) || r + 1 == words.len() || inner(r) == inner(j));
    left || right
}

/// Where the candidate `words[i..=j]` starts: a `+` (E.164) or `(` right
/// before the first word belongs to it.
pub fn cand_start(text: &str, words: &[(usize, usize)], i: usize) -> usize {
    let bytes = text.as_bytes();
    let start = words[i].0;
    let plus = start > 0 && bytes[start - 1] == b'+' && (start < 2 || !is_word(bytes[start - 2]));
    if plus || (start > 0 && bytes[start - 1] == b'(') {
        start - 1
    } else {
        start
    }
}

impl<'t> Cand<'t> {
    /// An empty candidate whose buffers [`Cand::fill`] reuses.
    pub fn empty(text: &'t str) -> Cand<'t> {
        Cand {
            start: 0,
            end: 0,
            raw: &text[..0],
            compact: String::with_capacity(MAX_COMPACT),
            digits_only: false,
            groups: Vec::with_capacity(MAX_WORDS),
            seps: Vec::with_capacity(MAX_WORDS),
            plus: false,
        }
    }

    /// Rebuilds this candidate for words `words[i..=j]` of a chain of
    /// `text`, reusing its buffers (no allocation on the hot path). False
    /// when the words hold more than [`MAX_COMPACT`] characters.
    pub fn fill(&mut self, text: &'t str, words: &[(usize, usize)], i: usize, j: usize) -> bool {
        let bytes = text.as_bytes();
        self.compact.clear();
        self.groups.clear();
        self.seps.clear();
        for k in i..=j {
            let (s, e) = words[k];
            if self.compact.len() + (e - s) > MAX_COMPACT {
                return false;
            }
            self.compact.push_str(&text[s..e]);
            self.groups.push(e - s);
            if k < j {
                self.seps.push(&text[e..words[k + 1].0]);
            }
        }
        self.compact.make_ascii_uppercase();
        let start = cand_start(text, words, i);
        self.plus = start < words[i].0 && bytes[start] == b'+';
        self.start = start;
        self.end = words[j].1;
        self.raw = &text[start..self.end];
        self.digits_only = self.compact.bytes().all(|b| b.is_ascii_digit());
        true
    }
}

/// Builds the candidate for words `words[i..=j]` of a chain (tests; the
/// engine reuses one [`Cand`] through [`Cand::fill`]).
#[cfg(test)]
pub fn candidate<'t>(
    text: &'t str,
    words: &[(usize, usize)],
    i: usize,
    j: usize,
) -> Option<Cand<'t>> {
    let mut c = Cand::empty(text);
    c.fill(text, words, i, j).then_some(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chains(text: &str) -> Vec<String> {
        let mut out = Vec::new();
        for_each_chain(text, 0, text.len(), |w| {
            out.push(text[w[0].0..w[w.len() - 1].1].to_string());
        });
        out
    }

    #[test]
    fn next_digit_agrees_with_a_byte_loop() {
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        for _ in 0..2000 {
            let mut bytes = Vec::new();
            for _ in 0..(state % 40) {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                // Every byte value, digits rare.
                bytes.push((state >> 24) as u8);
            }
            state = state.wrapping_add(1);
            for from in 0..=bytes.len() {
                let want = bytes[from..]
                    .iter()
                    .position(u8::is_ascii_digit)
                    .map(|p| from + p);
                assert_eq!(
                    next_digit(&bytes, from, bytes.len()),
                    want,
                    "{bytes:?} from {from}"
                );
            }
        }
        for b in 0..=255u8 {
            let bytes = [b'x', b'y', b'z', b, b'a', b'b', b'c', b'd', b'e'];
            let want = b.is_ascii_digit().then_some(3);
            assert_eq!(next_digit(&bytes, 0, 9), want, "byte {b}");
        }
    }

    #[test]
    fn finds_grouped_numbers() {
        assert_eq!(
            chains("pay 4111 1111 1111 1111 now"),
            vec!["4111 1111 1111 1111"]
        );
        assert_eq!(chains("SSN: 123-45-6789."), vec!["123-45-6789"]);
        assert_eq!(
            chains("iban GB82 WEST 1234 5698 7654 32 ok"),
            vec!["GB82 WEST 1234 5698 7654 32"]
        );
        assert_eq!(chains("nino AB 12 34 56 C"), vec!["AB 12 34 56 C"]);
        assert!(chains("no digits here at all").is_empty());
    }

    fn embedded_in(text: &str, piece: &str) -> bool {
        let mut out = None;
        for_each_chain(text, 0, text.len(), |w| {
            for i in 0..w.len() {
                for j in i..w.len() {
                    if &text[w[i].0..w[j].1] == piece {
                        out = Some(embedded(text, w, i, j));
                    }
                }
            }
        });
        out.unwrap_or_else(|| panic!("{piece:?} is no candidate of {text:?}"))
    }

    #[test]
    fn pieces_of_longer_numbers_are_embedded() {
        let card = "card 5130-3597-6512-9946 ok";
        assert!(embedded_in(card, "3597-6512-9946"));
        assert!(embedded_in(card, "5130-3597-6512"));
        assert!(!embedded_in(card, "5130-3597-6512-9946"));
        let iban = "GB60 FPJE 7487 0110 5054 10";
        assert!(embedded_in(iban, "0110 5054 10"));
        assert!(embedded_in(iban, "7487 0110 5054"));
        assert!(!embedded_in("call 1-555-123-4567", "555-123-4567"));
        // Expiry dates, letter groups and other separators are not a longer number.
        assert!(!embedded_in(
            "4111 1111 1111 1111 12/25",
            "4111 1111 1111 1111"
        ));
        assert!(!embedded_in(
            "4111 1111 1111 1111 EXP 1225",
            "4111 1111 1111 1111"
        ));
        assert!(!embedded_in("ssn 123-45-6789 1990", "123-45-6789"));
    }

    #[test]
    fn candidate_includes_plus() {
        let t = "call +44 20 7946 0958";
        let mut got = None;
        for_each_chain(t, 0, t.len(), |w| {
            got = candidate(t, w, 0, w.len() - 1).map(|c| (c.raw.to_string(), c.plus))
        });
        assert_eq!(got, Some(("+44 20 7946 0958".to_string(), true)));
    }
}
