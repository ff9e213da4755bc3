//! Fuzzes the scanner: any text, whole and incrementally, must scan without
//! panicking, with spans inside the text on character boundaries, and the
//! field scanner must agree with a full scan.
#![no_main]

use std::sync::OnceLock;

use enforcer::{Engine, Selection};
use libfuzzer_sys::fuzz_target;

fn engine() -> &'static (Engine, Selection) {
    static E: OnceLock<(Engine, Selection)> = OnceLock::new();
    E.get_or_init(|| {
        let e = Engine::with_defaults();
        let s = e.selection(&["all"]).unwrap();
        (e, s)
    })
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (engine, sel) = engine();
    for f in engine.scan(&text) {
        assert!(f.start <= f.end && f.end <= text.len());
        assert!(text.is_char_boundary(f.start) && text.is_char_boundary(f.end));
    }
    let full = engine.scan_selection(&text, sel);
    let mut field = engine.field_scanner(sel);
    let mid = (0..=text.len() / 2).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0);
    field.set_text(&text[..mid]);
    field.append(&text[mid..]);
    assert_eq!(field.report().findings, full.findings);
});
