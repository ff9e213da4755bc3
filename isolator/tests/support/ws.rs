//! A session's WebSocket as a test's client sees it: the socket opened as
//! the web client opens it, and the messages waited for.

#![allow(dead_code)]

use std::time::Duration;

use futures::StreamExt;
use serde_json::Value;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

/// A session's socket.
pub type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// How long a message may be waited for.
const WAIT: Duration = Duration::from_secs(20);

/// The socket of session `id` at `host` (`127.0.0.1:PORT`), opened with
/// its `token` as the web client at `origin` opens it, with the login
/// `cookie` if there is one; the handshake's error as text.
pub async fn open(
    host: &str,
    id: &str,
    token: &str,
    origin: &str,
    cookie: Option<&str>,
) -> Result<Ws, String> {
    let mut req = format!("ws://{host}/api/sessions/{id}/ws")
        .into_client_request()
        .unwrap();
    let h = req.headers_mut();
    h.insert("origin", origin.parse().unwrap());
    if let Some(cookie) = cookie {
        h.insert("cookie", cookie.parse().unwrap());
    }
    h.insert(
        "sec-websocket-protocol",
        format!("isolator.v1, isolator.token.{token}")
            .parse()
            .unwrap(),
    );
    tokio_tungstenite::connect_async(req)
        .await
        .map(|(ws, _)| ws)
        .map_err(|e| e.to_string())
}

/// Waits for the first message `pick` takes, passing the others by;
/// panics with `what` after 20 s.
pub async fn until<T>(ws: &mut Ws, what: &str, mut pick: impl FnMut(Message) -> Option<T>) -> T {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let msg = tokio::time::timeout_at(deadline, ws.next())
            .await
            .unwrap_or_else(|_| panic!("{what}: not in time"))
            .expect("socket open")
            .expect("socket ok");
        if let Some(v) = pick(msg) {
            return v;
        }
    }
}

/// Waits for the next JSON message of type `t`.
pub async fn next_json(ws: &mut Ws, t: &str) -> Value {
    until(ws, &format!("a {t} message"), |msg| match msg {
        Message::Text(text) => {
            let v: Value = serde_json::from_str(&text).unwrap();
            (v["t"] == t).then_some(v)
        }
        _ => None,
    })
    .await
}

/// Waits for the next binary frame; its bytes.
pub async fn a_frame(ws: &mut Ws) -> Vec<u8> {
    until(ws, "a frame", |msg| match msg {
        Message::Binary(b) => Some(b.to_vec()),
        _ => None,
    })
    .await
}
