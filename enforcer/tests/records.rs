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

/// A field scanner's report after every edit (typing rows in, deleting
/// and replacing ranges anywhere, pasting a list) is that of a full scan:
/// its findings (in a scan's order) and the profiles fired, the record
/// profile coming and going.
#[test]
fn a_field_agrees_with_full_scans_while_records_come_and_go() {
    let engine = Engine::with_defaults();
    let sel = engine.selection(&["pii_record", "pii"]).unwrap();
    let csv = include_str!("records/customers.csv");
    let rows: Vec<&str> = csv.lines().skip(1).collect();
    let letter = include_str!("records/letter.txt");
    let mut field = engine.field_scanner(&sel);
    field.set_text(&format!(
        "{letter}\n{}\n{letter}",
        "notes of the day. ".repeat(30)
    ));
    // xorshift64: a fixed sequence of edits.
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let mut next = |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n.max(1) as u64) as usize
    };
    let boundary = |t: &str, mut i: usize| {
        while !t.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    let (mut fired, mut quiet) = (0, 0);
    for step in 0..400 {
        let len = field.text().len();
        let at = boundary(field.text(), next(len + 1));
        let report = match next(10) {
            // Type a row in, a character at a time (checked at its end).
            0..=3 => {
                let row = format!("{}\n", rows[next(rows.len())]);
                let mut r = None;
                for (k, c) in row.char_indices() {
                    let mut buf = [0u8; 4];
                    r = Some(field.insert(at + k, c.encode_utf8(&mut buf)).unwrap());
                }
                r.unwrap()
            }
            // Delete a range (a character, a word, a row's worth).
            4..=6 => {
                let to = boundary(field.text(), (at + [1, 6, 90][next(3)]).min(len));
                field.delete(at..to).unwrap()
            }
            // Replace a few bytes (autocorrect).
            7 | 8 => {
                let to = boundary(field.text(), (at + 4).min(len));
                field
                    .replace(at..to, ["Road", "4111", ", ", "Jane"][next(4)])
                    .unwrap()
            }
            // Paste the whole list somewhere.
            _ => field.insert(at, csv).unwrap(),
        };
        let full = engine.scan_selection(field.text(), &sel);
        assert_eq!(report.findings, full.findings, "step {step}");
        assert_eq!(report.fired, full.fired, "step {step}");
        if full.fired.iter().any(|p| p == "pii_record") {
            fired += 1;
        } else {
            quiet += 1;
        }
        // Now and then back to the letters alone (quiet until rows
        // cluster again); never beyond 12 KB.
        if step % 25 == 24 {
            let end = field.text().len();
            field.delete(letter.len()..end).unwrap();
        } else if field.text().len() > 12_000 {
            let cut = boundary(field.text(), 6_000);
            let end = field.text().len();
            field.delete(cut..end).unwrap();
        }
    }
    assert!(fired > 50 && quiet > 5, "fired {fired}, quiet {quiet}");
}
