//! Context words: nearby words that raise a detector's confidence.
//!
//! Every detector's words compile into one ASCII-case-insensitive literal
//! set ([`ContextIndex`], a `LiteralSet`: SIMD candidate search, every
//! overlapping occurrence), each word knowing which detectors it serves. A
//! finding at `[start, end)` has context when one of its detector's words
//! occurs as a whole word within `window` bytes on either side (the span
//! itself excluded). A scan ([`ContextScan`]) finds the occurrences of all
//! words block by block (4 KB), lazily: a block is searched the first time a
//! finding whose confidence depends on context looks near it, then each
//! lookup is a binary search. Dense text with thousands of findings costs
//! one pass, clean text with one finding costs a few blocks.
//!
//! [`ContextScan::dets_near`] answers for several detectors at once (a
//! bitmask, one walk over the occurrences near a span): what gating a
//! chain's context-only detectors needs.

use std::cell::OnceCell;
use std::collections::HashMap;

use super::literals::LiteralSet;

/// The context words of every detector, compiled.
#[derive(Debug, Clone)]
pub struct ContextIndex {
    ac: Option<LiteralSet>,
    /// For each word (pattern id): the detectors it serves, sorted.
    dets: Vec<Vec<usize>>,
    /// Longest word, in bytes.
    longest: usize,
}

/// Bytes per lazily searched block of a [`ContextScan`].
const BLOCK: usize = 4096;

/// Context lookups for one text: occurrences found block by block on demand.
#[derive(Debug)]
pub struct ContextScan<'a> {
    index: &'a ContextIndex,
    /// The text, ASCII lower-cased.
    lower: &'a [u8],
    blocks: Vec<OnceCell<Vec<Occurrence>>>,
}

impl ContextScan<'_> {
    /// Whether a word of `det` occurs wholly within `window` bytes before
    /// `start` or after `end`.
    pub fn near(&self, det: usize, start: usize, end: usize, window: usize) -> bool {
        self.blocks_near(start, end, window)
            .any(|occ| self.index.near(occ, det, start, end, window))
    }

    /// Bit `k` set iff a word of `dets[k]` occurs wholly within `window`
    /// bytes before `start` or after `end` (bit `k` = [`ContextScan::near`]
    /// of `dets[k]`), for the first 64 entries of `dets` (later ones are not
    /// looked at). One walk over the occurrences near the span, stopping
    /// once every bit is set.
    pub fn dets_near(&self, start: usize, end: usize, window: usize, dets: &[usize]) -> u64 {
        let all = full_mask(dets.len());
        let mut found = 0;
        for occ in self.blocks_near(start, end, window) {
            found |= self.index.dets_near(occ, start, end, window, dets);
            if found == all {
                break;
            }
        }
        found
    }

    /// The occurrences of each block that may hold a word within `window`
    /// of `[start, end)`, each block searched on first use.
    fn blocks_near(
        &self,
        start: usize,
        end: usize,
        window: usize,
    ) -> impl Iterator<Item = &[Occurrence]> + '_ {
        let blocks = if self.index.ac.is_none() || self.lower.is_empty() {
            0..0
        } else {
            let lo = start.saturating_sub(window);
            let hi = end.saturating_add(window).min(self.lower.len());
            let (first, last) = (lo / BLOCK, hi.saturating_sub(1) / BLOCK);
            first..last.min(self.blocks.len() - 1) + 1
        };
        blocks.map(move |b| {
            self.blocks[b]
                .get_or_init(|| {
                    let from = b * BLOCK;
                    let to = (from + BLOCK).min(self.lower.len());
                    self.index.occurrences_lower(self.lower, from, to)
                })
                .as_slice()
        })
    }
}

/// The low `n` bits set (all 64 when `n >= 64`).
fn full_mask(n: usize) -> u64 {
    if n >= 64 {
        u64::MAX
    } else {
        (1u64 << n) - 1
    }
}

/// One whole-word occurrence of a context word.
#[derive(Debug, Clone, Copy)]
pub struct Occurrence {
    start: usize,
    end: usize,
    word: usize,
}

impl ContextIndex {
    /// Compiles `(detector, words)` pairs (empty words are skipped; words
    /// are matched case-insensitively).
    pub fn new<S: AsRef<str>>(per_detector: &[(usize, &[S])]) -> ContextIndex {
        let mut ids: HashMap<String, usize> = HashMap::new();
        let mut words: Vec<String> = Vec::new();
        let mut dets: Vec<Vec<usize>> = Vec::new();
        for (det, list) in per_detector {
            for w in list.iter().map(AsRef::as_ref) {
                if w.trim().is_empty() {
                    continue;
                }
                let key = w.to_ascii_lowercase();
                let id = *ids.entry(key.clone()).or_insert_with(|| {
                    words.push(key);
                    dets.push(Vec::new());
                    words.len() - 1
                });
                if !dets[id].contains(det) {
                    dets[id].push(*det);
                    dets[id].sort_unstable();
                }
            }
        }
        let longest = words.iter().map(String::len).max().unwrap_or(0);
        if words.is_empty() {
            return ContextIndex {
                ac: None,
                dets,
                longest,
            };
        }
        let ac = LiteralSet::new(&words, true).ok();
        ContextIndex { ac, dets, longest }
    }

