//! The features the source-code classifier counts, hashed into buckets.
//!
//! A text is read line by line; each line gives:
//! - **words**: identifiers and keywords (`fn`, `self`, `def`, `the`), case
//!   kept (`None` and `none` differ in Python), at most 24 bytes; a word
//!   with non-ASCII letters also counts as "a non-ASCII word" (each such
//!   word is rare, together they mark text in other scripts);
//! - **word pairs**: each word with the next (`let mut`, `import os`,
//!   `of the`): keywords come in fixed orders in code, articles in prose;
//! - **symbol runs**: runs of punctuation (`{`, `);`, `=>`, `::`, `#[`),
//!   at most 4 bytes, and each run with the word before it (`self.`,
//!   `println!(`);
//! - **line shape**: the indentation (spaces rounded to a multiple of two,
//!   tabs counted apart), the first and last non-blank byte of the line
//!   (`;`, `{`, `}`, `:` end code lines, `.` and letters end prose), and the
//!   line length in 16-byte steps (prose is wrapped at 70-80 columns or not
//!   at all).
//!
//! Each feature is hashed (FNV-1a, 64 bits, with a one-byte kind prefix so
//! a word and a symbol run never share a key) into [`BUCKETS`] buckets. The
//! same function serves training and classification, so they cannot drift.

/// Number of hash buckets (a power of two).
pub const BUCKETS: usize = 1 << 15;

/// Longest word kept, in bytes (longer ones are cut).
const MAX_WORD: usize = 24;
/// Longest symbol run kept, in bytes.
const MAX_SYMBOLS: usize = 4;

/// FNV-1a over a kind byte and the bytes of a feature.
fn hash(kind: u8, parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |b: u8| {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    };
    eat(kind);
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            eat(0xff);
        }
        for &b in *p {
            eat(b);
        }
    }
    h
}

fn bucket(h: u64) -> u32 {
    // High bits mixed in: FNV's low bits are the weakest.
    ((h ^ (h >> 29)) as usize & (BUCKETS - 1)) as u32
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

fn is_symbol(b: u8) -> bool {
    b.is_ascii_punctuation() && b != b'_'
}

/// Calls `emit` with the bucket of every feature of `text`, in order
/// (a feature occurring twice is emitted twice).
pub fn for_each(text: &str, mut emit: impl FnMut(u32)) {
    for line in text.as_bytes().split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        line_features(line, &mut emit);
    }
}

fn line_features(line: &[u8], emit: &mut impl FnMut(u32)) {
    let indent_end = line
        .iter()
        .position(|&b| b != b' ' && b != b'\t')
        .unwrap_or(line.len());
    let body = &line[indent_end..];
    let trimmed_len = body
        .iter()
        .rposition(|&b| b != b' ' && b != b'\t')
        .map_or(0, |p| p + 1);
    let body = &body[..trimmed_len];
    if body.is_empty() {
        emit(bucket(hash(b'B', &[])));
        return;
    }
    let indent = &line[..indent_end];
    let tabs = indent.iter().filter(|&&b| b == b'\t').count().min(4) as u8;
    let spaces = (indent.len() - usize::from(tabs)).min(16) as u8 / 2 * 2;
    emit(bucket(hash(b'I', &[&[tabs, spaces]])));
    let first = body[0];
    let last = body[body.len() - 1];
    let class = |b: u8| {
        if b.is_ascii_alphabetic() {
            b'a'
        } else if b.is_ascii_digit() {
            b'0'
        } else {
            b
        }
    };
    emit(bucket(hash(b'F', &[&[class(first)]])));
    emit(bucket(hash(b'L', &[&[class(last)]])));
    emit(bucket(hash(b'S', &[&[class(first), class(last)]])));
    emit(bucket(hash(b'W', &[&[(body.len() / 16).min(12) as u8]])));

    let mut prev_word: &[u8] = b"^";
    let mut i = 0;
    while i < body.len() {
        let b = body[i];
        if is_word(b) {
            let s = i;
            while i < body.len() && is_word(body[i]) {
                i += 1;
            }
            let word = &body[s..i.min(s + MAX_WORD)];
            // Numbers are all alike: one feature per digit count.
            let word: &[u8] = if word[0].is_ascii_digit() { b"0" } else { word };
            emit(bucket(hash(b'w', &[word])));
            if !word.is_ascii() {
                // Words of other scripts: rare one by one, common as a kind.
                emit(bucket(hash(b'u', &[])));
            }
            emit(bucket(hash(b'p', &[prev_word, word])));
            prev_word = word;
        } else if is_symbol(b) {
            let s = i;
            while i < body.len() && is_symbol(body[i]) {
                i += 1;
            }
            let run = &body[s..i.min(s + MAX_SYMBOLS)];
            emit(bucket(hash(b's', &[run])));
            emit(bucket(hash(b'x', &[prev_word, run])));
            prev_word = b"$";
        } else {
            i += 1;
        }
    }
    emit(bucket(hash(b'p', &[prev_word, b"$end"])));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn features(text: &str) -> Vec<u32> {
        let mut v = Vec::new();
        for_each(text, |b| v.push(b));
        v
    }

    #[test]
    fn same_text_same_features_and_buckets_in_range() {
        let t = "fn main() {\n    println!(\"hi\");\n}\n";
        let a = features(t);
        assert_eq!(a, features(t));
        assert!(a.iter().all(|&b| (b as usize) < BUCKETS));
        assert!(a.len() > 15, "{}", a.len());
    }

    #[test]
    fn indentation_and_line_ends_are_features() {
        // Same words, different layout: different features.
        assert_ne!(features("a = b;\n"), features("  a = b\n"));
        // Numbers collapse to one feature.
        assert_eq!(features("x 123\n"), features("x 98\n"));
    }
}
