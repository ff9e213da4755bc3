//! Health dictionaries: `medication` (drug names) and `diagnosis`
//! (condition names from ICD-10-CM descriptions), reported only with
//! patient context near (see [`clues`]).
//!
//! Cost: nothing for a scan that does not select them. A scan that does
//! first finds the clue words (one walk over the words of the lower-cased
//! text, each looked up in a small table: [`clues::Clues`]), then searches
//! the dictionary automaton ([`terms`]) only in the regions where clues
//! worth two points lie close together; text without such clues costs the
//! one walk. Of overlapping whole-word matches the longest wins (`chronic
//! viral hepatitis c` over `hepatitis c`).

pub(crate) mod clues;
pub(crate) mod terms;

use aho_corasick::Input;

use super::token_pass::Raw;
use super::types::Confidence;
use clues::{kinds_near, points, Clues, WINDOW};
pub(crate) use terms::{Dict, Terms};

/// Longest term of either dictionary, in bytes (the generator keeps terms
/// of at most six words; a test checks the bound).
pub(crate) const MAX_TERM: usize = 100;

/// How far a finding of these detectors depends on text around it.
pub(crate) const REACH: usize = MAX_TERM + WINDOW;

/// The detectors' descriptions, for the engine's table: (id, dictionary,
/// description, validation).
pub(crate) const DETECTORS: [(&str, Dict, &str, &str); 2] = [
    (
        "medication",
        Dict::Medication,
        "Drug names (generic, brand and other names: about 10,900 names of 1,560 marketed medicines) in text about a patient",
        "dictionary term (whole words, any case) with patient context within 200 bytes: record words (MRN, DOB, 56-year-old, clinical note headings) count 2; patient, person (he, she, Mr.), clinical words (diagnosed, prescribed), doses and dosing frequencies 1 each; you/your -1; 2 points medium, 3 high; the evidence names the category (generic, brand or other name)",
    ),
    (
        "diagnosis",
        Dict::Diagnosis,
        "Condition names from ICD-10-CM descriptions (type 2 diabetes mellitus, major depressive disorder, hepatitis C...) in text about a patient",
        "dictionary term (whole words, any case) with patient context within 200 bytes: record words (MRN, DOB, 56-year-old, clinical note headings) count 2; patient, person (he, she, Mr.), clinical words (diagnosed, prescribed), doses and dosing frequencies 1 each; you/your -1; 2 points medium, 3 high; the evidence names the ICD-10-CM chapter",
    ),
];

/// Every clue word, as the detectors' context words (for listings).
pub(crate) fn context_words() -> Vec<String> {
    [
        clues::RECORD_WORDS,
        clues::PATIENT_WORDS,
        clues::PERSON_WORDS,
        clues::CLINICAL_WORDS,
        clues::DOSE_WORDS,
        clues::FREQUENCY_WORDS,
    ]
    .concat()
    .iter()
    .map(|w| w.to_string())
    .collect()
}

/// Finds dictionary terms with patient context in `lower` (the scan's
/// ASCII-lower-cased normalised text) and pushes them as findings of
/// `medication` / `diagnosis` (engine detector indices; `None` when not
/// selected).
pub(crate) fn scan(
    lower: &[u8],
    medication: Option<usize>,
    diagnosis: Option<usize>,
    out: &mut Vec<Raw>,
) {
    if medication.is_none() && diagnosis.is_none() {
        return;
    }
    let c = Clues::get();
    let near = c.near_strong(lower, NEAR_STRONG);
    if near.is_empty() {
        // No term can reach two points without a strong clue.
        return;
    }
    scan_clues(lower, &c.find_in(lower, &near), medication, diagnosis, out);
}

