//! Word walks: the runs of ASCII letters and digits of a text, read off a
//! bit mask, and tables of words looked up by their bytes.
//!
//! Two searches look for whole words only: the health dictionaries' clues
//! (`health::clues`) and the context words ([`super::context`]). A whole
//! word starting with a letter or digit starts where a *word* (a maximal
//! run of ASCII letters and digits) starts, and its first word is that run
//! exactly. So instead of a literal set searched at every byte, they walk
//! the text's words and look each one up: [`word_bits`] makes each 64
//! bytes' word bytes one bit mask (eight bytes at a time, no branch per
//! byte), [`for_each_word`] reads the words off it with `trailing_zeros`,
//! and a word goes to a table only when some entry has its first two bytes
//! and its length ([`pair`]): most words stop there.

/// The index of a word's first two bytes in a 64 x 64 table: digits and
/// ASCII letters (either case) have a code each, every other byte shares
/// one. A one-byte word's second byte is taken as a space.
#[inline(always)]
pub(crate) fn pair(first: u8, second: u8) -> usize {
    usize::from(PAIR_CODE[usize::from(first)]) * 64 + usize::from(PAIR_CODE[usize::from(second)])
}

/// [`pair`] of the word `lower[s..e]` (`e > s`).
#[inline(always)]
pub(crate) fn pair_at(lower: &[u8], s: usize, e: usize) -> usize {
    let second = if e - s > 1 { lower[s + 1] } else { b' ' };
    pair(lower[s], second)
}

/// [`pair`] of a word given alone (not empty).
pub(crate) fn pair_of(word: &[u8]) -> usize {
    pair_at(word, 0, word.len())
}

/// Codes of [`pair`]: `0-9` 0-9, `a-z` and `A-Z` 10-35, others 63.
const PAIR_CODE: [u8; 256] = {
    let mut t = [63u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        if c.is_ascii_digit() {
            t[b] = c - b'0';
        } else if c.is_ascii_lowercase() {
            t[b] = c - b'a' + 10;
        } else if c.is_ascii_uppercase() {
            t[b] = c - b'A' + 10;
        }
        b += 1;
    }
    t
};

/// Bit `k` set iff `lower[base + k]` is an ASCII letter or digit, for the
/// 64 bytes from `base` (bytes past the end: clear). Eight bytes at a time:
/// a byte's high bit is set when it lies in `0-9`, `a-z` or `A-Z` (exact per
/// byte: no carry or borrow crosses lanes), then the eight high bits are
/// gathered by one multiplication.
#[inline]
pub(crate) fn word_bits(lower: &[u8], base: usize) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = ONES * 0x80;
    /// High bit of each byte of `x` (below 0x80) set iff it is in `lo..=hi`.
    #[inline(always)]
    fn within(low7: u64, lo: u64, hi: u64) -> u64 {
        (ONES * (127 + hi + 1)).wrapping_sub(low7) & low7.wrapping_add(ONES * (128 - lo)) & HIGH
    }
    let end = (base + 64).min(lower.len());
    let mut m = 0u64;
    let mut i = base;
    while i < end {
        let mut chunk = [0u8; 8];
        let take = (end - i).min(8);
        chunk[..take].copy_from_slice(&lower[i..i + take]);
        let x = u64::from_le_bytes(chunk);
        let low7 = x & (ONES * 0x7F);
        let hit =
            (within(low7, 0x30, 0x39) | within(low7, 0x61, 0x7A) | within(low7, 0x41, 0x5A)) & !x;
        // Byte j's high bit (bit 8j + 7) to bit j.
        let bits = ((hit >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56) & 0xFF;
        m |= bits << (i - base);
        i += 8;
    }
    m
}

