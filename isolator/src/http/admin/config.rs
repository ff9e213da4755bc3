//! `[admin]`: the API clients of `/api/v1`.

use serde::Deserialize;

use crate::config_error::ConfigError;

/// The `[admin]` table: API clients of `/api/v1`.
#[derive(Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AdminConfig {
    /// SHA-256 hashes of the bearer tokens that may use the admin API, as
    /// `sha256:<64 hex digits>` (`isolator hash-token` makes a token and its
    /// hash). Only hashes are stored: the config file does not hold secrets.
    pub api_tokens: Vec<String>,
}

impl std::fmt::Debug for AdminConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminConfig")
            .field("api_tokens", &self.api_tokens.len())
            .finish()
    }
}

impl AdminConfig {
    /// Checks that every token entry is a hash written as `sha256:<hex>`.
    pub fn validate(&self, origin: &str) -> Result<(), ConfigError> {
        for (i, t) in self.api_tokens.iter().enumerate() {
            let hex = t.strip_prefix("sha256:").unwrap_or("");
            if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(ConfigError::invalid(
                    origin,
                    "admin.api_tokens",
                    format!(
                        "entry {} is not `sha256:<64 hex digits>` (make one with `isolator hash-token`)",
                        i + 1
                    ),
                ));
            }
        }
        Ok(())
    }
}
