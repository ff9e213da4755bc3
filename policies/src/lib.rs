//! # policies
//!
//! Apps, users, groups and ordered rules that decide, for each action that
//! crosses the isolation boundary (copy, paste, upload, download, keyboard,
//! print, submit, page content), whether it is allowed, blocked, or scanned
//! with DLP profiles. Profiles and custom detectors are compiled into
//! [`enforcer`] engines when a policy document loads.

pub mod action;
pub mod document;
pub mod error;
pub mod host;
pub mod location;

pub use action::{Action, UnknownAction};
pub use document::{
    ActionSetting, AppDoc, ByteSize, DetectorDoc, DetectorKind, Level, Mode, OnMatch,
    PolicyDocument, ProfileDoc, RuleDoc,
};
pub use error::{Error, Location, Problem, Problems, Result};
