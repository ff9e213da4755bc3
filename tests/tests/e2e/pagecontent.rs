//! The page-content gate on images and across elements: OCR of images and
//! canvases (real tesseract in the extraction workers), masking in the
//! remote page checked by OCR of the frame the client shows, and values
//! split across elements, in inputs, tooltips, shadow roots and iframes.

use std::time::Duration;

use base64::Engine as _;
use enforcer::extract::{extract, Extraction, Limits};
use isolator_e2e::site_pagecontent::{CARD, CLEAN};
use isolator_e2e::{eventually, Client, Isolator, TestSite};
use serde_json::Value;

use crate::gatesfile::worker_program;
use crate::gatesnet::isolated_eval;
use crate::start_url;

const T: Duration = Duration::from_secs(40);

/// Images are OCR'd and card numbers masked everywhere, except under
/// `/pc/open/` (everything allowed) and `/pc/audit/` (OCR, no masking).
const POLICY: &str = r#"
[defaults]
page = "allow"

[[apps]]
name = "open"
hosts = ["127.0.0.1/pc/open"]

[[apps]]
name = "audit"
hosts = ["127.0.0.1/pc/audit"]

[[rules]]
name = "open-app"
apps = ["open"]
page = "allow"

[[rules]]
name = "ocr-audit"
apps = ["audit"]
page = { mode = "scan", profiles = ["financial"], on_match = "audit" }
ocr_images = true

[[rules]]
name = "dlp"
page = { mode = "scan", profiles = ["financial", "national_ids"], on_match = "audit" }
mask = ["credit_card", "us_ssn"]
ocr_images = true
"#;

struct Setup {
    _site: TestSite,
    iso: Isolator,
    client: Client,
    _dir: tempfile::TempDir,
}

async fn setup(path: &str, ready: &'static str) -> Setup {
    std::env::set_var("OMP_THREAD_LIMIT", "1");
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.toml");
    std::fs::write(&policy, POLICY).unwrap();
    let site = TestSite::start().await;
    let worker = worker_program();
    let iso = Isolator::for_site_with(&site, |c| {
        c.policies.file = Some(policy);
        c.enforce.worker_program = Some(worker);
    })
    .await;
    let client = Client::open(&start_url(&iso, &site.url(path))).await;
    client.wait_connected().await;
    client
        .wait_state(ready, T, move |s| s["title"] == ready)
        .await;
    Setup {
        _site: site,
        iso,
        client,
        _dir: dir,
    }
}

/// The text tesseract reads in the frame the client shows now, digits only
/// (the card number's 16 digits in a row means it was readable).
pub(crate) async fn screen_digits(client: &Client) -> String {
    let url: String = client
        .eval("document.querySelector('canvas').toDataURL('image/png')")
        .await;
    let b64 = url.trim_start_matches("data:image/png;base64,");
    let png = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .expect("a PNG of the viewer");
    let text = match extract("screen.png", &png, &Limits::default()) {
        Extraction::Text { parts, .. } => parts
            .iter()
            .map(|p| p.text.clone())
            .collect::<Vec<_>>()
            .join("\n"),
        Extraction::Unscannable { reason } => panic!("the screen cannot be read: {reason}"),
    };
    text.chars()
        .map(|c| match c {
            'O' | 'o' => '0',
            'I' | 'l' | '|' => '1',
            c => c,
        })
        .filter(|c| c.is_ascii_digit())
        .collect()
}

pub(crate) const CARD_DIGITS: &str = "4111111111111111";

/// The page-gate incidents recorded so far.
pub(crate) async fn page_incidents(iso: &Isolator) -> Vec<Value> {
    let res = reqwest::get(iso.url("/api/v1/audit/incidents?gate=page"))
        .await
        .unwrap();
    let body: Value = res.json().await.unwrap();
    body["incidents"].as_array().cloned().unwrap_or_default()
}

/// The recorded decision events of the page gate about images, from the
/// session's replay data.
async fn image_decisions(iso: &Isolator, session: &str) -> Vec<Value> {
    let res = reqwest::get(iso.url(&format!("/api/v1/audit/sessions/{session}")))
        .await
        .unwrap();
    let body: Value = res.json().await.unwrap();
    let mut out = Vec::new();
    collect_image_decisions(&body, &mut out);
    out
}

