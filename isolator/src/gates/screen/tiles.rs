//! What changed between two frames, in tiles, and the regions to OCR or
//! hide because of it.
//!
//! Frames are compared in greyscale, tile by tile ([`TILE`] pixels square):
//! a tile changed when one of its pixels moved by more than
//! [`CHANGE_THRESHOLD`] grey levels (Chromium encodes an unchanged 8x8 block
//! the same way each time; the margin absorbs chroma upsampling at block
//! edges). A changed tile whose pixels span fewer than [`FLAT_RANGE`] grey
//! levels holds no readable text (a background, a solid colour) and needs no
//! OCR. The changed tiles that may hold text are grown into full-width
//! [`bands`]: text runs in lines, so a value whose first digits changed is
//! read with the rest of its line, and with one tile row above and below,
//! a value broken over two lines is read whole.

use image::GrayImage;

/// Side of a tile, pixels.
pub const TILE: u32 = 32;

/// Grey levels a pixel must move by for its tile to count as changed.
pub const CHANGE_THRESHOLD: u8 = 24;

/// A tile whose pixels span fewer grey levels than this shows no text.
pub const FLAT_RANGE: u8 = 24;

/// A rectangle in frame pixels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rect {
    /// Left edge.
    pub x: u32,
    /// Top edge.
    pub y: u32,
    /// Width.
    pub w: u32,
    /// Height.
    pub h: u32,
}

impl Rect {
    /// Whether the two rectangles share a pixel.
    pub fn intersects(&self, o: &Rect) -> bool {
        self.x < o.x + o.w && o.x < self.x + self.w && self.y < o.y + o.h && o.y < self.y + self.h
    }

    /// The rectangle grown by `m` pixels on each side, kept inside `w` x `h`.
    pub fn grown(&self, m: u32, w: u32, h: u32) -> Rect {
        let x = self.x.saturating_sub(m);
        let y = self.y.saturating_sub(m);
        let right = (self.x + self.w + m).min(w);
        let bottom = (self.y + self.h + m).min(h);
        Rect {
            x,
            y,
            w: right.saturating_sub(x),
            h: bottom.saturating_sub(y),
        }
    }
}

/// One flag per tile of a frame, row by row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tiles {
    /// Tiles per row.
    pub cols: u32,
    /// Rows of tiles.
    pub rows: u32,
    /// The frame's width, pixels.
    pub width: u32,
    /// The frame's height, pixels.
    pub height: u32,
    flags: Vec<bool>,
}

impl Tiles {
    /// No tile set, for a `width` x `height` frame.
    pub fn none(width: u32, height: u32) -> Tiles {
        let (cols, rows) = (width.div_ceil(TILE), height.div_ceil(TILE));
        Tiles {
            cols,
            rows,
            width,
            height,
            flags: vec![false; (cols * rows) as usize],
        }
    }

    /// Every tile set.
    pub fn all(width: u32, height: u32) -> Tiles {
        let mut t = Tiles::none(width, height);
        t.flags.fill(true);
        t
    }

    /// Whether tile (`col`, `row`) is set.
    pub fn get(&self, col: u32, row: u32) -> bool {
        self.flags[(row * self.cols + col) as usize]
    }

    fn set(&mut self, col: u32, row: u32) {
        self.flags[(row * self.cols + col) as usize] = true;
    }

    /// Whether no tile is set.
    pub fn is_empty(&self) -> bool {
        !self.flags.contains(&true)
    }

    /// How many tiles are set.
    pub fn count(&self) -> usize {
        self.flags.iter().filter(|f| **f).count()
    }

    /// The pixels of tile (`col`, `row`).
    pub fn rect(&self, col: u32, row: u32) -> Rect {
        let (x, y) = (col * TILE, row * TILE);
        Rect {
            x,
            y,
            w: TILE.min(self.width - x),
            h: TILE.min(self.height - y),
        }
    }

    /// Whether a set tile touches `r`.
    pub fn touches(&self, r: &Rect) -> bool {
        if r.w == 0 || r.h == 0 {
            return false;
        }
        let (c0, r0) = (r.x / TILE, r.y / TILE);
        let c1 = ((r.x + r.w - 1) / TILE).min(self.cols.saturating_sub(1));
        let r1 = ((r.y + r.h - 1) / TILE).min(self.rows.saturating_sub(1));
        (r0..=r1).any(|row| {
            (c0..=c1).any(|col| row < self.rows && col < self.cols && self.get(col, row))
        })
    }

