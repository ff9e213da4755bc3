//! Patient context: the clues that a text is about a patient, not about
//! medicine in general.
//!
//! A drug or condition name is health data when it is about someone: in a
//! clinical note, a discharge letter, a prescription. The same names fill
//! news articles, drug price lists and encyclopaedia pages. So a dictionary
//! term is reported only when clues add up within [`WINDOW`] bytes of it.
//! Each kind of clue counts once, however often it occurs:
//!
//! - **record** clues (2 points): what only a patient's record holds:
//!   `MRN`, `DOB`, `date of birth`, `medical record`, `year-old`, `y/o`,
//!   `chief complaint`, `history of present illness`, `past medical
//!   history`, `admitted`, `discharged`, and the section headings of
//!   clinical notes with their colon (`assessment:`, `impression:`,
//!   `medications:`, `allergies:`, `diagnosis:`, `review of systems:`...);
//! - **patient** (1 point): `patient`, `patient's`, `pt` (the singular:
//!   news and health pages say `patients`; not after `a`, `any`, `each`,
//!   `every`: "if a patient has...");
//! - **person** (1 point): `he`, `she`, `his`, `her`, `him`, `Mr.`, `Mrs.`,
//!   `Ms.` (not in `he or she`, `his or her`: anyone);
//! - **clinical** (1 point): `diagnosed`, `dx`, `prescribed`,
//!   `history of`, `presents with`, `complains of`, `denies`, `status
//!   post`, `s/p`;
//! - **dose** (1 point): `mg`, `mcg`, `ml`, `units`, `tablet`, `capsule`,
//!   `dose`, `dosage`, `puffs`;
//! - **frequency** (1 point): `daily`, `b.i.d.`, `t.i.d.`, `q.d.`, `p.r.n.`,
//!   `at bedtime`, `by mouth`, `p.o.`, `twice a day`...
//!
//! - **reader** (minus 1 point): `you`, `your`: health pages and leaflets
//!   speak to their reader ("if you have diabetes"), notes about a
//!   patient do not.
//!
//! Two points report a term at `medium`, three or more at `high`. So
//! `metformin 500 mg tablets $4` (a price list: dose only) is not
//! reported, `metformin 500 mg b.i.d.` (a prescription: dose and frequency)
//! is; `diagnosed with hepatitis C` alone is not (news), `he was diagnosed
//! with hepatitis C` is (about a person), and so is any term under a
//! clinical note's `ASSESSMENT:` or next to `56-year-old`.

use std::sync::OnceLock;

use super::super::literals::LiteralSet;

/// Bytes on each side of a term searched for clues: about two lines of a
/// clinical note (a medication list under `the patient is on the
/// following medications:`).
pub(crate) const WINDOW: usize = 200;

/// The kinds of clue, by bit.
pub(crate) const RECORD: u8 = 1;
/// See [`RECORD`].
pub(crate) const PATIENT: u8 = 2;
/// See [`RECORD`].
pub(crate) const PERSON: u8 = 4;
/// See [`RECORD`].
pub(crate) const CLINICAL: u8 = 8;
/// See [`RECORD`].
pub(crate) const DOSE: u8 = 16;
/// See [`RECORD`].
pub(crate) const FREQUENCY: u8 = 32;
/// See [`RECORD`] (counts against).
pub(crate) const READER: u8 = 64;

/// Record clues (lower-case, whole words).
pub(crate) const RECORD_WORDS: &[&str] = &[
    "mrn",
    "dob",
    "d.o.b",
    "date of birth",
    "medical record",
    "year-old",
    "year old",
    "y/o",
    "chief complaint",
    "history of present illness",
    "past medical history",
    "hpi",
    "pmh",
    "admitted",
    "discharged",
    "discharge diagnosis",
    "admission diagnosis",
    "preoperative diagnosis",
    "postoperative diagnosis",
    "assessment:",
    "impression:",
    "medications:",
    "current medications:",
    "allergies:",
    "diagnosis:",
    "diagnoses:",
    "subjective:",
    "objective:",
    "physical examination:",
    "physical exam:",
    "review of systems:",
    "hospital course:",
    "reason for visit:",
    "reason for exam:",
    "indication:",
    "indications:",
    "assessment and plan:",
];
/// Patient clues.
pub(crate) const PATIENT_WORDS: &[&str] = &["patient", "patient's", "pt"];
/// Person clues.
pub(crate) const PERSON_WORDS: &[&str] = &["he", "she", "his", "her", "him", "mr.", "mrs.", "ms."];
/// Clinical clues.
pub(crate) const CLINICAL_WORDS: &[&str] = &[
    "diagnosed",
    "dx",
    "prescribed",
    "history of",
    "presents with",
    "presented with",
    "complains of",
    "denies",
    "status post",
    "s/p",
];
/// Reader clues.
pub(crate) const READER_WORDS: &[&str] = &["you", "your", "yours"];
/// Dose clues.
pub(crate) const DOSE_WORDS: &[&str] = &[
    "mg", "mcg", "ml", "units", "tablet", "tablets", "capsule", "capsules", "dose", "dosage",
    "puffs",
];
/// Frequency clues.
pub(crate) const FREQUENCY_WORDS: &[&str] = &[
    "daily",
    "nightly",
    "b.i.d",
    "bid",
    "t.i.d",
    "tid",
    "q.i.d",
    "qid",
    "q.d",
    "qd",
    "qhs",
    "q.h.s",
    "prn",
    "p.r.n",
    "p.o",
    "po",
    "by mouth",
    "at bedtime",
    "once a day",
    "twice a day",
    "three times a day",
    "every morning",
    "every evening",
];