/// [`word_bits`], and the same mask for ASCII letters only.
#[inline]
pub(crate) fn word_letter_bits(lower: &[u8], base: usize) -> (u64, u64) {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = ONES * 0x80;
    #[inline(always)]
    fn within(low7: u64, lo: u64, hi: u64) -> u64 {
        (ONES * (127 + hi + 1)).wrapping_sub(low7) & low7.wrapping_add(ONES * (128 - lo)) & HIGH
    }
    #[inline(always)]
    fn gather(hit: u64) -> u64 {
        ((hit >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56) & 0xFF
    }
    let end = (base + 64).min(lower.len());
    let (mut words, mut letters) = (0u64, 0u64);
    let mut i = base;
    while i < end {
        let x = match lower.get(i..i + 8) {
            Some(b) => u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]),
            None => {
                let mut chunk = [0u8; 8];
                chunk[..end - i].copy_from_slice(&lower[i..end]);
                u64::from_le_bytes(chunk)
            }
        };
        let low7 = x & (ONES * 0x7F);
        let letter = (within(low7, 0x61, 0x7A) | within(low7, 0x41, 0x5A)) & !x;
        let digit = within(low7, 0x30, 0x39) & !x;
        words |= gather(letter | digit) << (i - base);
        letters |= gather(letter) << (i - base);
        i += 8;
    }
    (words, letters)
}

/// The end of the word that runs on at `i` (the first byte at or after
/// `i` that is not an ASCII letter or digit, or the text's end).
fn word_end(lower: &[u8], mut i: usize) -> usize {
    while i < lower.len() {
        let gaps = !word_bits(lower, i);
        if gaps != 0 {
            return (i + gaps.trailing_zeros() as usize).min(lower.len());
        }
        i += 64;
    }
    lower.len()
}

/// What [`for_each_letter_word`] reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Walked {
    /// A word that starts with a letter.
    Word,
    /// The letters ending a word of digits then letters (`mg` of `500mg`).
    Unit,
}

/// Calls `f(s, e, Walked::Word)` for every word (as [`for_each_word`])
/// that starts with an ASCII letter and starts in `from..to`, in order;
/// with `units`, also `f(s, e, Walked::Unit)` where `lower[s..e]` are the
/// letters ending a word of digits then letters (`500mg`: `mg`) and `s`
/// is in `from..to`. Words that start with a digit are skipped without
/// a look (most words of dense data): the starts are bits of the masks of
/// [`word_letter_bits`]. Exactly [`for_each_letter_word_bytewise`] (a
/// test compares them).
#[inline]
pub(crate) fn for_each_letter_word(
    lower: &[u8],
    from: usize,
    to: usize,
    units: bool,
    mut f: impl FnMut(usize, usize, Walked),
) {
    let n = lower.len();
    let to = to.min(n);
    if from >= to {
        return;
    }
    // Whether the byte before `base` is a word byte, and a digit.
    let mut word_before = from > 0 && lower[from - 1].is_ascii_alphanumeric();
    let mut digit_before = from > 0 && lower[from - 1].is_ascii_digit();
    let mut base = from;
    while base < to {
        let (m, l) = word_letter_bits(lower, base);
        let d = m & !l;
        let starts = m & !((m << 1) | u64::from(word_before));
        let mut at = starts & l;
        if units {
            // Letters right after a digit: checked byte by byte below.
            at |= l & ((d << 1) | u64::from(digit_before));
        }
        if to - base < 64 {
            at &= (1u64 << (to - base)) - 1;
        }
        while at != 0 {
            let k = at.trailing_zeros();
            at &= at - 1;
            let s = base + k as usize;
            let gaps = !m >> k;
            let e = if gaps != 0 {
                (s + gaps.trailing_zeros() as usize).min(n)
            } else {
                word_end(lower, base + 64)
            };
            if starts & (1 << k) != 0 {
                f(s, e, Walked::Word);
            } else if lower[s..e].iter().all(u8::is_ascii_alphabetic) && {
                let mut b = s;
                while b > 0 && lower[b - 1].is_ascii_digit() {
                    b -= 1;
                }
                b == 0 || !lower[b - 1].is_ascii_alphanumeric()
            } {
                f(s, e, Walked::Unit);
            }
        }
        word_before = m >> 63 != 0;
        digit_before = d >> 63 != 0;
        base += 64;
    }
}

