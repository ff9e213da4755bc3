//! Secret detector cases from `tests/secrets/cases.txt` (values published
//! by issuers and other scanners' tests, placeholders, the issue's
//! examples) and `tests/secrets/generated.txt` (random bodies in each
//! documented format, their placeholders and truncations), through the
//! whole engine. Sources: `tests/secrets/README.md`.

use enforcer::{Confidence, Engine};

/// Highest confidence `detector` reports in `text`.
fn conf(engine: &Engine, text: &str, detector: &str) -> Option<Confidence> {
    engine
        .scan(text)
        .into_iter()
        .filter(|f| f.detector == detector)
        .map(|f| f.confidence)
        .max()
}

/// (file and line, expectation, detector, text, source) of every case.
fn cases() -> Vec<(String, Option<Confidence>, String, String, String)> {
    let mut out = Vec::new();
    for (file, data) in [
        ("cases.txt", include_str!("secrets/cases.txt")),
        ("generated.txt", include_str!("secrets/generated.txt")),
    ] {
        for (n, line) in data.lines().enumerate() {
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            let parts: Vec<&str> = line.split(" | ").collect();
            assert_eq!(parts.len(), 4, "{file}:{}: {line:?}", n + 1);
            let expect = match parts[0] {
                "High" => Some(Confidence::High),
                "Medium" => Some(Confidence::Medium),
                "none" => None,
                other => panic!("{file}:{}: expectation {other:?}", n + 1),
            };
            // `\\` is a backslash (`\\n`: the two characters of a JSON
            // escape); `\t`, `\r`, `\n` are a tab, a CR, a line break.
            let text = parts[2]
                .replace("\\\\", "\u{0}")
                .replace("\\t", "\t")
                .replace("\\r", "\r")
                .replace("\\n", "\n")
                .replace('\u{0}', "\\");
            assert!(!parts[3].trim().is_empty(), "{file}:{}: no source", n + 1);
            out.push((
                format!("{file}:{}", n + 1),
                expect,
                parts[1].to_string(),
                text,
                parts[3].trim().to_string(),
            ));
        }
    }
    out
}

#[test]
fn secret_cases() {
    let engine = Engine::with_defaults();
    let cases = cases();
    assert!(cases.len() >= 200, "{} cases", cases.len());
    let mut failures = Vec::new();
    for (at, expect, det, text, source) in &cases {
        assert!(engine.has_detector(det), "{at}: unknown detector {det}");
        let got = conf(&engine, text, det);
        let ok = match expect {
            Some(min) => got.is_some_and(|c| c >= *min),
            None => got.is_none_or(|c| c < Confidence::Medium),
        };
        if !ok {
            failures.push(format!(
                "{at} ({source}) {det}: {text:?} expected {expect:?}, got {got:?}; all: {:?}",
                engine.scan(text)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A placeholder never fires any profile, whatever detector reads it.
#[test]
fn placeholders_fire_no_profile() {
    let engine = Engine::with_defaults();
    let sel = engine.selection(&["all"]).unwrap();
    for (at, expect, _, text, source) in cases() {
        if expect.is_none() && source == "placeholder" {
            let r = engine.scan_selection(&text, &sel);
            assert!(!r.is_match(), "{at}: {text:?} fired {:?}", r.findings);
        }
    }
}
