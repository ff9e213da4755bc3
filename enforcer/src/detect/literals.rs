//! Literal sets: every (overlapping) occurrence, found at SIMD speed.
//!
//! The engine needs *all* occurrences of its literals, overlapping ones
//! included (`pass` and `password`, `secret` and `client_secret` each pick
//! their own detector). An overlapping Aho-Corasick search walks its
//! automaton byte by byte (about 550 MB/s per core, measured), and the
//! crate's own prefilters give up on sets with 1-byte literals or ASCII
//! case-insensitivity: two such passes were a third of a prose scan.
//!
//! A [`LiteralSet`] instead *finds the next candidate position* with
//! SIMD searchers, each of which is exact about what it looks for. The
//! literals fall into three groups: 1-2 bytes (`@`, `SK`, `ip`), exactly 3
//! bytes (`sk-`, `://`, `pwd`), and 4+ bytes (by their 4-byte prefix:
//! `AKIA`, `pass` for `password`). Per group, up to four distinct patterns
//! get a `memchr` / `memmem` searcher each (rare bytes: tens of GB/s), more
//! get Teddy searchers (`aho_corasick::packed`) of at most 20, and a group Teddy
//! cannot take (no SIMD) a leftmost Aho-Corasick search. 4-byte prefixes
//! are worth the third group: a 4-byte Teddy fingerprint has far fewer
//! false candidates on prose than a 3-byte one (the anchor set's Teddy went
//! from 0.55 to 0.22 ms/MB of prose, measured).
//!
//! Case-insensitive sets are compiled lower-cased and searched on an
//! ASCII-lower-cased copy of the text (same length, same offsets), so every
//! searcher stays case-sensitive and SIMD-friendly.
//!
//! **Confirmation is a comparison, not an automaton walk.** Every occurrence
//! starts where some searcher has a candidate: a long literal's prefix
//! occurs there, or a short literal does. At the earliest candidate `s`, only
//! the literals that can start there are compared with the text: the long
//! ones sharing the prefix the searcher matched (usually one; at most one
//! prefix per width matches at a position), and the short ones starting
//! with the byte at `s`. Then only the searchers whose
//! candidate was `s` resume, at `s + 1`. (The previous design confirmed with
//! an overlapping automaton walk over `[s, s + 2L)`, `L` the longest
//! literal: 21 bytes for the keyword set, a tenth of a prose scan.)
//!
//! [`LiteralSet::for_each`] is exact: every occurrence lying wholly in the
//! searched range, overlapping ones and duplicate patterns included, is
//! reported once, exactly as one overlapping Aho-Corasick pass over the
//! range reports it (a property test checks this on random sets and on the
//! engine's real keyword, anchor and context-word sets), in order of start,
//! then end, then pattern id. Empty literals never match.

use aho_corasick::{packed, AhoCorasick, Input, Match, MatchKind, PatternID, Span};
use memchr::memmem;

/// Why a [`LiteralSet`] did not compile.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// More patterns than pattern ids can name.
    #[error("{0} literals in one set: at most {max} fit", max = PatternID::LIMIT)]
    TooMany(usize),
    /// A fallback automaton (for a group Teddy cannot take) did not compile.
    #[error("literal set: {0}")]
    Automaton(#[from] aho_corasick::BuildError),
}

