//! Document fingerprinting through the product, in real browsers: an admin
//! registers a confidential document on the admin page (pandoc's DOCX of
//! Debian's GPL-3 text, `isolator/tests/fingerprint/README.md`); then a
//! user's paste of one paragraph of it into the isolated page is refused
//! before the page gets it, while other pastes are inserted. The test site
//! records what the page's field held, so the refused paragraph provably
//! never arrived. Typing the paragraph stops before the page's key log
//! holds enough of it to match, and a page quoting it shows it hidden on
//! the user's screen (read with tesseract), where another rule shows it.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use isolator::enforce::Fingerprints;
use isolator_e2e::site_pagecontent::gpl_paragraph as gpl_lines;
use isolator_e2e::{eventually, Client, Isolator, TestSite};

use crate::clipboard::{paste, wait_notice};
use crate::gatesfile::worker_program;
use crate::keyboard_leaks::report_field;
use crate::pagecontent::screen_png;
use crate::start_url;

const T: Duration = Duration::from_secs(30);

const POLICY: &str = r#"
[[rules]]
name = "no-confidential-documents"
paste = { mode = "scan", profiles = ["fingerprints"] }
keyboard = { mode = "scan", profiles = ["fingerprints"] }
"#;

/// A paragraph of Debian's GPL-3 text (about 100 words), on one line.
fn gpl_paragraph() -> String {
    gpl_lines().split_whitespace().collect::<Vec<_>>().join(" ")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paragraph_of_a_registered_document_is_not_pasted() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.toml");
    std::fs::write(&policy, POLICY).unwrap();
    let store = dir.path().join("fingerprints");
    let site = TestSite::start().await;
    let worker = worker_program();
    let iso = Isolator::for_site_with(&site, |c| {
        c.policies.file = Some(policy);
        c.enforce.fingerprints = Some(store);
        c.enforce.worker_program = Some(worker);
    })
    .await;

    // The admin registers the document (auth.mode = none: the local user
    // is the admin).
    let admin = Client::open(&iso.url("/admin#fingerprints")).await;
    admin
        .wait_js(
            "the documents tab",
            T,
            "!!(window.__admin && window.__admin.ready) && !document.getElementById('tab-fingerprints').hidden && !document.getElementById('fingerprints-form').hidden",
        )
        .await;
    // The file the admin picks, from a folder of theirs (the client
    // browser could not read the copy in the source tree given to it over
    // the DevTools protocol: NotReadableError).
    let docx = dir.path().join("gpl-3.docx");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../isolator/tests/fingerprint/gpl-3.docx"),
        &docx,
    )
    .unwrap();
    admin.set_input_files("#fingerprints-file", &[&docx]).await;
    admin
        .click_ui("#fingerprints-form button[type=submit]")
        .await;
    admin
        .wait_js(
            "the document listed",
            T,
            "[...document.querySelectorAll('#fingerprints-body tr')].some((r) => r.textContent.includes('gpl-3.docx'))",
        )
        .await;
    admin.close().await;

    // A user pastes around and then the paragraph.
    let client = Client::open(&start_url(&iso, &site.url("/gates/field"))).await;
    client.wait_connected().await;
    client
        .wait_state("the field page", T, |s| s["title"] == "Field")
        .await;
    client.click_viewer(300.0, 150.0).await;
    // Typing words of one's own under a rule whose only profile is
    // `fingerprints` goes through.
    client.type_text("hi ").await;
    paste(&client, "notes ").await;
    paste(&client, &gpl_paragraph()).await;
    let notice = wait_notice(&client, "paste_blocked").await;
    assert!(
        notice.contains("confidential documents"),
        "the user is told why: {notice}"
    );
    assert!(
        !notice.contains("Affero"),
        "no text in the notice: {notice}"
    );
    paste(&client, "ok").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    client.click_viewer(100.0, 275.0).await;
    let got = eventually(T, "the field's value", || async {
        let r = site.posts_to("/gates/report");
        (!r.is_empty()).then_some(r)
    })
    .await;
    assert_eq!(got, vec!["value=hi notes ok".to_owned()]);
    client.close().await;
}

const TYPING_AND_PAGES: &str = r#"
[[apps]]
name = "open"
hosts = ["127.0.0.1/pc/open"]

[[rules]]
name = "open-app"
apps = ["open"]
page = "allow"

[[rules]]
name = "no-confidential-documents"
keyboard = { mode = "scan", profiles = ["fingerprints"] }
page = { mode = "scan", profiles = ["fingerprints"] }
"#;

