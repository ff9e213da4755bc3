//! The HTTP side of a cluster: any node gets a user to the node holding
//! their session.
//!
//! Two layers, inert without `[cluster]`:
//!
//! - [`accept_forwarded`] (outermost): a request another node forwarded
//!   carries `X-Isolator-Forwarded-*` headers signed with the cluster secret
//!   (HMAC-SHA-256 over the forwarding node, the time, the client's address,
//!   the `Host` it asked for, the method and the path). A valid one is served
//!   as if the client had connected here (its address, the host check that
//!   the first node already passed); a forged or stale one (over 30 s) is
//!   refused with 403. A client cannot send them: it does not know the secret.
//! - [`route`] (inside the rate limit): a login cookie this node does not
//!   know is looked up in the shared logins once; a request for a session
//!   held by another node (`/api/sessions/{id}` and everything under it,
//!   the WebSocket included) is forwarded there, and a new session
//!   (`POST /api/sessions`) goes to the live node with the most free room.
//!   A forwarded request is never forwarded again. The WebSocket upgrade is
//!   forwarded as HTTP, then the two upgraded connections are joined byte for
//!   byte, so reconnects land on the same node wherever they arrive.
//!
//! A node can be dead before its heartbeat times out (SIGKILL, its host
//! gone). Connecting to it then fails: refused (nothing listens at its
//! address) or no handshake within 3 s (its host drops the packets; only
//! the handshake is timed, which the kernel of a busy node still answers).
//! Such a failure, and only it, means the request never reached the node:
//!
//! - A new session goes to the next node with the most room (up to three
//!   are tried), then to this node unless it drains. Its JSON body (64 KiB
//!   at most) is read whole to be sent again. A node that answered anything,
//!   an error included, is not tried again.
//! - The node is remembered as suspect: no session is placed there until
//!   its heartbeat would time out (then the registry calls it dead), or, if
//!   it refused, until it writes a heartbeat again (restarted).
//! - The user of a session held there is told `node_lost`, as once its
//!   heartbeat timed out: at once when refused (its process is gone; a
//!   restarted one holds none of its old sessions), after 3 s when its
//!   host is silent and it wrote no heartbeat meanwhile (one that did is
//!   alive, only not reachable from here: `502 node_unreachable`).
//!   Otherwise the web client, finding the server up but its session's
//!   socket refused, would call the session expired.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::Response;
use hmac::{Hmac, Mac};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use sha2::Sha256;

use super::{api_error, AppState};
use crate::auth::config::AuthMode;
use crate::cluster::registry::{NodeRow, Registry};

const FWD_BY: &str = "x-isolator-forwarded-by";
const FWD_AT: &str = "x-isolator-forwarded-at";
const FWD_FOR: &str = "x-isolator-forwarded-for";
const FWD_CLIENT: &str = "x-isolator-forwarded-client";
const FWD_HOST: &str = "x-isolator-forwarded-host";
const FWD_MAC: &str = "x-isolator-forwarded-mac";
const FWD_HEADERS: [&str; 6] = [FWD_BY, FWD_AT, FWD_FOR, FWD_CLIENT, FWD_HOST, FWD_MAC];

/// How old a forwarded request may be (clocks of nodes are NTP-synced).
const MAX_AGE_MS: i64 = 30_000;

/// How long connecting to another node may take. Only the handshake, which
/// the node's kernel answers however busy the node is: a node that misses
/// it is gone, or its host is (or its listen queue is full).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// How many other nodes a new session is tried on before this one.
const PLACEMENT_TRIES: usize = 3;

/// The most `POST /api/sessions` may carry (the API's body limit): it is
/// read whole, so it can be sent again to another node.
const CREATE_BODY_MAX: usize = 64 * 1024;

/// Marks a request another node forwarded, verified.
#[derive(Clone, Copy, Debug)]
pub struct Forwarded;

/// Forwards requests to other nodes; see the module docs.
pub struct Forwarder {
    client: Client<HttpConnector, Body>,
    secret: [u8; 32],
    node_id: String,
    /// Nodes that could not be connected to lately, by id.
    suspects: Mutex<HashMap<String, Suspect>>,
}

/// A node that could not be connected to: no new session is placed there
/// until its heartbeat would have timed out (by then the registry calls it
/// dead), or, if it refused, until it writes a heartbeat again (restarted).
#[derive(Clone, Copy, Debug)]
struct Suspect {
    since: Instant,
    until: Instant,
    refused: bool,
}

