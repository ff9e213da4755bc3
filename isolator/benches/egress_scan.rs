//! The latency the egress scan adds to a request (issue 17: p50 <= 1 ms for
//! a request without a body and for a 10 KB POST), for plain HTTP and for
//! `https://` through TLS interception.
//!
//! The session's egress proxy is started twice against the same local
//! upstream: once plain (`EgressProxy::start`: requests and TLS tunnels are
//! relayed unread) and once the way a session runs it, with the submit
//! gate's inspector (`StreamGate`) under a policy that scans every submit
//! with the financial, credentials and national-id profiles and, for
//! https, TLS interception. Each request is a fresh connection through the
//! proxy (as Chromium's requests through it are: `Connection: close`), with
//! TLS sessions resumed as Chromium resumes them, timed from the first byte
//! written (the CONNECT, for https) to the last byte of the response. The
//! added latency is the difference of the two medians (and of the p90s).
//!
//! Run: `cargo bench -p isolator --bench egress_scan`

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use isolator::egress::{
    EgressConfig, EgressPolicy, EgressProxy, Interceptor, PeerFilter, SystemResolver,
};
use rustls::pki_types::ServerName;
use rustls::RootCertStore;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

#[path = "../tests/scan_gate/mod.rs"]
mod scan_gate;

const ROUNDS: usize = 400;

/// TLS handshakes the bench's client resumed (Chromium resumes too).
static RESUMED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// How a request reaches the upstream through a proxy.
#[derive(Clone)]
enum Leg {
    /// Absolute-form plain HTTP.
    Plain,
    /// CONNECT, then TLS trusting these roots (resumption on).
    Tls(Arc<rustls::ClientConfig>),
}

async fn read_all<S: AsyncRead + AsyncWrite + Unpin>(mut s: S, request: &[u8]) -> Vec<u8> {
    s.write_all(request).await.unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out).await;
    out
}

async fn once(proxy: SocketAddr, up: SocketAddr, leg: &Leg, request: &[u8]) -> Duration {
    let started = Instant::now();
    let out = match leg {
        Leg::Plain => {
            let s = TcpStream::connect(proxy).await.unwrap();
            s.set_nodelay(true).unwrap();
            read_all(s, request).await
        }
        Leg::Tls(config) => {
            let s = scan_gate::open_tunnel(proxy, up).await.unwrap();
            let name = ServerName::IpAddress(up.ip().into());
            let tls = tokio_rustls::TlsConnector::from(config.clone())
                .connect(name, s)
                .await
                .unwrap();
            if tls.get_ref().1.handshake_kind() == Some(rustls::HandshakeKind::Resumed) {
                RESUMED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            read_all(tls, request).await
        }
    };
    assert!(
        out.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&out)
    );
    started.elapsed()
}

async fn measure(
    proxy: SocketAddr,
    up: SocketAddr,
    leg: &Leg,
    request: &[u8],
) -> (Duration, Duration) {
    for _ in 0..20 {
        once(proxy, up, leg, request).await;
    }
    let mut times = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        times.push(once(proxy, up, leg, request).await);
    }
    times.sort();
    (percentile(&times, 0.5), percentile(&times, 0.9))
}

