//! One plain-HTTP exchange under inspection: the head is judged before
//! anything is sent upstream, the body in pieces of [`PIECE`] bytes (each
//! forwarded only once the next has passed, the last only once it has
//! passed), then the response is relayed; after a WebSocket upgrade every
//! frame the browser sends is judged ([`super::websocket`]). A blocked
//! request gets a block page and the destination gets nothing more: when the
//! body was larger than one piece, the connection is reset so the server
//! sees an incomplete request, never the rest of it.

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadHalf, WriteHalf};
use tokio::sync::watch;
use tokio::time::timeout;

use super::body::{framing, write_end, write_piece, BodyReader, Framing, Input};
use super::config::ProxyLimits;
use super::conn::Conn;
use super::http1::{self, RequestHead};
use super::inspect::{Inspect, Inspection, Outcome, Outgoing, Part};
use super::page;
use super::relay::Mode;
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

/// Forwards `req` (whose head passed [`judge_head`]) from `browser` (with
/// `pre` read already) to `dest`, judging its body, then relays the answer.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn forward<B: Conn, D: Conn>(
    browser: B,
    pre: Vec<u8>,
    dest: D,
    req: &Request<'_>,
    mut inspection: Box<dyn Inspection>,
    framing: Framing,
    limits: &ProxyLimits,
    shutdown: &mut watch::Receiver<bool>,
) {
    let work = exchange(
        browser,
        pre,
        dest,
        req,
        inspection.as_mut(),
        framing,
        limits,
    );
    tokio::select! {
        () = work => {}
        _ = shutdown.changed() => {}
    }
}

async fn exchange<B: Conn, D: Conn>(
    browser: B,
    pre: Vec<u8>,
    dest: D,
    req: &Request<'_>,
    inspection: &mut dyn Inspection,
    framing: Framing,
    limits: &ProxyLimits,
) {
    let idle = limits.idle_timeout();
    let (br, mut bw) = tokio::io::split(browser);
    let (mut dr, mut dw) = tokio::io::split(dest);
    let headers = match req.upgrade {
        Some(_) => without_extensions(&req.head.headers),
        None => req.head.headers.clone(),
    };
    let head = RequestHead {
        method: req.head.method.clone(),
        target: req.head.target.clone(),
        headers,
    };
    let up_head = http1::upstream_request(&head, req.origin_form, req.host_header, req.upgrade);
    let mut input = Input::new(pre, br, idle);
    let mut body = BodyReader::new(framing);
    // The head goes with the first piece that may leave, so a body blocked
    // in its first piece leaves nothing at all upstream.
    let mut unsent_head = Some(up_head);
    let mut held: Option<Vec<u8>> = None;
    let mut sent_body = false;
    while !body.done() {
        let Ok(piece) = body.piece(&mut input, PIECE).await else {
            return;
        };
        let last = body.done();
        if let Outcome::Block(why) = inspection
            .check(Part::Body {
                bytes: &piece,
                last,
            })
            .await
        {
            if sent_body {
                // The server must see an incomplete request, not a short one.
                if dr.is_pair_of(&dw) {
                    dr.unsplit(dw).reset_on_close();
                }
            }
            let _ = bw.write_all(&page::blocked_by_policy(&why)).await;
            let _ = bw.shutdown().await;
            // Read (and drop) what the browser still sends for a moment, so
            // that closing with unread bytes does not reset the connection
            // before the browser has read the block page.
            let (_, mut br) = input.into_parts();
            let mut sink = vec![0u8; 64 * 1024];
            let _ = timeout(LINGER, async {
                while matches!(br.read(&mut sink).await, Ok(n) if n > 0) {}
            })
            .await;
            return;
        }
        if let Some(h) = held.take() {
            if let Some(head) = unsent_head.take() {
                if !send(&mut dw, &head, idle).await {
                    return;
                }
            }
            if write_piece(&mut dw, framing, &h, idle).await.is_err() {
                return;
            }
            sent_body = true;
        }
        held = Some(piece);
    }
    if let Some(head) = unsent_head.take() {
        if !send(&mut dw, &head, idle).await {
            return;
        }
    }
    if let Some(h) = held.take() {
        if write_piece(&mut dw, framing, &h, idle).await.is_err() {
            return;
        }
    }
    if write_end(&mut dw, framing, idle).await.is_err() {
        return;
    }
    let Some(mode) = super::proxy::forward_response_head(&mut dr, &mut bw, limits).await else {
        return;
    };
    if mode == Mode::Tunnel && req.upgrade.is_some() {
        // Frames from the browser are judged; frames to it flow freely.
        let down = copy_down(&mut dr, &mut bw);
        let up = inspect_frames(&mut input, &mut dw, inspection, PIECE, idle);
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
    // One exchange (`Connection: close`): nothing more goes upstream.
    let _ = timeout(Duration::from_secs(24 * 3600), copy_down(&mut dr, &mut bw)).await;
}

async fn send<W: AsyncWrite + Unpin>(w: &mut W, bytes: &[u8], idle: Duration) -> bool {
    matches!(timeout(idle, w.write_all(bytes)).await, Ok(Ok(())))
}

/// Copies the destination's bytes to the browser until either side ends.
async fn copy_down<D: AsyncRead, B: AsyncWrite>(dr: &mut ReadHalf<D>, bw: &mut WriteHalf<B>) {
    let mut buf = vec![0u8; 32 * 1024];
    loop {
        match dr.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if bw.write_all(&buf[..n]).await.is_err() {
                    break;
                }
            }
        }
    }
    let _ = bw.shutdown().await;
}
