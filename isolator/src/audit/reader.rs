//! Reading recordings back, from a session directory or an export bundle.
//!
//! The reader streams records in order with a buffered reader per segment,
//! resolves deduplicated frames to their JPEG, and stops cleanly at a
//! crash-truncated tail. It does not check hashes (that is [`super::verify`],
//! which a player runs first); it does check every location it is given so a
//! bad keyframe index yields an error, not garbage. In a bundle, segments are
//! read in place inside the tar (their data offsets are found once at open).

use std::fs::File;
use std::io::{BufReader, Read, Seek as _, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::bundle::{self, Manifest};
use super::error::{format, io, Result};
use super::event::{Event, Frame};
use super::format::{self, Kind, Location, Parsed};
use super::keyframes::{self, Keyframe};
use super::verify;

/// One event read back.
#[derive(Clone, Debug, PartialEq)]
pub struct RecordedEvent {
    /// Record number.
    pub seq: u64,
    /// Milliseconds since session start.
    pub mono_ms: u64,
    /// Unix milliseconds.
    pub wall_ms: i64,
    /// Where the record is.
    pub location: Location,
    /// For frames: this is a repeat of an earlier identical frame.
    pub repeat: bool,
    /// The event.
    pub event: Event,
}

#[derive(Clone, Debug)]
struct SegmentRef {
    number: u32,
    path: PathBuf,
    base: u64,
    len: u64,
}

/// An open recording.
#[derive(Debug)]
pub struct Reader {
    source: PathBuf,
    segments: Vec<SegmentRef>,
    keyframes: Vec<Keyframe>,
    manifest: Option<Manifest>,
}

/// The state of the recording at a point in time.
#[derive(Debug)]
pub struct Seek<'r> {
    /// The time sought.
    pub at_ms: u64,
    /// The frame on screen at that time, with the time it was recorded.
    pub frame: Option<(u64, Frame)>,
    /// Events after `at_ms`, for playing on.
    pub rest: Records<'r>,
}

impl Reader {
    /// Opens a session directory or a bundle file.
    pub fn open(path: &Path) -> Result<Reader> {
        let meta = std::fs::metadata(path).map_err(io(path))?;
        if meta.is_dir() {
            Reader::open_dir(path)
        } else {
            Reader::open_bundle(path)
        }
    }

    fn open_dir(dir: &Path) -> Result<Reader> {
        let mut segments = Vec::new();
        for (number, name) in verify::segment_files(dir)? {
            let path = dir.join(&name);
            let len = std::fs::metadata(&path).map_err(io(&path))?.len();
            segments.push(SegmentRef {
                number,
                path,
                base: 0,
                len,
            });
        }
        Ok(Reader {
            source: dir.to_owned(),
            segments,
            keyframes: keyframes::load(dir)?,
            manifest: None,
        })
    }

    fn open_bundle(path: &Path) -> Result<Reader> {
        let file = File::open(path).map_err(io(path))?;
        let mut archive = tar::Archive::new(file);
        let mut segments = Vec::new();
        let mut kf = Vec::new();
        let mut manifest = None;
        for entry in archive.entries().map_err(io(path))? {
            let mut entry = entry.map_err(|e| format(path, format!("not a bundle (tar): {e}")))?;
            let name = entry
                .path()
                .map_err(|e| format(path, format!("bad entry name: {e}")))?
                .to_string_lossy()
                .into_owned();
            if name == "manifest.json" || name == keyframes::FILE_NAME {
                if entry.size() > 64 << 20 {
                    return Err(format(path, format!("{name} is too large")));
                }
                let mut bytes = Vec::new();
                entry
                    .read_to_end(&mut bytes)
                    .map_err(|e| format(path, format!("{name}: {e}")))?;
                if name == "manifest.json" {
                    manifest = Some(bundle::parse_manifest(&bytes, path)?);
                } else {
                    kf = keyframes::parse(&bytes, path)?;
                }
            } else if let Some(seg) = name.strip_prefix("segments/") {
                let number = format::segment_number(seg)
                    .ok_or_else(|| format(path, format!("{name}: not a segment name")))?;
                segments.push(SegmentRef {
                    number,
                    path: path.to_owned(),
                    base: entry.raw_file_position(),
                    len: entry.size(),
                });
            }
        }
        if manifest.is_none() {
            return Err(format(path, "no manifest.json: not an audit bundle"));
        }
        segments.sort_by_key(|s| s.number);
        Ok(Reader {
            source: path.to_owned(),
            segments,
            keyframes: kf,
            manifest,
        })
    }

