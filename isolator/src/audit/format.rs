//! The on-disk record format.
//!
//! ```text
//! record  = len u32 | kind u8 | seq u64 | mono_ms u64 | wall_ms i64 | payload | hash [32]
//! len     = byte count of kind..payload (25 + payload length)
//! hash    = SHA-256(previous record's hash || len..payload)
//! ```
//!
//! All integers are little-endian. `seq` numbers records across the whole
//! session from 0, so a verifier can tell a deleted or reordered record (seq
//! out of place) from an edited one (seq in place, hash wrong). The first
//! record of a session chains from 32 zero bytes.
//!
//! Every segment starts with a [`Kind::Header`] (magic, version, segment
//! number, the previous segment's final hash, session id) and, once rotated
//! or ended, finishes with a [`Kind::Seal`] holding the segment's record count.

use sha2::{Digest, Sha256};

/// File name extension of segment files.
pub const SEGMENT_EXT: &str = "seg";
/// Magic bytes at the start of a header payload.
pub const MAGIC: &[u8; 8] = b"ISOAUDIT";
/// Format version written in headers.
pub const VERSION: u16 = 1;
/// Bytes before the payload: len, kind, seq, mono, wall.
pub const PREFIX_LEN: usize = 4 + 1 + 8 + 8 + 8;
/// Bytes of the trailing hash.
pub const HASH_LEN: usize = 32;
/// Largest accepted `len` (a frame is far smaller): larger values are corruption.
pub const MAX_LEN: u32 = 64 << 20;
/// The hash the first record chains from.
pub const ZERO_HASH: [u8; 32] = [0; 32];

/// A 32-byte chain hash.
pub type Hash = [u8; 32];

/// Record kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Kind {
    /// Segment header.
    Header = 1,
    /// Segment seal.
    Seal = 2,
    /// A full JPEG frame.
    Frame = 3,
    /// A repeat of an earlier frame, by location.
    FrameRef = 4,
    /// Any other event, JSON-encoded.
    Event = 5,
}

impl Kind {
    /// Parses a kind byte.
    pub fn from_u8(b: u8) -> Option<Kind> {
        Some(match b {
            1 => Kind::Header,
            2 => Kind::Seal,
            3 => Kind::Frame,
            4 => Kind::FrameRef,
            5 => Kind::Event,
            _ => return None,
        })
    }
}

/// Encodes one record chained from `prev`; returns the bytes and the new hash.
pub fn encode(
    prev: &Hash,
    kind: Kind,
    seq: u64,
    mono_ms: u64,
    wall_ms: i64,
    payload: &[&[u8]],
) -> (Vec<u8>, Hash) {
    let payload_len: usize = payload.iter().map(|p| p.len()).sum();
    let len = (PREFIX_LEN - 4 + payload_len) as u32;
    let mut buf = Vec::with_capacity(PREFIX_LEN + payload_len + HASH_LEN);
    buf.extend_from_slice(&len.to_le_bytes());
    buf.push(kind as u8);
    buf.extend_from_slice(&seq.to_le_bytes());
    buf.extend_from_slice(&mono_ms.to_le_bytes());
    buf.extend_from_slice(&wall_ms.to_le_bytes());
    for p in payload {
        buf.extend_from_slice(p);
    }
    let hash = chain(prev, &buf);
    buf.extend_from_slice(&hash);
    (buf, hash)
}

/// The chain hash of `body` (len..payload) after `prev`.
pub fn chain(prev: &Hash, body: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update(prev);
    h.update(body);
    h.finalize().into()
}

/// A record parsed from a buffer (without checking its hash).
#[derive(Clone, Copy, Debug)]
pub struct Raw<'a> {
    /// Kind byte, as stored.
    pub kind: u8,
    /// Session-wide record number.
    pub seq: u64,
    /// Milliseconds since session start.
    pub mono_ms: u64,
    /// Wall-clock milliseconds since the Unix epoch.
    pub wall_ms: i64,
    /// The payload.
    pub payload: &'a [u8],
    /// The bytes the hash covers (len..payload).
    pub body: &'a [u8],
    /// The stored hash.
    pub hash: Hash,
    /// Total bytes of the record, hash included.
    pub size: usize,
}

/// The outcome of parsing at an offset.
#[derive(Debug)]
pub enum Parsed<'a> {
    /// A whole record.
    Record(Raw<'a>),
    /// The buffer ends inside a record: `need` bytes would complete it.
    Truncated {
        /// Bytes the record declares (hash included), or at least the prefix.
        need: usize,
    },
    /// The length field is impossible (too small or over [`MAX_LEN`]).
    BadLength(u32),
}

/// Parses the record at the start of `buf`.
pub fn parse(buf: &[u8]) -> Parsed<'_> {
    if buf.len() < 4 {
        return Parsed::Truncated { need: PREFIX_LEN };
    }
    let len = u32::from_le_bytes(buf[..4].try_into().expect("4 bytes"));
    if (len as usize) < PREFIX_LEN - 4 || len > MAX_LEN {
        return Parsed::BadLength(len);
    }
    let size = 4 + len as usize + HASH_LEN;
    if buf.len() < size {
        return Parsed::Truncated { need: size };
    }
    let body = &buf[..4 + len as usize];
    Parsed::Record(Raw {
        kind: buf[4],
        seq: u64_at(buf, 5),
        mono_ms: u64_at(buf, 13),
        wall_ms: u64_at(buf, 21) as i64,
        payload: &buf[PREFIX_LEN..4 + len as usize],
        body,
        hash: buf[4 + len as usize..size].try_into().expect("32 bytes"),
        size,
    })
}

