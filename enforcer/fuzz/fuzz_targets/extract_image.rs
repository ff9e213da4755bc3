//! Fuzzes image decoding and OCR: payloads behind each image format's magic
//! bytes (decoders), and small valid greyscale PNGs whose pixels are the
//! input (preprocessing and tesseract), within a small OCR pixel budget.
#![no_main]

#[path = "extract_common.rs"]
mod extract_common;

use std::io::Cursor;

use libfuzzer_sys::fuzz_target;

const MAGIC: &[(&str, &[u8])] = &[
    ("a.png", b"\x89PNG\r\n\x1a\n"),
    ("a.jpg", b"\xff\xd8\xff"),
    ("a.gif", b"GIF89a"),
    ("a.webp", b"RIFF\0\0\0\0WEBP"),
    ("a.tif", b"II*\0"),
    ("a.bmp", b"BM\0\0\0\0\0\0\0\0\x36\0\0\0\x28\0\0\0"),
];

fuzz_target!(|data: &[u8]| {
    let (sel, rest) = extract_common::split(data);
    let variant = usize::from(sel) % (MAGIC.len() + 1);
    if let Some((name, magic)) = MAGIC.get(variant) {
        extract_common::check(name, &[*magic, rest].concat());
        return;
    }
    // A valid image: width from the next byte, pixels from the rest.
    let Some((w, pixels)) = rest.split_first() else {
        return;
    };
    let w = u32::from(*w % 96) + 1;
    let h = (pixels.len() as u32 / w).min(96);
    if h == 0 {
        return;
    }
    let raw = pixels[..(w * h) as usize].to_vec();
    let img = image::GrayImage::from_raw(w, h, raw).expect("sized buffer");
    let mut png = Cursor::new(Vec::new());
    img.write_to(&mut png, image::ImageFormat::Png)
        .expect("png");
    extract_common::check("pixels.png", &png.into_inner());
});