/// An isolator whose store already holds Debian's GPL-3 text (registered
/// as `isolator fingerprint add` would), and a client on `path`.
async fn with_gpl_registered(
    path: &str,
) -> (
    TestSite,
    Isolator,
    Client,
    Arc<Fingerprints>,
    tempfile::TempDir,
) {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.toml");
    std::fs::write(&policy, TYPING_AND_PAGES).unwrap();
    let store = dir.path().join("fingerprints");
    let documents = Arc::new(Fingerprints::open(&store).unwrap());
    let gpl = std::fs::read_to_string("/usr/share/common-licenses/GPL-3").unwrap();
    documents.add("GPL-3", "sha-gpl-3", &gpl, false).unwrap();
    let site = TestSite::start().await;
    let iso = Isolator::for_site_with(&site, |c| {
        c.policies.file = Some(policy);
        c.enforce.fingerprints = Some(store);
    })
    .await;
    let client = Client::open(&start_url(&iso, &site.url(path))).await;
    client.wait_connected().await;
    (site, iso, client, documents, dir)
}

/// How many registered documents `text` matches.
fn matches(documents: &Fingerprints, text: &str) -> usize {
    documents
        .current()
        .as_ref()
        .as_ref()
        .map_or(0, |index| index.lookup(text).len())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typing_a_paragraph_of_a_registered_document_stops_before_the_page_holds_it() {
    let (site, _iso, client, documents, _dir) = with_gpl_registered("/gates/keylog").await;
    client
        .wait_state("the key-logging page", T, |s| s["title"] == "Keylog")
        .await;
    client.click_viewer(300.0, 115.0).await;
    let para = gpl_paragraph();
    assert!(matches(&documents, &para) > 0);
    client.type_text(&para).await;
    let notice = wait_notice(&client, "keyboard_blocked").await;
    assert!(notice.contains("confidential documents"), "{notice}");
    assert!(
        !notice.contains("Affero"),
        "no text in the notice: {notice}"
    );
    tokio::time::sleep(Duration::from_millis(400)).await;
    client.click_viewer(100.0, 275.0).await;
    let body = eventually(T, "the page's key log", || async {
        site.posts_to("/gates/report").pop()
    })
    .await;
    // What the page saw by every channel: its key-ups, its input events'
    // data, and the field's value.
    for name in ["keys", "data", "value"] {
        let seen = report_field(&body, name);
        assert_eq!(
            matches(&documents, &seen),
            0,
            "the page's {name} holds a passage of the document: {seen}"
        );
    }
    let value = report_field(&body, "value");
    assert!(
        value.len() * 2 > para.len(),
        "only the keys that would make it match are refused: {value}"
    );
    client.close().await;
}

/// What tesseract reads on the client's screen.
async fn screen_text(client: &Client) -> String {
    use enforcer::extract::{extract, Extraction, Limits};
    match extract("screen.png", &screen_png(client).await, &Limits::default()) {
        Extraction::Text { parts, .. } => parts
            .iter()
            .map(|p| p.text.clone())
            .collect::<Vec<_>>()
            .join("\n"),
        Extraction::Unscannable { reason } => panic!("the screen cannot be read: {reason}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_quoting_a_registered_document_shows_it_hidden() {
    let (_site, iso, client, _documents, _dir) = with_gpl_registered("/pc/document").await;
    client
        .wait_state("the wiki page", T, |s| s["title"] == "Document")
        .await;
    // The page's own lines are readable, the quoted paragraph is not.
    let seen = eventually(T, "the quoted paragraph hidden", || async {
        let text = screen_text(&client).await;
        (text.contains("front desk") && !text.contains("Affero")).then_some(text)
    })
    .await;
    for word in ["combined", "requirements", "interaction", "Affero"] {
        assert!(!seen.contains(word), "{word:?} is readable: {seen}");
    }
    let incidents = crate::pagecontent::page_incidents(&iso).await;
    assert!(
        incidents
            .iter()
            .any(|i| i.to_string().contains("document_match")),
        "{incidents:?}"
    );
    client.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_page_is_readable_where_the_rule_allows_it() {
    let (_site, _iso, client, _documents, _dir) = with_gpl_registered("/pc/open/document").await;
    client
        .wait_state("the wiki page", T, |s| s["title"] == "Document")
        .await;
    eventually(T, "the quoted paragraph readable", || async {
        let text = screen_text(&client).await;
        (text.contains("front desk") && text.contains("Affero")).then_some(())
    })
    .await;
    client.close().await;
}
