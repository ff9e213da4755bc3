//! Reading zip members within the budget. Shared by archives, Office Open
//! XML and OpenDocument packages.
//!
//! A member's declared size is checked before reading (cheap refusal of an
//! honest bomb) and the read itself is capped at what the budget has left
//! (a lying header cannot push past it). Encrypted members are refused:
//! content we cannot read is content we cannot vouch for.

use std::io::{Cursor, Read};

use zip::result::ZipError;
use zip::ZipArchive;

use super::error::{Error, Result};
use super::limits::Budget;

/// A zip archive over borrowed bytes.
pub(crate) type Archive<'b> = ZipArchive<Cursor<&'b [u8]>>;

/// Opens a zip (or zip-based package) and charges its member count.
pub(crate) fn open<'b>(bytes: &'b [u8], budget: &mut Budget<'_>) -> Result<Archive<'b>> {
    let archive = ZipArchive::new(Cursor::new(bytes)).map_err(|e| zip_error(e, "archive"))?;
    budget.charge_members(archive.len() as u64)?;
    Ok(archive)
}

/// Reads member `index` completely, charging its size to `budget`.
pub(crate) fn read_index(
    archive: &mut Archive<'_>,
    index: usize,
    budget: &mut Budget<'_>,
) -> Result<Vec<u8>> {
    let name = archive
        .name_for_index(index)
        .unwrap_or("(unnamed member)")
        .to_string();
    {
        let raw = archive
            .by_index_raw(index)
            .map_err(|e| zip_error(e, &name))?;
        if raw.encrypted() {
            return Err(Error::Encrypted(format!("zip member {name}")));
        }
    }
    let file = archive.by_index(index).map_err(|e| zip_error(e, &name))?;
    let allowed = budget.expandable();
    if file.size() > allowed {
        return Err(budget.expansion_error(&format!("zip member {name} ({} bytes)", file.size())));
    }
    let mut data = Vec::with_capacity(file.size().min(16 << 20) as usize);
    file.take(allowed.saturating_add(1))
        .read_to_end(&mut data)
        .map_err(|e| Error::read("zip", &format!("member {name}"), e))?;
    if data.len() as u64 > allowed {
        return Err(budget.expansion_error(&format!("zip member {name}")));
    }
    budget.charge_expanded(data.len() as u64)?;
    Ok(data)
}

/// Reads the member called `name`, if there is one.
pub(crate) fn read_named(
    archive: &mut Archive<'_>,
    name: &str,
    budget: &mut Budget<'_>,
) -> Result<Option<Vec<u8>>> {
    match archive.index_for_name(name) {
        Some(index) => read_index(archive, index, budget).map(Some),
        None => Ok(None),
    }
}

fn zip_error(err: ZipError, what: &str) -> Error {
    match err {
        ZipError::UnsupportedArchive(msg) if msg.contains("assword") => {
            Error::Encrypted(format!("zip member {what}"))
        }
        ZipError::UnsupportedArchive(msg) => {
            Error::Unsupported(format!("zip feature in {what}: {msg}"))
        }
        other => Error::corrupt("zip", format!("{what}: {other}")),
    }
}
