//! Decisions the browser-wide gates took for this session (submit, page
//! content), reported like the actor's own.

use super::Actor;
use crate::enforce::link::GateReport;

impl Actor {
    /// Reports a decision taken outside the actor, naming the tab whose frame it came from.
    pub(super) fn on_gate_report(&mut self, report: GateReport) {
        let tab = self
            .tabs
            .iter()
            .find(|t| t.target_id.as_ref() == report.frame)
            .map(|t| t.id);
        self.report_gate(tab, &report.url, report.gate, report.what, report.verdict);
    }
}