impl std::fmt::Debug for Forwarder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Forwarder")
            .field("node_id", &self.node_id)
            .finish_non_exhaustive()
    }
}

impl Forwarder {
    /// A forwarder signing with the cluster `secret`.
    pub fn new(secret: [u8; 32], node_id: String) -> Forwarder {
        Forwarder::with_connect_timeout(secret, node_id, CONNECT_TIMEOUT)
    }

    fn with_connect_timeout(secret: [u8; 32], node_id: String, timeout: Duration) -> Forwarder {
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(timeout));
        connector.set_nodelay(true);
        Forwarder {
            client: Client::builder(TokioExecutor::new()).build(connector),
            secret,
            node_id,
            suspects: Mutex::default(),
        }
    }

    /// Remembers that `node` could not be connected to; see [`Suspect`].
    fn suspect(&self, node: &NodeRow, refused: bool, node_timeout: Duration) {
        let now = Instant::now();
        let silent = Duration::try_from_secs_f64(node.heartbeat_age_secs.max(0.0))
            .unwrap_or(node_timeout)
            .min(node_timeout);
        let suspect = Suspect {
            since: now,
            until: now + (node_timeout - silent),
            refused,
        };
        self.suspects
            .lock()
            .expect("suspects lock")
            .insert(node.id.clone(), suspect);
    }

    /// Whether `node`, as the registry lists it now, is still suspect.
    fn is_suspect(&self, node: &NodeRow) -> bool {
        let mut suspects = self.suspects.lock().expect("suspects lock");
        let Some(s) = suspects.get(&node.id).copied() else {
            return false;
        };
        let beat_since = node.heartbeat_age_secs < s.since.elapsed().as_secs_f64();
        if Instant::now() >= s.until || (s.refused && beat_since) {
            suspects.remove(&node.id);
            return false;
        }
        true
    }

    /// The signature of a forwarded request's parts: the forwarding node,
    /// the time, the connection's peer at that node, the client (behind a
    /// trusted proxy, `[forwarded]`), the host, the method and the path.
    fn mac(&self, parts: &[&str; 7]) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.secret).expect("any key length");
        for part in parts {
            mac.update(part.as_bytes());
            mac.update(b"\n");
        }
        hex::encode(mac.finalize().into_bytes())
    }

    /// Sends `req` from `peer` to the node at `base` and relays its answer
    /// (and, for a WebSocket, the upgraded connection); [`NodeGone`] when
    /// no connection to it could be made.
    async fn forward(
        &self,
        base: &str,
        mut req: Request,
        peer: SocketAddr,
    ) -> Result<Response, NodeGone> {
        let path = req
            .uri()
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .to_owned();
        let uri: Uri = match format!("{}{path}", base.trim_end_matches('/')).parse() {
            Ok(u) => u,
            Err(_) => return Ok(unreachable_node("its address is not a URL")),
        };
        let host = req
            .headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let at = time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000;
        let at = at.to_string();
        let client = super::client_addr::client_ip(req.extensions())
            .unwrap_or(peer.ip())
            .to_string();
        let peer = peer.to_string();
        let mac = self.mac(&[
            &self.node_id,
            &at,
            &peer,
            &client,
            &host,
            req.method().as_str(),
            &path,
        ]);
        let upgrade = req.extensions_mut().remove::<hyper::upgrade::OnUpgrade>();
        let websocket = is_upgrade(req.headers());
        let (mut parts, body) = req.into_parts();
        let mut out = hyper::Request::builder()
            .method(parts.method.clone())
            .uri(uri)
            .body(body)
            .expect("method and URI are valid");
        let headers = out.headers_mut();
        for (name, value) in &parts.headers {
            if !hop_by_hop(name, websocket) && !FWD_HEADERS.contains(&name.as_str()) {
                headers.append(name.clone(), value.clone());
            }
        }
        if websocket {
            headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
        }
        for (name, value) in [
            (FWD_BY, self.node_id.as_str()),
            (FWD_AT, &at),
            (FWD_FOR, &peer),
            (FWD_CLIENT, &client),
            (FWD_HOST, &host),
            (FWD_MAC, &mac),
        ] {
            if let Ok(v) = HeaderValue::from_str(value) {
                headers.insert(HeaderName::from_static(name), v);
            }
        }
        let mut answer = match self.client.request(out).await {
            Ok(a) => a,
            // The request never left: it can be answered, or sent, elsewhere.
            Err(e) if e.is_connect() => {
                let refused = connection_refused(&e);
                if refused {
                    tracing::warn!(node = %base, "nothing listens at the node's address: its process is gone");
                } else {
                    tracing::warn!(node = %base, error = %e, "no connection to the node could be made");
                }
                if let Some(upgrade) = upgrade {
                    parts.extensions.insert(upgrade);
                }
                let req = Request::from_parts(parts, Body::empty());
                return Err(NodeGone { req, refused });
            }
            Err(e) => {
                tracing::warn!(node = %base, error = %e, "forwarding to the node failed");
                return Ok(unreachable_node("it does not answer"));
            }
        };
        if answer.status() == StatusCode::SWITCHING_PROTOCOLS {
            let theirs = hyper::upgrade::on(&mut answer);
            match upgrade {
                Some(ours) => {
                    tokio::spawn(async move {
                        let (Ok(ours), Ok(theirs)) = (ours.await, theirs.await) else {
                            return;
                        };
                        let _ = tokio::io::copy_bidirectional(
                            &mut TokioIo::new(ours),
                            &mut TokioIo::new(theirs),
                        )
                        .await;
                    });
                }
                None => return Ok(unreachable_node("the upgrade could not be relayed")),
            }
        }
        Ok(answer.map(Body::new))
    }
}

