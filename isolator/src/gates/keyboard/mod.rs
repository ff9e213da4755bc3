//! The keyboard gate: typed text is modelled per focused field (see
//! [`field`]) and the keystroke that would complete a sensitive value is
//! refused before it reaches the page.
//!
//! [`KeyboardGate`] is the session's gate state (one field model per tab);
//! the session actor hands it each key, committed text, paste and field
//! report of the page script, and dispatches a key only when the
//! [`Ruling`] says so.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use policies::{Action, Decision, Mode, OnMatch};

use crate::auth::User;
use crate::enforce::{fingerprints, Enforcer, Fingerprints, Verdict};
use crate::gates::{GateReport, Ruling};
use crate::protocol::{mods, KeyKind};
use field::{Edit, FieldModel, FieldReport, PassageCheck, Tried};

pub mod drop;
pub mod field;

/// The same block notice is shown at most this often while typing goes on.
const NOTICE_EVERY: Duration = Duration::from_secs(3);

/// Per-session state of the keyboard gate.
#[derive(Default)]
pub struct KeyboardGate {
    /// The model of the focused field, per tab.
    fields: HashMap<u16, Model>,
    /// When the last "typing is blocked" notice was shown.
    blocked_notice_at: Option<Instant>,
    /// Field reports that arrived before the tab had a model.
    pending: HashMap<u16, FieldReport>,
    /// Keys whose key-down was refused, per tab: their key-up is refused too.
    refused_downs: HashSet<(u16, String)>,
    /// Key-downs let through, per tab.
    sent: HashMap<u16, u64>,
    /// Per (tab, document): key-downs sent minus key-downs the document had
    /// seen at its first report (keys it never saw: another frame's).
    offsets: HashMap<(u16, u64), u64>,
}

/// Documents remembered per session before the offsets start over.
const MAX_DOCUMENTS: usize = 256;

/// Refused key-downs remembered at most (a key-up that never comes, as
/// after a focus change, must not grow the set).
const MAX_REFUSED_DOWNS: usize = 64;

struct Model {
    field: FieldModel,
    /// The engine and compiled profiles the model scans with.
    engine: Arc<enforcer::Engine>,
    selection: Arc<enforcer::Selection>,
    /// The registered documents, when the profiles list `fingerprints`.
    documents: Option<Arc<Fingerprints>>,
    /// Evidence already reported under an `audit` rule (no repeat per key).
    audited: Vec<String>,
}

/// What a key does to a field.
enum KeyEffect<'k> {
    /// Nothing (a modifier alone).
    Nothing,
    /// Changes the text.
    Edit(Edit<'k>),
    /// Moves the caret in a way the model follows.
    Move(&'k str),
    /// Moves the focus to the next (`true`) or previous field (Tab).
    FocusMove(bool),
    /// May move the caret or change the text in ways the model does not
    /// follow (Ctrl+A/Z, Shift+arrows, Tab): the next report is trusted.
    Unknown,
}

/// What `key` with `modifiers` does to a field.
fn effect_of(key: &str, modifiers: u8, multiline: bool) -> KeyEffect<'_> {
    let command = modifiers & (mods::CTRL | mods::META) != 0;
    let plain = modifiers & (mods::CTRL | mods::META | mods::ALT | mods::SHIFT) == 0;
    let (ctrl, meta, alt, shift) = (
        modifiers & mods::CTRL != 0,
        modifiers & mods::META != 0,
        modifiers & mods::ALT != 0,
        modifiers & mods::SHIFT != 0,
    );
    match key {
        _ if !command && key.chars().count() == 1 => KeyEffect::Edit(Edit::Insert(key)),
        "Enter" if !command && multiline => KeyEffect::Edit(Edit::Insert("\n")),
        "x" | "X" if command && !alt => KeyEffect::Edit(Edit::Cut),
        "Delete" if shift && !command && !alt => KeyEffect::Edit(Edit::Cut),
        "Backspace" if meta && !ctrl => KeyEffect::Edit(Edit::LineBack),
        "Backspace" if ctrl || alt => KeyEffect::Edit(Edit::WordBack),
        "Delete" if ctrl || alt || meta => KeyEffect::Edit(Edit::WordForward),
        "Backspace" => KeyEffect::Edit(Edit::Backspace),
        "Delete" => KeyEffect::Edit(Edit::Delete),
        "ArrowLeft" | "ArrowRight" | "Home" | "End" if plain => KeyEffect::Move(key),
        "Tab" if !command && !alt && !multiline => KeyEffect::FocusMove(!shift),
        // Modifier keys alone change nothing.
        "Shift" | "Control" | "Alt" | "Meta" | "AltGraph" | "CapsLock" => KeyEffect::Nothing,
        _ => KeyEffect::Unknown,
    }
}