    /// Lazy context lookups for a text, given ASCII lower-cased
    /// (`to_ascii_lowercase`: the engine lower-cases each text once).
    pub fn scan<'a>(&'a self, lower: &'a [u8]) -> ContextScan<'a> {
        ContextScan {
            index: self,
            lower,
            blocks: (0..lower.len().div_ceil(BLOCK))
                .map(|_| OnceCell::new())
                .collect(),
        }
    }

    /// Every whole-word occurrence of a context word in `text`, by start.
    pub fn occurrences(&self, text: &str) -> Vec<Occurrence> {
        self.occurrences_in(text, 0, text.len())
    }

    /// The whole-word occurrences that start in `text[from..to]`, by start.
    pub fn occurrences_in(&self, text: &str, from: usize, to: usize) -> Vec<Occurrence> {
        self.occurrences_lower(&text.as_bytes().to_ascii_lowercase(), from, to)
    }

    /// [`ContextIndex::occurrences_in`] on ASCII lower-cased text (whole-word
    /// checks do not depend on case).
    fn occurrences_lower(&self, bytes: &[u8], from: usize, to: usize) -> Vec<Occurrence> {
        let Some(ac) = &self.ac else {
            return Vec::new();
        };
        let end = to.saturating_add(self.longest).min(bytes.len());
        let mut out: Vec<Occurrence> = Vec::new();
        ac.for_each(bytes, from, end, |m| {
            let (s, e) = (m.start(), m.end());
            if s < to
                && (s == 0 || !bytes[s - 1].is_ascii_alphanumeric())
                && (e >= bytes.len() || !bytes[e].is_ascii_alphanumeric())
            {
                out.push(Occurrence {
                    start: s,
                    end: e,
                    word: m.pattern().as_usize(),
                });
            }
        });
        out.sort_by_key(|o| (o.start, o.end));
        out
    }

    /// Whether a word of `det` occurs wholly within `window` bytes before
    /// `start` or after `end` (`occ` from [`ContextIndex::occurrences`] on the same text).
    pub fn near(
        &self,
        occ: &[Occurrence],
        det: usize,
        start: usize,
        end: usize,
        window: usize,
    ) -> bool {
        let lo = start.saturating_sub(window);
        let hi = end.saturating_add(window);
        let first = occ.partition_point(|o| o.start < lo);
        occ[first..].iter().take_while(|o| o.start < hi).any(|o| {
            let side = o.end <= start || (o.start >= end && o.end <= hi);
            side && self.dets[o.word].binary_search(&det).is_ok()
        })
    }

    /// Bit `k` set iff [`ContextIndex::near`] holds for `dets[k]` (first 64
    /// entries of `dets`), in one walk over `occ`.
    pub fn dets_near(
        &self,
        occ: &[Occurrence],
        start: usize,
        end: usize,
        window: usize,
        dets: &[usize],
    ) -> u64 {
        let all = full_mask(dets.len());
        let lo = start.saturating_sub(window);
        let hi = end.saturating_add(window);
        let first = occ.partition_point(|o| o.start < lo);
        let mut found = 0;
        for o in occ[first..].iter().take_while(|o| o.start < hi) {
            if !(o.end <= start || (o.start >= end && o.end <= hi)) {
                continue;
            }
            let served = &self.dets[o.word];
            for (k, d) in dets.iter().enumerate().take(64) {
                if found & (1 << k) == 0 && served.binary_search(d).is_ok() {
                    found |= 1 << k;
                }
            }
            if found == all {
                break;
            }
        }
        found
    }
}

