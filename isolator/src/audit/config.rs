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
    /// `[audit.object_store]`: also keep recordings in an S3-compatible
    /// bucket. Absent: recordings live on local disk only.
    pub object_store: Option<ObjectStoreConfig>,
}

/// `[audit.object_store]`: an S3-compatible bucket (AWS S3, Garage, MinIO,
/// Ceph radosgw...) that sealed segments are uploaded to as they seal.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct ObjectStoreConfig {
    /// The S3 API endpoint, `http://` or `https://` (e.g. `http://garage:3900`).
    pub endpoint: String,
    /// The bucket name.
    pub bucket: String,
    /// The region the endpoint signs for (Garage's default is `garage`).
    pub region: String,
    /// Key prefix: objects are `<prefix>/<yyyy-mm-dd>/<session>/<file>`.
    /// Empty for none; no leading or trailing `/`.
    pub prefix: String,
    /// Path-style addressing (`<endpoint>/<bucket>/<key>`), what self-hosted
    /// servers expect; false for virtual-hosted style (`<bucket>.<endpoint>`).
    pub path_style: bool,
    /// The access key id. Absent: the `AWS_ACCESS_KEY_ID` environment variable.
    pub access_key_id: Option<String>,
    /// A file holding the secret access key (a mounted Kubernetes Secret).
    /// Absent: the `AWS_SECRET_ACCESS_KEY` environment variable.
    pub secret_access_key_file: Option<PathBuf>,
    /// Keep sealed recordings on local disk after upload. Off: a session's
    /// local directory is removed once the session ended and every file of it
    /// is in the bucket.
    pub keep_local: bool,
    /// Seconds one bucket request (upload, download, list, delete) may take.
    pub timeout_secs: u64,
    /// Retries of a failed request, with exponential backoff. An upload that
    /// still fails stays on local disk and is retried by the next sweep.
    pub retries: u32,
    /// Seconds between sweeps that upload whatever is not in the bucket yet
    /// (also run at start).
    pub sweep_interval_secs: u64,
    /// Most upload jobs waiting; past it a sealed segment waits for the next
    /// sweep (the recorder never waits on the bucket).
    pub queue: usize,
    /// Bytes of recordings downloaded from the bucket kept under
    /// `<dir>/.bucket-cache` for the player (least recently used go first).
    pub cache_max_bytes: u64,
}

impl Default for ObjectStoreConfig {
    fn default() -> Self {
        Self {
            endpoint: String::new(),
            bucket: String::new(),
            region: "garage".into(),
            prefix: "recordings".into(),
            path_style: true,
            access_key_id: None,
            secret_access_key_file: None,
            keep_local: false,
            timeout_secs: 60,
            retries: 3,
            sweep_interval_secs: 60,
            queue: 256,
            cache_max_bytes: 1 << 30,
        }
    }
}

