//! Page text the client draws itself (a dialog's message, the address bar,
//! tab titles, notices) reaches the user's clipboard only through the copy
//! gate: the user selects it in the client and copies, the client cancels
//! the browser's own copy and the server decides. Judged by what the
//! client writes to the user's clipboard. The card number is Visa's
//! published test number.

use std::time::Duration;

use crate::clipboard::with_policy;
use crate::clipboard::{copied, spy_clipboard};

const T: Duration = Duration::from_secs(30);

const DLP: &str = "[[rules]]\nname = \"dlp\"\nprofiles = [\"financial\"]\ncopy = \"scan\"\n";
const ALLOW: &str = "[[rules]]\nname = \"open\"\ncopy = \"allow\"\n";

/// Opens the alert page under `policy`, shows the alert, selects its
/// message in the client and copies it; whether the browser's own copy was
/// cancelled, and what the client wrote to the clipboard.
async fn copy_alert_message(policy: &str) -> (bool, Vec<String>) {
    let (_site, _iso, client, dir) = with_policy("/gates/alert-card", policy).await;
    client.wait_connected().await;
    client
        .wait_state("the alert page", T, |s| s["title"] == "Alert")
        .await;
    spy_clipboard(&client).await;
    client.click_viewer(150.0, 275.0).await;
    client
        .wait_state("the alert shown", T, |s| s["dialog"]["kind"] == "alert")
        .await;
    // The user selects the message and presses Ctrl+C: the browser fires
    // `copy` on the selection.
    let cancelled: bool = client
        .eval(
            "(() => { const m = document.querySelector('#page-dialog [data-role=message]');\
               const r = document.createRange(); r.selectNodeContents(m);\
               const s = getSelection(); s.removeAllRanges(); s.addRange(r);\
               const e = new ClipboardEvent('copy', { bubbles: true, cancelable: true, composed: true });\
               m.dispatchEvent(e); return e.defaultPrevented; })()",
        )
        .await;
    // Give the server's answer time to come back.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let got = copied(&client).await;
    client.close().await;
    drop(dir);
    (cancelled, got)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_card_in_an_alert_is_not_copied_from_the_client() {
    let (cancelled, got) = copy_alert_message(DLP).await;
    assert!(cancelled, "the browser's own copy must be cancelled");
    assert!(
        got.iter().all(|t| !t.contains("4111")),
        "the user's clipboard got {got:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_alert_text_is_copied_where_copying_is_allowed() {
    let (cancelled, got) = copy_alert_message(ALLOW).await;
    assert!(cancelled, "it still goes through the server's copy gate");
    assert_eq!(
        got,
        vec!["Your card 4111 1111 1111 1111 is saved".to_owned()]
    );
}

/// What the client shows of a page whose title and dialog carry a card
/// number, under `policy`: the client's window title and the dialog's text.
async fn drawn_text(policy: &str) -> (String, String) {
    let (_site, _iso, client, dir) = with_policy("/gates/card-title", policy).await;
    client.wait_connected().await;
    client
        .wait_state("the page's title", T, |s| {
            s["title"].as_str().is_some_and(|t| t.starts_with("Order"))
        })
        .await;
    client.click_viewer(150.0, 275.0).await;
    client
        .wait_state("the alert shown", T, |s| s["dialog"]["kind"] == "alert")
        .await;
    let title: String = client.eval("document.title").await;
    let message = client.text_of("#page-dialog [data-role=message]").await;
    client.close().await;
    drop(dir);
    (title, message)
}

const MASK: &str = "[[rules]]\nname = \"dlp\"\nprofiles = [\"financial\"]\npage = \"scan\"\nmask = [\"credit_card\"]\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn titles_and_dialogs_the_client_draws_are_masked_like_the_page() {
    let (title, message) = drawn_text(MASK).await;
    for shown in [&title, &message] {
        assert!(!shown.contains("4111"), "the client shows {shown:?}");
        assert!(
            shown.contains('\u{2022}'),
            "the card is bulleted: {shown:?}"
        );
    }
    // The control: where the page is shown as it is, so are they.
    let (title, message) = drawn_text(ALLOW).await;
    assert_eq!(title, "Order 4111 1111 1111 1111");
    assert_eq!(message, "Charged to 4111 1111 1111 1111");
}
