//! The predefined detectors: ids, descriptions, validation, context words and
//! confidence rules, as one table.
//!
//! Confidence per detector is a [`Score`]: what a bare match is worth (or
//! `None` when the detector needs a context word at all) and what it is worth
//! with a context word within the window. The rules, in short:
//! - self-identifying values (token prefixes, PEM headers, IBAN + mod-97,
//!   brand + Luhn card numbers in groups, fiscal codes) are `high` bare;
//! - distinctive formats with a checksum (`123-45-6789`, `AB123456C`) are
//!   `medium` bare and `high` with context;
//! - bare digit runs that merely pass a checksum (a 9-digit BSN, a 10-digit
//!   NHS number) are `low` bare and `high` with context, because one random
//!   number in ten passes Luhn;
//! - context-only detectors (routing numbers, bank accounts, dates of birth,
//!   ICD-10 codes, passport numbers, SWIFT codes, AWS secrets) report nothing
//!   without a context word.

use super::token::{Cand, Class};
use super::types::{Category, Confidence};
use super::validators as v;
use Confidence::{High, Low, Medium};

/// Confidence of a match without and with a nearby context word.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Score {
    /// Confidence of a bare match; `None` = discard without context.
    pub bare: Option<Confidence>,
    /// Confidence when a context word is within the window.
    pub ctx: Confidence,
}

const fn s(bare: Confidence, ctx: Confidence) -> Option<Score> {
    Some(Score {
        bare: Some(bare),
        ctx,
    })
}
const fn ctx_only(ctx: Confidence) -> Option<Score> {
    Some(Score { bare: None, ctx })
}

/// The candidates a token detector can accept: compact length range, word
/// counts (empty = any) and the character classes it takes. The engine
/// indexes detectors by it, so a candidate only meets the detectors that
/// could take it, usually before it is even built; it must be a superset of
/// what the detector's function accepts (a test checks this).
#[derive(Clone, Copy, Debug)]
pub struct Shape {
    /// Smallest and largest compact length (alphanumerics).
    pub len: (usize, usize),
    /// The same for a candidate that starts with `+` (E.164 phone numbers
    /// are 8-15 digits, national ones 10-12).
    pub plus_len: (usize, usize),
    /// Accepted word counts; empty for any.
    pub words: &'static [usize],
    /// Accepted character classes.
    pub chars: Chars,
    /// Separators the detector may accept between words ([`Class`]
    /// separator bits; [`Class::SEPS`] for any).
    pub seps: u16,
}

/// Which candidate [`Class`]es a token detector can take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Chars {
    /// Any candidate.
    Any,
    /// Digits only (national numbers, phones, dates, addresses).
    Digits,
    /// Digits only, without a leading `+` (card numbers).
    DigitsNoPlus,
    /// Digits only, or a letter first (a passport number).
    DigitsOrLetterFirst,
    /// Holds a letter (a DNI's check letter).
    NotDigits,
    /// Holds a letter, none lower-case (a Medicare MBI).
    NotDigitsUpper,
    /// A letter first (an NRIC's S/T/F/G/M).
    LetterFirst,
    /// A letter first, none lower-case (an ICD-10 code).
    LetterFirstUpper,
    /// Two letters first (an IBAN's country, a NINO's prefix).
    Alpha2,
    /// Two letters first, none lower-case (an Indian PAN).
    Alpha2Upper,
}

impl Chars {
    /// Whether a candidate of class `c` may match.
    pub fn admits(self, c: Class) -> bool {
        let digits = !c.has(Class::LETTERS);
        let upper = !c.has(Class::LOWER);
        match self {
            Chars::Any => true,
            Chars::Digits => digits,
            Chars::DigitsNoPlus => digits && !c.has(Class::PLUS),
            Chars::DigitsOrLetterFirst => digits || c.has(Class::LETTER_FIRST),
            Chars::NotDigits => !digits,
            Chars::NotDigitsUpper => !digits && upper,
            Chars::LetterFirst => c.has(Class::LETTER_FIRST),
            Chars::LetterFirstUpper => c.has(Class::LETTER_FIRST) && upper,
            Chars::Alpha2 => c.has(Class::ALPHA2),
            Chars::Alpha2Upper => c.has(Class::ALPHA2) && upper,
        }
    }
}

impl Shape {
    /// Whether a candidate of `len` alphanumerics in `words` words, with
    /// a leading `+` or not, may match.
    pub fn admits(&self, len: usize, words: usize, plus: bool) -> bool {
        let range = if plus { self.plus_len } else { self.len };
        (range.0..=range.1).contains(&len) && (self.words.is_empty() || self.words.contains(&words))
    }

    /// Whether a candidate of class `c` may match.
    pub fn admits_class(&self, c: Class) -> bool {
        self.chars.admits(c) && c.0 & Class::SEPS & !self.seps == 0
    }
}

