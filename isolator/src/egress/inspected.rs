//! One plain-HTTP exchange under inspection: the head is judged before
//! anything is sent upstream, the body in pieces of [`PIECE`] bytes (each
//! forwarded only once the next has passed, the last only once it has
//! passed), then the response is relayed; after a WebSocket upgrade every
//! frame the browser sends is judged ([`super::websocket`]). A blocked
//! request gets a block page and the destination gets nothing more: when the
//! body was larger than one piece, the connection is reset so the server
//! sees an incomplete request, never the rest of it.

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::watch;
use tokio::time::timeout;

use super::body::{framing, write_end, write_piece, BodyReader, Framing, Input};
use super::config::ProxyLimits;
use super::conn::Conn;
use super::http1::{self, RequestHead};
use super::inspect::{Inspect, Inspection, Outcome, Outgoing, Part};
use super::page;
use super::websocket::{inspect_frames, without_extensions, Stop};

/// The largest piece of a body or frame judged at once.
pub const PIECE: usize = 1 << 20;

/// How long the rest of a blocked body is read and dropped before the
/// browser's connection is closed.
const LINGER: Duration = Duration::from_secs(2);

/// A request about to be forwarded.
pub(crate) struct Request<'a> {
    /// The parsed head from the browser.
    pub head: &'a RequestHead,
    /// The absolute URL (what the inspector judges).
    pub url: String,
    /// The origin-form target sent upstream.
    pub origin_form: &'a str,
    /// The `Host` sent upstream.
    pub host_header: &'a str,
    /// The WebSocket upgrade asked for.
    pub upgrade: Option<&'a [u8]>,
}

/// Starts the inspection of `req` and judges its head. `Err` holds the
/// response the browser gets instead (a block page, or 400 for a body
/// whose framing is refused).
pub(crate) async fn judge_head(
    inspector: &dyn Inspect,
    req: &Request<'_>,
) -> Result<(Box<dyn Inspection>, Framing), Vec<u8>> {
    let framing = framing(&req.head.headers).map_err(|e| page::bad_request(&e))?;
    let out = Outgoing {
        method: req.head.method.clone(),
        url: req.url.clone(),
        headers: req.head.headers.clone(),
        websocket: req.upgrade.is_some(),
    };
    let mut inspection = inspector.start(&out);
    match inspection.check(Part::Head).await {
        Outcome::Pass => Ok((inspection, framing)),
        Outcome::Block(why) => Err(page::blocked_by_policy(&why)),
    }
}

/// More requests that may follow on the same tunnel: judged under
/// `origin` (scheme and authority), sent with `Host: authority`.
pub(crate) struct Next<'a> {
    /// Judges each request.
    pub inspector: &'a dyn Inspect,
    /// `https://host[:port]` or `http://host:port`.
    pub origin: &'a str,
    /// The `Host` sent upstream.
    pub authority: &'a str,
}

/// Forwards `req` (whose head passed [`judge_head`]) from `browser` (with
/// `pre` read already) to `dest`, judging its body, then relays the answer.
/// With `next` (a tunnel, bound to one destination) the connection stays
/// open: each response is relayed to the end its framing announces, then
/// the browser's next request is read, judged and forwarded the same way.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn forward<B: Conn, D: Conn>(
    browser: B,
    pre: Vec<u8>,
    dest: D,
    req: &Request<'_>,
    inspection: Box<dyn Inspection>,
    framing: Framing,
    next: Option<Next<'_>>,
    limits: &ProxyLimits,
    shutdown: &mut watch::Receiver<bool>,
) {
    let work = exchanges(browser, pre, dest, req, inspection, framing, next, limits);
    tokio::select! {
        () = work => {}
        _ = shutdown.changed() => {}
    }
}

/// How one exchange ended.
enum After {
    /// The connection may carry another request.
    Reuse,
    /// The connection is done (closed, upgraded and ended, or failed).
    Done,
}

