//! Metrics, probes and JSON logs from the outside:
//! - a real session (real Chromium, a local site, a WebSocket client) moves
//!   the counters that `/metrics` shows over HTTP: a blocked paste counts
//!   under its gate, outcome and detector, frames and input latency count;
//! - `/readyz` follows the readiness conditions (503 with the reason, then 200);
//! - the real binary, `isolator serve --log-format json`, writes only JSON
//!   objects on stderr, serves `[metrics] listen`, its scrape passes
//!   Prometheus' own `promtool check metrics`, and every metric name in the
//!   Grafana dashboard is one it exposes (and every family has a panel).

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use isolator::config::Config;
use tokio_tungstenite::tungstenite::Message;
use ws::Ws;

mod server;
#[path = "support/ws.rs"]
mod ws;

const POLICY: &str = r#"
[[rules]]
name = "scan-paste"
paste = { mode = "scan", profiles = ["financial"] }
"#;

/// A test card number (Visa's documented test PAN).
const CARD: &str = "4111 1111 1111 1111";

const DASHBOARD: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/deploy/grafana/isolator-dashboard.json"
);

/// Serves `state`'s metrics on a fresh loopback port, as `[metrics] listen` would.
async fn metrics_listener(
    state: &isolator::http::AppState,
    shutdown: tokio::sync::watch::Receiver<bool>,
) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(isolator::metrics::server::serve(
        listener,
        state.metrics.clone(),
        shutdown,
    ));
    addr
}

