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
        },
    );
    let mut out = Vec::new();
    for c in text.chars() {
        let key = c.to_string();
        out.push(gate.on_key(e, user, (1, url), KeyKind::Down, &key, 0));
        // A key-up reports nothing; it passes where typing is scanned and
        // is refused where typing is blocked.
        let up = gate.on_key(e, user, (1, url), KeyKind::Up, &key, 0);
        assert!(up.reports.is_empty());
        assert_eq!(up.pass, super::decision(e, user, url).mode == Mode::Scan);
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
    assert_eq!(refused, [18], "only the last digit is refused");
    let last = &rulings[18];
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
    let rulings = type_text(&mut gate, &e, &user, SHOP, "4111 1111 1111 111");
    assert!(rulings.iter().all(|r| r.pass));
    // Committed text (IME) completing the number is refused.
    let r = gate.on_text(&e, &user, (1, SHOP), "1");
    assert!(!r.pass);
    gate.tab_closed(1);
    // A fresh field after the tab closed: nothing to complete.
    let r = gate.on_text(&e, &user, (1, SHOP), "1");
    assert!(r.pass);
}