/// [`for_each_letter_word`] byte by byte (the reference it is tested
/// against).
#[cfg(test)]
pub(crate) fn for_each_letter_word_bytewise(
    lower: &[u8],
    from: usize,
    to: usize,
    units: bool,
    mut f: impl FnMut(usize, usize, Walked),
) {
    let mut words = Vec::new();
    // Every word starting up to `to` (a unit may start in range inside a
    // word that starts before `from`).
    for_each_word_bytewise(lower, 0, to, |s, e| words.push((s, e)));
    for (s, e) in words {
        if lower[s].is_ascii_alphabetic() {
            if s >= from {
                f(s, e, Walked::Word);
            }
        } else if units {
            if let Some(l) = lower[s..e].iter().position(u8::is_ascii_alphabetic) {
                let u = s + l;
                if (from..to).contains(&u) && lower[u..e].iter().all(u8::is_ascii_alphabetic) {
                    f(u, e, Walked::Unit);
                }
            }
        }
    }
}

/// Calls `f(s, e)` for every word (maximal run of ASCII letters and
/// digits) of `lower` that starts in `from..to`, in order; `e` may lie past
/// `to` (a word is read to its end). A word that starts before `from` and
/// runs into it is not reported. Exactly [`for_each_word_bytewise`] (a
/// test compares them).
#[inline]
pub(crate) fn for_each_word(lower: &[u8], from: usize, to: usize, mut f: impl FnMut(usize, usize)) {
    let n = lower.len();
    let to = to.min(n);
    if from >= to {
        return;
    }
    // Whether the first run of the mask continues a word begun before `from`.
    let mut skip = from > 0 && lower[from - 1].is_ascii_alphanumeric();
    // Start of the word the previous 64 bytes ended in.
    let mut open: Option<usize> = None;
    let mut base = from;
    'blocks: while base < n && (open.is_some() || base < to) {
        let m = word_bits(lower, base);
        let mut k = 0u32;
        if skip {
            let gaps = !m;
            if gaps == 0 {
                base += 64;
                continue;
            }
            k = gaps.trailing_zeros();
            skip = false;
        }
        loop {
            let s = match open {
                Some(s) => s,
                None => {
                    let rest = if k >= 64 { 0 } else { m >> k };
                    if rest == 0 {
                        break;
                    }
                    k += rest.trailing_zeros();
                    let s = base + k as usize;
                    if s >= to {
                        break 'blocks;
                    }
                    s
                }
            };
            let gaps = if k >= 64 { 0 } else { !m >> k };
            if gaps == 0 {
                // The word runs on into the next 64 bytes.
                open = Some(s);
                break;
            }
            k += gaps.trailing_zeros();
            open = None;
            f(s, (base + k as usize).min(n));
        }
        base += 64;
    }
    if let Some(s) = open {
        f(s, n);
    }
}

/// [`for_each_word`] byte by byte (the reference it is tested against).
#[cfg(test)]
pub(crate) fn for_each_word_bytewise(
    lower: &[u8],
    from: usize,
    to: usize,
    mut f: impl FnMut(usize, usize),
) {
    let word = |b: u8| b.is_ascii_alphanumeric();
    let to = to.min(lower.len());
    let mut i = from;
    while i < to && i > 0 && word(lower[i - 1]) && word(lower[i]) {
        i += 1;
    }
    while i < to {
        if !word(lower[i]) {
            i += 1;
            continue;
        }
        let s = i;
        while i < lower.len() && word(lower[i]) {
            i += 1;
        }
        f(s, i);
    }
}

/// The bytes of a word of at most 16 bytes as one number (0 never is one).
pub(crate) fn pack(word: &[u8]) -> Option<u128> {
    if word.is_empty() || word.len() > 16 {
        return None;
    }
    let mut b = [0u8; 16];
    b[..word.len()].copy_from_slice(word);
    Some(u128::from_le_bytes(b))
}

