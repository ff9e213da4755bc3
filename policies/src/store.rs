//! The policy in force, its versions, and atomic live changes.
//!
//! Readers call [`PolicyStore::current`] on every action: one atomic load
//! (`arc-swap`), no lock, so a running session sees a new policy from its next
//! action. Writers (file reload, admin API, rollback) compile the new document
//! first, then, under one mutex, check the caller's expected version (an
//! optimistic-concurrency precondition, the API's `If-Match`), append to the
//! history and swap. A broken document never gets past compilation, so the
//! policy in force is always a valid one.
//!
//! History is kept in memory and, when a directory is given, appended to
//! `history.jsonl` there (one JSON object per version with the full document),
//! so versions and rollback survive restarts. When the store has a policy file,
//! API changes are written back to it atomically (temporary file + rename):
//! the file stays the single source of truth at start. Comments in a
//! hand-written file do not survive an API edit; the previous text is in the
//! history.

use std::fs::OpenOptions;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use arc_swap::ArcSwap;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::data_dir::DataDir;
use crate::diff::summarize;
use crate::document::PolicyDocument;
use crate::error::{Error, Result};
use crate::load::{compile_str_in, to_toml};
use crate::policy::Policy;

/// A policy version number; the first version is 1.
pub type Version = u64;

/// Who changed the policy, when, and what changed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionInfo {
    /// The version this change produced.
    pub version: Version,
    /// Who made it (user name, `file:<path>`, ...).
    pub author: String,
    /// When, RFC 3339 UTC.
    pub at: String,
    /// What changed, one line per item.
    pub summary: Vec<String>,
    /// Set when the change restored an earlier version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollback_of: Option<Version>,
}

/// One version with its whole document: a line of `history.jsonl`, or a
/// row of a cluster's shared database.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VersionRecord {
    /// Who made it, when, what changed.
    #[serde(flatten)]
    pub info: VersionInfo,
    /// The document of that version.
    pub document: PolicyDocument,
}

type Record = VersionRecord;

/// The policy in force together with its version.
#[derive(Debug)]
pub struct Current {
    /// Its version.
    pub version: Version,
    /// The compiled policy.
    pub policy: Arc<Policy>,
}

/// Holds the policy in force; see the module docs.
pub struct PolicyStore {
    current: ArcSwap<Current>,
    history: Mutex<Vec<Record>>,
    history_file: Option<PathBuf>,
    policy_file: Option<PathBuf>,
}

impl std::fmt::Debug for PolicyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PolicyStore")
            .field("version", &self.version())
            .field("history_file", &self.history_file)
            .field("policy_file", &self.policy_file)
            .finish_non_exhaustive()
    }
}

fn now() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| "unknown".to_owned())
}

/// SHA-256 of the document's canonical JSON: a content fingerprint.
pub fn fingerprint(doc: &PolicyDocument) -> String {
    let json = serde_json::to_vec(doc).unwrap_or_default();
    hex::encode(Sha256::digest(json))
}

impl PolicyStore {
    /// A store whose first version is `initial`, with no persistence.
    pub fn new(initial: Policy, author: &str) -> Self {
        let record = Record {
            info: VersionInfo {
                version: 1,
                author: author.to_owned(),
                at: now(),
                summary: vec!["initial version".to_owned()],
                rollback_of: None,
            },
            document: initial.document().clone(),
        };
        PolicyStore {
            current: ArcSwap::from_pointee(Current {
                version: 1,
                policy: Arc::new(initial),
            }),
            history: Mutex::new(vec![record]),
            history_file: None,
            policy_file: None,
        }
    }

    /// Loads `policy_file`, restores the history kept in `history_dir`
    /// (created if missing) and records the file as a new version if it
    /// differs from the last one recorded. API changes are written back to
    /// `policy_file`. Exact-data files come from `data/` beside it.
    pub fn open(policy_file: &Path, history_dir: &Path) -> Result<Self> {
        Self::open_in(policy_file, history_dir, DataDir::beside(policy_file))
    }

