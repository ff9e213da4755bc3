//! Registered confidential documents through the admin API over real HTTP,
//! and what the gates then do, asked through the test bench (the server's
//! own enforcer, as a session would ask it): a DOCX made by pandoc is
//! registered; a paragraph of it pasted, and its PDF re-save by LibreOffice
//! uploaded, are blocked as `document_match` naming it, while an unrelated
//! document and text pass; removing it ends the matches; only admins may
//! manage the store; and without a configured store registration is
//! refused with the setting to change (`tests/fingerprint/README.md` names
//! the files' producers).

use std::path::{Path, PathBuf};

use isolator::config::{AuthMode, Config};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

mod server;

/// Pastes and uploads on the document site are looked up among the
/// registered documents; uploads are also scanned for card numbers.
const POLICY: &str = r#"
[defaults]
paste = "allow"
upload = "allow"

[[apps]]
name = "chat"
hosts = ["chat.example.com"]

[[rules]]
name = "no-confidential-documents"
apps = ["chat"]
paste = { mode = "scan", profiles = ["fingerprints"] }
upload = { mode = "scan", profiles = ["financial", "fingerprints"] }
"#;

struct Server {
    addr: std::net::SocketAddr,
    _shutdown: tokio::sync::watch::Sender<bool>,
    _dir: tempfile::TempDir,
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fingerprint")
        .join(name)
}

async fn start(with_store: bool) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let web = dir.path().join("web");
    std::fs::create_dir_all(web.join("admin")).unwrap();
    std::fs::write(web.join("index.html"), "<!doctype html><title>t</title>").unwrap();
    let policy_file = dir.path().join("policy.toml");
    std::fs::write(&policy_file, POLICY).unwrap();
    let mut config = Config {
        web_root: web,
        data_dir: dir.path().join("data"),
        ..Config::default()
    };
    config.auth.mode = AuthMode::Header;
    config.policies.file = Some(policy_file);
    config.enforce.worker_program = Some(PathBuf::from(env!("CARGO_BIN_EXE_isolator")));
    if with_store {
        config.enforce.fingerprints = Some(dir.path().join("fingerprints"));
    }
    let (addr, _state, tx) = server::start(config).await;
    Server {
        addr,
        _shutdown: tx,
        _dir: dir,
    }
}

impl Server {
    fn req(&self, admin: bool, method: Method, path: &str) -> reqwest::RequestBuilder {
        let r = reqwest::Client::new()
            .request(method, format!("http://{}{path}", self.addr))
            .header("x-forwarded-user", if admin { "alice" } else { "bob" })
            .header("x-isolator-request", "1");
        if admin {
            r.header("x-forwarded-groups", "admins")
        } else {
            r
        }
    }

    async fn json(&self, r: reqwest::RequestBuilder) -> (StatusCode, Value) {
        let res = r.send().await.unwrap();
        let status = res.status();
        let text = res.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    async fn register(&self, admin: bool, file: &str) -> (StatusCode, Value) {
        let bytes = std::fs::read(fixture(file)).unwrap();
        let form = reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(bytes).file_name(file.to_owned()),
        );
        self.json(
            self.req(admin, Method::POST, "/api/v1/fingerprints")
                .multipart(form),
        )
        .await
    }

    /// The test bench's verdict on pasting `text` into the chat.
    async fn paste(&self, text: &str) -> Value {
        let body = json!({ "user": "dana", "url": "https://chat.example.com/room/1", "action": "paste", "text": text });
        let (status, r) = self
            .json(self.req(true, Method::POST, "/api/v1/test").json(&body))
            .await;
        assert_eq!(status, StatusCode::OK, "{r}");
        r["verdict"].clone()
    }

    /// The test bench's verdict on uploading `file` to the chat.
    async fn upload(&self, file: &str) -> Value {
        let bytes = std::fs::read(fixture(file)).unwrap();
        let form = reqwest::multipart::Form::new()
            .text("user", "dana")
            .text("url", "https://chat.example.com/room/1")
            .text("action", "upload")
            .part(
                "file",
                reqwest::multipart::Part::bytes(bytes).file_name(file.to_owned()),
            );
        let (status, r) = self
            .json(self.req(true, Method::POST, "/api/v1/test").multipart(form))
            .await;
        assert_eq!(status, StatusCode::OK, "{r}");
        r["verdict"].clone()
    }
}

