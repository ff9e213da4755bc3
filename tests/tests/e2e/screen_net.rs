//! The screen net: card numbers drawn where the page script cannot read
//! them (canvases, an SVG image, an animated GIF, `<bdo>` reordering, a
//! canvas drawn late) never reach the client's screen or the recording
//! under a rule that masks them, and stay readable under one that allows
//! them. The screen is read the way a person would: tesseract on the
//! client's canvas.

use std::time::{Duration, Instant};

use isolator::audit::{Event, Reader};
use isolator_e2e::site_pagecontent::CARD;
use isolator_e2e::site_screennet::{ready_title, TRICKS};
use isolator_e2e::{eventually, Client, Isolator, TestSite};
use serde_json::Value;

use crate::gatesfile::worker_program;
use crate::pagecontent::{page_incidents, screen_digits, CARD_DIGITS};
use crate::start_url;

const T: Duration = Duration::from_secs(40);

/// Card numbers are masked (page script patterns, no image OCR) except
/// under `/sn/open/`.
const POLICY: &str = r#"
[defaults]
page = "allow"

[[apps]]
name = "open"
hosts = ["127.0.0.1/sn/open"]

[[rules]]
name = "open-app"
apps = ["open"]
page = "allow"

[[rules]]
name = "dlp"
page = { mode = "scan", profiles = ["financial"], on_match = "audit" }
mask = ["credit_card"]
"#;

struct Setup {
    site: TestSite,
    iso: Isolator,
    client: Client,
    _dir: tempfile::TempDir,
}

async fn setup(path: &str) -> Setup {
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
    Setup {
        site,
        iso,
        client,
        _dir: dir,
    }
}

/// Goes to `path` through the address bar.
async fn go(s: &Setup, path: &str) {
    s.client.click_ui("[data-role=address]").await;
    s.client.press("a", 2).await;
    s.client.type_text(&s.site.url(path)).await;
    s.client.press("Enter", 0).await;
}

async fn wait_title(client: &Client, title: String) {
    client
        .wait_state(&title.clone(), T, move |st| st["title"] == title.as_str())
        .await;
}

/// Reads the client's screen until `until` has passed; every reading.
async fn readings(client: &Client, until: Duration) -> Vec<String> {
    let start = Instant::now();
    let mut out = Vec::new();
    while out.is_empty() || start.elapsed() < until {
        out.push(screen_digits(client).await);
    }
    out
}

