//! The one way a gate's decision is reported: a [`GateReport`] names where
//! the action happened, what was attempted (never the data) and the
//! verdict; the session actor turns each into a log line
//! (`isolator::decision`), an audit record, the incident count of the live
//! listing and, unless it is `quiet`, a notice for the user.
//!
//! Gates the actor consults directly (keyboard, paste, copy) hand their
//! reports back with their ruling; gates that run beside it (submit, page
//! content) send them over the session's report channel.

use policies::Action;

use crate::enforce::{GateEvent, Verdict};

/// Where an action happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Place {
    /// A tab of the session, by its id.
    Tab(u16),
    /// A frame of the browser (its id equals the target id for a tab's main
    /// frame); the actor maps it to its tab.
    Frame(String),
    /// Nowhere in particular (a tab already closed).
    Session,
}

/// A decision to report.
#[derive(Debug)]
pub struct GateReport {
    /// Where the action happened.
    pub place: Place,
    /// The URL the action concerns (the page's, or a request's for submit).
    pub url: String,
    /// The gate.
    pub gate: Action,
    /// What was attempted, without the data (`paste of 19 characters`).
    pub what: String,
    /// The verdict.
    pub verdict: Verdict,
    /// Logged and recorded, but no notice: the user was told moments ago.
    pub quiet: bool,
}

impl GateReport {
    /// A report of `gate` in tab `tab`.
    pub fn in_tab(
        tab: u16,
        url: &str,
        gate: Action,
        what: impl Into<String>,
        verdict: Verdict,
    ) -> Self {
        GateReport {
            place: Place::Tab(tab),
            url: url.to_owned(),
            gate,
            what: what.into(),
            verdict,
            quiet: false,
        }
    }

    /// The same report, without a notice.
    pub fn quietly(mut self) -> Self {
        self.quiet = true;
        self
    }

    /// The event logged and recorded for this report, in session `session`
    /// of `user`, the place resolved to tab `tab`.
    pub fn event(self, session: &str, user: &str, tab: Option<u16>) -> GateEvent {
        GateEvent {
            session: session.to_owned(),
            user: user.to_owned(),
            tab,
            url: self.url,
            gate: self.gate,
            what: self.what,
            verdict: self.verdict,
        }
    }
}
