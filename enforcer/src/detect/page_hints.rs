//! Hints for the page script of the isolator's page-content gate: for
//! detectors whose values it should hide at once, before the server's
//! authoritative scan has answered, a JavaScript regular expression that
//! finds likely values and the check the script applies to a match.
//!
//! The hints live here, beside the detectors they stand for, so that the
//! two cannot drift apart unseen: the tests below check that every hint
//! names a predefined detector, that each hint finds every value the
//! detector finds in a sample of its formats, and that the check agrees
//! with the detector's own validation. The script only hides: a hint that
//! matches too much hides too much until the server's answer, a hint that
//! misses is caught by that answer (the exact values found are masked).

/// A page-script hint for one detector.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageHint {
    /// The detector's id.
    pub detector: &'static str,
    /// A JavaScript regular expression source (no flags; the script adds `g`).
    pub pattern: &'static str,
    /// The check the script applies to a match: `Some("luhn")` for the
    /// Luhn checksum of its 13 to 19 digits; `None` for none.
    pub check: Option<&'static str>,
}

const HINTS: &[PageHint] = &[
    PageHint {
        detector: "credit_card",
        pattern: r"\b(?:\d[ -]?){12,18}\d\b",
        check: Some("luhn"),
    },
    PageHint {
        detector: "us_ssn",
        pattern: r"\b\d{3}[- ]\d{2}[- ]\d{4}\b",
        check: None,
    },
    PageHint {
        detector: "email",
        pattern: r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}",
        check: None,
    },
    PageHint {
        detector: "iban",
        pattern: r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b",
        check: None,
    },
];

/// Every page-script hint.
pub fn page_hints() -> &'static [PageHint] {
    HINTS
}

/// The page-script hint of `detector`, if it has one.
pub fn page_hint(detector: &str) -> Option<&'static PageHint> {
    HINTS.iter().find(|h| h.detector == detector)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Engine;

    /// Values of each hinted detector in the formats people write them:
    /// issuers' test cards (Visa, Mastercard, Amex), an SSN in the SSA's
    /// AAA-GG-SSSS format (area, group and serial all issuable), RFC 2606 addresses and the ECBS example IBANs.
    const SAMPLES: &[(&str, &[&str])] = &[
        (
            "credit_card",
            &[
                "4111 1111 1111 1111",
                "5555-5555-5555-4444",
                "378282246310005",
                "4111111111111111",
            ],
        ),
        ("us_ssn", &["536-22-8726", "536 22 8726"]),
        (
            "email",
            &["jane.roe@example.com", "a.b+tag@mail.example.org"],
        ),
        (
            "iban",
            &["GB82 WEST 1234 5698 7654 32", "DE89370400440532013000"],
        ),
    ];

    /// The hint's pattern, as the regex crate reads it (the patterns use
    /// only syntax JavaScript and Rust agree on).
    fn regex_of(h: &PageHint) -> regex_automata::meta::Regex {
        regex_automata::meta::Regex::new(h.pattern).expect("hint pattern compiles")
    }

    #[test]
    fn every_hint_names_a_predefined_detector() {
        let engine = Engine::with_defaults();
        let ids: Vec<String> = engine.detectors().into_iter().map(|d| d.id).collect();
        for h in page_hints() {
            assert!(
                ids.iter().any(|id| id == h.detector),
                "{} is not a detector",
                h.detector
            );
        }
    }

    #[test]
    fn each_hint_finds_what_its_detector_finds() {
        let engine = Engine::with_defaults();
        for (detector, values) in SAMPLES {
            let h = page_hint(detector).expect("a hint for every sampled detector");
            let re = regex_of(h);
            for v in *values {
                let text = format!("ref: {v} (see below)");
                let found = engine.scan(&text);
                let by_engine = found.iter().find(|f| f.detector == *detector);
                let f = by_engine.unwrap_or_else(|| panic!("{detector} does not find {v:?}"));
                let m = re
                    .find(&text)
                    .unwrap_or_else(|| panic!("the hint misses {v:?}"));
                assert!(
                    m.start() <= f.start && m.end() >= f.end,
                    "{detector}: hint {:?} and finding {:?} of {v:?}",
                    &text[m.start()..m.end()],
                    &text[f.start..f.end]
                );
            }
        }
    }

    #[test]
    fn the_luhn_check_agrees_with_the_validator() {
        for (digits, valid) in [("4111111111111111", true), ("4111111111111112", false)] {
            assert_eq!(crate::detect::validators::luhn(digits), valid);
        }
        assert_eq!(page_hint("credit_card").and_then(|h| h.check), Some("luhn"));
    }
}
