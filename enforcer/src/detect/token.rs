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

use super::validators;

/// The most words a candidate spans (`1 85 05 78 006 084 36` is 7).
pub const MAX_WORDS: usize = 8;
/// The most alphanumeric characters a candidate holds (IBAN maximum).
pub const MAX_COMPACT: usize = 34;
/// Most bytes of [`Cand::before`].
pub const BEFORE: usize = 24;

/// One candidate: a sub-range of a chain.
#[derive(Debug)]
pub struct Cand<'t> {
    /// Start byte in the normalised text (includes a leading `+` or `(`).
    pub start: usize,
    /// End byte (exclusive).
    pub end: usize,
    /// The normalised text of the span.
    pub raw: &'t str,
    /// Up to [`BEFORE`] bytes of text right before the span (what a
    /// detector may look at to the left: `Chrome/` before a version).
    pub before: &'t str,
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

/// Byte flags of a word's characters (see [`byte_flags`]).
pub const WORD_CHAR: u8 = 1;
/// The word holds an ASCII digit.
pub const WORD_DIGIT: u8 = 2;
/// The word holds an ASCII letter.
pub const WORD_LETTER: u8 = 4;
/// The word holds a lower-case ASCII letter.
pub const WORD_LOWER: u8 = 8;

/// For every byte: [`WORD_CHAR`] for alphanumerics, with [`WORD_DIGIT`],
/// [`WORD_LETTER`] and [`WORD_LOWER`] as they apply. A word's flags are the
/// OR of its bytes', gathered while it is scanned.
static BYTE_FLAGS: [u8; 256] = byte_flags();

const fn byte_flags() -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = if c.is_ascii_digit() {
            WORD_CHAR | WORD_DIGIT
        } else if c.is_ascii_lowercase() {
            WORD_CHAR | WORD_LETTER | WORD_LOWER
        } else if c.is_ascii_uppercase() {
            WORD_CHAR | WORD_LETTER
        } else {
            0
        };
        b += 1;
    }
    t
}

fn is_word(b: u8) -> bool {
    BYTE_FLAGS[usize::from(b)] & WORD_CHAR != 0
}

fn is_sep(b: u8) -> bool {
    matches!(b, b' ' | b'-' | b'.' | b'/' | b'(' | b')')
}

/// Length of a weak separator (`_`, a tab, `\n` or `\r\n`) at `text[i..]`.
fn weak_sep_len(text: &[u8], i: usize) -> Option<usize> {
    match text.get(i..)? {
        [b'_' | b'\t' | b'\n', ..] => Some(1),
        [b'\r', b'\n', ..] => Some(2),
        _ => None,
    }
}

/// The word after a weak separator at `w.end`: only between groups of
/// digits in a run of 4-digit groups with the same weak separator
/// (`4111_1111_1111_1111`, a card number one group per line). `w` must be
/// four digits and either continue such a run (the same separator and a
/// digit before it) or start one (two more 4-digit groups follow with the
/// same separator); the next word has one to four digits. Identifiers
/// (`user_id`) and tab-separated columns of numbers keep their chains.
fn next_weak_word(text: &[u8], w: Word) -> Option<Word> {
    let digits = |w: &Word, n: std::ops::RangeInclusive<usize>| {
        w.flags & WORD_LETTER == 0 && n.contains(&(w.end - w.start))
    };
    if !digits(&w, 4..=4) {
        return None;
    }
    let n = weak_sep_len(text, w.end)?;
    let sep = &text[w.end..w.end + n];
    let word_after = |end: usize| -> Option<Word> {
        let i = end + n;
        (text.get(end..i)? == sep && text.get(i)?.is_ascii_digit()).then(|| word_at(text, i))
    };
    let next = word_after(w.end)?;
    if !digits(&next, 1..=4) {
        return None;
    }
    let continues =
        w.start > n && &text[w.start - n..w.start] == sep && text[w.start - n - 1].is_ascii_digit();
    let starts =
        || digits(&next, 4..=4) && word_after(next.end).is_some_and(|third| digits(&third, 4..=4));
    (continues || starts()).then_some(next)
}

/// A word: [start, end) of alphanumerics, and the OR of its bytes' flags.
#[derive(Clone, Copy, Debug)]
struct Word {
    start: usize,
    end: usize,
    flags: u8,
}

impl Word {
    fn digit(&self) -> bool {
        self.flags & WORD_DIGIT != 0
    }
}