#[allow(clippy::too_many_arguments)]
async fn exchanges<B: Conn, D: Conn>(
    browser: B,
    pre: Vec<u8>,
    dest: D,
    first: &Request<'_>,
    mut inspection: Box<dyn Inspection>,
    mut framing: Framing,
    next: Option<Next<'_>>,
    limits: &ProxyLimits,
) {
    let idle = limits.idle_timeout();
    let (br, mut bw) = tokio::io::split(browser);
    let (dr, mut dw) = tokio::io::split(dest);
    let mut input = Input::new(pre, br, idle);
    let mut din = Input::new(Vec::new(), dr, idle);
    let mut owned: Option<(RequestHead, String, Option<Vec<u8>>)> = None;
    loop {
        let later;
        let req = match &owned {
            None => first,
            Some((head, url, upgrade)) => {
                later = Request {
                    head,
                    url: url.clone(),
                    origin_form: &head.target,
                    host_header: next.as_ref().map_or(first.host_header, |n| n.authority),
                    upgrade: upgrade.as_deref(),
                };
                &later
            }
        };
        let keep =
            next.is_some() && req.upgrade.is_none() && !http1::wants_close(&req.head.headers);
        let sent = send_request(
            &mut input,
            &mut dw,
            req,
            inspection.as_mut(),
            framing,
            keep,
            idle,
        )
        .await;
        match sent {
            Sent::Whole => {}
            Sent::Failed => return,
            Sent::Blocked { why, partly } => {
                if partly {
                    // The server must see an incomplete request, not a short one.
                    let (_, dr) = din.into_parts();
                    if dr.is_pair_of(&dw) {
                        dr.unsplit(dw).reset_on_close();
                    }
                }
                block(input, &mut bw, &why).await;
                return;
            }
        }
        let after = relay_response(&mut din, &mut bw, req, keep, limits).await;
        match after {
            Some(Response::Upgraded) => {
                // Frames from the browser are judged; frames to it flow freely.
                let down = async {
                    let _ = din.copy_rest(&mut bw).await;
                    let _ = bw.shutdown().await;
                };
                let up = inspect_frames(&mut input, &mut dw, inspection.as_mut(), PIECE, idle);
                tokio::pin!(down, up);
                tokio::select! {
                    () = &mut down => {}
                    stop = &mut up => {
                        if let Stop::Protocol(why) = stop {
                            tracing::debug!(why, "websocket closed");
                        }
                    }
                }
                return;
            }
            Some(Response::Relayed(After::Reuse)) => {}
            Some(Response::Relayed(After::Done)) | None => {
                let _ = bw.shutdown().await;
                return;
            }
        }
        // The browser's next request on this tunnel.
        let Some(n) = &next else {
            return;
        };
        let Ok(Some(bytes)) = input.head(limits.max_header_bytes).await else {
            return;
        };
        let Ok(head) = http1::parse_request(&bytes, limits.max_headers) else {
            let _ = bw.write_all(page::status_only(400)).await;
            return;
        };
        if !head.target.starts_with('/') {
            let _ = bw.write_all(page::status_only(400)).await;
            return;
        }
        let upgrade = http1::websocket_upgrade(&head.headers);
        let url = format!("{}{}", n.origin, head.target);
        let candidate = Request {
            head: &head,
            url: url.clone(),
            origin_form: &head.target,
            host_header: n.authority,
            upgrade: upgrade.as_deref(),
        };
        match judge_head(n.inspector, &candidate).await {
            Ok((i, f)) => {
                inspection = i;
                framing = f;
            }
            Err(response) => {
                let _ = bw.write_all(&response).await;
                let _ = bw.shutdown().await;
                return;
            }
        }
        owned = Some((head, url, upgrade));
    }
}

/// How sending a request ended.
enum Sent {
    /// Head and whole body are upstream.
    Whole,
    /// The inspector blocked it; `partly`: some body had left already.
    Blocked { why: String, partly: bool },
    /// A side failed.
    Failed,
}

