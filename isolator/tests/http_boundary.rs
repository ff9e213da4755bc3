//! The HTTP boundary attacked from outside, over real HTTP on 127.0.0.1
//! port 0 (issue 14, items 4 and 7):
//!
//! - DNS rebinding: requests naming another host (`Host`, absolute-form URI,
//!   no Host) on every kind of route, the WebSocket included;
//! - login throttling per (user, client address): an attacker's failures at
//!   one address never stop the user at another (client addresses vary by
//!   binding the client socket to 127.0.0.2, 127.0.0.3);
//! - login CSRF (cross-site form posts), the `next` open redirect;
//! - hostile user names in the failed-login log line;
//! - the per-user session cap (with a real Chromium).

use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use isolator::config::{AuthMode, Config, StaticUser};
use reqwest::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

mod server;

const PASSWORD: &str = "correct horse battery";

/// Everything the server logs in this test binary.
fn log() -> &'static Arc<Mutex<Vec<u8>>> {
    static LOG: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOG.get_or_init(|| {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let sink = buf.clone();
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new("info"))
            .with_ansi(false)
            .with_writer(move || Capture(sink.clone()))
            .try_init();
        buf
    })
}

struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

struct Server {
    addr: SocketAddr,
    _shutdown: tokio::sync::watch::Sender<bool>,
    _dir: tempfile::TempDir,
}

async fn start(adjust: impl FnOnce(&mut Config)) -> Server {
    log();
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config {
        web_root: concat!(env!("CARGO_MANIFEST_DIR"), "/../web-client").into(),
        data_dir: dir.path().join("data"),
        ..Config::default()
    };
    config.audit.dir = dir.path().join("recordings");
    adjust(&mut config);
    let (addr, _, tx) = server::start(config).await;
    Server {
        addr,
        _shutdown: tx,
        _dir: dir,
    }
}

fn static_users(c: &mut Config) {
    c.auth.mode = AuthMode::Static;
    c.auth.users = vec![StaticUser {
        name: "alice".into(),
        password_hash: isolator::auth::hash_password(PASSWORD),
        groups: Vec::new(),
        admin: true,
    }];
}