/// How far from a strong clue the clues are read. Whatever reports a term
/// lies within this of a strong clue `k`: a search region starts from a
/// clue at most `span` (below) before `k` and covers clues up to `span`
/// after it; a reported term has `k` within [`WINDOW`] and reads clues
/// within [`WINDOW`] of itself (at most [`MAX_TERM`] long), so within
/// `2 * WINDOW + MAX_TERM` of `k`. Clue ends add a clue's length.
const NEAR_STRONG: usize = 2 * WINDOW + MAX_TERM + 3 * clues::LONGEST;

/// [`scan`] with every clue of the text (the reference [`scan`]'s spans
/// around strong clues are tested against).
#[cfg(test)]
pub(crate) fn scan_everywhere(
    lower: &[u8],
    medication: Option<usize>,
    diagnosis: Option<usize>,
    out: &mut Vec<Raw>,
) {
    if medication.is_none() && diagnosis.is_none() {
        return;
    }
    scan_clues(lower, &Clues::get().find(lower), medication, diagnosis, out);
}

/// The terms of `lower` that `clues` (in order of start) report.
fn scan_clues(
    lower: &[u8],
    clues: &[clues::Clue],
    medication: Option<usize>,
    diagnosis: Option<usize>,
    out: &mut Vec<Raw>,
) {
    // No term can reach two points (reader clues only take away): nothing
    // to look up.
    let all = clues.iter().fold(0, |k, c| k | c.kind);
    if points(all & !clues::READER) < 2 {
        return;
    }
    let terms = Terms::get();
    let word = |b: u8| b.is_ascii_alphanumeric();
    let mut found: Vec<(usize, usize, Dict)> = Vec::new();
    // Search only where clues worth two points lie close enough together
    // for one term to see them all (starts within `2 * WINDOW + MAX_TERM`
    // and a clue's length of each other), around them: prose full of `he`
    // and `she` (one kind, one point) searches nothing. Regions merged, so
    // they do not overlap.
    let span = 2 * WINDOW + MAX_TERM + clues::LONGEST;
    let mut regions: Vec<(usize, usize)> = Vec::new();
    for (i, c) in clues.iter().enumerate() {
        let mut kinds = 0;
        let mut last = c.end;
        let mut k = i;
        while k < clues.len() && clues[k].start <= c.start + span {
            kinds |= clues[k].kind;
            last = last.max(clues[k].end);
            k += 1;
        }
        if points(kinds & !clues::READER) < 2 {
            continue;
        }
        let lo = c.start.saturating_sub(REACH);
        let hi = (last + REACH).min(lower.len());
        match regions.last_mut() {
            Some(r) if lo <= r.1 => r.1 = r.1.max(hi),
            _ => regions.push((lo, hi)),
        }
    }
    for (lo, hi) in regions {
        // Regions do not overlap: a term lies in one of them.
        for m in terms
            .ac
            .find_overlapping_iter(Input::new(lower).range(lo..hi))
        {
            let (s, e) = (m.start(), m.end());
            if (s > 0 && word(lower[s - 1])) || (e < lower.len() && word(lower[e])) {
                continue;
            }
            found.push((s, e, terms.tags[m.pattern().as_usize()].dict));
        }
    }
    // Longest first at each start, then no overlaps.
    found.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
    let mut last_end = 0;
    for (s, e, dict) in found {
        if s < last_end {
            continue;
        }
        last_end = e;
        let det = match dict {
            Dict::Medication => medication,
            Dict::Diagnosis => diagnosis,
        };
        let Some(det) = det else { continue };
        let p = points(kinds_near(clues, s, e, WINDOW));
        if p < 2 {
            continue;
        }
        out.push(Raw {
            det,
            start: s,
            end: e,
            confidence: if p >= 3 {
                Confidence::High
            } else {
                Confidence::Medium
            },
            ctx: true,
        });
    }
}

/// The category of a matched term (`value`: the finding's normalised
/// text), for its evidence.
pub(crate) fn category_of(value: &str) -> String {
    Terms::get()
        .tag_of(&value.to_ascii_lowercase())
        .map(|t| t.describe())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests;
