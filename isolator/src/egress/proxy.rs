//! The per-session egress proxy: a loopback HTTP proxy that Chromium's
//! BrowserContext is pointed at, which resolves names itself, checks every
//! address, and connects only to the address it checked.
//!
//! One proxy per session (so every event belongs to exactly one session),
//! listening on `127.0.0.1:0`. Dropping the [`EgressProxy`] (or calling
//! [`EgressProxy::shutdown`]) closes the listener and every open tunnel.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{broadcast, watch, Semaphore};
use tokio::task::JoinHandle;
use tokio::time::timeout;
use url::Url;

use super::conn::Conn;
use super::error::{Error, Result};
use super::event::{EgressEvent, RequestKind};
use super::host::{parse_authority, url_target, TargetHost};
use super::http1::{self, HeadError, RequestHead};
use super::inspect::Inspect;
use super::inspected::{self, Request};
use super::intercept::{self, Tunnel};
use super::page;
use super::policy::{Decision, EgressPolicy, Reason, Verdict};
use super::relay::{relay, Mode};
use super::resolver::Resolve;
use super::tls::Interceptor;

/// Capacity of the event channel; a subscriber that falls further behind
/// gets `RecvError::Lagged(n)` telling it how many events it missed.
pub const EVENT_CAPACITY: usize = 1024;

/// A running egress proxy for one session.
#[derive(Debug)]
pub struct EgressProxy {
    addr: SocketAddr,
    events: broadcast::Sender<EgressEvent>,
    shutdown: watch::Sender<bool>,
    accept: Option<JoinHandle<()>>,
    conns: Arc<Semaphore>,
    max_conns: u32,
}

/// Who may use a proxy. Every local Unix user can connect to a loopback
/// port; a proxy that served them all would let any of them browse from the
/// server's network position (reaching what `[egress] allow` opens) and put
/// requests into a session's record. The session's proxy therefore serves
/// only connections whose far end passes this check (the caller looks up
/// the socket's owner; see `crate::os::local_peer`).
#[derive(Clone)]
pub struct PeerFilter(Arc<dyn Fn(SocketAddr, SocketAddr) -> bool + Send + Sync>);

impl PeerFilter {
    /// Serves a connection accepted on `listener` from `peer` only when
    /// `allow(listener, peer)` is true.
    pub fn new(allow: impl Fn(SocketAddr, SocketAddr) -> bool + Send + Sync + 'static) -> Self {
        PeerFilter(Arc::new(allow))
    }

    /// Serves everyone who can connect (tests of the proxy's own logic).
    pub fn anyone() -> Self {
        Self::new(|_, _| true)
    }
}

impl std::fmt::Debug for PeerFilter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PeerFilter")
    }
}

pub(super) struct Shared {
    policy: Arc<EgressPolicy>,
    resolver: Arc<dyn Resolve>,
    pub(super) events: broadcast::Sender<EgressEvent>,
    inspector: Option<Arc<dyn Inspect>>,
    tls: Option<Arc<Interceptor>>,
}

impl EgressProxy {
    /// Binds `127.0.0.1:0` and starts serving the peers `peers` lets in.
    /// Returns the proxy and a receiver subscribed before the first
    /// connection, so no event is missed.
    pub async fn start(
        policy: Arc<EgressPolicy>,
        resolver: Arc<dyn Resolve>,
        peers: PeerFilter,
    ) -> Result<(EgressProxy, broadcast::Receiver<EgressEvent>)> {
        Self::serve(policy, resolver, peers, None, None).await
    }

    /// [`EgressProxy::start`], with every request and WebSocket frame judged
    /// by `inspector` before it leaves (see [`super::inspect`]): plain-HTTP
    /// ones always, and those inside TLS tunnels when `tls` intercepts them
    /// (see [`super::tls`]; without it TLS tunnels are relayed unread).
    pub async fn start_inspected(
        policy: Arc<EgressPolicy>,
        resolver: Arc<dyn Resolve>,
        peers: PeerFilter,
        inspector: Arc<dyn Inspect>,
        tls: Option<Arc<Interceptor>>,
    ) -> Result<(EgressProxy, broadcast::Receiver<EgressEvent>)> {
        Self::serve(policy, resolver, peers, Some(inspector), tls).await
    }

