//! # The DLP detection engine
//!
//! Given text, say what sensitive data it holds, where, and how sure we are,
//! fast enough to sit in front of every keystroke and every file.
//!
//! - [`EngineBuilder`] compiles the predefined detectors (see
//!   [`Engine::detectors`] for ids, validation and context words), custom
//!   detectors ([`CustomDetectorSpec`]: regex, keywords, exact data) and
//!   profiles ([`ProfileSpec`]) into one immutable [`Engine`]. Bad rules fail
//!   here, with typed errors naming the rule and position.
//! - [`Engine::scan`] reports every finding; [`Engine::scan_selection`]
//!   applies a [`Selection`] of profiles (thresholds, match counts, allow
//!   lists) and says which fired.
//! - [`Engine::scan_extraction`] judges an extracted file: its parts' text
//!   and its sensitivity labels ([`label_scan`]).
//! - [`FieldScanner`] re-scans only a bounded window around each edit of a
//!   text field, so a keystroke costs the same in a 100-byte field and a
//!   1 MB one; [`StreamScanner`] scans chunks with overlap in bounded memory.
//!
//! Design notes live in each module: [`normalise`] (evasion resistance and
//! span mapping), `token` (number-like candidates), `literals` (every
//! occurrence of a literal set at SIMD speed: anchors, keywords, context
//! words, the custom-detector gate), `predefined` (the detector table and
//! confidence rules), [`engine`] (the scan pipeline).

mod blocks;
pub mod classify;
pub mod context;
pub mod custom;
mod email;
pub mod engine;
mod error;
pub mod exact;
pub mod field;
mod health;
pub mod label_scan;
mod lazy_regex;
mod literals;
pub mod normalise;
pub mod page_hints;
mod predefined;
pub mod profile;
pub mod record;
pub mod redact;
pub mod stream;
mod token;
mod token_pass;
mod types;
pub mod validators;
pub(crate) mod words;

pub use custom::{CustomDetectorSpec, CustomKind};
pub use engine::{Engine, EngineBuilder, DEFAULT_CONTEXT_WINDOW, MAX_SPAN, PREDEFINED_PROFILES};
pub use error::{Error, Result};
pub use exact::ExactDataSet;
pub use field::FieldScanner;
pub use page_hints::{page_hint, page_hints, PageHint};
pub use profile::{ProfileSpec, ScanReport, Selection};
pub use stream::StreamScanner;
pub use types::{Category, Confidence, DetectorInfo, Finding, ProfileInfo};

/// A small deterministic generator for property tests: `next(n)` is in
/// `0..n` (xorshift64; `n = 0` counts as 1).
#[cfg(test)]
pub(crate) fn test_rng(seed: u64) -> impl FnMut(u64) -> u64 {
    let mut state = seed;
    move |n: u64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % n.max(1)
    }
}
