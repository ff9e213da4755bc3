//! The PII record rule: several distinct kinds of personal data, repeated
//! close together, as in a customer list, fire a profile even when no
//! single item would (no id, no card: names, addresses, phones, e-mails,
//! dates of birth).
//!
//! Findings of the profile's detectors are grouped into clusters (a gap of
//! at most [`RecordRule::gap`] bytes between neighbours). Around each
//! cluster two more kinds are read off the text: *name-like* (two or
//! three capitalised words alone in a field or on a line) and *postal
//! address* (a house number and a street word, a UK postcode, a US state
//! and ZIP code). A cluster holds `n` records when its `min_kinds`-th most
//! frequent kind occurs `n` times: a CSV export of five customers with
//! e-mail, phone and address holds five, a letter's signature (one name,
//! one address, one phone) holds one. The profile fires at
//! [`RecordRule::min_records`] records in some cluster.

use std::sync::OnceLock;

use regex_automata::meta::Regex;

/// When a record profile fires.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordRule {
    /// Distinct kinds of personal data a record holds at least.
    pub min_kinds: usize,
    /// Most bytes between two neighbouring items of one cluster.
    pub gap: usize,
    /// Records a cluster must hold.
    pub min_records: usize,
}

impl Default for RecordRule {
    fn default() -> Self {
        RecordRule {
            min_kinds: 3,
            gap: 160,
            min_records: 2,
        }
    }
}

/// Kind ids of the two kinds found here (after the detectors' indexes).
const NAME: usize = usize::MAX - 1;
const ADDRESS: usize = usize::MAX;

fn name_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        // Two or three capitalised words alone in a field (CSV, TSV) or on
        // a line: `Jane Doe,`, `"Mary Ann Smith"`, `Name: John Roe`.
        Regex::new(r#"(?m)(?:^|[,;\t|"]|: )[ \t]*[A-Z][a-z]+(?:[ '-][A-Z][a-z]+){1,2}[ \t"]*(?:[,;\t|]|$)"#)
            .unwrap_or_else(|e| panic!("name pattern: {e}"))
    })
}

fn address_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(concat!(
            // House number and street: `12 High Street`, `221B Baker St`.
            r"\b[0-9]{1,5}[A-Za-z]?,? (?:[A-Z][a-z]+ ){0,3}(?:Street|St|Road|Rd|Avenue|Ave|Lane|Ln|Drive|Dr|Boulevard|Blvd|Way|Court|Ct|Place|Pl|Square|Sq|Terrace|Close|Crescent|Strasse|Straße)\b",
            // A UK postcode: `SW1A 1AA`, `M1 1AE`.
            r"|\b[A-Z]{1,2}[0-9][A-Z0-9]? [0-9][ABD-HJLNP-UW-Z]{2}\b",
            // A US state and ZIP code: `Springfield, IL 62704`.
            r"|, [A-Z]{2} [0-9]{5}(?:-[0-9]{4})?\b",
        ))
        .unwrap_or_else(|e| panic!("address pattern: {e}"))
    })
}

/// Evaluates `rule` over `items` (detector index, start, end), sorted by
/// start, in `text`. Returns the most records a cluster holds and, per
/// item, whether it is in a cluster of at least `min_records` records.
pub fn records(
    text: &str,
    items: &[(usize, usize, usize)],
    rule: &RecordRule,
) -> (usize, Vec<bool>) {
    let mut best = 0;
    let mut member = vec![false; items.len()];
    let mut i = 0;
    while i < items.len() {
        // One cluster: items[i..j].
        let mut j = i + 1;
        let mut end = items[i].2;
        while j < items.len() && items[j].1 <= end + rule.gap {
            end = end.max(items[j].2);
            j += 1;
        }
        let lo = super::context::floor_boundary(text, items[i].1.saturating_sub(rule.gap));
        let hi = super::context::ceil_boundary(text, (end + rule.gap).min(text.len()));
        let mut kinds: Vec<(usize, usize)> = Vec::new();
        let mut add = |kind: usize| match kinds.iter_mut().find(|(k, _)| *k == kind) {
            Some((_, n)) => *n += 1,
            None => kinds.push((kind, 1)),
        };
        for it in &items[i..j] {
            add(it.0);
        }
        let window = &text[lo..hi];
        for (kind, re) in [(NAME, name_re()), (ADDRESS, address_re())] {
            for _ in re.find_iter(window) {
                add(kind);
            }
        }
        let mut counts: Vec<usize> = kinds.iter().map(|&(_, n)| n).collect();
        counts.sort_unstable_by(|a, b| b.cmp(a));
        let n = counts
            .get(rule.min_kinds.saturating_sub(1))
            .copied()
            .unwrap_or(0);
        best = best.max(n);
        if n >= rule.min_records {
            member[i..j].iter_mut().for_each(|m| *m = true);
        }
        i = j;
    }
    (best, member)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_read_off_the_text() {
        let count = |re: &Regex, t: &str| re.find_iter(t).count();
        assert_eq!(
            count(name_re(), "Jane Doe,jane@example.com\nMary Ann Smith\n"),
            2
        );
        assert_eq!(count(name_re(), "the Quick brown fox"), 0);
        assert_eq!(count(address_re(), "12 High Street, London SW1A 1AA"), 2);
        assert_eq!(
            count(address_re(), "742 Evergreen Terrace, Springfield, IL 62704"),
            2
        );
        assert_eq!(
            count(address_re(), "we met at 12 and went down the street"),
            0
        );
    }
}
