//! The label detectors at work: findings on a document's sensitivity
//! labels (see [`crate::labels`]).
//!
//! - A **file**'s labels come from extraction ([`Extraction::labels`]);
//!   [`Engine::scan_extraction`] judges the file's parts and its labels
//!   with one selection of profiles, as the upload and download gates do.
//!   Parts are scanned without the text rule below: a header part's
//!   marking is already one of the file's labels.
//! - A **text** (a paste, a form post, page text) has no properties; a
//!   classification marking on one of its first or last
//!   `EDGE_LINES` non-empty lines counts as its label
//!   ([`Engine::scan`], [`Engine::scan_selection`]): text copied from a
//!   marked document usually starts with the marking. The incremental
//!   scanners (keystrokes, streamed bodies) see windows, not whole texts,
//!   and do not look for markings.
//!
//! A label finding has high confidence and its evidence names the label
//! and where it was found (`"Confidential" (MIP label property)`); a
//! file's label findings have an empty span (they are not in the text), a
//! text's span the marking line. A profile's allow list is matched against
//! label names (`allow = ["Internal"]`).

use std::borrow::Cow;
use std::sync::Arc;

use super::engine::{evaluate_owned, Engine, Indexed};
use super::profile::{ScanReport, Selection};
use super::types::{Confidence, Finding};
use crate::extract::Extraction;
use crate::labels::markings::{self, EDGE_LINES};
use crate::labels::{Label, LabelSource};

impl Engine {
    /// The findings of the label detectors in `mask` (all when `None`) on
    /// the markings of `text`'s first and last lines.
    pub(crate) fn text_labels_into(
        &self,
        text: &str,
        mask: Option<&[bool]>,
        found: &mut Vec<Indexed>,
    ) {
        if self.label_detectors(mask).next().is_none() {
            return;
        }
        for (name, start, end) in markings::edge_markings(text, EDGE_LINES, EDGE_LINES) {
            let label = Label::new(name, LabelSource::TextLine, None, "");
            for (det, id, patterns) in self.label_detectors(mask) {
                if patterns.is_none_or(|p| p.matches(&label)) {
                    found.push(Indexed {
                        det,
                        finding: label_finding(id, &label, start, end),
                    });
                }
            }
        }
    }

    /// Judges a file's labels with the profiles of `sel`: which label
    /// detectors fire and which profiles. An allow-list entry of a
    /// profile is compared with the label's name.
    pub fn scan_labels(&self, labels: &[Label], sel: &Selection) -> ScanReport {
        let mask = self.mask_for(sel);
        if labels.is_empty() || self.label_detectors(Some(mask)).next().is_none() {
            return ScanReport::default();
        }
        // The names, one a line: the text the findings' spans point into,
        // so that allow lists and counts work as for any text.
        let mut names = String::new();
        let mut found = Vec::new();
        for label in labels {
            let start = names.len();
            names.push_str(&label.name);
            let end = names.len();
            names.push('\n');
            for (det, id, patterns) in self.label_detectors(Some(mask)) {
                if patterns.is_none_or(|p| p.matches(label)) {
                    found.push(Indexed {
                        det,
                        finding: label_finding(id, label, start, end),
                    });
                }
            }
        }
        let mut report = evaluate_owned(&names, found, sel);
        for f in &mut report.findings {
            (f.start, f.end) = (0, 0);
        }
        report
    }

    /// Judges an extracted file with the profiles of `sel`: each part's
    /// text (pattern detectors and classifiers, profiles counted per part)
    /// and the file's labels. An unscannable file gives an empty report:
    /// the caller blocks it.
    pub fn scan_extraction(&self, extraction: &Extraction, sel: &Selection) -> ScanReport {
        let mut merged = self.scan_labels(extraction.labels(), sel);
        for part in extraction.parts() {
            merge(&mut merged, self.scan_file_part(&part.text, sel));
        }
        merged
    }

    /// [`Engine::scan_selection`] for the text of one part of an extracted
    /// file: the same, but without the markings of its first and last
    /// lines (a file's markings are its extraction's labels, judged by
    /// [`Engine::scan_labels`]).
    pub fn scan_file_part(&self, text: &str, sel: &Selection) -> ScanReport {
        let found = self.scan_part(text, self.mask_for(sel));
        evaluate_owned(text, found, sel)
    }
}

/// Adds `report`'s findings and fired profiles to `into`.
pub fn merge(into: &mut ScanReport, report: ScanReport) {
    into.findings.extend(report.findings);
    for fired in report.fired {
        if !into.fired.contains(&fired) {
            into.fired.push(fired);
        }
    }
}

fn label_finding(detector: &str, label: &Label, start: usize, end: usize) -> Finding {
    let detector = match detector {
        "sensitivity_label" => Cow::Borrowed("sensitivity_label"),
        other => Cow::Owned(other.to_string()),
    };
    Finding {
        detector,
        start,
        end,
        confidence: Confidence::High,
        evidence: Arc::from(label.evidence()),
    }
}
