//! The session protocol over real HTTP and WebSocket, with a real Chromium:
//! session creation, frames, token and Origin checks, malformed messages.

#[path = "support/ws.rs"]
mod ws;

use std::net::SocketAddr;
use std::time::Duration;

use futures::SinkExt;
use isolator::config::Config;
use isolator::protocol::FrameHeader;
use tokio_tungstenite::tungstenite::Message;
use ws::{next_json, Ws};

struct Server {
    addr: SocketAddr,
    _shutdown: tokio::sync::watch::Sender<bool>,
    _dir: tempfile::TempDir,
}

async fn start(mut config: Config) -> Server {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let dir = tempfile::tempdir().unwrap();
    let web = dir.path().join("web");
    std::fs::create_dir_all(&web).unwrap();
    std::fs::write(web.join("index.html"), "<!doctype html><title>t</title>").unwrap();
    config.web_root = web;
    config.data_dir = dir.path().join("data");
    config.validate("test").unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::watch::channel(false);
    tokio::spawn(isolator::http::serve(listener, config, rx));
    Server {
        addr,
        _shutdown: tx,
        _dir: dir,
    }
}

async fn create(server: &Server, url: Option<&str>) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("http://{}/api/sessions", server.addr))
        .header("x-isolator-request", "1")
        .json(&serde_json::json!({ "url": url, "width": 800, "height": 600, "dpr": 1 }))
        .send()
        .await
        .unwrap()
}

/// A new session at `url`, its socket connected from the server's own origin.
async fn open(server: &Server, url: &str) -> Ws {
    let body: serde_json::Value = create(server, Some(url)).await.json().await.unwrap();
    let origin = format!("http://{}", server.addr);
    let (id, token) = (
        body["id"].as_str().unwrap(),
        body["token"].as_str().unwrap(),
    );
    connect(server, id, token, &origin).await.unwrap()
}

async fn connect(server: &Server, id: &str, token: &str, origin: &str) -> Result<Ws, String> {
    ws::open(&server.addr.to_string(), id, token, origin, None).await
}