async fn get(url: String) -> (u16, String) {
    let res = reqwest::get(url).await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

/// The value of the sample whose name and labels are all in `parts`.
fn sample(scrape: &str, name: &str, labels: &[&str]) -> Option<f64> {
    scrape
        .lines()
        .filter(|l| !l.starts_with('#'))
        .find(|l| {
            let key = l.rsplit_once(' ').map_or("", |(k, _)| k);
            let bare = key.split('{').next().unwrap_or("");
            bare == name && labels.iter().all(|want| key.contains(want))
        })
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
}

/// The next binary frame, or the next text message of type `t`. Every
/// frame is acknowledged, as the web client does (the server keeps at most
/// two unacknowledged).
/// Frames the test's client received (each one acknowledged).
static FRAMES_RECEIVED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

async fn next(ws: &mut Ws, t: Option<&str>) -> Message {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let msg = tokio::time::timeout_at(deadline, ws.next())
            .await
            .unwrap_or_else(|_| panic!("no {t:?} in time"))
            .expect("socket open")
            .expect("socket ok");
        if let Message::Binary(b) = &msg {
            FRAMES_RECEIVED.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let (h, _) = isolator::protocol::FrameHeader::decode(b).unwrap();
            let ack = serde_json::json!({ "t": "frame_ack", "seq": h.seq });
            ws.send(Message::Text(ack.to_string().into()))
                .await
                .unwrap();
        }
        match (&msg, t) {
            (Message::Binary(_), None) => return msg,
            (Message::Text(text), Some(t)) if text.as_str().contains(&format!(r#""t":"{t}""#)) => {
                return msg
            }
            _ => {}
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_session_moves_the_counters() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    // A local site with a focused text box, allowed by address and port.
    let site = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let site_addr = site.local_addr().unwrap();
    let page = axum::Router::new().route(
        "/form.html",
        axum::routing::get(|| async {
            axum::response::Html(
                "<!doctype html><title>form</title><textarea autofocus style='width:600px;height:300px;font-size:40px'></textarea>",
            )
        }),
    );
    tokio::spawn(async move { axum::serve(site, page).await });

    let dir = tempfile::tempdir().unwrap();
    let web = dir.path().join("web");
    std::fs::create_dir_all(&web).unwrap();
    std::fs::write(web.join("index.html"), "<!doctype html><title>t</title>").unwrap();
    std::fs::write(dir.path().join("policy.toml"), POLICY).unwrap();
    let mut config = Config {
        web_root: web,
        data_dir: dir.path().join("data"),
        ..Config::default()
    };
    config.audit.dir = dir.path().join("recordings");
    config.policies.file = Some(dir.path().join("policy.toml"));
    config.policies.watch_interval_ms = 0;
    config
        .egress
        .allow
        .push(format!("127.0.0.1:{}", site_addr.port()));
    let (addr, state, _shutdown) = server::start(config).await;
    let (_stop_metrics, stop_rx) = tokio::sync::watch::channel(false);
    let metrics = metrics_listener(&state, stop_rx).await;
    let scrape = || get(format!("http://{metrics}/metrics"));

    let (status, before) = scrape().await;
    assert_eq!(status, 200);
    assert_eq!(
        sample(&before, "isolator_sessions_started_total", &[]),
        Some(0.0)
    );

    // A session on the form page, its socket from the server's own origin.
    let body: serde_json::Value = reqwest::Client::new()
        .post(format!("http://{addr}/api/sessions"))
        .header("x-isolator-request", "1")
        .json(&serde_json::json!({
            "url": format!("http://{site_addr}/form.html"),
            "width": 800, "height": 600, "dpr": 1
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let (id, token) = (
        body["id"].as_str().unwrap(),
        body["token"].as_str().unwrap(),
    );
    let origin = format!("http://{addr}");
    let mut ws = ws::open(&addr.to_string(), id, token, &origin, None)
        .await
        .unwrap();
    // The form page has loaded (typing before would go nowhere).
    while !next(&mut ws, Some("state"))
        .await
        .to_string()
        .contains(r#""title":"form""#)
    {}
    let (_, attached) = scrape().await;
    assert_eq!(
        sample(&attached, "isolator_sessions", &["state=\"active\""]),
        Some(1.0)
    );
    assert_eq!(
        sample(&attached, "isolator_sessions", &["state=\"attached\""]),
        Some(1.0)
    );
    assert_eq!(
        sample(&attached, "isolator_sessions_started_total", &[]),
        Some(1.0)
    );

    // A card number pasted: blocked, counted once under its detector.
    ws.send(Message::Text(
        serde_json::json!({ "t": "paste", "text": CARD })
            .to_string()
            .into(),
    ))
    .await
    .unwrap();
    let notice = next(&mut ws, Some("notice")).await;
    assert!(notice.to_string().contains("paste_blocked"), "{notice}");
    // A click focuses the text box; keys typed into it paint, so frames
    // answer the input.
    for kind in ["down", "up"] {
        ws.send(Message::Text(
            serde_json::json!({ "t": "mouse", "type": kind, "x": 100, "y": 100, "button": "left", "buttons": 1, "clicks": 1 })
                .to_string()
                .into(),
        ))
        .await
        .unwrap();
    }
    for key in ["a", "b", "c"] {
        for kind in ["down", "up"] {
            ws.send(Message::Text(
                serde_json::json!({ "t": "key", "type": kind, "key": key, "code": format!("Key{}", key.to_uppercase()) })
                    .to_string()
                    .into(),
            ))
            .await
            .unwrap();
        }
        next(&mut ws, None).await;
    }

    let (_, after) = scrape().await;
    let blocked: Vec<&str> = after
        .lines()
        .filter(|l| {
            l.starts_with("isolator_gate_decisions_total{")
                && l.contains("gate=\"paste\"")
                && l.contains("outcome=\"block\"")
                && !l.ends_with(" 0")
        })
        .collect();
    assert_eq!(blocked.len(), 1, "one blocked paste: {blocked:?}\n{after}");
    assert!(
        blocked[0].contains("detector=\"credit_card\"") && blocked[0].ends_with(" 1"),
        "counted once under the card detector: {}",
        blocked[0]
    );
    // Every frame the client got was counted as sent (at least one per
    // key typed; how many came before depends on the machine's load).
    let received = FRAMES_RECEIVED.load(std::sync::atomic::Ordering::SeqCst);
    let frames = sample(&after, "isolator_frames_sent_total", &[]).unwrap();
    assert!(received >= 3, "{received} frames received");
    assert!(
        frames >= received as f64,
        "{frames} frames sent, {received} received"
    );
    // At least the last keys were answered by a frame sent after them (an
    // earlier frame may have been on its way before the first key).
    let answered = sample(&after, "isolator_input_to_frame_seconds_count", &[]).unwrap();
    assert!(answered >= 1.0, "{answered} inputs answered by a frame");
    let latency = sample(&after, "isolator_input_to_frame_seconds_sum", &[]).unwrap();
    assert!(
        latency > 0.0 && latency / answered < 5.0,
        "{latency} s in all"
    );
    assert!(sample(&after, "isolator_scan_seconds_count", &["kind=\"text\""]).unwrap() >= 1.0);
    assert!(
        sample(
            &after,
            "isolator_egress_requests_total",
            &["outcome=\"allowed\""]
        )
        .unwrap()
            >= 1.0
    );
    assert!(sample(&after, "isolator_chromium_processes", &[]).unwrap() >= 2.0);
    let rss = sample(&after, "isolator_chromium_memory_bytes", &["kind=\"rss\""]).unwrap();
    let pss = sample(&after, "isolator_chromium_memory_bytes", &["kind=\"pss\""]).unwrap();
    assert!(
        rss > 50e6 && pss > 10e6 && pss <= rss,
        "rss {rss} pss {pss}"
    );
    assert!(sample(&after, "isolator_chromium_cpu_seconds_total", &[]).unwrap() > 0.0);
    // No user, session id or URL is a label value.
    for secret in [id, &site_addr.to_string(), "anonymous"] {
        assert!(!after.contains(secret), "{secret} leaked into the metrics");
    }

    // Closing the session counts its end with the reason.
    ws.send(Message::Text(r#"{"t":"close"}"#.into()))
        .await
        .unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let (_, text) = scrape().await;
        if sample(
            &text,
            "isolator_sessions_ended_total",
            &["reason=\"closed\""],
        ) == Some(1.0)
            && sample(&text, "isolator_sessions", &["state=\"active\""]) == Some(0.0)
        {
            // The session's frames went to its recording.
            let recorded = sample(&text, "isolator_recording_bytes_total", &[]).unwrap();
            assert!(recorded > 1_000.0, "{recorded} bytes recorded");
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no end counted:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_follows_its_conditions() {
    let dir = tempfile::tempdir().unwrap();
    let web = dir.path().join("web");
    std::fs::create_dir_all(&web).unwrap();
    std::fs::write(web.join("index.html"), "x").unwrap();
    let mut config = Config {
        web_root: web,
        data_dir: dir.path().join("data"),
        ..Config::default()
    };
    config.audit.dir = dir.path().join("recordings");
    let (_addr, state, _shutdown) = server::start(config).await;
    let (_stop, rx) = tokio::sync::watch::channel(false);
    let metrics = metrics_listener(&state, rx).await;

    assert_eq!(get(format!("http://{metrics}/livez")).await.0, 200);
    assert_eq!(
        get(format!("http://{metrics}/readyz")).await,
        (200, "ready\n".to_owned())
    );
    let readiness = state.metrics.readiness().clone();
    readiness.set_not_ready("draining", "the node is being drained");
    let (status, body) = get(format!("http://{metrics}/readyz")).await;
    assert_eq!(status, 503);
    assert_eq!(body, "not ready: draining: the node is being drained\n");
    let (_, scrape) = get(format!("http://{metrics}/metrics")).await;
    assert_eq!(sample(&scrape, "isolator_ready", &[]), Some(0.0));
    readiness.set_ready("draining");
    assert_eq!(get(format!("http://{metrics}/readyz")).await.0, 200);
    let (_, scrape) = get(format!("http://{metrics}/metrics")).await;
    assert_eq!(sample(&scrape, "isolator_ready", &[]), Some(1.0));

    // Another server in this process counts apart.
    let other = isolator::metrics::Metrics::new();
    other.session_started();
    assert_eq!(
        sample(
            &state.metrics.encode(),
            "isolator_sessions_started_total",
            &[]
        ),
        Some(0.0)
    );
}

/// Every `isolator_*` name in a PromQL expression.
fn metric_names(expr: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = expr;
    while let Some(at) = rest.find("isolator_") {
        let name: String = rest[at..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':')
            .collect();
        rest = &rest[at + name.len()..];
        out.insert(name);
    }
    out
}

/// Every query of the dashboard: panel targets and template variables.
fn dashboard_queries(dashboard: &serde_json::Value) -> Vec<String> {
    let mut out = Vec::new();
    for panel in dashboard["panels"].as_array().expect("panels") {
        for target in panel["targets"].as_array().expect("targets") {
            out.push(target["expr"].as_str().expect("expr").to_owned());
        }
        assert_eq!(
            panel["datasource"]["uid"], "${datasource}",
            "panel {} must use the datasource variable",
            panel["title"]
        );
    }
    for var in dashboard["templating"]["list"]
        .as_array()
        .expect("variables")
    {
        if let Some(q) = var["query"]["query"].as_str() {
            out.push(q.to_owned());
        }
    }
    out
}

#[test]
fn the_binary_logs_json_serves_metrics_promtool_accepts_and_the_dashboard_names() {
    let dir = tempfile::tempdir().unwrap();
    let web = dir.path().join("web");
    std::fs::create_dir_all(&web).unwrap();
    std::fs::write(web.join("index.html"), "x").unwrap();
    let config = dir.path().join("isolator.toml");
    std::fs::write(
        &config,
        "listen = \"127.0.0.1:0\"\nweb_root = \"web\"\ndata_dir = \"data\"\n\
         [audit]\ndir = \"recordings\"\n[metrics]\nlisten = \"127.0.0.1:0\"\n",
    )
    .unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_isolator"))
        .args(["serve", "--log-format", "json", "--config"])
        .arg(&config)
        .env("RUST_LOG", "info")
        .env_remove("ISOLATOR_LOG_JSON")
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (lines_tx, lines_rx) = std::sync::mpsc::channel::<String>();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut lines = Vec::new();
    let metrics_addr = loop {
        let line = lines_rx
            .recv_timeout(Duration::from_secs(20))
            .unwrap_or_else(|_| panic!("no `metrics listening` line; got {lines:#?}"));
        lines.push(line.clone());
        let v: serde_json::Value =
            serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        if v["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("metrics listening"))
        {
            break v["addr"].as_str().expect("addr field").to_owned();
        }
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (status, scrape) = rt.block_on(get(format!("http://{metrics_addr}/metrics")));
    assert_eq!(status, 200);
    let (ready, _) = rt.block_on(get(format!("http://{metrics_addr}/readyz")));
    assert_eq!(ready, 200);

    // Prometheus' own checker (Debian package `prometheus`) accepts the scrape.
    let path = dir.path().join("scrape.txt");
    std::fs::write(&path, &scrape).unwrap();
    let out = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::fs::File::open(&path).unwrap())
        .output()
        .expect("promtool (install-deps.sh installs the prometheus package)");
    assert!(
        out.status.success(),
        "promtool: {}{}\n{scrape}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    // The dashboard names only what the server exposes, and shows every family.
    let exposed: BTreeSet<String> = scrape
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| l.split(['{', ' ']).next().unwrap().to_owned())
        .collect();
    let families: BTreeSet<String> = scrape
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .map(|l| l.split(' ').next().unwrap().to_owned())
        .collect();
    let dashboard: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(Path::new(DASHBOARD)).unwrap()).unwrap();
    let mut named = BTreeSet::new();
    for q in dashboard_queries(&dashboard) {
        for name in metric_names(&q) {
            assert!(
                exposed.contains(&name),
                "the dashboard's {name} is not exposed: {q}"
            );
            named.insert(name);
        }
    }
    for family in &families {
        assert!(
            named
                .iter()
                .any(|n| n == family || n.starts_with(&format!("{family}_"))),
            "no panel shows {family}"
        );
    }
    assert!(families.len() >= 16, "{families:?}");
    assert_eq!(
        dashboard["templating"]["list"][0]["type"], "datasource",
        "the datasource is a template variable"
    );

    // SIGTERM: the server stops; every stderr line was one JSON object.
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let status = child.wait().unwrap();
    assert!(status.success(), "{status}");
    reader.join().unwrap();
    lines.extend(lines_rx.try_iter());
    assert!(
        lines.iter().any(|l| l.contains("shutting down")),
        "{lines:#?}"
    );
    for line in &lines {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        let obj = v.as_object().expect("an object per line");
        for key in ["timestamp", "level", "target", "message"] {
            assert!(obj.contains_key(key), "{key} missing: {line}");
        }
        assert!(
            !obj.contains_key("fields"),
            "fields are flattened to the top level: {line}"
        );
        // RFC 3339 in UTC: 2026-12-06T23:01:02.345678Z.
        let ts = v["timestamp"].as_str().expect("timestamp is a string");
        assert!(
            ts.len() >= 20
                && ts.as_bytes()[4] == b'-'
                && ts.as_bytes()[10] == b'T'
                && ts.ends_with('Z'),
            "{line}"
        );
    }
}
