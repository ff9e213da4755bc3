//! Plain data types of the detection API: confidence, findings, and the
//! descriptions of detectors and profiles that admin tools list.

use std::borrow::Cow;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// How sure the engine is that a finding is real sensitive data.
///
/// Ordered: `Low < Medium < High`, so a profile's `min_confidence` is a plain comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    /// The shape matches but nothing else supports it (e.g. a bare 9-digit number).
    Low,
    /// The shape is distinctive or a context word is near.
    Medium,
    /// A checksum validated and/or context words are near; or the value is self-identifying.
    High,
}

impl Confidence {
    /// The lower-case name, as in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
        }
    }
}

impl std::fmt::Display for Confidence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Confidence {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "low" => Ok(Confidence::Low),
            "medium" => Ok(Confidence::Medium),
            "high" => Ok(Confidence::High),
            _ => Err(format!(
                "unknown confidence `{s}` (expected low, medium or high)"
            )),
        }
    }
}

/// One piece of sensitive data found in a text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Stable detector id: `credit_card`, or a custom detector id
    /// (borrowed for predefined detectors: no allocation per finding).
    pub detector: Cow<'static, str>,
    /// Start byte of the span in the ORIGINAL (un-normalised) text.
    pub start: usize,
    /// End byte (exclusive) of the span in the original text.
    pub end: usize,
    /// How sure the engine is.
    pub confidence: Confidence,
    /// Redacted evidence, e.g. `4111 **** **** 1111`; never the full value.
    /// Shared, so copies of a finding (reports of a field being typed into)
    /// cost no allocation.
    pub evidence: Arc<str>,
}

/// The family a detector belongs to (predefined profiles follow these).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// Payment cards and bank identifiers.
    Financial,
    /// Government identity numbers.
    NationalIds,
    /// Secrets: API keys, tokens, private keys, passwords.
    Credentials,
    /// Personal contact data.
    Pii,
    /// Health identifiers and codes.
    Health,
    /// Source code, told from prose by a whole-text classifier.
    SourceCode,
    /// Sensitivity labels and classification markings of documents.
    Classification,
    /// Defined by an admin.
    Custom,
}

impl Category {
    /// The snake-case name, as in JSON and profile ids.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Financial => "financial",
            Category::NationalIds => "national_ids",
            Category::Credentials => "credentials",
            Category::Pii => "pii",
            Category::Health => "health",
            Category::SourceCode => "source_code",
            Category::Classification => "classification",
            Category::Custom => "custom",
        }
    }
}

/// What `Engine::detectors` tells about one detector.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DetectorInfo {
    /// Stable id.
    pub id: String,
    /// One-line description.
    pub description: String,
    /// Family.
    pub category: Category,
    /// The validation applied to candidates (checksum, ranges, decoding...).
    pub validation: String,
    /// Words that raise confidence when found within the context window.
    pub context: Vec<String>,
    /// Whether a match without a context word is discarded.
    pub requires_context: bool,
    /// ISO 3166 code of the issuing country (`GB` for `uk_*` ids), or
    /// empty for international formats and custom detectors.
    pub country: String,
    /// Ids of the profiles that include this detector.
    pub profiles: Vec<String>,
}

/// What `Engine::profiles` tells about one profile.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ProfileInfo {
    /// Stable id.
    pub id: String,
    /// One-line description.
    pub description: String,
    /// Detector ids.
    pub detectors: Vec<String>,
    /// Findings below this confidence are ignored.
    pub min_confidence: Confidence,
    /// The profile fires at this many findings or more.
    pub min_matches: usize,
    /// Number of allow-list entries (values are not echoed: they may be sensitive).
    pub allow_entries: usize,
}
