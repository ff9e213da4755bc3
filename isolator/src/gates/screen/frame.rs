//! One frame through the net: decoded, compared with the last checked
//! frame ([`prepare`]), and encoded again with its hidden regions
//! ([`render`]). Blocking; the net runs these on the blocking pool.

use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::{GrayImage, RgbImage};

use super::blur::pixelate;
use super::tiles::{self, Rect, Tiles};

/// Largest frame side the net decodes, pixels (a viewport is far smaller).
const MAX_SIDE: u32 = 8192;

/// The last frame the net checked, and what it hides in it.
#[derive(Debug)]
pub struct Checked {
    /// The tab and URL it was checked for (another is checked anew).
    pub key: (u16, String),
    /// Its pixels, greyscale.
    pub gray: GrayImage,
    /// The regions where a masked value shows.
    pub hide: Vec<Rect>,
}

/// A frame compared with the last checked one.
#[derive(Debug)]
pub struct Prepared {
    /// Its pixels.
    pub rgb: RgbImage,
    /// Its pixels, greyscale.
    pub gray: GrayImage,
    /// Regions hidden in the checked frame whose tiles did not change.
    pub kept: Vec<Rect>,
    /// Every region hidden in the checked frame (for the same page).
    pub prior: Vec<Rect>,
    /// Changed tiles that may show text: unchecked until read.
    pub unchecked: Tiles,
    /// The bands to read ([`tiles::bands`] of `unchecked`).
    pub bands: Vec<Rect>,
}

impl Prepared {
    /// What must be hidden while the bands are unread: every region hidden
    /// before (what is left of a value partly changed stays hidden too) and
    /// the unchecked tiles. The rest is as it was in the checked frame, where
    /// every value was found and hidden; a value spanning changed and
    /// unchanged tiles is broken by hiding the changed ones.
    pub fn fail_closed(&self) -> Vec<Rect> {
        let mut hide = self.prior.clone();
        hide.extend(self.unchecked.rects());
        hide
    }
}

/// Decodes `jpeg` and compares it with `checked` (when it was checked for
/// the same `key`). `Err`: the frame cannot be decoded (it is not shown).
pub fn prepare(
    jpeg: &[u8],
    key: &(u16, String),
    checked: Option<&Checked>,
) -> Result<Prepared, String> {
    let img = image::load_from_memory_with_format(jpeg, image::ImageFormat::Jpeg)
        .map_err(|e| format!("the frame cannot be decoded ({e})"))?;
    if img.width() > MAX_SIDE || img.height() > MAX_SIDE || img.width() == 0 || img.height() == 0 {
        return Err(format!(
            "a frame of {}x{} pixels",
            img.width(),
            img.height()
        ));
    }
    let rgb = img.to_rgb8();
    let gray = image::imageops::grayscale(&rgb);
    let (changed, kept, prior) = match checked.filter(|c| &c.key == key) {
        Some(c) => {
            let changed = tiles::changed(&c.gray, &gray);
            let kept = c
                .hide
                .iter()
                .filter(|r| !changed.touches(r))
                .copied()
                .collect();
            (changed, kept, c.hide.clone())
        }
        None => (
            Tiles::all(gray.width(), gray.height()),
            Vec::new(),
            Vec::new(),
        ),
    };
    let unchecked = tiles::textlike(&gray, &changed);
    let bands = tiles::bands(&unchecked);
    Ok(Prepared {
        rgb,
        gray,
        kept,
        prior,
        unchecked,
        bands,
    })
}

