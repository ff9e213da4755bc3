//! Patient context: the clues that a text is about a patient, not about
//! medicine in general.
//!
//! A drug or condition name is health data when it is about someone: in a
//! clinical note, a discharge letter, a prescription. The same names fill
//! news articles, drug price lists and encyclopaedia pages. So a dictionary
//! term is reported only when clues add up within [`WINDOW`] bytes of it.
//! Each kind of clue counts once, however often it occurs:
//!
//! - **record** clues (2 points): what only a patient's record holds:
//!   `MRN`, `DOB`, `date of birth`, `medical record`, `year-old`, `y/o`,
//!   `chief complaint`, `history of present illness`, `past medical
//!   history`, `admitted`, `discharged`, and the section headings of
//!   clinical notes with their colon (`assessment:`, `impression:`,
//!   `medications:`, `allergies:`, `diagnosis:`, `review of systems:`...);
//! - **patient** (1 point): `patient`, `patient's`, `pt` (the singular:
//!   news and health pages say `patients`; not after `a`, `any`, `each`,
//!   `every`: "if a patient has...");
//! - **person** (1 point): `he`, `she`, `his`, `her`, `him`, `Mr.`, `Mrs.`,
//!   `Ms.` (not in `he or she`, `his or her`: anyone);
//! - **clinical** (1 point): `diagnosed`, `dx`, `prescribed`,
//!   `history of`, `presents with`, `complains of`, `denies`, `status
//!   post`, `s/p`;
//! - **dose** (1 point): `mg`, `mcg`, `ml`, `units`, `tablet`, `capsule`,
//!   `dose`, `dosage`, `puffs`;
//! - **frequency** (1 point): `daily`, `b.i.d.`, `t.i.d.`, `q.d.`, `p.r.n.`,
//!   `at bedtime`, `by mouth`, `p.o.`, `twice a day`...
//!
//! - **reader** (minus 1 point): `you`, `your`: health pages and leaflets
//!   speak to their reader ("if you have diabetes"), notes about a
//!   patient do not.
//!
//! Two points report a term at `medium`, three or more at `high`. So
//! `metformin 500 mg tablets $4` (a price list: dose only) is not
//! reported, `metformin 500 mg b.i.d.` (a prescription: dose and frequency)
//! is; `diagnosed with hepatitis C` alone is not (news), `he was diagnosed
//! with hepatitis C` is (about a person), and so is any term under a
//! clinical note's `ASSESSMENT:` or next to `56-year-old`.

use std::sync::OnceLock;

/// Bytes on each side of a term searched for clues: about two lines of a
/// clinical note (a medication list under `the patient is on the
/// following medications:`).
pub(crate) const WINDOW: usize = 200;

/// Longest clue word, in bytes (a test checks it).
pub(crate) const LONGEST: usize = 32;

/// The kinds of clue, by bit.
pub(crate) const RECORD: u8 = 1;
/// See [`RECORD`].
pub(crate) const PATIENT: u8 = 2;
/// See [`RECORD`].
pub(crate) const PERSON: u8 = 4;
/// See [`RECORD`].
pub(crate) const CLINICAL: u8 = 8;
/// See [`RECORD`].
pub(crate) const DOSE: u8 = 16;
/// See [`RECORD`].
pub(crate) const FREQUENCY: u8 = 32;
/// See [`RECORD`] (counts against).
pub(crate) const READER: u8 = 64;

