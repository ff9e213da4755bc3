//! Test pages and sinks for the egress scan (under `/eg/`): a blank base
//! page the tests run their page scripts in, a page with a Content Security
//! Policy that reports violations, sinks that record what arrives (any
//! method, an event stream, a WebSocket, and a streaming sink for large
//! bodies), all recorded in the site's log. Paths under `/eg/open/` are
//! where the tests' policies allow everything.

use axum::body::Body;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{OriginalUri, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::Router;
use futures::StreamExt;

use crate::site::{Log, Recorded};

/// The routes, merged into the test site.
pub fn routes() -> Router<Log> {
    Router::new()
        .route("/eg/base", get(base))
        .route("/eg/csp/{which}", get(csp_page))
        .route("/eg/sink", any(sink))
        .route("/eg/open/sink", any(sink))
        .route("/eg/sse", get(sse))
        .route("/eg/ws", get(ws))
        .route("/eg/open/ws", get(ws))
        .route("/eg/sw.js", get(service_worker))
        .route("/eg/big", post(big))
        .route("/eg/open/big", post(big))
}

async fn base() -> Html<&'static str> {
    Html("<!doctype html><html><head><meta charset=utf-8><title>Egress base</title></head><body><p>base</p></body></html>")
}

/// A page whose policy forbids inline scripts and reports the violation
/// (with a sample of the refused script) to `/eg/sink?case=csp-<which>`.
async fn csp_page(axum::extract::Path(which): axum::extract::Path<String>) -> Response {
    let sample = if which == "card" {
        "/*4111 1111 1111 1111*/"
    } else {
        "/*hello world, nothing*/"
    };
    (
        [(
            header::CONTENT_SECURITY_POLICY,
            format!("script-src 'nonce-abc' 'report-sample'; report-uri /eg/sink?case=csp-{which}"),
        )],
        Html(format!(
            "<!doctype html><html><head><meta charset=utf-8><title>CSP {which}</title></head>\
             <body><script>{sample}</script><p>csp</p></body></html>"
        )),
    )
        .into_response()
}

/// A service worker that fetches the URL each message names and answers
/// with the status (or `failed`).
async fn service_worker() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript")],
        "self.addEventListener('install', () => self.skipWaiting());\n\
         self.addEventListener('activate', e => e.waitUntil(self.clients.claim()));\n\
         self.addEventListener('message', e => {\n\
           fetch(e.data).then(r => r.status, () => 'failed').then(s => e.source.postMessage(String(s)));\n\
         });\n",
    )
        .into_response()
}

async fn sink() -> Html<&'static str> {
    Html("<!doctype html><title>Sink</title><p>received</p>")
}

async fn sse() -> Response {
    (
        [(header::CONTENT_TYPE, "text/event-stream")],
        "data: hello\n\n",
    )
        .into_response()
}

/// Records every message a page sends on the socket as a `WS` request.
async fn ws(
    State(log): State<Log>,
    OriginalUri(uri): OriginalUri,
    up: WebSocketUpgrade,
) -> Response {
    up.on_upgrade(move |socket| record_messages(socket, log, uri.path().to_owned()))
}

async fn record_messages(mut socket: WebSocket, log: Log, path: String) {
    while let Some(Ok(msg)) = socket.recv().await {
        let body = match msg {
            Message::Text(t) => t.to_string(),
            Message::Binary(b) => String::from_utf8_lossy(&b).into_owned(),
            Message::Close(_) => break,
            _ => continue,
        };
        log.lock().unwrap().push(Recorded {
            method: "WS".into(),
            uri: path.clone(),
            body,
            cookie: String::new(),
        });
    }
}

/// A streaming sink for large bodies: records `"<bytes> bytes, card <bool>"`
/// once the whole body has arrived (an aborted body records nothing).
async fn big(State(log): State<Log>, OriginalUri(uri): OriginalUri, body: Body) -> Html<String> {
    let mut stream = body.into_data_stream();
    let (mut n, mut card) = (0u64, false);
    let mut tail: Vec<u8> = Vec::new();
    while let Some(chunk) = stream.next().await {
        let Ok(chunk) = chunk else {
            return Html("aborted".into());
        };
        n += chunk.len() as u64;
        tail.extend_from_slice(&chunk);
        card |= tail.windows(4).any(|w| w == b"4111");
        let keep = tail.len().saturating_sub(32);
        tail.drain(..keep);
    }
    let got = format!("{n} bytes, card {card}");
    log.lock().unwrap().push(Recorded {
        method: "POST".into(),
        uri: uri.to_string(),
        body: got.clone(),
        cookie: String::new(),
    });
    Html(got)
}
