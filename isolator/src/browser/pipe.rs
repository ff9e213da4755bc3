//! The DevTools protocol over a pipe, offered to chromiumoxide as a
//! WebSocket that only this server can open.
//!
//! Chromium runs with `--remote-debugging-pipe`: it reads commands from fd 3
//! and writes replies and events to fd 4, each message a JSON text ended by
//! a NUL byte. No TCP port is ever opened by Chromium, so no other local
//! user can drive its pages.
//!
//! chromiumoxide 0.9 only connects to a `ws://` URL, so the bridge listens
//! on a loopback port of its own for the moment it takes to connect, and
//! accepts exactly one connection, which must
//! - come from a socket owned by this server's user (its owner is read from
//!   `/proc/net/tcp`; any other user's connection is closed before a byte
//!   is read), and
//! - ask for a path holding a 256-bit random secret.
//!
//! The listener is closed as soon as that connection is made; from then on
//! text messages are relayed both ways. When either side ends, so does the
//! other: Chromium sees its command pipe close, chromiumoxide sees its
//! socket close (and the browser is counted dead).

use std::io;
use std::net::SocketAddr;
use std::os::fd::OwnedFd;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, BufWriter};
use tokio::net::unix::pipe;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;
use tracing::{debug, warn};

/// A bridge waiting for (or serving) its one connection.
pub struct Bridge {
    /// The URL to give chromiumoxide (holds the secret: never logged).
    pub url: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Bridge {
    fn drop(&mut self) {
        // The process is being killed: its pipe closes and the relay sends
        // chromiumoxide a proper close. Should that not come (a stray
        // process holding the pipe), the relay is stopped a little later.
        let task = self.task.abort_handle();
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => drop(rt.spawn(async move {
                tokio::time::sleep(Duration::from_secs(5)).await;
                task.abort();
            })),
            Err(_) => task.abort(),
        }
    }
}

/// Starts a bridge between a loopback WebSocket and Chromium's pipe ends:
/// `commands` is what Chromium reads as fd 3, `messages` what it writes as
/// fd 4. The one connection must arrive within `accept_within`.
pub fn start(
    commands: std::io::PipeWriter,
    messages: std::io::PipeReader,
    accept_within: Duration,
) -> io::Result<Bridge> {
    let std_listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    std_listener.set_nonblocking(true)?;
    let listener = tokio::net::TcpListener::from_std(std_listener)?;
    let addr = listener.local_addr()?;
    let mut secret = [0u8; 32];
    rand::fill(&mut secret);
    let path = format!("/devtools/browser/{}", hex::encode(secret));
    let url = format!("ws://{addr}{path}");
    let to_chromium = pipe::Sender::from_owned_fd(OwnedFd::from(commands))?;
    let from_chromium = pipe::Receiver::from_owned_fd(OwnedFd::from(messages))?;
    let task = tokio::spawn(async move {
        let ws = match tokio::time::timeout(accept_within, accept_one(listener, addr, path)).await {
            Ok(Ok(ws)) => ws,
            Ok(Err(e)) => {
                warn!("the browser's DevTools bridge failed: {e}");
                return;
            }
            Err(_) => {
                warn!("nobody connected to the browser's DevTools bridge in time");
                return;
            }
        };
        relay(ws, to_chromium, from_chromium).await;
    });
    Ok(Bridge { url, task })
}

/// Accepts connections until one from our own user asks for `path`; the
/// listener is closed when this returns.
async fn accept_one(
    listener: tokio::net::TcpListener,
    addr: SocketAddr,
    path: String,
) -> io::Result<WebSocketStream<tokio::net::TcpStream>> {
    let me = crate::os::private_fs::euid();
    loop {
        let (stream, peer) = listener.accept().await?;
        match crate::os::local_peer::peer_uid(addr, peer) {
            Some(uid) if uid == me => {}
            other => {
                warn!(
                    peer_uid = ?other,
                    "refused a connection to the browser's DevTools bridge from another user"
                );
                continue;
            }
        }
        let expected = path.clone();
        // The signature is tungstenite's handshake callback's.
        #[allow(clippy::result_large_err)]
        let check = move |req: &Request, resp: Response| -> Result<Response, ErrorResponse> {
            if constant_time_eq(req.uri().path().as_bytes(), expected.as_bytes()) {
                Ok(resp)
            } else {
                let mut refused = ErrorResponse::new(Some("forbidden".into()));
                *refused.status_mut() = tokio_tungstenite::tungstenite::http::StatusCode::FORBIDDEN;
                Err(refused)
            }
        };
        let config = WebSocketConfig::default()
            .max_message_size(None)
            .max_frame_size(None);
        let handshake =
            tokio_tungstenite::accept_hdr_async_with_config(stream, check, Some(config));
        match tokio::time::timeout(Duration::from_secs(5), handshake).await {
            Ok(Ok(ws)) => return Ok(ws),
            Ok(Err(e)) => warn!("refused a DevTools bridge connection: {e}"),
            Err(_) => warn!("a DevTools bridge connection did not complete its handshake"),
        }
    }
}

