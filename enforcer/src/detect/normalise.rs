//! Evasion-resistant normalisation with a map back to the original text.
//!
//! Detectors run on a normalised copy of the input:
//! - Unicode compatibility forms are folded (NFKC per character): full-width
//!   digits `４１１１` become `4111`, ligatures and circled digits unfold;
//! - invisible characters (zero-width spaces and joiners, soft hyphens, BOMs,
//!   bidi controls) are removed;
//! - every Unicode dash becomes `-` and every Unicode space becomes ` `;
//! - OCR look-alikes (`O o` → `0`, `I l |` → `1`, `S` → `5`, `B` → `8`) are
//!   folded when they sit between digits in a word that is otherwise all
//!   digits, so `4l11 1111 1O11 1111` still reads as a card number, while
//!   words and alphanumeric codes (`AKIA...6O5...`, an MBI's `3QQ5`, a fiscal
//!   code's `08S09`) are left alone.
//!
//! Pure-ASCII input (the common case) is only rewritten when a look-alike
//! needs folding, and since every ASCII replacement keeps its length the byte
//! offsets stay the identity: no map is allocated. Otherwise the map back is
//! a list of pieces: ASCII runs (copied whole, offset by a constant) and one
//! piece per non-ASCII character that produced output (each of its bytes
//! maps back to the whole character), so spans found on the normalised text
//! map back exactly to the original. Text that is ASCII but for a few curly
//! quotes or accents costs about what pure ASCII does (measured on 4 MB of
//! prose with one `é`: 6.1 ms/MB to normalise with a range per byte, 0.27
//! with pieces).
//!
//! [`AsciiLower`] is the ASCII-lower-cased copy of a normalised text that
//! case-insensitive literal searches run on (keywords, context words,
//! custom keywords), made in a per-thread buffer that the next scan on the
//! same thread reuses, so a scan does not depend on the allocator handing
//! back already-mapped pages (a fresh mapping costs a page fault and a
//! zeroed page per 4 KB). Measured with glibc on back-to-back scans of one
//! thread, it changes nothing (glibc already reuses the freed block: the
//! same minor faults per scan either way); it bounds what a thread keeps to
//! [`LOWER_KEEP`].

use std::borrow::Cow;
use std::cell::Cell;
use std::ops::Deref;

use unicode_normalization::char::decompose_compatible;
use unicode_normalization::UnicodeNormalization;

/// A normalised copy of a text plus, when offsets moved, the way back.
#[derive(Debug)]
pub struct Normalised<'a> {
    /// The text detectors run on.
    pub text: Cow<'a, str>,
    /// Where the bytes of `text` came from. `None` when offsets are the
    /// identity.
    map: Option<PieceMap>,
}

/// Normalised bytes per entry of [`PieceMap::by_stride`].
const STRIDE: usize = 64;

/// The way back from normalised to original offsets.
#[derive(Debug)]
struct PieceMap {
    /// Runs of normalised bytes in order (see [`Piece`]); they cover the
    /// whole normalised text.
    pieces: Vec<Piece>,
    /// For each [`STRIDE`] bytes of normalised text, the index of the piece
    /// holding its first byte: a lookup searches only the pieces of one
    /// stride (a binary search over all pieces of dense non-ASCII text cost
    /// 41 ns per span, measured).
    by_stride: Vec<u32>,
}

impl PieceMap {
    fn new(pieces: Vec<Piece>, len: usize) -> PieceMap {
        let mut by_stride = Vec::with_capacity(len.div_ceil(STRIDE));
        let mut k = 0;
        for i in (0..len).step_by(STRIDE) {
            while pieces.get(k + 1).is_some_and(|p| p.norm as usize <= i) {
                k += 1;
            }
            by_stride.push(k as u32);
        }
        PieceMap { pieces, by_stride }
    }

    /// The original byte range of normalised byte `i` (< the text's length).
    fn source(&self, i: usize) -> (usize, usize) {
        let lo = self.by_stride.get(i / STRIDE).map_or(0, |&k| k as usize);
        let hi = self
            .by_stride
            .get(i / STRIDE + 1)
            .map_or(self.pieces.len(), |&k| k as usize + 1);
        let within = &self.pieces[lo..hi.min(self.pieces.len())];
        let k = lo
            + within
                .partition_point(|p| p.norm as usize <= i)
                .saturating_sub(1);
        match self.pieces.get(k) {
            Some(&Piece {
                norm,
                orig,
                char_end: None,
            }) => {
                let o = orig as usize + (i - norm as usize);
                (o, o + 1)
            }
            Some(&Piece {
                orig,
                char_end: Some(end),
                ..
            }) => (orig as usize, end as usize),
            None => (0, 0),
        }
    }
}

