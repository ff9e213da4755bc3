//! Archives: zip, tar and gzip (so `.tar.gz`), nested up to `max_depth`.
//! Every member is sniffed and extracted in turn and named by its path inside
//! the archive (`backup.tar.gz!/etc/app/secrets.json`).

use std::io::{Cursor, Read};

use flate2::bufread::GzDecoder;

use super::dispatch::{join, Ctx};
use super::error::{Error, Result};
use super::model::FileKind;
use super::{sniff, zipread};

/// Extracts every file of a zip; members are at nesting `depth`.
pub(crate) fn zip(ctx: &mut Ctx<'_>, path: &str, bytes: &[u8], depth: u32) -> Result<()> {
    ctx.check_depth(path, depth)?;
    let mut archive = zipread::open(bytes, &mut ctx.budget)?;
    // The archive comment is data the recipient can read too.
    let comment = String::from_utf8_lossy(archive.comment()).into_owned();
    ctx.push(format!("{path}#comment"), comment, Vec::new())?;
    for index in 0..archive.len() {
        let name = archive
            .name_for_index(index)
            .unwrap_or("(unnamed member)")
            .to_string();
        if name.ends_with('/') {
            continue;
        }
        let member_path = join(path, &name);
        let data = zipread::read_index(&mut archive, index, &mut ctx.budget)
            .map_err(|e| e.in_member(&member_path))?;
        ctx.member(&member_path, &data, depth)?;
    }
    Ok(())
}

/// Extracts every regular file of a tar; members are at nesting `depth`.
pub(crate) fn tar(ctx: &mut Ctx<'_>, path: &str, bytes: &[u8], depth: u32) -> Result<()> {
    ctx.check_depth(path, depth)?;
    let mut archive = tar::Archive::new(Cursor::new(bytes));
    let entries = archive
        .entries()
        .map_err(|e| Error::corrupt("tar", e).in_member(path))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::corrupt("tar", e).in_member(path))?;
        ctx.budget.charge_members(1)?;
        let name = entry.path_bytes();
        let name = String::from_utf8_lossy(&name).into_owned();
        let member_path = join(path, &name);
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let declared = entry.header().size().unwrap_or(u64::MAX);
        let allowed = ctx.budget.expandable();
        if declared > allowed {
            return Err(ctx
                .budget
                .expansion_error(&format!("tar member {name} ({declared} bytes)")));
        }
        let mut data = Vec::with_capacity(declared.min(16 << 20) as usize);
        entry
            .take(allowed.saturating_add(1))
            .read_to_end(&mut data)
            .map_err(|e| Error::read("tar", &format!("member {name}"), e))?;
        if (data.len() as u64) < declared {
            return Err(Error::corrupt(
                "tar",
                format!(
                    "member {name} is truncated ({} of {declared} bytes)",
                    data.len()
                ),
            ));
        }
        ctx.budget.charge_expanded(data.len() as u64)?;
        ctx.member(&member_path, &data, depth)?;
    }
    Ok(())
}

/// Decompresses a gzip stream (capped) and extracts what it holds: a tar's
/// members directly (`a.tar.gz!/file`), anything else as one member. The
/// members of a multi-member stream are joined, as `gunzip` does; data after
/// the last member is read as `a.gz#trailer`.
pub(crate) fn gzip(ctx: &mut Ctx<'_>, path: &str, bytes: &[u8], depth: u32) -> Result<()> {
    ctx.check_depth(path, depth)?;
    let allowed = ctx.budget.expandable();
    let mut data = Vec::new();
    let mut rest = bytes;
    while rest.starts_with(b"\x1f\x8b") {
        let left = allowed.saturating_add(1).saturating_sub(data.len() as u64);
        let mut member = GzDecoder::new(rest);
        (&mut member)
            .take(left)
            .read_to_end(&mut data)
            .map_err(|e| Error::read("gzip", "stream", e).in_member(path))?;
        if data.len() as u64 > allowed {
            return Err(ctx.budget.expansion_error(&format!("gzip stream {path}")));
        }
        rest = member.into_inner();
    }
    ctx.budget.charge_expanded(data.len() as u64)?;
    if sniff::sniff(&data) == FileKind::Tar {
        tar(ctx, path, &data, depth)?;
    } else {
        let base = path.rsplit("!/").next().unwrap_or(path);
        let base = base.rsplit(['/', '\\']).next().unwrap_or(base);
        let inner = base
            .strip_suffix(".gz")
            .or_else(|| base.strip_suffix(".GZ"))
            .unwrap_or(base);
        ctx.member(&join(path, inner), &data, depth)?;
    }
    ctx.extra(path, "trailer", rest, depth.saturating_sub(1))
}
