//! Several real `isolator serve` processes sharing one real PostgreSQL
//! (`[cluster]`): the policy changed through one node's admin API is in
//! force on the others within a second; concurrent writers conflict instead
//! of losing a change; a database outage leaves the policy in force and
//! refuses changes with a clear error, and the nodes catch up when it is
//! back; the registry lists every live node.

#[path = "support/node.rs"]
mod node;
#[path = "support/postgres.rs"]
mod postgres;

use std::time::{Duration, Instant};

use node::{web_root, within, Node};
use postgres::Postgres;
use reqwest::StatusCode;
use serde_json::{json, Value};

const TOKEN: &str = "cluster-test-admin-token";

/// A node whose policy file holds `policy` (it seeds an empty database).
async fn start(id: &str, pg: &Postgres, policy: &str) -> Node {
    let tables = format!(
        "[policies]\nfile = \"{{dir}}/policy.toml\"\n[admin]\napi_tokens = [{:?}]\n",
        isolator::auth::hash_api_token(TOKEN)
    );
    Node::start(id, &pg.url(), "", &tables, &[("policy.toml", policy)]).await
}

/// The admin API, as an API client with a bearer token.
impl Node {
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
    let a = start("node-a", &pg, POLICY_A).await;
    let b = start("node-b", &pg, POLICY_B).await;

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
