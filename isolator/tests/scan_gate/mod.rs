//! What the egress-scan tests share: the submit gate a session puts on its
//! proxy (the `StreamGate`, with a policy that scans for card numbers), and
//! an upstream that records what reaches it, over plain TCP or TLS.
//! (Also compiled into the egress-scan benchmark; each user takes a part.)
#![allow(dead_code)]

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use isolator::auth::User;
use isolator::egress::Inspect;
use isolator::enforce::config::EnforceConfig;
use isolator::enforce::Enforcer;
use isolator::gates::submit::link::{ContextRegistry, Registration};
use isolator::gates::submit::stream::StreamGate;
use isolator::gates::GateReport;
use policies::PolicyStore;
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// What the upstream received: one entry per connection, all its bytes,
/// and whether the connection ended cleanly (false: reset).
pub type Seen = Arc<Mutex<Vec<(Vec<u8>, bool)>>>;

/// The submit gate of a session of user `ann`, with `budget_ms` per piece:
/// the inspector to give the proxy, its reports, and the registration that
/// keeps the session's context alive.
pub fn gate(budget_ms: u64) -> (Arc<dyn Inspect>, mpsc::Receiver<GateReport>, Registration) {
    gate_for(&["financial"], budget_ms)
}

/// [`gate`], scanning submits with `profiles`.
pub fn gate_for(
    profiles: &[&str],
    budget_ms: u64,
) -> (Arc<dyn Inspect>, mpsc::Receiver<GateReport>, Registration) {
    let policy = format!("[[rules]]\nname = \"dlp\"\nprofiles = {profiles:?}\nsubmit = \"scan\"\n");
    let compiled = policies::compile_str(&policy, std::path::Path::new("test policy")).unwrap();
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

/// A test authority and a certificate it signs for `names`, valid
/// `days_valid` days from now (negative: already expired).
pub fn certified(
    names: &[&str],
    days_valid: i64,
) -> (CertificateDer<'static>, rustls::ServerConfig) {
    certified_with(names, days_valid, isolator::egress::tls_crypto())
}

/// [`certified`], the server using `provider`'s cryptography.
pub fn certified_with(
    names: &[&str],
    days_valid: i64,
    provider: Arc<rustls::crypto::CryptoProvider>,
) -> (CertificateDer<'static>, rustls::ServerConfig) {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    // Each authority has its own name: a shared name is a forged issuer.
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    ca.distinguished_name
        .push(rcgen::DnType::CommonName, format!("test authority {n}"));
    let ca_der = ca.self_signed(&ca_key).unwrap().der().clone();
    let issuer = Issuer::new(ca, ca_key);
    let key = KeyPair::generate().unwrap();
    let mut leaf =
        CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap();
    let now = time::OffsetDateTime::now_utc();
    leaf.not_before = now - time::Duration::days(400);
    leaf.not_after = now + time::Duration::days(days_valid);
    let leaf = leaf.signed_by(&key, &issuer).unwrap();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![leaf.der().clone(), ca_der.clone()], key)
        .unwrap();
    (ca_der, config)
}

/// An https server recording what it receives.
pub async fn tls_upstream(config: rustls::ServerConfig) -> (SocketAddr, Seen) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let seen = serve(listener, move |tcp| {
        let acceptor = acceptor.clone();
        async move { acceptor.accept(tcp).await.ok() }
    });
    (addr, seen)
}

/// A plain HTTP server recording what it receives.
pub async fn plain_upstream() -> (SocketAddr, Seen) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    (addr, serve(listener, |tcp| async move { Some(tcp) }))
}

/// An https server that answers every request on a connection (alternately
/// with a length and chunked), recording (connection, request head line).
pub async fn keep_alive_upstream(
    config: rustls::ServerConfig,
) -> (SocketAddr, Arc<std::sync::Mutex<Vec<(usize, String)>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let log: Arc<std::sync::Mutex<Vec<(usize, String)>>> = Arc::default();
    let seen = log.clone();
    tokio::spawn(async move {
        for conn in 0.. {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let (acceptor, log) = (acceptor.clone(), log.clone());
            tokio::spawn(async move {
                let Ok(mut s) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                for n in 0.. {
                    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                        match s.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(k) => buf.extend_from_slice(&chunk[..k]),
                        }
                    }
                    let end = buf.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
                    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
                    buf.drain(..end);
                    log.lock()
                        .unwrap()
                        .push((conn, head.lines().next().unwrap_or("").to_owned()));
                    let answer: &[u8] = if n % 2 == 0 {
                        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfirst"
                    } else {
                        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nsec\r\n3\r\nond\r\n0\r\n\r\n"
                    };
                    if s.write_all(answer).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (addr, seen)
}

/// Reads one response (Content-Length or chunked) and returns its body.
pub async fn read_response<S: AsyncRead + Unpin>(s: &mut S) -> (String, String) {
    let mut buf = Vec::new();
    let mut b = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        assert_eq!(s.read(&mut b).await.unwrap(), 1, "the response ended early");
        buf.push(b[0]);
    }
    let head = String::from_utf8_lossy(&buf).into_owned();
    let lower = head.to_ascii_lowercase();
    let mut body = Vec::new();
    if let Some(len) = lower
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok())
    {
        body.resize(len, 0);
        s.read_exact(&mut body).await.unwrap();
    } else {
        // Chunked: read to the last chunk.
        let mut raw = Vec::new();
        while !raw.ends_with(b"0\r\n\r\n") {
            assert_eq!(s.read(&mut b).await.unwrap(), 1);
            raw.push(b[0]);
        }
        let text = String::from_utf8_lossy(&raw).into_owned();
        let mut lines = text.split("\r\n");
        while let Some(size) = lines.next() {
            let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
            if n == 0 {
                break;
            }
            body.extend_from_slice(lines.next().unwrap_or("").as_bytes());
        }
    }
    (head, String::from_utf8_lossy(&body).into_owned())
}

/// Opens a CONNECT tunnel to `up` through the proxy at `proxy` and returns
/// the connection once the proxy has answered 200 (no-delay set).
pub async fn open_tunnel(proxy: SocketAddr, up: SocketAddr) -> std::io::Result<TcpStream> {
    let mut tcp = TcpStream::connect(proxy).await?;
    tcp.set_nodelay(true)?;
    tcp.write_all(format!("CONNECT {up} HTTP/1.1\r\nHost: {up}\r\n\r\n").as_bytes())
        .await?;
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut b = [0u8; 1];
        if tcp.read(&mut b).await? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        head.push(b[0]);
    }
    assert!(
        head.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&head)
    );
    Ok(tcp)
}
