//! Fuzzes the policy parser and compiler (`policies::compile_str`): any text
//! compiles or gives located problems; never a panic. A document that
//! compiles still compiles after a round trip through `to_toml` (what
//! `isolator policies` prints).
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(src) = std::str::from_utf8(data) else {
        return;
    };
    let file = Path::new("fuzz/policy.toml");
    match policies::compile_str(src, file) {
        Ok(_) => {
            let doc = policies::parse_document(src, file).expect("compiled, so it parses");
            let again = policies::to_toml(&doc);
            if let Err(err) = policies::compile_str(&again, file) {
                panic!("round trip through to_toml broke the policy: {err}\n---\n{again}");
            }
        }
        Err(err) => assert!(!err.to_string().is_empty()),
    }
});
