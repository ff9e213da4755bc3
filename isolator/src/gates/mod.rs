//! The enforcement gates: one module per action that crosses the isolation
//! boundary, each the one place where that action is decided (the policy's
//! [`Decision`](policies::Decision) for the user and URL), scanned within
//! its budget and turned into a [`GateReport`]:
//!
//! | gate | action | what it sees |
//! | --- | --- | --- |
//! | [`keyboard`] | typing | each keystroke and committed text, against a model of the focused field |
//! | [`paste`] | paste | clipboard text, and images pasted over HTTP (OCR) |
//! | [`copy`] | copy | what the page puts on the clipboard |
//! | [`submit`] | form posts, XHR, `fetch`, beacons | every request body, paused browser-wide with CDP `Fetch` |
//! | [`upload`] | file uploads | files chosen in the client for a page's file chooser |
//! | [`download`] | downloads | files the page downloads, before the client may fetch them |
//! | [`print`] | printing | the page printed to PDF |
//! | [`page`] | page content | the page's text and images, masked in the page |
//! | [`screen`] | page content, as shown | the frames streamed to the client, OCR'd where they changed, masked values hidden |
//!
//! Gates use [`crate::enforce`] (decide, check text and files, verdicts)
//! and never the session: the session actor consults them and applies what
//! they rule (a key is dispatched or not, text inserted or not), and every
//! decision reaches the user, the log and the recording through
//! [`GateReport`]. The decision travels with the ruling, so the recorder
//! never decides again (a ruling says whether recordings keep typed text).

pub mod copy;
pub mod download;
pub mod keyboard;
pub mod page;
pub mod paste;
pub mod print;
mod report;
pub mod screen;
pub mod submit;
pub mod upload;

pub use report::{GateReport, Place};

/// "report.pdf (2.0 MB)": what a gate event says about a file, never its content.
pub fn describe_file(verb: &str, name: &str, size: u64) -> String {
    format!("{verb} {name} ({})", size_text(size))
}

/// "2.0 MB", "3.5 KB", "12 bytes".
pub fn size_text(size: u64) -> String {
    if size >= 1 << 20 {
        format!("{:.1} MB", size as f64 / f64::from(1u32 << 20))
    } else if size >= 1 << 10 {
        format!("{:.1} KB", size as f64 / 1024.0)
    } else {
        format!("{size} bytes")
    }
}

/// What a gate ruled about an input of the user: whether it goes through,
/// whether recordings keep its text, and the decisions to report.
#[derive(Debug, Default)]
pub struct Ruling {
    /// Let it through to the page.
    pub pass: bool,
    /// Recordings keep the text (the policy's `keep_typed_text`); otherwise
    /// only its length.
    pub keep_text: bool,
    /// Decisions to report.
    pub reports: Vec<GateReport>,
}

impl Ruling {
    /// Through, nothing to report.
    pub fn pass(keep_text: bool) -> Self {
        Ruling {
            pass: true,
            keep_text,
            reports: Vec::new(),
        }
    }

    /// Refused, nothing (more) to report.
    pub fn refuse(keep_text: bool) -> Self {
        Ruling {
            pass: false,
            keep_text,
            reports: Vec::new(),
        }
    }

    /// This ruling with `report` added.
    pub fn with(mut self, report: GateReport) -> Self {
        self.reports.push(report);
        self
    }
}
