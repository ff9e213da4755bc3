//! # enforcer
//!
//! The data-loss-prevention core of isolator: it answers "what sensitive data
//! does this content hold, where, and how sure are we?".
//!
//! This crate is synchronous and knows nothing of sessions, apps, users or
//! async runtimes (see `docs/ARCHITECTURE.md`). Callers in the isolator wrap
//! it in blocking tasks or worker processes.

pub mod decode;
pub mod detect;
pub mod extract;
pub mod fingerprint;
pub mod labels;

pub use detect::{
    Category, Confidence, CustomDetectorSpec, CustomKind, DetectorInfo, Engine, EngineBuilder,
    Error, ExactDataSet, FieldScanner, Finding, ProfileInfo, ProfileSpec, Result, ScanReport,
    Selection, StreamScanner,
};
