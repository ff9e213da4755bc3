//! What a bad configuration is: a leaf module, so that every section of the
//! configuration (which lives with the module that owns it, such as
//! `egress::config` or `audit::config`) can say what is wrong without
//! depending on the [`crate::config`] that composes them.

use std::path::PathBuf;

/// A configuration problem, naming the field and what is wrong with it.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The TOML is malformed, has an unknown field or a value of the wrong type.
    #[error("{path}: {message}")]
    Parse {
        /// The file.
        path: String,
        /// toml's message, which names the line, column and field.
        message: String,
    },
    /// A value parsed but is out of range or inconsistent.
    #[error("{path}: `{field}`: {message}")]
    Invalid {
        /// The file.
        path: String,
        /// Dotted field name, e.g. `sessions.max`.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
}

impl ConfigError {
    /// A value of `field` in the file `origin` that parsed but makes no sense.
    pub fn invalid(origin: &str, field: &'static str, message: impl Into<String>) -> Self {
        ConfigError::Invalid {
            path: origin.to_owned(),
            field,
            message: message.into(),
        }
    }
}
