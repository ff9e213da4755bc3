//! Real-time enforcement: the gates every action crossing the isolation
//! boundary passes through.
//!
//! [`Enforcer`] is shared by all sessions. A gate asks it for the policy's
//! [`Decision`] (`decide`, one atomic load of the policy in force plus a pure
//! function), then, when the decision says `scan`, has the content scanned
//! (`check_text`, `check_file`) within the gate's time budget. The result is a
//! [`Verdict`]: allow, block or audit, with the detectors that fired and
//! redacted evidence. Everything fails closed: a scan that errors, times out
//! or cannot read its input blocks, and the reason says so.
//!
//! Each gate turns its verdict into a [`GateEvent`], which is logged as one
//! structured line (target `isolator::decision`), recorded by the session's
//! audit recorder, and shown to the user as a notice ([`notice`]) when the
//! action was blocked.
//!
//! The gates themselves (what each action is, where it is seen, how it is
//! answered) live in [`crate::gates`]; this module knows no browser.

pub mod config;
mod event;
pub mod file_input;
pub mod fingerprints;
pub mod notice;
pub mod transfers;
mod verdict;
pub mod worker_user;

#[cfg(test)]
pub(crate) mod tests;

use std::sync::Arc;
use std::time::{Duration, Instant};

use enforcer::extract::worker::{WorkerConfig, WorkerPool};
use enforcer::extract::Extraction;
use policies::{Action, Decision, Identity, Mode, OnMatch, PolicyStore};
use tokio::sync::OnceCell;

use crate::auth::User;
use crate::enforce::config::EnforceConfig;
use crate::metrics::{Metrics, ScanFailure, ScanKind};

pub use event::{redact_url, GateEvent};
pub use file_input::FileInput;
pub use fingerprints::Fingerprints;
pub use verdict::{Outcome, Verdict};

/// The enforcement core shared by every session; see the module docs.
pub struct Enforcer {
    store: Arc<PolicyStore>,
    config: EnforceConfig,
    workers: WorkerConfig,
    pool: OnceCell<Result<Arc<WorkerPool>, String>>,
    transfers: transfers::Transfers,
    fingerprints: Arc<Fingerprints>,
    metrics: Arc<Metrics>,
}

