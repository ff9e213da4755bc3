//! Another local user on the server attacks the isolator (which runs as
//! root, the test process): it prepares the temporary paths the server used
//! to predict, probes every loopback port for Chromium's DevTools, and tries
//! to read recordings, session data, staged uploads and downloads. The
//! attacker's steps run as `nobody` via `setpriv`. Also: the switches in
//! force in the isolated Chromium, over several launches.

use std::collections::HashSet;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chromiumoxide::cdp::browser_protocol::browser::GetBrowserCommandLineParams;
use isolator_e2e::procfs::{chromium_pid, process_tree};
use isolator_e2e::{Client, Isolator, TestSite};

use crate::start_url;

const T: Duration = Duration::from_secs(40);
const NOBODY: u32 = 65534;

/// Runs `script` (`sh -c`, or bash with `bash = true`) as `nobody` with
/// `args` as `$1...`.
fn as_nobody(bash: bool, script: &str, args: &[&str]) -> std::process::Output {
    std::process::Command::new("setpriv")
        .args([
            "--reuid=nobody",
            "--regid=nogroup",
            "--clear-groups",
            "--",
            if bash { "bash" } else { "sh" },
            "-c",
            script,
            "attacker",
        ])
        .args(args)
        .output()
        .expect("setpriv")
}

fn chromium_uid() -> u32 {
    isolator::os::lookup_user("isolator-chromium")
        .expect("the isolator-chromium user (isolator/scripts/install-deps.sh)")
        .0
}

fn cmdline(pid: u32) -> Vec<String> {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .unwrap_or_default()
        .split(|b| *b == 0)
        .filter(|a| !a.is_empty())
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect()
}

/// Entries of the temp directory whose names start with `prefix`.
fn temp_entries(prefix: &str) -> HashSet<PathBuf> {
    std::fs::read_dir(std::env::temp_dir())
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(prefix))
        .map(|e| e.path())
        .collect()
}

/// Every path under `dir` (not following symlinks), `dir` first.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = vec![dir.to_owned()];
    let mut i = 0;
    while i < out.len() {
        let p = out[i].clone();
        if std::fs::symlink_metadata(&p).is_ok_and(|m| m.is_dir()) {
            for e in std::fs::read_dir(&p).into_iter().flatten().flatten() {
                out.push(e.path());
            }
        }
        i += 1;
    }
    out
}

async fn session_shows(site: &TestSite, iso: &Isolator) -> Client {
    let client = Client::open(&start_url(iso, &site.url("/"))).await;
    client.wait_connected().await;
    client
        .wait_state("the page in the session", T, |s| {
            s["title"]
                .as_str()
                .is_some_and(|t| !t.is_empty() && t != "about:blank")
        })
        .await;
    client
}

/// The old launcher wrote `<tmp>/isolator-chromium-<pid>-<n>.launch.sh` and
/// ran it as root; profiles were `<tmp>/isolator-chromium-<pid>-<n>` and
/// session files `<tmp>/isolator-files-<pid>`. `nobody` prepares all of
/// them (the server's pid is this process's), with a loop that rewrites any
/// launch script the server writes so that it first touches a marker as
/// root. Nothing the attacker made may be used.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn predictable_temp_paths_prepared_by_another_user_are_never_used() {
    let tmp = std::env::temp_dir();
    let pid = std::process::id();
    // Only root can create the marker: its directory is root's, 0700.
    let private = tempfile::tempdir().unwrap();
    let marker = private.path().join("ran-as-root");
    let setup = r#"
tmp=$1; pid=$2
for n in $(seq 0 63); do
  p="$tmp/isolator-chromium-$pid-$n"
  mkdir -m 777 "$p" 2>/dev/null
  printf '#!/bin/sh\necho attacker > /dev/null\nexec "$@"\n' > "$p.launch.sh" 2>/dev/null
  chmod 777 "$p.launch.sh" 2>/dev/null