/// The `keyboard` decision for `user` typing on `url`: the one place it is taken.
pub fn decision(enforcer: &Enforcer, user: &User, url: &str) -> Decision {
    enforcer.decide(user, url, Action::Keyboard)
}

/// Rules on the answer typed into a page's `prompt()` dialog in tab `tab`
/// showing `url`: the client's dialog is not a field of the page, so the
/// whole answer is scanned at once (the keyboard budget, failing closed).
pub async fn on_prompt_answer(
    enforcer: &Enforcer,
    user: &User,
    (tab, url): (u16, &str),
    text: &str,
) -> Ruling {
    let d = decision(enforcer, user, url);
    let budget = Duration::from_millis(enforcer.config().keyboard_budget_ms.max(50));
    let what = format!("prompt answer of {} characters", text.chars().count());
    let verdict = enforcer.check_text(&d, text.to_owned(), budget).await;
    let pass = verdict.passes();
    let report = GateReport::in_tab(tab, url, Action::Keyboard, what, verdict);
    let ruling = Ruling {
        pass,
        keep_text: d.keep_typed_text,
        reports: Vec::new(),
    };
    if pass && report.verdict.detectors.is_empty() {
        ruling
    } else {
        ruling.with(report)
    }
}

impl KeyboardGate {
    /// Rules on a key event in tab `tab` showing `url`.
    pub fn on_key(
        &mut self,
        enforcer: &Enforcer,
        user: &User,
        (tab, url): (u16, &str),
        kind: KeyKind,
        key: &str,
        modifiers: u8,
    ) -> Ruling {
        let ruling = self.rule_key(enforcer, user, (tab, url), kind, key, modifiers);
        if ruling.pass && kind == KeyKind::Down {
            *self.sent.entry(tab).or_default() += 1;
        }
        ruling
    }

    fn rule_key(
        &mut self,
        enforcer: &Enforcer,
        user: &User,
        (tab, url): (u16, &str),
        kind: KeyKind,
        key: &str,
        modifiers: u8,
    ) -> Ruling {
        let d = decision(enforcer, user, url);
        let keep = d.keep_typed_text;
        match d.mode {
            Mode::Allow => Ruling::pass(keep),
            Mode::Block => {
                let mut ruling = Ruling::refuse(keep);
                if kind == KeyKind::Down {
                    ruling.reports.extend(self.blocked_outright(tab, url, &d));
                }
                ruling
            }
            Mode::Scan => {
                if kind == KeyKind::Up {
                    // The key-up of a refused key-down is refused too: a
                    // page logging `keyup` learns nothing from a refusal.
                    return if self.refused_downs.remove(&(tab, key.to_owned())) {
                        Ruling::refuse(keep)
                    } else {
                        Ruling::pass(keep)
                    };
                }
                let multiline = self.fields.get(&tab).is_some_and(|m| m.field.multiline);
                let ruling = match effect_of(key, modifiers, multiline) {
                    KeyEffect::Nothing => Ruling::pass(keep),
                    KeyEffect::Move(key) => {
                        if let Some(m) = self.fields.get_mut(&tab) {
                            m.field.move_caret(key);
                        }
                        Ruling::pass(keep)
                    }
                    KeyEffect::FocusMove(forward) => {
                        if let Some(m) = self.fields.get_mut(&tab).filter(|m| m.field.field != 0) {
                            m.field.focus_moves(forward);
                        }
                        Ruling::pass(keep)
                    }
                    KeyEffect::Unknown => {
                        if let Some(m) = self.fields.get_mut(&tab) {
                            m.field.mark_stale();
                        }
                        Ruling::pass(keep)
                    }
                    KeyEffect::Edit(edit) => self.edit(enforcer, tab, url, &d, edit),
                };
                if !ruling.pass {
                    if self.refused_downs.len() >= MAX_REFUSED_DOWNS {
                        self.refused_downs.clear();
                    }
                    self.refused_downs.insert((tab, key.to_owned()));
                }
                ruling
            }
        }
    }

    /// Rules on committed text (IME, dictation) in tab `tab` showing `url`.
    pub fn on_text(
        &mut self,
        enforcer: &Enforcer,
        user: &User,
        (tab, url): (u16, &str),
        text: &str,
    ) -> Ruling {
        let d = decision(enforcer, user, url);
        match d.mode {
            Mode::Allow => Ruling::pass(d.keep_typed_text),
            Mode::Block => {
                let mut ruling = Ruling::refuse(d.keep_typed_text);
                ruling.reports.extend(self.blocked_outright(tab, url, &d));
                ruling
            }
            Mode::Scan => self.edit(enforcer, tab, url, &d, Edit::Insert(text)),
        }
    }

