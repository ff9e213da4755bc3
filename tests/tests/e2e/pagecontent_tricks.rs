//! The page-content gate against the ways a page draws a card number other
//! than as plain text in its own document: a cross-site (out-of-process)
//! iframe, CSS generated content, closed shadow roots, reordered and split
//! values, and a PDF. Each page is read back from the client's screen with
//! tesseract, one row (one trick) at a time; under an allowing rule the
//! same rows read as the card number, which proves the test can see it.
//!
//! One session per policy walks through every page (sessions are the slow
//! part). Tricks the DOM cannot judge (four canvases each holding a group,
//! text drawn by WebGL) are the pixel net's (`screen_net`).

use std::time::Duration;

use chromiumoxide::cdp::browser_protocol::target::GetTargetsParams;
use isolator_e2e::site_tricks::{CARD_PDF, CSS_ROWS, MARKER, ORDER_ROWS, ROW_HEIGHT, ROW_TOP};
use isolator_e2e::{eventually, Client, Isolator, TestSite};

use crate::gatesfile::{notice_with, worker_program};
use crate::gatesnet::isolated_eval;
use crate::pagecontent::{digits_in, page_incidents, screen_png, CARD_DIGITS};
use crate::start_url;

const T: Duration = Duration::from_secs(40);

/// Card numbers masked in pages and downloads scanned everywhere, except
/// under `/tr/open/` on either host (the cross-site frame is `localhost`).
const POLICY: &str = r#"
[defaults]
page = "allow"
download = "allow"

[[apps]]
name = "open"
hosts = ["127.0.0.1/tr/open", "localhost/tr/open"]

[[rules]]
name = "open-app"
apps = ["open"]
page = "allow"
download = "allow"

[[rules]]
name = "dlp"
profiles = ["financial"]
download = "scan"
page = { mode = "scan", profiles = ["financial"], on_match = "audit" }
mask = ["credit_card"]
"#;

struct Setup {
    site: TestSite,
    iso: Isolator,
    client: Client,
    _dir: tempfile::TempDir,
}

/// An isolator with [`POLICY`] and a client showing `path`, once painted.
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
    let s = Setup {
        site,
        iso,
        client,
        _dir: dir,
    };
    ready(&s, path).await;
    s
}

/// Waits until the page at `path` has titled itself and the client's
/// screen shows its marker row.
async fn ready(s: &Setup, path: &str) {
    let title = format!("Ready {path}");
    s.client
        .wait_state(&title, T, |st| st["title"] == title.as_str())
        .await;
    eventually(T, "the page's marker on the screen", || async {
        digits_in(&screen_png(&s.client).await)
            .contains(MARKER)
            .then_some(())
    })
    .await;
}

/// Moves the session's page from `from` to `to` (paths of the test site).
async fn goto(s: &Setup, from: &str, to: &str) {
    let url = s.site.url(to);
    isolated_eval(&s.iso, from, &format!("location.href = {url:?}")).await;
    ready(s, to).await;
}

/// The digits tesseract reads on each of the first `rows` rows of the
/// screen (the page's rows, scaled to the viewer's canvas).
async fn row_digits(s: &Setup, path: &str, rows: usize) -> Vec<String> {
    let png = screen_png(&s.client).await;
    let img = image::load_from_memory(&png).expect("the screen as an image");
    let inner = isolated_eval(&s.iso, path, "innerHeight").await;
    let css_height = inner.as_f64().expect("the page's height");
    let scale = f64::from(img.height()) / css_height;
    (0..rows)
        .map(|i| {
            let top = f64::from(ROW_TOP) + (i as f64) * f64::from(ROW_HEIGHT) - 6.0;
            let y = (top.max(0.0) * scale) as u32;
            let h = ((f64::from(ROW_HEIGHT) + 6.0) * scale) as u32;
            let row = img.crop_imm(0, y, img.width(), h.min(img.height() - y));
            let mut out = std::io::Cursor::new(Vec::new());
            row.write_to(&mut out, image::ImageFormat::Png).unwrap();
            digits_in(&out.into_inner())
        })
        .collect()
}

/// Every row of `path` shows no card number (nor its first half).
async fn assert_rows_hidden(s: &Setup, path: &str, rows: usize) {
    let digits = row_digits(s, path, rows).await;
    for (i, d) in digits.iter().enumerate() {
        assert!(
            !d.contains(CARD_DIGITS) && !d.contains("41111111"),
            "row {i} of {path} readable on screen: {digits:?}"
        );
    }
}

