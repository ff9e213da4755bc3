//! Checksums of national identity and tax numbers (G20 and EU). Each
//! function takes the compact value (separators removed, upper case) and
//! says whether it is valid. Algorithms as the issuing administrations
//! publish them (collected in python-stdnum's module documentation, whose
//! examples are the tests' data).

/// Digit values, or `None` when a byte is not a digit.
fn digits(s: &str) -> Option<Vec<u32>> {
    s.bytes()
        .map(|b| b.is_ascii_digit().then(|| u32::from(b - b'0')))
        .collect()
}

/// Sum of `d[i] * w[i]`.
fn dot(d: &[u32], w: &[u32]) -> u32 {
    d.iter().zip(w).map(|(a, b)| a * b).sum()
}

/// Whether day `d` of month `m` exists (any year; 29 February allowed).
fn date_ok(m: u32, d: u32) -> bool {
    (1..=12).contains(&m)
        && (1..=[31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m as usize - 1]).contains(&d)
}

/// ISO 7064 MOD 11,10 (German tax id, Croatian OIB).
pub fn iso7064_mod11_10(s: &str) -> bool {
    let Some(d) = digits(s) else { return false };
    let mut p = 10;
    for &x in &d[..d.len() - 1] {
        let mut t = (x + p) % 10;
        if t == 0 {
            t = 10;
        }
        p = (t * 2) % 11;
    }
    (11 - p) % 10 == d[d.len() - 1]
}

/// German tax identification number (Steuer-IdNr): 11 digits, first not
/// 0, in the first ten one digit twice or three times and no other
/// repeated, ISO 7064 MOD 11,10.
pub fn de_idnr(s: &str) -> bool {
    if s.len() != 11 || s.starts_with('0') {
        return false;
    }
    let mut counts = [0u8; 10];
    for b in s[..10].bytes() {
        if !b.is_ascii_digit() {
            return false;
        }
        counts[usize::from(b - b'0')] += 1;
    }
    let repeated: Vec<u8> = counts.iter().copied().filter(|&n| n > 1).collect();
    repeated.len() == 1 && (2..=3).contains(&repeated[0]) && iso7064_mod11_10(s)
}

/// Croatian OIB: 11 digits, ISO 7064 MOD 11,10.
pub fn hr_oib(s: &str) -> bool {
    s.len() == 11 && iso7064_mod11_10(s)
}

/// Finnish henkilötunnus: DDMMYY, century sign (`-`, `+`, `A`-`F`, `U`-`Y`;
/// absent when it was a separator), 3 digits, check character of the 9
/// digits mod 31.
pub fn fi_hetu(s: &str) -> bool {
    let b = s.as_bytes();
    let (date, serial, check) = match b.len() {
        10 => (&s[..6], &s[6..9], b[9]),
        11 if b"+-ABCDEFUVWXY".contains(&b[6]) => (&s[..6], &s[7..10], b[10]),
        _ => return false,
    };
    let (Some(dd), Some(_)) = (digits(date), digits(serial)) else {
        return false;
    };
    let n: u64 = format!("{date}{serial}").parse().unwrap_or(0);
    const CHECK: &[u8; 31] = b"0123456789ABCDEFHJKLMNPRSTUVWXY";
    date_ok(dd[2] * 10 + dd[3], dd[0] * 10 + dd[1]) && CHECK[(n % 31) as usize] == check
}

/// Swedish personnummer: YYMMDD NNNC (10 digits, or 12 with the century),
/// valid date (day + 60 for a samordningsnummer), Luhn over the 10.
pub fn se_pnr(s: &str) -> bool {
    if s.len() == 12 && !(s.starts_with("19") || s.starts_with("20")) {
        return false;
    }
    let t = if s.len() == 12 { &s[2..] } else { s };
    let Some(d) = digits(t) else { return false };
    d.len() == 10 && date_ok(d[2] * 10 + d[3], (d[4] * 10 + d[5]) % 60) && super::luhn(t)
}

