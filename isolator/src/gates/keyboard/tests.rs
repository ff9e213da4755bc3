//! The keyboard gate alone, with an engine and no browser: keys in, rulings
//! out. The card number is Visa's published test number.

use policies::{Action, Mode};

use super::field::FieldReport;
use super::KeyboardGate;
use crate::auth::User;
use crate::enforce::{Enforcer, Outcome};
use crate::gates::Place;
use crate::protocol::KeyKind;

const POLICY: &str = r#"
[[apps]]
name = "shop"
hosts = ["shop.example"]

[[rules]]
name = "shop-typing"
apps = ["shop"]
profiles = ["financial"]
keyboard = "scan"
keep_typed_text = true

[[rules]]
name = "everything-else"
keyboard = "block"
"#;

const SHOP: &str = "https://shop.example/checkout";

fn setup() -> (Enforcer, User, KeyboardGate) {
    let user = User {
        name: "dana".into(),
        groups: Vec::new(),
        admin: false,
    };
    (
        crate::enforce::tests::enforcer(POLICY),
        user,
        KeyboardGate::default(),
    )
}

/// Types `text` into field 7 of tab 1; the rulings of each key.
fn type_text(
    gate: &mut KeyboardGate,
    e: &Enforcer,
    user: &User,
    url: &str,
    text: &str,
) -> Vec<super::Ruling> {
    gate.field_report(
        1,
        FieldReport {
            field: 7,
            value: String::new(),
            start_utf16: 0,
            end_utf16: 0,
            multiline: false,
            before: String::new(),
            after: String::new(),
            caret_unknown: false,
            keys_seen: None,
        },
    );
    let mut out = Vec::new();
    for c in text.chars() {
        let key = c.to_string();
        let down = gate.on_key(e, user, (1, url), KeyKind::Down, &key, 0);
        // A key-up reports nothing; it passes only where its key-down did:
        // a page logging key-ups learns nothing from a refusal.
        let up = gate.on_key(e, user, (1, url), KeyKind::Up, &key, 0);
        assert!(up.reports.is_empty());
        assert_eq!(up.pass, down.pass, "key-up of {key:?}");
        out.push(down);
    }
    out
}

#[test]
fn the_keystroke_completing_a_card_is_refused_and_reported() {
    let (e, user, mut gate) = setup();
    assert_eq!(super::decision(&e, &user, SHOP).mode, Mode::Scan);
    let rulings = type_text(&mut gate, &e, &user, SHOP, "4111 1111 1111 1111");
    let refused: Vec<usize> = rulings
        .iter()
        .enumerate()
        .filter(|(_, r)| !r.pass)
        .map(|(i, _)| i)
        .collect();
    // The 15th digit would let a key logger compute the 16th (Luhn): it is
    // refused, and so is every digit after it.
    assert_eq!(refused, [17, 18]);
    let last = &rulings[17];
    assert!(last.keep_text, "the rule keeps typed text in recordings");
    assert_eq!(last.reports.len(), 1);
    let r = &last.reports[0];
    assert_eq!(
        (r.gate, &r.place, r.verdict.outcome),
        (Action::Keyboard, &Place::Tab(1), Outcome::Block)
    );
    assert!(r.verdict.detectors.iter().any(|d| d == "credit_card"));
    assert!(
        !format!("{:?}", r).contains("4111 1111 1111 1111"),
        "reports carry redacted evidence only"
    );
    // Trying again at once is refused again, but the user is not told twice.
    let again = gate.on_key(&e, &user, (1, SHOP), KeyKind::Down, "1", 0);
    assert!(!again.pass);
    assert!(again.reports.iter().all(|r| r.quiet));
}

#[test]
fn a_blocking_rule_refuses_every_key_and_tells_once() {
    let (e, user, mut gate) = setup();
    let url = "https://elsewhere.example/";
    let rulings = type_text(&mut gate, &e, &user, url, "hello");
    assert!(rulings.iter().all(|r| !r.pass));
    let told: usize = rulings.iter().map(|r| r.reports.len()).sum();
    assert_eq!(told, 1, "one notice for a burst of refused keys");
}

