//! An admin editing the policy cannot make the server (root) read host
//! files: exact-data `csv` names are confined to `policies.data_dir`, and
//! neither the admin API nor `isolator policies check` quotes a byte of a
//! refused file. Real HTTP on 127.0.0.1 port 0; the real binary for the CLI.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

use isolator::config::{AuthMode, Config};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

mod server;

struct Server {
    addr: SocketAddr,
    data: PathBuf,
    _shutdown: tokio::sync::watch::Sender<bool>,
    _dir: tempfile::TempDir,
}

/// Starts a server whose data directory holds `people.csv` and a link
/// pointing at /etc/shadow.
async fn start() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let web = dir.path().join("web");
    std::fs::create_dir_all(web.join("admin")).unwrap();
    std::fs::write(web.join("index.html"), "<!doctype html><title>t</title>").unwrap();
    std::fs::write(web.join("admin/index.html"), "<!doctype html>").unwrap();
    let data = dir.path().join("policy-data");
    std::fs::create_dir(&data).unwrap();
    std::fs::write(
        data.join("people.csv"),
        "name,account\nJane Doe,4000-1234-5678\n",
    )
    .unwrap();
    std::os::unix::fs::symlink("/etc/shadow", data.join("shadow.csv")).unwrap();
    let policy_file = dir.path().join("policy.toml");
    std::fs::write(&policy_file, "[defaults]\npaste = \"allow\"\n").unwrap();
    let mut config = Config {
        web_root: web,
        data_dir: dir.path().join("state"),
        ..Config::default()
    };
    config.auth.mode = AuthMode::Header;
    config.policies.file = Some(policy_file);
    config.policies.data_dir = Some(data.clone());
    config.policies.watch_interval_ms = 0;
    let (addr, _, tx) = server::start(config).await;
    Server {
        addr,
        data,
        _shutdown: tx,
        _dir: dir,
    }
}

impl Server {
    async fn admin(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, String) {
        let mut r = reqwest::Client::new()
            .request(method, format!("http://{}{path}", self.addr))
            .header("x-forwarded-user", "mallory")
            .header("x-forwarded-groups", "admins")
            .header("x-isolator-request", "1");
        if let Some(b) = body {
            r = r.json(&b);
        }
        let res = r.send().await.unwrap();
        (res.status(), res.text().await.unwrap())
    }

    async fn version(&self) -> u64 {
        let (_, body) = self.admin(Method::GET, "/api/v1/document", None).await;
        let v: Value = serde_json::from_str(&body).unwrap();
        v["version"].as_u64().unwrap()
    }
}

/// The non-trivial lines (and NUL-separated entries) of `target`.
fn lines_of(target: &str) -> Vec<String> {
    let bytes = std::fs::read(target).unwrap_or_default();
    String::from_utf8_lossy(&bytes)
        .split(['\n', '\0'])
        .map(str::trim)
        .filter(|l| l.len() >= 4)
        .map(str::to_owned)
        .collect()
}

fn assert_quotes_nothing(text: &str, target: &str) {
    assert!(!text.contains("root:"), "{text}");
    for line in lines_of(target) {
        assert!(!text.contains(&line), "a line of {target} leaked: {text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_api_refuses_host_files_and_quotes_none() {
    let s = start().await;
    let attacks = [
        ("/etc/shadow", "/etc/shadow", "absolute path"),
        ("/proc/self/environ", "/proc/self/environ", "absolute path"),
        ("../../../../../../etc/shadow", "/etc/shadow", "`..`"),
        ("shadow.csv", "/etc/shadow", "resolves outside"),
    ];
    for (csv, target, why) in attacks {
        for columns in [json!([]), json!(["user"])] {
            let v = s.version().await;
            let detector = json!({ "id": "loot", "kind": "exact_data", "csv": csv, "columns": columns, "version": v });
            let (st, body) = s
                .admin(Method::POST, "/api/v1/detectors", Some(detector))
                .await;
            assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{csv}: {body}");
            let parsed: Value = serde_json::from_str(&body).unwrap();
            assert_eq!(parsed["field"], "detectors[0].csv", "{body}");
            assert!(body.contains(why), "{csv}: {body}");
            assert_quotes_nothing(&body, target);
            assert_eq!(s.version().await, v, "nothing was applied");
        }
    }
    // A file of the data directory works.
    let v = s.version().await;
    let detector =
        json!({ "id": "people", "kind": "exact_data", "csv": "people.csv", "version": v });
    let (st, body) = s
        .admin(Method::POST, "/api/v1/detectors", Some(detector))
        .await;
    assert!(st.is_success(), "{body}");
    assert!(s.data.join("people.csv").is_file());
}

fn policies_check(policy: &Path, data_dir: Option<&Path>) -> (Option<i32>, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_isolator"));
    cmd.args(["policies", "check"]).arg(policy);
    if let Some(d) = data_dir {
        cmd.arg("--data-dir").arg(d);
    }
    let out = cmd.output().expect("run isolator policies check");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code(), text)
}

#[test]
fn policies_check_refuses_host_files_and_quotes_none() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    std::fs::write(data.join("people.csv"), "name\nJane Doe\n").unwrap();
    std::os::unix::fs::symlink("/etc/shadow", data.join("shadow.csv")).unwrap();
    let policy = dir.path().join("policy.toml");
    for (csv, target) in [
        ("/etc/shadow", "/etc/shadow"),
        ("/proc/self/environ", "/proc/self/environ"),
        ("../../../../../../etc/passwd", "/etc/passwd"),
        ("shadow.csv", "/etc/shadow"),
    ] {
        std::fs::write(
            &policy,
            format!("[[detectors]]\nid = \"loot\"\nkind = \"exact_data\"\ncsv = {csv:?}\ncolumns = [\"user\"]\n"),
        )
        .unwrap();
        let (code, text) = policies_check(&policy, None);
        assert_eq!(code, Some(1), "{csv}: {text}");
        assert!(text.contains("detectors[0].csv"), "{text}");
        assert!(text.contains(&format!("{}:4:", policy.display())), "{text}");
        assert_quotes_nothing(&text, target);
    }
    std::fs::write(
        &policy,
        "[[detectors]]\nid = \"people\"\nkind = \"exact_data\"\ncsv = \"people.csv\"\n",
    )
    .unwrap();
    let (code, text) = policies_check(&policy, None);
    assert_eq!(code, Some(0), "{text}");
    // --data-dir names the directory the server is configured with.
    let other = dir.path().join("other");
    std::fs::create_dir(&other).unwrap();
    let (code, text) = policies_check(&policy, Some(&other));
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("no such file in the data directory"),
        "{text}"
    );
}
