//! XML text with quick-xml's pull parser: linear, no recursion, no DTD or
//! custom entity expansion (so no "billion laughs"). One walker serves plain
//! XML files and the XML parts of Office and OpenDocument packages, steered by
//! a [`Dialect`] that says which elements hold text and which break lines.

use quick_xml::events::Event;
use quick_xml::Reader;

use super::error::{Error, Result};

/// How to read text out of one XML vocabulary. Element names are local names
/// (no prefix).
pub(crate) struct Dialect {
    /// Only text inside these elements counts (`t` in OOXML); empty = all.
    pub(crate) text_in: &'static [&'static str],
    /// Ending one of these starts a new line (paragraphs, rows).
    pub(crate) line_after: &'static [&'static str],
    /// Ending one of these adds a tab (cells).
    pub(crate) tab_after: &'static [&'static str],
    /// Empty elements that stand for text (`tab`, `br`, ODF `s`).
    pub(crate) empty_as: &'static [(&'static str, &'static str)],
    /// Keep attribute values as text (generic XML: data often lives there).
    pub(crate) attributes: bool,
    /// Generic document: trim text nodes and end a line after each element.
    pub(crate) generic: bool,
}

/// Generic XML: every text node and attribute value, a line per element.
const GENERIC: Dialect = Dialect {
    text_in: &[],
    line_after: &[],
    tab_after: &[],
    empty_as: &[],
    attributes: true,
    generic: true,
};

/// Text of a standalone XML document.
pub(crate) fn generic_text(bytes: &[u8]) -> Result<String> {
    walk(bytes, &GENERIC, "XML")
}

/// Text of an XML document read with `dialect`; `format` names the document
/// in errors.
pub(crate) fn walk(bytes: &[u8], dialect: &Dialect, format: &'static str) -> Result<String> {
    let mut reader = Reader::from_reader(bytes);
    let config = reader.config_mut();
    config.check_end_names = false;
    config.allow_unmatched_ends = true;
    let generic = dialect.generic;
    let all_text = dialect.text_in.is_empty();
    let mut out = String::with_capacity(bytes.len() / 4);
    // How many text-holding elements are open (a counter, not a stack).
    let mut inside = 0usize;
    loop {
        let event = reader.read_event().map_err(|e| {
            Error::corrupt(format, format!("at byte {}: {e}", reader.error_position()))
        })?;
        match event {
            Event::Start(e) => {
                let name = e.local_name();
                let name = std::str::from_utf8(name.as_ref()).unwrap_or("");
                if !all_text && dialect.text_in.contains(&name) {
                    inside += 1;
                }
                if dialect.attributes {
                    push_attributes(&e, &mut out);
                }
            }
            Event::Empty(e) => {
                let name = e.local_name();
                let name = std::str::from_utf8(name.as_ref()).unwrap_or("");
                if let Some((_, text)) = dialect.empty_as.iter().find(|(n, _)| *n == name) {
                    out.push_str(text);
                }
                if dialect.line_after.contains(&name) {
                    out.push('\n');
                } else if dialect.tab_after.contains(&name) {
                    out.push('\t');
                }
                if dialect.attributes {
                    push_attributes(&e, &mut out);
                }
            }
            Event::End(e) => {
                let name = e.local_name();
                let name = std::str::from_utf8(name.as_ref()).unwrap_or("");
                if !all_text && dialect.text_in.contains(&name) {
                    inside = inside.saturating_sub(1);
                }
                if dialect.line_after.contains(&name) || (generic && !out.ends_with('\n')) {
                    out.push('\n');
                } else if dialect.tab_after.contains(&name) {
                    // A cell's last paragraph ended a line: the cell ends it
                    // with a tab instead, so a row stays on one line.
                    if out.ends_with('\n') {
                        out.pop();
                    }
                    out.push('\t');
                }
            }
            Event::Text(t) if all_text || inside > 0 => {
                let text = t.decode().map_err(|e| Error::corrupt(format, e))?;
                // Indentation between elements is not text; words are.
                if !generic || !text.trim().is_empty() {
                    out.push_str(&text);
                }
            }
            Event::CData(t) if all_text || inside > 0 => {
                let text = t.decode().map_err(|e| Error::corrupt(format, e))?;
                out.push_str(&text);
            }
            Event::GeneralRef(r) if all_text || inside > 0 => {
                let name = r.decode().map_err(|e| Error::corrupt(format, e))?;
                let entity = format!("&{name};");
                match quick_xml::escape::unescape(&entity) {
                    Ok(resolved) => out.push_str(&resolved),
                    // An entity declared in a DTD: never expanded, kept as written.
                    Err(_) => out.push_str(&entity),
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(out)
}

fn push_attributes(e: &quick_xml::events::BytesStart<'_>, out: &mut String) {
    for attr in e.attributes().flatten() {
        let key = attr.key.local_name();
        // Namespace declarations and schema plumbing are not data.
        if attr.key.as_ref().starts_with(b"xmlns") || key.as_ref() == b"schemaLocation" {
            continue;
        }
        let value = attr
            .unescape_value()
            .map(|v| v.into_owned())
            .unwrap_or_else(|_| String::from_utf8_lossy(&attr.value).into_owned());
        if !value.trim().is_empty() {
            if !out.is_empty() && !out.ends_with(['\n', ' ']) {
                out.push(' ');
            }
            out.push_str(value.trim());
            out.push('\n');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generic_keeps_text_and_attributes() {
        let xml = br#"<?xml version="1.0"?><people xmlns="urn:x"><person ssn="078-05-1120"><name>Ann &amp; Bob</name><card><![CDATA[4111 1111 1111 1111]]></card></person></people>"#;
        let text = generic_text(xml).expect("valid xml");
        assert!(text.contains("078-05-1120"), "{text}");
        assert!(text.contains("Ann & Bob"), "{text}");
        assert!(text.contains("4111 1111 1111 1111"), "{text}");
        assert!(!text.contains("urn:x"), "{text}");
    }

    #[test]
    fn deep_nesting_is_linear() {
        let depth = 200_000;
        let xml = "<a>".repeat(depth) + "deep" + &"</a>".repeat(depth);
        let text = generic_text(xml.as_bytes()).expect("valid xml");
        assert!(text.contains("deep"));
    }

    #[test]
    fn truncated_is_an_error_or_partial_never_a_panic() {
        let _ = generic_text(b"<a><b attr=\"x");
        assert!(generic_text(b"<a><b").is_err());
    }
}
