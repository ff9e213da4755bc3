//! The PII record rule: several distinct kinds of personal data, repeated
//! close together, as in a customer list, fire a profile even when no
//! single item would (no id, no card: names, addresses, phones, e-mails,
//! dates of birth).
//!
//! Findings of the profile's detectors are grouped into clusters (a gap of
//! at most [`RecordRule::gap`] bytes between neighbours). Around each
//! cluster two more kinds are read off the text: *name-like* (two or
//! three capitalised words alone in a field or on a line) and *postal
//! address* (a house number and a street word, a UK postcode, a US state
//! and ZIP code). A cluster holds `n` records when its `min_kinds`-th most
//! frequent kind occurs `n` times: a CSV export of five customers with
//! e-mail, phone and address holds five, a letter's signature (one name,
//! one address, one phone) holds one. The profile fires at
//! [`RecordRule::min_records`] records in some cluster.

use std::sync::OnceLock;

use regex_automata::meta::Regex;

/// When a record profile fires.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordRule {
    /// Distinct kinds of personal data a record holds at least.
    pub min_kinds: usize,
    /// Most bytes between two neighbouring items of one cluster.
    pub gap: usize,
    /// Records a cluster must hold.
    pub min_records: usize,
}

impl Default for RecordRule {
    fn default() -> Self {
        RecordRule {
            min_kinds: 3,
            gap: 160,
            min_records: 2,
        }
    }
}

/// Kind ids of the two kinds found here (after the detectors' indexes).
const NAME: usize = usize::MAX - 1;
const ADDRESS: usize = usize::MAX;

fn name_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        // Two or three capitalised words alone in a field (CSV, TSV) or on
        // a line: `Jane Doe,`, `"Mary Ann Smith"`, `Name: John Roe`.
        Regex::new(r#"(?m)(?:^|[,;\t|"]|: )[ \t]*[A-Z][a-z]+(?:[ '-][A-Z][a-z]+){1,2}[ \t"]*(?:[,;\t|]|$)"#)
            .unwrap_or_else(|e| panic!("name pattern: {e}"))
    })
}

fn address_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(concat!(
            // House number and street: `12 High Street`, `221B Baker St`.
            r"\b[0-9]{1,5}[A-Za-z]?,? (?:[A-Z][a-z]+ ){0,3}(?:Street|St|Road|Rd|Avenue|Ave|Lane|Ln|Drive|Dr|Boulevard|Blvd|Way|Court|Ct|Place|Pl|Square|Sq|Terrace|Close|Crescent|Strasse|Straße)\b",
            // A UK postcode: `SW1A 1AA`, `M1 1AE`.
            r"|\b[A-Z]{1,2}[0-9][A-Z0-9]? [0-9][ABD-HJLNP-UW-Z]{2}\b",
            // A US state and ZIP code: `Springfield, IL 62704`.
            r"|, [A-Z]{2} [0-9]{5}(?:-[0-9]{4})?\b",
        ))
        .unwrap_or_else(|e| panic!("address pattern: {e}"))
    })
}

/// The name-like and postal address matches in a cluster's window.
fn kinds_in(window: &str) -> (usize, usize) {
    (
        name_re().find_iter(window).count(),
        address_re().find_iter(window).count(),
    )
}

/// [`kinds_in`], as the sum over the window's lines: neither pattern
/// matches a line end (`\n`) or starts at one, and a line start or end
/// looks to `^`, `$` and `\b` as the window's own start or end does, so
/// the matches of a window are those of its lines read one by one (a test
/// compares the two on random texts). `piece(lo, hi)` gives the counts
/// of `text[lo..hi]`, a line or the part of one at the window's edges.
fn kinds_by_line(
    text: &str,
    lo: usize,
    hi: usize,
    mut piece: impl FnMut(usize, usize) -> (usize, usize),
) -> (usize, usize) {
    let (mut names, mut addresses) = (0, 0);
    let mut s = lo;
    while s < hi {
        let e = memchr::memchr(b'\n', &text.as_bytes()[s..hi]).map_or(hi, |i| s + i);
        if e > s {
            let (n, a) = piece(s, e);
            names += n;
            addresses += a;
        }
        s = e + 1;
    }
    (names, addresses)
}

/// The name and address counts of the lines of cluster windows already
/// read, kept by a field scanner from one edit to the next: a keystroke
/// changes the line it is on, and the other lines' counts (two regex
/// passes over every window, most of a keystroke's profile evaluation in
/// a field holding a list) are looked up instead. A line's counts depend
/// on its bytes alone ([`kinds_by_line`]), so an entry stays true while
/// its bytes do: [`WindowCounts::edited`] keeps the pieces wholly before
/// an edit, shifts those wholly after it, and drops the rest.
#[derive(Clone, Debug, Default)]
pub(crate) struct WindowCounts {
    /// `(lo, hi, names, addresses)` of the pieces (lines, or the parts of
    /// lines at a window's edges) of the last evaluation, sorted.
    known: Vec<(usize, usize, usize, usize)>,
    /// Those of the evaluation under way.
    next: Vec<(usize, usize, usize, usize)>,
}

