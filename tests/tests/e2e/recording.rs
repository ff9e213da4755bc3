//! Session recording end to end: a real session (client browser + isolated
//! browser) is recorded, the recording verifies and holds what happened
//! (navigations, input lengths without the typed text, a paste decision),
//! the admin API finds it and its incident, and the replay page plays it in
//! a real browser. Then the server is SIGKILLed mid-session: the partial
//! recording verifies and replays.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use isolator::audit::{Event, InputKind, Reader, Status};
use isolator_e2e::{eventually, Client, Isolator, TestSite};
use serde_json::Value;

use super::start_url;

const T: Duration = Duration::from_secs(30);

async fn get_json(iso_url: &str) -> Value {
    let res = reqwest::get(iso_url).await.unwrap();
    let status = res.status();
    let body: Value = res.json().await.unwrap();
    assert!(status.is_success(), "{iso_url}: {status} {body}");
    body
}

fn title_is(t: &'static str) -> impl Fn(&Value) -> bool {
    move |s| s["title"] == t
}

/// Every byte of every file under `dir`.
fn all_bytes(dir: &Path) -> Vec<u8> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(all_bytes(&p));
        } else {
            out.extend(std::fs::read(&p).unwrap());
        }
    }
    out
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// Pastes `text` into the client the way a user's paste reaches it (a
/// `paste` event with clipboard data on the keyboard sink).
async fn paste(client: &Client, text: &str) {
    let js = format!(
        "(() => {{ const dt = new DataTransfer(); dt.setData('text/plain', {t}); \
         document.getElementById('keyboard').dispatchEvent(new ClipboardEvent('paste', \
         {{ clipboardData: dt, bubbles: true, cancelable: true }})); return true; }})()",
        t = serde_json::to_string(text).unwrap()
    );
    assert!(client.eval::<bool>(&js).await);
}

/// Opens the player for `path` and waits until it has loaded a recording.
async fn open_player(url: &str) -> Client {
    let player = Client::open(url).await;
    eventually(T, "the player loads the recording", || async {
        let s: Value = player
            .try_eval("window.__replay ? JSON.parse(JSON.stringify({loaded: __replay.loaded, error: __replay.error})) : null")
            .await?;
        assert!(s["error"].is_null(), "player error: {s}");
        (s["loaded"] == true).then_some(())
    })
    .await;
    player
}

/// The player's state once the frame it shows has been decoded.
async fn drawn_state(player: &Client) -> Value {
    eventually(T, "the player draws a frame", || async {
        let s = replay_state(player).await;
        (s["imgWidth"].as_u64().unwrap_or(0) > 0).then_some(s)
    })
    .await
}

