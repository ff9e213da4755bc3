//! Profiles: named sets of detectors with thresholds and allow lists, and
//! the compiled [`Selection`] of profiles a scan applies.

use std::collections::HashSet;
use std::sync::Arc;

use regex_automata::meta::Regex;
use serde::{Deserialize, Serialize};

use super::error::{Error, Result};
use super::types::{Confidence, Finding};

fn low() -> Confidence {
    Confidence::Low
}
fn one() -> usize {
    1
}

/// A profile as written in a policy document / admin API.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ProfileSpec {
    /// Stable id.
    pub id: String,
    /// One-line description.
    #[serde(default)]
    pub description: String,
    /// Detector ids (predefined or custom).
    pub detectors: Vec<String>,
    /// Findings below this confidence do not count.
    #[serde(default = "low")]
    pub min_confidence: Confidence,
    /// The profile fires at this many counted findings or more.
    #[serde(default = "one")]
    pub min_matches: usize,
    /// Exact values to ignore; `re:<regex>` for a pattern (matched against the whole value).
    #[serde(default)]
    pub allow: Vec<String>,
}

/// A compiled profile.
#[derive(Debug, Clone)]
pub struct Profile {
    /// Id.
    pub id: String,
    /// Description.
    pub description: String,
    /// Detector indices in the engine.
    pub detectors: Vec<usize>,
    /// Threshold.
    pub min_confidence: Confidence,
    /// Count threshold.
    pub min_matches: usize,
    /// Whether each engine detector index is in `detectors`.
    member: Vec<bool>,
    allow_exact: HashSet<String>,
    allow_re: Vec<Regex>,
    allow_entries: usize,
    /// A record rule ([`super::record`]): the profile fires on records of
    /// several kinds of its detectors' findings, not on a count.
    pub(crate) record: Option<super::record::RecordRule>,
}

/// The form allow-list values are compared in: alphanumerics only, lower-case.
fn allow_key(value: &str) -> String {
    value
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

impl Profile {
    /// Compiles a spec; `resolve` maps detector ids to indices.
    pub fn compile(spec: &ProfileSpec, resolve: impl Fn(&str) -> Option<usize>) -> Result<Profile> {
        super::custom::check_id(&spec.id)?;
        let invalid = |message: String| Error::InvalidProfile {
            profile: spec.id.clone(),
            message,
        };
        if spec.detectors.is_empty() {
            return Err(invalid("no detectors".into()));
        }
        if spec.min_matches == 0 {
            return Err(invalid("min_matches must be at least 1".into()));
        }
        let mut detectors = Vec::with_capacity(spec.detectors.len());
        for d in &spec.detectors {
            let idx = resolve(d).ok_or_else(|| Error::UnknownDetector {
                profile: spec.id.clone(),
                detector: d.clone(),
            })?;
            if !detectors.contains(&idx) {
                detectors.push(idx);
            }
        }
        let mut allow_exact = HashSet::new();
        let mut allow_re = Vec::new();
        for (i, entry) in spec.allow.iter().enumerate() {
            if let Some(pattern) = entry.strip_prefix("re:") {
                let re = super::custom::compile_regex(
                    &format!("{} (allow entry {})", spec.id, i + 1),
                    &format!("^(?:{pattern})$"),
                )
                .map_err(|e| invalid(format!("allow entry {}: {e}", i + 1)))?;
                allow_re.push(re);
            } else {
                let key = allow_key(entry);
                if key.is_empty() {
                    return Err(invalid(format!(
                        "allow entry {} has no letters or digits",
                        i + 1
                    )));
                }
                allow_exact.insert(key);
            }
        }
        let mut member = vec![false; detectors.iter().max().map_or(0, |&d| d + 1)];
        for &d in &detectors {
            member[d] = true;
        }
        Ok(Profile {
            id: spec.id.clone(),
            description: spec.description.clone(),
            member,
            detectors,
            min_confidence: spec.min_confidence,
            min_matches: spec.min_matches,
            allow_exact,
            allow_re,
            allow_entries: spec.allow.len(),
            record: None,
        })
    }

    /// Number of allow-list entries.
    pub fn allow_entries(&self) -> usize {
        self.allow_entries
    }

    /// Whether `value` (the matched original text) is allow-listed.
    pub fn allows(&self, value: &str) -> bool {
        (!self.allow_exact.is_empty() && self.allow_exact.contains(&allow_key(value)))
            || self.allow_re.iter().any(|re| re.is_match(value.trim()))
    }

    /// Whether a finding of detector `det` with `confidence` and `value` counts for this profile.
    pub fn counts(&self, det: usize, confidence: Confidence, value: &str) -> bool {
        confidence >= self.min_confidence
            && self.member.get(det).copied().unwrap_or(false)
            && !self.allows(value)
    }
}

/// A compiled set of profiles (cheap to clone).
#[derive(Clone, Debug)]
pub struct Selection {
    pub(crate) inner: Arc<SelectionInner>,
}

#[derive(Debug)]
pub(crate) struct SelectionInner {
    /// The profiles (copies of the engine's).
    pub profiles: Vec<Profile>,
    /// Which detectors any profile needs, by engine index.
    pub mask: Vec<bool>,
    /// Engine identity, so a selection from another engine is not misapplied.
    pub engine_id: usize,
}

impl Selection {
    /// Ids of the selected profiles.
    pub fn profile_ids(&self) -> Vec<&str> {
        self.inner.profiles.iter().map(|p| p.id.as_str()).collect()
    }
}

/// The result of a scan with a selection.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ScanReport {
    /// Findings that count for at least one selected profile.
    pub findings: Vec<Finding>,
    /// Ids of the profiles that fired.
    pub fired: Vec<String>,
}

impl ScanReport {
    /// Whether any profile fired.
    pub fn is_match(&self) -> bool {
        !self.fired.is_empty()
    }
}