    /// [`PolicyStore::open`] with exact-data files read from `data_dir`, for
    /// this and every later version.
    pub fn open_in(policy_file: &Path, history_dir: &Path, data_dir: DataDir) -> Result<Self> {
        let policy = crate::load::load_file_in(policy_file, &data_dir)?;
        std::fs::create_dir_all(history_dir).map_err(|source| Error::Io {
            what: "creating policy history directory",
            path: history_dir.to_path_buf(),
            source,
        })?;
        let history_file = history_dir.join("history.jsonl");
        let records = read_history(&history_file)?;
        let author = format!("file:{}", policy_file.display());
        let store = PolicyStore {
            current: ArcSwap::from_pointee(Current {
                version: 0,
                policy: Arc::new(policy),
            }),
            history: Mutex::new(records),
            history_file: Some(history_file),
            policy_file: Some(policy_file.to_path_buf()),
        };
        let mut history = store.lock();
        let policy = store.current.load().policy.clone();
        match history.last() {
            Some(last) if last.document == *policy.document() => {
                let version = last.info.version;
                store.current.store(Arc::new(Current { version, policy }));
            }
            last => {
                let summary = match last {
                    Some(l) => summarize(&l.document, policy.document()),
                    None => vec!["initial version".to_owned()],
                };
                let version = last.map_or(1, |l| l.info.version + 1);
                let info = VersionInfo {
                    version,
                    author,
                    at: now(),
                    summary,
                    rollback_of: None,
                };
                store.append(&mut history, info, policy, false)?;
            }
        }
        drop(history);
        Ok(store)
    }

    fn lock(&self) -> MutexGuard<'_, Vec<Record>> {
        // A panic while holding the lock cannot leave the history half-written
        // (records are pushed whole), so a poisoned lock is still usable.
        self.history.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The policy in force. One atomic load; call it per action.
    pub fn current(&self) -> Arc<Policy> {
        self.current.load().policy.clone()
    }

    /// The policy in force and its version, consistently.
    pub fn snapshot(&self) -> Arc<Current> {
        self.current.load_full()
    }

    /// The version in force.
    pub fn version(&self) -> Version {
        self.current.load().version
    }

    /// Compiles `doc` without applying it (a dry run).
    pub fn validate(&self, doc: PolicyDocument) -> Result<Policy> {
        Policy::compile(doc, self.current().data_dir())
    }

    /// Compiles and applies `doc`. With `expected` set, refuses with
    /// [`Error::Conflict`] unless it is the version in force. An invalid
    /// document is refused and the policy in force stays.
    pub fn replace(
        &self,
        doc: PolicyDocument,
        author: &str,
        expected: Option<Version>,
    ) -> Result<Version> {
        let policy = self.validate(doc)?;
        self.apply(policy, author, expected, None)
    }

    /// Makes the document of version `to` current again, as a new version.
    pub fn rollback(
        &self,
        to: Version,
        author: &str,
        expected: Option<Version>,
    ) -> Result<Version> {
        let doc = self.document_at(to)?;
        let policy = self.validate(doc)?;
        self.apply(policy, author, expected, Some(to))
    }

    /// Re-reads the policy file after it changed on disk. `Ok(None)` when its
    /// document equals the one in force (including our own write-back).
    /// Errors carry file:line:column; the policy in force stays.
    pub fn reload_file(&self) -> Result<Option<Version>> {
        let Some(path) = &self.policy_file else {
            return Ok(None);
        };
        let src = std::fs::read_to_string(path).map_err(|source| Error::Io {
            what: "reading policy file",
            path: path.clone(),
            source,
        })?;
        let policy = compile_str_in(&src, path, self.current().data_dir())?;
        let mut history = self.lock();
        // An API write may have replaced the file while this text was being
        // compiled (it writes the file under the same lock): only what is
        // on disk now counts, or a stale read would undo that write.
        let now = std::fs::read_to_string(path).map_err(|source| Error::Io {
            what: "reading policy file",
            path: path.clone(),
            source,
        })?;
        if now != src || policy.document() == self.current().document() {
            return Ok(None);
        }
        let author = format!("file:{}", path.display());
        self.apply_locked(&mut history, policy, &author, None, None, false)
            .map(Some)
    }

