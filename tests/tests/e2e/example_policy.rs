//! The policy `make run` serves (`policies/examples/policy.toml`) does what
//! the README's tour says of it: under its catch-all rule a card number
//! cannot be copied to the user's clipboard nor downloaded, while clean text
//! is copied, and a canvas or image showing a card number never reaches the
//! screen. The example file itself is loaded, with its data directory.

use std::path::Path;
use std::time::Duration;

use isolator_e2e::{eventually, Client, Isolator, TestSite};

use crate::clipboard::{clean_copies_pass_and_a_card_does_not, nothing_card_like_copied};
use crate::gatesfile::{assert_download_refused, setup_with_file};
use crate::gatesnet::isolated_eval;
use crate::pagecontent::{screen_digits, CARD_DIGITS};

const T: Duration = Duration::from_secs(40);

/// A site, an isolator enforcing the shipped example policy (copied with
/// its `data/` directory) and a client at `path`.
async fn with_example(path: &str) -> (TestSite, Isolator, Client, tempfile::TempDir) {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies/examples");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("policy.toml");
    std::fs::copy(examples.join("policy.toml"), &file).unwrap();
    std::fs::create_dir(dir.path().join("data")).unwrap();
    for entry in std::fs::read_dir(examples.join("data")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(
            entry.path(),
            dir.path().join("data").join(entry.file_name()),
        )
        .unwrap();
    }
    let (site, iso, client) = setup_with_file(file, path).await;
    (site, iso, client, dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_example_policy_scans_copies() {
    let (_site, _iso, client, _dir) = with_example("/gates/copy").await;
    clean_copies_pass_and_a_card_does_not(&client).await;
    nothing_card_like_copied(&client).await;
    client.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_example_policy_scans_downloads() {
    let (_site, iso, client, _dir) = with_example("/files/download/leak.txt").await;
    assert_download_refused(&iso, &client).await;
    client.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_example_policy_masks_cards_in_canvases_and_images_on_the_screen() {
    // The catch-all rule OCRs images: a canvas and an <img> showing a card
    // number are hidden before they paint and stay hidden once OCR'd.
    let (site, iso, client, _dir) = with_example("/pc/canvas").await;
    client
        .wait_state("the canvas page", T, |s| s["title"] == "Canvas ready")
        .await;
    let masked = |path: &'static str, id: &'static str| {
        let iso = &iso;
        async move {
            eventually(T, "the image found and kept hidden", || async {
                let expr = format!("getComputedStyle(document.getElementById('{id}')).filter");
                let f = isolated_eval(iso, path, &expr).await;
                f.as_str().is_some_and(|f| f.contains("blur")).then_some(())
            })
            .await;
        }
    };
    masked("/pc/canvas", "cv").await;
    let digits = screen_digits(&client).await;
    assert!(!digits.contains(CARD_DIGITS), "canvas readable: {digits}");
    let url = site.url("/pc/image/card");
    isolated_eval(&iso, "/pc/canvas", &format!("location.href = {url:?}")).await;
    client
        .wait_state("the image page", T, |s| s["title"] == "Image ready")
        .await;
    masked("/pc/image/card", "pic").await;
    let digits = screen_digits(&client).await;
    assert!(!digits.contains(CARD_DIGITS), "image readable: {digits}");
    client.close().await;
}
