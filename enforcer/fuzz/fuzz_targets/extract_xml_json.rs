//! Fuzzes generic XML text extraction (quick-xml pull parser) and JSON
//! flattening (explicit stack): payloads wrapped so the sniffer picks XML,
//! a JSON object or a JSON array.
#![no_main]

#[path = "extract_common.rs"]
mod extract_common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (sel, rest) = extract_common::split(data);
    let (name, bytes) = match sel % 3 {
        0 => ("doc.xml", [b"<?xml version=\"1.0\"?>", rest].concat()),
        1 => ("doc.json", [b"{", rest, b"}"].concat()),
        _ => ("doc.json", [b"[", rest, b"]"].concat()),
    };
    extract_common::check(name, &bytes);
});
