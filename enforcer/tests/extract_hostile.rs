//! Hostile inputs: bombs, deep nesting, huge member counts, truncated and
//! corrupted files of every format. Each must give `Unscannable` (with a
//! reason naming the limit) or text within its limits, and never panic.

mod extract_fixtures;

use std::io::Write;
use std::time::{Duration, Instant};

use enforcer::extract::{extract, Extraction, Limits};
use extract_fixtures::*;

const CARD: &str = "4111 1111 1111 1111";

fn unscannable(name: &str, bytes: &[u8], limits: &Limits) -> String {
    match extract(name, bytes, limits) {
        Extraction::Unscannable { reason } => reason,
        other => panic!("{name}: expected unscannable, got {other:?}"),
    }
}

#[test]
fn zip_bomb_stops_at_the_ratio_and_size_caps() {
    let zeros = vec![0u8; 64 << 20];
    let bomb = zip_of(&[("zeros.bin", &zeros)]);
    assert!(
        bomb.len() < 200_000,
        "fixture is a bomb: {} bytes",
        bomb.len()
    );
    let start = Instant::now();
    let reason = unscannable("bomb.zip", &bomb, &Limits::default());
    assert!(reason.contains("max_expansion_ratio"), "{reason}");
    let limits = Limits {
        max_expanded_bytes: 8 << 20,
        max_expansion_ratio: 1_000_000,
        ..Limits::default()
    };
    let reason = unscannable("bomb.zip", &bomb, &limits);
    assert!(reason.contains("max_expanded_bytes"), "{reason}");
    assert!(start.elapsed() < Duration::from_secs(5));

    // Nested bomb: many copies of the member, one level down.
    let layer = zip_of(&[("a.zip", &bomb), ("b.zip", &bomb), ("c.zip", &bomb)]);
    let reason = unscannable("nested.zip", &layer, &Limits::default());
    assert!(reason.contains("max_expan"), "{reason}");
}

#[test]
fn gzip_bomb_is_capped() {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&vec![b'a'; 64 << 20]).expect("gz");
    let bomb = gz.finish().expect("gz");
    let reason = unscannable("logs.gz", &bomb, &Limits::default());
    assert!(reason.contains("max_expan"), "{reason}");
}

#[test]
fn pdf_compression_bomb_is_refused_before_lopdf_inflates_it() {
    use lopdf::{dictionary, Document, Object, Stream};
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let mut content = Stream::new(dictionary! {}, vec![b' '; 200 << 20]);
    content.compress().expect("compress");
    let content_id = doc.add_object(content);
    let page = doc.add_object(
        dictionary! { "Type" => "Page", "Parent" => pages_id, "Contents" => content_id },
    );
    doc.objects.insert(
        pages_id,
        Object::Dictionary(
            dictionary! { "Type" => "Pages", "Kids" => vec![Object::from(page)], "Count" => 1 },
        ),
    );
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog);
    let mut pdf = Vec::new();
    doc.save_to(&mut pdf).expect("save");
    assert!(pdf.len() < 1 << 20, "bomb is small: {}", pdf.len());
    let reason = unscannable("bomb.pdf", &pdf, &Limits::default());
    assert!(
        reason.contains("PDF stream") && reason.contains("max_expan"),
        "{reason}"
    );
}

#[test]
fn deeply_nested_html_is_linear() {
    let depth = 200_000;
    let html = format!(
        "<html><body>{}<p>Card {CARD}</p>{}</body></html>",
        "<div>".repeat(depth),
        "</div>".repeat(depth)
    );
    let start = Instant::now();
    let text = extract("deep.html", html.as_bytes(), &Limits::default()).joined_text();
    assert!(text.contains(CARD), "{text}");
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "{:?}",
        start.elapsed()
    );

    let xml = format!(
        "<?xml version=\"1.0\"?>{}<v>{CARD}</v>{}",
        "<a>".repeat(depth),
        "</a>".repeat(depth)
    );
    assert!(extract("deep.xml", xml.as_bytes(), &Limits::default())
        .joined_text()
        .contains(CARD));

    let json = format!("{}\"{CARD}\"{}", "[".repeat(depth), "]".repeat(depth));
    assert!(extract("deep.json", json.as_bytes(), &Limits::default())
        .joined_text()
        .contains(CARD));
}

#[test]
fn ten_thousand_member_zip() {
    let names: Vec<String> = (0..10_000)
        .map(|i| format!("dir{}/file{i}.txt", i % 100))
        .collect();
    let mut entries: Vec<(&str, &[u8])> = names
        .iter()
        .map(|n| (n.as_str(), &b"nothing here"[..]))
        .collect();
    let planted = format!("card {CARD}");
    entries[9_999].1 = planted.as_bytes();
    let bytes = zip_of(&entries);
    let start = Instant::now();
    let extraction = extract("many.zip", &bytes, &Limits::default());
    let elapsed = start.elapsed();
    let parts = extraction.parts();
    assert_eq!(parts.len(), 10_000, "{extraction:?}");
    assert!(parts
        .iter()
        .any(|p| p.path == "many.zip!/dir99/file9999.txt" && p.text.contains(CARD)));
    assert!(elapsed < Duration::from_secs(20), "{elapsed:?}");

    let limits = Limits {
        max_members: 5_000,
        ..Limits::default()
    };
    let reason = unscannable("many.zip", &bytes, &limits);
    assert!(reason.contains("max_members"), "{reason}");
}

