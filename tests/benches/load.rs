//! Load benchmark: many concurrent sessions on one server and one Chromium.
//!
//! `cargo bench -p isolator-e2e --bench load` (release). Prints one line per
//! step and a summary; the README's benchmark section holds a measured table.
//!
//! Each session is a scripted client speaking the web client's WebSocket
//! protocol (a browser per session would measure the client browser, not the
//! server). For a fixed time it loops: navigate to a text field, click it,
//! type keys one at a time measuring input-to-frame (the key sent until the
//! next frame arrives; the page has no caret blink or animation, so that frame
//! shows the key), navigate to a long page and scroll it with the wheel for a
//! second. The step count N goes 1, 2, 4, 8, 12, 16, 20 (`LOAD_STEPS=1,4,8`
//! overrides, `LOAD_SECS` sets the time per step, 20 s by default); each step
//! reports input-to-frame p50/p95, frames/s (all sessions together), the
//! server process's RSS and Chromium's PSS (its whole process tree), peak
//! over the step. Then the largest N with p95 < 100 ms, and memory before the
//! first session, at peak, and after every session ended and its
//! BrowserContext was disposed.
//!
//! The server runs in this process (as in the other e2e benches), so "server
//! RSS" includes the scripted clients: a few hundred KB per socket.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use isolator_e2e::procfs::{chromium_pid, field_kb, percentile, tree_pss_kb};
use isolator_e2e::{Isolator, TestSite};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A key that produced no frame within this counts at this latency.
const KEY_TIMEOUT: Duration = Duration::from_secs(2);

struct Session {
    ws: Ws,
    frames: u64,
}

async fn open(iso: &Isolator, url: &str) -> anyhow::Result<Session> {
    let res = reqwest::Client::new()
        .post(iso.url("/api/sessions"))
        .header("x-isolator-request", "1")
        .json(&serde_json::json!({ "url": url, "width": 1280, "height": 720, "dpr": 1 }))
        .send()
        .await?;
    anyhow::ensure!(res.status() == 201, "session create: {}", res.status());
    let body: serde_json::Value = res.json().await?;
    let mut req = iso
        .url(body["ws"].as_str().unwrap_or_default())
        .replace("http://", "ws://")
        .into_client_request()?;
    req.headers_mut()
        .insert("origin", iso.url("").trim_end_matches('/').parse()?);
    req.headers_mut().insert(
        "sec-websocket-protocol",
        format!(
            "isolator.v1, isolator.token.{}",
            body["token"].as_str().unwrap_or_default()
        )
        .parse()?,
    );
    let (ws, _) = tokio_tungstenite::connect_async(req).await?;
    let mut s = Session { ws, frames: 0 };
    anyhow::ensure!(
        s.next_frame(Duration::from_secs(30)).await?.is_some(),
        "no first frame"
    );
    Ok(s)
}

impl Session {
    /// Waits for the next frame (acking it, as the web client does); `None` on timeout.
    async fn next_frame(&mut self, within: Duration) -> anyhow::Result<Option<usize>> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            match tokio::time::timeout_at(deadline, self.ws.next()).await {
                Ok(Some(Ok(Message::Binary(b)))) => {
                    anyhow::ensure!(b.len() > 8, "short frame");
                    let seq = u32::from_be_bytes([b[4], b[5], b[6], b[7]]);
                    self.send(&format!(r#"{{"t":"frame_ack","seq":{seq}}}"#))
                        .await?;
                    self.frames += 1;
                    return Ok(Some(b.len()));
                }
                Ok(Some(Ok(Message::Text(t)))) => {
                    if t.contains(r#""t":"ended""#) {
                        anyhow::bail!("session ended: {t}");
                    }
                }
                Ok(Some(Ok(_))) => {}
                Ok(Some(Err(e))) => return Err(e.into()),
                Ok(None) => anyhow::bail!("socket closed"),
                Err(_) => return Ok(None),
            }
        }
    }

    async fn send(&mut self, text: &str) -> anyhow::Result<()> {
        self.ws.send(Message::Text(text.to_owned().into())).await?;
        Ok(())
    }

    /// Takes frames until none came for `quiet` (or `max` passed).
    async fn settle(&mut self, quiet: Duration, max: Duration) -> anyhow::Result<()> {
        let end = Instant::now() + max;
        while Instant::now() < end {
            if self.next_frame(quiet).await?.is_none() {
                break;
            }
        }
        Ok(())
    }

    /// Takes frames for `d`.
    async fn drain(&mut self, d: Duration) -> anyhow::Result<()> {
        let end = Instant::now() + d;
        while let Some(left) = end.checked_duration_since(Instant::now()) {
            if self.next_frame(left).await?.is_none() {
                break;
            }
        }
        Ok(())
    }

    async fn navigate(&mut self, url: &str) -> anyhow::Result<()> {
        self.send(&serde_json::json!({"t": "navigate", "url": url}).to_string())
            .await?;
        self.settle(Duration::from_millis(300), Duration::from_secs(5))
            .await
    }

