//! The keyboard gate in real editors from npm (Quill 2, ProseMirror,
//! CodeMirror 5 and 6; `tests/editors/package.json`), through a real client
//! browser, against a page that logs every key-up: typing Visa's test number
//! 4111 1111 1111 1111 stops at fourteen digits in the editor and in the
//! page's key log, and the same typing arrives whole where typing is
//! allowed (the control that proves each test can see a leak).

use std::time::Duration;

use isolator_e2e::eventually;

use crate::clipboard::with_policy;
use crate::keyboard_leaks::{digits, report_field};

const T: Duration = Duration::from_secs(30);

const DLP: &str = "[[rules]]\nname = \"dlp\"\nprofiles = [\"financial\"]\nkeyboard = \"scan\"\n";
const ALLOW: &str = "[[rules]]\nname = \"open\"\nkeyboard = \"allow\"\n";

/// Types `text` into the editor at `path` (ready when its title is `ready`)
/// under `policy`; the page's key-ups and the editor's text. In `text`,
/// `←` and `→` press the arrow keys, and what stands between `«` and `»` is
/// committed at once through an input method.
async fn type_into(path: &str, ready: &'static str, policy: &str, text: &str) -> (String, String) {
    let (site, _iso, client, dir) = with_policy(path, policy).await;
    client.wait_connected().await;
    client
        .wait_state("the editor", T, move |s| s["title"] == ready)
        .await;
    client.click_viewer(200.0, 110.0).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Typed as a person types, with pauses: the page reports its field
    // between keys, and those reports must not reset what the gate knows.
    let mut composing: Option<String> = None;
    for c in text.chars() {
        match (c, composing.as_mut()) {
            ('«', _) => composing = Some(String::new()),
            ('»', _) => {
                client
                    .ime_commit(&composing.take().unwrap_or_default())
                    .await
            }
            (c, Some(buf)) => {
                buf.push(c);
                continue;
            }
            ('←', None) => client.press("ArrowLeft", 0).await,
            ('→', None) => client.press("ArrowRight", 0).await,
            (c, None) => client.type_text(&c.to_string()).await,
        }
        tokio::time::sleep(Duration::from_millis(180)).await;
    }
    tokio::time::sleep(Duration::from_millis(400)).await;
    client.click_viewer(100.0, 275.0).await;
    let body = eventually(T, "the editor's report", || async {
        site.posts_to("/gates/report").pop()
    })
    .await;
    client.close().await;
    drop(dir);
    (report_field(&body, "keys"), report_field(&body, "value"))
}

async fn card_stops_at_fourteen_digits(path: &str, ready: &'static str) {
    let (keys, value) = type_into(path, ready, DLP, "pay 4111 1111 1111 1111").await;
    assert_eq!(
        digits(&value),
        "41111111111111",
        "{path}: the editor holds {value:?}"
    );
    assert_eq!(
        digits(&keys),
        "41111111111111",
        "{path}: the page saw {keys:?}"
    );
    let (keys, value) = type_into(path, ready, ALLOW, "pay 4111 1111 1111 1111").await;
    assert_eq!(
        digits(&value),
        "4111111111111111",
        "{path} allowed: {value:?}"
    );
    assert_eq!(
        digits(&keys),
        "4111111111111111",
        "{path} allowed: {keys:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quill() {
    card_stops_at_fourteen_digits("/editors/quill", "Quill").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prosemirror() {
    card_stops_at_fourteen_digits("/editors/prosemirror", "ProseMirror ready").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codemirror5() {
    card_stops_at_fourteen_digits("/editors/codemirror5", "CodeMirror").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codemirror6() {
    card_stops_at_fourteen_digits("/editors/codemirror6", "CodeMirror 6 ready").await;
}

/// CodeMirror 5 takes keys in a hidden textarea that it empties when the
/// cursor moves: after a move, the textarea holds only what is typed next,
/// so the gate must judge the editor's whole text.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codemirror5_after_the_cursor_moved() {
    let path = "/editors/codemirror5";
    let (keys, value) = type_into(path, "CodeMirror", DLP, "pay 4111 1111 ←→1111 1111").await;
    assert!(digits(&value).len() <= 14, "the editor holds {value:?}");
    assert!(digits(&keys).len() <= 14, "the page saw {keys:?}");
}

/// An input method commits groups of characters at once (here full-width
/// digits, as a Japanese IME writes them): the commit that would complete
/// the card is refused whole, in a real editor as in a plain field.
async fn ime_commits_stop_before_the_card(path: &str, ready: &'static str) {
    let text = "«４１１１ »«１１１１ »«１１１１ »«１１１１»";
    let (_, value) = type_into(path, ready, DLP, text).await;
    let held = value.chars().filter(|c| c.is_numeric()).count();
    assert_eq!(held, 12, "{path}: the editor holds {value:?}");
    let (_, value) = type_into(path, ready, ALLOW, text).await;
    let held = value.chars().filter(|c| c.is_numeric()).count();
    assert_eq!(held, 16, "{path} allowed: {value:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ime_commits_in_prosemirror() {
    ime_commits_stop_before_the_card("/editors/prosemirror", "ProseMirror ready").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ime_commits_in_quill() {
    ime_commits_stop_before_the_card("/editors/quill", "Quill").await;
}