/// The shape of each token detector's candidates.
fn token_shape(id: &str) -> Shape {
    const ONE: &[usize] = &[1];
    const ONE_THREE: &[usize] = &[1, 3];
    use Chars::*;
    const ANY: u16 = Class::SEPS;
    const SPACE: u16 = Class::SEP_SPACE;
    const DASH: u16 = Class::SEP_DASH;
    const DOT: u16 = Class::SEP_DOT;
    const SLASH: u16 = Class::SEP_SLASH;
    let (len, words, chars, seps): ((usize, usize), &'static [usize], Chars, u16) = match id {
        "credit_card" => ((13, 19), &[1, 2, 3, 4, 5, 6], DigitsNoPlus, SPACE | DASH),
        "iban" => ((15, 34), &[], Alpha2, SPACE),
        "us_bank_account" => ((8, 17), &[], Digits, DASH),
        "us_ssn" | "us_itin" | "ca_sin" => ((9, 9), ONE_THREE, Digits, SPACE | DASH),
        "nl_bsn" => ((9, 9), ONE_THREE, Digits, SPACE | DOT),
        "uk_nino" => ((9, 9), &[1, 3, 5], Alpha2, SPACE),
        "uk_nhs" => ((10, 10), ONE_THREE, Digits, SPACE | DASH),
        "au_tfn" => ((8, 9), ONE_THREE, Digits, SPACE | DASH),
        "in_aadhaar" => ((12, 12), ONE_THREE, Digits, SPACE | DASH),
        "fr_nir" => ((15, 15), &[1, 2, 7], Any, SPACE | DASH | DOT),
        "es_dni" => ((9, 9), &[1, 2], NotDigits, SPACE | DASH),
        "br_cpf" => ((11, 11), &[1, 4], Digits, DOT | DASH),
        "za_id" => ((13, 13), ONE_THREE, Digits, SPACE),
        "us_mbi" => ((11, 11), ONE_THREE, NotDigitsUpper, DASH),
        "phone_number" => ((10, 12), &[], Digits, ANY),
        "date_of_birth" => ((4, 12), &[3], Digits, DASH | DOT | SLASH),
        "ip_address" => ((4, 12), &[4], Digits, DOT),
        "icd10_code" => ((3, 7), &[1, 2], LetterFirstUpper, DOT),
        "aba_routing" => ((9, 9), ONE, Digits, ANY),
        "us_passport" => ((9, 9), ONE, DigitsOrLetterFirst, ANY),
        "sg_nric" => ((9, 9), ONE, LetterFirst, ANY),
        "us_dea" => ((9, 9), ONE, Alpha2, ANY),
        "in_pan" => ((10, 10), ONE, Alpha2Upper, ANY),
        "us_npi" => ((10, 10), ONE, Digits, ANY),
        "it_fiscal_code" => ((16, 16), ONE, Alpha2, ANY),
        "pl_pesel" => ((11, 11), ONE, Digits, ANY),
        // Unknown ids take every candidate (correct, just slower).
        _ => ((0, usize::MAX), &[], Any, ANY),
    };
    let plus_len = if id == "phone_number" { (8, 15) } else { len };
    Shape {
        len,
        plus_len,
        words,
        chars,
        seps,
    }
}

/// Detectors that report nothing without one of their context words near
/// (every score they give has no bare confidence; a test checks the token
/// ones). The engine skips them where no such word is near.
pub const CONTEXT_ONLY: [&str; 7] = [
    "aba_routing",
    "us_bank_account",
    "us_passport",
    "date_of_birth",
    "icd10_code",
    "swift_bic",
    "aws_secret_access_key",
];

/// How a predefined detector finds candidates.
pub enum Kind {
    /// Checked on the number-like candidates from the token pass that fit its [`Shape`].
    Token(fn(&Cand<'_>) -> Option<Score>, Shape),
    /// Found from a literal anchor: the regex runs on a window around each
    /// literal hit (`before`/`after` bytes) and matches must cover the hit.
    /// With `before` 0 the match starts at the hit; with `left`, it starts
    /// where the run of `left` bytes ending at the hit starts (at most
    /// `before` of them back). Either way one anchored search per hit;
    /// otherwise the regex searches the whole window.
    Anchored {
        /// Literals that every match contains (case-sensitive).
        literals: &'static [&'static str],
        /// Regex (ASCII, on normalised text).
        pattern: &'static str,
        /// Bytes a match may start before the literal.
        before: usize,
        /// The bytes a match holds before the literal, when every byte
        /// before the literal up to the match start is one of them.
        left: Option<fn(u8) -> bool>,
        /// A hand-written equivalent of the anchored search: given the
        /// text, the start, the hit and the range end, the match's end, no
        /// match, or `None` to run the regex.
        matcher: Option<AnchoredMatcher>,
        /// Bytes a match may extend after the literal.
        after: usize,
        /// Validator of the matched text.
        check: fn(&str) -> Option<Score>,
    },
    /// Found after a keyword (matched case-insensitively, whole word): the
    /// regex runs on the `after` bytes that follow it.
    Keyword {
        /// Keywords (lower-case).
        keywords: &'static [&'static str],
        /// Regex of the value.
        pattern: &'static str,
        /// Bytes after the keyword to search.
        after: usize,
        /// Validator of the matched text.
        check: fn(&str) -> Option<Score>,
    },
}

/// See [`Kind::Anchored`]'s `matcher`.
pub type AnchoredMatcher = fn(&str, usize, usize, usize) -> Option<Option<usize>>;

/// One predefined detector.
pub struct Predefined {
    /// Stable id.
    pub id: &'static str,
    /// Description.
    pub description: &'static str,
    /// Family (and predefined profile).
    pub category: Category,
    /// The validation applied.
    pub validation: &'static str,
    /// Context words (lower-case; matched case-insensitively, whole word).
    pub context: &'static [&'static str],
    /// How candidates are found.
    pub kind: Kind,
    /// How many leading/trailing characters evidence keeps.
    pub reveal: (usize, usize),
}

fn digits_n(c: &Cand<'_>, n: usize) -> bool {
    c.digits_only && c.compact.len() == n
}

/// Grouping like 3-2-4 with one kind of separator, or no separator.
fn grouped(c: &Cand<'_>, shape: &[usize], seps: &[&str]) -> bool {
    c.groups == shape
        && c.seps.iter().all(|x| seps.contains(x))
        && c.seps.windows(2).all(|w| w[0] == w[1])
}

fn plain_or_grouped(c: &Cand<'_>, shape: &[usize], seps: &[&str]) -> Option<bool> {
    if c.single() {
        Some(false)
    } else if grouped(c, shape, seps) {
        Some(true)
    } else {
        None
    }
}

