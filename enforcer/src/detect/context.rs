//! Context words: nearby words that raise a detector's confidence.
//!
//! Every detector's words compile into one ASCII-case-insensitive index
//! ([`ContextIndex`]), each word knowing which detectors it serves. A
//! finding at `[start, end)` has context when one of its detector's words
//! occurs as a whole word within `window` bytes on either side (the span
//! itself excluded). A scan ([`ContextScan`]) finds the occurrences of all
//! words block by block (4 KB), lazily: a block is searched the first time a
//! finding whose confidence depends on context looks near it, then each
//! lookup is a binary search. Dense text with thousands of findings costs
//! one pass, clean text with one finding costs a few blocks.
//!
//! A block is searched by a **word walk** ([`super::words`]), not a literal
//! set: a whole word that starts with a letter or digit starts where a run
//! of ASCII letters and digits starts, and that run is its first word
//! exactly (`ip` of `ip address`, `aws` of `aws_secret`). So the walk looks
//! each run of the text up in a table of first words (`FirstWords`: a bit
//! per (first two bytes, length) answers most runs, then a hash probe), and
//! compares the words filed under it. Words the walk cannot find (starting
//! with another byte, or whose first run is longer than 16 bytes: possible
//! in custom detectors' lists) stay in a `LiteralSet` searched as before.
//! (Eight Teddy searchers over the 151 predefined words were 10 of the 16
//! points of Teddy time on dense data, sixth round.)
//!
//! [`ContextScan::dets_near`] answers for several detectors at once (a
//! bitmask, one walk over the occurrences near a span): what gating a
//! chain's context-only detectors needs.

use std::cell::OnceCell;
use std::collections::HashMap;

use super::literals::LiteralSet;
use super::words::{for_each_letter_word, for_each_word, pack, pack_at, pair_at, pair_of, Walked};

/// The context words of every detector, compiled.
#[derive(Debug, Clone)]
pub struct ContextIndex {
    /// The words the word walk finds.
    walk: FirstWords,
    /// The others (those [`FirstWords::takes`] refuses), and the word id
    /// of each of their pattern ids.
    odd: Option<(LiteralSet, Vec<usize>)>,
    /// For each word (id): the detectors it serves, sorted.
    dets: Vec<Vec<usize>>,
    /// Every word (id), lower-cased.
    words: Vec<Box<[u8]>>,
    /// Longest word, in bytes.
    longest: usize,
}

/// Words looked up by their first word (the run of ASCII letters and
/// digits they start with, at most 16 bytes).
#[derive(Debug, Clone)]
struct FirstWords {
    /// Open-addressing table of first words, packed ([`pack`]), each with
    /// the range of its words in `entries`; a key of 0 is an empty slot. A
    /// power of two slots, at least four per first word.
    table: Vec<(u128, u32, u32)>,
    /// `64 - log2(table.len())`: the shift of [`FirstWords::slot`].
    shift: u32,
    /// The words (bytes, id), grouped by first word.
    entries: Vec<(Box<[u8]>, usize)>,
    /// For each [`pair`](super::words::pair) of a first word's first two
    /// bytes: bit `len` set iff some first word of that length starts
    /// with them. Most runs of a text stop here.
    pairs: Box<[u32; 64 * 64]>,
    /// Which words of a text the walk looks up.
    walk: Walk,
}

/// Which words of a text [`FirstWords`] needs to look up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Walk {
    /// Every first word starts with a letter: words that start with a
    /// digit are skipped without a look (most words of dense data).
    Letters,
    /// As `Letters`, but some first words are digits then letters
    /// (`1password`): those words are looked up too, whole.
    LettersAndUnits,
    /// Every word (some first word is another mix of digits and letters).
    All,
}

impl FirstWords {
    /// The length of `word`'s first word, when the walk can find it: it
    /// starts with an ASCII letter or digit and its first word is at most
    /// 16 bytes.
    fn takes(word: &[u8]) -> Option<usize> {
        let first = word
            .iter()
            .position(|b| !b.is_ascii_alphanumeric())
            .unwrap_or(word.len());
        (1..=16).contains(&first).then_some(first)
    }

