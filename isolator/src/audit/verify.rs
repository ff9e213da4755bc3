//! Verification: walks a recording and reports the first broken record.
//!
//! Checks, in order for each record: the length is possible and the bytes are
//! all there; the record number is the next one (else a record was deleted
//! or reordered: a chain break); the chain hash matches (else the record was
//! edited); headers name their segment and the previous segment's hash;
//! seals count their segment's records; nothing follows a seal; segments are
//! numbered without gaps. A recording whose *last* segment ends inside a
//! record is a crash-truncated tail ([`Status::TruncatedTail`]), verified up
//! to its last complete record; bytes missing anywhere else are tampering.
//! Removing whole records from the end is only visible against an anchor
//! kept elsewhere (the index's or the bundle manifest's head and count),
//! which [`Verifier::expect`] checks.
//!
//! Classification follows the record number: a record whose number is in
//! place but whose hash is wrong was edited; a record with another number
//! where this one belongs means records were deleted, reordered or inserted
//! (so an edit that hits the number field itself reads as a chain break:
//! still reported, at the right position).

use std::path::Path;

use serde::Serialize;

use super::error::{io, Error, Result};
use super::event::Event;
use super::format::{self, Hash, Header, Kind, Parsed};

/// What kind of damage was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
    /// A record's bytes changed (hash mismatch, impossible length or content).
    Edited,
    /// A record is out of place: records were deleted, reordered or inserted.
    ChainBreak,
    /// Bytes are missing at the end of a segment.
    Truncated,
    /// A whole segment is missing.
    MissingSegment,
    /// The recording ends before the anchor (index or manifest) says it should,
    /// or has a different head.
    AnchorMismatch,
}

impl ProblemKind {
    /// A short description.
    pub fn describe(self) -> &'static str {
        match self {
            ProblemKind::Edited => "edited",
            ProblemKind::ChainBreak => "chain break (deleted or reordered)",
            ProblemKind::Truncated => "truncated",
            ProblemKind::MissingSegment => "missing segment (deleted)",
            ProblemKind::AnchorMismatch => "does not match its anchor",
        }
    }
}

/// The first broken record and where it is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The kind of damage.
    pub kind: ProblemKind,
    /// Segment file name (e.g. `000002.seg`).
    pub segment: String,
    /// Byte offset in that segment.
    pub offset: u64,
    /// Record number (the record expected at this position).
    pub record: u64,
    /// Details.
    pub detail: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: record #{} at {} byte {}: {}",
            self.kind.describe(),
            self.record,
            self.segment,
            self.offset,
            self.detail
        )
    }
}

/// Overall verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Every record verifies, the session ended and its last segment is sealed.
    Intact,
    /// Every record verifies but the recording was not ended (server killed
    /// between records, or still recording).
    Unfinished,
    /// The last segment ends inside a record (a crash mid-write): everything
    /// before it verifies.
    TruncatedTail,
    /// Edited, deleted, reordered, or missing data.
    Tampered,
}

/// The result of verifying one recording.
#[derive(Clone, Debug, Serialize)]
pub struct VerifyReport {
    /// Session id from the headers.
    pub session: Option<String>,
    /// Verdict.
    pub status: Status,
    /// The first problem, if any.
    pub problem: Option<Problem>,
    /// Segments seen.
    pub segments: u32,
    /// Records that verified.
    pub records: u64,
    /// Bytes of records that verified.
    pub bytes: u64,
    /// Chain hash after the last verified record (hex).
    pub head: String,
    /// A session-end record was seen.
    pub ended: bool,
    /// Time of the last verified record (ms since session start).
    pub last_ms: u64,
}

impl VerifyReport {
    /// Everything present verifies (intact, unfinished or crash-truncated).
    pub fn is_trustworthy(&self) -> bool {
        self.status != Status::Tampered
    }
}

/// Incremental verifier: feed segments in order, then [`Verifier::finish`].
#[derive(Debug)]
pub struct Verifier {
    prev: Hash,
    seq: u64,
    bytes: u64,
    next_segment: u32,
    last_sealed: bool,
    last_segment_name: String,
    last_segment_len: u64,
    session: Option<String>,
    ended: bool,
    last_ms: u64,
    problem: Option<(Problem, bool)>,
    anchor: Option<(u64, String)>,
}

impl Default for Verifier {
    fn default() -> Self {
        Verifier::new()
    }
}

