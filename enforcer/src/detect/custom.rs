//! Custom detectors defined in data (policy files, admin API).
//!
//! Text matchers of three kinds (a fourth, `label`, matches documents'
//! sensitivity labels and is compiled by the engine): a regex (compiled by `regex-automata`'s meta engine, which
//! only accepts what it can run in linear time: no look-around, no
//! back-references; compile errors carry the position in the pattern), a
//! keyword list (Aho-Corasick, ASCII-case-insensitive unless asked, whole
//! words by default), and exact data match against an [`ExactDataSet`].
//! Custom detectors run on the normalised text like predefined ones. A bare
//! match has the spec's `confidence`; a context word within the window raises
//! it one level.

use aho_corasick::{AhoCorasick, MatchKind};
use regex_automata::meta::Regex;
use serde::{Deserialize, Serialize};

use super::error::{Error, Result};
use super::exact::ExactDataSet;
use super::types::Confidence;

fn medium() -> Confidence {
    Confidence::Medium
}
fn yes() -> bool {
    true
}

/// A custom detector as written in a policy document / admin API (serde, `kind` tag).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CustomDetectorSpec {
    /// Stable id (`[a-z0-9_.-]{1,64}`), unique among all detectors.
    pub id: String,
    /// One-line description shown to admins.
    #[serde(default)]
    pub description: String,
    /// What to match.
    #[serde(flatten)]
    pub kind: CustomKind,
    /// Context words raising confidence.
    #[serde(default)]
    pub context: Vec<String>,
    /// Confidence of a bare match.
    #[serde(default = "medium")]
    pub confidence: Confidence,
}

/// The matching part of a custom detector.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CustomKind {
    /// A regular expression (linear-time syntax only).
    Regex {
        /// The pattern.
        pattern: String,
    },
    /// A list of keywords or phrases.
    Keywords {
        /// The words.
        words: Vec<String>,
        /// Match case exactly (default: ASCII case-insensitive).
        #[serde(default)]
        case_sensitive: bool,
        /// Only match whole words (default: yes).
        #[serde(default = "yes")]
        whole_word: bool,
    },
    /// Exact data match; built in code from a CSV.
    ExactData {
        /// The hashed values.
        #[serde(skip)]
        data: ExactDataSet,
    },
    /// Sensitivity labels of documents (see [`crate::labels`]): fires on a
    /// label whose name or id matches one of `names` (`*` wildcards, case
    /// and punctuation ignored). Labels come from files (MIP properties,
    /// header and footer markings) and from the first and last lines of a
    /// text.
    Label {
        /// Label names or ids, with `*` wildcards.
        names: Vec<String>,
    },
}

/// Longest regex pattern accepted, in bytes.
pub const MAX_PATTERN_BYTES: usize = 4096;

/// A compiled custom matcher.
#[derive(Debug, Clone)]
pub enum Matcher {
    /// Regex.
    Regex(Regex),
    /// Keywords.
    Keywords {
        /// Automaton.
        ac: AhoCorasick,
        /// Whole words only.
        whole_word: bool,
    },
    /// Exact data.
    Exact(ExactDataSet),
}

/// Checks an id: 1-64 characters of `[a-z0-9_.-]`.
pub fn check_id(id: &str) -> Result<()> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_-.".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidId { id: id.to_string() })
    }
}

/// Compiles a linear-time regex, turning errors into [`Error::Regex`] with the position.
pub fn compile_regex(owner: &str, pattern: &str) -> Result<Regex> {
    if pattern.len() > MAX_PATTERN_BYTES {
        return Err(Error::Regex {
            detector: owner.to_string(),
            position: "pattern".into(),
            message: format!(
                "pattern is {} bytes; the limit is {MAX_PATTERN_BYTES}",
                pattern.len()
            ),
        });
    }
    let config = Regex::config()
        .nfa_size_limit(Some(8 << 20))
        .hybrid_cache_capacity(2 << 20);
    let re = Regex::builder()
        .configure(config)
        .build(pattern)
        .map_err(|e| {
            let (position, message) = match e.syntax_error() {
                Some(se) => {
                    let (span, msg) = match se {
                        regex_syntax::Error::Parse(p) => (Some(*p.span()), p.kind().to_string()),
                        regex_syntax::Error::Translate(t) => {
                            (Some(*t.span()), t.kind().to_string())
                        }
                        other => (None, other.to_string()),
                    };
                    match span {
                        Some(sp) => (
                            format!(
                                "offset {} (line {}, column {})",
                                sp.start.offset, sp.start.line, sp.start.column
                            ),
                            msg,
                        ),
                        None => ("pattern".to_string(), msg),
                    }
                }
                None => ("pattern".to_string(), e.to_string()),
            };
            Error::Regex {
                detector: owner.to_string(),
                position,
                message,
            }
        })?;
    Ok(re)
}