/// Whether a word without digits may sit in a chain: short and upper-case
/// (`GB82 WEST`, `AB 12 34 56 C`).
fn joinable_alpha(w: &Word) -> bool {
    w.end - w.start <= 4 && w.flags & WORD_LOWER == 0
}

fn word_at(text: &[u8], start: usize) -> Word {
    let mut end = start;
    let mut flags = 0;
    while end < text.len() {
        let f = BYTE_FLAGS[usize::from(text[end])];
        if f & WORD_CHAR == 0 {
            break;
        }
        flags |= f;
        end += 1;
    }
    Word { start, end, flags }
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
    let mut flags = 0;
    while s > 0 {
        let f = BYTE_FLAGS[usize::from(text[s - 1])];
        if f & WORD_CHAR == 0 {
            break;
        }
        flags |= f;
        s -= 1;
    }
    Some(Word {
        start: s,
        end,
        flags,
    })
}

/// Calls `f` with every chain of words in `text[from..to]`, in order.
/// Chains are given as word spans and each word's flags ([`WORD_DIGIT`],
/// [`WORD_LETTER`], [`WORD_LOWER`]); the caller builds candidates.
pub fn for_each_chain(
    text: &str,
    from: usize,
    to: usize,
    mut f: impl FnMut(&[(usize, usize)], &[u8]),
) {
    let bytes = text.as_bytes();
    let to = to.min(bytes.len());
    let mut i = from;
    let mut lead: Vec<Word> = Vec::with_capacity(MAX_WORDS);
    let mut chain: Vec<Word> = Vec::with_capacity(16);
    let mut spans: Vec<(usize, usize)> = Vec::with_capacity(16);
    let mut flags: Vec<u8> = Vec::with_capacity(16);
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
                Some(w) if w.start >= from && (w.digit() || joinable_alpha(&w)) => {
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
        while let Some(w) = next_word(bytes, right.end).or_else(|| next_weak_word(bytes, right)) {
            if w.digit() {
                alpha_run = 0;
            } else if joinable_alpha(&w) && alpha_run < 2 {
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
        // Trailing alphabetic words are kept (NINO suffix letter), two at
        // most in a row (an IBAN ending `... 90AB CDEF G`).
        if let [w] = chain.as_slice() {
            // A lone word (most chains of dense data): no copies.
            f(&[(w.start, w.end)], &[w.flags]);
        } else {
            spans.clear();
            spans.extend(chain.iter().map(|w| (w.start, w.end)));
            flags.clear();
            flags.extend(chain.iter().map(|w| w.flags));
            f(&spans, &flags);
        }
        i = right.end.max(i + 1);
    }
}

/// Whether the candidate `words[i..=j]` is a piece of a longer grouped number.
/// It must have several words, and behind one of its own separators a
/// neighbouring word of the chain that holds a digit and either has 3+
/// characters (`3597-6512-9946` inside `5130-3597-6512-9946`, `0339 1245 7109`
/// inside a card number) or, on the right, ends the chain or continues it with
/// the same separator (`8849 3729 9286` in `GB33 JAMY 8849 3729 9286 86`).
/// A candidate that continues an IBAN begun to its left is embedded too,
/// one word or several ([`continues_iban`]). A card followed by its expiry
/// (`... 1111 12/25`), a number followed by a letter group (`... 1111 EXP`)
/// and a short prefix (`1-555-123-4567`) are not embedded.
pub fn embedded(text: &str, words: &[(usize, usize)], i: usize, j: usize) -> bool {
    if continues_iban(text, words, i, j) {
        return true;
    }
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

/// Whether the candidate `words[i..=j]` continues an IBAN begun to its left:
/// an earlier word of the chain starts with a country code of the IBAN
/// registry and two check digits, one separator joins every word from it to
/// the candidate's end, and what follows the check digits is the start of that
/// country's BBAN (`3958 9146 0583 15` in `GB27 TCQL 3958 9146 0583 15`,
/// `5570 6360 6071 0431` in `VG40 VPVG 5570 6360 6071 0431`). The bank
/// code's letters hide such a piece from the digit-word rules of
/// [`embedded`]; when the IBAN's check digits fail (a typo), nothing longer
/// claims it. A number after a whole IBAN is past its length.
fn continues_iban(text: &str, words: &[(usize, usize)], i: usize, j: usize) -> bool {
    if i == 0 {
        return false;
    }
    let b = text.as_bytes();
    let sep = |k: usize| &b[words[k].1..words[k + 1].0];
    let joined = sep(i - 1);
    if (i..j).any(|k| sep(k) != joined) {
        return false;
    }
    // Characters of words[k..=j], walking k left from i - 1.
    let mut tail: usize = words[i..=j].iter().map(|&(s, e)| e - s).sum();
    let mut k = i;
    while k > 0 && sep(k - 1) == joined {
        k -= 1;
        let (s, e) = words[k];
        tail += e - s;
        if tail > MAX_COMPACT {
            return false;
        }
        let w = &b[s..e];
        if w.len() >= 4
            && w[..2].iter().all(u8::is_ascii_uppercase)
            && w[2..4].iter().all(u8::is_ascii_digit)
        {
            let mut bban = [0u8; MAX_COMPACT];
            let mut n = 0;
            for &(s, e) in &words[k..=j] {
                bban[n..n + e - s].copy_from_slice(&b[s..e]);
                n += e - s;
            }
            let country = &text[s..s + 2];
            if validators::bban_start(country, &bban[4..n]) {
                return true;
            }
        }
    }
    false
}

/// What kind of characters and separators a candidate holds, as bits. The
/// engine knows a candidate's class from its chain before building it, and
/// each token detector's [`Shape`](super::predefined::Shape) says which
/// classes it can take, so most candidates of dense data meet no detector.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Class(pub u16);

impl Class {
    /// Some alphanumeric character is a letter (else: digits only).
    pub const LETTERS: u16 = 1;
    /// The span starts with `+` (E.164).
    pub const PLUS: u16 = 2;
    /// The first alphanumeric character is a letter.
    pub const LETTER_FIRST: u16 = 4;
    /// The first two alphanumeric characters are letters.
    pub const ALPHA2: u16 = 8;
    /// Some letter is lower-case.
    pub const LOWER: u16 = 16;
    /// Some separator is exactly ` `.
    pub const SEP_SPACE: u16 = 32;
    /// Some separator is exactly `-`.
    pub const SEP_DASH: u16 = 64;
    /// Some separator is exactly `.`.
    pub const SEP_DOT: u16 = 128;
    /// Some separator is exactly `/`.
    pub const SEP_SLASH: u16 = 256;
    /// Some separator is anything else (`  `, `) `, `(`...).
    pub const SEP_OTHER: u16 = 512;
    /// Some separator is a weak one (`_`, a tab, a line break), which
    /// joins only 4-digit groups ([`for_each_chain`]): card numbers only.
    pub const SEP_WEAK: u16 = 1024;
    /// Every separator bit.
    pub const SEPS: u16 = 32 | 64 | 128 | 256 | 512 | 1024;
    /// Number of class bits.
    pub const BITS: usize = 11;
    /// Number of distinct classes.
    pub const COUNT: usize = 1 << Class::BITS;

    /// Whether `bit` is set.
    pub fn has(self, bit: u16) -> bool {
        self.0 & bit != 0
    }

    /// The bit of one separator run.
    fn sep(sep: &[u8]) -> u16 {
        match sep {
            b" " => Class::SEP_SPACE,
            b"-" => Class::SEP_DASH,
            b"." => Class::SEP_DOT,
            b"/" => Class::SEP_SLASH,
            _ if weak_sep_len(sep, 0) == Some(sep.len()) => Class::SEP_WEAK,
            _ => Class::SEP_OTHER,
        }
    }

    /// The class of a built candidate (the reference for [`ChainFacts`]).
    #[cfg(test)]
    pub fn of(c: &Cand<'_>) -> Class {
        let b = c.compact.as_bytes();
        let letter = |k: usize| b.get(k).is_some_and(u8::is_ascii_alphabetic);
        let mut bits = 0;
        if !c.digits_only {
            bits |= Class::LETTERS;
        }
        if c.plus {
            bits |= Class::PLUS;
        }
        if letter(0) {
            bits |= Class::LETTER_FIRST;
        }
        if letter(0) && letter(1) {
            bits |= Class::ALPHA2;
        }
        if c.raw.bytes().any(|x| x.is_ascii_lowercase()) {
            bits |= Class::LOWER;
        }
        for sep in &c.seps {
            bits |= Class::sep(sep.as_bytes());
        }
        Class(bits)
    }
}

/// The class of the one word `text[s..e]` as a candidate starting at
/// `start` ([`cand_start`]); `bits` holds its [`Class::LETTERS`] and
/// [`Class::LOWER`] (other bits are ignored).
pub fn word_class(text: &str, s: usize, e: usize, start: usize, bits: u16) -> Class {
    let bytes = text.as_bytes();
    let mut bits = bits & (Class::LETTERS | Class::LOWER);
    if start < s && bytes[s - 1] == b'+' {
        bits |= Class::PLUS;
    }
    if bytes[s].is_ascii_alphabetic() {
        bits |= Class::LETTER_FIRST;
        if e - s >= 2 && bytes[s + 1].is_ascii_alphabetic() {
            bits |= Class::ALPHA2;
        }
    }
    Class(bits)
}

/// The [`Class`] bits a word's flags ([`WORD_LETTER`], [`WORD_LOWER`]) give.
pub fn flag_bits(flags: u8) -> u16 {
    let mut bits = 0;
    if flags & WORD_LETTER != 0 {
        bits |= Class::LETTERS;
    }
    if flags & WORD_LOWER != 0 {
        bits |= Class::LOWER;
    }
    bits
}

/// Facts about the words of one chain, from which the [`Class`] of a
/// candidate `words[i..=j]` follows word by word as `j` grows
/// ([`ChainFacts::first`], then [`ChainFacts::extend`]).
#[derive(Debug, Default)]
pub struct ChainFacts {
    /// Per word: [`Class::LETTERS`] and [`Class::LOWER`] as they apply,
    /// plus the separator bit of the run before it (none for the first).
    bits: Vec<u16>,
    /// Per word: whether it holds a digit.
    digit: Vec<bool>,
    /// Every bit some candidate of the chain may have: the OR of all
    /// words' and separators' bits, and of each word's `+`, first-letter
    /// and two-letter bits as a first word.
    any: u16,
    /// Alphanumerics in the whole chain.
    total: usize,
}

impl ChainFacts {
    /// Computes the facts of `words` (a chain of `text`, each word's flags in `flags`).
    pub fn reset(&mut self, text: &str, words: &[(usize, usize)], flags: &[u8]) {
        let bytes = text.as_bytes();
        self.bits.clear();
        self.digit.clear();
        self.any = 0;
        self.total = 0;
        for (k, (&(s, e), &f)) in words.iter().zip(flags).enumerate() {
            let mut bits = flag_bits(f);
            if k > 0 {
                bits |= Class::sep(&bytes[words[k - 1].1..s]);
            }
            self.bits.push(bits);
            self.digit.push(f & WORD_DIGIT != 0);
            // As a first word: a `+` before it, a letter first (and maybe
            // a second letter, in it or in the next word: both assumed).
            self.any |= bits;
            if s > 0 && bytes[s - 1] == b'+' {
                self.any |= Class::PLUS;
            }
            if bytes[s].is_ascii_alphabetic() {
                self.any |= Class::LETTER_FIRST | Class::ALPHA2;
            }
            self.total += e - s;
        }
    }

    /// A class holding every bit some candidate of the chain may have.
    pub fn any(&self) -> Class {
        Class(self.any)
    }

    /// Alphanumerics in the whole chain (no candidate holds more).
    pub fn total(&self) -> usize {
        self.total
    }

    /// The class of the one-word candidate `words[i]` starting at `start`
    /// ([`cand_start`]), and whether it holds a digit.
    pub fn first(
        &self,
        text: &str,
        words: &[(usize, usize)],
        i: usize,
        start: usize,
    ) -> (Class, bool) {
        let (s, e) = words[i];
        (word_class(text, s, e, start, self.bits[i]), self.digit[i])
    }

    /// The class of `words[i..=j]` from that of `words[i..j]` (`c`), and
    /// whether it holds a digit (from `digit`, that of `words[i..j]`).
    pub fn extend(
        &self,
        (c, digit): (Class, bool),
        text: &str,
        words: &[(usize, usize)],
        i: usize,
        j: usize,
    ) -> (Class, bool) {
        let mut bits = c.0 | self.bits[j];
        // A one-letter first word: the second letter is this word's first.
        if j == i + 1
            && words[i].1 - words[i].0 == 1
            && c.has(Class::LETTER_FIRST)
            && text.as_bytes()[words[j].0].is_ascii_alphabetic()
        {
            bits |= Class::ALPHA2;
        }
        (Class(bits), digit || self.digit[j])
    }
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
    /// An empty candidate whose buffers [`Cand::fill_known`] reuses.
    pub fn empty(text: &'t str) -> Cand<'t> {
        Cand {
            start: 0,
            end: 0,
            raw: &text[..0],
            before: &text[..0],
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
    #[cfg(test)]
    pub fn fill(&mut self, text: &'t str, words: &[(usize, usize)], i: usize, j: usize) -> bool {
        self.fill_known(text, words, i, j, true)
    }

    /// [`Cand::fill_known`] when whether the words hold a letter is known
    /// (from their [`Class`]): digits need no upper-casing or check.
    pub fn fill_known(
        &mut self,
        text: &'t str,
        words: &[(usize, usize)],
        i: usize,
        j: usize,
        letters: bool,
    ) -> bool {
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
        if letters {
            self.compact.make_ascii_uppercase();
            self.digits_only = self.compact.bytes().all(|b| b.is_ascii_digit());
        } else {
            self.digits_only = true;
        }
        let start = cand_start(text, words, i);
        self.plus = start < words[i].0 && bytes[start] == b'+';
        self.start = start;
        self.end = words[j].1;
        self.raw = &text[start..self.end];
        let mut b = start.saturating_sub(BEFORE);
        while !text.is_char_boundary(b) {
            b += 1;
        }
        self.before = &text[b..start];
        true
    }
}

/// Builds the candidate for words `words[i..=j]` of a chain (tests; the
/// engine reuses one [`Cand`] through [`Cand::fill_known`]).
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
        for_each_chain(text, 0, text.len(), |w, _| {
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
        for_each_chain(text, 0, text.len(), |w, _| {
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
    fn pieces_after_an_iban_head_are_embedded() {
        // The bank code has no digit; the eval's IBAN one digit off.
        let iban = "iban: GB27 TCQL 3958 9146 0583 15 (ok)";
        assert!(embedded_in(iban, "3958 9146 0583 15"));
        assert!(embedded_in(iban, "0583 15"));
        assert!(embedded_in(
            "IBAN GB27 TCQL 3958 9146 0583 15",
            "3958 9146 0583 15"
        ));
        assert!(embedded_in(
            "GB27TCQL 3958 9146 0583 15",
            "3958 9146 0583 15"
        ));
        assert!(embedded_in("GB27 TCQL 39589146058315", "39589146058315"));
        assert!(embedded_in(
            "VG40 VPVG 5570 6360 6071 0431",
            "5570 6360 6071 0431"
        ));
        // Not the start of a BBAN (Germany's are digits), past the IBAN's
        // length, no country, another separator.
        assert!(!embedded_in(
            "DE12 VISA 4111 1111 1111 1111",
            "4111 1111 1111 1111"
        ));
        assert!(!embedded_in(
            "GB27 TCQL 3958 9146 0583 17 4111 1111 1111 1111",
            "4111 1111 1111 1111"
        ));
        assert!(!embedded_in(
            "XX27 TCQL 3958 9146 0583 15",
            "3958 9146 0583 15"
        ));
        assert!(!embedded_in(
            "GB27 TCQL-3958-9146-0583-15",
            "3958-9146-0583-15"
        ));
    }

    /// The class read off a chain is the class of the built candidate.
    #[test]
    fn chain_facts_give_each_candidates_class() {
        let mut next = crate::detect::test_rng(0x9E37_79B9_7F4A_7C15u64);
        let alphabet = b"0123456789aZbY+(- ./)x";
        let mut facts = ChainFacts::default();
        let mut seen = 0;
        for _ in 0..20_000 {
            let len = 1 + next(30) as usize;
            let text: String = (0..len)
                .map(|_| alphabet[next(alphabet.len() as u64) as usize] as char)
                .collect();
            for_each_chain(&text, 0, text.len(), |w, flags| {
                facts.reset(&text, w, flags);
                for i in 0..w.len() {
                    let mut class = facts.first(&text, w, i, cand_start(&text, w, i));
                    for j in i..w.len() {
                        if j > i {
                            class = facts.extend(class, &text, w, i, j);
                        }
                        let Some(c) = candidate(&text, w, i, j) else {
                            continue;
                        };
                        seen += 1;
                        assert_eq!(class.0, Class::of(&c), "{:?} in {text:?}", c.raw);
                        assert_eq!(class.0 .0 & !facts.any().0, 0, "{:?} beyond any", c.raw);
                        assert!(c.compact.len() <= facts.total());
                        let digit = c.compact.bytes().any(|b| b.is_ascii_digit());
                        assert_eq!(class.1, digit, "{:?}", c.raw);
                    }
                }
            });
        }
        assert!(seen > 10_000, "{seen} candidates");
    }

    #[test]
    fn candidate_includes_plus() {
        let t = "call +44 20 7946 0958";
        let mut got = None;
        for_each_chain(t, 0, t.len(), |w, _| {
            got = candidate(t, w, 0, w.len() - 1).map(|c| (c.raw.to_string(), c.plus))
        });
        assert_eq!(got, Some(("+44 20 7946 0958".to_string(), true)));
    }
}
