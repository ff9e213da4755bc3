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
//! SIMD searchers, then confirms with the automaton only there:
//! - literals of 3+ bytes: one Teddy searcher (`aho_corasick::packed`,
//!   3-10 GB/s on prose) over their distinct 3- or 4-byte prefixes (a finder only
//!   names candidate starts; the automaton confirms);
//! - 1- and 2-byte literals (`@`, `SK`, `ip`): `memchr` / `memmem` each,
//!   or a second Teddy searcher when there are more than four;
//! - a set Teddy cannot take falls back to a leftmost Aho-Corasick search.
//!
//! Case-insensitive sets are compiled lower-cased and searched on an
//! ASCII-lower-cased copy of the text (same length, same offsets), so every
//! searcher stays case-sensitive and SIMD-friendly.
//!
//! [`LiteralSet::for_each`] is exact: the earliest candidate `s` over all
//! searchers is where the first literal occurrence at or after the resume
//! point starts; an overlapping automaton search over `[s, s + 2L)` (`L` =
//! the longest literal) reports every occurrence starting in `[s, s + L)`
//! (they all end inside that range), and the search resumes at `s + L`.
//! Each occurrence is reported once, exactly as one overlapping pass over
//! the range reports it (a property test checks this).

use aho_corasick::{packed, AhoCorasick, Input, Match, MatchKind, Span};
use memchr::memmem;

/// One way to find the next start of some literal of a group.
#[derive(Clone, Debug)]
enum Finder {
    /// Teddy over the literals of 3+ bytes.
    Packed(packed::Searcher),
    /// Leftmost automaton over a group Teddy did not take.
    Automaton(AhoCorasick),
    /// One 1-byte literal.
    Byte(u8),
    /// One 2-byte literal.
    Pair(memmem::Finder<'static>),
}

impl Finder {
    /// Start of the first occurrence in `hay[from..to]`.
    fn next(&self, hay: &[u8], from: usize, to: usize) -> Option<usize> {
        match self {
            Finder::Packed(p) => p
                .find_in(
                    hay,
                    Span {
                        start: from,
                        end: to,
                    },
                )
                .map(|m| m.start()),
            Finder::Automaton(ac) => ac.find(Input::new(hay).range(from..to)).map(|m| m.start()),
            Finder::Byte(b) => memchr::memchr(*b, &hay[from..to]).map(|i| from + i),
            Finder::Pair(f) => f.find(&hay[from..to]).map(|i| from + i),
        }
    }
}

/// A compiled set of literals; see the module docs.
#[derive(Clone, Debug)]
pub struct LiteralSet {
    /// Candidate searchers; together they cover every literal.
    finders: Vec<Finder>,
    /// Standard automaton: every occurrence near a candidate.
    all: AhoCorasick,
    /// Longest literal, in bytes.
    longest: usize,
}

impl LiteralSet {
    /// Compiles `patterns` (pattern ids are their indexes). With
    /// `case_insensitive`, literals match regardless of ASCII case, and
    /// [`LiteralSet::for_each`] must be given ASCII-lower-cased text.
    pub fn new<S: AsRef<[u8]>>(
        patterns: &[S],
        case_insensitive: bool,
    ) -> Result<LiteralSet, aho_corasick::BuildError> {
        let pats: Vec<Vec<u8>> = patterns
            .iter()
            .map(|p| {
                if case_insensitive {
                    p.as_ref().to_ascii_lowercase()
                } else {
                    p.as_ref().to_vec()
                }
            })
            .collect();
        let automaton =
            |kind, list: &[&Vec<u8>]| AhoCorasick::builder().match_kind(kind).build(list);
        let all = automaton(MatchKind::Standard, &pats.iter().collect::<Vec<_>>())?;
        let long: Vec<&Vec<u8>> = pats.iter().filter(|p| p.len() >= 3).collect();
        let mut short: Vec<&Vec<u8>> = pats.iter().filter(|p| p.len() < 3).collect();
        short.sort();
        short.dedup();
        let mut finders = Vec::new();
        if !long.is_empty() {
            // A finder only has to name candidate starts (the automaton
            // confirms), so Teddy searches the distinct 3-byte prefixes.
            // Four bytes when every literal has them: fewer false candidates.
            let width = long.iter().map(|p| p.len()).min().unwrap_or(3).min(4);
            let mut prefixes: Vec<&[u8]> = long.iter().map(|p| &p[..width]).collect();
            prefixes.sort_unstable();
            prefixes.dedup();
            // Teddy stays fast up to 64 patterns: larger sets (the context
            // words) get one searcher per 64 prefixes.
            for chunk in prefixes.chunks(64) {
                let teddy = packed::Config::new().builder().extend(chunk).build();
                finders.push(match teddy {
                    Some(t) => Finder::Packed(t),
                    None => Finder::Automaton(automaton(MatchKind::LeftmostFirst, &long)?),
                });
            }
        }
        if short.len() > 4 {
            let teddy = packed::Config::new().builder().extend(&short).build();
            finders.push(match teddy {
                Some(t) => Finder::Packed(t),
                None => Finder::Automaton(automaton(MatchKind::LeftmostFirst, &short)?),
            });
        } else {
            for p in short {
                finders.push(match p.as_slice() {
                    [] => continue,
                    [b] => Finder::Byte(*b),
                    _ => Finder::Pair(memmem::Finder::new(p).into_owned()),
                });
            }
        }
        Ok(LiteralSet {
            finders,
            all,
            longest: pats.iter().map(Vec::len).max().unwrap_or(0),
        })
    }