    /// The set tiles as rectangles (runs of tiles in a row joined).
    pub fn rects(&self) -> Vec<Rect> {
        let mut out = Vec::new();
        for row in 0..self.rows {
            let mut col = 0;
            while col < self.cols {
                if !self.get(col, row) {
                    col += 1;
                    continue;
                }
                let start = col;
                while col < self.cols && self.get(col, row) {
                    col += 1;
                }
                out.push(Rect {
                    x: start * TILE,
                    y: row * TILE,
                    w: (col * TILE).min(self.width) - start * TILE,
                    h: TILE.min(self.height - row * TILE),
                });
            }
        }
        out
    }
}

/// The tiles where `next` differs from `prev`; every tile when their sizes differ.
pub fn changed(prev: &GrayImage, next: &GrayImage) -> Tiles {
    let (w, h) = next.dimensions();
    if prev.dimensions() != (w, h) {
        return Tiles::all(w, h);
    }
    let mut tiles = Tiles::none(w, h);
    let (a, b) = (prev.as_raw(), next.as_raw());
    for y in 0..h {
        let row = y / TILE;
        let line = (y * w) as usize..((y + 1) * w) as usize;
        let (pa, pb) = (&a[line.clone()], &b[line]);
        for col in 0..tiles.cols {
            if tiles.get(col, row) {
                continue;
            }
            let x0 = (col * TILE) as usize;
            let x1 = ((col + 1) * TILE).min(w) as usize;
            if pa[x0..x1]
                .iter()
                .zip(&pb[x0..x1])
                .any(|(p, q)| p.abs_diff(*q) > CHANGE_THRESHOLD)
            {
                tiles.set(col, row);
            }
        }
    }
    tiles
}

/// Of the `set` tiles, those of `img` that may show text (not flat).
pub fn textlike(img: &GrayImage, set: &Tiles) -> Tiles {
    let mut out = Tiles::none(set.width, set.height);
    let w = set.width as usize;
    let raw = img.as_raw();
    for row in 0..set.rows {
        for col in 0..set.cols {
            if !set.get(col, row) {
                continue;
            }
            let r = set.rect(col, row);
            let (mut lo, mut hi) = (u8::MAX, u8::MIN);
            for y in r.y..r.y + r.h {
                let start = y as usize * w + r.x as usize;
                for &p in &raw[start..start + r.w as usize] {
                    lo = lo.min(p);
                    hi = hi.max(p);
                }
            }
            if hi.saturating_sub(lo) >= FLAT_RANGE {
                out.set(col, row);
            }
        }
    }
    out
}

/// Tallest band read at once, tiles: a taller one is read in pieces that
/// overlap by one tile row (a line cut at one piece's edge is whole in the
/// other), so each OCR stays within its time and a page is read in steps.
pub const MAX_BAND_ROWS: u32 = 8;

/// Full-width bands covering every row of set tiles, one tile row more
/// above and below, overlapping or touching bands merged, then cut into
/// pieces of at most [`MAX_BAND_ROWS`] tile rows.
pub fn bands(set: &Tiles) -> Vec<Rect> {
    let mut out = Vec::new();
    for band in merged_bands(set) {
        let max = MAX_BAND_ROWS * TILE;
        let mut y = band.y;
        loop {
            let bottom = (y + max).min(band.y + band.h);
            out.push(Rect {
                y,
                h: bottom - y,
                ..band
            });
            if bottom == band.y + band.h {
                break;
            }
            y = bottom - TILE;
        }
    }
    out
}