    async fn serve(
        policy: Arc<EgressPolicy>,
        resolver: Arc<dyn Resolve>,
        peers: PeerFilter,
        inspector: Option<Arc<dyn Inspect>>,
        tls: Option<Arc<Interceptor>>,
    ) -> Result<(EgressProxy, broadcast::Receiver<EgressEvent>)> {
        let bind = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0);
        let listener = TcpListener::bind(bind)
            .await
            .map_err(|source| Error::Bind { addr: bind, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| Error::Bind { addr: bind, source })?;
        let (events, rx) = broadcast::channel(EVENT_CAPACITY);
        let (shutdown, shutdown_rx) = watch::channel(false);
        let max_conns = u32::try_from(policy.limits().max_connections).unwrap_or(u32::MAX >> 3);
        let conns = Arc::new(Semaphore::new(max_conns as usize));
        let shared = Arc::new(Shared {
            policy,
            resolver,
            events: events.clone(),
            inspector,
            tls,
        });
        let accept = tokio::spawn(accept_loop(
            listener,
            shared,
            peers,
            conns.clone(),
            shutdown_rx,
        ));
        tracing::debug!(%addr, "egress proxy listening");
        Ok((
            EgressProxy {
                addr,
                events,
                shutdown,
                accept: Some(accept),
                conns,
                max_conns,
            },
            rx,
        ))
    }

    /// The loopback address the proxy listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The value for `Target.createBrowserContext`'s `proxyServer`.
    pub fn proxy_server(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Another receiver of this proxy's events.
    pub fn subscribe(&self) -> broadcast::Receiver<EgressEvent> {
        self.events.subscribe()
    }

    /// Stops accepting, closes every connection and tunnel, and waits (at
    /// most `grace`) until all connection tasks have ended.
    pub async fn shutdown(mut self, grace: Duration) {
        let _ = self.shutdown.send(true);
        if let Some(accept) = self.accept.take() {
            let _ = accept.await;
        }
        let _ = timeout(grace, self.conns.acquire_many(self.max_conns)).await;
    }
}

impl Drop for EgressProxy {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
        if let Some(accept) = self.accept.take() {
            accept.abort();
        }
    }
}

