//! Users and admin API tokens managed at run time, on real nodes sharing a
//! real PostgreSQL: a user or token made through one node's API works on
//! the others within a second (and on a node started later at once); a
//! change to a user ends their logins everywhere, disabling one ends their
//! live session too, and removing a token stops it everywhere. Neither a
//! password nor a token reaches the database, the API or a listing; a
//! non-admin cannot manage users; config users are read-only; an admin
//! cannot lock themselves out; a user changes their own password, which
//! signs out their other logins. While the database is down, known users
//! still sign in, known tokens still work, and changes are refused. An
//! admin does the same on the admin page in a real browser.

#[allow(dead_code)]
#[path = "../../tests/src/client.rs"]
mod client;
#[path = "support/node.rs"]
mod node;
#[path = "support/postgres.rs"]
mod postgres;
#[path = "support/user.rs"]
mod user;

use std::time::{Duration, Instant};

use node::{within, Node};
use postgres::Postgres;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// The bootstrap token of the config file.
const BOOT: &str = "cluster-users-bootstrap-token";
const ROOT_PASSWORD: &str = "root's own long passphrase";
const BOB_PASSWORD: &str = "a passphrase for b0b only";
const BOB_NEW_PASSWORD: &str = "another passphrase, changed";

/// A node with password logins: `root` (admin) in its config file, and the
/// bootstrap token.
async fn start(id: &str, pg: &Postgres) -> Node {
    let tables = format!(
        "[auth]\nmode = \"static\"\n[[auth.users]]\nname = \"root\"\npassword_hash = {:?}\nadmin = true\n\
         [admin]\napi_tokens = [{:?}]\n",
        isolator::auth::hash_password(ROOT_PASSWORD),
        isolator::auth::hash_api_token(BOOT),
    );
    Node::start(id, &pg.url(), "", &tables, &[]).await
}

/// A JSON call with a bearer token; the answer's status, body and headers.
async fn call(
    node: &Node,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value, reqwest::header::HeaderMap) {
    let mut req = reqwest::Client::new()
        .request(method, format!("{}{path}", node.base))
        .bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    answer(req).await
}

/// A call as a signed-in browser (its cookie, same origin).
async fn as_user(
    node: &Node,
    cookie: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value, reqwest::header::HeaderMap) {
    let mut req = user::request(&node.base, method, path, Some(cookie));
    if let Some(b) = body {
        req = req.json(&b);
    }
    answer(req).await
}

async fn answer(req: reqwest::RequestBuilder) -> (StatusCode, Value, reqwest::header::HeaderMap) {
    let res = req.send().await.unwrap();
    let (status, headers) = (res.status(), res.headers().clone());
    let text = res.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, body, headers)
}

/// Signs in through the login form; the cookie, or `None` when refused.
async fn login(node: &Node, name: &str, password: &str) -> Option<String> {
    user::try_login(&node.base, name, password).await
}

/// Who the cookie signs in as on `node` (`None`: nobody).
async fn me(node: &Node, cookie: &str) -> Option<Value> {
    let (st, body, _) = as_user(node, cookie, Method::GET, "/api/me", None).await;
    (st == StatusCode::OK).then_some(body)
}

/// Whether `token` may read the policy on `node`.
async fn token_works(node: &Node, token: &str) -> bool {
    call(node, token, Method::GET, "/api/v1/document", None)
        .await
        .0
        == StatusCode::OK
}

/// Two nodes on `pg`.
async fn two_nodes(pg: &Postgres) -> (Node, Node) {
    (start("node-a", pg).await, start("node-b", pg).await)
}

/// Adds a user through `node` with the bootstrap token; the user as listed.
async fn add_user(node: &Node, user: Value) -> Value {
    let (st, body, _) = call(node, BOOT, Method::POST, "/api/v1/users", Some(user)).await;
    assert_eq!(st, StatusCode::CREATED, "{body}");
    body
}

