//! What the load benchmarks share: a scripted session speaking the web
//! client's WebSocket protocol and timing input to frame (a browser per
//! session would measure the client browser, not the server), and the
//! figures they read about the server and its Chromium.

use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

use crate::procfs::{field_kb, tree_pss_kb};
use crate::Isolator;

/// A key that produced no frame within this counts at this latency.
pub const KEY_TIMEOUT: Duration = Duration::from_secs(2);

/// A navigation not loaded within this fails the session's script.
pub const NAVIGATION_TIMEOUT: Duration = Duration::from_secs(30);

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// One scripted session.
pub struct Session {
    ws: Ws,
    /// Frames received (and acked) so far.
    pub frames: u64,
    /// The active tab's URL and loading flag, from the last `state` message.
    state: (String, bool),
    /// `state` messages that said the tab is loading, so far.
    loads: u64,
}

/// Creates a session at `url` (1280x720) and waits for its first frame.
pub async fn open(iso: &Isolator, url: &str) -> anyhow::Result<Session> {
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
    let mut s = Session {
        ws,
        frames: 0,
        state: (String::new(), true),
        loads: 0,
    };
    anyhow::ensure!(
        s.next_frame(Duration::from_secs(30)).await?.is_some(),
        "no first frame"
    );
    // Loaded, so that the first navigation's wait sees only its own load.
    s.wait_loaded(|s| !s.state.0.is_empty()).await?;
    Ok(s)
}