#[test]
fn text_of_a_paste_counts_towards_the_field() {
    let (e, user, mut gate) = setup();
    let rulings = type_text(&mut gate, &e, &user, SHOP, "4111 1111 1111 11");
    assert!(rulings.iter().all(|r| r.pass));
    // Committed text (IME) completing the number is refused.
    let r = gate.on_text(&e, &user, (1, SHOP), "11");
    assert!(!r.pass);
    gate.tab_closed(1);
    // A fresh field after the tab closed: nothing to complete.
    let r = gate.on_text(&e, &user, (1, SHOP), "1");
    assert!(r.pass);
}

#[test]
fn deleting_what_separates_two_halves_is_refused_where_the_caret_is_followed() {
    let (e, user, mut gate) = setup();
    let rulings = type_text(&mut gate, &e, &user, SHOP, "4111 1111 1111 11x11");
    assert!(rulings.iter().all(|r| r.pass), "x keeps the halves apart");
    for _ in 0..2 {
        assert!(
            gate.on_key(&e, &user, (1, SHOP), KeyKind::Down, "ArrowLeft", 0)
                .pass
        );
    }
    let r = gate.on_key(&e, &user, (1, SHOP), KeyKind::Down, "Backspace", 0);
    assert!(!r.pass, "Backspace would join 4111 1111 1111 1111");
    assert_eq!(r.reports.len(), 1);
    let up = gate.on_key(&e, &user, (1, SHOP), KeyKind::Up, "Backspace", 0);
    assert!(!up.pass);
}

#[test]
fn while_the_caret_is_unknown_an_edit_completing_a_value_anywhere_is_refused() {
    let (e, user, mut gate) = setup();
    type_text(&mut gate, &e, &user, SHOP, "4111 1111 1111 11x11");
    // A key the model does not follow (the caret may be anywhere now).
    assert!(
        gate.on_key(&e, &user, (1, SHOP), KeyKind::Down, "ArrowUp", 0)
            .pass
    );
    let r = gate.on_key(&e, &user, (1, SHOP), KeyKind::Down, "Delete", 0);
    assert!(!r.pass, "Delete before the x would join the halves");
    // Once the page says where the caret is, editing elsewhere flows again.
    gate.field_report(
        1,
        FieldReport {
            field: 7,
            value: "4111 1111 1111 11x11".into(),
            start_utf16: 0,
            end_utf16: 0,
            multiline: false,
            before: String::new(),
            after: String::new(),
            caret_unknown: false,
            keys_seen: None,
        },
    );
    assert!(
        gate.on_key(&e, &user, (1, SHOP), KeyKind::Down, "Delete", 0)
            .pass
    );
}

#[test]
fn the_boxes_before_a_field_are_judged_with_it() {
    let (e, user, mut gate) = setup();
    // The fourth box of a card form, the first three filled.
    gate.field_report(
        1,
        FieldReport {
            field: 9,
            value: String::new(),
            start_utf16: 0,
            end_utf16: 0,
            multiline: false,
            before: "4111 1111 1111".into(),
            after: String::new(),
            caret_unknown: false,
            keys_seen: None,
        },
    );
    let mut passed = String::new();
    for d in ["1", "1", "1", "1"] {
        if gate.on_key(&e, &user, (1, SHOP), KeyKind::Down, d, 0).pass {
            passed.push_str(d);
        }
    }
    // 14 digits in all: the 15th would fix the 16th.
    assert_eq!(passed, "11");
}

