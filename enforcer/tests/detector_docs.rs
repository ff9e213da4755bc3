//! `DETECTORS.md` names every predefined detector (the coverage table the
//! README links to stays true to the engine).

use enforcer::{Category, Engine};

#[test]
fn every_predefined_detector_is_documented() {
    let doc = include_str!("../DETECTORS.md");
    let engine = Engine::with_defaults();
    let detectors = engine.detectors();
    assert!(detectors.len() >= 150, "{} detectors", detectors.len());
    let missing: Vec<&str> = detectors
        .iter()
        .filter(|d| d.category != Category::Custom && !doc.contains(&format!("| `{}` |", d.id)))
        .map(|d| d.id.as_str())
        .collect();
    assert!(missing.is_empty(), "not in DETECTORS.md: {missing:?}");
    // Every country-specific id names its country.
    for d in &detectors {
        let prefix = d.id.split('_').next().unwrap_or("");
        if d.category == Category::NationalIds && prefix.len() == 2 {
            assert!(!d.country.is_empty(), "{} has no country", d.id);
        }
    }
}
