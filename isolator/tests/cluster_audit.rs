//! An auditor on any node finds and replays any node's recordings: two real
//! `isolator serve` nodes on one real PostgreSQL, recording into one real
//! Garage bucket. A session recorded on node B, with a blocked paste, is
//! found by the search on node A (sessions and incidents, naming node B),
//! and after node B is killed and its disk is gone, A's player shows it,
//! verified against the chain head B recorded, and exports it, all read
//! from the bucket. While the database is down A's search answers with
//! A's own recordings and says so; a session recorded then reaches the
//! shared index once the database is back.

#[path = "support/garage.rs"]
mod garage;
#[path = "support/node.rs"]
mod node;
#[path = "support/postgres.rs"]
mod postgres;
#[path = "support/user.rs"]
mod user;
#[path = "support/ws.rs"]
mod ws;

use std::time::Duration;

use futures::SinkExt;
use garage::Garage;
use node::{within, Node};
use postgres::Postgres;
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;
use ws::Ws;

const TOKEN: &str = "cluster-audit-admin-token";

const POLICY: &str = r#"
[[rules]]
name = "no-cards"
paste = { mode = "scan", profiles = ["financial"] }
"#;

/// A node recording into `garage`'s bucket.
async fn start(id: &str, pg: &Postgres, garage: &Garage) -> Node {
    let os = garage.object_store("rec");
    let tables = format!(
        "[policies]\nfile = \"{{dir}}/policy.toml\"\n[admin]\napi_tokens = [{:?}]\n\
         [audit.object_store]\nendpoint = {:?}\nbucket = {:?}\nprefix = {:?}\n\
         access_key_id = {:?}\nsecret_access_key_file = {:?}\ntimeout_secs = 5\n",
        isolator::auth::hash_api_token(TOKEN),
        os.endpoint,
        os.bucket,
        os.prefix,
        os.access_key_id.as_deref().unwrap(),
        os.secret_access_key_file.as_ref().unwrap(),
    );
    Node::start(id, &pg.url(), "", &tables, &[("policy.toml", POLICY)]).await
}

/// An admin's GET on `node`: the status and the JSON body.
async fn admin_get(node: &Node, path: &str) -> (StatusCode, Value) {
    let res = reqwest::Client::new()
        .get(format!("{}{path}", node.base))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    let st = res.status();
    (st, res.json().await.unwrap_or(Value::Null))
}

/// A session on `node` as the user's browser starts it: its id, token and
/// socket, once a frame arrived.
async fn session_on(node: &Node) -> (String, String, Ws) {
    let (st, body) = user::create(&node.base, None).await;
    assert_eq!(st, StatusCode::CREATED);
    let id = body["id"].as_str().unwrap().to_owned();
    let token = body["token"].as_str().unwrap().to_owned();
    let mut ws = ws::open(node.host(), &id, &token, &node.base, None)
        .await
        .unwrap();
    ws::a_frame(&mut ws).await;
    (id, token, ws)
}

/// Pastes `text` and waits for the gate to say it was blocked.
async fn paste_blocked(ws: &mut Ws, text: &str) {
    ws.send(Message::text(
        json!({ "t": "paste", "text": text }).to_string(),
    ))
    .await
    .unwrap();
    ws::until(ws, "the paste refused", |msg| match msg {
        Message::Text(t) => {
            let v: Value = serde_json::from_str(&t).unwrap();
            (v["t"] == "notice" && t.contains("paste_blocked")).then_some(())
        }
        _ => None,
    })
    .await;
}

/// Ends a session as its user does.
async fn close(node: &Node, id: &str, token: &str) {
    let path = format!("/api/sessions/{id}");
    let res = user::request(&node.base, reqwest::Method::DELETE, &path, None)
        .header("x-isolator-token", token)
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.status());
}

