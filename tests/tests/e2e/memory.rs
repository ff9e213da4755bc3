//! Memory exhaustion of the server by pages and users, attacked the way the
//! security review did: a page serving a multi-GiB attachment, a user
//! pasting many large images at once, a user uploading many large files at
//! once and a body far over the upload cap.
//!
//! The isolator runs as its own process here (`isolator serve`, the binary
//! next to this test binary) so that what an attack adds to the server's
//! memory is measured alone: its VmRSS before the attack against its VmHWM
//! (peak resident set, reset through `/proc/<pid>/clear_refs` just before
//! the attack) afterwards. Other tests of this binary running at the same
//! time cannot disturb the figure, and Chromium and the extraction workers
//! are other processes anyway.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use isolator_e2e::{Client, TestSite};
use serde_json::Value;
use sha2::Digest;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::gatesfile::worker_program;

const T: Duration = Duration::from_secs(120);
const MIB: u64 = 1 << 20;
/// The download and upload cap the policy sets.
const CAP: u64 = 50 * MIB;
/// What an attack may add to the server's resident memory.
const MAX_GROWTH_MB: u64 = 50;

/// An `isolator serve` process with its own data directory.
struct Server {
    child: Child,
    addr: SocketAddr,
    dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Starts the server allowing the browser to reach `site`, under `policy`.
    async fn start(site: &TestSite, policy: &str) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join("policy.toml"), policy).unwrap();
        // The server's own temporary directory, so that what it leaves is
        // told apart from what tests running beside it write to /tmp.
        // Chromium (its own user) must reach its profile inside it.
        let tmp = d.join("tmp");
        std::fs::create_dir(&tmp).unwrap();
        for p in [d, tmp.as_path()] {
            std::fs::set_permissions(p, std::os::unix::fs::PermissionsExt::from_mode(0o711))
                .unwrap();
        }
        // A free port, picked by the kernel and handed over.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let config = format!(
            "listen = \"{addr}\"\nweb_root = {web}\ndata_dir = {data}\n\
             [egress]\nallow = [\"127.0.0.1:{site_port}\"]\n\
             [policies]\nfile = {policy}\n\
             [enforce]\nworker_program = {worker}\n\
             [audit]\ndir = {rec}\n",
            web = toml_path(&isolator_e2e::isolator_server::web_root()),
            data = toml_path(&d.join("data")),
            site_port = site.addr.port(),
            policy = toml_path(&d.join("policy.toml")),
            worker = toml_path(&worker_program()),
            rec = toml_path(&d.join("recordings")),
        );
        std::fs::write(d.join("isolator.toml"), config).unwrap();
        let child = Command::new(worker_program())
            .arg("serve")
            .arg("--config")
            .arg(d.join("isolator.toml"))
            .env("RUST_LOG", "warn")
            .env("TMPDIR", &tmp)
            .stdin(Stdio::null())
            .spawn()
            .expect("isolator serve starts");
        let server = Server { child, addr, dir };
        let url = server.url("/");
        isolator_e2e::eventually(Duration::from_secs(30), "the server to listen", || {
            let url = url.clone();
            async move { reqwest::get(&url).await.ok().map(drop) }
        })
        .await;
        server
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// A client browser with a session at `target`.
    async fn client(&self, target: &str) -> Client {
        let url = self.url(&format!("/?url={}", crate::url_encode(target)));
        let client = Client::open(&url).await;
        client.wait_connected().await;
        client
    }
}

fn toml_path(p: &Path) -> String {
    serde_json::to_string(&p.display().to_string()).unwrap()
}

/// A `kB` field of `/proc/<pid>/status`, in MB.
fn status_mb(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status
        .lines()
        .find(|l| l.starts_with(field))
        .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"));
    let kb: u64 = line
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap();
    kb / 1024
}

/// The server's resident memory before an attack; [`Meter::growth`] is
/// what the attack added at its peak.
struct Meter {
    pid: u32,
    before: u64,
}

impl Meter {
    fn start(pid: u32) -> Meter {
        // Resets VmHWM to the current resident set.
        std::fs::write(format!("/proc/{pid}/clear_refs"), "5").unwrap();
        Meter {
            pid,
            before: status_mb(pid, "VmRSS:"),
        }
    }

