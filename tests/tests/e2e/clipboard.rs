//! The keyboard, paste and copy gates, with a policy file written by each
//! test, through a real client browser. The test site records everything the
//! isolated page sends it, so a blocked value provably never arrived.

use std::time::Duration;

use isolator_e2e::{eventually, Client, Isolator, TestSite};

use crate::start_url;

const T: Duration = Duration::from_secs(30);

/// A site, an isolator enforcing `policy`, and a client at `path`.
pub(crate) async fn with_policy(
    path: &str,
    policy: &str,
) -> (TestSite, Isolator, Client, tempfile::TempDir) {
    let site = TestSite::start().await;
    let (iso, dir) = isolator_with_policy(&site, policy).await;
    let client = Client::open(&start_url(&iso, &site.url(path))).await;
    (site, iso, client, dir)
}

async fn isolator_with_policy(site: &TestSite, policy: &str) -> (Isolator, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("policy.toml");
    std::fs::write(&file, policy).unwrap();
    let iso = Isolator::for_site_with(site, |c| c.policies.file = Some(file)).await;
    (iso, dir)
}

async fn wait_title(client: &Client, title: &'static str) {
    client
        .wait_state(title, T, move |s| s["title"] == title)
        .await;
}

/// Bodies the isolated page posted to `/gates/report`, waiting for `n`.
async fn reports(site: &TestSite, n: usize) -> Vec<String> {
    eventually(T, "reports from the page", || async {
        let r = site.posts_to("/gates/report");
        (r.len() >= n).then_some(r)
    })
    .await
}

