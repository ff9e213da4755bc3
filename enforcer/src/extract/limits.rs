//! Limits on one extraction and the budget that enforces them.
//!
//! [`Limits`] is configuration (serde, with safe defaults). A [`Budget`] is the
//! per-file meter: every decompressed byte, member, page and OCR'd pixel is
//! charged to it, and the wall-time deadline is checked at each charge, so a
//! hostile file is stopped at the first limit it crosses.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::error::{Error, Result};

/// Limits applied to the extraction of one file. `Default` gives safe values.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Limits {
    /// Largest input file, in bytes (default 64 MiB).
    pub max_input_bytes: u64,
    /// Most bytes produced by decompression and decoding, all members and
    /// streams together (default 256 MiB).
    pub max_expanded_bytes: u64,
    /// Largest ratio of expanded bytes to input bytes (default 200). Checked
    /// once 1 MiB has been expanded, so small, highly compressible office
    /// files are not penalised.
    pub max_expansion_ratio: u64,
    /// Deepest nesting of containers (a zip in a zip is depth 2; default 5).
    pub max_depth: u32,
    /// Most archive or package members, all levels together (default 10,000).
    pub max_members: u32,
    /// Most PDF pages (default 1,000).
    pub max_pages: u32,
    /// Most image pixels given to OCR, all images and pages together, counted
    /// after any upscaling (default 60 million).
    pub max_ocr_pixels: u64,
    /// Wall time for one file, in milliseconds (default 30 s).
    pub max_wall_time_ms: u64,
    /// Whether an image whose first OCR pass reads weakly is given to
    /// tesseract's orientation detection and read again turned (default
    /// true). Screens are upright: the screen net turns it off, since the
    /// detection runs a second tesseract process.
    pub detect_orientation: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_input_bytes: 64 << 20,
            max_expanded_bytes: 256 << 20,
            max_expansion_ratio: 200,
            max_depth: 5,
            max_members: 10_000,
            max_pages: 1_000,
            max_ocr_pixels: 60_000_000,
            max_wall_time_ms: 30_000,
            detect_orientation: true,
        }
    }
}

impl Limits {
    /// Checks that the limits are usable (non-zero where zero would make
    /// every file unscannable); the message names the field.
    pub fn validate(&self) -> Result<()> {
        let fields = [
            ("max_input_bytes", self.max_input_bytes),
            ("max_expanded_bytes", self.max_expanded_bytes),
            ("max_expansion_ratio", self.max_expansion_ratio),
            ("max_depth", u64::from(self.max_depth)),
            ("max_wall_time_ms", self.max_wall_time_ms),
        ];
        for (name, value) in fields {
            if value == 0 {
                return Err(Error::Unsupported(format!(
                    "limit `{name}` = 0: every file would be unscannable"
                )));
            }
        }
        Ok(())
    }
}

/// Expansion below this is never refused by the ratio check.
const RATIO_FLOOR: u64 = 1 << 20;

/// The meter for one file: what it has used of its [`Limits`].
#[derive(Debug)]
pub(crate) struct Budget<'a> {
    pub(crate) limits: &'a Limits,
    input_bytes: u64,
    expanded: u64,
    members: u32,
    pages: u32,
    ocr_pixels: u64,
    deadline: Instant,
}

impl<'a> Budget<'a> {
    /// Starts the meter for a file of `input_bytes`.
    pub(crate) fn new(limits: &'a Limits, input_bytes: u64) -> Self {
        Budget {
            limits,
            input_bytes: input_bytes.max(1),
            expanded: 0,
            members: 0,
            pages: 0,
            ocr_pixels: 0,
            deadline: Instant::now() + Duration::from_millis(limits.max_wall_time_ms),
        }
    }

    /// Fails once the wall-time deadline has passed.
    pub(crate) fn check_time(&self) -> Result<()> {
        if Instant::now() >= self.deadline {
            return Err(Error::Timeout(self.limits.max_wall_time_ms));
        }
        Ok(())
    }

    /// Time left before the deadline.
    pub(crate) fn remaining_time(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }

    /// Bytes that may still be expanded before a limit is hit (size or ratio).
    pub(crate) fn expandable(&self) -> u64 {
        let by_size = self.limits.max_expanded_bytes;
        let by_ratio = self
            .input_bytes
            .saturating_mul(self.limits.max_expansion_ratio)
            .max(RATIO_FLOOR);
        by_size.min(by_ratio).saturating_sub(self.expanded)
    }

    /// Charges `bytes` of expanded output.
    pub(crate) fn charge_expanded(&mut self, bytes: u64) -> Result<()> {
        self.check_time()?;
        let total = self.expanded.saturating_add(bytes);
        if total > self.limits.max_expanded_bytes {
            return Err(Error::Limit {
                what: format!("expanded size ({total} bytes so far)"),
                limit: format!(
                    "{} bytes (max_expanded_bytes)",
                    self.limits.max_expanded_bytes
                ),
            });
        }
        if total > RATIO_FLOOR && total / self.input_bytes >= self.limits.max_expansion_ratio {
            return Err(Error::Limit {
                what: format!(
                    "expansion ratio ({total} bytes from {} input bytes)",
                    self.input_bytes
                ),
                limit: format!(
                    "{}:1 (max_expansion_ratio)",
                    self.limits.max_expansion_ratio
                ),
            });
        }
        self.expanded = total;
        Ok(())
    }

    /// Error for a stream that would expand past what is left.
    pub(crate) fn expansion_error(&self, what: &str) -> Error {
        Error::Limit {
            what: format!("{what} expands past the remaining budget"),
            limit: format!(
                "{} bytes (max_expanded_bytes) and {}:1 (max_expansion_ratio)",
                self.limits.max_expanded_bytes, self.limits.max_expansion_ratio
            ),
        }
    }

    /// Charges `count` archive or package members.
    pub(crate) fn charge_members(&mut self, count: u64) -> Result<()> {
        self.check_time()?;
        let total = u64::from(self.members).saturating_add(count);
        if total > u64::from(self.limits.max_members) {
            return Err(Error::Limit {
                what: format!("member count ({total})"),
                limit: format!("{} (max_members)", self.limits.max_members),
            });
        }
        self.members = total as u32;
        Ok(())
    }

    /// Charges `count` PDF pages.
    pub(crate) fn charge_pages(&mut self, count: u64) -> Result<()> {
        let total = u64::from(self.pages).saturating_add(count);
        if total > u64::from(self.limits.max_pages) {
            return Err(Error::Limit {
                what: format!("page count ({total})"),
                limit: format!("{} (max_pages)", self.limits.max_pages),
            });
        }
        self.pages = total as u32;
        Ok(())
    }

    /// Whether `pixels` more may be OCR'd.
    pub(crate) fn ocr_fits(&self, pixels: u64) -> bool {
        self.ocr_pixels.saturating_add(pixels) <= self.limits.max_ocr_pixels
    }

    /// Charges `pixels` of OCR.
    pub(crate) fn charge_ocr(&mut self, pixels: u64) -> Result<()> {
        self.check_time()?;
        let total = self.ocr_pixels.saturating_add(pixels);
        if total > self.limits.max_ocr_pixels {
            return Err(Error::Limit {
                what: format!("OCR pixels ({total})"),
                limit: format!("{} (max_ocr_pixels)", self.limits.max_ocr_pixels),
            });
        }
        self.ocr_pixels = total;
        Ok(())
    }
}
