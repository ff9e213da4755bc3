//! Predefined detectors' regexes, compiled on first use.
//!
//! Building an engine compiled about a hundred regexes (anchored secrets,
//! keyword detectors) up front: most of `isolator scan`'s start-up on a
//! small input, though a scan usually needs a handful of them (a regex runs
//! only where its detector's literal occurs). Each is now compiled the first
//! time a scan needs it and shared by every clone of the engine from then
//! on. The patterns are fixed: a unit test compiles every one of them, so
//! the compilation cannot fail at run time.

use std::sync::OnceLock;

use regex_automata::meta::Regex;

/// A predefined pattern and its regex, compiled by [`LazyRegex::get`].
#[derive(Clone, Debug)]
pub(super) struct LazyRegex {
    owner: &'static str,
    pattern: &'static str,
    re: OnceLock<Regex>,
}

impl LazyRegex {
    /// The pattern of detector `owner`, not compiled yet.
    pub(super) fn new(owner: &'static str, pattern: &'static str) -> LazyRegex {
        LazyRegex {
            owner,
            pattern,
            re: OnceLock::new(),
        }
    }

    /// The compiled regex (compiled now if this is the first use).
    pub(super) fn get(&self) -> &Regex {
        self.re.get_or_init(|| {
            super::custom::compile_regex(self.owner, self.pattern)
                .unwrap_or_else(|e| panic!("predefined detector {}: {e}", self.owner))
        })
    }
}
