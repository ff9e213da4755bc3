//! Payment card cases from `tests/cards/cards.txt` (published test card
//! numbers per brand, grouping and separator; near misses; hard
//! negatives), through the whole engine. Sources: `tests/cards/README.md`.

use enforcer::{Confidence, Engine};

/// Highest confidence `credit_card` reports in `text`.
fn conf(engine: &Engine, text: &str) -> Option<Confidence> {
    engine
        .scan(text)
        .into_iter()
        .filter(|f| f.detector == "credit_card")
        .map(|f| f.confidence)
        .max()
}

/// The cases: (line number, expected minimum confidence or `None` for "not
/// reported at medium or above", text, source tag).
fn cases() -> Vec<(usize, Option<Confidence>, String, String)> {
    let data = include_str!("cards/cards.txt");
    let mut out = Vec::new();
    for (n, line) in data.lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let parts: Vec<&str> = line.split(" | ").collect();
        assert_eq!(parts.len(), 3, "line {}: {line:?}", n + 1);
        let expect = match parts[0] {
            "High" => Some(Confidence::High),
            "Medium" => Some(Confidence::Medium),
            "none" => None,
            other => panic!("line {}: expectation {other:?}", n + 1),
        };
        let text = parts[1]
            .replace("\\t", "\t")
            .replace("\\r", "\r")
            .replace("\\n", "\n");
        assert!(!parts[2].trim().is_empty(), "line {}: no source", n + 1);
        out.push((n + 1, expect, text, parts[2].trim().to_string()));
    }
    out
}

#[test]
fn card_cases() {
    let engine = Engine::with_defaults();
    let cases = cases();
    assert!(cases.len() >= 60, "{} cases", cases.len());
    let mut failures = Vec::new();
    for (line, expect, text, source) in &cases {
        let got = conf(&engine, text);
        let ok = match expect {
            Some(min) => got.is_some_and(|c| c >= *min),
            None => got.is_none_or(|c| c < Confidence::Medium),
        };
        if !ok {
            failures.push(format!(
                "line {line} ({source}): {text:?} expected {expect:?}, got {got:?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Groups separated by tabs or line breaks without a card word are found,
/// at `low` only (a column of 4-digit numbers can pass Luhn), and whole;
/// the other odd separators are found whole at `medium`.
#[test]
fn odd_separator_cards_are_found_whole() {
    let engine = Engine::with_defaults();
    for (text, want) in [
        ("4111\t1111\t1111\t1111", Confidence::Low),
        ("4111\n1111\n1111\n1111", Confidence::Low),
        ("x 5555\r\n5555\r\n5555\r\n4444\r\n", Confidence::Low),
        ("4111.1111.1111.1111", Confidence::Medium),
        ("(4111/1111/1111/1111)", Confidence::Medium),
        ("4111_1111_1111_1111", Confidence::Medium),
        ("4111  1111  1111  1111", Confidence::Medium),
    ] {
        let found: Vec<_> = engine
            .scan(text)
            .into_iter()
            .filter(|f| f.detector == "credit_card")
            .collect();
        assert_eq!(found.len(), 1, "{text:?}: {found:?}");
        let digits = |s: &str| s.bytes().filter(u8::is_ascii_digit).count();
        assert_eq!(digits(&text[found[0].start..found[0].end]), 16, "{text:?}");
        assert_eq!(found[0].confidence, want, "{text:?}");
    }
}

/// A grouped card is found once, spanning the whole number.
#[test]
fn grouped_cards_are_found_whole() {
    let engine = Engine::with_defaults();
    for text in [
        "4111-1111-1111-1111",
        "3056 9309 0259 04",
        "3622 720627 1667",
    ] {
        let found: Vec<_> = engine
            .scan(text)
            .into_iter()
            .filter(|f| f.detector == "credit_card")
            .collect();
        assert_eq!(found.len(), 1, "{text:?}: {found:?}");
        assert_eq!((found[0].start, found[0].end), (0, text.len()), "{text:?}");
    }
}

/// Cards one per line (a list, a table column) are each found whole and at
/// high: the line break joining them is not read as a card's separator.
#[test]
fn cards_on_consecutive_lines_are_each_found() {
    let engine = Engine::with_defaults();
    let text = "4111 1111 1111 1111\n5555 5555 5555 4444\n3782 822463 10005\n6062828888666688";
    let mut found: Vec<_> = engine
        .scan(text)
        .into_iter()
        .filter(|f| f.detector == "credit_card")
        .map(|f| (&text[f.start..f.end], f.confidence))
        .collect();
    found.sort();
    assert_eq!(
        found,
        vec![
            ("3782 822463 10005", Confidence::High),
            ("4111 1111 1111 1111", Confidence::High),
            ("5555 5555 5555 4444", Confidence::High),
            ("6062828888666688", Confidence::Medium),
        ]
    );
}