impl WindowCounts {
    /// `text[a..b]` was replaced by `len` bytes.
    pub(crate) fn edited(&mut self, a: usize, b: usize, len: usize) {
        self.known.retain_mut(|w| {
            if w.1 <= a {
                true
            } else if w.0 >= b {
                w.0 = w.0 - b + a + len;
                w.1 = w.1 - b + a + len;
                true
            } else {
                false
            }
        });
    }

    /// The text was replaced whole.
    pub(crate) fn clear(&mut self) {
        self.known.clear();
    }

    /// The counts of `text[lo..hi]`, its pieces looked up or read.
    fn get(&mut self, text: &str, lo: usize, hi: usize) -> (usize, usize) {
        let (known, next) = (&self.known, &mut self.next);
        kinds_by_line(text, lo, hi, |s, e| {
            let (names, addresses) = match known.binary_search_by(|w| (w.0, w.1).cmp(&(s, e))) {
                Ok(i) => (known[i].2, known[i].3),
                Err(_) => kinds_in(&text[s..e]),
            };
            next.push((s, e, names, addresses));
            (names, addresses)
        })
    }

    /// An evaluation is over: what it read is what is known.
    pub(crate) fn done(&mut self) {
        self.next.sort_unstable();
        self.next.dedup();
        std::mem::swap(&mut self.known, &mut self.next);
        self.next.clear();
    }
}

/// Evaluates `rule` over `items` (detector index, start, end), sorted by
/// start, in `text`. Returns the most records a cluster holds and, per
/// item, whether it is in a cluster of at least `min_records` records.
pub fn records(
    text: &str,
    items: &[(usize, usize, usize)],
    rule: &RecordRule,
) -> (usize, Vec<bool>) {
    records_with(text, items, rule, None)
}