#[test]
fn with_no_field_focused_reports_do_not_reset_the_typed_run() {
    let (e, user, mut gate) = setup();
    let no_field = || FieldReport {
        field: 0,
        value: String::new(),
        start_utf16: 0,
        end_utf16: 0,
        multiline: false,
        before: String::new(),
        after: String::new(),
        caret_unknown: false,
        keys_seen: None,
    };
    gate.field_report(1, no_field());
    let mut passed = String::new();
    for (i, c) in "4111 1111 1111 1111".chars().enumerate() {
        if i == 9 {
            // Shift alone, and the page's report that follows it.
            assert!(
                gate.on_key(&e, &user, (1, SHOP), KeyKind::Down, "Shift", 0)
                    .pass
            );
            gate.field_report(1, no_field());
            // A pause: the report would now apply.
            std::thread::sleep(std::time::Duration::from_millis(150));
        }
        let key = c.to_string();
        if gate
            .on_key(&e, &user, (1, SHOP), KeyKind::Down, &key, 0)
            .pass
        {
            passed.push(c);
        }
    }
    assert_eq!(passed, "4111 1111 1111 11");
}

#[test]
fn a_report_made_before_keys_sent_since_is_dropped() {
    let (e, user, mut gate) = setup();
    let report = |value: &str, seen: u64| FieldReport {
        field: 7,
        value: value.into(),
        start_utf16: value.encode_utf16().count(),
        end_utf16: value.encode_utf16().count(),
        multiline: false,
        before: String::new(),
        after: String::new(),
        caret_unknown: false,
        keys_seen: Some((42, seen)),
    };
    gate.field_report(1, report("", 0));
    let typed = "4111 1111 1111 11";
    for c in typed.chars() {
        assert!(
            gate.on_key(&e, &user, (1, SHOP), KeyKind::Down, &c.to_string(), 0)
                .pass
        );
    }
    // A busy renderer delivers a report it made after nine keys, late.
    std::thread::sleep(std::time::Duration::from_millis(150));
    gate.field_report(1, report("4111 1111", 9));
    // The model still holds all fourteen digits: the fifteenth is refused.
    assert!(
        !gate
            .on_key(&e, &user, (1, SHOP), KeyKind::Down, "1", 0)
            .pass
    );
    // A report that has seen every key is applied.
    gate.field_report(1, report("4111 1111 1111 11", typed.chars().count() as u64));
    assert!(
        !gate
            .on_key(&e, &user, (1, SHOP), KeyKind::Down, "1", 0)
            .pass
    );
    // Another document (a frame) starts from its own count.
    std::thread::sleep(std::time::Duration::from_millis(150));
    gate.field_report(
        1,
        FieldReport {
            keys_seen: Some((7, 0)),
            ..report("", 0)
        },
    );
    assert!(
        gate.on_key(&e, &user, (1, SHOP), KeyKind::Down, "1", 0)
            .pass
    );
}

/// A report of field 9 of tab 1 holding `value` with the caret at `at`
/// (UTF-16 units), the boxes around it `before` and `after`.
fn report_at(value: &str, at: usize, before: &str, after: &str) -> FieldReport {
    FieldReport {
        field: 9,
        value: value.into(),
        start_utf16: at,
        end_utf16: at,
        multiline: false,
        before: before.into(),
        after: after.into(),
        caret_unknown: false,
        keys_seen: None,
    }
}

#[test]
fn the_boxes_after_a_field_are_judged_with_it() {
    let (e, user, mut gate) = setup();
    // A card form filled from its last box backwards: the first box last.
    gate.field_report(1, report_at("", 0, "", "1111 1111 1111"));
    let mut passed = String::new();
    for d in ["4", "1", "1", "1"] {
        if gate.on_key(&e, &user, (1, SHOP), KeyKind::Down, d, 0).pass {
            passed.push_str(d);
        }
    }
    // The third digit would leave one missing digit that Luhn fixes.
    assert_eq!(passed, "41");
    assert!(
        gate.on_key(&e, &user, (1, SHOP), KeyKind::Down, "x", 0)
            .pass
    );
}