/// Largest char boundary <= `i`.
pub fn floor_boundary(text: &str, mut i: usize) -> usize {
    i = i.min(text.len());
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Smallest char boundary >= `i`.
pub fn ceil_boundary(text: &str, mut i: usize) -> usize {
    i = i.min(text.len());
    while !text.is_char_boundary(i) {
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_whole_words_in_window() {
        let c = ContextIndex::new(&[(0, &["ssn", "social security"][..]), (1, &["sin"][..])]);
        let t = "My SSN is 123-45-6789";
        let occ = c.occurrences(t);
        assert!(c.near(&occ, 0, 10, 21, 20));
        assert!(!c.near(&occ, 0, 10, 21, 3));
        assert!(!c.near(&occ, 1, 10, 21, 20), "another detector's word");
        let t2 = "lessnothing 123-45-6789";
        assert!(!c.near(&c.occurrences(t2), 0, 12, 23, 40));
        // Overlapping words all count; the span itself is not context.
        let t3 = "x social security number 078-05-1120 ssn";
        let occ = c.occurrences(t3);
        assert!(c.near(&occ, 0, 25, 36, 40));
        let t4 = "ssn: 123-45-6789 and more";
        assert!(!c.near(&c.occurrences(t4), 0, 0, 16, 0));
    }

    #[test]
    fn lazy_blocks_agree_with_one_pass() {
        let c = ContextIndex::new(&[(0, &["ssn", "social security"][..])]);
        // Words on and around 4 KB block borders.
        let mut t = String::new();
        while t.len() < 3 * BLOCK {
            t.push_str("filler social security text ssn, ");
        }
        let all = c.occurrences(&t);
        let lower = t.to_ascii_lowercase();
        let lazy = c.scan(lower.as_bytes());
        for start in (0..t.len() - 20).step_by(7) {
            for window in [0, 5, 40, 80] {
                assert_eq!(
                    lazy.near(0, start, start + 11, window),
                    c.near(&all, 0, start, start + 11, window),
                    "at {start} window {window}"
                );
            }
        }
    }

    #[test]
    fn dets_near_agrees_with_near() {
        // Words shared by detectors, overlapping words, words on block borders.
        let lists: [&[&str]; 5] = [
            &["ssn", "social security"],
            &["security", "sin", "tax id"],
            &["card", "ssn"],
            &["id", "tax id", "dob"],
            &["phone", "tel"],
        ];
        let per: Vec<(usize, &[&str])> =
            lists.iter().enumerate().map(|(d, l)| (d * 3, *l)).collect();
        let c = ContextIndex::new(&per);
        let pieces = [
            "ssn",
            "SSN",
            "social security",
            "security",
            "sin",
            "tax id",
            "card",
            "id",
            "dob",
            "phone",
            "tel",
            "x",
            " ",
            " ",
            ", ",
            "-",
            "123-45-6789",
            "é",
            "lessnothing",
        ];
        let mut next = crate::detect::test_rng(0x2545_F491_4F6C_DD1Du64);
        let (mut checked, mut set_bits) = (0, 0);
        for round in 0..60 {
            let len = if round % 10 == 0 { 3 * BLOCK } else { 300 };
            let mut t = String::new();
            while t.len() < len {
                t.push_str(pieces[next(pieces.len() as u64) as usize]);
            }
            let occ = c.occurrences(&t);
            let lower = t.to_ascii_lowercase();
            let lazy = c.scan(lower.as_bytes());
            for _ in 0..200 {
                let start = next(t.len() as u64) as usize;
                let end = start + next(30) as usize;
                let window = [0, 3, 20, 80, 5000][next(5) as usize];
                // Detectors with words, one without (1), repeats.
                let dets: Vec<usize> = (0..next(8)).map(|_| next(14) as usize).collect();
                let want: u64 = dets
                    .iter()
                    .enumerate()
                    .filter(|(_, &d)| lazy.near(d, start, end, window))
                    .map(|(k, _)| 1u64 << k)
                    .sum();
                for (k, &d) in dets.iter().enumerate() {
                    assert_eq!(
                        want & (1 << k) != 0,
                        c.near(&occ, d, start, end, window),
                        "lazy and one-pass near differ"
                    );
                }
                assert_eq!(
                    lazy.dets_near(start, end, window, &dets),
                    want,
                    "{start}..{end} w{window} {dets:?}"
                );
                assert_eq!(c.dets_near(&occ, start, end, window, &dets), want);
                checked += 1;
                set_bits += want.count_ones();
            }
        }
        assert!(checked == 12_000 && set_bits > 2_000, "{set_bits} bits set");
        // More than 64 detectors: the first 64 answer, the rest are ignored.
        let many: Vec<usize> = (0..70).map(|k| k % 15).collect();
        let t = "ssn 123-45-6789 phone";
        let lower = t.to_ascii_lowercase();
        let got = c.scan(lower.as_bytes()).dets_near(4, 15, 10, &many);
        for (k, &d) in many.iter().enumerate().take(64) {
            assert_eq!(got & (1 << k) != 0, d == 0 || d == 6 || d == 12, "det {d}");
        }
        // No words at all: nothing is near.
        let empty = ContextIndex::new::<&str>(&[]);
        assert_eq!(empty.scan(b"ssn 1").dets_near(4, 5, 10, &[0]), 0);
    }
}
