//! WebSocket frames the browser sends, inspected before they leave: each
//! frame's payload is unmasked and judged in pieces, and the frame's bytes
//! are forwarded unchanged once it has passed (a piece of a long frame
//! leaves once the next piece has passed too). Control frames (close
//! reasons, pings) are judged like data. Compression extensions are never
//! negotiated ([`without_extensions`]), so payloads are what the page sent.

use std::io;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::time::timeout;

use super::body::Input;
use super::inspect::{Inspection, Outcome, Part};

/// Why frame inspection ended.
#[derive(Debug)]
pub(crate) enum Stop {
    /// The browser closed, or a side failed.
    Closed,
    /// The browser sent something that is not a masked client frame.
    Protocol(&'static str),
    /// The inspector blocked a frame (it has reported why).
    Blocked,
}

impl From<io::Error> for Stop {
    fn from(_: io::Error) -> Self {
        Stop::Closed
    }
}

/// The request headers without `Sec-WebSocket-Extensions`: no
/// permessage-deflate, so frame payloads are plain.
pub(crate) fn without_extensions(headers: &[(String, Vec<u8>)]) -> Vec<(String, Vec<u8>)> {
    headers
        .iter()
        .filter(|(n, _)| n != "sec-websocket-extensions")
        .cloned()
        .collect()
}

/// Inspects and forwards frames from `input` to `dest` until the browser
/// closes, a side fails, or a frame is blocked.
pub(crate) async fn inspect_frames<R, W>(
    input: &mut Input<R>,
    dest: &mut W,
    inspection: &mut dyn Inspection,
    piece: usize,
    idle: Duration,
) -> Stop
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    loop {
        match one_frame(input, dest, inspection, piece, idle).await {
            Ok(()) => {}
            Err(stop) => return stop,
        }
    }
}

async fn send<W: AsyncWrite + Unpin>(
    dest: &mut W,
    bytes: &[u8],
    idle: Duration,
) -> Result<(), Stop> {
    match timeout(idle, dest.write_all(bytes)).await {
        Ok(Ok(())) => Ok(()),
        _ => Err(Stop::Closed),
    }
}

async fn one_frame<R, W>(
    input: &mut Input<R>,
    dest: &mut W,
    inspection: &mut dyn Inspection,
    piece: usize,
    idle: Duration,
) -> Result<(), Stop>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut raw = Vec::with_capacity(14);
    input.take(2, &mut raw).await?;
    let opcode = raw[0] & 0x0f;
    if raw[1] & 0x80 == 0 {
        return Err(Stop::Protocol("an unmasked frame from the browser"));
    }
    let len = match raw[1] & 0x7f {
        126 => {
            input.take(2, &mut raw).await?;
            u64::from(u16::from_be_bytes([raw[2], raw[3]]))
        }
        127 => {
            input.take(8, &mut raw).await?;
            let mut b = [0u8; 8];
            b.copy_from_slice(&raw[2..10]);
            u64::from_be_bytes(b)
        }
        n => u64::from(n),
    };
    let mask_at = raw.len();
    input.take(4, &mut raw).await?;
    let mask = [
        raw[mask_at],
        raw[mask_at + 1],
        raw[mask_at + 2],
        raw[mask_at + 3],
    ];
    // `held`: bytes judged but not yet forwarded (the header, then pieces).
    let mut held = raw;
    let mut left = len;
    let mut offset = 0usize;
    loop {
        let n = left.min(piece as u64) as usize;
        let mut masked = Vec::with_capacity(n);
        input.take(n, &mut masked).await?;
        left -= n as u64;
        let plain: Vec<u8> = masked
            .iter()
            .enumerate()
            .map(|(i, b)| b ^ mask[(offset + i) % 4])
            .collect();
        offset += n;
        let last = left == 0;
        let part = Part::Frame {
            bytes: &plain,
            opcode,
            last,
        };
        if let Outcome::Block(_) = inspection.check(part).await {
            return Err(Stop::Blocked);
        }
        if last {
            held.extend_from_slice(&masked);
            return send(dest, &held, idle).await;
        }
        send(dest, &held, idle).await?;
        held = masked;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::future::BoxFuture;

    /// Blocks any piece containing "secret"; records what it saw.
    struct Seen(Vec<Vec<u8>>);
    impl Inspection for Seen {
        fn check<'a>(&'a mut self, part: Part<'a>) -> BoxFuture<'a, Outcome> {
            Box::pin(async move {
                let Part::Frame { bytes, .. } = part else {
                    return Outcome::Pass;
                };
                self.0.push(bytes.to_vec());
                if bytes.windows(6).any(|w| w == b"secret") {
                    Outcome::Block("found".into())
                } else {
                    Outcome::Pass
                }
            })
        }
    }

    fn frame(opcode: u8, payload: &[u8], mask: [u8; 4]) -> Vec<u8> {
        let mut f = vec![0x80 | opcode];
        match payload.len() {
            n if n < 126 => f.push(0x80 | n as u8),
            n if n < 65536 => {
                f.push(0x80 | 126);
                f.extend_from_slice(&(n as u16).to_be_bytes());
            }
            n => {
                f.push(0x80 | 127);
                f.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
        f.extend_from_slice(&mask);
        f.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        f
    }

    #[tokio::test]
    async fn frames_are_unmasked_judged_and_forwarded_unchanged() {
        let big = vec![b'x'; 70_000];
        let wire = [
            frame(1, b"hello", [1, 2, 3, 4]),
            frame(2, &big, [9, 8, 7, 6]),
            frame(1, b"my secret", [5, 5, 5, 5]),
            frame(1, b"never sent", [0, 0, 0, 1]),
        ]
        .concat();
        let mut input = Input::new(Vec::new(), &wire[..], Duration::from_secs(1));
        let mut out = Vec::new();
        let mut seen = Seen(Vec::new());
        let stop = inspect_frames(
            &mut input,
            &mut out,
            &mut seen,
            32 * 1024,
            Duration::from_secs(1),
        )
        .await;
        assert!(matches!(stop, Stop::Blocked), "{stop:?}");
        assert_eq!(seen.0[0], b"hello");
        assert_eq!(seen.0[1..4].concat(), big, "the long frame in pieces");
        // The first two frames went out byte for byte, the blocked one not at all.
        let two = frame(1, b"hello", [1, 2, 3, 4]).len() + frame(2, &big, [9, 8, 7, 6]).len();
        assert_eq!(out, wire[..two]);
    }

    #[tokio::test]
    async fn unmasked_frames_are_refused() {
        let wire = [0x81u8, 0x02, b'h', b'i'];
        let mut input = Input::new(Vec::new(), &wire[..], Duration::from_secs(1));
        let mut out = Vec::new();
        let mut seen = Seen(Vec::new());
        let stop = inspect_frames(
            &mut input,
            &mut out,
            &mut seen,
            1024,
            Duration::from_secs(1),
        )
        .await;
        assert!(matches!(stop, Stop::Protocol(_)), "{stop:?}");
        assert!(out.is_empty());
    }
}
