//! `[policies]` and `[enforce]`: where the policy document lives and how the
//! enforcement gates spend their time.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::config_error::ConfigError;

/// The policy document, the `[policies]` table.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PoliciesConfig {
    /// The policy document (TOML, see `policies/examples/policy.toml`). Not
    /// set: a built-in document that allows every action (nothing is
    /// scanned); admins can still replace it through the API, in memory.
    pub file: Option<PathBuf>,
    /// Where every version of the document is kept (for history and
    /// rollback). Default: `<data_dir>/policy-history`.
    pub history_dir: Option<PathBuf>,
    /// The only directory exact-data detectors' `csv` files are read from
    /// (names inside it; absolute names, `..` and symbolic links out of it
    /// are refused). Default: `data/` beside `file`; with neither set,
    /// exact-data detectors are refused.
    pub data_dir: Option<PathBuf>,
    /// Largest exact-data file read, bytes.
    pub max_data_file_bytes: u64,
    /// Milliseconds between checks of `file` for changes; 0 turns the watch off.
    pub watch_interval_ms: u64,
}

impl Default for PoliciesConfig {
    fn default() -> Self {
        Self {
            file: None,
            history_dir: None,
            data_dir: None,
            max_data_file_bytes: policies::DEFAULT_MAX_DATA_BYTES,
            watch_interval_ms: 1000,
        }
    }
}

impl PoliciesConfig {
    /// Resolves relative paths against `base` (the config file's directory).
    pub fn resolve_paths(&mut self, base: &Path) {
        for p in [&mut self.file, &mut self.history_dir, &mut self.data_dir]
            .into_iter()
            .flatten()
        {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        }
    }

    /// The history directory, defaulting under `data_dir`.
    pub fn history_dir(&self, data_dir: &Path) -> PathBuf {
        self.history_dir
            .clone()
            .unwrap_or_else(|| data_dir.join("policy-history"))
    }

    /// Where exact-data files come from: `data_dir`, else `data/` beside
    /// `file`, else nowhere.
    pub fn data_dir(&self) -> policies::DataDir {
        let dir = match (&self.data_dir, &self.file) {
            (Some(dir), _) => policies::DataDir::new(dir),
            (None, Some(file)) => policies::DataDir::beside(file),
            (None, None) => policies::DataDir::none(),
        };
        dir.with_max_bytes(self.max_data_file_bytes)
    }

    /// Checks the values, naming the field.
    pub fn validate(&self, origin: &str) -> Result<(), ConfigError> {
        if let Some(d) = &self.data_dir {
            if !d.is_dir() {
                return Err(ConfigError::Invalid {
                    path: origin.to_owned(),
                    field: "policies.data_dir",
                    message: format!("{} is not a directory", d.display()),
                });
            }
        }
        if self.max_data_file_bytes == 0 {
            return Err(ConfigError::Invalid {
                path: origin.to_owned(),
                field: "policies.max_data_file_bytes",
                message: "must be at least 1".to_owned(),
            });
        }
        if let Some(f) = &self.file {
            if !f.is_file() {
                return Err(ConfigError::Invalid {
                    path: origin.to_owned(),
                    field: "policies.file",
                    message: format!("{} is not a readable file", f.display()),
                });
            }
        }
        Ok(())
    }
}