/// The sessions `node`'s search lists (and the scope it says it covered).
async fn search(node: &Node, query: &str) -> (Vec<Value>, Value) {
    let (st, body) = admin_get(node, &format!("/api/v1/audit/sessions?{query}")).await;
    assert_eq!(st, StatusCode::OK, "{body}");
    (
        body["sessions"].as_array().cloned().unwrap_or_default(),
        body,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recording_made_on_one_node_is_found_and_replayed_on_another_from_the_bucket() {
    let mut pg = Postgres::start();
    let garage = Garage::start("cluster-audit");
    let a = start("node-a", &pg, &garage).await;
    let mut b = start("node-b", &pg, &garage).await;

    // A session on B: a card pasted (blocked), then ended by its user.
    let (id, token, mut ws) = session_on(&b).await;
    paste_blocked(&mut ws, "card 4111 1111 1111 1111").await;
    close(&b, &id, &token).await;
    drop(ws);

    // A's search lists it, naming B, once B shipped its end.
    let took =
        within(
            Duration::from_secs(10),
            "B's session in A's search",
            || async {
                search(&a, "").await.0.iter().any(|s| {
                    s["id"] == id.as_str() && s["node"] == "node-b" && !s["end_ms"].is_null()
                })
            },
        )
        .await;
    eprintln!("a session's end reached the shared index in {took:?}");
    let (rows, body) = search(&a, "").await;
    assert_eq!(body["scope"], "cluster");
    let row = rows.iter().find(|s| s["id"] == id.as_str()).unwrap();
    assert!(row.get("path").is_none(), "no server path: {row}");
    assert!(row["head"].as_str().is_some_and(|h| h.len() == 64), "{row}");
    // This node's own index alone does not have it.
    let (own, body) = search(&a, "scope=node").await;
    assert_eq!(body["scope"], "node");
    assert!(own.iter().all(|s| s["id"] != id.as_str()), "{own:?}");
    let (st, body) = admin_get(&a, "/api/v1/audit/sessions?scope=everywhere").await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{body}");

    // The blocked paste, found by detector on A.
    let (st, body) = admin_get(&a, "/api/v1/audit/incidents?detector=credit_card").await;
    assert_eq!(st, StatusCode::OK, "{body}");
    let incident = body["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["session"] == id.as_str())
        .unwrap_or_else(|| panic!("the paste incident: {body}"))
        .clone();
    assert_eq!(incident["node"], "node-b");
    assert_eq!(incident["gate"], "paste");
    assert_eq!(incident["decision"], "block");
    assert!(
        // Two groups of the card ("4111" alone can be in the page's URL:
        // an ephemeral port such as 41117).
        !incident.to_string().contains("4111 1111"),
        "no raw value in the index: {incident}"
    );

    // The last segment reaches the bucket after the end: A's player shows
    // the whole recording, verified, once it is there.
    let view = format!("/api/v1/audit/sessions/{id}");
    within(
        Duration::from_secs(20),
        "the whole recording in the bucket",
        || async { admin_get(&a, &view).await.1["verify"]["status"] == "intact" },
    )
    .await;

    // B dies and its disk with it: A still replays it, from the bucket.
    b.child.kill().await.unwrap();
    drop(b);
    let (st, detail) = admin_get(&a, &view).await;
    assert_eq!(st, StatusCode::OK, "{detail}");
    assert_eq!(detail["verify"]["status"], "intact", "{detail}");
    assert_eq!(detail["verify"]["head"], row["head"], "B's chain head");
    assert_eq!(detail["session"]["node"], "node-b");
    assert!(
        detail["incidents"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["detectors"] == json!(["credit_card"])),
        "{detail}"
    );
    let (st, chunk) = admin_get(&a, &format!("{view}/chunk?from_ms=0&len_ms=60000")).await;
    assert_eq!(st, StatusCode::OK, "{chunk}");
    let records = chunk["records"].as_array().unwrap();
    assert!(
        records.iter().any(|r| r["event"]["type"] == "frame"),
        "frames to show: {chunk}"
    );
    assert!(
        records.iter().any(|r| r["event"]["type"] == "decision"),
        "the blocked paste in the replay: {chunk}"
    );
    let export = reqwest::Client::new()
        .get(format!("{}{view}/export", a.base))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(export.status(), StatusCode::OK);
    let tar = export.bytes().await.unwrap();
    assert!(tar.len() > 1024, "{} bytes", tar.len());
    // Every view was logged on A.
    let (_, access) = admin_get(&a, "/api/v1/audit/access").await;
    let seen: Vec<&str> = access["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["session"] == id.as_str())
        .filter_map(|e| e["what"].as_str())
        .collect();
    for what in ["view", "replay", "export"] {
        assert!(seen.contains(&what), "{what} in {seen:?}");
    }

    // The database goes down: A's search answers with A's own recordings
    // and says so. A session recorded meanwhile reaches the shared index
    // once it is back.
    pg.stop();
    let (own_id, own_token, ws) = session_on(&a).await;
    close(&a, &own_id, &own_token).await;
    drop(ws);
    let (rows, body) = search(&a, "").await;
    assert_eq!(body["scope"], "node", "{body}");
    assert!(
        body["warning"]
            .as_str()
            .is_some_and(|w| w.contains("node-a")),
        "{body}"
    );
    assert!(rows.iter().any(|s| s["id"] == own_id.as_str()));
    pg.restart();
    within(
        Duration::from_secs(20),
        "the outage's session shipped",
        || async {
            let (rows, body) = search(&a, "").await;
            body["scope"] == "cluster"
                && rows
                    .iter()
                    .any(|s| s["id"] == own_id.as_str() && !s["end_ms"].is_null())
        },
    )
    .await;
}
