//! A gate's verdict: allow, block or audit, and why.

use std::time::Duration;

use enforcer::ScanReport;
use policies::{Decision, Mode};
use serde::Serialize;

/// What happens to the action.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Let through.
    Allow,
    /// Stopped: the data does not cross.
    Block,
    /// Let through and recorded as an incident.
    Audit,
}

impl Outcome {
    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Allow => "allow",
            Outcome::Block => "block",
            Outcome::Audit => "audit",
        }
    }
}

/// A gate's verdict on one action.
#[derive(Clone, Debug, Serialize)]
pub struct Verdict {
    /// Allow, block or audit.
    pub outcome: Outcome,
    /// Why, in words (for the notice and the audit record; never the data).
    pub reason: String,
    /// Detector ids whose findings made a profile fire (deduplicated, in order).
    pub detectors: Vec<String>,
    /// Redacted evidence, at most a few entries.
    pub evidence: Vec<String>,
    /// The profiles that fired.
    pub fired: Vec<String>,
    /// The rule that decided.
    pub rule: String,
    /// The app.
    pub app: String,
    /// How long the scan took (zero without a scan).
    #[serde(skip)]
    pub scan_time: Duration,
    /// The block came from an error, a timeout or unreadable content (fail closed).
    pub failed_closed: bool,
    /// The block came from a `read_only` rule.
    pub read_only: bool,
}

/// Most evidence snippets kept per verdict.
const MAX_EVIDENCE: usize = 5;

impl Verdict {
    fn base(d: &Decision, outcome: Outcome, reason: String) -> Verdict {
        Verdict {
            outcome,
            reason,
            detectors: Vec::new(),
            evidence: Vec::new(),
            fired: Vec::new(),
            rule: d.rule.name.to_string(),
            app: d.app.to_string(),
            scan_time: Duration::ZERO,
            failed_closed: false,
            read_only: d.read_only,
        }
    }

    /// The verdict of an `allow` or `block` decision, which needs no scan;
    /// `None` for `scan`.
    pub fn before_scan(d: &Decision) -> Option<Verdict> {
        match d.mode {
            Mode::Allow => Some(Verdict::base(
                d,
                Outcome::Allow,
                format!("allowed by rule {}", d.rule.name),
            )),
            Mode::Block if d.read_only => Some(Verdict::base(
                d,
                Outcome::Block,
                format!("{} is read-only for you (rule {})", d.app, d.rule.name),
            )),
            Mode::Block => Some(Verdict::base(
                d,
                Outcome::Block,
                format!("blocked by rule {}", d.rule.name),
            )),
            Mode::Scan => None,
        }
    }

    /// A block that did not come from a detector: a limit, an error, a
    /// timeout, unreadable content. Errors and timeouts fail closed.
    pub fn blocked(d: &Decision, reason: String) -> Verdict {
        let mut v = Verdict::base(d, Outcome::Block, reason);
        v.failed_closed = true;
        v
    }

    /// The verdict of a finished scan.
    pub fn from_report(d: &Decision, report: &ScanReport, took: Duration) -> Verdict {
        let mut v = if report.is_match() {
            let outcome = if super::passes_on_match(d.on_match) {
                Outcome::Audit
            } else {
                Outcome::Block
            };
            Verdict::base(d, outcome, String::new())
        } else {
            Verdict::base(
                d,
                Outcome::Allow,
                format!("scanned with [{}]: clean", d.profiles.join(", ")),
            )
        };
        v.scan_time = took;
        if report.is_match() {
            for f in &report.findings {
                if !v.detectors.iter().any(|d| *d == f.detector) {
                    v.detectors.push(f.detector.to_string());
                }
                if v.evidence.len() < MAX_EVIDENCE && !v.evidence.iter().any(|e| **e == *f.evidence)
                {
                    v.evidence.push(f.evidence.to_string());
                }
            }
            v.fired = report.fired.clone();
            v.reason = format!(
                "profile {} matched ({})",
                report.fired.join(", "),
                v.detectors.join(", ")
            );
        }
        v
    }

    /// Whether the action may go ahead (allow or audit).
    pub fn passes(&self) -> bool {
        self.outcome != Outcome::Block
    }
}