/// Norwegian fødselsnummer: 11 digits, two mod-11 check digits, a date
/// (day + 40 for a D-number).
pub fn no_fnr(s: &str) -> bool {
    let Some(d) = digits(s) else { return false };
    if d.len() != 11 || !date_ok(d[2] * 10 + d[3], (d[0] * 10 + d[1]) % 40) {
        return false;
    }
    let k = |w: &[u32], n: usize| (11 - dot(&d[..n], w) % 11) % 11;
    let k1 = k(&[3, 7, 6, 1, 8, 9, 4, 5, 2], 9);
    let k2 = k(&[5, 4, 3, 2, 7, 6, 5, 4, 3, 2], 10);
    k1 != 10 && k1 == d[9] && k2 != 10 && k2 == d[10]
}

/// Belgian national number (rijksregisternummer): 11 digits, the last two
/// are 97 - (first nine mod 97), with a `2` before them for births from 2000.
pub fn be_nn(s: &str) -> bool {
    let Some(d) = digits(s) else { return false };
    if d.len() != 11 {
        return false;
    }
    let base: u64 = s[..9].parse().unwrap_or(0);
    let check = u64::from(d[9] * 10 + d[10]);
    97 - base % 97 == check || 97 - (2_000_000_000 + base) % 97 == check
}

/// Estonian isikukood and Lithuanian asmens kodas: 11 digits, first 1-6,
/// a date, two-stage weighted mod-11 check digit.
pub fn ee_ik(s: &str) -> bool {
    let Some(d) = digits(s) else { return false };
    if d.len() != 11 || !(1..=6).contains(&d[0]) || !date_ok(d[3] * 10 + d[4], d[5] * 10 + d[6]) {
        return false;
    }
    let mut c = dot(&d[..10], &[1, 2, 3, 4, 5, 6, 7, 8, 9, 1]) % 11;
    if c == 10 {
        c = dot(&d[..10], &[3, 4, 5, 6, 7, 8, 9, 1, 2, 3]) % 11 % 10;
    }
    c == d[10]
}

/// Bulgarian EGN: 10 digits, a date (month + 20 or + 40 for other
/// centuries), weighted mod-11 check digit.
pub fn bg_egn(s: &str) -> bool {
    let Some(d) = digits(s) else { return false };
    d.len() == 10
        && date_ok((d[2] * 10 + d[3]) % 20, d[4] * 10 + d[5])
        && dot(&d[..9], &[2, 4, 8, 5, 10, 9, 7, 3, 6]) % 11 % 10 == d[9]
}

/// Romanian CNP: 13 digits, first 1-9, a date, a county code, weighted
/// mod-11 check.
pub fn ro_cnp(s: &str) -> bool {
    let Some(d) = digits(s) else { return false };
    if d.len() != 13 || d[0] == 0 || !date_ok(d[3] * 10 + d[4], d[5] * 10 + d[6]) {
        return false;
    }
    // County: 01-46, 51-52 (Bucharest sectors up to 46), 70, 80-83.
    let county = d[7] * 10 + d[8];
    if !((1..=46).contains(&county)
        || (51..=52).contains(&county)
        || county == 70
        || (80..=83).contains(&county))
    {
        return false;
    }
    let c = dot(&d[..12], &[2, 7, 9, 1, 4, 6, 3, 5, 8, 2, 7, 9]) % 11;
    (if c == 10 { 1 } else { c }) == d[12]
}

/// Czech and Slovak rodné číslo of 10 digits: a date (month + 50 for
/// women, + 20 or + 70 since 2004), divisible by 11 (or the first nine
/// mod 11 = 10 with a check digit 0).
pub fn cz_rc(s: &str) -> bool {
    let Some(d) = digits(s) else { return false };
    if d.len() != 10 || !date_ok((d[2] * 10 + d[3]) % 50 % 20, d[4] * 10 + d[5]) {
        return false;
    }
    let n: u64 = s.parse().unwrap_or(1);
    let first: u64 = s[..9].parse().unwrap_or(0);
    n.is_multiple_of(11) || (first % 11 == 10 && d[9] == 0)
}

