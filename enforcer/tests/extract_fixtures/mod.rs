//! Fixture builders shared by the extraction tests and benches: files are
//! made in code (zip, Office, OpenDocument, PDF, rendered images), never
//! downloaded.
#![allow(dead_code, missing_docs)]

use std::io::{Cursor, Write};

use ab_glyph::{Font, FontVec, PxScale, ScaleFont};
use image::{GrayImage, Luma};
use zip::write::SimpleFileOptions;

/// A zip of `(name, bytes)` members, deflated.
pub fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut out);
        let opts =
            SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        for (name, data) in entries {
            zip.start_file(*name, opts).expect("zip entry");
            zip.write_all(data).expect("zip write");
        }
        zip.finish().expect("zip finish");
    }
    out.into_inner()
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn w_paras(paras: &[&str]) -> String {
    paras
        .iter()
        .map(|p| {
            format!(
                "<w:p><w:r><w:t xml:space=\"preserve\">{}</w:t></w:r></w:p>",
                esc(p)
            )
        })
        .collect()
}

const W_NS: &str = "xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\"";

/// A docx with body paragraphs and one header, footer, footnote and comment.
pub fn docx(body: &[&str], header: &str, footer: &str, footnote: &str, comment: &str) -> Vec<u8> {
    let document = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><w:document {W_NS}><w:body>{}</w:body></w:document>",
        w_paras(body)
    );
    let header = format!("<w:hdr {W_NS}>{}</w:hdr>", w_paras(&[header]));
    let footer = format!("<w:ftr {W_NS}>{}</w:ftr>", w_paras(&[footer]));
    let notes = format!(
        "<w:footnotes {W_NS}><w:footnote w:id=\"1\">{}</w:footnote></w:footnotes>",
        w_paras(&[footnote])
    );
    let comments = format!(
        "<w:comments {W_NS}><w:comment w:id=\"0\">{}</w:comment></w:comments>",
        w_paras(&[comment])
    );
    zip_of(&[
        ("[Content_Types].xml", CONTENT_TYPES.as_bytes()),
        ("word/document.xml", document.as_bytes()),
        ("word/header1.xml", header.as_bytes()),
        ("word/footer1.xml", footer.as_bytes()),
        ("word/footnotes.xml", notes.as_bytes()),
        ("word/comments.xml", comments.as_bytes()),
    ])
}

const CONTENT_TYPES: &str = "<?xml version=\"1.0\"?><Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\"/>";