/// Opens one TLS tunnel to `up` and times `ROUNDS` requests on it, each
/// from its first byte to the end of its response.
async fn measure_kept(
    proxy: SocketAddr,
    up: SocketAddr,
    config: &Arc<rustls::ClientConfig>,
    request: &[u8],
) -> (Duration, Duration) {
    let s = scan_gate::open_tunnel(proxy, up).await.unwrap();
    let name = ServerName::IpAddress(up.ip().into());
    let mut tls = tokio_rustls::TlsConnector::from(config.clone())
        .connect(name, s)
        .await
        .unwrap();
    let mut times = Vec::with_capacity(ROUNDS);
    for i in 0..ROUNDS + 20 {
        let started = Instant::now();
        tls.write_all(request).await.unwrap();
        let (head, _) = scan_gate::read_response(&mut tls).await;
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        if i >= 20 {
            times.push(started.elapsed());
        }
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

/// The GET and 10 KB POST, in absolute form (plain) or origin form (TLS).
fn requests(up: SocketAddr, absolute: bool) -> [(&'static str, Vec<u8>); 2] {
    let base = if absolute {
        format!("http://{up}")
    } else {
        String::new()
    };
    let get = format!(
        "GET {base}/search?q=quarterly+report&page=2 HTTP/1.1\r\nHost: {up}\r\n\
         Accept: text/html\r\nReferer: http://{up}/home\r\nCookie: session=abc123; theme=dark\r\n\r\n"
    );
    let body = form_body(10 * 1024);
    let post = format!(
        "POST {base}/submit HTTP/1.1\r\nHost: {up}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    [
        ("GET without a body", get.into_bytes()),
        ("10 KB form POST", post.into_bytes()),
    ]
}

fn client(roots: RootCertStore) -> Arc<rustls::ClientConfig> {
    Arc::new(
        rustls::ClientConfig::builder_with_provider(isolator::egress::tls_crypto())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let (plain_up, _) = scan_gate::plain_upstream().await;
        let (ca, config) = scan_gate::certified(&["127.0.0.1"], 30);
        let (tls_up, _) = scan_gate::tls_upstream(config.clone()).await;
        let (kept_up, _) = scan_gate::keep_alive_upstream(config).await;
        let allow = format!(
            "allow = [\"127.0.0.1:{}\", \"127.0.0.1:{}\", \"127.0.0.1:{}\"]\n",
            plain_up.port(),
            tls_up.port(),
            kept_up.port()
        );
        let egress: EgressConfig = toml::from_str(&allow).unwrap();
        let policy = Arc::new(EgressPolicy::new(egress).unwrap());
        let (inspector, _reports, _registration) =
            scan_gate::gate_for(&["financial", "credentials", "national_ids"], 3000);
        let mut upstream_roots = RootCertStore::empty();
        upstream_roots.add(ca.clone()).unwrap();
        let tls = Arc::new(Interceptor::with_roots(upstream_roots.clone()).unwrap());
        let (plain, _rx1) = EgressProxy::start(policy.clone(), Arc::new(SystemResolver), PeerFilter::anyone())
            .await
            .unwrap();
        let (scanned, _rx2) = EgressProxy::start_inspected(
            policy,
            Arc::new(SystemResolver),
            PeerFilter::anyone(),
            inspector,
            Some(tls.clone()),
        )
        .await
        .unwrap();
        let mut ours = RootCertStore::empty();
        ours.add(tls.ca_certificate().clone()).unwrap();
        println!("egress scan latency, {ROUNDS} requests each, one connection per request");
        let (direct_client, our_client) = (client(upstream_roots), client(ours));
        let cases = [
            ("http", plain_up, Leg::Plain, Leg::Plain, true),
            ("https", tls_up, Leg::Tls(direct_client.clone()), Leg::Tls(our_client.clone()), false),
        ];
        for (scheme, up, direct, intercepted, absolute) in cases {
            for (name, req) in requests(up, absolute) {
                let (p50a, p90a) = measure(plain.local_addr(), up, &direct, &req).await;
                let (p50b, p90b) = measure(scanned.local_addr(), up, &intercepted, &req).await;
                println!(
                    "{scheme:>5} {name:>18}: unread p50 {:>7.3} ms p90 {:>7.3} ms | scanned p50 {:>7.3} ms p90 {:>7.3} ms | added p50 {:>6.3} ms p90 {:>6.3} ms",
                    p50a.as_secs_f64() * 1e3,
                    p90a.as_secs_f64() * 1e3,
                    p50b.as_secs_f64() * 1e3,
                    p90b.as_secs_f64() * 1e3,
                    (p50b.as_secs_f64() - p50a.as_secs_f64()) * 1e3,
                    (p90b.as_secs_f64() - p90a.as_secs_f64()) * 1e3,
                );
            }
        }
        println!(
            "(the client resumed {} of {} TLS handshakes)",
            RESUMED.load(std::sync::atomic::Ordering::Relaxed),
            4 * (ROUNDS + 20)
        );
        println!("https on one kept-alive connection (as Chromium reuses them), {ROUNDS} requests");
        for (name, req) in requests(kept_up, false) {
            let (p50a, p90a) = measure_kept(plain.local_addr(), kept_up, &direct_client, &req).await;
            let (p50b, p90b) = measure_kept(scanned.local_addr(), kept_up, &our_client, &req).await;
            println!(
                "{:>24}: unread p50 {:>7.3} ms p90 {:>7.3} ms | scanned p50 {:>7.3} ms p90 {:>7.3} ms | added p50 {:>6.3} ms p90 {:>6.3} ms",
                name,
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
