//! The session actor's side of the gates ([`crate::gates`]): it hands each
//! gate what the user or the page did, applies the ruling (the data crosses
//! or it does not) and reports every decision the one way: a log line, an
//! audit record, the live listing's incident count and, unless quiet, a
//! notice.

use policies::Action;

use super::Actor;
use crate::enforce::{notice, GateEvent, Outcome};
use crate::gates::copy::CopyRuling;
use crate::gates::{self, GateReport, Place, Ruling};
use crate::protocol::{KeyKind, NoticeLevel, ServerMsg};
use crate::session::input;
use crate::session::page_msg::CopyMsg;

impl Actor {
    /// Reports a gate decision: notice (unless quiet), log line, recording, count.
    pub(super) fn report_gate(&mut self, report: GateReport) {
        let tab = match &report.place {
            Place::Tab(id) => Some(*id),
            Place::Frame(frame) => self
                .tabs
                .iter()
                .find(|t| t.target_id.as_ref() == frame)
                .map(|t| t.id),
            Place::Session => None,
        };
        if !report.quiet {
            if let Some(text) = notice::text(report.gate, &report.verdict) {
                let (level, code) = match report.verdict.outcome {
                    Outcome::Block => (
                        NoticeLevel::Block,
                        format!("{}_blocked", report.gate.as_str()),
                    ),
                    _ => (
                        NoticeLevel::Warn,
                        format!("{}_audited", report.gate.as_str()),
                    ),
                };
                self.notice(level, &code, text);
            }
        }
        let event = report.event(&self.handle.id, &self.handle.user.name, tab);
        event.emit(self.enforcer.metrics());
        self.on_gate_event(event);
    }

    /// Reports what a ruling carries and says whether it passes.
    pub(super) fn apply(&mut self, ruling: Ruling) -> bool {
        for report in ruling.reports {
            self.report_gate(report);
        }
        ruling.pass
    }

    /// A report of a gate of this session outside the actor (upload,
    /// download, print, image paste).
    pub(super) fn report_in(
        &mut self,
        tab: Option<u16>,
        url: &str,
        gate: Action,
        what: String,
        verdict: crate::enforce::Verdict,
    ) {
        self.report_gate(GateReport {
            place: tab.map_or(Place::Session, Place::Tab),
            url: url.to_owned(),
            gate,
            what,
            verdict,
            quiet: false,
        });
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

    /// The active tab's id and URL.
    fn active_place(&self) -> Option<(u16, String)> {
        self.active_tab().map(|t| (t.id, t.url.clone()))
    }

    /// A key event: the keyboard gate rules, then it is recorded and, when
    /// it passes, dispatched (by the caller).
    pub(super) fn gate_key(&mut self, kind: KeyKind, key: &str, modifiers: u8) -> bool {
        let Some((tab, url)) = self.active_place() else {
            return false;
        };
        let ruling = self.keyboard.on_key(
            &self.enforcer,
            &self.handle.user,
            (tab, &url),
            kind,
            key,
            modifiers,
        );
        if kind == KeyKind::Down {
            self.record_key(tab, key, ruling.keep_text);
        }
        self.apply(ruling)
    }

    /// Committed text (IME, dictation): the keyboard gate rules, then it is
    /// recorded and, when it passes, inserted.
    pub(super) async fn gate_text(&mut self, text: String) {
        let Some((tab, url)) = self.active_place() else {
            return;
        };
        let ruling = self
            .keyboard
            .on_text(&self.enforcer, &self.handle.user, (tab, &url), &text);
        self.record_text(tab, &text, false, ruling.keep_text);
        if self.apply(ruling) {
            if let Some(t) = self.tab(tab) {
                t.input(input::insert_text(&text)).await;
            }
        }
    }

    /// The answer typed into a page's `prompt()`: the keyboard gate rules on
    /// it as on committed text; `true` lets it reach the page.
    pub(super) async fn gate_prompt_answer(&mut self, tab: u16, text: &str) -> bool {
        let Some(url) = self.tab(tab).map(|t| t.url.clone()) else {
            return false;
        };
        let ruling =
            gates::keyboard::on_prompt_answer(&self.enforcer, &self.handle.user, (tab, &url), text)
                .await;
        self.record_text(tab, text, false, ruling.keep_text);
        self.apply(ruling)
    }

    /// Paste (local to remote): the paste gate rules; the text is recorded
    /// and, when it passes, inserted and added to the field model.
    pub(super) async fn paste(&mut self, text: String) {
        let Some((tab, url)) = self.active_place() else {
            return;
        };
        let ruling = gates::paste::on_text(
            &self.enforcer,
            &self.handle.user,
            (tab, &url),
            &text,
            &mut self.keyboard,
        )
        .await;
        self.record_text(tab, &text, true, ruling.keep_text);
        if self.apply(ruling) {
            if let Some(t) = self.tab(tab) {
                t.input(input::insert_text(&text)).await;
            }
        }
    }

    /// Copy (remote to local): what the page in `tab_id` copied reaches the
    /// user's clipboard only when the copy gate passes it.
    pub(super) async fn copy(&mut self, tab_id: u16, copy: CopyMsg) {
        let Some(url) = self.tab(tab_id).map(|t| t.url.clone()) else {
            return;
        };
        let ruling = self
            .copies
            .on_copy(
                &self.enforcer,
                &self.handle.user,
                (tab_id, &url),
                (&copy.text, copy.how),
            )
            .await;
        match ruling {
            CopyRuling::Nothing | CopyRuling::Flood { notify: false } => {}
            CopyRuling::Flood { notify: true } => self.notice(
                NoticeLevel::Warn,
                "copy_flood",
                "This page is copying to the clipboard too often; further copies are ignored for a few seconds.",
            ),
            CopyRuling::Decided(ruling) => {
                if self.apply(ruling) {
                    self.send(ServerMsg::Copy { text: copy.text });
                }
            }
        }
    }
}
