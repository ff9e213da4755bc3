//! Human summaries of what changed between two documents, for the history.
//!
//! Items are matched by name (apps, rules) or id (detectors, profiles), so a
//! renamed rule shows as removed + added; within an item, the fields that
//! differ are named. Comparing serde JSON values keeps this in step with the
//! document model without a hand-written comparison per field.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::document::PolicyDocument;

/// One line per change, e.g. ``rule `finance-team` changed: paste, upload``.
/// Empty when the documents are equal.
pub fn summarize(old: &PolicyDocument, new: &PolicyDocument) -> Vec<String> {
    let mut out = Vec::new();
    let (a, b) = (fields(&old.defaults), fields(&new.defaults));
    let changed = changed_keys(&a, &b);
    if !changed.is_empty() {
        out.push(format!("defaults changed: {}", changed.join(", ")));
    }
    named(&mut out, "app", &old.apps, &new.apps, |a| &a.name);
    named(&mut out, "detector", &old.detectors, &new.detectors, |d| {
        &d.id
    });
    named(&mut out, "profile", &old.profiles, &new.profiles, |p| &p.id);
    named(&mut out, "rule", &old.rules, &new.rules, |r| &r.name);
    let order = |rules: &[crate::RuleDoc], other: &[crate::RuleDoc]| -> Vec<String> {
        rules
            .iter()
            .filter(|r| other.iter().any(|o| o.name == r.name))
            .map(|r| r.name.clone())
            .collect()
    };
    if order(&old.rules, &new.rules) != order(&new.rules, &old.rules) {
        let names: Vec<String> = new.rules.iter().map(|r| r.name.clone()).collect();
        out.push(format!("rules reordered: {}", names.join(", ")));
    }
    out
}

fn fields<T: Serialize>(t: &T) -> Map<String, Value> {
    match serde_json::to_value(t) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    }
}

fn changed_keys(a: &Map<String, Value>, b: &Map<String, Value>) -> Vec<String> {
    let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| a.get(*k) != b.get(*k))
        .cloned()
        .collect()
}

fn named<T: Serialize>(
    out: &mut Vec<String>,
    kind: &str,
    old: &[T],
    new: &[T],
    key: impl Fn(&T) -> &String,
) {
    for o in old {
        match new.iter().find(|n| key(n) == key(o)) {
            None => out.push(format!("{kind} `{}` removed", key(o))),
            Some(n) => {
                let changed = changed_keys(&fields(o), &fields(n));
                if !changed.is_empty() {
                    out.push(format!(
                        "{kind} `{}` changed: {}",
                        key(o),
                        changed.join(", ")
                    ));
                }
            }
        }
    }
    for n in new {
        if !old.iter().any(|o| key(o) == key(n)) {
            out.push(format!("{kind} `{}` added", key(n)));
        }
    }
}
