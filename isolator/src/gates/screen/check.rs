//! OCR of a frame's bands and the regions where a masked value shows.
//!
//! Each band is cut from the greyscale frame, encoded as PNG and read by an
//! extraction worker (the same pool, process isolation and limits as page
//! images and uploads; orientation detection off, a screen is upright).
//! The words tesseract returns come with boxes; the text of all bands is
//! scanned with the page decision, and the boxes of the words a finding
//! covers are the regions to hide: findings of the rule's `mask`
//! detectors, and every finding when the rule blocks on a match. A band
//! that could not be read is hidden whole (fail closed).

use std::io::Cursor;
use std::time::{Duration, Instant};

use enforcer::extract::{Extraction, Limits, WorkerPool};
use enforcer::ScanReport;
use image::GrayImage;
use policies::Decision;

use super::tiles::Rect;
use crate::enforce::Verdict;

/// Pixels added around each found word's box before it is hidden.
const WORD_MARGIN: u32 = 4;

/// What the OCR of some bands found.
#[derive(Debug, Default)]
pub struct BandCheck {
    /// Regions to hide, frame pixels.
    pub hide: Vec<Rect>,
    /// The verdict over all bands; `None` when nothing was found.
    pub verdict: Option<Verdict>,
    /// Characters read.
    pub chars: usize,
    /// Bands that could not be read, with why (hidden whole).
    pub failed: Vec<String>,
}

/// OCRs `bands` of `gray` with `pool` and scans their text under
/// `decision` (whose rule masks something). Blocking; `wall_ms` bounds
/// each band's OCR.
pub fn check_bands(
    pool: &WorkerPool,
    decision: &Decision,
    gray: &GrayImage,
    bands: &[Rect],
    wall_ms: u64,
) -> BandCheck {
    let started = Instant::now();
    let mut out = BandCheck::default();
    let Some(selection) = decision.selection.as_ref() else {
        out.failed.push("the rule scans with no profile".into());
        out.hide.extend_from_slice(bands);
        return out;
    };
    // (band, text, word boxes) of every part read.
    let mut read: Vec<(Rect, String, Vec<enforcer::extract::WordBox>)> = Vec::new();
    for band in bands {
        let crop = image::imageops::crop_imm(gray, band.x, band.y, band.w, band.h).to_image();
        let mut png = Vec::new();
        if let Err(e) = crop.write_to(&mut Cursor::new(&mut png), image::ImageFormat::Png) {
            out.failed
                .push(format!("the region could not be encoded ({e})"));
            out.hide.push(*band);
            continue;
        }
        let pixels = u64::from(band.w) * u64::from(band.h);
        let limits = Limits {
            max_input_bytes: (png.len() as u64).max(1),
            // A 2x upscale of small text is charged too.
            max_ocr_pixels: pixels * 5,
            max_wall_time_ms: wall_ms.max(1),
            detect_orientation: false,
            ..pool.config().limits.clone()
        };
        match pool.extract_with("screen.png", &png, &limits) {
            Extraction::Text { parts, .. } => {
                for p in parts.into_iter().filter(|p| !p.boxes.is_empty()) {
                    out.chars += p.text.chars().count();
                    read.push((*band, p.text, p.boxes));
                }
            }
            Extraction::Unscannable { reason } => {
                out.failed.push(reason);
                out.hide.push(*band);
            }
        }
    }
    let mut merged = ScanReport::default();
    let mut found: Vec<(Rect, Vec<Rect>, String)> = Vec::new();
    for (band, text, boxes) in &read {
        let report = decision.engine.scan_selection(text, selection);
        for f in &report.findings {
            let words: Vec<Rect> = boxes
                .iter()
                .filter(|b| b.text_start < f.end && b.text_end > f.start)
                .map(|b| Rect {
                    x: band.x + b.x,
                    y: band.y + b.y,
                    w: b.w,
                    h: b.h,
                })
                .collect();
            found.push((*band, words, f.detector.to_string()));
        }
        merged.findings.extend(report.findings);
        for d in report.fired {
            if !merged.fired.contains(&d) {
                merged.fired.push(d);
            }
        }
    }
    if merged.is_match() {
        let verdict = Verdict::from_report(decision, &merged, started.elapsed());
        let hide_all = !verdict.passes();
        for (band, words, detector) in found {
            if hide_all || decision.mask.contains(&detector) {
                let (w, h) = (band.x + band.w, band.y + band.h);
                out.hide
                    .extend(words.iter().map(|r| r.grown(WORD_MARGIN, w, h)));
            }
        }
        out.verdict = Some(verdict);
    } else if !out.failed.is_empty() {
        out.verdict = Some(Verdict::blocked(
            decision,
            format!(
                "a screen region could not be read ({})",
                out.failed.join("; ")
            ),
        ));
    }
    out
}

/// How long `check_bands` may take for `bands` at most: each band's wall
/// time, plus a second for the rest.
pub fn budget(bands: &[Rect], wall_ms: u64) -> Duration {
    Duration::from_millis(wall_ms.saturating_mul(bands.len() as u64) + 1_000)
}
