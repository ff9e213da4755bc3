//! Errors raised while building an engine or a selection. Scanning itself never fails.

/// Everything that can go wrong when compiling detectors and profiles.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Two detectors (predefined or custom) share one id.
    #[error("detector id `{0}` is already defined")]
    DuplicateDetector(String),
    /// Two profiles share one id.
    #[error("profile id `{0}` is already defined")]
    DuplicateProfile(String),
    /// An id is empty or holds characters other than `[a-z0-9_.-]`.
    #[error("invalid id `{id}`: ids are 1-64 characters of a-z, 0-9, `_`, `-` or `.`")]
    InvalidId {
        /// The offending id.
        id: String,
    },
    /// A custom regex does not compile (or uses a feature a linear-time engine cannot run).
    #[error("detector `{detector}`: regex does not compile at {position}: {message}")]
    Regex {
        /// The detector holding the regex.
        detector: String,
        /// Where in the pattern, e.g. `offset 4 (line 1, column 5)`, or `pattern` when unknown.
        position: String,
        /// What is wrong.
        message: String,
    },
    /// A custom detector definition is unusable (empty keyword list, empty data set...).
    #[error("detector `{detector}`: {message}")]
    InvalidDetector {
        /// The detector.
        detector: String,
        /// What is wrong.
        message: String,
    },
    /// A profile names a detector that the engine does not know.
    #[error("profile `{profile}`: unknown detector `{detector}`")]
    UnknownDetector {
        /// The profile.
        profile: String,
        /// The unknown detector id.
        detector: String,
    },
    /// A profile is unusable (no detectors, `min_matches` of 0, bad allow pattern...).
    #[error("profile `{profile}`: {message}")]
    InvalidProfile {
        /// The profile.
        profile: String,
        /// What is wrong.
        message: String,
    },
    /// A selection names a profile that the engine does not know.
    #[error("unknown profile `{0}`")]
    UnknownProfile(String),
    /// An edit of a [`super::FieldScanner`] does not fit the field.
    #[error("invalid edit: {0}")]
    InvalidEdit(String),
    /// An exact-data CSV could not be read.
    #[error("exact data CSV, line {line}: {message}")]
    Csv {
        /// 1-based line of the CSV input (0 when the input could not be read at all).
        line: u64,
        /// What is wrong.
        message: String,
    },
}

/// Result type of this module.
pub type Result<T, E = Error> = std::result::Result<T, E>;