impl std::fmt::Debug for Enforcer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Enforcer")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Enforcer {
    /// An enforcer deciding with `store`'s policy in force. Extraction
    /// workers (`workers`) start on the first file that needs them.
    pub fn new(store: Arc<PolicyStore>, config: EnforceConfig, mut workers: WorkerConfig) -> Self {
        workers.workers = config.extract_workers;
        workers.limits.max_wall_time_ms =
            workers.limits.max_wall_time_ms.min(config.file_budget_ms);
        Enforcer {
            store,
            transfers: transfers::Transfers::new(
                config.max_transfers,
                config.max_transfers_per_user,
            ),
            config,
            workers,
            pool: OnceCell::new(),
            fingerprints: Arc::new(Fingerprints::none()),
            metrics: Arc::new(Metrics::new()),
        }
    }

    /// Counts decisions and scans in `metrics` (the server's registry;
    /// without this call, in a registry of the enforcer's own).
    pub fn with_metrics(mut self, metrics: Arc<Metrics>) -> Self {
        self.metrics = metrics;
        self
    }

    /// The server's metrics.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// Extraction workers replaced since the pool started (0 before it has).
    pub fn worker_restarts(&self) -> u64 {
        match self.pool.get() {
            Some(Ok(pool)) => pool.restarts(),
            _ => 0,
        }
    }

    /// Looks texts and files up among `fingerprints`' registered documents
    /// where a rule's profiles include `fingerprints`.
    pub fn with_fingerprints(mut self, fingerprints: Arc<Fingerprints>) -> Self {
        self.fingerprints = fingerprints;
        self
    }

    /// The registered documents.
    pub fn fingerprints(&self) -> &Arc<Fingerprints> {
        &self.fingerprints
    }

    /// The text of a file, read as an upload would be (the sandboxed
    /// extraction worker, within the file budget): for registering it as a
    /// confidential document.
    pub async fn extract_text(&self, name: &str, bytes: Arc<Vec<u8>>) -> Result<String, String> {
        let pool = self.pool().await?;
        let name = name.to_owned();
        let job = tokio::task::spawn_blocking(move || pool.extract(&name, &bytes));
        let budget = Duration::from_millis(self.config.file_budget_ms);
        match tokio::time::timeout(budget, job).await {
            Ok(Ok(Extraction::Text { parts, .. })) => Ok(parts
                .iter()
                .map(|p| p.text.as_str())
                .collect::<Vec<_>>()
                .join("\n")),
            Ok(Ok(Extraction::Unscannable { reason })) => Err(reason),
            Ok(Err(e)) => Err(format!("the extraction failed ({e})")),
            Err(_) => Err(format!(
                "the file could not be read within {:.1} s",
                budget.as_secs_f64()
            )),
        }
    }

    /// The fingerprint index `decision` scans against: the one in force
    /// when its profiles include `fingerprints`, else `None`.
    pub fn fingerprints_for(
        &self,
        decision: &Decision,
    ) -> Option<Arc<Option<enforcer::fingerprint::Index>>> {
        decision.fingerprints().then(|| self.fingerprints.current())
    }

    /// The policy store.
    pub fn store(&self) -> &Arc<PolicyStore> {
        &self.store
    }

    /// The bounds on file transfers in progress (uploads, downloads, image
    /// pastes, prints), per user and server-wide.
    pub fn transfers(&self) -> &transfers::Transfers {
        &self.transfers
    }

    /// The gates' budgets.
    pub fn config(&self) -> &EnforceConfig {
        &self.config
    }

    /// The policy's decision for `user` doing `action` on `url`. A URL that
    /// does not parse (e.g. `about:blank` variants) belongs to the catch-all app.
    pub fn decide(&self, user: &User, url: &str, action: Action) -> Decision {
        let who = Identity::new(user.name.clone(), user.groups.iter().cloned());
        let policy = self.store.current();
        let parsed = url::Url::parse(url)
            .or_else(|_| url::Url::parse("about:blank"))
            .expect("about:blank parses");
        policy.decide(&who, &parsed, action)
    }

    /// The verdict on `text` crossing under `decision`, scanned within `budget`.
    pub async fn check_text(&self, decision: &Decision, text: String, budget: Duration) -> Verdict {
        if let Some(v) = Self::before_text_scan(decision, &text) {
            return v;
        }
        let (d, index) = (decision.clone(), self.fingerprints_for(decision));
        let started = Instant::now();
        let scan = tokio::task::spawn_blocking(move || scan_text(&d, &text, index.as_deref()));
        let outcome = tokio::time::timeout(budget, scan).await;
        self.metrics.scan(ScanKind::Text, started.elapsed());
        match outcome {
            Ok(Ok(report)) => Verdict::from_report(decision, &report, started.elapsed()),
            Ok(Err(e)) => {
                self.metrics.scan_failed(ScanFailure::Error);
                Verdict::blocked(decision, format!("the scan failed ({e})"))
            }
            Err(_) => {
                self.metrics.scan_failed(ScanFailure::Timeout);
                Verdict::blocked(
                    decision,
                    format!("the scan took longer than {} ms", budget.as_millis()),
                )
            }
        }
    }

    /// [`check_text`](Self::check_text) on the calling thread, without a
    /// budget: for work already off the async threads and under the
    /// caller's timeout (the egress gate decodes and scans a piece in one
    /// blocking task). `index` is [`fingerprints_for`](Self::fingerprints_for)'s.
    pub fn check_text_now(
        decision: &Decision,
        text: &str,
        index: Option<&Option<enforcer::fingerprint::Index>>,
    ) -> Verdict {
        if let Some(v) = Self::before_text_scan(decision, text) {
            return v;
        }
        let started = Instant::now();
        let report = scan_text(decision, text, index);
        Verdict::from_report(decision, &report, started.elapsed())
    }

    /// What decides a text before any scan: allow or block outright, a
    /// text longer than the app allows, a rule scanning with no profile.
    fn before_text_scan(decision: &Decision, text: &str) -> Option<Verdict> {
        Verdict::before_scan(decision)
            .or_else(|| Self::too_long(decision, text))
            .or_else(|| no_profile(decision))
    }

    /// The block for text longer than the app allows for the action.
    fn too_long(decision: &Decision, text: &str) -> Option<Verdict> {
        if let Some(max) = decision.limits.max_bytes(decision.action) {
            if text.len() as u64 > max {
                return Some(Verdict::blocked(
                    decision,
                    format!(
                        "{} bytes is more than the {} bytes this app allows",
                        text.len(),
                        max
                    ),
                ));
            }
        }
        None
    }

    /// The verdict on a file named `name` crossing under `decision`
    /// (upload, download, print): size and type limits, then extraction in
    /// a worker process and a scan of every part, within the file budget.
    /// A file on disk ([`FileInput::Path`]) is never read into the server's
    /// memory: the worker receives it streamed in small chunks.
    pub async fn check_file(
        &self,
        decision: &Decision,
        name: &str,
        input: impl Into<FileInput>,
    ) -> Verdict {
        let budget = Duration::from_millis(self.config.file_budget_ms);
        self.check_file_within(decision, name, input.into(), budget)
            .await
    }

    /// [`check_file`](Self::check_file) within `budget` rather than the
    /// file budget.
    pub(crate) async fn check_file_within(
        &self,
        decision: &Decision,
        name: &str,
        input: FileInput,
        budget: Duration,
    ) -> Verdict {
        let (body, size) = match input {
            FileInput::Bytes(bytes) => {
                let size = bytes.len() as u64;
                (Body::Bytes(bytes), size)
            }
            FileInput::Path(path) => {
                match tokio::task::spawn_blocking(move || file_input::open_regular(&path)).await {
                    Ok(Ok((file, size))) => (Body::File(file), size),
                    Ok(Err(e)) => {
                        return Verdict::blocked(decision, format!("the file cannot be read ({e})"))
                    }
                    Err(e) => {
                        return Verdict::blocked(decision, format!("the file cannot be read ({e})"))
                    }
                }
            }
        };
        if decision.mode == Mode::Block || decision.mode == Mode::Allow {
            if let Some(v) = self.file_limits(decision, name, size, None) {
                return v;
            }
            return Verdict::before_scan(decision).expect("allow or block decides before scanning");
        }
        if let Some(v) = self.file_limits(decision, name, size, None) {
            return v;
        }
        if let Some(v) = no_profile(decision) {
            return v;
        }
        let pool = match self.pool().await {
            Ok(p) => p,
            Err(e) => {
                self.metrics.scan_failed(ScanFailure::Error);
                return Verdict::blocked(decision, format!("no file scanner is available ({e})"));
            }
        };
        let (d, index) = (decision.clone(), self.fingerprints_for(decision));
        let name_owned = name.to_owned();
        let started = Instant::now();
        let job = tokio::task::spawn_blocking(move || {
            let extraction = match body {
                Body::Bytes(bytes) => pool.extract(&name_owned, &bytes),
                Body::File(file) => pool.extract_file(&name_owned, file),
            };
            let parts = extraction.parts();
            // The parts' text and the file's sensitivity labels.
            let mut reports = vec![match &d.selection {
                Some(selection) => d.engine.scan_extraction(&extraction, selection),
                None => enforcer::ScanReport::default(),
            }];
            // A registered document is looked up in the file's whole text:
            // its passages may be spread over parts (pages, sheets, members).
            if let Some(index) = &index {
                let whole: Vec<&str> = parts.iter().map(|p| p.text.as_str()).collect();
                let mut report = enforcer::ScanReport::default();
                fingerprints::look_up(index.as_ref().as_ref(), &whole.join("\n"), &mut report);
                reports.push(report);
            }
            (extraction, reports)
        });
        let outcome = tokio::time::timeout(budget, job).await;
        self.metrics.scan(ScanKind::File, started.elapsed());
        let (extraction, reports) = match outcome {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => {
                self.metrics.scan_failed(ScanFailure::Error);
                return Verdict::blocked(decision, format!("the scan failed ({e})"));
            }
            Err(_) => {
                self.metrics.scan_failed(ScanFailure::Timeout);
                return Verdict::blocked(
                    decision,
                    format!(
                        "the file could not be scanned within {:.1} s",
                        budget.as_secs_f64()
                    ),
                );
            }
        };
        match &extraction {
            Extraction::Unscannable { reason } => {
                self.metrics.scan_failed(ScanFailure::Unscannable);
                Verdict::blocked(decision, format!("the file cannot be scanned: {reason}"))
            }
            Extraction::Text { kind, .. } => {
                if let Some(v) = self.file_limits(decision, name, 0, Some(kind.describe())) {
                    return v;
                }
                let mut merged = enforcer::ScanReport::default();
                for r in reports {
                    merged.findings.extend(r.findings);
                    for f in r.fired {
                        if !merged.fired.contains(&f) {
                            merged.fired.push(f);
                        }
                    }
                }
                Verdict::from_report(decision, &merged, started.elapsed())
            }
        }
    }

    fn file_limits(
        &self,
        d: &Decision,
        name: &str,
        size: u64,
        kind: Option<&str>,
    ) -> Option<Verdict> {
        if d.mode == Mode::Block {
            return None;
        }
        if let Some(max) = d.limits.max_bytes(d.action) {
            if size > max {
                return Some(Verdict::blocked(
                    d,
                    format!("the file is {size} bytes, more than the {max} bytes this app allows"),
                ));
            }
        }
        // Type limits: by name first, and again by detected content when known.
        let short_kind = kind.map(|k| {
            k.split_whitespace()
                .next()
                .unwrap_or(k)
                .to_ascii_lowercase()
        });
        if !d.limits.allows_type(d.action, name, short_kind.as_deref())
            && (kind.is_some() || !d.limits.allows_type(d.action, name, None))
        {
            let allowed = match d.action {
                Action::Upload => d.limits.upload_types.join(", "),
                _ => d.limits.download_types.join(", "),
            };
            return Some(Verdict::blocked(
                d,
                format!("this type of file is not allowed here (allowed: {allowed})"),
            ));
        }
        None
    }

    /// The extraction worker pool, started on first use.
    pub async fn pool(&self) -> Result<Arc<WorkerPool>, String> {
        let cfg = self.workers.clone();
        self.pool
            .get_or_init(|| async move {
                tokio::task::spawn_blocking(move || {
                    WorkerPool::new(cfg)
                        .map(Arc::new)
                        .map_err(|e| e.to_string())
                })
                .await
                .unwrap_or_else(|e| Err(format!("worker start-up failed: {e}")))
            })
            .await
            .clone()
    }
}

/// A checked file's content on its way to the extraction worker.
enum Body {
    Bytes(Arc<Vec<u8>>),
    File(std::fs::File),
}

/// Whether a scan decision lets the content through when a profile fires.
pub(crate) fn passes_on_match(on_match: OnMatch) -> bool {
    on_match == OnMatch::Audit
}

/// The block for a scan with nothing to scan for: no pattern profile and
/// no `fingerprints` (fail closed).
fn no_profile(decision: &Decision) -> Option<Verdict> {
    (decision.selection.is_none() && !decision.fingerprints())
        .then(|| Verdict::blocked(decision, "the rule scans with no profile".into()))
}

/// The engine's scan of `text` under `decision`'s profiles, plus the
/// registered documents it shares passages with when `index` is given.
fn scan_text(
    decision: &Decision,
    text: &str,
    index: Option<&Option<enforcer::fingerprint::Index>>,
) -> enforcer::ScanReport {
    let mut report = match &decision.selection {
        Some(selection) => decision.engine.scan_selection(text, selection),
        None => enforcer::ScanReport::default(),
    };
    if let Some(index) = index {
        fingerprints::look_up(index.as_ref(), text, &mut report);
    }
    report
}