/// Record clues (lower-case, whole words).
pub(crate) const RECORD_WORDS: &[&str] = &[
    "mrn",
    "dob",
    "d.o.b",
    "date of birth",
    "medical record",
    "year-old",
    "year old",
    "y/o",
    "chief complaint",
    "history of present illness",
    "past medical history",
    "hpi",
    "pmh",
    "admitted",
    "discharged",
    "discharge diagnosis",
    "admission diagnosis",
    "preoperative diagnosis",
    "postoperative diagnosis",
    "assessment:",
    "impression:",
    "medications:",
    "current medications:",
    "allergies:",
    "diagnosis:",
    "diagnoses:",
    "subjective:",
    "objective:",
    "physical examination:",
    "physical exam:",
    "review of systems:",
    "hospital course:",
    "reason for visit:",
    "reason for exam:",
    "indication:",
    "indications:",
    "assessment and plan:",
];
/// Patient clues.
pub(crate) const PATIENT_WORDS: &[&str] = &["patient", "patient's", "pt"];
/// Person clues.
pub(crate) const PERSON_WORDS: &[&str] = &["he", "she", "his", "her", "him", "mr.", "mrs.", "ms."];
/// Clinical clues.
pub(crate) const CLINICAL_WORDS: &[&str] = &[
    "diagnosed",
    "dx",
    "prescribed",
    "history of",
    "presents with",
    "presented with",
    "complains of",
    "denies",
    "status post",
    "s/p",
];
/// Reader clues.
pub(crate) const READER_WORDS: &[&str] = &["you", "your", "yours"];
/// Dose clues.
pub(crate) const DOSE_WORDS: &[&str] = &[
    "mg", "mcg", "ml", "units", "tablet", "tablets", "capsule", "capsules", "dose", "dosage",
    "puffs",
];
/// Frequency clues.
pub(crate) const FREQUENCY_WORDS: &[&str] = &[
    "daily",
    "nightly",
    "b.i.d",
    "bid",
    "t.i.d",
    "tid",
    "q.i.d",
    "qid",
    "q.d",
    "qd",
    "qhs",
    "q.h.s",
    "prn",
    "p.r.n",
    "p.o",
    "po",
    "by mouth",
    "at bedtime",
    "once a day",
    "twice a day",
    "three times a day",
    "every morning",
    "every evening",
];

/// Every clue word and its kind, indexed by its first word.
///
/// Clues are found by walking the text's words (runs of ASCII letters and
/// digits) and looking each up by its bytes, not with a literal set: the
/// clues include two- and three-letter words (`he`, `mg`, `pt`, `his`)
/// whose SIMD candidates are every `the` and `this` of a text (measured:
/// the literal set halved a prose scan).
pub(crate) struct Clues {
    /// Open-addressing table of first words (packed, at most 16 bytes):
    /// the word and the range of its clues in `entries`; `(0, 0, 0)` is
    /// empty. [`TABLE`] slots, indexed by [`slot`].
    table: Vec<(u128, u32, u32)>,
    /// Clue bytes and kind, grouped by first word.
    entries: Vec<(&'static [u8], u8)>,
    /// Whether some first word has this first byte and length (index
    /// `byte * 17 + len`): most words of a text stop here.
    shapes: Box<[bool]>,
    /// For each [`pair`] of a word's first two bytes (a one-byte word's
    /// second is a space): bit `len` set iff some first word of that
    /// length starts with them. What [`Clues::find`] asks before the table.
    pairs: Box<[u32; 64 * 64]>,
}

/// The index of a word's first two bytes in [`Clues::pairs`]: digits and
/// ASCII letters (either case) have a code each, every other byte shares one.
#[inline(always)]
fn pair(first: u8, second: u8) -> usize {
    usize::from(PAIR_CODE[usize::from(first)]) * 64 + usize::from(PAIR_CODE[usize::from(second)])
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
fn word_bits(lower: &[u8], base: usize) -> u64 {
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

/// Slots of the first-word table (a power of two, several times the
/// number of first words: a lookup is a multiplication and a compare).
const TABLE: usize = 1024;

fn slot(key: u128) -> usize {
    let h = (key as u64) ^ ((key >> 64) as u64).rotate_left(29);
    (h.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 54) as usize
}

/// ASCII letters and digits (the byte walk's table; the word walk reads
/// them off [`word_bits`]).
#[cfg(test)]
const WORD: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        t[b] = (b as u8).is_ascii_alphanumeric();
        b += 1;
    }
    t
};

impl std::fmt::Debug for Clues {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Clues({} words)", self.entries.len())
    }
}

/// One clue occurrence: its span and kind.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Clue {
    pub start: usize,
    pub end: usize,
    pub kind: u8,
}

/// The bytes of a word of at most 16 bytes as one number.
fn pack(word: &[u8]) -> Option<u128> {
    if word.is_empty() || word.len() > 16 {
        return None;
    }
    let mut b = [0u8; 16];
    b[..word.len()].copy_from_slice(word);
    Some(u128::from_le_bytes(b))
}

