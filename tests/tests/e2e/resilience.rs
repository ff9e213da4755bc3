//! Faults: the isolated browser dies; the client reconnects.

use std::time::Duration;

use crate::setup;

const T: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_chromium_is_reported_and_recovered_from() {
    let (_site, iso, client) = setup("/").await;
    let before = client.wait_connected().await;
    iso.state.sessions.browser().kill().await;
    let s = client
        .wait_state("the crash reported", T, |s| {
            s["ended"]["reason"] == "browser_crashed"
        })
        .await;
    assert!(
        s["ended"]["message"].as_str().unwrap().contains("stopped"),
        "{s}"
    );
    // The user starts again: a new session in a new browser process.
    client.click_ui("[data-action=new-session]").await;
    let after = client
        .wait_state("a new session with frames", T, |s| {
            s["connected"] == true
                && s["ended"].is_null()
                && s["framesDrawn"].as_u64().unwrap_or(0) > 0
        })
        .await;
    assert_ne!(before["sessionId"], after["sessionId"]);
    client.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reloaded_client_resumes_the_same_page() {
    let (_site, _iso, client) = setup("/page2").await;
    let before = client.wait_connected().await;
    client
        .wait_state("page two", T, |s| s["title"] == "Page Two")
        .await;
    client.reload().await;
    let after = client
        .wait_state("re-attached", T, |s| {
            s["connected"] == true
                && s["framesDrawn"].as_u64().unwrap_or(0) > 0
                && s["title"] == "Page Two"
        })
        .await;
    assert_eq!(
        before["sessionId"], after["sessionId"],
        "the same session resumes"
    );
    client.close().await;
}