impl Verifier {
    /// A verifier expecting segment 1 first.
    pub fn new() -> Verifier {
        Verifier {
            prev: format::ZERO_HASH,
            seq: 0,
            bytes: 0,
            next_segment: 1,
            last_sealed: true,
            last_segment_name: String::new(),
            last_segment_len: 0,
            session: None,
            ended: false,
            last_ms: 0,
            problem: None,
            anchor: None,
        }
    }

    /// Also require the recording to end with `records` records and chain
    /// head `head` (hex), as recorded in the index or a bundle manifest.
    pub fn expect(&mut self, records: u64, head: &str) {
        self.anchor = Some((records, head.to_owned()));
    }

    fn fail(&mut self, kind: ProblemKind, segment: &str, offset: u64, detail: String) {
        let tail_ok = kind == ProblemKind::Truncated;
        self.problem = Some((
            Problem {
                kind,
                segment: segment.to_owned(),
                offset,
                record: self.seq,
                detail,
            },
            tail_ok,
        ));
    }

    /// Checks one segment file, numbered `number`. Returns false once a
    /// problem was found (later segments are not looked at).
    pub fn segment(&mut self, number: u32, name: &str, bytes: &[u8]) -> bool {
        if let Some((p, tail)) = &mut self.problem {
            if *tail {
                // Bytes are missing at the end of a segment that is not the last.
                *tail = false;
                p.detail
                    .push_str(&format!(" and {name} follows it: not a crash tail"));
            }
            return false;
        }
        if !self.last_sealed {
            // The previous segment stopped early but is not the last one.
            let (seg, len) = (self.last_segment_name.clone(), self.last_segment_len);
            self.fail(
                ProblemKind::Truncated,
                &seg,
                len,
                format!("segment is not sealed but {name} follows it: its end was cut off"),
            );
            self.problem.as_mut().expect("just set").1 = false;
            return false;
        }
        if number != self.next_segment {
            let missing = format::segment_name(self.next_segment);
            self.fail(
                ProblemKind::MissingSegment,
                name,
                0,
                format!("segment {missing} is missing before {name}"),
            );
            return false;
        }
        self.next_segment += 1;
        self.last_segment_name = name.to_owned();
        self.last_sealed = false;
        let mut off = 0usize;
        let mut count = 0u64;
        while off < bytes.len() {
            if self.last_sealed {
                self.fail(
                    ProblemKind::ChainBreak,
                    name,
                    off as u64,
                    "data after the segment's seal".into(),
                );
                return false;
            }
            let raw = match format::parse(&bytes[off..]) {
                Parsed::Record(raw) => raw,
                Parsed::Truncated { need } => {
                    let have = bytes.len() - off;
                    self.last_segment_len = off as u64;
                    self.fail(
                        ProblemKind::Truncated,
                        name,
                        off as u64,
                        format!(
                            "the file ends inside the record ({have} of at least {need} bytes)"
                        ),
                    );
                    // A tail only if no segment follows: the next `segment` call decides.
                    return true;
                }
                Parsed::BadLength(len) => {
                    self.fail(
                        ProblemKind::Edited,
                        name,
                        off as u64,
                        format!("impossible record length {len}"),
                    );
                    return false;
                }
            };
            if raw.seq != self.seq {
                let detail = if raw.seq > self.seq {
                    format!(
                        "found record #{} where #{} belongs: records were deleted or reordered",
                        raw.seq, self.seq
                    )
                } else {
                    format!(
                        "found record #{} again after #{}: records were reordered or duplicated",
                        raw.seq,
                        self.seq - 1
                    )
                };
                self.fail(ProblemKind::ChainBreak, name, off as u64, detail);
                return false;
            }
            if format::chain(&self.prev, raw.body) != raw.hash {
                self.fail(
                    ProblemKind::Edited,
                    name,
                    off as u64,
                    "hash mismatch: the record's bytes were changed".into(),
                );
                return false;
            }
            if let Err(detail) = self.check_kind(number, count, &raw) {
                self.fail(ProblemKind::Edited, name, off as u64, detail);
                return false;
            }
            self.prev = raw.hash;
            self.seq += 1;
            self.bytes += raw.size as u64;
            self.last_ms = raw.mono_ms;
            count += 1;
            off += raw.size;
        }
        self.last_segment_len = off as u64;
        if count == 0 {
            self.fail(
                ProblemKind::Truncated,
                name,
                0,
                "the segment is empty".into(),
            );
            return false;
        }
        true
    }