fn credit_card(c: &Cand<'_>) -> Option<Score> {
    if !c.digits_only || !(13..=19).contains(&c.compact.len()) || c.plus {
        return None;
    }
    if !c.seps_space_dash() {
        return None;
    }
    // Groups of 3-6 (4-4-4-4, 4-6-5, Diners 4-6-4, UATP 4-5-6), or fours
    // with a short tail (Diners 4-4-4-2, 19 digits as 4-4-4-4-3).
    let g = &c.groups;
    let fours_tail = g.len() >= 3
        && g[..g.len() - 1].iter().all(|&x| x == 4)
        && (1..=4).contains(&g[g.len() - 1]);
    let grouped = !c.single() && (g.iter().all(|&x| (3..=6).contains(&x)) || fours_tail);
    // OCR often drops a space between groups: `41111111 11111111`,
    // `4111 11111111 1111`, `3782822463 10005` are a 4-4-4-4 or 4-6-5
    // number with groups merged. Read like a number without separators.
    let merged = merged_groups(g, &[4, 4, 4, 4]) || merged_groups(g, &[4, 6, 5]);
    if !(c.single() || grouped || merged) {
        return None;
    }
    v::credit_card(&c.compact).then_some(())?;
    if c.compact.starts_with('1') && !grouped {
        // UATP: 15 digits starting with 1 and Luhn are also one French NIR
        // in ten (`186018990877753`): bare, only low without a card word.
        s(Low, High)
    } else if grouped {
        s(High, High)
    } else {
        s(Medium, High)
    }
}

/// Whether `groups` is `layout` with some neighbouring groups merged (and
/// at least two groups left).
fn merged_groups(groups: &[usize], layout: &[usize]) -> bool {
    if groups.len() < 2 || groups.len() >= layout.len() {
        return false;
    }
    let mut k = 0;
    for &g in groups {
        let mut sum = 0;
        while sum < g && k < layout.len() {
            sum += layout[k];
            k += 1;
        }
        if sum != g {
            return false;
        }
    }
    k == layout.len()
}

fn iban(c: &Cand<'_>) -> Option<Score> {
    if c.compact.len() < 15
        || !c.compact.as_bytes()[..2]
            .iter()
            .all(u8::is_ascii_alphabetic)
    {
        return None;
    }
    if !(c.single() || c.seps_all(" ") && c.groups[..c.groups.len() - 1].iter().all(|&g| g == 4)) {
        return None;
    }
    v::iban(&c.compact).then_some(())?;
    s(High, High)
}

fn aba_routing(c: &Cand<'_>) -> Option<Score> {
    (digits_n(c, 9) && c.single() && v::aba_routing(&c.compact)).then_some(())?;
    ctx_only(High)
}

fn us_bank_account(c: &Cand<'_>) -> Option<Score> {
    (c.digits_only && (8..=17).contains(&c.compact.len()) && (c.single() || c.seps_all("-")))
        .then_some(())?;
    ctx_only(Medium)
}

fn us_ssn(c: &Cand<'_>) -> Option<Score> {
    if !digits_n(c, 9) || !v::us_ssn(&c.compact) {
        return None;
    }
    if plain_or_grouped(c, &[3, 2, 4], &["-", " "])? {
        s(Medium, High)
    } else {
        s(Low, High)
    }
}

fn us_itin(c: &Cand<'_>) -> Option<Score> {
    if !digits_n(c, 9) || !v::us_itin(&c.compact) {
        return None;
    }
    if plain_or_grouped(c, &[3, 2, 4], &["-", " "])? {
        s(Medium, High)
    } else {
        s(Low, High)
    }
}

fn us_passport(c: &Cand<'_>) -> Option<Score> {
    let b = c.compact.as_bytes();
    let ok = c.single()
        && b.len() == 9
        && (c.digits_only || (b[0].is_ascii_alphabetic() && b[1..].iter().all(u8::is_ascii_digit)));
    ok.then_some(())?;
    ctx_only(Medium)
}

fn uk_nino(c: &Cand<'_>) -> Option<Score> {
    let b = c.compact.as_bytes();
    if b.len() != 9
        || !(c.single() || grouped(c, &[2, 2, 2, 2, 1], &[" "]) || grouped(c, &[2, 6, 1], &[" "]))
    {
        return None;
    }
    let first_ok = |x: u8| x.is_ascii_uppercase() && !b"DFIQUV".contains(&x);
    let second_ok = |x: u8| x.is_ascii_uppercase() && !b"DFIQUVO".contains(&x);
    let prefix = &c.compact[..2];
    let ok = first_ok(b[0])
        && second_ok(b[1])
        && !["BG", "GB", "NK", "KN", "TN", "NT", "ZZ"].contains(&prefix)
        && b[2..8].iter().all(u8::is_ascii_digit)
        && (b'A'..=b'D').contains(&b[8]);
    ok.then_some(())?;
    s(Medium, High)
}

fn uk_nhs(c: &Cand<'_>) -> Option<Score> {
    if !digits_n(c, 10) || !v::uk_nhs(&c.compact) {
        return None;
    }
    plain_or_grouped(c, &[3, 3, 4], &[" ", "-"])?;
    s(Low, High)
}

fn ca_sin(c: &Cand<'_>) -> Option<Score> {
    if !digits_n(c, 9) || !v::ca_sin(&c.compact) {
        return None;
    }
    plain_or_grouped(c, &[3, 3, 3], &[" ", "-"])?;
    s(Low, High)
}

fn au_tfn(c: &Cand<'_>) -> Option<Score> {
    if !c.digits_only || !(8..=9).contains(&c.compact.len()) || !v::au_tfn(&c.compact) {
        return None;
    }
    if !(c.single() || grouped(c, &[3, 3, 3], &[" ", "-"]) || grouped(c, &[3, 3, 2], &[" ", "-"])) {
        return None;
    }
    s(Low, High)
}

fn in_aadhaar(c: &Cand<'_>) -> Option<Score> {
    if !digits_n(c, 12) || !v::in_aadhaar(&c.compact) {
        return None;
    }
    if plain_or_grouped(c, &[4, 4, 4], &[" ", "-"])? {
        s(Medium, High)
    } else {
        s(Low, High)
    }
}