    /// A store rebuilt from versions kept elsewhere (a cluster's shared
    /// database), oldest first: the last one is compiled and put in force.
    /// No file is read or written; versions arrive with [`PolicyStore::adopt`].
    pub fn from_versions(records: Vec<VersionRecord>, data_dir: DataDir) -> Result<Self> {
        let Some(last) = records.last() else {
            return Err(Error::History {
                path: PathBuf::from("shared policy history"),
                line: 0,
                message: "it holds no version".to_owned(),
            });
        };
        check_order(&records)?;
        let policy = Policy::compile(last.document.clone(), &data_dir)?;
        Ok(PolicyStore {
            current: ArcSwap::from_pointee(Current {
                version: last.info.version,
                policy: Arc::new(policy),
            }),
            history: Mutex::new(records),
            history_file: None,
            policy_file: None,
        })
    }

    /// What applying `policy` now would record: the next version number,
    /// the author, the time and the summary of changes. A store whose
    /// versions are decided elsewhere writes this record there first, then
    /// adopts it.
    pub fn next_version(
        &self,
        policy: &Policy,
        author: &str,
        rollback_of: Option<Version>,
    ) -> VersionRecord {
        let history = self.lock();
        let current = self.current.load();
        let mut summary = summarize(current.policy.document(), policy.document());
        if let Some(v) = rollback_of {
            summary.insert(0, format!("rollback to version {v}"));
        }
        if summary.is_empty() {
            summary.push("no change".to_owned());
        }
        VersionRecord {
            info: VersionInfo {
                version: history.last().map_or(1, |r| r.info.version + 1),
                author: author.to_owned(),
                at: now(),
                summary,
                rollback_of,
            },
            document: policy.document().clone(),
        }
    }

    /// Adopts versions decided elsewhere, oldest first: those not newer than
    /// the last one known are ignored, the newest is compiled and put in
    /// force. Returns the version now in force when it changed. A document
    /// that does not compile here (a data file missing on this node) is
    /// refused and the policy in force stays.
    pub fn adopt(&self, records: Vec<VersionRecord>) -> Result<Option<Version>> {
        self.adopt_with(records, |last| {
            Policy::compile(last.document.clone(), self.current().data_dir())
        })
    }

    /// [`PolicyStore::adopt`] of one version whose document this node has
    /// just compiled (the one it wrote itself): not compiled again.
    pub fn adopt_compiled(&self, record: VersionRecord, policy: Policy) -> Result<Option<Version>> {
        self.adopt_with(vec![record], |_| Ok(policy))
    }

    fn adopt_with(
        &self,
        records: Vec<VersionRecord>,
        compile: impl FnOnce(&VersionRecord) -> Result<Policy>,
    ) -> Result<Option<Version>> {
        let mut history = self.lock();
        let known = history.last().map_or(0, |r| r.info.version);
        let fresh: Vec<VersionRecord> = records
            .into_iter()
            .filter(|r| r.info.version > known)
            .collect();
        let Some(last) = fresh.last() else {
            return Ok(None);
        };
        check_order(&fresh)?;
        let policy = compile(last)?;
        let version = last.info.version;
        history.extend(fresh);
        self.current.store(Arc::new(Current {
            version,
            policy: Arc::new(policy),
        }));
        Ok(Some(version))
    }

    /// The policy file this store reads and writes, if any.
    pub fn policy_file(&self) -> Option<&Path> {
        self.policy_file.as_deref()
    }

    fn apply(
        &self,
        policy: Policy,
        author: &str,
        expected: Option<Version>,
        rollback_of: Option<Version>,
    ) -> Result<Version> {
        self.apply_inner(policy, author, expected, rollback_of, true)
    }

    fn apply_inner(
        &self,
        policy: Policy,
        author: &str,
        expected: Option<Version>,
        rollback_of: Option<Version>,
        write_file: bool,
    ) -> Result<Version> {
        let mut history = self.lock();
        self.apply_locked(
            &mut history,
            policy,
            author,
            expected,
            rollback_of,
            write_file,
        )
    }

