//! Images: decode within limits, preprocess for OCR, recognise with word boxes.
//!
//! Dimensions are read from the header first, so a 50,000 x 50,000 PNG is
//! refused before a pixel is allocated. Preprocessing, from measurements on
//! screenshots: greyscale; invert when the background is dark (dark mode,
//! terminals), since tesseract expects dark text on light; upscale 2x when
//! text is small (small images directly; larger ones when the first pass
//! finds a median word height under [`SMALL_TEXT_PX`]), keeping whichever
//! pass recognised more confident characters.
//!
//! Orientation: a photo's EXIF orientation (a phone's portrait shot is
//! stored sideways with orientation 6) is applied at decoding. A scan fed in
//! sideways or upside down has no such tag: when the first pass reads few
//! confident characters, tesseract's orientation and script detection
//! (`tesseract --psm 0`, the `osd` model of `tesseract-ocr-osd`, run as a
//! child of the worker like poppler) says how to turn the page, and the
//! turned page is read again; word boxes are mapped back to the pixels of
//! the image as stored. PNG text chunks (`tEXt`, `zTXt`, `iTXt`: titles,
//! descriptions, comments) are read as text too (`img.png!/text`).

use std::io::{Cursor, Read};

use flate2::read::ZlibDecoder;
use image::imageops::FilterType;
use image::{DynamicImage, GrayImage, ImageDecoder, ImageReader};

use super::dispatch::{join, Ctx};
use super::error::{Error, Result};
use super::model::WordBox;
use super::ocr::{self, Recognised};
use super::tool;

/// A first pass with fewer confident characters than this, or with less
/// than half of its characters confident, asks for orientation detection.
const WEAK_CONFIDENT_CHARS: usize = 40;

/// A first pass with fewer characters than this found no text to turn.
const MIN_TURNABLE_CHARS: usize = 8;

/// Words shorter than this (pixels) are read better after a 2x upscale.
const SMALL_TEXT_PX: u32 = 10;

/// Images whose long side is at most this are upscaled straight away.
const SMALL_IMAGE_PX: u32 = 1000;

/// OCRs an image file and adds its text with word boxes.
pub(crate) fn extract(ctx: &mut Ctx<'_>, path: &str, bytes: &[u8]) -> Result<()> {
    if bytes.starts_with(b"\x89PNG") {
        let text = png_text(ctx, bytes)?;
        ctx.push(join(path, "text"), text, Vec::new())?;
    }
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
    let mut decoder = reader
        .into_decoder()
        .map_err(|e| Error::corrupt("image", e))?;
    let orientation = decoder.orientation().ok();
    let mut decoded =
        DynamicImage::from_decoder(decoder).map_err(|e| Error::corrupt("image", e))?;
    if let Some(orientation) = orientation {
        decoded.apply_orientation(orientation);
    }
    Ok(decoded.into_luma8())
}

/// OCRs a greyscale image of page `page`, turned upright first when the
/// text runs sideways or upside down.
pub(crate) fn ocr_gray(ctx: &mut Ctx<'_>, gray: GrayImage, page: u32) -> Result<Recognised> {
    let first = ocr_upright(ctx, gray.clone(), page)?;
    let chars: usize = first.boxes.iter().map(|b| b.text_end - b.text_start).sum();
    // No words at all is a photo or a blank: nothing to turn.
    let weak = ctx.budget.limits.detect_orientation
        && chars >= MIN_TURNABLE_CHARS
        && (first.confident_chars < WEAK_CONFIDENT_CHARS || first.confident_chars * 2 < chars);
    if !weak {
        return Ok(first);
    }
    let turn = osd_rotation(ctx, &gray)?;
    let (w, h) = gray.dimensions();
    let turned = match turn {
        90 => image::imageops::rotate90(&gray),
        180 => image::imageops::rotate180(&gray),
        270 => image::imageops::rotate270(&gray),
        _ => return Ok(first),
    };
    let mut second = ocr_upright(ctx, turned, page)?;
    if second.confident_chars <= first.confident_chars {
        return Ok(first);
    }
    for b in &mut second.boxes {
        *b = unturn(b, turn, w, h);
    }
    Ok(second)
}

/// How many degrees clockwise tesseract's orientation detection would turn
/// the image (0 when it cannot tell: too little text, low confidence).
fn osd_rotation(ctx: &mut Ctx<'_>, gray: &GrayImage) -> Result<u32> {
    let mut png = Vec::new();
    gray.write_to(&mut Cursor::new(&mut png), image::ImageFormat::Png)
        .map_err(|e| Error::Ocr(format!("encoding for orientation detection: {e}")))?;
    let args = ["stdin", "stdout", "--psm", "0", "-l", "osd"];
    let out = tool::run(ctx, "tesseract", &args, &png, 64 << 10)?;
    if !out.status.success() {
        // "Too few characters": nothing to turn.
        return Ok(0);
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .map(|v| v.trim().to_string())
    };
    let rotate: u32 = field("Rotate:").and_then(|v| v.parse().ok()).unwrap_or(0);
    let confidence: f32 = field("Orientation confidence:")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    Ok(if confidence >= 1.0 { rotate } else { 0 })
}

