//! Where a format's own data ends, so that nothing before or after it goes
//! unread.
//!
//! A file is a polyglot when it holds more than its format says: a PNG with a
//! ZIP after `IEND`, a JPEG with text after `EOI`, a ZIP with an image in
//! front of it. The format's reader (an image decoder, the PDF parser, the
//! zip directory) never looks at those bytes, and the recipient can read them
//! all the same. So for each format this module finds the span its reader
//! uses ([`bounds`]); the dispatcher extracts the bytes before it
//! (`file#prefix`) and after it (`file#trailer`) as independent files:
//! sniffed, a ZIP read as a ZIP, text as text, within the same budget.
//!
//! The end is found by walking the format's own structure, never by trusting
//! one declared total where a walk is possible: PNG chunks to `IEND`, JPEG
//! segments and entropy-coded scans to `EOI` (an EXIF thumbnail sits inside
//! its APP1 segment, so its `EOI` is skipped with the segment), GIF blocks to
//! the trailer byte, the BMP pixel array from the header's geometry, every
//! region a TIFF's IFDs reference, the RIFF size of a WebP, the last `%%EOF`
//! of a PDF (incremental updates before it are the PDF's own), a zip's
//! end-of-central-directory record and comment. Where the structure breaks
//! before its end, the rest counts as trailer: reading too much is safe,
//! reading too little is not. Data hidden *between* a format's structures
//! (metadata chunks, unreferenced gaps) is not this module's concern.

use std::io::Cursor;

use memchr::memmem;

use super::model::FileKind;

/// The span of a file its format's reader uses: bytes before `start` and
/// from `end` on are extra data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Bounds {
    /// First byte of the format's own data.
    pub(crate) start: usize,
    /// One past its last byte.
    pub(crate) end: usize,
}

