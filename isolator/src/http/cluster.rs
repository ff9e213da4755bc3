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
//!   byte, so reconnects land on the same node wherever they arrive. The
//!   user of a session whose node died is told `node_lost`: once its
//!   heartbeat timed out, and before that as soon as its address refuses
//!   connections (its process is gone; a restarted one holds none of its
//!   old sessions). Otherwise the web client, finding the server up but its
//!   session's socket refused, would call the session expired.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

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

const FWD_BY: &str = "x-isolator-forwarded-by";
const FWD_AT: &str = "x-isolator-forwarded-at";
const FWD_FOR: &str = "x-isolator-forwarded-for";
const FWD_CLIENT: &str = "x-isolator-forwarded-client";
const FWD_HOST: &str = "x-isolator-forwarded-host";
const FWD_MAC: &str = "x-isolator-forwarded-mac";
const FWD_HEADERS: [&str; 6] = [FWD_BY, FWD_AT, FWD_FOR, FWD_CLIENT, FWD_HOST, FWD_MAC];

/// How old a forwarded request may be (clocks of nodes are NTP-synced).
const MAX_AGE_MS: i64 = 30_000;

/// Marks a request another node forwarded, verified.
#[derive(Clone, Copy, Debug)]
pub struct Forwarded;

/// Forwards requests to other nodes; see the module docs.
pub struct Forwarder {
    client: Client<HttpConnector, Body>,
    secret: [u8; 32],
    node_id: String,
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
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(Duration::from_secs(3)));
        connector.set_nodelay(true);
        Forwarder {
            client: Client::builder(TokioExecutor::new()).build(connector),
            secret,
            node_id,
        }
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
    /// nothing listens at its address.
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
            Err(e) if connection_refused(&e) => {
                tracing::warn!(node = %base, "nothing listens where the node holding the session was: it is gone");
                if let Some(upgrade) = upgrade {
                    parts.extensions.insert(upgrade);
                }
                return Err(NodeGone(Request::from_parts(parts, Body::empty())));
            }
            Err(e) => {
                tracing::warn!(node = %base, error = %e, "forwarding to the node holding the session failed");
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

/// A forwarded request whose node refused the connection: its process is
/// gone (a node that restarts holds none of its old sessions), though its
/// heartbeat has not timed out yet. Holds the request (without its body)
/// so it can be answered here.
struct NodeGone(Request);

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
    if let Some(id) = session_id(req.uri().path()) {
        if state.sessions.get(id).is_some() {
            return next.run(req).await;
        }
        return match registry.locate(id).await {
            Ok(Some((node, owner))) if node.alive && node.id != registry.node_id() => {
                match forwarder.forward(&node.url, req, peer).await {
                    Ok(answer) => answer,
                    // Killed before its heartbeat timed out: the same answer.
                    Err(NodeGone(req)) => lost(&state, req, peer, &owner, next).await,
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
        match registry.least_loaded().await {
            Ok(Some(node)) if node.id != registry.node_id() => {
                return match forwarder.forward(&node.url, req, peer).await {
                    Ok(answer) => answer,
                    Err(NodeGone(_)) => unreachable_node("it does not answer"),
                };
            }
            Ok(None) if registry.draining() => {
                return api_error(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "draining",
                    "This server is being drained and no other has room. Try again in a minute.",
                );
            }
            // This node, or the registry unreachable: start it here.
            _ => {}
        }
    }
    next.run(req).await
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
        let Err(NodeGone(back)) = f.forward(&base, a_ws_request(), PEER).await else {
            panic!("a refused connection means the node is gone");
        };
        assert_eq!(back.uri().path(), "/api/sessions/abc/ws");
        assert_eq!(back.headers()["cookie"], "isolator_login=x");
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
