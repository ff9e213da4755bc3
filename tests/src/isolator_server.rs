//! The isolator server, in-process on 127.0.0.1 port 0, serving the real web client.

use std::net::SocketAddr;
use std::path::PathBuf;

use isolator::config::Config;
use isolator::http::AppState;

/// A running isolator.
pub struct Isolator {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its state (sessions, browser manager), for fault injection.
    pub state: AppState,
    shutdown: tokio::sync::watch::Sender<bool>,
    _dir: tempfile::TempDir,
}

/// The repository's web client.
pub fn web_root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../web-client"))
}

impl Isolator {
    /// Starts with the defaults, allowing the isolated browser to reach `site`
    /// (explicitly, by address and port: egress protection stays on).
    pub async fn for_site(site: &crate::TestSite) -> Isolator {
        Self::for_site_with(site, |_| {}).await
    }

    /// Like [`Isolator::for_site`], with a config the caller may adjust.
    pub async fn for_site_with(
        site: &crate::TestSite,
        adjust: impl FnOnce(&mut Config),
    ) -> Isolator {
        let allow = format!("127.0.0.1:{}", site.addr.port());
        Self::start_with(|c| {
            c.egress.allow.push(allow);
            adjust(c);
        })
        .await
    }

    /// Starts with a config the caller may adjust.
    pub async fn start_with(adjust: impl FnOnce(&mut Config)) -> Isolator {
        crate::init_logs();
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config {
            web_root: web_root(),
            data_dir: dir.path().join("data"),
            ..Config::default()
        };
        config.audit.dir = dir.path().join("recordings");
        adjust(&mut config);
        config.validate("test config").unwrap();
        std::fs::create_dir_all(&config.data_dir).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = tokio::sync::watch::channel(false);
        let state = isolator::http::build_state(config, addr, rx.clone()).unwrap();
        tokio::spawn(isolator::http::serve_state(listener, state.clone(), rx));
        Isolator {
            addr,
            state,
            shutdown: tx,
            _dir: dir,
        }
    }

    /// The URL of a path on the isolator.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

impl Drop for Isolator {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
    }
}
