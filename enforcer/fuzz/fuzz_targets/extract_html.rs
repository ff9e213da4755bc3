//! Fuzzes HTML visible-text extraction (html5ever tokenizer): any payload
//! after an HTML prologue, including deep nesting and broken markup.
#![no_main]

#[path = "extract_common.rs"]
mod extract_common;

use libfuzzer_sys::fuzz_target;

const PROLOGUES: &[&str] = &["<!doctype html>", "<html><body>", "<div><p>"];

fuzz_target!(|data: &[u8]| {
    let (sel, rest) = extract_common::split(data);
    let mut bytes = PROLOGUES[usize::from(sel) % PROLOGUES.len()]
        .as_bytes()
        .to_vec();
    bytes.extend_from_slice(rest);
    extract_common::check("page.html", &bytes);
});
