//! Fuzzes extraction of any file: raw bytes, with a name chosen by the first
//! byte so name/content mismatch reporting is exercised too.
#![no_main]

#[path = "extract_common.rs"]
mod extract_common;

use libfuzzer_sys::fuzz_target;

const NAMES: &[&str] = &[
    "file", "a.txt", "a.pdf", "a.docx", "a.zip", "a.png", "a.jpg", "a.html", "a.json", "a.xlsx",
    "a.tar.gz", "a.bin",
];

fuzz_target!(|data: &[u8]| {
    let (sel, rest) = extract_common::split(data);
    extract_common::check(NAMES[usize::from(sel) % NAMES.len()], rest);
});