done
mkdir -m 777 "$tmp/isolator-files-$pid" 2>/dev/null
true
"#;
    let tmp_s = tmp.display().to_string();
    let out = as_nobody(false, setup, &[&tmp_s, &pid.to_string()]);
    assert!(out.status.success(), "{out:?}");
    let ours: Vec<PathBuf> = (0..64)
        .map(|n| tmp.join(format!("isolator-chromium-{pid}-{n}")))
        .collect();
    let files_dir = tmp.join(format!("isolator-files-{pid}"));
    for p in ours.iter().chain([&files_dir]) {
        if std::fs::symlink_metadata(p).is_ok_and(|m| m.uid() != NOBODY) {
            panic!(
                "{} existed before the test and is not nobody's",
                p.display()
            );
        }
    }
    // The race a real attacker runs: whenever a launch script holds the
    // server's text, prepend a command that runs as root.
    let rewrite = format!(
        r#"
end=$(( $(date +%s) + 60 ))
while [ "$(date +%s)" -lt "$end" ]; do
  for f in "$1"/isolator-chromium-"$2"-*.launch.sh; do
    if grep -q setpriv "$f" 2>/dev/null && ! grep -q ran-as-root "$f"; then
      c=$(cat "$f"); printf '%s\n' '#!/bin/sh' 'touch {marker}' "$c" > "$f"
    fi
  done
done
"#,
        marker = marker.display()
    );
    let mut racer = std::process::Command::new("setpriv")
        .args([
            "--reuid=nobody",
            "--regid=nogroup",
            "--clear-groups",
            "--",
            "sh",
            "-c",
            &rewrite,
            "attacker",
            &tmp_s,
            &pid.to_string(),
        ])
        .spawn()
        .unwrap();

    let site = TestSite::start().await;
    let iso = Isolator::for_site(&site).await;
    let client = session_shows(&site, &iso).await;
    let chromium = chromium_pid(&iso)
        .await
        .expect("the isolated Chromium runs");
    // A second session too, with its own files.
    let second = session_shows(&site, &iso).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let _ = racer.kill();
    let _ = racer.wait();

    assert!(
        !marker.exists(),
        "a script prepared by another user ran as root"
    );
    // Chromium's profile is a directory of the Chromium user, not the attacker's.
    let args = cmdline(chromium);
    let profile = args
        .iter()
        .find_map(|a| a.strip_prefix("--user-data-dir="))
        .map(PathBuf::from)
        .expect("a --user-data-dir");
    let meta = std::fs::symlink_metadata(&profile).unwrap();
    assert_eq!(meta.uid(), chromium_uid(), "{}", profile.display());
    assert_eq!(meta.mode() & 0o777, 0o700, "{}", profile.display());
    assert!(
        !ours.contains(&profile),
        "the profile is at a predictable path: {}",
        profile.display()
    );
    // Chromium runs no script of the attacker's: its process is Chromium,
    // started directly, never from a file in the temp directory.
    assert!(args[0].ends_with("chromium"), "{args:?}");
    // The attacker's directories stay as the attacker left them: empty.
    for p in ours.iter().chain([&files_dir]) {
        let inside: Vec<_> = std::fs::read_dir(p)
            .into_iter()
            .flatten()
            .flatten()
            .collect();
        assert!(inside.is_empty(), "the server used {}", p.display());
        if let Ok(m) = std::fs::symlink_metadata(p) {
            assert_eq!(m.uid(), NOBODY);
        }
        let script = p.with_extension("launch.sh");
        if let Ok(text) = std::fs::read_to_string(&script) {
            assert!(
                !text.contains("setpriv"),
                "the server wrote {}",
                script.display()
            );
        }
    }
    // Nothing the server uses for the session is the attacker's.
    for p in process_tree(chromium) {
        let Ok(m) = std::fs::metadata(format!("/proc/{p}")) else {
            continue;
        };
        assert_ne!(m.uid(), NOBODY, "a Chromium process runs as the attacker");
    }
    client.close().await;
    second.close().await;
    let _ = as_nobody(
        false,
        r#"rm -rf "$1"/isolator-chromium-"$2"-* "$1/isolator-files-$2""#,
        &[&tmp_s, &pid.to_string()],
    );
}

