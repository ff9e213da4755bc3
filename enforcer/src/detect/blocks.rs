//! Large texts scanned in cache-sized blocks, with findings identical to
//! one scan of the whole text.
//!
//! A scan makes several passes over its text (normalisation, the
//! lower-cased copy, context words, the token and literal passes); on a text
//! of many megabytes each pass falls out of the caches, and the per-byte
//! speed drops (8 MB: ~10% slower than 1 MB). So a text longer than
//! [`BLOCK`] and a half is cut into blocks of about [`BLOCK`] bytes, and each
//! block `[a, b)` is scanned as the window `[a - margin, b + margin)`,
//! keeping the findings that *start* in `[a, b)`.
//!
//! Why the findings are the same as the whole scan's:
//! - a block border is a **chain break** ([`chain_break`]): a byte no chain
//!   of the token pass crosses (not a word byte, not a separator, not a weak
//!   separator before a digit), so every chain, its candidates and what
//!   they claim lie on one side of it, and the chain walk reaches the
//!   border in the same state whatever text came before (chains are
//!   capped at 64 words: where a chain is cut depends on where the walk
//!   started, which is why the border cannot be just anywhere);
//! - every other finding is at most [`MAX_SPAN`](super::engine::MAX_SPAN)
//!   long and depends on text at most a context window, or a detector's
//!   look-behind/look-ahead, from its span; one finding may remove another
//!   it contains. The margin, twice the engine's
//!   [`reach`](super::engine::Engine::reach), covers a finding that starts
//!   in the block, everything it depends on, and every finding that could
//!   contain it.
//!
//! Custom detectors' regexes have no bounded span: a selection with one is
//! scanned whole. A text with no chain break near a border (one enormous
//! chain) is scanned whole from there. Tests compare blocked and whole
//! scans on random texts with values straddling the borders.

use super::engine::{Engine, Indexed};

/// Target block size in bytes: with the lower-cased copy and the scan's
/// tables a block's working set stays within a core's L2 cache.
pub(crate) const BLOCK: usize = 512 << 10;

/// Whether no chain of the token pass joins `bytes[..p]` and `bytes[p..]`
/// (`0 < p < len`): the byte before `p` is not alphanumeric, not a
/// separator (` `, `-`, `.`, `/`, `(`, `)`), not a carriage return, and
/// not a weak separator (`_`, tab, line break) followed by a digit.
fn chain_break(bytes: &[u8], p: usize) -> bool {
    let x = bytes[p - 1];
    let joins = match x {
        b'_' | b'\t' | b'\n' => bytes[p].is_ascii_digit(),
        b' ' | b'-' | b'.' | b'/' | b'(' | b')' | b'\r' => true,
        _ => !x.is_ascii() || x.is_ascii_alphanumeric(),
    };
    !joins
}

/// The first chain break at or after `from`, before `bytes.len()`.
fn next_break(bytes: &[u8], from: usize) -> Option<usize> {
    (from.max(1)..bytes.len()).find(|&p| chain_break(bytes, p))
}

