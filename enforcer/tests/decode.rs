//! The decoders against payloads encoded by real producers
//! (`tests/decode/README.md`): every encoding of a card number comes out as
//! text the unchanged detectors find, and clean text costs nothing.

use enforcer::decode::compress::{DecodeError, StreamDecoder};
use enforcer::decode::{expand, Limits};
use enforcer::Engine;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/decode/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn encoded() -> serde_json::Map<String, serde_json::Value> {
    serde_json::from_slice(&fixture("encoded.json")).unwrap()
}

fn has_card(engine: &Engine, bytes: &[u8]) -> bool {
    let text = expand(bytes, Limits::for_input(bytes.len())).text;
    engine
        .scan(&text)
        .iter()
        .any(|f| f.detector == "credit_card")
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

#[test]
fn every_text_encoding_of_a_card_is_found() {
    let engine = Engine::with_defaults();
    let all = encoded();
    for (name, value) in &all {
        let s = value.as_str().unwrap();
        let bytes = if name.starts_with("utf") {
            unhex(s)
        } else {
            s.as_bytes().to_vec()
        };
        // Without decoding, most encodings hide the card from the detectors.
        assert!(has_card(&engine, &bytes), "{name}: {s}");
    }
    // The encodings really hide it: the raw base64 alone is not found.
    let raw = all["base64"].as_str().unwrap();
    assert!(!engine.scan(raw).iter().any(|f| f.detector == "credit_card"));
}

#[test]
fn compressed_bodies_are_found_by_their_magic_or_as_a_stream() {
    let engine = Engine::with_defaults();
    for name in ["payload.json.gz", "payload.json.zlib", "payload.json.zst"] {
        assert!(has_card(&engine, &fixture(name)), "{name}");
    }
    for (name, encoding) in [
        ("payload.json.gz", "gzip"),
        ("payload.json.zlib", "deflate"),
        ("payload.json.deflate", "deflate"),
        ("payload.json.br", "br"),
        ("payload.json.zst", "zstd"),
    ] {
        let data = fixture(name);
        let mut d = StreamDecoder::new(encoding).unwrap();
        // Fed a few bytes at a time, as a body arrives.
        let mut out = Vec::new();
        for chunk in data.chunks(7) {
            out.extend(d.feed(chunk).unwrap());
        }
        out.extend(d.finish().unwrap());
        assert_eq!(out, fixture("payload.json"), "{name} as {encoding}");
    }
}

#[test]
fn a_stream_decoder_returns_each_chunks_output_before_the_next_is_fed() {
    // 2 MB of gzip-compressed text: what the first half decodes to is
    // available after feeding it, not one chunk later.
    let text: Vec<u8> = (0..200_000)
        .flat_map(|i| format!("line {i}\n").into_bytes())
        .collect();
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut enc, &text).unwrap();
    let gz = enc.finish().unwrap();
    let mut d = StreamDecoder::new("gzip").unwrap();
    let first = d.feed(&gz[..gz.len() / 2]).unwrap();
    assert!(first.len() > text.len() / 4, "{}", first.len());
    let mut all = first;
    all.extend(d.feed(&gz[gz.len() / 2..]).unwrap());
    all.extend(d.finish().unwrap());
    assert_eq!(all, text);
}

#[test]
fn bombs_and_corrupt_streams_are_errors_not_hangs() {
    let zeros = vec![0u8; 64 << 20];
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    std::io::Write::write_all(&mut enc, &zeros).unwrap();
    let bomb = enc.finish().unwrap();
    let mut d = StreamDecoder::new("gzip").unwrap();
    let r = d.feed(&bomb).and_then(|_| d.finish());
    assert!(matches!(r, Err(DecodeError::Bomb(_))), "{r:?}");
    let mut d = StreamDecoder::new("br").unwrap();
    let r = d
        .feed(b"this is not brotli at all")
        .and_then(|_| d.finish());
    assert!(matches!(r, Err(DecodeError::Corrupt { .. })), "{r:?}");
    assert!(matches!(
        StreamDecoder::new("compress"),
        Err(DecodeError::Unknown(_))
    ));
}

#[test]
fn a_window_cut_in_the_middle_of_a_base64_run_is_tried_at_every_alignment() {
    let engine = Engine::with_defaults();
    let all = encoded();
    let b64 = all["base64"].as_str().unwrap().as_bytes();
    for cut in 1..4 {
        let window = &b64[cut..];
        let text = expand(window, Limits::for_input(window.len())).text;
        assert!(
            engine
                .scan(&text)
                .iter()
                .any(|f| f.detector == "credit_card"),
            "cut {cut}"
        );
    }
}

