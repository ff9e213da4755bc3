//! National identity, tax, passport, driving-licence and health numbers
//! of G20 and EU countries, as one table of token detectors.
//!
//! Every row says which groupings the number is printed in, how sure a
//! bare value is and which words raise it. Numbers with a checksum are
//! reported bare at `low` (only digits: one random number in ten or
//! eleven passes; digits grouped by spaces too: `10:15 2012 2022 2000` in
//! prose is three years, not a My Number) or `medium` (a layout with
//! punctuation, letters, a date and a checksum), and `high` next to a
//! context word. Passport numbers have
//! no checksum: they need a context word (`passport`, `reisepass`, ...),
//! as their descriptions say; each country's by its own words (`reisepass`,
//! `passeport`, `uk passport`), since formats collide across countries. Checksums: [`crate::detect::validators::national`].

use super::*;
use crate::detect::token::Cand;
use crate::detect::validators::{self as v, national as n};
use Confidence::{High, Low, Medium};

/// How a row's candidates are accepted: the checksum, the groupings it
/// is printed in (besides one word) and the separators between them,
/// whether mixed separators are allowed, and the bare confidence of one
/// word and of a documented grouping.
struct Rule {
    check: fn(&str) -> bool,
    groupings: &'static [&'static [usize]],
    seps: &'static [&'static str],
    mixed: bool,
    single: Option<Confidence>,
    grouped: Confidence,
}

fn apply(c: &Cand<'_>, r: &Rule) -> Option<Score> {
    if c.plus {
        return None;
    }
    let bare = if c.single() {
        r.single?
    } else {
        let seps_ok = c.seps.iter().all(|x| r.seps.contains(x))
            && (r.mixed || c.seps.windows(2).all(|w| w[0] == w[1]));
        (seps_ok && r.groupings.iter().any(|g| c.groups == *g)).then_some(r.grouped)?
    };
    (r.check)(&c.compact).then_some(())?;
    s(bare, High)
}

/// A row's token function: `apply` with its rule.
macro_rules! rule {
    ($name:ident, $check:expr, $groupings:expr, $seps:expr, $mixed:expr, $single:expr, $grouped:expr) => {
        fn $name(c: &Cand<'_>) -> Option<Score> {
            apply(
                c,
                &Rule {
                    check: $check,
                    groupings: $groupings,
                    seps: $seps,
                    mixed: $mixed,
                    single: $single,
                    grouped: $grouped,
                },
            )
        }
    };
}