fn collect_image_decisions(v: &Value, out: &mut Vec<Value>) {
    match v {
        Value::Object(m) => {
            if m.get("gate").and_then(Value::as_str) == Some("page")
                && m.get("action")
                    .and_then(Value::as_str)
                    .is_some_and(|a| a.starts_with("page image"))
            {
                out.push(v.clone());
            }
            for x in m.values() {
                collect_image_decisions(x, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|x| collect_image_decisions(x, out)),
        _ => {}
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_image_showing_a_card_number_is_an_incident_and_never_reaches_the_screen() {
    let s = setup("/pc/image/card", "Image ready").await;
    // Hidden before its first paint, while not yet checked.
    let first = isolated_eval(&s.iso, "/pc/image/card", "window.firstPaintFilter").await;
    assert!(
        first.as_str().unwrap_or_default().contains("blur"),
        "first paint: {first}"
    );
    // OCR found the card: an incident with the detector, evidence redacted.
    let inc = eventually(T, "an image incident", || async {
        page_incidents(&s.iso)
            .await
            .into_iter()
            .find(|i| i["detectors"].to_string().contains("credit_card"))
    })
    .await;
    let session = inc["session"].as_str().unwrap().to_owned();
    let decisions = eventually(T, "the image decision", || async {
        let d = image_decisions(&s.iso, &session).await;
        (!d.is_empty()).then_some(d)
    })
    .await;
    let d = &decisions[0];
    assert!(
        d["action"].as_str().unwrap().contains("/pc/img/card.png"),
        "{d}"
    );
    assert!(d["detectors"].to_string().contains("credit_card"), "{d}");
    let evidence = d["evidence"].to_string();
    assert!(!evidence.contains(CARD_DIGITS), "{evidence}");
    assert!(!evidence.contains(CARD), "{evidence}");
    assert!(
        evidence.contains("1111"),
        "evidence names the value: {evidence}"
    );
    // Masked in the remote page, and so on the user's screen.
    let filter = isolated_eval(&s.iso, "/pc/image/card", "getComputedStyle(pic).filter").await;
    assert!(
        filter.as_str().unwrap_or_default().contains("blur"),
        "{filter}"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    let digits = screen_digits(&s.client).await;
    assert!(
        !digits.contains(CARD_DIGITS),
        "readable on screen: {digits}"
    );
    assert!(!digits.contains("41111111"), "readable on screen: {digits}");
    s.client.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_image_where_nothing_is_masked_stays_readable() {
    // The control for the screen check above: the same image, allowed.
    let s = setup("/pc/open/image/card", "Image ready").await;
    let digits = eventually(T, "the card on screen", || async {
        let d = screen_digits(&s.client).await;
        d.contains(CARD_DIGITS).then_some(d)
    })
    .await;
    assert!(digits.contains(CARD_DIGITS));
    let filter = isolated_eval(
        &s.iso,
        "/pc/open/image/card",
        "getComputedStyle(pic).filter",
    )
    .await;
    assert_eq!(filter, "none");
    assert!(page_incidents(&s.iso).await.is_empty());
    s.client.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clean_image_is_shown_once_checked() {
    let s = setup("/pc/image/clean", "Image ready").await;
    eventually(T, "the clean image unmasked", || async {
        let f = isolated_eval(&s.iso, "/pc/image/clean", "getComputedStyle(pic).filter").await;
        (f == "none").then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        page_incidents(&s.iso).await.is_empty(),
        "a clean image is no incident"
    );
    let f = isolated_eval(&s.iso, "/pc/image/clean", "getComputedStyle(pic).filter").await;
    assert_eq!(f, "none");
    s.client.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rule_that_ocrs_without_masking_reports_and_shows() {
    let s = setup("/pc/audit/image/card", "Image ready").await;
    eventually(T, "an image incident", || async {
        page_incidents(&s.iso)
            .await
            .into_iter()
            .find(|i| i["detectors"].to_string().contains("credit_card"))
    })
    .await;
    let f = isolated_eval(
        &s.iso,
        "/pc/audit/image/card",
        "getComputedStyle(pic).filter",
    )
    .await;
    assert_eq!(f, "none", "audit only: the image is shown");
    s.client.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_canvas_showing_a_card_number_is_masked() {
    let s = setup("/pc/canvas", "Canvas ready").await;
    eventually(T, "the canvas masked after OCR", || async {
        let f = isolated_eval(&s.iso, "/pc/canvas", "getComputedStyle(cv).filter").await;
        let inc = page_incidents(&s.iso).await;
        (f.as_str().unwrap_or_default().contains("blur")
            && inc
                .iter()
                .any(|i| i["detectors"].to_string().contains("credit_card")))
        .then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let digits = screen_digits(&s.client).await;
    assert!(
        !digits.contains(CARD_DIGITS),
        "readable on screen: {digits}"
    );
    s.client.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn values_split_across_elements_in_fields_tooltips_shadow_roots_and_iframes_are_masked() {
    let s = setup("/pc/split", "Split ready").await;
    let text =
        |id: &str| format!("(document.getElementById('{id}')||{{innerText:'missing'}}).innerText");
    let spans = isolated_eval(&s.iso, "/pc/split", &text("spans")).await;
    assert_eq!(spans, "Card \u{2022}\u{2022}\u{2022}\u{2022} \u{2022}\u{2022}\u{2022}\u{2022} \u{2022}\u{2022}\u{2022}\u{2022} \u{2022}\u{2022}\u{2022}\u{2022}");
    let bold = isolated_eval(&s.iso, "/pc/split", &text("bold")).await;
    assert!(!bold.as_str().unwrap().contains("41"), "{bold}");
    assert!(
        bold.as_str().unwrap().starts_with("Number \u{2022}"),
        "{bold}"
    );
    assert_eq!(
        isolated_eval(&s.iso, "/pc/split", &text("plain")).await,
        CLEAN
    );
    // Fields keep their value (what the page submits) but show discs.
    let fields = isolated_eval(
        &s.iso,
        "/pc/split",
        "['markup','scripted','cleanfield'].map(id => { const f = document.getElementById(id); \
         return [f.value, getComputedStyle(f).webkitTextSecurity]; })",
    )
    .await;
    assert_eq!(
        fields,
        serde_json::json!([[CARD, "disc"], [CARD, "disc"], [CLEAN, "none"]])
    );
    // A value set by script is hidden in the frame it is painted in.
    assert_eq!(
        isolated_eval(&s.iso, "/pc/split", "window.scriptedSecurity").await,
        "disc"
    );
    let tip = isolated_eval(&s.iso, "/pc/split", "document.getElementById('tip').title").await;
    assert!(!tip.as_str().unwrap().contains("4111"), "{tip}");
    let shadow = isolated_eval(
        &s.iso,
        "/pc/split",
        "document.getElementById('host').shadowRoot.innerHTML",
    )
    .await;
    assert!(!shadow.as_str().unwrap().contains("4111"), "{shadow}");
    assert!(
        shadow.as_str().unwrap().contains("Shadow \u{2022}"),
        "{shadow}"
    );
    let framed = isolated_eval(
        &s.iso,
        "/pc/split",
        "document.getElementById('fr').contentDocument.body.innerText",
    )
    .await;
    assert!(!framed.as_str().unwrap().contains("4111"), "{framed}");
    assert!(
        framed.as_str().unwrap().contains("Framed \u{2022}"),
        "{framed}"
    );
    // And on the screen.
    let digits = screen_digits(&s.client).await;
    assert!(!digits.contains("41111111"), "readable on screen: {digits}");
    s.client.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn split_values_are_shown_where_nothing_is_masked() {
    let s = setup("/pc/open/split", "Split ready").await;
    let spans = eventually(T, "the raw split value", || async {
        let t = isolated_eval(
            &s.iso,
            "/pc/open/split",
            "document.getElementById('spans').innerText",
        )
        .await;
        t.as_str().is_some_and(|t| t.contains(CARD)).then_some(t)
    })
    .await;
    assert_eq!(spans, format!("Card {CARD}"));
    let sec = isolated_eval(
        &s.iso,
        "/pc/open/split",
        "getComputedStyle(document.getElementById('markup')).webkitTextSecurity",
    )
    .await;
    assert_eq!(sec, "none");
    s.client.close().await;
}
