//! The egress proxy over real sockets, without a browser: DNS rebinding,
//! mixed answers, protocol errors, and the latency/throughput figures.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use futures::FutureExt;
use isolator::egress::{
    EgressConfig, EgressEvent, EgressPolicy, EgressProxy, PeerFilter, Reason, RequestKind, Resolve,
    SystemResolver, Verdict,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::broadcast;

/// A tiny HTTP server: `/big` answers `size` bytes, anything else `hello`.
async fn site(listener: TcpListener, hits: Arc<AtomicUsize>, size: usize) {
    loop {
        let Ok((mut s, _)) = listener.accept().await else {
            return;
        };
        hits.fetch_add(1, Ordering::SeqCst);
        tokio::spawn(async move {
            let mut buf = vec![0u8; 8192];
            let mut got = Vec::new();
            while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                match s.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => got.extend_from_slice(&buf[..n]),
                }
            }
            let body: Vec<u8> = if got.starts_with(b"GET /big") {
                vec![b'x'; size]
            } else {
                b"hello".to_vec()
            };
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: keep-alive\r\n\r\n",
                body.len()
            );
            let _ = s.write_all(head.as_bytes()).await;
            let _ = s.write_all(&body).await;
        });
    }
}

async fn start_site(
    ip: &str,
    port: u16,
    size: usize,
) -> io::Result<(SocketAddr, Arc<AtomicUsize>)> {
    let l = TcpListener::bind((ip.parse::<IpAddr>().unwrap(), port)).await?;
    let addr = l.local_addr()?;
    let hits = Arc::new(AtomicUsize::new(0));
    tokio::spawn(site(l, hits.clone(), size));
    Ok((addr, hits))
}

/// Sends one raw request to the proxy and returns the whole response.
async fn raw(proxy: SocketAddr, request: &str) -> Vec<u8> {
    let mut s = TcpStream::connect(proxy).await.unwrap();
    s.write_all(request.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut out))
        .await
        .expect("proxy answered in time")
        .unwrap();
    out
}

fn policy(toml_text: &str) -> Arc<EgressPolicy> {
    let config: EgressConfig = toml::from_str(toml_text).unwrap();
    Arc::new(EgressPolicy::new(config).unwrap())
}

async fn next_event(rx: &mut broadcast::Receiver<EgressEvent>) -> EgressEvent {
    tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .expect("an event in time")
        .unwrap()
}

/// Answers the first lookup with one address and every later one with another.
struct Rebinder {
    first: IpAddr,
    then: IpAddr,
    calls: AtomicUsize,
}

impl Resolve for Rebinder {
    fn resolve(&self, _host: &str) -> BoxFuture<'static, io::Result<Vec<IpAddr>>> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst);
        let ip = if n == 0 { self.first } else { self.then };
        async move { Ok(vec![ip]) }.boxed()
    }
}

#[tokio::test]
async fn dns_rebinding_cannot_reach_what_was_not_checked() {
    // The allowed site on 127.0.0.1:P, the forbidden one on 127.0.0.2:P.
    let (allowed, allowed_hits) = start_site("127.0.0.1", 0, 0).await.unwrap();
    let port = allowed.port();
    let (_, forbidden_hits) = start_site("127.0.0.2", port, 0)
        .await
        .expect("127.0.0.2 is loopback on Linux");
    let resolver = Arc::new(Rebinder {
        first: "127.0.0.1".parse().unwrap(),
        then: "127.0.0.2".parse().unwrap(),
        calls: AtomicUsize::new(0),
    });
    let pol = policy(&format!("allow = [\"127.0.0.1:{port}\"]"));
    let (proxy, mut rx) = EgressProxy::start(pol, resolver.clone(), PeerFilter::anyone())
        .await
        .unwrap();
    let req =
        format!("GET http://rebind.test:{port}/ HTTP/1.1\r\nHost: rebind.test:{port}\r\n\r\n");

    let resp = raw(proxy.local_addr(), &req).await;
    assert!(
        resp.starts_with(b"HTTP/1.1 200 OK"),
        "{}",
        String::from_utf8_lossy(&resp)
    );
    assert!(resp.ends_with(b"hello"));
    // One lookup, and the connection went to the checked address.
    assert_eq!(resolver.calls.load(Ordering::SeqCst), 1);
    assert_eq!(allowed_hits.load(Ordering::SeqCst), 1);
    let ev = next_event(&mut rx).await;
    assert_eq!(ev.verdict, Verdict::Allowed);
    assert_eq!(ev.addrs, vec!["127.0.0.1".parse::<IpAddr>().unwrap()]);

    // The name now rebinds to 127.0.0.2: the next request is checked again.
    let resp = raw(proxy.local_addr(), &req).await;
    let text = String::from_utf8_lossy(&resp);
    assert!(text.starts_with("HTTP/1.1 403 Forbidden"), "{text}");
    assert!(text
        .contains("Blocked by isolator: <code>rebind.test</code> resolves to a loopback address"));
    let ev = next_event(&mut rx).await;
    assert_eq!(ev.verdict, Verdict::Blocked);
    assert_eq!(ev.target, format!("rebind.test:{port}"));
    assert!(matches!(ev.reason, Reason::Range { .. }), "{:?}", ev.reason);
    assert_eq!(resolver.calls.load(Ordering::SeqCst), 2);
    assert_eq!(
        forbidden_hits.load(Ordering::SeqCst),
        0,
        "the forbidden site was reached"
    );
    assert_eq!(allowed_hits.load(Ordering::SeqCst), 1);
}