    /// Tries a paste the paste gate found clean on its own at the caret of
    /// tab `tab`'s field, under the paste decision `d`: the report of the
    /// value it would complete with the field's text, or `None`, and then
    /// the paste is in the model.
    pub fn paste_completes(
        &mut self,
        enforcer: &Enforcer,
        tab: u16,
        d: &Decision,
        text: &str,
    ) -> Option<enforcer::ScanReport> {
        let model = self.model(enforcer, tab, d)?;
        match model
            .field
            .try_edit(Edit::Insert(text), false, Instant::now())
        {
            Tried::Completes(report) => Some(report),
            Tried::Clean | Tried::Applied(_) => None,
        }
    }

    /// A paste the paste gate let through also lands in the field model.
    pub fn pasted(&mut self, tab: u16, text: &str) {
        if let Some(m) = self.fields.get_mut(&tab) {
            let _ = m.field.try_edit(Edit::Insert(text), true, Instant::now());
        }
    }

    /// The page script reported the focused field of tab `tab`.
    pub fn field_report(&mut self, tab: u16, report: FieldReport) {
        if self.out_of_date(tab, &report) {
            return;
        }
        let now = Instant::now();
        match self.fields.get_mut(&tab) {
            // No field has focus, and none had: the page still gets every
            // key (a key logger needs no field), so the typed run the model
            // holds stays; a report has nothing to correct it with.
            Some(m) if report.field == 0 && m.field.field == 0 => {}
            Some(m) if m.field.field == report.field => m.field.report(report, now),
            Some(m) => {
                // Focus moved to another field: a fresh model, from the page's value.
                let mut fresh = FieldModel::new(m.engine.field_scanner(&m.selection), report.field)
                    .with_passages(passage_check(m.documents.as_ref()));
                fresh.report(report, now);
                m.field = fresh;
                m.audited.clear();
            }
            None => {
                // Modelled from the first keystroke that needs it.
                self.pending.insert(tab, report);
            }
        }
    }

    /// Whether `report` was made before key-downs sent to `tab` since: its
    /// document had seen fewer of them than have been sent. The first
    /// report of a document sets how many sent keys it never saw (keys
    /// typed into other documents before).
    fn out_of_date(&mut self, tab: u16, report: &FieldReport) -> bool {
        let Some((doc, seen)) = report.keys_seen else {
            return false;
        };
        let sent = self.sent.get(&tab).copied().unwrap_or(0);
        if self.offsets.len() >= MAX_DOCUMENTS {
            self.offsets.clear();
        }
        let offset = self
            .offsets
            .entry((tab, doc))
            .or_insert_with(|| sent.saturating_sub(seen));
        if seen + *offset < sent {
            // Keys went out after the page made this report.
            return true;
        }
        // The document saw keys sent elsewhere too (focus moved between
        // frames): take it as current from here on.
        *offset = sent.saturating_sub(seen);
        false
    }

    /// A pointer was pressed in tab `tab`: the caret, or the focus, may
    /// have moved anywhere. Until the page script reports the field, edits
    /// are judged at every position; a field in another site's frame
    /// (which no page script of ours reports) stays judged that way.
    pub fn pointer_pressed(&mut self, tab: u16) {
        if let Some(m) = self.fields.get_mut(&tab) {
            m.field.mark_stale();
        }
        if let Some(r) = self.pending.get_mut(&tab) {
            r.caret_unknown = true;
        }
    }

    /// The text of tab `tab`'s focused field, as modelled for decision `d`.
    fn focused_text(&mut self, enforcer: &Enforcer, tab: u16, d: &Decision) -> Option<String> {
        self.model(enforcer, tab, d)
            .filter(|m| m.field.field != 0)
            .map(|m| m.field.text().to_owned())
    }

    /// What the focused field of tab `tab` would complete if its selection
    /// were cut (text dragged out of it moves). The model is stale after:
    /// the page's next report says what the drop did.
    fn source_loses_selection(
        &mut self,
        enforcer: &Enforcer,
        tab: u16,
        d: &Decision,
        now: Instant,
    ) -> Option<enforcer::ScanReport> {
        let audit = d.on_match == OnMatch::Audit;
        let m = self.model(enforcer, tab, d)?;
        let (a, b) = m.field.selection();
        if a == b {
            m.field.mark_stale();
            return None;
        }
        let found = match m.field.try_edit(Edit::Cut, audit, now) {
            Tried::Completes(r) | Tried::Applied(r) => Some(r),
            Tried::Clean => None,
        };
        m.field.mark_stale();
        found
    }

    /// Forgets a closed tab's field.
    pub fn tab_closed(&mut self, tab: u16) {
        self.fields.remove(&tab);
        self.pending.remove(&tab);
        self.refused_downs.retain(|(t, _)| *t != tab);
        self.sent.remove(&tab);
        self.offsets.retain(|(t, _), _| *t != tab);
    }

