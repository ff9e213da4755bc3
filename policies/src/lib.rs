//! # policies
//!
//! Apps, users, groups and ordered rules that decide, for each action that
//! crosses the isolation boundary (copy, paste, upload, download, keyboard,
//! print), whether it is allowed, blocked, or scanned with DLP profiles.
//! Profiles and custom detectors are compiled into [`enforcer`] engines when a
//! policy document loads.