struct Fixed(Vec<IpAddr>);

impl Resolve for Fixed {
    fn resolve(&self, _host: &str) -> BoxFuture<'static, io::Result<Vec<IpAddr>>> {
        let a = self.0.clone();
        async move { Ok(a) }.boxed()
    }
}

#[tokio::test]
async fn one_private_answer_blocks_the_name_and_connect_is_checked() {
    let (forbidden, hits) = start_site("127.0.0.1", 0, 0).await.unwrap();
    let port = forbidden.port();
    let resolver = Arc::new(Fixed(vec![
        "93.184.216.34".parse().unwrap(),
        "127.0.0.1".parse().unwrap(),
    ]));
    let pol = policy(&format!("ports = [80, 443, {port}]"));
    let (proxy, mut rx) = EgressProxy::start(pol, resolver, PeerFilter::anyone())
        .await
        .unwrap();

    let resp = raw(
        proxy.local_addr(),
        &format!("GET http://mixed.test:{port}/ HTTP/1.1\r\n\r\n"),
    )
    .await;
    assert!(resp.starts_with(b"HTTP/1.1 403"));
    let ev = next_event(&mut rx).await;
    assert_eq!((ev.kind, ev.verdict), (RequestKind::Http, Verdict::Blocked));
    assert_eq!(ev.addrs.len(), 2);

    for authority in [
        format!("127.0.0.1:{port}"),
        format!("0x7f.1:{port}"),
        format!("2130706433:{port}"),
        format!("[::ffff:7f00:1]:{port}"),
        format!("localhost:{port}"),
    ] {
        let resp = raw(
            proxy.local_addr(),
            &format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n\r\n"),
        )
        .await;
        assert!(resp.starts_with(b"HTTP/1.1 403"), "{authority}");
        let ev = next_event(&mut rx).await;
        assert_eq!(
            (ev.kind, ev.verdict),
            (RequestKind::Connect, Verdict::Blocked),
            "{authority}"
        );
    }
    assert_eq!(hits.load(Ordering::SeqCst), 0);
    proxy.shutdown(Duration::from_secs(1)).await;
}

