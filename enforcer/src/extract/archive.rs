//! Archives: zip and tar, nested up to `max_depth` (compressed streams such
//! as `.tar.gz` are in `compressed`, 7z in `sevenz`).
//! Every member is sniffed and extracted in turn and named by its path inside
//! the archive (`backup.tar.gz!/etc/app/secrets.json`).

use std::io::{Cursor, Read};

use super::dispatch::{join, Ctx};
use super::error::{Error, Result};
use super::zipread;

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
