//! The keyboard gate: typed text is modelled per focused field (see
//! [`crate::session::field`]) and the keystroke that would complete a
//! sensitive value is refused before it reaches the page.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use policies::{Action, Decision, Mode, OnMatch};
use serde_json::Value;

use super::Actor;
use crate::enforce::Verdict;
use crate::protocol::KeyKind;
use crate::session::field::{Edit, FieldModel, FieldReport, Tried};
use crate::session::input::mods;

/// The same block notice is shown at most this often while typing goes on.
const NOTICE_EVERY: Duration = Duration::from_secs(3);

/// Per-session state of the keyboard gate.
#[derive(Default)]
pub(super) struct KeyboardState {
    /// The model of the focused field, per tab.
    fields: HashMap<u16, Model>,
    /// When the last "typing is blocked" notice was shown.
    blocked_notice_at: Option<Instant>,
    /// Field reports that arrived before the tab had a model.
    pending: HashMap<u16, FieldReport>,
}

struct Model {
    field: FieldModel,
    /// The engine and compiled profiles the model scans with.
    engine: Arc<enforcer::Engine>,
    selection: Arc<enforcer::Selection>,
    /// Evidence already reported under an `audit` rule (no repeat per key).
    audited: Vec<String>,
}

/// What a key does to the text of a field.
fn edit_of<'k>(key: &'k str, modifiers: u8, multiline: bool) -> Option<Result<Edit<'k>, ()>> {
    let command = modifiers & (mods::CTRL | mods::META) != 0;
    match key {
        _ if !command && key.chars().count() == 1 => Some(Ok(Edit::Insert(key))),
        "Enter" if !command && multiline => Some(Ok(Edit::Insert("\n"))),
        "Backspace" if !command => Some(Ok(Edit::Backspace)),
        "Delete" if !command => Some(Ok(Edit::Delete)),
        // Modifier keys alone change nothing.
        "Shift" | "Control" | "Alt" | "Meta" | "AltGraph" | "CapsLock" => None,
        // Anything else may move the caret or change the text (arrows, Home,
        // Ctrl+A/X/Z, Tab): trust the next report from the page.
        _ => Some(Err(())),
    }
}

impl Actor {
    /// Decides a key event; `true` lets it through to the page.
    pub(super) fn keyboard_allows_key(&mut self, kind: KeyKind, key: &str, modifiers: u8) -> bool {
        let Some((tab, url)) = self.active_tab().map(|t| (t.id, t.url.clone())) else {
            return true;
        };
        let decision = self
            .enforcer
            .decide(&self.handle.user, &url, Action::Keyboard);
        match decision.mode {
            Mode::Allow => true,
            Mode::Block => {
                if kind == KeyKind::Down {
                    self.keyboard_blocked_outright(tab, &url, &decision);
                }
                false
            }
            Mode::Scan => {
                if kind == KeyKind::Up {
                    return true;
                }
                let multiline = self.kb.fields.get(&tab).is_some_and(|m| m.field.multiline);
                match edit_of(key, modifiers, multiline) {
                    None => true,
                    Some(Err(())) => {
                        if let Some(m) = self.kb.fields.get_mut(&tab) {
                            m.field.mark_stale();
                        }
                        true
                    }
                    Some(Ok(edit)) => self.keyboard_edit(tab, &url, &decision, edit),
                }
            }
        }
    }

    /// Decides committed text (IME, dictation); `true` lets it through.
    pub(super) fn keyboard_allows_text(&mut self, text: &str) -> bool {
        let Some((tab, url)) = self.active_tab().map(|t| (t.id, t.url.clone())) else {
            return true;
        };
        let decision = self
            .enforcer
            .decide(&self.handle.user, &url, Action::Keyboard);
        match decision.mode {
            Mode::Allow => true,
            Mode::Block => {
                self.keyboard_blocked_outright(tab, &url, &decision);
                false
            }
            Mode::Scan => self.keyboard_edit(tab, &url, &decision, Edit::Insert(text)),
        }
    }

    /// A paste the paste gate let through also lands in the field model.
    pub(super) fn keyboard_pasted(&mut self, tab: u16, text: &str) {
        if let Some(m) = self.kb.fields.get_mut(&tab) {
            let _ = m.field.try_edit(Edit::Insert(text), true, Instant::now());
        }
    }

    /// The page reported the focused field (`{k: "field", f, v, s, e, m}`).
    pub(super) fn keyboard_field_report(&mut self, tab: u16, v: &Value) {
        let field = v.get("f").and_then(Value::as_u64).unwrap_or(0);
        let num = |k: &str| v.get(k).and_then(Value::as_u64).unwrap_or(0) as usize;
        let report = FieldReport {
            field,
            value: v.get("v").and_then(Value::as_str).unwrap_or("").to_owned(),
            start_utf16: num("s"),
            end_utf16: num("e"),
            multiline: v.get("m").and_then(Value::as_bool).unwrap_or(false),
        };
        let now = Instant::now();
        match self.kb.fields.get_mut(&tab) {
            Some(m) if m.field.field == field => m.field.report(report, now),
            Some(m) => {
                // Focus moved to another field: a fresh model, from the page's value.
                let mut fresh = FieldModel::new(m.engine.field_scanner(&m.selection), field);
                fresh.report(report, now);
                m.field = fresh;
                m.audited.clear();
            }
            None => {
                // Modelled from the first keystroke that needs it.
                self.kb.pending.insert(tab, report);
            }
        }
    }

