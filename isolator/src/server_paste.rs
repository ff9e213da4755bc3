//! The HTTP side of image paste.
//!
//! `POST /api/sessions/{id}/paste-image?name=<file name>`: the image's raw
//! bytes as the body, authenticated like uploads (session token in
//! `X-Isolator-Token`, CSRF header `X-Isolator-Request`). Images go over HTTP
//! rather than the session socket because a screenshot can exceed the
//! socket's 4 MiB message cap and must not hold up frames and input.
//!
//! The session is asked first whether an image paste may start (a
//! `paste = block` policy refuses before the body is read) and how large it
//! may be (`enforce.max_paste_image_bytes`, lowered by the policy's paste
//! cap). The body is then read into memory with that limit checked while it
//! arrives (a declared `Content-Length` over it is refused before reading),
//! checked (OCR under the `paste` decision) and, when allowed, pasted into
//! the focused element of the page. Nothing is written to disk. A refusal
//! before the body (`paste = block`) still reads and discards it, so the
//! browser gets the answer instead of a reset connection. Answer:
//! `200 {"allowed": bool, "message": "..."}`; `413 too_large`,
//! `400 paste_failed` (broke off, stalled), `404 no_session`.

use std::net::SocketAddr;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use futures::StreamExt;
use serde::Deserialize;
use tokio::sync::oneshot;

use crate::server::{api_error, owned_session, AppState, NotOwned};
use crate::session::files::clean_name;
use crate::session::paste_image::{ImagePasteCmd, PasteAnswer};
use crate::session::SessionCmd;

/// How long a paste may go without receiving a byte.
const STALL: Duration = Duration::from_secs(30);

/// The image paste route.
pub fn routes() -> Router<AppState> {
    Router::new().route(
        "/api/sessions/{id}/paste-image",
        post(paste_image).layer(DefaultBodyLimit::disable()),
    )
}

#[derive(Deserialize)]
struct PasteQuery {
    #[serde(default)]
    name: String,
}

/// Why a body was not received whole.
#[derive(Debug, PartialEq)]
enum Receive {
    TooLarge(u64),
    Failed(String, u64),
}

/// Reads `body` into memory, at most `limit` bytes.
async fn receive(body: Body, limit: u64) -> Result<Vec<u8>, Receive> {
    let mut stream = body.into_data_stream();
    let mut bytes = Vec::new();
    loop {
        let chunk = match tokio::time::timeout(STALL, stream.next()).await {
            Err(_) => {
                return Err(Receive::Failed(
                    "the image stalled on its way".into(),
                    bytes.len() as u64,
                ))
            }
            Ok(None) => return Ok(bytes),
            Ok(Some(Err(e))) => {
                return Err(Receive::Failed(
                    format!("the image broke off on its way ({e})"),
                    bytes.len() as u64,
                ))
            }
            Ok(Some(Ok(c))) => c,
        };
        let size = (bytes.len() + chunk.len()) as u64;
        if size > limit {
            return Err(Receive::TooLarge(size));
        }
        bytes.extend_from_slice(&chunk);
    }
}

/// Reads and discards `body`, at most `limit` bytes; `false` when it was
/// cut short (over the limit, broken, stalled).
async fn drain(body: Body, limit: u64) -> bool {
    let mut stream = body.into_data_stream();
    let mut size = 0u64;
    loop {
        match tokio::time::timeout(STALL, stream.next()).await {
            Ok(None) => return true,
            Ok(Some(Ok(c))) => {
                size += c.len() as u64;
                if size > limit {
                    return false;
                }
            }
            Ok(Some(Err(_))) | Err(_) => return false,
        }
    }
}

/// The name the page sees: the client's, cleaned; browsers call clipboard
/// images `image.png`.
fn paste_name(name: &str) -> String {
    if name.trim().is_empty() {
        "image.png".into()
    } else {
        clean_name(name)
    }
}

async fn paste_image(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<PasteQuery>,
    body: Body,
) -> Response {
    let handle = match owned_session(&state, &headers, peer, &id) {
        Ok(h) => h,
        Err(refused) => return refused.into_response(),
    };
    let gone = || NotOwned::NoSession.into_response();
    let name = paste_name(&q.name);
    let (tx, rx) = oneshot::channel();
    let begin = ImagePasteCmd::Begin { reply: tx };
    if !handle.send(SessionCmd::PasteImage(begin)).await {
        return gone();
    }
    let ticket = match rx.await {
        Ok(Ok(t)) => t,
        Ok(Err(refusal)) => {
            // Decided and recorded already; the body is read (not kept) so
            // the browser sees the answer rather than a reset connection.
            let cap = state.config.enforce.max_paste_image_bytes;
            let _ = drain(body, cap).await;
            return Json(refusal).into_response();
        }
        Err(_) => return gone(),
    };
    let too_large = format!(
        "the image is larger than the {} bytes allowed for a paste here",
        ticket.limit
    );
    let refuse = |size: u64, reason: String| {
        SessionCmd::PasteImage(ImagePasteCmd::Refused {
            ticket: ticket.clone(),
            name: name.clone(),
            size,
            reason,
        })
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if let Some(len) = declared.filter(|l| *l > ticket.limit) {
        handle.send(refuse(len, too_large.clone())).await;
        return api_error(StatusCode::PAYLOAD_TOO_LARGE, "too_large", &too_large);
    }
    let bytes = match receive(body, ticket.limit).await {
        Ok(b) => b,
        Err(Receive::TooLarge(size)) => {
            handle.send(refuse(size, too_large.clone())).await;
            return api_error(StatusCode::PAYLOAD_TOO_LARGE, "too_large", &too_large);
        }
        Err(Receive::Failed(reason, size)) => {
            handle.send(refuse(size, reason.clone())).await;
            return api_error(StatusCode::BAD_REQUEST, "paste_failed", &reason);
        }
    };
    let (tx, rx) = oneshot::channel();
    let received = ImagePasteCmd::Received {
        ticket,
        name,
        bytes,
        reply: tx,
    };
    if !handle.send(SessionCmd::PasteImage(received)).await {
        return gone();
    }
    match rx.await {
        Ok(answer) => Json::<PasteAnswer>(answer).into_response(),
        Err(_) => gone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(chunks: Vec<Result<Vec<u8>, std::io::Error>>) -> Body {
        Body::from_stream(futures::stream::iter(chunks))
    }

    #[tokio::test]
    async fn a_whole_image_is_received() {
        let b = body(vec![Ok(b"\x89PNG".to_vec()), Ok(b"rest".to_vec())]);
        assert_eq!(receive(b, 8).await, Ok(b"\x89PNGrest".to_vec()));
    }

    #[tokio::test]
    async fn an_image_over_the_limit_is_refused_when_it_crosses_it() {
        let b = body(vec![Ok(vec![1; 600]), Ok(vec![2; 600]), Ok(vec![3; 600])]);
        assert_eq!(receive(b, 1000).await, Err(Receive::TooLarge(1200)));
    }

    #[tokio::test]
    async fn a_dropped_image_names_the_break() {
        let gone = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "gone");
        let b = body(vec![Ok(vec![1; 100]), Err(gone)]);
        match receive(b, 1000).await {
            Err(Receive::Failed(why, 100)) => assert!(why.contains("broke off"), "{why}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn clipboard_images_get_a_name() {
        assert_eq!(paste_name(""), "image.png");
        assert_eq!(paste_name("../shot.png"), "shot.png");
        assert_eq!(paste_name("a\nb.jpg"), "ab.jpg");
    }
}
