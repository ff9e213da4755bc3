//! The admin pages in a real browser: add a rule through the editor, move it
//! with the keyboard-accessible ▲ control, and see the test bench fire with
//! redacted evidence.

use std::time::Duration;

use isolator_e2e::{Client, Isolator};
use serde_json::{json, Value};

const T: Duration = Duration::from_secs(30);

/// The rule names in force, in order, through the API.
async fn rule_names(iso: &Isolator) -> Vec<String> {
    let v: Value = reqwest::get(iso.url("/api/v1/rules"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_adds_a_rule_reorders_it_and_tests_it() {
    // auth.mode = none: the local user is the admin.
    let iso = Isolator::start_with(|_| {}).await;
    let res = reqwest::Client::new()
        .post(iso.url("/api/v1/rules"))
        .header("x-isolator-request", "1")
        .json(&json!({ "name": "allow-everything", "copy": "allow", "version": 1 }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);

    let c = Client::open(&iso.url("/admin")).await;
    c.wait_js(
        "the admin pages",
        T,
        "!!(window.__admin && window.__admin.ready)",
    )
    .await;
    c.wait_js(
        "the seeded rule listed",
        T,
        "!!document.querySelector('#rules-body tr[data-name=\"allow-everything\"]')",
    )
    .await;

    // Add a rule through the editor.
    c.click_ui("#rule-add").await;
    c.wait_js("the editor", T, "document.getElementById('editor').open")
        .await;
    c.click_ui("#f-name").await;
    c.type_text("scan-paste").await;
    c.click_ui("#f-profiles").await;
    c.type_text("financial").await;
    c.focus("#f-paste").await;
    c.type_text("s").await;
    c.wait_js(
        "paste set to scan",
        T,
        "document.getElementById('f-paste').value === 'scan'",
    )
    .await;
    c.click_ui("#editor-save").await;
    c.wait_js(
        "the new rule listed second",
        T,
        "document.querySelector('#rules-body tr[data-index=\"1\"]')?.dataset.name === 'scan-paste'",
    )
    .await;
    assert_eq!(rule_names(&iso).await, ["allow-everything", "scan-paste"]);

    // A rule referring to a profile that does not exist: the error is shown
    // next to the field and nothing changes.
    c.click_ui("#rule-add").await;
    c.wait_js("the editor", T, "document.getElementById('editor').open")
        .await;
    c.click_ui("#f-name").await;
    c.type_text("broken").await;
    c.click_ui("#f-profiles").await;
    c.type_text("nosuchprofile").await;
    c.focus("#f-copy").await;
    c.type_text("s").await;
    c.click_ui("#editor-save").await;
    c.wait_js(
        "the field error",
        T,
        "(() => { const e = document.querySelector('[data-field=\"copy\"] .field-error, [data-field=\"profiles\"] .field-error'); return !!e && !e.hidden && e.textContent.includes('nosuchprofile'); })()",
    )
    .await;
    c.click_ui("#editor-cancel").await;
    assert_eq!(rule_names(&iso).await.len(), 2);

    // Move it up with the ▲ button.
    c.click_ui("#rules-body tr[data-name=\"scan-paste\"] button.up")
        .await;
    c.wait_js(
        "the rule moved first",
        T,
        "document.querySelector('#rules-body tr[data-index=\"0\"]')?.dataset.name === 'scan-paste'",
    )
    .await;
    assert_eq!(rule_names(&iso).await, ["scan-paste", "allow-everything"]);

    // The test bench: a card number pasted anywhere fires, evidence redacted.
    c.click_ui("nav a[data-tab=\"bench\"]").await;
    c.wait_js(
        "the bench",
        T,
        "!document.getElementById('tab-bench').hidden",
    )
    .await;
    c.click_ui("#bench-url").await;
    c.type_text("https://mail.example.com/").await;
    c.click_ui("#bench-text").await;
    c.type_text("card 4111 1111 1111 1111 thanks").await;
    c.click_ui("#bench-run").await;
    c.wait_js(
        "the verdict",
        T,
        "!document.getElementById('bench-result').hidden",
    )
    .await;
    assert_eq!(c.text_of("#bench-outcome").await, "block");
    assert_eq!(c.text_of("#bench-rule").await, "scan-paste");
    assert_ne!(c.text_of("#bench-detectors").await, "none");
    let evidence = c.text_of("#bench-evidence").await;
    assert!(evidence.contains('*'), "evidence not redacted: {evidence}");
    assert!(!evidence.contains("4111 1111 1111 1111"), "{evidence}");
    c.close().await;
}