/// An xlsx: sheets of rows of cells; strings go to sharedStrings, numbers
/// stay numbers (style 1 = `#,##0.00`, style 2 = date).
pub fn xlsx(sheets: &[(&str, Vec<Vec<Cell>>)]) -> Vec<u8> {
    let mut shared: Vec<String> = Vec::new();
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let mut wb_sheets = String::new();
    let mut rels = String::new();
    for (i, (name, rows)) in sheets.iter().enumerate() {
        let n = i + 1;
        wb_sheets.push_str(&format!(
            "<sheet name=\"{}\" sheetId=\"{n}\" r:id=\"rId{n}\"/>",
            esc(name)
        ));
        rels.push_str(&format!(
            "<Relationship Id=\"rId{n}\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet\" Target=\"worksheets/sheet{n}.xml\"/>"
        ));
        let mut data = String::new();
        for (r, row) in rows.iter().enumerate() {
            data.push_str(&format!("<row r=\"{}\">", r + 1));
            for cell in row {
                match cell {
                    Cell::Text(s) => {
                        shared.push(s.to_string());
                        data.push_str(&format!("<c t=\"s\"><v>{}</v></c>", shared.len() - 1));
                    }
                    Cell::Number(v, style) => {
                        data.push_str(&format!("<c s=\"{style}\"><v>{v}</v></c>"))
                    }
                }
            }
            data.push_str("</row>");
        }
        files.push((
            format!("xl/worksheets/sheet{n}.xml"),
            format!("<?xml version=\"1.0\"?><worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"><sheetData>{data}</sheetData></worksheet>").into_bytes(),
        ));
    }
    let workbook = format!("<?xml version=\"1.0\"?><workbook xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\"><sheets>{wb_sheets}</sheets></workbook>");
    let rels = format!("<?xml version=\"1.0\"?><Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">{rels}</Relationships>");
    let sst: String = shared
        .iter()
        .map(|s| format!("<si><t>{}</t></si>", esc(s)))
        .collect();
    let sst = format!("<?xml version=\"1.0\"?><sst xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\">{sst}</sst>");
    let styles = "<?xml version=\"1.0\"?><styleSheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"><cellXfs count=\"3\"><xf numFmtId=\"0\"/><xf numFmtId=\"4\"/><xf numFmtId=\"14\"/></cellXfs></styleSheet>";
    let mut entries: Vec<(&str, &[u8])> = vec![
        ("[Content_Types].xml", CONTENT_TYPES.as_bytes()),
        ("xl/workbook.xml", workbook.as_bytes()),
        ("xl/_rels/workbook.xml.rels", rels.as_bytes()),
        ("xl/sharedStrings.xml", sst.as_bytes()),
        ("xl/styles.xml", styles.as_bytes()),
    ];
    for (name, data) in &files {
        entries.push((name, data));
    }
    zip_of(&entries)
}

/// A spreadsheet cell for [`xlsx`].
pub enum Cell {
    Text(&'static str),
    /// Raw value and style index.
    Number(&'static str, u32),
}

/// A pptx with one slide per entry and notes for the first slide.
pub fn pptx(slides: &[&str], notes: &str) -> Vec<u8> {
    let a = "xmlns:a=\"http://schemas.openxmlformats.org/drawingml/2006/main\" xmlns:p=\"http://schemas.openxmlformats.org/presentationml/2006/main\"";
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    for (i, text) in slides.iter().enumerate() {
        files.push((
            format!("ppt/slides/slide{}.xml", i + 1),
            format!("<p:sld {a}><p:cSld><p:spTree><p:sp><p:txBody><a:p><a:r><a:t>{}</a:t></a:r></a:p></p:txBody></p:sp></p:spTree></p:cSld></p:sld>", esc(text)).into_bytes(),
        ));
    }
    files.push((
        "ppt/notesSlides/notesSlide1.xml".into(),
        format!("<p:notes {a}><p:cSld><p:spTree><p:sp><p:txBody><a:p><a:r><a:t>{}</a:t></a:r></a:p></p:txBody></p:sp></p:spTree></p:cSld></p:notes>", esc(notes)).into_bytes(),
    ));
    let mut entries: Vec<(&str, &[u8])> = vec![
        ("[Content_Types].xml", CONTENT_TYPES.as_bytes()),
        ("ppt/presentation.xml", b"<p:presentation xmlns:p=\"http://schemas.openxmlformats.org/presentationml/2006/main\"/>"),
    ];
    for (name, data) in &files {
        entries.push((name, data));
    }
    zip_of(&entries)
}

/// An OpenDocument text (`odt`) or spreadsheet (`ods`, one row of cells).
pub fn odf(mime: &str, body: &str) -> Vec<u8> {
    let content = format!(
        "<?xml version=\"1.0\"?><office:document-content xmlns:office=\"urn:oasis:names:tc:opendocument:xmlns:office:1.0\" xmlns:text=\"urn:oasis:names:tc:opendocument:xmlns:text:1.0\" xmlns:table=\"urn:oasis:names:tc:opendocument:xmlns:table:1.0\"><office:body>{body}</office:body></office:document-content>"
    );
    zip_of(&[
        ("mimetype", mime.as_bytes()),
        ("content.xml", content.as_bytes()),
    ])
}

/// A PDF with one page of text lines per entry (Helvetica), built with lopdf.
pub fn pdf_text(pages: &[Vec<String>]) -> Vec<u8> {
    use lopdf::{dictionary, Document, Object, Stream};
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let font_id = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica",
    });
    let resources = doc.add_object(dictionary! { "Font" => dictionary! { "F1" => font_id } });
    let mut kids = Vec::new();
    for lines in pages {
        let mut ops = String::from("BT /F1 11 Tf 14 TL 72 760 Td\n");
        for line in lines {
            let escaped = line
                .replace('\\', "\\\\")
                .replace('(', "\\(")
                .replace(')', "\\)");
            ops.push_str(&format!("({escaped}) Tj T*\n"));
        }
        ops.push_str("ET\n");
        let mut stream = Stream::new(dictionary! {}, ops.into_bytes());
        stream.compress().expect("compress");
        let content_id = doc.add_object(stream);
        let page = doc.add_object(dictionary! {
            "Type" => "Page", "Parent" => pages_id, "Contents" => content_id,
            "Resources" => resources, "MediaBox" => vec![0.into(), 0.into(), 612.into(), 792.into()],
        });
        kids.push(Object::from(page));
    }
    let count = kids.len() as i64;
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => kids, "Count" => count }),
    );
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog);
    let mut out = Vec::new();
    doc.save_to(&mut out).expect("save pdf");
    out
}

