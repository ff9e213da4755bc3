//! Faults: the isolated browser dies; the client reconnects.

use std::time::Duration;

use crate::setup;

const T: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_chromium_is_reported_and_recovered_from() {
    let (_site, iso, client) = setup("/").await;
    let before = client.wait_connected().await;
    let first_browser = iso
        .state
        .sessions
        .browser()
        .peek()
        .await
        .unwrap()
        .generation;
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
    // The new session lives server-side, in a relaunched browser.
    let relaunched = iso.state.sessions.browser().peek().await.unwrap();
    assert!(relaunched.generation > first_browser && !relaunched.is_dead());
    assert_eq!(iso.state.sessions.count(), 1);
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_sessions_end_and_say_why() {
    let site = isolator_e2e::TestSite::start().await;
    let iso =
        isolator_e2e::Isolator::for_site_with(&site, |c| c.sessions.idle_timeout_secs = 10).await;
    let client = isolator_e2e::Client::open(&crate::start_url(&iso, &site.url("/"))).await;
    client.wait_connected().await;
    let s = client
        .wait_state("the idle timeout", Duration::from_secs(45), |s| {
            s["ended"]["reason"] == "idle"
        })
        .await;
    assert!(
        s["ended"]["serverMessage"]
            .as_str()
            .unwrap()
            .contains("without activity"),
        "{s}"
    );
    // The slot is free again and the browser context is gone.
    isolator_e2e::eventually(T, "the session torn down", || async {
        (iso.state.sessions.count() == 0).then_some(())
    })
    .await;
    client.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_a_session_disposes_its_browser_context() {
    use chromiumoxide::cdp::browser_protocol::target::GetBrowserContextsParams;
    let (_site, iso, client) = setup("/").await;
    client.wait_connected().await;
    let running = iso
        .state
        .sessions
        .browser()
        .peek()
        .await
        .expect("browser running");
    let contexts = running
        .browser
        .execute(GetBrowserContextsParams::default())
        .await
        .unwrap();
    assert_eq!(contexts.result.browser_context_ids.len(), 1);
    client.click_ui("[data-action=menu]").await;
    client.click_ui("[data-action=end]").await;
    client
        .wait_state("ended by the user", T, |s| s["ended"]["reason"] == "closed")
        .await;
    isolator_e2e::eventually(T, "the context disposed", || async {
        let c = running
            .browser
            .execute(GetBrowserContextsParams::default())
            .await
            .ok()?;
        (c.result.browser_context_ids.is_empty() && iso.state.sessions.count() == 0).then_some(())
    })
    .await;
    client.close().await;
}

/// The next session's context is made ahead (`sessions.spare`). One made
/// by a browser that has since died must never be handed out: the session
/// after the crash gets a fresh one in the relaunched browser, and pages
/// load in it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spare_context_of_a_dead_browser_is_never_used() {
    let site = isolator_e2e::TestSite::start().await;
    let iso = isolator_e2e::Isolator::for_site_with(&site, |c| c.sessions.spare = true).await;
    let mut a = isolator_e2e::Scripted::open(&iso.url(""), &site.url("/")).await;
    isolator_e2e::eventually(T, "a spare made ahead", || async {
        iso.state.sessions.spare_ready().await.then_some(())
    })
    .await;
    iso.state.sessions.browser().kill().await;
    a.wait_for("the crash reported", T, |m| {
        m["t"] == "ended" && m["reason"] == "browser_crashed"
    })
    .await;
    // Twice: the first takes no spare (the old one is dropped), the second
    // takes the one made in the new browser.
    for round in 0..2 {
        let mut b = isolator_e2e::Scripted::open(&iso.url(""), &site.url("/page2")).await;
        b.wait_for("page 2 loaded", T, |m| {
            m["t"] == "state" && m["title"] == "Page Two"
        })
        .await;
        b.close().await;
        if round == 0 {
            isolator_e2e::eventually(T, "a spare in the new browser", || async {
                iso.state.sessions.spare_ready().await.then_some(())
            })
            .await;
        }
    }
    let browser = iso.state.sessions.browser().peek().await.unwrap();
    assert!(!browser.is_dead());
}
