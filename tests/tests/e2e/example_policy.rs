//! The policy `make run` serves (`policies/examples/policy.toml`) does what
//! the README's tour says of it: under its catch-all rule a card number
//! cannot be copied to the user's clipboard nor downloaded, while clean text
//! is copied. The example file itself is loaded, with its data directory.

use std::path::Path;

use isolator_e2e::{Client, Isolator, TestSite};

use crate::clipboard::{clean_copies_pass_and_a_card_does_not, nothing_card_like_copied};
use crate::gatesfile::{assert_download_refused, setup_with_file};

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
