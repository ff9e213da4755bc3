//! The data that extraction produces: parts of text, OCR word boxes, file kinds.

use serde::{Deserialize, Serialize};

use crate::labels::Label;

/// The type of a file, decided from its content.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileKind {
    /// Plain text in any supported encoding.
    Text,
    /// Comma- or tab-separated values.
    Csv,
    /// A JSON document.
    Json,
    /// An XML document.
    Xml,
    /// An HTML document.
    Html,
    /// A PDF document.
    Pdf,
    /// Word (Office Open XML).
    Docx,
    /// Excel (Office Open XML).
    Xlsx,
    /// PowerPoint (Office Open XML).
    Pptx,
    /// OpenDocument text.
    Odt,
    /// OpenDocument spreadsheet.
    Ods,
    /// OpenDocument presentation.
    Odp,
    /// A zip archive.
    Zip,
    /// A tar archive.
    Tar,
    /// A gzip stream (a `.tar.gz` is reported as gzip).
    Gzip,
    /// An xz stream.
    Xz,
    /// A bzip2 stream.
    Bzip2,
    /// A zstd stream.
    Zstd,
    /// A 7z archive.
    SevenZip,
    /// An e-mail message (RFC 5322, `.eml`) or an mbox of messages.
    Email,
    /// Rich Text Format.
    Rtf,
    /// An OLE2 compound file: Outlook `.msg`, legacy Word, Excel, PowerPoint.
    Ole,
    /// PNG image.
    Png,
    /// JPEG image.
    Jpeg,
    /// GIF image.
    Gif,
    /// WebP image.
    Webp,
    /// BMP image.
    Bmp,
    /// TIFF image.
    Tiff,
    /// An empty file.
    Empty,
    /// Anything else: printable strings are extracted.
    Binary,
}

impl FileKind {
    /// A short human name, used in mismatch reports ("zip archive").
    pub fn describe(self) -> &'static str {
        match self {
            FileKind::Text => "plain text",
            FileKind::Csv => "CSV/TSV text",
            FileKind::Json => "JSON",
            FileKind::Xml => "XML",
            FileKind::Html => "HTML",
            FileKind::Pdf => "PDF document",
            FileKind::Docx => "Word document (docx)",
            FileKind::Xlsx => "Excel workbook (xlsx)",
            FileKind::Pptx => "PowerPoint presentation (pptx)",
            FileKind::Odt => "OpenDocument text (odt)",
            FileKind::Ods => "OpenDocument spreadsheet (ods)",
            FileKind::Odp => "OpenDocument presentation (odp)",
            FileKind::Zip => "zip archive",
            FileKind::Tar => "tar archive",
            FileKind::Gzip => "gzip stream",
            FileKind::Xz => "xz stream",
            FileKind::Bzip2 => "bzip2 stream",
            FileKind::Zstd => "zstd stream",
            FileKind::SevenZip => "7z archive",
            FileKind::Email => "e-mail message",
            FileKind::Rtf => "RTF document",
            FileKind::Ole => "OLE2 compound file (msg, doc, xls, ppt)",
            FileKind::Png => "PNG image",
            FileKind::Jpeg => "JPEG image",
            FileKind::Gif => "GIF image",
            FileKind::Webp => "WebP image",
            FileKind::Bmp => "BMP image",
            FileKind::Tiff => "TIFF image",
            FileKind::Empty => "empty file",
            FileKind::Binary => "binary data",
        }
    }

    /// Whether this kind is a raster image that is OCR'd.
    pub fn is_image(self) -> bool {
        matches!(
            self,
            FileKind::Png
                | FileKind::Jpeg
                | FileKind::Gif
                | FileKind::Webp
                | FileKind::Bmp
                | FileKind::Tiff
        )
    }
}

/// The position of one OCR'd word: its byte span in [`Part::text`] and its
/// rectangle in pixels of the original image as a viewer shows it (EXIF
/// orientation applied; a page turned upright for OCR is mapped back), or of
/// the rendered PDF page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WordBox {
    /// Start of the word in the part's text (bytes).
    pub text_start: usize,
    /// End of the word in the part's text (bytes, exclusive).
    pub text_end: usize,
    /// Page number, 1-based (1 for a single image).
    pub page: u32,
    /// Left edge in pixels.
    pub x: u32,
    /// Top edge in pixels.
    pub y: u32,
    /// Width in pixels.
    pub w: u32,
    /// Height in pixels.
    pub h: u32,
}

/// One piece of extracted text and where it came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Part {
    /// Where the text came from: the file name, then `!/` and the member or
    /// sub-part for each level of nesting (`report.zip!/q3/sheet.xlsx!/Sheet1`).
    pub path: String,
    /// The text, as the engine should scan it.
    pub text: String,
    /// Word boxes of OCR'd text (empty for text that was not OCR'd).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub boxes: Vec<WordBox>,
}

/// The result of extracting one file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Extraction {
    /// The file was read completely within its limits.
    Text {
        /// The type found from the content.
        kind: FileKind,
        /// Set when the file name suggests another type than the content,
        /// e.g. "named .jpg (JPEG image) but content is a zip archive".
        mismatch: Option<String>,
        /// The text, by part. A file with no text has no parts.
        parts: Vec<Part>,
        /// The sensitivity labels the file and its members carry (MIP
        /// labels, classification markings; see [`crate::labels`]).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        labels: Vec<Label>,
    },
    /// The file could not be read completely: the action must be blocked.
    Unscannable {
        /// Why, naming the member and the limit where one applies.
        reason: String,
    },
}

impl Extraction {
    /// Builds an [`Extraction::Unscannable`].
    pub fn unscannable(reason: impl Into<String>) -> Self {
        Extraction::Unscannable {
            reason: reason.into(),
        }
    }

    /// Whether the file was unscannable.
    pub fn is_unscannable(&self) -> bool {
        matches!(self, Extraction::Unscannable { .. })
    }

    /// The parts (empty when unscannable).
    pub fn parts(&self) -> &[Part] {
        match self {
            Extraction::Text { parts, .. } => parts,
            Extraction::Unscannable { .. } => &[],
        }
    }

    /// The sensitivity labels found (empty when unscannable).
    pub fn labels(&self) -> &[Label] {
        match self {
            Extraction::Text { labels, .. } => labels,
            Extraction::Unscannable { .. } => &[],
        }
    }

    /// All text joined with newlines (empty when unscannable); convenient for
    /// tests and for callers that scan a file as a whole.
    pub fn joined_text(&self) -> String {
        let mut out = String::new();
        for part in self.parts() {
            if !out.is_empty() {
                out.push('\n');
            }
            out.push_str(&part.text);
        }
        out
    }
}