/// Listening TCP sockets on 127.0.0.1 (from `/proc/net/tcp`) owned by one of
/// `pids`: (port, inode).
fn listening_ports_of(pids: &[u32]) -> Vec<u16> {
    let mut inodes = HashSet::new();
    for pid in pids {
        for e in std::fs::read_dir(format!("/proc/{pid}/fd"))
            .into_iter()
            .flatten()
            .flatten()
        {
            if let Ok(link) = std::fs::read_link(e.path()) {
                let link = link.to_string_lossy().into_owned();
                if let Some(inode) = link
                    .strip_prefix("socket:[")
                    .and_then(|s| s.strip_suffix(']'))
                {
                    inodes.insert(inode.to_owned());
                }
            }
        }
    }
    let table = std::fs::read_to_string("/proc/net/tcp").unwrap();
    table
        .lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let (ip, port) = f.get(1)?.split_once(':')?;
            (f.get(3) == Some(&"0A")
                && (ip == "0100007F" || ip == "00000000")
                && inodes.contains(*f.get(9)?))
            .then(|| u16::from_str_radix(port, 16).ok())?
        })
        .collect()
}

/// What comes back (at most 4000 bytes, 3 s) for the raw HTTP `request`
/// sent to 127.0.0.1:`port` by `nobody` or, for a control, by the server's
/// own user.
fn raw_request(by_nobody: bool, port: u16, request: &str) -> String {
    let script = r#"
exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 0
printf '%s' "$2" >&3
timeout 3 head -c 4000 <&3
true
"#;
    let args = [port.to_string(), request.to_owned()];
    let args = [args[0].as_str(), args[1].as_str()];
    let out = if by_nobody {
        as_nobody(true, script, &args)
    } else {
        std::process::Command::new("bash")
            .args(["-c", script, "owner"])
            .args(args)
            .output()
            .expect("bash")
    };
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// What `nobody` gets from `GET path` (with WebSocket upgrade headers when
/// `upgrade`) on 127.0.0.1:`port`.
fn probe(port: u16, path: &str, upgrade: bool) -> String {
    let headers = if upgrade {
        "Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=="
    } else {
        "Connection: close"
    };
    let request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{headers}\r\n\r\n");
    raw_request(true, port, &request)
}

/// While sessions run, `nobody` tries the DevTools protocol on every
/// loopback port the isolator's process or the isolated Chromium listens
/// on: nothing answers it. Chromium's command line has a DevTools pipe and
/// no port.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_local_user_reaches_chromium_devtools() {
    let site = TestSite::start().await;
    let iso = Isolator::for_site(&site).await;
    let client = session_shows(&site, &iso).await;
    let chromium = chromium_pid(&iso)
        .await
        .expect("the isolated Chromium runs");
    let args = cmdline(chromium);
    assert!(
        !args
            .iter()
            .any(|a| a.starts_with("--remote-debugging-port")),
        "{args:?}"
    );
    assert!(
        args.iter().any(|a| a == "--remote-debugging-pipe"),
        "{args:?}"
    );
    // Its temporary files live in its private profile, not in the shared /tmp.
    let profile = args
        .iter()
        .find_map(|a| a.strip_prefix("--user-data-dir="))
        .expect("a profile directory");
    let environ = std::fs::read(format!("/proc/{chromium}/environ")).unwrap();
    let tmpdir = environ
        .split(|b| *b == 0)
        .find_map(|v| v.strip_prefix(b"TMPDIR="))
        .map(|v| String::from_utf8_lossy(v).into_owned());
    assert_eq!(tmpdir.as_deref(), Some(profile), "Chromium's TMPDIR");
    let mut pids = process_tree(chromium);
    pids.push(std::process::id());
    let ports = listening_ports_of(&pids);
    assert!(
        ports.contains(&iso.addr.port()),
        "the port list is incomplete: {ports:?}"
    );
    let chromium_ports = listening_ports_of(&process_tree(chromium));
    assert_eq!(chromium_ports, Vec::<u16>::new(), "Chromium listens on TCP");
    for port in ports {
        let version = probe(port, "/json/version", false);
        let list = probe(port, "/json/list", false);
        let ws = probe(port, "/devtools/browser/", true);
        for answer in [&version, &list, &ws] {
            assert!(
                !answer.contains("webSocketDebuggerUrl")
                    && !answer.contains("\"Browser\"")
                    && !answer.contains("101 Switching Protocols"),
                "port {port} answered DevTools to nobody: {answer}"
            );
        }
    }
    // The session is unaffected.
    client
        .wait_state("still connected", T, |s| s["connected"] == true)
        .await;
    client.close().await;
}