/// Compiles a custom spec into a matcher.
pub fn compile(spec: &CustomDetectorSpec) -> Result<Matcher> {
    check_id(&spec.id)?;
    let invalid = |message: &str| Error::InvalidDetector {
        detector: spec.id.clone(),
        message: message.to_string(),
    };
    match &spec.kind {
        CustomKind::Regex { pattern } => {
            let re = compile_regex(&spec.id, pattern)?;
            if re.is_match("") {
                return Err(invalid(
                    "regex matches the empty string, so it would match everywhere",
                ));
            }
            Ok(Matcher::Regex(re))
        }
        CustomKind::Keywords {
            words,
            case_sensitive,
            whole_word,
        } => {
            let words: Vec<&str> = words.iter().map(|w| w.trim()).collect();
            if words.is_empty() {
                return Err(invalid("keyword list is empty"));
            }
            if let Some(i) = words.iter().position(|w| w.is_empty()) {
                return Err(invalid(&format!("keyword {} is empty", i + 1)));
            }
            let ac = AhoCorasick::builder()
                .ascii_case_insensitive(!case_sensitive)
                .match_kind(MatchKind::LeftmostLongest)
                .build(&words)
                .map_err(|e| invalid(&format!("keywords do not compile: {e}")))?;
            Ok(Matcher::Keywords {
                ac,
                whole_word: *whole_word,
            })
        }
        CustomKind::ExactData { data } => {
            if data.is_empty() {
                return Err(invalid("exact data set is empty"));
            }
            Ok(Matcher::Exact(data.clone()))
        }
        // The engine compiles these itself (`EngineBuilder::custom_detector`).
        CustomKind::Label { .. } => Err(invalid(
            "a label detector matches a document's labels, not its text",
        )),
    }
}

impl Matcher {
    /// Spans of matches in `text[from..to]` (absolute offsets).
    pub fn find(&self, text: &str, from: usize, to: usize) -> Vec<(usize, usize)> {
        match self {
            Matcher::Regex(re) => {
                let input = regex_automata::Input::new(text).range(from..to);
                re.find_iter(input)
                    .filter(|m| !m.is_empty())
                    .map(|m| (m.start(), m.end()))
                    .collect()
            }
            Matcher::Keywords { ac, whole_word } => {
                let bytes = text.as_bytes();
                ac.find_iter(&bytes[from..to])
                    .map(|m| (from + m.start(), from + m.end()))
                    .filter(|&(s, e)| {
                        !whole_word
                            || ((s == 0 || !is_word_char(text, s, true))
                                && (e >= bytes.len() || !is_word_char(text, e, false)))
                    })
                    .collect()
            }
            Matcher::Exact(set) => set.find(text, from, to),
        }
    }
}

/// Whether the character just before (`before`) or at `i` is a word character.
fn is_word_char(text: &str, i: usize, before: bool) -> bool {
    let c = if before {
        text[..i].chars().next_back()
    } else {
        text[i..].chars().next()
    };
    c.is_some_and(|c| c.is_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regex_errors_carry_position() {
        let err = compile_regex("x", "ab(cd").unwrap_err().to_string();
        assert!(err.contains("offset 2"), "{err}");
        let err = compile_regex("x", r"(a)\1").unwrap_err().to_string();
        assert!(err.contains("offset"), "{err}");
        let err = compile_regex("x", r"a(?=b)").unwrap_err().to_string();
        assert!(
            err.contains("look-around") || err.contains("offset"),
            "{err}"
        );
    }

    #[test]
    fn keywords_whole_word() {
        let spec: CustomDetectorSpec = serde_json::from_str(
            r#"{"id":"proj","kind":"keywords","words":["Project Falcon","falcon-x"]}"#,
        )
        .unwrap();
        let m = compile(&spec).unwrap();
        let t = "notes on project falcon and falcon-xy";
        assert_eq!(m.find(t, 0, t.len()), vec![(9, 23)]);
    }

    #[test]
    fn empty_matching_regex_rejected() {
        let spec: CustomDetectorSpec =
            serde_json::from_str(r#"{"id":"e","kind":"regex","pattern":"a*"}"#).unwrap();
        assert!(compile(&spec)
            .unwrap_err()
            .to_string()
            .contains("empty string"));
    }
}
