//! The registered confidential documents the gates look texts and files up
//! in, for rules whose profiles include `fingerprints`
//! ([`enforcer::fingerprint`]).
//!
//! The store is the directory `isolator fingerprint add --store DIR` writes
//! (`[enforce] fingerprints`): only salted, winnowed hashes, never the
//! documents' text. It is loaded into an [`Index`] at start and again by
//! [`Fingerprints::reload`]; lookups take the index in force without
//! waiting for a reload.

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;
use enforcer::fingerprint::{Document, Index, Store, Thresholds, DETECTOR, PROFILE};
use enforcer::{Confidence, Finding, ScanReport};

/// The registered documents of the server; see the module docs.
#[derive(Debug)]
pub struct Fingerprints {
    dir: Option<PathBuf>,
    index: ArcSwap<Option<Index>>,
    /// One change of the store at a time (admin requests may race).
    writing: Mutex<()>,
}

/// Why a change to the registered documents was refused.
#[derive(Debug, thiserror::Error)]
pub enum ChangeError {
    /// No `[enforce] fingerprints` store is configured.
    #[error("no document store is configured: set `fingerprints` in the server config's [enforce] section")]
    NotConfigured,
    /// No registered document has this id.
    #[error("no registered document has id {0}")]
    Unknown(u32),
    /// The store refused (too little text, unreadable directory...).
    #[error(transparent)]
    Store(#[from] enforcer::fingerprint::Error),
}

impl Fingerprints {
    /// No documents registered (no `[enforce] fingerprints`): lookups find
    /// nothing.
    pub fn none() -> Self {
        Fingerprints {
            dir: None,
            index: ArcSwap::from_pointee(None),
            writing: Mutex::new(()),
        }
    }

    /// Loads the store in `dir` (created empty, private, when missing).
    pub fn open(dir: &Path) -> Result<Self, enforcer::fingerprint::Error> {
        let f = Fingerprints {
            dir: Some(dir.to_owned()),
            index: ArcSwap::from_pointee(None),
            writing: Mutex::new(()),
        };
        f.reload()?;
        Ok(f)
    }

    /// Reads the store again (after documents were added or removed).
    pub fn reload(&self) -> Result<(), enforcer::fingerprint::Error> {
        let Some(dir) = &self.dir else {
            return Ok(());
        };
        let store = Store::open(dir, true)?;
        let index = Index::build(&store, Thresholds::default())?;
        tracing::info!(
            documents = store.documents().len(),
            fingerprints = index.len(),
            memory_kb = index.memory_bytes() / 1024,
            "registered documents loaded"
        );
        self.index.store(Arc::new(Some(index)));
        Ok(())
    }

    /// The store's directory, when one is configured.
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// The registered documents (empty without a store).
    pub fn documents(&self) -> Result<Vec<Document>, enforcer::fingerprint::Error> {
        match &self.dir {
            Some(dir) => Ok(Store::open(dir, true)?.documents().to_vec()),
            None => Ok(Vec::new()),
        }
    }

    /// Registers the text of a document (`sha256` of its bytes; the same
    /// bytes registered again replace it) and puts it in force. Blocking:
    /// call off the async threads.
    pub fn add(
        &self,
        name: &str,
        sha256: &str,
        text: &str,
        background: bool,
    ) -> Result<Document, ChangeError> {
        let dir = self.dir.as_ref().ok_or(ChangeError::NotConfigured)?;
        let _one = self.writing.lock().unwrap_or_else(|e| e.into_inner());
        let mut store = Store::open(dir, true)?;
        let doc = store.add(name, sha256, text, background)?;
        store.commit()?;
        self.reload()?;
        Ok(doc)
    }

    /// Removes a registered document and puts the change in force.
    /// Blocking: call off the async threads.
    pub fn remove(&self, id: u32) -> Result<Document, ChangeError> {
        let dir = self.dir.as_ref().ok_or(ChangeError::NotConfigured)?;
        let _one = self.writing.lock().unwrap_or_else(|e| e.into_inner());
        let mut store = Store::open(dir, true)?;
        if !store.documents().iter().any(|d| d.id == id) {
            return Err(ChangeError::Unknown(id));
        }
        let doc = store.remove(id)?;
        store.commit()?;
        self.reload()?;
        Ok(doc)
    }

    /// The index in force, for work done off the async threads.
    pub fn current(&self) -> Arc<Option<Index>> {
        self.index.load_full()
    }
}

/// Adds to `report` one `document_match` finding per registered document
/// `text` shares passages with (the `fingerprints` profile fires). The
/// evidence names the document and how much is shared, never the text.
pub fn look_up(index: Option<&Index>, text: &str, report: &mut ScanReport) {
    let Some(index) = index else {
        return;
    };
    let found: Vec<Finding> = index
        .lookup(text)
        .into_iter()
        .map(|m| finding(&m, 0..text.len()))
        .collect();
    add(report, found);
}

/// Like [`look_up`], with one finding per shared passage, spanning it:
/// for page content, where what matches is hidden where it stands.
pub fn look_up_passages(index: Option<&Index>, text: &str, report: &mut ScanReport) {
    let Some(index) = index else {
        return;
    };
    let found: Vec<Finding> = index
        .lookup_passages(text)
        .into_iter()
        .flat_map(|(m, spans)| {
            let evidence: Arc<str> = Arc::from(m.evidence());
            spans.into_iter().map(move |r| Finding {
                detector: Cow::Borrowed(DETECTOR),
                start: r.start,
                end: r.end,
                confidence: Confidence::High,
                evidence: evidence.clone(),
            })
        })
        .collect();
    add(report, found);
}

/// The report of the registered documents `after` matches that `before`
/// (built only when `after` matches something) did not: the edit from `before` to `after` is the one that makes a
/// field hold enough of a document. `None` when it crosses no threshold
/// (a field that already held a document's passage before may still be
/// edited).
pub fn newly_matched(
    index: Option<&Index>,
    before: &dyn Fn() -> String,
    after: &str,
) -> Option<ScanReport> {
    let index = index?;
    let now = index.lookup(after);
    if now.is_empty() {
        return None;
    }
    let then = index.lookup(&before());
    let found: Vec<Finding> = now
        .iter()
        .filter(|m| !then.iter().any(|t| t.id == m.id))
        .map(|m| finding(m, 0..after.len()))
        .collect();
    if found.is_empty() {
        return None;
    }
    let mut report = ScanReport::default();
    add(&mut report, found);
    Some(report)
}

fn finding(m: &enforcer::fingerprint::DocumentMatch, at: std::ops::Range<usize>) -> Finding {
    Finding {
        detector: Cow::Borrowed(DETECTOR),
        start: at.start,
        end: at.end,
        confidence: Confidence::High,
        evidence: Arc::from(m.evidence()),
    }
}

/// Puts `found` in `report`, and the `fingerprints` profile among those
/// fired when there is any.
fn add(report: &mut ScanReport, found: Vec<Finding>) {
    if found.is_empty() {
        return;
    }
    report.findings.extend(found);
    if !report.fired.iter().any(|f| f == PROFILE) {
        report.fired.push(PROFILE.to_owned());
    }
}
