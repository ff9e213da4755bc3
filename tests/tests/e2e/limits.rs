//! Per-session limits: a page stuck in a script is reported and stopped
//! without harming another session; a reload loop is stopped.

use std::time::Duration;

use isolator_e2e::{eventually, Client, Isolator, TestSite};

use crate::start_url;

const T: Duration = Duration::from_secs(40);

async fn notice(client: &Client, code: &str) -> String {
    eventually(T, code, || async {
        let s = client.state().await;
        s["notices"].as_array().and_then(|a| {
            a.iter()
                .find(|n| n["code"] == code)
                .map(|n| n["message"].as_str().unwrap_or("").to_owned())
        })
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_that_keeps_its_renderer_busy_is_stopped_and_others_carry_on() {
    let site = TestSite::start().await;
    let iso = Isolator::for_site_with(&site, |c| c.sessions.busy_page_kill_secs = 9).await;
    let busy = Client::open(&start_url(&iso, &site.url("/limits/busy"))).await;
    busy.wait_connected().await;
    let other = Client::open(&start_url(&iso, &site.url("/gates/field"))).await;
    other.wait_connected().await;
    other
        .wait_state("field page", T, |s| s["title"] == "Field")
        .await;

    let warned = notice(&busy, "page_busy").await;
    assert!(warned.contains("not responding"), "{warned}");
    // Meanwhile the other session types and its page reports at once.
    other.click_viewer(300.0, 150.0).await;
    other.type_text("still fine").await;
    other.click_viewer(100.0, 275.0).await;
    eventually(T, "the other session's report", || async {
        site.posts_to("/gates/report")
            .contains(&"value=still fine".to_owned())
            .then_some(())
    })
    .await;
    assert!(
        busy.state().await["notices"]
            .as_array()
            .is_none_or(|a| a.iter().all(|n| n["code"] != "page_stopped")),
        "the busy page is stopped only at its limit"
    );

    let stopped = notice(&busy, "page_stopped").await;
    assert!(stopped.contains("was stopped"), "{stopped}");
    busy.wait_state("the tab on a blank page", T, |s| s["url"] == "about:blank")
        .await;
    // The session lives on: the user can browse again.
    busy.wait_state("still connected", T, |s| s["connected"] == true)
        .await;
    busy.close().await;
    other.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_loop_is_stopped_at_the_navigation_limit() {
    let site = TestSite::start().await;
    let iso = Isolator::for_site_with(&site, |c| c.sessions.max_navigations_per_minute = 15).await;
    let client = Client::open(&start_url(&iso, &site.url("/limits/loop"))).await;
    client.wait_connected().await;
    let n = notice(&client, "navigation_limit").await;
    assert!(n.contains("15 page loads in a minute"), "{n}");
    // Loading stopped: the site stops receiving requests.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before = site.requests().len();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = site.requests().len();
    assert!(
        after - before <= 1,
        "the loop went on: {before} -> {after} requests"
    );
    client.close().await;
}