async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    peers: PeerFilter,
    conns: Arc<Semaphore>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let permit = tokio::select! {
            p = conns.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => return,
            },
            _ = shutdown.changed() => return,
        };
        let stream = tokio::select! {
            r = listener.accept() => match r {
                Ok((stream, peer)) => {
                    let own = listener.local_addr();
                    if !own.is_ok_and(|own| (peers.0)(own, peer)) {
                        // Closed before a byte is read: the connection is
                        // not the isolated browser's.
                        tracing::warn!(%peer, "egress proxy refused a connection from another local user");
                        continue;
                    }
                    stream
                }
                Err(e) => {
                    // EMFILE and friends: back off instead of spinning.
                    tracing::warn!(error = %e, "egress proxy accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = shutdown.changed() => return,
        };
        let _ = stream.set_nodelay(true);
        let shared = shared.clone();
        let shutdown = shutdown.clone();
        tokio::spawn(async move {
            handle(stream, &shared, shutdown).await;
            drop(permit);
        });
    }
}

/// A parsed proxy request: what to reach and how.
struct Target {
    kind: RequestKind,
    host: TargetHost,
    port: u16,
    /// For plain HTTP: the origin-form request target and Host header value.
    origin: Option<(String, String)>,
    upgrade: Option<Vec<u8>>,
}

impl Target {
    fn display(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }
}

async fn handle(mut browser: TcpStream, shared: &Shared, mut shutdown: watch::Receiver<bool>) {
    let limits = shared.policy.limits().clone();
    let head = tokio::select! {
        r = timeout(limits.header_timeout(), http1::read_head(&mut browser, limits.max_header_bytes)) => r,
        _ = shutdown.changed() => return,
    };
    let (buf, head_len) = match head {
        Ok(Ok(h)) => h,
        Err(_) | Ok(Err(HeadError::Closed)) | Ok(Err(HeadError::Io(_))) => return,
        Ok(Err(HeadError::TooLarge)) => {
            refuse_invalid(&mut browser, shared, 431, "request head too large").await;
            return;
        }
        Ok(Err(HeadError::Malformed(e))) => {
            refuse_invalid(&mut browser, shared, 400, &e).await;
            return;
        }
    };
    let req = match http1::parse_request(&buf[..head_len], limits.max_headers) {
        Ok(r) => r,
        Err(HeadError::TooLarge) => {
            refuse_invalid(&mut browser, shared, 431, "too many header lines").await;
            return;
        }
        Err(e) => {
            refuse_invalid(&mut browser, shared, 400, &format!("{e:?}")).await;
            return;
        }
    };
    let target = match parse_target(&req) {
        Ok(t) => t,
        Err(e) => {
            refuse_invalid(&mut browser, shared, 400, &e).await;
            return;
        }
    };
    let leftover = &buf[head_len..];

    let (addrs, decision) = decide(shared, &target, &limits).await;
    if !decision.is_allowed() {
        report(shared, &target, addrs, decision.clone());
        refuse(&mut browser, &target, &decision).await;
        return;
    }

    // Under inspection, a plain-HTTP request's head is judged before we connect.
    let mut judged = None;
    if let (Some(inspector), Some((origin_form, host_header))) = (&shared.inspector, &target.origin)
    {
        let r = Request {
            head: &req,
            url: req.target.clone(),
            origin_form,
            host_header,
            upgrade: target.upgrade.as_deref(),
        };
        match inspected::judge_head(inspector.as_ref(), &r).await {
            Ok(j) => judged = Some(j),
            Err(response) => {
                let _ = browser.write_all(&response).await;
                let _ = browser.shutdown().await;
                return;
            }
        }
    }

    // Connect to the addresses that were checked, in order, and nothing else.
    let mut dest = None;
    let mut last_err = String::from("no address");
    for addr in &addrs {
        match timeout(
            limits.connect_timeout(),
            TcpStream::connect((*addr, target.port)),
        )
        .await
        {
            Ok(Ok(s)) => {
                dest = Some(s);
                break;
            }
            Ok(Err(e)) => last_err = e.to_string(),
            Err(_) => last_err = "connect timed out".into(),
        }
    }
    let Some(mut dest) = dest else {
        let failed = Decision {
            verdict: Verdict::Failed,
            reason: Reason::Unreachable { error: last_err },
        };
        report(shared, &target, addrs, failed.clone());
        refuse(&mut browser, &target, &failed).await;
        return;
    };
    let _ = dest.set_nodelay(true);
    report(shared, &target, addrs, decision);

    let idle = limits.idle_timeout();
    match &target.origin {
        None => {
            // CONNECT: confirm, then a transparent tunnel.
            if browser
                .write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n")
                .await
                .is_err()
            {
                return;
            }
            if let Some(inspector) = &shared.inspector {
                let leftover = leftover.to_vec();
                if !is_tls(&mut browser, &leftover).await {
                    let display = target.display();
                    inspect_tunnel(
                        browser,
                        leftover,
                        dest,
                        inspector.as_ref(),
                        &format!("http://{display}"),
                        &display,
                        &limits,
                        &mut shutdown,
                    )
                    .await;
                    return;
                }
                if let Some(tls) = &shared.tls {
                    let tunnel = Tunnel {
                        host: &target.host,
                        port: target.port,
                        addr: dest.peer_addr().ok(),
                    };
                    intercept::serve(
                        browser,
                        leftover,
                        dest,
                        &tunnel,
                        tls,
                        inspector.as_ref(),
                        shared,
                        &limits,
                        &mut shutdown,
                    )
                    .await;
                    return;
                }
                tracing::debug!(target = %target.display(), "a TLS tunnel is relayed without inspection");
            }
            if dest.write_all(leftover).await.is_err() {
                return;
            }
            relay(&mut browser, &mut dest, Mode::Tunnel, idle, &mut shutdown).await;
        }
        Some((origin_form, host_header)) if judged.is_some() => {
            let Some((inspection, framing)) = judged else {
                return;
            };
            let r = Request {
                head: &req,
                url: req.target.clone(),
                origin_form,
                host_header,
                upgrade: target.upgrade.as_deref(),
            };
            let leftover = leftover.to_vec();
            inspected::forward(
                browser,
                leftover,
                dest,
                &r,
                inspection,
                framing,
                None,
                &limits,
                &mut shutdown,
            )
            .await;
        }
        Some((origin_form, host_header)) => {
            let up = http1::upstream_request(
                &req,
                origin_form,
                host_header,
                target.upgrade.as_deref(),
                false,
            );
            if dest.write_all(&up).await.is_err() || dest.write_all(leftover).await.is_err() {
                return;
            }
            // The rest of the request body (a file upload is read from disk
            // and streams in after the head) must keep flowing while the
            // response head is awaited: the server answers only once it has
            // the whole body. Waiting for the response first deadlocked every
            // request whose body did not arrive with its head.
            let mode = {
                let (mut br, mut bw) = browser.split();
                let (mut dr, mut dw) = dest.split();
                let head = forward_response_head(&mut dr, &mut bw, &limits);
                tokio::pin!(head);
                let mut buf = vec![0u8; 32 * 1024];
                let mut body_open = true;
                loop {
                    tokio::select! {
                        mode = &mut head => break mode,
                        r = br.read(&mut buf), if body_open => match r {
                            Ok(0) | Err(_) => body_open = false,
                            Ok(n) => {
                                if !matches!(timeout(idle, dw.write_all(&buf[..n])).await, Ok(Ok(()))) {
                                    break None;
                                }
                            }
                        },
                    }
                }
            };
            let Some(mode) = mode else {
                return;
            };
            relay(&mut browser, &mut dest, mode, idle, &mut shutdown).await;
        }
    }
}

/// Reads the destination's response head(s), forwards interim 1xx heads
/// verbatim and the final one rewritten. Returns how to relay the rest.
pub(super) async fn forward_response_head<R, W>(
    dest: &mut R,
    browser: &mut W,
    limits: &super::config::ProxyLimits,
) -> Option<Mode>
where
    R: tokio::io::AsyncRead + Unpin,
    W: tokio::io::AsyncWrite + Unpin,
{
    let mut pending: Vec<u8> = Vec::new();
    loop {
        let mut reader = tokio::io::AsyncReadExt::chain(&pending[..], &mut *dest);
        let read = http1::read_head(&mut reader, limits.max_header_bytes);
        let (buf, end) = match timeout(limits.idle_timeout(), read).await {
            Ok(Ok(h)) => h,
            _ => {
                let _ = browser.write_all(page::status_only(502)).await;
                return None;
            }
        };
        let resp = match http1::parse_response(&buf[..end], limits.max_headers) {
            Ok(r) => r,
            Err(_) => {
                let _ = browser.write_all(page::status_only(502)).await;
                return None;
            }
        };
        if (100..200).contains(&resp.code) && resp.code != 101 {
            if browser.write_all(&buf[..end]).await.is_err() {
                return None;
            }
            pending = buf[end..].to_vec();
            continue;
        }
        let head = http1::downstream_response(&resp);
        if browser.write_all(&head).await.is_err() || browser.write_all(&buf[end..]).await.is_err()
        {
            return None;
        }
        return Some(if resp.code == 101 {
            Mode::Tunnel
        } else {
            Mode::Exchange
        });
    }
}

/// Whether a tunnel carries TLS: its first byte is a TLS handshake record.
async fn is_tls(browser: &mut TcpStream, leftover: &[u8]) -> bool {
    if let Some(first) = leftover.first() {
        return *first == 0x16;
    }
    let mut first = [0u8; 1];
    matches!(browser.peek(&mut first).await, Ok(1) if first[0] == 0x16)
}

/// A tunnel's one request (Chromium sends `ws://` through CONNECT, and an
/// intercepted TLS tunnel carries `https://` and `wss://`) is read, judged
/// and forwarded like an absolute-form one, to the address the tunnel was
/// checked for. `origin` is the scheme and authority the URL is judged
/// under; `authority` is sent as `Host`.
#[allow(clippy::too_many_arguments)]
pub(super) async fn inspect_tunnel<B: Conn, D: Conn>(
    mut browser: B,
    leftover: Vec<u8>,
    dest: D,
    inspector: &dyn Inspect,
    origin: &str,
    authority: &str,
    limits: &super::config::ProxyLimits,
    shutdown: &mut watch::Receiver<bool>,
) {
    let mut reader = tokio::io::AsyncReadExt::chain(&leftover[..], &mut browser);
    let read = http1::read_head(&mut reader, limits.max_header_bytes);
    let Ok(Ok((buf, end))) = timeout(limits.header_timeout(), read).await else {
        return;
    };
    let Ok(req) = http1::parse_request(&buf[..end], limits.max_headers) else {
        let _ = browser.write_all(page::status_only(400)).await;
        return;
    };
    if !req.target.starts_with('/') {
        let _ = browser.write_all(page::status_only(400)).await;
        return;
    }
    let upgrade = http1::websocket_upgrade(&req.headers);
    let r = Request {
        head: &req,
        url: format!("{origin}{}", req.target),
        origin_form: &req.target,
        host_header: authority,
        upgrade: upgrade.as_deref(),
    };
    match inspected::judge_head(inspector, &r).await {
        Ok((inspection, framing)) => {
            let rest = buf[end..].to_vec();
            let next = inspected::Next {
                inspector,
                origin,
                authority,
            };
            inspected::forward(
                browser,
                rest,
                dest,
                &r,
                inspection,
                framing,
                Some(next),
                limits,
                shutdown,
            )
            .await;
        }
        Err(response) => {
            let _ = browser.write_all(&response).await;
            let _ = browser.shutdown().await;
        }
    }
}

fn parse_target(req: &RequestHead) -> Result<Target, String> {
    if req.method.eq_ignore_ascii_case("CONNECT") {
        let (host, port) = parse_authority(&req.target).map_err(|e| e.to_string())?;
        return Ok(Target {
            kind: RequestKind::Connect,
            host,
            port,
            origin: None,
            upgrade: None,
        });
    }
    let url = Url::parse(&req.target)
        .map_err(|e| format!("the request target is not an absolute URL ({e})"))?;
    if url.scheme() != "http" {
        return Err(format!(
            "scheme `{}` cannot be proxied as plain HTTP; https goes through CONNECT",
            url.scheme()
        ));
    }
    let (host, port) = url_target(&url).map_err(|e| e.to_string())?;
    let mut origin_form = url.path().to_owned();
    if let Some(q) = url.query() {
        origin_form.push('?');
        origin_form.push_str(q);
    }
    let host_header = match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_string(),
    };
    let upgrade = http1::websocket_upgrade(&req.headers);
    Ok(Target {
        kind: if upgrade.is_some() {
            RequestKind::WebSocket
        } else {
            RequestKind::Http
        },
        host,
        port,
        origin: Some((origin_form, host_header)),
        upgrade,
    })
}