/// A paragraph of Debian's GPL-3 text, inside a chat message.
fn gpl_paragraph() -> String {
    let gpl = std::fs::read_to_string("/usr/share/common-licenses/GPL-3").unwrap();
    let start = gpl.find("  13. Use with the GNU Affero").unwrap();
    let para = gpl[start..]
        .split("\n\n")
        .take(2)
        .collect::<Vec<_>>()
        .join("\n\n");
    format!("Legal asked us to keep this out of the repo:\n{para}\n-- sent from my phone")
}

fn fired_document_match(verdict: &Value) -> bool {
    verdict["detectors"]
        .as_array()
        .is_some_and(|d| d.iter().any(|d| d == "document_match"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registered_documents_are_found_in_pastes_and_uploads_until_removed() {
    let s = start(true).await;
    let (status, list) = s
        .json(s.req(true, Method::GET, "/api/v1/fingerprints"))
        .await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(list, json!({ "configured": true, "documents": [] }));

    // Plain users neither see nor change the store.
    let (status, _) = s
        .json(s.req(false, Method::GET, "/api/v1/fingerprints"))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = s.register(false, "gpl-3.docx").await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let (status, added) = s.register(true, "gpl-3.docx").await;
    assert_eq!(status, StatusCode::CREATED, "{added}");
    let doc = &added["documents"][0];
    assert_eq!(doc["name"], "gpl-3.docx", "{added}");
    assert!(doc["fingerprints"].as_u64().unwrap() > 100, "{added}");
    let id = doc["id"].as_u64().unwrap();

    // A paragraph of it pasted into a chat message.
    let paragraph = gpl_paragraph();
    let v = s.paste(&paragraph).await;
    assert_eq!(v["outcome"], "block", "{v}");
    assert!(fired_document_match(&v), "{v}");
    let evidence = v["evidence"].to_string();
    assert!(evidence.contains("gpl-3.docx"), "{v}");
    assert!(
        !evidence.contains("Affero"),
        "the evidence names the document, not its text: {v}"
    );
    // The document re-saved as PDF by LibreOffice, uploaded.
    let v = s.upload("gpl-3.pdf").await;
    assert_eq!(v["outcome"], "block", "{v}");
    assert!(fired_document_match(&v), "{v}");
    // Unrelated: the CC0 licence as an ODT, and a paragraph of its text.
    let v = s.upload("cc0-1.0.odt").await;
    assert_eq!(v["outcome"], "allow", "{v}");
    let cc0 = std::fs::read_to_string("/usr/share/common-licenses/CC0-1.0").unwrap();
    let v = s.paste(&cc0[..cc0.len().min(1500)]).await;
    assert_eq!(v["outcome"], "allow", "{v}");

    // Removed, it matches nothing any more; a second removal is a 404.
    let res = s
        .req(true, Method::DELETE, &format!("/api/v1/fingerprints/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let v = s.paste(&paragraph).await;
    assert_eq!(v["outcome"], "allow", "{v}");
    let (status, _) = s
        .json(s.req(true, Method::DELETE, &format!("/api/v1/fingerprints/{id}")))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, list) = s
        .json(s.req(true, Method::GET, "/api/v1/fingerprints"))
        .await;
    assert_eq!(list["documents"], json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_without_enough_text_is_refused_by_name() {
    let s = start(true).await;
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(b"two words".to_vec()).file_name("memo.txt"),
    );
    let (status, r) = s
        .json(
            s.req(true, Method::POST, "/api/v1/fingerprints")
                .multipart(form),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{r}");
    assert!(r.to_string().contains("memo.txt"), "{r}");
    assert!(r.to_string().contains("too little text"), "{r}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_store_registration_is_refused_and_nothing_matches() {
    let s = start(false).await;
    let (_, list) = s
        .json(s.req(true, Method::GET, "/api/v1/fingerprints"))
        .await;
    assert_eq!(list, json!({ "configured": false, "documents": [] }));
    let (status, r) = s.register(true, "gpl-3.docx").await;
    assert_eq!(status, StatusCode::CONFLICT, "{r}");
    assert!(r.to_string().contains("[enforce]"), "{r}");
    // The policy naming `fingerprints` still loads; nothing is registered.
    let v = s.paste(&gpl_paragraph()).await;
    assert_eq!(v["outcome"], "allow", "{v}");
}