/// How the enforcement gates spend their time, the `[enforce]` table.
///
/// Every gate fails closed: a scan that errors or takes longer than its
/// budget blocks the action and says why.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EnforceConfig {
    /// Budget for deciding one keystroke, milliseconds.
    pub keyboard_budget_ms: u64,
    /// Budget for scanning pasted or copied text, milliseconds.
    pub clipboard_budget_ms: u64,
    /// Budget for scanning a request body the page sends, milliseconds.
    pub submit_budget_ms: u64,
    /// Budget for extracting and scanning one uploaded, downloaded or printed
    /// file, milliseconds (OCR of a scanned PDF takes seconds).
    pub file_budget_ms: u64,
    /// Budget for scanning the text of a page, milliseconds.
    pub page_budget_ms: u64,
    /// Budget for OCR and scan of one page image or canvas (rules with
    /// `ocr_images`), milliseconds; an image not read in time is treated as
    /// unscannable (an incident, and masked where the rule masks anything).
    pub page_image_budget_ms: u64,
    /// Extraction worker processes (the same binary's `extract-worker`).
    pub extract_workers: usize,
    /// Largest file accepted for upload at all, bytes (policies may set less).
    pub max_upload_bytes: u64,
    /// Largest file the browser may download at all, bytes (policies may set
    /// less). Enforced while Chromium downloads: a download announced or
    /// grown over it is cancelled and its partial file deleted.
    pub max_download_bytes: u64,
    /// File transfers (uploads, downloads, image pastes, prints) in progress
    /// at once on the whole server; more are refused (HTTP 429, or a
    /// cancelled download with a notice) until one finishes.
    pub max_transfers: usize,
    /// File transfers in progress at once for one user (all their sessions);
    /// more are refused like those over `max_transfers`.
    pub max_transfers_per_user: usize,
    /// Budget for OCR and scanning one pasted image, milliseconds (the user
    /// waits for it: a 1280x720 screenshot takes well under a second).
    pub paste_image_budget_ms: u64,
    /// Largest pasted image accepted at all, bytes (the policy's
    /// `max_clipboard_bytes` for paste may set less).
    pub max_paste_image_bytes: u64,
    /// The program run as an extraction worker (`<program> extract-worker`).
    /// Default: this executable.
    pub worker_program: Option<PathBuf>,
    /// The Unix user extraction workers run as when the server runs as root
    /// (they parse hostile files). Empty keeps them as root, said loudly in
    /// the log.
    pub extract_run_as: String,
    /// The store of registered confidential documents
    /// (`isolator fingerprint add --store DIR FILE...`) that rules listing
    /// the `fingerprints` profile look texts and files up in. Relative to
    /// the config file; created empty when missing. Not set: no documents
    /// are registered and `fingerprints` never fires.
    pub fingerprints: Option<PathBuf>,
}

impl Default for EnforceConfig {
    fn default() -> Self {
        Self {
            keyboard_budget_ms: 50,
            clipboard_budget_ms: 2_000,
            submit_budget_ms: 3_000,
            file_budget_ms: 60_000,
            page_budget_ms: 3_000,
            page_image_budget_ms: 10_000,
            extract_workers: 2,
            max_upload_bytes: 100 << 20,
            max_download_bytes: 1 << 30,
            max_transfers: 16,
            max_transfers_per_user: 4,
            paste_image_budget_ms: 20_000,
            max_paste_image_bytes: 20 << 20,
            worker_program: None,
            extract_run_as: crate::enforce::worker_user::DEFAULT_USER.into(),
            fingerprints: None,
        }
    }
}

impl EnforceConfig {
    /// Checks the values, naming the field.
    pub fn validate(&self, origin: &str) -> Result<(), ConfigError> {
        let bad = |field: &'static str, message: &str| {
            Err(ConfigError::Invalid {
                path: origin.to_owned(),
                field,
                message: message.to_owned(),
            })
        };
        for (field, v) in [
            ("enforce.keyboard_budget_ms", self.keyboard_budget_ms),
            ("enforce.clipboard_budget_ms", self.clipboard_budget_ms),
            ("enforce.submit_budget_ms", self.submit_budget_ms),
            ("enforce.file_budget_ms", self.file_budget_ms),
            ("enforce.page_budget_ms", self.page_budget_ms),
            ("enforce.paste_image_budget_ms", self.paste_image_budget_ms),
            ("enforce.page_image_budget_ms", self.page_image_budget_ms),
        ] {
            if v == 0 || v > 600_000 {
                return bad(field, "must be between 1 and 600000 milliseconds");
            }
        }
        if self.extract_workers == 0 || self.extract_workers > 64 {
            return bad("enforce.extract_workers", "must be between 1 and 64");
        }
        if crate::os::is_root()
            && !self.extract_run_as.is_empty()
            && crate::os::lookup_user(&self.extract_run_as).is_none_or(|(uid, _)| uid == 0)
        {
            return bad(
                "enforce.extract_run_as",
                "must name an unprivileged user of this machine \
                 (isolator/scripts/install-deps.sh creates isolator-extract), or be empty",
            );
        }
        if self.max_upload_bytes == 0 {
            return bad("enforce.max_upload_bytes", "must be positive");
        }
        if self.max_download_bytes == 0 {
            return bad("enforce.max_download_bytes", "must be positive");
        }
        if self.max_transfers == 0 || self.max_transfers > 100_000 {
            return bad("enforce.max_transfers", "must be between 1 and 100000");
        }
        if self.max_transfers_per_user == 0 || self.max_transfers_per_user > self.max_transfers {
            return bad(
                "enforce.max_transfers_per_user",
                "must be between 1 and enforce.max_transfers",
            );
        }
        if self.max_paste_image_bytes == 0 || self.max_paste_image_bytes > 256 << 20 {
            return bad(
                "enforce.max_paste_image_bytes",
                "must be between 1 and 268435456 bytes",
            );
        }
        Ok(())
    }
}