    /// Forgets a closed tab's field.
    pub(super) fn keyboard_tab_closed(&mut self, tab: u16) {
        self.kb.fields.remove(&tab);
    }

    fn keyboard_edit(&mut self, tab: u16, url: &str, d: &Decision, edit: Edit<'_>) -> bool {
        let started = Instant::now();
        let Some(model) = self.keyboard_model(tab, d) else {
            let v = Verdict::blocked(d, "the keyboard rule scans with no profile".into());
            self.report_gate(Some(tab), url, Action::Keyboard, "keystroke".into(), v);
            return false;
        };
        let audit = d.on_match == OnMatch::Audit;
        let tried = model.field.try_edit(edit, audit, started);
        let elapsed = started.elapsed();
        let budget = Duration::from_millis(self.enforcer.config().keyboard_budget_ms);
        match tried {
            Tried::Clean if elapsed <= budget => true,
            Tried::Clean => {
                // Fail closed: a decision slower than its budget does not let the key through.
                let v = Verdict::blocked(
                    d,
                    format!(
                        "deciding the keystroke took longer than {} ms",
                        budget.as_millis()
                    ),
                );
                self.report_gate(Some(tab), url, Action::Keyboard, "keystroke".into(), v);
                false
            }
            Tried::Completes(report) => {
                let mut v = Verdict::from_report(d, &report, elapsed);
                v.reason = format!(
                    "{}; the keystroke completing it was not delivered",
                    v.reason
                );
                let now = Instant::now();
                let show = self
                    .kb
                    .blocked_notice_at
                    .is_none_or(|t| now.duration_since(t) >= NOTICE_EVERY);
                if show {
                    self.kb.blocked_notice_at = Some(now);
                    self.report_gate(Some(tab), url, Action::Keyboard, "keystroke".into(), v);
                } else {
                    let event =
                        self.gate_event(Some(tab), url, Action::Keyboard, "keystroke".into(), v);
                    event.log();
                    self.on_gate_event(event);
                }
                false
            }
            Tried::Applied(report) => {
                let v = Verdict::from_report(d, &report, elapsed);
                let model = self.kb.fields.get_mut(&tab).expect("model just used");
                let new: Vec<String> = v
                    .evidence
                    .iter()
                    .filter(|e| !model.audited.contains(e))
                    .cloned()
                    .collect();
                if !new.is_empty() {
                    model.audited.extend(new);
                    self.report_gate(Some(tab), url, Action::Keyboard, "typing".into(), v);
                }
                true
            }
        }
    }

    /// The tab's field model for decision `d`, rebuilt when the policy's
    /// engine or the profiles changed.
    fn keyboard_model(&mut self, tab: u16, d: &Decision) -> Option<&mut Model> {
        let selection = d.selection.clone()?;
        let current = self.kb.fields.get(&tab).is_some_and(|m| {
            Arc::ptr_eq(&m.engine, &d.engine) && Arc::ptr_eq(&m.selection, &selection)
        });
        if !current {
            let old = self.kb.fields.remove(&tab);
            let pending = self.kb.pending.remove(&tab);
            let field_id = old.as_ref().map_or(0, |m| m.field.field);
            let mut field = FieldModel::new(d.engine.field_scanner(&selection), field_id);
            if let Some(r) = pending {
                field.field = r.field;
                field.report(r, Instant::now());
            } else if let Some(old) = old {
                let (s, e) = old.field.selection();
                let text = old.field.text().to_owned();
                field.report(
                    FieldReport {
                        field: old.field.field,
                        start_utf16: text[..s].encode_utf16().count(),
                        end_utf16: text[..e].encode_utf16().count(),
                        multiline: old.field.multiline,
                        value: text,
                    },
                    Instant::now(),
                );
            }
            self.kb.fields.insert(
                tab,
                Model {
                    field,
                    engine: d.engine.clone(),
                    selection,
                    audited: Vec::new(),
                },
            );
        }
        self.kb.fields.get_mut(&tab)
    }

    fn keyboard_blocked_outright(&mut self, tab: u16, url: &str, d: &Decision) {
        let now = Instant::now();
        if self
            .kb
            .blocked_notice_at
            .is_some_and(|t| now.duration_since(t) < NOTICE_EVERY)
        {
            return;
        }
        self.kb.blocked_notice_at = Some(now);
        let v = Verdict::before_scan(d).expect("a block decides without a scan");
        self.report_gate(Some(tab), url, Action::Keyboard, "typing".into(), v);
    }
}
