//! The worker protocol: frames of a 4-byte big-endian length and a payload.
//!
//! ```text
//! parent -> worker   Setup (JSON)                     once, at start
//! worker -> parent   Ready (JSON)                     after limits are set and OCR is warm
//! parent -> worker   Request (JSON), then body (raw)  per file
//! worker -> parent   Extraction (JSON)                per file
//! ```
//!
//! Every read has a cap: control messages [`MAX_CONTROL`], bodies the
//! request's `max_input_bytes`, replies [`MAX_REPLY`]. A frame over its cap is
//! a protocol error, never an allocation.

use std::io::{self, Read, Write};

use serde::{Deserialize, Serialize};

use crate::extract::Limits;

/// Protocol version; parent and worker must agree.
pub const VERSION: u32 = 1;

/// Largest setup, ready or request header frame.
pub const MAX_CONTROL: u32 = 64 << 10;

/// Largest reply frame.
pub const MAX_REPLY: u32 = 512 << 20;

/// First message from the parent: the worker's own limits.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Setup {
    /// Protocol version of the parent.
    pub version: u32,
    /// Address-space limit for the worker (RLIMIT_AS), bytes; 0 = none.
    pub memory_bytes: u64,
    /// CPU seconds allowed per file (RLIMIT_CPU, reset per file); 0 = none.
    pub cpu_seconds_per_file: u64,
}

/// The worker's answer to [`Setup`].
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Ready {
    /// Protocol version of the worker.
    pub version: u32,
    /// The worker's process id.
    pub pid: u32,
    /// Set when OCR could not start: images will be unscannable.
    pub ocr_error: Option<String>,
}

/// Header of one file to extract; the next frame is the file's bytes.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Request {
    /// The file name (for part paths and mismatch reports).
    pub name: String,
    /// Limits for this file.
    pub limits: Limits,
}

/// Writes one frame.
pub fn write_frame<W: Write>(out: &mut W, payload: &[u8]) -> io::Result<()> {
    let len = u32::try_from(payload.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "frame over 4 GiB"))?;
    out.write_all(&len.to_be_bytes())?;
    out.write_all(payload)?;
    out.flush()
}

/// Reads one frame of at most `max` bytes; `Ok(None)` on a clean end of
/// stream before the frame starts.
pub fn read_frame<R: Read>(input: &mut R, max: u64, what: &str) -> io::Result<Option<Vec<u8>>> {
    let mut len = [0u8; 4];
    let mut got = 0;
    while got < 4 {
        let n = input.read(&mut len[got..])?;
        if n == 0 {
            return if got == 0 {
                Ok(None)
            } else {
                Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!("{what}: truncated length"),
                ))
            };
        }
        got += n;
    }
    let len = u64::from(u32::from_be_bytes(len));
    if len > max {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{what}: frame of {len} bytes exceeds the cap of {max}"),
        ));
    }
    let mut payload = Vec::with_capacity(len.min(16 << 20) as usize);
    input.take(len).read_to_end(&mut payload)?;
    if payload.len() as u64 != len {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!("{what}: truncated frame ({} of {len} bytes)", payload.len()),
        ));
    }
    Ok(Some(payload))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_and_caps_hold() {
        let mut buf = Vec::new();
        write_frame(&mut buf, b"hello").expect("write");
        write_frame(&mut buf, &[7u8; 100]).expect("write");
        let mut r = &buf[..];
        assert_eq!(
            read_frame(&mut r, 10, "t").expect("ok").as_deref(),
            Some(&b"hello"[..])
        );
        let err = read_frame(&mut r, 10, "t").expect_err("over cap");
        assert!(err.to_string().contains("exceeds the cap"), "{err}");
        assert!(read_frame(&mut &b""[..], 10, "t").expect("eof").is_none());
        assert!(read_frame(&mut &b"\0\0\0\x05ab"[..], 10, "t").is_err());
    }
}
