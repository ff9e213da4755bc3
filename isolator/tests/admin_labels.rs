//! Sensitivity labels at the gates, over real HTTP through the test bench
//! (the server's own enforcer, as a session would ask it): under a rule
//! whose profile holds a `label` detector, an upload or download of a file
//! labelled Confidential (a MIP label written by XlsxWriter, a header
//! marking written by python-docx) is blocked and the verdict's evidence
//! names the label; unlabelled and otherwise-labelled files pass; a paste
//! whose first line is the marking is blocked, one that only mentions
//! the word is not (`enforcer/tests/labels/README.md` names the files'
//! producers).

use std::path::{Path, PathBuf};

use isolator::config::{AuthMode, Config};
use reqwest::StatusCode;
use serde_json::{json, Value};

mod server;

const POLICY: &str = r#"
[defaults]
paste = "allow"
upload = "allow"
download = "allow"

[[apps]]
name = "share"
hosts = ["share.example.com"]

[[detectors]]
id = "label_confidential"
kind = "label"
names = ["Confidential", "Highly Confidential*"]

[[profiles]]
id = "labelled_confidential"
detectors = ["label_confidential"]

[[rules]]
name = "no-confidential-files"
apps = ["share"]
paste = { mode = "scan", profiles = ["labelled_confidential"] }
upload = { mode = "scan", profiles = ["financial", "labelled_confidential"] }
download = { mode = "scan", profiles = ["labelled_confidential"] }
"#;

struct Server {
    addr: std::net::SocketAddr,
    _shutdown: tokio::sync::watch::Sender<bool>,
    _dir: tempfile::TempDir,
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../enforcer/tests/labels")
        .join(name)
}

async fn start() -> Server {
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
    let (addr, _state, tx) = server::start(config).await;
    Server {
        addr,
        _shutdown: tx,
        _dir: dir,
    }
}

impl Server {
    async fn bench(
        &self,
        r: impl FnOnce(reqwest::RequestBuilder) -> reqwest::RequestBuilder,
    ) -> Value {
        let req = reqwest::Client::new()
            .post(format!("http://{}/api/v1/test", self.addr))
            .header("x-forwarded-user", "alice")
            .header("x-forwarded-groups", "admins")
            .header("x-isolator-request", "1");
        let res = r(req).send().await.unwrap();
        let status = res.status();
        let body: Value = res.json().await.unwrap();
        assert_eq!(status, StatusCode::OK, "{body}");
        body["verdict"].clone()
    }

    async fn file(&self, action: &str, file: &str) -> Value {
        let bytes = std::fs::read(fixture(file)).unwrap();
        let form = reqwest::multipart::Form::new()
            .text("user", "dana")
            .text("url", "https://share.example.com/folder/1")
            .text("action", action.to_owned())
            .part(
                "file",
                reqwest::multipart::Part::bytes(bytes).file_name(file.to_owned()),
            );
        self.bench(|r| r.multipart(form)).await
    }

    async fn paste(&self, text: &str) -> Value {
        let body = json!({ "user": "dana", "url": "https://share.example.com/folder/1", "action": "paste", "text": text });
        self.bench(|r| r.json(&body)).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn labelled_files_are_blocked_naming_the_label() {
    let s = start().await;
    for (action, file, label) in [
        (
            "upload",
            "xlsxwriter_msip_confidential.xlsx",
            "\"Confidential\" (MIP label property)",
        ),
        (
            "upload",
            "python_docx_header_confidential.docx",
            "\"Confidential\" (marking in a header or footer)",
        ),
        (
            "download",
            "openpyxl_msip_highly_confidential.xlsx",
            "\"Highly Confidential\" (MIP label property)",
        ),
        (
            "upload",
            "nested_attachment.eml",
            "\"Confidential\" (MIP label property)",
        ),
    ] {
        let v = s.file(action, file).await;
        assert_eq!(v["outcome"], "block", "{file}: {v}");
        assert!(
            v["evidence"].as_array().unwrap().iter().any(|e| e == label),
            "{file}: {v}"
        );
    }
    for (action, file) in [
        ("upload", "pandoc_unlabelled.docx"),
        ("upload", "pandoc_msip_public.docx"),
        ("upload", "xlsxwriter_msip_disabled.xlsx"),
        ("download", "reportlab_unlabelled.pdf"),
    ] {
        let v = s.file(action, file).await;
        assert_eq!(v["outcome"], "allow", "{file}: {v}");
    }
    let v = s
        .paste("CONFIDENTIAL\nBoard minutes: the merger closes in May.\n")
        .await;
    assert_eq!(v["outcome"], "block", "{v}");
    let v = s
        .paste("Board minutes: nothing here is confidential.\n")
        .await;
    assert_eq!(v["outcome"], "allow", "{v}");
}
