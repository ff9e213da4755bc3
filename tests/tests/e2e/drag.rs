//! Text dragged inside the remote page, from one textarea into another,
//! with the mouse through a real client browser: the drop is judged like
//! typing, and what counts is what the page holds afterwards (it posts both
//! values and the drop events it saw). The card number is Visa's published
//! test number 4111 1111 1111 1111.

use std::time::Duration;

use isolator_e2e::{eventually, Client, TestSite};

use crate::clipboard::{notices, with_policy};
use crate::keyboard_leaks::{report_field, ALLOW, DLP};

const T: Duration = Duration::from_secs(30);

/// Where the textareas sit in the remote viewport (x on their text).
const A: (f64, f64) = (300.0, 125.0);
const B: (f64, f64) = (50.0, 225.0);
const C: (f64, f64) = (50.0, 325.0);
/// Past the end of `#a`'s text.
const A_END: (f64, f64) = (500.0, 125.0);

/// Types `typed` at the end of `#a`.
async fn type_into_a(client: &Client, typed: &str) {
    client.click_viewer(A.0, A.1).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    client.type_text(typed).await;
}

/// Selects all the text of the textarea at `from` and drags it to the end
/// of `#a`; then what the page holds: (a, b, c, drop events so far).
async fn drag_into_a(site: &TestSite, client: &Client, from: (f64, f64)) -> [String; 4] {
    client.click_viewer(from.0, from.1).await;
    client.press("a", 2).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    client.drag_viewer(from, A_END).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = site.posts_to("/gates/report").len();
    client.click_viewer(170.0, 425.0).await;
    let body = eventually(T, "the page's values", || async {
        let posts = site.posts_to("/gates/report");
        (posts.len() > before).then(|| posts[before].clone())
    })
    .await;
    ["a", "b", "c", "drops"].map(|name| report_field(&body, name))
}

async fn open(policy: &str) -> (TestSite, isolator_e2e::Isolator, Client, tempfile::TempDir) {
    let (site, iso, client, dir) = with_policy("/gates/drag", policy).await;
    client.wait_connected().await;
    client
        .wait_state("the drag page", T, |s| s["title"] == "Drag")
        .await;
    (site, iso, client, dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dragging_the_second_half_of_a_card_onto_the_first_is_cancelled() {
    let (site, _iso, client, _dir) = open(DLP).await;
    type_into_a(&client, "4111 1111 ").await;
    let [a, b, _, drops] = drag_into_a(&site, &client, B).await;
    assert_eq!(
        a, "4111 1111 ",
        "the halves stay apart (b {b:?}, drops {drops})"
    );
    assert_eq!(b, "1111 1111", "nothing left the second field");
    assert_eq!(drops, "0", "the page saw no drop");
    let shown = notices(&client).await;
    assert!(
        shown.iter().any(|n| n.starts_with("keyboard_blocked")),
        "{shown:?}"
    );
    // An ordinary drag in the same session still lands.
    let [a, _, c, drops] = drag_into_a(&site, &client, C).await;
    assert_eq!(
        (a.as_str(), c.as_str(), drops.as_str()),
        ("4111 1111 hello world", "", "1")
    );
    client.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_drag_lands_where_typing_is_allowed() {
    let (site, _iso, client, _dir) = open(ALLOW).await;
    type_into_a(&client, "4111 1111 ").await;
    let [a, b, _, drops] = drag_into_a(&site, &client, B).await;
    assert_eq!(a, "4111 1111 1111 1111");
    assert_eq!(b, "");
    assert_eq!(drops, "1");
    client.close().await;
}
