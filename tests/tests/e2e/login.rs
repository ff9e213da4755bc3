//! Static users: the login page, wrong passwords, and the session's owner.

use std::time::Duration;

use isolator::config::{AuthMode, StaticUser};
use isolator_e2e::{eventually, Client, Isolator, TestSite};

use crate::start_url;

const T: Duration = Duration::from_secs(30);

async fn current_url(c: &Client) -> String {
    c.try_eval("location.pathname + location.search")
        .await
        .unwrap_or_default()
}

async fn sign_in(c: &Client, user: &str, password: &str) {
    c.click_ui("#username").await;
    c.press("a", 2).await;
    c.type_text(user).await;
    c.click_ui("#password").await;
    c.type_text(password).await;
    c.press("Enter", 0).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn static_users_sign_in_before_browsing() {
    let site = TestSite::start().await;
    let iso = Isolator::for_site_with(&site, |c| {
        c.auth.mode = AuthMode::Static;
        c.auth.users = vec![StaticUser {
            name: "alice".into(),
            password_hash: isolator::auth::hash_password("correct horse battery"),
            groups: vec!["finance".into()],
            admin: false,
        }];
    })
    .await;

    // Without a login, the API refuses and the viewer sends the user to the login page.
    let res = reqwest::get(iso.url("/api/me")).await.unwrap();
    assert_eq!(res.status(), 401);
    let client = Client::open(&start_url(&iso, &site.url("/page2"))).await;
    eventually(T, "the login page", || async {
        current_url(&client)
            .await
            .starts_with("/login")
            .then_some(())
    })
    .await;

    // A wrong password is refused with a message.
    sign_in(&client, "alice", "wrong password").await;
    eventually(T, "the error shown", || async {
        let shown: Option<bool> = client
            .try_eval("!!document.getElementById('login-error') && !document.getElementById('login-error').hidden")
            .await;
        (shown == Some(true)).then_some(())
    })
    .await;

    // The right one lands on the viewer, at the URL asked for, as alice.
    sign_in(&client, "alice", "correct horse battery").await;
    let s = client
        .wait_state("browsing page two as alice", T, |s| {
            s["title"] == "Page Two" && s["connected"] == true
        })
        .await;
    assert!(s["sessionId"].is_string());
    let me: serde_json::Value = client.eval("fetch('/api/me').then(r => r.json())").await;
    assert_eq!(me["user"], "alice");
    assert_eq!(me["groups"], serde_json::json!(["finance"]));

    // A browser without alice's login, holding her session id and token, is refused.
    let stolen: serde_json::Value = client
        .eval("JSON.parse(sessionStorage.getItem('isolator.session.v1'))")
        .await;
    let thief = Client::open(&iso.url("/login")).await;
    let script = format!(
        "new Promise(r => {{ const w = new WebSocket('ws://{addr}/api/sessions/{id}/ws', ['isolator.v1', 'isolator.token.{token}']);\
         w.onopen = () => r('open'); w.onerror = () => r('refused'); setTimeout(() => r('timeout'), 5000); }})",
        addr = iso.addr,
        id = stolen["id"].as_str().unwrap(),
        token = stolen["token"].as_str().unwrap(),
    );
    let outcome: String = thief.eval(&script).await;
    assert_eq!(
        outcome, "refused",
        "a token alone must not open someone else's session"
    );
    thief.close().await;
    client.close().await;
}
