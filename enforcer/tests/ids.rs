//! National identity, tax, passport, driving-licence and health number
//! cases: `tests/ids/cases.txt` (generated from python-stdnum's documented
//! valid and invalid examples: with a context word high, bare at the
//! detector's bare confidence) and `tests/ids/manual.txt` (documented
//! variants: omocodic fiscal codes, NINOs in groups, labels; formats
//! without a checksum). Sources: `tests/ids/README.md`.

use enforcer::Engine;

mod support;

#[test]
fn national_id_cases() {
    let mut cases = support::parse("cases.txt", include_str!("ids/cases.txt"));
    cases.extend(support::parse("manual.txt", include_str!("ids/manual.txt")));
    assert!(cases.len() >= 200, "{} cases", cases.len());
    support::check(&Engine::with_defaults(), &cases);
}
