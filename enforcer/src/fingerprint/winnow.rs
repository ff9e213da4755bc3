//! From text to fingerprints: words, salted shingle hashes, and winnowing.
//!
//! - **Words** are runs of letters and digits, lower-cased; everything else
//!   (punctuation, spacing, markup left by an extractor, line breaks) only
//!   separates them, so re-flowed, re-punctuated or re-saved copies of a
//!   text give the same words.
//! - **Shingles** are [`SHINGLE_WORDS`] consecutive words. Each word is
//!   hashed with the store's salt (FNV-1a over its bytes, seeded with the
//!   salt, then a SplitMix64 finaliser); a shingle's hash is a rolling
//!   polynomial over its words' hashes, finalised with the salt again. Without
//!   the salt a hash cannot be tested against guessed text.
//! - **Winnowing** (Schleimer, Wilkerson and Aiken, SIGMOD 2003) keeps the
//!   smallest hash of every window of [`WINDOW`] consecutive shingles
//!   (the rightmost on ties). Any passage of at least
//!   `SHINGLE_WORDS + WINDOW - 1` words shared by two texts yields at least
//!   one fingerprint they share, and about `2 / (WINDOW + 1)` of the
//!   shingles are kept.

/// Words per shingle.
pub const SHINGLE_WORDS: usize = 6;

/// Shingles per winnowing window.
pub const WINDOW: usize = 8;

/// The shortest shared passage, in words, that is always detected.
pub const GUARANTEED_WORDS: usize = SHINGLE_WORDS + WINDOW - 1;

/// The multiplier of the rolling shingle hash (odd, so invertible mod 2^64).
const BASE: u64 = 0x100_0000_01b3;

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Calls `f` with the salted hash of each word of `text` and the byte
/// range it covers, in order.
fn for_each_word(text: &str, salt: u64, mut f: impl FnMut(u64, usize, usize)) {
    const FNV_PRIME: u64 = 0x100_0000_01b3;
    let seed = 0xcbf2_9ce4_8422_2325 ^ salt;
    let mut h = seed;
    // Where the current word started, while in one.
    let mut start: Option<usize> = None;
    let mut end_word = |h: &mut u64, start: &mut Option<usize>, end: usize| {
        if let Some(s) = start.take() {
            f(splitmix(*h ^ salt.rotate_left(17)), s, end);
            *h = seed;
        }
    };
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b < 0x80 {
            if b.is_ascii_alphanumeric() {
                h = (h ^ u64::from(b.to_ascii_lowercase())).wrapping_mul(FNV_PRIME);
                start.get_or_insert(i);
            } else {
                end_word(&mut h, &mut start, i);
            }
            i += 1;
            continue;
        }
        // A non-ASCII character: decode it and fold its case.
        let c = text[i..].chars().next().unwrap_or(' ');
        let at = i;
        i += c.len_utf8();
        if c.is_alphanumeric() {
            for lc in c.to_lowercase() {
                let mut buf = [0u8; 4];
                for &x in lc.encode_utf8(&mut buf).as_bytes() {
                    h = (h ^ u64::from(x)).wrapping_mul(FNV_PRIME);
                }
            }
            start.get_or_insert(at);
        } else {
            end_word(&mut h, &mut start, at);
        }
    }
    end_word(&mut h, &mut start, bytes.len());
}

/// The winnowed fingerprints of `text` under `salt`, in text order (a hash
/// may repeat when the text repeats itself). `words` is set to the number
/// of words seen.
pub fn fingerprints(text: &str, salt: u64, words: &mut usize) -> Vec<u64> {
    winnow(text, salt, words, |_, _| ())
        .into_iter()
        .map(|(h, _)| h)
        .collect()
}

/// Like [`fingerprints`], with the byte range of the shingle each
/// fingerprint stands for (from its first word's start to its last word's
/// end): where a shared passage lies in `text`.
pub fn fingerprint_spans(text: &str, salt: u64) -> Vec<(u64, std::ops::Range<usize>)> {
    let mut spans: Vec<(usize, usize)> = Vec::new();
    let mut words = 0;
    let picks = winnow(text, salt, &mut words, |from, to| spans.push((from, to)));
    picks
        .into_iter()
        .map(|(h, pos)| {
            let (from, to) = spans[pos];
            (h, from..to)
        })
        .collect()
}

/// Shingles `text`, calls `shingle` with the byte range of each shingle in
/// order, and returns the winnowed picks: (hash, shingle position).
fn winnow(
    text: &str,
    salt: u64,
    words: &mut usize,
    mut shingle: impl FnMut(usize, usize),
) -> Vec<(u64, usize)> {
    let mut ring = [0u64; SHINGLE_WORDS];
    let mut starts = [0usize; SHINGLE_WORDS];
    let mut n = 0usize;
    // BASE^(SHINGLE_WORDS-1), to take the oldest word out of the rolling hash.
    let top = (1..SHINGLE_WORDS).fold(1u64, |acc, _| acc.wrapping_mul(BASE));
    let mut rolling = 0u64;
    let mut win = Winnower::default();
    for_each_word(text, salt, |w, from, to| {
        let slot = n % SHINGLE_WORDS;
        if n >= SHINGLE_WORDS {
            rolling = rolling.wrapping_sub(ring[slot].wrapping_mul(top));
        }
        rolling = rolling.wrapping_mul(BASE).wrapping_add(w);
        ring[slot] = w;
        starts[slot] = from;
        n += 1;
        if n >= SHINGLE_WORDS {
            // The oldest word of the shingle is the next slot's.
            shingle(starts[n % SHINGLE_WORDS], to);
            win.push(splitmix(rolling ^ salt));
        }
    });
    *words = n;
    win.finish()
}