/// One way to find the next candidate position of some literal of a group.
#[derive(Clone, Debug)]
enum Finder {
    /// Teddy over distinct literals or prefixes.
    Packed(packed::Searcher),
    /// Leftmost automaton over a group Teddy did not take.
    Automaton(AhoCorasick),
    /// One 1-byte literal.
    Byte(u8),
    /// One literal of 2+ bytes.
    Literal(memmem::Finder<'static>),
}

impl Finder {
    /// Start of the first match in `hay[from..to]` and the index (among this
    /// finder's patterns) of the pattern matched there.
    fn next(&self, hay: &[u8], from: usize, to: usize) -> Option<(usize, usize)> {
        match self {
            Finder::Packed(p) => p
                .find_in(
                    hay,
                    Span {
                        start: from,
                        end: to,
                    },
                )
                .map(|m| (m.start(), m.pattern().as_usize())),
            Finder::Automaton(ac) => ac
                .find(Input::new(hay).range(from..to))
                .map(|m| (m.start(), m.pattern().as_usize())),
            Finder::Byte(b) => memchr::memchr(*b, &hay[from..to]).map(|i| (from + i, 0)),
            Finder::Literal(f) => f.find(&hay[from..to]).map(|i| (from + i, 0)),
        }
    }
}

/// Which literals a finder's candidate may start.
#[derive(Clone, Copy, Debug)]
enum Group {
    /// Long literals: the finder's pattern `k` is prefix `base + k`, of the
    /// 3-byte (`rank` 0) or 4-byte (`rank` 1) prefixes.
    Long { base: usize, rank: usize },
    /// Short literals: those starting with the candidate's first byte.
    Short,
}

/// A compiled set of literals; see the module docs.
#[derive(Clone, Debug)]
pub struct LiteralSet {
    /// Candidate searchers and the literals each one's candidates may start.
    finders: Vec<(Finder, Group)>,
    /// Every literal (lower-cased for a case-insensitive set) by pattern id.
    literals: Vec<Box<[u8]>>,
    /// For each distinct prefix of the long literals: the literals that
    /// start with it, by length then pattern id.
    by_prefix: Vec<Box<[u32]>>,
    /// For each first byte: an index into `short`, plus one (0: none).
    short_bucket: Box<[u16; 256]>,
    /// The short literals of each first byte, by length then pattern id.
    short: Vec<Box<[u32]>>,
}

/// Most patterns per Teddy searcher. Teddy hashes patterns into 8 (Slim)
/// or 16 (Fat) buckets by their first bytes' nibbles; the more patterns per
/// bucket, the more false candidates it must verify. Measured on the
/// context words (151, 2-22 bytes): searchers of at most 64 patterns cost
/// 4.3 ms/MB of prose and 1.29 ms/MB of dense data (all occurrences), at
/// most 20 (sizes balanced) 3.4 and 0.95, at most 8 2.8 and 1.5 (each
/// searcher's own pass starts to dominate on dense data).
const TEDDY_MAX: usize = 20;

/// Searchers for `patterns` (distinct, non-empty), each tagged by
/// `group(k)` for the index `k` of its first pattern: up to four, one
/// `memchr` / `memmem` each (exact, SIMD, fastest on rare bytes); more,
/// Teddy searchers of at most [`TEDDY_MAX`] patterns each, or a leftmost
/// automaton where Teddy is not available (or not `teddy`).
fn add_finders(
    finders: &mut Vec<(Finder, Group)>,
    patterns: &[&[u8]],
    group: impl Fn(usize) -> Group,
    teddy: bool,
) -> Result<(), BuildError> {
    if patterns.len() <= 4 {
        for (k, p) in patterns.iter().enumerate() {
            let finder = match p {
                [] => continue,
                [b] => Finder::Byte(*b),
                _ => Finder::Literal(memmem::Finder::new(p).into_owned()),
            };
            finders.push((finder, group(k)));
        }
        return Ok(());
    }
    // As many searchers as `TEDDY_MAX` requires, of balanced sizes.
    let size = patterns.len().div_ceil(patterns.len().div_ceil(TEDDY_MAX));
    for (c, chunk) in patterns.chunks(size).enumerate() {
        let packed = teddy
            .then(|| packed::Config::new().builder().extend(chunk).build())
            .flatten();
        let finder = match packed {
            Some(t) => Finder::Packed(t),
            None => Finder::Automaton(
                AhoCorasick::builder()
                    .match_kind(MatchKind::LeftmostFirst)
                    .build(chunk)?,
            ),
        };
        finders.push((finder, group(c * size)));
    }
    Ok(())
}

impl LiteralSet {
    /// Compiles `patterns` (pattern ids are their indexes). With
    /// `case_insensitive`, literals match regardless of ASCII case, and
    /// [`LiteralSet::for_each`] must be given ASCII-lower-cased text.
    ///
    /// Fails when there are more than [`PatternID::LIMIT`] patterns, or when
    /// a group Teddy cannot take (no SIMD on this CPU) does not compile into
    /// an automaton either.
    pub fn new<S: AsRef<[u8]>>(
        patterns: &[S],
        case_insensitive: bool,
    ) -> Result<LiteralSet, BuildError> {
        LiteralSet::build(patterns, case_insensitive, true)
    }

