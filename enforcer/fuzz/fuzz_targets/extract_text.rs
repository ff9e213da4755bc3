//! Fuzzes plain-text extraction and encoding detection: payloads behind
//! each byte-order mark (or none), as text and as CSV/TSV.
#![no_main]

#[path = "extract_common.rs"]
mod extract_common;

use libfuzzer_sys::fuzz_target;

const BOMS: &[&[u8]] = &[b"", b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff"];

fuzz_target!(|data: &[u8]| {
    let (sel, rest) = extract_common::split(data);
    let mut bytes = BOMS[usize::from(sel % 4)].to_vec();
    if sel & 4 != 0 {
        // A delimited header line so the CSV reader sees the payload.
        bytes.extend_from_slice(b"name,card,note\n");
    }
    bytes.extend_from_slice(rest);
    let name = if sel & 4 != 0 {
        "data.csv"
    } else {
        "notes.txt"
    };
    extract_common::check(name, &bytes);
});