/// Scans `text` in blocks of about `block` bytes (whole when it is short
/// or a custom detector is on); see the module docs.
pub(crate) fn scan(
    engine: &Engine,
    text: &str,
    mask: Option<&[bool]>,
    block: usize,
) -> Vec<Indexed> {
    let custom = match mask {
        Some(m) => engine.selects_custom(m),
        None => engine.has_custom(),
    };
    if custom || text.len() <= block + block / 2 {
        return engine.scan_whole(text, mask);
    }
    let bytes = text.as_bytes();
    let margin = 2 * engine.reach();
    let mut out: Vec<Indexed> = Vec::new();
    let mut a = 0;
    while a < bytes.len() {
        let b = if bytes.len() - a <= block + block / 2 {
            bytes.len()
        } else {
            next_break(bytes, a + block).unwrap_or(bytes.len())
        };
        // `a` and `b` follow an ASCII byte: character boundaries.
        let ws = super::context::floor_boundary(text, a.saturating_sub(margin));
        let we = super::context::ceil_boundary(text, b.saturating_add(margin).min(text.len()));
        let found = engine.scan_whole(&text[ws..we], mask);
        out.extend(found.into_iter().filter_map(|mut f| {
            f.finding.start += ws;
            f.finding.end += ws;
            (a..b).contains(&f.finding.start).then_some(f)
        }));
        a = b;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::engine::EngineBuilder;

    fn key(found: &[Indexed]) -> Vec<(usize, String, usize, usize, String, String)> {
        found
            .iter()
            .map(|f| {
                (
                    f.det,
                    f.finding.detector.to_string(),
                    f.finding.start,
                    f.finding.end,
                    format!("{:?}", f.finding.confidence),
                    f.finding.evidence.to_string(),
                )
            })
            .collect()
    }

    /// Random text of pieces that make findings, near misses and long
    /// chains, with line breaks and other chain breaks in between.
    fn random_text(seed: u64, len: usize) -> String {
        let mut next = crate::detect::test_rng(seed);
        let pieces: &[&str] = &[
            "card 4111 1111 1111 1111 ",
            "4111.1111.1111.1111",
            "4111\n1111\n1111\n1111\n",
            "5555_5555_5555_4444 ",
            "ssn 123-45-6789 ",
            "alice.smith@example.com ",
            "AKIAIOSFODNN7EXAMPLE ",
            "GB82 WEST 1234 5698 7654 32 ",
            "+44 20 7946 0958 ",
            "server 10.0.0.1 ",
            "Chrome/120.0.0.0 ",
            "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n",
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U ",
            "password = hunter2secret ",
            "customer account invoice order policy report ",
            "1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 ",
            "12 34 56 78 90 12 34 56 78 90 ",
            "2024-12-06 ",
            ", ",
            "\n",
            "\t",
            "; ",
            "é ",
            "x",
            "0",
            " ",
        ];
        let mut s = String::with_capacity(len + 128);
        while s.len() < len {
            s.push_str(pieces[next(pieces.len() as u64) as usize]);
        }
        s
    }

    #[test]
    fn blocks_never_change_findings() {
        let engine = EngineBuilder::new().build().expect("engine");
        let sel = engine
            .selection(&crate::detect::PREDEFINED_PROFILES)
            .expect("profiles");
        for seed in 1..=6u64 {
            let text = random_text(seed * 0x9E37_79B9, 48 << 10);
            let whole = engine.scan_whole(&text, None);
            assert!(whole.len() > 100, "seed {seed}: {} findings", whole.len());
            for block in [700, 2_000, 5_003] {
                let blocked = scan(&engine, &text, None, block);
                assert_eq!(key(&blocked), key(&whole), "seed {seed}, block {block}");
                let mask = Some(sel.inner.mask.as_slice());
                assert_eq!(
                    key(&scan(&engine, &text, mask, block)),
                    key(&engine.scan_whole(&text, mask)),
                    "seed {seed}, block {block}, selection"
                );
            }
        }
    }

    /// Long chains (more than 64 words) and text without any break: the
    /// borders move to a break, or the rest is scanned whole.
    #[test]
    fn long_chains_and_unbroken_text_scan_the_same() {
        let engine = EngineBuilder::new().build().expect("engine");
        let mut chains = String::new();
        for k in 0..3000 {
            chains.push_str(&format!("{} ", 1000 + k % 9000));
            if k % 700 == 699 {
                chains.push_str("card 4111 1111 1111 1111, ");
            }
        }
        let unbroken = "4111 ".repeat(6000);
        for text in [chains, unbroken] {
            for block in [1_000, 4_096] {
                assert_eq!(
                    key(&scan(&engine, &text, None, block)),
                    key(&engine.scan_whole(&text, None))
                );
            }
        }
    }

    /// Custom detectors (unbounded regexes) keep the text whole.
    #[test]
    fn custom_detectors_scan_whole() {
        let mut b = EngineBuilder::new();
        b.custom_detector(crate::detect::CustomDetectorSpec {
            id: "wide".into(),
            description: "a regex spanning blocks".into(),
            kind: crate::detect::CustomKind::Regex {
                pattern: r"BEGIN[a-z ]+END".into(),
            },
            context: Vec::new(),
            confidence: crate::detect::Confidence::High,
        })
        .expect("custom");
        let engine = b.build().expect("engine");
        let text = format!("BEGIN{}END", " a".repeat(1_000));
        let found = scan(&engine, &text, None, 1_000);
        assert!(found.iter().any(|f| f.finding.detector == "wide"));
    }

    #[test]
    fn chain_breaks_are_where_no_chain_joins() {
        let t = b"a,b 1\n2 4111\n1111 x_y 12\t34 a\r\nb";
        let breaks: Vec<usize> = (1..t.len()).filter(|&p| chain_break(t, p)).collect();
        // After `,` ; after `\n` before `2`? no (digit follows); after `\n`
        // before `1111`? no; after `_` before `y`: yes; after the tab before
        // `34`: no; after `\r`: no; after `\n` before `b`: yes.
        assert_eq!(breaks, vec![2, 20, 31]);
    }
}
