//! Table-driven tests per predefined detector: true positives, near misses
//! and everyday negatives, through the whole engine.

use enforcer::{Confidence, Engine};
use std::sync::OnceLock;

fn engine() -> &'static Engine {
    static E: OnceLock<Engine> = OnceLock::new();
    E.get_or_init(Engine::with_defaults)
}

/// Highest confidence `detector` reports in `text`.
fn conf(text: &str, detector: &str) -> Option<Confidence> {
    engine()
        .scan(text)
        .into_iter()
        .filter(|f| f.detector == detector)
        .map(|f| f.confidence)
        .max()
}

use Confidence::{High, Low, Medium};

/// (detector, text, expected minimum confidence or None for "not reported at Medium+")
const CASES: &[(&str, &str, Option<Confidence>)] = &[
    // credit_card
    ("credit_card", "card 4111 1111 1111 1111 exp 12/29", Some(High)),
    ("credit_card", "4111-1111-1111-1111", Some(High)),
    ("credit_card", "amex 3782 822463 10005", Some(High)),
    ("credit_card", "card 5555555555554444", Some(High)),
    ("credit_card", "5555555555554444", Some(Medium)),
    ("credit_card", "4111 1111 1111 1112", None),
    ("credit_card", "4111 1111 1111 111", None),
    ("credit_card", "order 1234567812345670", None),
    // Groups merged by OCR (a dropped space): read like an ungrouped number.
    ("credit_card", "41111111 11111111", Some(Medium)),
    ("credit_card", "card 41111111 11111111", Some(High)),
    ("credit_card", "4111 11111111 1111", Some(Medium)),
    ("credit_card", "amex 3782822463 10005", Some(High)),
    ("credit_card", "41111111 11111112", None),
    ("credit_card", "41111 11111111 111", None),
    // A piece of an IBAN whose check digits fail (one digit off) passes
    // Luhn: not a card (the eval's false finding), spaced, dashed, with the
    // BBAN in one word; a 16-digit run after a bank code too.
    ("credit_card", "Customer called about the invoice; iban: GB27 TCQL 3958 9146 0583 15 (verified in person).", None),
    ("credit_card", "IBAN GB27 TCQL 3958 9146 0583 15", None),
    ("credit_card", "GB27-TCQL-3958-9146-0583-15", None),
    ("credit_card", "iban GB27 TCQL 39589146058315", None),
    ("credit_card", "iban VG40 VPVG 5570 6360 6071 0431", None),
    ("credit_card", "iban PK24 SCBL 5765 8485 3715 3542", None),
    // A card after a whole IBAN is still a card.
    ("credit_card", "GB27 TCQL 3958 9146 0583 17 4111 1111 1111 1111", Some(High)),
    // iban
    ("iban", "IBAN: GB82 WEST 1234 5698 7654 32", Some(High)),
    ("iban", "DE89370400440532013000", Some(High)),
    ("iban", "GB82 WEST 1234 5698 7654 33", None),
    ("iban", "DE8937040044053201300", None),
    // aba_routing
    ("aba_routing", "routing number 011000015", Some(High)),
    ("aba_routing", "011000015", None),
    ("aba_routing", "routing number 011000016", None),
    // swift_bic
    ("swift_bic", "SWIFT: DEUTDEFF500", Some(High)),
    ("swift_bic", "DEUTDEFF", None),
    // us_bank_account
    ("us_bank_account", "bank account 000123456789", Some(Medium)),
    ("us_bank_account", "000123456789", None),
    // us_ssn
    ("us_ssn", "SSN 536-22-1234", Some(High)),
    ("us_ssn", "his number is 536-22-1234", Some(Medium)),
    ("us_ssn", "ssn: 536221234", Some(High)),
    ("us_ssn", "SSN 666-22-1234", None),
    ("us_ssn", "SSN 536-00-1234", None),
    ("us_ssn", "SSN 536-22-0000", None),
    ("us_ssn", "SSN 078-05-1120", None),
    ("us_ssn", "SSN 900-22-1234", None),
    // us_itin
    ("us_itin", "ITIN 912-70-1234", Some(High)),
    ("us_itin", "ITIN 912-40-1234", None),
    // us_passport
    ("us_passport", "passport number 123456789", Some(Medium)),
    ("us_passport", "ref 123456789", None),
    // uk_nino
    ("uk_nino", "NI number AB 12 34 56 C", Some(High)),
    ("uk_nino", "AB123456C", Some(Medium)),
    ("uk_nino", "GB123456C", None),
    ("uk_nino", "AB123456E", None),
    // uk_nhs
    ("uk_nhs", "NHS number 943 476 5919", Some(High)),
    ("uk_nhs", "NHS number 943 476 5918", None),
    // ca_sin
    ("ca_sin", "SIN 130 692 544", Some(High)),
    ("ca_sin", "SIN 130 692 545", None),
    // au_tfn
    ("au_tfn", "TFN 123 456 782", Some(High)),
    ("au_tfn", "TFN 123 456 783", None),
    // in_aadhaar
    ("in_aadhaar", "Aadhaar 2345 6789 0124", Some(High)),
    ("in_aadhaar", "Aadhaar 2345 6789 0125", None),
    // in_pan
    ("in_pan", "PAN ABCPE1234F", Some(High)),
    ("in_pan", "ABCXE1234F", None),
    // fr_nir
    ("fr_nir", "NIR 2 55 08 14 168 025 38", Some(High)),
    ("fr_nir", "NIR 2 55 08 14 168 025 39", None),
    // es_dni
    ("es_dni", "DNI 12345678Z", Some(High)),
    ("es_dni", "DNI 12345678A", None),
    // it_fiscal_code
    ("it_fiscal_code", "codice fiscale RSSMRA85T10A562S", Some(High)),
    ("it_fiscal_code", "RSSMRA85T10A562T", None),
    // nl_bsn
    ("nl_bsn", "BSN 111222333", Some(High)),
    ("nl_bsn", "BSN 111222334", None),
    ("nl_bsn", "111222333", None),
    // br_cpf
    ("br_cpf", "CPF 529.982.247-25", Some(High)),
    ("br_cpf", "529.982.247-25", Some(Medium)),
    ("br_cpf", "CPF 529.982.247-26", None),
    // sg_nric
    ("sg_nric", "NRIC S1234567D", Some(High)),
    ("sg_nric", "NRIC S1234567A", None),
    // za_id
    ("za_id", "ID number 8001015009087", Some(High)),
    ("za_id", "ID number 8001015009088", None),
    // pl_pesel
    ("pl_pesel", "PESEL 44051401359", Some(High)),
    ("pl_pesel", "PESEL 44051401358", None),
    // credentials
    ("aws_access_key_id", "key AKIALALEMEL33243OLIB", Some(High)),
    // AWS's documentation example key is a placeholder.
    ("aws_access_key_id", "key AKIAIOSFODNN7EXAMPLE", None),
    ("aws_access_key_id", "AKIAIOSFODNN7EXAMPL", None),
    ("aws_secret_access_key", "aws_secret_access_key = Qb0prFmbh7/wy5yq1XoY1BaIMcAxYmfsB4HbQLXj", Some(High)),
    ("aws_secret_access_key", "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", None),
    ("aws_secret_access_key", "value wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", None),
    // No valid CRC-32 tail: medium.
    ("github_token", "token ghp_aB3dE5fG7hI9jK1lM3nO5pQ7rS9tU1vW3xY5", Some(Medium)),
    ("github_token", "ghp_short", None),
    ("gitlab_token", "glpat-xK9mQ2vL8nR4tY6wZ1aB", Some(High)),
    ("slack_token", "xoxb-781236542736-2364535789652-GkwFDQoHqzXDVsC6GzqYUypD", Some(High)),
    ("slack_webhook", "https://hooks.slack.com/services/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", Some(High)),
    ("stripe_secret_key", "sk_live_4eC39HqLyjWDarjtT1zdp7dc9a", Some(High)),
    ("google_api_key", "AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY", Some(High)),
    ("openai_api_key", "sk-proj-Ab3De5Fg7Hi9Jk1Lm3No5Pq7Rs9Tu1Vw3Xy5Za7Bc9", Some(High)),
    ("npm_token", "npm_aB3dE5fG7hI9jK1lM3nO5pQ7rS9tU1vW3xY5", Some(Medium)),
    ("pypi_token", "pypi-AgEIcHlwaS5vcmcCJGI4ZDk2MjU2LTg3YjMtNDZkMy1hMTYwLWUzZjZkYWQ5OWYwYQ", Some(High)),
    ("twilio_api_key", "twilio SK2e8d28a79023c39c200661fccd268a29", Some(High)),
    ("twilio_api_key", "twilio SK0123456789abcdef0123456789abcdef", None),
    // A random key whose hex body has low entropy (2.98 bits): the eval's miss.
    ("twilio_api_key", "Forwarding the form. Name: Maria Lopez, twilio SK429f40044e09f20f49e249f2324072c8, city: Lyon.", Some(High)),
    ("sendgrid_api_key", "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", Some(High)),
    ("private_key", "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7bq5kQ8h3pV2sWz\n-----END RSA PRIVATE KEY-----", Some(High)),
    ("private_key", "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmU\n", Some(High)),
    ("private_key", "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8A\n", None),
    ("jwt", "Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U", Some(High)),
    ("jwt", "eyJub3RhIjoiand0In0.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abc", None),
    ("password_assignment", "DB_PASSWORD=Zq8#mR2!vL9x", Some(High)),
    ("password_assignment", "password: changeme123", None),
    ("password_assignment", "password = ${DB_PASSWORD}", None),
    ("password_assignment", "db_password = os.environ[\"DB_PASSWORD\"]", None),
    ("password_assignment", "Lukas said the pass is careful. Then", None),
    ("password_assignment", "let api_key = std::env::var(\"API_KEY\")?;", None),
    ("url_credentials", "postgres://admin:S3cr3tPw@db.internal:5432/app", Some(High)),
    ("url_credentials", "https://example.com/path@user", None),
    // pii
    ("email", "mail jane.doe@example.com today", Some(High)),
    ("email", "jane.doe@example.com", Some(Medium)),
    ("email", "not an email: foo@bar", None),
    ("phone_number", "call +44 20 7946 0958", Some(High)),
    ("phone_number", "phone (555) 123-4567", Some(High)),
    ("phone_number", "+14155552671", Some(Medium)),
    ("phone_number", "we sold 1234567890 units", None),
    ("date_of_birth", "DOB: 1985-03-14", Some(High)),
    ("date_of_birth", "meeting on 2024-03-14", None),
    ("ip_address", "server 192.168.10.42", Some(High)),
    ("ip_address", "version 1.2.300.4", None),
    // Versions after a product name and `/` or a version word (issue 21).
    ("ip_address", "Producer: LibreOffice/7.4.7.2$Linux_X86_64", None),
    ("ip_address", "Mozilla/5.0 (X11; Linux x86_64) HeadlessChrome/156.0.0.0 Safari/537.36", None),
    ("ip_address", "Chrome/120.0.6099.109 and Edg/120.0.2210.61", None),
    ("ip_address", "version 1.2.3.4", None),
    ("ip_address", "Version: 10.0.19.41 (build 22.1.0.3)", None),
    ("ip_address", "firmware v 2.4.0.12 installed", None),
    ("ip_address", "GET http://10.0.0.1/ HTTP/1.1 from client", Some(High)),
    ("ip_address", "proxy https://192.168.1.20:8443/login", Some(Medium)),
    ("ip_address", "server 10.20.30.40/24 gateway", Some(High)),
    ("ip_address", "connected to 172.16.0.5", Some(Medium)),
    // health
    ("us_npi", "NPI 1234567893", Some(High)),
    ("us_npi", "NPI 1234567890", None),
    ("us_dea", "DEA AB1234563", Some(High)),
    ("us_dea", "DEA AB1234564", None),
    ("us_mbi", "Medicare MBI 1EG4-TE5-MK73", Some(High)),
    ("us_mbi", "1EG4-TE5-MK7", None),
    ("icd10_code", "diagnosis: E11.9", Some(Medium)),
    ("icd10_code", "part E11.9", None),
];