#[test]
fn oversized_input_and_image_dimensions_are_refused() {
    let limits = Limits {
        max_input_bytes: 10,
        ..Limits::default()
    };
    let reason = unscannable("big.txt", b"0123456789ABCDEF", &limits);
    assert!(reason.contains("max_input_bytes"), "{reason}");

    // A PNG header claiming 100,000 x 100,000 pixels: refused from the header.
    let mut png_bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = 100_000u32.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&100_000u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]);
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    z.write_all(&[0u8; 64]).expect("zlib");
    let idat = z.finish().expect("zlib");
    for (kind, data) in [
        (&b"IHDR"[..], &ihdr[..]),
        (b"IDAT", &idat[..]),
        (b"IEND", &[][..]),
    ] {
        let mut crc = flate2::Crc::new();
        crc.update(kind);
        crc.update(data);
        png_bytes.extend_from_slice(&(data.len() as u32).to_be_bytes());
        png_bytes.extend_from_slice(kind);
        png_bytes.extend_from_slice(data);
        png_bytes.extend_from_slice(&crc.sum().to_be_bytes());
    }
    let reason = unscannable("huge.png", &png_bytes, &Limits::default());
    assert!(reason.contains("max_ocr_pixels"), "{reason}");
}

#[test]
fn wall_time_limit_applies_in_process() {
    let img = render(
        &["Card 4111 1111 1111 1111"],
        DEJAVU_SANS,
        16.0,
        false,
        1280,
        720,
    );
    let limits = Limits {
        max_wall_time_ms: 1,
        ..Limits::default()
    };
    let reason = unscannable("slow.png", &png(&img), &limits);
    assert!(reason.contains("wall time"), "{reason}");
}

#[test]
fn truncated_and_corrupted_files_of_every_format_never_panic() {
    let img = render(&["Card 4111"], DEJAVU_SANS, 20.0, false, 300, 60);
    let mut jpeg = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageLuma8(img.clone())
        .write_to(&mut jpeg, image::ImageFormat::Jpeg)
        .expect("jpeg");
    let mut tgz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    {
        let mut builder = tar::Builder::new(&mut tgz);
        let data = format!("card {CARD}").into_bytes();
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_cksum();
        builder
            .append_data(&mut header, "a.txt", &data[..])
            .expect("tar");
        builder.finish().expect("tar");
    }
    let fixtures: Vec<(&str, Vec<u8>)> = vec![
        ("a.docx", docx(&[CARD], "h", "f", "n", "c")),
        (
            "a.xlsx",
            xlsx(&[("S", vec![vec![Cell::Text(CARD), Cell::Number("1.5", 1)]])]),
        ),
        ("a.pptx", pptx(&[CARD], "notes")),
        (
            "a.odt",
            odf(
                "application/vnd.oasis.opendocument.text",
                "<text:p>x</text:p>",
            ),
        ),
        ("a.zip", zip_of(&[("x.txt", CARD.as_bytes())])),
        ("a.tar.gz", tgz.finish().expect("gz")),
        ("a.pdf", pdf_text(&[vec![CARD.to_string()]])),
        ("scan.pdf", pdf_scanned(&img)),
        ("a.png", png(&img)),
        ("a.jpg", jpeg.into_inner()),
        (
            "a.html",
            format!("<html><body><p>{CARD}</p></body></html>").into_bytes(),
        ),
        (
            "a.xml",
            format!("<?xml version=\"1.0\"?><a b=\"c\"><d>{CARD}</d></a>").into_bytes(),
        ),
        ("a.json", format!("{{\"a\": [\"{CARD}\"]}}").into_bytes()),
    ];
    let limits = Limits {
        max_wall_time_ms: 10_000,
        ..Limits::default()
    };
    let mut outcomes = 0;
    for (name, bytes) in &fixtures {
        let n = bytes.len();
        let mut variants: Vec<Vec<u8>> =
            [1, 8, n / 10, n / 3, n / 2, n * 9 / 10, n.saturating_sub(1)]
                .iter()
                .map(|&cut| bytes[..cut.min(n)].to_vec())
                .collect();
        // Corruption: flip bytes through the file with a fixed pattern.
        for seed in 0..4usize {
            let mut flipped = bytes.clone();
            let mut i = 7 + seed * 13;
            while i < flipped.len() {
                flipped[i] ^= 0x5a;
                i += n / 12 + 1 + seed;
            }
            variants.push(flipped);
        }
        for variant in variants {
            // Either outcome is acceptable; a panic or a hang is not.
            let _ = extract(name, &variant, &limits);
            outcomes += 1;
        }
    }
    assert_eq!(outcomes, fixtures.len() * 11);
}

#[test]
fn encrypted_or_corrupt_members_make_the_whole_archive_unscannable() {
    let good = zip_of(&[("ok.txt", b"fine")]);
    let mut broken = docx(&[CARD], "", "", "", "");
    let len = broken.len();
    broken.truncate(len / 2);
    let outer = zip_of(&[("ok.zip", &good), ("report.docx", &broken)]);
    let reason = unscannable("outer.zip", &outer, &Limits::default());
    assert!(reason.contains("outer.zip!/report.docx"), "{reason}");
}
