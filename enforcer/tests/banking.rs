//! Banking detector cases from `tests/banking/cases.txt`: the SWIFT IBAN
//! registry's sample IBANs (as printed and in groups of four), IBANs with
//! a bad checksum, length or country format, BICs of many countries, IPv6
//! addresses of the RFCs. Sources: `tests/banking/README.md`.

use enforcer::Engine;

mod support;

#[test]
fn banking_cases() {
    let cases = support::parse("cases.txt", include_str!("banking/cases.txt"));
    assert!(cases.len() >= 300, "{} cases", cases.len());
    support::check(&Engine::with_defaults(), &cases);
}
