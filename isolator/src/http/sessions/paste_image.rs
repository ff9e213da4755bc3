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
//! cap). The body is then streamed into a private file of the session with
//! that limit checked while it arrives (a declared `Content-Length` over it
//! is refused before reading; reading stops at the chunk that crosses it),
//! checked (OCR under the `paste` decision) and, when allowed, pasted into
//! the focused element of the page in chunks; the file is deleted either
//! way (see [`crate::session::paste_image`]). At most
//! `enforce.max_transfers_per_user` transfers of one user and
//! `enforce.max_transfers` on the server are in progress at once; beyond
//! them the paste is refused (`429 busy`). A refusal before the body
//! (`paste = block`, busy) still reads and discards it, so the browser gets
//! the answer instead of a reset connection. Answer:
//! `200 {"allowed": bool, "message": "..."}`; `413 too_large`,
//! `429 busy`, `400 paste_failed` (broke off, stalled), `404 no_session`.

use std::net::SocketAddr;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use tokio::sync::oneshot;

use crate::http::extract::{no_session, owned_session};
use crate::http::sessions::files::{drain, receive_to_file, Receive};
use crate::http::{api_error, AppState};
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
    let gone = || no_session().into_response();
    let name = paste_name(&q.name);
    let cap = state.config.enforce.max_paste_image_bytes;
    // Held until the gate has answered (the image is delivered or refused).
    let _permit = match state.enforcer.transfers().try_begin(&handle.user.name) {
        Ok(p) => p,
        Err(why) => {
            drain(body, cap, STALL).await;
            let message = format!("too many images at once: {why}");
            return api_error(StatusCode::TOO_MANY_REQUESTS, "busy", &message);
        }
    };
    let (tx, rx) = oneshot::channel();
    let begin = ImagePasteCmd::Begin { reply: tx };
    if !handle.send(SessionCmd::PasteImage(Box::new(begin))).await {
        return gone();
    }
    let ticket = match rx.await {
        Ok(Ok(t)) => t,
        Ok(Err(refusal)) => {
            // Decided and recorded already; the body is read (not kept) so
            // the browser sees the answer rather than a reset connection.
            drain(body, cap, STALL).await;
            return Json(refusal).into_response();
        }
        Err(_) => return gone(),
    };
    let too_large = format!(
        "the image is larger than the {} bytes allowed for a paste here",
        ticket.limit
    );
    let refuse = |size: u64, reason: String| {
        SessionCmd::PasteImage(Box::new(ImagePasteCmd::Refused {
            ticket: ticket.clone(),
            name: name.clone(),
            size,
            reason,
        }))
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if let Some(len) = declared.filter(|l| *l > ticket.limit) {
        handle.send(refuse(len, too_large.clone())).await;
        return api_error(StatusCode::PAYLOAD_TOO_LARGE, "too_large", &too_large);
    }
    let size = match receive_to_file(body, &ticket.path, ticket.limit, "image", STALL).await {
        Ok(size) => size,
        Err((Receive::TooLarge, size)) => {
            handle.send(refuse(size, too_large.clone())).await;
            return api_error(StatusCode::PAYLOAD_TOO_LARGE, "too_large", &too_large);
        }
        Err((Receive::Failed(reason), size)) => {
            handle.send(refuse(size, reason.clone())).await;
            return api_error(StatusCode::BAD_REQUEST, "paste_failed", &reason);
        }
    };
    let (tx, rx) = oneshot::channel();
    let path = ticket.path.clone();
    let received = ImagePasteCmd::Received {
        ticket,
        name,
        size,
        reply: tx,
    };
    if !handle
        .send(SessionCmd::PasteImage(Box::new(received)))
        .await
    {
        let _ = tokio::fs::remove_file(&path).await;
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

    #[test]
    fn clipboard_images_get_a_name() {
        assert_eq!(paste_name(""), "image.png");
        assert_eq!(paste_name("../shot.png"), "shot.png");
        assert_eq!(paste_name("a\nb.jpg"), "ab.jpg");
    }
}