/// A forwarded request that never reached its node, though the node's
/// heartbeat has not timed out yet: the connection was refused (its process
/// is gone; a node that restarts holds none of its old sessions) or not made
/// within [`CONNECT_TIMEOUT`] (its host vanished). Holds the request,
/// without its body, so it can be answered here or sent elsewhere.
struct NodeGone {
    req: Request,
    refused: bool,
}

/// Whether `e` comes from a connection the other side refused.
fn connection_refused(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(e);
    while let Some(err) = cause {
        if err
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::ConnectionRefused)
        {
            return true;
        }
        cause = err.source();
    }
    false
}

fn unreachable_node(why: &str) -> Response {
    api_error(
        StatusCode::BAD_GATEWAY,
        "node_unreachable",
        &format!(
            "The server holding this session cannot be reached ({why}). \
             Try again in a moment, or start a new session."
        ),
    )
}

fn is_upgrade(headers: &HeaderMap) -> bool {
    headers
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}

/// Headers that belong to one connection, not to the request.
fn hop_by_hop(name: &HeaderName, websocket: bool) -> bool {
    let upgrade = name == header::UPGRADE || name == header::CONNECTION;
    (upgrade && !websocket)
        || name == header::CONNECTION
        || name == header::TE
        || name == header::TRAILER
        || name == header::TRANSFER_ENCODING
        || name == header::PROXY_AUTHORIZATION
        || name == header::PROXY_AUTHENTICATE
        || name.as_str() == "keep-alive"
        || name.as_str() == "proxy-connection"
}

/// The session id of `/api/sessions/{id}` and the paths under it.
fn session_id(path: &str) -> Option<&str> {
    let rest = path.strip_prefix("/api/sessions/")?;
    let id = rest.split('/').next()?;
    (!id.is_empty()).then_some(id)
}

/// Outermost layer: verifies a forwarded request; see the module docs.
pub async fn accept_forwarded(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    if !FWD_HEADERS.iter().any(|h| req.headers().contains_key(*h)) {
        return next.run(req).await;
    }
    let Some(forwarder) = state.forwarder.as_ref() else {
        return refused("this server is not in a cluster");
    };
    let headers = req.headers();
    let get = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    let (by, at, peer, client, host, mac) = (
        get(FWD_BY),
        get(FWD_AT),
        get(FWD_FOR),
        get(FWD_CLIENT),
        get(FWD_HOST),
        get(FWD_MAC),
    );
    let path = req
        .uri()
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    let expected = forwarder.mac(&[
        &by,
        &at,
        &peer,
        &client,
        &host,
        req.method().as_str(),
        &path,
    ]);
    if !crate::auth::ct_eq(expected.as_bytes(), mac.as_bytes()) {
        tracing::warn!("a request with forged cluster forwarding headers was refused");
        return refused("its forwarding signature is wrong");
    }
    let now = time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000;
    let fresh = at
        .parse::<i128>()
        .is_ok_and(|t| (now - t).abs() <= i128::from(MAX_AGE_MS));
    let (Ok(peer), Ok(client)) = (peer.parse::<SocketAddr>(), client.parse::<IpAddr>()) else {
        return refused("its client address is malformed");
    };
    if !fresh {
        return refused("it is too old");
    }
    if let Ok(h) = HeaderValue::from_str(&host) {
        req.headers_mut().insert(header::HOST, h);
    }
    req.extensions_mut().insert(ConnectInfo(peer));
    req.extensions_mut()
        .insert(super::client_addr::ClientAddr(client));
    req.extensions_mut().insert(Forwarded);
    next.run(req).await
}