impl Session {
    /// Waits for the next frame (acking it, as the web client does); `None` on timeout.
    pub async fn next_frame(&mut self, within: Duration) -> anyhow::Result<Option<usize>> {
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
                    if t.contains(r#""t":"state""#) {
                        let v: serde_json::Value = serde_json::from_str(&t)?;
                        self.state = (
                            v["url"].as_str().unwrap_or_default().to_owned(),
                            v["loading"].as_bool().unwrap_or(false),
                        );
                        self.loads += u64::from(self.state.1);
                    }
                }
                Ok(Some(Ok(_))) => {}
                Ok(Some(Err(e))) => return Err(e.into()),
                Ok(None) => anyhow::bail!("socket closed"),
                Err(_) => return Ok(None),
            }
        }
    }

    /// Sends one protocol message.
    pub async fn send(&mut self, text: &str) -> anyhow::Result<()> {
        self.ws.send(Message::Text(text.to_owned().into())).await?;
        Ok(())
    }

    /// Takes frames until none came for `quiet` (or `max` passed).
    pub async fn settle(&mut self, quiet: Duration, max: Duration) -> anyhow::Result<()> {
        let end = Instant::now() + max;
        while Instant::now() < end {
            if self.next_frame(quiet).await?.is_none() {
                break;
            }
        }
        Ok(())
    }

    /// Takes frames for `d`.
    pub async fn drain(&mut self, d: Duration) -> anyhow::Result<()> {
        let end = Instant::now() + d;
        while let Some(left) = end.checked_duration_since(Instant::now()) {
            if self.next_frame(left).await?.is_none() {
                break;
            }
        }
        Ok(())
    }

    /// Navigates, waits (taking frames) until the tab shows `url` loaded,
    /// as a user waits to see the page before clicking into it, then takes
    /// frames until the page is still.
    ///
    /// Waiting for frames to pause alone is not enough: under load a
    /// navigation can take longer than the pause, and the click that
    /// follows then lands on the previous page, so none of the keys typed
    /// after it changes the screen.
    ///
    /// The load must be this navigation's: the tab may already show `url`
    /// loaded (the script reloads the page it is on), so a state said
    /// "loading" after the request first.
    pub async fn navigate(&mut self, url: &str) -> anyhow::Result<()> {
        let loads = self.loads;
        self.send(&serde_json::json!({"t": "navigate", "url": url}).to_string())
            .await?;
        self.wait_loaded(|s| s.loads > loads && s.state.0 == url)
            .await?;
        self.settle(Duration::from_millis(300), Duration::from_secs(5))
            .await
    }

    /// Takes frames until the tab is not loading and `done` holds.
    async fn wait_loaded(&mut self, done: impl Fn(&Session) -> bool) -> anyhow::Result<()> {
        let deadline = Instant::now() + NAVIGATION_TIMEOUT;
        while self.state.1 || !done(self) {
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                anyhow::bail!(
                    "{} was not loaded within {NAVIGATION_TIMEOUT:?}",
                    self.state.0
                );
            };
            self.next_frame(left.min(Duration::from_millis(100)))
                .await?;
        }
        Ok(())
    }

    /// A left click at (`x`, `y`).
    pub async fn click(&mut self, x: u32, y: u32) -> anyhow::Result<()> {
        for (kind, buttons) in [("down", 1), ("up", 0)] {
            self.send(&format!(
                r#"{{"t":"mouse","type":"{kind}","x":{x},"y":{y},"button":"left","buttons":{buttons},"clicks":1}}"#
            ))
            .await?;
        }
        Ok(())
    }

    /// One key (a letter chosen by `i`); returns its input-to-frame time
    /// (`KEY_TIMEOUT` when no frame came).
    pub async fn key(&mut self, i: u32) -> anyhow::Result<Duration> {
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

    /// A wheel event of `dy` pixels at (300, 300).
    pub async fn wheel(&mut self, dy: i32) -> anyhow::Result<()> {
        self.send(&format!(
            r#"{{"t":"mouse","type":"wheel","x":300,"y":300,"dx":0,"dy":{dy}}}"#
        ))
        .await
    }

    /// Closes the session and waits for the socket to end.
    pub async fn close(mut self) {
        let _ = self.send(r#"{"t":"close"}"#).await;
        let _ = tokio::time::timeout(Duration::from_secs(5), async {
            while self.ws.next().await.is_some() {}
        })
        .await;
    }
}

/// Chromium's PSS: the whole process tree, in KB.
pub fn chromium_pss_kb(root: Option<u32>) -> u64 {
    root.map_or(0, tree_pss_kb)
}

/// This process's RSS (the server and the scripted clients), in KB.
pub fn server_rss_kb() -> u64 {
    field_kb(
        &std::fs::read_to_string("/proc/self/status").unwrap_or_default(),
        "VmRSS:",
    )
}

/// The load averages of 1, 5 and 15 minutes.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

/// KB as MB.
pub fn mb(kb: u64) -> f64 {
    kb as f64 / 1024.0
}

/// Waits until every session ended and its BrowserContext was disposed.
pub async fn wait_disposed(iso: &Isolator) {
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

/// Peak memory over a step: the server process's RSS and Chromium's PSS.
#[derive(Clone, Copy, Default)]
pub struct Peak {
    /// This process's RSS (the server and the scripted clients), KB.
    pub rss_kb: u64,
    /// Chromium's whole process tree's PSS, KB.
    pub pss_kb: u64,
}

/// Samples [`Peak`] every second on a blocking thread until stopped.
pub struct PeakSampler {
    peak: std::sync::Arc<std::sync::Mutex<Peak>>,
    sampling: std::sync::Arc<std::sync::atomic::AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

impl PeakSampler {
    /// Starts sampling, with Chromium's root process `pid`.
    pub fn start(pid: Option<u32>) -> PeakSampler {
        let peak = std::sync::Arc::new(std::sync::Mutex::new(Peak::default()));
        let sampling = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
        let task = {
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
        PeakSampler {
            peak,
            sampling,
            task,
        }
    }

    /// Stops sampling; the peak seen.
    pub async fn stop(self) -> Peak {
        self.sampling
            .store(false, std::sync::atomic::Ordering::Relaxed);
        let _ = self.task.await;
        let peak = *self.peak.lock().unwrap();
        peak
    }
}
