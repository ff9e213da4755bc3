//! The session actor's side of the enforcement gates: it asks the
//! [`Enforcer`](crate::enforce::Enforcer) for a verdict, applies it (the data
//! crosses or it does not), and reports it (log line, notice, recording).

use std::time::Duration;

use policies::Action;

use super::Actor;
use crate::enforce::{notice, GateEvent, Outcome, Verdict};
use crate::protocol::NoticeLevel;
use crate::session::input;

impl Actor {
    /// Logs, records and (when the user must know) shows a gate decision.
    pub(super) fn report_gate(
        &mut self,
        tab: Option<u16>,
        url: &str,
        gate: Action,
        what: String,
        verdict: Verdict,
    ) {
        if let Some(text) = notice::text(gate, &verdict) {
            let (level, code) = match verdict.outcome {
                Outcome::Block => (NoticeLevel::Block, format!("{}_blocked", gate.as_str())),
                _ => (NoticeLevel::Warn, format!("{}_audited", gate.as_str())),
            };
            self.notice(level, &code, text);
        }
        let event = self.gate_event(tab, url, gate, what, verdict);
        event.log();
        self.on_gate_event(event);
    }

    /// The event for a decision of this session.
    pub(super) fn gate_event(
        &self,
        tab: Option<u16>,
        url: &str,
        gate: Action,
        what: String,
        verdict: Verdict,
    ) -> GateEvent {
        GateEvent {
            session: self.handle.id.clone(),
            user: self.handle.user.name.clone(),
            tab,
            url: url.to_owned(),
            gate,
            what,
            verdict,
        }
    }

    /// Keeps what listings show about a session's decisions current; the
    /// recorder takes the event when the session is recorded.
    pub(super) fn on_gate_event(&mut self, event: GateEvent) {
        self.record_decision(&event);
        if event.verdict.outcome != Outcome::Allow || !event.verdict.detectors.is_empty() {
            let mut live = self.handle.live.lock().expect("live lock");
            live.incidents += 1;
        }
    }

    /// Paste (local to remote): decided, scanned within the clipboard budget,
    /// and only then inserted with `Input.insertText`. Chromium's own
    /// clipboard is never involved.
    pub(super) async fn paste(&mut self, text: String) {
        let Some(tab) = self.active_tab() else { return };
        let (tab_id, url) = (tab.id, tab.url.clone());
        let decision = self.enforcer.decide(&self.handle.user, &url, Action::Paste);
        let budget = Duration::from_millis(self.enforcer.config().clipboard_budget_ms);
        let what = format!("paste of {} characters", text.chars().count());
        let verdict = self
            .enforcer
            .check_text(&decision, text.clone(), budget)
            .await;
        let passes = verdict.passes();
        self.report_gate(Some(tab_id), &url, Action::Paste, what, verdict);
        if passes {
            self.keyboard_pasted(tab_id, &text);
            if let Some(t) = self.tab(tab_id) {
                t.input(input::insert_text(&text)).await;
            }
        }
    }
}