fn refused(why: &str) -> Response {
    api_error(
        StatusCode::FORBIDDEN,
        "forwarding_refused",
        &format!("forwarded request refused: {why}"),
    )
}

/// Inner layer: shared logins and routing; see the module docs.
pub async fn route(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let (Some(cluster), Some(forwarder)) = (state.cluster.as_ref(), state.forwarder.as_ref())
    else {
        return next.run(req).await;
    };
    if state.auth.mode() == AuthMode::Static {
        if let Some(key) = crate::auth::login_key(req.headers()) {
            if !state.auth.knows_login(&key) {
                let lookup = cluster.logins().lookup(key);
                if let Ok(Ok(Some((user, left)))) =
                    tokio::time::timeout(Duration::from_secs(2), lookup).await
                {
                    state.auth.adopt_login(key, user, left);
                }
            }
        }
    }
    let Some(registry) = cluster.registry() else {
        return next.run(req).await;
    };
    if req.extensions().get::<Forwarded>().is_some() {
        return next.run(req).await;
    }
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or_else(|| SocketAddr::from(([0, 0, 0, 0], 0)), |c| c.0);
    if let Some(id) = session_id(req.uri().path()).map(str::to_owned) {
        if state.sessions.get(&id).is_some() {
            return next.run(req).await;
        }
        return match registry.locate(&id).await {
            Ok(Some((node, owner))) if node.alive && node.id != registry.node_id() => {
                let asked = Instant::now();
                match forwarder.forward(&node.url, req, peer).await {
                    Ok(answer) => answer,
                    Err(NodeGone { req, refused }) => {
                        forwarder.suspect(&node, refused, registry.node_timeout());
                        // Killed, or its host gone, before its heartbeat timed
                        // out: the same answer. One that wrote its heartbeat
                        // while this node could not connect is alive.
                        if refused || !beat_since(registry, &id, asked.elapsed()).await {
                            lost(&state, req, peer, &owner, next).await
                        } else {
                            unreachable_node("it takes no connection")
                        }
                    }
                }
            }
            // Its node died: its own user is told so, not just "not found".
            Ok(Some((node, owner))) if !node.alive => lost(&state, req, peer, &owner, next).await,
            // Not held anywhere: this node answers that it has ended.
            Ok(_) => next.run(req).await,
            Err(e) => api_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                &format!("This session cannot be found right now ({e}). Try again in a moment."),
            ),
        };
    }
    if req.method() == Method::POST && req.uri().path() == "/api/sessions" {
        return place(registry, forwarder, req, peer, next).await;
    }
    next.run(req).await
}

/// Whether the node holding session `id` wrote its heartbeat in the last
/// `within` (a database error counts as yes: nothing says it is gone).
async fn beat_since(registry: &Registry, id: &str, within: Duration) -> bool {
    match registry.locate(id).await {
        Ok(Some((node, _))) => node.heartbeat_age_secs < within.as_secs_f64(),
        Ok(None) => false,
        Err(_) => true,
    }
}

