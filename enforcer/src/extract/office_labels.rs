//! The MIP labels of an Office Open XML package (docx, xlsx, pptx):
//! `MSIP_Label_*` custom properties in `docProps/custom.xml`, and the
//! labels of `docMetadata/LabelInfo.xml` (newer Office), which carry ids
//! but no names (names are taken from the custom properties when both are
//! there). See [`crate::labels::msip`].

use quick_xml::events::Event;
use quick_xml::Reader;

use super::dispatch::{join, Ctx};
use super::error::{Error, Result};
use super::zipread;
use crate::labels::{msip, LabelSource};

/// Records the labels of the package at `path`.
pub(crate) fn read(
    ctx: &mut Ctx<'_>,
    path: &str,
    archive: &mut zipread::Archive<'_>,
    names: &[String],
) -> Result<()> {
    let custom = zipread::read_named(archive, "docProps/custom.xml", &mut ctx.budget)
        .map_err(|e| e.in_member(&join(path, "docProps/custom.xml")))?;
    let mut found = Vec::new();
    if let Some(data) = custom {
        let pairs = custom_properties(&data, "Office custom properties")
            .map_err(|e| e.in_member(&join(path, "docProps/custom.xml")))?;
        found = msip::from_properties(
            pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            LabelSource::MsipProperty,
            path,
        );
    }
    let label_info = names
        .iter()
        .find(|n| n.eq_ignore_ascii_case("docMetadata/LabelInfo.xml"));
    if let Some(entry) = label_info {
        let data = zipread::read_named(archive, entry, &mut ctx.budget)
            .map_err(|e| e.in_member(&join(path, entry)))?
            .unwrap_or_default();
        for label in msip::from_label_info(&data, &found, path) {
            ctx.label(label);
        }
    }
    for label in found {
        ctx.label(label);
    }
    Ok(())
}

/// The (name, value) pairs of a custom-properties part: OOXML
/// `<property name="..."><vt:lpwstr>value</vt:lpwstr></property>` and
/// OpenDocument `<meta:user-defined meta:name="...">value</meta:user-defined>`.
pub(crate) fn custom_properties(
    data: &[u8],
    format: &'static str,
) -> Result<Vec<(String, String)>> {
    let mut reader = Reader::from_reader(data);
    reader.config_mut().check_end_names = false;
    let mut pairs = Vec::new();
    let mut current: Option<(String, String)> = None;
    loop {
        let event = reader.read_event().map_err(|e| {
            Error::corrupt(format, format!("at byte {}: {e}", reader.error_position()))
        })?;
        match event {
            Event::Start(e) => {
                let local = e.local_name();
                if matches!(local.as_ref(), b"property" | b"user-defined") {
                    let name = e.attributes().flatten().find_map(|a| {
                        (a.key.local_name().as_ref() == b"name")
                            .then(|| a.unescape_value().map(|v| v.into_owned()).ok())
                            .flatten()
                    });
                    current = name.map(|n| (n, String::new()));
                }
            }
            Event::Text(t) => {
                if let Some((_, value)) = current.as_mut() {
                    value.push_str(&t.decode().map_err(|e| Error::corrupt(format, e))?);
                }
            }
            Event::GeneralRef(r) => {
                if let Some((_, value)) = current.as_mut() {
                    let name = r.decode().map_err(|e| Error::corrupt(format, e))?;
                    let entity = format!("&{name};");
                    value.push_str(&quick_xml::escape::unescape(&entity).unwrap_or_default());
                }
            }
            Event::End(e) => {
                if matches!(e.local_name().as_ref(), b"property" | b"user-defined") {
                    if let Some(pair) = current.take() {
                        pairs.push(pair);
                    }
                }
            }
            Event::Eof => return Ok(pairs),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ooxml_and_odf_properties() {
        let ooxml = br#"<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties" xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"><property fmtid="{D5CDD505-2E9C-101B-9397-08002B2CF9AE}" pid="2" name="MSIP_Label_x_Name"><vt:lpwstr>A &amp; B</vt:lpwstr></property></Properties>"#;
        assert_eq!(
            custom_properties(ooxml, "t").unwrap(),
            vec![("MSIP_Label_x_Name".to_string(), "A & B".to_string())]
        );
        let odf = br#"<office:document-meta xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0"><office:meta><meta:user-defined meta:name="K" meta:value-type="string">v</meta:user-defined></office:meta></office:document-meta>"#;
        assert_eq!(
            custom_properties(odf, "t").unwrap(),
            vec![("K".to_string(), "v".to_string())]
        );
    }
}
