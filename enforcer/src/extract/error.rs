//! Errors of extraction. Inside [`extract`](super::extract) every error becomes
//! an [`Extraction::Unscannable`](super::Extraction) reason; the worker pool
//! returns them from its constructor.

/// What went wrong while extracting a file or running workers.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A configured limit was exceeded.
    #[error("{what} exceeds the limit of {limit}")]
    Limit {
        /// What was measured ("expanded size 300000000 bytes").
        what: String,
        /// The limit, with its unit and setting name.
        limit: String,
    },
    /// The per-file wall-time limit passed.
    #[error("wall time limit of {0} ms exceeded")]
    Timeout(u64),
    /// The content is corrupt or truncated.
    #[error("corrupt {format}: {detail}")]
    Corrupt {
        /// The format being parsed ("zip", "PDF").
        format: &'static str,
        /// What the parser said.
        detail: String,
    },
    /// The content is encrypted or password protected.
    #[error("encrypted {0}: cannot be scanned")]
    Encrypted(String),
    /// The content uses a feature we do not read.
    #[error("unsupported {0}")]
    Unsupported(String),
    /// OCR failed.
    #[error("OCR failed: {0}")]
    Ocr(String),
    /// A helper program (pdftoppm) failed.
    #[error("{program} failed: {detail}")]
    Tool {
        /// The program.
        program: &'static str,
        /// What went wrong.
        detail: String,
    },
    /// A member of a container failed; the reason is nested.
    #[error("{path}: {source}")]
    Member {
        /// The member path (`a.zip!/b/c.docx`).
        path: String,
        /// The underlying error.
        #[source]
        source: Box<Error>,
    },
    /// A worker process could not be started or spoke out of protocol.
    #[error("extraction worker: {0}")]
    Worker(String),
    /// An I/O error with context.
    #[error("{context}: {source}")]
    Io {
        /// What we were doing.
        context: String,
        /// The error.
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    pub(crate) fn corrupt(format: &'static str, detail: impl std::fmt::Display) -> Self {
        Error::Corrupt {
            format,
            detail: detail.to_string(),
        }
    }

    /// An error while reading (inflating) `what` of a `format` container:
    /// running out of memory is a limit, anything else corruption.
    pub(crate) fn read(format: &'static str, what: &str, err: std::io::Error) -> Self {
        if err.kind() == std::io::ErrorKind::OutOfMemory {
            Error::Limit {
                what: format!("memory needed to expand {what}"),
                limit: "the worker's memory limit".into(),
            }
        } else {
            Error::corrupt(format, format!("{what}: {err}"))
        }
    }

    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }

    /// Wraps this error with the member path it happened in (once: the
    /// innermost path is the most precise and already contains its parents).
    pub(crate) fn in_member(self, path: &str) -> Self {
        match self {
            Error::Member { .. } | Error::Timeout(_) => self,
            other => Error::Member {
                path: path.to_string(),
                source: Box::new(other),
            },
        }
    }
}

/// Result of extraction operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;
