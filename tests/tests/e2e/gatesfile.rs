//! Upload, download and print gates, both outcomes, with a real client
//! browser: blocked data provably does not arrive (the test site records
//! every request; the server keeps no blocked file), allowed data arrives
//! byte for byte.

use std::path::Path;
use std::time::Duration;

use isolator_e2e::site_gatesfile::{DOWNLOAD_BYTES, FORM_NOTE, PRINT_TEXT};
use isolator_e2e::{Client, Isolator, TestSite};
use serde_json::Value;

use crate::start_url;

const T: Duration = Duration::from_secs(40);

/// A site, an isolator under `policy` and a client at `path`.
pub(crate) async fn setup_with(
    policy: &str,
    path: &str,
) -> (TestSite, Isolator, Client, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("policy.toml");
    std::fs::write(&file, policy).unwrap();
    let (site, iso, client) = setup_with_file(file, path).await;
    (site, iso, client, dir)
}

/// A site, an isolator under the policy file `file` (with extraction
/// workers) and a connected client at `path`.
pub(crate) async fn setup_with_file(
    file: std::path::PathBuf,
    path: &str,
) -> (TestSite, Isolator, Client) {
    let site = TestSite::start().await;
    let worker = worker_program();
    let iso = Isolator::for_site_with(&site, |c| {
        c.policies.file = Some(file.clone());
        c.enforce.worker_program = Some(worker);
    })
    .await;
    let client = Client::open(&start_url(&iso, &site.url(path))).await;
    client.wait_connected().await;
    (site, iso, client)
}

/// The `isolator` binary next to this test binary (target/debug/isolator):
/// file scans run in its `extract-worker` processes.
pub(crate) fn worker_program() -> std::path::PathBuf {
    let exe = std::env::current_exe().unwrap();
    let bin = exe
        .parent()
        .and_then(|deps| deps.parent())
        .map(|d| d.join("isolator"))
        .unwrap();
    assert!(
        bin.is_file(),
        "{} is missing: run `cargo build -p isolator` before these tests",
        bin.display()
    );
    bin
}

pub(crate) fn policy(upload: &str, download: &str, print: &str) -> String {
    policy_with_submit(upload, download, print, "allow")
}

fn policy_with_submit(upload: &str, download: &str, print: &str, submit: &str) -> String {
    format!(
        "[[rules]]\nname = \"files\"\nprofiles = [\"financial\", \"national_ids\"]\n\
         upload = \"{upload}\"\ndownload = \"{download}\"\nprint = \"{print}\"\n\
         submit = \"{submit}\"\n"
    )
}

/// The content of the part of multipart `body` that carries file `name`.
fn file_part<'a>(body: &'a str, name: &str) -> Option<&'a str> {
    let at = body.find(&format!("filename=\"{name}\""))?;
    let start = at + body[at..].find("\r\n\r\n")? + 4;
    let end = start + body[start..].find("\r\n--")?;
    Some(&body[start..end])
}

/// A text file of about 60 KB with no sensitive data.
fn notes_file(dir: &Path) -> (std::path::PathBuf, String) {
    let text: String = (0..1500)
        .map(|i| format!("line {i}: meeting notes, bring the projector\n"))
        .collect();
    let file = dir.join("notes.txt");
    std::fs::write(&file, &text).unwrap();
    (file, text)
}