    /// [`LiteralSet::new`]; without `teddy`, the groups Teddy would take use
    /// the automaton fallback (what a CPU without SIMD gets; for tests).
    fn build<S: AsRef<[u8]>>(
        patterns: &[S],
        case_insensitive: bool,
        teddy: bool,
    ) -> Result<LiteralSet, BuildError> {
        if patterns.len() > PatternID::LIMIT {
            return Err(BuildError::TooMany(patterns.len()));
        }
        let literals: Vec<Box<[u8]>> = patterns
            .iter()
            .map(|p| {
                let p = p.as_ref();
                if case_insensitive {
                    p.to_ascii_lowercase().into_boxed_slice()
                } else {
                    p.into()
                }
            })
            .collect();
        // Pattern ids by length then id: the report order within a start.
        let mut ids: Vec<u32> = (0..literals.len() as u32)
            .filter(|&i| !literals[i as usize].is_empty())
            .collect();
        ids.sort_by_key(|&i| (literals[i as usize].len(), i));
        let (short_ids, long_ids): (Vec<u32>, Vec<u32>) = ids
            .into_iter()
            .partition(|&i| literals[i as usize].len() < 3);
        let mut finders = Vec::new();

        // Long literals: 3-byte ones by themselves, longer ones by their
        // 4-byte prefix. Two widths, not one: a 4-byte Teddy fingerprint
        // gives far fewer false candidates on prose than a 3-byte one, and
        // the few 3-byte literals (`sk-`, `://`, `eyJ`) are then rare-byte
        // `memmem` searches.
        let mut by_prefix: Vec<Box<[u32]>> = Vec::new();
        for (rank, width) in [(0, 3), (1, 4)] {
            let members: Vec<u32> = long_ids
                .iter()
                .copied()
                .filter(|&i| (literals[i as usize].len() == 3) == (width == 3))
                .collect();
            let mut prefixes: Vec<&[u8]> = members
                .iter()
                .map(|&i| &literals[i as usize][..width])
                .collect();
            prefixes.sort_unstable();
            prefixes.dedup();
            let base = by_prefix.len();
            for p in &prefixes {
                // `members` is by length then id: so is each list.
                by_prefix.push(
                    members
                        .iter()
                        .copied()
                        .filter(|&i| literals[i as usize].starts_with(p))
                        .collect(),
                );
            }
            let group = |k| Group::Long {
                base: base + k,
                rank,
            };
            add_finders(&mut finders, &prefixes, group, teddy)?;
        }

        // Short literals: bucketed by first byte.
        let mut short_bucket = Box::new([0u16; 256]);
        let mut short: Vec<Vec<u32>> = Vec::new();
        for &i in &short_ids {
            let first = literals[i as usize][0] as usize;
            if short_bucket[first] == 0 {
                short.push(Vec::new());
                short_bucket[first] = short.len() as u16;
            }
            short[usize::from(short_bucket[first]) - 1].push(i);
        }
        let mut distinct: Vec<&[u8]> = short_ids.iter().map(|&i| &*literals[i as usize]).collect();
        distinct.sort_unstable();
        distinct.dedup();
        add_finders(&mut finders, &distinct, |_| Group::Short, teddy)?;
        Ok(LiteralSet {
            finders,
            by_prefix,
            short_bucket,
            short: short.into_iter().map(Vec::into_boxed_slice).collect(),
            literals,
        })
    }

