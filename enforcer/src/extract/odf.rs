//! OpenDocument (odt, ods, odp): `content.xml` for the body, `styles.xml`
//! for headers and footers, and embedded pictures and objects as members.
//! Paragraphs and headings break lines, table cells are tab-separated and
//! rows end lines, so spreadsheet text keeps its shape.

use super::dispatch::{join, Ctx};
use super::error::Result;
use super::ooxml::embedded;
use super::xml::{self, Dialect};
use super::zipread;

const ODF: Dialect = Dialect {
    text_in: &[],
    line_after: &["p", "h", "table-row", "list-item", "line-break"],
    tab_after: &["table-cell", "tab"],
    empty_as: &[("s", " ")],
    attributes: false,
    generic: false,
};

/// Extracts an OpenDocument package; embedded members are at `depth`.
pub(crate) fn extract(ctx: &mut Ctx<'_>, path: &str, bytes: &[u8], depth: u32) -> Result<()> {
    ctx.check_depth(path, depth)?;
    let mut archive = zipread::open(bytes, &mut ctx.budget)?;
    let names: Vec<String> = archive.file_names().map(str::to_string).collect();
    for (entry, label) in [("content.xml", "content"), ("styles.xml", "styles")] {
        let part_path = join(path, label);
        let Some(data) = zipread::read_named(&mut archive, entry, &mut ctx.budget)
            .map_err(|e| e.in_member(&part_path))?
        else {
            continue;
        };
        let text =
            xml::walk(&data, &ODF, "OpenDocument XML").map_err(|e| e.in_member(&part_path))?;
        ctx.push(part_path, text, Vec::new())?;
    }
    embedded(
        ctx,
        path,
        &mut archive,
        &names,
        &["Pictures/", "Object "],
        depth,
    )
}
