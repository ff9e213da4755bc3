//! Fuzzes custom-detector compilation: any JSON spec either compiles or
//! returns an error; a compiled engine then scans its own pattern text.
#![no_main]

use std::sync::OnceLock;

use enforcer::{CustomDetectorSpec, EngineBuilder};
use libfuzzer_sys::fuzz_target;

/// The predefined detectors, compiled once; each input clones it (cheap).
fn base() -> &'static EngineBuilder {
    static B: OnceLock<EngineBuilder> = OnceLock::new();
    B.get_or_init(EngineBuilder::new)
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    // Try the input both as a JSON spec and as a raw regex pattern.
    let specs: Vec<CustomDetectorSpec> = [
        serde_json::from_str::<CustomDetectorSpec>(&text).ok(),
        serde_json::from_value(serde_json::json!({"id": "fuzz", "kind": "regex", "pattern": text})).ok(),
        serde_json::from_value(serde_json::json!({"id": "fuzz_kw", "kind": "keywords", "words": text.split(',').collect::<Vec<_>>()})).ok(),
    ]
    .into_iter()
    .flatten()
    .collect();
    for spec in specs {
        let mut b = base().clone();
        if b.custom_detector(spec).is_ok() {
            if let Ok(engine) = b.build() {
                let _ = engine.scan(&text);
            }
        }
    }
});