/// A PDF whose single page is only an image (a "scan").
pub fn pdf_scanned(image: &GrayImage) -> Vec<u8> {
    pdf_scanned_pages(std::slice::from_ref(image))
}

/// A PDF whose pages are only images (a scan), one greyscale image per page.
pub fn pdf_scanned_pages(images: &[GrayImage]) -> Vec<u8> {
    use lopdf::{dictionary, Document, Object, Stream};
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let mut kids = Vec::new();
    for image in images {
        let (w, h) = image.dimensions();
        let mut img = Stream::new(
            dictionary! {
                "Type" => "XObject", "Subtype" => "Image", "Width" => w as i64,
                "Height" => h as i64, "ColorSpace" => "DeviceGray", "BitsPerComponent" => 8,
            },
            image.as_raw().clone(),
        );
        img.compress().expect("compress");
        let img_id = doc.add_object(img);
        // Page is 612 pt wide; keep the image's aspect ratio.
        let (pw, ph) = (612.0f32, 612.0 * h as f32 / w as f32);
        let content = format!("q {pw} 0 0 {ph} 0 0 cm /Im1 Do Q");
        let content_id = doc.add_object(Stream::new(dictionary! {}, content.into_bytes()));
        let page = doc.add_object(dictionary! {
            "Type" => "Page", "Parent" => pages_id, "Contents" => content_id,
            "Resources" => dictionary! { "XObject" => dictionary! { "Im1" => img_id } },
            "MediaBox" => vec![0.into(), 0.into(), Object::Real(pw), Object::Real(ph)],
        });
        kids.push(Object::from(page));
    }
    let count = kids.len() as i64;
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => kids, "Count" => count }),
    );
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog);
    let mut out = Vec::new();
    doc.save_to(&mut out).expect("save pdf");
    out
}

/// `n` words from a fixed generator: realistic, not trivially compressible.
pub fn words(n: usize) -> Vec<String> {
    const SYLLABLES: &[&str] = &[
        "ka", "lo", "mi", "ne", "sut", "ver", "da", "quo", "rin", "tel", "pa", "gon",
    ];
    let mut seed = 0x9e37_79b9_u32;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        seed
    };
    (0..n)
        .map(|_| {
            let len = 1 + next() % 4;
            (0..len)
                .map(|_| SYLLABLES[(next() % SYLLABLES.len() as u32) as usize])
                .collect()
        })
        .collect()
}

/// A large docx of `n` generated words, 40 to a paragraph, with a card
/// number in every 500th paragraph (4.5 M words make about 10 MB).
pub fn docx_of_words(n: usize) -> Vec<u8> {
    let paras: Vec<String> = words(n)
        .chunks(40)
        .enumerate()
        .map(|(i, c)| {
            let mut p = c.join(" ");
            if i % 500 == 0 {
                p.push_str(" card 4111 1111 1111 1111");
            }
            p
        })
        .collect();
    let refs: Vec<&str> = paras.iter().map(String::as_str).collect();
    docx(&refs, "header", "footer", "note", "comment")
}

