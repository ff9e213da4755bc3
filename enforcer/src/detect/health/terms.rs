//! The medication and diagnosis dictionaries, compiled on first use.
//!
//! The term lists (`enforcer/data/health/*.tsv.gz`, built by
//! `build_terms.py` beside them from data two PyPI packages ship; sources,
//! licences and what was removed in that folder's README) are compiled into
//! the binary with `include_bytes!`. They are decompressed and built into one
//! Aho-Corasick automaton the first time a scan selects `medication` or
//! `diagnosis`, once per process: engines and scans that do not select them
//! never touch it.

use std::collections::HashMap;
use std::io::Read;
use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};

/// Which dictionary a term comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Dict {
    /// Drug names (generic and brand).
    Medication,
    /// Condition names from ICD-10-CM descriptions.
    Diagnosis,
}

/// One dictionary term's tag: its dictionary and category.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Tag {
    /// The dictionary.
    pub dict: Dict,
    /// The category: a medication's generic name, brand or other name
    /// (0, 1, 2), a diagnosis's ICD-10-CM chapter (1-17).
    pub category: u8,
}

impl Tag {
    /// The category as shown in a finding's evidence.
    pub fn describe(self) -> String {
        match self.dict {
            Dict::Medication => match self.category {
                0 => "generic name",
                1 => "brand name",
                _ => "brand or other name",
            }
            .to_string(),
            Dict::Diagnosis => format!(
                "ICD-10-CM chapter {}: {}",
                self.category,
                CHAPTERS
                    .get(usize::from(self.category).wrapping_sub(1))
                    .unwrap_or(&"")
            ),
        }
    }
}

/// Short titles of the ICD-10-CM chapters the diagnosis list draws on.
const CHAPTERS: [&str; 17] = [
    "infectious and parasitic diseases",
    "neoplasms",
    "diseases of the blood and immune system",
    "endocrine, nutritional and metabolic diseases",
    "mental and behavioural disorders",
    "diseases of the nervous system",
    "diseases of the eye",
    "diseases of the ear",
    "diseases of the circulatory system",
    "diseases of the respiratory system",
    "diseases of the digestive system",
    "diseases of the skin",
    "diseases of the musculoskeletal system",
    "diseases of the genitourinary system",
    "pregnancy and childbirth",
    "perinatal conditions",
    "congenital malformations",
];

const MEDICATIONS: &[u8] = include_bytes!("../../../data/health/medications.tsv.gz");
const DIAGNOSES: &[u8] = include_bytes!("../../../data/health/diagnoses.tsv.gz");

/// Both dictionaries in one automaton.
pub(crate) struct Terms {
    /// Every term, lower-case (search ASCII-lower-cased text).
    pub ac: AhoCorasick,
    /// The tag of each pattern.
    pub tags: Vec<Tag>,
    /// Pattern of each term (for lookups of a matched span).
    by_term: HashMap<Box<str>, u32>,
}

impl std::fmt::Debug for Terms {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Terms({} terms)", self.tags.len())
    }
}

/// Lines `term<TAB>category` of a gzipped list.
fn lines(gz: &[u8]) -> String {
    let mut out = String::new();
    // The lists are compiled in and checked by tests: a read error cannot
    // happen; an empty dictionary (finding nothing) would be the result.
    let _ = flate2::read::GzDecoder::new(gz).read_to_string(&mut out);
    out
}

impl Terms {
    /// The process's dictionaries, built on first call.
    pub fn get() -> &'static Terms {
        static TERMS: OnceLock<Terms> = OnceLock::new();
        TERMS.get_or_init(Terms::build)
    }

    fn build() -> Terms {
        let mut patterns: Vec<String> = Vec::new();
        let mut tags = Vec::new();
        let mut by_term = HashMap::new();
        for (dict, gz) in [
            (Dict::Medication, MEDICATIONS),
            (Dict::Diagnosis, DIAGNOSES),
        ] {
            for line in lines(gz).lines() {
                let Some((term, cat)) = line.split_once('\t') else {
                    continue;
                };
                let category = match (dict, cat) {
                    (Dict::Medication, "generic") => 0,
                    (Dict::Medication, "brand") => 1,
                    (Dict::Medication, _) => 2,
                    (Dict::Diagnosis, c) => c.parse().unwrap_or(0),
                };
                if by_term.contains_key(term) {
                    continue;
                }
                by_term.insert(Box::from(term), patterns.len() as u32);
                patterns.push(term.to_string());
                tags.push(Tag { dict, category });
            }
        }
        // Overlapping search (every term at every position): the scan keeps
        // the longest whole-word match. A contiguous NFA: a DFA of this many
        // patterns takes tens of MB and a second to build.
        let ac = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .kind(Some(AhoCorasickKind::ContiguousNFA))
            .build(&patterns)
            .unwrap_or_else(|e| panic!("health dictionaries: {e}"));
        Terms { ac, tags, by_term }
    }

    /// The tag of a matched term (lower-case), if it is one.
    pub fn tag_of(&self, term: &str) -> Option<Tag> {
        self.by_term.get(term).map(|&p| self.tags[p as usize])
    }

    /// Number of terms of `dict`.
    #[cfg(test)]
    pub fn count(&self, dict: Dict) -> usize {
        self.tags.iter().filter(|t| t.dict == dict).count()
    }
}
