//! The admin API over real HTTP on 127.0.0.1 port 0: who may use it,
//! validation errors with field paths, atomic apply, optimistic concurrency,
//! rollback, write-back to the policy file, the test bench, live sessions
//! (with a real Chromium) and the OpenAPI document.
//!
//! Identities come from `auth.mode = "header"` (the test is the trusted
//! proxy on 127.0.0.1): `X-Forwarded-User` plus `X-Forwarded-Groups: admins`
//! is an admin, without the group a plain user.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use isolator::config::{AuthMode, Config};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

mod server;

const POLICY: &str = r#"
[defaults]
paste = "allow"
upload = "allow"

[[apps]]
name = "mail"
hosts = ["mail.example.com"]

[[rules]]
name = "mail-scan"
apps = ["mail"]
paste = { mode = "scan", profiles = ["financial"] }
upload = "scan"
profiles = ["financial"]
upload_types = ["pdf"]

[[rules]]
name = "contractors-read-only"
groups = ["contractors"]
read_only = true
"#;

const TOKEN: &str = "test-api-token-0123456789abcdef";

struct Server {
    addr: SocketAddr,
    state: isolator::http::AppState,
    policy_file: PathBuf,
    _shutdown: tokio::sync::watch::Sender<bool>,
    _dir: tempfile::TempDir,
}

async fn start() -> Server {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let dir = tempfile::tempdir().unwrap();
    let web = dir.path().join("web");
    std::fs::create_dir_all(web.join("admin")).unwrap();
    std::fs::write(web.join("index.html"), "<!doctype html><title>t</title>").unwrap();
    std::fs::write(
        web.join("admin/index.html"),
        "<!doctype html><title>admin</title>",
    )
    .unwrap();
    let policy_file = dir.path().join("policy.toml");
    std::fs::write(&policy_file, POLICY).unwrap();
    let mut config = Config {
        web_root: web,
        data_dir: dir.path().join("data"),
        ..Config::default()
    };
    config.auth.mode = AuthMode::Header;
    config.policies.file = Some(policy_file.clone());
    config.policies.watch_interval_ms = 100;
    config.admin.api_tokens = vec![isolator::auth::hash_api_token(TOKEN)];
    let (addr, state, tx) = server::start(config).await;
    Server {
        addr,
        state,
        policy_file,
        _shutdown: tx,
        _dir: dir,
    }
}