/// Slovenian EMŠO: 13 digits, a date, weighted mod-11 check digit.
pub fn si_emso(s: &str) -> bool {
    let Some(d) = digits(s) else { return false };
    if d.len() != 13 || !date_ok(d[2] * 10 + d[3], d[0] * 10 + d[1]) {
        return false;
    }
    let c = 11 - dot(&d[..12], &[7, 6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2]) % 11;
    c != 10 && c % 11 == d[12]
}

/// EAN-13 check digit (Swiss AHV/AVS number: 756 + 10 digits).
pub fn ch_ahv(s: &str) -> bool {
    let Some(d) = digits(s) else { return false };
    d.len() == 13
        && s.starts_with("756")
        && (10 - dot(&d[..12], &[1, 3, 1, 3, 1, 3, 1, 3, 1, 3, 1, 3]) % 10) % 10 == d[12]
}

/// Chinese resident identity card number: 17 digits (region, YYYYMMDD
/// date, sequence) and an ISO 7064 MOD 11-2 check character (digit or X).
pub fn cn_ric(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 18 {
        return false;
    }
    let Some(d) = digits(&s[..17]) else {
        return false;
    };
    let year = d[6] * 1000 + d[7] * 100 + d[8] * 10 + d[9];
    if !(1900..=2099).contains(&year) || !date_ok(d[10] * 10 + d[11], d[12] * 10 + d[13]) {
        return false;
    }
    let sum: u32 = d
        .iter()
        .enumerate()
        .map(|(i, x)| x * ((1u32 << (17 - i)) % 11))
        .sum();
    b"10X98765432"[(sum % 11) as usize] == b[17]
}

/// South Korean resident registration number: 13 digits, a date,
/// weighted mod-11 check digit.
pub fn kr_rrn(s: &str) -> bool {
    let Some(d) = digits(s) else { return false };
    d.len() == 13
        && date_ok(d[2] * 10 + d[3], d[4] * 10 + d[5])
        && (11 - dot(&d[..12], &[2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5]) % 11) % 10 == d[12]
}

/// Turkish T.C. Kimlik No.: 11 digits, first not 0, two check digits.
pub fn tr_tckimlik(s: &str) -> bool {
    let Some(d) = digits(s) else { return false };
    if d.len() != 11 || d[0] == 0 {
        return false;
    }
    let odd = d[0] + d[2] + d[4] + d[6] + d[8];
    let even = d[1] + d[3] + d[5] + d[7];
    (odd * 7 + 10 * 10 - even) % 10 == d[9] && d[..10].iter().sum::<u32>() % 10 == d[10]
}

/// Argentinian CUIT/CUIL: 11 digits, a known type prefix, weighted mod-11
/// check digit.
pub fn ar_cuit(s: &str) -> bool {
    let Some(d) = digits(s) else { return false };
    if d.len() != 11 || !["20", "23", "24", "25", "26", "27", "30", "33", "34"].contains(&&s[..2]) {
        return false;
    }
    let c = 11 - dot(&d[..10], &[5, 4, 3, 2, 7, 6, 5, 4, 3, 2]) % 11;
    let c = match c {
        11 => 0,
        10 => 9,
        c => c,
    };
    c == d[10]
}

/// Brazilian CNPJ: 14 digits, two weighted mod-11 check digits.
pub fn br_cnpj(s: &str) -> bool {
    let Some(d) = digits(s) else { return false };
    if d.len() != 14 || d.iter().all(|&x| x == d[0]) {
        return false;
    }
    let check = |n: usize, w: &[u32]| {
        let r = dot(&d[..n], w) % 11;
        if r < 2 {
            0
        } else {
            11 - r
        }
    };
    check(12, &[5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]) == d[12]
        && check(13, &[6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]) == d[13]
}

