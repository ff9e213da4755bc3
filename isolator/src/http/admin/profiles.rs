//! Custom DLP profiles: which detectors fire them, and how much evidence it takes.
//!
//! `/api/v1/profiles` and `/api/v1/profiles/{id}`: the generic CRUD of
//! [`super::items`], keyed by `id`.

use policies::{PolicyDocument, ProfileDoc};

use super::items::Item;

impl Item for ProfileDoc {
    const NOUN: &'static str = "profile";
    const FIELD: &'static str = "profiles";
    const KEY: &'static str = "id";

    fn key(&self) -> &str {
        &self.id
    }

    fn list(doc: &PolicyDocument) -> &Vec<Self> {
        &doc.profiles
    }

    fn list_mut(doc: &mut PolicyDocument) -> &mut Vec<Self> {
        &mut doc.profiles
    }
}
