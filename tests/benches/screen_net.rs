//! Screen-net benchmark: what the pixel safety net costs a session, net off
//! (the page rule masks nothing) against net on (the rule masks card
//! numbers), on the real server and isolated Chromium, over a WebSocket
//! client speaking the web client's protocol (1280x720, JPEG q70, 30 fps):
//!
//! - input-to-frame latency: a key typed into a field until the next frame
//!   arrives, p50/p95 (the frame is held while the changed band is read);
//! - scrolling a text page at full frame rate for 5 s: frames/s, and the CPU
//!   of the server process plus its extraction workers (where the net's
//!   decoding, diffing, re-encoding and OCR run), in cores;
//! - the same page still for 5 s: that CPU again.
//!
//! Needs the release `isolator` binary for the extraction workers:
//! `cargo build --release -p isolator && cargo bench -p isolator-e2e --bench screen_net`.

use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use isolator_e2e::procfs::{percentile, process_tree};
use isolator_e2e::{Isolator, TestSite};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

const OFF: &str = "[defaults]\npage = \"allow\"\n";
const ON: &str = "[[rules]]\nname = \"dlp\"\npage = { mode = \"scan\", profiles = [\"financial\"], on_match = \"audit\" }\nmask = [\"credit_card\"]\n";

async fn open(iso: &Isolator, url: &str) -> Ws {
    let res = reqwest::Client::new()
        .post(iso.url("/api/sessions"))
        .header("x-isolator-request", "1")
        .json(&serde_json::json!({ "url": url, "width": 1280, "height": 720, "dpr": 1 }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let body: serde_json::Value = res.json().await.unwrap();
    let mut req = iso
        .url(body["ws"].as_str().unwrap())
        .replace("http://", "ws://")
        .into_client_request()
        .unwrap();
    req.headers_mut()
        .insert("origin", iso.url("").trim_end_matches('/').parse().unwrap());
    req.headers_mut().insert(
        "sec-websocket-protocol",
        format!(
            "isolator.v1, isolator.token.{}",
            body["token"].as_str().unwrap()
        )
        .parse()
        .unwrap(),
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    next_frame(&mut ws, Duration::from_secs(20))
        .await
        .expect("first frame");
    ws
}

/// Waits for the next frame (acking it); returns its size.
async fn next_frame(ws: &mut Ws, within: Duration) -> Option<usize> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Ok(Some(Ok(Message::Binary(b)))) => {
                let seq = u32::from_be_bytes([b[4], b[5], b[6], b[7]]);
                send(ws, &format!(r#"{{"t":"frame_ack","seq":{seq}}}"#)).await;
                return Some(b.len());
            }
            Ok(Some(Ok(_))) => continue,
            _ => return None,
        }
    }
}

async fn send(ws: &mut Ws, text: &str) {
    ws.send(Message::Text(text.to_owned().into()))
        .await
        .unwrap();
}

/// Frames received within `d`.
async fn drain(ws: &mut Ws, d: Duration) -> usize {
    let end = Instant::now() + d;
    let mut n = 0;
    while let Some(left) = end.checked_duration_since(Instant::now()) {
        match next_frame(ws, left).await {
            Some(_) => n += 1,
            None => break,
        }
    }
    n
}

/// CPU ticks of this process (the server) and its extraction workers.
fn server_ticks() -> u64 {
    let me = std::process::id();
    process_tree(me)
        .into_iter()
        .filter(|p| {
            *p == me
                || std::fs::read(format!("/proc/{p}/cmdline"))
                    .is_ok_and(|c| c.windows(14).any(|w| w == b"extract-worker"))
        })
        .filter_map(|p| std::fs::read_to_string(format!("/proc/{p}/stat")).ok())
        .map(|s| {
            let after = s.rsplit(')').next().unwrap_or("").to_owned();
            let f: Vec<&str> = after.split_whitespace().collect();
            let t = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
            t(11) + t(12)
        })
        .sum()
}

async fn key(ws: &mut Ws, ch: char, kind: &str) {
    send(
        ws,
        &format!(
            r#"{{"t":"key","type":"{kind}","key":"{ch}","code":"Key{}","key_code":{}}}"#,
            ch.to_ascii_uppercase(),
            ch.to_ascii_uppercase() as u32
        ),
    )
    .await;
}

async fn measure(site: &TestSite, label: &str, policy: &str) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("policy.toml");
    std::fs::write(&file, policy).unwrap();
    let exe = std::env::current_exe().unwrap();
    let worker = exe
        .parent()
        .and_then(|d| d.parent())
        .unwrap()
        .join("isolator");
    assert!(worker.is_file(), "build the release isolator first");
    let iso = Isolator::for_site_with(site, |c| {
        c.policies.file = Some(file.clone());
        c.enforce.worker_program = Some(worker);
    })
    .await;

    let mut ws = open(&iso, &site.url("/bench/input")).await;
    send(
        &mut ws,
        r#"{"t":"mouse","type":"down","x":100,"y":40,"button":"left","buttons":1,"clicks":1}"#,
    )
    .await;
    send(
        &mut ws,
        r#"{"t":"mouse","type":"up","x":100,"y":40,"button":"left","buttons":0,"clicks":1}"#,
    )
    .await;
    drain(&mut ws, Duration::from_millis(1500)).await;
    let mut lat = Vec::new();
    for i in 0..40 {
        let ch = (b'a' + (i % 26) as u8) as char;
        let t0 = Instant::now();
        key(&mut ws, ch, "down").await;
        key(&mut ws, ch, "up").await;
        if next_frame(&mut ws, Duration::from_secs(3)).await.is_some() {
            lat.push(t0.elapsed().as_secs_f64() * 1e3);
        }
        drain(&mut ws, Duration::from_millis(400)).await;
    }
    println!(
        "{label}: input to frame p50 {:.1} ms, p95 {:.1} ms ({} of 40 keys produced a frame)",
        percentile(&lat, 0.5),
        percentile(&lat, 0.95),
        lat.len()
    );
    let _ = ws.close(None).await;

    let mut ws = open(&iso, &site.url("/scroll")).await;
    drain(&mut ws, Duration::from_secs(2)).await;
    let cpu0 = server_ticks();
    let t0 = Instant::now();
    let mut frames = 0;
    for i in 0..150 {
        let dy = if (i / 50) % 2 == 0 { 60 } else { -60 };
        send(
            &mut ws,
            &format!(r#"{{"t":"mouse","type":"wheel","x":300,"y":300,"dx":0,"dy":{dy}}}"#),
        )
        .await;
        frames += drain(&mut ws, Duration::from_millis(33)).await;
    }
    let secs = t0.elapsed().as_secs_f64();
    let cpu = (server_ticks() - cpu0) as f64 / 100.0 / secs;
    println!(
        "{label}: scrolling {:.1} frames/s, server + workers CPU {cpu:.2} cores",
        frames as f64 / secs
    );
    drain(&mut ws, Duration::from_secs(3)).await;
    let cpu0 = server_ticks();
    let n = drain(&mut ws, Duration::from_secs(5)).await;
    let cpu = (server_ticks() - cpu0) as f64 / 100.0 / 5.0;
    println!("{label}: still page {n} frames in 5 s, server + workers CPU {cpu:.3} cores");
    let _ = ws.close(None).await;
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    std::env::set_var("OMP_THREAD_LIMIT", "1");
    let site = TestSite::start().await;
    println!("screen-net benchmark (1280x720, JPEG q70, max 30 fps)");
    measure(&site, "net off", OFF).await;
    measure(&site, "net on", ON).await;
}