    /// Peak MB added since `start`, printed with `what` for the record.
    fn growth(&self, what: &str) -> u64 {
        let peak = status_mb(self.pid, "VmHWM:");
        let growth = peak.saturating_sub(self.before);
        eprintln!(
            "memory under attack ({what}): server RSS {} MB before, peak {peak} MB, growth {growth} MB",
            self.before
        );
        growth
    }
}

/// The session's id and token, from the client's storage.
async fn credentials(client: &Client) -> (String, String) {
    let s: String = client
        .eval("sessionStorage.getItem('isolator.session.v1')")
        .await;
    let v: Value = serde_json::from_str(&s).unwrap();
    (
        v["id"].as_str().unwrap().to_owned(),
        v["token"].as_str().unwrap().to_owned(),
    )
}

/// Regular files of at least 1 MB under `dir` (depth-limited) changed since `since`.
fn big_files(dir: &Path, since: SystemTime, depth: u32, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let Ok(meta) = std::fs::symlink_metadata(e.path()) else {
            continue;
        };
        if meta.is_dir() && depth > 0 {
            big_files(&e.path(), since, depth - 1, out);
        } else if meta.is_file() && meta.len() >= MIB && meta.modified().is_ok_and(|m| m >= since) {
            out.push(e.path());
        }
    }
}

fn notice_with(s: &Value, code: &str) -> bool {
    s["notices"]
        .as_array()
        .is_some_and(|n| n.iter().any(|n| n["code"] == code))
}

const DOWNLOAD_POLICY: &str = "[[rules]]\nname = \"files\"\nprofiles = [\"financial\"]\n\
     download = \"scan\"\nmax_download_bytes = 52428800\n";

