//! Test documents built in memory: a docx of a chosen size, stored rather
//! than deflated so the file has that size (the upload benchmark and the
//! fault tests need files whose extraction takes a while).

use std::io::Write;

/// A docx of about `size` bytes of body text (stored, not deflated, so the
/// file itself has that size), ending with `last`.
pub fn stored_docx(size: usize, last: &str) -> Vec<u8> {
    let mut body = String::with_capacity(size + 1024);
    let mut i = 0u64;
    while body.len() < size {
        body.push_str(&format!(
            "<w:p><w:r><w:t>Paragraph {i}: the quarterly figures for the northern region were reviewed and approved by the committee.</w:t></w:r></w:p>"
        ));
        i += 1;
    }
    body.push_str(&format!("<w:p><w:r><w:t>{last}</w:t></w:r></w:p>"));
    let document = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\
         <w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\"><w:body>{body}</w:body></w:document>"
    );
    let entries: [(&str, &[u8]); 3] = [
        (
            "[Content_Types].xml",
            b"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">\
              <Default Extension=\"xml\" ContentType=\"application/xml\"/>\
              <Override PartName=\"/word/document.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml\"/></Types>",
        ),
        (
            "_rels/.rels",
            b"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">\
              <Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument\" Target=\"word/document.xml\"/></Relationships>",
        ),
        ("word/document.xml", document.as_bytes()),
    ];
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .large_file(false);
    for (name, data) in entries {
        out.start_file(name, opts).unwrap();
        out.write_all(data).unwrap();
    }
    out.finish().unwrap().into_inner()
}