/// Sends the head with the first piece that may leave, then each body piece
/// once the next has passed, so a body blocked in its first piece leaves
/// nothing at all upstream.
async fn send_request<R, W>(
    input: &mut Input<R>,
    dw: &mut W,
    req: &Request<'_>,
    inspection: &mut dyn Inspection,
    framing: Framing,
    keep: bool,
    idle: Duration,
) -> Sent
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let headers = match req.upgrade {
        Some(_) => without_extensions(&req.head.headers),
        None => req.head.headers.clone(),
    };
    let head = RequestHead {
        method: req.head.method.clone(),
        target: req.head.target.clone(),
        headers,
    };
    let up_head =
        http1::upstream_request(&head, req.origin_form, req.host_header, req.upgrade, keep);
    let mut body = BodyReader::new(framing);
    let mut unsent_head = Some(up_head);
    let mut held: Option<Vec<u8>> = None;
    let mut sent_body = false;
    while !body.done() {
        let Ok(piece) = body.piece(input, PIECE).await else {
            return Sent::Failed;
        };
        let last = body.done();
        if let Outcome::Block(why) = inspection
            .check(Part::Body {
                bytes: &piece,
                last,
            })
            .await
        {
            return Sent::Blocked {
                why,
                partly: sent_body,
            };
        }
        if let Some(h) = held.take() {
            if let Some(head) = unsent_head.take() {
                if !send(dw, &head, idle).await {
                    return Sent::Failed;
                }
            }
            if write_piece(dw, framing, &h, idle).await.is_err() {
                return Sent::Failed;
            }
            sent_body = true;
        }
        held = Some(piece);
    }
    if let Some(head) = unsent_head.take() {
        if !send(dw, &head, idle).await {
            return Sent::Failed;
        }
    }
    if let Some(h) = held.take() {
        if write_piece(dw, framing, &h, idle).await.is_err() {
            return Sent::Failed;
        }
    }
    if write_end(dw, framing, idle).await.is_err() {
        return Sent::Failed;
    }
    Sent::Whole
}

/// The browser gets the block page; what it still sends is read and dropped
/// for a moment, so that closing with unread bytes does not reset the
/// connection before the browser has read the page.
async fn block<R, W>(input: Input<R>, bw: &mut W, why: &str)
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let _ = bw.write_all(&page::blocked_by_policy(why)).await;
    let _ = bw.shutdown().await;
    let (_, mut br) = input.into_parts();
    let mut sink = vec![0u8; 64 * 1024];
    let _ = timeout(LINGER, async {
        while matches!(br.read(&mut sink).await, Ok(n) if n > 0) {}
    })
    .await;
}

/// What the destination answered.
enum Response {
    /// A 101 to a WebSocket upgrade: the connection is now a socket.
    Upgraded,
    /// A response, relayed to its end.
    Relayed(After),
}

/// Reads the destination's response head(s), forwards interim 1xx heads
/// verbatim and the final one rewritten, then its body: to the end its
/// framing announces when the connection is `keep`, else to the close.
async fn relay_response<R, W>(
    din: &mut Input<R>,
    bw: &mut W,
    req: &Request<'_>,
    keep: bool,
    limits: &ProxyLimits,
) -> Option<Response>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let idle = limits.idle_timeout();
    loop {
        let head = match din.head(limits.max_header_bytes).await {
            Ok(Some(h)) => h,
            _ => {
                let _ = bw.write_all(page::status_only(502)).await;
                return None;
            }
        };
        let Ok(resp) = http1::parse_response(&head, limits.max_headers) else {
            let _ = bw.write_all(page::status_only(502)).await;
            return None;
        };
        if (100..200).contains(&resp.code) && resp.code != 101 {
            if bw.write_all(&head).await.is_err() {
                return None;
            }
            continue;
        }
        if resp.code == 101 {
            if req.upgrade.is_none()
                || bw
                    .write_all(&http1::downstream_response(&resp))
                    .await
                    .is_err()
            {
                return None;
            }
            return Some(Response::Upgraded);
        }
        let framing = http1::response_framing(&req.head.method, &resp);
        let reuse = keep && framing.is_some() && !http1::wants_close(&resp.headers);
        let out = http1::downstream_response_kept(&resp, reuse);
        if bw.write_all(&out).await.is_err() {
            return None;
        }
        match framing.filter(|_| reuse) {
            Some(f) => {
                let mut body = BodyReader::new(f);
                while !body.done() {
                    let Ok(piece) = body.piece(din, 64 * 1024).await else {
                        return None;
                    };
                    if write_piece(bw, f, &piece, idle).await.is_err() {
                        return None;
                    }
                }
                if write_end(bw, f, idle).await.is_err() {
                    return None;
                }
                return Some(Response::Relayed(After::Reuse));
            }
            None => {
                // To the close (at most a day; idle timeouts apply per read).
                let _ = timeout(Duration::from_secs(24 * 3600), din.copy_rest(bw)).await;
                return Some(Response::Relayed(After::Done));
            }
        }
    }
}

async fn send<W: AsyncWrite + Unpin>(w: &mut W, bytes: &[u8], idle: Duration) -> bool {
    matches!(timeout(idle, w.write_all(bytes)).await, Ok(Ok(())))
}