fn in_pan(c: &Cand<'_>) -> Option<Score> {
    let b = c.compact.as_bytes();
    let ok = c.single()
        && b.len() == 10
        && b[..3].iter().all(u8::is_ascii_uppercase)
        && b"ABCFGHLJPT".contains(&b[3])
        && b[4].is_ascii_uppercase()
        && b[5..9].iter().all(u8::is_ascii_digit)
        && b[9].is_ascii_uppercase()
        && c.raw.bytes().all(|x| !x.is_ascii_lowercase());
    ok.then_some(())?;
    s(Medium, High)
}

fn fr_nir(c: &Cand<'_>) -> Option<Score> {
    if c.compact.len() != 15 || !v::fr_nir(&c.compact) {
        return None;
    }
    if !(c.single()
        || grouped(c, &[1, 2, 2, 2, 3, 3, 2], &[" ", "-", "."])
        || grouped(c, &[13, 2], &[" "]))
    {
        return None;
    }
    s(Medium, High)
}

fn es_dni(c: &Cand<'_>) -> Option<Score> {
    let b = c.compact.as_bytes();
    if b.len() != 9
        || !b[8].is_ascii_alphabetic()
        || !(c.single() || grouped(c, &[8, 1], &["-", " "]))
        || !v::es_dni(&c.compact)
    {
        return None;
    }
    s(Medium, High)
}

fn it_fiscal_code(c: &Cand<'_>) -> Option<Score> {
    let b = c.compact.as_bytes();
    let shape = b.len() == 16
        && b[..6].iter().all(u8::is_ascii_alphabetic)
        && b[6..8].iter().all(u8::is_ascii_alphanumeric)
        && b[8].is_ascii_alphabetic()
        && b[15].is_ascii_alphabetic();
    (c.single() && shape && v::it_fiscal_code(&c.compact)).then_some(())?;
    s(High, High)
}

fn nl_bsn(c: &Cand<'_>) -> Option<Score> {
    if !digits_n(c, 9) || !v::nl_bsn(&c.compact) {
        return None;
    }
    if !(c.single() || grouped(c, &[4, 2, 3], &[".", " "]) || grouped(c, &[3, 3, 3], &[".", " "])) {
        return None;
    }
    s(Low, High)
}

fn br_cpf(c: &Cand<'_>) -> Option<Score> {
    if !digits_n(c, 11) || !v::br_cpf(&c.compact) {
        return None;
    }
    if c.single() {
        return s(Low, High);
    }
    (c.groups == [3, 3, 3, 2] && c.seps[0] == "." && c.seps[1] == "." && c.seps[2] == "-")
        .then_some(())?;
    s(Medium, High)
}

fn sg_nric(c: &Cand<'_>) -> Option<Score> {
    (c.single() && c.compact.len() == 9 && v::sg_nric(&c.compact)).then_some(())?;
    s(Medium, High)
}

fn za_id(c: &Cand<'_>) -> Option<Score> {
    (digits_n(c, 13) && (c.single() || grouped(c, &[6, 4, 3], &[" "])) && v::za_id(&c.compact))
        .then_some(())?;
    s(Low, High)
}

fn pl_pesel(c: &Cand<'_>) -> Option<Score> {
    (digits_n(c, 11) && c.single() && v::pl_pesel(&c.compact)).then_some(())?;
    s(Low, High)
}

fn phone_number(c: &Cand<'_>) -> Option<Score> {
    if !c.digits_only {
        return None;
    }
    let n = c.compact.len();
    if c.plus {
        // E.164: up to 15 digits, country code does not start with 0.
        if !(8..=15).contains(&n) || c.compact.starts_with('0') {
            return None;
        }
        return s(Medium, High);
    }
    if !(10..=12).contains(&n) || c.single() {
        return if c.single() && n == 10 && !c.compact.starts_with('0') {
            ctx_only(Medium)
        } else {
            None
        };
    }
    // National formats: (555) 123-4567, 555-123-4567, 555.123.4567, 020 7946 0958.
    let nanp = c.groups == [3, 3, 4]
        && (c.raw.starts_with('(') || c.seps.windows(2).all(|w| w[0] == w[1]))
        && !c.compact.starts_with('0')
        && !c.compact.starts_with('1');
    let intl = c.groups.len() >= 3
        && c.groups.len() <= 5
        && c.groups.iter().all(|&g| (2..=5).contains(&g))
        && c.seps_all(" ")
        && c.compact.starts_with('0');
    if nanp {
        s(Low, High)
    } else if intl {
        ctx_only(Medium)
    } else {
        None
    }
}

fn date_of_birth(c: &Cand<'_>) -> Option<Score> {
    if !c.digits_only
        || c.groups.len() != 3
        || !(c.seps_all("/") || c.seps_all("-") || c.seps_all("."))
    {
        return None;
    }
    let parts: Vec<u32> = {
        let mut out = Vec::new();
        let mut off = 0;
        for &g in &c.groups {
            out.push(c.compact[off..off + g].parse().ok()?);
            off += g;
        }
        out
    };
    let (y, m, d) = if c.groups[0] == 4 {
        (parts[0], parts[1], parts[2])
    } else if c.groups[2] == 4 || c.groups[2] == 2 {
        // Day/month order is ambiguous; accept either.
        let (a, b) = (parts[0], parts[1]);
        let (m, d) = if a <= 12 { (a, b) } else { (b, a) };
        (parts[2], m, d)
    } else {
        return None;
    };
    let year_ok = (1900..=2030).contains(&y) || (c.groups[2] == 2 && y <= 99);
    (year_ok && (1..=12).contains(&m) && (1..=31).contains(&d) && c.groups.iter().all(|&g| g <= 4))
        .then_some(())?;
    ctx_only(High)
}

fn ip_address(c: &Cand<'_>) -> Option<Score> {
    if !c.digits_only || c.groups.len() != 4 || !c.seps_all(".") || c.groups.iter().any(|&g| g > 3)
    {
        return None;
    }
    let mut off = 0;
    for &g in &c.groups {
        let part = &c.compact[off..off + g];
        if part.parse::<u32>().ok()? > 255 || (g > 1 && part.starts_with('0')) {
            return None;
        }
        off += g;
    }
    s(Medium, High)
}