/// A text PDF of `pages` pages of 50 lines of 12 generated words; with
/// `card`, line 20 of page 10 (or the last page) is a card number.
pub fn pdf_of_words(pages: usize, card: bool) -> Vec<u8> {
    let mut pages: Vec<Vec<String>> = words(pages * 50 * 12)
        .chunks(50 * 12)
        .map(|page| page.chunks(12).map(|line| line.join(" ")).collect())
        .collect();
    if card {
        let at = pages.len().min(10) - 1;
        pages[at][20] = "card 4111 1111 1111 1111".into();
    }
    pdf_text(&pages)
}

/// A 1280x720 screenshot of a support mailbox holding a card number, an
/// IBAN, an e-mail address and an SSN; `order` varies one line.
pub fn mailbox_screenshot(order: usize) -> Vec<u8> {
    let order = format!("Please refund order {order} to IBAN GB82 WEST 1234 5698 7654 32");
    let lines = [
        "Inbox - Customer support",
        "From: alice.smith@example.com   Subject: refund request",
        "Card number 4111 1111 1111 1111, expiry 12/29",
        order.as_str(),
        "SSN on file: 078-05-1120",
    ];
    png(&render(&lines, DEJAVU_SANS, 18.0, false, 1280, 720))
}

pub const DEJAVU_SANS: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
pub const DEJAVU_SERIF: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf";
pub const DEJAVU_MONO: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf";
pub const LIBERATION_SANS: &str = "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf";

/// Renders lines of text onto a `w` x `h` greyscale canvas at `px` pixels,
/// dark on light, or light on dark when `dark`.
pub fn render(lines: &[&str], font_path: &str, px: f32, dark: bool, w: u32, h: u32) -> GrayImage {
    let font = FontVec::try_from_vec(std::fs::read(font_path).expect("font file")).expect("font");
    let scaled = font.as_scaled(PxScale::from(px));
    let (bg, fg) = if dark { (30u8, 225u8) } else { (255u8, 20u8) };
    let mut img = GrayImage::from_pixel(w, h, Luma([bg]));
    let line_h = (scaled.height() + scaled.line_gap()).ceil() * 1.4;
    let mut y = 40.0 + scaled.ascent();
    for line in lines {
        let mut x = 40.0f32;
        let mut prev = None;
        for c in line.chars() {
            let id = scaled.glyph_id(c);
            if let Some(p) = prev {
                x += scaled.kern(p, id);
            }
            let glyph = id.with_scale_and_position(PxScale::from(px), ab_glyph::point(x, y));
            x += scaled.h_advance(id);
            prev = Some(id);
            if let Some(outline) = font.outline_glyph(glyph) {
                let bounds = outline.px_bounds();
                outline.draw(|gx, gy, cov| {
                    let px_x = bounds.min.x as i64 + i64::from(gx);
                    let px_y = bounds.min.y as i64 + i64::from(gy);
                    if px_x >= 0 && px_y >= 0 && (px_x as u32) < w && (px_y as u32) < h {
                        let p = img.get_pixel_mut(px_x as u32, px_y as u32);
                        let v = f32::from(bg) + (f32::from(fg) - f32::from(bg)) * cov.min(1.0);
                        *p = Luma([v.round() as u8]);
                    }
                });
            }
        }
        y += line_h;
    }
    img
}

/// PNG bytes of an image.
pub fn png(img: &GrayImage) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .expect("png");
    out.into_inner()
}

/// Text normalised as the engine matches it: no whitespace or dashes, OCR
/// look-alikes folded (O/o -> 0, I/l/| -> 1), lower case.
pub fn normalise(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '-' | '\u{2010}'..='\u{2015}'))
        .map(|c| match c {
            'O' | 'o' => '0',
            'I' | 'l' | '|' => '1',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

/// Whether `planted` appears in `text` once both are normalised.
pub fn found(text: &str, planted: &str) -> bool {
    normalise(text).contains(&normalise(planted))
}
