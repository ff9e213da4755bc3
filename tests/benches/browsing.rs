//! Browsing benchmark: prints the figures of the README's benchmark table.
//!
//! `cargo bench -p isolator-e2e --bench browsing` (or `make bench-browsing`).
//! It drives the real server and the real isolated Chromium with a WebSocket
//! client speaking the web client's protocol, against a local test page:
//! - session start (HTTP create until the first frame), p50/p95, for
//!   sessions started 3 s apart (the spare context made ahead is ready) and
//!   back to back;
//! - input-to-frame latency: a key sent until the next frame arrives, p50/p95
//!   (the test page has no caret blink or animation, so that frame is the one
//!   showing the keystroke);
//! - frames/s and bytes/s while scrolling, and Chromium CPU meanwhile;
//! - frames and Chromium CPU on a still page with a text field focused;
//! - bytes/s on an idle page;
//! - Chromium memory (PSS of its whole process tree) at 1, 10 and 30 idle
//!   sessions, each watched by a client: 3 s after the last one opened (their
//!   screencasts running) and once they rest (`stream.rest_after_secs`, the
//!   default, plus 3 s).

use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use isolator_e2e::procfs::{chromium_pid, percentile, tree_cpu_ticks, tree_pss_kb};
use isolator_e2e::{Isolator, TestSite};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

struct Session {
    ws: Ws,
    last_seq: u32,
}