/// A run of normalised bytes, from `norm` up to the next piece's `norm` (or
/// the end of the text), and its source in the original text.
///
/// Text that is mostly ASCII with the odd curly quote or accent (most real
/// text) becomes a few pieces instead of a range per byte: copying and
/// mapping ASCII runs costs what a `memcpy` does.
#[derive(Clone, Copy, Debug)]
struct Piece {
    /// First normalised byte of the run.
    norm: u32,
    /// For a copied ASCII run, the original offset of its first byte (byte
    /// `k` of the run is original byte `orig + k`); for one non-ASCII
    /// character's output, where the character starts.
    orig: u32,
    /// `None` for an ASCII run; for a character, where it ends (each of its
    /// normalised bytes maps back to the whole character).
    char_end: Option<u32>,
}

/// Number of leading ASCII bytes of `bytes`, eight at a time.
fn ascii_prefix(bytes: &[u8]) -> usize {
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut i = 0;
    while i + 8 <= bytes.len() {
        let mut chunk = [0u8; 8];
        chunk.copy_from_slice(&bytes[i..i + 8]);
        let high = u64::from_le_bytes(chunk) & HIGH;
        if high != 0 {
            return i + (high.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    i + bytes[i..].iter().take_while(|b| b.is_ascii()).count()
}

impl<'a> Normalised<'a> {
    /// Normalises `original`.
    pub fn new(original: &'a str) -> Normalised<'a> {
        if original.is_ascii() {
            return Normalised {
                text: fold_lookalikes(Cow::Borrowed(original)),
                map: None,
            };
        }
        let bytes = original.as_bytes();
        let mut out = String::with_capacity(original.len());
        let mut map: Vec<Piece> = Vec::new();
        let mut pos = 0;
        while pos < bytes.len() {
            let run = ascii_prefix(&bytes[pos..]);
            if run > 0 {
                map.push(Piece {
                    norm: out.len() as u32,
                    orig: pos as u32,
                    char_end: None,
                });
                out.push_str(&original[pos..pos + run]);
                pos += run;
                continue;
            }
            // `pos` is a char boundary: the start, or after an ASCII run or a char.
            let Some(c) = original[pos..].chars().next() else {
                break;
            };
            let before = out.len();
            push_normalised(c, &mut out);
            if out.len() > before {
                map.push(Piece {
                    norm: before as u32,
                    orig: pos as u32,
                    char_end: Some((pos + c.len_utf8()) as u32),
                });
            }
            pos += c.len_utf8();
        }
        let map = PieceMap::new(map, out.len());
        let text = fold_lookalikes(Cow::Owned(out));
        Normalised {
            text,
            map: Some(map),
        }
    }

    /// Maps a byte span of the normalised text back to the original text.
    pub fn to_original(&self, start: usize, end: usize) -> (usize, usize) {
        match &self.map {
            None => (start, end),
            Some(map) => {
                let len = self.text.len();
                if start >= end || end > len {
                    let p = if start < len {
                        map.source(start).0
                    } else if len > 0 {
                        map.source(len - 1).1
                    } else {
                        0
                    };
                    return (p, p);
                }
                (map.source(start).0, map.source(end - 1).1)
            }
        }
    }

    /// Whether offsets in the normalised text equal offsets in the original.
    pub fn is_identity(&self) -> bool {
        self.map.is_none()
    }
}

/// Appends the normalised form of the non-ASCII character `c` to `out`:
/// nothing for an invisible character, `-` for a dash, ` ` for a space,
/// its NFKC form otherwise (with the same folding of what that yields).
fn push_normalised(c: char, out: &mut String) {
    // Scripts whose characters NFKC leaves alone (no compatibility
    // decomposition; precomposed forms recompose to themselves): Latin-1
    // letters, kana, CJK ideographs, Hangul syllables. Skipping the NFKC
    // machinery for them halves the cost of CJK text (measured).
    if matches!(c, '\u{00C0}'..='\u{00FF}' | '\u{3041}'..='\u{3096}' | '\u{30A1}'..='\u{30FA}'
        | '\u{4E00}'..='\u{9FFF}' | '\u{AC00}'..='\u{D7A3}')
    {
        out.push(c);
        return;
    }
    if is_invisible(c) {
        return;
    }
    if is_dash(c) {
        out.push('-');
    } else if is_space(c) {
        out.push(' ');
    } else {
        let mut decomposed = false;
        decompose_compatible(c, |_| decomposed = true);
        if decomposed {
            for n in std::iter::once(c).nfkc() {
                if is_invisible(n) {
                    continue;
                }
                out.push(if is_dash(n) {
                    '-'
                } else if is_space(n) {
                    ' '
                } else {
                    n
                });
            }
        } else {
            out.push(c);
        }
    }
}

/// Zero-width and other invisible format characters that evaders insert.
fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}'
        | '\u{180B}'..='\u{180F}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}' | '\u{3164}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}'
        | '\u{FFA0}' | '\u{1D173}'..='\u{1D17A}' | '\u{E0000}'..='\u{E007F}')
}

fn is_dash(c: char) -> bool {
    matches!(
        c,
        '\u{2010}'
            ..='\u{2015}'
                | '\u{2212}'
                | '\u{2E3A}'
                | '\u{2E3B}'
                | '\u{FE58}'
                | '\u{FE63}'
                | '\u{FF0D}'
                | '\u{058A}'
                | '\u{05BE}'
                | '\u{30FC}'
    )
}

fn is_space(c: char) -> bool {
    matches!(
        c,
        '\u{00A0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200A}' | '\u{2028}' | '\u{2029}' | '\u{202F}' | '\u{205F}' | '\u{3000}'
    )
}

/// The digit an OCR look-alike stands for.
fn lookalike_digit(b: u8) -> Option<u8> {
    match b {
        b'O' | b'o' | b'D' | b'Q' => Some(b'0'),
        b'I' | b'l' | b'|' => Some(b'1'),
        b'S' => Some(b'5'),
        b'B' => Some(b'8'),
        b'Z' => Some(b'2'),
        _ => None,
    }
}

/// Whether `b` belongs to a word for look-alike folding (`|` stands for `1`).
fn is_fold_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'|'
}

