//! Unit tests of the clue rules and the dictionary search. The sentences
//! here are written for the tests (mechanics, not quality: quality is
//! measured on public text in `tests/health.rs`).

use super::clues::{self, Clues};
use super::*;

/// The findings of both detectors (0 = medication, 1 = diagnosis).
fn found(text: &str) -> Vec<(usize, String, Confidence)> {
    let lower = text.to_ascii_lowercase();
    let mut out = Vec::new();
    scan(lower.as_bytes(), Some(0), Some(1), &mut out);
    out.iter()
        .map(|r| (r.det, text[r.start..r.end].to_string(), r.confidence))
        .collect()
}

#[test]
fn a_price_list_needs_more_than_a_dose() {
    assert!(found("Metformin 500 mg tablets (60) $4.00").is_empty());
    assert_eq!(
        found("Metformin 500 mg p.o. b.i.d."),
        vec![(0, "Metformin".to_string(), Confidence::Medium)]
    );
}

#[test]
fn clues_add_up() {
    // One clinical word: news.
    assert!(found("Millions are diagnosed with hepatitis C every year.").is_empty());
    // A person and a clinical word: about someone.
    assert_eq!(
        found("He was diagnosed with hepatitis C in 2019.")[0],
        (1, "hepatitis C".to_string(), Confidence::Medium)
    );
    // A record clue, a person and a clinical word.
    assert_eq!(
        found("MRN 448812. She was diagnosed with hepatitis C.")[0].2,
        Confidence::High
    );
    // `a patient` is anyone.
    assert!(found("If a patient has asthma, see a doctor.").is_empty());
    assert_eq!(found("The patient has asthma, diagnosed in May.").len(), 1);
    // Too far: more than the window from every clue.
    let far = format!("The patient was seen. {} Asthma.", "x ".repeat(150));
    assert!(found(&far).is_empty());
}

#[test]
fn the_longest_whole_word_term_wins() {
    let f = found("Patient is a 60-year-old with chronic viral hepatitis C.");
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0].1, "chronic viral hepatitis C");
    // Not inside a longer word.
    assert!(found("The patient, a 60-year-old: asthmatic2 hypertensionx").is_empty());
}

#[test]
fn clue_words_fit_the_bound() {
    let words = [
        clues::RECORD_WORDS,
        clues::PATIENT_WORDS,
        clues::PERSON_WORDS,
        clues::CLINICAL_WORDS,
        clues::READER_WORDS,
        clues::DOSE_WORDS,
        clues::FREQUENCY_WORDS,
    ]
    .concat();
    assert!(words.iter().all(|w| w.len() <= clues::LONGEST));
    assert!(words.iter().all(|w| *w == w.to_ascii_lowercase()));
    // Each is looked up by its first word, packed in 16 bytes.
    for w in &words {
        let first = w
            .split(|c: char| !c.is_ascii_alphanumeric())
            .next()
            .unwrap();
        assert!(!first.is_empty() && first.len() <= 16, "{w}");
        // The word walk skips words that start with a digit.
        assert!(w.as_bytes()[0].is_ascii_alphabetic(), "{w}");
    }
}

/// A term is found wherever its clues add up, however many single-kind
/// clues surround it (the search regions skip only what cannot fire).
#[test]
fn regions_skip_nothing_that_fires() {
    let filler = "he said she would call his office. ".repeat(40);
    for text in [
        format!("{filler}The patient has asthma. {filler}"),
        format!("{filler}asthma{} MRN 12. {filler}", " x".repeat(90)),
        format!("MRN 12{} asthma {filler}", " x".repeat(90)),
        format!("{filler}metformin 500 mg{} daily", " x".repeat(95)),
    ] {
        assert_eq!(found(&text).len(), 1, "{text}");
    }
}

#[test]
fn clue_words_are_whole_words() {
    let c = Clues::get();
    let kinds = |t: &str| c.find(t.as_bytes()).iter().fold(0, |k, x| k | x.kind);
    assert_eq!(kinds("shed the lamp"), 0);
    assert_eq!(kinds("500mg daily"), clues::DOSE | clues::FREQUENCY);
    assert_eq!(kinds("assessment: stable"), clues::RECORD);
    assert_eq!(kinds("self-assessment of the plan"), 0);
    assert_eq!(kinds("any patient"), 0);
    assert_eq!(kinds("the patient"), clues::PATIENT);
}

/// The word-mask walk against the byte-by-byte one, on random texts of
/// clue words (every one, in pieces and glued to others), digits, dose
/// units after numbers, punctuation and non-ASCII bytes, words running
/// across 64-byte blocks and the end of the text.
#[test]
fn the_word_walk_finds_what_a_byte_walk_finds() {
    let c = Clues::get();
    let words = super::context_words();
    let others = [
        "the",
        "and",
        "as",
        "be",
        "data",
        "there",
        "x",
        "q",
        "hex",
        "500",
        "12mg",
        "3.5",
        "a1b2",
        "abcdefghijklmnopqrstuvwxyz0123456789",
        "hEr",
        "MG",
        "é",
        "\u{4e2d}",
    ];
    let seps = [" ", " ", ", ", ".", "-", "/", ":", "\n", "'", "", "(", "\t"];
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n as u64) as usize
    };
    let key = |v: &[clues::Clue]| {
        v.iter()
            .map(|x| (x.start, x.end, x.kind))
            .collect::<Vec<_>>()
    };
    let mut seen = 0;
    for round in 0..600 {
        let mut text = String::new();
        let len = next(400);
        while text.len() < len {
            match next(3) {
                0 => text.push_str(&words[next(words.len())]),
                _ => text.push_str(others[next(others.len())]),
            }
            text.push_str(seps[next(seps.len())]);
        }
        if round % 3 == 0 {
            // End inside a word.
            text.push_str(&words[next(words.len())]);
        }
        let lower = text.to_ascii_lowercase();
        let got = c.find(lower.as_bytes());
        seen += got.len();
        assert_eq!(
            key(&got),
            key(&c.find_bytewise(lower.as_bytes())),
            "{text:?}"
        );
    }
    assert!(seen > 1000, "{seen} clues");
    // Every length of a text of one long word and of alternating bytes.
    for n in 0..200 {
        for text in ["x".repeat(n), "he ".repeat(n), "5mg,".repeat(n)] {
            let t = &text[..n.min(text.len())];
            assert_eq!(
                key(&c.find(t.as_bytes())),
                key(&c.find_bytewise(t.as_bytes())),
                "{t:?}"
            );
        }
    }
}