const NONE: &[&[usize]] = &[];
rule!(
    de_tax_id,
    n::de_idnr,
    &[&[2, 3, 3, 3]],
    &[" "],
    false,
    Some(Low),
    Low
);
rule!(hr_oib, n::hr_oib, NONE, &[], false, Some(Low), Low);
rule!(
    fi_hetu,
    n::fi_hetu,
    &[&[6, 4]],
    &["-", "+"],
    false,
    Some(Medium),
    Medium
);
rule!(
    se_personnummer,
    n::se_pnr,
    &[&[6, 4], &[8, 4]],
    &["-", "+"],
    false,
    Some(Low),
    Medium
);
rule!(
    no_fodselsnummer,
    n::no_fnr,
    &[&[6, 5]],
    &[" "],
    false,
    Some(Low),
    Low
);
rule!(
    be_national_number,
    n::be_nn,
    &[&[2, 2, 2, 3, 2], &[6, 3, 2]],
    &[".", "-", " "],
    true,
    Some(Low),
    Medium
);
rule!(ee_personal_code, n::ee_ik, NONE, &[], false, Some(Low), Low);
rule!(lt_personal_code, n::ee_ik, NONE, &[], false, Some(Low), Low);
rule!(
    bg_egn,
    n::bg_egn,
    &[&[6, 3, 1]],
    &[" "],
    false,
    Some(Low),
    Low
);
rule!(ro_cnp, n::ro_cnp, NONE, &[], false, Some(Low), Low);
rule!(
    cz_birth_number,
    n::cz_rc,
    &[&[6, 4]],
    &["/"],
    false,
    Some(Low),
    Medium
);
rule!(si_emso, n::si_emso, NONE, &[], false, Some(Low), Low);
rule!(
    ch_ahv,
    n::ch_ahv,
    &[&[3, 4, 4, 2]],
    &["."],
    false,
    Some(Low),
    Medium
);
rule!(
    cn_resident_id,
    n::cn_ric,
    NONE,
    &[],
    false,
    Some(Medium),
    Medium
);
rule!(
    kr_rrn,
    n::kr_rrn,
    &[&[6, 7]],
    &["-"],
    false,
    Some(Low),
    Medium
);
rule!(
    tr_tc_kimlik,
    n::tr_tckimlik,
    NONE,
    &[],
    false,
    Some(Low),
    Low
);
rule!(
    ar_cuit,
    n::ar_cuit,
    &[&[2, 8, 1]],
    &["-"],
    false,
    Some(Low),
    Medium
);
rule!(
    br_cnpj,
    n::br_cnpj,
    &[&[2, 3, 3, 4, 2]],
    &[".", "/", "-"],
    true,
    Some(Low),
    Medium
);
rule!(mx_curp, n::mx_curp, NONE, &[], false, Some(Medium), Medium);
rule!(
    au_abn,
    n::au_abn,
    &[&[2, 3, 3, 3]],
    &[" "],
    false,
    Some(Low),
    Low
);
rule!(
    pl_nip,
    n::pl_nip,
    &[&[3, 3, 2, 2], &[3, 2, 2, 3]],
    &["-"],
    false,
    Some(Low),
    Medium
);
rule!(uk_utr, n::gb_utr, &[&[5, 5]], &[" "], false, Some(Low), Low);
rule!(ie_pps, n::ie_pps, NONE, &[], false, Some(Medium), Medium);
rule!(
    jp_my_number,
    n::jp_my_number,
    &[&[4, 4, 4]],
    &[" ", "-"],
    false,
    Some(Low),
    Low
);
rule!(
    au_medicare,
    au_medicare_check,
    &[&[4, 5, 1]],
    &[" "],
    false,
    Some(Low),
    Low
);
rule!(
    uk_driving_licence,
    uk_driving_licence_check,
    NONE,
    &[],
    false,
    Some(Medium),
    Medium
);

/// Australian Medicare card number: 10 digits, first 2-6, weighted check
/// digit in 9th place (the 10th is the card issue number).
fn au_medicare_check(s: &str) -> bool {
    let d: Vec<u32> = s.bytes().map(|b| u32::from(b.wrapping_sub(b'0'))).collect();
    d.len() == 10
        && d.iter().all(|&x| x < 10)
        && (2..=6).contains(&d[0])
        && d[..8]
            .iter()
            .zip([1, 3, 7, 9, 1, 3, 7, 9])
            .map(|(a, b)| a * b)
            .sum::<u32>()
            % 10
            == d[8]
}

/// UK (DVLA) driving licence number: 5 characters of the surname (padded
/// with 9), a YMMDDY birth date (month + 50 for women), 2 initials (or 9),
/// an arbitrary digit, 2 check characters.
fn uk_driving_licence_check(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 16
        || !b[..5].iter().all(|&x| x.is_ascii_uppercase() || x == b'9')
        || !b[0].is_ascii_uppercase()
        || !v::shape("5c6n2c1n2c", s)
    {
        return false;
    }
    let d = |i: usize| u32::from(b[i] - b'0');
    let month = (d(6) * 10 + d(7)) % 50;
    let day = d(8) * 10 + d(9);
    (1..=12).contains(&month)
        && (1..=31).contains(&day)
        && b[11..13]
            .iter()
            .all(|&x| x.is_ascii_uppercase() || x == b'9')
}

/// A passport number of a format without a checksum: needs a context word.
macro_rules! passport {
    ($name:ident, $spec:expr) => {
        fn $name(c: &Cand<'_>) -> Option<Score> {
            (c.single()
                && v::shape($spec, &c.compact)
                && !c.raw.bytes().any(|b| b.is_ascii_lowercase()))
            .then_some(())?;
            ctx_only(Medium)
        }
    };
}
passport!(uk_passport, "9n");
passport!(de_passport, "1a8c");
passport!(fr_passport, "2n2a5n");
passport!(it_passport, "2a7n");
passport!(es_passport, "3a6n");
passport!(ca_passport, "2a6n");
passport!(in_passport, "1a7n");
passport!(cn_passport, "1a8n");
passport!(jp_passport, "2a7n");
passport!(br_passport, "2a6n");