/// [`records`], with the windows' counts looked up in `known` where it
/// has them (and added to it).
pub(crate) fn records_with(
    text: &str,
    items: &[(usize, usize, usize)],
    rule: &RecordRule,
    mut known: Option<&mut WindowCounts>,
) -> (usize, Vec<bool>) {
    let mut best = 0;
    let mut member = vec![false; items.len()];
    let mut i = 0;
    while i < items.len() {
        // One cluster: items[i..j].
        let mut j = i + 1;
        let mut end = items[i].2;
        while j < items.len() && items[j].1 <= end + rule.gap {
            end = end.max(items[j].2);
            j += 1;
        }
        let lo = super::context::floor_boundary(text, items[i].1.saturating_sub(rule.gap));
        let hi = super::context::ceil_boundary(text, (end + rule.gap).min(text.len()));
        let mut kinds: Vec<(usize, usize)> = Vec::new();
        let mut add = |kind: usize| match kinds.iter_mut().find(|(k, _)| *k == kind) {
            Some((_, n)) => *n += 1,
            None => kinds.push((kind, 1)),
        };
        for it in &items[i..j] {
            add(it.0);
        }
        let (names, addresses) = match known.as_deref_mut() {
            Some(known) => known.get(text, lo, hi),
            None => kinds_in(&text[lo..hi]),
        };
        for (kind, n) in [(NAME, names), (ADDRESS, addresses)] {
            for _ in 0..n {
                add(kind);
            }
        }
        let mut counts: Vec<usize> = kinds.iter().map(|&(_, n)| n).collect();
        counts.sort_unstable_by(|a, b| b.cmp(a));
        let n = counts
            .get(rule.min_kinds.saturating_sub(1))
            .copied()
            .unwrap_or(0);
        best = best.max(n);
        if n >= rule.min_records {
            member[i..j].iter_mut().for_each(|m| *m = true);
        }
        i = j;
    }
    (best, member)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_counts_keep_what_an_edit_leaves_alone() {
        let text = "Jane Doe,12 High Street\nJohn Roe,8 Station Road\n";
        let mut known = WindowCounts::default();
        for (lo, hi) in [(0, 24), (24, text.len())] {
            assert_eq!(known.get(text, lo, hi), kinds_in(&text[lo..hi]));
        }
        known.done();
        // One piece per line, without its line end.
        assert_eq!(known.known, [(0, 23, 1, 1), (24, 47, 1, 1)]);
        // Three bytes become one inside the second line: it goes.
        known.edited(30, 33, 1);
        assert_eq!(known.known, [(0, 23, 1, 1)]);
        // An insertion at the start shifts every piece after it; one
        // touching the edit goes.
        known.edited(0, 0, 5);
        assert_eq!(known.known, [(5, 28, 1, 1)]);
        known.edited(27, 28, 0);
        assert!(known.known.is_empty());
        // A piece is looked up by its exact bounds only.
        let mut known = WindowCounts::default();
        known.get(text, 0, 24);
        known.done();
        assert_eq!(known.get("no names here", 0, 13), (0, 0));
        assert_eq!(known.get("xxxxxxxxxxxxxxxxxxxxxxxxxxx", 0, 24), (0, 0));
        assert_eq!(
            known.get("xxxxxxxxxxxxxxxxxxxxxxx\nxx", 0, 24),
            (1, 1),
            "cached"
        );
    }

    /// xorshift64 from a fixed seed: `next(n)` is in `0..n`.
    fn rng(mut state: u64) -> impl FnMut(usize) -> usize {
        move |n| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n.max(1) as u64) as usize
        }
    }

    /// Random rows of names, addresses, postcodes, states with ZIP codes
    /// and their near misses, glued by field and line separators.
    fn random_rows(next: &mut impl FnMut(usize) -> usize, len: usize) -> String {
        let parts = [
            "Jane Doe",
            "Mary Ann Smith",
            "O'Neil-Roe",
            "\"John Roe\"",
            "Name: Ann Lee",
            "12 High Street",
            "221B Baker St",
            "8, Old Mill Road",
            "SW1A 1AA",
            "M1 1AE",
            "Springfield, IL 62704",
            "Austin, TX 73301-1234",
            "jane@example.com",
            "555-0100",
            "jane doe",
            "12 high street",
            "Straße",
            "é",
            "x",
        ];
        let seps = [
            ",", ", ", ";", "\t", "|", " ", "\n", "\n", "\r\n", "\n\n", ": ", "",
        ];
        let mut t = String::new();
        while t.len() < len {
            t.push_str(parts[next(parts.len())]);
            t.push_str(seps[next(seps.len())]);
        }
        t
    }

    fn boundary(t: &str, mut i: usize) -> usize {
        i = i.min(t.len());
        while !t.is_char_boundary(i) {
            i -= 1;
        }
        i
    }

    /// The counts of a window are those of its lines added up (what lets
    /// [`WindowCounts`] keep them by line), on random windows of random
    /// rows, cut anywhere.
    #[test]
    fn a_window_counts_what_its_lines_count() {
        let mut next = rng(0x9E37_79B9_7F4A_7C15);
        let mut matched = 0;
        for _ in 0..2000 {
            let len = 20 + next(400);
            let text = random_rows(&mut next, len);
            let lo = boundary(&text, next(text.len() + 1));
            let hi = boundary(&text, lo + next(text.len() + 1 - lo));
            let hi = hi.max(lo);
            let whole = kinds_in(&text[lo..hi]);
            let lines = kinds_by_line(&text, lo, hi, |s, e| kinds_in(&text[s..e]));
            assert_eq!(lines, whole, "{:?}", &text[lo..hi]);
            matched += whole.0 + whole.1;
        }
        assert!(matched > 2000, "{matched} matches");
    }

    /// Counts kept across random edits (inserts, deletes, replacements
    /// anywhere, lines joined and split) are those read afresh, for random
    /// windows after each edit.
    #[test]
    fn kept_counts_are_those_read_afresh() {
        let mut next = rng(0xD1B5_4A32_D192_ED03);
        let mut text = random_rows(&mut next, 2000);
        let mut known = WindowCounts::default();
        let mut hits = 0;
        for _ in 0..600 {
            let a = boundary(&text, next(text.len() + 1));
            let mut b = boundary(&text, a + [0, 1, 3, 40][next(4)]).max(a);
            let with = match next(5) {
                0 => String::new(),
                1 => "\n".to_string(),
                // One byte overwritten (a letter's case, a digit, a
                // separator): the line keeps its bounds, not its counts.
                2 if a < text.len() && text.is_char_boundary(a + 1) => {
                    b = a + 1;
                    ["J", "j", "1", " ", ",", "S"][next(6)].to_string()
                }
                _ => {
                    let len = 1 + next(60);
                    random_rows(&mut next, len)
                }
            };
            text.replace_range(a..b, &with);
            known.edited(a, b, with.len());
            if text.len() > 4000 {
                let cut = boundary(&text, 3000);
                let end = text.len();
                text.replace_range(cut..end, "");
                known.edited(cut, end, 0);
            }
            for _ in 0..3 {
                let lo = boundary(&text, next(text.len() + 1));
                let hi = boundary(&text, lo + next(800)).max(lo);
                assert_eq!(known.get(&text, lo, hi), kinds_in(&text[lo..hi]));
            }
            // Pieces read from what was kept.
            hits += known
                .next
                .iter()
                .filter(|p| known.known.binary_search(p).is_ok())
                .count();
            known.done();
        }
        assert!(hits > 1000, "{hits}");
    }

    #[test]
    fn kinds_read_off_the_text() {
        let count = |re: &Regex, t: &str| re.find_iter(t).count();
        assert_eq!(
            count(name_re(), "Jane Doe,jane@example.com\nMary Ann Smith\n"),
            2
        );
        assert_eq!(count(name_re(), "the Quick brown fox"), 0);
        assert_eq!(count(address_re(), "12 High Street, London SW1A 1AA"), 2);
        assert_eq!(
            count(address_re(), "742 Evergreen Terrace, Springfield, IL 62704"),
            2
        );
        assert_eq!(
            count(address_re(), "we met at 12 and went down the street"),
            0
        );
    }
}