#[test]
fn cutting_the_text_between_two_halves_is_refused_and_cutting_elsewhere_is_not() {
    use crate::protocol::mods;
    let (e, user, mut gate) = setup();
    let value = "4111 1111 1111 11 -- 11";
    // The user selected " -- " (UTF-16 17..21).
    let mut r = report_at(value, 17, "", "");
    r.end_utf16 = 21;
    gate.field_report(1, r);
    for (key, m) in [
        ("x", mods::CTRL),
        ("x", mods::META),
        ("Delete", mods::SHIFT),
        ("Backspace", 0),
    ] {
        let ruling = gate.on_key(&e, &user, (1, SHOP), KeyKind::Down, key, m);
        assert!(!ruling.pass, "{key} with {m} joined the halves");
        let up = gate.on_key(&e, &user, (1, SHOP), KeyKind::Up, key, m);
        assert!(!up.pass, "the key-up of a refused {key}");
    }
    // Cutting a word that joins nothing passes.
    let mut r = report_at("call 4111 1111 now", 0, "", "");
    r.field = 10;
    r.end_utf16 = 5;
    gate.field_report(1, r);
    assert!(
        gate.on_key(&e, &user, (1, SHOP), KeyKind::Down, "x", mods::CTRL)
            .pass
    );
}

#[test]
fn deleting_a_word_between_two_halves_is_refused() {
    use crate::protocol::mods;
    let (e, user, mut gate) = setup();
    // Caret after "abc ": Ctrl+Backspace deletes "abc " and joins the
    // halves; before "abc", Ctrl+Delete deletes "abc" (leaving two spaces)
    // or, as some browsers do, "abc " with it.
    let value = "4111 1111 1111 abc 1111";
    for (key, m, at) in [
        ("Backspace", mods::CTRL, 19),
        ("Backspace", mods::ALT, 19),
        ("Delete", mods::CTRL, 15),
    ] {
        let mut g = KeyboardGate::default();
        g.field_report(1, report_at(value, at, "", ""));
        let ruling = g.on_key(&e, &user, (1, SHOP), KeyKind::Down, key, m);
        assert!(!ruling.pass, "{key} with {m} at {at} joined the halves");
    }
    // Cmd+Backspace deletes the line before the caret: "4111 1111 1111 11"
    // stays alone, with the rest: refused only when it joins.
    gate.field_report(1, report_at("note: 1111 11", 6, "", ""));
    assert!(
        gate.on_key(&e, &user, (1, SHOP), KeyKind::Down, "Backspace", mods::META)
            .pass
    );
    // A word deletion that joins nothing passes, and the model then waits
    // for the page's report (the exact span is the browser's).
    gate.field_report(1, report_at("hello world", 11, "", ""));
    assert!(
        gate.on_key(&e, &user, (1, SHOP), KeyKind::Down, "Backspace", mods::CTRL)
            .pass
    );
}

#[test]
fn a_drop_completing_a_card_in_the_field_under_it_is_refused() {
    use super::drop::DropTarget;
    let (e, user, mut gate) = setup();
    let field = |v: &str| DropTarget::Field { v: v.into() };
    let ruling = gate.on_drop(&e, &user, (1, SHOP), "1111 1111", &field("4111 1111 "));
    assert!(!ruling.pass);
    let why = &ruling.reports[0].verdict;
    assert!(why.reason.contains("drop was cancelled"), "{}", why.reason);
    assert!(why.detectors.iter().any(|d| d == "credit_card"));
    // Wherever the drop point's caret is: at the start of the field too.
    assert!(
        !gate
            .on_drop(&e, &user, (1, SHOP), "4111 1111 ", &field("1111 1111"))
            .pass
    );
    // Clean text, or a drop where no text lands, passes without a report.
    let clean = gate.on_drop(&e, &user, (1, SHOP), "hello", &field("4111 1111 "));
    assert!(clean.pass && clean.reports.is_empty());
    let nowhere = gate.on_drop(&e, &user, (1, SHOP), "1111 1111", &DropTarget::None);
    assert!(nowhere.pass);
    // Where typing is blocked outright, text cannot be dropped into a field.
    let other = "https://elsewhere.example/";
    assert!(!gate.on_drop(&e, &user, (1, other), "hi", &field("")).pass);
    assert!(
        gate.on_drop(&e, &user, (1, other), "hi", &DropTarget::None)
            .pass
    );
}