/// Every disabled feature the isolator asks for.
fn features_we_disable() -> Vec<&'static str> {
    let mut f = vec!["WebUIOmniboxAimPopup", "PreloadTopChromeWebUI"];
    f.extend(isolator::egress::chromium_disabled_features());
    f
}

/// Over several launches, Chromium's command line (as Chromium reports it
/// over CDP, and in `/proc`) holds exactly one `--disable-features`, with
/// every feature the isolator disables, and at most one `--enable-features`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_launch_has_one_feature_list_with_all_our_features() {
    let iso = Isolator::start_with(|c| {
        c.chromium
            .extra_args
            .push("disable-features=IsolatorTestFeature".into())
    })
    .await;
    let manager = iso.state.sessions.browser().clone();
    let mut launch_ms = Vec::new();
    for launch in 0..4 {
        let started = std::time::Instant::now();
        let running = manager.get().await.expect("Chromium starts");
        launch_ms.push(started.elapsed().as_millis());
        let reported = tokio::time::timeout(
            T,
            running
                .browser
                .execute(GetBrowserCommandLineParams::default()),
        )
        .await
        .expect("in time")
        .expect("Browser.getBrowserCommandLine")
        .result
        .arguments;
        let in_proc = cmdline(running.pid().unwrap());
        for (source, args) in [("CDP", &reported), ("/proc", &in_proc)] {
            let lists: Vec<&String> = args
                .iter()
                .filter(|a| a.starts_with("--disable-features="))
                .collect();
            assert_eq!(lists.len(), 1, "launch {launch}, {source}: {lists:?}");
            let features: Vec<&str> = lists[0]["--disable-features=".len()..].split(',').collect();
            for f in features_we_disable()
                .into_iter()
                .chain(["IsolatorTestFeature"])
            {
                assert!(
                    features.contains(&f),
                    "launch {launch}, {source}: {f} is not disabled: {features:?}"
                );
            }
            assert!(
                args.iter()
                    .filter(|a| a.starts_with("--enable-features="))
                    .count()
                    <= 1,
                "launch {launch}, {source}: {args:?}"
            );
        }
        drop(running);
        manager.kill().await;
    }
    eprintln!("browser launch times (ms): {launch_ms:?}");
}