/// Starts a new session on the live node with the most free room. One that
/// takes no connection is skipped (and remembered: see [`Suspect`]) and the
/// next is tried, up to [`PLACEMENT_TRIES`]; then this node, if it is not
/// draining (it answers itself when it is full). A node that answered
/// anything, an error included, is not tried again.
async fn place(
    registry: &Registry,
    forwarder: &Forwarder,
    req: Request,
    peer: SocketAddr,
    next: Next,
) -> Response {
    let Ok(candidates) = registry.placement().await else {
        // The registry unreachable: start it here.
        return next.run(req).await;
    };
    let here = |req: Request, next: Next| async move {
        match registry.draining() {
            true => api_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "draining",
                "This server is being drained and no other can take a new session. \
                 Try again in a minute.",
            ),
            false => next.run(req).await,
        }
    };
    // Those with more room than this node (all, if it has none).
    let others: Vec<&NodeRow> = candidates
        .iter()
        .take_while(|n| n.id != registry.node_id())
        .filter(|n| !forwarder.is_suspect(n))
        .take(PLACEMENT_TRIES)
        .collect();
    if others.is_empty() {
        return here(req, next).await;
    }
    let (mut parts, body) = req.into_parts();
    let Ok(body) = axum::body::to_bytes(body, CREATE_BODY_MAX).await else {
        return api_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            "A request to start a session may carry at most 64 KiB.",
        );
    };
    for node in others {
        let req = Request::from_parts(parts, Body::from(body.clone()));
        match forwarder.forward(&node.url, req, peer).await {
            Ok(answer) => return answer,
            Err(NodeGone { req, refused }) => {
                forwarder.suspect(node, refused, registry.node_timeout());
                tracing::warn!(node = %node.id, "placing the session elsewhere: the node chosen for it takes no connection");
                parts = req.into_parts().0;
            }
        }
    }
    here(Request::from_parts(parts, Body::from(body)), next).await
}

/// A request for a session whose node died: its owner is told so
/// ([`node_lost`]); anyone else gets this node's answer (not found).
async fn lost(
    state: &AppState,
    req: Request,
    peer: SocketAddr,
    owner: &str,
    next: Next,
) -> Response {
    let user = state.auth.identify(req.headers(), peer);
    if user.is_some_and(|u| u.name == owner) {
        node_lost(state, req).await
    } else {
        next.run(req).await
    }
}

/// The answer for a session whose node died: a WebSocket that says
/// `ended` with the reason `node_lost` (the client shows it and offers a new
/// session), or `410 Gone` with the same sentence for other requests.
async fn node_lost(state: &AppState, req: Request) -> Response {
    use crate::protocol::{EndReason, ServerMsg, SUBPROTOCOL};
    use axum::extract::ws::{Message, WebSocketUpgrade};
    use axum::extract::FromRequest;
    let ended = ServerMsg::ended(EndReason::NodeLost);
    if is_upgrade(req.headers()) {
        if let Ok(ws) = WebSocketUpgrade::from_request(req, state).await {
            return ws
                .protocols([SUBPROTOCOL])
                .on_upgrade(move |mut socket| async move {
                    let _ = socket.send(Message::Text(ended.to_json().into())).await;
                    let _ = socket.send(Message::Close(None)).await;
                });
        }
        return api_error(StatusCode::GONE, "node_lost", EndReason::NodeLost.message());
    }
    api_error(StatusCode::GONE, "node_lost", EndReason::NodeLost.message())
}

