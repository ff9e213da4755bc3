//! Hiding a region of a frame: each [`BLOCK`]-pixel square of it is
//! replaced by its mean colour (a mosaic). Screen text is 10-20 pixels
//! tall, so no glyph survives, while the region keeps its colours and the
//! page its layout. A mosaic is cheaper than a Gaussian blur (one pass, no
//! kernel) and, unlike a light blur, cannot be undone by sharpening.

use image::RgbImage;

use super::tiles::Rect;

/// Side of a mosaic block, pixels.
pub const BLOCK: u32 = 16;

/// Replaces `r` (clipped to the image) by a mosaic of [`BLOCK`]-pixel squares.
pub fn pixelate(img: &mut RgbImage, r: &Rect) {
    let (w, h) = img.dimensions();
    let (x0, y0) = (r.x.min(w), r.y.min(h));
    let (x1, y1) = ((r.x + r.w).min(w), (r.y + r.h).min(h));
    let mut by = y0;
    while by < y1 {
        let bh = BLOCK.min(y1 - by);
        let mut bx = x0;
        while bx < x1 {
            let bw = BLOCK.min(x1 - bx);
            let mut sum = [0u64; 3];
            for y in by..by + bh {
                for x in bx..bx + bw {
                    for (s, v) in sum.iter_mut().zip(img.get_pixel(x, y).0) {
                        *s += u64::from(v);
                    }
                }
            }
            let n = u64::from(bw * bh);
            let mean = image::Rgb(sum.map(|s| (s / n) as u8));
            for y in by..by + bh {
                for x in bx..bx + bw {
                    img.put_pixel(x, y, mean);
                }
            }
            bx += bw;
        }
        by += bh;
    }
}

#[cfg(test)]
mod tests {
    use image::Rgb;

    use super::*;

    #[test]
    fn a_region_becomes_flat_blocks_and_the_rest_is_untouched() {
        let mut img = RgbImage::from_fn(64, 40, |x, y| {
            if (x + y) % 2 == 0 {
                Rgb([0, 0, 0])
            } else {
                Rgb([200, 100, 50])
            }
        });
        let before = img.clone();
        let r = Rect {
            x: 8,
            y: 4,
            w: 40,
            h: 30,
        };
        pixelate(&mut img, &r);
        for (x, y, p) in img.enumerate_pixels() {
            let inside = (8..48).contains(&x) && (4..34).contains(&y);
            if !inside {
                assert_eq!(p, before.get_pixel(x, y), "({x}, {y}) changed");
                continue;
            }
            // Every pixel equals its block's first pixel: no detail left.
            let (bx, by) = (8 + (x - 8) / BLOCK * BLOCK, 4 + (y - 4) / BLOCK * BLOCK);
            assert_eq!(p, img.get_pixel(bx, by));
        }
        // A checkerboard block averages to the middle of its two colours.
        assert_eq!(img.get_pixel(8, 4).0, [100, 50, 25]);
        // A region past the edges is clipped, not a panic.
        pixelate(
            &mut img,
            &Rect {
                x: 60,
                y: 30,
                w: 100,
                h: 100,
            },
        );
        pixelate(
            &mut img,
            &Rect {
                x: 100,
                y: 100,
                w: 5,
                h: 5,
            },
        );
    }
}
