//! Precision/recall of the predefined detectors on a generated, labelled corpus.
//!
//! ```text
//! cargo run --release -p enforcer --example eval                 # print the table
//! cargo run --release -p enforcer --example eval -- --write DIR   # also write corpus.jsonl
//! cargo run --release -p enforcer --example eval -- --show-errors # print every miss and false finding
//! ```
//!
//! The corpus is generated deterministically (fixed seed): for every
//! detector, valid values (checksums computed) embedded in realistic prose
//! with one of the detector's context words, and hard negatives: the same
//! prose with a value one digit off (checksum fails), and everyday text
//! (order numbers, UUIDs, hashes, timestamps, versions). A finding counts
//! when its confidence is at least `medium` (the predefined profiles'
//! threshold). A true positive is a finding of detector D overlapping a
//! label of D; anything else D reports is a false positive.
//! Exit status 1 when a validated detector is under 0.98 precision or recall.

use std::collections::BTreeMap;
use std::io::Write;

use enforcer::detect::validators as v;
use enforcer::{Confidence, Engine};

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn digits(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b'0' + self.below(10) as u8))
            .collect()
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len() as u64) as usize]
    }
    fn chars(&mut self, set: &[u8], n: usize) -> String {
        (0..n)
            .map(|_| char::from(set[self.below(set.len() as u64) as usize]))
            .collect()
    }
}

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const UPPER: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const HEX: &[u8] = b"0123456789abcdef";

/// Appends the digit (or letter from `alphabet`) that makes `valid` true.
fn complete(prefix: &str, alphabet: &[u8], valid: impl Fn(&str) -> bool) -> Option<String> {
    alphabet
        .iter()
        .map(|&c| format!("{prefix}{}", c as char))
        .find(|s| valid(s))
}

fn group(s: &str, sizes: &[usize], sep: &str) -> String {
    let mut out = Vec::new();
    let mut i = 0;
    for &n in sizes {
        out.push(&s[i..i + n]);
        i += n;
    }
    out.join(sep)
}

const DIGITS: &[u8] = b"0123456789";