    fn edit(
        &mut self,
        enforcer: &Enforcer,
        tab: u16,
        url: &str,
        d: &Decision,
        edit: Edit<'_>,
    ) -> Ruling {
        let keep = d.keep_typed_text;
        let started = Instant::now();
        let Some(model) = self.model(enforcer, tab, d) else {
            let v = Verdict::blocked(d, "the keyboard rule scans with no profile".into());
            return Ruling::refuse(keep).with(GateReport::in_tab(
                tab,
                url,
                Action::Keyboard,
                "keystroke",
                v,
            ));
        };
        let audit = d.on_match == OnMatch::Audit;
        let tried = model.field.try_edit(edit, audit, started);
        let elapsed = started.elapsed();
        let budget = Duration::from_millis(enforcer.config().keyboard_budget_ms);
        match tried {
            Tried::Clean if elapsed <= budget => Ruling::pass(keep),
            Tried::Clean => {
                // Fail closed: a decision slower than its budget does not let the key through.
                let v = Verdict::blocked(
                    d,
                    format!(
                        "deciding the keystroke took longer than {} ms",
                        budget.as_millis()
                    ),
                );
                Ruling::refuse(keep).with(GateReport::in_tab(
                    tab,
                    url,
                    Action::Keyboard,
                    "keystroke",
                    v,
                ))
            }
            Tried::Completes(report) => {
                let mut v = Verdict::from_report(d, &report, elapsed);
                v.reason = format!(
                    "{}; the keystroke completing it was not delivered",
                    v.reason
                );
                let now = Instant::now();
                let show = self
                    .blocked_notice_at
                    .is_none_or(|t| now.duration_since(t) >= NOTICE_EVERY);
                let report = GateReport::in_tab(tab, url, Action::Keyboard, "keystroke", v);
                if show {
                    self.blocked_notice_at = Some(now);
                    Ruling::refuse(keep).with(report)
                } else {
                    Ruling::refuse(keep).with(report.quietly())
                }
            }
            Tried::Applied(report) => {
                let v = Verdict::from_report(d, &report, elapsed);
                let model = self.fields.get_mut(&tab).expect("model just used");
                let new: Vec<String> = v
                    .evidence
                    .iter()
                    .filter(|e| !model.audited.contains(e))
                    .cloned()
                    .collect();
                let ruling = Ruling::pass(keep);
                if new.is_empty() {
                    return ruling;
                }
                model.audited.extend(new);
                ruling.with(GateReport::in_tab(tab, url, Action::Keyboard, "typing", v))
            }
        }
    }

    /// The tab's field model for decision `d`, rebuilt when the policy's
    /// engine or the profiles changed.
    fn model(&mut self, enforcer: &Enforcer, tab: u16, d: &Decision) -> Option<&mut Model> {
        let selection = d.selection.clone()?;
        let documents = d.fingerprints().then(|| enforcer.fingerprints().clone());
        let current = self.fields.get(&tab).is_some_and(|m| {
            Arc::ptr_eq(&m.engine, &d.engine)
                && Arc::ptr_eq(&m.selection, &selection)
                && m.documents.is_some() == documents.is_some()
        });
        if !current {
            let old = self.fields.remove(&tab);
            let pending = self.pending.remove(&tab);
            let field_id = old.as_ref().map_or(0, |m| m.field.field);
            let mut field = FieldModel::new(d.engine.field_scanner(&selection), field_id)
                .with_passages(passage_check(documents.as_ref()));
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
                        before: String::new(),
                        after: String::new(),
                        caret_unknown: false,
                        keys_seen: None,
                        value: text,
                    },
                    Instant::now(),
                );
            }
            self.fields.insert(
                tab,
                Model {
                    field,
                    engine: d.engine.clone(),
                    selection,
                    documents,
                    audited: Vec::new(),
                },
            );
        }
        self.fields.get_mut(&tab)
    }

    /// The report of typing refused outright, at most once per [`NOTICE_EVERY`].
    fn blocked_outright(&mut self, tab: u16, url: &str, d: &Decision) -> Option<GateReport> {
        let now = Instant::now();
        if self
            .blocked_notice_at
            .is_some_and(|t| now.duration_since(t) < NOTICE_EVERY)
        {
            return None;
        }
        self.blocked_notice_at = Some(now);
        let v = Verdict::before_scan(d).expect("a block decides without a scan");
        Some(GateReport::in_tab(tab, url, Action::Keyboard, "typing", v))
    }
}

/// The check of registered documents' passages for a field model, when
/// the profiles list `fingerprints`: the index in force at each edit.
fn passage_check(documents: Option<&Arc<Fingerprints>>) -> Option<PassageCheck> {
    let documents = documents?.clone();
    Some(Box::new(move |after, before| {
        let index = documents.current();
        fingerprints::newly_matched(index.as_ref().as_ref(), before, after)
    }))
}

#[cfg(test)]
mod document_tests;
#[cfg(test)]
mod tests;