/// Chooses a clean file on upload page `how` under a policy with `submit`,
/// and checks that the form reaches the site with the file byte for byte
/// and its text field.
async fn upload_arrives_intact(how: &str, submit: &str) {
    let (site, _iso, client, dir) = setup_with(
        &policy_with_submit("scan", "allow", "allow", submit),
        &format!("/files/upload/{how}"),
    )
    .await;
    let (file, text) = notes_file(dir.path());
    choose(&client, &file).await;
    let deadline = tokio::time::Instant::now() + T;
    let body = loop {
        if let Some(b) = site.posts_to("/files/received").into_iter().next() {
            break b;
        }
        if tokio::time::Instant::now() > deadline {
            let s = client.state().await;
            panic!(
                "the multipart post with the file did not arrive; page title {}, uploads {}, site saw {:?}",
                s["title"],
                s["files"]["uploads"],
                site.requests().iter().map(|r| format!("{} {}", r.method, r.uri)).collect::<Vec<_>>()
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let part = file_part(&body, "notes.txt").expect("a file part named notes.txt");
    assert!(
        part == text,
        "the file changed on the way: {} bytes arrived, {} sent",
        part.len(),
        text.len()
    );
    assert!(body.contains(FORM_NOTE), "the text field is missing");
    let s = client.state().await;
    assert_eq!(s["files"]["uploads"][0]["allowed"], true, "{s}");
    assert_eq!(
        site.posts_to("/files/received").len(),
        1,
        "sent more than once"
    );
    client.close().await;
}

pub(crate) fn notice_with(s: &Value, code: &str) -> bool {
    s["notices"]
        .as_array()
        .is_some_and(|n| n.iter().any(|n| n["code"] == code))
}

/// Regular files left under the server's per-session file directories.
pub(crate) fn files_left(iso: &Isolator) -> Vec<std::path::PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    walk(&iso.state.config.data_dir.join("files"), &mut out);
    out
}

/// Opens the page's file chooser by clicking its file input, then picks `file` in the client.
pub(crate) async fn choose(client: &Client, file: &Path) {
    client
        .wait_state("upload page", T, |s| s["title"] == "Upload")
        .await;
    // One retry: in about one full-suite run in three the first choice
    // produced no upload (cause not yet found; the page's chooser or the
    // client's picker was not ready). A user who sees no progress picks again.
    for attempt in 0..2 {
        client.click_viewer(300.0, 150.0).await;
        client
            .wait_state("the client's file picker", T, |s| {
                s["files"]["chooser"].is_number()
            })
            .await;
        client.set_input_files("#file-input", &[file]).await;
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
        while tokio::time::Instant::now() < deadline {
            let s = client.state().await;
            if s["files"]["uploads"]
                .as_array()
                .is_some_and(|u| !u.is_empty())
            {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        eprintln!("no upload after choosing a file (attempt {attempt}); choosing again");
        let _: bool = client
            .eval("(() => { const d = document.querySelector('dialog[open]'); if (d) d.close(); return true; })()")
            .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clean_upload_reaches_the_site_by_form_submit() {
    upload_arrives_intact("submit", "allow").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clean_upload_reaches_the_site_by_fetch() {
    upload_arrives_intact("fetch", "allow").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_submit_scanning_an_upload_by_form_submit_arrives_intact() {
    upload_arrives_intact("submit", "scan").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_submit_scanning_an_upload_by_fetch_arrives_intact() {
    upload_arrives_intact("fetch", "scan").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_multipart_form_with_a_card_in_a_text_field_is_blocked() {
    let (site, _iso, client, dir) = setup_with(
        &policy_with_submit("scan", "allow", "allow", "scan"),
        "/files/upload/submit-card",
    )
    .await;
    let (file, _) = notes_file(dir.path());
    choose(&client, &file).await;
    let s = client
        .wait_state("the form post blocked", T, |s| {
            notice_with(s, "submit_blocked")
        })
        .await;
    // The file itself was clean: the upload gate let it through.
    assert_eq!(s["files"]["uploads"][0]["allowed"], true, "{s}");
    client
        .wait_state("the block page", T, |s| s["title"] == "Blocked by policy")
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        site.posts_to("/files/received").is_empty(),
        "the blocked form reached the site"
    );
    assert!(
        site.requests()
            .iter()
            .all(|r| !r.body.contains("4111 1111")),
        "the card number reached the site"
    );
    client.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_with_a_card_number_is_blocked_and_deleted() {
    let (site, iso, client, dir) =
        setup_with(&policy("scan", "allow", "allow"), "/files/upload/submit").await;
    let file = dir.path().join("customers.txt");
    std::fs::write(&file, "customer card 4111 1111 1111 1111 exp 12/29\n").unwrap();
    choose(&client, &file).await;
    let s = client
        .wait_state("the upload verdict", T, |s| {
            s["files"]["uploads"][0]["allowed"] == false && notice_with(s, "upload_blocked")
        })
        .await;
    let msg = s["files"]["uploads"][0]["message"].as_str().unwrap_or("");
    assert!(msg.contains("Card numbers"), "{msg}");
    assert!(
        !msg.contains("4111"),
        "the notice must not carry the data: {msg}"
    );
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(site.posts_to("/files/received").is_empty());
    assert!(
        site.requests()
            .iter()
            .all(|r| !r.body.contains("4111 1111")),
        "the card number reached the site"
    );
    assert_eq!(files_left(&iso), Vec::<std::path::PathBuf>::new());
    client.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allowed_download_is_offered_with_the_original_bytes() {
    let (_site, _iso, client, _dir) = setup_with(
        &policy("allow", "scan", "allow"),
        "/files/download/report.txt",
    )
    .await;
    client
        .wait_state("download page", T, |s| s["title"] == "Download")
        .await;
    client.click_viewer(300.0, 100.0).await;
    let s = client
        .wait_state("a download offered", T, |s| {
            s["files"]["downloads"][0]["id"].is_number()
        })
        .await;
    let d = &s["files"]["downloads"][0];
    assert_eq!(d["name"], "report.txt");
    assert_eq!(d["size"], DOWNLOAD_BYTES.len());
    let sid = s["sessionId"].as_str().unwrap().to_owned();
    let (status, body) = client
        .session_get(&format!("/api/sessions/{sid}/downloads/{}", d["id"]))
        .await;
    assert_eq!(status, 200);
    assert_eq!(body, DOWNLOAD_BYTES);
    // The user's way to it: a Save button in the downloads list.
    let shown: bool = client
        .eval("!!document.querySelector('#downloads:not([hidden]) [data-action=download-save]')")
        .await;
    assert!(shown);
    // Without the token: refused.
    let (status, _) = client
        .eval::<Value>(&format!(
            "fetch('/api/sessions/{sid}/downloads/{}').then(r => r.status)",
            d["id"]
        ))
        .await
        .as_u64()
        .map(|s| (s, ()))
        .unwrap();
    assert_eq!(status, 404);
    client.close().await;
}

/// Under a `download` setting of `mode`, clicking the download link of
/// `page` is refused with a notice, the client offers nothing and no file
/// is left on the server.
async fn download_refused(mode: &str, page: &str) {
    let (_site, iso, client, _dir) = setup_with(&policy("allow", mode, "allow"), page).await;
    assert_download_refused(&iso, &client).await;
    client.close().await;
}

/// On the test site's download page: the download is refused with a
/// notice, nothing is offered and no file is left on the server.
pub(crate) async fn assert_download_refused(iso: &Isolator, client: &Client) {
    client
        .wait_state("download page", T, |s| s["title"] == "Download")
        .await;
    client.click_viewer(300.0, 100.0).await;
    client
        .wait_state("the download blocked", T, |s| {
            notice_with(s, "download_blocked")
        })
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let s = client.state().await;
    assert_eq!(s["files"]["downloads"], serde_json::json!([]), "{s}");
    assert_eq!(files_left(iso), Vec::<std::path::PathBuf>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn download_with_a_card_number_is_blocked_and_deleted() {
    download_refused("scan", "/files/download/leak.txt").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn download_block_cancels_at_once() {
    download_refused("block", "/files/download/report.txt").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allowed_print_becomes_a_pdf_download() {
    let (_site, _iso, client, dir) =
        setup_with(&policy("allow", "allow", "allow"), "/files/print").await;
    client
        .wait_state("print page", T, |s| s["title"] == "Print me")
        .await;
    // The page's own button calls window.print().
    client.click_viewer(300.0, 300.0).await;
    let s = client
        .wait_state("a PDF offered", T, |s| {
            s["files"]["downloads"][0]["id"].is_number()
        })
        .await;
    let d = &s["files"]["downloads"][0];
    assert_eq!(d["name"], "Print me.pdf");
    let sid = s["sessionId"].as_str().unwrap().to_owned();
    let (status, pdf) = client
        .session_get(&format!("/api/sessions/{sid}/downloads/{}", d["id"]))
        .await;
    assert_eq!(status, 200);
    assert!(pdf.starts_with(b"%PDF"), "not a PDF");
    let path = dir.path().join("out.pdf");
    std::fs::write(&path, &pdf).unwrap();
    let text = std::process::Command::new("pdftotext")
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext runs");
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains(PRINT_TEXT), "PDF text: {text}");
    // The toolbar's Print button prints too.
    client.click_ui("#btn-print").await;
    client
        .wait_state("a second PDF", T, |s| {
            s["files"]["downloads"][1]["id"].is_number()
        })
        .await;
    client.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocked_print_gives_a_notice_and_no_pdf() {
    let (_site, _iso, client, _dir) =
        setup_with(&policy("allow", "allow", "block"), "/files/print").await;
    client
        .wait_state("print page", T, |s| s["title"] == "Print me")
        .await;
    client.click_viewer(300.0, 300.0).await;
    client
        .wait_state("print blocked", T, |s| notice_with(s, "print_blocked"))
        .await;
    // Ctrl+P is the print gate's too.
    client.press("p", 2).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    let s = client.state().await;
    let blocked = s["notices"]
        .as_array()
        .map(|n| n.iter().filter(|n| n["code"] == "print_blocked").count())
        .unwrap_or(0);
    assert!(
        blocked >= 2,
        "Ctrl+P was not decided by the print gate: {s}"
    );
    assert_eq!(s["files"]["downloads"], serde_json::json!([]), "{s}");
    client.close().await;
}