/// A valid value for `detector`, as it would be written, plus its compact form.
fn generate(det: &str, r: &mut Rng) -> Option<String> {
    let sep = if r.below(2) == 0 { " " } else { "-" };
    Some(match det {
        "credit_card" => {
            let p = r.pick(&["4", "51", "55", "2221", "6011"]);
            let body = format!("{p}{}", r.digits(15 - p.len()));
            group(
                &complete(&body, DIGITS, v::credit_card)?,
                &[4, 4, 4, 4],
                sep,
            )
        }
        "iban" => {
            let bban = format!("{}{}", r.chars(UPPER, 4), r.digits(14));
            let check = (0..100)
                .map(|c| format!("GB{c:02}{bban}"))
                .find(|s| v::iban(s))?;
            group(&check, &[4, 4, 4, 4, 4, 2], " ")
        }
        "aba_routing" => complete(
            &format!("0{}{}", 1 + r.below(9), r.digits(6)),
            DIGITS,
            v::aba_routing,
        )?,
        "us_ssn" => {
            let area = 1 + r.below(665);
            let s = format!("{area:03}{:02}{:04}", 1 + r.below(99), 1 + r.below(9999));
            if !v::us_ssn(&s) {
                return None;
            }
            group(&s, &[3, 2, 4], "-")
        }
        "us_itin" => group(
            &format!("9{}{}{}", r.digits(2), 70 + r.below(19), r.digits(4)),
            &[3, 2, 4],
            "-",
        ),
        "uk_nino" => format!(
            "{}{}{}{}",
            r.pick(&["A", "C", "E", "H", "J"]),
            r.pick(&["B", "C", "E", "H"]),
            r.digits(6),
            r.pick(&["A", "B", "C", "D"])
        ),
        "uk_nhs" => group(
            &complete(
                &format!("{}{}", 1 + r.below(9), r.digits(8)),
                DIGITS,
                v::uk_nhs,
            )?,
            &[3, 3, 4],
            " ",
        ),
        "ca_sin" => group(
            &complete(
                &format!("{}{}", 1 + r.below(7), r.digits(7)),
                DIGITS,
                v::ca_sin,
            )?,
            &[3, 3, 3],
            " ",
        ),
        "au_tfn" => group(
            &complete(
                &format!("{}{}", 1 + r.below(9), r.digits(7)),
                DIGITS,
                v::au_tfn,
            )?,
            &[3, 3, 3],
            " ",
        ),
        "in_aadhaar" => group(
            &complete(
                &format!("{}{}", 2 + r.below(8), r.digits(10)),
                DIGITS,
                v::in_aadhaar,
            )?,
            &[4, 4, 4],
            " ",
        ),
        "in_pan" => format!(
            "{}P{}{}{}",
            r.chars(UPPER, 3),
            r.chars(UPPER, 1),
            r.digits(4),
            r.chars(UPPER, 1)
        ),
        "fr_nir" => {
            let body = format!(
                "{}{}{:02}{:02}{}",
                1 + r.below(2),
                r.digits(2),
                1 + r.below(12),
                1 + r.below(95),
                r.digits(6)
            );
            let n: u64 = body.parse().ok()?;
            format!("{body}{:02}", 97 - n % 97)
        }
        "es_dni" => complete(&r.digits(8), UPPER, v::es_dni)?,
        "it_fiscal_code" => {
            let body = format!(
                "{}{}{}{:02}{}{}",
                r.chars(UPPER, 6),
                r.digits(2),
                r.pick(&["A", "B", "C", "D", "E", "H", "L", "M", "P", "R", "S", "T"]),
                1 + r.below(28),
                r.chars(UPPER, 1),
                r.digits(3)
            );
            complete(&body, UPPER, v::it_fiscal_code)?
        }
        "nl_bsn" => complete(
            &format!("{}{}", 1 + r.below(9), r.digits(7)),
            DIGITS,
            v::nl_bsn,
        )?,
        "br_cpf" => {
            let base = r.digits(9);
            let full = (0..100)
                .map(|c| format!("{base}{c:02}"))
                .find(|s| v::br_cpf(s))?;
            format!(
                "{}.{}.{}-{}",
                &full[..3],
                &full[3..6],
                &full[6..9],
                &full[9..]
            )
        }
        "sg_nric" => complete(&format!("S{}", r.digits(7)), UPPER, v::sg_nric)?,
        "za_id" => complete(
            &format!(
                "{:02}{:02}{:02}{}08",
                r.below(100),
                1 + r.below(12),
                1 + r.below(28),
                r.digits(4)
            ),
            DIGITS,
            v::za_id,
        )?,
        "pl_pesel" => complete(
            &format!(
                "{:02}{:02}{:02}{}",
                r.below(100),
                1 + r.below(12),
                1 + r.below(28),
                r.digits(4)
            ),
            DIGITS,
            v::pl_pesel,
        )?,
        "us_npi" => complete(&format!("1{}", r.digits(8)), DIGITS, v::us_npi)?,
        "us_dea" => complete(
            &format!("A{}{}", r.chars(UPPER, 1), r.digits(6)),
            DIGITS,
            v::us_dea,
        )?,
        "us_mbi" => {
            let a = |r: &mut Rng| r.chars(b"ACDEFGHJKMNPQRTUVWXY", 1);
            format!(
                "{}{}{}{}{}{}{}{}{}{}",
                1 + r.below(9),
                a(r),
                a(r),
                r.digits(1),
                a(r),
                a(r),
                r.digits(1),
                a(r),
                a(r),
                r.digits(2)
            )
        }
        "aws_access_key_id" => format!("AKIA{}", r.chars(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16)),
        "github_token" => format!("ghp_{}", r.chars(ALNUM, 36)),
        "stripe_secret_key" => format!("sk_live_{}", r.chars(ALNUM, 24)),
        "google_api_key" => format!("AIza{}", r.chars(ALNUM, 35)),
        "slack_token" => format!(
            "xoxb-{}-{}-{}",
            r.digits(12),
            r.digits(13),
            r.chars(ALNUM, 24)
        ),
        "twilio_api_key" => format!("SK{}", r.chars(HEX, 32)),
        "npm_token" => format!("npm_{}", r.chars(ALNUM, 36)),
        "email" => format!(
            "{}.{}@{}.com",
            r.pick(&["jane", "li", "omar", "ana"]),
            r.chars(b"abcdefghijklmnopqrstuvwxyz", 6),
            r.pick(&["example", "corp-mail", "uni"])
        ),
        "ip_address" => format!(
            "{}.{}.{}.{}",
            10 + r.below(200),
            r.below(256),
            r.below(256),
            1 + r.below(254)
        ),
        "phone_number" => format!("+44 20 {} {}", r.digits(4), r.digits(4)),
        _ => return None,
    })
}

/// A near miss: one digit changed so the checksum fails (None if it still validates).
fn near_miss(det: &str, value: &str, r: &mut Rng, engine: &Engine) -> Option<String> {
    let positions: Vec<usize> = value
        .char_indices()
        .filter(|(_, c)| c.is_ascii_digit())
        .map(|(i, _)| i)
        .collect();
    let i = *positions.last()?;
    let old = value.as_bytes()[i] - b'0';
    let new = (old + 1 + r.below(9) as u8) % 10;
    let mut s = value.to_string();
    s.replace_range(i..i + 1, &new.to_string());
    // Keep only values that no longer validate for this detector.
    let bare = engine.scan(&s);
    (!bare
        .iter()
        .any(|f| f.detector == det && f.confidence >= Confidence::Low))
    .then_some(s)
}

const TEMPLATES: &[&str] = &[
    "Hi team, as requested the {ctx} is {value}. Let me know if anything else is needed.",
    "Customer called about the invoice; {ctx}: {value} (verified in person).",
    "Please update the record with {ctx} {value} before Friday's audit.",
    "Forwarding the form. Name: Maria Lopez, {ctx} {value}, city: Lyon.",
];