    fn apply_locked(
        &self,
        history: &mut Vec<Record>,
        policy: Policy,
        author: &str,
        expected: Option<Version>,
        rollback_of: Option<Version>,
        write_file: bool,
    ) -> Result<Version> {
        let current = self.current.load();
        if let Some(expected) = expected {
            if expected != current.version {
                return Err(Error::Conflict {
                    expected,
                    current: current.version,
                });
            }
        }
        let mut summary = summarize(current.policy.document(), policy.document());
        if let Some(v) = rollback_of {
            summary.insert(0, format!("rollback to version {v}"));
        }
        if summary.is_empty() {
            summary.push("no change".to_owned());
        }
        let version = history.last().map_or(1, |r| r.info.version + 1);
        let info = VersionInfo {
            version,
            author: author.to_owned(),
            at: now(),
            summary,
            rollback_of,
        };
        self.append(history, info, Arc::new(policy), write_file)?;
        Ok(version)
    }

    /// Persists, records and swaps in `policy` as `info.version`.
    fn append(
        &self,
        history: &mut Vec<Record>,
        info: VersionInfo,
        policy: Arc<Policy>,
        write_file: bool,
    ) -> Result<()> {
        let record = Record {
            info,
            document: policy.document().clone(),
        };
        if write_file {
            if let Some(path) = &self.policy_file {
                write_atomically(path, &to_toml(&record.document))?;
            }
        }
        if let Some(path) = &self.history_file {
            let mut line = serde_json::to_string(&record).map_err(|e| Error::History {
                path: path.clone(),
                line: history.len() + 1,
                message: e.to_string(),
            })?;
            line.push('\n');
            let io = |source| Error::Io {
                what: "appending to policy history",
                path: path.clone(),
                source,
            };
            let mut f = OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(io)?;
            f.write_all(line.as_bytes()).map_err(io)?;
            f.sync_data().map_err(io)?;
        }
        let version = record.info.version;
        history.push(record);
        self.current.store(Arc::new(Current { version, policy }));
        Ok(())
    }

    /// Every version, oldest first.
    pub fn history(&self) -> Vec<VersionInfo> {
        self.lock().iter().map(|r| r.info.clone()).collect()
    }

    /// The document of version `v`.
    pub fn document_at(&self, v: Version) -> Result<PolicyDocument> {
        self.lock()
            .iter()
            .find(|r| r.info.version == v)
            .map(|r| r.document.clone())
            .ok_or(Error::UnknownVersion(v))
    }
}

/// Versions must strictly increase.
fn check_order(records: &[VersionRecord]) -> Result<()> {
    for pair in records.windows(2) {
        if pair[1].info.version <= pair[0].info.version {
            return Err(Error::History {
                path: PathBuf::from("shared policy history"),
                line: 0,
                message: format!(
                    "version {} follows version {}",
                    pair[1].info.version, pair[0].info.version
                ),
            });
        }
    }
    Ok(())
}

fn read_history(path: &Path) -> Result<Vec<Record>> {
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(Error::Io {
                what: "reading policy history",
                path: path.to_path_buf(),
                source,
            })
        }
    };
    let mut out: Vec<Record> = Vec::new();
    for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|source| Error::Io {
            what: "reading policy history",
            path: path.to_path_buf(),
            source,
        })?;
        if line.trim().is_empty() {
            continue;
        }
        let bad = |message: String| Error::History {
            path: path.to_path_buf(),
            line: i + 1,
            message,
        };
        let record: Record = serde_json::from_str(&line).map_err(|e| bad(e.to_string()))?;
        if let Some(prev) = out.last() {
            if record.info.version <= prev.info.version {
                return Err(bad(format!(
                    "version {} follows version {}",
                    record.info.version, prev.info.version
                )));
            }
        }
        out.push(record);
    }
    Ok(out)
}

fn write_atomically(path: &Path, text: &str) -> Result<()> {
    let io = |source| Error::Io {
        what: "writing policy file",
        path: path.to_path_buf(),
        source,
    };
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    {
        let mut f = std::fs::File::create(&tmp).map_err(io)?;
        f.write_all(text.as_bytes()).map_err(io)?;
        f.sync_all().map_err(io)?;
    }
    std::fs::rename(&tmp, path).map_err(io)
}
