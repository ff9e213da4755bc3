//! Applications: named groups of host patterns.
//!
//! `/api/v1/apps` and `/api/v1/apps/{name}`: the generic CRUD of
//! [`super::items`], keyed by `name`.

use policies::{AppDoc, PolicyDocument};

use super::items::Item;

impl Item for AppDoc {
    const NOUN: &'static str = "app";
    const FIELD: &'static str = "apps";
    const KEY: &'static str = "name";

    fn key(&self) -> &str {
        &self.name
    }

    fn list(doc: &PolicyDocument) -> &Vec<Self> {
        &doc.apps
    }

    fn list_mut(doc: &mut PolicyDocument) -> &mut Vec<Self> {
        &mut doc.apps
    }
}
