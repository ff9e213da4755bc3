//! The HTTP side of the upload and download gates.
//!
//! - `POST /api/sessions/{id}/uploads?chooser=<id>&name=<file name>`: the raw
//!   file bytes as the body (session token in `X-Isolator-Token`, CSRF header
//!   `X-Isolator-Request`). The body is streamed to the session's private
//!   directory with the size limit checked while it arrives (a declared
//!   `Content-Length` over the limit is refused before reading); a body that
//!   goes over the limit, stalls or drops leaves no file behind. The session
//!   then scans it under the `upload` decision and answers
//!   `200 {"allowed": bool, "message": "..."}`.
//!   At most `enforce.max_transfers_per_user` transfers of one user and
//!   `enforce.max_transfers` on the server are in progress at once: beyond
//!   them the upload is refused with `429 busy` before its body is read.
//! - `GET /api/sessions/{id}/downloads/{dl}`: a file the download gate
//!   allowed, as an attachment (session token in `X-Isolator-Token`).

use std::net::SocketAddr;
use std::path::Path as FsPath;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures::StreamExt;
use serde::Deserialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::oneshot;

use crate::http::extract::{no_session, owned_session};
use crate::http::{api_error, AppState};
use crate::session::files::{clean_name, FilesCmd};
use crate::session::SessionCmd;

/// How long an upload may go without receiving a byte.
const STALL: Duration = Duration::from_secs(60);

/// The upload and download routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/sessions/{id}/uploads",
            post(upload).layer(DefaultBodyLimit::disable()),
        )
        .route("/api/sessions/{id}/downloads/{dl}", get(download))
}

#[derive(Deserialize)]
struct UploadQuery {
    chooser: u64,
    #[serde(default)]
    name: String,
}

/// Why an upload body was not received whole.
#[derive(Debug, PartialEq)]
pub(crate) enum Receive {
    /// It went over the limit (reading stopped there).
    TooLarge,
    /// It broke off, stalled or could not be stored: why.
    Failed(String),
}

/// Streams `body` into a new file at `path` (0600), at most `limit` bytes:
/// reading stops at the chunk that crosses the limit, so only one chunk is
/// ever in memory. `what` names the body in the reasons ("upload",
/// "image"); `stall` is how long it may go without a byte. On any failure
/// the file is removed.
pub(crate) async fn receive_to_file(
    body: Body,
    path: &FsPath,
    limit: u64,
    what: &str,
    stall: Duration,
) -> Result<u64, (Receive, u64)> {
    let mut file = match tokio::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .await
    {
        Ok(f) => f,
        Err(e) => return Err((Receive::Failed(format!("cannot store the file ({e})")), 0)),
    };
    let mut stream = body.into_data_stream();
    let mut size = 0u64;
    let result = loop {
        let chunk = match tokio::time::timeout(stall, stream.next()).await {
            Err(_) => break Err(Receive::Failed(format!("the {what} stalled"))),
            Ok(None) => break Ok(()),
            Ok(Some(Err(e))) => break Err(Receive::Failed(format!("the {what} broke off ({e})"))),
            Ok(Some(Ok(c))) => c,
        };
        size += chunk.len() as u64;
        if size > limit {
            break Err(Receive::TooLarge);
        }
        if let Err(e) = file.write_all(&chunk).await {
            break Err(Receive::Failed(format!("cannot store the file ({e})")));
        }
    };
    let result = match result {
        Ok(()) => file
            .flush()
            .await
            .map_err(|e| Receive::Failed(format!("cannot store the file ({e})"))),
        Err(e) => Err(e),
    };
    drop(file);
    match result {
        Ok(()) => Ok(size),
        Err(e) => {
            let _ = tokio::fs::remove_file(path).await;
            Err((e, size))
        }
    }
}

