//! Context words: nearby words that raise a detector's confidence.
//!
//! Each detector's words compile into one ASCII-case-insensitive
//! Aho-Corasick automaton; a finding at `[start, end)` has context when one
//! of its words occurs as a whole word within `window` bytes on either side
//! (the span itself excluded). Only findings whose score differs with context
//! pay for the lookup.

use aho_corasick::{AhoCorasick, MatchKind};

/// A detector's context words, compiled.
#[derive(Debug, Clone)]
pub struct ContextWords {
    ac: Option<AhoCorasick>,
}

impl ContextWords {
    /// Compiles `words` (empty words are skipped).
    pub fn new<S: AsRef<str>>(words: &[S]) -> ContextWords {
        let words: Vec<&str> = words
            .iter()
            .map(AsRef::as_ref)
            .filter(|w| !w.trim().is_empty())
            .collect();
        if words.is_empty() {
            return ContextWords { ac: None };
        }
        let ac = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::LeftmostLongest)
            .build(&words)
            .ok();
        ContextWords { ac }
    }

    /// Whether any word occurs near `[start, end)` in `text`.
    pub fn near(&self, text: &str, start: usize, end: usize, window: usize) -> bool {
        let Some(ac) = &self.ac else { return false };
        let bytes = text.as_bytes();
        let lo = floor_boundary(text, start.saturating_sub(window));
        let hi = ceil_boundary(text, (end + window).min(text.len()));
        let check = |from: usize, to: usize| {
            ac.find_iter(&bytes[from..to]).any(|m| {
                let (s, e) = (from + m.start(), from + m.end());
                let before = s == 0 || !bytes[s - 1].is_ascii_alphanumeric();
                let after = e >= bytes.len() || !bytes[e].is_ascii_alphanumeric();
                before && after
            })
        };
        check(lo, start) || check(end.min(hi), hi)
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
        let c = ContextWords::new(&["ssn", "social security"]);
        let t = "My SSN is 123-45-6789";
        assert!(c.near(t, 10, 21, 20));
        assert!(!c.near(t, 10, 21, 3));
        let t2 = "lessnothing 123-45-6789";
        assert!(!c.near(t2, 12, 23, 40));
    }
}
