//! Incremental scanning of a text field being typed into.
//!
//! The scanner keeps the field's text and its findings. An edit (insert,
//! delete, replace a range) can only change findings within `reach` bytes of
//! it, where `reach` = longest detector span + context window
//! ([`Engine::reach`]). So each edit:
//! 1. keeps old findings that end more than `reach` before the edit, and
//!    shifts those that start more than `reach` after it;
//! 2. re-scans the window `[edit_start - 2*reach, edit_end + 2*reach]` (big
//!    enough to hold any finding touching the dirty zone plus its context);
//! 3. takes from that re-scan the findings that touch the dirty zone
//!    `[edit_start - reach, edit_end + reach]`.
//!
//! The cost of an edit is bounded by the window (a few KB), never by the
//! field's length. The longest span is that of a JWT (1,100 bytes); every
//! other predefined finding is at most `SHORT_SPAN` (400) bytes long, so
//! when no JWT or PEM anchor (`eyJ`, `-----BEGIN`) occurs in the full-reach
//! window, the text there is ASCII and no custom detector is selected, the
//! edit uses the short reach (400 + context window): a window of about 1 KB
//! before an append instead of 2.4 KB. Evaluating profiles is a pass over
//! the current findings; the lines of the record profile's cluster windows
//! that an edit leaves alone keep their name and address counts from the
//! last evaluation (`record::WindowCounts`).

use super::context::{ceil_boundary, floor_boundary};
use super::engine::{evaluate, evaluate_with, Engine, Indexed, LONG_SPAN_ANCHORS};
use super::error::{Error, Result};
use super::literals::LiteralSet;
use super::profile::{ScanReport, Selection};
use super::record::WindowCounts;
use super::types::Finding;

/// Incremental scanner for one text field; see the module docs.
#[derive(Debug)]
pub struct FieldScanner {
    engine: Engine,
    sel: Selection,
    text: String,
    found: Vec<Indexed>,
    /// The record windows' counts of the last evaluation, by line.
    known: WindowCounts,
}

impl FieldScanner {
    pub(crate) fn new(engine: Engine, sel: Selection) -> FieldScanner {
        FieldScanner {
            engine,
            sel,
            text: String::new(),
            found: Vec::new(),
            known: WindowCounts::default(),
        }
    }

    /// The current text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The current findings of the selected detectors (all confidences).
    pub fn findings(&self) -> impl Iterator<Item = &Finding> {
        self.found.iter().map(|i| &i.finding)
    }

    /// The profiles' verdict on the current text.
    pub fn report(&self) -> ScanReport {
        evaluate(&self.text, &self.found, &self.sel)
    }

    /// Replaces the whole text (a full scan).
    pub fn set_text(&mut self, text: &str) -> ScanReport {
        self.text = text.to_string();
        self.found = self
            .engine
            .scan_indexed(&self.text, Some(&self.sel.inner.mask));
        self.known.clear();
        self.report_kept()
    }

    /// [`FieldScanner::report`], keeping the record windows' counts.
    fn report_kept(&mut self) -> ScanReport {
        evaluate_with(&self.text, &self.found, &self.sel, Some(&mut self.known))
    }

    /// Appends `s` at the end (typing).
    pub fn append(&mut self, s: &str) -> ScanReport {
        let at = self.text.len();
        self.apply(at, at, s)
    }

    /// Inserts `s` at byte `at`.
    pub fn insert(&mut self, at: usize, s: &str) -> Result<ScanReport> {
        self.replace(at..at, s)
    }

    /// Deletes the byte range.
    pub fn delete(&mut self, range: std::ops::Range<usize>) -> Result<ScanReport> {
        self.replace(range, "")
    }

    /// Replaces the byte range with `s`. Errors when the range is out of
    /// bounds or not on character boundaries.
    pub fn replace(&mut self, range: std::ops::Range<usize>, s: &str) -> Result<ScanReport> {
        let (a, b) = (range.start, range.end);
        if a > b
            || b > self.text.len()
            || !self.text.is_char_boundary(a)
            || !self.text.is_char_boundary(b)
        {
            return Err(Error::InvalidEdit(format!(
                "range {a}..{b} is not a character range of a {}-byte field",
                self.text.len()
            )));
        }
        Ok(self.apply(a, b, s))
    }