    /// Calls `f` with every occurrence lying wholly in `hay[from..to]`,
    /// overlapping ones included, in blocks of increasing position (within a
    /// block, by end). For a case-insensitive set, `hay` must be ASCII
    /// lower-cased (`to_ascii_lowercase`: same length and offsets).
    pub fn for_each(&self, hay: &[u8], from: usize, to: usize, mut f: impl FnMut(Match)) {
        let to = to.min(hay.len());
        if self.longest == 0 || from >= to {
            return;
        }
        // Next candidate of each finder at or after `pos` (None: no more).
        let mut next: Vec<Option<usize>> = self
            .finders
            .iter()
            .map(|fd| fd.next(hay, from, to))
            .collect();
        while let Some(s) = next.iter().flatten().copied().min() {
            let block_end = s.saturating_add(self.longest).min(to);
            let window_end = s.saturating_add(2 * self.longest).min(to);
            for m in self
                .all
                .find_overlapping_iter(Input::new(hay).range(s..window_end))
            {
                if m.start() < block_end {
                    f(m);
                }
            }
            if block_end >= to {
                break;
            }
            for (fd, n) in self.finders.iter().zip(next.iter_mut()) {
                if n.is_some_and(|p| p < block_end) {
                    *n = fd.next(hay, block_end, to);
                }
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

    #[test]
    fn agrees_with_one_overlapping_pass() {
        let sets: [&[&str]; 4] = [
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
        ];
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move |n: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % n
        };
        let alphabet = b"aAbBpPsSwWoOrRdD_-@:/kKiIeEcCtT .";
        for set in sets {
            for ci in [false, true] {
                let ls = LiteralSet::new(set, ci).unwrap();
                for _ in 0..300 {
                    let len = next(300) as usize;
                    let mut hay = String::new();
                    while hay.len() < len {
                        if next(5) == 0 {
                            hay.push_str(set[next(set.len() as u64) as usize]);
                        } else {
                            hay.push(alphabet[next(alphabet.len() as u64) as usize] as char);
                        }
                    }
                    let from = next(hay.len() as u64 + 1) as usize;
                    let to = from + next((hay.len() - from) as u64 + 1) as usize;
                    let mut got = Vec::new();
                    let lower = hay.to_ascii_lowercase();
                    let searched = if ci { lower.as_bytes() } else { hay.as_bytes() };
                    ls.for_each(searched, from, to, |m| {
                        got.push((m.start(), m.end(), m.pattern().as_usize()))
                    });
                    got.sort_unstable();
                    assert_eq!(
                        got,
                        reference(set, ci, &hay, from, to),
                        "{hay:?} {from}..{to}"
                    );
                }
            }
        }
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
