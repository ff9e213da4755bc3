//! What the egress-scan tests share: the submit gate a session puts on its
//! proxy (the `StreamGate`, with a policy that scans for card numbers), and
//! an upstream that records what reaches it, over plain TCP or TLS.

use std::future::Future;
use std::sync::{Arc, Mutex};

use isolator::auth::User;
use isolator::egress::Inspect;
use isolator::enforce::config::EnforceConfig;
use isolator::enforce::Enforcer;
use isolator::gates::submit::link::{ContextRegistry, Registration};
use isolator::gates::submit::stream::StreamGate;
use isolator::gates::GateReport;
use policies::PolicyStore;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

const POLICY: &str = r#"
[[rules]]
name = "dlp"
profiles = ["financial"]
submit = "scan"
"#;

/// What the upstream received: one entry per connection, all its bytes,
/// and whether the connection ended cleanly (false: reset).
pub type Seen = Arc<Mutex<Vec<(Vec<u8>, bool)>>>;

/// The submit gate of a session of user `ann`, with `budget_ms` per piece:
/// the inspector to give the proxy, its reports, and the registration that
/// keeps the session's context alive.
pub fn gate(budget_ms: u64) -> (Arc<dyn Inspect>, mpsc::Receiver<GateReport>, Registration) {
    let compiled = policies::compile_str(POLICY, std::path::Path::new("test policy")).unwrap();
    let store = Arc::new(PolicyStore::new(compiled, "test"));
    let workers = enforcer::extract::worker::WorkerConfig::new("/bin/false", ["unused"]);
    let config = EnforceConfig {
        submit_budget_ms: budget_ms,
        ..EnforceConfig::default()
    };
    let enforcer = Arc::new(Enforcer::new(store, config, workers));
    let contexts = Arc::new(ContextRegistry::default());
    let (tx, reports) = mpsc::channel(64);
    let user = User {
        name: "ann".into(),
        groups: Vec::new(),
        admin: false,
    };
    let registration = contexts.register("ctx", user, tx);
    let gate = Arc::new(StreamGate::new(enforcer, contexts));
    gate.bind("ctx");
    (gate, reports, registration)
}

/// Serves `listener`, each connection wrapped by `wrap` (plain or TLS),
/// recording what arrives; a request with a whole body (Content-Length)
/// gets `200 ok`.
pub fn serve<S, F, W>(listener: TcpListener, wrap: W) -> Seen
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    F: Future<Output = Option<S>> + Send + 'static,
    W: Fn(TcpStream) -> F + Send + Sync + 'static,
{
    let seen: Seen = Arc::default();
    let log = seen.clone();
    let wrap = Arc::new(wrap);
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                continue;
            };
            let (log, wrap) = (log.clone(), wrap.clone());
            tokio::spawn(async move {
                let Some(mut s) = wrap(tcp).await else {
                    return;
                };
                let mut all = Vec::new();
                let mut buf = vec![0u8; 65536];
                let clean = loop {
                    match s.read(&mut buf).await {
                        Ok(0) => break true,
                        Ok(n) => {
                            all.extend_from_slice(&buf[..n]);
                            if whole_request(&all) {
                                let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok").await;
                                let _ = s.shutdown().await;
                                break true;
                            }
                        }
                        Err(_) => break false,
                    }
                };
                log.lock().unwrap().push((all, clean));
            });
        }
    });
    seen
}

/// A head and as much body as its Content-Length says.
fn whole_request(all: &[u8]) -> bool {
    let Some(end) = all.windows(4).position(|w| w == b"\r\n\r\n") else {
        return false;
    };
    let head = String::from_utf8_lossy(&all[..end]).to_ascii_lowercase();
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    all.len() >= end + 4 + len
}