    /// The reach for an edit of `text[a..new_end]` (text already edited):
    /// the engine's full reach, or the short one when no finding longer
    /// than `SHORT_SPAN` can touch the edit's dirty zone. Such a finding
    /// (JWT, PEM key) starts with one of [`LONG_SPAN_ANCHORS`] at most
    /// `reach` before the zone, so the full window is searched for them
    /// (two `memmem` passes over a few KB). Non-ASCII text could normalise
    /// into an anchor (full-width letters), and custom regexes have no
    /// bound: both keep the full reach.
    fn reach_for(&self, a: usize, new_end: usize) -> usize {
        let reach = self.engine.reach();
        if self.engine.selects_custom(&self.sel.inner.mask)
            || (a == 0 && new_end == self.text.len())
        {
            // (The whole text changed, a paste into an empty field: every
            // window is the whole text, no need to look for anchors.)
            return reach;
        }
        let lo = a.saturating_sub(2 * reach);
        let hi = (new_end + 2 * reach).min(self.text.len());
        let region = &self.text.as_bytes()[lo..hi];
        let long_near = !region.is_ascii() || long_anchor_in(region);
        if long_near {
            reach
        } else {
            self.engine.short_reach(&self.sel.inner.mask).min(reach)
        }
    }

    fn apply(&mut self, a: usize, b: usize, s: &str) -> ScanReport {
        self.text.replace_range(a..b, s);
        self.known.edited(a, b, s.len());
        let new_end = a + s.len();
        let reach = self.reach_for(a, new_end);
        let delta = s.len() as isize - (b - a) as isize;
        let dirty_lo = a.saturating_sub(reach);
        let dirty_hi = new_end + reach;
        let mut left: Vec<Indexed> = Vec::new();
        let mut right: Vec<Indexed> = Vec::new();
        for mut f in std::mem::take(&mut self.found) {
            if f.finding.end < dirty_lo {
                left.push(f);
            } else if f.finding.start > b + reach {
                f.finding.start = (f.finding.start as isize + delta) as usize;
                f.finding.end = (f.finding.end as isize + delta) as usize;
                right.push(f);
            }
        }
        let lo = floor_boundary(&self.text, a.saturating_sub(2 * reach));
        let hi = ceil_boundary(&self.text, new_end + 2 * reach);
        let window = &self.text[lo..hi];
        // The window's findings keep their vector (a paste's can be tens
        // of thousands: no second copy).
        let mut scanned = self.engine.scan_indexed(window, Some(&self.sel.inner.mask));
        scanned.retain_mut(|f| {
            f.finding.start += lo;
            f.finding.end += lo;
            f.finding.end >= dirty_lo && f.finding.start <= dirty_hi
        });
        let mut kept = if left.is_empty() {
            scanned
        } else {
            left.append(&mut scanned);
            left
        };
        kept.append(&mut right);
        // A scan's order: by start, the longer first (stable: findings of
        // one span keep the scan's order).
        let order = |f: &Indexed| (f.finding.start, std::cmp::Reverse(f.finding.end));
        if !kept.is_sorted_by_key(order) {
            kept.sort_by_key(order);
        }
        self.found = kept;
        self.report_kept()
    }
}

/// Whether `region` holds one of [`LONG_SPAN_ANCHORS`]: one SIMD pass of a
/// literal set built once (nine literals: nine `memmem` passes cost more).
fn long_anchor_in(region: &[u8]) -> bool {
    static SET: std::sync::OnceLock<Option<LiteralSet>> = std::sync::OnceLock::new();
    let Some(set) = SET.get_or_init(|| LiteralSet::new(&LONG_SPAN_ANCHORS, false).ok()) else {
        return true;
    };
    let mut found = false;
    set.for_each(region, 0, region.len(), |_| found = true);
    found
}