async fn next_frame(ws: &mut Ws) -> (FrameHeader, Vec<u8>) {
    let frame = ws::a_frame(ws).await;
    let (h, jpeg) = FrameHeader::decode(&frame).expect("valid frame header");
    (h, jpeg.to_vec())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_streams_frames_and_checks_its_callers() {
    let server = start(Config::default()).await;
    let origin = format!("http://{}", server.addr);

    // Without the CSRF header, session creation is refused.
    let res = reqwest::Client::new()
        .post(format!("http://{}/api/sessions", server.addr))
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);

    let res = create(&server, Some("about:blank")).await;
    assert_eq!(res.status(), 201, "{:?}", res.text().await);
    let body: serde_json::Value = res.json().await.unwrap();
    let (id, token) = (
        body["id"].as_str().unwrap().to_owned(),
        body["token"].as_str().unwrap().to_owned(),
    );
    assert!(token.len() >= 43, "token must carry 256 bits");

    // Wrong token and foreign origin are refused at the upgrade.
    let err = connect(&server, &id, "wrong", &origin).await.unwrap_err();
    assert!(err.contains("403"), "{err}");
    let err = connect(&server, &id, &token, "http://evil.example")
        .await
        .unwrap_err();
    assert!(err.contains("403"), "{err}");

    let mut ws = connect(&server, &id, &token, &origin).await.unwrap();
    let ready = next_json(&mut ws, "ready").await;
    assert_eq!(ready["session"], id.as_str());
    assert_eq!(ready["user"], "anonymous");

    let (h, jpeg) = next_frame(&mut ws).await;
    assert_eq!(&jpeg[..2], &[0xff, 0xd8], "frames are JPEG");
    assert_eq!((h.width, h.height), (800, 600));
    ws.send(Message::Text(
        format!(r#"{{"t":"frame_ack","seq":{}}}"#, h.seq).into(),
    ))
    .await
    .unwrap();

    // Malformed input is answered with an error, and the session goes on.
    ws.send(Message::Text(r#"{"t":"explode"}"#.into()))
        .await
        .unwrap();
    let err = next_json(&mut ws, "error").await;
    assert!(
        err["message"].as_str().unwrap().contains("unknown variant"),
        "{err}"
    );
    ws.send(Message::Text(r#"{"t":"ping","id":9}"#.into()))
        .await
        .unwrap();
    assert_eq!(next_json(&mut ws, "pong").await["id"], 9);

    // A refused scheme is a notice, not a navigation.
    ws.send(Message::Text(
        r#"{"t":"navigate","url":"file:///etc/passwd"}"#.into(),
    ))
    .await
    .unwrap();
    let notice = next_json(&mut ws, "notice").await;
    assert_eq!(notice["code"], "bad_url");

    ws.send(Message::Text(r#"{"t":"close"}"#.into()))
        .await
        .unwrap();
    let ended = next_json(&mut ws, "ended").await;
    assert_eq!(ended["reason"], "closed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_server_says_so() {
    let mut config = Config::default();
    config.sessions.max = 1;
    let server = start(config).await;
    assert_eq!(create(&server, None).await.status(), 201);
    let res = create(&server, None).await;
    assert_eq!(res.status(), 503);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["code"], "full");
    assert!(
        body["error"].as_str().unwrap().contains("All 1 sessions"),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn navigation_reports_url_and_title() {
    // A site of its own, allowed by address and port (egress protection stays on).
    let site = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let site_addr = site.local_addr().unwrap();
    let app = axum::Router::new().route(
        "/titled.html",
        axum::routing::get(|| async {
            axum::response::Html("<!doctype html><title>Hello Title</title><p>hi</p>")
        }),
    );
    tokio::spawn(async move { axum::serve(site, app).await });
    let mut config = Config::default();
    config
        .egress
        .allow
        .push(format!("127.0.0.1:{}", site_addr.port()));
    let server = start(config).await;
    let target = format!("http://{site_addr}/titled.html");
    let mut ws = open(&server, &target).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let state = next_json(&mut ws, "state").await;
        if state["title"] == "Hello Title" && state["url"] == target.as_str() {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no state with the title; last {state}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_isolated_browser_cannot_reach_the_isolator_itself() {
    let server = start(Config::default()).await;
    let mut ws = open(&server, &format!("http://{}/", server.addr)).await;
    let notice = next_json(&mut ws, "notice").await;
    assert_eq!(notice["code"], "egress_blocked", "{notice}");
    assert!(
        notice["message"]
            .as_str()
            .unwrap()
            .contains("isolator itself"),
        "{notice}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_and_close_need_the_owner_and_the_token() {
    let server = start(Config::default()).await;
    let body: serde_json::Value = create(&server, None).await.json().await.unwrap();
    let (id, token) = (
        body["id"].as_str().unwrap(),
        body["token"].as_str().unwrap(),
    );
    let url = format!("http://{}/api/sessions/{id}", server.addr);
    let http = reqwest::Client::new();
    let status = |token: &str| http.get(&url).header("x-isolator-token", token).send();
    let live = status(token).await.unwrap();
    assert_eq!(live.status(), 200);
    assert_eq!(
        live.json::<serde_json::Value>().await.unwrap()["live"],
        true
    );
    assert_eq!(status("wrong").await.unwrap().status(), 404);
    // Closing needs the CSRF header and the token.
    let close = |token: &str, csrf: bool| {
        let mut req = http.delete(&url).header("x-isolator-token", token);
        if csrf {
            req = req.header("x-isolator-request", "1");
        }
        req.send()
    };
    assert_eq!(close(token, false).await.unwrap().status(), 403);
    assert_eq!(close("wrong", true).await.unwrap().status(), 404);
    assert_eq!(close(token, true).await.unwrap().status(), 204);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while status(token).await.unwrap().status() != 404 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the closed session is still live"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn api_requests_are_rate_limited_per_client_address() {
    let mut config = Config::default();
    config.rate_limit.per_second = 1;
    config.rate_limit.burst = 3;
    let server = start(config).await;
    let client = reqwest::Client::new();
    let get = |path: &'static str| {
        let client = client.clone();
        let url = format!("http://{}{path}", server.addr);
        async move { client.get(url).send().await.unwrap() }
    };
    for _ in 0..3 {
        assert_eq!(get("/api/me").await.status(), 200);
    }
    let limited = get("/api/me").await;
    assert_eq!(limited.status(), 429);
    assert!(limited.headers().get("retry-after").is_some());
    let body: serde_json::Value = limited.json().await.unwrap();
    assert_eq!(body["code"], "rate_limited");
    // Static pages are not counted; another client address has its own budget.
    assert_eq!(get("/").await.status(), 200);
    let other = reqwest::Client::builder()
        .local_address("127.0.0.2".parse::<std::net::IpAddr>().unwrap())
        .build()
        .unwrap();
    let res = other
        .get(format!("http://{}/api/me", server.addr))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}
