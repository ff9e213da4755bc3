//! Typing a registered confidential document: the keyboard gate refuses
//! the keystroke that would make the field hold enough of it to match
//! (the paste gate's bar, judged on what the field would hold). The
//! document is Debian's GPL-3 text (`/usr/share/common-licenses`, package
//! `base-files`); the typist's own words are a business note. (Not another
//! licence: the BSD disclaimer shares "the implied warranties of
//! merchantability and fitness for a particular purpose" and more with the
//! GPL's, and rightly matched it under some salts.)

use std::sync::Arc;

use policies::Action;

use super::field::FieldReport;
use super::KeyboardGate;
use crate::auth::User;
use crate::enforce::{Enforcer, Fingerprints, Outcome};
use crate::protocol::KeyKind;

const POLICY: &str = r#"
[[apps]]
name = "notes"
hosts = ["notes.example"]

[[rules]]
name = "notes-audit"
apps = ["notes"]
keyboard = { mode = "scan", profiles = ["fingerprints"], on_match = "audit" }

[[rules]]
name = "no-confidential-documents"
keyboard = { mode = "scan", profiles = ["financial", "fingerprints"] }
"#;

const CHAT: &str = "https://chat.example/room";
const NOTES: &str = "https://notes.example/new";

/// The typist's own words: nothing in them comes from the GPL.
const OWN: &str = "Hi Sam, the invoice for account 4471 is attached. Please confirm the \
delivery date for the March order and tell me whether the purchase order number \
needs to change before Friday, so that finance can close the quarter on time. \
The warehouse in Leeds asked for the pallet count as well; Maria has the \
figures from last week and will send them after lunch. Thanks, Dana";