fn shows_card(digits: &str) -> bool {
    digits.contains(CARD_DIGITS) || digits.contains("41111111")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn values_drawn_past_the_dom_never_reach_the_screen_or_the_recording() {
    let s = setup("/sn/canvases").await;
    let mut pages: Vec<&str> = TRICKS.to_vec();
    pages.push("late");
    for (i, name) in pages.iter().enumerate() {
        if i > 0 {
            go(&s, &format!("/sn/{name}")).await;
        }
        let started = Instant::now();
        wait_title(&s.client, ready_title(name)).await;
        if *name == "late" {
            wait_title(&s.client, "Late drawn".into()).await;
        }
        // From the page's first frames on, the card is never readable ...
        let seen = readings(&s.client, Duration::from_millis(1500)).await;
        for digits in &seen {
            assert!(!shows_card(digits), "{name}: readable on screen: {digits}");
        }
        // ... and once the net has read the page, the clean line is sharp again.
        let clean = eventually(T, "the clean line readable", || async {
            let d = screen_digits(&s.client).await;
            assert!(!shows_card(&d), "{name}: readable on screen: {d}");
            d.contains("12345").then_some(d)
        })
        .await;
        eprintln!(
            "{name}: {} readings without the card; clean text readable after {:?}: {clean}",
            seen.len(),
            started.elapsed()
        );
    }
    // The net's findings are page incidents, evidence redacted: one for each
    // page drawn in pixels (the DOM may mask `<bdo>` text itself).
    let incidents: Vec<Value> = page_incidents(&s.iso).await;
    let session = incidents
        .first()
        .and_then(|i| i["session"].as_str())
        .expect("page incidents")
        .to_owned();
    let net = net_decisions(&s.iso, &session).await;
    for name in ["canvases", "svg", "gif", "late"] {
        let path = format!("/sn/{name}");
        let d = net
            .iter()
            .find(|d| d.to_string().contains(&path))
            .unwrap_or_else(|| panic!("no net decision on {path}: {net:?}"));
        assert!(d["detectors"].to_string().contains("credit_card"), "{d}");
    }
    for d in &net {
        let text = d.to_string();
        assert!(
            !text.contains(CARD_DIGITS) && !text.contains(CARD),
            "{text}"
        );
    }
    s.client.close().await;

    // Every frame recorded is what the client was shown: no readable card.
    let store = s.iso.state.audit.store().unwrap();
    let dir = store.session_dir(&session).unwrap();
    let frames = eventually(T, "the recording's frames", || async {
        let reader = Reader::open(&dir).ok()?;
        let frames: Vec<Vec<u8>> = reader
            .records()
            .filter_map(|r| match r.ok()?.event {
                Event::Frame(f) => Some(f.jpeg.to_vec()),
                _ => None,
            })
            .collect();
        (frames.len() >= pages.len()).then_some(frames)
    })
    .await;
    // OCR of every frame is slow: read at most 10, spread over the recording
    // from its end (each page's settled frame and some before).
    let step = frames.len().div_ceil(10).max(1);
    let mut read = 0;
    for jpeg in frames.iter().rev().step_by(step) {
        let digits = jpeg_digits(jpeg);
        assert!(
            !shows_card(&digits),
            "a recorded frame shows the card: {digits}"
        );
        read += 1;
    }
    eprintln!("{} frames recorded, {read} read", frames.len());
}

/// The screen net's recorded decisions in `session` (the page gate's, about
/// what OCR of the frame found).
async fn net_decisions(iso: &Isolator, session: &str) -> Vec<Value> {
    let url = iso.url(&format!("/api/v1/audit/sessions/{session}"));
    let body: Value = reqwest::get(url).await.unwrap().json().await.unwrap();
    let mut out = Vec::new();
    let mut stack = vec![&body];
    while let Some(v) = stack.pop() {
        match v {
            Value::Object(m) => {
                let action = m.get("action").and_then(Value::as_str).unwrap_or("");
                if m.get("gate").and_then(Value::as_str) == Some("page")
                    && action.contains("OCR of the frame")
                {
                    out.push(v.clone());
                }
                stack.extend(m.values());
            }
            Value::Array(a) => stack.extend(a),
            _ => {}
        }
    }
    out
}

/// Digits tesseract reads in a JPEG frame.
fn jpeg_digits(jpeg: &[u8]) -> String {
    use enforcer::extract::{extract, Extraction, Limits};
    let text = match extract("frame.jpg", jpeg, &Limits::default()) {
        Extraction::Text { parts, .. } => parts
            .iter()
            .map(|p| p.text.clone())
            .collect::<Vec<_>>()
            .join("\n"),
        Extraction::Unscannable { reason } => panic!("a frame cannot be read: {reason}"),
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_pages_are_readable_where_the_rule_allows() {
    let s = setup("/sn/open/canvases").await;
    for (i, name) in TRICKS.iter().enumerate() {
        if i > 0 {
            go(&s, &format!("/sn/open/{name}")).await;
        }
        wait_title(&s.client, ready_title(name)).await;
        eventually(T, "the card readable", || async {
            let d = screen_digits(&s.client).await;
            shows_card(&d).then_some(())
        })
        .await;
    }
    assert!(
        !page_incidents(&s.iso)
            .await
            .iter()
            .any(|i| i.to_string().contains("OCR of the frame")),
        "the net acted where nothing is masked"
    );
    s.client.close().await;
}