/// Reads a little-endian u64 at `at` (caller checked the bounds).
pub fn u64_at(buf: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(buf[at..at + 8].try_into().expect("8 bytes"))
}

/// Reads a little-endian u32 at `at` (caller checked the bounds).
pub fn u32_at(buf: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(buf[at..at + 4].try_into().expect("4 bytes"))
}

/// A segment header's payload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// Segment number, from 1.
    pub segment: u32,
    /// The previous segment's final hash (zeros for the first).
    pub prev: Hash,
    /// Session id.
    pub session: String,
}

impl Header {
    /// Encodes the payload.
    pub fn encode(&self) -> Vec<u8> {
        let mut p = Vec::with_capacity(8 + 2 + 4 + 32 + 2 + self.session.len());
        p.extend_from_slice(MAGIC);
        p.extend_from_slice(&VERSION.to_le_bytes());
        p.extend_from_slice(&self.segment.to_le_bytes());
        p.extend_from_slice(&self.prev);
        p.extend_from_slice(&(self.session.len() as u16).to_le_bytes());
        p.extend_from_slice(self.session.as_bytes());
        p
    }

    /// Decodes a payload; the error says what is wrong.
    pub fn decode(p: &[u8]) -> Result<Header, String> {
        if p.len() < 48 || &p[..8] != MAGIC {
            return Err("not a segment header (bad magic)".into());
        }
        let version = u16::from_le_bytes([p[8], p[9]]);
        if version != VERSION {
            return Err(format!("unsupported format version {version}"));
        }
        let segment = u32_at(p, 10);
        let prev: Hash = p[14..46].try_into().expect("32 bytes");
        let n = u16::from_le_bytes([p[46], p[47]]) as usize;
        let session = p
            .get(48..48 + n)
            .and_then(|s| std::str::from_utf8(s).ok())
            .ok_or("header session id is cut short or not UTF-8")?
            .to_owned();
        Ok(Header {
            segment,
            prev,
            session,
        })
    }
}

/// Encodes a seal payload: the number of records in the segment before the seal.
pub fn seal_payload(count: u64) -> [u8; 8] {
    count.to_le_bytes()
}

/// Frame payload prefix: tab, width, height (then the JPEG).
pub fn frame_prefix(tab: u32, width: u32, height: u32) -> [u8; 12] {
    let mut p = [0; 12];
    p[..4].copy_from_slice(&tab.to_le_bytes());
    p[4..8].copy_from_slice(&width.to_le_bytes());
    p[8..].copy_from_slice(&height.to_le_bytes());
    p
}

/// Where a record lives: segment number and byte offset in that segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Location {
    /// Segment number (from 1).
    pub segment: u32,
    /// Byte offset of the record in the segment file.
    pub offset: u64,
}

/// Frame-reference payload: tab, width, height, then the original's location.
pub fn frame_ref_payload(tab: u32, width: u32, height: u32, at: Location) -> [u8; 24] {
    let mut p = [0; 24];
    p[..12].copy_from_slice(&frame_prefix(tab, width, height));
    p[12..16].copy_from_slice(&at.segment.to_le_bytes());
    p[16..].copy_from_slice(&at.offset.to_le_bytes());
    p
}

/// Segment file name for a number: `000001.seg`.
pub fn segment_name(n: u32) -> String {
    format!("{n:06}.{SEGMENT_EXT}")
}

/// The segment number of a file name like `000001.seg`.
pub fn segment_number(name: &str) -> Option<u32> {
    let stem = name.strip_suffix(".seg")?;
    if stem.len() != 6 || !stem.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    stem.parse().ok().filter(|&n| n > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_parse_round_trip() {
        let (bytes, hash) = encode(
            &ZERO_HASH,
            Kind::Event,
            7,
            1500,
            1_700_000_000_000,
            &[b"{}"],
        );
        let Parsed::Record(raw) = parse(&bytes) else {
            panic!("not parsed")
        };
        assert_eq!(
            (raw.kind, raw.seq, raw.mono_ms),
            (Kind::Event as u8, 7, 1500)
        );
        assert_eq!(raw.wall_ms, 1_700_000_000_000);
        assert_eq!(raw.payload, b"{}");
        assert_eq!(raw.hash, hash);
        assert_eq!(chain(&ZERO_HASH, raw.body), hash);
        assert!(matches!(
            parse(&bytes[..bytes.len() - 1]),
            Parsed::Truncated { .. }
        ));
    }

    #[test]
    fn header_round_trip_and_names() {
        let h = Header {
            segment: 3,
            prev: [9; 32],
            session: "s-1".into(),
        };
        assert_eq!(Header::decode(&h.encode()).unwrap(), h);
        assert_eq!(segment_name(12), "000012.seg");
        assert_eq!(segment_number("000012.seg"), Some(12));
        assert_eq!(segment_number("12.seg"), None);
        assert_eq!(segment_number("000000.seg"), None);
    }
}