/// `nobody` cannot read recordings, session data, staged uploads or
/// downloads, even where the server's directories sit in a directory anyone
/// may enter; and every one of them has a private mode.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_user_reads_no_recordings_uploads_or_downloads() {
    let base = tempfile::tempdir().unwrap();
    std::fs::set_permissions(
        base.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let data = base.path().join("data");
    let recordings = base.path().join("recordings");
    // A data_dir of ours that an earlier version left world-readable.
    std::fs::create_dir(&data).unwrap();
    std::fs::set_permissions(&data, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let policy = base.path().join("policy.toml");
    std::fs::write(
        &policy,
        "[[rules]]\nname = \"files\"\nprofiles = [\"financial\"]\nupload = \"allow\"\ndownload = \"scan\"\nprint = \"allow\"\n",
    )
    .unwrap();
    let shared_before = temp_entries("isolator-files-");
    let site = TestSite::start().await;
    let iso = Isolator::for_site_with(&site, |c| {
        c.data_dir = data.clone();
        c.audit.dir = recordings.clone();
        c.policies.file = Some(policy.clone());
        c.enforce.worker_program = Some(crate::gatesfile::worker_program());
    })
    .await;
    let client = Client::open(&start_url(&iso, &site.url("/files/upload/submit"))).await;
    client.wait_connected().await;
    let upload = base.path().join("notes.txt");
    std::fs::write(&upload, "meeting notes, nothing secret\n").unwrap();
    crate::gatesfile::choose(&client, &upload).await;
    client
        .wait_state("the upload given to the page", T, |s| {
            s["files"]["uploads"][0]["allowed"] == true
        })
        .await;
    // A download, kept for the user (a second session of the same server).
    let downloader = Client::open(&start_url(&iso, &site.url("/files/download/report.txt"))).await;
    downloader.wait_connected().await;
    downloader
        .wait_state("download page", T, |s| s["title"] == "Download")
        .await;
    downloader.click_viewer(300.0, 100.0).await;
    downloader
        .wait_state("a download offered", T, |s| {
            s["files"]["downloads"][0]["id"].is_number()
        })
        .await;

    // The server's own directories: private modes all the way down.
    let mut files = Vec::new();
    for root in [&data, &recordings] {
        let meta = std::fs::symlink_metadata(root).unwrap();
        assert_eq!(meta.mode() & 0o777, 0o700, "{}", root.display());
    }
    for root in [&data.join("files"), &recordings] {
        for p in walk(root) {
            let Ok(m) = std::fs::symlink_metadata(&p) else {
                continue;
            };
            assert_eq!(m.mode() & 0o077, 0, "{} is open to others", p.display());
            if m.is_file() {
                files.push(p);
            }
        }
    }
    assert!(
        files.iter().any(|f| f.starts_with(&recordings)),
        "no recording was written"
    );
    assert!(
        files.iter().any(|f| f.starts_with(data.join("files"))),
        "no kept download: {files:?}"
    );
    // The browser's directories: staged uploads readable by the browser's
    // user only, downloads only the browser's.
    let shared: Vec<PathBuf> = temp_entries("isolator-files-")
        .difference(&shared_before)
        .cloned()
        .collect();
    let chromium = chromium_uid();
    let mut staged = Vec::new();
    for dir in &shared {
        let Ok(m) = std::fs::symlink_metadata(dir) else {
            continue;
        };
        if m.uid() != 0 {
            continue;
        }
        assert_eq!(m.mode() & 0o777, 0o711, "{}", dir.display());
        let downloads = dir.join("downloads");
        if let Ok(d) = std::fs::symlink_metadata(&downloads) {
            assert_eq!((d.uid(), d.mode() & 0o777), (chromium, 0o700));
        }
        for p in walk(&dir.join("uploads")) {
            let Ok(m) = std::fs::symlink_metadata(&p) else {
                continue;
            };
            if m.is_file() {
                assert_eq!(
                    (m.uid(), m.mode() & 0o777),
                    (chromium, 0o400),
                    "{}",
                    p.display()
                );
                staged.push(p);
            } else {
                assert_eq!(m.mode() & 0o777, 0o711, "{}", p.display());
            }
        }
        files.push(downloads);
    }
    assert!(
        staged.iter().any(|p| p.ends_with("notes.txt")),
        "the staged upload was not found under {shared:?}"
    );
    files.extend(staged);
    files.push(data.clone());
    files.push(recordings.clone());

    // The attack: nobody tries to list and read each of them.
    for p in &files {
        let path = p.display().to_string();
        let out = as_nobody(
            false,
            r#"if [ -d "$1" ]; then ls -- "$1"; else cat -- "$1"; fi"#,
            &[&path],
        );
        assert!(
            !out.status.success(),
            "nobody read {path}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("Permission denied"), "{path}: {err}");
    }
    client.close().await;
    downloader.close().await;
}

/// A data or recordings directory another user created first (the default
/// `/tmp/isolator` is a predictable name) is refused, not adopted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn directories_another_user_created_are_refused() {
    for which in ["data_dir", "audit.dir"] {
        let base = tempfile::tempdir().unwrap();
        std::fs::set_permissions(
            base.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o777),
        )
        .unwrap();
        let theirs = base.path().join("isolator");
        let out = as_nobody(
            false,
            r#"mkdir -m 777 "$1""#,
            &[&theirs.display().to_string()],
        );
        assert!(out.status.success(), "{out:?}");
        let mut config = isolator::config::Config {
            web_root: isolator_e2e::isolator_server::web_root(),
            data_dir: base.path().join("data"),
            ..Default::default()
        };
        config.audit.dir = base.path().join("recordings");
        match which {
            "data_dir" => config.data_dir = theirs.clone(),
            _ => config.audit.dir = theirs.clone(),
        }
        let (_tx, rx) = tokio::sync::watch::channel(false);
        let addr = "127.0.0.1:1".parse().unwrap();
        let err = match isolator::http::build_state(config, addr, rx) {
            Ok(_) => panic!("{which} owned by nobody was adopted"),
            Err(e) => format!("{e:#}"),
        };
        assert!(err.contains("owned by uid 65534"), "{which}: {err}");
        let meta = std::fs::symlink_metadata(&theirs).unwrap();
        assert_eq!((meta.uid(), meta.mode() & 0o777), (NOBODY, 0o777));
    }
}

