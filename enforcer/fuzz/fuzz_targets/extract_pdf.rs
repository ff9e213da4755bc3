//! Fuzzes PDF extraction (lopdf, decompression caps, page limits): any
//! payload behind a PDF header.
#![no_main]

#[path = "extract_common.rs"]
mod extract_common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let bytes = if data.windows(5).take(1024).any(|w| w == b"%PDF-") {
        data.to_vec()
    } else {
        [b"%PDF-1.5\n".as_slice(), data].concat()
    };
    extract_common::check("doc.pdf", &bytes);
});