    /// The bundle's manifest (`None` for a directory).
    pub fn manifest(&self) -> Option<&Manifest> {
        self.manifest.as_ref()
    }

    /// The keyframe index.
    pub fn keyframes(&self) -> &[Keyframe] {
        &self.keyframes
    }

    /// All events from the start.
    pub fn records(&self) -> Records<'_> {
        Records::new(self, 0, 0)
    }

    /// Events from the start without frames (fast: frame bytes are skipped,
    /// not read) for timelines and event lists.
    pub fn timeline(&self) -> Records<'_> {
        let mut r = Records::new(self, 0, 0);
        r.skip_frames = true;
        r
    }

    /// The screen at `at_ms` and the events after it, using the keyframe
    /// index: reads one frame and at most one keyframe interval of records.
    pub fn seek(&self, at_ms: u64) -> Result<Seek<'_>> {
        let mut frame = None;
        let mut rest = match keyframes::lookup(&self.keyframes, at_ms) {
            Some(kf) => {
                let f = self.frame_at(kf.frame)?;
                frame = Some((kf.mono_ms, f));
                let idx = self.segment_index(kf.resume.segment)?;
                if kf.resume.offset > self.segments[idx].len {
                    return Err(format(
                        &self.source,
                        format!(
                            "keyframe at {} ms resumes past the end of its segment",
                            kf.mono_ms
                        ),
                    ));
                }
                Records::new(self, idx, kf.resume.offset)
            }
            None => Records::new(self, 0, 0),
        };
        loop {
            match rest.next() {
                None => break,
                Some(Err(e)) => return Err(e),
                Some(Ok(rec)) if rec.mono_ms > at_ms => {
                    rest.pushed_back = Some(rec);
                    break;
                }
                Some(Ok(rec)) => {
                    if let Event::Frame(f) = rec.event {
                        frame = Some((rec.mono_ms, f));
                    }
                }
            }
        }
        Ok(Seek { at_ms, frame, rest })
    }

    fn segment_index(&self, number: u32) -> Result<usize> {
        self.segments
            .iter()
            .position(|s| s.number == number)
            .ok_or_else(|| format(&self.source, format!("segment {number} is missing")))
    }

    /// Reads the full frame stored at `at`.
    pub fn frame_at(&self, at: Location) -> Result<Frame> {
        let seg = &self.segments[self.segment_index(at.segment)?];
        let name = format::segment_name(seg.number);
        let bad = |msg: String| format(&self.source, format!("{name} byte {}: {msg}", at.offset));
        if at.offset + format::PREFIX_LEN as u64 > seg.len {
            return Err(bad("frame location past the end of the segment".into()));
        }
        let mut f = File::open(&seg.path).map_err(io(&seg.path))?;
        f.seek(SeekFrom::Start(seg.base + at.offset))
            .map_err(io(&seg.path))?;
        let mut prefix = [0u8; format::PREFIX_LEN];
        f.read_exact(&mut prefix).map_err(io(&seg.path))?;
        let len = u32::from_le_bytes(prefix[..4].try_into().expect("4 bytes"));
        if prefix[4] != Kind::Frame as u8 || len > format::MAX_LEN {
            return Err(bad("not a frame record".into()));
        }
        let size = 4 + len as u64 + format::HASH_LEN as u64;
        if at.offset + size > seg.len {
            return Err(bad("frame record cut short".into()));
        }
        let mut payload = vec![0u8; len as usize + 4 - format::PREFIX_LEN];
        f.read_exact(&mut payload).map_err(io(&seg.path))?;
        decode_frame(&payload).ok_or_else(|| bad("frame payload too short".into()))
    }
}

fn decode_frame(p: &[u8]) -> Option<Frame> {
    if p.len() < 12 {
        return None;
    }
    Some(Frame {
        tab: format::u32_at(p, 0),
        width: format::u32_at(p, 4),
        height: format::u32_at(p, 8),
        jpeg: Arc::from(&p[12..]),
    })
}

/// Iterator over the events of a recording (headers and seals skipped).
/// Ends at the end of the last segment or at a truncated tail
/// ([`Records::truncated`] tells which).
#[derive(Debug)]
pub struct Records<'r> {
    reader: &'r Reader,
    seg: usize,
    pos: u64,
    file: Option<BufReader<File>>,
    skip_frames: bool,
    truncated: bool,
    done: bool,
    pushed_back: Option<RecordedEvent>,
}

