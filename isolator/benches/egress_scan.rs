//! The latency the egress scan adds to a request (issue 17: p50 <= 1 ms for
//! a request without a body and for a 10 KB POST).
//!
//! A session's egress proxy is started twice against the same local
//! upstream: once plain (`EgressProxy::start`) and once with the submit
//! gate's inspector (`StreamGate`, the real one a session uses) under a
//! policy that scans every submit with the financial, credentials and
//! national-id profiles. Each request is a fresh connection through the
//! proxy (as Chromium's plain-HTTP requests are: `Connection: close`) and is
//! timed from the first byte written to the last byte of the response. The
//! added latency is the difference of the two medians (and of the p90s).
//!
//! Run: `cargo bench -p isolator --bench egress_scan`

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use isolator::auth::User;
use isolator::egress::{
    EgressConfig, EgressPolicy, EgressProxy, Inspect, PeerFilter, SystemResolver,
};
use isolator::enforce::config::EnforceConfig;
use isolator::enforce::Enforcer;
use isolator::gates::submit::link::ContextRegistry;
use isolator::gates::submit::stream::StreamGate;
use policies::PolicyStore;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const POLICY: &str = r#"
[[rules]]
name = "catch-all-dlp"
profiles = ["financial", "credentials", "national_ids"]
submit = "scan"
"#;

const ROUNDS: usize = 400;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// An upstream that reads one request (head and Content-Length body) and answers "ok".
async fn upstream() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = listener.accept().await else {
                continue;
            };
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 16384];
                loop {
                    let Ok(n) = s.read(&mut chunk).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
                        let len: usize = head
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .and_then(|v| v.trim().parse().ok())
                            .unwrap_or(0);
                        if buf.len() >= end + 4 + len {
                            break;
                        }
                    }
                }
                let _ = s
                    .write_all(
                        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
                    )
                    .await;
            });
        }
    });
    addr
}

async fn once(proxy: SocketAddr, request: &[u8]) -> Duration {
    let started = Instant::now();
    let mut s = TcpStream::connect(proxy).await.unwrap();
    s.set_nodelay(true).unwrap();
    s.write_all(request).await.unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.unwrap();
    assert!(
        out.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&out)
    );
    started.elapsed()
}

async fn measure(proxy: SocketAddr, request: &[u8]) -> (Duration, Duration) {
    for _ in 0..20 {
        once(proxy, request).await;
    }
    let mut times = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        times.push(once(proxy, request).await);
    }
    times.sort();
    (percentile(&times, 0.5), percentile(&times, 0.9))
}

fn form_body(bytes: usize) -> String {
    let words = [
        "order", "12345", "shipped", "to", "the", "customer", "on", "Tuesday", "with", "invoice",
        "2024-03",
    ];
    let mut s = String::from("comment=");
    let mut i = 0;
    while s.len() < bytes {
        s.push_str(words[i % words.len()]);
        s.push('+');
        i += 7;
    }
    s.truncate(bytes);
    s
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let up = upstream().await;
        let egress: EgressConfig =
            toml::from_str(&format!("allow = [\"127.0.0.1:{}\"]\nports = [{}]\n", up.port(), up.port())).unwrap();
        let policy = Arc::new(EgressPolicy::new(egress).unwrap());
        let compiled = policies::compile_str(POLICY, std::path::Path::new("bench policy"))
            .expect("the policy compiles");
        let store = Arc::new(PolicyStore::new(compiled, "bench"));
        let workers = enforcer::extract::worker::WorkerConfig::new("/bin/false", ["unused"]);
        let enforcer = Arc::new(Enforcer::new(store, EnforceConfig::default(), workers));
        let contexts = Arc::new(ContextRegistry::default());
        let (reports, _keep) = tokio::sync::mpsc::channel(1024);
        let user = User {
            name: "bench".into(),
            groups: Vec::new(),
            admin: false,
        };
        let _registration = contexts.register("ctx", user, reports);
        let gate = Arc::new(StreamGate::new(enforcer, contexts));
        gate.bind("ctx");
        let inspector: Arc<dyn Inspect> = gate;
        let (plain, _rx1) = EgressProxy::start(policy.clone(), Arc::new(SystemResolver), PeerFilter::anyone())
            .await
            .unwrap();
        let (scanned, _rx2) = EgressProxy::start_inspected(
            policy,
            Arc::new(SystemResolver),
            PeerFilter::anyone(),
            inspector,
            None,
        )
        .await
        .unwrap();
        let get = format!(
            "GET http://{up}/search?q=quarterly+report&page=2 HTTP/1.1\r\nHost: {up}\r\n\
             Accept: text/html\r\nReferer: http://{up}/home\r\nCookie: session=abc123; theme=dark\r\n\r\n"
        );
        let body = form_body(10 * 1024);
        let post = format!(
            "POST http://{up}/submit HTTP/1.1\r\nHost: {up}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
             Content-Length: {}\r\n\r\n{body}",
            body.len()
        );
        println!("egress scan latency, {ROUNDS} requests each, one connection per request");
        for (name, req) in [("GET without a body", get.as_bytes()), ("10 KB form POST", post.as_bytes())] {
            let (p50a, p90a) = measure(plain.local_addr(), req).await;
            let (p50b, p90b) = measure(scanned.local_addr(), req).await;
            println!(
                "{name:>20}: plain p50 {:>7.3} ms p90 {:>7.3} ms | scanned p50 {:>7.3} ms p90 {:>7.3} ms | added p50 {:>6.3} ms p90 {:>6.3} ms",
                p50a.as_secs_f64() * 1e3,
                p90a.as_secs_f64() * 1e3,
                p50b.as_secs_f64() * 1e3,
                p90b.as_secs_f64() * 1e3,
                (p50b.as_secs_f64() - p50a.as_secs_f64()) * 1e3,
                (p90b.as_secs_f64() - p90a.as_secs_f64()) * 1e3,
            );
        }
    });
}
