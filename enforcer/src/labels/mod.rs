//! Sensitivity labels: what a document says about its own sensitivity.
//!
//! Two kinds of evidence, both reported by extraction as [`Label`]s next to
//! a file's text and turned into findings by the label detectors
//! (`sensitivity_label`, and custom detectors of kind `label`; see
//! [`crate::detect`]):
//!
//! - **Microsoft Information Protection labels** ([`msip`]): the
//!   `MSIP_Label_<guid>_<Field>` properties Office writes into
//!   `docProps/custom.xml`, `docMetadata/LabelInfo.xml` (newer Office), the
//!   Info dictionary and XMP metadata of PDFs saved from labelled documents,
//!   OpenDocument user-defined properties (LibreOffice keeps them when it
//!   opens a labelled file) and the `msip_labels` header of mail sent by
//!   Outlook. Only an enabled label counts (`_Enabled=true`, and not
//!   `_Removed`): a label switched off is no label.
//! - **Classification markings** ([`markings`]): a header or footer line,
//!   the top or bottom line of a PDF page, or the first or last line of a
//!   text that reads, as a whole, as one of the usual wordings
//!   ("CONFIDENTIAL", "Strictly Confidential", "INTERNAL USE ONLY",
//!   "Classification: Restricted", ...). A word in a sentence is not a
//!   marking: "this is not confidential" never counts.
//!
//! Labels are not secret: their names appear in findings' evidence, cut to
//! [`MAX_NAME_CHARS`] characters and stripped of control characters, since
//! they come from untrusted files.

pub mod markings;
pub mod msip;
pub mod names;

use serde::{Deserialize, Serialize};

/// Longest label name kept, in characters (a longer one is cut).
pub const MAX_NAME_CHARS: usize = 80;

/// Where a label was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LabelSource {
    /// `MSIP_Label_*` custom properties of an Office or OpenDocument file.
    MsipProperty,
    /// `docMetadata/LabelInfo.xml` of an Office file.
    LabelInfo,
    /// `MSIP_Label_*` keys of a PDF's Info dictionary.
    PdfInfo,
    /// `MSIP_Label_*` properties in a PDF's XMP metadata.
    Xmp,
    /// The `msip_labels` header of an e-mail.
    MailHeader,
    /// A classification marking in a header or footer (Word, Excel,
    /// OpenDocument) or on the top or bottom lines of PDF pages.
    HeaderFooter,
    /// A classification marking on the first or last lines of a text.
    TextLine,
}

impl LabelSource {
    /// A short human description, used in evidence.
    pub fn describe(self) -> &'static str {
        match self {
            LabelSource::MsipProperty => "MIP label property",
            LabelSource::LabelInfo => "MIP label (LabelInfo)",
            LabelSource::PdfInfo => "MIP label in the PDF's Info dictionary",
            LabelSource::Xmp => "MIP label in the PDF's XMP metadata",
            LabelSource::MailHeader => "MIP label in the mail header",
            LabelSource::HeaderFooter => "marking in a header or footer",
            LabelSource::TextLine => "marking on the first or last line",
        }
    }

    /// Whether this is a Microsoft Information Protection label (rather
    /// than a marking in the text).
    pub fn is_msip(self) -> bool {
        !matches!(self, LabelSource::HeaderFooter | LabelSource::TextLine)
    }
}

/// One sensitivity label of a document.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Label {
    /// The label's name: the MIP label's `_Name` ("Confidential"), or for a
    /// marking its usual wording ("Internal Use Only"). A MIP label known
    /// only by its id (LabelInfo alone) is named by its id.
    pub name: String,
    /// Where it was found.
    pub source: LabelSource,
    /// The MIP label id (a GUID, lower case, no braces); `None` for markings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The file (or member of a container) that carries it:
    /// `bundle.zip!/q3.docx`.
    pub path: String,
}

impl Label {
    /// A label with its name cleaned for display (see [`clean_name`]).
    pub fn new(name: &str, source: LabelSource, id: Option<String>, path: &str) -> Label {
        Label {
            name: clean_name(name),
            source,
            id,
            path: path.to_string(),
        }
    }

    /// The evidence a finding on this label shows: its name and where it
    /// was found, e.g. `"Confidential" (MIP label property)`.
    pub fn evidence(&self) -> String {
        format!("\"{}\" ({})", self.name, self.source.describe())
    }
}

/// A label name as it may be shown: control characters become spaces,
/// runs of white space one space, and at most [`MAX_NAME_CHARS`]
/// characters are kept.
pub fn clean_name(name: &str) -> String {
    let mut out = String::new();
    for word in name
        .split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
    {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    match out.char_indices().nth(MAX_NAME_CHARS) {
        Some((cut, _)) => out[..cut].to_string(),
        None => out,
    }
}

/// Adds `label` to `labels` unless an equal one is there already.
pub fn add_unique(labels: &mut Vec<Label>, label: Label) {
    if !labels.contains(&label) {
        labels.push(label);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_cleaned_and_cut() {
        assert_eq!(
            clean_name("  Highly\tConfidential\u{7}\n"),
            "Highly Confidential"
        );
        assert_eq!(clean_name(&"x".repeat(500)).len(), MAX_NAME_CHARS);
        assert_eq!(clean_name(&"é".repeat(500)).chars().count(), MAX_NAME_CHARS);
    }
}
