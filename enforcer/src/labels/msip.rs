//! Microsoft Information Protection label metadata.
//!
//! A labelled Office file carries, per label, custom properties named
//! `MSIP_Label_<label id>_<Field>` (Microsoft's "Microsoft Information
//! Protection SDK - Metadata" page lists the fields): `Enabled` (`true`
//! when the label applies), `SetDate`, `Method` (`Standard` or
//! `Privileged`), `Name`, `SiteId` (the tenant), `ActionId`,
//! `ContentBits`, and `Removed` on some producers when a label was taken
//! off. The same keys appear in a PDF's Info dictionary and XMP metadata
//! (Office's "Save as PDF") and, as `key=value;` pairs, in the
//! `msip_labels` header of mail sent by Outlook. Newer Office writes
//! `docMetadata/LabelInfo.xml` instead (or as well): `<clbl:label id="{..}"
//! enabled="1" removed="0" method="Standard" siteId="{..}"/>`, without the
//! name.
//!
//! [`from_properties`] reads any list of (key, value) pairs;
//! [`from_label_info`] reads LabelInfo.xml; [`from_header`] the mail
//! header. Only enabled labels are returned.

use quick_xml::events::Event;
use quick_xml::Reader;

use super::{Label, LabelSource};

/// The prefix of every MIP label property.
pub const PREFIX: &str = "MSIP_Label_";

/// Most distinct label ids read from one set of properties (Office writes
/// one per tenant); the properties of further ids are ignored, so a file
/// listing millions of ids costs linear time.
pub const MAX_LABELS: usize = 64;

/// One label's fields, collected from its properties.
#[derive(Default)]
struct Fields {
    id: String,
    enabled: Option<bool>,
    removed: bool,
    name: Option<String>,
}

/// Splits `MSIP_Label_<id>_<Field>` into (id, field). The id is a GUID
/// (36 characters with dashes, sometimes in braces); the field is what
/// follows the next underscore.
fn split_key(key: &str) -> Option<(String, &str)> {
    let rest = key.trim();
    let rest = rest
        .get(..PREFIX.len())
        .filter(|p| p.eq_ignore_ascii_case(PREFIX))
        .map(|_| &rest[PREFIX.len()..])?;
    let (id, field) = rest.split_once('_')?;
    let id = normalise_id(id)?;
    Some((id, field))
}

/// A label id as compared and shown: lower case, no braces; `None` when it
/// is not made of hex digits and dashes.
pub fn normalise_id(id: &str) -> Option<String> {
    let id = id.trim().trim_start_matches('{').trim_end_matches('}');
    let ok =
        !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-');
    ok.then(|| id.to_ascii_lowercase())
}

fn truthy(value: &str) -> bool {
    let v = value.trim();
    v.eq_ignore_ascii_case("true") || v == "1"
}

/// The enabled labels described by `pairs` (property name, value); other
/// properties are ignored. `source` and `path` are recorded on each label.
pub fn from_properties<'a>(
    pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    source: LabelSource,
    path: &str,
) -> Vec<Label> {
    let mut labels: Vec<Fields> = Vec::new();
    for (key, value) in pairs {
        let Some((id, field)) = split_key(key) else {
            continue;
        };
        let at = match labels.iter().position(|f| f.id == id) {
            Some(at) => at,
            None if labels.len() >= MAX_LABELS => continue,
            None => {
                labels.push(Fields {
                    id,
                    ..Fields::default()
                });
                labels.len() - 1
            }
        };
        let fields = &mut labels[at];
        match field.to_ascii_lowercase().as_str() {
            "enabled" => fields.enabled = Some(truthy(value)),
            "removed" => fields.removed = truthy(value),
            "name" => fields.name = Some(value.to_string()),
            _ => {}
        }
    }
    labels
        .into_iter()
        .filter(|f| f.enabled == Some(true) && !f.removed)
        .map(|f| {
            let name = f
                .name
                .filter(|n| !n.trim().is_empty())
                .unwrap_or_else(|| f.id.clone());
            Label::new(&name, source, Some(f.id), path)
        })
        .collect()
}

/// The enabled labels of a `msip_labels` mail header:
/// `MSIP_Label_<id>_Enabled=true; MSIP_Label_<id>_Name=Public; ...`.
pub fn from_header(value: &str, path: &str) -> Vec<Label> {
    let pairs = value
        .split(';')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.trim(), v.trim()));
    from_properties(pairs, LabelSource::MailHeader, path)
}