#[tokio::test]
async fn bad_requests_get_clear_errors_not_hangs() {
    let pol = policy("[limits]\nmax_header_bytes = 1024\nheader_timeout_ms = 300");
    let (proxy, mut rx) = EgressProxy::start(pol, Arc::new(SystemResolver), PeerFilter::anyone())
        .await
        .unwrap();
    let cases: &[(&str, &str)] = &[
        ("GET / HTTP/1.1\r\nHost: a\r\n\r\n", "HTTP/1.1 400"),
        ("GET ftp://a/ HTTP/1.1\r\n\r\n", "HTTP/1.1 400"),
        ("CONNECT a HTTP/1.1\r\n\r\n", "HTTP/1.1 400"),
        ("NONSENSE\r\n\r\n", "HTTP/1.1 400"),
    ];
    for (req, want) in cases {
        let resp = raw(proxy.local_addr(), req).await;
        assert!(
            resp.starts_with(want.as_bytes()),
            "{req:?}: {}",
            String::from_utf8_lossy(&resp)
        );
        assert_eq!(next_event(&mut rx).await.kind, RequestKind::Invalid);
    }
    let big = format!("GET http://a/ HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(4000));
    assert!(raw(proxy.local_addr(), &big)
        .await
        .starts_with(b"HTTP/1.1 431"));
    // A client that never finishes its head is dropped after the timeout.
    let mut s = TcpStream::connect(proxy.local_addr()).await.unwrap();
    s.write_all(b"GET http://a/ HTTP/1.1\r\n").await.unwrap();
    let mut out = Vec::new();
    let started = Instant::now();
    tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut out))
        .await
        .expect("closed by the header timeout")
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn shutdown_closes_listener_and_tunnels() {
    let (site_addr, _) = start_site("127.0.0.1", 0, 0).await.unwrap();
    let port = site_addr.port();
    let pol = policy(&format!("allow = [\"127.0.0.1:{port}\"]"));
    let (proxy, _rx) = EgressProxy::start(pol, Arc::new(SystemResolver), PeerFilter::anyone())
        .await
        .unwrap();
    let addr = proxy.local_addr();
    let mut tunnel = TcpStream::connect(addr).await.unwrap();
    tunnel
        .write_all(format!("CONNECT 127.0.0.1:{port} HTTP/1.1\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut buf = [0u8; 39];
    tunnel.read_exact(&mut buf).await.unwrap();
    assert_eq!(&buf[..], b"HTTP/1.1 200 Connection Established\r\n\r\n");
    proxy.shutdown(Duration::from_secs(2)).await;
    let mut rest = Vec::new();
    // Closed (EOF or reset) rather than left open: the read ends in time.
    let _closed = tokio::time::timeout(Duration::from_secs(2), tunnel.read_to_end(&mut rest))
        .await
        .expect("tunnel closed by shutdown");
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "listener still open"
    );
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// Figures for EGRESS.md. Run with
/// `cargo test -p isolator --test egress_proxy figures -- --ignored --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "measurement, prints figures"]
async fn figures() {
    const SIZE: usize = 10 * 1024 * 1024;
    let (site_addr, _) = start_site("127.0.0.1", 0, SIZE).await.unwrap();
    let port = site_addr.port();
    let pol = policy(&format!("allow = [\"127.0.0.1:{port}\"]"));
    let (proxy, _rx) = EgressProxy::start(pol, Arc::new(SystemResolver), PeerFilter::anyone())
        .await
        .unwrap();
    let small_direct =
        format!("GET /small HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
    let small_proxy =
        format!("GET http://127.0.0.1:{port}/small HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n");
    let mut direct = Vec::new();
    let mut proxied = Vec::new();
    for _ in 0..2000 {
        let t = Instant::now();
        let r = raw(site_addr, &small_direct).await;
        direct.push(t.elapsed());
        assert!(r.ends_with(b"hello"));
        let t = Instant::now();
        let r = raw(proxy.local_addr(), &small_proxy).await;
        proxied.push(t.elapsed());
        assert!(r.ends_with(b"hello"));
    }
    direct.sort();
    proxied.sort();
    println!(
        "small request, 2000 runs: direct p50 {:?} p99 {:?}; through proxy p50 {:?} p99 {:?}",
        percentile(&direct, 0.5),
        percentile(&direct, 0.99),
        percentile(&proxied, 0.5),
        percentile(&proxied, 0.99)
    );
    for (name, addr, req) in [
        (
            "direct",
            site_addr,
            "GET /big HTTP/1.1\r\nConnection: close\r\n\r\n".to_owned(),
        ),
        (
            "proxy",
            proxy.local_addr(),
            format!("GET http://127.0.0.1:{port}/big HTTP/1.1\r\n\r\n"),
        ),
    ] {
        let mut best = f64::MAX;
        for _ in 0..5 {
            let t = Instant::now();
            let r = raw(addr, &req).await;
            let secs = t.elapsed().as_secs_f64();
            assert!(r.len() > SIZE);
            best = best.min(secs);
        }
        println!(
            "10 MB download {name}: best of 5 {:.1} ms = {:.0} MB/s",
            best * 1e3,
            SIZE as f64 / 1e6 / best
        );
    }
}

#[tokio::test]
async fn plain_http_websocket_upgrade_is_relayed_both_ways() {
    // A destination that answers 101 and then echoes.
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    let seen_head = Arc::new(tokio::sync::Mutex::new(String::new()));
    let seen = seen_head.clone();
    tokio::spawn(async move {
        let (mut s, _) = l.accept().await.unwrap();
        let mut got = Vec::new();
        let mut buf = [0u8; 1024];
        while !got.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = s.read(&mut buf).await.unwrap();
            got.extend_from_slice(&buf[..n]);
        }
        *seen.lock().await = String::from_utf8_lossy(&got).into_owned();
        s.write_all(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: x\r\n\r\n")
            .await
            .unwrap();
        loop {
            let n = s.read(&mut buf).await.unwrap();
            if n == 0 {
                return;
            }
            s.write_all(&buf[..n]).await.unwrap();
        }
    });
    let pol = policy(&format!("allow = [\"127.0.0.1:{port}\"]"));
    let (proxy, mut rx) = EgressProxy::start(pol, Arc::new(SystemResolver), PeerFilter::anyone())
        .await
        .unwrap();
    let mut s = TcpStream::connect(proxy.local_addr()).await.unwrap();
    s.write_all(
        format!(
            "GET http://127.0.0.1:{port}/ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: Upgrade\r\n\
             Upgrade: websocket\r\nSec-WebSocket-Key: k\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        s.read_exact(&mut byte).await.unwrap();
        head.push(byte[0]);
    }
    let head = String::from_utf8(head).unwrap();
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    assert!(
        head.contains("Connection: Upgrade\r\nUpgrade: websocket"),
        "{head}"
    );
    let upstream = seen_head.lock().await.clone();
    assert!(upstream.starts_with("GET /ws HTTP/1.1\r\n"), "{upstream}");
    assert!(
        upstream.contains("Connection: Upgrade\r\nUpgrade: websocket"),
        "{upstream}"
    );
    for msg in [&b"frame one"[..], &b"frame two, longer"[..]] {
        s.write_all(msg).await.unwrap();
        let mut back = vec![0u8; msg.len()];
        s.read_exact(&mut back).await.unwrap();
        assert_eq!(back, msg);
    }
    let ev = next_event(&mut rx).await;
    assert_eq!(
        (ev.kind, ev.verdict),
        (RequestKind::WebSocket, Verdict::Allowed)
    );
}
