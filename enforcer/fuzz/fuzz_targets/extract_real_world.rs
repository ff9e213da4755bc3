//! Fuzzes the readers added for real-world files: bytes behind the magic of
//! 7z, xz, bzip2, zstd and OLE2 compound files (Outlook `.msg`, Word, Excel,
//! PowerPoint), behind an RTF prologue and an e-mail header block, and a
//! text file that is one base64 blob of the input. Seeds: the files of
//! `tests/corpus/planted`.
#![no_main]

#[path = "extract_common.rs"]
mod extract_common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (sel, rest) = extract_common::split(data);
    let prefixed = |magic: &[u8]| [magic, rest].concat();
    let (name, bytes) = match sel % 9 {
        0 => ("a.7z", prefixed(b"7z\xbc\xaf\x27\x1c")),
        1 => ("a.xz", prefixed(b"\xfd7zXZ\0")),
        2 => ("a.bz2", prefixed(b"BZh91AY&SY")),
        3 => ("a.zst", prefixed(b"\x28\xb5\x2f\xfd")),
        4 => ("a.msg", prefixed(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")),
        5 => ("a.rtf", prefixed(b"{\\rtf1\\ansi ")),
        6 => (
            "a.eml",
            prefixed(b"From: a@example.org\r\nTo: b@example.org\r\nMIME-Version: 1.0\r\n"),
        ),
        7 => ("a.mbox", prefixed(b"From x\nFrom: a@example.org\nSubject: s\n")),
        _ => {
            use base64::Engine as _;
            let blob = base64::engine::general_purpose::STANDARD.encode(rest);
            ("blob.txt", blob.into_bytes())
        }
    };
    extract_common::check(name, &bytes);
});
