//! The HTTP boundary attacked from a real browser (issue 14, items 4 and 7):
//! a DNS-rebound page, a cross-site login form, and `next` values that would
//! lead off-site after signing in.
//!
//! Chromium resolves every `*.localhost` name to loopback without asking DNS,
//! which is exactly where a rebinding attack ends: a page at
//! `http://evil.localhost:<isolator's port>/` is served by the isolator's own
//! socket, but its origin (and `Host`) is the attacker's name. The same trick
//! gives the attacker a cross-site origin of their own on a local server.

use std::time::Duration;

use axum::response::Html;
use axum::routing::get;
use isolator::config::{AuthMode, StaticUser};
use isolator_e2e::{eventually, Client, Isolator};

const T: Duration = Duration::from_secs(30);

/// The body text of the page the client shows after loading `url`.
async fn body_after_goto(c: &Client, url: &str) -> String {
    c.page.goto(url).await.expect("navigation");
    c.eval("document.body ? document.body.innerText : ''").await
}

fn users() -> Vec<StaticUser> {
    ["alice", "mallory"]
        .iter()
        .map(|name| StaticUser {
            name: (*name).into(),
            password_hash: isolator::auth::hash_password(&format!("{name} password")),
            groups: Vec::new(),
            admin: false,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rebound_page_gets_nothing_from_the_isolator() {
    // `make run`'s mode: no login, everyone is the admin "anonymous".
    let iso = Isolator::start_with(|_| {}).await;
    let port = iso.addr.port();
    let client = Client::open(&format!("http://evil.localhost:{port}/")).await;
    let body: String = client
        .eval("document.body ? document.body.innerText : ''")
        .await;
    assert!(
        body.contains("wrong_host"),
        "the rebound page was served: {body}"
    );
    // The attacker's script, same-origin with the rebound name, reads nothing.
    for path in [
        "/api/me",
        "/api/v1/document",
        "/api/v1/sessions",
        "/api/v1/audit/sessions",
        "/admin/",
    ] {
        let status: u16 = client
            .eval(&format!("fetch('{path}').then(r => r.status)"))
            .await;
        assert_eq!(status, 421, "{path}");
    }
    let created: u16 = client
        .eval(
            "fetch('/api/sessions', { method: 'POST', headers: { 'Content-Type': 'application/json', \
             'X-Isolator-Request': '1' }, body: '{}' }).then(r => r.status)",
        )
        .await;
    assert_eq!(created, 421);
    assert_eq!(iso.state.sessions.count(), 0);
    let ws: String = client
        .eval(&format!(
            "new Promise(r => {{ const w = new WebSocket('ws://evil.localhost:{port}/api/sessions/x/ws', ['isolator.v1']);\
             w.onopen = () => r('open'); w.onerror = () => r('refused'); setTimeout(() => r('timeout'), 5000); }})"
        ))
        .await;
    assert_eq!(ws, "refused");
    // The names the isolator answers to still work in the same browser.
    for host in [format!("127.0.0.1:{port}"), format!("localhost:{port}")] {
        let body = body_after_goto(&client, &format!("http://{host}/api/me")).await;
        assert!(body.contains("anonymous"), "{host}: {body}");
    }
    client.close().await;
}

/// Serves the attacker's page: a form that signs whoever opens it in as
/// mallory on the isolator, submitted as soon as it loads.
async fn attacker_site(iso: &Isolator) -> std::net::SocketAddr {
    let page = format!(
        r#"<!doctype html><title>win a prize</title>
<form id="f" method="post" action="http://{iso}/login">
<input name="username" value="mallory"><input name="password" value="mallory password">
<input name="next" value="/"></form>
<script>document.getElementById('f').submit()</script>"#,
        iso = iso.addr
    );
    let app = axum::Router::new().route("/", get(move || async move { Html(page) }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cross_site_form_cannot_sign_the_victim_in_as_the_attacker() {
    let iso = Isolator::start_with(|c| {
        c.auth.mode = AuthMode::Static;
        c.auth.users = users();
    })
    .await;
    let attacker = attacker_site(&iso).await;
    // Cross-site (another name) and same-site but cross-origin (another port).
    for page in [
        format!("http://prizes.localhost:{}/", attacker.port()),
        format!("http://127.0.0.1:{}/", attacker.port()),
    ] {
        let victim = Client::open(&page).await;
        let landed = eventually(T, "the form posted", || async {
            let here: String = victim.try_eval("location.href").await?;
            here.contains(&iso.addr.to_string()).then_some(here)
        })
        .await;
        let body: String = victim
            .eval("document.body ? document.body.innerText : ''")
            .await;
        assert!(body.contains("cross_site"), "{page} -> {landed}: {body}");
        let me = body_after_goto(&victim, &iso.url("/api/me")).await;
        assert!(
            me.contains("unauthenticated") && !me.contains("mallory"),
            "{page}: the victim is signed in: {me}"
        );
        victim.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_in_never_leads_off_site() {
    let iso = Isolator::start_with(|c| {
        c.auth.mode = AuthMode::Static;
        c.auth.users = users();
    })
    .await;
    let client = Client::open(&iso.url("/login")).await;
    for next in [
        "/%09/evil.example/",
        "//evil.example/",
        "/%5Cevil.example",
        "/%2F/evil.example",
        "https://evil.example/",
        "javascript:alert(1)",
        "/admin/",
    ] {
        let q = crate::url_encode(next);
        client
            .page
            .goto(iso.url(&format!("/login?next={q}")))
            .await
            .unwrap();
        client
            .wait_js("the login form", T, "!!document.getElementById('username')")
            .await;
        client
            .eval::<bool>(
                "(() => { document.getElementById('username').value = 'alice';\
                 document.getElementById('password').value = 'alice password';\
                 document.getElementById('login-form').requestSubmit(); return true; })()",
            )
            .await;
        let want = if next == "/admin/" { "/admin/" } else { "/" };
        let landed = eventually(T, "signed in", || async {
            let here: String = client
                .try_eval("location.origin + location.pathname")
                .await?;
            (!here.ends_with("/login")).then_some(here)
        })
        .await;
        assert_eq!(landed, iso.url(want), "next={next:?}");
        client.page.goto(iso.url("/api/me")).await.unwrap();
    }
    client.close().await;
}
