//! Twenty custom regex detectors and two keyword lists, as an admin might
//! write them (employee and ticket ids, internal hosts, code names), for
//! the benchmarks of the custom-detector gate. None of the regexes is
//! designed to match the generated corpora often; a few do (amounts, ids).
#![allow(dead_code)]

use enforcer::detect::{CustomDetectorSpec, CustomKind};
use enforcer::{Confidence, Engine, EngineBuilder};

/// The regex patterns (20).
pub const PATTERNS: [&str; 20] = [
    r"\bEMP-[0-9]{6}\b",
    r"\bPRJ-[A-Z]{3}-[0-9]{4}\b",
    r"\b[a-z0-9-]+\.corp\.internal\b",
    r"\bJIRA-[0-9]{3,6}\b",
    r"\bCASE[0-9]{8}\b",
    r"\bINV/[0-9]{4}/[0-9]{5}\b",
    r"\bacct_[a-f0-9]{24}\b",
    r"\b(?:bld|rm)-[0-9]{2}-[0-9]{3}\b",
    r"\bPO#[0-9]{7}\b",
    r"\bSKU-[A-Z0-9]{10}\b",
    r"\b[A-Z]{2}[0-9]{2}-CONF-[0-9]{4}\b",
    r"\bpatient-[0-9]{7}\b",
    r"\bvault:v1:[A-Za-z0-9+/=]{20,}",
    r"\b(?:prod|stg)-db-[0-9]{2}\b",
    r"\bBADGE[0-9]{5}\b",
    r"\bcontract\s+no\.?\s*[0-9]{5,}\b",
    r"\bMRN[: ]?[0-9]{8}\b",
    r"\bbatch-[0-9]{4}-[0-9]{2}-[0-9]{2}-[a-z]{3}\b",
    r"\b10\.20\.[0-9]{1,3}\.[0-9]{1,3}\b",
    r"\bLEGAL-HOLD-[0-9]{4}\b",
];

/// The keyword lists (2).
pub const KEYWORDS: [&[&str]; 2] = [
    &[
        "project falcon",
        "blue harbor",
        "operation nightjar",
        "codename orca",
    ],
    &[
        "do not distribute",
        "internal only",
        "attorney-client privileged",
        "strictly confidential",
    ],
];

/// A builder with the predefined detectors plus the 22 custom ones.
pub fn builder() -> EngineBuilder {
    let mut b = EngineBuilder::new();
    for (i, p) in PATTERNS.iter().enumerate() {
        b.custom_detector(CustomDetectorSpec {
            id: format!("custom_re_{i:02}"),
            description: format!("custom regex {i}"),
            kind: CustomKind::Regex {
                pattern: p.to_string(),
            },
            context: vec!["internal".into()],
            confidence: Confidence::Medium,
        })
        .expect("custom regex compiles");
    }
    for (i, words) in KEYWORDS.iter().enumerate() {
        b.custom_detector(CustomDetectorSpec {
            id: format!("custom_kw_{i}"),
            description: format!("custom keywords {i}"),
            kind: CustomKind::Keywords {
                words: words.iter().map(|w| w.to_string()).collect(),
                case_sensitive: false,
                whole_word: true,
            },
            context: Vec::new(),
            confidence: Confidence::High,
        })
        .expect("custom keywords compile");
    }
    b
}

/// The engine of [`builder`].
pub fn engine() -> Engine {
    builder().build().expect("custom engine builds")
}
