//! OpenDocument (odt, ods, odp): `content.xml` for the body, `styles.xml`
//! for headers and footers, and embedded pictures and objects as members.
//! Paragraphs and headings break lines, table cells are tab-separated and
//! rows end lines, so spreadsheet text keeps its shape.
//!
//! Sensitivity labels: `MSIP_Label_*` user-defined properties in
//! `meta.xml` (LibreOffice keeps a labelled Office file's custom
//! properties there), and the classification markings of the master
//! pages' headers and footers in `styles.xml`.

use super::dispatch::{join, Ctx};
use super::error::Result;
use super::office_labels::custom_properties;
use super::ooxml::embedded;
use super::xml::{self, Dialect};
use super::zipread;
use crate::labels::{msip, LabelSource};

/// Only the text of master-page headers and footers.
const HEADER_FOOTER: Dialect = Dialect {
    text_in: &[
        "header",
        "header-left",
        "header-first",
        "footer",
        "footer-left",
        "footer-first",
    ],
    line_after: &["p", "h", "table-row", "list-item", "line-break"],
    tab_after: &["table-cell", "tab"],
    empty_as: &[("s", " ")],
    attributes: false,
    generic: false,
};

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
        if label == "styles" {
            let margins = xml::walk(&data, &HEADER_FOOTER, "OpenDocument XML")
                .map_err(|e| e.in_member(&part_path))?;
            ctx.header_footer(path, &margins);
        }
        ctx.push(part_path, text, Vec::new())?;
    }
    if let Some(meta) = zipread::read_named(&mut archive, "meta.xml", &mut ctx.budget)
        .map_err(|e| e.in_member(&join(path, "meta")))?
    {
        let pairs = custom_properties(&meta, "OpenDocument metadata")
            .map_err(|e| e.in_member(&join(path, "meta")))?;
        let pairs = pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()));
        for label in msip::from_properties(pairs, LabelSource::MsipProperty, path) {
            ctx.label(label);
        }
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