/// Winnowing with a monotone queue: O(1) per shingle.
#[derive(Default)]
struct Winnower {
    /// (position, hash), hashes increasing from front to back.
    queue: std::collections::VecDeque<(usize, u64)>,
    next: usize,
    last_pick: Option<usize>,
    /// (hash, shingle position) of each pick.
    out: Vec<(u64, usize)>,
}

impl Winnower {
    fn push(&mut self, h: u64) {
        let pos = self.next;
        self.next += 1;
        // Rightmost minimum: drop every queued hash not smaller than `h`.
        while self.queue.back().is_some_and(|&(_, b)| b >= h) {
            self.queue.pop_back();
        }
        self.queue.push_back((pos, h));
        if pos + 1 < WINDOW {
            return;
        }
        let start = pos + 1 - WINDOW;
        while self.queue.front().is_some_and(|&(p, _)| p < start) {
            self.queue.pop_front();
        }
        self.pick();
    }

    fn pick(&mut self) {
        if let Some(&(p, h)) = self.queue.front() {
            if self.last_pick != Some(p) {
                self.last_pick = Some(p);
                self.out.push((h, p));
            }
        }
    }

    fn finish(mut self) -> Vec<(u64, usize)> {
        // A text shorter than one window still has its smallest shingle.
        if self.next > 0 && self.next < WINDOW {
            self.pick();
        }
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fps(text: &str) -> Vec<u64> {
        let mut n = 0;
        fingerprints(text, 42, &mut n)
    }

    #[test]
    fn case_punctuation_and_spacing_do_not_matter() {
        let a = fps("The Quarterly revenue of Northwind rose by 12 percent, to 4.2 million.");
        let b = fps("the quarterly   revenue of\nnorthwind rose by 12 percent to 4 2 million");
        assert_eq!(a, b);
        assert!(!a.is_empty());
        let c = fps("ÉTÉ Über naïve façade déjà vu café crème brûlée");
        let d = fps("été über naïve façade déjà vu café crème brûlée");
        assert_eq!(c, d);
    }

    #[test]
    fn spans_cover_each_fingerprints_six_words() {
        let text =
            "Alpha, beta  gamma délta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi";
        let mut n = 0;
        let plain = fingerprints(text, 7, &mut n);
        let spans = fingerprint_spans(text, 7);
        assert_eq!(plain, spans.iter().map(|(h, _)| *h).collect::<Vec<_>>());
        for (h, r) in &spans {
            let shingle = &text[r.clone()];
            assert_eq!(
                fingerprints(shingle, 7, &mut n),
                vec![*h],
                "{shingle:?} is the shingle"
            );
            assert_eq!(n, SHINGLE_WORDS, "{shingle:?}");
        }
    }

    #[test]
    fn the_salt_changes_every_hash() {
        let text = "one two three four five six seven eight nine ten eleven twelve";
        let mut n = 0;
        let a = fingerprints(text, 1, &mut n);
        let b = fingerprints(text, 2, &mut n);
        assert!(a.iter().all(|h| !b.contains(h)));
    }

    #[test]
    fn a_shared_passage_of_the_guaranteed_length_shares_a_fingerprint() {
        let passage: Vec<String> = (0..GUARANTEED_WORDS).map(|i| format!("w{i}x")).collect();
        let passage = passage.join(" ");
        for pad in 0..20 {
            let left: String = (0..pad).map(|i| format!("left{i} ")).collect();
            let right: String = (0..(19 - pad)).map(|i| format!(" right{i}")).collect();
            let a = fps(&format!("{left}{passage}{right}"));
            let b = fps(&format!("alpha beta gamma {passage} delta"));
            assert!(a.iter().any(|h| b.contains(h)), "pad {pad}");
        }
    }

    #[test]
    fn about_two_in_window_plus_one_shingles_are_kept() {
        let text: String = (0..20_000)
            .map(|i| format!("word{} ", i * 7919 % 10007))
            .collect();
        let kept = fps(&text).len() as f64;
        let density = kept / 20_000.0;
        let expected = 2.0 / (WINDOW as f64 + 1.0);
        assert!((density - expected).abs() < 0.03, "{density} vs {expected}");
    }

    #[test]
    fn short_texts_give_at_most_one_fingerprint_and_empty_ones_none() {
        assert!(fps("").is_empty());
        assert!(fps("five words are not enough").is_empty());
        assert_eq!(fps("six words make exactly one shingle").len(), 1);
    }
}