fn us_npi(c: &Cand<'_>) -> Option<Score> {
    (digits_n(c, 10) && c.single() && v::us_npi(&c.compact)).then_some(())?;
    s(Low, High)
}

fn us_dea(c: &Cand<'_>) -> Option<Score> {
    (c.single()
        && c.compact.len() == 9
        && c.raw.bytes().take(2).all(|b| b.is_ascii_uppercase())
        && v::us_dea(&c.compact))
    .then_some(())?;
    s(Medium, High)
}

fn us_mbi(c: &Cand<'_>) -> Option<Score> {
    (c.compact.len() == 11
        && (c.single() || grouped(c, &[4, 3, 4], &["-"]))
        && !c.raw.bytes().any(|b| b.is_ascii_lowercase())
        && v::us_mbi(&c.compact))
    .then_some(())?;
    s(Medium, High)
}

fn icd10_code(c: &Cand<'_>) -> Option<Score> {
    let b = c.raw.as_bytes();
    let main = c.groups[0];
    let ok = (c.single()
        || (c.groups.len() == 2 && c.seps[0] == "." && (1..=4).contains(&c.groups[1])))
        && main == 3
        && b[0].is_ascii_uppercase()
        && b[0] != b'U'
        && b[1].is_ascii_digit()
        && (b[2].is_ascii_digit() || b[2].is_ascii_uppercase())
        && !c.raw.bytes().any(|x| x.is_ascii_lowercase());
    ok.then_some(())?;
    ctx_only(Medium)
}

/// A byte of an e-mail address's local part (as in the e-mail pattern).
fn email_local(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'%' | b'+' | b'-')
}

fn always_high(_: &str) -> Option<Score> {
    s(High, High)
}

fn aws_access_key(m: &str) -> Option<Score> {
    // Base32 body: digits 0,1,8,9 never appear in real key ids.
    (!m[4..]
        .bytes()
        .any(|b| matches!(b, b'0' | b'1' | b'8' | b'9')))
    .then_some(())?;
    s(High, High)
}

fn aws_secret(m: &str) -> Option<Score> {
    (v::entropy(m) > 4.0
        && m.bytes().any(|b| b.is_ascii_digit())
        && m.bytes().any(|b| b.is_ascii_uppercase()))
    .then_some(())?;
    ctx_only(High)
}

fn high_entropy_token(m: &str) -> Option<Score> {
    let body = m.rsplit(['_', '-']).next().unwrap_or(m);
    (v::entropy(body) > 3.0).then_some(())?;
    s(High, High)
}

fn twilio(m: &str) -> Option<Score> {
    (v::entropy(&m[2..]) > 3.0).then_some(())?;
    s(Medium, High)
}

fn jwt(m: &str) -> Option<Score> {
    use base64::Engine as _;
    let header = m.split('.').next()?;
    let decoded = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header.trim_end_matches('='))
        .ok()?;
    let json: serde_json::Value = serde_json::from_slice(&decoded).ok()?;
    json.get("alg")?.as_str()?;
    s(High, High)
}

const PLACEHOLDERS: &[&str] = &[
    "password",
    "changeme",
    "example",
    "xxxxxxxx",
    "********",
    "<password>",
    "redacted",
    "placeholder",
    "your_password",
    "secret",
];

/// Whether a value is a code expression rather than a literal: a path of
/// digit-free identifiers (`os.environ`, `std::env::var`, `getenv`,
/// `settings.DB_PASSWORD`) that is called or indexed (`(`, `[`) or, when it
/// has several segments, is the whole value.
fn code_expression(value: &str) -> bool {
    let mut segments = 0;
    let mut rest = value;
    loop {
        let n = rest
            .bytes()
            .take_while(|b| b.is_ascii_alphabetic() || *b == b'_')
            .count();
        if n == 0 || rest.as_bytes().get(n).is_some_and(u8::is_ascii_digit) {
            return false;
        }
        segments += 1;
        rest = &rest[n..];
        if let Some(r) = rest.strip_prefix("::").or_else(|| rest.strip_prefix('.')) {
            rest = r;
        } else {
            break;
        }
    }
    rest.starts_with('(') || rest.starts_with('[') || (rest.is_empty() && segments > 1)
}

fn password_value(m: &str) -> Option<Score> {
    // Sentence punctuation after the value is prose, not part of a secret
    // (`the pass is careful.`).
    let value = m
        .trim_matches(|c| c == '"' || c == '\'')
        .trim_end_matches(['.', '!', '?', ':', ')']);
    let lower = value.to_ascii_lowercase();
    if value.len() < 8
        || PLACEHOLDERS.iter().any(|p| lower.contains(p))
        || value.starts_with('$')
        || value.starts_with('{')
        || code_expression(value)
    {
        return None;
    }
    let classes = [
        value.bytes().any(|b| b.is_ascii_lowercase()),
        value.bytes().any(|b| b.is_ascii_uppercase()),
        value.bytes().any(|b| b.is_ascii_digit()),
        value.bytes().any(|b| !b.is_ascii_alphanumeric()),
    ]
    .iter()
    .filter(|&&x| x)
    .count();
    let e = v::entropy(value);
    if e >= 3.5 && classes >= 3 {
        s(High, High)
    } else if e >= 2.8 && classes >= 2 {
        s(Medium, Medium)
    } else {
        None
    }
}

fn url_credentials(m: &str) -> Option<Score> {
    let after_scheme = m.split_once("://")?.1;
    let userinfo = after_scheme.rsplit_once('@')?.0;
    let (_, pass) = userinfo.split_once(':')?;
    let lower = pass.to_ascii_lowercase();
    (!pass.is_empty()
        && !PLACEHOLDERS.contains(&lower.as_str())
        && !pass.starts_with('$')
        && !pass.starts_with('{'))
    .then_some(())?;
    s(High, High)
}

