//! Checksums and structural checks, run only on candidates.
//!
//! Every function takes the compact value (separators removed) and returns
//! whether it is valid; none allocates except `mod97` on letters.

/// Digit values of an ASCII-digit string; `None` if any byte is not a digit.
fn digits(s: &str) -> Option<Vec<u32>> {
    s.bytes()
        .map(|b| b.is_ascii_digit().then(|| u32::from(b - b'0')))
        .collect()
}

/// Luhn (mod 10) over all digits, check digit last.
pub fn luhn(s: &str) -> bool {
    let Some(d) = digits(s) else { return false };
    if d.len() < 2 {
        return false;
    }
    let sum: u32 = d
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &x)| {
            if i % 2 == 1 {
                if x * 2 > 9 {
                    x * 2 - 9
                } else {
                    x * 2
                }
            } else {
                x
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// ISO 7064 mod 97-10 as used by IBAN: move the first four characters to the
/// end, letters count as 10..35, the number mod 97 must be 1.
pub fn iban_mod97(s: &str) -> bool {
    if s.len() < 5 || !s.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return false;
    }
    let rearranged = s[4..].bytes().chain(s[..4].bytes());
    let mut rem: u32 = 0;
    for b in rearranged {
        let b = b.to_ascii_uppercase();
        if b.is_ascii_digit() {
            rem = (rem * 10 + u32::from(b - b'0')) % 97;
        } else {
            let v = u32::from(b - b'A') + 10;
            rem = (rem * 100 + v) % 97;
        }
    }
    rem == 1
}

/// Verhoeff checksum (Aadhaar).
pub fn verhoeff(s: &str) -> bool {
    const D: [[u8; 10]; 10] = [
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
        [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
        [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
        [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
        [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
        [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
        [6, 5, 9, 8, 7, 1, 0, 4, 3, 2],
        [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
        [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
        [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
    ];
    const P: [[u8; 10]; 8] = [
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
        [1, 5, 7, 6, 2, 8, 3, 0, 9, 4],
        [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
        [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
        [9, 4, 5, 3, 1, 2, 6, 8, 7, 0],
        [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
        [2, 7, 9, 3, 8, 0, 6, 4, 1, 5],
        [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
    ];
    let Some(d) = digits(s) else { return false };
    let mut c = 0u8;
    for (i, &x) in d.iter().rev().enumerate() {
        c = D[c as usize][P[i % 8][x as usize] as usize];
    }
    c == 0
}

/// Weighted sum of digits.
fn weighted(d: &[u32], w: &[u32]) -> u32 {
    d.iter().zip(w).map(|(a, b)| a * b).sum()
}

/// UK NHS number: 10 digits, mod 11 with weights 10..2; check 10 is invalid.
pub fn uk_nhs(s: &str) -> bool {
    let Some(d) = digits(s) else { return false };
    if d.len() != 10 || d.iter().all(|&x| x == d[0]) {
        return false;
    }
    let check = 11 - weighted(&d[..9], &[10, 9, 8, 7, 6, 5, 4, 3, 2]) % 11;
    let check = if check == 11 { 0 } else { check };
    check != 10 && check == d[9]
}

/// Dutch BSN "11-proof": weights 9..2 and -1.
pub fn nl_bsn(s: &str) -> bool {
    let Some(d) = digits(s) else { return false };
    if d.len() != 9 || d.iter().all(|&x| x == 0) {
        return false;
    }
    let sum = weighted(&d[..8], &[9, 8, 7, 6, 5, 4, 3, 2]) as i64 - i64::from(d[8]);
    sum % 11 == 0 && sum > 0
}

/// Australian TFN: 9 digits (8 for old ones) with weights, sum mod 11 == 0.
pub fn au_tfn(s: &str) -> bool {
    let Some(d) = digits(s) else { return false };
    let w: &[u32] = match d.len() {
        9 => &[1, 4, 3, 7, 5, 8, 6, 9, 10],
        8 => &[10, 7, 8, 4, 6, 3, 5, 1],
        _ => return false,
    };
    !d.iter().all(|&x| x == 0) && weighted(&d, w).is_multiple_of(11)
}

/// Brazilian CPF: 11 digits, two mod-11 check digits, not all the same.
pub fn br_cpf(s: &str) -> bool {
    let Some(d) = digits(s) else { return false };
    if d.len() != 11 || d.iter().all(|&x| x == d[0]) {
        return false;
    }
    let c1 = (weighted(&d[..9], &[10, 9, 8, 7, 6, 5, 4, 3, 2]) * 10) % 11 % 10;
    let c2 = (weighted(&d[..10], &[11, 10, 9, 8, 7, 6, 5, 4, 3, 2]) * 10) % 11 % 10;
    c1 == d[9] && c2 == d[10]
}

/// Polish PESEL: 11 digits, weights 1,3,7,9 and a valid birth date.
pub fn pl_pesel(s: &str) -> bool {
    let Some(d) = digits(s) else { return false };
    if d.len() != 11 {
        return false;
    }
    let sum = weighted(&d[..10], &[1, 3, 7, 9, 1, 3, 7, 9, 1, 3]);
    if (10 - sum % 10) % 10 != d[10] {
        return false;
    }
    let month = d[2] * 10 + d[3];
    let day = d[4] * 10 + d[5];
    let m = month % 20;
    (1..=12).contains(&m) && (1..=31).contains(&day)
}

/// French NIR (INSEE): 13 digits + 2-digit key = 97 - (number mod 97).
/// Corsican departments `2A`/`2B` count as 19/18.
pub fn fr_nir(s: &str) -> bool {
    if s.len() != 15 {
        return false;
    }
    let up = s.to_ascii_uppercase();
    let body = up[..13].replace("2A", "19").replace("2B", "18");
    let (Ok(n), Ok(key)) = (body.parse::<u64>(), up[13..].parse::<u64>()) else {
        return false;
    };
    let sex = up.as_bytes()[0];
    let month = up[3..5].parse::<u32>().unwrap_or(0);
    matches!(sex, b'1' | b'2' | b'3' | b'4' | b'7' | b'8')
        && ((1..=12).contains(&month) || (20..=42).contains(&month) || month >= 50)
        && key == 97 - n % 97
}

/// Spanish DNI (8 digits + letter) and NIE (X/Y/Z + 7 digits + letter).
pub fn es_dni(s: &str) -> bool {
    const LETTERS: &[u8] = b"TRWAGMYFPDXBNJZSQVHLCKE";
    let up = s.to_ascii_uppercase();
    let b = up.as_bytes();
    if b.len() != 9 {
        return false;
    }
    let lead = match b[0] {
        b'X' => b'0',
        b'Y' => b'1',
        b'Z' => b'2',
        c => c,
    };
    let mut num = String::with_capacity(8);
    num.push(lead as char);
    num.push_str(&up[1..8]);
    let Ok(n) = num.parse::<u32>() else {
        return false;
    };
    LETTERS[(n % 23) as usize] == b[8]
}

/// Italian codice fiscale: 16 characters, check character from odd/even tables.
pub fn it_fiscal_code(s: &str) -> bool {
    const ODD: [u32; 26] = [
        1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24,
        23,
    ];
    let up = s.to_ascii_uppercase();
    let b = up.as_bytes();
    if b.len() != 16 || !b.iter().all(u8::is_ascii_alphanumeric) {
        return false;
    }
    let mut sum = 0;
    for (i, &c) in b[..15].iter().enumerate() {
        let idx = if c.is_ascii_digit() {
            u32::from(c - b'0')
        } else {
            u32::from(c - b'A')
        };
        sum += if i % 2 == 0 { ODD[idx as usize] } else { idx };
    }
    b[15] == b'A' + (sum % 26) as u8
}

/// Singapore NRIC/FIN: prefix S/T/F/G/M, 7 digits, check letter.
pub fn sg_nric(s: &str) -> bool {
    let up = s.to_ascii_uppercase();
    let b = up.as_bytes();
    if b.len() != 9 {
        return false;
    }
    let Some(d) = digits(&up[1..8]) else {
        return false;
    };
    let mut sum = weighted(&d, &[2, 7, 6, 5, 4, 3, 2]);
    let (table, off): (&[u8], u32) = match b[0] {
        b'S' => (b"JZIHGFEDCBA", 0),
        b'T' => (b"JZIHGFEDCBA", 4),
        b'F' => (b"XWUTRQPNMLK", 0),
        b'G' => (b"XWUTRQPNMLK", 4),
        b'M' => (b"KLJNPQRTUWX", 3),
        _ => return false,
    };
    sum += off;
    table[(sum % 11) as usize] == b[8]
}

/// US DEA registration number: 2 letters + 7 digits;
/// (d1+d3+d5) + 2*(d2+d4+d6) last digit equals d7.
pub fn us_dea(s: &str) -> bool {
    let up = s.to_ascii_uppercase();
    let b = up.as_bytes();
    if b.len() != 9
        || !b"ABCDEFGHJKLMPRSTUX".contains(&b[0])
        || !(b[1].is_ascii_alphabetic() || b[1] == b'9')
    {
        return false;
    }
    let Some(d) = digits(&up[2..]) else {
        return false;
    };
    (d[0] + d[2] + d[4] + 2 * (d[1] + d[3] + d[5])) % 10 == d[6]
}

/// US NPI: 10 digits starting 1 or 2, Luhn over `80840` + number.
pub fn us_npi(s: &str) -> bool {
    s.len() == 10 && matches!(s.as_bytes()[0], b'1' | b'2') && luhn(&format!("80840{s}"))
}

/// ABA routing number: 9 digits, 3-7-1 weights, valid Federal Reserve prefix.
pub fn aba_routing(s: &str) -> bool {
    let Some(d) = digits(s) else { return false };
    if d.len() != 9 {
        return false;
    }
    let prefix = d[0] * 10 + d[1];
    if !(prefix <= 12 || (21..=32).contains(&prefix) || (61..=72).contains(&prefix) || prefix == 80)
    {
        return false;
    }
    if d.iter().all(|&x| x == 0) {
        return false;
    }
    weighted(&d, &[3, 7, 1, 3, 7, 1, 3, 7, 1]).is_multiple_of(10)
}

/// US SSN structural rules: area not 000/666/9xx, group not 00, serial not
/// 0000, and not a well-known advertising/invalid number.
pub fn us_ssn(s: &str) -> bool {
    if s.len() != 9 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let (area, group, serial) = (&s[..3], &s[3..5], &s[5..]);
    if area == "000" || area == "666" || area.starts_with('9') || group == "00" || serial == "0000"
    {
        return false;
    }
    const KNOWN_INVALID: [&str; 6] = [
        "078051120",
        "219099999",
        "123456789",
        "111111111",
        "333333333",
        "457555462",
    ];
    !KNOWN_INVALID.contains(&s)
}

/// US ITIN: 9xx-[50-65|70-88|90-92|94-99]-xxxx.
pub fn us_itin(s: &str) -> bool {
    if s.len() != 9 || !s.starts_with('9') || !s.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let g: u32 = s[3..5].parse().unwrap_or(0);
    (50..=65).contains(&g)
        || (70..=88).contains(&g)
        || (90..=92).contains(&g)
        || (94..=99).contains(&g)
}

/// Medicare Beneficiary Identifier: 11 characters with positional classes
/// (no S, L, O, I, B, Z letters).
pub fn us_mbi(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 11 {
        return false;
    }
    let alpha = |c: u8| c.is_ascii_uppercase() && !b"SLOIBZ".contains(&c);
    let an = |c: u8| c.is_ascii_digit() || alpha(c);
    (b'1'..=b'9').contains(&b[0])
        && alpha(b[1])
        && an(b[2])
        && b[3].is_ascii_digit()
        && alpha(b[4])
        && an(b[5])
        && b[6].is_ascii_digit()
        && alpha(b[7])
        && alpha(b[8])
        && b[9].is_ascii_digit()
        && b[10].is_ascii_digit()
}

/// South African ID: 13 digits, a valid YYMMDD date, citizenship 0-2, Luhn.
pub fn za_id(s: &str) -> bool {
    let Some(d) = digits(s) else { return false };
    if d.len() != 13 {
        return false;
    }
    let month = d[2] * 10 + d[3];
    let day = d[4] * 10 + d[5];
    (1..=12).contains(&month) && (1..=31).contains(&day) && d[10] <= 2 && luhn(s)
}

/// Canadian SIN: 9 digits, Luhn, first digit not 0 or 8.
pub fn ca_sin(s: &str) -> bool {
    s.len() == 9 && !matches!(s.as_bytes()[0], b'0' | b'8') && luhn(s)
}

/// Aadhaar: 12 digits, first not 0/1, Verhoeff.
pub fn in_aadhaar(s: &str) -> bool {
    s.len() == 12 && !matches!(s.as_bytes()[0], b'0' | b'1') && verhoeff(s)
}

/// Payment card: 13-19 digits, a known brand prefix and length, Luhn.
///
/// Brands and ranges (IIN prefix, lengths) beyond the big five follow the
/// issuers' published ranges as collected in `enforcer/tests/cards/README.md`.
pub fn credit_card(s: &str) -> bool {
    let n = s.len();
    if !(13..=19).contains(&n) || !s.bytes().all(|b| b.is_ascii_digit()) || !luhn(s) {
        return false;
    }
    let p2: u32 = s[..2].parse().unwrap_or(0);
    let p3: u32 = s[..3].parse().unwrap_or(0);
    let p4: u32 = s[..4].parse().unwrap_or(0);
    let p6: u32 = s[..6].parse().unwrap_or(0);
    let visa = s.starts_with('4') && matches!(n, 13 | 16 | 19);
    let master = ((51..=55).contains(&p2) || (2221..=2720).contains(&p4)) && n == 16;
    let amex = matches!(p2, 34 | 37) && n == 15;
    let discover =
        (p4 == 6011 || p2 == 65 || (644..=649).contains(&p3) || (622126..=622925).contains(&p6))
            && (16..=19).contains(&n);
    let jcb = (3528..=3589).contains(&p4) && (16..=19).contains(&n);
    let diners =
        ((300..=305).contains(&p3) || p2 == 36 || p2 == 38 || p2 == 39) && (14..=19).contains(&n);
    // UnionPay: 62, and the 81 series (810000-817199).
    let unionpay = (p2 == 62 || (8100..=8171).contains(&p4)) && (16..=19).contains(&n);
    // Maestro (Mastercard's debit brand): 50, 56-58, 60, 63 and 67 series,
    // 12-19 digits (13 here: the shortest candidate read).
    let maestro = matches!(p2, 50 | 56..=58 | 60 | 63 | 67) || p4 == 5893;
    let mir = (2200..=2204).contains(&p4) && n == 16;
    let elo = elo(p6) && n == 16;
    let hipercard =
        (p6 == 606282 || matches!(p6, 384100 | 384140 | 384160)) && matches!(n, 16 | 19);
    let dankort = p4 == 5019 && n == 16;
    let bancontact = p4 == 6703 && (16..=19).contains(&n);
    // UATP (airline cards): 1 and 15 digits, Luhn like every ISO/IEC 7812 number.
    let uatp = s.starts_with('1') && n == 15;
    visa || master
        || amex
        || discover
        || jcb
        || diners
        || unionpay
        || maestro
        || mir
        || elo
        || hipercard
        || dankort
        || bancontact
        || uatp
}

/// Elo's six-digit IIN ranges (16-digit cards; its 4-series BINs are Visa
/// numbers by shape already).
fn elo(p6: u32) -> bool {
    const RANGES: &[(u32, u32)] = &[
        (401178, 401179),
        (431274, 431274),
        (438935, 438935),
        (451416, 451416),
        (457393, 457393),
        (457631, 457632),
        (504175, 504175),
        (506699, 506778),
        (509000, 509999),
        (627780, 627780),
        (636297, 636297),
        (636368, 636368),
        (650031, 650033),
        (650035, 650051),
        (650405, 650439),
        (650485, 650538),
        (650541, 650598),
        (650700, 650718),
        (650720, 650727),
        (650901, 650978),
        (651652, 651679),
        (655000, 655019),
        (655021, 655058),
    ];
    RANGES.iter().any(|&(a, b)| (a..=b).contains(&p6))
}

/// BBAN structure per IBAN country, in the SWIFT IBAN registry's notation
/// (`4n` four digits, `3a` three upper-case letters, `12c` twelve
/// alphanumerics), from the registry (release 101) as python-stdnum's
/// `stdnum/iban.dat` carries it. Countries in alphabetical order.
const BBAN: &[(&str, &str)] = &[
    ("AD", "4n4n12c"),       // Andorra, 24
    ("AE", "3n16n"),         // United Arab Emirates (The), 23
    ("AL", "8n16c"),         // Albania, 28
    ("AT", "5n11n"),         // Austria, 20
    ("AZ", "4a20c"),         // Azerbaijan, 28
    ("BA", "3n3n8n2n"),      // Bosnia and Herzegovina, 20
    ("BE", "3n7n2n"),        // Belgium, 16
    ("BG", "4a4n2n8c"),      // Bulgaria, 22
    ("BH", "4a14c"),         // Bahrain, 22
    ("BI", "5n5n11n2n"),     // Burundi, 27
    ("BR", "8n5n10n1a1c"),   // Brazil, 29
    ("BY", "4c4n16c"),       // Belarus, 28
    ("CH", "5n12c"),         // Switzerland, 21
    ("CR", "4n14n"),         // Costa Rica, 22
    ("CY", "3n5n16c"),       // Cyprus, 28
    ("CZ", "4n16n"),         // Czechia, 24
    ("DE", "8n10n"),         // Germany, 22
    ("DJ", "5n5n11n2n"),     // Djibouti, 27
    ("DK", "4n9n1n"),        // Denmark, 18
    ("DO", "4c20n"),         // Dominican Republic, 28
    ("EE", "2n14n"),         // Estonia, 20
    ("EG", "4n4n17n"),       // Egypt, 29
    ("ES", "4n4n1n1n10n"),   // Spain, 24
    ("FI", "3n11n"),         // Finland, 18
    ("FK", "2a12n"),         // Falkland Islands (Malvinas), 18
    ("FO", "4n9n1n"),        // Faroe Islands, 18
    ("FR", "5n5n11c2n"),     // France, 27
    ("GB", "4a6n8n"),        // United Kingdom, 22
    ("GE", "2a16n"),         // Georgia, 22
    ("GI", "4a15c"),         // Gibraltar, 23
    ("GL", "4n9n1n"),        // Greenland, 18
    ("GR", "3n4n16c"),       // Greece, 27
    ("GT", "4c20c"),         // Guatemala, 28
    ("HN", "4a20n"),         // Honduras, 28
    ("HR", "7n10n"),         // Croatia, 21
    ("HU", "3n4n1n15n1n"),   // Hungary, 28
    ("IE", "4a6n8n"),        // Ireland, 22
    ("IL", "3n3n13n"),       // Israel, 23
    ("IQ", "4a3n12n"),       // Iraq, 23
    ("IS", "4n2n6n10n"),     // Iceland, 26
    ("IT", "1a5n5n12c"),     // Italy, 27
    ("JO", "4a4n18c"),       // Jordan, 30
    ("KW", "4a22c"),         // Kuwait, 30
    ("KZ", "3n13c"),         // Kazakhstan, 20
    ("LB", "4n20c"),         // Lebanon, 28
    ("LC", "4a24c"),         // Saint Lucia, 32
    ("LI", "5n12c"),         // Liechtenstein, 21
    ("LT", "5n11n"),         // Lithuania, 20
    ("LU", "3n13c"),         // Luxembourg, 20
    ("LV", "4a13c"),         // Latvia, 21
    ("LY", "3n3n15n"),       // Libya, 25
    ("MC", "5n5n11c2n"),     // Monaco, 27
    ("MD", "2c18c"),         // Moldova, Republic of, 24
    ("ME", "3n13n2n"),       // Montenegro, 22
    ("MK", "3n10c2n"),       // North Macedonia, 19
    ("MN", "4n12n"),         // Mongolia, 20
    ("MR", "5n5n11n2n"),     // Mauritania, 27
    ("MT", "4a5n18c"),       // Malta, 31
    ("MU", "4a2n2n12n3n3a"), // Mauritius, 30
    ("NI", "4a20n"),         // Nicaragua, 28
    ("NL", "4a10n"),         // Netherlands (The), 18
    ("NO", "4n6n1n"),        // Norway, 15
    ("OM", "3n16c"),         // Oman, 23
    ("PK", "4a16c"),         // Pakistan, 24
    ("PL", "8n16n"),         // Poland, 28
    ("PS", "4a21c"),         // Palestine, State of, 29
    ("PT", "4n4n11n2n"),     // Portugal, 25
    ("QA", "4a21c"),         // Qatar, 29
    ("RO", "4a16c"),         // Romania, 24
    ("RS", "3n13n2n"),       // Serbia, 22
    ("RU", "9n5n15c"),       // Russian Federation, 33
    ("SA", "2n18c"),         // Saudi Arabia, 24
    ("SC", "4a2n2n16n3a"),   // Seychelles, 31
    ("SD", "2n12n"),         // Sudan, 18
    ("SE", "3n16n1n"),       // Sweden, 24
    ("SI", "5n8n2n"),        // Slovenia, 19
    ("SK", "4n6n10n"),       // Slovakia, 24
    ("SM", "1a5n5n12c"),     // San Marino, 27
    ("SO", "4n3n12n"),       // Somalia, 23
    ("ST", "4n4n11n2n"),     // Sao Tome and Principe, 25
    ("SV", "4a20n"),         // El Salvador, 28
    ("TL", "3n14n2n"),       // Timor-Leste, 23
    ("TN", "2n3n13n2n"),     // Tunisia, 24
    ("TR", "5n1n16c"),       // Turkiye, 26
    ("UA", "6n19c"),         // Ukraine, 29
    ("VA", "3n15n"),         // Holy See, 22
    ("VG", "4a16n"),         // Virgin Islands (British), 24
    ("XK", "4n10n2n"),       // Kosovo, 20
    ("YE", "4a4n18c"),       // Yemen, 30
];

/// The registry's BBAN structure of `country`.
fn bban_spec(country: &str) -> Option<&'static str> {
    BBAN.binary_search_by(|(c, _)| (*c).cmp(country))
        .ok()
        .map(|i| BBAN[i].1)
}

/// IBAN length of `country` (ISO 13616 registry): 4 + its BBAN length.
pub fn iban_length(country: &str) -> Option<usize> {
    bban_spec(country).map(|spec| 4 + shape_len(spec))
}

/// Whether `bban` has the registry's structure for `country`: digits where
/// it says `n`, upper-case letters where `a`, alphanumerics where `c`.
pub fn bban_shape(country: &str, bban: &str) -> bool {
    bban_spec(country).is_some_and(|spec| shape(spec, bban))
}

/// Whether `bban` is the start of a BBAN of `country` (see [`bban_shape`]):
/// no longer than the registry's structure and following it as far as it
/// goes (`TCQL395891` starts a British BBAN, `8QH` no BBAN of Sweden's).
pub fn bban_start(country: &str, bban: &[u8]) -> bool {
    bban_spec(country).is_some_and(|spec| shape_start(spec, bban) == Some(bban.len()))
}

/// Whether `s` has the structure `spec`, in the SWIFT registry's notation:
/// `2n` two digits, `2a` two upper-case letters, `2c` two upper-case
/// letters or digits (`2n2a5n`: a French passport number).
pub fn shape(spec: &str, s: &str) -> bool {
    let b = s.as_bytes();
    shape_start(spec, b) == Some(b.len()) && shape_len(spec) == b.len()
}

/// The parts of a structure in the registry's notation: (count, `n`/`a`/`c`).
fn shape_parts(spec: &str) -> impl Iterator<Item = (usize, u8)> + '_ {
    let mut count = 0;
    spec.bytes().filter_map(move |x| {
        if x.is_ascii_digit() {
            count = count * 10 + usize::from(x - b'0');
            return None;
        }
        Some((std::mem::take(&mut count), x))
    })
}

/// Number of characters of a value of structure `spec`.
fn shape_len(spec: &str) -> usize {
    shape_parts(spec).map(|(n, _)| n).sum()
}

/// How many leading characters of `b` follow the structure `spec` (at most
/// the structure's length), or None when one of them breaks it.
fn shape_start(spec: &str, b: &[u8]) -> Option<usize> {
    let mut at = 0;
    for (count, x) in shape_parts(spec) {
        let part = &b[at..b.len().min(at + count)];
        let ok = match x {
            b'n' => part.iter().all(u8::is_ascii_digit),
            b'a' => part.iter().all(u8::is_ascii_uppercase),
            _ => part
                .iter()
                .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase()),
        };
        if !ok {
            return None;
        }
        at += part.len();
    }
    Some(at)
}

/// IBAN: known country, exact length, the country's BBAN structure, mod-97.
pub fn iban(s: &str) -> bool {
    s.len() >= 15
        && s.is_char_boundary(2)
        && iban_length(&s[..2]) == Some(s.len())
        && s[2..4].bytes().all(|b| b.is_ascii_digit())
        && bban_shape(&s[..2], &s[4..])
        && iban_mod97(s)
}

/// Shannon entropy in bits per character.
pub fn entropy(s: &str) -> f64 {
    let mut counts = [0u32; 256];
    for b in s.bytes() {
        counts[b as usize] += 1;
    }
    let n = s.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / n;
            -p * p.log2()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    type Case = (fn(&str) -> bool, &'static str, bool);

    #[test]
    fn bban_starts() {
        assert!(bban_start("GB", b"TCQL"));
        assert!(bban_start("GB", b"TCQL39589146058315"));
        assert!(bban_start("GB", b"TC"));
        assert!(!bban_start("GB", b"TCQL395891460583155"));
        assert!(!bban_start("GB", b"TCQ1"));
        assert!(!bban_start("SE", b"8QH"));
        assert!(!bban_start("XX", b"1234"));
        assert_eq!(iban_length("GB"), Some(22));
        assert_eq!(iban_length("NO"), Some(15));
        assert!(shape("2n2a5n", "12AB34567"));
        assert!(!shape("2n2a5n", "12AB3456"));
        assert!(!shape("2n2a5n", "12AB345678"));
    }

    #[test]
    fn table() {
        let cases: &[Case] = &[
            (luhn, "79927398713", true),
            (luhn, "79927398710", false),
            (credit_card, "4111111111111111", true),
            (credit_card, "4111111111111112", false),
            (credit_card, "378282246310005", true),
            (credit_card, "5555555555554444", true),
            (credit_card, "1234567812345670", false),
            (credit_card, "135410014004955", true),
            (credit_card, "1354100140049550", false),
            (credit_card, "8171999927660000", true),
            (credit_card, "817199992766009", false),
            (credit_card, "6062828888666688", true),
            (iban, "GB82WEST12345698765432", true),
            (iban, "GB82WEST12345698765433", false),
            (iban, "DE89370400440532013000", true),
            (iban, "DE8937040044053201300", false),
            (verhoeff, "2363", true),
            (verhoeff, "2364", false),
            (uk_nhs, "9434765919", true),
            (uk_nhs, "9434765918", false),
            (nl_bsn, "111222333", true),
            (nl_bsn, "111222334", false),
            (au_tfn, "123456782", true),
            (au_tfn, "123456783", false),
            (br_cpf, "52998224725", true),
            (br_cpf, "52998224726", false),
            (br_cpf, "11111111111", false),
            (pl_pesel, "44051401359", true),
            (pl_pesel, "44051401358", false),
            (es_dni, "12345678Z", true),
            (es_dni, "12345678A", false),
            (es_dni, "X1234567L", true),
            (it_fiscal_code, "RSSMRA85T10A562S", true),
            (it_fiscal_code, "RSSMRA85T10A562T", false),
            (sg_nric, "S1234567D", true),
            (sg_nric, "S1234567A", false),
            (us_dea, "AB1234563", true),
            (us_dea, "AB1234564", false),
            (us_npi, "1234567893", true),
            (us_npi, "1234567890", false),
            (aba_routing, "011000015", true),
            (aba_routing, "011000016", false),
            (us_ssn, "536221234", true),
            (us_ssn, "666221234", false),
            (us_ssn, "900221234", false),
            (us_ssn, "536001234", false),
            (us_ssn, "536220000", false),
            (us_ssn, "078051120", false),
            (us_itin, "912701234", true),
            (us_itin, "912401234", false),
            (us_mbi, "1EG4TE5MK73", true),
            (us_mbi, "1EG4TE5MK7", false),
            (za_id, "8001015009087", true),
            (za_id, "8001015009088", false),
            (ca_sin, "130692544", true),
            (ca_sin, "130692545", false),
            (fr_nir, "255081416802538", true),
            (fr_nir, "255081416802539", false),
        ];
        for (f, input, expected) in cases {
            assert_eq!(f(input), *expected, "{input}");
        }
    }

    #[test]
    fn entropy_orders() {
        assert!(entropy("aaaaaaaa") < 0.1);
        assert!(entropy("x9$Kq2!zLm") > 3.0);
    }
}

/// ISO 3166-1 alpha-2 country codes, and `XK` (Kosovo) as SWIFT uses it,
/// two letters each, in order.
const COUNTRIES: &str = "ADAEAFAGAIALAMAOAQARASATAUAWAXAZBABBBDBEBFBGBHBIBJBLBMBNBOBQBRBSBTBVBWBY\
    BZCACCCDCFCGCHCICKCLCMCNCOCRCUCVCWCXCYCZDEDJDKDMDODZECEEEGEHERESETFIFJFK\
    FMFOFRGAGBGDGEGFGGGHGIGLGMGNGPGQGRGSGTGUGWGYHKHMHNHRHTHUIDIEILIMINIOIQIR\
    ISITJEJMJOJPKEKGKHKIKMKNKPKRKWKYKZLALBLCLILKLRLSLTLULVLYMAMCMDMEMFMGMHMK\
    MLMMMNMOMPMQMRMSMTMUMVMWMXMYMZNANCNENFNGNINLNONPNRNUNZOMPAPEPFPGPHPKPLPM\
    PNPRPSPTPWPYQARERORSRURWSASBSCSDSESGSHSISJSKSLSMSNSOSRSSSTSVSXSYSZTCTDTF\
    TGTHTJTKTLTMTNTOTRTTTVTWTZUAUGUMUSUYUZVAVCVEVGVIVNVUWFWSXKYEYTZAZMZW";

/// Whether `cc` is an ISO 3166-1 alpha-2 country code (or `XK`): what a
/// BIC's 5th and 6th characters must be (ISO 9362).
pub fn country_code(cc: &str) -> bool {
    let b = cc.as_bytes();
    b.len() == 2 && COUNTRIES.as_bytes().chunks(2).any(|c| c == b)
}

mod tokens;
pub use tokens::github_crc32;
pub mod national;