#[test]
fn detector_table() {
    let mut failures = Vec::new();
    for &(det, text, expected) in CASES {
        let got = conf(text, det);
        let ok = match expected {
            Some(min) => got.is_some_and(|c| c >= min),
            None => got.is_none_or(|c| c < Medium),
        };
        if !ok {
            failures.push(format!(
                "{det}: {text:?}: expected {expected:?}, got {got:?} (all: {:?})",
                engine().scan(text)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Everyday text that must not fire any predefined profile.
const NEGATIVES: &[&str] = &[
    "Order #100234 shipped on 2024-05-01 at 14:32:11 UTC, tracking 1Z999AA10123456784.",
    "uuid 123e4567-e89b-12d3-a456-426614174000 and sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "commit 3f2a9c1e7b5d4a6f8e0c2b4d6f8a0c2e4b6d8f0a by alice",
    "timestamp 1700000000123 epoch 1700000000",
    "We had 3 meetings, 12 attendees and 450 slides over 2 days in room 221.",
    "Version 2.14.3 released; see section 4.2.1 and table 7.",
    "The temperature was 23.5 degrees and humidity 65 percent.",
    "Invoice INV-2024-000123 total 1,234.56 EUR due 30 days.",
    "Call me maybe around 5 or 6 tonight, we need 2 tickets.",
    "ISBN 978-3-16-148410-0, page 123 to 456.",
];

#[test]
fn everyday_negatives_do_not_fire() {
    let e = engine();
    let sel = e.selection(&["all"]).unwrap();
    for text in NEGATIVES {
        let r = e.scan_selection(text, &sel);
        assert!(
            !r.is_match(),
            "{text:?} fired {:?} with {:?}",
            r.fired,
            r.findings
        );
    }
}

#[test]
fn low_findings_exist_but_do_not_fire() {
    // A bare 9-digit number passing Luhn is ambiguous (SIN? SSN?): one Low
    // finding; a context word says which and raises it.
    let bare = engine().scan("130692544");
    assert_eq!(bare.len(), 1, "{bare:?}");
    assert_eq!(bare[0].confidence, Low);
    assert_eq!(conf("SIN 130692544", "ca_sin"), Some(High));
}

/// Every span holds one predefined finding at most.
fn one_per_span(text: &str) -> Vec<enforcer::Finding> {
    let found = engine().scan(text);
    for (k, a) in found.iter().enumerate() {
        for b in &found[k + 1..] {
            assert!(
                (a.start, a.end) != (b.start, b.end),
                "two findings for one span in {text:?}: {a:?} {b:?}"
            );
        }
    }
    found
}

#[test]
fn one_finding_per_span_the_best() {
    // A South African id starting with 4 also passes as a 13-digit Visa:
    // with id context the za_id reading wins, with card context the card.
    let za = one_per_span("rsa id 4808199346083 on file");
    assert_eq!(za.len(), 1, "{za:?}");
    assert_eq!((za[0].detector.as_ref(), za[0].confidence), ("za_id", High));
    let card = one_per_span("visa card 4808199346083 on file");
    assert_eq!(card.len(), 1, "{card:?}");
    assert_eq!(card[0].detector, "credit_card");
}

#[test]
fn pieces_of_longer_numbers_are_capped() {
    // A card one digit off: its 12-digit pieces may pass Verhoeff, but they
    // are not an Aadhaar number.
    for text in [
        "card: 5130-3597-6512-9946 (verified)",
        "aadhaar 5130-3597-6512-9946",
        "call GB33 JAMY 8849 3729 9286 86",
        "phone 5131 0339 1245 7109",
    ] {
        for f in one_per_span(text) {
            assert!(f.confidence < Medium, "{text:?}: {f:?}");
        }
    }
    // The whole number still counts, and a card followed by its expiry too.
    assert_eq!(conf("aadhaar 3597-6512-9946 ok", "in_aadhaar"), Some(High));
    assert_eq!(
        conf("card 4111 1111 1111 1111 12/29", "credit_card"),
        Some(High)
    );
}

#[test]
fn lookalikes_are_not_folded_inside_codes() {
    // `O`, `I`, `S`, `Q` between digits are letters of these codes, not OCR'd digits.
    assert_eq!(
        conf("aws AKIAVFC6O5YBPUAMIEKG", "aws_access_key_id"),
        Some(High)
    );
    assert_eq!(
        conf("aws AKIATZHYKFTH26QN3I4V", "aws_access_key_id"),
        Some(High)
    );
    assert_eq!(conf("medicare 6RD3QQ5EY97", "us_mbi"), Some(High));
    assert_eq!(
        conf("codice fiscale EEEDPW08S09Y621D", "it_fiscal_code"),
        Some(High)
    );
    // OCR'd digits in a number are still folded.
    assert_eq!(conf("card 4l11 1111 1I11 1111", "credit_card"), Some(High));
}