/// Mexican CURP: 4 letters, YYMMDD, H/M, 2-letter state, 3 consonants, a
/// homonym character, a check digit.
pub fn mx_curp(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 18
        || !b[..4].iter().all(u8::is_ascii_uppercase)
        || !b[4..10].iter().all(u8::is_ascii_digit)
        || !b"HMX".contains(&b[10])
        || !b[11..16].iter().all(u8::is_ascii_uppercase)
        || !b[16].is_ascii_alphanumeric()
        || !b[17].is_ascii_digit()
    {
        return false;
    }
    let d = |i: usize| u32::from(b[i] - b'0');
    if !date_ok(d(6) * 10 + d(7), d(8) * 10 + d(9)) {
        return false;
    }
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMN&OPQRSTUVWXYZ";
    let mut sum = 0;
    for (i, x) in b[..17].iter().enumerate() {
        let Some(v) = ALPHABET.iter().position(|a| a == x) else {
            return false;
        };
        sum += v as u32 * (18 - i as u32);
    }
    (10 - sum % 10) % 10 == d(17)
}

/// Australian Business Number: 11 digits, (first - 1) and the rest
/// weighted, sum divisible by 89.
pub fn au_abn(s: &str) -> bool {
    let Some(mut d) = digits(s) else { return false };
    if d.len() != 11 || d[0] == 0 {
        return false;
    }
    d[0] -= 1;
    dot(&d, &[10, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19]).is_multiple_of(89)
}

/// Polish NIP (tax number): 10 digits, weighted mod-11 check digit.
pub fn pl_nip(s: &str) -> bool {
    let Some(d) = digits(s) else { return false };
    d.len() == 10 && dot(&d[..9], &[6, 5, 7, 2, 3, 4, 5, 6, 7]) % 11 == d[9]
}

/// UK Unique Taxpayer Reference: 10 digits, the first a check digit of
/// the other nine.
pub fn gb_utr(s: &str) -> bool {
    let Some(d) = digits(s) else { return false };
    d.len() == 10
        && u32::from(
            b"21987654321"[(dot(&d[1..], &[6, 7, 8, 9, 10, 5, 4, 3, 2]) % 11) as usize] - b'0',
        ) == d[0]
}

/// Irish PPS number: 7 digits, a check letter (mod 23), and an optional
/// second letter (`W`, `T`, `X`, or `A`-`I` counted in the check).
pub fn ie_pps(s: &str) -> bool {
    let b = s.as_bytes();
    if !(8..=9).contains(&b.len()) || !b[..7].iter().all(u8::is_ascii_digit) {
        return false;
    }
    let Some(d) = digits(&s[..7]) else {
        return false;
    };
    let mut sum = dot(&d, &[8, 7, 6, 5, 4, 3, 2]);
    if b.len() == 9 {
        match b[8] {
            b'W' | b'T' | b'X' => {}
            x @ b'A'..=b'I' => sum += 9 * u32::from(x - b'A' + 1),
            _ => return false,
        }
    }
    b"WABCDEFGHIJKLMNOPQRSTUV"[(sum % 23) as usize] == b[7]
}

/// Japanese individual number (My Number): 12 digits, weighted mod-11
/// check digit.
pub fn jp_my_number(s: &str) -> bool {
    let Some(d) = digits(s) else { return false };
    if d.len() != 12 {
        return false;
    }
    let sum = dot(&d[..11], &[6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2]) % 11;
    (if sum <= 1 { 0 } else { 11 - sum }) == d[11]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The examples of python-stdnum's module documentation.
    #[test]
    fn published_examples() {
        assert!(de_idnr("36574261809"));
        assert!(!de_idnr("36574261890"));
        assert!(hr_oib("33392005961"));
        assert!(fi_hetu("131052A308T"));
        assert!(fi_hetu("131052308T"));
        assert!(!fi_hetu("131052A308U"));
        assert!(be_nn("85073003328"));
        assert!(ro_cnp("1630615123457"));
        assert!(tr_tckimlik("17291716060"));
        assert!(!tr_tckimlik("17291716050"));
        assert!(ar_cuit("20267565393"));
        assert!(br_cnpj("16727230000197"));
        assert!(au_abn("83914571673"));
        assert!(ch_ahv("7569217076985"));
        assert!(cn_ric("360426199101010071"));
        assert!(mx_curp("BOXW310820HNERXN09"));
        assert!(ie_pps("6433435F"));
        assert!(ie_pps("6433435FT"));
        assert!(pl_nip("8567346215"));
    }
}