/// Reads and discards `body`, at most `limit` bytes; `false` when it was
/// cut short (over the limit, broken, stalled).
pub(crate) async fn drain(body: Body, limit: u64, stall: Duration) -> bool {
    let mut stream = body.into_data_stream();
    let mut size = 0u64;
    loop {
        match tokio::time::timeout(stall, stream.next()).await {
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

async fn upload(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<UploadQuery>,
    body: Body,
) -> Response {
    let handle = match owned_session(&state, &headers, peer, &id) {
        Ok(h) => h,
        Err(refused) => return refused.into_response(),
    };
    let gone = || no_session().into_response();
    let name = clean_name(&q.name);
    // Held until the gate has answered.
    let _permit = match state.enforcer.transfers().try_begin(&handle.user.name) {
        Ok(p) => p,
        Err(why) => {
            let message = format!("The upload was refused: {why}.");
            handle
                .send(SessionCmd::UploadRefused {
                    chooser: q.chooser,
                    name: name.clone(),
                    size: 0,
                    reason: why,
                })
                .await;
            // Read (not kept) so the browser sees the answer rather than a
            // reset connection.
            drain(body, state.config.enforce.max_upload_bytes, STALL).await;
            return api_error(StatusCode::TOO_MANY_REQUESTS, "busy", &message);
        }
    };
    let (tx, rx) = oneshot::channel();
    let begin = FilesCmd::BeginUpload {
        chooser: q.chooser,
        reply: tx,
    };
    if !handle.send(SessionCmd::Files(begin)).await {
        return gone();
    }
    let ticket = match rx.await {
        Ok(Ok(t)) => t,
        Ok(Err(message)) => return api_error(StatusCode::CONFLICT, "no_chooser", &message),
        Err(_) => return gone(),
    };
    let refuse = |size: u64, reason: String| SessionCmd::UploadRefused {
        chooser: q.chooser,
        name: name.clone(),
        size,
        reason,
    };
    let too_large = format!(
        "the file is larger than the {} bytes allowed here",
        ticket.limit
    );
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if let Some(len) = declared.filter(|l| *l > ticket.limit) {
        handle.send(refuse(len, too_large.clone())).await;
        return api_error(StatusCode::PAYLOAD_TOO_LARGE, "too_large", &too_large);
    }
    let size = match receive_to_file(body, &ticket.path, ticket.limit, "upload", STALL).await {
        Ok(size) => size,
        Err((Receive::TooLarge, size)) => {
            handle.send(refuse(size, too_large.clone())).await;
            return api_error(StatusCode::PAYLOAD_TOO_LARGE, "too_large", &too_large);
        }
        Err((Receive::Failed(reason), size)) => {
            handle.send(refuse(size, reason.clone())).await;
            return api_error(StatusCode::BAD_REQUEST, "upload_failed", &reason);
        }
    };
    let (tx, rx) = oneshot::channel();
    let uploaded = FilesCmd::Uploaded {
        chooser: q.chooser,
        name,
        path: ticket.path.clone(),
        size,
        reply: tx,
    };
    if !handle.send(SessionCmd::Files(uploaded)).await {
        let _ = tokio::fs::remove_file(&ticket.path).await;
        return gone();
    }
    match rx.await {
        Ok(answer) => Json(answer).into_response(),
        Err(_) => {
            let _ = tokio::fs::remove_file(&ticket.path).await;
            gone()
        }
    }
}

/// `attachment; filename="ascii"; filename*=UTF-8''percent-encoded`.
fn content_disposition(name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| {
            if (c.is_ascii_graphic() && c != '"' && c != '\\') || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            encoded.push(b as char);
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

async fn download(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path((id, dl)): Path<(String, u64)>,
) -> Response {
    let handle = match owned_session(&state, &headers, peer, &id) {
        Ok(h) => h,
        Err(refused) => return refused.into_response(),
    };
    let (tx, rx) = oneshot::channel();
    let missing = || {
        api_error(
            StatusCode::NOT_FOUND,
            "no_download",
            "this download is not available",
        )
    };
    if !handle
        .send(SessionCmd::Files(FilesCmd::Download { id: dl, reply: tx }))
        .await
    {
        return missing();
    }
    let Ok(Some((path, name))) = rx.await else {
        return missing();
    };
    let file = match tokio::fs::File::open(&path).await {
        Ok(f) => f,
        Err(_) => return missing(),
    };
    let len = file.metadata().await.map(|m| m.len()).unwrap_or(0);
    let stream = futures::stream::unfold(file, |mut f| async move {
        let mut buf = vec![0u8; 64 * 1024];
        match f.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok::<_, std::io::Error>(axum::body::Bytes::from(buf)), f))
            }
            Err(e) => Some((Err(e), f)),
        }
    });
    (
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_owned()),
            (header::CONTENT_DISPOSITION, content_disposition(&name)),
            (header::CONTENT_LENGTH, len.to_string()),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        Body::from_stream(stream),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disposition_is_safe_and_keeps_the_name() {
        assert_eq!(
            content_disposition("a b.pdf"),
            "attachment; filename=\"a b.pdf\"; filename*=UTF-8''a%20b.pdf"
        );
        let d = content_disposition("r\u{e9}sum\u{e9}\".txt");
        assert!(d.starts_with("attachment; filename=\"r_sum__.txt\""), "{d}");
        assert!(d.ends_with("r%C3%A9sum%C3%A9%22.txt"), "{d}");
    }

    #[tokio::test]
    async fn an_upload_over_the_limit_leaves_no_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let chunks: Vec<Result<Vec<u8>, std::io::Error>> = vec![Ok(vec![1; 600]), Ok(vec![2; 600])];
        let body = Body::from_stream(futures::stream::iter(chunks));
        let r = receive_to_file(body, &path, 1000, "upload", STALL).await;
        assert_eq!(r, Err((Receive::TooLarge, 1200)));
        assert!(!path.exists());
    }

    #[tokio::test]
    async fn a_dropped_upload_leaves_no_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let chunks: Vec<Result<Vec<u8>, std::io::Error>> = vec![
            Ok(vec![1; 100]),
            Err(std::io::Error::new(
                std::io::ErrorKind::ConnectionReset,
                "gone",
            )),
        ];
        let body = Body::from_stream(futures::stream::iter(chunks));
        let r = receive_to_file(body, &path, 1000, "upload", STALL).await;
        assert!(matches!(r, Err((Receive::Failed(_), 100))), "{r:?}");
        assert!(!path.exists());
    }

    #[tokio::test]
    async fn a_whole_upload_is_kept_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
            vec![Ok(b"hello ".to_vec()), Ok(b"world".to_vec())];
        let body = Body::from_stream(futures::stream::iter(chunks));
        assert_eq!(
            receive_to_file(body, &path, 11, "upload", STALL).await,
            Ok(11)
        );
        assert_eq!(std::fs::read(&path).unwrap(), b"hello world");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
}