/// The word at `lower[s..e]` packed ([`pack`]), reading 16 bytes at once
/// where the text has them.
#[inline]
pub(crate) fn pack_at(lower: &[u8], s: usize, e: usize) -> Option<u128> {
    let len = e - s;
    if len > 16 {
        return None;
    }
    match lower.get(s..s + 16) {
        Some(b) => {
            let mut a = [0u8; 16];
            a.copy_from_slice(b);
            let v = u128::from_le_bytes(a);
            Some(if len == 16 {
                v
            } else {
                v & ((1u128 << (8 * len)) - 1)
            })
        }
        None => pack(&lower[s..e]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mask_walk_finds_what_a_byte_walk_finds() {
        let pieces: [&[u8]; 12] = [
            b"a",
            b"word",
            b"4111",
            b"x9",
            b" ",
            b", ",
            b"-",
            b"\n",
            "é".as_bytes(),
            b"_",
            b"abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz01",
            b"...",
        ];
        let mut next = crate::detect::test_rng(0x9E37_79B9_7F4A_7C15);
        let mut words = 0;
        for round in 0..400 {
            let mut t: Vec<u8> = Vec::new();
            let len = if round % 4 == 0 {
                300
            } else {
                next(140) as usize
            };
            while t.len() < len {
                t.extend_from_slice(pieces[next(pieces.len() as u64) as usize]);
            }
            for _ in 0..20 {
                let from = next(t.len() as u64 + 2) as usize;
                let to = from + next(t.len() as u64 + 70) as usize;
                let (mut fast, mut slow) = (Vec::new(), Vec::new());
                for_each_word(&t, from, to, |s, e| fast.push((s, e)));
                for_each_word_bytewise(&t, from, to, |s, e| slow.push((s, e)));
                assert_eq!(
                    fast,
                    slow,
                    "{from}..{to} of {:?}",
                    String::from_utf8_lossy(&t)
                );
                words += fast.len();
            }
        }
        assert!(words > 10_000, "{words} words");
    }

    #[test]
    fn the_letter_walk_finds_what_a_byte_walk_finds() {
        let pieces: [&[u8]; 14] = [
            b"a",
            b"word",
            b"4111",
            b"500mg",
            b"12ab3",
            b"x9",
            b" ",
            b", ",
            b"-",
            b"\n",
            "é".as_bytes(),
            b"_",
            b"abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz01",
            b"0123456789012345678901234567890123456789012345678901234567890123mg",
        ];
        let mut next = crate::detect::test_rng(0x2545_F491_4F6C_DD1D);
        let (mut words, mut units) = (0, 0);
        for round in 0..400 {
            let mut t: Vec<u8> = Vec::new();
            let len = if round % 4 == 0 {
                300
            } else {
                next(140) as usize
            };
            while t.len() < len {
                t.extend_from_slice(pieces[next(pieces.len() as u64) as usize]);
            }
            for _ in 0..20 {
                let from = next(t.len() as u64 + 2) as usize;
                let to = from + next(t.len() as u64 + 70) as usize;
                for with_units in [false, true] {
                    let (mut fast, mut slow) = (Vec::new(), Vec::new());
                    for_each_letter_word(&t, from, to, with_units, |s, e, w| fast.push((s, e, w)));
                    for_each_letter_word_bytewise(&t, from, to, with_units, |s, e, w| {
                        slow.push((s, e, w))
                    });
                    assert_eq!(
                        fast,
                        slow,
                        "{from}..{to} units {with_units} of {:?}",
                        String::from_utf8_lossy(&t)
                    );
                    words += fast.iter().filter(|w| w.2 == Walked::Word).count();
                    units += fast.iter().filter(|w| w.2 == Walked::Unit).count();
                }
            }
        }
        assert!(
            words > 5_000 && units > 1_000,
            "{words} words, {units} units"
        );
    }

    #[test]
    fn pack_at_agrees_with_pack() {
        let t = b"abcdefghijklmnopqrstu vw";
        for s in 0..t.len() {
            for e in s + 1..=t.len() {
                assert_eq!(pack_at(t, s, e), pack(&t[s..e]), "{s}..{e}");
            }
        }
        assert_eq!(pair_of(b"a"), pair(b'a', b' '));
        assert_eq!(pair_of(b"Ab"), pair(b'a', b'B'));
    }
}
