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

use super::super::literals::LiteralSet;
use super::super::words::{for_each_letter_word, pack, pack_at, pair, Walked};

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
    /// The strong clues' words ([`STRONG`] kinds), and whether each is a
    /// dose unit: what [`Clues::near_strong`] searches.
    strong: Option<(LiteralSet, Vec<bool>)>,
}

/// The kinds of clue without which nothing fires: every kind but
/// [`PERSON`] (one point alone) and [`READER`] (minus one). Two points
/// need a record clue, or two kinds of which one at most is a person.
pub(crate) const STRONG: u8 = !(PERSON | READER);

/// Slots of the first-word table (a power of two, several times the
/// number of first words: a lookup is a multiplication and a compare).
const TABLE: usize = 1024;

fn slot(key: u128) -> usize {
    let h = (key as u64) ^ ((key >> 64) as u64).rotate_left(29);
    (h.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 54) as usize
}

/// ASCII letters and digits (the byte walk's table; the word walk reads
/// them off `words::word_bits`).
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
            let (strong_words, doses): (Vec<&[u8]>, Vec<bool>) = entries
                .iter()
                .filter(|&&(_, kind)| kind & STRONG != 0)
                .map(|&(w, kind)| (w, kind == DOSE))
                .unzip();
            let strong = LiteralSet::new(&strong_words, false)
                .ok()
                .map(|set| (set, doses));
            Clues {
                table,
                entries,
                shapes,
                pairs,
                strong,
            }
        })
    }

    /// Every whole-word clue in `lower` (ASCII lower-cased text), in order
    /// of start. A clue ending in punctuation (`mr.`, `assessment:`) needs
    /// no boundary after it; a dose unit also counts right after a number
    /// (`500mg`).
    ///
    /// Words are read off a bit mask of each 64 bytes' word bytes (made
    /// eight bytes at a time, `words::word_bits`), so the walk takes no branch
    /// per byte, and a word goes to the table only when some first word
    /// has its first two bytes and length ([`Clues::pairs`]): `the`, `and`,
    /// `as` stop there. Exactly [`Clues::find_bytewise`] (a test compares them).
    ///
    /// No clue starts with a digit (a test checks it), so words that start
    /// with one are skipped without a look but for the letters ending a
    /// word of digits then letters (`500mg`), which may be a dose unit:
    /// the walk gives those as [`Walked::Unit`].
    ///
    /// Scans read clues only near strong ones ([`Clues::near_strong`],
    /// [`Clues::find_in`]); this reads them all, for tests.
    #[cfg(test)]
    pub fn find(&self, lower: &[u8]) -> Vec<Clue> {
        self.find_in(lower, &[(0, lower.len())])
    }

    /// The spans of `lower` within `radius` bytes of a place where a
    /// strong clue ([`STRONG`]) may be, merged, in order: every occurrence
    /// of a strong clue's words with the boundaries a clue needs (a word
    /// start, or digits before a dose unit; a word end unless the clue
    /// ends in punctuation). A superset of the strong clues (the other
    /// rules of [`Clues::find`] are not checked): one pass of a literal
    /// set (Teddy) instead of a walk over every word, which clean prose
    /// full of `he` and `his` does not need.
    pub fn near_strong(&self, lower: &[u8], radius: usize) -> Vec<(usize, usize)> {
        let n = lower.len();
        let Some((set, doses)) = &self.strong else {
            return if n == 0 { Vec::new() } else { vec![(0, n)] };
        };
        let word = |b: u8| b.is_ascii_alphanumeric();
        let mut spans: Vec<(usize, usize)> = Vec::new();
        set.for_each(lower, 0, n, |m| {
            let (s, e) = (m.start(), m.end());
            let dose = doses[m.pattern().as_usize()];
            let before = s == 0 || !word(lower[s - 1]) || (dose && lower[s - 1].is_ascii_digit());
            let after = e >= n || !word(lower[e]) || !word(lower[e - 1]);
            if !(before && after) {
                return;
            }
            let (lo, hi) = (s.saturating_sub(radius), (e + radius).min(n));
            match spans.last_mut() {
                Some(last) if lo <= last.1 => last.1 = last.1.max(hi),
                _ => spans.push((lo, hi)),
            }
        });
        spans
    }

    /// The clues of [`Clues::find`] that start in one of `spans` (sorted,
    /// not overlapping), in order.
    pub fn find_in(&self, lower: &[u8], spans: &[(usize, usize)]) -> Vec<Clue> {
        let mut out = Vec::new();
        for &(from, to) in spans {
            for_each_letter_word(lower, from, to, true, |s, e, walked| match walked {
                Walked::Word => self.word(lower, s, e, &mut out),
                Walked::Unit => self.clues_at(lower, s, e, true, &mut out),
            });
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

    /// The clues at the word `lower[s..e]`, which starts with a letter
    /// (words of digits first hold no clue but a dose unit after the
    /// digits, which the walk gives on its own).
    #[inline]
    fn word(&self, lower: &[u8], s: usize, e: usize, out: &mut Vec<Clue>) {
        let len = e - s;
        let second = if len > 1 { lower[s + 1] } else { b' ' };
        if len <= 16 && self.pairs[pair(lower[s], second)] & (1 << len) != 0 {
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