/// Who sends a request.
#[derive(Clone, Copy)]
enum As<'a> {
    Nobody,
    Admin(&'a str),
    User(&'a str),
    Bearer(&'a str),
}

impl Server {
    fn req(&self, who: As<'_>, method: Method, path: &str) -> reqwest::RequestBuilder {
        let mut r = reqwest::Client::new().request(method, format!("http://{}{path}", self.addr));
        r = match who {
            As::Nobody => r,
            As::Admin(name) => r
                .header("x-forwarded-user", name)
                .header("x-forwarded-groups", "admins")
                .header("x-isolator-request", "1"),
            As::User(name) => r
                .header("x-forwarded-user", name)
                .header("x-isolator-request", "1"),
            As::Bearer(t) => r.bearer_auth(t),
        };
        r
    }

    async fn call(
        &self,
        who: As<'_>,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut r = self.req(who, method, path);
        if let Some(b) = body {
            r = r.json(&b);
        }
        let res = r.send().await.unwrap();
        let status = res.status();
        let text = res.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// Sends `method path` as `who` with no body.
    async fn fetch(&self, who: As<'_>, method: Method, path: &str) -> reqwest::Response {
        self.req(who, method, path).send().await.unwrap()
    }

    /// Sends `method path` as `who` with no body, naming `version` as the base.
    async fn fetch_if_match(
        &self,
        who: As<'_>,
        method: Method,
        path: &str,
        version: u64,
    ) -> reqwest::Response {
        self.req(who, method, path)
            .header("if-match", format!("\"{version}\""))
            .send()
            .await
            .unwrap()
    }

    /// `call` as the admin alice.
    async fn alice(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        self.call(As::Admin("alice"), method, path, body).await
    }

    async fn get(&self, path: &str) -> Value {
        let (s, v) = self.call(As::Admin("alice"), Method::GET, path, None).await;
        assert_eq!(s, StatusCode::OK, "GET {path}: {v}");
        v
    }

    fn version(&self) -> u64 {
        self.state.policies.version()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_admins_reach_the_api() {
    let s = start().await;
    for path in [
        "/api/v1/document",
        "/api/v1/rules",
        "/api/v1/sessions",
        "/api/v1/history",
        "/api/v1/openapi.json",
    ] {
        let (st, body) = s.call(As::Nobody, Method::GET, path, None).await;
        assert_eq!(st, StatusCode::UNAUTHORIZED, "{path}: {body}");
        assert_eq!(body["code"], "unauthenticated");
        let (st, body) = s.call(As::User("bob"), Method::GET, path, None).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{path}: {body}");
        assert_eq!(body["code"], "forbidden");
        let (st, _) = s.call(As::Admin("alice"), Method::GET, path, None).await;
        assert_eq!(st, StatusCode::OK, "{path}");
        let (st, _) = s.call(As::Bearer(TOKEN), Method::GET, path, None).await;
        assert_eq!(st, StatusCode::OK, "{path} with the bearer token");
        let (st, body) = s
            .call(As::Bearer("not-the-token"), Method::GET, path, None)
            .await;
        assert_eq!(st, StatusCode::UNAUTHORIZED, "{path}: {body}");
        assert_eq!(body["code"], "bad_token");
    }
    // A wrong bearer token is refused even alongside an admin identity.
    let res = s
        .req(As::Admin("alice"), Method::GET, "/api/v1/document")
        .bearer_auth("wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    // Writes: a bearer client needs no CSRF header; a browser-style admin does.
    let rule = json!({ "name": "from-token", "copy": "block", "version": s.version() });
    let (st, body) = s
        .call(As::Bearer(TOKEN), Method::POST, "/api/v1/rules", Some(rule))
        .await;
    assert_eq!(st, StatusCode::CREATED, "{body}");
    let history = s.get("/api/v1/history").await;
    assert!(
        history["versions"][0]["author"]
            .as_str()
            .unwrap()
            .starts_with("api-token:"),
        "{history}"
    );
    let res = reqwest::Client::new()
        .post(format!("http://{}/api/v1/rules", s.addr))
        .header("x-forwarded-user", "alice")
        .header("x-forwarded-groups", "admins")
        .json(&json!({ "name": "no-csrf", "copy": "block", "version": s.version() }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // Non-admins cannot write either.
    let (st, _) = s
        .call(
            As::User("bob"),
            Method::DELETE,
            "/api/v1/rules/mail-scan",
            None,
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    assert!(s.get("/api/v1/rules/mail-scan").await["item"].is_object());

    // The admin page follows the same rule.
    let res = s.fetch(As::User("bob"), Method::GET, "/admin").await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = s.fetch(As::Admin("alice"), Method::GET, "/admin/").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.unwrap().contains("<title>admin</title>"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_edits_name_the_field_and_change_nothing() {
    let s = start().await;
    let before = s.get("/api/v1/document").await;
    let file_before = std::fs::read_to_string(&s.policy_file).unwrap();
    let v = s.version();

    // A rule scanning with a profile that does not exist.
    let rule = json!({ "name": "bad", "paste": { "mode": "scan", "profiles": ["no-such-profile"] }, "version": v });
    let (st, body) = s.alice(Method::POST, "/api/v1/rules", Some(rule)).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["code"], "invalid");
    let field = body["field"].as_str().unwrap();
    assert!(field.starts_with("rules[2].paste"), "{body}");
    assert!(
        body["problems"][0]["message"]
            .as_str()
            .unwrap()
            .contains("no-such-profile"),
        "{body}"
    );

    // A whole document with several problems: all listed, each with its path.
    let mut doc = before["document"].clone();
    doc["rules"][0]["apps"] = json!(["nope"]);
    doc["detectors"] = json!([{ "id": "broken", "kind": "regex", "pattern": "(unclosed" }]);
    let (st, body) = s
        .alice(Method::PUT, "/api/v1/document", Some(json!({ "version": v, "rules": doc["rules"], "apps": doc["apps"], "defaults": doc["defaults"], "detectors": doc["detectors"] })))
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let fields: Vec<&str> = body["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["field"].as_str().unwrap())
        .collect();
    assert!(
        fields.iter().any(|f| f.starts_with("rules[0].apps")),
        "{fields:?}"
    );
    assert!(
        fields.iter().any(|f| f.starts_with("detectors[0]")),
        "{fields:?}"
    );

    // TOML drafts get line and column.
    let toml = "[defaults]\npaste = \"allow\"\n\n[[rules]]\nname = \"x\"\ncopy = \"maybe\"\n";
    let res = s
        .req(As::Admin("alice"), Method::PUT, "/api/v1/document")
        .header("content-type", "application/toml")
        .header("if-match", format!("\"{v}\""))
        .body(toml)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["problems"][0]["line"], 6, "{body}");

    // Unknown keys are refused, naming the item.
    let (st, body) = s
        .alice(
            Method::POST,
            "/api/v1/apps",
            Some(json!({ "name": "x", "hosts": ["x.example"], "hostz": [], "version": v })),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["field"], "apps[1]");
    assert!(body["error"].as_str().unwrap().contains("hostz"), "{body}");

    // Deleting a profile... there is none; deleting an app a rule uses is refused.
    let res = s
        .fetch_if_match(As::Admin("alice"), Method::DELETE, "/api/v1/apps/mail", v)
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = res.json().await.unwrap();
    assert!(
        body["field"].as_str().unwrap().starts_with("rules[0].apps"),
        "{body}"
    );

    // Bad requests name the request field.
    let (st, body) = s
        .alice(
            Method::POST,
            "/api/v1/rules",
            Some(json!({ "name": "x", "version": "three" })),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["field"], "version");
    let (st, body) = s
        .alice(Method::GET, "/api/v1/rules/no-such-rule", None)
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{body}");

    // Validation of a draft reports what it would change and applies nothing.
    let mut draft = before["document"].clone();
    draft["rules"][1]["name"] = json!("contractors-ro");
    let (st, body) = s
        .alice(Method::POST, "/api/v1/document/validate", Some(draft))
        .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!(body["valid"], true);
    assert!(!body["summary"].as_array().unwrap().is_empty(), "{body}");

    // Nothing changed: version, document, file.
    assert_eq!(s.version(), v);
    assert_eq!(s.get("/api/v1/document").await, before);
    assert_eq!(
        std::fs::read_to_string(&s.policy_file).unwrap(),
        file_before
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_writes_are_refused_not_lost() {
    let s = start().await;
    // Two admins read the same version.
    let res = s
        .fetch(As::Admin("alice"), Method::GET, "/api/v1/rules")
        .await;
    let etag = res.headers()["etag"].to_str().unwrap().to_owned();
    let seen: u64 = etag.trim_matches('"').parse().unwrap();

    let alice = s
        .req(As::Admin("alice"), Method::POST, "/api/v1/rules?position=0")
        .header("if-match", &etag)
        .json(&json!({ "name": "alice-rule", "print": "block" }))
        .send()
        .await
        .unwrap();
    assert_eq!(alice.status(), StatusCode::CREATED);
    assert_eq!(alice.json::<Value>().await.unwrap()["index"], 0);

    let (st, body) = s
        .call(
            As::Admin("carol"),
            Method::POST,
            "/api/v1/rules",
            Some(json!({ "name": "carol-rule", "copy": "block", "version": seen })),
        )
        .await;
    assert_eq!(st, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["code"], "conflict");
    assert_eq!(body["current_version"], seen + 1);
    let names: Vec<String> = s.get("/api/v1/rules").await["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["alice-rule", "mail-scan", "contractors-read-only"]);

    // Every write must say what it was based on.
    let res = s
        .fetch(
            As::Admin("carol"),
            Method::DELETE,
            "/api/v1/rules/alice-rule",
        )
        .await;
    assert_eq!(res.status(), StatusCode::PRECONDITION_REQUIRED);

    // Reorder with the current version; a stale reorder is refused too.
    let v = s.version();
    let order =
        json!({ "order": ["mail-scan", "contractors-read-only", "alice-rule"], "version": v });
    let (st, body) = s
        .call(
            As::Admin("carol"),
            Method::PUT,
            "/api/v1/rule-order",
            Some(order.clone()),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!(body["version"], v + 1);
    let (st, _) = s
        .call(
            As::Admin("carol"),
            Method::PUT,
            "/api/v1/rule-order",
            Some(order),
        )
        .await;
    assert_eq!(st, StatusCode::CONFLICT);
    let (st, body) = s
        .call(
            As::Admin("carol"),
            Method::PUT,
            "/api/v1/rule-order",
            Some(json!({ "order": ["mail-scan"], "version": v + 1 })),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["field"], "order");
    assert_eq!(
        s.get("/api/v1/rules").await["items"][2]["name"],
        "alice-rule"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_reach_the_file_history_and_roll_back() {
    let s = start().await;
    let v1 = s.version();
    let original = s.get("/api/v1/document").await["document"].clone();

    let (st, body) = s
        .alice(
            Method::PUT,
            "/api/v1/rules/mail-scan",
            Some(json!({ "name": "mail-scan", "apps": ["mail"], "paste": "block", "version": v1 })),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    let v2 = body["version"].as_u64().unwrap();
    assert_eq!(v2, v1 + 1);

    // Written back to the policy file, and the watcher does not take our own
    // write for an outside change.
    let file = std::fs::read_to_string(&s.policy_file).unwrap();
    let doc = policies::parse_document(&file, &s.policy_file).unwrap();
    assert_eq!(
        doc.rules[0].paste,
        Some(policies::ActionSetting::mode(policies::Mode::Block))
    );
    assert_eq!(
        doc,
        *s.state.policies.current().document(),
        "the file holds the document in force"
    );
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(s.version(), v2);

    // History, newest first, with who and what.
    let h = s.get("/api/v1/history").await;
    assert_eq!(h["current_version"], v2);
    assert_eq!(h["versions"][0]["version"], v2);
    assert_eq!(h["versions"][0]["author"], "alice");
    assert!(!h["versions"][0]["summary"].as_array().unwrap().is_empty());
    let old = s.get(&format!("/api/v1/history/{v1}")).await;
    assert_eq!(old["document"], original);
    let res = s
        .fetch(
            As::Admin("alice"),
            Method::GET,
            &format!("/api/v1/history/{v1}?format=toml"),
        )
        .await;
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .contains("toml"));
    assert!(res.text().await.unwrap().contains("mail-scan"));

    // Rollback needs the current version, then restores version 1's document.
    let res = s
        .fetch_if_match(
            As::Admin("alice"),
            Method::POST,
            &format!("/api/v1/history/{v1}/rollback"),
            v1,
        )
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let res = s
        .fetch_if_match(
            As::Admin("alice"),
            Method::POST,
            &format!("/api/v1/history/{v1}/rollback"),
            v2,
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let v3 = res.json::<Value>().await.unwrap()["version"]
        .as_u64()
        .unwrap();
    assert_eq!(v3, v2 + 1);
    assert_eq!(s.get("/api/v1/document").await["document"], original);
    let h = s.get("/api/v1/history").await;
    assert_eq!(h["versions"][0]["rollback_of"], v1);
    let (st, _) = s
        .alice(
            Method::POST,
            "/api/v1/history/999/rollback",
            Some(json!({ "version": v3 })),
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    // The enforcer uses the rolled-back rules at once.
    let (_, r) = s
        .alice(Method::POST, "/api/v1/test", Some(json!({ "user": "dana", "url": "https://mail.example.com/", "action": "paste", "text": "hello" })))
        .await;
    assert_eq!(r["decision"]["mode"], "scan", "{r}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_bench_shows_decisions_and_redacted_evidence() {
    let s = start().await;
    let secret = "4111 1111 1111 1111";
    let test = json!({
        "user": "dana",
        "groups": ["finance"],
        "url": "https://mail.example.com/inbox?x=1",
        "action": "paste",
        "text": format!("please charge card {secret} exp 12/29"),
    });
    let res = s
        .req(As::Admin("alice"), Method::POST, "/api/v1/test")
        .json(&test)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let raw = res.text().await.unwrap();
    assert!(
        !raw.contains(secret) && !raw.contains("4111111111111111"),
        "raw data in {raw}"
    );
    let r: Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(r["verdict"]["outcome"], "block", "{r}");
    assert_eq!(r["decision"]["rule"]["name"], "mail-scan");
    assert_eq!(r["decision"]["app"], "mail");
    assert!(
        !r["verdict"]["detectors"].as_array().unwrap().is_empty(),
        "{r}"
    );
    let evidence = r["verdict"]["evidence"].as_array().unwrap();
    assert!(!evidence.is_empty(), "{r}");
    assert!(
        evidence.iter().all(|e| e.as_str().unwrap().contains('*')),
        "evidence is masked: {r}"
    );
    assert!(
        r["decision"]["explain"][0]
            .as_str()
            .unwrap()
            .contains("mail-scan"),
        "{r}"
    );

    // Clean text passes; another app falls through to the defaults.
    let (_, r) = s
        .alice(Method::POST, "/api/v1/test", Some(json!({ "user": "dana", "url": "https://mail.example.com/", "action": "paste", "text": "lunch at noon?" })))
        .await;
    assert_eq!(r["verdict"]["outcome"], "allow", "{r}");
    let (_, r) = s
        .alice(Method::POST, "/api/v1/test", Some(json!({ "user": "eve", "groups": ["contractors"], "url": "https://wiki.example.org/", "action": "keyboard", "text": "x" })))
        .await;
    assert_eq!(r["verdict"]["outcome"], "block", "{r}");
    assert_eq!(r["decision"]["rule"]["name"], "contractors-read-only");
    assert_eq!(r["decision"]["app"], "other");

    // A file of a type the rule does not allow, sent as multipart.
    let form = reqwest::multipart::Form::new()
        .text("user", "dana")
        .text("url", "https://mail.example.com/")
        .text("action", "upload")
        .part(
            "file",
            reqwest::multipart::Part::bytes(b"MZ not really".to_vec()).file_name("setup.exe"),
        );
    let res = s
        .req(As::Admin("alice"), Method::POST, "/api/v1/test")
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let r: Value = res.json().await.unwrap();
    assert_eq!(r["verdict"]["outcome"], "block", "{r}");
    assert!(
        r["verdict"]["reason"].as_str().unwrap().contains("pdf"),
        "{r}"
    );

    // Bad input names the field.
    for (body, field) in [
        (
            json!({ "user": "dana", "url": "https://a.example/", "action": "teleport", "text": "x" }),
            "action",
        ),
        (
            json!({ "user": "dana", "url": "not a url", "action": "paste", "text": "x" }),
            "url",
        ),
        (
            json!({ "url": "https://a.example/", "action": "paste", "text": "x" }),
            "user",
        ),
        (
            json!({ "user": "dana", "url": "https://a.example/", "action": "paste" }),
            "text",
        ),
    ] {
        let (st, r) = s.alice(Method::POST, "/api/v1/test", Some(body)).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{r}");
        assert_eq!(r["field"], field, "{r}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_sessions_are_listed_and_terminated() {
    let s = start().await;
    let (st, created) = s
        .call(
            As::User("carol"),
            Method::POST,
            "/api/sessions",
            Some(json!({ "url": "about:blank", "width": 800, "height": 600, "dpr": 1 })),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();

    let list = s.get("/api/v1/sessions").await;
    let sessions = list["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 1, "{list}");
    assert_eq!(sessions[0]["id"], id.as_str());
    assert_eq!(sessions[0]["user"], "carol");
    assert!(!list
        .to_string()
        .contains(created["token"].as_str().unwrap()));

    let (st, _) = s
        .call(
            As::User("carol"),
            Method::DELETE,
            &format!("/api/v1/sessions/{id}"),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, _) = s
        .alice(Method::DELETE, &format!("/api/v1/sessions/{id}"), None)
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        if s.get("/api/v1/sessions").await["sessions"]
            .as_array()
            .unwrap()
            .is_empty()
        {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "session still listed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (st, body) = s
        .alice(Method::DELETE, &format!("/api/v1/sessions/{id}"), None)
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_documents_every_route() {
    let s = start().await;
    let doc = s.get("/api/v1/openapi.json").await;
    assert_eq!(doc["openapi"], "3.1.0");
    let endpoints = isolator::http::admin::endpoints();
    assert!(endpoints.len() > 25);
    for (method, path) in endpoints {
        let op = &doc["paths"][path][method.as_str().to_ascii_lowercase()];
        assert!(op.is_object(), "{method} {path} is not documented");
        assert!(
            op["responses"].is_object(),
            "{method} {path} has no responses"
        );
        // And it is really served: no 404/405 from the router for an admin.
        let concrete = path
            .replace("{name}", "mail")
            .replace("{id}", "nope")
            .replace("{version}", "1");
        if method == Method::GET {
            let (st, body) = s.alice(method.clone(), &concrete, None).await;
            assert!(
                st == StatusCode::OK
                    || (st == StatusCode::NOT_FOUND && body["code"] == "not_found"),
                "{method} {concrete}: {st} {body}"
            );
        }
    }
}

/// A single server keeps its users and tokens in its config file: the API
/// lists them (never a hash) and refuses to change them, saying where they
/// are managed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_single_server_lists_config_users_and_tokens_read_only() {
    let s = start().await;
    let users = s.get("/api/v1/users").await;
    assert_eq!(
        (users["managed"].clone(), users["auth_mode"].clone()),
        (json!("config"), json!("header"))
    );
    assert_eq!(users["users"], json!([]));
    let tokens = s.get("/api/v1/tokens").await;
    let hash = isolator::auth::hash_api_token(TOKEN);
    assert_eq!(
        tokens["tokens"],
        json!([{ "name": &hash[7..15], "source": "config" }])
    );
    assert!(!tokens.to_string().contains(&hash[7..20]), "{tokens}");
    for (method, path, body) in [
        (
            Method::POST,
            "/api/v1/users",
            Some(json!({ "name": "bob", "password": "long enough password" })),
        ),
        (
            Method::PATCH,
            "/api/v1/users/bob",
            Some(json!({ "admin": true })),
        ),
        (Method::DELETE, "/api/v1/users/bob", None),
        (
            Method::POST,
            "/api/v1/tokens",
            Some(json!({ "name": "ci" })),
        ),
        (Method::DELETE, "/api/v1/tokens/ci", None),
    ] {
        let (st, e) = s.alice(method.clone(), path, body).await;
        assert_eq!(
            (st, e["code"].clone()),
            (StatusCode::CONFLICT, json!("config_managed")),
            "{method} {path}"
        );
        assert!(e["error"].as_str().unwrap().contains("[cluster]"), "{e}");
    }
    // A plain user sees none of it.
    let (st, _) = s
        .call(As::User("bob"), Method::GET, "/api/v1/users", None)
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
}