async fn replay_state(player: &Client) -> Value {
    player
        .eval(
            "(() => { const s = window.__replay; const img = document.getElementById('screen'); \
             return { t: s.t, frameT: s.frameT, framesShown: s.framesShown, playing: s.playing, \
             speed: s.speed, url: s.url, duration: s.duration, lastSeekMs: s.lastSeekMs, \
             imgWidth: img.naturalWidth, imgHeight: img.naturalHeight }; })()",
        )
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_is_recorded_verified_searched_and_replayed() {
    let site = TestSite::start().await;
    let pdir = tempfile::tempdir().unwrap();
    let policy = pdir.path().join("policy.toml");
    std::fs::write(&policy, "[defaults]\npaste = \"block\"\n").unwrap();
    let iso = Isolator::for_site_with(&site, |c| c.policies.file = Some(policy.clone())).await;
    let client = Client::open(&start_url(&iso, &site.url("/"))).await;
    client.wait_connected().await;
    client.wait_state("home", T, title_is("Test Home")).await;

    // Type into the form (the text must never reach the recording), paste
    // (blocked by the policy), then follow a link.
    client.click_viewer(200.0, 320.0).await;
    let typed = "hunter2secret";
    client.type_text(typed).await;
    let pasted = "pasted-value-77";
    paste(&client, pasted).await;
    client
        .wait_state("the paste notice", T, |s| {
            s.to_string().contains("paste_blocked")
        })
        .await;
    let nav = site.url("/page2");
    // Navigate through the remote page itself: the home page links to /page2.
    client.click_viewer(100.0, 170.0).await;
    let on_page2 = client.wait_state("page two", T, title_is("Page Two")).await;
    assert_eq!(on_page2["url"], nav);
    tokio::time::sleep(Duration::from_millis(600)).await;
    client.click_ui("[data-action=menu]").await;
    client.click_ui("[data-action=end]").await;

    // The session ends; the index says so and the recording is intact.
    let sessions = eventually(T, "the session's end in the index", || async {
        let v = get_json(&iso.url("/api/v1/audit/sessions")).await;
        let list = v["sessions"].as_array().cloned().unwrap_or_default();
        (list.len() == 1 && !list[0]["end_ms"].is_null()).then_some(list)
    })
    .await;
    let id = sessions[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(sessions[0]["user"], "anonymous");
    assert!(sessions[0]["client_addr"]
        .as_str()
        .unwrap()
        .starts_with("127.0.0.1:"));
    assert_eq!(sessions[0]["replay"], format!("/admin/sessions/{id}?t=0"));
    assert_eq!(sessions[0]["end_reason"], "closed");
    client.close().await;

    let detail = get_json(&iso.url(&format!("/api/v1/audit/sessions/{id}"))).await;
    assert_eq!(detail["verify"]["status"], "intact", "{}", detail["verify"]);
    let dir = iso.state.audit.store().unwrap().session_dir(&id).unwrap();
    let report = isolator::audit::verify_dir(&dir, None).unwrap();
    assert_eq!(report.status, Status::Intact);

    // What happened is there: both pages, the keys typed (as characters, not
    // which), the paste length and its block, the end.
    let reader = Reader::open(&dir).unwrap();
    let events: Vec<_> = reader.timeline().map(|r| r.unwrap()).collect();
    let navs: Vec<String> = events
        .iter()
        .filter_map(|r| match &r.event {
            Event::Navigation { url, .. } => Some(url.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(navs, vec![site.url("/"), nav.clone()], "navigations");
    let chars = events
        .iter()
        .filter(|r| matches!(&r.event, Event::Input(i) if i.kind == InputKind::Key && i.key.as_deref() == Some("<char>")))
        .count();
    assert_eq!(chars, typed.len(), "one redacted key per typed character");
    let paste_input = events
        .iter()
        .find_map(|r| match &r.event {
            Event::Input(i) if i.kind == InputKind::Paste => Some(i.clone()),
            _ => None,
        })
        .expect("the paste is recorded");
    assert_eq!(paste_input.text_len, Some(pasted.len()));
    assert_eq!(paste_input.text, None);
    let decision = events
        .iter()
        .find_map(|r| match &r.event {
            Event::Decision(d) => Some((r.mono_ms, d.clone())),
            _ => None,
        })
        .expect("the paste decision is recorded");
    assert_eq!(decision.1.gate, "paste");
    assert_eq!(decision.1.decision.as_str(), "block");
    assert!(
        matches!(events.last().unwrap().event, Event::SessionEnd { ref reason } if reason == "closed")
    );
    let raw = all_bytes(&dir);
    assert!(
        !contains(&raw, typed.as_bytes()),
        "typed text reached the recording"
    );
    assert!(
        !contains(&raw, pasted.as_bytes()),
        "pasted text reached the recording"
    );
    let frames = reader
        .records()
        .filter(|r| matches!(r.as_ref().unwrap().event, Event::Frame(_)))
        .count();
    assert!(frames >= 2, "frames recorded: {frames}");

    // The incident is searchable and links to its moment.
    let inc = get_json(&iso.url("/api/v1/audit/incidents?gate=paste&decision=block")).await;
    let list = inc["incidents"].as_array().unwrap();
    assert_eq!(list.len(), 1, "{inc}");
    assert_eq!(list[0]["session"], id.as_str());
    assert_eq!(
        list[0]["replay"],
        format!("/admin/sessions/{id}?t={}", decision.0)
    );
    let none = get_json(&iso.url("/api/v1/audit/incidents?gate=upload")).await;
    assert_eq!(none["incidents"].as_array().unwrap().len(), 0);

    // The player, in a real browser, opened at the incident.
    let player = open_player(&iso.url(&format!("/admin/sessions/{id}?t={}", decision.0))).await;
    let s = drawn_state(&player).await;
    assert_eq!(s["t"].as_u64().unwrap(), decision.0);
    assert!(s["framesShown"].as_u64().unwrap() >= 1, "{s}");
    assert!(
        s["imgWidth"].as_u64().unwrap() > 0,
        "the frame is drawn: {s}"
    );
    assert!(
        s["frameT"].as_u64().unwrap() <= decision.0,
        "frame from the future: {s}"
    );
    assert_eq!(s["url"], site.url("/"), "URL bar at the paste");
    // Play at 8x to the end: time advances, frames keep up, the URL bar follows.
    assert!(
        player
            .eval::<bool>("(() => { for (let i = 0; i < 3; i++) document.getElementById('faster').click(); return true; })()")
            .await
    );
    player.press(" ", 0).await;
    let end = eventually(T, "playback reaches the end", || async {
        let s = replay_state(&player).await;
        (s["playing"] == false && s["t"].as_f64()? >= s["duration"].as_f64()?).then_some(s)
    })
    .await;
    assert_eq!(end["speed"], 8.0);
    assert_eq!(end["url"], nav, "URL bar at the end");
    assert!(end["framesShown"].as_u64().unwrap() > s["framesShown"].as_u64().unwrap());
    let last_frame = end["frameT"].as_u64().unwrap();
    assert!(last_frame <= end["t"].as_f64().unwrap() as u64);
    // Seeking back to the start shows the first frame again.
    player.press("p", 0).await;
    // The time jumps at once; the frame of that moment follows when loaded.
    let back = eventually(
        T,
        "jump to the previous incident, with its frame",
        || async {
            let s = replay_state(&player).await;
            (s["t"].as_u64() == Some(decision.0) && s["frameT"].as_u64()? <= decision.0)
                .then_some(s)
        },
    )
    .await;
    assert!(back["framesShown"].as_u64().unwrap() > 0);
    player.close().await;

    // Each view was logged, in a chain that verifies.
    let access = get_json(&iso.url("/api/v1/audit/access")).await;
    let whats: Vec<&str> = access["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["session"] == id.as_str())
        .map(|e| e["what"].as_str().unwrap())
        .collect();
    assert!(
        whats.contains(&"view") && whats.contains(&"replay"),
        "{whats:?}"
    );

    // Export through the API: a bundle that verifies.
    let bytes = reqwest::get(iso.url(&format!("/api/v1/audit/sessions/{id}/export")))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let out = pdir.path().join("bundle.tar");
    std::fs::write(&out, &bytes).unwrap();
    let report = isolator::audit::verify(&out).unwrap();
    assert_eq!(report.status, Status::Intact);
}

/// The `isolator` binary, built if this test binary was built alone.
fn isolator_bin() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let bin = exe.parent().unwrap().parent().unwrap().join("isolator");
    if !bin.exists() {
        let status = Command::new(env!("CARGO"))
            .args(["build", "-p", "isolator", "--bin", "isolator"])
            .status()
            .unwrap();
        assert!(status.success(), "building the isolator binary");
    }
    bin
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_mid_session_leaves_a_recording_that_verifies_and_replays() {
    let site = TestSite::start().await;
    let dir = tempfile::tempdir().unwrap();
    let recordings = dir.path().join("recordings");
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let config = dir.path().join("isolator.toml");
    let run_as = isolator::config::Config::default().chromium.run_as;
    std::fs::write(
        &config,
        format!(
            "listen = \"127.0.0.1:{port}\"\nweb_root = {web:?}\ndata_dir = {data:?}\n\n\
             [chromium]\nrun_as = {run_as:?}\n\n\
             [egress]\nallow = [\"127.0.0.1:{site_port}\"]\n\n\
             [audit]\ndir = {rec:?}\nsync_interval_ms = 100\n",
            web = isolator_e2e::isolator_server::web_root(),
            data = dir.path().join("data"),
            rec = recordings,
            site_port = site.addr.port(),
        ),
    )
    .unwrap();
    let mut server = Server(
        Command::new(isolator_bin())
            .args(["serve", "--config"])
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.path().join("server.log")).unwrap())
            .spawn()
            .unwrap(),
    );
    let base = format!("http://127.0.0.1:{port}");
    eventually(T, "the server listens (see server.log)", || async {
        reqwest::get(format!("{base}/healthz"))
            .await
            .ok()
            .map(|_| ())
    })
    .await;
    let enc: String = site.url("/").bytes().map(|b| format!("%{b:02X}")).collect();
    let client = Client::open(&format!("{base}/?url={enc}")).await;
    client.wait_connected().await;
    client.wait_state("home", T, title_is("Test Home")).await;
    client.click_viewer(200.0, 320.0).await;
    client.type_text("abc").await;
    tokio::time::sleep(Duration::from_millis(1500)).await;

    // SIGKILL, mid-session: nothing gets to seal anything.
    server.0.kill().unwrap();
    server.0.wait().unwrap();
    drop(client);

    let session = eventually(T, "the session directory", || async {
        let day = std::fs::read_dir(&recordings)
            .ok()?
            .filter_map(|e| e.ok())
            .find(|e| e.path().is_dir())?
            .path();
        std::fs::read_dir(day)
            .ok()?
            .filter_map(|e| e.ok())
            .next()
            .map(|e| e.path())
    })
    .await;
    let report = isolator::audit::verify_dir(&session, None).unwrap();
    assert!(
        matches!(report.status, Status::Unfinished | Status::TruncatedTail),
        "a killed recording is unfinished, not tampered: {report:?}"
    );
    assert!(!report.ended);
    let reader = Reader::open(&session).unwrap();
    let events: Vec<_> = reader.records().map(|r| r.unwrap()).collect();
    assert!(events
        .iter()
        .any(|r| matches!(&r.event, Event::Navigation { url, .. } if *url == site.url("/"))));
    assert!(events.iter().any(|r| matches!(r.event, Event::Frame(_))));
    let keys = events
        .iter()
        .filter(|r| matches!(&r.event, Event::Input(i) if i.kind == InputKind::Key))
        .count();
    assert_eq!(keys, 3, "the keys typed before the kill");

    // A new server on the same recordings replays it.
    let iso = Isolator::start_with(|c| c.audit.dir = recordings.clone()).await;
    let id = session.file_name().unwrap().to_str().unwrap().to_owned();
    let detail = get_json(&iso.url(&format!("/api/v1/audit/sessions/{id}"))).await;
    assert_ne!(detail["verify"]["status"], "tampered");
    assert!(detail["session"]["end_ms"].is_null());
    let player = open_player(&iso.url(&format!("/admin/sessions/{id}?t={}", report.last_ms))).await;
    let s = drawn_state(&player).await;
    assert!(s["imgWidth"].as_u64().unwrap() > 0, "a frame is drawn: {s}");
    assert_eq!(s["url"], site.url("/"));
    player.close().await;
}