/// The span of `bytes` that a reader of `kind` uses.
pub(crate) fn bounds(kind: FileKind, bytes: &[u8]) -> Bounds {
    let n = bytes.len();
    let whole = Bounds { start: 0, end: n };
    let end = |end: usize| Bounds {
        start: 0,
        end: end.min(n),
    };
    match kind {
        FileKind::Png => end(png_end(bytes)),
        FileKind::Jpeg => end(jpeg_end(bytes)),
        FileKind::Gif => end(gif_end(bytes)),
        FileKind::Bmp => end(bmp_end(bytes)),
        FileKind::Webp => end(webp_end(bytes)),
        FileKind::Tiff => end(tiff_end(bytes)),
        FileKind::Pdf => pdf_bounds(bytes),
        FileKind::Zip
        | FileKind::Docx
        | FileKind::Xlsx
        | FileKind::Pptx
        | FileKind::Odt
        | FileKind::Ods
        | FileKind::Odp => zip_bounds(bytes).unwrap_or(whole),
        _ => whole,
    }
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn le32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn le16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

/// After the `IEND` chunk's CRC. A chunk that does not parse starts the
/// trailer.
fn png_end(b: &[u8]) -> usize {
    let mut p = 8usize;
    while p < b.len() {
        let (Some(len), Some(kind)) = (be32(b, p), b.get(p + 4..p + 8)) else {
            return p;
        };
        if !kind.iter().all(u8::is_ascii_alphabetic) {
            return p;
        }
        let next = p.saturating_add(12).saturating_add(len as usize);
        if next > b.len() {
            // A truncated chunk: the decoder fails on it, unless it is past
            // the image data, so its bytes are read as a trailer.
            return p;
        }
        if kind == b"IEND" {
            return next;
        }
        p = next;
    }
    b.len()
}

/// After the `EOI` marker that ends the frame's last scan.
fn jpeg_end(b: &[u8]) -> usize {
    let n = b.len();
    let mut p = 2usize;
    loop {
        if p >= n {
            return n;
        }
        if b[p] != 0xFF {
            return p;
        }
        // Fill bytes before a marker.
        while p + 1 < n && b[p + 1] == 0xFF {
            p += 1;
        }
        let Some(&marker) = b.get(p + 1) else {
            return n;
        };
        match marker {
            0xD9 => return p + 2,
            0xD0..=0xD7 | 0x01 => p += 2,
            0x00 => return p,
            _ => {
                let Some(len) = b.get(p + 2..p + 4) else {
                    return n;
                };
                let len = usize::from(u16::from_be_bytes([len[0], len[1]]));
                if len < 2 {
                    return p;
                }
                p += 2 + len;
                if p > n {
                    return n;
                }
                if marker == 0xDA {
                    p = scan_end(b, p);
                }
            }
        }
    }
}

/// The end of entropy-coded data starting at `p`: the next marker that is
/// not a stuffed zero, a restart marker or a fill byte.
fn scan_end(b: &[u8], mut p: usize) -> usize {
    while let Some(i) = memchr::memchr(0xFF, &b[p..]).map(|i| p + i) {
        match b.get(i + 1) {
            None => return b.len(),
            Some(0x00 | 0xD0..=0xD7 | 0xFF) => p = i + 1,
            Some(_) => return i,
        }
    }
    b.len()
}

/// After the trailer byte `;` that follows the last block.
fn gif_end(b: &[u8]) -> usize {
    let n = b.len();
    let Some(&flags) = b.get(10) else {
        return n;
    };
    let mut p = 13usize;
    if flags & 0x80 != 0 {
        p += 3 << ((flags & 7) + 1);
    }
    loop {
        match b.get(p) {
            None => return n,
            Some(0x3B) => return p + 1,
            Some(0x21) => match sub_blocks(b, p + 2) {
                Some(next) => p = next,
                None => return n,
            },
            Some(0x2C) => {
                let Some(&f) = b.get(p + 9) else {
                    return n;
                };
                p += 10;
                if f & 0x80 != 0 {
                    p += 3 << ((f & 7) + 1);
                }
                // The LZW minimum code size, then the image data.
                match sub_blocks(b, p + 1) {
                    Some(next) => p = next,
                    None => return n,
                }
            }
            Some(_) => return p,
        }
    }
}

/// After the zero-length block ending a chain of GIF sub-blocks at `p`.
fn sub_blocks(b: &[u8], mut p: usize) -> Option<usize> {
    loop {
        let size = usize::from(*b.get(p)?);
        p += 1;
        if size == 0 {
            return Some(p);
        }
        p += size;
    }
}

/// After the pixel array: its offset plus the size the header's geometry
/// gives (uncompressed), or the declared image size (compressed).
fn bmp_end(b: &[u8]) -> usize {
    let n = b.len();
    let geometry = || -> Option<u64> {
        let offset = u64::from(le32(b, 10)?);
        let dib = le32(b, 14)?;
        let (width, height, bpp, compression, image_size) = if dib == 12 {
            (
                u64::from(le16(b, 18)?),
                u64::from(le16(b, 20)?),
                u64::from(le16(b, 24)?),
                0,
                0,
            )
        } else {
            (
                u64::from((le32(b, 18)? as i32).unsigned_abs()),
                u64::from((le32(b, 22)? as i32).unsigned_abs()),
                u64::from(le16(b, 28)?),
                le32(b, 30)?,
                u64::from(le32(b, 34)?),
            )
        };
        let size = match compression {
            // BI_RGB, BI_BITFIELDS, BI_ALPHABITFIELDS: rows padded to 4 bytes.
            0 | 3 | 6 => (width.checked_mul(bpp)?.checked_add(31)? / 32 * 4).checked_mul(height)?,
            _ if image_size > 0 => image_size,
            _ => u64::from(le32(b, 2)?).checked_sub(offset)?,
        };
        offset.checked_add(size)
    };
    geometry().map_or(n, |end| usize::try_from(end).unwrap_or(n))
}

/// After the RIFF container's last WebP chunk. The declared RIFF size is
/// only an upper bound (a writer of polyglots sets it to cover the tail):
/// the chunks inside are walked, and the first one that is not a WebP
/// chunk starts the trailer.
fn webp_end(b: &[u8]) -> usize {
    const CHUNKS: [&[u8; 4]; 9] = [
        b"VP8 ", b"VP8L", b"VP8X", b"ALPH", b"ANIM", b"ANMF", b"ICCP", b"EXIF", b"XMP ",
    ];
    let Some(size) = le32(b, 4) else {
        return b.len();
    };
    let riff_end = usize::try_from(8 + u64::from(size))
        .unwrap_or(usize::MAX)
        .min(b.len());
    let mut p = 12usize;
    while p < riff_end {
        let (Some(kind), Some(len)) = (b.get(p..p + 4), le32(b, p + 4)) else {
            return p;
        };
        if !CHUNKS.iter().any(|c| &c[..] == kind) {
            return p;
        }
        let len = len as usize;
        let next = p
            .saturating_add(8)
            .saturating_add(len)
            .saturating_add(len & 1);
        if next > riff_end {
            return p;
        }
        p = next;
    }
    p
}

/// After the furthest byte any IFD references: the IFDs themselves (and
/// their sub-IFDs: EXIF, GPS, interoperability, SubIFDs), their out-of-line
/// values, and every strip or tile.
fn tiff_end(b: &[u8]) -> usize {
    Tiff::new(b).and_then(|t| t.end()).unwrap_or(b.len())
}

struct Tiff<'a> {
    b: &'a [u8],
    little: bool,
    big: bool,
}

