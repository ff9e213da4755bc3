//! 7z archives, with the pure-Rust `sevenz-rust2` decoder (LZMA, LZMA2,
//! PPMd, bzip2, deflate; single-threaded).
//!
//! The member count is charged from the archive's header before anything is
//! decoded; each member is read through a reader capped at what the budget
//! has left, then sniffed and extracted like a zip member (`a.7z!/dir/f`).
//! A solid archive decodes its members in order, which is how they are
//! read here. Encrypted archives (AES, with or without encrypted names) need
//! a password we do not have: unscannable.

use std::io::{Cursor, Read};

use sevenz_rust2::{ArchiveReader, EntryDecision, Password};

use super::dispatch::{join, Ctx};
use super::error::{Error, Result};

/// Dictionary and model memory one archive may ask for, KiB.
const MEMORY_KB: usize = 512 << 10;

/// Extracts every file of a 7z archive; members are at nesting `depth`.
pub(crate) fn extract(ctx: &mut Ctx<'_>, path: &str, bytes: &[u8], depth: u32) -> Result<()> {
    ctx.check_depth(path, depth)?;
    let mut reader =
        ArchiveReader::new_with_memory_limit(Cursor::new(bytes), Password::empty(), MEMORY_KB)
            .map_err(|e| sevenz_error(e, path))?;
    reader.set_thread_count(1);
    let files = reader
        .archive()
        .files
        .iter()
        .filter(|f| !f.is_directory())
        .count();
    ctx.budget.charge_members(files as u64)?;
    // The decoder calls back per member; our own errors wait here.
    let mut failed: Option<Error> = None;
    let outcome = reader.for_each_entries_with_decision(|entry, data| {
        if entry.is_directory() {
            return Ok(EntryDecision::Continue);
        }
        let member_path = join(path, entry.name());
        match read_member(ctx, entry.name(), entry.size(), data)
            .and_then(|bytes| ctx.member(&member_path, &bytes, depth))
        {
            Ok(()) => Ok(EntryDecision::Continue),
            Err(err) => {
                failed = Some(err.in_member(&member_path));
                Ok(EntryDecision::Stop)
            }
        }
    });
    if let Some(err) = failed {
        return Err(err);
    }
    outcome.map_err(|e| sevenz_error(e, path))
}

/// Reads one member within the budget.
fn read_member(ctx: &mut Ctx<'_>, name: &str, size: u64, data: &mut dyn Read) -> Result<Vec<u8>> {
    let allowed = ctx.budget.expandable();
    if size > allowed {
        return Err(ctx
            .budget
            .expansion_error(&format!("7z member {name} ({size} bytes)")));
    }
    let mut out = Vec::with_capacity(size.min(16 << 20) as usize);
    data.take(allowed.saturating_add(1))
        .read_to_end(&mut out)
        .map_err(|e| Error::read("7z", &format!("member {name}"), e))?;
    if out.len() as u64 > allowed {
        return Err(ctx.budget.expansion_error(&format!("7z member {name}")));
    }
    ctx.budget.charge_expanded(out.len() as u64)?;
    Ok(out)
}

fn sevenz_error(err: sevenz_rust2::Error, path: &str) -> Error {
    match err {
        sevenz_rust2::Error::PasswordRequired | sevenz_rust2::Error::MaybeBadPassword(_) => {
            Error::Encrypted(format!("7z archive {path}"))
        }
        sevenz_rust2::Error::UnsupportedCompressionMethod(method) => {
            Error::Unsupported(format!("7z compression method {method} in {path}"))
        }
        other => Error::corrupt("7z", format!("{path}: {other}")),
    }
}