    /// Calls `f` with every occurrence lying wholly in `hay[from..to]`,
    /// overlapping ones included, by start, then end, then pattern id. For a
    /// case-insensitive set, `hay` must be ASCII lower-cased
    /// (`to_ascii_lowercase`: same length and offsets).
    pub fn for_each(&self, hay: &[u8], from: usize, to: usize, mut f: impl FnMut(Match)) {
        let to = to.min(hay.len());
        if self.finders.is_empty() || from >= to {
            return;
        }
        // Next candidate of each finder, and the pattern it matched there.
        let mut next: Vec<Option<(usize, usize)>> = self
            .finders
            .iter()
            .map(|(fd, _)| fd.next(hay, from, to))
            .collect();
        let mut report = |ids: &[u32], s: usize| {
            let rest = &hay[s..to];
            for &i in ids {
                let lit = &self.literals[i as usize];
                if rest.starts_with(lit) {
                    // `i` < PatternID::LIMIT, checked in `new`.
                    f(Match::new(
                        PatternID::new_unchecked(i as usize),
                        s..s + lit.len(),
                    ));
                }
            }
        };
        while let Some(s) = next.iter().flatten().map(|&(p, _)| p).min() {
            // At most one prefix of each width matches at `s`.
            let mut long: [Option<usize>; 2] = [None; 2];
            let mut short = false;
            for ((fd, group), n) in self.finders.iter().zip(next.iter_mut()) {
                let Some((p, k)) = *n else { continue };
                if p != s {
                    continue;
                }
                match *group {
                    Group::Long { base, rank } => long[rank] = Some(base + k),
                    Group::Short => short = true,
                }
                *n = if s + 1 < to {
                    fd.next(hay, s + 1, to)
                } else {
                    None
                };
            }
            if short {
                let bucket = self.short_bucket[usize::from(hay[s])];
                if bucket > 0 {
                    report(&self.short[usize::from(bucket) - 1], s);
                }
            }
            // Short, then 3-byte, then longer literals: by end within `s`.
            for k in long.into_iter().flatten() {
                report(&self.by_prefix[k], s);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(
        set: &[&str],
        ci: bool,
        hay: &str,
        from: usize,
        to: usize,
    ) -> Vec<(usize, usize, usize)> {
        let ac = AhoCorasick::builder()
            .ascii_case_insensitive(ci)
            .match_kind(MatchKind::Standard)
            .build(set)
            .unwrap();
        let mut v: Vec<_> = ac
            .find_overlapping_iter(Input::new(hay).range(from..to))
            .map(|m| (m.start(), m.end(), m.pattern().as_usize()))
            .collect();
        v.sort_unstable();
        v
    }

    /// xorshift64 from a fixed seed: `next(n)` is in `0..n`.
    fn rng(mut state: u64) -> impl FnMut(u64) -> u64 {
        move |n: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % n.max(1)
        }
    }

    /// A random text of about `len` bytes: bytes of `alphabet`, one in
    /// `1 / every` steps a literal of `set` (in random ASCII case when
    /// `mixed_case`), now and then a non-ASCII character.
    fn text(
        next: &mut impl FnMut(u64) -> u64,
        set: &[&str],
        alphabet: &[u8],
        len: usize,
        every: u64,
        mixed_case: bool,
    ) -> String {
        let mut hay = String::new();
        while hay.len() < len {
            match next(every) {
                0 => {
                    for c in set[next(set.len() as u64) as usize].chars() {
                        hay.push(if mixed_case && next(2) == 0 {
                            c.to_ascii_uppercase()
                        } else {
                            c
                        });
                    }
                }
                1 if next(8) == 0 => hay.push(['é', '４', '\u{200B}', 'ß'][next(4) as usize]),
                _ => hay.push(alphabet[next(alphabet.len() as u64) as usize] as char),
            }
        }
        hay
    }

    /// Checks `for_each` against one overlapping pass on random ranges of
    /// `texts` random texts, order included.
    fn check_set(set: &[&str], alphabet: &[u8], texts: usize, max_len: u64, seed: u64) {
        let mut next = rng(seed);
        for (ci, teddy) in [(false, true), (true, true), (false, false), (true, false)] {
            let ls = LiteralSet::build(set, ci, teddy).unwrap();
            // Without Teddy, the fallback automata are what is tested.
            let automata = ls
                .finders
                .iter()
                .any(|(f, _)| matches!(f, Finder::Automaton(_)));
            assert!(teddy || automata, "{set:?}");
            for _ in 0..texts {
                let len = next(max_len) as usize;
                let hay = text(&mut next, set, alphabet, len, 5, ci);
                let from = next(hay.len() as u64 + 1) as usize;
                let to = from + next((hay.len() - from) as u64 + 1) as usize;
                let mut got = Vec::new();
                let lower = hay.to_ascii_lowercase();
                let searched = if ci { lower.as_bytes() } else { hay.as_bytes() };
                ls.for_each(searched, from, to, |m| {
                    got.push((m.start(), m.end(), m.pattern().as_usize()))
                });
                // Already in the promised order: by start, end, pattern id.
                assert_eq!(
                    got,
                    reference(set, ci, &hay, from, to),
                    "{set:?} ci={ci} teddy={teddy} {hay:?} {from}..{to}"
                );
            }
        }
    }

    #[test]
    fn agrees_with_one_overlapping_pass() {
        let sets: [&[&str]; 7] = [
            &[
                "pass",
                "password",
                "secret",
                "client_secret",
                "pwd",
                "api_key",
            ],
            &["@", "://", "AKIA", "-----BEGIN", "ghp_", "sk-", "SK", "SG."],
            &["a", "aa", "aaa", "ab", "b", "bA", "aAb", "B"],
            &["SK", "@", "eyJ", "://", "sk-", "ip", "dx", "host"],
            // Duplicates (each id reported), one shared prefix, 4-byte width.
            &["pass", "pass", "passwd", "passport", "pass", "secret"],
            // Only short literals, more than four (a Teddy searcher).
            &["a", "b", "ab", "ba", "c", "cc", "bb"],
            // Empty literals never match; the others do.
            &["", "ab", "abc", "b", ""],
        ];
        let alphabet = b"aAbBpPsSwWoOrRdD_-@:/kKiIeEcCtT .";
        for (i, set) in sets.iter().enumerate() {
            let nonempty: Vec<&str> = set.iter().copied().filter(|s| !s.is_empty()).collect();
            let mut next = rng(i as u64 + 1);
            for ci in [false, true] {
                let ls = LiteralSet::new(set, ci).unwrap();
                for _ in 0..300 {
                    let len = next(300) as usize;
                    let hay = text(&mut next, &nonempty, alphabet, len, 5, false);
                    let from = next(hay.len() as u64 + 1) as usize;
                    let to = from + next((hay.len() - from) as u64 + 1) as usize;
                    let mut got = Vec::new();
                    let lower = hay.to_ascii_lowercase();
                    let searched = if ci { lower.as_bytes() } else { hay.as_bytes() };
                    ls.for_each(searched, from, to, |m| {
                        got.push((m.start(), m.end(), m.pattern().as_usize()))
                    });
                    let mut want = reference(&nonempty, ci, &hay, from, to);
                    // Ids in the reference are among the non-empty literals.
                    let ids: Vec<usize> = (0..set.len()).filter(|&k| !set[k].is_empty()).collect();
                    for w in &mut want {
                        w.2 = ids[w.2];
                    }
                    want.sort_unstable();
                    assert_eq!(got, want, "{set:?} ci={ci} {hay:?} {from}..{to}");
                }
            }
        }
    }

    /// The engine's own sets: anchors (case-sensitive), keywords and context
    /// words (case-insensitive), on long texts dense with them.
    #[test]
    fn agrees_on_the_predefined_sets() {
        use super::super::predefined::{self, Kind};
        let (mut anchors, mut keywords, mut context) = (Vec::new(), Vec::new(), Vec::new());
        for p in predefined::all() {
            match p.kind {
                Kind::Anchored { literals, .. } => anchors.extend_from_slice(literals),
                Kind::Keyword { keywords: k, .. } => keywords.extend_from_slice(k),
                Kind::Token(..) => {}
            }
            context.extend_from_slice(p.context);
        }
        assert!(anchors.len() > 30 && keywords.len() > 15 && context.len() > 100);
        let alphabet = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 _-.:/@#'";
        check_set(&anchors, alphabet, 40, 5_000, 7);
        check_set(&keywords, alphabet, 40, 5_000, 8);
        check_set(&context, alphabet, 40, 5_000, 9);
        // Long texts: searchers resume many times.
        check_set(&context, alphabet, 3, 100_000, 10);
    }

    #[test]
    fn large_sets_split_across_searchers() {
        // 150 words with distinct prefixes: more than one Teddy searcher.
        let words: Vec<String> = (0..150u32)
            .map(|i| {
                format!(
                    "{}{}x{i}",
                    (b'a' + (i % 26) as u8) as char,
                    (b'a' + (i / 26) as u8) as char
                )
            })
            .collect();
        let refs: Vec<&str> = words.iter().map(String::as_str).collect();
        let ls = LiteralSet::new(&refs, true).unwrap();
        assert!(ls.finders.len() >= 3, "{} finders", ls.finders.len());
        let hay: String = refs.iter().rev().map(|w| format!("{w} zz{w}, ")).collect();
        let lower = hay.to_ascii_lowercase();
        let mut got = Vec::new();
        ls.for_each(lower.as_bytes(), 0, lower.len(), |m| {
            got.push((m.start(), m.end(), m.pattern().as_usize()))
        });
        got.sort_unstable();
        assert_eq!(got, reference(&refs, true, &hay, 0, hay.len()));
    }
}