/// The notices the client shows, as `code: message` lines.
pub(crate) async fn notices(client: &Client) -> Vec<String> {
    let s = client.state().await;
    s["notices"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|n| {
                    format!(
                        "{}: {}",
                        n["code"].as_str().unwrap_or(""),
                        n["message"].as_str().unwrap_or("")
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

pub(crate) async fn wait_notice(client: &Client, code: &str) -> String {
    eventually(T, "a notice", || async {
        notices(client)
            .await
            .into_iter()
            .find(|n| n.starts_with(&format!("{code}:")))
    })
    .await
}

/// Pastes `text` into the client the way the browser does on Ctrl+V.
pub(crate) async fn paste(client: &Client, text: &str) {
    let js = format!(
        "(() => {{ const dt = new DataTransfer(); dt.setData('text/plain', {t});\
         document.querySelector('.keyboard-sink').dispatchEvent(new ClipboardEvent('paste', {{clipboardData: dt, bubbles: true, cancelable: true}})); return true; }})()",
        t = serde_json::to_string(text).unwrap()
    );
    let _: bool = client.eval(&js).await;
}

/// Records what the client writes to the user's clipboard.
pub(crate) async fn spy_clipboard(client: &Client) {
    let _: bool = client
        .eval("(() => { window.__copied = []; navigator.clipboard.writeText = (t) => { window.__copied.push(t); return Promise.resolve(); }; return true; })()")
        .await;
}

pub(crate) async fn copied(client: &Client) -> Vec<String> {
    client.eval("window.__copied || []").await
}

const DLP: &str = r#"
[[rules]]
name = "dlp"
profiles = ["financial"]
keyboard = "scan"
paste = "scan"
copy = "scan"
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_keystroke_completing_a_card_number_never_reaches_the_page() {
    let (site, _iso, client, _dir) = with_policy("/gates/field", DLP).await;
    client.wait_connected().await;
    wait_title(&client, "Field").await;
    client.click_viewer(300.0, 150.0).await;
    client.type_text("pay 4111 1111 1111 1111 ok").await;
    client.click_viewer(100.0, 275.0).await;
    let got = reports(&site, 1).await;
    // Everything but the digits that would complete the card number (the
    // 15th fixes the 16th through Luhn) arrived.
    assert_eq!(got, vec!["value=pay 4111 1111 1111 11 ok".to_owned()]);
    let notice = wait_notice(&client, "keyboard_blocked").await;
    assert!(
        notice.contains("Card numbers cannot be typed into"),
        "{notice}"
    );
    assert!(
        !notice.contains("4111"),
        "a notice never shows the data: {notice}"
    );
    client.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyboard_block_drops_all_typing_with_a_notice() {
    let policy = "[[rules]]\nname = \"no-typing\"\nkeyboard = \"block\"\n";
    let (site, _iso, client, _dir) = with_policy("/gates/field", policy).await;
    client.wait_connected().await;
    wait_title(&client, "Field").await;
    client.click_viewer(300.0, 150.0).await;
    client.type_text("hello").await;
    client.click_viewer(100.0, 275.0).await;
    assert_eq!(reports(&site, 1).await, vec!["value=".to_owned()]);
    let notice = wait_notice(&client, "keyboard_blocked").await;
    assert!(notice.contains("Typing is not allowed"), "{notice}");
    client.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paste_is_scanned_before_it_is_inserted() {
    let (site, _iso, client, _dir) = with_policy("/gates/field", DLP).await;
    client.wait_connected().await;
    wait_title(&client, "Field").await;
    client.click_viewer(300.0, 150.0).await;
    paste(&client, "clean words ").await;
    paste(&client, "card 4111-1111-1111-1111").await;
    let notice = wait_notice(&client, "paste_blocked").await;
    assert!(
        notice.contains("Card numbers cannot be pasted into"),
        "{notice}"
    );
    paste(&client, "after").await;
    // Give the last paste time to land, then ask the page what it holds.
    tokio::time::sleep(Duration::from_millis(500)).await;
    client.click_viewer(100.0, 275.0).await;
    assert_eq!(
        reports(&site, 1).await,
        vec!["value=clean words after".to_owned()]
    );
    client.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copies_reach_the_users_clipboard_only_when_clean() {
    let (_site, _iso, client, _dir) = with_policy("/gates/copy", DLP).await;
    client.wait_connected().await;
    clean_copies_pass_and_a_card_does_not(&client).await;
    // The user selects everything and presses Ctrl+C: the selection holds a card number.
    client.click_viewer(600.0, 600.0).await;
    client.press("a", 2).await;
    client.press("c", 2).await;
    eventually(T, "a second copy block", || async {
        let n = notices(&client).await;
        (n.iter().filter(|n| n.starts_with("copy_blocked:")).count() >= 1).then_some(())
    })
    .await;
    let all = nothing_card_like_copied(&client).await;
    assert_eq!(all.len(), 2, "{all:?}");
    client.close().await;
}

/// What reached the user's clipboard, half a second after the last copy,
/// asserted to hold no card number of the copy page.
pub(crate) async fn nothing_card_like_copied(client: &Client) -> Vec<String> {
    tokio::time::sleep(Duration::from_millis(500)).await;
    let all = copied(client).await;
    assert!(
        all.iter()
            .all(|t| !t.contains("5500") && !t.contains("4111")),
        "{all:?}"
    );
    all
}

/// On the test site's copy page (`/gates/copy`): clean text written through
/// the async clipboard API and by `execCommand('copy')` reaches the user's
/// clipboard; a card number the page writes is refused with a notice.
pub(crate) async fn clean_copies_pass_and_a_card_does_not(client: &Client) {
    wait_title(client, "Copy").await;
    spy_clipboard(client).await;
    // The page writes clean text through the async clipboard API: allowed.
    client.click_viewer(100.0, 275.0).await;
    eventually(T, "the clean copy", || async {
        copied(client)
            .await
            .contains(&"hello from the page".to_owned())
            .then_some(())
    })
    .await;
    // execCommand('copy') of clean text: allowed.
    client.click_viewer(100.0, 415.0).await;
    eventually(T, "the execCommand copy", || async {
        copied(client)
            .await
            .contains(&"exec copy words".to_owned())
            .then_some(())
    })
    .await;
    // The page writes a card number: blocked.
    client.click_viewer(100.0, 345.0).await;
    let notice = wait_notice(client, "copy_blocked").await;
    assert!(
        notice.contains("Card numbers cannot be copied from"),
        "{notice}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_sessions_copy_never_reaches_another_session() {
    let policy = "[defaults]\ncopy = \"allow\"\npaste = \"allow\"\n";
    let site = TestSite::start().await;
    let (iso, _dir) = isolator_with_policy(&site, policy).await;
    // Session A copies, by selection (Ctrl+A, Ctrl+C) and by the clipboard API.
    let a = Client::open(&start_url(&iso, &site.url("/gates/copy"))).await;
    a.wait_connected().await;
    wait_title(&a, "Copy").await;
    spy_clipboard(&a).await;
    a.click_viewer(600.0, 600.0).await;
    a.press("a", 2).await;
    a.press("c", 2).await;
    a.click_viewer(100.0, 275.0).await;
    eventually(T, "both of A's copies at A's client", || async {
        let c = copied(&a).await;
        (c.iter().any(|t| t.contains("4111 1111 1111 1111"))
            && c.contains(&"hello from the page".to_owned()))
        .then_some(())
    })
    .await;
    // Session B, in the same isolated browser, tries every way to paste.
    let b = Client::open(&start_url(&iso, &site.url("/gates/clipboard-probe"))).await;
    b.wait_connected().await;
    wait_title(&b, "Probe").await;
    b.click_viewer(300.0, 150.0).await;
    b.press("v", 2).await; // Ctrl+V: handled by B's own browser, never forwarded
    b.press("Insert", 8).await; // Shift+Insert
    b.click_viewer(100.0, 275.0).await; // the probe: execCommand('paste') and readText()
    let got = reports(&site, 1).await;
    assert_eq!(got.len(), 1, "{got:?}");
    let body = &got[0];
    assert!(
        !body.contains("4111") && !body.contains("hello from the page"),
        "{body}"
    );
    assert!(body.ends_with("&field="), "B's field stays empty: {body}");
    a.close().await;
    b.close().await;
}
