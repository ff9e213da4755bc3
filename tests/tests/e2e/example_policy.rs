//! The policy `make run` serves (`policies/examples/policy.toml`) does what
//! the README's tour says of it: under its catch-all rule a card number
//! cannot be copied to the user's clipboard nor downloaded, while clean text
//! is copied. The example file itself is loaded, with its data directory.

use std::path::Path;
use std::time::Duration;

use isolator_e2e::{eventually, Client, Isolator, TestSite};

use crate::clipboard::{copied, spy_clipboard, wait_notice};
use crate::gatesfile::{files_left, notice_with, worker_program};
use crate::start_url;

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
    let site = TestSite::start().await;
    let worker = worker_program();
    let iso = Isolator::for_site_with(&site, |c| {
        c.policies.file = Some(file.clone());
        c.enforce.worker_program = Some(worker);
    })
    .await;
    let client = Client::open(&start_url(&iso, &site.url(path))).await;
    client.wait_connected().await;
    (site, iso, client, dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_example_policy_scans_copies() {
    let (_site, _iso, client, _dir) = with_example("/gates/copy").await;
    client
        .wait_state("the copy page", T, |s| s["title"] == "Copy")
        .await;
    spy_clipboard(&client).await;
    // Clean text written through the async clipboard API is copied.
    client.click_viewer(100.0, 275.0).await;
    eventually(T, "the clean copy", || async {
        copied(&client)
            .await
            .contains(&"hello from the page".to_owned())
            .then_some(())
    })
    .await;
    // The page writes a card number: refused, and the user is told.
    client.click_viewer(100.0, 345.0).await;
    let notice = wait_notice(&client, "copy_blocked").await;
    assert!(notice.contains("Card numbers"), "{notice}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let all = copied(&client).await;
    assert!(
        all.iter()
            .all(|t| !t.contains("5500") && !t.contains("4111")),
        "{all:?}"
    );
    client.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_example_policy_scans_downloads() {
    let (_site, iso, client, _dir) = with_example("/files/download/leak.txt").await;
    client
        .wait_state("download page", T, |s| s["title"] == "Download")
        .await;
    client.click_viewer(300.0, 100.0).await;
    client
        .wait_state("the download blocked", T, |s| {
            notice_with(s, "download_blocked")
        })
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let s = client.state().await;
    assert_eq!(s["files"]["downloads"], serde_json::json!([]), "{s}");
    assert_eq!(files_left(&iso), Vec::<std::path::PathBuf>::new());
    client.close().await;
}