/// Every clue word and its kind, with a literal set over them.
pub(crate) struct Clues {
    set: LiteralSet,
    kinds: Vec<u8>,
    words: Vec<&'static str>,
}

impl std::fmt::Debug for Clues {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Clues({} words)", self.words.len())
    }
}

/// One clue occurrence: its span and kind.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Clue {
    pub start: usize,
    pub end: usize,
    pub kind: u8,
}

impl Clues {
    /// The clue set (built once per process, on first use).
    pub fn get() -> &'static Clues {
        static CLUES: OnceLock<Clues> = OnceLock::new();
        CLUES.get_or_init(|| {
            let mut words = Vec::new();
            let mut kinds = Vec::new();
            for (list, kind) in [
                (RECORD_WORDS, RECORD),
                (PATIENT_WORDS, PATIENT),
                (PERSON_WORDS, PERSON),
                (READER_WORDS, READER),
                (CLINICAL_WORDS, CLINICAL),
                (DOSE_WORDS, DOSE),
                (FREQUENCY_WORDS, FREQUENCY),
            ] {
                for w in list {
                    words.push(*w);
                    kinds.push(kind);
                }
            }
            let set =
                LiteralSet::new(&words, true).unwrap_or_else(|e| panic!("health clue words: {e}"));
            Clues { set, kinds, words }
        })
    }

    /// Every whole-word clue in `lower` (ASCII lower-cased text), in order
    /// of start. A word ending in `.` needs no boundary after it; `mg`
    /// also counts right after a digit (`500mg`).
    pub fn find(&self, lower: &[u8]) -> Vec<Clue> {
        let mut out = Vec::new();
        let word = |b: u8| b.is_ascii_alphanumeric();
        self.set.for_each(lower, 0, lower.len(), |m| {
            let (s, e) = (m.start(), m.end());
            let id = m.pattern().as_usize();
            let kind = self.kinds[id];
            let before_ok =
                s == 0 || !word(lower[s - 1]) || (kind == DOSE && lower[s - 1].is_ascii_digit());
            let after_ok = e >= lower.len() || !word(lower[e]) || !word(lower[e - 1]);
            let generic = match kind {
                PATIENT => generic_before(lower, s),
                PERSON => either_or(lower, s, e),
                _ => false,
            };
            if before_ok && after_ok && !generic {
                out.push(Clue {
                    start: s,
                    end: e,
                    kind,
                });
            }
        });
        out
    }
}

/// Whether the word ending just before `s` (one space between) makes the
/// patient a generic one: `a`, `any`, `each`, `every`.
fn generic_before(lower: &[u8], s: usize) -> bool {
    let head = &lower[..s];
    ["a ", "any ", "each ", "every "].iter().any(|w| {
        head.ends_with(w.as_bytes()) && {
            let b = head.len() - w.len();
            b == 0 || !head[b - 1].is_ascii_alphanumeric()
        }
    })
}

/// Whether the pronoun at `s..e` is one side of `he or she`, `his or
/// her`, `him or her` (either order): anyone.
fn either_or(lower: &[u8], s: usize, e: usize) -> bool {
    lower[e..].starts_with(b" or ") || lower[..s].ends_with(b" or ")
}

/// The kinds of clue (bits) wholly within `window` bytes before `start` or
/// after `end`; `clues` sorted by start.
pub(crate) fn kinds_near(clues: &[Clue], start: usize, end: usize, window: usize) -> u8 {
    let lo = start.saturating_sub(window);
    let hi = end.saturating_add(window);
    let first = clues.partition_point(|c| c.start < lo);
    let mut kinds = 0;
    for c in &clues[first..] {
        if c.start >= hi {
            break;
        }
        let before = c.end <= start;
        let after = c.start >= end;
        if (before || after) && c.end <= hi {
            kinds |= c.kind;
        }
    }
    kinds
}

/// Points of a set of clue kinds: a record clue 2, a reader clue -1,
/// every other kind 1.
pub(crate) fn points(kinds: u8) -> u32 {
    let mut p = 0;
    if kinds & RECORD != 0 {
        p += 2;
    }
    p += (kinds & !RECORD & !READER).count_ones();
    if kinds & READER != 0 {
        p = p.saturating_sub(1);
    }
    p
}
