//! Polyglot uploads through the real web client: a PNG with a zip after its
//! `IEND` and a JPEG with text after its `EOI`, each carrying a card number,
//! are refused by the upload gate; the user is told and the test site gets
//! nothing. The same PNG without its tail goes through. Fixtures come from
//! real producers (`enforcer/tests/fixtures/polyglot`, README there).

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::gatesfile::{choose, files_left, notice_with, policy, setup_with};

const T: Duration = Duration::from_secs(40);

/// Copies fixture `name` into `dir` as `as_name`, returning the copy's path.
fn fixture(dir: &Path, name: &str, as_name: &str) -> PathBuf {
    let from: PathBuf = [
        env!("CARGO_MANIFEST_DIR"),
        "../enforcer/tests/fixtures/polyglot",
        name,
    ]
    .iter()
    .collect();
    let to = dir.join(as_name);
    std::fs::copy(&from, &to).unwrap_or_else(|e| panic!("{}: {e}", from.display()));
    to
}

/// Uploads `fixture` (named `as_name`) on a scanning upload page and checks
/// that it is refused for a card number and that nothing reaches the site.
async fn polyglot_is_blocked(name: &str, as_name: &str) {
    let (site, iso, client, dir) =
        setup_with(&policy("scan", "allow", "allow"), "/files/upload/submit").await;
    let file = fixture(dir.path(), name, as_name);
    choose(&client, &file).await;
    let s = client
        .wait_state("the upload verdict", T, |s| {
            s["files"]["uploads"][0]["allowed"] == false && notice_with(s, "upload_blocked")
        })
        .await;
    let msg = s["files"]["uploads"][0]["message"].as_str().unwrap_or("");
    assert!(msg.contains("Card numbers"), "{as_name}: {msg}");
    assert!(
        !msg.contains("4111"),
        "the notice must not carry the data: {msg}"
    );
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(
        site.posts_to("/files/received").is_empty(),
        "{as_name} reached the site"
    );
    assert!(
        site.requests()
            .iter()
            .all(|r| !r.body.contains("4111 1111")),
        "the card number reached the site"
    );
    assert_eq!(files_left(&iso), Vec::<PathBuf>::new());
    client.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn png_with_a_zip_after_its_end_is_blocked() {
    polyglot_is_blocked("base-zip.png", "holiday.png").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jpeg_with_text_after_its_end_is_blocked() {
    polyglot_is_blocked("base-text.jpg", "holiday.jpg").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_png_without_a_tail_is_uploaded() {
    let (site, _iso, client, dir) =
        setup_with(&policy("scan", "allow", "allow"), "/files/upload/submit").await;
    let file = fixture(dir.path(), "base.png", "holiday.png");
    choose(&client, &file).await;
    let s = client
        .wait_state("the upload verdict", T, |s| {
            s["files"]["uploads"][0]["allowed"] == true
        })
        .await;
    assert!(!notice_with(&s, "upload_blocked"), "{s}");
    let deadline = tokio::time::Instant::now() + T;
    while site.posts_to("/files/received").is_empty() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the clean image never reached the site"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    client.close().await;
}