/// Every row of `path` shows the card number (the control).
async fn assert_rows_readable(s: &Setup, path: &str, rows: usize) {
    let what = format!("every row of {path} readable");
    eventually(T, &what, || async {
        let digits = row_digits(s, path, rows).await;
        digits.iter().all(|d| d.contains(CARD_DIGITS)).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tricks_never_show_a_masked_card_number_on_the_screen() {
    let s = setup("/tr/mask/frame").await;
    // A cross-site frame: its own renderer got the page script before its
    // own script ran; its text is scanned (an incident) and masked.
    assert_rows_hidden(&s, "/tr/mask/frame", 1).await;
    let inc = eventually(T, "an incident from the cross-site frame", || async {
        page_incidents(&s.iso)
            .await
            .into_iter()
            .find(|i| i.to_string().contains("localhost"))
    })
    .await;
    assert!(
        inc["detectors"].to_string().contains("credit_card"),
        "{inc}"
    );
    assert_out_of_process(&s, "localhost").await;

    goto(&s, "/tr/mask/frame", "/tr/mask/css").await;
    assert_rows_hidden(&s, "/tr/mask/css", CSS_ROWS).await;

    goto(&s, "/tr/mask/css", "/tr/mask/closed").await;
    // The closed root filled later is masked too.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_rows_hidden(&s, "/tr/mask/closed", 2).await;

    goto(&s, "/tr/mask/closed", "/tr/mask/order").await;
    assert_rows_hidden(&s, "/tr/mask/order", ORDER_ROWS).await;

    // The PDF is never shown by Chromium's viewer: in a frame it shows an
    // "Open" button in its place; opened itself it is downloaded, and the
    // download gate refuses it.
    goto(&s, "/tr/mask/order", "/tr/mask/pdf").await;
    assert_rows_hidden(&s, "/tr/mask/pdf", 1).await;
    open_pdf(&s, "mask").await;
    s.client
        .wait_state("the PDF's download refused", T, |st| {
            notice_with(st, "download_blocked")
        })
        .await;
    assert_eq!(
        s.client.state().await["files"]["downloads"],
        serde_json::json!([])
    );
    assert_rows_hidden(&s, "/tr/mask/pdf", 1).await;
    s.client.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_tricks_are_readable_where_allowed() {
    let s = setup("/tr/open/frame").await;
    assert_rows_readable(&s, "/tr/open/frame", 1).await;
    goto(&s, "/tr/open/frame", "/tr/open/css").await;
    assert_rows_readable(&s, "/tr/open/css", CSS_ROWS).await;
    goto(&s, "/tr/open/css", "/tr/open/closed").await;
    assert_rows_readable(&s, "/tr/open/closed", 2).await;
    goto(&s, "/tr/open/closed", "/tr/open/order").await;
    assert_rows_readable(&s, "/tr/open/order", ORDER_ROWS).await;
    // Allowed, the PDF reaches the user whole, as a download (the screen
    // never shows it: the control is the file).
    goto(&s, "/tr/open/order", "/tr/open/pdf").await;
    open_pdf(&s, "open").await;
    let st = s
        .client
        .wait_state("the PDF offered", T, |st| {
            st["files"]["downloads"][0]["id"].is_number()
        })
        .await;
    let d = &st["files"]["downloads"][0];
    assert_eq!(d["name"], "card.pdf", "{st}");
    let sid = st["sessionId"].as_str().unwrap().to_owned();
    let (status, body) = s
        .client
        .session_get(&format!("/api/sessions/{sid}/downloads/{}", d["id"]))
        .await;
    assert_eq!(status, 200);
    assert_eq!(body, CARD_PDF);
    s.client.close().await;
}

/// Opens the PDF itself in the page (`/tr/<mode>/card.pdf` from
/// `/tr/<mode>/pdf`): at the top level, too, Chromium never shows it and
/// downloads it instead.
async fn open_pdf(s: &Setup, mode: &str) {
    let url = s.site.url(&format!("/tr/{mode}/card.pdf"));
    let from = format!("/tr/{mode}/pdf");
    isolated_eval(&s.iso, &from, &format!("location.href = {url:?}")).await;
}

/// The frame from `host` is a target of its own (another renderer), so
/// what the page script did there came through its own attachment.
async fn assert_out_of_process(s: &Setup, host: &str) {
    let running = s
        .iso
        .state
        .sessions
        .browser()
        .peek()
        .await
        .expect("a browser");
    let targets = running
        .browser
        .execute(GetTargetsParams::default())
        .await
        .map(|r| r.result.target_infos)
        .unwrap_or_default();
    assert!(
        targets
            .iter()
            .any(|t| t.r#type == "iframe" && t.url.contains(host)),
        "no out-of-process frame from {host}: {targets:?}"
    );
}
