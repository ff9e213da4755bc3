//! Text dragged and dropped inside the remote page: the drop is an edit the
//! keyboard gate judges like typing.
//!
//! Chromium performs an in-page drag itself (select text, press, move,
//! release): the text leaves its field and lands in another one with no
//! keystroke and no paste. The session intercepts every drag
//! (`Input.setInterceptDrags`) and dispatches the drop only once this gate
//! has ruled on the field the drop lands in, with the dragged text inserted
//! at every position (the drop point's caret is the browser's), and on the
//! field the text is dragged out of, which loses it.

use std::time::Instant;

use policies::{Action, Mode, OnMatch};
use serde::Deserialize;

use super::field::{Edit, FieldModel, FieldReport, Tried};
use super::{decision, KeyboardGate};
use crate::auth::User;
use crate::enforce::{Enforcer, Verdict};
use crate::gates::{GateReport, Ruling};

/// Longest field value read at the drop point, in characters.
const MAX_TARGET: usize = 1 << 20;

/// What lies under the drop point, as the session's drop-target script
/// (`drop_target.js`) reports it.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(tag = "k", rename_all = "snake_case")]
pub enum DropTarget {
    /// Nothing editable: a drop inserts no text (a page's own drop handler
    /// only gets what its page showed).
    None,
    /// A text field, textarea or editable region holding `v`.
    Field {
        /// Its text.
        #[serde(default)]
        v: String,
    },
    /// Something the script cannot see into (a frame of another site, a
    /// closed shadow root): the dragged text is judged on its own and with
    /// the focused field.
    Unknown,
}

impl DropTarget {
    /// Parses the script's answer; anything malformed is [`DropTarget::Unknown`].
    pub fn parse(json: &str) -> DropTarget {
        serde_json::from_str(json).unwrap_or(DropTarget::Unknown)
    }
}

impl KeyboardGate {
    /// Rules on dropping `text` (what the drag carries as plain text) onto
    /// `target` in tab `tab` showing `url`. Refused, the drag is cancelled:
    /// neither field changes and the page sees no drop.
    pub fn on_drop(
        &mut self,
        enforcer: &Enforcer,
        user: &User,
        (tab, url): (u16, &str),
        text: &str,
        target: &DropTarget,
    ) -> Ruling {
        let d = decision(enforcer, user, url);
        let keep = d.keep_typed_text;
        let what = || format!("drop of {} characters", text.chars().count());
        let into_field = !matches!(target, DropTarget::None);
        match d.mode {
            Mode::Allow => return Ruling::pass(keep),
            Mode::Block if into_field && !text.is_empty() => {
                let v = Verdict::before_scan(&d).expect("a block decides without a scan");
                return Ruling::refuse(keep).with(GateReport::in_tab(
                    tab,
                    url,
                    Action::Keyboard,
                    what(),
                    v,
                ));
            }
            Mode::Block => return Ruling::pass(keep),
            Mode::Scan => {}
        }
        let (Some(selection), audit) = (d.selection.clone(), d.on_match == OnMatch::Audit) else {
            let v = Verdict::blocked(&d, "the keyboard rule scans with no profile".into());
            return Ruling::refuse(keep).with(GateReport::in_tab(
                tab,
                url,
                Action::Keyboard,
                what(),
                v,
            ));
        };
        let now = Instant::now();
        let fresh = |value: &str| {
            let mut m = FieldModel::new(d.engine.field_scanner(&selection), 1);
            m.report(
                FieldReport {
                    field: 1,
                    value: value.chars().take(MAX_TARGET).collect(),
                    start_utf16: 0,
                    end_utf16: 0,
                    multiline: true,
                    before: String::new(),
                    after: String::new(),
                    caret_unknown: true,
                    keys_seen: None,
                },
                now,
            );
            m
        };
        // The field the text lands in, or (unseen) the text alone and the
        // focused field; and the focused field losing its selection, when
        // the text is dragged out of it.
        let mut landing = Vec::new();
        match target {
            DropTarget::None => {}
            DropTarget::Field { v } => landing.push(fresh(v)),
            DropTarget::Unknown => {
                landing.push(fresh(""));
                if let Some(m) = self.focused_text(enforcer, tab, &d) {
                    landing.push(fresh(&m));
                }
            }
        }
        let mut found = None;
        for mut m in landing {
            if let Tried::Completes(r) | Tried::Applied(r) =
                m.try_edit(Edit::Insert(text), audit, now)
            {
                found = Some(r);
                break;
            }
        }
        if found.is_none() {
            found = self.source_loses_selection(enforcer, tab, &d, now);
        }
        let Some(report) = found else {
            return Ruling::pass(keep);
        };
        let mut v = Verdict::from_report(&d, &report, now.elapsed());
        let pass = audit;
        if !pass {
            v.reason = format!("{}; the drop was cancelled", v.reason);
        }
        let report = GateReport::in_tab(tab, url, Action::Keyboard, what(), v);
        let ruling = if pass {
            Ruling::pass(keep)
        } else {
            Ruling::refuse(keep)
        };
        ruling.with(report)
    }
}