/// Whether the word around `bytes[at]` holds only digits and look-alikes.
fn digit_word(bytes: &[u8], at: usize) -> bool {
    let ok = |b: &u8| b.is_ascii_digit() || lookalike_digit(*b).is_some();
    let left = bytes[..at]
        .iter()
        .rev()
        .take_while(|b| is_fold_word(**b))
        .all(ok);
    let right = bytes[at..].iter().take_while(|b| is_fold_word(**b)).all(ok);
    left && right
}

/// High bit of each byte of `x` set iff the byte is an ASCII digit
/// (`0x30..=0x39`), all other bits clear. Exact per byte: no borrow or
/// carry crosses byte lanes (the same test as `token::next_digit`).
#[inline]
fn digit_bytes(x: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    let low7 = x & (ONES * 0x7F);
    (ONES * (127 + 0x3A)).wrapping_sub(low7)
        & !x
        & low7.wrapping_add(ONES * (127 - 0x2F))
        & (ONES * 0x80)
}

/// Calls `f(p)` for every `p` where `bytes[p - 1]` is an ASCII digit and
/// `bytes[p]` has bit 6 set (`0x40..=0x7F`, `0xC0..=0xFF`: every look-alike
/// is a letter or `|`), in increasing order: the only places a look-alike
/// fold can start. One pass, eight bytes per word (SWAR), four words per
/// step: the digit bytes' high bits shifted one byte up (plus the previous
/// word's last digit), and bit 6 of each byte shifted onto its high bit.
/// Dense data (half digits, mostly followed by separators) costs no more
/// per byte than prose.
fn for_each_fold_start(bytes: &[u8], mut f: impl FnMut(usize)) {
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // Fold starts among the bytes of `x`, given the digit flag of the byte
    // before it in `carry`; updates `carry` for the next word.
    let starts_in = |x: u64, carry: &mut u64| {
        let digits = digit_bytes(x);
        // Little-endian: the byte before byte k is byte k - 1, 8 bits lower.
        let starts = ((digits << 8) | *carry) & (x << 1) & HIGH;
        *carry = digits >> 56;
        starts
    };
    let word = |b: &[u8]| {
        let mut chunk = [0u8; 8];
        chunk.copy_from_slice(&b[..8]);
        u64::from_le_bytes(chunk)
    };
    let mut report = |at: usize, mut starts: u64| {
        while starts != 0 {
            f(at + (starts.trailing_zeros() / 8) as usize);
            starts &= starts - 1;
        }
    };
    let mut i = 0;
    // High bit of byte 0 set iff the byte before `i` is a digit.
    let mut carry = 0u64;
    // Four words per step, one branch: most 32-byte blocks hold no start.
    let mut blocks = bytes.chunks_exact(32);
    for block in blocks.by_ref() {
        let s0 = starts_in(word(&block[0..]), &mut carry);
        let s1 = starts_in(word(&block[8..]), &mut carry);
        let s2 = starts_in(word(&block[16..]), &mut carry);
        let s3 = starts_in(word(&block[24..]), &mut carry);
        if s0 | s1 | s2 | s3 != 0 {
            report(i, s0);
            report(i + 8, s1);
            report(i + 16, s2);
            report(i + 24, s3);
        }
        i += 32;
    }
    let mut words = blocks.remainder().chunks_exact(8);
    for w in words.by_ref() {
        report(i, starts_in(word(w), &mut carry));
        i += 8;
    }
    let mut prev_digit = carry != 0;
    for (k, &b) in words.remainder().iter().enumerate() {
        if prev_digit && b & 0x40 != 0 {
            f(i + k);
        }
        prev_digit = b.is_ascii_digit();
    }
}

