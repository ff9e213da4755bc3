//! From document paths (`rules[3].paste.profiles[1]`) and byte offsets to
//! `line:column` in the TOML source.
//!
//! Validation works on the plain [`crate::PolicyDocument`] (it also serves the
//! JSON admin API, where there are no lines), and names fields by path. For
//! files, the loader keeps the spanned TOML tree (`toml::de::DeTable`) and
//! resolves each path to the span of the deepest element that exists: a missing
//! field points at the table that lacks it.

use std::ops::Range;

use toml::de::{DeTable, DeValue};
use toml::Spanned;

/// 1-based line and column (in characters) of byte `offset` in `src`.
pub fn line_col(src: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(src.len());
    while !src.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &src[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = src[line_start..offset].chars().count() + 1;
    (line, column)
}

/// One step of a document path.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

fn steps(path: &str) -> Vec<Step<'_>> {
    let mut out = Vec::new();
    for part in path.split('.') {
        let (key, mut rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if !key.is_empty() {
            out.push(Step::Key(key));
        }
        while let Some(r) = rest.strip_prefix('[') {
            let Some(end) = r.find(']') else { break };
            if let Ok(i) = r[..end].parse() {
                out.push(Step::Index(i));
            }
            rest = &r[end + 1..];
        }
    }
    out
}

/// A parsed TOML source that can locate document paths.
pub struct SpanIndex<'i> {
    root: Spanned<DeTable<'i>>,
}

impl<'i> SpanIndex<'i> {
    /// Parses `src`; `None` if it is not valid TOML (the deserialiser reports
    /// that error with its own position).
    pub fn new(src: &'i str) -> Option<Self> {
        DeTable::parse(src).ok().map(|root| SpanIndex { root })
    }

    /// The span of the deepest existing element along `path`.
    pub fn span(&self, path: &str) -> Option<Range<usize>> {
        let steps = steps(path);
        let Some((Step::Key(first), rest)) = steps.split_first() else {
            return None;
        };
        let mut cur: &Spanned<DeValue<'i>> = self
            .root
            .get_ref()
            .iter()
            .find(|(k, _)| k.get_ref() == first)
            .map(|(_, v)| v)?;
        for step in rest {
            let next = match step {
                Step::Key(k) => cur.get_ref().get(*k),
                Step::Index(i) => cur.get_ref().get(*i),
            };
            match next {
                Some(n) => cur = n,
                None => break,
            }
        }
        Some(cur.span())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column() {
        let src = "a = 1\nbé = 2\n";
        assert_eq!(line_col(src, 0), (1, 1));
        assert_eq!(line_col(src, 6), (2, 1));
        // after `b` and the two-byte `é`: third character
        assert_eq!(line_col(src, 9), (2, 3));
        assert_eq!(line_col(src, 1000), (3, 1));
    }

    #[test]
    fn locates_paths() {
        let src = "[[rules]]\nname = \"a\"\n\n[[rules]]\nname = \"b\"\npaste = { mode = \"scan\", profiles = [\"x\", \"nope\"] }\n";
        let idx = SpanIndex::new(src).unwrap();
        let at = |p: &str| line_col(src, idx.span(p).unwrap().start);
        assert_eq!(at("rules[1].name"), (5, 8));
        assert_eq!(at("rules[1].paste.profiles[1]"), (6, 43));
        // missing field: the closest existing parent
        assert_eq!(at("rules[1].paste.on_match").0, 6);
        assert!(idx.span("nothing").is_none());
    }
}
