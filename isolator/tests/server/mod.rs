//! The isolator server in-process on 127.0.0.1 port 0, for the HTTP-level
//! integration tests.

use std::net::SocketAddr;

use isolator::config::Config;
use isolator::http::AppState;
use tokio::sync::watch;

/// Validates `config`, creates its `data_dir` and serves it on a fresh
/// loopback port. Returns where it listens, its state (sessions, policy
/// store...) and the sender whose drop stops it.
pub async fn start(config: Config) -> (SocketAddr, AppState, watch::Sender<bool>) {
    config.validate("test").unwrap();
    std::fs::create_dir_all(&config.data_dir).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (shutdown, rx) = watch::channel(false);
    let state = isolator::http::build_state(config, addr, rx.clone()).unwrap();
    tokio::spawn(isolator::http::serve_state(listener, state.clone(), rx));
    (addr, state, shutdown)
}