/// Relays until either side ends.
async fn relay(
    ws: WebSocketStream<tokio::net::TcpStream>,
    to_chromium: pipe::Sender,
    from_chromium: pipe::Receiver,
) {
    let (mut ws_out, mut ws_in) = ws.split();
    let commands = async move {
        let mut pipe = BufWriter::new(to_chromium);
        while let Some(msg) = ws_in.next().await {
            let bytes = match msg {
                Ok(Message::Text(t)) => t.as_bytes().to_vec(),
                Ok(Message::Binary(b)) => b.to_vec(),
                Ok(Message::Close(_)) | Err(_) => break,
                Ok(_) => continue,
            };
            if pipe.write_all(&bytes).await.is_err()
                || pipe.write_all(&[0]).await.is_err()
                || pipe.flush().await.is_err()
            {
                break;
            }
        }
        debug!("DevTools bridge: the client side ended");
    };
    let messages = async move {
        let mut pipe = BufReader::with_capacity(1 << 16, from_chromium);
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match pipe.read_until(0, &mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
            if buf.last() == Some(&0) {
                buf.pop();
            }
            let text = String::from_utf8_lossy(&buf).into_owned();
            if ws_out.send(Message::text(text)).await.is_err() {
                break;
            }
        }
        debug!("DevTools bridge: Chromium's side ended");
        let _ = ws_out.close().await;
    };
    tokio::select! {
        () = commands => {}
        () = messages => {}
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Another user (nobody) who knows the whole URL, secret included, is
    /// still refused before the handshake; the server connects afterwards.
    #[tokio::test]
    async fn another_user_with_the_secret_is_refused() {
        if crate::os::private_fs::euid() != 0 {
            eprintln!("SKIPPED: needs root to act as another user");
            return;
        }
        let (_cmd_r, cmd_w) = std::io::pipe().unwrap();
        let (msg_r, _msg_w) = std::io::pipe().unwrap();
        let bridge = start(cmd_w, msg_r, Duration::from_secs(20)).unwrap();
        let rest = bridge.url.strip_prefix("ws://127.0.0.1:").unwrap();
        let (port, path) = rest.split_once('/').unwrap();
        let script = r#"exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 3
printf 'GET /%s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n' "$2" >&3
timeout 5 cat <&3"#;
        let out = tokio::process::Command::new("setpriv")
            .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"])
            .args(["bash", "-c", script, "attacker", port, path])
            .output()
            .await
            .unwrap();
        assert_ne!(
            out.status.code(),
            Some(3),
            "nobody could not even connect: {out:?}"
        );
        let answer = String::from_utf8_lossy(&out.stdout);
        assert!(!answer.contains("101"), "nobody got the socket: {answer}");
        assert!(answer.is_empty(), "nobody got an answer: {answer}");
        let (mut ws, _) = tokio_tungstenite::connect_async(&bridge.url).await.unwrap();
        ws.send(Message::text("{}")).await.unwrap();
    }

    /// A real connection from this process is ours; the bridge relays
    /// NUL-separated messages both ways and refuses a wrong path.
    #[tokio::test]
    async fn relays_for_the_secret_path_only() {
        let (cmd_r, cmd_w) = std::io::pipe().unwrap();
        let (msg_r, msg_w) = std::io::pipe().unwrap();
        let bridge = start(cmd_w, msg_r, Duration::from_secs(10)).unwrap();
        let wrong = bridge.url.rsplit_once('/').unwrap().0.to_owned() + "/0";
        assert!(tokio_tungstenite::connect_async(&wrong).await.is_err());
        let (mut ws, _) = tokio_tungstenite::connect_async(&bridge.url).await.unwrap();
        ws.send(Message::text("{\"id\":1}")).await.unwrap();
        let mut cmd_r = pipe::Receiver::from_owned_fd(OwnedFd::from(cmd_r)).unwrap();
        let mut got = vec![0u8; 9];
        tokio::io::AsyncReadExt::read_exact(&mut cmd_r, &mut got)
            .await
            .unwrap();
        assert_eq!(got, b"{\"id\":1}\0");
        let mut msg_w = pipe::Sender::from_owned_fd(OwnedFd::from(msg_w)).unwrap();
        msg_w.write_all(b"{\"a\":1}\0{\"b\":2}\0").await.unwrap();
        let first = ws.next().await.unwrap().unwrap();
        let second = ws.next().await.unwrap().unwrap();
        assert_eq!(first.into_text().unwrap().as_str(), "{\"a\":1}");
        assert_eq!(second.into_text().unwrap().as_str(), "{\"b\":2}");
        // Chromium's end closing ends the socket.
        drop(msg_w);
        assert!(matches!(
            ws.next().await,
            Some(Ok(Message::Close(_))) | None
        ));
    }
}