    fn check_kind(&mut self, number: u32, count: u64, raw: &format::Raw<'_>) -> Result<(), String> {
        let kind =
            Kind::from_u8(raw.kind).ok_or_else(|| format!("unknown record kind {}", raw.kind))?;
        if (count == 0) != (kind == Kind::Header) {
            return Err(if count == 0 {
                "the segment does not start with a header".into()
            } else {
                "a header in the middle of a segment".into()
            });
        }
        match kind {
            Kind::Header => {
                let h = Header::decode(raw.payload)?;
                if h.segment != number {
                    return Err(format!(
                        "header says segment {} in file of segment {number}",
                        h.segment
                    ));
                }
                if h.prev != self.prev {
                    return Err("header does not name the previous segment's final hash".into());
                }
                match &self.session {
                    Some(s) if *s != h.session => {
                        return Err(format!("header names session {:?}, not {s:?}", h.session))
                    }
                    _ => self.session = Some(h.session),
                }
            }
            Kind::Seal => {
                let n = raw
                    .payload
                    .try_into()
                    .map(u64::from_le_bytes)
                    .map_err(|_| "seal payload is not 8 bytes".to_string())?;
                if n != count {
                    return Err(format!(
                        "seal counts {n} records, the segment holds {count}"
                    ));
                }
                self.last_sealed = true;
            }
            Kind::Frame | Kind::FrameRef => {
                if raw.payload.len() < 12 {
                    return Err("frame payload too short".into());
                }
            }
            Kind::Event => {
                let ev: Event = serde_json::from_slice(raw.payload)
                    .map_err(|e| format!("event does not decode: {e}"))?;
                if matches!(ev, Event::SessionEnd { .. }) {
                    self.ended = true;
                }
            }
        }
        Ok(())
    }

    /// The verdict.
    pub fn finish(mut self) -> VerifyReport {
        if self.problem.is_none() && self.next_segment == 1 {
            self.fail(
                ProblemKind::MissingSegment,
                "000001.seg",
                0,
                "no segment files".into(),
            );
        }
        if self.problem.is_none() {
            if let Some((records, head)) = self.anchor.clone() {
                let ours = hex::encode(self.prev);
                if records != self.seq || head != ours {
                    let (seg, len) = (self.last_segment_name.clone(), self.last_segment_len);
                    self.fail(
                        ProblemKind::AnchorMismatch,
                        &seg,
                        len,
                        format!(
                            "the recording has {} records with head {ours}, its anchor says {records} records with head {head}: records were removed from the end or the recording was replaced",
                            self.seq
                        ),
                    );
                }
            }
        }
        let status = match &self.problem {
            Some((_, true)) => Status::TruncatedTail,
            Some(_) => Status::Tampered,
            None if self.ended && self.last_sealed => Status::Intact,
            None => Status::Unfinished,
        };
        VerifyReport {
            session: self.session,
            status,
            problem: self.problem.map(|(p, _)| p),
            segments: self.next_segment - 1,
            records: self.seq,
            bytes: self.bytes,
            head: hex::encode(self.prev),
            ended: self.ended,
            last_ms: self.last_ms,
        }
    }
}

/// The segment files of a session directory, in number order. Files with
/// the `.seg` extension but a malformed name are an error.
pub fn segment_files(dir: &Path) -> Result<Vec<(u32, String)>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io(dir))? {
        let entry = entry.map_err(io(dir))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.ends_with(".seg") {
            continue;
        }
        let n = format::segment_number(&name).ok_or_else(|| {
            super::error::format(dir.join(&name), "segment file name is not NNNNNN.seg")
        })?;
        out.push((n, name));
    }
    out.sort();
    Ok(out)
}

/// Verifies a session directory.
pub fn verify_dir(dir: &Path, anchor: Option<(u64, &str)>) -> Result<VerifyReport> {
    let files = segment_files(dir)?;
    let mut v = Verifier::new();
    if let Some((n, head)) = anchor {
        v.expect(n, head);
    }
    for (n, name) in files {
        let path = dir.join(&name);
        let bytes = std::fs::read(&path).map_err(io(&path))?;
        if !v.segment(n, &name, &bytes) {
            break;
        }
    }
    Ok(v.finish())
}

/// Verifies an exported bundle against its manifest.
pub fn verify_bundle(path: &Path) -> Result<VerifyReport> {
    super::bundle::verify_bundle(path)
}

/// Verifies a session directory or a bundle file.
pub fn verify(path: &Path) -> Result<VerifyReport> {
    let meta = std::fs::metadata(path).map_err(io(path))?;
    if meta.is_dir() {
        verify_dir(path, None)
    } else if meta.is_file() {
        verify_bundle(path)
    } else {
        Err(Error::Invalid(format!(
            "{} is neither a directory nor a file",
            path.display()
        )))
    }
}
