//! Document fingerprinting through the product, in real browsers: an admin
//! registers a confidential document on the admin page (pandoc's DOCX of
//! Debian's GPL-3 text, `isolator/tests/fingerprint/README.md`); then a
//! user's paste of one paragraph of it into the isolated page is refused
//! before the page gets it, while other pastes are inserted. The test site
//! records what the page's field held, so the refused paragraph provably
//! never arrived.

use std::path::Path;
use std::time::Duration;

use isolator_e2e::{eventually, Client, Isolator, TestSite};

use crate::clipboard::{paste, wait_notice};
use crate::gatesfile::worker_program;
use crate::start_url;

const T: Duration = Duration::from_secs(30);

const POLICY: &str = r#"
[[rules]]
name = "no-confidential-documents"
paste = { mode = "scan", profiles = ["fingerprints"] }
keyboard = { mode = "scan", profiles = ["fingerprints"] }
"#;

/// A paragraph of Debian's GPL-3 text (about 100 words).
fn gpl_paragraph() -> String {
    let gpl = std::fs::read_to_string("/usr/share/common-licenses/GPL-3").unwrap();
    let start = gpl.find("  13. Use with the GNU Affero").unwrap();
    gpl[start..]
        .split("\n\n")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
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
    // Typing under a rule whose only profile is `fingerprints` goes through
    // (typed text is not looked up yet; it must not be refused either).
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
