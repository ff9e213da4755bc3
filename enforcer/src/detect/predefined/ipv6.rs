//! IPv6 addresses (RFC 4291 text forms, RFC 5952 compression), found from
//! their `::` by a hand-written parser, rejected at once where the `::` is
//! part of a word (`std::env`, `Self::new`).
//!
//! Anchoring on every `:` also found the uncompressed forms (eight groups,
//! no zero run to compress), but a `:` is in every time, YAML key and Rust
//! path: 19,000 hits per MB of source code cost 10-18% of the code and
//! dense-data scans (measured). Addresses are written compressed
//! wherever they have a zero run (RFC 5952), so only addresses without
//! any zero run (`2001:db8:85a3:8d3:1319:8a2e:370:7348`) are missed.

use super::*;
use Confidence::{High, Low, Medium};

/// A byte of an address before its first colon.
pub(super) fn left_byte(b: u8) -> bool {
    b.is_ascii_hexdigit() || b == b':'
}

/// An address's parsed facts: end, groups written, whether `::` is used,
/// whether it ends with a dotted IPv4 part.
struct Parsed {
    end: usize,
    groups: usize,
    compressed: bool,
}

/// Parses the longest IPv6 text form starting at `lo`, within `hi`.
fn parse(b: &[u8], lo: usize, hi: usize) -> Option<Parsed> {
    let mut i = lo;
    let mut groups = 0;
    let mut compressed = false;
    if b.get(i..i + 2) == Some(b"::") {
        compressed = true;
        i += 2;
    }
    loop {
        let start = i;
        while i < hi && i - start < 5 && b[i].is_ascii_hexdigit() {
            i += 1;
        }
        let n = i - start;
        if n == 0 || n > 4 {
            if n > 4 {
                return None;
            }
            break;
        }
        // A dotted IPv4 tail (`::ffff:192.0.2.1`) counts as two groups.
        if i < hi && b[i] == b'.' {
            let end = ipv4_end(b, start, hi)?;
            return (groups + 2 <= 8).then_some(Parsed {
                end,
                groups: groups + 2,
                compressed,
            });
        }
        groups += 1;
        if i + 1 < hi && b[i] == b':' && b[i + 1] == b':' && !compressed {
            compressed = true;
            i += 2;
            continue;
        }
        if i + 1 < hi && b[i] == b':' && b[i + 1].is_ascii_hexdigit() {
            i += 1;
            continue;
        }
        break;
    }
    Some(Parsed {
        end: i,
        groups,
        compressed,
    })
}

/// End of a dotted-quad IPv4 address starting at `s`.
fn ipv4_end(b: &[u8], s: usize, hi: usize) -> Option<usize> {
    let mut i = s;
    for k in 0..4 {
        let start = i;
        let mut v = 0u32;
        while i < hi && b[i].is_ascii_digit() && i - start < 3 {
            v = v * 10 + u32::from(b[i] - b'0');
            i += 1;
        }
        if i == start || v > 255 {
            return None;
        }
        if k < 3 {
            if b.get(i) != Some(&b'.') {
                return None;
            }
            i += 1;
        }
    }
    Some(i)
}

/// The anchored matcher (see [`Kind::Anchored`]): the end of the address
/// starting at `lo` (where the walk back from the `::` at `hit` stopped).
pub(super) fn matcher(t: &str, lo: usize, hit: usize, hi: usize) -> Option<Option<usize>> {
    let b = t.as_bytes();
    let word = |x: u8| x.is_ascii_alphanumeric() || matches!(x, b':' | b'.' | b'_' | b'-');
    if lo > 0 && word(b[lo - 1]) {
        return Some(None);
    }
    let Some(p) = parse(b, lo, hi) else {
        return Some(None);
    };
    let valid = if p.compressed {
        p.groups <= 7
    } else {
        p.groups == 8
    };
    let boundary = p.end >= b.len() || !(b[p.end].is_ascii_alphanumeric() || b[p.end] == b':');
    Some((valid && boundary && p.end > hit).then_some(p.end))
}

/// Confidence: a full or well-filled address is medium bare; a short
/// compressed one (`::1`, `a1::2`) low; none without a digit (`dead::beef`).
pub(super) fn check(m: &str) -> Option<Score> {
    m.bytes().any(|x| x.is_ascii_digit()).then_some(())?;
    let groups = m.split(':').filter(|g| !g.is_empty()).count();
    if groups >= 3 || m.contains('.') {
        s(Medium, High)
    } else {
        s(Low, High)
    }
}

/// The detector.
pub(super) fn detector() -> Predefined {
    Predefined {
        id: "ipv6_address",
        description: "IPv6 address (full, compressed with ::, or with an IPv4 tail)",
        category: Category::Pii,
        validation: "groups of 1-4 hex digits with one :: (at most 7 groups), optional dotted IPv4 tail; a digit; word boundaries (uncompressed 8-group forms are not searched)",
        context: &["ip", "ipv6", "ip address", "host", "server", "client", "address"],
        kind: Kind::Anchored {
            literals: &["::"],
            pattern: r"[0-9A-Fa-f:.]{2,45}",
            before: 39,
            left: Some(left_byte),
            matcher: Some(matcher),
            after: 45,
            check,
        },
        reveal: (0, 0),
    }
}
