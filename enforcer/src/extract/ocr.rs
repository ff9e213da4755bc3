//! OCR with tesseract: one warm engine per thread, word boxes from its TSV.
//!
//! An engine takes ~70 ms to start, so each thread keeps its own (tesseract
//! engines are not thread-safe; a thread-local needs no lock). Debian's
//! libtesseract uses OpenMP and runs several times slower unless
//! `OMP_THREAD_LIMIT=1` is in the environment *when the process starts*
//! (libgomp reads it at load time): the worker pool sets it for its workers,
//! and `.cargo/config.toml` sets it for tests and benches. The page
//! segmentation mode is always set explicitly (automatic layout analysis,
//! no orientation detection).
//!
//! Images reach [`recognize`] already greyscale and preprocessed (see the
//! `image` module); word boxes are mapped back to the original pixels.

use std::cell::RefCell;
use std::ffi::CString;

use image::GrayImage;
use tesseract::plumbing::TessBaseApi;
use tesseract::PageSegMode;

use super::error::{Error, Result};
use super::model::WordBox;

thread_local! {
    static ENGINE: RefCell<Option<TessBaseApi>> = const { RefCell::new(None) };
}

/// Text and word boxes recognised in one image.
#[derive(Clone, Debug, Default)]
pub(crate) struct Recognised {
    pub(crate) text: String,
    pub(crate) boxes: Vec<WordBox>,
    /// Median word height in the recognised image's pixels (0 without words).
    pub(crate) median_height: u32,
    /// Characters of words recognised with confidence >= 60.
    pub(crate) confident_chars: usize,
}

/// Starts this thread's OCR engine now, so the first image does not pay for
/// it. Workers call this at start; it is idempotent.
pub fn warm_up() -> Result<()> {
    with_engine(|_| Ok(()))
}

fn with_engine<T>(f: impl FnOnce(&mut TessBaseApi) -> Result<T>) -> Result<T> {
    ENGINE.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            *slot = Some(new_engine()?);
        }
        match slot.as_mut() {
            Some(engine) => f(engine),
            None => Err(Error::Ocr("engine unavailable".into())),
        }
    })
}

fn new_engine() -> Result<TessBaseApi> {
    let mut api = TessBaseApi::create();
    let lang = CString::new("eng").map_err(|e| Error::Ocr(e.to_string()))?;
    api.init_2(None, Some(&lang)).map_err(|_| {
        Error::Ocr(
            "cannot start tesseract with language `eng` (is tesseract-ocr-eng installed?)".into(),
        )
    })?;
    // Keep tesseract's own chatter ("Estimating resolution...") off stderr.
    let name = CString::new("debug_file").map_err(|e| Error::Ocr(e.to_string()))?;
    let value = CString::new("/dev/null").map_err(|e| Error::Ocr(e.to_string()))?;
    let _ = api.set_variable(&name, &value);
    Ok(api)
}

/// Recognises `image` (greyscale, already preprocessed). Boxes are divided by
/// `scale` to map back to original pixels and tagged with `page`.
pub(crate) fn recognize(image: &GrayImage, scale: u32, page: u32) -> Result<Recognised> {
    let (w, h) = image.dimensions();
    if w < 3 || h < 3 {
        return Ok(Recognised::default());
    }
    let width = i32::try_from(w).map_err(|_| Error::Ocr("image too wide".into()))?;
    let height = i32::try_from(h).map_err(|_| Error::Ocr("image too tall".into()))?;
    let tsv = with_engine(|api| {
        api.set_image(image.as_raw(), width, height, 1, width)
            .map_err(|e| Error::Ocr(format!("set image: {e:?}")))?;
        // Screens are ~96 dpi; upscaled images proportionally more.
        api.set_source_resolution(96 * scale as i32);
        api.set_page_seg_mode(PageSegMode::PsmAuto.as_tess_page_seg_mode());
        api.recognize()
            .map_err(|_| Error::Ocr("recognition failed".into()))?;
        let tsv = api
            .get_tsv_text(0)
            .map_err(|_| Error::Ocr("no result".into()))?;
        Ok(tsv.as_ref().to_string_lossy().into_owned())
    })?;
    Ok(parse_tsv(&tsv, scale.max(1), page))
}

/// Builds text and boxes from tesseract's TSV: words joined by spaces, a
/// line break per line, a blank line between blocks.
fn parse_tsv(tsv: &str, scale: u32, page: u32) -> Recognised {
    let mut out = Recognised::default();
    let mut heights = Vec::new();
    let mut last_line: Option<(u32, u32, u32)> = None;
    for row in tsv.lines() {
        let cols: Vec<&str> = row.splitn(12, '\t').collect();
        if cols.len() < 12 || cols[0] != "5" {
            continue;
        }
        let num = |i: usize| cols[i].trim().parse::<i64>().unwrap_or(0).max(0) as u32;
        let word = cols[11].trim();
        let conf: f32 = cols[10].trim().parse().unwrap_or(-1.0);
        if word.is_empty() || conf < 0.0 {
            continue;
        }
        let line = (num(2), num(3), num(4));
        match last_line {
            Some(prev) if prev == line => out.text.push(' '),
            Some(prev) if prev.0 != line.0 => out.text.push_str("\n\n"),
            Some(_) => out.text.push('\n'),
            None => {}
        }
        last_line = Some(line);
        let start = out.text.len();
        out.text.push_str(word);
        let (x, y, w, h) = (num(6), num(7), num(8), num(9));
        heights.push(h);
        if conf >= 60.0 {
            out.confident_chars += word.chars().count();
        }
        out.boxes.push(WordBox {
            text_start: start,
            text_end: out.text.len(),
            page,
            x: x / scale,
            y: y / scale,
            w: w.div_ceil(scale),
            h: h.div_ceil(scale),
        });
    }
    heights.sort_unstable();
    out.median_height = heights.get(heights.len() / 2).copied().unwrap_or(0);
    out
}

#[cfg(test)]
mod tests {
    use super::parse_tsv;

    #[test]
    fn tsv_words_become_text_and_boxes() {
        let tsv = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext\n\
            5\t1\t1\t1\t1\t1\t10\t20\t30\t12\t95.1\tCard\n\
            5\t1\t1\t1\t1\t2\t44\t20\t50\t12\t91.0\t4111\n\
            5\t1\t1\t1\t2\t1\t10\t40\t30\t12\t90.0\tnext\n\
            5\t1\t2\t1\t1\t1\t10\t90\t30\t12\t90.0\tblock\n";
        let r = parse_tsv(tsv, 2, 3);
        assert_eq!(r.text, "Card 4111\nnext\n\nblock");
        assert_eq!(r.boxes.len(), 4);
        let b = &r.boxes[1];
        assert_eq!(&r.text[b.text_start..b.text_end], "4111");
        assert_eq!((b.x, b.y, b.w, b.h, b.page), (22, 10, 25, 6, 3));
        assert_eq!(r.median_height, 12);
    }
}