/// A page offers a 2 GiB attachment (`length`: announced in
/// `Content-Length`, or only learnt as it arrives): the download is
/// cancelled once over the 50 MB cap, the user is told, the server's memory
/// stays flat and no part of the file is left on disk.
async fn huge_download_is_cancelled(length: bool) {
    let started = SystemTime::now();
    let site = TestSite::start().await;
    let server = Server::start(&site, DOWNLOAD_POLICY).await;
    let client = server
        .client(&site.url(&format!("/memory/download/2048?length={length}")))
        .await;
    client
        .wait_state("the download page", T, |s| s["title"] == "Huge download")
        .await;
    let meter = Meter::start(server.pid());
    client.click_viewer(300.0, 100.0).await;
    let s = client
        .wait_state("the download refused", T, |s| {
            notice_with(s, "download_blocked")
        })
        .await;
    let told = s["notices"]
        .as_array()
        .and_then(|n| n.iter().find(|n| n["code"] == "download_blocked"))
        .map(|n| n["message"].to_string())
        .unwrap_or_default();
    assert!(told.contains("larger than the 50.0 MB"), "{told}");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let growth = meter.growth(&format!("2 GiB download, content-length {length}"));
    let s2 = client.state().await;
    assert_eq!(s2["files"]["downloads"], serde_json::json!([]), "{s}");
    let mut left = Vec::new();
    big_files(server.dir.path(), started, 8, &mut left);
    assert_eq!(
        left,
        Vec::<PathBuf>::new(),
        "parts of the download are left"
    );
    assert!(
        growth < MAX_GROWTH_MB,
        "a 2 GiB download added {growth} MB to the server's memory"
    );
    client.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_huge_download_of_unknown_size_is_cancelled_at_the_cap() {
    huge_download_is_cancelled(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_huge_download_announced_as_such_is_cancelled_at_once() {
    huge_download_is_cancelled(true).await;
}

/// `n` identical POSTs of `body` to `path` with the session's credentials,
/// all at once: each status and JSON answer.
async fn post_parallel(
    server: &Server,
    token: &str,
    path: &str,
    body: axum::body::Bytes,
    n: usize,
) -> Vec<(u16, Value)> {
    let http = reqwest::Client::new();
    let posts = (0..n).map(|_| {
        let req = http
            .post(server.url(path))
            .header("X-Isolator-Token", token)
            .header("X-Isolator-Request", "1")
            .header("Content-Type", "application/octet-stream")
            .body(body.clone());
        async move {
            match req.send().await {
                Ok(r) => {
                    let status = r.status().as_u16();
                    let v = r.json::<Value>().await.unwrap_or(Value::Null);
                    (status, v)
                }
                Err(e) => (0, Value::String(e.to_string())),
            }
        }
    });
    futures::future::join_all(posts).await
}

/// 20 MiB that start like a PNG (the rest is noise no decoder accepts).
fn fake_png(size: usize) -> axum::body::Bytes {
    let mut b = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    let mut seed = 0x9e37_79b9_u32;
    b.resize_with(size, || {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        seed as u8
    });
    b.into()
}

/// Counts answers: (200s, 429s naming the bound, others).
fn tally(answers: &[(u16, Value)]) -> (usize, usize, Vec<String>) {
    let ok = answers.iter().filter(|(s, _)| *s == 200).count();
    let busy = answers
        .iter()
        .filter(|(s, v)| {
            *s == 429
                && v["error"]
                    .as_str()
                    .is_some_and(|m| m.contains("file transfers"))
        })
        .count();
    let other = answers
        .iter()
        .filter(|(s, _)| *s != 200 && *s != 429)
        .map(|(s, v)| format!("{s} {v}"))
        .collect();
    (ok, busy, other)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forty_parallel_image_pastes_are_bounded() {
    let site = TestSite::start().await;
    let policy = "[[rules]]\nname = \"dlp\"\nprofiles = [\"financial\"]\npaste = \"scan\"\n";
    let server = Server::start(&site, policy).await;
    let client = server.client(&site.url("/imagepaste/app")).await;
    let (id, token) = credentials(&client).await;
    let body = fake_png(20 << 20);
    let meter = Meter::start(server.pid());
    let answers = post_parallel(
        &server,
        &token,
        &format!("/api/sessions/{id}/paste-image?name=shot.png"),
        body,
        40,
    )
    .await;
    let growth = meter.growth("40 parallel 20 MiB image pastes");
    let (ok, busy, other) = tally(&answers);
    eprintln!("image pastes: {ok} answered, {busy} refused as busy, others {other:?}");
    assert!(other.is_empty(), "unexpected answers: {other:?}");
    assert!(
        busy >= 20,
        "most of 40 simultaneous pastes must be refused as busy: {answers:?}"
    );
    for (s, v) in &answers {
        if *s == 200 {
            // Noise after a PNG signature is no image anyone can read.
            assert_eq!(v["allowed"], false, "{v}");
        }
    }
    assert!(
        growth < MAX_GROWTH_MB,
        "40 image pastes added {growth} MB to the server's memory"
    );
    client.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_allowed_20_mib_image_reaches_the_page_whole_in_chunks() {
    let site = TestSite::start().await;
    let policy = "[[rules]]\nname = \"open\"\npaste = \"allow\"\n";
    let server = Server::start(&site, policy).await;
    let client = server.client(&site.url("/imagepaste/app")).await;
    client
        .wait_state("the paste page", T, |s| s["title"] == "Image App")
        .await;
    let (id, token) = credentials(&client).await;
    let body = fake_png(20 << 20);
    let want = format!("{:x}", sha2::Sha256::digest(&body));
    let meter = Meter::start(server.pid());
    let answers = post_parallel(
        &server,
        &token,
        &format!("/api/sessions/{id}/paste-image?name=shot.png"),
        body,
        1,
    )
    .await;
    assert_eq!(answers[0].0, 200, "{answers:?}");
    assert_eq!(answers[0].1["allowed"], true, "{answers:?}");
    let got = isolator_e2e::eventually(T, "the page's report of the image", || async {
        site.posts_to("/imagepaste/received").into_iter().next()
    })
    .await;
    let growth = meter.growth("one allowed 20 MiB image paste delivered");
    let got: Value = serde_json::from_str(&got).unwrap();
    assert_eq!(got["size"].as_u64(), Some(20 << 20), "{got}");
    assert_eq!(got["sha256"].as_str(), Some(want.as_str()), "{got}");
    assert_eq!(got["type"], "image/png");
    assert!(
        growth < MAX_GROWTH_MB,
        "delivering a 20 MiB image added {growth} MB to the server's memory"
    );
    client.close().await;
}

const UPLOAD_POLICY: &str = "[[rules]]\nname = \"files\"\nprofiles = [\"financial\"]\n\
     upload = \"scan\"\nmax_upload_bytes = 52428800\n";

/// The open file chooser of the client's session (the page's file input clicked).
async fn open_chooser(client: &Client) -> u64 {
    client
        .wait_state("the upload page", T, |s| s["title"] == "Upload")
        .await;
    client.click_viewer(300.0, 100.0).await;
    let s = client
        .wait_state("the page's file chooser", T, |s| {
            s["files"]["chooser"].is_number()
        })
        .await;
    s["files"]["chooser"].as_u64().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixteen_parallel_large_uploads_are_bounded() {
    let site = TestSite::start().await;
    let server = Server::start(&site, UPLOAD_POLICY).await;
    let client = server.client(&site.url("/memory/upload")).await;
    let chooser = open_chooser(&client).await;
    let (id, token) = credentials(&client).await;
    let body: axum::body::Bytes = vec![0u8; 45_000_000].into();
    let meter = Meter::start(server.pid());
    let answers = post_parallel(
        &server,
        &token,
        &format!("/api/sessions/{id}/uploads?chooser={chooser}&name=data.bin"),
        body,
        16,
    )
    .await;
    let growth = meter.growth("16 parallel 45 MB uploads");
    let (ok, busy, other) = tally(&answers);
    eprintln!("uploads: {ok} answered, {busy} refused as busy, others {other:?}");
    assert!(other.is_empty(), "unexpected answers: {other:?}");
    assert!(ok >= 1, "no upload was received: {answers:?}");
    assert!(
        busy >= 1,
        "16 simultaneous uploads must not all run: {answers:?}"
    );
    assert!(
        growth < MAX_GROWTH_MB,
        "16 uploads added {growth} MB to the server's memory"
    );
    client.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_body_over_the_cap_is_cut_off_when_it_passes_it() {
    let site = TestSite::start().await;
    let server = Server::start(&site, UPLOAD_POLICY).await;
    let client = server.client(&site.url("/memory/upload")).await;
    let chooser = open_chooser(&client).await;
    let (id, token) = credentials(&client).await;
    let meter = Meter::start(server.pid());
    // 500 MB, chunked: no Content-Length for the server to refuse up front.
    let total = 500 * MIB;
    let (sent, status) = chunked_upload(
        server.addr,
        &format!("/api/sessions/{id}/uploads?chooser={chooser}&name=big.bin"),
        &token,
        total,
    )
    .await;
    let growth = meter.growth("a 500 MB upload body against a 50 MB cap");
    eprintln!(
        "oversized upload: {} MB of {} MB sent before the server answered {status:?}",
        sent / MIB,
        total / MIB
    );
    assert!(
        sent < CAP + 50 * MIB,
        "{sent} bytes went in before the server stopped reading (cap {CAP})"
    );
    if let Some(status) = status {
        assert_eq!(status, 413);
    }
    assert!(growth < MAX_GROWTH_MB, "added {growth} MB");
    client.close().await;
}

/// POSTs `total` bytes chunked over a raw connection, stopping when the
/// server answers or stops reading: bytes sent, and the status if one came.
async fn chunked_upload(
    addr: SocketAddr,
    path: &str,
    token: &str,
    total: u64,
) -> (u64, Option<u16>) {
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut rd, mut wr) = stream.into_split();
    let answered = Arc::new(AtomicBool::new(false));
    let flag = answered.clone();
    let reader = tokio::spawn(async move {
        let mut head = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            match tokio::time::timeout(T, rd.read(&mut buf)).await {
                Ok(Ok(n)) if n > 0 => {
                    head.extend_from_slice(&buf[..n]);
                    if head.windows(4).any(|w| w == b"\r\n\r\n") {
                        break;
                    }
                }
                _ => break,
            }
        }
        flag.store(true, Ordering::SeqCst);
        let text = String::from_utf8_lossy(&head).into_owned();
        text.split_whitespace()
            .nth(1)
            .and_then(|s| s.parse::<u16>().ok())
    });
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nX-Isolator-Token: {token}\r\n\
         X-Isolator-Request: 1\r\nContent-Type: application/octet-stream\r\n\
         Transfer-Encoding: chunked\r\n\r\n"
    );
    wr.write_all(request.as_bytes()).await.unwrap();
    let chunk = vec![7u8; MIB as usize];
    let mut sent = 0u64;
    while sent < total && !answered.load(Ordering::SeqCst) {
        let mut frame = format!("{:x}\r\n", chunk.len()).into_bytes();
        frame.extend_from_slice(&chunk);
        frame.extend_from_slice(b"\r\n");
        match tokio::time::timeout(Duration::from_secs(10), wr.write_all(&frame)).await {
            Ok(Ok(())) => sent += MIB,
            _ => break,
        }
    }
    let status = reader.await.unwrap();
    (sent, status)
}
