//! The submit gate at the egress proxy, on its real path (the proxy with
//! the `StreamGate` a session uses) against a local upstream that records
//! what reaches it: requests are judged before anything leaves, a card at
//! the end of a body larger than one scan piece never reaches the server
//! (which sees an aborted request), a body that cannot be scanned within
//! the budget is blocked and reported as failed closed, and every blocked
//! request is reported with redacted evidence and no query string.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use isolator::egress::{EgressConfig, EgressPolicy, EgressProxy, PeerFilter, SystemResolver};
use isolator::gates::submit::link::Registration;
use isolator::gates::GateReport;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

mod scan_gate;
use scan_gate::Seen;

struct Fixture {
    proxy: EgressProxy,
    up: SocketAddr,
    seen: Seen,
    reports: mpsc::Receiver<GateReport>,
    _registration: Registration,
}

async fn fixture(budget_ms: u64) -> Fixture {
    let (up, seen) = scan_gate::plain_upstream().await;
    let egress: EgressConfig = toml::from_str(&format!(
        "allow = [\"127.0.0.1:{}\"]\nports = [{}]\n",
        up.port(),
        up.port()
    ))
    .unwrap();
    let (inspector, reports, registration) = scan_gate::gate(budget_ms);
    let policy = Arc::new(EgressPolicy::new(egress).unwrap());
    let (proxy, _rx) = EgressProxy::start_inspected(
        policy,
        Arc::new(SystemResolver),
        PeerFilter::anyone(),
        inspector,
        None,
    )
    .await
    .unwrap();
    Fixture {
        proxy,
        up,
        seen,
        reports,
        _registration: registration,
    }
}

async fn send(proxy: SocketAddr, head: String, body: &[u8]) -> Vec<u8> {
    let mut s = TcpStream::connect(proxy).await.unwrap();
    s.write_all(head.as_bytes()).await.unwrap();
    // The proxy may stop reading once it has blocked: write what it takes.
    let _ = s.write_all(body).await;
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(20), s.read_to_end(&mut out)).await;
    out
}

fn post(up: SocketAddr, path: &str, len: usize) -> String {
    format!("POST http://{up}{path} HTTP/1.1\r\nHost: {up}\r\nContent-Type: text/plain\r\nContent-Length: {len}\r\n\r\n")
}

/// Waits until the upstream has closed `n` connections.
async fn seen(f: &Fixture, n: usize) -> Vec<(Vec<u8>, bool)> {
    for _ in 0..200 {
        if f.seen.lock().unwrap().len() >= n {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    f.seen.lock().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_card_in_a_query_string_is_blocked_before_any_connection_and_reported_redacted() {
    let mut f = fixture(3000).await;
    let up = f.up;
    let head = format!(
        "GET http://{up}/search?cc=4111%201111%201111%201111 HTTP/1.1\r\nHost: {up}\r\n\r\n"
    );
    let answer = send(f.proxy.local_addr(), head, b"").await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 403"), "{answer}");
    assert!(answer.contains("Blocked by policy"), "{answer}");
    assert!(!answer.contains("4111"), "{answer}");
    let report = f.reports.recv().await.unwrap();
    assert!(!report.verdict.passes());
    assert_eq!(report.url, format!("http://{up}/search"), "no query string");
    let evidence = report.verdict.evidence.join(" ");
    assert!(!evidence.contains("4111 1111 1111 1111"), "{evidence}");
    // A clean GET goes through.
    let head = format!("GET http://{up}/search?q=hello HTTP/1.1\r\nHost: {up}\r\n\r\n");
    let answer = send(f.proxy.local_addr(), head, b"").await;
    assert!(answer.starts_with(b"HTTP/1.1 200"));
    let got = seen(&f, 1).await;
    assert_eq!(got.len(), 1, "only the clean request reached the server");
    assert!(got[0].0.starts_with(b"GET /search?q=hello "));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_card_at_the_end_of_a_5_mb_body_never_reaches_the_server() {
    let f = fixture(3000).await;
    let mut body = b"plain upload-like text with words and 12 numbers\n".repeat(100_000);
    body.extend_from_slice(b"card 4111 1111 1111 1111\n");
    let answer = send(
        f.proxy.local_addr(),
        post(f.up, "/upload", body.len()),
        &body,
    )
    .await;
    assert!(
        answer.starts_with(b"HTTP/1.1 403"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    let got = seen(&f, 1).await;
    // The server saw the first pieces and then a reset, never the card.
    assert_eq!(got.len(), 1);
    let (bytes, _) = &got[0];
    assert!(
        bytes.len() < body.len(),
        "{} of {}",
        bytes.len(),
        body.len()
    );
    // Not even the start of the card's line ("4111" alone can be in the
    // Host header: an ephemeral port such as 41117).
    assert!(!bytes.windows(5).any(|w| w == b"card "));
    // The same body without the card arrives whole.
    let clean = b"plain upload-like text with words and 12 numbers\n".repeat(100_000);
    let answer = send(
        f.proxy.local_addr(),
        post(f.up, "/upload", clean.len()),
        &clean,
    )
    .await;
    assert!(answer.starts_with(b"HTTP/1.1 200"));
    let got = seen(&f, 2).await;
    assert!(got[1].0.ends_with(&clean[clean.len() - 1000..]));
    assert!(got[1].0.len() > clean.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_not_scanned_within_the_budget_is_blocked_and_reported_as_failed_closed() {
    let mut f = fixture(1).await;
    let body = b"QUJD".repeat(2_000_000);
    let answer = send(
        f.proxy.local_addr(),
        post(f.up, "/upload", body.len()),
        &body,
    )
    .await;
    assert!(
        answer.starts_with(b"HTTP/1.1 403"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    let report = f.reports.recv().await.unwrap();
    assert!(report.verdict.failed_closed, "{:?}", report.verdict);
    assert!(!report.verdict.passes());
    let got = seen(&f, 1).await;
    assert!(got.iter().all(|(b, _)| b.len() < body.len()));
}