impl<'a> Tiff<'a> {
    fn new(b: &'a [u8]) -> Option<Self> {
        let little = b.starts_with(b"II");
        let mut t = Tiff {
            b,
            little,
            big: false,
        };
        t.big = t.uint(2, 2)? == 43;
        Some(t)
    }

    /// An unsigned integer of `size` bytes at `at`, in the file's order.
    fn uint(&self, at: usize, size: usize) -> Option<u64> {
        let raw = self.b.get(at..at.checked_add(size)?)?;
        let mut v = 0u64;
        for i in 0..size {
            let byte = if self.little {
                raw[size - 1 - i]
            } else {
                raw[i]
            };
            v = (v << 8) | u64::from(byte);
        }
        Some(v)
    }

    fn end(&self) -> Option<usize> {
        let (word, first) = if self.big {
            (8, self.uint(8, 8)?)
        } else {
            (4, self.uint(4, 4)?)
        };
        let (count_size, entry_size) = if self.big { (8, 20) } else { (2, 12) };
        let mut end = if self.big { 16u64 } else { 8 };
        let mut queue = vec![first];
        let mut seen = std::collections::HashSet::new();
        while let Some(ifd) = queue.pop() {
            if ifd == 0 || !seen.insert(ifd) || seen.len() > 4096 {
                continue;
            }
            let at = usize::try_from(ifd).ok()?;
            let entries = self.uint(at, count_size)?;
            let body = at + count_size;
            let next_at =
                body.checked_add(usize::try_from(entries).ok()?.checked_mul(entry_size)?)?;
            end = end.max(next_at as u64 + word as u64);
            queue.push(self.uint(next_at, word)?);
            let mut strips: [Vec<u64>; 2] = [Vec::new(), Vec::new()];
            for e in 0..entries as usize {
                let at = body + e * entry_size;
                let tag = self.uint(at, 2)?;
                let kind = self.uint(at + 2, 2)?;
                let count = self.uint(at + 4, word)?;
                let unit = match kind {
                    1 | 2 | 6 | 7 => 1,
                    3 | 8 => 2,
                    4 | 9 | 11 | 13 => 4,
                    5 | 10 | 12 | 16 | 17 | 18 => 8,
                    _ => 1,
                };
                let size = count.checked_mul(unit)?;
                let value_at = at + 4 + word;
                let data_at = if size > word as u64 {
                    let off = self.uint(value_at, word)?;
                    end = end.max(off.checked_add(size)?);
                    usize::try_from(off).ok()?
                } else {
                    value_at
                };
                let values = || -> Option<Vec<u64>> {
                    (0..usize::try_from(count).ok()?.min(1 << 20))
                        .map(|i| self.uint(data_at + i * unit as usize, unit as usize))
                        .collect()
                };
                match tag {
                    // StripOffsets / TileOffsets, StripByteCounts / TileByteCounts.
                    273 | 324 => strips[0] = values()?,
                    279 | 325 => strips[1] = values()?,
                    // SubIFDs, EXIF, GPS, interoperability.
                    330 | 34665 | 34853 | 40965 => queue.extend(values()?),
                    _ => {}
                }
            }
            for (off, len) in strips[0].iter().zip(&strips[1]) {
                end = end.max(off.checked_add(*len)?);
            }
        }
        usize::try_from(end).ok()
    }
}

/// A PDF's header may follow up to a KiB of other data (readers allow it).
/// The document ends at its first `%%EOF`, or at the last of the
/// incremental updates that follow it: each begins like PDF syntax (an
/// object, a cross-reference table, a comment) and ends with its own
/// `%%EOF`. The first thing after an `%%EOF` that is not such an update
/// starts the trailer, so a `%%EOF` inside an appended zip (its comment, a
/// stored member) cannot pull the zip into the PDF.
fn pdf_bounds(b: &[u8]) -> Bounds {
    let start = memmem::find(&b[..b.len().min(1024)], b"%PDF-").unwrap_or(0);
    let eof = memmem::Finder::new(b"%%EOF");
    let Some(first) = eof.find(&b[start..]).map(|i| start + i) else {
        return Bounds {
            start,
            end: b.len(),
        };
    };
    let mut end = first + 5;
    loop {
        let rest = &b[end..];
        let blank = rest
            .iter()
            .take_while(|c| c.is_ascii_whitespace() || **c == 0)
            .count();
        if blank == rest.len() {
            return Bounds {
                start,
                end: b.len(),
            };
        }
        if !starts_pdf_section(&rest[blank..]) {
            return Bounds {
                start,
                end: end + blank,
            };
        }
        match eof.find(rest) {
            Some(i) => end += i + 5,
            None => return Bounds { start, end },
        }
    }
}