/// Replaces runs of 1-2 look-alikes that have a digit on both sides, inside a
/// word that is otherwise digits (an OCR'd number, not a code).
///
/// A fold starts at a look-alike right after a digit, so only letters and `|`
/// right after a digit ([`for_each_fold_start`]) are looked at.
fn fold_lookalikes(text: Cow<'_, str>) -> Cow<'_, str> {
    let bytes = text.as_bytes();
    let mut edits: Vec<(usize, u8)> = Vec::new();
    for_each_fold_start(bytes, |i| {
        if lookalike_digit(bytes[i]).is_none() {
            return;
        }
        let mut j = i;
        while j < bytes.len() && j - i < 3 && lookalike_digit(bytes[j]).is_some() {
            j += 1;
        }
        if j - i <= 2 && j < bytes.len() && bytes[j].is_ascii_digit() && digit_word(bytes, i) {
            for (k, &b) in bytes.iter().enumerate().take(j).skip(i) {
                edits.push((k, lookalike_digit(b).unwrap_or(b)));
            }
        }
    });
    if edits.is_empty() {
        return text;
    }
    let mut owned = text.into_owned().into_bytes();
    for (k, d) in edits {
        owned[k] = d;
    }
    // Only ASCII bytes were replaced by ASCII bytes: still valid UTF-8.
    Cow::Owned(String::from_utf8(owned).unwrap_or_default())
}

/// Largest buffer, in bytes, that [`AsciiLower`] keeps per thread between
/// scans: texts up to this size (a paste, a page, most files) reuse it;
/// larger ones use a buffer of their own, freed with it.
pub const LOWER_KEEP: usize = 4 << 20;

thread_local! {
    /// The buffer the next [`AsciiLower`] on this thread reuses (empty when
    /// none is kept, or while one is in use).
    static LOWER_BUF: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
}

/// `text` ASCII lower-cased (same length and offsets), in a per-thread
/// buffer reused across scans. Dereferences to `[u8]`.
///
/// On drop, the buffer goes back to the thread for the next scan if its
/// capacity is at most [`LOWER_KEEP`]; so a thread keeps at most that much
/// (plus allocator rounding) after a scan. Nested or concurrent uses on one
/// thread are fine: only one buffer is kept, the others are freed.
#[derive(Debug)]
pub struct AsciiLower {
    buf: Vec<u8>,
}

impl AsciiLower {
    /// Lower-cases `text` (ASCII letters only; other bytes are copied).
    pub fn new(text: &[u8]) -> AsciiLower {
        let mut buf = if text.len() <= LOWER_KEEP {
            // `try_with`: during thread teardown there is no buffer to reuse.
            LOWER_BUF.try_with(Cell::take).unwrap_or_default()
        } else {
            Vec::new()
        };
        buf.clear();
        buf.reserve_exact(text.len());
        buf.extend_from_slice(text);
        buf.make_ascii_lowercase();
        AsciiLower { buf }
    }
}

impl Deref for AsciiLower {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.buf
    }
}

