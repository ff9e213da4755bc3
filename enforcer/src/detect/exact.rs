//! Exact data match (EDM): an admin's list of real values (customer ids,
//! account numbers, names), stored only as salted hashes.
//!
//! Each CSV cell is normalised ([`normalise_value`]: compatibility forms
//! folded, lower-cased, whitespace collapsed, and digit strings stripped of
//! their separators so `4111-1111` equals `4111 1111`) and kept as
//! HMAC-SHA-256 under a random per-set salt. Clear text is dropped as soon as
//! it is hashed, and `Debug` prints only counts. At scan time, every token,
//! every run of up to `max_words` tokens, and every digit group chain of the
//! text is normalised the same way and looked up; lengths not present in the
//! set are skipped before hashing.

use std::collections::HashSet;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::error::{Error, Result};
use super::normalise::Normalised;

type HmacSha256 = Hmac<Sha256>;

/// Shortest value kept: shorter cells would match everyday words.
pub const MIN_VALUE_CHARS: usize = 3;
/// Most words in one value (`Jean-Pierre de la Fontaine`).
pub const MAX_VALUE_WORDS: usize = 6;

/// Salted hashes of normalised values; never stores clear text.
#[derive(Clone, Default)]
pub struct ExactDataSet {
    salt: [u8; 32],
    hashes: HashSet<[u8; 32]>,
    lengths: HashSet<usize>,
    max_words: usize,
    skipped: usize,
}

impl std::fmt::Debug for ExactDataSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExactDataSet")
            .field("values", &self.hashes.len())
            .field("skipped", &self.skipped)
            .finish()
    }
}

/// Normalises one value for hashing; `None` when nothing meaningful remains.
pub fn normalise_value(value: &str) -> Option<String> {
    normalise_counted(value).map(|(v, _)| v)
}

/// [`normalise_value`] plus the number of words a text form of it may span.
fn normalise_counted(value: &str) -> Option<(String, usize)> {
    let n = Normalised::new(value);
    let lower = n.text.to_lowercase();
    let collapsed: String = lower.split_whitespace().collect::<Vec<_>>().join(" ");
    let trimmed = collapsed
        .trim_matches(|c: char| !c.is_alphanumeric())
        .to_string();
    if trimmed.is_empty() {
        return None;
    }
    let numeric_like = trimmed
        .chars()
        .all(|c| c.is_ascii_digit() || " -./()+".contains(c));
    let words = trimmed
        .split(|c: char| " -./()".contains(c))
        .filter(|w| !w.is_empty())
        .count();
    let out = if numeric_like {
        trimmed.chars().filter(char::is_ascii_digit).collect()
    } else {
        trimmed
    };
    (out.chars().count() >= MIN_VALUE_CHARS).then_some((out, words.clamp(1, MAX_VALUE_WORDS)))
}

impl ExactDataSet {
    /// Reads a CSV (header row; `columns` = which columns, None = all),
    /// normalises each cell, stores salted SHA-256 hashes. Errors name the
    /// line (and field) and never quote the input.
    pub fn from_csv<R: std::io::Read>(
        reader: R,
        columns: Option<&[String]>,
    ) -> Result<ExactDataSet> {
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(false)
            .from_reader(reader);
        let headers = rdr.headers().map_err(|e| csv_error(&e))?.clone();
        let wanted: Vec<usize> = match columns {
            None => (0..headers.len()).collect(),
            Some(cols) => cols
                .iter()
                .map(|c| {
                    headers
                        .iter()
                        .position(|h| h.trim() == c.trim())
                        .ok_or_else(|| Error::Csv {
                            line: 1,
                            // The header's own cells are not quoted: the file
                            // may not be the data file its admin meant.
                            message: format!(
                                "no column `{c}` in the header row (it has {} column{})",
                                headers.len(),
                                if headers.len() == 1 { "" } else { "s" }
                            ),
                        })
                })
                .collect::<Result<_>>()?,
        };
        let mut set = ExactDataSet {
            salt: rand::random(),
            ..ExactDataSet::default()
        };
        for record in rdr.records() {
            let record = record.map_err(|e| csv_error(&e))?;
            for &i in &wanted {
                match record.get(i).and_then(normalise_counted) {
                    Some((v, w)) => set.insert(&v, w),
                    None => set.skipped += 1,
                }
            }
        }
        if set.hashes.is_empty() {
            return Err(Error::Csv {
                line: 0,
                message: "no usable values (cells must hold 3+ characters)".into(),
            });
        }
        Ok(set)
    }

    /// Builds a set from values in code (each normalised like CSV cells).
    pub fn from_values<I: IntoIterator<Item = S>, S: AsRef<str>>(values: I) -> ExactDataSet {
        let mut set = ExactDataSet {
            salt: rand::random(),
            ..ExactDataSet::default()
        };
        for v in values {
            match normalise_counted(v.as_ref()) {
                Some((v, w)) => set.insert(&v, w),
                None => set.skipped += 1,
            }
        }
        set
    }

    fn insert(&mut self, normalised: &str, words: usize) {
        self.lengths.insert(normalised.len());
        self.max_words = self.max_words.max(words);
        let h = self.hash(normalised);
        self.hashes.insert(h);
    }