impl<'r> Records<'r> {
    fn new(reader: &'r Reader, seg: usize, pos: u64) -> Records<'r> {
        Records {
            reader,
            seg,
            pos,
            file: None,
            skip_frames: false,
            truncated: false,
            done: false,
            pushed_back: None,
        }
    }

    /// The recording ended inside a record (a crash mid-write).
    pub fn truncated(&self) -> bool {
        self.truncated
    }

    fn next_record(&mut self) -> Result<Option<RecordedEvent>> {
        loop {
            let Some(seg) = self.reader.segments.get(self.seg) else {
                return Ok(None);
            };
            if self.pos >= seg.len {
                self.seg += 1;
                self.pos = 0;
                self.file = None;
                continue;
            }
            if self.file.is_none() {
                let mut f = File::open(&seg.path).map_err(io(&seg.path))?;
                f.seek(SeekFrom::Start(seg.base + self.pos))
                    .map_err(io(&seg.path))?;
                self.file = Some(BufReader::with_capacity(256 << 10, f));
            }
            let file = self.file.as_mut().expect("opened above");
            let left = seg.len - self.pos;
            let location = Location {
                segment: seg.number,
                offset: self.pos,
            };
            let name = format::segment_name(seg.number);
            let bad =
                |msg: String| format(&seg.path, format!("{name} byte {}: {msg}", location.offset));
            if left < format::PREFIX_LEN as u64 {
                self.truncated = true;
                return Ok(None);
            }
            let mut prefix = [0u8; format::PREFIX_LEN];
            file.read_exact(&mut prefix).map_err(io(&seg.path))?;
            let len = u32::from_le_bytes(prefix[..4].try_into().expect("4 bytes"));
            if len > format::MAX_LEN || (len as usize) < format::PREFIX_LEN - 4 {
                return Err(bad(format!("impossible record length {len}")));
            }
            let size = 4 + len as u64 + format::HASH_LEN as u64;
            if size > left {
                self.truncated = true;
                return Ok(None);
            }
            let kind = prefix[4];
            let is_frame = kind == Kind::Frame as u8 || kind == Kind::FrameRef as u8;
            if (self.skip_frames && is_frame)
                || kind == Kind::Header as u8
                || kind == Kind::Seal as u8
            {
                file.seek_relative((size - format::PREFIX_LEN as u64) as i64)
                    .map_err(io(&seg.path))?;
                self.pos += size;
                continue;
            }
            let mut buf = prefix.to_vec();
            buf.resize(size as usize, 0);
            file.read_exact(&mut buf[format::PREFIX_LEN..])
                .map_err(io(&seg.path))?;
            self.pos += size;
            let Parsed::Record(raw) = format::parse(&buf) else {
                return Err(bad("record does not parse".into()));
            };
            let (event, repeat) = match Kind::from_u8(raw.kind) {
                Some(Kind::Frame) => (
                    Event::Frame(
                        decode_frame(raw.payload)
                            .ok_or_else(|| bad("frame payload too short".into()))?,
                    ),
                    false,
                ),
                Some(Kind::FrameRef) => {
                    if raw.payload.len() != 24 {
                        return Err(bad("frame reference payload is not 24 bytes".into()));
                    }
                    let at = Location {
                        segment: format::u32_at(raw.payload, 12),
                        offset: format::u64_at(raw.payload, 16),
                    };
                    if at >= location {
                        return Err(bad("frame reference does not point back".into()));
                    }
                    (Event::Frame(self.reader.frame_at(at)?), true)
                }
                Some(Kind::Event) => (
                    serde_json::from_slice(raw.payload)
                        .map_err(|e| bad(format!("event does not decode: {e}")))?,
                    false,
                ),
                _ => return Err(bad(format!("unknown record kind {}", raw.kind))),
            };
            return Ok(Some(RecordedEvent {
                seq: raw.seq,
                mono_ms: raw.mono_ms,
                wall_ms: raw.wall_ms,
                location,
                repeat,
                event,
            }));
        }
    }
}

impl Iterator for Records<'_> {
    type Item = Result<RecordedEvent>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(rec) = self.pushed_back.take() {
            return Some(Ok(rec));
        }
        if self.done {
            return None;
        }
        match self.next_record() {
            Ok(Some(rec)) => Some(Ok(rec)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}
