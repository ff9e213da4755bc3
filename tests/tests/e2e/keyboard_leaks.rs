//! The keyboard gate against a page that logs every key event and a user
//! who edits around it, through a real client browser. The test site
//! records what the isolated page saw (every `keyup`, `keydown`,
//! `keypress`, `beforeinput` and `input`, and the field's value), so a
//! refused key provably never reached the page's scripts. The card number is
//! Visa's published test number 4111 1111 1111 1111.

use std::time::Duration;

use isolator_e2e::{eventually, Client, Isolator, TestSite};

use crate::clipboard::with_policy;

const T: Duration = Duration::from_secs(30);

/// Typing scanned for card numbers.
pub(crate) const DLP: &str = r#"
[[rules]]
name = "dlp"
profiles = ["financial"]
keyboard = "scan"
"#;

/// Typing allowed.
pub(crate) const ALLOW: &str = "[[rules]]\nname = \"open\"\nkeyboard = \"allow\"\n";

async fn keylog_page(policy: &str) -> (TestSite, Isolator, Client, tempfile::TempDir) {
    let (site, iso, client, dir) = with_policy("/gates/keylog", policy).await;
    client.wait_connected().await;
    client
        .wait_state("the key-logging page", T, |s| s["title"] == "Keylog")
        .await;
    client.click_viewer(300.0, 115.0).await;
    (site, iso, client, dir)
}

/// What the page logged: (keys of its keyups, keys of its keydowns and
/// keypresses, data of its input events, the field's value).
async fn page_log(site: &TestSite, client: &Client) -> (String, String, String, String) {
    // Let the last keys land, then have the page report.
    tokio::time::sleep(Duration::from_millis(400)).await;
    client.click_viewer(100.0, 275.0).await;
    let body = eventually(T, "the page's key log", || async {
        site.posts_to("/gates/report").pop()
    })
    .await;
    let field = |name| report_field(&body, name);
    (field("keys"), field("downs"), field("data"), field("value"))
}

/// The value of `name` in a page's `a=1&b=2` report (values not encoded).
pub(crate) fn report_field(body: &str, name: &str) -> String {
    body.split('&')
        .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
        .unwrap_or("")
        .to_owned()
}