fn merged_bands(set: &Tiles) -> Vec<Rect> {
    let mut out: Vec<Rect> = Vec::new();
    for row in 0..set.rows {
        if !(0..set.cols).any(|col| set.get(col, row)) {
            continue;
        }
        let top = row.saturating_sub(1) * TILE;
        let bottom = ((row + 2) * TILE).min(set.height);
        match out.last_mut() {
            Some(last) if top <= last.y + last.h => last.h = bottom - last.y,
            _ => out.push(Rect {
                x: 0,
                y: top,
                w: set.width,
                h: bottom - top,
            }),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use image::Luma;

    use super::*;

    fn page(w: u32, h: u32) -> GrayImage {
        GrayImage::from_pixel(w, h, Luma([250]))
    }

    fn draw(img: &mut GrayImage, x: u32, y: u32, w: u32, h: u32, v: u8) {
        for yy in y..y + h {
            for xx in x..x + w {
                img.put_pixel(xx, yy, Luma([v]));
            }
        }
    }

    #[test]
    fn only_tiles_with_a_real_change_are_changed() {
        let a = page(200, 100);
        let mut b = a.clone();
        // Noise under the threshold (a re-encoded JPEG's) is no change.
        draw(&mut b, 0, 0, 200, 100, 250 - CHANGE_THRESHOLD);
        assert!(changed(&a, &b).is_empty());
        // One pixel in tile (2, 1) moved far.
        b.put_pixel(70, 40, Luma([0]));
        let t = changed(&a, &b);
        assert_eq!(t.count(), 1);
        assert!(t.get(2, 1));
        assert_eq!((t.cols, t.rows), (7, 4));
        // A frame of another size is all new.
        assert_eq!(changed(&a, &page(100, 100)).count(), 16);
    }

    #[test]
    fn flat_changes_need_no_ocr_and_drawn_ones_do() {
        let a = page(128, 64);
        let mut b = a.clone();
        draw(&mut b, 0, 0, 32, 32, 30); // a tile turned solid dark: no text
        draw(&mut b, 40, 40, 3, 10, 0); // a stroke on white: may be text
        let set = changed(&a, &b);
        assert_eq!(set.count(), 2);
        let text = textlike(&b, &set);
        assert_eq!(text.count(), 1);
        assert!(text.get(1, 1));
    }

    #[test]
    fn bands_span_the_width_and_a_row_either_side() {
        let mut set = Tiles::none(300, 320);
        set.set(3, 4);
        assert_eq!(
            bands(&set),
            vec![Rect {
                x: 0,
                y: 96,
                w: 300,
                h: 96
            }]
        );
        // Two rows two apart share their margin row: one band.
        set.set(0, 6);
        assert_eq!(
            bands(&set),
            vec![Rect {
                x: 0,
                y: 96,
                w: 300,
                h: 160
            }]
        );
        // A row far away is a band of its own; the first row has no row above.
        set.set(9, 0);
        let b = bands(&set);
        assert_eq!(b.len(), 2);
        assert_eq!(
            b[0],
            Rect {
                x: 0,
                y: 0,
                w: 300,
                h: 64
            }
        );
        // The last row of tiles is cut at the frame's edge.
        let mut last = Tiles::none(100, 70);
        last.set(0, 2);
        assert_eq!(
            bands(&last),
            vec![Rect {
                x: 0,
                y: 32,
                w: 100,
                h: 38
            }]
        );
    }

    #[test]
    fn a_whole_screen_is_read_in_overlapping_pieces() {
        let all = Tiles::all(1280, 800);
        let b = bands(&all);
        // 800 px: 0-256, 224-480, 448-704, 672-800.
        let spans: Vec<(u32, u32)> = b.iter().map(|r| (r.y, r.y + r.h)).collect();
        assert_eq!(spans, vec![(0, 256), (224, 480), (448, 704), (672, 800)]);
        assert!(b.iter().all(|r| r.x == 0 && r.w == 1280));
        // Every tile row is inside some piece, and each cut overlaps by a tile.
        for w in b.windows(2) {
            assert_eq!(w[0].y + w[0].h - w[1].y, TILE);
        }
    }

    #[test]
    fn rects_join_runs_of_tiles() {
        let mut set = Tiles::none(300, 320);
        set.set(2, 2);
        set.set(3, 2);
        set.set(9, 9);
        let r = set.rects();
        assert_eq!(
            r,
            vec![
                Rect {
                    x: 64,
                    y: 64,
                    w: 64,
                    h: 32
                },
                Rect {
                    x: 288,
                    y: 288,
                    w: 12,
                    h: 32
                }
            ]
        );
        assert!(set.touches(&Rect {
            x: 100,
            y: 70,
            w: 5,
            h: 5
        }));
        assert!(set.touches(&Rect {
            x: 0,
            y: 0,
            w: 65,
            h: 65
        }));
        assert!(!set.touches(&Rect {
            x: 0,
            y: 0,
            w: 60,
            h: 60
        }));
        assert!(!set.touches(&Rect {
            x: 0,
            y: 0,
            w: 0,
            h: 0
        }));
    }
}
