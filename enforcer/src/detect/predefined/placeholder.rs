//! Placeholders: values written in documentation, templates and tests in
//! the place of a real secret (`AKIAXXXXXXXXXXXXXXXX`, `your_key_here`,
//! `xoxp-000000000000-...`, `AKIAIOSFODNN7EXAMPLE`). A real key is random:
//! it has no long run of one character, no long alphabetical or numerical
//! sequence, several distinct characters and none of these words.

/// Words that only placeholders hold (lower-case, matched anywhere).
const WORDS: &[&str] = &[
    "example",
    "sample",
    "placeholder",
    "your_",
    "your-",
    "yourkey",
    "yourtoken",
    "yoursecret",
    "insert",
    "_here",
    "-here",
    "changeme",
    "redacted",
    "dummy",
    "xxxx",
    "****",
    "....",
    "<",
    ">",
    "{{",
    "${",
    "%s",
];

/// Whether `value` (a whole key, prefix included) is a placeholder.
pub fn is_placeholder(value: &str) -> bool {
    let b = value.as_bytes();
    // Case-insensitive search of every word, without allocating: at each
    // position, the words starting with that (lower-cased) byte.
    for i in 0..b.len() {
        let first = b[i].to_ascii_lowercase();
        for w in WORDS {
            let w = w.as_bytes();
            if w[0] == first && b.len() - i >= w.len() && b[i..i + w.len()].eq_ignore_ascii_case(w)
            {
                return true;
            }
        }
    }
    // A run of one character (`0000000000`, `aaaaaaa`).
    let mut run = 1;
    for w in b.windows(2) {
        run = if w[0] == w[1] { run + 1 } else { 1 };
        if run >= 6 {
            return true;
        }
    }
    // An ascending sequence (`abcdefgh`, `12345678`), ignoring case.
    let mut seq = 1;
    for w in b.windows(2) {
        let (x, y) = (w[0].to_ascii_lowercase(), w[1].to_ascii_lowercase());
        seq = if y == x.wrapping_add(1) && x.is_ascii_alphanumeric() {
            seq + 1
        } else {
            1
        };
        if seq >= 8 {
            return true;
        }
    }
    // Few distinct characters for its length (`abababababab...`).
    let mut seen = [false; 256];
    for &x in b {
        seen[usize::from(x)] = true;
    }
    let distinct = seen.iter().filter(|&&x| x).count();
    b.len() >= 16 && distinct < 8
}

#[cfg(test)]
mod tests {
    use super::is_placeholder;

    #[test]
    fn placeholders_and_real_looking_keys() {
        for p in [
            "AKIAXXXXXXXXXXXXXXXX",
            "AKIAIOSFODNN7EXAMPLE",
            "AIzaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "xoxp-000000000000-000000000000-000000000000-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
            "https://hooks.slack.com/services/Txxxxxxxx/Bxxxxxxxx/xxxxxxxxxxxxxxxxxxxxxxxx",
            "your_key_here",
            "insert_key_here",
            "sk_live_<your-secret-key>",
            "ghp_${GITHUB_TOKEN}",
            "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
            "ghp_1234567890123456789012345678901234ab",
            "sk-abababababababababababababababab",
        ] {
            assert!(is_placeholder(p), "{p}");
        }
        for k in [
            "ghp_aB3dE5fG7hI9jK1lM3nO5pQ7rS9tU1vW3xY5",
            "AKIAVFC6O5YBPUAMIEKG",
            "xoxb-781236542736-2364535789652-GkwFDQoHqzXDVsC6GzqYUypD",
            "sk_live_4eC39HqLyjWDarjtT1zdp7dc9a",
            "dapif13ac4b49d1cb31f69f678e39602e381-2",
        ] {
            assert!(!is_placeholder(k), "{k}");
        }
    }
}