/// The enabled labels of `docMetadata/LabelInfo.xml`; `names` gives the
/// names known from custom properties (by id), since LabelInfo holds none.
/// Unreadable XML yields what was read before the fault.
pub fn from_label_info(xml: &[u8], names: &[Label], path: &str) -> Vec<Label> {
    let mut reader = Reader::from_reader(xml);
    reader.config_mut().check_end_names = false;
    let mut out = Vec::new();
    while let Ok(event) = reader.read_event() {
        if out.len() >= MAX_LABELS {
            break;
        }
        match event {
            Event::Start(e) | Event::Empty(e) if e.local_name().as_ref() == b"label" => {
                let mut id = None;
                let mut enabled = false;
                let mut removed = false;
                for attr in e.attributes().flatten() {
                    let value = attr
                        .unescape_value()
                        .map(|v| v.into_owned())
                        .unwrap_or_default();
                    match attr.key.local_name().as_ref() {
                        b"id" => id = normalise_id(&value),
                        b"enabled" => enabled = truthy(&value),
                        b"removed" => removed = truthy(&value),
                        _ => {}
                    }
                }
                let Some(id) = id else { continue };
                if !enabled || removed {
                    continue;
                }
                let name = names
                    .iter()
                    .find(|l| l.id.as_deref() == Some(id.as_str()))
                    .map_or(id.as_str(), |l| l.name.as_str())
                    .to_string();
                out.push(Label::new(&name, LabelSource::LabelInfo, Some(id), path));
            }
            Event::Eof => break,
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "2096f6a2-d2f7-48be-b329-b73aaa526e5d";

    #[test]
    fn enabled_labels_only() {
        let enabled = format!("MSIP_Label_{ID}_Enabled");
        let name = format!("MSIP_Label_{ID}_Name");
        let other = "MSIP_Label_11111111-2222-3333-4444-555555555555_Enabled";
        let other_name = "MSIP_Label_11111111-2222-3333-4444-555555555555_Name";
        let pairs = [
            (enabled.as_str(), "true"),
            (name.as_str(), "Confidential"),
            (other, "false"),
            (other_name, "Public"),
            ("Author", "someone"),
        ];
        let labels = from_properties(pairs, LabelSource::MsipProperty, "a.docx");
        assert_eq!(labels.len(), 1, "{labels:?}");
        assert_eq!(labels[0].name, "Confidential");
        assert_eq!(labels[0].id.as_deref(), Some(ID));
    }

    #[test]
    fn removed_or_unset_is_no_label() {
        let enabled = format!("MSIP_Label_{ID}_Enabled");
        let removed = format!("MSIP_Label_{ID}_Removed");
        let name = format!("MSIP_Label_{ID}_Name");
        let pairs = [
            (enabled.as_str(), "True"),
            (removed.as_str(), "true"),
            (name.as_str(), "Secret"),
        ];
        assert!(from_properties(pairs, LabelSource::PdfInfo, "a.pdf").is_empty());
        let pairs = [(name.as_str(), "Secret")];
        assert!(from_properties(pairs, LabelSource::PdfInfo, "a.pdf").is_empty());
    }

    #[test]
    fn label_info_takes_names_from_properties() {
        let xml = format!(
            r#"<?xml version="1.0"?><clbl:labelList xmlns:clbl="http://schemas.microsoft.com/office/2020/mipLabelMetadata"><clbl:label id="{{{}}}" enabled="1" method="Standard" siteId="{{72f988bf-86f1-41af-91ab-2d7cd011db47}}" removed="0"/><clbl:label id="{{9f9a4c2b-0000-4000-8000-000000000001}}" enabled="0" removed="0"/></clbl:labelList>"#,
            ID.to_uppercase()
        );
        let known = vec![Label::new(
            "Highly Confidential",
            LabelSource::MsipProperty,
            Some(ID.into()),
            "a.docx",
        )];
        let labels = from_label_info(xml.as_bytes(), &known, "a.docx");
        assert_eq!(labels.len(), 1, "{labels:?}");
        assert_eq!(labels[0].name, "Highly Confidential");
        let alone = from_label_info(xml.as_bytes(), &[], "a.docx");
        assert_eq!(alone[0].name, ID);
    }

    #[test]
    fn ids_past_the_cap_are_ignored() {
        let keys: Vec<String> = (0..100_000)
            .map(|i| format!("MSIP_Label_{i:08x}-0000-4000-8000-000000000000_Enabled"))
            .collect();
        let pairs = keys.iter().map(|k| (k.as_str(), "true"));
        let started = std::time::Instant::now();
        let labels = from_properties(pairs, LabelSource::MsipProperty, "a.docx");
        assert_eq!(labels.len(), MAX_LABELS);
        assert!(started.elapsed().as_secs() < 5, "{:?}", started.elapsed());
    }

    #[test]
    fn mail_header_pairs() {
        let header = format!(
            "MSIP_Label_{ID}_Enabled=true;\n MSIP_Label_{ID}_SetDate=2020-12-08T21:11:26Z; \n MSIP_Label_{ID}_Method=Privileged;\n MSIP_Label_{ID}_Name=Public_0;"
        );
        let labels = from_header(&header, "m.eml");
        assert_eq!(labels.len(), 1);
        assert_eq!(labels[0].name, "Public_0");
        assert_eq!(labels[0].source, LabelSource::MailHeader);
    }
}
