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

mod ipv6;
mod national;
mod placeholder;
mod saas;
mod secrets;
mod tokens;

use super::token::{Cand, Class};
pub(crate) use super::types::{Category, Confidence};

/// Confidence of a match without and with a nearby context word.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Score {
    /// Confidence of a bare match; `None` = discard without context.
    pub bare: Option<Confidence>,
    /// Confidence when a context word is within the window.
    pub ctx: Confidence,
}

pub(super) const fn s(bare: Confidence, ctx: Confidence) -> Option<Score> {
    Some(Score {
        bare: Some(bare),
        ctx,
    })
}
pub(super) const fn ctx_only(ctx: Confidence) -> Option<Score> {
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
pub(super) fn token_shape(id: &str) -> Shape {
    const ONE: &[usize] = &[1];
    const ONE_THREE: &[usize] = &[1, 3];
    use Chars::*;
    // Weak separators (`_`, tab, line break) join 4-digit groups for cards only.
    const ANY: u16 = Class::SEPS & !Class::SEP_WEAK;
    const ODD: u16 = Class::SEP_DOT | Class::SEP_SLASH | Class::SEP_OTHER | Class::SEP_WEAK;
    const SPACE: u16 = Class::SEP_SPACE;
    const DASH: u16 = Class::SEP_DASH;
    const DOT: u16 = Class::SEP_DOT;
    const SLASH: u16 = Class::SEP_SLASH;
    let (len, words, chars, seps): ((usize, usize), &'static [usize], Chars, u16) = match id {
        "credit_card" => (
            (13, 19),
            &[1, 2, 3, 4, 5, 6],
            DigitsNoPlus,
            SPACE | DASH | ODD,
        ),
        "iban" => ((15, 34), &[], Alpha2, SPACE | DASH | DOT),
        "us_bank_account" => ((8, 17), &[], Digits, DASH),
        "us_ssn" | "us_itin" | "ca_sin" => ((9, 9), ONE_THREE, Digits, SPACE | DASH),
        "nl_bsn" => ((9, 9), ONE_THREE, Digits, SPACE | DOT),
        "uk_nino" => ((9, 9), &[1, 2, 3, 5], Alpha2, SPACE),
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
        // Unknown ids take every candidate (correct, just slower) but
        // those joined by weak separators, which only cards take.
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
/// ones): those without a checksum. The engine skips them where no such
/// word is near. A detector with a checksum reports a bare valid value
/// at `low` instead (`aba_routing`).
pub const CONTEXT_ONLY: [&str; 16] = [
    "us_bank_account",
    "us_passport",
    "date_of_birth",
    "icd10_code",
    "swift_bic",
    "aws_secret_access_key",
    "uk_passport",
    "de_passport",
    "fr_passport",
    "it_passport",
    "es_passport",
    "ca_passport",
    "in_passport",
    "cn_passport",
    "jp_passport",
    "br_passport",
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

pub(super) fn digits_n(c: &Cand<'_>, n: usize) -> bool {
    c.digits_only && c.compact.len() == n
}

/// Grouping like 3-2-4 with one kind of separator, or no separator.
pub(super) fn grouped(c: &Cand<'_>, shape: &[usize], seps: &[&str]) -> bool {
    c.groups == shape
        && c.seps.iter().all(|x| seps.contains(x))
        && c.seps.windows(2).all(|w| w[0] == w[1])
}

pub(super) fn plain_or_grouped(c: &Cand<'_>, shape: &[usize], seps: &[&str]) -> Option<bool> {
    if c.single() {
        Some(false)
    } else if grouped(c, shape, seps) {
        Some(true)
    } else {
        None
    }
}

/// All predefined detectors.
pub fn all() -> Vec<Predefined> {
    // Country tables first: on a tie (a 9-digit number next to `UK
    // passport`, both passports' words near) the more specific one wins.
    let mut all = national::national_detectors();
    all.extend(tokens::token_detectors());
    all.extend(secrets::literal_detectors());
    all.extend(saas::saas_detectors());
    all.push(ipv6::detector());
    all
}

/// The issuing country of a predefined detector, from its id (`de_tax_id`:
/// `DE`, `uk_nino`: `GB`, `aba_routing`: `US`), or `""` for international
/// formats (cards, IBAN, secrets, e-mail).
pub fn country_of(id: &str) -> &'static str {
    if id == "aba_routing" {
        return "US";
    }
    let Some((prefix, _)) = id.split_once('_') else {
        return "";
    };
    if prefix == "uk" {
        return "GB";
    }
    let upper = prefix.to_ascii_uppercase();
    if prefix.len() != 2 || !super::validators::country_code(&upper) || prefix == "ip" {
        return "";
    }
    // A static copy of the code (the list is what `country_code` accepts).
    COUNTRY_CODES
        .iter()
        .copied()
        .find(|c| *c == upper)
        .unwrap_or("")
}

/// The countries predefined detectors are issued by.
const COUNTRY_CODES: &[&str] = &[
    "AR", "AU", "BE", "BG", "BR", "CA", "CH", "CN", "CZ", "DE", "EE", "ES", "FI", "FR", "GB", "HR",
    "IE", "IN", "IT", "JP", "KR", "LT", "MX", "NL", "NO", "PL", "RO", "SE", "SG", "SI", "TR", "US",
    "ZA",
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::token;

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