impl Drop for AsciiLower {
    fn drop(&mut self) {
        if self.buf.capacity() <= LOWER_KEEP {
            let buf = std::mem::take(&mut self.buf);
            // Keep the larger of this buffer and one a nested use returned.
            let _ = LOWER_BUF.try_with(|slot| {
                let other = slot.take();
                slot.set(if other.capacity() > buf.capacity() {
                    other
                } else {
                    buf
                });
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_is_identity() {
        let n = Normalised::new("card 4111 1111 1111 1111");
        assert!(n.is_identity());
        assert_eq!(n.text, "card 4111 1111 1111 1111");
    }

    #[test]
    fn full_width_and_zero_width_map_back() {
        let original = "x ４\u{200B}１１１ y";
        let n = Normalised::new(original);
        assert_eq!(n.text, "x 4111 y");
        let s = n.text.find('4').unwrap();
        let (a, b) = n.to_original(s, s + 4);
        assert_eq!(&original[a..b], "４\u{200B}１１１");
    }

    #[test]
    fn dashes_and_spaces() {
        let n = Normalised::new("123\u{2013}45\u{2212}6789\u{00A0}ok");
        assert_eq!(n.text, "123-45-6789 ok");
    }

    #[test]
    fn lookalikes_fold_only_between_digits() {
        assert_eq!(
            Normalised::new("4l11 1O11 Hello 1Oo").text,
            "4111 1011 Hello 1Oo"
        );
        assert_eq!(Normalised::new("l0l OIL 2B4").text, "l0l OIL 284");
        assert_eq!(Normalised::new("4|11 1l11").text, "4111 1111");
    }

    #[test]
    fn lookalikes_stay_in_alphanumeric_codes() {
        // An AWS key id, an MBI and an Italian fiscal code: letters are data.
        for code in ["AKIAVFC6O5YBPUAMIEKG", "6RD3QQ5EY97", "EEEDPW08S09Y621D"] {
            assert_eq!(Normalised::new(code).text, code);
            let padded = format!("key {code} end");
            assert_eq!(Normalised::new(&padded).text, padded);
        }
    }

    /// The folding loop as it was before the digit skip: every byte checked.
    fn fold_reference(text: &str) -> String {
        let bytes = text.as_bytes();
        let mut out = bytes.to_vec();
        let mut i = 1;
        while i + 1 < bytes.len() {
            if bytes[i - 1].is_ascii_digit() && lookalike_digit(bytes[i]).is_some() {
                let mut j = i;
                while j < bytes.len() && j - i < 3 && lookalike_digit(bytes[j]).is_some() {
                    j += 1;
                }
                if j - i <= 2
                    && j < bytes.len()
                    && bytes[j].is_ascii_digit()
                    && digit_word(bytes, i)
                {
                    for k in i..j {
                        out[k] = lookalike_digit(bytes[k]).unwrap_or(bytes[k]);
                    }
                }
                i = j.max(i + 1);
            } else {
                i += 1;
            }
        }
        String::from_utf8(out).unwrap()
    }

    /// The folding loop before the one-pass scan: it jumped from digit to
    /// digit with `token::next_digit` (one call per digit on dense data).
    fn fold_digit_skip(text: &str) -> String {
        let bytes = text.as_bytes();
        let mut out = bytes.to_vec();
        let mut i = 1;
        while i + 1 < bytes.len() {
            match super::super::token::next_digit(bytes, i - 1, bytes.len()) {
                Some(d) => i = d + 1,
                None => break,
            }
            if i + 1 >= bytes.len() {
                break;
            }
            if lookalike_digit(bytes[i]).is_some() {
                let mut j = i;
                while j < bytes.len() && j - i < 3 && lookalike_digit(bytes[j]).is_some() {
                    j += 1;
                }
                if j - i <= 2
                    && j < bytes.len()
                    && bytes[j].is_ascii_digit()
                    && digit_word(bytes, i)
                {
                    for k in i..j {
                        out[k] = lookalike_digit(bytes[k]).unwrap_or(bytes[k]);
                    }
                }
                i = j.max(i + 1);
            } else {
                i += 1;
            }
        }
        String::from_utf8(out).unwrap()
    }

    fn xorshift(state: &mut u64) -> u64 {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        *state
    }

    #[test]
    fn one_pass_folds_like_the_previous_loops() {
        // Digits, look-alikes, letters, `|`, separators and non-ASCII
        // characters; lengths across several 64-byte chunks.
        let pieces = [
            "0", "1", "4", "9", "O", "o", "D", "Q", "I", "l", "|", "S", "B", "Z", "x", "A", "k",
            " ", "-", ".", "/", ",", "\n", "é", "４", "\u{200B}", "ß", "4111", "1O1",
        ];
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut folded = 0;
        for round in 0..6_000 {
            let mut t = String::new();
            let len = xorshift(&mut state) % if round % 4 == 0 { 400 } else { 40 };
            // Each text leans on a few pieces, so long digit runs and long
            // look-alike runs both occur.
            let bias = xorshift(&mut state) % pieces.len() as u64;
            while (t.len() as u64) < len {
                let r = xorshift(&mut state);
                let k = if r.is_multiple_of(3) {
                    bias
                } else {
                    (r >> 8) % pieces.len() as u64
                };
                t.push_str(pieces[k as usize]);
            }
            let got = fold_lookalikes(Cow::Borrowed(&t));
            assert_eq!(got, fold_digit_skip(&t), "{t:?}");
            assert_eq!(got, fold_reference(&t), "{t:?}");
            folded += usize::from(got != t);
        }
        // The texts exercise folding, not only its absence.
        assert!(folded > 300, "{folded} texts folded");
    }

    #[test]
    fn fold_starts_agree_with_a_byte_loop() {
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        for _ in 0..3_000 {
            let len = xorshift(&mut state) % 300;
            let digits_only = xorshift(&mut state).is_multiple_of(2);
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    let r = xorshift(&mut state);
                    // Every byte value, or mostly digits.
                    if digits_only && !r.is_multiple_of(8) {
                        b'0' + (r >> 8) as u8 % 10
                    } else {
                        (r >> 24) as u8
                    }
                })
                .collect();
            let want: Vec<usize> = (1..bytes.len())
                .filter(|&p| bytes[p - 1].is_ascii_digit() && bytes[p] & 0x40 != 0)
                .collect();
            let mut got = Vec::new();
            for_each_fold_start(&bytes, |p| got.push(p));
            assert_eq!(got, want, "{bytes:?}");
        }
    }

    #[test]
    fn ascii_lower_reuses_a_bounded_buffer() {
        let text = "Card NUMBER 4111 Élan ÄÖ password".repeat(100);
        let a = AsciiLower::new(text.as_bytes());
        assert_eq!(&*a, text.as_bytes().to_ascii_lowercase().as_slice());
        let first = a.as_ptr();
        drop(a);
        // The next scan on this thread gets the same allocation back.
        let b = AsciiLower::new(b"Short TEXT");
        assert_eq!(&*b, b"short text");
        assert_eq!(b.as_ptr(), first);
        // A nested use while `b` is out gets a buffer of its own.
        let c = AsciiLower::new(b"NESTED");
        assert_ne!(c.as_ptr(), b.as_ptr());
        assert_eq!(&*c, b"nested");
        drop(c);
        drop(b);
        // A text over the bound is not kept: the kept buffer stays small.
        let big = vec![b'A'; LOWER_KEEP + 1];
        let d = AsciiLower::new(&big);
        assert!(d.iter().all(|&x| x == b'a'));
        drop(d);
        let kept = LOWER_BUF.with(|slot| {
            let v = slot.take();
            let cap = v.capacity();
            slot.set(v);
            cap
        });
        assert!(kept > 0 && kept <= LOWER_KEEP, "kept {kept} bytes");
        assert!(AsciiLower::new(b"").is_empty());
    }

    /// `Normalised::new` and `to_original` as they were before the piece
    /// map: one original range per normalised byte.
    fn normalise_per_byte(original: &str) -> (String, Option<Vec<(u32, u32)>>) {
        if original.is_ascii() {
            return (fold_reference(original), None);
        }
        let mut out = String::new();
        let mut map: Vec<(u32, u32)> = Vec::new();
        for (pos, c) in original.char_indices() {
            let range = (pos as u32, (pos + c.len_utf8()) as u32);
            if c.is_ascii() {
                out.push(c);
                map.push(range);
                continue;
            }
            if is_invisible(c) {
                continue;
            }
            let before = out.len();
            if is_dash(c) {
                out.push('-');
            } else if is_space(c) {
                out.push(' ');
            } else {
                let mut decomposed = false;
                decompose_compatible(c, |_| decomposed = true);
                if decomposed {
                    for n in std::iter::once(c).nfkc() {
                        if is_invisible(n) {
                            continue;
                        }
                        out.push(if is_dash(n) {
                            '-'
                        } else if is_space(n) {
                            ' '
                        } else {
                            n
                        });
                    }
                } else {
                    out.push(c);
                }
            }
            map.resize(map.len() + (out.len() - before), range);
        }
        (fold_reference(&out), Some(map))
    }

    fn to_original_per_byte(
        map: &Option<Vec<(u32, u32)>>,
        start: usize,
        end: usize,
    ) -> (usize, usize) {
        match map {
            None => (start, end),
            Some(map) => {
                if start >= end || end > map.len() {
                    let p = map
                        .get(start)
                        .map_or_else(|| map.last().map_or(0, |r| r.1), |r| r.0);
                    return (p as usize, p as usize);
                }
                (map[start].0 as usize, map[end - 1].1 as usize)
            }
        }
    }

    #[test]
    fn piece_map_agrees_with_a_range_per_byte() {
        // ASCII runs of every length around the 8-byte steps, look-alikes
        // and digits, and every kind of non-ASCII character: kept (é, ß),
        // decomposed (full-width, ligature, circled digit), dashes, spaces,
        // invisible (removed), and 4-byte characters.
        let pieces = [
            "a",
            "4",
            "1",
            "O",
            "l",
            " ",
            "-",
            "abcdefgh",
            "4111 1111",
            "12345678901",
            "é",
            "ß",
            "日本",
            "４",
            "ﬁ",
            "①",
            "\u{2013}",
            "\u{00A0}",
            "\u{200B}",
            "\u{FEFF}",
            "\u{00AD}",
            "😀",
            "Ａ",
            "\u{3000}",
            "ǅ",
            "x\u{0301}",
            "가나",
            "ひらがな",
            "が",
            "カタカナー",
            "ｶﾞ",
            "àÿ×÷",
            "Ĳ",
            "²",
            "\u{F900}",
            "\u{2FA1D}",
        ];
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        for round in 0..3_000 {
            let mut t = String::new();
            let len = xorshift(&mut state) % if round % 10 == 0 { 300 } else { 40 };
            while (t.len() as u64) < len {
                let k = xorshift(&mut state) % pieces.len() as u64;
                t.push_str(pieces[k as usize]);
            }
            let n = Normalised::new(&t);
            let (want_text, want_map) = normalise_per_byte(&t);
            assert_eq!(n.text, want_text, "{t:?}");
            assert_eq!(n.is_identity(), want_map.is_none(), "{t:?}");
            let len = n.text.len();
            for start in 0..=len + 1 {
                for end in start.saturating_sub(1)..=(len + 1).min(start + 40) {
                    assert_eq!(
                        n.to_original(start, end),
                        to_original_per_byte(&want_map, start, end),
                        "{t:?} {start}..{end}"
                    );
                }
            }
        }
        // Only invisible characters: empty text, every span maps to 0.
        let n = Normalised::new("\u{200B}\u{FEFF}");
        assert_eq!(n.text, "");
        assert_eq!(n.to_original(0, 0), (0, 0));
        assert_eq!(n.to_original(0, 3), (0, 0));
    }

    #[test]
    fn ascii_prefix_agrees_with_a_byte_loop() {
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        for _ in 0..3_000 {
            let len = xorshift(&mut state) % 40;
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    let r = xorshift(&mut state);
                    if r.is_multiple_of(9) {
                        0x80 | (r >> 8) as u8
                    } else {
                        (r >> 8) as u8 & 0x7F
                    }
                })
                .collect();
            let want = bytes.iter().take_while(|b| b.is_ascii()).count();
            assert_eq!(ascii_prefix(&bytes), want, "{bytes:?}");
        }
    }

    #[test]
    fn fast_path_scripts_are_nfkc_stable() {
        // Every character `push_normalised` copies without NFKC must be
        // what the NFKC path would give.
        let ranges = [
            0xC0..=0xFF,
            0x3041..=0x3096,
            0x30A1..=0x30FA,
            0x4E00..=0x9FFF,
            0xAC00..=0xD7A3,
        ];
        for c in ranges.into_iter().flatten().filter_map(char::from_u32) {
            assert!(!is_invisible(c) && !is_dash(c) && !is_space(c), "{c:?}");
            let nfkc: String = std::iter::once(c).nfkc().collect();
            assert_eq!(nfkc, c.to_string(), "U+{:04X}", c as u32);
        }
    }
}