/// `GET url` in proxy (absolute) form on 127.0.0.1:`port`, sent by
/// `nobody` or, for the control, by the server's own user.
fn proxy_get(by_nobody: bool, port: u16, url: &str, host: &str) -> String {
    let request = format!("GET {url} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    raw_request(by_nobody, port, &request)
}

/// Each session browses through an egress proxy on a loopback port. Any
/// local user can connect to it; `nobody` sends a proxy request through
/// every port the server listens on, for a page the policy allows: the
/// site never sees it. The control, the same request from the server's own
/// user, reaches the site through the session's proxy, so the probe finds
/// the proxy and would show a leak.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_local_user_browses_through_a_sessions_egress_proxy() {
    let site = TestSite::start().await;
    let iso = Isolator::for_site(&site).await;
    let client = session_shows(&site, &iso).await;
    let host = site.addr.to_string();
    let ports: Vec<u16> = listening_ports_of(&[std::process::id()])
        .into_iter()
        .filter(|p| *p != site.addr.port() && *p != iso.addr.port())
        .collect();
    assert!(!ports.is_empty(), "the session's proxy is not listening");
    for port in &ports {
        let answer = proxy_get(true, *port, &site.url("/nobody-was-here"), &host);
        assert!(
            !answer.starts_with("HTTP/1.1 200"),
            "port {port} served nobody: {answer}"
        );
    }
    let reached = |path: &str| site.requests().iter().any(|r| r.uri == path);
    assert!(
        !reached("/nobody-was-here"),
        "nobody browsed through a session's proxy"
    );
    for port in &ports {
        proxy_get(false, *port, &site.url("/the-owner-was-here"), &host);
    }
    assert!(
        reached("/the-owner-was-here"),
        "the control found no proxy among {ports:?}: the probe proves nothing"
    );
    client
        .wait_state("still connected", T, |s| s["connected"] == true)
        .await;
    client.close().await;
}
