//! Health data through the product, in a real browser: a clinical note
//! from the MTSamples transcriptions (CC0, `enforcer/tests/health/README.md`)
//! pasted into an isolated page under a rule scanning with the `health`
//! profile is refused before the page gets it; a market report naming the
//! same drugs (the test data's hard negatives) is pasted. The test site
//! records what the page's field held.

use std::path::Path;
use std::time::Duration;

use isolator_e2e::eventually;

use crate::clipboard::{paste, wait_notice, with_policy};

const T: Duration = Duration::from_secs(30);

const POLICY: &str = r#"
[[rules]]
name = "no-patient-data"
paste = { mode = "scan", profiles = ["health"] }
"#;

/// Document `i` of a test data file (documents separated by `=====`).
fn document(file: &str, i: usize) -> String {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../enforcer/tests/health")
            .join(file),
    )
    .unwrap();
    text.split("\n=====\n").nth(i).unwrap().trim().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clinical_note_is_not_pasted_and_a_drug_market_report_is() {
    let (site, _iso, client, _dir) = with_policy("/gates/field", POLICY).await;
    client.wait_connected().await;
    client
        .wait_state("the field page", T, |s| s["title"] == "Field")
        .await;
    client.click_viewer(300.0, 150.0).await;
    let note = document("clinical.txt", 0);
    let market = document("negatives.txt", 0);
    paste(&client, &note).await;
    let notice = wait_notice(&client, "paste_blocked").await;
    assert!(
        !notice.contains("Allegra"),
        "no text in the notice: {notice}"
    );
    paste(&client, &market).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    client.click_viewer(100.0, 275.0).await;
    let got = eventually(T, "the field's value", || async {
        let r = site.posts_to("/gates/report");
        (!r.is_empty()).then_some(r)
    })
    .await;
    assert_eq!(got, vec![format!("value={market}")]);
    client.close().await;
}