/// Builds the forwarder of a cluster node.
pub fn forwarder(cluster: &crate::cluster::Cluster) -> Arc<Forwarder> {
    Arc::new(Forwarder::new(
        *cluster.secret(),
        cluster.node_id().to_owned(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_paths_name_their_session() {
        assert_eq!(session_id("/api/sessions/abc"), Some("abc"));
        assert_eq!(session_id("/api/sessions/abc/ws"), Some("abc"));
        assert_eq!(session_id("/api/sessions/abc/files/x"), Some("abc"));
        assert_eq!(session_id("/api/sessions"), None);
        assert_eq!(session_id("/api/sessions/"), None);
        assert_eq!(session_id("/api/v1/sessions/abc"), None);
    }

    fn a_ws_request() -> Request {
        Request::builder()
            .uri("/api/sessions/abc/ws")
            .header("cookie", "isolator_login=x")
            .body(Body::empty())
            .unwrap()
    }

    const PEER: SocketAddr =
        SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 4000);

    #[tokio::test]
    async fn a_node_refusing_connections_is_gone_and_the_request_comes_back() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let f = Forwarder::new([1; 32], "a".into());
        let base = format!("http://127.0.0.1:{port}");
        let Err(NodeGone { req: back, refused }) = f.forward(&base, a_ws_request(), PEER).await
        else {
            panic!("a refused connection means the node is gone");
        };
        assert!(refused);
        assert_eq!(back.uri().path(), "/api/sessions/abc/ws");
        assert_eq!(back.headers()["cookie"], "isolator_login=x");
    }

    /// An address whose SYNs go unanswered. Not a vanished host: a listener
    /// whose accept queue is full, which Linux answers by dropping SYNs, as
    /// the forwarder sees a vanished host.
    #[tokio::test]
    async fn a_node_taking_no_connection_in_time_is_gone_not_refused() {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let listener = socket.listen(0).unwrap();
        let addr = listener.local_addr().unwrap();
        let _queued = tokio::net::TcpStream::connect(addr).await.unwrap();
        let timeout = Duration::from_millis(300);
        let f = Forwarder::with_connect_timeout([1; 32], "a".into(), timeout);
        let asked = Instant::now();
        let Err(NodeGone { req: back, refused }) = f
            .forward(&format!("http://{addr}"), a_ws_request(), PEER)
            .await
        else {
            panic!("no connection within the timeout means the node is gone");
        };
        let took = asked.elapsed();
        assert!(!refused);
        assert!(took >= timeout && took < Duration::from_secs(2), "{took:?}");
        assert_eq!(back.uri().path(), "/api/sessions/abc/ws");
    }

    fn a_node(id: &str, heartbeat_age_secs: f64) -> NodeRow {
        NodeRow {
            id: id.into(),
            url: "http://127.0.0.1:1".into(),
            sessions: 0,
            capacity: 10,
            draining: false,
            alive: true,
            heartbeat_age_secs,
            build: "x".into(),
        }
    }

    #[test]
    fn a_suspect_stays_one_until_its_heartbeat_would_time_out() {
        let f = Forwarder::new([1; 32], "a".into());
        let timeout = Duration::from_millis(300);
        // Silent for 0.1 s when it timed out: suspect for about 0.2 s more.
        f.suspect(&a_node("b", 0.1), false, timeout);
        assert!(f.is_suspect(&a_node("b", 0.1)));
        assert!(!f.is_suspect(&a_node("c", 0.1)));
        // A heartbeat does not clear a node that took no connection.
        assert!(f.is_suspect(&a_node("b", 0.0)));
        std::thread::sleep(Duration::from_millis(250));
        assert!(!f.is_suspect(&a_node("b", 0.35)));
    }

    #[test]
    fn a_node_that_refused_is_trusted_again_once_it_beats() {
        let f = Forwarder::new([1; 32], "a".into());
        f.suspect(&a_node("b", 0.5), true, Duration::from_secs(10));
        std::thread::sleep(Duration::from_millis(50));
        // Its last heartbeat is older than the refusal: still suspect.
        assert!(f.is_suspect(&a_node("b", 0.55)));
        // It wrote one since (restarted): no longer.
        assert!(!f.is_suspect(&a_node("b", 0.01)));
        assert!(!f.is_suspect(&a_node("b", 0.55)));
    }

    #[tokio::test]
    async fn a_node_that_accepts_but_fails_is_unreachable_not_gone() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                drop(socket);
            }
        });
        let f = Forwarder::new([1; 32], "a".into());
        match f.forward(&base, a_ws_request(), PEER).await {
            Ok(answer) => assert_eq!(answer.status(), StatusCode::BAD_GATEWAY),
            Err(_) => panic!("a node that accepted the connection is not gone"),
        }
    }

    #[test]
    fn the_signature_covers_every_part() {
        let f = Forwarder::new([7; 32], "a".into());
        let base = f.mac(&["a", "1", "1.2.3.4:5", "9.9.9.9", "h", "GET", "/p"]);
        for changed in [
            f.mac(&["b", "1", "1.2.3.4:5", "9.9.9.9", "h", "GET", "/p"]),
            f.mac(&["a", "2", "1.2.3.4:5", "9.9.9.9", "h", "GET", "/p"]),
            f.mac(&["a", "1", "1.2.3.4:6", "9.9.9.9", "h", "GET", "/p"]),
            f.mac(&["a", "1", "1.2.3.4:5", "9.9.9.8", "h", "GET", "/p"]),
            f.mac(&["a", "1", "1.2.3.4:5", "9.9.9.9", "g", "GET", "/p"]),
            f.mac(&["a", "1", "1.2.3.4:5", "9.9.9.9", "h", "POST", "/p"]),
            f.mac(&["a", "1", "1.2.3.4:5", "9.9.9.9", "h", "GET", "/q"]),
            // A field boundary cannot be moved.
            f.mac(&["a", "1", "1.2.3.4:5", "9.9.9.9", "h\nGET", "", "/p"]),
        ] {
            assert_ne!(base, changed);
        }
        let other = Forwarder::new([8; 32], "a".into());
        assert_ne!(
            base,
            other.mac(&["a", "1", "1.2.3.4:5", "9.9.9.9", "h", "GET", "/p"])
        );
    }
}
