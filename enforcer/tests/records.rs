//! The `pii_record` profile: a customer list (CSV or prose) fires it with
//! no id in it; a business letter with one address does not. Data:
//! `tests/records/` (fictional values reserved for fiction, see its README).

use enforcer::Engine;

fn fires(text: &str) -> bool {
    let engine = Engine::with_defaults();
    let sel = engine.selection(&["pii_record"]).unwrap();
    engine.scan_selection(text, &sel).is_match()
}

#[test]
fn a_customer_list_fires_the_record_profile() {
    let csv = include_str!("records/customers.csv");
    assert!(fires(csv));
    assert!(fires(include_str!("records/prose_list.txt")));
    // No single item fires the default pii profile at this strength: the
    // phones and e-mails alone are what a letter holds too.
    let engine = Engine::with_defaults();
    let sel = engine.selection(&["pii_record"]).unwrap();
    let report = engine.scan_selection(csv, &sel);
    assert!(report.findings.len() >= 8, "{:?}", report.findings);
}

#[test]
fn a_business_letter_does_not() {
    assert!(!fires(include_str!("records/letter.txt")));
    // Nor a single row of the list.
    let one_row = include_str!("records/customers.csv")
        .lines()
        .take(2)
        .collect::<Vec<_>>()
        .join("\n");
    assert!(!fires(&one_row));
}
