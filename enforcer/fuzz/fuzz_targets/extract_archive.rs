//! Fuzzes archive reading (zip, tar, gzip) and nesting: raw archive bytes,
//! a gzip of the input, a tar of its pieces, and a zip whose members are
//! pieces of the input (one of them may itself be an archive).
#![no_main]

#[path = "extract_common.rs"]
mod extract_common;

use std::io::Write;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (sel, rest) = extract_common::split(data);
    let (name, bytes) = match sel % 5 {
        0 => ("raw.zip", [b"PK\x03\x04".as_slice(), rest].concat()),
        1 => ("raw.tar.gz", [b"\x1f\x8b".as_slice(), rest].concat()),
        2 => {
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            gz.write_all(rest).expect("gzip");
            ("data.gz", gz.finish().expect("gzip"))
        }
        3 => {
            let mut tar = tar::Builder::new(Vec::new());
            for (i, piece) in rest.split(|b| *b == 0).take(16).enumerate() {
                let mut header = tar::Header::new_gnu();
                header.set_size(piece.len() as u64);
                header.set_mode(0o644);
                header.set_cksum();
                tar.append_data(&mut header, format!("dir/m{i}"), piece)
                    .expect("tar entry");
            }
            ("pieces.tar", tar.into_inner().expect("tar"))
        }
        _ => (
            "nested.zip",
            extract_common::zip_members(&["a.txt", "inner/b.zip", "c.bin"], rest, sel & 0x80 != 0),
        ),
    };
    extract_common::check(name, &bytes);
});