fn email(m: &str) -> Option<Score> {
    let (local, domain) = m.rsplit_once('@')?;
    let tld = domain.rsplit('.').next()?;
    let double_dot = |x: &str| x.as_bytes().windows(2).any(|w| w == b"..");
    (!local.starts_with('.')
        && !local.ends_with('.')
        && !double_dot(local)
        && tld.len() >= 2
        && !double_dot(domain))
    .then_some(())?;
    s(Medium, High)
}

fn swift_bic(m: &str) -> Option<Score> {
    let cc = &m[4..6];
    (v::iban_length(cc).is_some()
        || [
            "US", "CA", "AU", "JP", "CN", "IN", "SG", "HK", "ZA", "MX", "NZ", "KR",
        ]
        .contains(&cc))
    .then_some(())?;
    ctx_only(High)
}

const CARD_CTX: &[&str] = &[
    "card",
    "credit",
    "debit",
    "visa",
    "mastercard",
    "amex",
    "american express",
    "discover",
    "cc",
    "pan",
    "card number",
    "cvv",
    "expiry",
    "payment",
];
const SSN_CTX: &[&str] = &[
    "ssn",
    "social security",
    "social security number",
    "ss#",
    "ssn#",
];
const PHONE_CTX: &[&str] = &[
    "phone",
    "tel",
    "telephone",
    "mobile",
    "cell",
    "call",
    "fax",
    "contact",
    "whatsapp",
];