#[test]
fn text_dragged_out_of_a_field_must_not_join_what_it_leaves() {
    use super::drop::DropTarget;
    let (e, user, mut gate) = setup();
    // " -- " selected between two halves (UTF-16 17..21), dragged out.
    let mut r = report_at("4111 1111 1111 11 -- 11", 17, "", "");
    r.end_utf16 = 21;
    gate.field_report(1, r);
    let ruling = gate.on_drop(&e, &user, (1, SHOP), " -- ", &DropTarget::None);
    assert!(!ruling.pass);
    // Into a frame the script cannot see: judged alone and with the
    // focused field.
    gate.field_report(1, report_at("4111 1111 ", 10, "", ""));
    assert!(
        !gate
            .on_drop(&e, &user, (1, SHOP), "1111 1111", &DropTarget::Unknown)
            .pass
    );
    assert_eq!(
        DropTarget::parse(r#"{"k":"field","v":"abc"}"#),
        DropTarget::Field { v: "abc".into() }
    );
    assert_eq!(DropTarget::parse("not json"), DropTarget::Unknown);
}

#[test]
fn keys_typed_right_after_tab_meet_the_box_they_left() {
    let (e, user, mut gate) = setup();
    // Three boxes filled; Tab, and the fourth is typed before the page
    // reports that the focus moved.
    gate.field_report(1, report_at("1111", 4, "4111 1111", ""));
    assert!(
        gate.on_key(&e, &user, (1, SHOP), KeyKind::Down, "Tab", 0)
            .pass
    );
    let mut passed = String::new();
    for d in ["1", "1", "1", "1"] {
        if gate.on_key(&e, &user, (1, SHOP), KeyKind::Down, d, 0).pass {
            passed.push_str(d);
        }
    }
    assert_eq!(passed, "11");
    // The new box's report then takes over, with the boxes before it.
    let mut r = report_at("11", 2, "4111 1111 1111", "");
    r.field = 10;
    gate.field_report(1, r);
    assert!(
        !gate
            .on_key(&e, &user, (1, SHOP), KeyKind::Down, "1", 0)
            .pass
    );
}

#[test]
fn after_a_pointer_press_edits_are_judged_wherever_the_caret_may_be() {
    let (e, user, _) = setup();
    for pressed in [false, true] {
        let mut gate = KeyboardGate::default();
        gate.field_report(1, report_at("4111 1111 1111 11x11", 20, "", ""));
        // A click may have put the caret after the x (in a frame no page
        // script reports, no report ever says so): Backspace there would
        // join the halves. With the caret known at the end, it is clean.
        if pressed {
            gate.pointer_pressed(1);
        }
        let ruling = gate.on_key(&e, &user, (1, SHOP), KeyKind::Down, "Backspace", 0);
        assert_eq!(ruling.pass, !pressed, "pointer pressed: {pressed}");
    }
}

#[test]
fn cards_grouped_with_dots_slashes_underscores_or_double_spaces_stop_at_fourteen_digits() {
    let (e, user, _) = setup();
    for typed in [
        "4111.1111.1111.1111",
        "4111/1111/1111/1111",
        "4111_1111_1111_1111",
        "4111  1111  1111  1111",
        "card 4111\t1111\t1111\t1111",
    ] {
        let mut gate = KeyboardGate::default();
        let rulings = type_text(&mut gate, &e, &user, SHOP, typed);
        let passed: String = typed
            .chars()
            .zip(&rulings)
            .filter(|(_, r)| r.pass)
            .map(|(c, _)| c)
            .collect();
        let digits = passed.chars().filter(char::is_ascii_digit).count();
        assert_eq!(digits, 14, "{typed:?}: {passed:?} reached the page");
    }
}