/// Maps a word box found in the image turned `turn` degrees clockwise back
/// to the image as stored (`w` x `h`).
fn unturn(b: &WordBox, turn: u32, w: u32, h: u32) -> WordBox {
    let (x, y, bw, bh) = match turn {
        // Turned 90 clockwise: stored (x, y) is at turned (h - 1 - y, x).
        90 => (b.y, h.saturating_sub(b.x + b.w), b.h, b.w),
        180 => (
            w.saturating_sub(b.x + b.w),
            h.saturating_sub(b.y + b.h),
            b.w,
            b.h,
        ),
        // Turned 270 clockwise: stored (x, y) is at turned (y, w - 1 - x).
        270 => (w.saturating_sub(b.y + b.h), b.x, b.h, b.w),
        _ => (b.x, b.y, b.w, b.h),
    };
    WordBox {
        x,
        y,
        w: bw,
        h: bh,
        ..b.clone()
    }
}

/// The text chunks of a PNG (`tEXt`, `zTXt`, `iTXt`): `keyword: text` per
/// line, compressed ones inflated within the budget.
fn png_text(ctx: &mut Ctx<'_>, bytes: &[u8]) -> Result<String> {
    let mut out = String::new();
    let mut pos = 8;
    while pos + 12 <= bytes.len() {
        let len = u32::from_be_bytes([bytes[pos], bytes[pos + 1], bytes[pos + 2], bytes[pos + 3]]);
        let kind = &bytes[pos + 4..pos + 8];
        let data_end = (pos + 8).saturating_add(len as usize).min(bytes.len());
        let data = &bytes[pos + 8..data_end];
        pos = data_end + 4;
        let Some(nul) = data.iter().position(|&b| b == 0) else {
            continue;
        };
        let keyword: String = data[..nul].iter().map(|&b| char::from(b)).collect();
        let rest = &data[nul + 1..];
        let text = match kind {
            b"tEXt" => rest.iter().map(|&b| char::from(b)).collect(),
            b"zTXt" => {
                let raw = inflate(ctx, rest.get(1..).unwrap_or_default())?;
                raw.iter().map(|&b| char::from(b)).collect()
            }
            b"iTXt" => {
                let (Some(&compressed), Some(after)) = (rest.first(), rest.get(2..)) else {
                    continue;
                };
                // Language tag and translated keyword, each ended by a NUL.
                let mut fields = after.splitn(3, |&b| b == 0);
                let (_, translated, text) = (fields.next(), fields.next(), fields.next());
                let text = text.unwrap_or_default();
                let text = if compressed == 1 {
                    inflate(ctx, text)?
                } else {
                    text.to_vec()
                };
                let translated = String::from_utf8_lossy(translated.unwrap_or_default());
                format!("{translated} {}", String::from_utf8_lossy(&text))
            }
            _ => continue,
        };
        out.push_str(&format!("{keyword}: {text}\n"));
    }
    Ok(out)
}

/// Inflates a zlib stream within the budget.
fn inflate(ctx: &mut Ctx<'_>, data: &[u8]) -> Result<Vec<u8>> {
    let allowed = ctx.budget.expandable();
    let mut out = Vec::new();
    ZlibDecoder::new(data)
        .take(allowed.saturating_add(1))
        .read_to_end(&mut out)
        .map_err(|e| Error::read("PNG", "text chunk", e))?;
    if out.len() as u64 > allowed {
        return Err(ctx.budget.expansion_error("a PNG text chunk"));
    }
    ctx.budget.charge_expanded(out.len() as u64)?;
    Ok(out)
}

/// Preprocesses and OCRs a greyscale image that is the right way up.
fn ocr_upright(ctx: &mut Ctx<'_>, mut gray: GrayImage, page: u32) -> Result<Recognised> {
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

#[cfg(test)]
mod tests {
    use image::{GrayImage, Luma};

    use super::*;

    #[test]
    fn boxes_found_in_a_turned_image_map_back_to_the_stored_one() {
        let (w, h) = (7, 4);
        for (x, y) in [(0, 0), (6, 0), (2, 3), (5, 1)] {
            let mut stored = GrayImage::from_pixel(w, h, Luma([255]));
            stored.put_pixel(x, y, Luma([0]));
            for turn in [90, 180, 270] {
                let turned = match turn {
                    90 => image::imageops::rotate90(&stored),
                    180 => image::imageops::rotate180(&stored),
                    _ => image::imageops::rotate270(&stored),
                };
                let (tx, ty, _) = turned
                    .enumerate_pixels()
                    .find(|(_, _, p)| p.0[0] == 0)
                    .expect("marker");
                let found = WordBox {
                    text_start: 0,
                    text_end: 1,
                    page: 1,
                    x: tx,
                    y: ty,
                    w: 1,
                    h: 1,
                };
                let back = unturn(&found, turn, w, h);
                assert_eq!(
                    (back.x, back.y, back.w, back.h),
                    (x, y, 1, 1),
                    "turn {turn}"
                );
            }
        }
    }
}
