//! Which labels an admin cares about: name patterns of a `label` detector.
//!
//! A pattern is a label name, or a label id (GUID), with `*` standing for
//! any run of characters: `Confidential`, `Highly Confidential*`,
//! `*Internal*`, `2096f6a2-d2f7-48be-b329-b73aaa526e5d`. Names are compared
//! as [`markings::normalise`](super::markings::normalise) writes them (case,
//! punctuation and spacing ignored), so `Highly Confidential\All
//! Employees` matches `highly confidential*` and a marking `STRICTLY
//! CONFIDENTIAL` matches `Strictly Confidential`.

use super::markings::normalise;
use super::Label;

/// Longest pattern accepted, in bytes.
pub const MAX_PATTERN_BYTES: usize = 200;
/// Most patterns in one detector.
pub const MAX_PATTERNS: usize = 256;

/// Compiled name patterns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NamePatterns {
    /// Each pattern as the normalised pieces between its `*`s, and whether
    /// it starts and ends with `*`.
    patterns: Vec<Pattern>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Pattern {
    pieces: Vec<String>,
    open_start: bool,
    open_end: bool,
}

impl NamePatterns {
    /// Compiles `names`; the error says which entry (1-based) is wrong and why.
    pub fn new(names: &[String]) -> Result<NamePatterns, String> {
        if names.is_empty() {
            return Err("`names` is empty: list the label names (or ids) that matter".into());
        }
        if names.len() > MAX_PATTERNS {
            return Err(format!(
                "{} names; at most {MAX_PATTERNS} are accepted",
                names.len()
            ));
        }
        let mut patterns = Vec::with_capacity(names.len());
        for (i, name) in names.iter().enumerate() {
            let n = i + 1;
            if name.len() > MAX_PATTERN_BYTES {
                return Err(format!(
                    "name {n} is {} bytes; the limit is {MAX_PATTERN_BYTES}",
                    name.len()
                ));
            }
            let trimmed = name.trim();
            let pieces: Vec<String> = trimmed.split('*').map(normalise).collect();
            if pieces.iter().all(String::is_empty) {
                return Err(format!(
                    "name {n} (`{trimmed}`) has no letters or digits, so it would match every label"
                ));
            }
            patterns.push(Pattern {
                open_start: trimmed.starts_with('*'),
                open_end: trimmed.ends_with('*'),
                pieces: pieces.into_iter().filter(|p| !p.is_empty()).collect(),
            });
        }
        Ok(NamePatterns { patterns })
    }

    /// Whether `label` matches a pattern, by name or by id.
    pub fn matches(&self, label: &Label) -> bool {
        let name = normalise(&label.name);
        let id = label.id.as_deref().map(normalise);
        self.patterns
            .iter()
            .any(|p| p.matches(&name) || id.as_deref().is_some_and(|id| p.matches(id)))
    }
}

impl Pattern {
    fn matches(&self, text: &str) -> bool {
        let n = self.pieces.len();
        let mut rest = text;
        for (i, piece) in self.pieces.iter().enumerate() {
            let first = i == 0;
            let last = i + 1 == n;
            if first && !self.open_start {
                let Some(after) = rest.strip_prefix(piece.as_str()) else {
                    return false;
                };
                if last && !self.open_end {
                    return after.is_empty();
                }
                rest = after;
                continue;
            }
            if last && !self.open_end {
                return rest.len() >= piece.len() && rest.ends_with(piece.as_str());
            }
            match rest.find(piece.as_str()) {
                Some(at) => rest = &rest[at + piece.len()..],
                None => return false,
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::labels::LabelSource;

    fn label(name: &str) -> Label {
        Label::new(
            name,
            LabelSource::MsipProperty,
            Some("2096f6a2-d2f7-48be-b329-b73aaa526e5d".into()),
            "a.docx",
        )
    }

    #[test]
    fn globs_by_name_and_id() {
        let p = NamePatterns::new(&["Confidential".into(), "Highly Confidential*".into()]).unwrap();
        assert!(p.matches(&label("Confidential")));
        assert!(p.matches(&label("CONFIDENTIAL.")));
        assert!(p.matches(&label("Highly Confidential\\All Employees")));
        assert!(!p.matches(&label("Not Confidential")));
        assert!(!p.matches(&label("Public")));
        let p = NamePatterns::new(&["*internal*".into()]).unwrap();
        assert!(p.matches(&label("AMD Internal Distribution Only")));
        assert!(!p.matches(&label("Public")));
        let p = NamePatterns::new(&["2096F6A2-D2F7-48BE-B329-B73AAA526E5D".into()]).unwrap();
        assert!(p.matches(&label("Anything")));
        let p = NamePatterns::new(&["Conf*ial".into()]).unwrap();
        assert!(p.matches(&label("Confidential")));
        assert!(!p.matches(&label("Confidential stuff")));
    }

    #[test]
    fn bad_patterns_say_which() {
        assert!(NamePatterns::new(&[]).unwrap_err().contains("empty"));
        let err = NamePatterns::new(&["Secret".into(), " * ".into()]).unwrap_err();
        assert!(err.contains("name 2"), "{err}");
        let err = NamePatterns::new(&["x".repeat(300)]).unwrap_err();
        assert!(err.contains("name 1"), "{err}");
    }
}