impl ObjectStoreConfig {
    /// Checks the values, naming the field in `audit.object_store`.
    pub fn validate(&self, origin: &str) -> Result<(), ConfigError> {
        let bad = |field: &'static str, message: &str| {
            Err(ConfigError::Invalid {
                path: origin.to_owned(),
                field,
                message: message.to_owned(),
            })
        };
        match url::Url::parse(&self.endpoint) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {}
            _ => {
                return bad(
                    "audit.object_store.endpoint",
                    "must be an http:// or https:// URL with a host",
                )
            }
        }
        let b = self.bucket.as_bytes();
        if !(3..=63).contains(&b.len())
            || !b
                .iter()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, b'-' | b'.'))
        {
            return bad(
                "audit.object_store.bucket",
                "must be 3 to 63 characters of a-z 0-9 - .",
            );
        }
        if self.region.is_empty() {
            return bad("audit.object_store.region", "must not be empty");
        }
        let p = &self.prefix;
        if p.starts_with('/')
            || p.ends_with('/')
            || p.contains("//")
            || p.split('/').any(|s| s == "." || s == "..")
            || !p
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.' | b'/'))
        {
            return bad(
                "audit.object_store.prefix",
                "must be A-Z a-z 0-9 - _ . separated by single /, without a leading or trailing /",
            );
        }
        if self.access_key_id.is_some() != self.secret_access_key_file.is_some() {
            return bad(
                "audit.object_store.secret_access_key_file",
                "access_key_id and secret_access_key_file go together (or neither: the \
                 AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY environment variables)",
            );
        }
        if self.timeout_secs == 0 || self.timeout_secs > 3600 {
            return bad(
                "audit.object_store.timeout_secs",
                "must be between 1 and 3600",
            );
        }
        if self.retries > 10 {
            return bad("audit.object_store.retries", "must be between 0 and 10");
        }
        if self.sweep_interval_secs == 0 || self.sweep_interval_secs > 86_400 {
            return bad(
                "audit.object_store.sweep_interval_secs",
                "must be between 1 and 86400",
            );
        }
        if self.queue == 0 || self.queue > 65_536 {
            return bad("audit.object_store.queue", "must be between 1 and 65536");
        }
        if self.cache_max_bytes < 1 << 20 {
            return bad(
                "audit.object_store.cache_max_bytes",
                "must be at least 1048576 (1 MiB)",
            );
        }
        Ok(())
    }

    /// The access key id and secret: from `access_key_id` and
    /// `secret_access_key_file`, else from `AWS_ACCESS_KEY_ID` and
    /// `AWS_SECRET_ACCESS_KEY`. The error names what is missing.
    pub fn credentials(&self) -> Result<(String, String), String> {
        if let (Some(id), Some(file)) = (&self.access_key_id, &self.secret_access_key_file) {
            let secret = std::fs::read_to_string(file).map_err(|e| {
                format!(
                    "audit.object_store.secret_access_key_file {}: {e}",
                    file.display()
                )
            })?;
            let secret = secret.trim();
            if secret.is_empty() {
                return Err(format!(
                    "audit.object_store.secret_access_key_file {} is empty",
                    file.display()
                ));
            }
            return Ok((id.clone(), secret.to_owned()));
        }
        let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        match (env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY")) {
            (Some(id), Some(secret)) => Ok((id, secret)),
            _ => Err(
                "no bucket credentials: set audit.object_store.access_key_id and \
                      secret_access_key_file, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
                    .into(),
            ),
        }
    }
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
            object_store: None,
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
        if let Some(os) = &self.object_store {
            os.validate(origin)?;
        }
        Ok(())
    }

    /// Resolves a relative `dir` (and secret key file) against `base` (the
    /// config file's directory).
    pub fn resolve_paths(&mut self, base: &std::path::Path) {
        if self.dir.is_relative() {
            self.dir = base.join(&self.dir);
        }
        if let Some(file) = self
            .object_store
            .as_mut()
            .and_then(|o| o.secret_access_key_file.as_mut())
        {
            if file.is_relative() {
                *file = base.join(&*file);
            }
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

    #[test]
    fn object_store_defaults_and_errors_name_the_field() {
        let c: AuditConfig = toml::from_str(
            "[object_store]\nendpoint = \"http://127.0.0.1:3900\"\nbucket = \"recordings\"",
        )
        .unwrap();
        c.validate("t").unwrap();
        let os = c.object_store.unwrap();
        assert_eq!(os.region, "garage");
        assert!(os.path_style && !os.keep_local);
        assert!(AuditConfig::default().object_store.is_none());
        for (toml, field) in [
            (
                "endpoint = \"ftp://x\"\nbucket = \"abc\"",
                "audit.object_store.endpoint",
            ),
            (
                "endpoint = \"http://x\"\nbucket = \"A_B\"",
                "audit.object_store.bucket",
            ),
            (
                "endpoint = \"http://x\"\nbucket = \"abc\"\nprefix = \"/a\"",
                "audit.object_store.prefix",
            ),
            (
                "endpoint = \"http://x\"\nbucket = \"abc\"\naccess_key_id = \"GK1\"",
                "audit.object_store.secret_access_key_file",
            ),
            (
                "endpoint = \"http://x\"\nbucket = \"abc\"\ntimeout_secs = 0",
                "audit.object_store.timeout_secs",
            ),
        ] {
            let c: AuditConfig = toml::from_str(&format!("[object_store]\n{toml}")).unwrap();
            let err = c.validate("t.toml").unwrap_err().to_string();
            assert!(err.contains(field), "{toml}: {err}");
        }
        assert!(toml::from_str::<AuditConfig>("[object_store]\nendpont = \"x\"").is_err());
    }

    #[test]
    fn credentials_come_from_the_secret_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("secret"), "s3cr3t\n").unwrap();
        let mut c: AuditConfig = toml::from_str(
            "[object_store]\nendpoint = \"http://x\"\nbucket = \"abc\"\n\
             access_key_id = \"GK1\"\nsecret_access_key_file = \"secret\"",
        )
        .unwrap();
        c.resolve_paths(dir.path());
        let creds = c.object_store.unwrap().credentials().unwrap();
        assert_eq!(creds, ("GK1".to_owned(), "s3cr3t".to_owned()));
    }
}