pub(crate) fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_logging_page_never_sees_enough_digits_to_compute_the_card() {
    let (site, _iso, client, _dir) = keylog_page(DLP).await;
    client.type_text("4111 1111 1111 1111").await;
    let (ups, downs, data, value) = page_log(&site, &client).await;
    // 14 digits reach the page by every channel: the 15th would fix the
    // 16th through Luhn, so it is refused with the 16th, key-ups included.
    // (keydown and keypress, beforeinput and input: two events per key.)
    for (what, seen, per_key) in [
        ("keyup", &ups, 1),
        ("keydown/keypress", &downs, 2),
        ("beforeinput/input", &data, 2),
        ("value", &value, 1),
    ] {
        assert_eq!(
            digits(seen).len(),
            14 * per_key,
            "the page's {what} events saw {seen:?}"
        );
    }
    assert_eq!(value, "4111 1111 1111 11");
    client.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_typing_reaches_the_page_whole_where_typing_is_allowed() {
    let (site, _iso, client, _dir) = keylog_page(ALLOW).await;
    client.type_text("4111 1111 1111 1111").await;
    let (ups, _, _, value) = page_log(&site, &client).await;
    assert_eq!(value, "4111 1111 1111 1111");
    assert_eq!(digits(&ups), "4111111111111111");
    client.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_the_character_between_two_halves_is_refused() {
    let (site, _iso, client, _dir) = keylog_page(DLP).await;
    client.type_text("4111 1111 1111 11x11").await;
    client.press("ArrowLeft", 0).await;
    client.press("ArrowLeft", 0).await;
    client.press("Backspace", 0).await;
    let (_, _, _, value) = page_log(&site, &client).await;
    assert_eq!(value, "4111 1111 1111 11x11", "the x stays: {value:?}");
    client.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undo_and_redo_only_return_the_field_to_states_it_had() {
    // The refused deletion never happened, so undo and redo (Ctrl+Z,
    // Ctrl+Shift+Z, Ctrl+Y) walk only through values the gate judged.
    let (site, _iso, client, _dir) = keylog_page(DLP).await;
    client.type_text("4111 1111 1111 11x11").await;
    client.press("ArrowLeft", 0).await;
    client.press("ArrowLeft", 0).await;
    client.press("Backspace", 0).await;
    for (key, mods) in [("z", 2), ("z", 2), ("z", 10), ("z", 10), ("y", 2), ("z", 2)] {
        client.press(key, mods).await;
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    let body = {
        let (_, _, _, value) = page_log(&site, &client).await;
        assert!(!digits(&value).contains("4111111111111111"), "{value:?}");
        site.posts_to("/gates/report").pop().unwrap()
    };
    let most: usize = report_field(&body, "most").parse().unwrap();
    assert!(most <= 14, "the field once held {most} digits in a run");
    client.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caret_placed_with_the_mouse_in_another_sites_frame_cannot_join_two_halves() {
    // The field is in a frame of another site (out of process, no page
    // script reports it): the gate sees only keys. The user types
    // "4111 1111 1111 11x11", clicks between the x and the last "11" and
    // presses Backspace.
    let (site, _iso, client, _dir) = with_policy("/gates/frame-field", DLP).await;
    client.wait_connected().await;
    client
        .wait_state("the framed field", T, |s| s["title"] == "Framed field")
        .await;
    // The frame's page loads through the egress proxy like any other.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    client.click_viewer(600.0, 115.0).await;
    client.type_text("4111 1111 1111 11x11").await;
    let typed = eventually(T, "the typing in the frame", || async {
        site.posts_to("/gates/report")
            .into_iter()
            .rfind(|b| b.ends_with("x11"))
    })
    .await;
    assert_eq!(typed, "value=4111 1111 1111 11x11");
    // Monospace 24 px: 14.45 px a character; the boundary after the x
    // (18 characters in) is at 260 px of the frame.
    client.click_viewer(20.0 + 18.0 * 14.45, 115.0).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    client.press("Backspace", 0).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    let values = site.posts_to("/gates/report");
    assert!(
        values.iter().all(|v| !v.contains("4111 1111 1111 1111")),
        "the frame's field held the card: {values:?}"
    );
    assert_eq!(values.last().unwrap(), "value=4111 1111 1111 11x11");
    client.close().await;
}

/// Answers the page's `prompt()` with `answer`, typed into the client's
/// dialog; the title the page sets from the answer.
async fn answer_prompt(policy: &str, answer: &str) -> String {
    let (_site, _iso, client, dir) = with_policy("/dialog?kind=prompt", policy).await;
    client.wait_connected().await;
    client
        .wait_state("the dialog page", T, |s| s["title"] == "Dialog")
        .await;
    client.click_viewer(100.0, 170.0).await;
    client
        .wait_state("a prompt shown", T, |s| s["dialog"]["kind"] == "prompt")
        .await;
    client.focus("[data-action=dialog-input]").await;
    client
        .eval::<bool>("(() => { document.querySelector('[data-action=dialog-input]').value = ''; return true; })()")
        .await;
    client.type_text(answer).await;
    client.click_ui("[data-action=dialog-ok]").await;
    let s = client
        .wait_state("the page's answer", T, |s| {
            s["title"]
                .as_str()
                .is_some_and(|t| t.starts_with("answer="))
        })
        .await;
    client.close().await;
    drop(dir);
    s["title"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_card_typed_into_a_prompt_never_reaches_the_page() {
    assert_eq!(
        answer_prompt(DLP, "4111 1111 1111 1111").await,
        "answer=null"
    );
    assert_eq!(answer_prompt(DLP, "blue").await, "answer=blue");
    assert_eq!(
        answer_prompt(ALLOW, "4111 1111 1111 1111").await,
        "answer=4111 1111 1111 1111"
    );
}

const PASTE_DLP: &str = r#"
[[rules]]
name = "dlp"
profiles = ["financial"]
keyboard = "scan"
paste = "scan"
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_a_card_pasted_next_to_the_other_half_never_reaches_the_field() {
    let (site, _iso, client, _dir) = keylog_page(PASTE_DLP).await;
    crate::clipboard::paste(&client, "4111 1111 ").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    crate::clipboard::paste(&client, "1111 1111").await;
    let (_, _, data, value) = page_log(&site, &client).await;
    assert_eq!(value, "4111 1111 ", "the second half stayed out");
    assert!(!digits(&data).contains("41111111111"), "{data:?}");
    client.close().await;
}

/// Types the card over the four boxes of a form, pausing `pause` after
/// each Tab; the page's key-ups and the boxes' values.
async fn type_over_four_boxes(pause: Duration) -> (String, String) {
    let (site, _iso, client, dir) = with_policy("/gates/boxes", DLP).await;
    client.wait_connected().await;
    client
        .wait_state("the card form", T, |s| s["title"] == "Boxes")
        .await;
    client.click_viewer(40.0, 112.0).await;
    for (i, group) in ["4111", "1111", "1111", "1111"].iter().enumerate() {
        if i > 0 {
            client.press("Tab", 0).await;
            tokio::time::sleep(pause).await;
        }
        client.type_text(group).await;
    }
    let (ups, _, _, value) = page_log(&site, &client).await;
    client.close().await;
    drop(dir);
    (ups, value)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_card_typed_over_the_four_boxes_of_a_form_stops_at_fourteen_digits() {
    // A person moves to the next box; the page reports the new field.
    let (ups, value) = type_over_four_boxes(Duration::from_millis(300)).await;
    assert_eq!(value, "4111 1111 1111 11", "{ups:?}");
    assert_eq!(digits(&ups), "41111111111111");
    // Typed without a pause, the keys after each Tab race the page's
    // report of the new box: they are judged with the box they left.
    let (ups, value) = type_over_four_boxes(Duration::ZERO).await;
    assert_eq!(value, "4111 1111 1111 11", "{ups:?}");
    assert_eq!(digits(&ups), "41111111111111");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn joining_two_lines_of_a_textarea_into_a_card_is_refused() {
    let (site, _iso, client, dir) = with_policy("/gates/field", DLP).await;
    client.wait_connected().await;
    client
        .wait_state("the textarea page", T, |s| s["title"] == "Field")
        .await;
    client.click_viewer(300.0, 150.0).await;
    client.type_text("4111 1111 ").await;
    client.press("Enter", 0).await;
    client.type_text("1111 1111").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Up to the first line, to its end, and Delete the line break.
    client.press("ArrowUp", 0).await;
    client.press("End", 0).await;
    client.press("Delete", 0).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    client.click_viewer(100.0, 275.0).await;
    let body = eventually(T, "the textarea's value", || async {
        site.posts_to("/gates/report").pop()
    })
    .await;
    assert_eq!(body, "value=4111 1111 \n1111 1111", "the lines stay apart");
    client.close().await;
    drop(dir);
}
