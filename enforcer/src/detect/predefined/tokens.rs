//! Token detectors: number-like national, financial, contact and health
//! identifiers, checked on candidates from the token pass.

use super::*;
use crate::detect::token::Cand;
use crate::detect::validators as v;
use Confidence::{High, Low, Medium};

fn credit_card(c: &Cand<'_>) -> Option<Score> {
    if !c.digits_only || !(13..=19).contains(&c.compact.len()) || c.plus {
        return None;
    }
    if !c.seps_space_dash() {
        return odd_separator_card(c);
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

/// A card number in groups of four (and a short last group) with the same
/// unusual separator between every group: `.`, `/`, `_`, two spaces, a tab
/// or a line break (`4111.1111.1111.1111`, one group per line). Dates,
/// versions, IP addresses and decimals never have four 4-digit groups with
/// a brand prefix and Luhn; a column of 4-digit numbers can, so groups on
/// separate lines or cells are `low` without a card word.
fn odd_separator_card(c: &Cand<'_>) -> Option<Score> {
    let g = &c.groups;
    let first = *c.seps.first()?;
    let fours_tail = g.len() >= 4
        && g[..g.len() - 1].iter().all(|&x| x == 4)
        && (1..=4).contains(&g[g.len() - 1]);
    if !fours_tail || !c.seps_all(first) {
        return None;
    }
    let weak = match first {
        "." | "/" | "_" | "  " => false,
        "\t" | "\n" | "\r\n" => true,
        _ => return None,
    };
    v::credit_card(&c.compact).then_some(())?;
    if weak {
        s(Low, High)
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
    // As printed: in fours (`GB82 WEST 1234 ...`), or in the groups of a
    // national account number (`ME 25 5403 0000 ...`, `NO 21 650 405 251
    // 19`, `ES15-0049-1806-...`, `NO 44 1850.05.14562`): spaces, dashes
    // and dots. The exact length, the country's BBAN shape and mod-97 decide.
    let seps_ok = c
        .seps
        .iter()
        .all(|s| s.bytes().all(|b| matches!(b, b' ' | b'-' | b'.')));
    if !(c.single() || seps_ok) {
        return None;
    }
    v::iban(&c.compact).then_some(())?;
    s(High, High)
}

fn aba_routing(c: &Cand<'_>) -> Option<Score> {
    (digits_n(c, 9) && c.single() && v::aba_routing(&c.compact)).then_some(())?;
    s(Low, High)
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
        || !(c.single()
            || grouped(c, &[2, 2, 2, 2, 1], &[" "])
            || grouped(c, &[2, 6, 1], &[" "])
            || grouped(c, &[8, 1], &[" "]))
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
        && &b[5..9] != b"0000"
        && b[9].is_ascii_uppercase()
        && c.raw.bytes().all(|x| !x.is_ascii_lowercase());
    ok.then_some(())?;
    s(Medium, High)
}

fn fr_nir(c: &Cand<'_>) -> Option<Score> {
    if c.compact.len() != 15 {
        return None;
    }
    // A Corsican department `2B` reaches here as `28`: OCR look-alike
    // folding reads a `B` between digits as an `8`. Try both.
    let corsica = || {
        c.compact.get(5..7) == Some("28")
            && v::fr_nir(&format!("{}2B{}", &c.compact[..5], &c.compact[7..]))
    };
    if !(v::fr_nir(&c.compact) || corsica()) {
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
    if version_before(c.before) {
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

/// Whether the text before a dotted number makes it a version: a product
/// name and `/` (`LibreOffice/7.4.7.2`, `HeadlessChrome/156.0.0.0`), or a
/// version word (`version 1.2.3.4`, `build: 10.0.0.1`). A URL's `//`
/// (`http://10.0.0.1/`) and a path's `/` after a non-letter are not.
fn version_before(before: &str) -> bool {
    let b = before.as_bytes();
    if let [.., x, b'/'] = b {
        return x.is_ascii_alphabetic();
    }
    let t = before.trim_end_matches([' ', ':', '=', '\t']);
    if t.len() == before.len() {
        return false;
    }
    let word_start = t
        .rfind(|ch: char| !ch.is_ascii_alphabetic())
        .map_or(0, |i| i + 1);
    let word = &t[word_start..];
    const VERSION_WORDS: [&str; 8] = [
        "version", "ver", "v", "build", "release", "rev", "revision", "firmware",
    ];
    VERSION_WORDS.iter().any(|v| word.eq_ignore_ascii_case(v))
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

/// The token detectors (number-like candidates), in table order.
pub(super) fn token_detectors() -> Vec<Predefined> {
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
    vec![
        t("credit_card", "Payment card number (Visa, Mastercard, Amex, Discover, JCB, Diners, UnionPay, Maestro, Mir, Elo, Hipercard, Dankort, Bancontact, UATP)", Financial, "13-19 digits, brand prefix and length, Luhn; separators space/dash/none, or the same `.`, `/`, `_`, double space, tab or line break between 4-digit groups", CARD_CTX, credit_card, (4, 4)),
        t("iban", "International Bank Account Number", Financial, "known country, per-country length, ISO 7064 mod-97", &["iban", "account", "bank", "transfer", "wire"], iban, (4, 2)),
        t("aba_routing", "US ABA bank routing number", Financial, "9 digits, Federal Reserve prefix, 3-7-1 checksum; wants context: a bare valid value is low", &["routing", "aba", "rtn", "routing number", "transit"], aba_routing, (2, 2)),
        t("us_bank_account", "US bank account number", Financial, "8-17 digits; needs context", &["account number", "bank account", "acct", "account no", "checking", "savings"], us_bank_account, (0, 4)),
        t("us_ssn", "US Social Security Number", NationalIds, "area not 000/666/9xx, group not 00, serial not 0000, known invalid numbers rejected", SSN_CTX, us_ssn, (0, 4)),
        t("us_itin", "US Individual Taxpayer Identification Number", NationalIds, "9xx-7x/8x/9x-xxxx group ranges", &["itin", "taxpayer", "tax id", "individual taxpayer"], us_itin, (0, 4)),
        t("us_passport", "US passport number", NationalIds, "9 digits or a letter and 8 digits; needs context", &["passport", "passport number", "passport no"], us_passport, (1, 2)),
        t("uk_nino", "UK National Insurance number", NationalIds, "2 letters (excluding invalid prefixes), 6 digits, suffix A-D; compact or in groups (AB 12 34 56 C, AB 123456 C, AB123456 C)", &["national insurance", "national insurance number", "national insurance no", "nino", "ni number", "ni no", "nin", "insurance number", "n.i. number"], uk_nino, (2, 1)),
        t("uk_nhs", "UK NHS number", NationalIds, "10 digits, mod 11", &["nhs", "nhs number", "health service"], uk_nhs, (0, 3)),
        t("ca_sin", "Canadian Social Insurance Number", NationalIds, "9 digits, Luhn", &["sin", "social insurance", "numero d'assurance sociale"], ca_sin, (0, 3)),
        t("au_tfn", "Australian Tax File Number", NationalIds, "8-9 digits, weighted mod 11", &["tfn", "tax file", "tax file number"], au_tfn, (0, 3)),
        t("in_aadhaar", "Indian Aadhaar number", NationalIds, "12 digits, first not 0/1, Verhoeff", &["aadhaar", "aadhar", "uidai", "uid"], in_aadhaar, (0, 4)),
        t("in_pan", "Indian Permanent Account Number", NationalIds, "5 letters (4th a holder type), 4 digits, letter", &["pan", "permanent account", "income tax"], in_pan, (2, 1)),
        t("fr_nir", "French social security number (NIR/INSEE)", NationalIds, "15 digits (Corsican 2A/2B), sex and month ranges, 97-mod key", &["nir", "insee", "securite sociale", "sécurité sociale", "social security"], fr_nir, (1, 2)),
        t("es_dni", "Spanish DNI/NIE", NationalIds, "8 digits (or X/Y/Z + 7) and the mod-23 letter", &["dni", "nie", "documento", "nif"], es_dni, (0, 1)),
        t("it_fiscal_code", "Italian codice fiscale", NationalIds, "16 characters, check character", &["codice fiscale", "fiscal code", "cf"], it_fiscal_code, (3, 1)),
        t("nl_bsn", "Dutch citizen service number (BSN)", NationalIds, "9 digits, 11-proof", &["bsn", "burgerservicenummer", "citizen service"], nl_bsn, (0, 3)),
        t("br_cpf", "Brazilian CPF", NationalIds, "11 digits, two mod-11 check digits", &["cpf", "cadastro"], br_cpf, (0, 2)),
        t("sg_nric", "Singapore NRIC/FIN", NationalIds, "S/T/F/G/M, 7 digits, check letter", &["nric", "fin", "ic number"], sg_nric, (1, 1)),
        t("za_id", "South African ID number", NationalIds, "13 digits, YYMMDD date, citizenship digit, Luhn", &["id number", "south african id", "identity number", "rsa id"], za_id, (0, 3)),
        t("pl_pesel", "Polish PESEL", NationalIds, "11 digits, birth date, weighted checksum", &["pesel"], pl_pesel, (0, 3)),
        t("phone_number", "Phone number (E.164 and national formats)", Pii, "E.164 +CC (8-15 digits) or national groupings; bare digits need context", PHONE_CTX, phone_number, (3, 2)),
        t("date_of_birth", "Date of birth", Pii, "valid calendar date (Y-M-D, D/M/Y, M/D/Y); needs context", &["dob", "date of birth", "birth date", "birthdate", "born", "birthday", "d.o.b"], date_of_birth, (0, 0)),
        t("ip_address", "IPv4 address", Pii, "four octets 0-255 without leading zeros; not a version (after a product name and `/`, or a version word)", &["ip", "ip address", "host", "server", "client"], ip_address, (0, 0)),
        t("us_npi", "US National Provider Identifier", Health, "10 digits starting 1/2, Luhn with 80840 prefix", &["npi", "provider", "national provider"], us_npi, (0, 3)),
        t("us_dea", "US DEA registration number", Health, "registrant letter, initial, 7 digits with DEA checksum", &["dea", "dea number", "prescriber"], us_dea, (2, 1)),
        t("us_mbi", "US Medicare Beneficiary Identifier", Health, "11 positional characters excluding S/L/O/I/B/Z", &["mbi", "medicare", "beneficiary"], us_mbi, (1, 2)),
        t("icd10_code", "ICD-10 diagnosis code", Health, "letter, 2 digits/letters, optional .subcode; needs context", &["icd", "icd-10", "icd10", "diagnosis", "dx", "diagnosed"], icd10_code, (3, 0)),
    ]
}
