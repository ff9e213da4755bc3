//! # policies
//!
//! Apps, users, groups and ordered rules that decide, for each action that
//! crosses the isolation boundary (copy, paste, upload, download, keyboard,
//! print, submit, page content), whether it is allowed, blocked, or scanned
//! with DLP profiles. Profiles and custom detectors are compiled into
//! [`enforcer`] engines when a policy document loads.
//!
//! ## Design
//!
//! - **Three layers.** [`PolicyDocument`] is plain serde data (TOML by hand,
//!   JSON through the admin API). [`Policy::compile`] validates it, listing
//!   *every* problem with its field path (and `file:line:column` through
//!   [`load_file`]), and produces an immutable [`Policy`]. [`PolicyStore`]
//!   holds the policy in force behind an atomic pointer swap and versions every
//!   change.
//! - **Precedence.** Rules are ordered. For a given action, the first rule
//!   that selects the URL's app and the user (or one of their groups) *and
//!   sets that action* decides; a rule that is silent about an action lets it
//!   fall through to later rules and finally to `defaults`. So "webmail:
//!   scan uploads for credentials" does not have to repeat what the catch-all
//!   rule says about paste. `read_only` sets every input action (paste,
//!   upload, keyboard, submit) to `block`.
//! - **Fast decisions.** Host patterns are normalised at load (lowercase,
//!   punycode, no trailing dot) and indexed by host; rule selectors are
//!   precompiled; per rule and action the verdict, including the compiled
//!   [`enforcer::Selection`], is built once. `decide` does a hash lookup and a
//!   linear pass over the rules with no allocation besides its explain trail.
//! - **Documents never name host files.** An exact-data detector's `csv` is
//!   a name inside the operator's [`DataDir`] (`data/` beside the policy
//!   file by default), read only through [`DataDir::read`]: no absolute
//!   paths, no `..`, no symbolic links out, regular files only, a size
//!   limit, and errors that never quote the file. Admins edit documents
//!   through the API; the server reads the files as root.
//! - **Unknown things fail at load.** Unknown keys, actions, apps, profiles,
//!   detectors, regexes that do not compile, contradictory settings.

pub mod action;
pub mod compile;
pub mod data_dir;
pub mod decision;
pub mod diff;
pub mod document;
pub mod error;
pub mod host;
pub mod identity;
pub mod load;
pub mod location;
pub mod policy;
pub mod store;

pub use action::{Action, UnknownAction};
pub use data_dir::{DataDir, DataFileError, DEFAULT_MAX_DATA_BYTES};
pub use decision::{Decision, Limits, RuleRef, Step};
pub use document::{
    ActionSetting, AppDoc, ByteSize, DetectorDoc, DetectorKind, Level, Mode, OnMatch,
    PolicyDocument, ProfileDoc, RuleDoc,
};
pub use error::{Error, Location, Problem, Problems, Result};
pub use identity::Identity;
pub use load::{compile_str, compile_str_in, load_file, load_file_in, parse_document, to_toml};
pub use policy::{describe, Policy, OTHER_APP};
pub use store::{fingerprint, Current, PolicyStore, Version, VersionInfo, VersionRecord};