/// Signs in on the login page a client browser was sent to, typing.
async fn sign_in(c: &client::Client, name: &str, password: &str) {
    c.wait_js(
        "the login page",
        Duration::from_secs(15),
        // The path changes when the page commits, before its form is
        // parsed: wait for the field a user types into.
        "location.pathname === '/login' && !!document.getElementById('username') && document.readyState !== 'loading'",
    )
    .await;
    click(c, "#username").await;
    c.type_text(name).await;
    click(c, "#password").await;
    c.type_text(password).await;
    c.press("Enter", 0).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn users_and_tokens_made_on_one_node_hold_on_every_node() {
    let pg = Postgres::start();
    let (a, b) = two_nodes(&pg).await;

    // Bob, added through A by the config's token.
    let body = add_user(
        &a,
        json!({ "name": "bob", "password": BOB_PASSWORD, "groups": ["sales"] }),
    )
    .await;
    assert_eq!(body["source"], "database");
    assert_eq!(
        body["created_by"].as_str().unwrap().len(),
        "api-token:".len() + 8
    );
    assert!(!body.to_string().contains(BOB_PASSWORD) && !body.to_string().contains("argon2"));
    // He signs in on B within a second, with his groups.
    let added = Instant::now();
    let bob = loop {
        if let Some(cookie) = login(&b, "bob", BOB_PASSWORD).await {
            break cookie;
        }
        assert!(
            added.elapsed() < Duration::from_secs(1),
            "bob cannot sign in on B"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    println!(
        "cluster-users: a new user signs in on another node {:?} after being added",
        added.elapsed()
    );
    let who = me(&b, &bob).await.unwrap();
    assert_eq!(
        (who["user"].clone(), who["groups"].clone()),
        (json!("bob"), json!(["sales"]))
    );
    // Not an admin: he cannot manage users or see them.
    let (st, _, _) = as_user(
        &b,
        &bob,
        Method::POST,
        "/api/v1/users",
        Some(json!({ "name": "mallory", "password": "mallory's passphrase", "admin": true })),
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    assert_eq!(
        as_user(&a, &bob, Method::GET, "/api/v1/users", None)
            .await
            .0,
        StatusCode::FORBIDDEN
    );

    // A token made on A, shown once, works on B within a second.
    let (st, made, headers) = call(
        &a,
        BOOT,
        Method::POST,
        "/api/v1/tokens",
        Some(json!({ "name": "ci", "expires_in_days": 30 })),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{made}");
    assert_eq!(headers["cache-control"], "no-store");
    let ci = made["token"].as_str().unwrap().to_owned();
    assert!(ci.len() >= 43, "a 256-bit token: {ci}");
    let expires = made["expires_at"].as_i64().unwrap() - made["created_at"].as_i64().unwrap();
    assert!(
        (30 * 86400 - 5..=30 * 86400 + 5).contains(&expires),
        "{made}"
    );
    let took = within(Duration::from_secs(1), "the token works on B", || {
        token_works(&b, &ci)
    })
    .await;
    println!("cluster-users: a new token works on another node {took:?} after being made");
    // What it does is recorded under its name.
    let (st, carol, _) = call(
        &b,
        &ci,
        Method::POST,
        "/api/v1/users",
        Some(json!({ "name": "carol", "password": "cedar window lantern" })),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{carol}");
    assert_eq!(carol["created_by"], "api-token:ci");
    // Neither the token nor a password is in the database, a listing or the logs.
    let tables = pg.psql(
        "isolator",
        "SELECT users::text FROM users UNION ALL SELECT api_tokens::text FROM api_tokens",
    );
    for secret in [ci.as_str(), BOB_PASSWORD, "cedar window lantern"] {
        assert!(!tables.contains(secret), "{secret} stored");
    }
    assert!(tables.contains("$argon2id$"), "{tables}");
    let (_, tokens, _) = call(&a, &ci, Method::GET, "/api/v1/tokens", None).await;
    let listed = tokens.to_string();
    assert!(
        !listed.contains(&ci) && !listed.contains(&hex(&ci)),
        "{listed}"
    );
    let names: Vec<&str> = tokens["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, [&isolator::auth::hash_api_token(BOOT)[7..15], "ci"]);
    let (_, users, _) = call(&a, &ci, Method::GET, "/api/v1/users", None).await;
    assert_eq!(users["managed"], "database");
    let sources: Vec<(String, String)> = users["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["name"].as_str().unwrap().into(),
                u["source"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        sources,
        [
            ("root", "config"),
            ("bob", "database"),
            ("carol", "database")
        ]
        .map(|(n, s)| (n.to_owned(), s.to_owned()))
    );
    for node in [&a, &b] {
        let log = node.log.lock().unwrap().join("\n");
        for secret in [ci.as_str(), BOB_PASSWORD] {
            assert!(!log.contains(secret), "{secret} in a log");
        }
    }

    // Carol signed in on B is signed out on A and B when she is removed.
    let carol_cookie = login(&b, "carol", "cedar window lantern").await.unwrap();
    assert!(me(&a, &carol_cookie).await.is_some());
    let (st, _, _) = call(&a, BOOT, Method::DELETE, "/api/v1/users/carol", None).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    for node in [&a, &b] {
        within(Duration::from_secs(1), "carol's login ends", || async {
            me(node, &carol_cookie).await.is_none()
        })
        .await;
    }
    // B hears of it within the second (the logout and the directory come
    // on two notifications).
    within(Duration::from_secs(1), "carol refused on B", || async {
        login(&b, "carol", "cedar window lantern").await.is_none()
    })
    .await;

    // Bob, with a live session on B, is disabled through A: his login and
    // his session end, and his right password is refused.
    let (st, session, _) = as_user(
        &b,
        &bob,
        Method::POST,
        "/api/sessions",
        Some(json!({ "url": "about:blank", "width": 640, "height": 480, "dpr": 1 })),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{session}");
    let id = session["id"].as_str().unwrap().to_owned();
    let (st, _, _) = call(
        &a,
        BOOT,
        Method::PATCH,
        "/api/v1/users/bob",
        Some(json!({ "disabled": true })),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    within(Duration::from_secs(1), "bob's login ends on B", || async {
        me(&b, &bob).await.is_none()
    })
    .await;
    within(Duration::from_secs(5), "bob's session ends", || async {
        let (_, list, _) = call(&b, BOOT, Method::GET, "/api/v1/sessions", None).await;
        !list.to_string().contains(&id)
    })
    .await;
    within(Duration::from_secs(1), "bob refused on B", || async {
        login(&b, "bob", BOB_PASSWORD).await.is_none()
    })
    .await;
    // Enabled again with a new password: only the new one works.
    let (st, body, _) = call(
        &b,
        BOOT,
        Method::PATCH,
        "/api/v1/users/bob",
        Some(json!({ "disabled": false, "password": BOB_NEW_PASSWORD })),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert!(login(&a, "bob", BOB_PASSWORD).await.is_none());
    within(
        Duration::from_secs(1),
        "bob's new password works on A",
        || async { login(&a, "bob", BOB_NEW_PASSWORD).await.is_some() },
    )
    .await;

    // A node started now knows them at once.
    let c = start("node-c", &pg).await;
    assert!(login(&c, "bob", BOB_NEW_PASSWORD).await.is_some());
    assert!(token_works(&c, &ci).await);

    // The token removed on B stops working on A and C within a second.
    let (st, _, _) = call(&b, BOOT, Method::DELETE, "/api/v1/tokens/ci", None).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    for node in [&a, &c] {
        let took = within(
            Duration::from_secs(1),
            "the removed token stops",
            || async { !token_works(node, &ci).await },
        )
        .await;
        println!("cluster-users: a removed token stopped working {took:?} after");
    }
    let (st, body, _) = call(&a, &ci, Method::GET, "/api/v1/document", None).await;
    assert_eq!(
        (st, body["code"].clone()),
        (StatusCode::UNAUTHORIZED, json!("bad_token"))
    );
}

/// The hex SHA-256 of a token, as a leak of the hash would show it.
fn hex(token: &str) -> String {
    isolator::auth::hash_api_token(token)["sha256:".len()..].to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn users_are_refused_what_would_break_the_rules() {
    let mut pg = Postgres::start();
    let a = start("node-a", &pg).await;
    let post = |body: Value| call(&a, BOOT, Method::POST, "/api/v1/users", Some(body));

    // Bad input names its field.
    for (body, field) in [
        (
            json!({ "name": "", "password": "long enough password" }),
            "name",
        ),
        (
            json!({ "name": "bob smith", "password": "long enough password" }),
            "name",
        ),
        (json!({ "name": "bob", "password": "short" }), "password"),
        (
            json!({ "name": "bob", "password": "bob-is-my-password" }),
            "password",
        ),
        (
            json!({ "name": "bob", "password": "long enough password", "groups": ["a,admins"] }),
            "groups[0]",
        ),
        (
            json!({ "name": "bob", "password": "long enough password", "role": "admin" }),
            "body",
        ),
    ] {
        let (st, e, _) = post(body.clone()).await;
        assert_eq!(
            (st, e["field"].clone()),
            (StatusCode::BAD_REQUEST, json!(field)),
            "{body}: {e}"
        );
    }
    // The config file's user is its own: not replaced, changed or removed here.
    let (st, e, _) = post(json!({ "name": "root", "password": "a takeover password" })).await;
    assert_eq!(
        (st, e["code"].clone()),
        (StatusCode::CONFLICT, json!("config_user"))
    );
    for (method, body) in [
        (Method::PATCH, Some(json!({ "admin": false }))),
        (Method::DELETE, None),
    ] {
        let (st, e, _) = call(&a, BOOT, method, "/api/v1/users/root", body).await;
        assert_eq!(
            (st, e["code"].clone()),
            (StatusCode::CONFLICT, json!("config_user"))
        );
    }
    assert!(login(&a, "root", ROOT_PASSWORD).await.is_some());
    // A name is taken once.
    let dana = json!({ "name": "dana", "password": "quiet harbour morning", "admin": true });
    assert_eq!(post(dana.clone()).await.0, StatusCode::CREATED);
    let (st, e, _) = post(dana).await;
    assert_eq!(
        (st, e["code"].clone()),
        (StatusCode::CONFLICT, json!("exists"))
    );
    let (st, e, _) = call(
        &a,
        BOOT,
        Method::POST,
        "/api/v1/tokens",
        Some(json!({ "name": "Bad Name" })),
    )
    .await;
    assert_eq!(
        (st, e["field"].clone()),
        (StatusCode::BAD_REQUEST, json!("name"))
    );
    let (st, e, _) = call(
        &a,
        BOOT,
        Method::POST,
        "/api/v1/tokens",
        Some(json!({ "name": "x", "expires_in_days": 0 })),
    )
    .await;
    assert_eq!(
        (st, e["field"].clone()),
        (StatusCode::BAD_REQUEST, json!("expires_in_days"))
    );
    assert_eq!(
        call(&a, BOOT, Method::DELETE, "/api/v1/users/nobody", None)
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    // Dana, an admin, cannot demote, disable or remove herself (root can).
    let dana = login(&a, "dana", "quiet harbour morning").await.unwrap();
    for (method, body) in [
        (Method::PATCH, Some(json!({ "admin": false }))),
        (Method::PATCH, Some(json!({ "disabled": true }))),
        (Method::DELETE, None),
    ] {
        let (st, e, _) = as_user(&a, &dana, method, "/api/v1/users/dana", body).await;
        assert_eq!(
            (st, e["code"].clone()),
            (StatusCode::CONFLICT, json!("own_account"))
        );
    }
    // A cookie without the request header is a cross-site form: refused.
    let res = reqwest::Client::new()
        .post(format!("{}/api/v1/users", a.base))
        .header("cookie", &dana)
        .json(&json!({ "name": "eve", "password": "evening long passphrase", "admin": true }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    // The database goes away: known users and tokens still work; changes
    // are refused with the reason; they work again when it is back.
    let (_, made, _) = call(
        &a,
        BOOT,
        Method::POST,
        "/api/v1/tokens",
        Some(json!({ "name": "ops" })),
    )
    .await;
    let ops = made["token"].as_str().unwrap().to_owned();
    assert_eq!(made["expires_at"], Value::Null);
    pg.stop();
    assert!(login(&a, "dana", "quiet harbour morning").await.is_some());
    assert!(token_works(&a, &ops).await);
    let (st, e, _) = post(json!({ "name": "frank", "password": "granite orchard seven" })).await;
    assert_eq!(
        (st, e["code"].clone()),
        (StatusCode::SERVICE_UNAVAILABLE, json!("unavailable")),
        "{e}"
    );
    assert!(
        e["error"].as_str().unwrap().contains("nothing was changed"),
        "{e}"
    );
    pg.restart();
    within(
        Duration::from_secs(15),
        "changes are taken again",
        || async {
            post(json!({ "name": "frank", "password": "granite orchard seven" }))
                .await
                .0
                == StatusCode::CREATED
        },
    )
    .await;
    assert!(login(&a, "frank", "granite orchard seven").await.is_some());
}

/// Root, in a real browser on node A's admin page, adds a user, makes a
/// token and disables the user again; node B is judged by what it lets in.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_admin_manages_users_and_tokens_on_the_admin_page() {
    const T: Duration = Duration::from_secs(15);
    let pg = Postgres::start();
    let (a, b) = two_nodes(&pg).await;
    let c = client::Client::open(&format!("{}/admin/#users", a.base)).await;
    sign_in(&c, "root", ROOT_PASSWORD).await;
    // The login page brings the admin back to the admin page (a URL's
    // fragment never reaches the server): open the tab.
    c.wait_js(
        "the admin page",
        T,
        "!!(window.__admin && window.__admin.ready)",
    )
    .await;
    let _: bool = c
        .eval("(() => { location.hash = 'users'; return true; })()")
        .await;
    c.wait_js("the users tab", T, "!document.getElementById('user-form').hidden && !!document.querySelector('#users-body tr[data-user=\"root\"]')").await;

    // Add erin, typing as an admin does; a short password is refused first,
    // with the reason shown.
    click(&c, "#user-name").await;
    c.type_text("erin").await;
    click(&c, "#user-password").await;
    c.type_text("too short").await;
    click(&c, "#user-groups").await;
    c.type_text("legal, contractors").await;
    click(&c, "#user-form button[type=submit]").await;
    c.wait_js(
        "the refusal",
        T,
        "!document.getElementById('user-error').hidden",
    )
    .await;
    assert!(
        c.text_of("#user-error").await.contains("at least 12"),
        "{}",
        c.text_of("#user-error").await
    );
    assert!(login(&b, "erin", "too short").await.is_none());
    c.focus("#user-password").await;
    let _: bool = c
        .eval("(() => { document.getElementById('user-password').value = ''; return true; })()")
        .await;
    c.type_text("a sturdy passphrase 42").await;
    click(&c, "#user-form button[type=submit]").await;
    c.wait_js(
        "erin listed",
        T,
        "!!document.querySelector('#users-body tr[data-user=\"erin\"]')",
    )
    .await;
    let erin = login(&b, "erin", "a sturdy passphrase 42")
        .await
        .expect("erin signs in on B");
    let who = me(&b, &erin).await.unwrap();
    assert_eq!(who["groups"], json!(["legal", "contractors"]));

    // A token, shown once on the page, works on B.
    click(&c, "#token-name").await;
    c.type_text("from-the-page").await;
    click(&c, "#token-form button[type=submit]").await;
    c.wait_js(
        "the token shown",
        T,
        "!document.getElementById('token-made').hidden",
    )
    .await;
    let token = c.text_of("#token-made-value").await;
    assert!(token.len() >= 43, "{token}");
    assert!(token_works(&b, &token).await);
    // After a reload it is listed, never shown again.
    c.reload().await;
    c.wait_js(
        "the token listed",
        T,
        "!!document.querySelector('#tokens-body tr[data-token=\"from-the-page\"]')",
    )
    .await;
    let html: String = c.eval("document.body.innerHTML").await;
    assert!(!html.contains(&token), "the token is on the page again");

    // Erin changes her own password on the account page of node B, in a
    // browser of her own.
    let e = client::Client::open(&format!("{}/account", b.base)).await;
    sign_in(&e, "erin", "a sturdy passphrase 42").await;
    e.wait_js("the account page", T, "location.pathname === '/account' && document.getElementById('account-user').textContent.includes('erin')").await;
    // A new password holding her name is refused, the page says why.
    for (current, new) in [
        ("a sturdy passphrase 42", "erin's own new phrase"),
        ("a sturdy passphrase 42", "lighthouse copper ninety"),
    ] {
        let _: bool = e
            .eval("(() => { document.getElementById('password-form').reset(); return true; })()")
            .await;
        click(&e, "#current").await;
        e.type_text(current).await;
        click(&e, "#new").await;
        e.type_text(new).await;
        click(&e, "#repeat").await;
        e.type_text(new).await;
        click(&e, "#password-submit").await;
        e.wait_js(
            "an answer",
            T,
            "!document.getElementById('password-done').hidden || !document.getElementById('password-error').hidden",
        )
        .await;
        if new.contains("erin") {
            assert!(
                e.text_of("#password-error").await.contains("user name"),
                "{}",
                e.text_of("#password-error").await
            );
        } else {
            assert!(e.text_of("#password-done").await.contains("changed"));
        }
    }
    e.close().await;
    within(Duration::from_secs(1), "her old cookie ends", || async {
        me(&b, &erin).await.is_none()
    })
    .await;
    assert!(login(&a, "erin", "a sturdy passphrase 42").await.is_none());
    let erin = login(&a, "erin", "lighthouse copper ninety")
        .await
        .expect("the new password works on A");

    // Disable erin in the edit dialog: B refuses her cookie and her password.
    click(&c, "#users-body tr[data-user=\"erin\"] button").await;
    c.wait_js("the dialog", T, "document.getElementById('editor').open")
        .await;
    click(&c, "#f-disabled").await;
    click(&c, "#editor-save").await;
    c.wait_js("erin disabled", T, "(document.querySelector('#users-body tr[data-user=\"erin\"]') || {}).textContent?.includes('disabled')").await;
    within(Duration::from_secs(1), "erin signed out on B", || async {
        me(&b, &erin).await.is_none()
    })
    .await;
    within(Duration::from_secs(1), "erin refused on B", || async {
        login(&b, "erin", "lighthouse copper ninety")
            .await
            .is_none()
    })
    .await;
    // Root's own row offers no way to lock root out (a config user).
    assert_eq!(
        c.text_of("#users-body tr[data-user=\"root\"] td:last-child")
            .await,
        "config file"
    );
    c.close().await;
}

/// Scrolls the element into view, as a user would, and clicks it.
async fn click(c: &client::Client, selector: &str) {
    let js = format!(
        "(() => {{ const e = document.querySelector({sel}); if (e) e.scrollIntoView({{block: 'center'}}); return !!e; }})()",
        sel = serde_json::to_string(selector).unwrap()
    );
    let found: bool = c.eval(&js).await;
    assert!(found, "no {selector} on the page");
    c.click_ui(selector).await;
}

/// Bob changes his own password: only with the current one (a stolen
/// cookie is not enough), to one that follows the rules; his other logins
/// end on every node while the browser that changed it stays signed in.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_user_changes_their_own_password() {
    let pg = Postgres::start();
    let (a, b) = two_nodes(&pg).await;
    add_user(&a, json!({ "name": "bob", "password": BOB_PASSWORD })).await;
    let here = login(&a, "bob", BOB_PASSWORD).await.unwrap();
    let elsewhere = login(&b, "bob", BOB_PASSWORD).await.unwrap();
    assert_eq!(me(&a, &here).await.unwrap()["can_change_password"], true);
    let change = |cookie: &str, current: &str, new: &str| {
        let body = json!({ "current": current, "new": new });
        let cookie = cookie.to_owned();
        let a = &a;
        async move { as_user(a, &cookie, Method::POST, "/api/me/password", Some(body)).await }
    };
    // The wrong current password, a weak new one, the same one: refused,
    // naming the field.
    for (current, new, field) in [
        ("not my password at all", BOB_NEW_PASSWORD, "current"),
        (BOB_PASSWORD, "short", "new"),
        (BOB_PASSWORD, "bob bob bob bob bob", "new"),
        (BOB_PASSWORD, BOB_PASSWORD, "new"),
    ] {
        let (st, e, _) = change(&here, current, new).await;
        assert_eq!(
            (st, e["field"].clone()),
            (StatusCode::BAD_REQUEST, json!(field)),
            "{e}"
        );
    }
    // A cross-site form cannot do it.
    let res = reqwest::Client::new()
        .post(format!("{}/api/me/password", a.base))
        .header("cookie", &here)
        .json(&json!({ "current": BOB_PASSWORD, "new": BOB_NEW_PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // Done right: this browser gets a new login, valid on every node.
    let (st, e, headers) = change(&here, BOB_PASSWORD, BOB_NEW_PASSWORD).await;
    assert_eq!(st, StatusCode::NO_CONTENT, "{e}");
    let fresh = headers["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    assert!(me(&a, &fresh).await.is_some() && me(&b, &fresh).await.is_some());
    for (node, old) in [(&a, &here), (&b, &elsewhere)] {
        within(Duration::from_secs(1), "the other logins end", || async {
            me(node, old).await.is_none()
        })
        .await;
    }
    within(
        Duration::from_secs(1),
        "the old password refused on B",
        || async { login(&b, "bob", BOB_PASSWORD).await.is_none() },
    )
    .await;
    assert!(login(&b, "bob", BOB_NEW_PASSWORD).await.is_some());
    // Root's password is the config file's.
    let root = login(&a, "root", ROOT_PASSWORD).await.unwrap();
    assert_eq!(me(&a, &root).await.unwrap()["can_change_password"], false);
    let (st, e, _) = as_user(
        &a,
        &root,
        Method::POST,
        "/api/me/password",
        Some(json!({ "current": ROOT_PASSWORD, "new": "a brand new passphrase" })),
    )
    .await;
    assert_eq!(
        (st, e["code"].clone()),
        (StatusCode::CONFLICT, json!("config_user"))
    );
    assert!(login(&a, "root", ROOT_PASSWORD).await.is_some());
}
