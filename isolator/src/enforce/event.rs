//! The record of one gate decision: logged, recorded, shown.

use policies::Action;
use serde::Serialize;

use super::verdict::{Outcome, Verdict};
use crate::audit::{Decision as AuditDecision, DecisionEvent};

/// One enforcement decision, as logged and recorded. Carries no raw data:
/// `what` describes the action ("paste of 42 bytes", "upload report.pdf"),
/// `evidence` is redacted by the engine.
#[derive(Clone, Debug, Serialize)]
pub struct GateEvent {
    /// Session id.
    pub session: String,
    /// User name.
    pub user: String,
    /// Tab the action happened in, if any.
    pub tab: Option<u16>,
    /// The page URL (or request URL for submit).
    pub url: String,
    /// The gate.
    pub gate: Action,
    /// What was attempted, without the data.
    pub what: String,
    /// The verdict.
    pub verdict: Verdict,
}

impl GateEvent {
    /// Emits the decision: its log line ([`log`](Self::log)) and its count
    /// in `isolator_gate_decisions_total` (labelled with the first detector
    /// of the verdict, so each decision counts once).
    pub fn emit(&self, metrics: &crate::metrics::Metrics) {
        self.log();
        let v = &self.verdict;
        metrics.gate_decision(
            self.gate.as_str(),
            v.outcome.as_str(),
            v.detectors.first().map(String::as_str),
        );
    }

    /// Logs the decision as one structured line. Allows with nothing found
    /// are `debug` (keystrokes would flood the log); the rest `info`.
    pub fn log(&self) {
        let v = &self.verdict;
        // URLs can carry secrets in their query: log scheme, host and path only.
        let url = redact_url(&self.url);
        if v.outcome == Outcome::Allow && v.detectors.is_empty() {
            tracing::debug!(
                target: "isolator::decision",
                session = %self.session, user = %self.user, gate = self.gate.as_str(),
                app = %v.app, rule = %v.rule, url = %url, what = %self.what,
                outcome = v.outcome.as_str(), "gate decision"
            );
        } else {
            tracing::info!(
                target: "isolator::decision",
                session = %self.session, user = %self.user, gate = self.gate.as_str(),
                app = %v.app, rule = %v.rule, url = %url, what = %self.what,
                outcome = v.outcome.as_str(), detectors = %v.detectors.join(","),
                evidence = %v.evidence.join(" | "), reason = %v.reason,
                failed_closed = v.failed_closed, "gate decision"
            );
        }
    }

    /// The event for the session recording.
    pub fn to_audit(&self) -> DecisionEvent {
        let v = &self.verdict;
        DecisionEvent {
            tab: self.tab.map(u32::from),
            gate: self.gate.as_str().to_owned(),
            action: self.what.clone(),
            decision: match v.outcome {
                Outcome::Allow => AuditDecision::Allow,
                Outcome::Block => AuditDecision::Block,
                Outcome::Audit => AuditDecision::Audit,
            },
            rule: Some(v.rule.clone()),
            app: Some(v.app.clone()),
            url: Some(redact_url(&self.url)),
            detectors: v.detectors.clone(),
            evidence: v.evidence.clone(),
            reason: v.reason.clone(),
        }
    }
}

/// `scheme://host[:port]/path` of a URL: no query, fragment or credentials.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            u.set_query(None);
            u.set_fragment(None);
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.to_string()
        }
        Err(_) => url
            .chars()
            .take_while(|c| *c != '?' && *c != '#')
            .take(256)
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn urls_lose_query_fragment_and_credentials() {
        assert_eq!(
            redact_url("https://u:p@mail.example.com/a/b?ssn=123-45-6789#x"),
            "https://mail.example.com/a/b"
        );
        assert_eq!(redact_url("not a url?secret"), "not a url");
    }
}
