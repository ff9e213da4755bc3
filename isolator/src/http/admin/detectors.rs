//! Custom DLP detectors: regular expressions, keywords and exact data.
//!
//! `/api/v1/detectors` and `/api/v1/detectors/{id}`: the generic CRUD of
//! [`super::items`], keyed by `id`.

use policies::{DetectorDoc, PolicyDocument};

use super::items::Item;

impl Item for DetectorDoc {
    const NOUN: &'static str = "detector";
    const FIELD: &'static str = "detectors";
    const KEY: &'static str = "id";

    fn key(&self) -> &str {
        &self.id
    }

    fn list(doc: &PolicyDocument) -> &Vec<Self> {
        &doc.detectors
    }

    fn list_mut(doc: &mut PolicyDocument) -> &mut Vec<Self> {
        &mut doc.detectors
    }
}
