//! `[audit]`: where and how sessions are recorded.

use std::path::PathBuf;

use serde::Deserialize;

use crate::config_error::ConfigError;

/// Recording settings, the `[audit]` table of the server configuration.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuditConfig {
    /// Record sessions at all.
    pub enabled: bool,
    /// Root directory of recordings (`<dir>/<yyyy-mm-dd>/<session>/`), the
    /// SQLite index (`<dir>/index.sqlite`) and the retention log. Made
    /// 0700 (recordings 0600); an existing one must be a directory owned by
    /// the server's user, else the server refuses to start (the default,
    /// `<tmp>/isolator/recordings`, is a name another user could create first).
    pub dir: PathBuf,
    /// Most frames per second written to a recording. Frames arriving faster
    /// are skipped (the latest one is written once the interval has passed);
    /// 0 records no frames at all.
    pub max_fps: u32,
    /// A segment file is sealed and a new one started past this many bytes.
    pub segment_max_bytes: u64,
    /// ... or past this many seconds, so a crash loses at most an unsealed tail.
    pub segment_max_secs: u64,
    /// Seconds between keyframe index entries: the most a player scans after seeking.
    pub keyframe_interval_secs: u64,
    /// Milliseconds between `fsync`s of the open segment (records are written
    /// to the file immediately; this bounds what a power loss can take).
    pub sync_interval_ms: u64,
    /// Recordings older than this many days are deleted; 0 keeps them forever.
    pub retention_days: u64,
    /// When all recordings together exceed this many bytes, the oldest are
    /// deleted; 0 for no cap.
    pub retention_max_bytes: u64,
    /// Keep typed and pasted text in recordings. Off: only its length is kept.
    /// Policies may still keep it for specific rules.
    pub keep_typed_text: bool,
}

impl Default for AuditConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            dir: std::env::temp_dir().join("isolator").join("recordings"),
            max_fps: 5,
            segment_max_bytes: 16 << 20,
            segment_max_secs: 300,
            keyframe_interval_secs: 2,
            sync_interval_ms: 1000,
            retention_days: 90,
            retention_max_bytes: 0,
            keep_typed_text: false,
        }
    }
}

impl AuditConfig {
    /// Checks values that parse but make no sense, naming the field.
    pub fn validate(&self, origin: &str) -> Result<(), ConfigError> {
        let bad = |field: &'static str, message: &str| {
            Err(ConfigError::Invalid {
                path: origin.to_owned(),
                field,
                message: message.to_owned(),
            })
        };
        if self.enabled && self.dir.as_os_str().is_empty() {
            return bad("audit.dir", "must name a directory");
        }
        if self.max_fps > 60 {
            return bad("audit.max_fps", "must be between 0 and 60");
        }
        if !(64 << 10..=1 << 30).contains(&self.segment_max_bytes) {
            return bad(
                "audit.segment_max_bytes",
                "must be between 65536 (64 KiB) and 1073741824 (1 GiB)",
            );
        }
        if self.segment_max_secs == 0 || self.segment_max_secs > 24 * 3600 {
            return bad("audit.segment_max_secs", "must be between 1 and 86400");
        }
        if self.keyframe_interval_secs == 0 || self.keyframe_interval_secs > 60 {
            return bad("audit.keyframe_interval_secs", "must be between 1 and 60");
        }
        if self.sync_interval_ms == 0 || self.sync_interval_ms > 60_000 {
            return bad("audit.sync_interval_ms", "must be between 1 and 60000");
        }
        if self.retention_max_bytes != 0 && self.retention_max_bytes < self.segment_max_bytes {
            return bad(
                "audit.retention_max_bytes",
                "must be 0 (no cap) or at least audit.segment_max_bytes",
            );
        }
        Ok(())
    }

    /// Resolves a relative `dir` against `base` (the config file's directory).
    pub fn resolve_paths(&mut self, base: &std::path::Path) {
        if self.dir.is_relative() {
            self.dir = base.join(&self.dir);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_validate_and_bad_values_name_the_field() {
        AuditConfig::default().validate("t").unwrap();
        let c: AuditConfig = toml::from_str("max_fps = 100").unwrap();
        let err = c.validate("t.toml").unwrap_err().to_string();
        assert!(err.contains("audit.max_fps"), "{err}");
        assert!(toml::from_str::<AuditConfig>("max_fsp = 1").is_err());
    }
}
