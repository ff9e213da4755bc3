//! Session isolation and socket protection, exercised from real browsers.

use std::time::Duration;

use isolator_e2e::Client;

use crate::{setup, start_url};

const T: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_sessions_do_not_share_cookies() {
    cookies_stay_in_their_session(false).await;
}

/// The same when the second session starts from a context made ahead
/// (`sessions.spare`), before anyone knew whose it would be.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_started_from_a_spare_does_not_see_the_cookies_of_the_one_before() {
    cookies_stay_in_their_session(true).await;
}

async fn cookies_stay_in_their_session(spare: bool) {
    let site = isolator_e2e::TestSite::start().await;
    let iso = isolator_e2e::Isolator::for_site_with(&site, |c| c.sessions.spare = spare).await;
    let a = Client::open(&start_url(&iso, &site.url("/cookie/set/alpha"))).await;
    a.wait_connected().await;
    a.wait_state("cookie set", T, |s| s["title"] == "Cookie set")
        .await;
    // In session A the cookie is there...
    a.click_ui("[data-role=address]").await;
    a.press("a", 2).await;
    a.type_text(&site.url("/cookie/show")).await;
    a.press("Enter", 0).await;
    a.wait_state("A sees its cookie", T, |s| s["title"] == "cookie=c=alpha")
        .await;
    if spare {
        isolator_e2e::eventually(T, "a spare made ahead", || async {
            iso.state.sessions.spare_ready().await.then_some(())
        })
        .await;
    }
    // ...and session B, of another user's browser, does not see it.
    let b = Client::open(&start_url(&iso, &site.url("/cookie/show"))).await;
    b.wait_connected().await;
    b.wait_state("B sees no cookie", T, |s| s["title"] == "cookie=none")
        .await;
    if spare {
        assert!(
            !iso.state.sessions.spare_ready().await,
            "B took the spare (the next one is made 2 s later)"
        );
    }
    let sa = a.state().await;
    let sb = b.state().await;
    assert_ne!(sa["sessionId"], sb["sessionId"]);
    a.close().await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cross_site_pages_cannot_hijack_the_socket() {
    let (site, iso, client) = setup("/").await;
    let s = client.wait_connected().await;
    let id = s["sessionId"].as_str().unwrap().to_owned();
    // A page of another origin (the test site) tries to open the session's socket,
    // from the same browser, with and without guessing the token.
    let attacker = Client::open(&site.url("/page2")).await;
    let script = format!(
        "new Promise(r => {{ const w = new WebSocket('ws://{addr}/api/sessions/{id}/ws', ['isolator.v1', 'isolator.token.guess']);\
         w.onopen = () => r('open'); w.onerror = () => r('refused'); setTimeout(() => r('timeout'), 5000); }})",
        addr = iso.addr
    );
    let outcome: String = attacker.eval(&script).await;
    assert_eq!(outcome, "refused");
    // The legitimate client is undisturbed.
    client
        .wait_state("still connected", T, |s| s["connected"] == true)
        .await;
    attacker.close().await;
    client.close().await;
}
