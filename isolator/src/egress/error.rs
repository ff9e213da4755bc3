//! Errors of the egress module.

use std::net::SocketAddr;

/// What went wrong in egress configuration, parsing or the proxy itself.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A host or authority that is not valid under the WHATWG rules.
    #[error("invalid host `{input}`: {reason}")]
    Host {
        /// The text as given.
        input: String,
        /// Why it was refused.
        reason: String,
    },
    /// An allow/deny rule of the `[egress]` configuration is malformed.
    #[error("egress.{list}[{index}] = `{rule}`: {reason}")]
    Rule {
        /// `allow` or `deny`.
        list: &'static str,
        /// Position in the list, from 0.
        index: usize,
        /// The rule as written.
        rule: String,
        /// Why it was refused.
        reason: String,
    },
    /// Another configuration value is invalid.
    #[error("egress.{field}: {reason}")]
    Config {
        /// The offending field, dotted from `[egress]`.
        field: String,
        /// Why it was refused.
        reason: String,
    },
    /// The proxy could not bind its loopback listener.
    #[error("egress proxy: cannot listen on {addr}: {source}")]
    Bind {
        /// The address we tried.
        addr: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
}

/// Result with the egress [`Error`] as default.
pub type Result<T, E = Error> = std::result::Result<T, E>;
