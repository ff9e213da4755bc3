//! Errors of the audit store: each names the file (and, for records, the
//! byte offset) it concerns.

use std::path::PathBuf;

/// What went wrong in the audit store.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file or directory operation failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A recording, bundle or index file does not have the expected form.
    #[error("{path}: {message}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong and where (byte offset, record number).
        message: String,
    },
    /// The SQLite index failed.
    #[error("audit index {path}: {source}")]
    Index {
        /// The index file.
        path: PathBuf,
        /// SQLite's error.
        source: rusqlite::Error,
    },
    /// A caller passed a value the store cannot accept (e.g. a session id with
    /// a path separator).
    #[error("{0}")]
    Invalid(String),
    /// The object storage bucket failed (down, refused, timed out, or an
    /// object over its size limit).
    #[error("object storage: {0}")]
    Bucket(String),
    /// No recording with this session id.
    #[error("no recording of session {0:?}")]
    NotFound(String),
}

/// Result with the audit [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Wraps an io error with its path.
pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
    let path = path.into();
    move |source| Error::Io { path, source }
}

/// A format error for `path`.
pub(crate) fn format(path: impl Into<PathBuf>, message: impl Into<String>) -> Error {
    Error::Format {
        path: path.into(),
        message: message.into(),
    }
}