    /// Indexes the words of `words` (lower-cased; id = index) that
    /// [`FirstWords::takes`].
    fn new(words: &[Box<[u8]>]) -> FirstWords {
        let mut all: Vec<(u128, usize)> = words
            .iter()
            .enumerate()
            .filter_map(|(id, w)| Some((pack(&w[..FirstWords::takes(w)?])?, id)))
            .collect();
        all.sort_unstable();
        let mut keys: Vec<(u128, u32, u32)> = Vec::new();
        let mut entries = Vec::with_capacity(all.len());
        for (key, id) in all {
            match keys.last_mut() {
                Some(k) if k.0 == key => k.2 += 1,
                _ => keys.push((key, entries.len() as u32, entries.len() as u32 + 1)),
            }
            entries.push((words[id].clone(), id));
        }
        let size = (keys.len() * 4).next_power_of_two().max(16);
        let shift = 64 - size.trailing_zeros();
        let mut table = vec![(0u128, 0u32, 0u32); size];
        let mut pairs = Box::new([0u32; 64 * 64]);
        for k in keys {
            let len = 16 - (k.0.leading_zeros() / 8) as usize;
            pairs[pair_of(&k.0.to_le_bytes()[..len])] |= 1 << len;
            let mut i = FirstWords::slot(k.0, shift);
            while table[i].0 != 0 {
                i = (i + 1) & (size - 1);
            }
            table[i] = k;
        }
        let digits_then_letters = |w: &[u8]| {
            let l = w
                .iter()
                .position(u8::is_ascii_alphabetic)
                .unwrap_or(w.len());
            l > 0 && l < w.len() && w[l..].iter().all(u8::is_ascii_alphabetic)
        };
        let walk = if entries.iter().all(|(w, _)| w[0].is_ascii_alphabetic()) {
            Walk::Letters
        } else if entries.iter().all(|(w, _)| {
            let first = &w[..FirstWords::takes(w).unwrap_or(0)];
            w[0].is_ascii_alphabetic() || digits_then_letters(first)
        }) {
            Walk::LettersAndUnits
        } else {
            Walk::All
        };
        FirstWords {
            table,
            shift,
            entries,
            pairs,
            walk,
        }
    }

    fn slot(key: u128, shift: u32) -> usize {
        let h = (key as u64) ^ ((key >> 64) as u64).rotate_left(29);
        (h.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> shift) as usize
    }

