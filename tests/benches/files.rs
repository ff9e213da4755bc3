//! Upload gate benchmark: how long a 10 MB docx takes from the start of its
//! HTTP upload until the gate's answer (received, extracted in the worker
//! pool, scanned, and given to the page or deleted), through the real server
//! and the real isolated Chromium's intercepted file chooser.
//!
//! `cargo bench -p isolator-e2e --bench files`. Prints p50/max for a clean
//! file (allowed) and for one with a card number on its last page (blocked).

use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use isolator_e2e::docx::stored_docx;
use isolator_e2e::procfs::percentile;
use isolator_e2e::{Isolator, TestSite};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

struct Session {
    ws: Ws,
    id: String,
    token: String,
}

async fn open(iso: &Isolator, url: &str) -> Session {
    let res = reqwest::Client::new()
        .post(iso.url("/api/sessions"))
        .header("x-isolator-request", "1")
        .json(&serde_json::json!({ "url": url, "width": 1280, "height": 720, "dpr": 1 }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let body: serde_json::Value = res.json().await.unwrap();
    let token = body["token"].as_str().unwrap().to_owned();
    let mut req = iso
        .url(body["ws"].as_str().unwrap())
        .replace("http://", "ws://")
        .into_client_request()
        .unwrap();
    req.headers_mut()
        .insert("origin", iso.url("").trim_end_matches('/').parse().unwrap());
    req.headers_mut().insert(
        "sec-websocket-protocol",
        format!("isolator.v1, isolator.token.{token}")
            .parse()
            .unwrap(),
    );
    let (ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    Session {
        ws,
        id: body["id"].as_str().unwrap().to_owned(),
        token,
    }
}

impl Session {
    async fn send(&mut self, v: serde_json::Value) {
        self.ws
            .send(Message::Text(v.to_string().into()))
            .await
            .unwrap();
    }

    /// Reads messages (acking frames) until one of type `t`; returns it.
    async fn wait_for(&mut self, t: &str, within: Duration) -> serde_json::Value {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            match tokio::time::timeout_at(deadline, self.ws.next()).await {
                Ok(Some(Ok(Message::Binary(b)))) => {
                    let seq = u32::from_be_bytes([b[4], b[5], b[6], b[7]]);
                    self.send(serde_json::json!({"t": "frame_ack", "seq": seq}))
                        .await;
                }
                Ok(Some(Ok(Message::Text(s)))) => {
                    let v: serde_json::Value = serde_json::from_str(&s).unwrap();
                    if v["t"] == t {
                        return v;
                    }
                }
                Ok(Some(Ok(_))) => {}
                other => panic!("no {t} message: {other:?}"),
            }
        }
    }

    /// Opens the page's file chooser (a click on its file input).
    async fn chooser(&mut self, upload_page: &str) -> u64 {
        self.send(serde_json::json!({"t": "navigate", "url": upload_page}))
            .await;
        tokio::time::sleep(Duration::from_millis(700)).await;
        for kind in ["down", "up"] {
            self.send(
                serde_json::json!({"t": "mouse", "type": kind, "x": 300, "y": 150,
                "button": "left", "buttons": if kind == "down" { 1 } else { 0 }, "clicks": 1,
                "mods": 0, "dx": 0, "dy": 0}),
            )
            .await;
        }
        self.wait_for("file_chooser", Duration::from_secs(20)).await["id"]
            .as_u64()
            .unwrap()
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.toml");
    std::fs::write(
        &policy,
        "[[rules]]\nname = \"scan-uploads\"\nprofiles = [\"financial\", \"national_ids\", \"credentials\"]\nupload = \"scan\"\n",
    )
    .unwrap();
    let site = TestSite::start().await;
    // File scans run in `isolator extract-worker` processes: target/<profile>/isolator.
    let exe = std::env::current_exe().unwrap();
    let worker = exe
        .parent()
        .and_then(|d| d.parent())
        .unwrap()
        .join("isolator");
    assert!(
        worker.is_file(),
        "{} is missing: cargo build -p isolator first",
        worker.display()
    );
    let iso = Isolator::for_site_with(&site, |c| {
        c.policies.file = Some(policy.clone());
        c.enforce.worker_program = Some(worker);
    })
    .await;
    let page = site.url("/files/upload/fetch");
    let mut s = open(&iso, &page).await;
    let http = reqwest::Client::new();
    let clean = stored_docx(10 << 20, "End of report.");
    let planted = stored_docx(10 << 20, "Card on file: 4111 1111 1111 1111.");
    println!(
        "upload gate benchmark: docx of {:.1} MB, policy upload = scan [financial, national_ids, credentials]",
        clean.len() as f64 / f64::from(1u32 << 20)
    );
    for (label, file, expect) in [
        ("clean", &clean, true),
        ("card on the last page", &planted, false),
    ] {
        let mut times = Vec::new();
        for _ in 0..5 {
            let chooser = s.chooser(&page).await;
            let t0 = Instant::now();
            let res = http
                .post(iso.url(&format!(
                    "/api/sessions/{}/uploads?chooser={chooser}&name=report.docx",
                    s.id
                )))
                .header("x-isolator-request", "1")
                .header("x-isolator-token", &s.token)
                .body(file.clone())
                .send()
                .await
                .unwrap();
            let status = res.status();
            let answer: serde_json::Value = res.json().await.unwrap();
            let took = t0.elapsed();
            assert_eq!(status, 200, "{answer}");
            assert_eq!(answer["allowed"], expect, "{answer}");
            times.push(took.as_secs_f64() * 1e3);
        }
        let max = times.iter().cloned().fold(0.0, f64::max);
        println!(
            "10 MB docx, {label}: decided in p50 {:.0} ms, max {:.0} ms ({} runs; target <= 2000 ms)",
            percentile(&times, 0.5),
            max,
            times.len()
        );
    }
}
