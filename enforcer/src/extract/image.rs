//! Images: decode within limits, preprocess for OCR, recognise with word boxes.
//!
//! Dimensions are read from the header first, so a 50,000 x 50,000 PNG is
//! refused before a pixel is allocated. Preprocessing, from measurements on
//! screenshots: greyscale; invert when the background is dark (dark mode,
//! terminals), since tesseract expects dark text on light; upscale 2x when
//! text is small (small images directly; larger ones when the first pass
//! finds a median word height under [`SMALL_TEXT_PX`]), keeping whichever
//! pass recognised more confident characters.

use std::io::Cursor;

use image::imageops::FilterType;
use image::{GrayImage, ImageReader};

use super::dispatch::Ctx;
use super::error::{Error, Result};
use super::ocr::{self, Recognised};

/// Words shorter than this (pixels) are read better after a 2x upscale.
const SMALL_TEXT_PX: u32 = 10;

/// Images whose long side is at most this are upscaled straight away.
const SMALL_IMAGE_PX: u32 = 1000;

/// OCRs an image file and adds its text with word boxes.
pub(crate) fn extract(ctx: &mut Ctx<'_>, path: &str, bytes: &[u8]) -> Result<()> {
    let gray = decode(ctx, bytes)?;
    let recognised = ocr_gray(ctx, gray, 1)?;
    ctx.push(path.to_string(), recognised.text, recognised.boxes)
}

/// Decodes an image to greyscale, refusing it when its pixels do not fit the
/// OCR budget.
pub(crate) fn decode(ctx: &mut Ctx<'_>, bytes: &[u8]) -> Result<GrayImage> {
    let reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| Error::corrupt("image", e))?;
    let (w, h) = reader
        .into_dimensions()
        .map_err(|e| Error::corrupt("image", e))?;
    let pixels = u64::from(w) * u64::from(h);
    if !ctx.budget.ocr_fits(pixels) {
        return Err(Error::Limit {
            what: format!("image of {w}x{h} pixels"),
            limit: format!(
                "{} OCR pixels (max_ocr_pixels)",
                ctx.budget.limits.max_ocr_pixels
            ),
        });
    }
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| Error::corrupt("image", e))?;
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(w);
    limits.max_image_height = Some(h);
    limits.max_alloc = Some(pixels.saturating_mul(4).saturating_add(64 << 20));
    reader.limits(limits);
    let decoded = reader.decode().map_err(|e| Error::corrupt("image", e))?;
    Ok(decoded.into_luma8())
}

/// Preprocesses and OCRs a greyscale image of page `page`.
pub(crate) fn ocr_gray(ctx: &mut Ctx<'_>, mut gray: GrayImage, page: u32) -> Result<Recognised> {
    let (w, h) = gray.dimensions();
    let pixels = u64::from(w) * u64::from(h);
    if is_dark(&gray) {
        image::imageops::invert(&mut gray);
    }
    let upscale_now = w.max(h) <= SMALL_IMAGE_PX && ctx.budget.ocr_fits(pixels * 4);
    if upscale_now {
        ctx.budget.charge_ocr(pixels * 4)?;
        let big = image::imageops::resize(&gray, w * 2, h * 2, FilterType::Triangle);
        return ocr::recognize(&big, 2, page);
    }
    ctx.budget.charge_ocr(pixels)?;
    let first = ocr::recognize(&gray, 1, page)?;
    let small_text = first.median_height > 0 && first.median_height < SMALL_TEXT_PX;
    if small_text && ctx.budget.ocr_fits(pixels * 4) {
        ctx.budget.charge_ocr(pixels * 4)?;
        let big = image::imageops::resize(&gray, w * 2, h * 2, FilterType::Triangle);
        let second = ocr::recognize(&big, 2, page)?;
        if second.confident_chars > first.confident_chars {
            return Ok(second);
        }
    }
    Ok(first)
}

/// A mostly dark image (mean luminance below mid-grey) has light text.
fn is_dark(gray: &GrayImage) -> bool {
    let raw = gray.as_raw();
    if raw.is_empty() {
        return false;
    }
    // Sample at most ~64k pixels: the mean of a sample is plenty.
    let step = (raw.len() / 65_536).max(1);
    let (sum, n) = raw
        .iter()
        .step_by(step)
        .fold((0u64, 0u64), |(s, n), &p| (s + u64::from(p), n + 1));
    sum / n.max(1) < 110
}
