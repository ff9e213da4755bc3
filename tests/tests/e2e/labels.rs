//! Sensitivity labels through the product, in a real browser: a workbook
//! that XlsxWriter labelled "Confidential" (Microsoft Information
//! Protection custom properties; `enforcer/tests/labels/README.md`) is
//! refused at upload and never reaches the site, while pandoc's unlabelled
//! DOCX of the same kind of content goes through, both under one rule.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::gatesfile::{choose, files_left, notice_with, setup_with};

const T: Duration = Duration::from_secs(40);

const POLICY: &str = r#"
[[detectors]]
id = "label_confidential"
description = "Documents labelled Confidential"
kind = "label"
names = ["Confidential", "Highly Confidential*"]

[[profiles]]
id = "labelled_confidential"
detectors = ["label_confidential"]

[[rules]]
name = "no-labelled-uploads"
upload = { mode = "scan", profiles = ["labelled_confidential"] }
"#;

/// A copy of test file `name` in `dir`, where the client browser can read it.
fn test_file(dir: &Path, name: &str) -> PathBuf {
    let to = dir.join(name);
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../enforcer/tests/labels")
            .join(name),
        &to,
    )
    .unwrap();
    to
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_workbook_labelled_confidential_is_not_uploaded() {
    let (site, iso, client, dir) = setup_with(POLICY, "/files/upload/submit").await;
    let file = test_file(dir.path(), "xlsxwriter_msip_confidential.xlsx");
    choose(&client, &file).await;
    let s = client
        .wait_state("the upload refused", T, |s| {
            s["files"]["uploads"][0]["allowed"] == false && notice_with(s, "upload_blocked")
        })
        .await;
    let msg = s["files"]["uploads"][0]["message"].as_str().unwrap_or("");
    assert!(
        msg.to_lowercase().contains("label"),
        "the user is told why: {msg}"
    );
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(site.posts_to("/files/received").is_empty());
    assert!(
        site.requests()
            .iter()
            .all(|r| !r.body.contains("xlsxwriter_msip_confidential")),
        "the labelled file reached the site"
    );
    assert_eq!(files_left(&iso), Vec::<PathBuf>::new());
    client.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unlabelled_document_is_uploaded_under_the_same_rule() {
    let (site, _iso, client, dir) = setup_with(POLICY, "/files/upload/submit").await;
    let file = test_file(dir.path(), "pandoc_unlabelled.docx");
    choose(&client, &file).await;
    let body = isolator_e2e::eventually(T, "the form with the file", || async {
        site.posts_to("/files/received").into_iter().next()
    })
    .await;
    assert!(body.contains("filename=\"pandoc_unlabelled.docx\""));
    let s = client.state().await;
    assert_eq!(s["files"]["uploads"][0]["allowed"], true, "{s}");
    client.close().await;
}