/// The GPL-3's section 13 paragraph on one line, as a user types it.
fn gpl_paragraph() -> String {
    crate::enforce::tests::gpl3_section_13()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn setup() -> (Enforcer, Arc<Fingerprints>, User, tempfile::TempDir) {
    let (e, documents, dir) = crate::enforce::tests::enforcer_with_gpl3(POLICY);
    let user = User {
        name: "dana".into(),
        groups: Vec::new(),
        admin: false,
    };
    (e, documents, user, dir)
}

fn focus(gate: &mut KeyboardGate, value: &str) {
    focus_field(gate, 3, value);
}

fn focus_field(gate: &mut KeyboardGate, field: u64, value: &str) {
    let end = value.encode_utf16().count();
    gate.field_report(
        1,
        FieldReport {
            field,
            value: value.to_owned(),
            start_utf16: end,
            end_utf16: end,
            multiline: true,
            before: String::new(),
            after: String::new(),
            caret_unknown: false,
            keys_seen: None,
        },
    );
}

/// Types `text` key by key; what the page received, and the reports.
fn type_into(
    gate: &mut KeyboardGate,
    e: &Enforcer,
    user: &User,
    url: &str,
    text: &str,
) -> (String, Vec<super::GateReport>) {
    let mut got = String::new();
    let mut reports = Vec::new();
    for c in text.chars() {
        let key = c.to_string();
        let r = gate.on_key(e, user, (1, url), KeyKind::Down, &key, 0);
        if r.pass {
            got.push(c);
        }
        reports.extend(r.reports);
        gate.on_key(e, user, (1, url), KeyKind::Up, &key, 0);
    }
    (got, reports)
}

fn matches(documents: &Fingerprints, text: &str) -> usize {
    documents
        .current()
        .as_ref()
        .as_ref()
        .map_or(0, |i| i.lookup(text).len())
}

#[test]
fn typing_a_paragraph_of_a_registered_document_never_lets_the_field_match() {
    let (e, documents, user, _dir) = setup();
    let mut gate = KeyboardGate::default();
    focus(&mut gate, "");
    let para = gpl_paragraph();
    assert!(
        matches(&documents, &para) > 0,
        "the paragraph alone matches"
    );
    let (got, reports) = type_into(&mut gate, &e, &user, CHAT, &para);
    assert_eq!(matches(&documents, &got), 0, "the page got: {got}");
    let refused = reports
        .iter()
        .find(|r| r.verdict.outcome == Outcome::Block)
        .expect("a refusal was reported");
    assert_eq!(refused.gate, Action::Keyboard);
    assert_eq!(refused.verdict.detectors, vec!["document_match"]);
    assert!(refused.verdict.evidence[0].contains("\"GPL-3\""));
    assert!(
        !refused
            .verdict
            .evidence
            .iter()
            .any(|v| v.contains("Affero")),
        "no text in the evidence"
    );
    // Only the keys that would cross the bar are refused: the first one
    // refused is the one that would have made the field match. (Where that
    // is depends on the store's random salt: 94 to 300 of 500 characters.)
    let typed = got
        .chars()
        .zip(para.chars())
        .take_while(|(a, b)| a == b)
        .count();
    let with_next: String = para.chars().take(typed + 1).collect();
    assert!(
        matches(&documents, &with_next) > 0,
        "refused after {typed} of {} characters, though the next one makes no match",
        para.len()
    );
    let before: String = para.chars().take(typed).collect();
    assert_eq!(
        matches(&documents, &before),
        0,
        "refused only at the crossing"
    );
    let own = OWN.to_owned();
    // The typist's own words, in the next field, are typed whole.
    focus_field(&mut gate, 4, "");
    let (got, reports) = type_into(&mut gate, &e, &user, CHAT, &own);
    assert_eq!(got, own);
    assert!(reports.is_empty(), "{reports:?}");
}

#[test]
fn deleting_the_words_between_two_pieces_of_a_passage_is_refused() {
    let (e, documents, user, _dir) = setup();
    let mut gate = KeyboardGate::default();
    let para = gpl_paragraph();
    let words: Vec<&str> = para.split(' ').collect();
    let own = OWN.to_owned();
    // The field holds the user's own words and two pieces of the passage
    // kept apart by a filler word: below the bar. Without the filler the
    // pieces join into a passage over it. The shortest such pieces, split
    // wherever the store's salted fingerprints allow (the salt is random,
    // so where a split works differs between stores):
    let filler = " zq";
    let (value, caret) = (8..words.len())
        .find_map(|n| {
            (2..n - 1).find_map(|k| {
                let first = words[..k].join(" ");
                let second = words[k..n].join(" ");
                let apart = format!("{own} {first}{filler} {second}");
                let joined = format!("{own} {first} {second}");
                (matches(&documents, &apart) == 0 && matches(&documents, &joined) > 0)
                    .then(|| (apart, own.len() + 1 + first.len() + filler.len()))
            })
        })
        .expect("pieces that match only when joined");
    let caret16 = value[..caret].encode_utf16().count();
    gate.field_report(
        1,
        FieldReport {
            field: 3,
            value: value.clone(),
            start_utf16: caret16,
            end_utf16: caret16,
            multiline: true,
            before: String::new(),
            after: String::new(),
            caret_unknown: false,
            keys_seen: None,
        },
    );
    let mut deleted = 0;
    for _ in 0..filler.len() {
        let r = gate.on_key(&e, &user, (1, CHAT), KeyKind::Down, "Backspace", 0);
        if !r.pass {
            assert_eq!(r.reports[0].verdict.detectors, vec!["document_match"]);
            break;
        }
        deleted += 1;
    }
    assert!(
        deleted < filler.len(),
        "the backspace joining the pieces was refused"
    );
}

#[test]
fn a_field_that_already_holds_a_passage_can_still_be_edited() {
    let (e, _documents, user, _dir) = setup();
    let mut gate = KeyboardGate::default();
    let para = gpl_paragraph();
    // The page put it there itself (a draft it loaded): the user can
    // still add a word of their own and delete.
    focus(&mut gate, &para);
    let (got, reports) = type_into(&mut gate, &e, &user, CHAT, " thanks");
    assert_eq!(got, " thanks");
    assert!(reports.is_empty(), "{reports:?}");
    let r = gate.on_key(&e, &user, (1, CHAT), KeyKind::Down, "Backspace", 0);
    assert!(r.pass);
}

#[test]
fn an_audit_rule_lets_the_paragraph_through_and_records_it_once() {
    let (e, _documents, user, _dir) = setup();
    let mut gate = KeyboardGate::default();
    focus(&mut gate, "");
    let para = gpl_paragraph();
    let (got, reports) = type_into(&mut gate, &e, &user, NOTES, &para);
    assert_eq!(got, para);
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert_eq!(reports[0].verdict.outcome, Outcome::Audit);
    assert_eq!(reports[0].verdict.detectors, vec!["document_match"]);
}
