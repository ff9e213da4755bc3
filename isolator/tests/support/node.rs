//! A real `isolator serve` process for the cluster tests: a node whose
//! configuration the test writes, started on a free port, its stderr kept,
//! killed when dropped.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::AsyncBufReadExt;

/// One node: a real server process.
pub struct Node {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// Its log lines so far.
    pub log: Arc<Mutex<Vec<String>>>,
    /// The process (killed when dropped).
    pub child: tokio::process::Child,
    _dir: tempfile::TempDir,
}

/// The repository's web client.
pub fn web_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../web-client")
}

/// The `[cluster]` timing of a test node: a heartbeat every 200 ms, a node
/// silent for 2 s taken for dead, 2 s of drain grace.
pub const TIMING: &str = "heartbeat_ms = 200\nnode_timeout_secs = 2\ndrain_grace_secs = 2\n";

impl Node {
    /// Starts node `id` of the cluster on `database_url`, with `extra`
    /// appended to the top level of its configuration (before any table)
    /// and `tables` after the `[cluster]` table. `files` are written into
    /// its directory first; `{dir}` in the texts names that directory.
    pub async fn start(
        id: &str,
        database_url: &str,
        extra: &str,
        tables: &str,
        files: &[(&str, &str)],
    ) -> Node {
        Node::start_timed(id, database_url, TIMING, extra, tables, files).await
    }

    /// [`Node::start`] with `timing` in its `[cluster]` table instead of
    /// [`TIMING`].
    pub async fn start_timed(
        id: &str,
        database_url: &str,
        timing: &str,
        extra: &str,
        tables: &str,
        files: &[(&str, &str)],
    ) -> Node {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().display().to_string();
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text.replace("{dir}", &d)).unwrap();
        }
        let url_file = dir.path().join("database-url");
        std::fs::write(&url_file, database_url).unwrap();
        let config = dir.path().join("isolator.toml");
        std::fs::write(
            &config,
            format!(
                "listen = \"127.0.0.1:0\"\nweb_root = {web:?}\ndata_dir = {data:?}\n{extra}\n\
                 [audit]\ndir = {audit:?}\n\
                 [cluster]\nnode_id = {id:?}\ndatabase_url_file = {url_file:?}\n{timing}{tables}",
                web = web_root(),
                data = dir.path().join("data"),
                audit = dir.path().join("recordings"),
                extra = extra.replace("{dir}", &d),
                tables = tables.replace("{dir}", &d),
            ),
        )
        .unwrap();
        let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_isolator"))
            .args(["serve", "--config"])
            .arg(&config)
            .env("RUST_LOG", "info,chromiumoxide=warn")
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let sink = log.clone();
        let mut lines = tokio::io::BufReader::new(child.stderr.take().unwrap()).lines();
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                sink.lock().unwrap().push(line);
            }
        });
        let deadline = Instant::now() + Duration::from_secs(30);
        let base = loop {
            let found = log.lock().unwrap().iter().find_map(|l| {
                let marker = "listening on http://";
                let rest = &l[l.find(marker)? + marker.len()..];
                Some(format!("http://{}", &rest[..rest.find('/')?]))
            });
            if let Some(b) = found {
                break b;
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!("node {id} exited with {status}: {:#?}", log.lock().unwrap());
            }
            assert!(
                Instant::now() < deadline,
                "node {id} did not start: {:#?}",
                log.lock().unwrap()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        Node {
            base,
            log,
            child,
            _dir: dir,
        }
    }

    /// `127.0.0.1:PORT`.
    pub fn host(&self) -> &str {
        self.base.trim_start_matches("http://")
    }

    /// Whether a log line contains `needle`.
    pub fn log_has(&self, needle: &str) -> bool {
        self.log.lock().unwrap().iter().any(|l| l.contains(needle))
    }
}

/// Polls `check` every 20 ms until it holds; returns how long it took.
pub async fn within<F, Fut>(limit: Duration, what: &str, mut check: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    loop {
        if check().await {
            return start.elapsed();
        }
        assert!(start.elapsed() < limit, "{what}: not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