/// Resolves (static overrides first, then the resolver) and decides.
async fn decide(
    shared: &Shared,
    target: &Target,
    limits: &super::config::ProxyLimits,
) -> (Vec<IpAddr>, Decision) {
    let policy = &shared.policy;
    if let Some(d) = policy.precheck(&target.host, target.port) {
        return (Vec::new(), d);
    }
    let addrs = match &target.host {
        TargetHost::Ip(ip) => vec![*ip],
        TargetHost::Domain(name) => match policy.static_resolve(name) {
            Some(a) => a.to_vec(),
            None => match timeout(limits.resolve_timeout(), shared.resolver.resolve(name)).await {
                Ok(Ok(a)) => a,
                Ok(Err(e)) => return (Vec::new(), unresolved(e.to_string())),
                Err(_) => return (Vec::new(), unresolved("timed out".into())),
            },
        },
    };
    let d = policy.decide(&target.host, target.port, &addrs);
    (addrs, d)
}

fn unresolved(error: String) -> Decision {
    Decision {
        verdict: Verdict::Failed,
        reason: Reason::Unresolved { error },
    }
}

fn report(shared: &Shared, target: &Target, addrs: Vec<IpAddr>, d: Decision) {
    let event = EgressEvent {
        kind: target.kind,
        target: target.display(),
        addrs,
        verdict: d.verdict,
        reason: d.reason,
    };
    match event.verdict {
        Verdict::Allowed => {
            tracing::debug!(target = %event.target, kind = ?event.kind, "egress allowed")
        }
        _ => {
            tracing::info!(target = %event.target, kind = ?event.kind, verdict = ?event.verdict, reason = %event.reason, "egress refused")
        }
    }
    let _ = shared.events.send(event);
}

async fn refuse(browser: &mut TcpStream, target: &Target, d: &Decision) {
    let status = if d.verdict == Verdict::Blocked {
        403
    } else {
        502
    };
    let bytes = match target.kind {
        RequestKind::Connect => page::status_only(status).to_vec(),
        _ => page::html_response(status, &target.host.to_string(), &d.reason),
    };
    let _ = browser.write_all(&bytes).await;
    let _ = browser.shutdown().await;
}

async fn refuse_invalid(browser: &mut TcpStream, shared: &Shared, status: u16, error: &str) {
    let reason = Reason::BadRequest {
        error: error.to_owned(),
    };
    let _ = shared.events.send(EgressEvent {
        kind: RequestKind::Invalid,
        target: "-".into(),
        addrs: Vec::new(),
        verdict: Verdict::Failed,
        reason: reason.clone(),
    });
    let _ = browser
        .write_all(&page::html_response(status, "-", &reason))
        .await;
    let _ = browser.shutdown().await;
}