    async fn click(&mut self, x: u32, y: u32) -> anyhow::Result<()> {
        for (kind, buttons) in [("down", 1), ("up", 0)] {
            self.send(&format!(
                r#"{{"t":"mouse","type":"{kind}","x":{x},"y":{y},"button":"left","buttons":{buttons},"clicks":1}}"#
            ))
            .await?;
        }
        Ok(())
    }

    /// One key; returns its input-to-frame time (`KEY_TIMEOUT` when no frame came).
    async fn key(&mut self, i: u32) -> anyhow::Result<Duration> {
        let ch = (b'a' + (i % 26) as u8) as char;
        let up = ch.to_ascii_uppercase();
        let t0 = Instant::now();
        for kind in ["down", "up"] {
            self.send(&format!(
                r#"{{"t":"key","type":"{kind}","key":"{ch}","code":"Key{up}","key_code":{}}}"#,
                up as u32
            ))
            .await?;
        }
        Ok(match self.next_frame(KEY_TIMEOUT).await? {
            Some(_) => t0.elapsed(),
            None => KEY_TIMEOUT,
        })
    }

    async fn close(mut self) {
        let _ = self.send(r#"{"t":"close"}"#).await;
        let _ = tokio::time::timeout(Duration::from_secs(5), async {
            while self.ws.next().await.is_some() {}
        })
        .await;
    }
}

/// What all sessions of one step measured.
#[derive(Default)]
struct Tally {
    latencies_ms: Vec<f64>,
    missed: usize,
    errors: Vec<String>,
}

/// One session's script, looped until `until`.
async fn script(
    s: &mut Session,
    input: &str,
    scroll: &str,
    until: Instant,
    tally: &Mutex<Tally>,
) -> anyhow::Result<()> {
    let mut key = 0u32;
    while Instant::now() < until {
        s.navigate(input).await?;
        s.click(100, 40).await?;
        s.settle(Duration::from_millis(150), Duration::from_secs(2))
            .await?;
        for _ in 0..15 {
            if Instant::now() >= until {
                break;
            }
            let took = s.key(key).await?;
            key += 1;
            {
                let mut t = tally.lock().unwrap();
                if took >= KEY_TIMEOUT {
                    t.missed += 1;
                }
                t.latencies_ms.push(took.as_secs_f64() * 1e3);
            }
            // Let the key's trailing frames pass, so the next key's frame is its own.
            s.settle(Duration::from_millis(100), Duration::from_secs(1))
                .await?;
        }
        if Instant::now() >= until {
            break;
        }
        s.navigate(scroll).await?;
        for i in 0..30 {
            let dy = if i < 15 { 80 } else { -80 };
            s.send(&format!(
                r#"{{"t":"mouse","type":"wheel","x":300,"y":300,"dx":0,"dy":{dy}}}"#
            ))
            .await?;
            s.drain(Duration::from_millis(33)).await?;
        }
    }
    Ok(())
}

/// Chromium's PSS: the whole process tree, in KB.
fn chromium_pss_kb(root: Option<u32>) -> u64 {
    root.map_or(0, tree_pss_kb)
}

/// This process's RSS (the server and the scripted clients), in KB.
fn server_rss_kb() -> u64 {
    field_kb(
        &std::fs::read_to_string("/proc/self/status").unwrap_or_default(),
        "VmRSS:",
    )
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

fn mb(kb: u64) -> f64 {
    kb as f64 / 1024.0
}

/// Peak memory over a step, sampled every second.
#[derive(Clone, Copy, Default)]
struct Peak {
    rss_kb: u64,
    pss_kb: u64,
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let steps: Vec<usize> = std::env::var("LOAD_STEPS")
        .ok()
        .map(|s| s.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![1, 2, 4, 8, 12, 16, 20]);
    let step_secs: u64 = std::env::var("LOAD_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    let most = steps.iter().copied().max().unwrap_or(1);

    let rss_start = server_rss_kb();
    let site = TestSite::start().await;
    let iso = Isolator::for_site_with(&site, |c| {
        c.sessions.max = most + 2;
        // Each loop loads two pages every few seconds; stay clear of the limit.
        c.sessions.max_navigations_per_minute = 600;
    })
    .await;
    let input = site.url("/bench/input");
    let scroll = site.url("/scroll");
    println!(
        "isolator load benchmark: 1280x720, JPEG q70, max 30 fps, {step_secs} s per step, load average {}",
        load_average()
    );

    // Launch the browser with one session, then measure it with none.
    open(&iso, &input)
        .await
        .expect("warm-up session")
        .close()
        .await;
    wait_disposed(&iso).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let pid = chromium_pid(&iso).await;
    let base = Peak {
        rss_kb: server_rss_kb(),
        pss_kb: chromium_pss_kb(pid),
    };
    println!(
        "before the first session: server RSS {:.0} MB (at start, before the browser: {:.0} MB), Chromium PSS {:.0} MB (browser alone)",
        mb(base.rss_kb),
        mb(rss_start),
        mb(base.pss_kb)
    );
    println!(
        "{:>3} | {:>9} | {:>9} | {:>6} | {:>8} | {:>8} | {:>7} | {:>6} | load",
        "N", "i2f p50", "i2f p95", "keys", "frames/s", "srv RSS", "Cr PSS", "errors"
    );

    let mut best = None;
    let mut overall = base;
    for &n in &steps {
        let load_before = load_average();
        let mut sessions = Vec::with_capacity(n);
        let mut open_errors = Vec::new();
        for _ in 0..n {
            match open(&iso, &input).await {
                Ok(s) => sessions.push(s),
                Err(e) => open_errors.push(format!("{e:#}")),
            }
        }
        let tally = Arc::new(Mutex::new(Tally {
            errors: open_errors,
            ..Tally::default()
        }));
        let peak = Arc::new(Mutex::new(Peak::default()));
        let sampling = Arc::new(std::sync::atomic::AtomicBool::new(true));
        let sampler = {
            let (peak, sampling) = (peak.clone(), sampling.clone());
            tokio::task::spawn_blocking(move || {
                while sampling.load(std::sync::atomic::Ordering::Relaxed) {
                    let (rss, pss) = (server_rss_kb(), chromium_pss_kb(pid));
                    let mut p = peak.lock().unwrap();
                    p.rss_kb = p.rss_kb.max(rss);
                    p.pss_kb = p.pss_kb.max(pss);
                    drop(p);
                    std::thread::sleep(Duration::from_secs(1));
                }
            })
        };
        let started = Instant::now();
        let until = started + Duration::from_secs(step_secs);
        let tasks: Vec<_> = sessions
            .into_iter()
            .map(|mut s| {
                let (tally, input, scroll) = (tally.clone(), input.clone(), scroll.clone());
                tokio::spawn(async move {
                    let at_start = s.frames;
                    if let Err(e) = script(&mut s, &input, &scroll, until, &tally).await {
                        tally.lock().unwrap().errors.push(format!("{e:#}"));
                    }
                    let frames = s.frames - at_start;
                    s.close().await;
                    frames
                })
            })
            .collect();
        let mut frames = 0;
        for t in tasks {
            frames += t.await.unwrap_or(0);
        }
        let secs = started.elapsed().as_secs_f64();
        sampling.store(false, std::sync::atomic::Ordering::Relaxed);
        let _ = sampler.await;
        let peak = *peak.lock().unwrap();
        overall.rss_kb = overall.rss_kb.max(peak.rss_kb);
        overall.pss_kb = overall.pss_kb.max(peak.pss_kb);
        let tally = std::mem::take(&mut *tally.lock().unwrap());
        let (p50, p95) = (
            percentile(&tally.latencies_ms, 0.5),
            percentile(&tally.latencies_ms, 0.95),
        );
        println!(
            "{n:>3} | {p50:>6.1} ms | {p95:>6.1} ms | {:>6} | {:>8.1} | {:>5.0} MB | {:>4.0} MB | {:>6} | {load_before} -> {}",
            format!("{}/{}", tally.latencies_ms.len() - tally.missed, tally.latencies_ms.len()),
            frames as f64 / secs,
            mb(peak.rss_kb),
            mb(peak.pss_kb),
            tally.errors.len(),
            load_average()
        );
        for e in tally.errors.iter().take(3) {
            println!("      error: {e}");
        }
        if p95 < 100.0 && tally.errors.is_empty() {
            best = Some(n);
        }
        wait_disposed(&iso).await;
    }

    tokio::time::sleep(Duration::from_secs(5)).await;
    let after = Peak {
        rss_kb: server_rss_kb(),
        pss_kb: chromium_pss_kb(chromium_pid(&iso).await),
    };
    match best {
        Some(n) => println!("largest N with input-to-frame p95 < 100 ms: {n}"),
        None => println!("no step had input-to-frame p95 < 100 ms"),
    }
    println!(
        "memory: server RSS {:.0} MB before, {:.0} MB peak, {:.0} MB after ({:+.0} MB); \
         Chromium PSS {:.0} MB before, {:.0} MB peak, {:.0} MB after ({:+.0} MB); load average {}",
        mb(base.rss_kb),
        mb(overall.rss_kb),
        mb(after.rss_kb),
        mb(after.rss_kb) - mb(base.rss_kb),
        mb(base.pss_kb),
        mb(overall.pss_kb),
        mb(after.pss_kb),
        mb(after.pss_kb) - mb(base.pss_kb),
        load_average()
    );
}

/// Waits until every session ended and its BrowserContext was disposed.
async fn wait_disposed(iso: &Isolator) {
    use chromiumoxide::cdp::browser_protocol::target::GetBrowserContextsParams;
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        let contexts = match iso.state.sessions.browser().peek().await {
            Some(r) => r
                .browser
                .execute(GetBrowserContextsParams::default())
                .await
                .map(|c| c.result.browser_context_ids.len())
                .unwrap_or(usize::MAX),
            None => 0,
        };
        if iso.state.sessions.count() == 0 && contexts == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    println!(
        "WARNING: {} sessions still live 60 s after their clients closed",
        iso.state.sessions.count()
    );
}