/// `rgb` with `hide` mosaicked, as a JPEG of `quality`; `None` when
/// nothing is hidden (the original frame is shown as it came).
pub fn render(rgb: &RgbImage, hide: &[Rect], quality: u8) -> Option<Vec<u8>> {
    if hide.is_empty() {
        return None;
    }
    let mut img = rgb.clone();
    for r in hide {
        pixelate(&mut img, r);
    }
    let mut out = Vec::new();
    let encoder = JpegEncoder::new_with_quality(Cursor::new(&mut out), quality.clamp(1, 100));
    // Encoding an RGB buffer into memory does not fail; if it did, show a
    // flat frame rather than the unmasked one.
    if img.write_with_encoder(encoder).is_err() {
        out.clear();
        let flat = RgbImage::from_pixel(rgb.width(), rgb.height(), image::Rgb([128, 128, 128]));
        let _ = flat.write_with_encoder(JpegEncoder::new_with_quality(Cursor::new(&mut out), 50));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jpeg(img: &RgbImage) -> Vec<u8> {
        let mut out = Vec::new();
        img.write_with_encoder(JpegEncoder::new_with_quality(Cursor::new(&mut out), 80))
            .unwrap();
        out
    }

    fn page_with_mark(x: u32, y: u32) -> RgbImage {
        let mut img = RgbImage::from_pixel(256, 128, image::Rgb([255, 255, 255]));
        for yy in y..y + 12 {
            for xx in x..x + 3 {
                img.put_pixel(xx, yy, image::Rgb([0, 0, 0]));
            }
        }
        img
    }

    #[test]
    fn a_frame_is_read_whole_first_then_only_where_it_changed() {
        let key = (0u16, "https://a.example/".to_string());
        let first = prepare(&jpeg(&page_with_mark(40, 40)), &key, None).unwrap();
        assert_eq!(first.bands.len(), 1, "the first frame's text is read");
        assert_eq!(
            first.unchecked.count(),
            1,
            "only the marked tile holds text"
        );
        let checked = Checked {
            key: key.clone(),
            gray: first.gray.clone(),
            hide: vec![
                Rect {
                    x: 36,
                    y: 36,
                    w: 12,
                    h: 20,
                },
                Rect {
                    x: 200,
                    y: 100,
                    w: 10,
                    h: 10,
                },
            ],
        };
        // The same picture re-encoded: nothing to read, everything kept.
        let same = prepare(&jpeg(&page_with_mark(40, 40)), &key, Some(&checked)).unwrap();
        assert!(same.bands.is_empty());
        assert_eq!(same.kept.len(), 2);
        // The mark moved: its old and new tiles changed, the hidden region
        // over it is dropped (it is read again), the other one stays.
        let moved = prepare(&jpeg(&page_with_mark(140, 40)), &key, Some(&checked)).unwrap();
        assert_eq!(
            moved.bands,
            vec![Rect {
                x: 0,
                y: 0,
                w: 256,
                h: 96
            }]
        );
        assert_eq!(
            moved.kept,
            vec![Rect {
                x: 200,
                y: 100,
                w: 10,
                h: 10
            }]
        );
        // Failing closed hides both earlier regions and the new mark's tile.
        assert_eq!(
            moved.fail_closed(),
            vec![
                Rect {
                    x: 36,
                    y: 36,
                    w: 12,
                    h: 20
                },
                Rect {
                    x: 200,
                    y: 100,
                    w: 10,
                    h: 10
                },
                Rect {
                    x: 128,
                    y: 32,
                    w: 32,
                    h: 32
                },
            ]
        );
        // Another URL is checked anew.
        let other = (0u16, "https://b.example/".to_string());
        let anew = prepare(&jpeg(&page_with_mark(40, 40)), &other, Some(&checked)).unwrap();
        assert!(anew.kept.is_empty());
        assert_eq!(anew.bands.len(), 1);
        assert!(prepare(b"not a jpeg", &key, None).is_err());
    }

    #[test]
    fn rendering_hides_regions_and_passes_clean_frames_unchanged() {
        let img = page_with_mark(40, 40);
        assert!(render(&img, &[], 70).is_none());
        let out = render(
            &img,
            &[Rect {
                x: 32,
                y: 32,
                w: 32,
                h: 32,
            }],
            90,
        )
        .unwrap();
        let back = image::load_from_memory(&out).unwrap().to_luma8();
        // The 3-pixel black stroke is spread over its block: no dark pixel left.
        let darkest = (32..64)
            .flat_map(|y| (32..64).map(move |x| (x, y)))
            .map(|(x, y)| back.get_pixel(x, y).0[0])
            .min()
            .unwrap();
        assert!(darkest > 150, "darkest pixel {darkest}");
    }
}