/// Whether `s` begins like an incremental update: `N G obj`, `xref`, or a
/// `%` comment.
fn starts_pdf_section(s: &[u8]) -> bool {
    if s.starts_with(b"xref") || s.starts_with(b"%") {
        return true;
    }
    let mut i = 0;
    for _ in 0..2 {
        let digits = s[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        let space = s[i + digits..]
            .iter()
            .take_while(|c| c.is_ascii_whitespace())
            .count();
        if digits == 0 || digits > 10 || space == 0 {
            return false;
        }
        i += digits + space;
    }
    s[i..].starts_with(b"obj")
}

/// The archive the zip reader sees: from its offset (data prepended, as in
/// a self-extracting archive) to the end of its end-of-central-directory
/// record and comment. `None` when it is not a readable zip.
pub(crate) fn zip_bounds(b: &[u8]) -> Option<Bounds> {
    let archive = zip::ZipArchive::new(Cursor::new(b)).ok()?;
    let start = usize::try_from(archive.offset()).ok()?;
    let comment = archive.comment();
    // The reader takes the last record whose comment fits in the file; find
    // the same one.
    let mut limit = b.len();
    while let Some(at) = memmem::rfind(&b[..limit], b"PK\x05\x06") {
        let len = usize::from(le16(b, at + 20).unwrap_or(u16::MAX));
        let end = at + 22 + len;
        if end <= b.len() && &b[at + 22..end] == comment {
            return Some(Bounds {
                start: start.min(at),
                end,
            });
        }
        limit = at;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broken_structures_never_hide_their_rest() {
        // A PNG whose second chunk header is text: the text is trailer.
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        png.extend_from_slice(&[0, 0, 0, 0]);
        png.extend_from_slice(b"IHDR");
        png.extend_from_slice(&[0; 4]);
        let at = png.len();
        png.extend_from_slice(b"card 4111 1111 1111 1111");
        assert_eq!(png_end(&png), at);
        // A JPEG whose segment list is interrupted by text.
        let jpeg = b"\xff\xd8\xff\xe0\x00\x04abhello";
        assert_eq!(jpeg_end(jpeg), 8);
        // Stuffed zeros and restart markers stay inside the scan.
        let jpeg = b"\xff\xd8\xff\xda\x00\x02\x12\xff\x00\x34\xff\xd3\x56\xff\xff\xd9tail";
        assert_eq!(jpeg_end(jpeg), jpeg.len() - 4);
        // A GIF whose block introducer is unknown.
        let gif = b"GIF89a\x01\x00\x01\x00\x00\x00\x00hidden";
        assert_eq!(gif_end(gif), 13);
    }

    #[test]
    fn a_pdf_ends_at_its_last_update_not_at_an_eof_in_its_tail() {
        let pdf = b"%PDF-1.7\n1 0 obj<<>>endobj\n%%EOF\n2 0 obj<<>>endobj\nxref\n%%EOF\r\n";
        assert_eq!(pdf_bounds(pdf).end, pdf.len());
        // A zip whose comment holds `%%EOF`: the zip starts the trailer.
        let mut poly = b"%PDF-1.7\n%%EOF\n".to_vec();
        let at = poly.len();
        poly.extend_from_slice(b"PK\x03\x04...PK\x05\x06...%%EOF");
        assert_eq!(pdf_bounds(&poly).end, at);
        let text = b"junk%PDF-1.4\n%%EOF\nCard 4111 1111 1111 1111\n%%EOF\n";
        assert_eq!(pdf_bounds(text), Bounds { start: 4, end: 19 });
    }

    #[test]
    fn hostile_sizes_do_not_overflow() {
        let mut bmp = b"BM".to_vec();
        bmp.extend_from_slice(&[0xff; 40]);
        bmp[14..18].copy_from_slice(&40u32.to_le_bytes());
        assert!(bmp_end(&bmp) >= bmp.len());
        let webp = b"RIFF\xff\xff\xff\xffWEBPVP8 \x02\0\0\0abcard 4111";
        assert_eq!(webp_end(webp), 22);
        let tiff = b"II*\0\xff\xff\xff\xff";
        assert_eq!(tiff_end(tiff), tiff.len());
        let looped = b"II*\0\x08\0\0\0\0\0\x08\0\0\0";
        assert!(tiff_end(looped) <= looped.len() + 4);
    }
}