/// All predefined detectors.
pub fn all() -> Vec<Predefined> {
    use Category::*;
    use Kind::*;
    let t = |id,
             description,
             category,
             validation,
             context,
             f: fn(&Cand<'_>) -> Option<Score>,
             reveal| Predefined {
        id,
        description,
        category,
        validation,
        context,
        kind: Token(f, token_shape(id)),
        reveal,
    };
    let a = |id,
             description,
             validation,
             literals,
             pattern,
             before,
             after,
             check: fn(&str) -> Option<Score>,
             context| Predefined {
        id,
        description,
        category: Credentials,
        validation,
        context,
        kind: Anchored {
            literals,
            pattern,
            before,
            left: None,
            matcher: None,
            after,
            check,
        },
        reveal: (4, 0),
    };
    vec![
        t("credit_card", "Payment card number (Visa, Mastercard, Amex, Discover, JCB, Diners, UnionPay, Maestro, Mir, Elo, Hipercard, Dankort, Bancontact, UATP)", Financial, "13-19 digits, brand prefix and length, Luhn; separators space/dash/none", CARD_CTX, credit_card, (4, 4)),
        t("iban", "International Bank Account Number", Financial, "known country, per-country length, ISO 7064 mod-97", &["iban", "account", "bank", "transfer", "wire"], iban, (4, 2)),
        t("aba_routing", "US ABA bank routing number", Financial, "9 digits, Federal Reserve prefix, 3-7-1 checksum; needs context", &["routing", "aba", "rtn", "routing number", "transit"], aba_routing, (2, 2)),
        Predefined {
            id: "swift_bic",
            description: "SWIFT/BIC bank identifier code",
            category: Financial,
            validation: "8 or 11 characters, known country code; needs context",
            context: &["swift", "bic", "swift code", "bic code"],
            kind: Keyword { keywords: &["swift", "bic"], pattern: r"\b[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}(?:[A-Z0-9]{3})?\b", after: 40, check: swift_bic },
            reveal: (4, 0),
        },
        t("us_bank_account", "US bank account number", Financial, "8-17 digits; needs context", &["account number", "bank account", "acct", "account no", "checking", "savings"], us_bank_account, (0, 4)),
        t("us_ssn", "US Social Security Number", NationalIds, "area not 000/666/9xx, group not 00, serial not 0000, known invalid numbers rejected", SSN_CTX, us_ssn, (0, 4)),
        t("us_itin", "US Individual Taxpayer Identification Number", NationalIds, "9xx-7x/8x/9x-xxxx group ranges", &["itin", "taxpayer", "tax id", "individual taxpayer"], us_itin, (0, 4)),
        t("us_passport", "US passport number", NationalIds, "9 digits or a letter and 8 digits; needs context", &["passport", "passport number", "passport no"], us_passport, (1, 2)),
        t("uk_nino", "UK National Insurance number", NationalIds, "2 letters (excluding invalid prefixes), 6 digits, suffix A-D", &["national insurance", "nino", "ni number", "nin"], uk_nino, (2, 1)),
        t("uk_nhs", "UK NHS number", NationalIds, "10 digits, mod 11", &["nhs", "nhs number", "health service"], uk_nhs, (0, 3)),
        t("ca_sin", "Canadian Social Insurance Number", NationalIds, "9 digits, Luhn", &["sin", "social insurance", "numero d'assurance sociale"], ca_sin, (0, 3)),
        t("au_tfn", "Australian Tax File Number", NationalIds, "8-9 digits, weighted mod 11", &["tfn", "tax file", "tax file number"], au_tfn, (0, 3)),
        t("in_aadhaar", "Indian Aadhaar number", NationalIds, "12 digits, first not 0/1, Verhoeff", &["aadhaar", "aadhar", "uidai", "uid"], in_aadhaar, (0, 4)),
        t("in_pan", "Indian Permanent Account Number", NationalIds, "5 letters (4th a holder type), 4 digits, letter", &["pan", "permanent account", "income tax"], in_pan, (2, 1)),
        t("fr_nir", "French social security number (NIR/INSEE)", NationalIds, "15 digits (2A/2B), sex and month ranges, 97-mod key", &["nir", "insee", "securite sociale", "sécurité sociale", "social security"], fr_nir, (1, 2)),
        t("es_dni", "Spanish DNI/NIE", NationalIds, "8 digits (or X/Y/Z + 7) and the mod-23 letter", &["dni", "nie", "documento", "nif"], es_dni, (0, 1)),
        t("it_fiscal_code", "Italian codice fiscale", NationalIds, "16 characters, check character", &["codice fiscale", "fiscal code", "cf"], it_fiscal_code, (3, 1)),
        t("nl_bsn", "Dutch citizen service number (BSN)", NationalIds, "9 digits, 11-proof", &["bsn", "burgerservicenummer", "citizen service"], nl_bsn, (0, 3)),
        t("br_cpf", "Brazilian CPF", NationalIds, "11 digits, two mod-11 check digits", &["cpf", "cadastro"], br_cpf, (0, 2)),
        t("sg_nric", "Singapore NRIC/FIN", NationalIds, "S/T/F/G/M, 7 digits, check letter", &["nric", "fin", "ic number"], sg_nric, (1, 1)),
        t("za_id", "South African ID number", NationalIds, "13 digits, YYMMDD date, citizenship digit, Luhn", &["id number", "south african id", "identity number", "rsa id"], za_id, (0, 3)),
        t("pl_pesel", "Polish PESEL", NationalIds, "11 digits, birth date, weighted checksum", &["pesel"], pl_pesel, (0, 3)),
        a("aws_access_key_id", "AWS access key id", "AKIA/ASIA/ABIA/ACCA + 16 base32 characters", &["AKIA", "ASIA", "ABIA", "ACCA"], r"\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}\b", 0, 20, aws_access_key, &["aws", "access key"]),
        Predefined {
            id: "aws_secret_access_key",
            description: "AWS secret access key",
            category: Credentials,
            validation: "40 base64 characters with high entropy after an AWS secret keyword",
            context: &["aws_secret_access_key", "aws secret", "secret access key", "secretaccesskey", "aws_secret"],
            kind: Keyword {
                keywords: &["aws_secret_access_key", "aws_secret", "secret_access_key", "secretaccesskey", "secret access key", "aws secret"],
                pattern: r"(?:^|[^A-Za-z0-9/+])([A-Za-z0-9/+]{40})(?:$|[^A-Za-z0-9/+=])",
                after: 80,
                check: aws_secret,
            },
            reveal: (4, 0),
        },
        a("github_token", "GitHub token (classic and fine-grained)", "ghp_/gho_/ghu_/ghs_/ghr_ + 36, or github_pat_ + 82", &["ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"], r"\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{82})\b", 0, 260, high_entropy_token, &["github"]),
        a("gitlab_token", "GitLab token", "glpat-/gldt-/glrt-/glptt- + 20+ characters", &["glpat-", "gldt-", "glrt-", "glptt-", "glsoat-"], r"\bgl(?:pat|dt|rt|ptt|soat)-[A-Za-z0-9_\-]{20,64}\b", 0, 80, high_entropy_token, &["gitlab"]),
        a("slack_token", "Slack token", "xoxb/xoxp/xoxa/xoxr/xoxs/xoxe prefix and numeric segments", &["xoxb-", "xoxp-", "xoxa-", "xoxr-", "xoxs-", "xoxe-"], r"\bxox[bpaerse]-[0-9]{8,}-[A-Za-z0-9\-]{8,}\b", 0, 255, always_high, &["slack"]),
        a("slack_webhook", "Slack incoming webhook URL", "hooks.slack.com/services/T.../B.../secret", &["hooks.slack.com/"], r"https?://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9]{8,}/[A-Za-z0-9]{8,}/[A-Za-z0-9]{16,}", 8, 160, always_high, &["slack", "webhook"]),
        a("stripe_secret_key", "Stripe secret or restricted key", "sk_live_/rk_live_/sk_test_ + 24+ characters", &["sk_live_", "rk_live_", "sk_test_", "rk_test_"], r"\b[sr]k_(?:live|test)_[A-Za-z0-9]{24,99}\b", 0, 120, high_entropy_token, &["stripe"]),
        a("google_api_key", "Google API key", "AIza + 35 characters", &["AIza"], r"\bAIza[0-9A-Za-z_\-]{35}\b", 0, 40, always_high, &["google", "api key", "gcp"]),
        a("openai_api_key", "OpenAI API key", "sk- / sk-proj- / sk-svcacct- / sk-admin- + 32+ characters", &["sk-"], r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{32,200}\b", 0, 220, high_entropy_token, &["openai", "gpt", "api key"]),
        a("npm_token", "npm access token", "npm_ + 36 characters", &["npm_"], r"\bnpm_[A-Za-z0-9]{36}\b", 0, 40, high_entropy_token, &["npm", "registry"]),
        a("pypi_token", "PyPI upload token", "pypi-AgEIcHlwaS5vcmc + 50+ characters", &["pypi-AgEIcHlwaS5vcmc"], r"\bpypi-AgEIcHlwaS5vcmc[A-Za-z0-9_\-]{50,200}\b", 0, 220, always_high, &["pypi", "twine"]),
        a("twilio_api_key", "Twilio API key", "SK + 32 hex characters", &["SK"], r"\bSK[0-9a-fA-F]{32}\b", 0, 34, twilio, &["twilio"]),
        a("sendgrid_api_key", "SendGrid API key", "SG. + 22 + . + 43 characters", &["SG."], r"\bSG\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43}\b", 0, 70, always_high, &["sendgrid"]),
        Predefined {
            id: "private_key",
            description: "Private key (PEM block: RSA, EC, DSA, OpenSSH, PGP, PKCS#8, encrypted)",
            category: Credentials,
            validation: "PEM BEGIN line naming a private key, followed by a base64 body",
            context: &[],
            kind: Anchored {
                literals: &["-----BEGIN"],
                pattern: r"-----BEGIN[ A-Z0-9]{0,24}PRIVATE KEY(?: BLOCK)?-----[\r\n]+(?:[A-Za-z\-]+: [^\r\n]*[\r\n]+)*[\r\n]*[A-Za-z0-9+/=]{16,80}",
                before: 0,
                left: None,
                matcher: None,
                after: 400,
                check: always_high,
            },
            reveal: (40, 0),
        },
        a("jwt", "JSON Web Token", "three base64url segments; header decodes to JSON with `alg`", &["eyJ"], r"\beyJ[A-Za-z0-9_\-]{6,400}\.eyJ[A-Za-z0-9_\-]{2,600}\.[A-Za-z0-9_\-]{0,342}", 0, 1000, jwt, &["jwt", "bearer", "token", "authorization"]),
        Predefined {
            id: "password_assignment",
            description: "Password or secret assigned in configuration, code or prose",
            category: Credentials,
            validation: "password keyword, `=`/`:`, a value of 8+ characters with high entropy and mixed classes, placeholders rejected",
            context: &[],
            kind: Keyword {
                keywords: &["password", "passwd", "pwd", "pass", "secret", "client_secret", "api_key", "apikey", "passphrase", "db_password", "auth_token", "access_token"],
                pattern: r#"^["']?\s*(?:=|:|:=|=>|\sis:?)\s*["']?([^\s"',;]{8,128})"#,
                after: 160,
                check: password_value,
            },
            reveal: (2, 0),
        },
        a("url_credentials", "Credentials embedded in a URL (user:password@host)", "scheme://user:password@host with a non-placeholder password", &["://"], r"\b[a-zA-Z][a-zA-Z0-9+.\-]{1,15}://[^\s:/@]{1,64}:[^\s/@]{1,128}@[A-Za-z0-9.\-]+", 17, 260, url_credentials, &[]),
        Predefined {
            id: "email",
            description: "Email address",
            category: Pii,
            validation: "RFC 5322 dot-atom local part, domain with a 2+ letter TLD",
            context: &["email", "e-mail", "mail", "contact"],
            kind: Anchored { literals: &["@"], pattern: r"[A-Za-z0-9._%+\-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9\-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]{0,62}[A-Za-z0-9])?)*\.[A-Za-z]{2,24}\b", before: 64, left: Some(email_local), matcher: Some(super::email::match_end), after: 255, check: email },
            reveal: (1, 0),
        },
        t("phone_number", "Phone number (E.164 and national formats)", Pii, "E.164 +CC (8-15 digits) or national groupings; bare digits need context", PHONE_CTX, phone_number, (3, 2)),
        t("date_of_birth", "Date of birth", Pii, "valid calendar date (Y-M-D, D/M/Y, M/D/Y); needs context", &["dob", "date of birth", "birth date", "birthdate", "born", "birthday", "d.o.b"], date_of_birth, (0, 0)),
        t("ip_address", "IPv4 address", Pii, "four octets 0-255 without leading zeros", &["ip", "ip address", "host", "server", "client"], ip_address, (0, 0)),
        t("us_npi", "US National Provider Identifier", Health, "10 digits starting 1/2, Luhn with 80840 prefix", &["npi", "provider", "national provider"], us_npi, (0, 3)),
        t("us_dea", "US DEA registration number", Health, "registrant letter, initial, 7 digits with DEA checksum", &["dea", "dea number", "prescriber"], us_dea, (2, 1)),
        t("us_mbi", "US Medicare Beneficiary Identifier", Health, "11 positional characters excluding S/L/O/I/B/Z", &["mbi", "medicare", "beneficiary"], us_mbi, (1, 2)),
        t("icd10_code", "ICD-10 diagnosis code", Health, "letter, 2 digits/letters, optional .subcode; needs context", &["icd", "icd-10", "icd10", "diagnosis", "dx", "diagnosed"], icd10_code, (3, 0)),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::token;

    #[test]
    fn code_expressions_are_not_passwords() {
        for v in [
            "os.environ[",
            "std::env::var(",
            "getenv(",
            "settings.DB_PASSWORD",
            "process.env.DB_PASS",
        ] {
            assert!(code_expression(v), "{v}");
            assert_eq!(password_value(v), None, "{v}");
        }
        for v in ["Summer2024(x", "P4ss.w0rd!", "Tr0ub4dor&3", "hunter22word"] {
            assert!(!code_expression(v), "{v}");
        }
        assert!(password_value("Tr0ub4dor&3x").is_some());
        // A word at the end of a sentence is not a password.
        assert_eq!(password_value("careful."), None);
        assert_eq!(password_value("together!"), None);
    }

    /// No token detector accepts a candidate outside its declared shape.
    #[test]
    fn shapes_cover_what_detectors_accept() {
        let dets: Vec<_> = all()
            .into_iter()
            .filter_map(|p| match p.kind {
                Kind::Token(f, shape) => Some((p.id, f, shape)),
                _ => None,
            })
            .collect();
        let mut next = crate::detect::test_rng(0x2545_F491_4F6C_DD1Du64);
        let mut accepted = 0;
        for _ in 0..200_000 {
            let words = 1 + next(7) as usize;
            let mut text = String::new();
            if next(4) == 0 {
                text.push('+');
            }
            for w in 0..words {
                if w > 0 {
                    text.push_str([" ", "-", ".", "/"][next(4) as usize]);
                }
                let len = 1 + next(if words == 1 { 20 } else { 6 }) as usize;
                for _ in 0..len {
                    let letter = next(6) == 0;
                    let c = if letter {
                        b'A' + next(26) as u8
                    } else {
                        b'0' + next(10) as u8
                    };
                    text.push(c as char);
                }
            }
            token::for_each_chain(&text, 0, text.len(), |ws, _| {
                for i in 0..ws.len() {
                    for j in i..ws.len() {
                        let Some(c) = token::candidate(&text, ws, i, j) else {
                            continue;
                        };
                        for (id, f, shape) in &dets {
                            if let Some(score) = f(&c) {
                                accepted += 1;
                                assert!(
                                    score.bare.is_none() || !CONTEXT_ONLY.contains(id),
                                    "{id} needs context but scored {:?} bare",
                                    c.raw
                                );
                                assert!(
                                    shape.admits(c.compact.len(), c.groups.len(), c.plus)
                                        && shape.admits_class(Class::of(&c)),
                                    "{id} accepted {:?} outside its shape {shape:?}",
                                    c.raw
                                );
                            }
                        }
                    }
                }
            });
        }
        assert!(accepted > 1000, "only {accepted} candidates accepted");
    }
}