/// Sends `head` (request line and headers, without the final blank line)
/// as written, and returns the status and the whole response.
async fn raw(addr: SocketAddr, head: &str) -> (u16, String) {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(format!("{head}\r\nConnection: close\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut out))
        .await
        .expect("the server answers")
        .unwrap();
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {text:?}"));
    (status, text)
}

const WS_HEADERS: &str = "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\
     Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: isolator.v1, isolator.token.x";

#[tokio::test]
async fn foreign_host_names_are_refused_on_every_route() {
    // `auth.mode = "none"`, what `make run` serves: whoever reaches it is an admin.
    let server = start(|c| c.public_hosts = vec!["rbi.example.com".into()]).await;
    let port = server.addr.port();
    let routes = [
        "GET / HTTP/1.1",
        "GET /theme.css HTTP/1.1",
        "GET /viewer/main.js HTTP/1.1",
        "GET /login HTTP/1.1",
        "GET /healthz HTTP/1.1",
        "GET /api/me HTTP/1.1",
        "GET /api/v1/document HTTP/1.1",
        "GET /api/v1/sessions HTTP/1.1",
        "GET /api/v1/history HTTP/1.1",
        "GET /api/v1/audit/sessions HTTP/1.1",
        "GET /api/v1/audit/incidents HTTP/1.1",
        "GET /api/v1/audit/sessions/abc/export HTTP/1.1",
        "GET /admin/ HTTP/1.1",
        "GET /admin/recordings HTTP/1.1",
    ];
    let foreign = [
        "evil.example".to_owned(),
        format!("evil.example:{port}"),
        format!("EVIL.example.:{port}"),
        format!("127.0.0.1.evil.example:{port}"),
        format!("localhost.evil.example:{port}"),
        format!("127.0.0.1:{}", port.wrapping_add(1)),
        format!("[::1]:{port}"),
        "127.0.0.1".to_owned(),
        format!("user@127.0.0.1:{port}"),
    ];
    for line in routes {
        for host in &foreign {
            let (status, body) = raw(server.addr, &format!("{line}\r\nHost: {host}")).await;
            assert_eq!(status, 421, "{line} with Host {host}: {body}");
            assert!(body.contains("wrong_host"), "{body}");
        }
        // Absolute form: the URI's authority is what HTTP/1.1 says counts.
        let (method, rest) = line.split_once(' ').unwrap();
        let absolute =
            format!("{method} http://evil.example:{port}{rest}\r\nHost: 127.0.0.1:{port}");
        assert_eq!(raw(server.addr, &absolute).await.0, 421, "{absolute}");
        // No Host at all.
        let (status, body) = raw(server.addr, line).await;
        assert_eq!(status, 400, "{line} without Host: {body}");
        let two = format!("{line}\r\nHost: 127.0.0.1:{port}\r\nHost: evil.example");
        assert_eq!(raw(server.addr, &two).await.0, 400, "{two}");
    }
    // State-changing requests too, before they do anything.
    for line in [
        "POST /api/sessions HTTP/1.1\r\nX-Isolator-Request: 1\r\nContent-Type: application/json\r\nContent-Length: 0",
        "PUT /api/v1/document HTTP/1.1\r\nX-Isolator-Request: 1\r\nContent-Type: application/json\r\nContent-Length: 0",
        "POST /login HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 0",
    ] {
        let req = format!("{line}\r\nHost: evil.example:{port}");
        assert_eq!(raw(server.addr, &req).await.0, 421, "{req}");
    }
    // The WebSocket, from the rebound page itself: Origin and Host agree.
    let ws = format!(
        "GET /api/sessions/abc/ws HTTP/1.1\r\nHost: evil.example:{port}\r\nOrigin: http://evil.example:{port}\r\n{WS_HEADERS}"
    );
    assert_eq!(raw(server.addr, &ws).await.0, 421);

    // The names this server answers to still work.
    for host in [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        format!("LocalHost.:{port}"),
        "rbi.example.com".to_owned(),
        "RBI.example.com:443".to_owned(),
    ] {
        for line in [
            "GET /api/me HTTP/1.1",
            "GET /api/v1/document HTTP/1.1",
            "GET / HTTP/1.1",
        ] {
            let (status, body) = raw(server.addr, &format!("{line}\r\nHost: {host}")).await;
            assert_eq!(status, 200, "{line} with Host {host}: {body}");
        }
    }
    let absolute = format!("GET http://127.0.0.1:{port}/api/me HTTP/1.1\r\nHost: 127.0.0.1:{port}");
    assert_eq!(raw(server.addr, &absolute).await.0, 200);
    // A same-origin WebSocket gets past the Host check (to the missing session).
    let ws = format!(
        "GET /api/sessions/abc/ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nOrigin: http://127.0.0.1:{port}\r\n{WS_HEADERS}"
    );
    assert_eq!(raw(server.addr, &ws).await.0, 404);
}

/// A client whose connections come from `ip` (127.0.0.2, ...), following no redirects.
fn client_at(ip: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(ip.parse::<IpAddr>().unwrap())
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn post_login(
    c: &reqwest::Client,
    server: &Server,
    user: &str,
    password: &str,
    next: &str,
    extra: &[(&str, &str)],
) -> reqwest::Response {
    let mut r = c.post(format!("http://{}/login", server.addr)).form(&[
        ("username", user),
        ("password", password),
        ("next", next),
    ]);
    for (k, v) in extra {
        r = r.header(*k, *v);
    }
    r.send().await.unwrap()
}

fn location(res: &reqwest::Response) -> String {
    res.headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

fn retry_of(loc: &str) -> Option<u64> {
    loc.split(['?', '&'])
        .find_map(|kv| kv.strip_prefix("retry="))
        .and_then(|v| v.parse().ok())
}

#[tokio::test]
async fn wrong_passwords_from_one_address_do_not_lock_out_another() {
    let server = start(static_users).await;
    let attacker = client_at("127.0.0.2");
    let mut waits = Vec::new();
    for _ in 0..50 {
        let res = post_login(&attacker, &server, "alice", "guess", "/", &[]).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let loc = location(&res);
        assert!(res.headers().get("set-cookie").is_none());
        assert!(loc.starts_with("/login?error="), "{loc}");
        if let Some(wait) = retry_of(&loc) {
            waits.push(wait);
        }
    }
    assert!(
        waits.len() >= 40,
        "most of 50 quick guesses wait: {waits:?}"
    );
    // Waiting it out, each further guess waits longer: 1, 2, 4 seconds.
    let mut seen = vec![waits[0]];
    for _ in 0..2 {
        tokio::time::sleep(Duration::from_secs(*seen.last().unwrap()) + Duration::from_millis(100))
            .await;
        let res = post_login(&attacker, &server, "alice", "guess", "/", &[]).await;
        assert_eq!(location(&res), "/login?error=1&next=%2F");
        let res = post_login(&attacker, &server, "alice", "guess", "/", &[]).await;
        seen.push(retry_of(&location(&res)).expect("a wait"));
    }
    assert_eq!(seen, [1, 2, 4], "growing waits");
    // Even the right password waits at the attacker's address...
    let res = post_login(&attacker, &server, "alice", PASSWORD, "/", &[]).await;
    assert!(retry_of(&location(&res)).is_some(), "{}", location(&res));
    // ...but alice at her own address signs in at once.
    let res = post_login(
        &client_at("127.0.0.3"),
        &server,
        "alice",
        PASSWORD,
        "/admin/",
        &[],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/admin/");
    let cookie = res.headers().get("set-cookie").unwrap().to_str().unwrap();
    assert!(cookie.starts_with("isolator_login="), "{cookie}");
}

#[tokio::test]
async fn cross_site_login_posts_are_refused() {
    let server = start(static_users).await;
    let c = client_at("127.0.0.4");
    let own = format!("http://{}", server.addr);
    for headers in [
        vec![
            ("origin", "http://evil.example"),
            ("sec-fetch-site", "cross-site"),
        ],
        vec![("origin", "http://evil.example")],
        // Another port of the same host is another origin (same site).
        vec![
            ("origin", "http://127.0.0.1:1"),
            ("sec-fetch-site", "same-site"),
        ],
        // A sandboxed frame, or a page under no-referrer, in an old browser.
        vec![("origin", "null")],
        vec![("origin", "null"), ("sec-fetch-site", "cross-site")],
        vec![("sec-fetch-site", "cross-site")],
    ] {
        let res = post_login(&c, &server, "alice", PASSWORD, "/", &headers).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{headers:?}");
        assert!(res.headers().get("set-cookie").is_none(), "{headers:?}");
        let body = res.text().await.unwrap();
        assert!(body.contains("cross_site"), "{body}");
    }
    for headers in [
        vec![("origin", own.as_str()), ("sec-fetch-site", "same-origin")],
        vec![("origin", "null"), ("sec-fetch-site", "same-origin")],
        vec![("origin", own.as_str())],
        vec![],
    ] {
        let res = post_login(&c, &server, "alice", PASSWORD, "/", &headers).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{headers:?}");
        assert!(res.headers().get("set-cookie").is_some(), "{headers:?}");
    }
}

#[tokio::test]
async fn next_never_leads_off_site() {
    let server = start(static_users).await;
    let c = client_at("127.0.0.5");
    let off_site = [
        "//evil.example",
        "//evil.example/path",
        "/\t/evil.example/",
        "/%09/evil.example/",
        "/\n/evil.example/",
        "/%0A/evil.example/",
        "/\\evil.example",
        "/%5Cevil.example",
        "/%5cevil.example",
        "/%2F/evil.example",
        "/%252F/evil.example",
        "https://evil.example",
        "http:evil.example",
        "javascript:alert(document.domain)",
        " //evil.example",
        "/\u{0}/evil.example",
        "/\u{1b}[31m",
        "\\\\evil.example",
    ];
    for next in off_site {
        let res = post_login(&c, &server, "alice", PASSWORD, next, &[]).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{next:?}");
        assert_eq!(location(&res), "/", "{next:?}");
        // A wrong password sends the user back with `next` made safe as well.
        let res = post_login(&c, &server, "alice", "wrong", next, &[]).await;
        assert_eq!(location(&res), "/login?error=1&next=%2F", "{next:?}");
    }
    for next in [
        "/admin/",
        "/?url=https%3A%2F%2Fexample.com%2F",
        "/admin/recordings",
    ] {
        let res = post_login(&c, &server, "alice", PASSWORD, next, &[]).await;
        assert_eq!(location(&res), next);
    }
}

#[tokio::test]
async fn hostile_user_names_never_reach_the_log_raw() {
    let server = start(static_users).await;
    let c = client_at("127.0.0.6");
    let forged =
        "\n2026-12-06T04:00:00.000000Z  INFO isolator::auth: login user=alice peer=10.0.0.1\n";
    let hostile = format!("{forged}\u{1b}[2J\u{1b}[31mred{}", "A".repeat(10 * 1024));
    let res = post_login(&c, &server, &hostile, "x", "/", &[]).await;
    assert_eq!(location(&res), "/login?error=1&next=%2F");
    // A password typed into the user name field is not logged either.
    let res = post_login(&c, &server, "hunter2-my-password", "x", "/", &[]).await;
    assert_eq!(location(&res), "/login?error=1&next=%2F");
    let res = post_login(&c, &server, "alice", "wrong", "/", &[]).await;
    assert_eq!(location(&res), "/login?error=1&next=%2F");
    let text = String::from_utf8_lossy(&log().lock().unwrap()).into_owned();
    let failed: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("failed login") && l.contains("127.0.0.6"))
        .collect();
    assert_eq!(failed.len(), 3, "{failed:?}");
    assert!(
        !text.contains("INFO isolator::auth: login user=alice peer=10.0.0.1"),
        "forged line in the log"
    );
    assert!(!text.contains('\u{1b}'), "escape sequence in the log");
    assert!(!text.contains(&"A".repeat(100)), "10 KB name in the log");
    assert!(
        !text.contains("hunter2"),
        "typed text of an unknown name in the log"
    );
    assert!(
        failed.iter().any(|l| l.contains("user=alice")),
        "{failed:?}"
    );
    assert!(
        failed
            .iter()
            .filter(|l| l.contains("unknown user #"))
            .count()
            == 2,
        "{failed:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_user_cannot_take_every_session() {
    let server = start(|c| {
        c.auth.mode = AuthMode::Header;
        c.sessions.max = 10;
        c.sessions.max_per_user = 2;
    })
    .await;
    let c = reqwest::Client::new();
    let create = |user: &'static str| {
        c.post(format!("http://{}/api/sessions", server.addr))
            .header("x-forwarded-user", user)
            .header("x-isolator-request", "1")
            .json(&serde_json::json!({}))
            .send()
    };
    let mut bobs = Vec::new();
    for _ in 0..2 {
        let res = create("bob").await.unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        bobs.push(res.json::<serde_json::Value>().await.unwrap());
    }
    let res = create("bob").await.unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["code"], "user_full");
    let msg = body["error"].as_str().unwrap();
    assert!(
        msg.contains("2 sessions") && msg.contains("Close one"),
        "{msg}"
    );
    // Someone else still gets one.
    assert_eq!(create("carol").await.unwrap().status(), StatusCode::CREATED);
    // Closing one of bob's frees his place.
    let first = &bobs[0];
    let res = c
        .delete(format!(
            "http://{}/api/sessions/{}",
            server.addr,
            first["id"].as_str().unwrap()
        ))
        .header("x-forwarded-user", "bob")
        .header("x-isolator-request", "1")
        .header("x-isolator-token", first["token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let res = create("bob").await.unwrap();
        if res.status() == StatusCode::CREATED {
            break;
        }
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
        assert!(
            tokio::time::Instant::now() < deadline,
            "bob's closed session still counts"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
