//! The text of one PDF page, with line breaks where the page moves to a new
//! line.
//!
//! lopdf's `extract_text_chunks` only breaks lines at `ET`: lines laid out
//! with `Td`/`TD`/`T*`/`Tm` inside one text object (how most generators
//! write a paragraph) come out glued together (`...gon` + `card 4111 ...` +
//! `ka...` = `goncard 4111 ... 1111ka`), which hides values from detectors
//! that need word boundaries; and text shown with the `'` and `"` operators
//! is dropped. This walks the content stream itself with lopdf's public
//! pieces and separates what the page separates.

use std::collections::BTreeMap;

use lopdf::content::Content;
use lopdf::{Document, Encoding, Object, ObjectId};

/// The text of page `page_id`: shown strings in content order, a newline
/// where a text-positioning operator starts a new line, a space for a move
/// along the same line. Strings in a font without a usable encoding are
/// decoded as Latin-1 rather than dropped (a scanner should see too much,
/// not too little).
pub(crate) fn page_text(doc: &Document, page_id: ObjectId) -> lopdf::Result<String> {
    let fonts = doc.get_page_fonts(page_id)?;
    let encodings: BTreeMap<Vec<u8>, Encoding<'_>> = fonts
        .into_iter()
        .filter_map(|(name, font)| font.get_font_encoding(doc).ok().map(|e| (name, e)))
        .collect();
    let content = Content::decode(&doc.get_page_content(page_id)?)?;
    let mut text = String::new();
    let mut encoding: Option<&Encoding<'_>> = None;
    for op in &content.operations {
        match op.operator.as_str() {
            "Tf" => {
                encoding = op
                    .operands
                    .first()
                    .and_then(|o| o.as_name().ok())
                    .and_then(|name| encodings.get(name));
            }
            "Tj" | "TJ" => show(&mut text, encoding, &op.operands),
            "'" | "\"" => {
                new_line(&mut text);
                // `"` takes word and character spacing first; the string is last.
                show(
                    &mut text,
                    encoding,
                    op.operands
                        .last()
                        .map(std::slice::from_ref)
                        .unwrap_or_default(),
                );
            }
            "T*" | "ET" | "Tm" | "TD" => new_line(&mut text),
            "Td" => {
                let dy = op.operands.get(1).and_then(|o| o.as_float().ok());
                if dy.is_some_and(|dy| dy.abs() < 0.01) {
                    space(&mut text);
                } else {
                    new_line(&mut text);
                }
            }
            _ => {}
        }
    }
    Ok(text)
}

fn show(text: &mut String, encoding: Option<&Encoding<'_>>, operands: &[Object]) {
    for operand in operands {
        match operand {
            Object::String(bytes, _) => {
                let decoded = encoding.and_then(|e| Document::decode_text(e, bytes).ok());
                match decoded {
                    Some(s) => text.push_str(&s),
                    None => text.extend(bytes.iter().map(|&b| char::from(b))),
                }
            }
            Object::Array(items) => show(text, encoding, items),
            // A large negative kerning in a TJ array is a word gap.
            Object::Integer(i) if *i < -100 => space(text),
            Object::Real(r) if *r < -100.0 => space(text),
            _ => {}
        }
    }
}

fn new_line(text: &mut String) {
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
}

fn space(text: &mut String) {
    if !text.is_empty() && !text.ends_with([' ', '\n']) {
        text.push(' ');
    }
}

#[cfg(test)]
mod tests {
    use lopdf::{dictionary, Stream};

    use super::*;

    /// A one-page PDF (Helvetica) with the given content stream.
    fn page_with(ops: &str) -> (Document, ObjectId) {
        let mut doc = Document::with_version("1.5");
        let pages_id = doc.new_object_id();
        let font = doc.add_object(dictionary! {
            "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica",
        });
        let resources = doc.add_object(dictionary! { "Font" => dictionary! { "F1" => font } });
        let content = doc.add_object(Stream::new(dictionary! {}, ops.as_bytes().to_vec()));
        let page = doc.add_object(dictionary! {
            "Type" => "Page", "Parent" => pages_id, "Contents" => content,
            "Resources" => resources,
        });
        doc.objects.insert(
            pages_id,
            Object::Dictionary(
                dictionary! { "Type" => "Pages", "Kids" => vec![page.into()], "Count" => 1 },
            ),
        );
        (doc, page)
    }

    #[test]
    fn lines_in_one_text_object_stay_separate() {
        let (doc, page) = page_with(
            "BT /F1 11 Tf 14 TL 72 760 Td (kalo mi) Tj T* (card 4111 1111 1111 1111) Tj \
             0 -14 Td (ka ne) Tj 10 0 Td (sut) Tj ET",
        );
        let text = page_text(&doc, page).expect("text");
        assert_eq!(text, "kalo mi\ncard 4111 1111 1111 1111\nka ne sut\n");
    }

    #[test]
    fn quote_operators_show_their_text() {
        let (doc, page) =
            page_with("BT /F1 11 Tf 14 TL (first) Tj (SSN 536-22-8452) ' 1 2 (IBAN GB82) \" ET");
        let text = page_text(&doc, page).expect("text");
        assert_eq!(text, "first\nSSN 536-22-8452\nIBAN GB82\n");
    }
}