    /// Pushes the whole-word occurrences of the words filed under the
    /// word `lower[s..e]` (a maximal run of letters and digits).
    #[inline]
    fn at(&self, lower: &[u8], s: usize, e: usize, out: &mut Vec<Occurrence>) {
        let len = e - s;
        if len > 16 || self.pairs[pair_at(lower, s, e)] & (1 << len) == 0 {
            return;
        }
        let Some(key) = pack_at(lower, s, e) else {
            return;
        };
        let mask = self.table.len() - 1;
        let mut i = FirstWords::slot(key, self.shift);
        let (from, to) = loop {
            let (k, from, to) = self.table[i];
            if k == key {
                break (from, to);
            }
            if k == 0 {
                return;
            }
            i = (i + 1) & mask;
        };
        for (w, id) in &self.entries[from as usize..to as usize] {
            let end = s + w.len();
            if lower[s..].starts_with(w)
                && (end >= lower.len() || !lower[end].is_ascii_alphanumeric())
            {
                out.push(Occurrence {
                    start: s,
                    end,
                    word: *id,
                });
            }
        }
    }
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
        let blocks = if self.index.words.is_empty() || self.lower.is_empty() {
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

/// Whether `bytes[s..e]` is a whole word: no letter or digit touches it
/// on either side.
fn whole_word(bytes: &[u8], s: usize, e: usize) -> bool {
    (s == 0 || !bytes[s - 1].is_ascii_alphanumeric())
        && (e >= bytes.len() || !bytes[e].is_ascii_alphanumeric())
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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
        let words: Vec<Box<[u8]>> = words
            .into_iter()
            .map(|w| w.into_bytes().into_boxed_slice())
            .collect();
        let odd_ids: Vec<usize> = (0..words.len())
            .filter(|&id| FirstWords::takes(&words[id]).is_none())
            .collect();
        let odd = (!odd_ids.is_empty())
            .then(|| {
                let odd_words: Vec<&[u8]> = odd_ids.iter().map(|&id| &*words[id]).collect();
                LiteralSet::new(&odd_words, true).ok()
            })
            .flatten()
            .map(|set| (set, odd_ids));
        ContextIndex {
            walk: FirstWords::new(&words),
            odd,
            dets,
            words,
            longest,
        }
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
        let mut out: Vec<Occurrence> = Vec::new();
        match self.walk.walk {
            Walk::All => {
                for_each_word(bytes, from, to, |s, e| self.walk.at(bytes, s, e, &mut out));
            }
            walk => {
                let units = walk == Walk::LettersAndUnits;
                // A unit's digits (at most 16 bytes: a first word) may
                // start in range while its letters do not.
                let past = if units { to + 16 } else { to };
                for_each_letter_word(bytes, from, past, units, |s, e, walked| {
                    let s = match walked {
                        Walked::Word => s,
                        // The whole word: its digits run back to its start.
                        Walked::Unit => {
                            s - bytes[..s]
                                .iter()
                                .rev()
                                .take_while(|b| b.is_ascii_digit())
                                .count()
                        }
                    };
                    if (from..to).contains(&s) {
                        self.walk.at(bytes, s, e, &mut out);
                    }
                });
            }
        }
        if let Some((set, ids)) = &self.odd {
            let end = to.saturating_add(self.longest).min(bytes.len());
            set.for_each(bytes, from, end, |m| {
                let (s, e) = (m.start(), m.end());
                if s < to && whole_word(bytes, s, e) {
                    out.push(Occurrence {
                        start: s,
                        end: e,
                        word: ids[m.pattern().as_usize()],
                    });
                }
            });
        }
        // The walk gives its words in order of start; two words of one
        // start (`ip`, `ip address`) or odd words may need a sort.
        if !out.is_sorted_by_key(|o| (o.start, o.end)) {
            out.sort_by_key(|o| (o.start, o.end));
        }
        out
    }

    /// [`ContextIndex::occurrences_lower`] by one literal set of every
    /// word (the reference the word walk is tested against).
    #[cfg(test)]
    fn occurrences_reference(&self, bytes: &[u8], from: usize, to: usize) -> Vec<Occurrence> {
        let Ok(ac) = LiteralSet::new(&self.words, true) else {
            return Vec::new();
        };
        let end = to.saturating_add(self.longest).min(bytes.len());
        let mut out: Vec<Occurrence> = Vec::new();
        ac.for_each(bytes, from, end, |m| {
            let (s, e) = (m.start(), m.end());
            if s < to && whole_word(bytes, s, e) {
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

    #[test]
    fn the_word_walk_finds_what_a_literal_set_finds() {
        // The engine's words, and words the walk leaves to the literal
        // set: another first byte, a first word over 16 bytes, non-ASCII.
        let engine = crate::Engine::with_defaults();
        let infos = engine.detectors();
        let mut lists: Vec<Vec<String>> = infos.iter().map(|d| d.context.clone()).collect();
        let odd = [
            "#ssn",
            "-id",
            " tax",
            "(dob)",
            "ñandú",
            "seventeenletters1 no",
            "abcdefghijklmnopq",
            "abcdefghijklmnop",
            "ip",
            "e-mail",
            "Tax ID",
            "é",
        ];
        lists.push(odd.iter().map(|w| w.to_string()).collect());
        let index = |lists: &[Vec<String>]| {
            let per: Vec<(usize, &[String])> = lists
                .iter()
                .enumerate()
                .map(|(d, l)| (d, l.as_slice()))
                .collect();
            ContextIndex::new(&per)
        };
        // The predefined words: letters first but `1password` (the walk
        // skips words of digits first, but for digits then letters);
        // letters first only; and one digits only (every word).
        let c = index(&lists);
        assert!(c.odd.is_some(), "some words left to the literal set");
        assert_eq!(c.walk.walk, Walk::LettersAndUnits);
        let letters = ContextIndex::new(&[(0, &["ssn", "tax id", "bank-1"][..])]);
        assert_eq!(letters.walk.walk, Walk::Letters);
        lists.push(vec!["1099 form".to_string(), "2fa".to_string()]);
        let with_digits = index(&lists);
        assert_eq!(with_digits.walk.walk, Walk::All);
        let mut pieces: Vec<String> = lists.iter().flatten().cloned().collect();
        pieces.sort();
        pieces.dedup();
        let real = pieces.len();
        for p in [
            " ",
            " ",
            ", ",
            "-",
            "_",
            ".",
            "\n",
            "é",
            "x",
            "1",
            "4111",
            "ip",
            "IP",
            "Ssn",
            "abc",
            "1099 form",
            "2FA",
            "12",
            "1password",
            "21password",
            "a1password",
            "ssn",
            "bank-1",
        ] {
            pieces.push(p.to_string());
        }
        let mut next = crate::detect::test_rng(0x51A3_77C0_0FEE_D00D);
        let (mut compared, mut found) = (0, 0);
        for round in 0..300 {
            let len = if round % 10 == 0 { 2 * BLOCK } else { 400 };
            let mut t = String::new();
            while t.len() < len {
                let p = &pieces[next(pieces.len() as u64) as usize];
                // Real words in random case, often glued to the next piece.
                if next(2) == 0 && (next(real as u64 + 1) as usize) < real {
                    t.push_str(&p.to_ascii_uppercase());
                } else {
                    t.push_str(p);
                }
                if next(4) != 0 {
                    t.push_str([" ", ", ", "\n", "-", ".", "_"][next(6) as usize]);
                }
            }
            let lower = t.to_ascii_lowercase();
            let b = lower.as_bytes();
            let mut ranges = vec![(0, b.len())];
            for _ in 0..6 {
                let from = next(b.len() as u64 + 1) as usize;
                ranges.push((from, from + next(600) as usize));
            }
            for (from, to) in ranges {
                let to = to.min(b.len());
                for c in [&c, &letters, &with_digits] {
                    let want = c.occurrences_reference(b, from, to);
                    assert_eq!(
                        c.occurrences_lower(b, from, to),
                        want,
                        "{from}..{to} of {t:?}"
                    );
                    compared += 1;
                    found += want.len();
                }
            }
        }
        assert!(compared == 6_300 && found > 20_000, "{found} occurrences");
    }
}