const EVERYDAY: &[&str] = &[
    "Order #100234 shipped on 2024-05-01 at 14:32:11 UTC.",
    "Request id 123e4567-e89b-12d3-a456-426614174000 failed after 3 retries.",
    "sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "Build 1700000000 finished in 42.7 seconds on version 2.14.3.",
    "We shipped 1234567 units in Q3 and 2345678 in Q4; growth 18.5 percent.",
    "Room 221, floor 3; ticket INV-2024-000123 for 1,234.56 EUR.",
    "Flight LH 441 departs 07:45 from gate B12, seat 23C.",
];

/// A planted value: (detector id, start, end) in bytes of its document.
type Label = (String, usize, usize);

fn main() {
    let write_dir = std::env::args().skip_while(|a| a != "--write").nth(1);
    let show_errors = std::env::args().any(|a| a == "--show-errors");
    let engine = Engine::with_defaults();
    let infos = engine.detectors();
    let mut r = Rng(0x9E37_79B9_7F4A_7C15);
    let per_detector = 150;
    // (text, labels: (detector, start, end))
    let mut docs: Vec<(String, Vec<Label>)> = Vec::new();
    for info in &infos {
        let mut made = 0;
        let mut attempts = 0;
        while made < per_detector && attempts < per_detector * 20 {
            attempts += 1;
            let Some(value) = generate(&info.id, &mut r) else {
                if attempts > 50 && made == 0 {
                    break;
                }
                continue;
            };
            let ctx = if info.context.is_empty() {
                "value".to_string()
            } else {
                info.context[r.below(info.context.len() as u64) as usize].clone()
            };
            let t = TEMPLATES[r.below(TEMPLATES.len() as u64) as usize];
            let (pre, post) = t.split_once("{value}").unwrap_or((t, ""));
            let pre = pre.replace("{ctx}", &ctx);
            let text = format!("{pre}{value}{post}");
            docs.push((
                text,
                vec![(info.id.clone(), pre.len(), pre.len() + value.len())],
            ));
            if let Some(miss) = near_miss(&info.id, &value, &mut r, &engine) {
                docs.push((format!("{pre}{miss}{post}"), vec![]));
            }
            made += 1;
        }
    }
    for t in EVERYDAY {
        docs.push((t.to_string(), vec![]));
    }
    if let Some(dir) = &write_dir {
        let path = std::path::Path::new(dir).join("corpus.jsonl");
        let mut f =
            std::fs::File::create(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        for (text, labels) in &docs {
            let labels: Vec<_> = labels
                .iter()
                .map(|(d, s, e)| serde_json::json!({"detector": d, "start": s, "end": e}))
                .collect();
            writeln!(f, "{}", serde_json::json!({"text": text, "labels": labels}))
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        }
        eprintln!("wrote {} documents to {}", docs.len(), path.display());
    }
    let mut stats: BTreeMap<String, (usize, usize, usize)> = BTreeMap::new(); // tp, fp, fn
    for (text, labels) in &docs {
        let found: Vec<_> = engine
            .scan(text)
            .into_iter()
            .filter(|f| f.confidence >= Confidence::Medium)
            .collect();
        for (d, s, e) in labels {
            let hit = found
                .iter()
                .any(|f| &f.detector == d && f.start < *e && *s < f.end);
            let st = stats.entry(d.clone()).or_default();
            if hit {
                st.0 += 1;
            } else {
                st.2 += 1;
                if show_errors {
                    println!("missed {d}: {text}");
                }
            }
        }
        for f in &found {
            if !labels
                .iter()
                .any(|(d, s, e)| *d == f.detector && f.start < *e && *s < f.end)
            {
                stats.entry(f.detector.to_string()).or_default().1 += 1;
                if show_errors {
                    println!(
                        "false {} [{:?}] {:?}: {text}",
                        f.detector,
                        f.confidence,
                        &text[f.start..f.end]
                    );
                }
            }
        }
    }
    println!(
        "{:<22} {:>6} {:>6} {:>6} {:>9} {:>7}",
        "detector", "tp", "fp", "fn", "precision", "recall"
    );
    let mut failing = Vec::new();
    for (d, (tp, fp, fnn)) in &stats {
        let p = if tp + fp == 0 {
            1.0
        } else {
            *tp as f64 / (tp + fp) as f64
        };
        let rc = if tp + fnn == 0 {
            1.0
        } else {
            *tp as f64 / (tp + fnn) as f64
        };
        println!("{d:<22} {tp:>6} {fp:>6} {fnn:>6} {p:>9.3} {rc:>7.3}");
        if p < 0.98 || rc < 0.98 {
            failing.push(d.clone());
        }
    }
    println!("documents: {}", docs.len());
    if !failing.is_empty() {
        println!("below 0.98: {}", failing.join(", "));
        std::process::exit(1);
    }
}