async fn open(iso: &Isolator, url: &str) -> (Session, Duration, Duration) {
    let t0 = Instant::now();
    let res = reqwest::Client::new()
        .post(iso.url("/api/sessions"))
        .header("x-isolator-request", "1")
        .json(&serde_json::json!({ "url": url, "width": 1280, "height": 720, "dpr": 1 }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let body: serde_json::Value = res.json().await.unwrap();
    let created = t0.elapsed();
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
    let (ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    let mut s = Session { ws, last_seq: 0 };
    s.next_frame(Duration::from_secs(20))
        .await
        .expect("first frame");
    (s, created, t0.elapsed())
}

impl Session {
    /// Waits for the next frame (acking it); returns its size.
    async fn next_frame(&mut self, within: Duration) -> Option<usize> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            match tokio::time::timeout_at(deadline, self.ws.next()).await {
                Ok(Some(Ok(Message::Binary(b)))) => {
                    let seq = u32::from_be_bytes([b[4], b[5], b[6], b[7]]);
                    self.last_seq = seq;
                    self.send(&format!(r#"{{"t":"frame_ack","seq":{seq}}}"#))
                        .await;
                    return Some(b.len());
                }
                Ok(Some(Ok(_))) => continue,
                _ => return None,
            }
        }
    }

    async fn send(&mut self, text: &str) {
        self.ws
            .send(Message::Text(text.to_owned().into()))
            .await
            .unwrap();
    }

    /// Drains frames for `d`, returning (frames, bytes).
    async fn drain(&mut self, d: Duration) -> (usize, usize) {
        let end = Instant::now() + d;
        let (mut n, mut bytes) = (0, 0);
        while let Some(left) = end.checked_duration_since(Instant::now()) {
            match self.next_frame(left).await {
                Some(b) => {
                    n += 1;
                    bytes += b;
                }
                None => break,
            }
        }
        (n, bytes)
    }

    async fn close(mut self) {
        self.send(r#"{"t":"close"}"#).await;
        let _ = tokio::time::timeout(Duration::from_secs(5), async {
            while self.ws.next().await.is_some() {}
        })
        .await;
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let site = TestSite::start().await;
    let iso = Isolator::for_site_with(&site, |c| {
        c.sessions.max = 40;
        c.sessions.spare = true;
    })
    .await;
    let quiet = site.url("/bench/input");
    println!("isolator browsing benchmark (1280x720, JPEG q70, max 30 fps)");

    // Warm the browser up once.
    let (s, _, _) = open(&iso, &quiet).await;
    s.close().await;

    // Session start: users arriving a few seconds apart (the spare made
    // ahead is ready for each), then back to back (a spare is made two
    // seconds after one is taken, so most of these make their own).
    for (what, pause) in [
        ("3 s apart", Duration::from_secs(3)),
        ("back to back", Duration::ZERO),
    ] {
        let (mut created, mut first) = (Vec::new(), Vec::new());
        for _ in 0..15 {
            tokio::time::sleep(pause).await;
            let (s, c, f) = open(&iso, &quiet).await;
            created.push(c.as_secs_f64() * 1e3);
            first.push(f.as_secs_f64() * 1e3);
            s.close().await;
        }
        println!(
            "session start, {what}: created p50 {:.0} ms, p95 {:.0} ms; first frame p50 {:.0} ms, p95 {:.0} ms",
            percentile(&created, 0.5),
            percentile(&created, 0.95),
            percentile(&first, 0.5),
            percentile(&first, 0.95)
        );
    }

    // Input to frame.
    let (mut s, _, _) = open(&iso, &quiet).await;
    s.send(r#"{"t":"mouse","type":"down","x":100,"y":40,"button":"left","buttons":1,"clicks":1}"#)
        .await;
    s.send(r#"{"t":"mouse","type":"up","x":100,"y":40,"button":"left","buttons":0,"clicks":1}"#)
        .await;
    s.drain(Duration::from_millis(500)).await;
    let mut lat = Vec::new();
    for i in 0..60 {
        let ch = (b'a' + (i % 26) as u8) as char;
        let t0 = Instant::now();
        s.send(&format!(
            r#"{{"t":"key","type":"down","key":"{ch}","code":"Key{}","key_code":{}}}"#,
            ch.to_ascii_uppercase(),
            ch.to_ascii_uppercase() as u32
        ))
        .await;
        s.send(&format!(
            r#"{{"t":"key","type":"up","key":"{ch}","code":"Key{}","key_code":{}}}"#,
            ch.to_ascii_uppercase(),
            ch.to_ascii_uppercase() as u32
        ))
        .await;
        if s.next_frame(Duration::from_secs(2)).await.is_some() {
            lat.push(t0.elapsed().as_secs_f64() * 1e3);
        }
        s.drain(Duration::from_millis(120)).await;
    }
    println!(
        "input to frame: p50 {:.1} ms, p95 {:.1} ms ({} of 60 keys produced a frame)",
        percentile(&lat, 0.5),
        percentile(&lat, 0.95),
        lat.len()
    );
    // Left alone with the field focused: a caret is on screen.
    s.drain(Duration::from_secs(1)).await;
    let pid = chromium_pid(&iso).await.expect("browser running");
    let cpu0 = tree_cpu_ticks(pid);
    let t0 = Instant::now();
    let (n, _) = s.drain(Duration::from_secs(5)).await;
    println!(
        "idle page with a field focused: {n} frames in 5 s, Chromium CPU {:.3} cores",
        (tree_cpu_ticks(pid) - cpu0) as f64 / 100.0 / t0.elapsed().as_secs_f64()
    );
    s.close().await;

    // Scrolling and idle.
    let (mut s, _, _) = open(&iso, &site.url("/scroll")).await;
    let pid = chromium_pid(&iso).await.expect("browser running");
    let hz = 100.0; // USER_HZ on Linux
    let cpu0 = tree_cpu_ticks(pid);
    let t0 = Instant::now();
    let (mut frames, mut bytes) = (0, 0);
    for i in 0..150 {
        let dy = if (i / 50) % 2 == 0 { 60 } else { -60 };
        s.send(&format!(
            r#"{{"t":"mouse","type":"wheel","x":300,"y":300,"dx":0,"dy":{dy}}}"#
        ))
        .await;
        let (n, b) = s.drain(Duration::from_millis(33)).await;
        frames += n;
        bytes += b;
    }
    let secs = t0.elapsed().as_secs_f64();
    let cpu = (tree_cpu_ticks(pid) - cpu0) as f64 / hz / secs;
    println!(
        "scrolling: {:.1} frames/s, {:.0} KB/s, Chromium CPU {:.2} cores",
        frames as f64 / secs,
        bytes as f64 / 1024.0 / secs,
        cpu
    );
    s.drain(Duration::from_secs(2)).await;
    let (n, b) = s.drain(Duration::from_secs(5)).await;
    println!("idle page: {} frames, {:.0} bytes/s", n, b as f64 / 5.0);
    s.close().await;

    // Memory per idle session.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let base = tree_pss_kb(chromium_pid(&iso).await.expect("browser running"));
    let rest = Duration::from_secs(iso.state.config.stream.rest_after_secs + 3);
    let mut sessions = Vec::new();
    let (mut casting, mut resting) = (Vec::new(), Vec::new());
    for target in [1usize, 10, 30] {
        while sessions.len() < target {
            sessions.push(open(&iso, &quiet).await.0);
        }
        tokio::time::sleep(Duration::from_secs(3)).await;
        casting.push((
            target,
            tree_pss_kb(chromium_pid(&iso).await.expect("browser running")),
        ));
        tokio::time::sleep(rest).await;
        resting.push((
            target,
            tree_pss_kb(chromium_pid(&iso).await.expect("browser running")),
        ));
    }
    println!(
        "Chromium PSS with idle sessions (browser alone {:.0} MB)",
        base as f64 / 1024.0
    );
    let mb = |kb: u64| kb as f64 / 1024.0;
    for (what, at) in [("casting", &casting), ("resting", &resting)] {
        let line: Vec<String> = at
            .iter()
            .map(|(n, p)| format!("{n}: {:.0} MB", mb(*p)))
            .collect();
        println!("  {what}: {}", line.join(", "));
    }
    // Sessions 11 to 30 added to 10 resting ones, before they rest; and
    // sessions 2 to 30 once all rest.
    println!(
        "  per extra idle session: {:.1} MB while its cast runs, {:.1} MB once it rests",
        (mb(casting[2].1) - mb(resting[1].1)) / 20.0,
        (mb(resting[2].1) - mb(resting[0].1)) / 29.0
    );
    println!(
        "  resting sessions at the last count: {} of {}",
        iso.state.sessions.attached_count().2,
        sessions.len()
    );
    for s in sessions {
        s.close().await;
    }
    // Each session was ended by its client (`close`): the browser should be
    // back near where it started.
    let ended = Instant::now();
    while iso.state.sessions.count() > 0 && ended.elapsed() < Duration::from_secs(120) {
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    tokio::time::sleep(Duration::from_secs(5)).await;
    println!(
        "Chromium PSS after the 30 sessions ended: {:.0} MB (browser alone before: {:.0} MB)",
        mb(tree_pss_kb(
            chromium_pid(&iso).await.expect("browser running")
        )),
        mb(base)
    );
}
