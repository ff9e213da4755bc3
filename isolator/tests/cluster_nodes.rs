//! Several real `isolator serve` processes sharing one real PostgreSQL
//! (`[cluster]`): the policy changed through one node's admin API is in
//! force on the others within a second; concurrent writers conflict instead
//! of losing a change; a database outage leaves the policy in force and
//! refuses changes with a clear error, and the nodes catch up when it is
//! back; the registry lists every live node.

mod postgres;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use postgres::Postgres;
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::io::AsyncBufReadExt;

const TOKEN: &str = "cluster-test-admin-token";

/// One node: a real server process.
struct Node {
    base: String,
    log: Arc<Mutex<Vec<String>>>,
    /// Killed when the node is dropped.
    _child: tokio::process::Child,
    _dir: tempfile::TempDir,
}

fn web_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../web-client")
}

impl Node {
    async fn start(id: &str, pg: &Postgres, policy: &str) -> Node {
        let dir = tempfile::tempdir().unwrap();
        let url_file = dir.path().join("database-url");
        std::fs::write(&url_file, pg.url()).unwrap();
        let policy_file = dir.path().join("policy.toml");
        std::fs::write(&policy_file, policy).unwrap();
        let config = dir.path().join("isolator.toml");
        std::fs::write(
            &config,
            format!(
                "listen = \"127.0.0.1:0\"\nweb_root = {web:?}\ndata_dir = {data:?}\n\
                 [policies]\nfile = {policy_file:?}\n\
                 [audit]\ndir = {audit:?}\n\
                 [admin]\napi_tokens = [{hash:?}]\n\
                 [cluster]\nnode_id = {id:?}\ndatabase_url_file = {url_file:?}\n\
                 heartbeat_ms = 200\nnode_timeout_secs = 2\npolicy_poll_ms = 5000\n",
                web = web_root(),
                data = dir.path().join("data"),
                audit = dir.path().join("recordings"),
                hash = isolator::auth::hash_api_token(TOKEN),
            ),
        )
        .unwrap();
        let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_isolator"))
            .args(["serve", "--config"])
            .arg(&config)
            .env("RUST_LOG", "info")
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let sink = log.clone();
        let mut lines = tokio::io::BufReader::new(child.stderr.take().unwrap()).lines();
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                sink.lock().unwrap().push(line);
            }
        });
        let deadline = Instant::now() + Duration::from_secs(30);
        let base = loop {
            let found = log.lock().unwrap().iter().find_map(|l| {
                let marker = "listening on http://";
                let rest = &l[l.find(marker)? + marker.len()..];
                Some(format!("http://{}", &rest[..rest.find('/')?]))
            });
            if let Some(b) = found {
                break b;
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!("node {id} exited with {status}: {:#?}", log.lock().unwrap());
            }
            assert!(
                Instant::now() < deadline,
                "node {id} did not start: {:#?}",
                log.lock().unwrap()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        Node {
            base,
            log,
            _child: child,
            _dir: dir,
        }
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = reqwest::Client::new()
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(TOKEN);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.unwrap();
        let status = res.status();
        let text = res.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    async fn version(&self) -> u64 {
        let (st, body) = self
            .call(reqwest::Method::GET, "/api/v1/document", None)
            .await;
        assert_eq!(st, StatusCode::OK, "{body}");
        body["version"].as_u64().unwrap()
    }

    async fn add_rule(&self, name: &str, version: u64) -> (StatusCode, Value) {
        let rule = json!({ "name": name, "copy": "block", "version": version });
        self.call(reqwest::Method::POST, "/api/v1/rules", Some(rule))
            .await
    }

    async fn has_rule(&self, name: &str) -> bool {
        let (st, _) = self
            .call(reqwest::Method::GET, &format!("/api/v1/rules/{name}"), None)
            .await;
        st == StatusCode::OK
    }

    fn log_has(&self, needle: &str) -> bool {
        self.log.lock().unwrap().iter().any(|l| l.contains(needle))
    }
}

/// Polls `check` every 10 ms until it holds; returns how long it took.
async fn within<F, Fut>(limit: Duration, what: &str, mut check: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    loop {
        if check().await {
            return start.elapsed();
        }
        assert!(start.elapsed() < limit, "{what}: not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

const POLICY_A: &str = r#"
[[rules]]
name = "seeded-by-a"
paste = "block"
"#;

const POLICY_B: &str = r#"
[[rules]]
name = "only-in-b-file"
paste = "allow"
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_policy_change_on_one_node_is_in_force_on_the_others_within_a_second() {
    let mut pg = Postgres::start();
    let a = Node::start("node-a", &pg, POLICY_A).await;
    let b = Node::start("node-b", &pg, POLICY_B).await;

    // The first node seeded the database; the second adopted it, not its file.
    assert_eq!(a.version().await, 1);
    assert_eq!(b.version().await, 1);
    assert!(b.has_rule("seeded-by-a").await);
    assert!(!b.has_rule("only-in-b-file").await);

    // A change through A's API is in force on B within a second, measured
    // from the moment A answered.
    let (st, body) = a.add_rule("from-a", 1).await;
    assert_eq!(st, StatusCode::CREATED, "{body}");
    let took = within(Duration::from_secs(1), "A's rule on B", || {
        b.has_rule("from-a")
    })
    .await;
    eprintln!("policy propagation A -> B: {took:?}");
    assert_eq!(b.version().await, 2);
    let (_, history) = b.call(reqwest::Method::GET, "/api/v1/history", None).await;
    assert_eq!(
        history["versions"].as_array().map(Vec::len),
        Some(2),
        "{history}"
    );

    // Two writers from the same version: one wins, the other conflicts and
    // loses nothing silently.
    let (sa, sb) = tokio::join!(a.add_rule("race-a", 2), b.add_rule("race-b", 2));
    let codes = [sa.0, sb.0];
    assert!(codes.contains(&StatusCode::CREATED), "{sa:?} {sb:?}");
    assert!(
        codes.contains(&StatusCode::CONFLICT) || codes.contains(&StatusCode::PRECONDITION_FAILED),
        "{sa:?} {sb:?}"
    );
    within(
        Duration::from_secs(1),
        "both nodes at version 3",
        || async { a.version().await == 3 && b.version().await == 3 },
    )
    .await;

    // A rollback through B reaches A.
    let (st, body) = b
        .call(
            reqwest::Method::POST,
            "/api/v1/history/1/rollback",
            Some(json!({"version": 3})),
        )
        .await;
    assert!(st.is_success(), "{body}");
    within(Duration::from_secs(1), "the rollback on A", || async {
        !a.has_rule("from-a").await && a.version().await == 4
    })
    .await;

    // The registry lists both nodes, alive.
    let (st, nodes) = a
        .call(reqwest::Method::GET, "/api/v1/cluster/nodes", None)
        .await;
    assert_eq!(st, StatusCode::OK, "{nodes}");
    assert_eq!(nodes["this_node"], "node-a");
    let ids: Vec<&str> = nodes["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["alive"] == true)
        .map(|n| n["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["node-a", "node-b"], "{nodes}");

    // Outage: the policy in force stays readable and in force; a change is
    // refused with a clear error, and nothing is half-written.
    pg.stop();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(a.version().await, 4);
    assert!(a.has_rule("seeded-by-a").await);
    let (st, body) = a.add_rule("during-outage", 4).await;
    assert_eq!(st, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert!(
        body["error"].as_str().unwrap_or("").contains("unavailable"),
        "{body}"
    );
    assert!(a.log_has("cluster database connection lost"));

    // Back: both nodes reconnect, a change through A reaches B again.
    pg.restart();
    let (st, body) = {
        let mut last = (StatusCode::SERVICE_UNAVAILABLE, Value::Null);
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(15) {
            last = a.add_rule("after-outage", 4).await;
            if last.0 != StatusCode::SERVICE_UNAVAILABLE {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        last
    };
    assert_eq!(st, StatusCode::CREATED, "{body}");
    within(Duration::from_secs(2), "B after the outage", || {
        b.has_rule("after-outage")
    })
    .await;
    assert!(a.log_has("cluster database reconnected"));

    // A node that stops leaves the registry.
    drop(b);
    within(Duration::from_secs(5), "node-b gone or dead", || async {
        let (_, nodes) = a
            .call(reqwest::Method::GET, "/api/v1/cluster/nodes", None)
            .await;
        !nodes["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["id"] == "node-b" && n["alive"] == true)
    })
    .await;
    drop(a);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_refuses_to_start_without_its_database_and_says_why() {
    let pg = Postgres::start();
    let port = pg.port;
    drop(pg);
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("isolator.toml");
    std::fs::write(
        &config,
        format!(
            "listen = \"127.0.0.1:0\"\nweb_root = {:?}\ndata_dir = {:?}\n[audit]\ndir = {:?}\n\
             [cluster]\ndatabase_url = \"postgres://isolator:secret-pw@127.0.0.1:{port}/isolator\"\n\
             connect_timeout_secs = 2\n",
            web_root(),
            dir.path().join("data"),
            dir.path().join("rec"),
        ),
    )
    .unwrap();
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_isolator"))
        .args(["serve", "--config"])
        .arg(&config)
        .output()
        .await
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("cannot reach the cluster database"), "{err}");
    assert!(
        !err.contains("secret-pw"),
        "the password must not be printed: {err}"
    );
}