    fn hash(&self, normalised: &str) -> [u8; 32] {
        let mut mac = HmacSha256::new_from_slice(&self.salt).unwrap_or_else(|_| unreachable_hmac());
        mac.update(normalised.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// Number of distinct values.
    pub fn len(&self) -> usize {
        self.hashes.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.hashes.is_empty()
    }

    /// Cells skipped as empty or too short.
    pub fn skipped(&self) -> usize {
        self.skipped
    }

    /// Whether a normalised value is in the set.
    pub fn contains_normalised(&self, normalised: &str) -> bool {
        self.lengths.contains(&normalised.len()) && self.hashes.contains(&self.hash(normalised))
    }

    /// Finds values in (normalised) `text`: byte spans of the matches.
    pub fn find(&self, text: &str, from: usize, to: usize) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        if self.hashes.is_empty() {
            return out;
        }
        // Tokens: whitespace-separated, trimmed of punctuation.
        let mut tokens: Vec<(usize, usize)> = Vec::new();
        let slice = &text[from..to];
        let mut pos = 0;
        for word in slice.split(|c: char| c.is_whitespace()) {
            let start = pos;
            pos += word.len() + 1;
            let lead = word.len()
                - word
                    .trim_start_matches(|c: char| !c.is_alphanumeric())
                    .len();
            let trimmed = word.trim_matches(|c: char| !c.is_alphanumeric());
            if !trimmed.is_empty() {
                tokens.push((from + start + lead, from + start + lead + trimmed.len()));
            }
        }
        let mut buf = String::new();
        for i in 0..tokens.len() {
            for j in i..tokens.len().min(i + self.max_words.max(1)) {
                let (s, e) = (tokens[i].0, tokens[j].1);
                if e - s > 256 {
                    break;
                }
                buf.clear();
                for (k, t) in tokens[i..=j].iter().enumerate() {
                    if k > 0 {
                        buf.push(' ');
                    }
                    buf.push_str(&text[t.0..t.1]);
                }
                if let Some(v) = quick_normalise(&buf) {
                    if self.contains_normalised(&v) {
                        out.push((s, e));
                    }
                }
            }
        }
        out
    }
}

/// Like [`normalise_value`] for text that is already normalised.
fn quick_normalise(s: &str) -> Option<String> {
    let lower = s.to_lowercase();
    let numeric_like = lower
        .chars()
        .all(|c| c.is_ascii_digit() || " -./()+".contains(c));
    let out = if numeric_like {
        lower.chars().filter(char::is_ascii_digit).collect()
    } else {
        lower
    };
    (out.chars().count() >= MIN_VALUE_CHARS).then_some(out)
}

/// Describes a CSV error by position and kind only: the csv crate's own
/// messages may grow to quote input one day, and this input may be a file
/// the admin was never meant to read.
fn csv_error(e: &csv::Error) -> Error {
    let line = e.position().map_or(0, csv::Position::line);
    let message = match e.kind() {
        csv::ErrorKind::Utf8 { err, .. } => {
            format!("field {} is not valid UTF-8", err.field() + 1)
        }
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("the row has {len} fields, the rows before it {expected_len}"),
        csv::ErrorKind::Io(io) => format!("read error: {}", io.kind()),
        _ => "malformed CSV".to_owned(),
    };
    Error::Csv { line, message }
}

fn unreachable_hmac() -> HmacSha256 {
    // HMAC accepts keys of any length; this is never reached.
    HmacSha256::new_from_slice(&[0u8; 32]).unwrap_or_else(|_| unreachable_hmac())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_values_match_normalised_text() {
        let csv = "name,account\nJane Doe,4000-1234-5678\nBob Stone,99887766\n";
        let set = ExactDataSet::from_csv(csv.as_bytes(), None).unwrap();
        assert_eq!(set.len(), 4);
        let text = "Customer JANE  DOE has account 4000 1234 5678.";
        let hits = set.find(text, 0, text.len());
        assert!(
            hits.iter().any(|&(s, e)| &text[s..e] == "JANE  DOE"),
            "{hits:?}"
        );
        assert!(!format!("{set:?}").contains("Jane"));
    }

    #[test]
    fn csv_errors_name_the_line() {
        let csv = "a,b\n1234,5678\n1,2,3\n";
        let err = ExactDataSet::from_csv(csv.as_bytes(), None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 3"), "{err}");
        let err = ExactDataSet::from_csv("a\nxyz\n".as_bytes(), Some(&["b".to_string()]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("no column `b`"), "{err}");
    }

    #[test]
    fn csv_errors_never_quote_the_input() {
        let secret = "root:$y$j9T$s3cr3t:19000:0:99999:7:::";
        let user = ["user".to_string()];
        let cases: [(Vec<u8>, Option<&[String]>); 3] = [
            (format!("{secret}\nx\n").into_bytes(), Some(&user)),
            (format!("a,b\n{secret},1\n{secret}\n").into_bytes(), None),
            (
                [&b"a\n"[..], secret.as_bytes(), &b"\xff\n"[..]].concat(),
                None,
            ),
        ];
        for (input, cols) in cases {
            let err = ExactDataSet::from_csv(input.as_slice(), cols)
                .unwrap_err()
                .to_string();
            assert!(!err.contains("root") && !err.contains("s3cr3t"), "{err}");
        }
        let err = ExactDataSet::from_csv(&b"a\nroot\xff\n"[..], None)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("line 2") && err.contains("not valid UTF-8"),
            "{err}"
        );
    }
}