#[test]
fn clean_text_expands_to_itself_and_output_is_bounded() {
    let clean = b"Hello, this is an ordinary form field with words and 12 numbers.";
    let e = expand(clean, Limits::for_input(clean.len()));
    assert_eq!(e.text.as_bytes(), clean);
    assert!(e.complete);
    // A tiny output limit is reported, never silently exceeded.
    let b64 = encoded()["base64"].as_str().unwrap().to_owned();
    let e = expand(
        b64.as_bytes(),
        Limits {
            max_output: b64.len() + 8,
        },
    );
    assert!(!e.complete);
    assert!(e.text.len() <= b64.len() + 8);
}

#[test]
fn megabytes_of_text_expand_quickly() {
    let text: Vec<u8> = "lorem ipsum dolor sit amet, consectetur adipiscing elit 2026-12-06\n"
        .repeat(16_000)
        .into_bytes();
    let started = std::time::Instant::now();
    let e = expand(&text, Limits::for_input(text.len()));
    assert!(e.complete);
    // Debug builds: generous; the point is no quadratic path.
    assert!(started.elapsed().as_secs() < 5, "{:?}", started.elapsed());
}

/// A JSON payload holding the test card, as a page would post it.
const PAYLOAD: &str = r#"{"name":"Ann","card":"4111 1111 1111 1111","note":"thanks"}"#;

fn b64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Word soup a form posts: letters, digits and `+`, all base64 characters.
fn form_words(bytes: usize) -> String {
    let words = [
        "order", "12345", "shipped", "to", "the", "customer", "on", "Tuesday", "with", "invoice",
    ];
    let mut s = String::new();
    let mut i = 0;
    while s.len() < bytes {
        s.push_str(words[i % words.len()]);
        s.push('+');
        i += 3;
    }
    s.truncate(bytes);
    s
}

#[test]
fn base64_glued_behind_filler_of_any_length_is_found() {
    // The filler and the payload make one base64 run; runs longer than 4 KB
    // used to be decoded at one alignment only, so three filler lengths in
    // four hid the card.
    let engine = Engine::with_defaults();
    for len in [40, 4095, 5000, 5001, 5002, 5003, 70_001] {
        let body = format!("{}{}", form_words(len), b64(PAYLOAD.as_bytes()));
        assert!(has_card(&engine, body.as_bytes()), "filler of {len}");
    }
}

#[test]
fn text_inside_binary_inside_base64_is_found() {
    // A PNG (ImageMagick, the clean corpus) with the payload appended, and
    // the payload as UTF-16 behind binary: the text stretches are kept.
    let engine = Engine::with_defaults();
    let png = std::fs::read(format!(
        "{}/tests/corpus/clean/imagemagick.png",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let mut with_tail = png.clone();
    with_tail.extend_from_slice(PAYLOAD.as_bytes());
    assert!(has_card(&engine, b64(&with_tail).as_bytes()));
    let utf16: Vec<u8> = PAYLOAD.encode_utf16().flat_map(u16::to_le_bytes).collect();
    assert!(has_card(&engine, b64(&utf16).as_bytes()));
    assert!(!has_card(&engine, b64(&png).as_bytes()), "the clean image");
}

#[test]
fn what_only_looks_encoded_adds_little_to_scan() {
    // A 10 KB form body is one long base64 run, and a data: URL image is
    // real base64 of binary: neither decodes to text, so neither should
    // multiply what the detectors read.
    let form = format!("comment={}", form_words(10 * 1024));
    let e = expand(form.as_bytes(), Limits::for_input(form.len()));
    // The body and little else (measured: nothing else; before, 2.2 times
    // the body).
    assert!(
        e.text.len() < form.len() * 11 / 10,
        "{} bytes of text for a {} byte form",
        e.text.len(),
        form.len()
    );
    let png = std::fs::read(format!(
        "{}/tests/corpus/clean/imagemagick.png",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let url = format!("{{\"avatar\":\"data:image/png;base64,{}\"}}", b64(&png));
    let e = expand(url.as_bytes(), Limits::for_input(url.len()));
    // Measured: 8 % more (stretches of the image that happen to be
    // printable); before, 5.5 times the URL.
    assert!(
        e.text.len() < url.len() * 115 / 100,
        "{} bytes of text for a {} byte data URL",
        e.text.len(),
        url.len()
    );
}
