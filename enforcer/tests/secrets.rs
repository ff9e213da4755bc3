//! Secret detector cases from `tests/secrets/cases.txt` (values published
//! by issuers and other scanners' tests, placeholders, the issue's
//! examples) and `tests/secrets/generated.txt` (random bodies in each
//! documented format, their placeholders and truncations), through the
//! whole engine. Sources: `tests/secrets/README.md`.

use enforcer::Engine;

mod support;

fn cases() -> Vec<support::Case> {
    let mut all = support::parse("cases.txt", include_str!("secrets/cases.txt"));
    all.extend(support::parse(
        "generated.txt",
        include_str!("secrets/generated.txt"),
    ));
    all
}

#[test]
fn secret_cases() {
    let cases = cases();
    assert!(cases.len() >= 200, "{} cases", cases.len());
    support::check(&Engine::with_defaults(), &cases);
}

/// A placeholder never fires any profile, whatever detector reads it.
#[test]
fn placeholders_fire_no_profile() {
    let engine = Engine::with_defaults();
    let sel = engine.selection(&["all"]).unwrap();
    for c in cases() {
        if c.expect.is_none() && c.source == "placeholder" {
            let r = engine.scan_selection(&c.text, &sel);
            assert!(
                !r.is_match(),
                "{}: {:?} fired {:?}",
                c.at,
                c.text,
                r.findings
            );
        }
    }
}