/// The shape of a row's candidates.
const fn shape(len: (usize, usize), words: &'static [usize], chars: Chars, seps: u16) -> Shape {
    Shape {
        len,
        plus_len: len,
        words,
        chars,
        seps,
    }
}

/// The table's detectors, in order.
pub(super) fn national_detectors() -> Vec<Predefined> {
    use Category::{Health, NationalIds};
    use Chars::*;
    const SPACE: u16 = Class::SEP_SPACE;
    const DASH: u16 = Class::SEP_DASH;
    const DOT: u16 = Class::SEP_DOT;
    const SLASH: u16 = Class::SEP_SLASH;
    const OTHER: u16 = Class::SEP_OTHER;
    type Row = (
        &'static str,
        &'static str,
        Category,
        &'static str,
        &'static [&'static str],
        fn(&Cand<'_>) -> Option<Score>,
        Shape,
        (usize, usize),
    );
    let rows: Vec<Row> = vec![
        ("de_tax_id", "German tax identification number (Steuer-IdNr)", NationalIds, "11 digits, first not 0, ISO 7064 MOD 11,10; bare value low", &["steuer-id", "steuer-idnr", "steueridentifikationsnummer", "identifikationsnummer", "idnr", "tax id"], de_tax_id, shape((11, 11), &[1, 4], Digits, SPACE), (0, 3)),
        ("hr_oib", "Croatian personal identification number (OIB)", NationalIds, "11 digits, ISO 7064 MOD 11,10; bare value low", &["oib", "osobni identifikacijski broj"], hr_oib, shape((11, 11), &[1], Digits, 0), (0, 3)),
        ("fi_hetu", "Finnish personal identity code (henkilötunnus)", NationalIds, "DDMMYY, century sign, 3 digits, mod-31 check character", &["henkilötunnus", "hetu", "henkilotunnus", "personal identity code", "personbeteckning"], fi_hetu, shape((10, 11), &[1, 2], Any, DASH | OTHER), (0, 2)),
        ("se_personnummer", "Swedish personal identity number (personnummer)", NationalIds, "YYMMDD-NNNC (or with the century), valid date, Luhn; bare value low", &["personnummer", "personal identity number", "samordningsnummer"], se_personnummer, shape((10, 12), &[1, 2], Digits, DASH | OTHER), (0, 4)),
        ("no_fodselsnummer", "Norwegian national identity number (fødselsnummer, D-number)", NationalIds, "11 digits, date, two mod-11 check digits; bare value low", &["fødselsnummer", "fodselsnummer", "personnummer", "d-nummer"], no_fodselsnummer, shape((11, 11), &[1, 2], Digits, SPACE), (0, 3)),
        ("be_national_number", "Belgian national register number (rijksregisternummer / numéro national)", NationalIds, "11 digits, mod-97 check (2000+ births with a 2 prefix); bare value low", &["rijksregisternummer", "registre national", "numéro national", "national number", "insz", "niss"], be_national_number, shape((11, 11), &[1, 3, 5], Digits, DOT | DASH | SPACE), (0, 2)),
        ("ee_personal_code", "Estonian personal identification code (isikukood)", NationalIds, "11 digits, sex/century digit, date, two-stage mod-11; bare value low", &["isikukood", "personal code", "personal identification code"], ee_personal_code, shape((11, 11), &[1], Digits, 0), (0, 3)),
        ("lt_personal_code", "Lithuanian personal code (asmens kodas)", NationalIds, "11 digits, sex/century digit, date, two-stage mod-11; bare value low", &["asmens kodas", "asmens kodo", "personal code"], lt_personal_code, shape((11, 11), &[1], Digits, 0), (0, 3)),
        ("bg_egn", "Bulgarian unified civil number (EGN)", NationalIds, "10 digits, date, weighted mod-11; bare value low", &["егн", "egn", "единен граждански номер", "civil number"], bg_egn, shape((10, 10), &[1, 3], Digits, SPACE), (0, 3)),
        ("ro_cnp", "Romanian personal numeric code (CNP)", NationalIds, "13 digits, sex/century digit, date, weighted mod-11; bare value low", &["cnp", "cod numeric personal"], ro_cnp, shape((13, 13), &[1], Digits, 0), (0, 3)),
        ("cz_birth_number", "Czech / Slovak birth number (rodné číslo)", NationalIds, "YYMMDD/NNNN, date (month +50/+20/+70), divisible by 11; bare value low", &["rodné číslo", "rodne cislo", "rodné čislo", "birth number", "rč"], cz_birth_number, shape((10, 10), &[1, 2], Digits, SLASH), (0, 3)),
        ("si_emso", "Slovenian unique master citizen number (EMŠO)", NationalIds, "13 digits, date, weighted mod-11; bare value low", &["emšo", "emso", "enotna matična številka"], si_emso, shape((13, 13), &[1], Digits, 0), (0, 3)),
        ("ch_ahv", "Swiss social security number (AHV/AVS)", NationalIds, "756 + 10 digits (756.XXXX.XXXX.XX), EAN-13 check digit; bare value low", &["ahv", "avs", "ahv-nr", "sozialversicherungsnummer", "numéro avs", "social security"], ch_ahv, shape((13, 13), &[1, 4], Digits, DOT), (3, 2)),
        ("cn_resident_id", "Chinese resident identity card number", NationalIds, "6-digit region, YYYYMMDD date, sequence, ISO 7064 MOD 11-2 check (0-9 or X)", &["身份证", "身份证号", "居民身份证", "resident identity", "id card"], cn_resident_id, shape((18, 18), &[1], Any, 0), (0, 4)),
        ("kr_rrn", "South Korean resident registration number", NationalIds, "YYMMDD-NNNNNNN, date, weighted mod-11; bare value low", &["주민등록번호", "resident registration", "rrn"], kr_rrn, shape((13, 13), &[1, 2], Digits, DASH), (0, 3)),
        ("tr_tc_kimlik", "Turkish identity number (T.C. Kimlik No.)", NationalIds, "11 digits, first not 0, two check digits; bare value low", &["kimlik", "tc kimlik", "kimlik no", "tckn", "kimlik numarası"], tr_tc_kimlik, shape((11, 11), &[1], Digits, 0), (0, 3)),
        ("ar_cuit", "Argentinian tax and labour id (CUIT/CUIL)", NationalIds, "XX-XXXXXXXX-X, type prefix, weighted mod-11; bare value low", &["cuit", "cuil"], ar_cuit, shape((11, 11), &[1, 3], Digits, DASH), (0, 2)),
        ("br_cnpj", "Brazilian company tax id (CNPJ)", NationalIds, "XX.XXX.XXX/XXXX-XX, two mod-11 check digits; bare value low", &["cnpj"], br_cnpj, shape((14, 14), &[1, 5], Digits, DOT | SLASH | DASH), (0, 2)),
        ("mx_curp", "Mexican population registry code (CURP)", NationalIds, "4 letters, YYMMDD, H/M, state, 3 consonants, homonym character, check digit", &["curp"], mx_curp, shape((18, 18), &[1], Alpha2Upper, 0), (4, 1)),
        ("au_abn", "Australian Business Number", NationalIds, "11 digits, weighted mod-89; bare value low", &["abn", "australian business number"], au_abn, shape((11, 11), &[1, 4], Digits, SPACE), (0, 3)),
        ("pl_nip", "Polish tax identification number (NIP)", NationalIds, "10 digits, weighted mod-11; bare value low", &["nip", "numer identyfikacji podatkowej"], pl_nip, shape((10, 10), &[1, 4], Digits, DASH), (0, 2)),
        ("uk_utr", "UK Unique Taxpayer Reference", NationalIds, "10 digits, leading weighted mod-11 check digit; bare value low", &["utr", "unique taxpayer reference", "self assessment"], uk_utr, shape((10, 10), &[1, 2], Digits, SPACE), (0, 3)),
        ("ie_pps", "Irish Personal Public Service number", NationalIds, "7 digits, mod-23 check letter, optional second letter", &["pps", "ppsn", "personal public service"], ie_pps, shape((8, 9), &[1], NotDigitsUpper, 0), (0, 2)),
        ("jp_my_number", "Japanese individual number (My Number)", NationalIds, "12 digits, weighted mod-11 check digit; bare value low", &["マイナンバー", "個人番号", "my number", "individual number"], jp_my_number, shape((12, 12), &[1, 3], Digits, SPACE | DASH), (0, 4)),
        ("uk_driving_licence", "UK (DVLA) driving licence number", NationalIds, "16 characters: surname, YMMDDY birth date (month +50), initials, digit, check characters", &["driving licence", "driving license", "driver licence", "dvla", "licence number"], uk_driving_licence, shape((16, 16), &[1], LetterFirstUpper, 0), (5, 0)),
        ("au_medicare", "Australian Medicare card number", Health, "10 digits (first 2-6), weighted check digit, issue number; bare value low", &["medicare", "medicare card"], au_medicare, shape((10, 10), &[1, 3], Digits, SPACE), (0, 2)),
        ("uk_passport", "UK passport number; needs context", NationalIds, "9 digits; needs context (no checksum)", &["uk passport", "british passport", "hm passport", "hmpo"], uk_passport, shape((9, 9), &[1], Digits, 0), (0, 3)),
        ("de_passport", "German passport number (Reisepass); needs context", NationalIds, "letter + 8 letters or digits; needs context (no checksum)", &["reisepass", "passnummer", "german passport"], de_passport, shape((9, 9), &[1], LetterFirstUpper, 0), (1, 2)),
        ("fr_passport", "French passport number; needs context", NationalIds, "2 digits, 2 letters, 5 digits; needs context (no checksum)", &["passeport", "french passport"], fr_passport, shape((9, 9), &[1], NotDigitsUpper, 0), (2, 2)),
        ("it_passport", "Italian passport number; needs context", NationalIds, "2 letters, 7 digits; needs context (no checksum)", &["passaporto", "italian passport"], it_passport, shape((9, 9), &[1], Alpha2Upper, 0), (2, 2)),
        ("es_passport", "Spanish passport number; needs context", NationalIds, "3 letters, 6 digits; needs context (no checksum)", &["pasaporte", "spanish passport"], es_passport, shape((9, 9), &[1], Alpha2Upper, 0), (3, 2)),
        ("ca_passport", "Canadian passport number; needs context", NationalIds, "2 letters, 6 digits; needs context (no checksum)", &["canadian passport", "passeport canadien"], ca_passport, shape((8, 8), &[1], Alpha2Upper, 0), (2, 2)),
        ("in_passport", "Indian passport number; needs context", NationalIds, "letter, 7 digits; needs context (no checksum)", &["indian passport", "passport no"], in_passport, shape((8, 8), &[1], LetterFirstUpper, 0), (1, 2)),
        ("cn_passport", "Chinese passport number; needs context", NationalIds, "letter (E, G...), 8 digits; needs context (no checksum)", &["护照", "chinese passport"], cn_passport, shape((9, 9), &[1], LetterFirstUpper, 0), (1, 2)),
        ("jp_passport", "Japanese passport number; needs context", NationalIds, "2 letters, 7 digits; needs context (no checksum)", &["旅券", "パスポート", "japanese passport"], jp_passport, shape((9, 9), &[1], Alpha2Upper, 0), (2, 2)),
        ("br_passport", "Brazilian passport number; needs context", NationalIds, "2 letters, 6 digits; needs context (no checksum)", &["passaporte", "brazilian passport"], br_passport, shape((8, 8), &[1], Alpha2Upper, 0), (2, 2)),
    ];
    rows.into_iter()
        .map(
            |(id, description, category, validation, context, f, shape, reveal)| Predefined {
                id,
                description,
                category,
                validation,
                context,
                kind: Kind::Token(f, shape),
                reveal,
            },
        )
        .collect()
}
