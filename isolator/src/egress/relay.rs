//! Copies bytes both ways between the browser and the destination, with an
//! idle timeout and a shutdown signal.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::timeout;

const BUF: usize = 32 * 1024;

/// When a relay ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// A tunnel: half-closes are forwarded and the relay ends when both
    /// directions have ended.
    Tunnel,
    /// One plain-HTTP exchange: the relay ends when the destination closes
    /// (the response is complete, `Connection: close`).
    Exchange,
}

/// Relays until the mode says stop, a side fails, nothing moves for `idle`,
/// or `shutdown` fires. Returns the bytes copied (browser to destination,
/// destination to browser).
pub(crate) async fn relay(
    browser: &mut TcpStream,
    dest: &mut TcpStream,
    mode: Mode,
    idle: Duration,
    shutdown: &mut watch::Receiver<bool>,
) -> (u64, u64) {
    let (mut br, mut bw) = browser.split();
    let (mut dr, mut dw) = dest.split();
    let mut up_buf = vec![0u8; BUF];
    let mut down_buf = vec![0u8; BUF];
    let (mut up_open, mut down_open) = (true, true);
    let (mut up, mut down) = (0u64, 0u64);
    while up_open || down_open {
        tokio::select! {
            r = br.read(&mut up_buf), if up_open => match r {
                Ok(0) | Err(_) => {
                    up_open = false;
                    let _ = dw.shutdown().await;
                }
                Ok(n) => {
                    if !matches!(timeout(idle, dw.write_all(&up_buf[..n])).await, Ok(Ok(()))) {
                        break;
                    }
                    up += n as u64;
                }
            },
            r = dr.read(&mut down_buf), if down_open => match r {
                Ok(0) | Err(_) => {
                    down_open = false;
                    let _ = bw.shutdown().await;
                    if mode == Mode::Exchange {
                        break;
                    }
                }
                Ok(n) => {
                    if !matches!(timeout(idle, bw.write_all(&down_buf[..n])).await, Ok(Ok(()))) {
                        break;
                    }
                    down += n as u64;
                }
            },
            _ = tokio::time::sleep(idle) => break,
            _ = shutdown.changed() => break,
        }
    }
    (up, down)
}
