//! Errors: one [`Problem`] per thing wrong with a document, all reported at once.
//!
//! Validation never stops at the first problem: an admin fixing a document by
//! hand wants the whole list. Each problem carries the document path of the
//! offending field (`rules[3].paste.profiles[1]`, also the `field` of admin API
//! errors) and, when the document came from a file, the line and column.

use std::fmt;
use std::path::PathBuf;

use serde::Serialize;

/// A position in a policy file, 1-based like editors show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Location {
    /// The file, as given to the loader.
    pub file: PathBuf,
    /// Line, starting at 1.
    pub line: usize,
    /// Column in characters, starting at 1.
    pub column: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file.display(), self.line, self.column)
    }
}

/// One thing wrong with a policy document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// Path of the offending field in the document, e.g. `rules[2].paste`;
    /// empty when the problem concerns the whole document.
    pub field: String,
    /// Where in the file, when the document was read from one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    /// What is wrong, in words an admin understands.
    pub message: String,
}

impl Problem {
    /// A problem with `field` (a document path) described by `message`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Problem {
            field: field.into(),
            location: None,
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(loc) = &self.location {
            write!(f, "{loc}: ")?;
        }
        if self.field.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.field, self.message)
        }
    }
}

/// The list of problems of an invalid document, displayed one per line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Problems(pub Vec<Problem>);

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.len();
        write!(f, "{n} problem{}", if n == 1 { "" } else { "s" })?;
        for p in &self.0 {
            write!(f, "\n  {p}")?;
        }
        Ok(())
    }
}

/// Errors of the `policies` crate.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The document is invalid; every problem found is listed.
    #[error("invalid policy document: {0}")]
    Invalid(Problems),
    /// A policy file or history directory could not be read or written.
    #[error("{what} {path}: {source}")]
    Io {
        /// What was being done ("reading policy file", ...).
        what: &'static str,
        /// The path involved.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// An edit was based on a version that is no longer current.
    #[error("version conflict: the edit was based on version {expected} but version {current} is in force; reload and retry")]
    Conflict {
        /// The version the editor saw.
        expected: u64,
        /// The version in force.
        current: u64,
    },
    /// The shared store that decides versions (a cluster's database) cannot
    /// be reached: nothing changed.
    #[error("the shared policy store is unavailable, nothing changed: {0}")]
    Unavailable(String),
    /// A version asked for (rollback, history) does not exist.
    #[error("no policy version {0}")]
    UnknownVersion(u64),
    /// The persisted history is corrupt.
    #[error("policy history {path}: line {line}: {message}")]
    History {
        /// The history file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        message: String,
    },
}

impl Error {
    /// The problems of an [`Error::Invalid`], empty for other errors.
    pub fn problems(&self) -> &[Problem] {
        match self {
            Error::Invalid(p) => &p.0,
            _ => &[],
        }
    }
}

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
