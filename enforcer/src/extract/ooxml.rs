//! Office Open XML: Word (docx) and PowerPoint (pptx). Excel is in `xlsx`.
//!
//! A package is a zip of XML parts; text lives in `t` elements (`w:t`,
//! `a:t`), paragraphs are `p`. Word: body, headers, footers, footnotes,
//! endnotes, comments, and tracked deletions (`w:delText`: deleted is not
//! gone). PowerPoint: slides, notes and comments. Embedded media and objects
//! (a screenshot pasted into a report, a spreadsheet inside a slide) are
//! extracted as members, so their text is scanned too. Sensitivity labels:
//! the package's MIP labels (`office_labels`) and the classification
//! markings of Word headers and footers.

use super::dispatch::{join, Ctx};
use super::error::Result;
use super::model::FileKind;
use super::office_labels;
use super::xml::{self, Dialect};
use super::zipread;

const WORD: Dialect = Dialect {
    text_in: &["t", "delText"],
    line_after: &["p"],
    tab_after: &[],
    empty_as: &[("tab", "\t"), ("br", "\n"), ("cr", "\n")],
    attributes: false,
    generic: false,
};

const PRESENTATION: Dialect = Dialect {
    text_in: &["t", "text"],
    line_after: &["p", "cm"],
    tab_after: &[],
    empty_as: &[("br", "\n")],
    attributes: false,
    generic: false,
};

/// Extracts a docx or pptx; embedded members are at nesting `depth`.
pub(crate) fn extract(
    ctx: &mut Ctx<'_>,
    path: &str,
    bytes: &[u8],
    kind: FileKind,
    depth: u32,
) -> Result<()> {
    ctx.check_depth(path, depth)?;
    let mut archive = zipread::open(bytes, &mut ctx.budget)?;
    let names: Vec<String> = archive.file_names().map(str::to_string).collect();
    let (dialect, parts, media_dirs): (&Dialect, Vec<(String, String)>, &[&str]) = match kind {
        FileKind::Docx => (
            &WORD,
            word_parts(&names),
            &["word/media/", "word/embeddings/"],
        ),
        _ => (
            &PRESENTATION,
            presentation_parts(&names),
            &["ppt/media/", "ppt/embeddings/"],
        ),
    };
    office_labels::read(ctx, path, &mut archive, &names)?;
    for (entry, label) in parts {
        let part_path = join(path, &label);
        let data = zipread::read_named(&mut archive, &entry, &mut ctx.budget)
            .map_err(|e| e.in_member(&part_path))?
            .unwrap_or_default();
        let text = xml::walk(&data, dialect, "Office XML").map_err(|e| e.in_member(&part_path))?;
        if label.starts_with("header") || label.starts_with("footer") {
            ctx.header_footer(path, &text);
        }
        ctx.push(part_path, text, Vec::new())?;
    }
    embedded(ctx, path, &mut archive, &names, media_dirs, depth)
}

/// Extracts embedded media and objects under `dirs` as members.
pub(crate) fn embedded(
    ctx: &mut Ctx<'_>,
    path: &str,
    archive: &mut zipread::Archive<'_>,
    names: &[String],
    dirs: &[&str],
    depth: u32,
) -> Result<()> {
    for name in names {
        if name.ends_with('/') || !dirs.iter().any(|d| name.starts_with(d)) {
            continue;
        }
        let member_path = join(path, name);
        let data = zipread::read_named(archive, name, &mut ctx.budget)
            .map_err(|e| e.in_member(&member_path))?
            .unwrap_or_default();
        ctx.member(&member_path, &data, depth)?;
    }
    Ok(())
}

/// Word parts in reading order, with their labels.
fn word_parts(names: &[String]) -> Vec<(String, String)> {
    let mut parts = vec![("word/document.xml".to_string(), "body".to_string())];
    for (prefix, label) in [("word/header", "header"), ("word/footer", "footer")] {
        for (n, name) in numbered(names, prefix, ".xml") {
            parts.push((name, format!("{label}{n}")));
        }
    }
    for label in ["footnotes", "endnotes", "comments"] {
        let name = format!("word/{label}.xml");
        if names.contains(&name) {
            parts.push((name, label.to_string()));
        }
    }
    parts
}

/// PowerPoint parts in slide order, with their labels.
fn presentation_parts(names: &[String]) -> Vec<(String, String)> {
    let mut parts = Vec::new();
    for (n, name) in numbered(names, "ppt/slides/slide", ".xml") {
        parts.push((name, format!("slide{n}")));
    }
    for (n, name) in numbered(names, "ppt/notesSlides/notesSlide", ".xml") {
        parts.push((name, format!("notes{n}")));
    }
    for (n, name) in numbered(names, "ppt/comments/comment", ".xml") {
        parts.push((name, format!("comments{n}")));
    }
    parts
}

/// Entries `prefix<N>suffix`, sorted by N.
pub(crate) fn numbered(names: &[String], prefix: &str, suffix: &str) -> Vec<(u32, String)> {
    let mut found: Vec<(u32, String)> = names
        .iter()
        .filter_map(|name| {
            let n = name.strip_prefix(prefix)?.strip_suffix(suffix)?;
            let n = if n.is_empty() { 0 } else { n.parse().ok()? };
            Some((n, name.clone()))
        })
        .collect();
    found.sort();
    found
}
