//! Compressed streams: gzip, xz, bzip2 and zstd (so `.tar.gz`, `.tar.xz`,
//! `.tar.bz2`, `.tar.zst`), all pure-Rust decoders.
//!
//! Each stream is decompressed through a reader capped at what the budget
//! has left (a bomb stops at the cap, having allocated only that), then
//! extracted as what it holds: a tar's members directly (`a.tar.xz!/file`),
//! anything else as one member named after the stream without its suffix
//! (`notes.txt.bz2!/notes.txt`). Concatenated streams are joined, as
//! `gunzip`, `xz -d`, `bunzip2` and `zstd -d` do; data after the last one is
//! read as `name#trailer`.

use std::io::Read;

use flate2::bufread::GzDecoder;

use super::archive;
use super::dispatch::{join, Ctx};
use super::error::{Error, Result};
use super::model::FileKind;
use super::sniff;

/// xz dictionaries larger than this are refused (the worker's memory limit
/// is the last word; this keeps one stream from asking for all of it).
const XZ_MEMORY_KB: u32 = 512 << 10;

/// A compressed stream format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Codec {
    /// gzip (RFC 1952).
    Gzip,
    /// xz (LZMA2).
    Xz,
    /// bzip2.
    Bzip2,
    /// zstd (RFC 8878).
    Zstd,
}

impl Codec {
    fn name(self) -> &'static str {
        match self {
            Codec::Gzip => "gzip",
            Codec::Xz => "xz",
            Codec::Bzip2 => "bzip2",
            Codec::Zstd => "zstd",
        }
    }

    fn suffixes(self) -> &'static [&'static str] {
        match self {
            Codec::Gzip => &[".gz", ".gzip"],
            Codec::Xz => &[".xz"],
            Codec::Bzip2 => &[".bz2", ".bzip2"],
            Codec::Zstd => &[".zst", ".zstd"],
        }
    }

    fn magic(self) -> &'static [u8] {
        match self {
            Codec::Gzip => b"\x1f\x8b",
            Codec::Xz => b"\xfd7zXZ\0",
            Codec::Bzip2 => b"BZh",
            Codec::Zstd => b"\x28\xb5\x2f\xfd",
        }
    }
}

/// Decompresses a stream (capped) and extracts what it holds; its content
/// is at nesting `depth`.
pub(crate) fn extract(
    ctx: &mut Ctx<'_>,
    codec: Codec,
    path: &str,
    bytes: &[u8],
    depth: u32,
) -> Result<()> {
    ctx.check_depth(path, depth)?;
    let allowed = ctx.budget.expandable();
    let what = codec.name();
    let (data, rest) = decompress(codec, bytes, allowed)
        .map_err(|e| Error::read(what, "stream", e).in_member(path))?;
    if data.len() as u64 > allowed {
        return Err(ctx.budget.expansion_error(&format!("{what} stream {path}")));
    }
    ctx.budget.charge_expanded(data.len() as u64)?;
    if sniff::sniff(&data) == FileKind::Tar {
        archive::tar(ctx, path, &data, depth)?;
    } else {
        ctx.member(&join(path, &inner_name(path, codec)), &data, depth)?;
    }
    ctx.extra(path, "trailer", rest, depth.saturating_sub(1))
}

/// Decompresses consecutive streams of `codec` from the start of `bytes`,
/// reading at most `allowed + 1` bytes of output; returns the output and
/// what follows the last stream.
fn decompress(codec: Codec, bytes: &[u8], allowed: u64) -> std::io::Result<(Vec<u8>, &[u8])> {
    let mut data = Vec::new();
    let mut rest = bytes;
    while rest.starts_with(codec.magic()) && (data.len() as u64) <= allowed {
        let left = allowed.saturating_add(1).saturating_sub(data.len() as u64);
        match codec {
            Codec::Gzip => {
                let mut member = GzDecoder::new(rest);
                (&mut member).take(left).read_to_end(&mut data)?;
                rest = member.into_inner();
            }
            Codec::Xz => {
                // One reader takes every concatenated stream and its padding.
                let mut reader = lzma_rust2::XzReader::new_mem_limit(rest, true, XZ_MEMORY_KB);
                (&mut reader).take(left).read_to_end(&mut data)?;
                rest = &[];
            }
            Codec::Bzip2 => {
                let mut reader = bzip2::bufread::MultiBzDecoder::new(rest);
                (&mut reader).take(left).read_to_end(&mut data)?;
                rest = &[];
            }
            Codec::Zstd => {
                let mut source = rest;
                let mut frame = ruzstd::decoding::StreamingDecoder::new(&mut source)
                    .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
                (&mut frame).take(left).read_to_end(&mut data)?;
                drop(frame);
                rest = source;
            }
        }
    }
    Ok((data, rest))
}

/// `a.tar.gz` holds `a.tar`; a stream without a known suffix holds `data`.
fn inner_name(path: &str, codec: Codec) -> String {
    let base = path.rsplit("!/").next().unwrap_or(path);
    let base = base.rsplit(['/', '\\']).next().unwrap_or(base);
    let lower = base.to_ascii_lowercase();
    for suffix in codec.suffixes() {
        if lower.ends_with(suffix) && base.len() > suffix.len() {
            return base[..base.len() - suffix.len()].to_string();
        }
    }
    if base.is_empty() {
        "data".into()
    } else {
        base.to_string()
    }
}
