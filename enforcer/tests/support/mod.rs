//! Shared by the table-driven detector tests: case files of
//! `expect | detector | text | source` lines, checked through the engine.

use enforcer::{Confidence, Engine};

/// One case: where it is, what is expected, of which detector, in what text.
pub struct Case {
    /// `file:line`.
    pub at: String,
    /// Minimum confidence, or `None` for "not reported at medium or above".
    pub expect: Option<Confidence>,
    /// `Found`: some predefined finding covers the value, whatever its
    /// detector (a bare number two countries' checksums accept).
    pub found: bool,
    /// Detector id.
    pub detector: String,
    /// The text scanned.
    pub text: String,
    /// Source tag (see the data's README).
    pub source: String,
}

/// Parses a case file. `expect` is `High`, `Medium`, `Low`, `Found` or
/// `none`; in
/// the text `\\` is a backslash and `\t`, `\r`, `\n` a tab, a CR, a line break.
pub fn parse(file: &str, data: &str) -> Vec<Case> {
    let mut out = Vec::new();
    for (n, line) in data.lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let parts: Vec<&str> = line.split(" | ").collect();
        assert_eq!(parts.len(), 4, "{file}:{}: {line:?}", n + 1);
        let found = parts[0] == "Found";
        let expect = match parts[0] {
            "Found" => Some(Confidence::Low),
            "High" => Some(Confidence::High),
            "Medium" => Some(Confidence::Medium),
            "Low" => Some(Confidence::Low),
            "none" => None,
            other => panic!("{file}:{}: expectation {other:?}", n + 1),
        };
        let text = parts[2]
            .replace("\\\\", "\u{0}")
            .replace("\\t", "\t")
            .replace("\\r", "\r")
            .replace("\\n", "\n")
            .replace('\u{0}', "\\");
        assert!(!parts[3].trim().is_empty(), "{file}:{}: no source", n + 1);
        out.push(Case {
            at: format!("{file}:{}", n + 1),
            expect,
            found,
            detector: parts[1].to_string(),
            text,
            source: parts[3].trim().to_string(),
        });
    }
    out
}

/// Highest confidence `detector` reports in `text`.
pub fn conf(engine: &Engine, text: &str, detector: &str) -> Option<Confidence> {
    engine
        .scan(text)
        .into_iter()
        .filter(|f| f.detector == detector)
        .map(|f| f.confidence)
        .max()
}

/// Checks every case; panics listing the failures.
pub fn check(engine: &Engine, cases: &[Case]) {
    let mut failures = Vec::new();
    for c in cases {
        assert!(
            engine.has_detector(&c.detector),
            "{}: unknown detector {}",
            c.at,
            c.detector
        );
        let got = conf(engine, &c.text, &c.detector);
        let ok = match c.expect {
            _ if c.found => !engine.scan(&c.text).is_empty(),
            // `Low`: reported, at exactly low (a bare value of a detector that wants context).
            Some(Confidence::Low) => got == Some(Confidence::Low),
            Some(min) => got.is_some_and(|g| g >= min),
            None => got.is_none_or(|g| g < Confidence::Medium),
        };
        if !ok {
            failures.push(format!(
                "{} ({}) {}: {:?} expected {:?}, got {got:?}; all: {:?}",
                c.at,
                c.source,
                c.detector,
                c.text,
                c.expect,
                engine.scan(&c.text)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