#[test]
fn dictionaries_load_and_terms_fit_the_bounds() {
    let t = Terms::get();
    assert!(
        t.count(Dict::Medication) > 8_000,
        "{}",
        t.count(Dict::Medication)
    );
    assert!(
        t.count(Dict::Diagnosis) > 10_000,
        "{}",
        t.count(Dict::Diagnosis)
    );
    for term in [
        "type 2 diabetes mellitus",
        "major depressive disorder",
        "hepatitis c",
        "essential hypertension",
    ] {
        assert_eq!(
            t.tag_of(term).map(|t| t.dict),
            Some(Dict::Diagnosis),
            "{term}"
        );
    }
    for term in ["metformin", "lisinopril", "ozempic", "sertraline"] {
        assert_eq!(
            t.tag_of(term).map(|t| t.dict),
            Some(Dict::Medication),
            "{term}"
        );
    }
    assert_eq!(
        t.tag_of("metformin").map(|t| t.describe()),
        Some("generic name".into())
    );
    assert_eq!(
        t.tag_of("prozac").map(|t| t.describe()),
        Some("brand name".into())
    );
    assert_eq!(
        t.tag_of("ozempic").map(|t| t.describe()),
        Some("brand or other name".into())
    );
    // Ambiguous words removed by the generator (see `dropped.txt`).
    assert!(t.tag_of("generics").is_none());
    // Every term is shorter than the bound the search windows assume.
    assert_eq!(t.ac.patterns_len(), t.tags.len());
    assert!(
        t.ac.max_pattern_len() <= MAX_TERM,
        "{}",
        t.ac.max_pattern_len()
    );
}

#[test]
fn nothing_selected_finds_nothing() {
    let mut out = Vec::new();
    scan(
        b"the patient takes metformin 500 mg daily",
        None,
        None,
        &mut out,
    );
    assert!(out.is_empty());
    // One detector selected: only its findings.
    scan(
        b"the patient takes metformin 500 mg daily for asthma",
        None,
        Some(7),
        &mut out,
    );
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].det, 7);
}

/// Reading clues only near strong ones (a literal set's pass, then the
/// word walk in spans around its hits) reports what reading every clue
/// reports: random texts of terms, clue words of every kind (strong ones
/// rare, person and reader ones common, glued to digits and other words),
/// and filler of random lengths, so that strong clues fall near, at and
/// past the edges of each other's spans.
#[test]
fn clues_near_strong_ones_report_what_all_clues_report() {
    let clue_words = super::context_words();
    let strong: Vec<&String> = clue_words
        .iter()
        .filter(|w| {
            ![clues::PERSON_WORDS, clues::READER_WORDS]
                .concat()
                .contains(&w.as_str())
        })
        .collect();
    let common = [clues::PERSON_WORDS, clues::READER_WORDS].concat();
    let terms = [
        "asthma",
        "metformin",
        "hepatitis c",
        "chronic viral hepatitis c",
        "type 2 diabetes mellitus",
        "lisinopril",
        "Asthma",
    ];
    let filler = [
        "the", "data", "was", "fine", "12", "500", "x", "é", "report",
    ];
    let seps = [" ", " ", ", ", ". ", "\n", ":", "-", ""];
    let mut state = 0x51A3_77C0_0FEE_D00Du64;
    let mut next = |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n.max(1) as u64) as usize
    };
    let (mut reported, mut quiet) = (0, 0);
    for round in 0..300 {
        let len = [300, 1500, 4000][round % 3];
        let mut text = String::new();
        while text.len() < len {
            match next(40) {
                0 => text.push_str(strong[next(strong.len())]),
                1..=3 => text.push_str(terms[next(terms.len())]),
                4..=9 => text.push_str(common[next(common.len())]),
                10 => text.push_str(&" lorem".repeat(next(120))),
                _ => text.push_str(filler[next(filler.len())]),
            }
            text.push_str(seps[next(seps.len())]);
        }
        let lower = text.to_ascii_lowercase();
        let key = |v: &[Raw]| {
            v.iter()
                .map(|r| (r.det, r.start, r.end, r.confidence))
                .collect::<Vec<_>>()
        };
        let (mut near, mut all) = (Vec::new(), Vec::new());
        scan(lower.as_bytes(), Some(0), Some(1), &mut near);
        scan_everywhere(lower.as_bytes(), Some(0), Some(1), &mut all);
        assert_eq!(key(&near), key(&all), "{text:?}");
        if all.is_empty() {
            quiet += 1;
        } else {
            reported += all.len();
        }
    }
    assert!(
        reported > 300 && quiet > 20,
        "{reported} reported, {quiet} quiet"
    );
}