/// The word at `lower[s..e]` packed, reading 16 bytes at once where the
/// text has them.
fn pack_at(lower: &[u8], s: usize, e: usize) -> Option<u128> {
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

impl Clues {
    /// The clue set (built once per process, on first use).
    pub fn get() -> &'static Clues {
        static CLUES: OnceLock<Clues> = OnceLock::new();
        CLUES.get_or_init(|| {
            let mut all: Vec<(u128, &'static [u8], u8)> = Vec::new();
            for (list, kind) in [
                (RECORD_WORDS, RECORD),
                (PATIENT_WORDS, PATIENT),
                (PERSON_WORDS, PERSON),
                (READER_WORDS, READER),
                (CLINICAL_WORDS, CLINICAL),
                (DOSE_WORDS, DOSE),
                (FREQUENCY_WORDS, FREQUENCY),
            ] {
                for w in list {
                    let bytes = w.as_bytes();
                    let first = bytes
                        .iter()
                        .position(|b| !b.is_ascii_alphanumeric())
                        .unwrap_or(bytes.len());
                    // Every clue starts with a word of at most 16 bytes (a
                    // test checks it).
                    if let Some(key) = pack(&bytes[..first]) {
                        all.push((key, bytes, kind));
                    }
                }
            }
            all.sort_by_key(|&(key, w, _)| (key, std::cmp::Reverse(w.len())));
            let mut keys: Vec<(u128, u32, u32)> = Vec::new();
            let mut entries = Vec::new();
            for (key, w, kind) in all {
                match keys.last_mut() {
                    Some(k) if k.0 == key => k.2 += 1,
                    _ => keys.push((key, entries.len() as u32, entries.len() as u32 + 1)),
                }
                entries.push((w, kind));
            }
            let mut shapes = vec![false; 256 * 17].into_boxed_slice();
            for &(w, _) in &entries {
                let first = w
                    .iter()
                    .position(|b: &u8| !b.is_ascii_alphanumeric())
                    .unwrap_or(w.len());
                shapes[usize::from(w[0]) * 17 + first] = true;
            }
            let mut pairs = Box::new([0u32; 64 * 64]);
            for &(key, _, _) in &keys {
                let word = key.to_le_bytes();
                let len = word.iter().position(|&b| b == 0).unwrap_or(16);
                let second = if len > 1 { word[1] } else { b' ' };
                pairs[pair(word[0], second)] |= 1 << len;
            }
            let mut table = vec![(0u128, 0u32, 0u32); TABLE];
            for k in keys {
                let mut i = slot(k.0);
                while table[i].0 != 0 {
                    i = (i + 1) % TABLE;
                }
                table[i] = k;
            }
            Clues {
                table,
                entries,
                shapes,
                pairs,
            }
        })
    }

    /// Every whole-word clue in `lower` (ASCII lower-cased text), in order
    /// of start. A clue ending in punctuation (`mr.`, `assessment:`) needs
    /// no boundary after it; a dose unit also counts right after a number
    /// (`500mg`).
    ///
    /// Words are read off a bit mask of each 64 bytes' word bytes (made
    /// eight bytes at a time, [`word_bits`]), so the walk takes no branch
    /// per byte, and a word goes to the table only when some first word
    /// has its first two bytes and length ([`Clues::pairs`]): `the`, `and`,
    /// `as` stop there. Exactly [`Clues::find_bytewise`] (a test compares them).
    pub fn find(&self, lower: &[u8]) -> Vec<Clue> {
        let mut out = Vec::new();
        let n = lower.len();
        // Start of the word the previous block ended in.
        let mut open: Option<usize> = None;
        let mut base = 0;
        while base < n {
            let m = word_bits(lower, base);
            let mut k = 0u32;
            loop {
                let s = match open {
                    Some(s) => s,
                    None => {
                        let rest = if k >= 64 { 0 } else { m >> k };
                        if rest == 0 {
                            break;
                        }
                        k += rest.trailing_zeros();
                        base + k as usize
                    }
                };
                let gaps = if k >= 64 { 0 } else { !m >> k };
                if gaps == 0 {
                    // The word runs on into the next block.
                    open = Some(s);
                    break;
                }
                k += gaps.trailing_zeros();
                open = None;
                self.word(lower, s, (base + k as usize).min(n), &mut out);
            }
            base += 64;
        }
        if let Some(s) = open {
            self.word(lower, s, n, &mut out);
        }
        out
    }

    /// [`Clues::find`] byte by byte (the reference it is tested against).
    #[cfg(test)]
    pub fn find_bytewise(&self, lower: &[u8]) -> Vec<Clue> {
        let mut out = Vec::new();
        let n = lower.len();
        let mut i = 0;
        while i < n {
            if !WORD[usize::from(lower[i])] {
                i += 1;
                continue;
            }
            let s = i;
            while i < n && WORD[usize::from(lower[i])] {
                i += 1;
            }
            let e = i;
            self.clues_at(lower, s, e, false, &mut out);
            // `500mg`: the letters after a number, for dose units.
            if lower[s].is_ascii_digit() {
                if let Some(l) = lower[s..e].iter().position(|b| b.is_ascii_alphabetic()) {
                    if lower[s + l..e].iter().all(|b| b.is_ascii_alphabetic()) {
                        self.clues_at(lower, s + l, e, true, &mut out);
                    }
                }
            }
        }
        out
    }

    /// The clues at the word `lower[s..e]`: its own, and a dose unit after
    /// its digits (`500mg`).
    #[inline]
    fn word(&self, lower: &[u8], s: usize, e: usize, out: &mut Vec<Clue>) {
        let first = lower[s];
        if first.is_ascii_digit() {
            self.clues_at(lower, s, e, false, out);
            if let Some(l) = lower[s..e].iter().position(|b| b.is_ascii_alphabetic()) {
                if lower[s + l..e].iter().all(|b| b.is_ascii_alphabetic()) {
                    self.clues_at(lower, s + l, e, true, out);
                }
            }
            return;
        }
        let len = e - s;
        let second = if len > 1 { lower[s + 1] } else { b' ' };
        if len <= 16 && self.pairs[pair(first, second)] & (1 << len) != 0 {
            self.clues_at(lower, s, e, false, out);
        }
    }

    /// The clues whose first word is `lower[s..e]`; only dose units when
    /// `dose_only`.
    fn clues_at(&self, lower: &[u8], s: usize, e: usize, dose_only: bool, out: &mut Vec<Clue>) {
        if e - s > 16 || !self.shapes[usize::from(lower[s]) * 17 + (e - s)] {
            return;
        }
        let Some(key) = pack_at(lower, s, e) else {
            return;
        };
        let mut i = slot(key);
        let (from, to) = loop {
            let (k, from, to) = self.table[i];
            if k == key {
                break (from, to);
            }
            if k == 0 {
                return;
            }
            i = (i + 1) % TABLE;
        };
        let word = |b: u8| b.is_ascii_alphanumeric();
        // Longest first: `patient's` before `patient`, one clue per word.
        for &(clue, kind) in &self.entries[from as usize..to as usize] {
            if dose_only && kind != DOSE {
                continue;
            }
            let end = s + clue.len();
            if !lower[s..].starts_with(clue) {
                continue;
            }
            let after_ok = end >= lower.len() || !word(lower[end]) || !word(clue[clue.len() - 1]);
            if !after_ok {
                continue;
            }
            let generic = match kind {
                PATIENT => generic_before(lower, s),
                PERSON => either_or(lower, s, end),
                _ => false,
            };
            if !generic {
                out.push(Clue {
                    start: s,
                    end,
                    kind,
                });
            }
            break;
        }
    }
}

/// Whether the word ending just before `s` (one space between) makes the
/// patient a generic one: `a`, `any`, `each`, `every`.
fn generic_before(lower: &[u8], s: usize) -> bool {
    let head = &lower[..s];
    ["a ", "any ", "each ", "every "].iter().any(|w| {
        head.ends_with(w.as_bytes()) && {
            let b = head.len() - w.len();
            b == 0 || !head[b - 1].is_ascii_alphanumeric()
        }
    })
}

/// Whether the pronoun at `s..e` is one side of `he or she`, `his or
/// her`, `him or her` (either order): anyone.
fn either_or(lower: &[u8], s: usize, e: usize) -> bool {
    lower[e..].starts_with(b" or ") || lower[..s].ends_with(b" or ")
}

/// The kinds of clue (bits) wholly within `window` bytes before `start` or
/// after `end`; `clues` sorted by start.
pub(crate) fn kinds_near(clues: &[Clue], start: usize, end: usize, window: usize) -> u8 {
    let lo = start.saturating_sub(window);
    let hi = end.saturating_add(window);
    let first = clues.partition_point(|c| c.start < lo);
    let mut kinds = 0;
    for c in &clues[first..] {
        if c.start >= hi {
            break;
        }
        let before = c.end <= start;
        let after = c.start >= end;
        if (before || after) && c.end <= hi {
            kinds |= c.kind;
        }
    }
    kinds
}

/// Points of a set of clue kinds: a record clue 2, a reader clue -1,
/// every other kind 1.
pub(crate) fn points(kinds: u8) -> u32 {
    let mut p = 0;
    if kinds & RECORD != 0 {
        p += 2;
    }
    p += (kinds & !RECORD & !READER).count_ones();
    if kinds & READER != 0 {
        p = p.saturating_sub(1);
    }
    p
}
