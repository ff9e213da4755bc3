//! Request body framing for the inspecting proxy: which bytes are the body
//! (`Content-Length`, `Transfer-Encoding: chunked`), read in bounded pieces
//! with the transfer coding removed, and written upstream in the framing the
//! head announced.

use std::io;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::time::timeout;

/// The longest chunk-size or trailer line accepted.
const MAX_LINE: usize = 4096;

/// How a request body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Framing {
    /// No body.
    Empty,
    /// Exactly this many bytes.
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
}

/// The framing the request headers announce, or why it is refused (both
/// `Content-Length` and `Transfer-Encoding`, conflicting lengths, or a
/// transfer coding other than `chunked`: the classic smuggling shapes).
pub(crate) fn framing(headers: &[(String, Vec<u8>)]) -> Result<Framing, String> {
    let te = transfer_codings(headers);
    let lengths: Vec<&[u8]> = headers
        .iter()
        .filter(|(n, _)| n == "content-length")
        .map(|(_, v)| v.as_slice())
        .collect();
    if !te.is_empty() {
        if !lengths.is_empty() {
            return Err("both Content-Length and Transfer-Encoding".into());
        }
        return if te == ["chunked"] {
            Ok(Framing::Chunked)
        } else {
            Err(format!("transfer coding {te:?} is not supported"))
        };
    }
    let mut length = None;
    for v in lengths {
        let n: u64 = std::str::from_utf8(v)
            .ok()
            .map(str::trim)
            .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|s| s.parse().ok())
            .ok_or("an invalid Content-Length")?;
        if length.is_some_and(|l| l != n) {
            return Err("conflicting Content-Length values".into());
        }
        length = Some(n);
    }
    Ok(match length {
        None | Some(0) => Framing::Empty,
        Some(n) => Framing::Length(n),
    })
}

/// The transfer codings of a message's `Transfer-Encoding` headers, in
/// order, lower-cased.
pub(crate) fn transfer_codings(headers: &[(String, Vec<u8>)]) -> Vec<String> {
    headers
        .iter()
        .filter(|(n, _)| n == "transfer-encoding")
        .flat_map(|(_, v)| {
            String::from_utf8_lossy(v)
                .split(',')
                .map(|t| t.trim().to_ascii_lowercase())
                .filter(|t| !t.is_empty())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// A reader with bytes already read put in front of it.
pub(crate) struct Input<R> {
    buf: Vec<u8>,
    pos: usize,
    inner: R,
    idle: Duration,
}

impl<R: AsyncRead + Unpin> Input<R> {
    /// `inner`, after `pre`.
    pub(crate) fn new(pre: Vec<u8>, inner: R, idle: Duration) -> Self {
        Input {
            buf: pre,
            pos: 0,
            inner,
            idle,
        }
    }

    /// The reader, and what was read but not consumed.
    pub(crate) fn into_parts(self) -> (Vec<u8>, R) {
        (self.buf[self.pos..].to_vec(), self.inner)
    }

    /// Makes sure at least one unconsumed byte is buffered; false at the end.
    async fn fill(&mut self) -> io::Result<bool> {
        if self.pos < self.buf.len() {
            return Ok(true);
        }
        self.buf.clear();
        self.pos = 0;
        self.buf.resize(64 * 1024, 0);
        let n = match timeout(self.idle, self.inner.read(&mut self.buf)).await {
            Ok(r) => r?,
            Err(_) => return Err(io::ErrorKind::TimedOut.into()),
        };
        self.buf.truncate(n);
        Ok(n > 0)
    }

    /// A message head (through its blank line), at most `max` bytes; `None`
    /// when the peer closed before sending a byte of it.
    pub(crate) async fn head(&mut self, max: usize) -> io::Result<Option<Vec<u8>>> {
        let mut head = Vec::new();
        loop {
            if head.is_empty() && !self.fill().await? {
                return Ok(None);
            }
            let line = self.line().await?;
            head.extend_from_slice(&line);
            head.extend_from_slice(b"\r\n");
            if head.len() > max {
                return Err(io::Error::new(io::ErrorKind::InvalidData, "head too large"));
            }
            if line.is_empty() {
                return Ok(Some(head));
            }
        }
    }

    /// Copies what is buffered, then everything until the end, to `out`.
    pub(crate) async fn copy_rest<W: AsyncWrite + Unpin>(&mut self, out: &mut W) -> io::Result<()> {
        loop {
            if !self.fill().await? {
                return Ok(());
            }
            let end = self.buf.len();
            timeout(self.idle, out.write_all(&self.buf[self.pos..end]))
                .await
                .unwrap_or_else(|_| Err(io::ErrorKind::TimedOut.into()))?;
            self.pos = end;
        }
    }

    /// Appends up to `n` bytes to `out`; errors at a premature end.
    pub(crate) async fn take(&mut self, n: usize, out: &mut Vec<u8>) -> io::Result<()> {
        let mut left = n;
        while left > 0 {
            if !self.fill().await? {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            let k = left.min(self.buf.len() - self.pos);
            out.extend_from_slice(&self.buf[self.pos..self.pos + k]);
            self.pos += k;
            left -= k;
        }
        Ok(())
    }

    /// One line without its CRLF, at most [`MAX_LINE`] bytes.
    async fn line(&mut self) -> io::Result<Vec<u8>> {
        let mut line = Vec::new();
        loop {
            if !self.fill().await? {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            let b = self.buf[self.pos];
            self.pos += 1;
            if b == b'\n' {
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                return Ok(line);
            }
            line.push(b);
            if line.len() > MAX_LINE {
                return Err(io::Error::new(io::ErrorKind::InvalidData, "line too long"));
            }
        }
    }
}

/// Reads a body piece by piece.
pub(crate) struct BodyReader {
    framing: Framing,
    /// Length framing: bytes left. Chunked: bytes left in the current chunk.
    left: u64,
    done: bool,
}

impl BodyReader {
    /// A reader for a body with `framing`.
    pub(crate) fn new(framing: Framing) -> Self {
        let left = match framing {
            Framing::Length(n) => n,
            _ => 0,
        };
        BodyReader {
            framing,
            left,
            done: framing == Framing::Empty,
        }
    }

    /// True once the whole body has been read.
    pub(crate) fn done(&self) -> bool {
        self.done
    }

    /// The next piece of at most `max` bytes (fewer only at the end).
    pub(crate) async fn piece<R: AsyncRead + Unpin>(
        &mut self,
        input: &mut Input<R>,
        max: usize,
    ) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        while !self.done && out.len() < max {
            match self.framing {
                Framing::Empty => self.done = true,
                Framing::Length(_) => {
                    let n = self.left.min((max - out.len()) as u64) as usize;
                    input.take(n, &mut out).await?;
                    self.left -= n as u64;
                    self.done = self.left == 0;
                }
                Framing::Chunked => {
                    if self.left == 0 {
                        let line = input.line().await?;
                        let size = line.split(|&b| b == b';').next().unwrap_or(&[]);
                        let size = std::str::from_utf8(size)
                            .ok()
                            .map(str::trim)
                            .and_then(|s| u64::from_str_radix(s, 16).ok())
                            .ok_or_else(|| {
                                io::Error::new(io::ErrorKind::InvalidData, "bad chunk size")
                            })?;
                        if size == 0 {
                            // Trailers, then the blank line.
                            while !input.line().await?.is_empty() {}
                            self.done = true;
                            break;
                        }
                        self.left = size;
                    }
                    let n = self.left.min((max - out.len()) as u64) as usize;
                    input.take(n, &mut out).await?;
                    self.left -= n as u64;
                    if self.left == 0 {
                        let end = input.line().await?;
                        if !end.is_empty() {
                            return Err(io::Error::new(
                                io::ErrorKind::InvalidData,
                                "chunk without CRLF",
                            ));
                        }
                    }
                }
            }
        }
        Ok(out)
    }
}

/// Writes body bytes upstream in `framing` (chunked bodies are re-chunked).
pub(crate) async fn write_piece<W: AsyncWrite + Unpin>(
    w: &mut W,
    framing: Framing,
    bytes: &[u8],
    idle: Duration,
) -> io::Result<()> {
    let write = async {
        if framing == Framing::Chunked && !bytes.is_empty() {
            w.write_all(format!("{:x}\r\n", bytes.len()).as_bytes())
                .await?;
            w.write_all(bytes).await?;
            w.write_all(b"\r\n").await
        } else {
            w.write_all(bytes).await
        }
    };
    timeout(idle, write)
        .await
        .unwrap_or_else(|_| Err(io::ErrorKind::TimedOut.into()))
}

/// Ends a body upstream (the last chunk of a chunked body).
pub(crate) async fn write_end<W: AsyncWrite + Unpin>(
    w: &mut W,
    framing: Framing,
    idle: Duration,
) -> io::Result<()> {
    if framing != Framing::Chunked {
        return Ok(());
    }
    timeout(idle, w.write_all(b"0\r\n\r\n"))
        .await
        .unwrap_or_else(|_| Err(io::ErrorKind::TimedOut.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(pairs: &[(&str, &str)]) -> Vec<(String, Vec<u8>)> {
        pairs
            .iter()
            .map(|(n, v)| ((*n).to_owned(), v.as_bytes().to_vec()))
            .collect()
    }

    #[test]
    fn smuggling_shapes_are_refused() {
        assert_eq!(framing(&h(&[])), Ok(Framing::Empty));
        assert_eq!(
            framing(&h(&[("content-length", "12")])),
            Ok(Framing::Length(12))
        );
        assert_eq!(
            framing(&h(&[("transfer-encoding", "chunked")])),
            Ok(Framing::Chunked)
        );
        for bad in [
            h(&[("content-length", "12"), ("transfer-encoding", "chunked")]),
            h(&[("content-length", "12"), ("content-length", "13")]),
            h(&[("content-length", "+12")]),
            h(&[("transfer-encoding", "gzip, chunked")]),
        ] {
            assert!(framing(&bad).is_err(), "{bad:?}");
        }
    }

    #[tokio::test]
    async fn chunked_bodies_are_read_in_pieces_without_their_framing() {
        let wire = b"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\nNEXT".to_vec();
        let mut input = Input::new(wire[..3].to_vec(), &wire[3..], Duration::from_secs(1));
        let mut body = BodyReader::new(Framing::Chunked);
        let mut got = Vec::new();
        while !body.done() {
            got.extend(body.piece(&mut input, 4).await.unwrap());
        }
        assert_eq!(got, b"hello world");
        let (rest, _) = input.into_parts();
        assert_eq!(rest, b"NEXT");
        let mut out = Vec::new();
        write_piece(&mut out, Framing::Chunked, b"hello", Duration::from_secs(1))
            .await
            .unwrap();
        write_end(&mut out, Framing::Chunked, Duration::from_secs(1))
            .await
            .unwrap();
        assert_eq!(out, b"5\r\nhello\r\n0\r\n\r\n");
    }

    #[tokio::test]
    async fn a_body_cut_short_is_an_error() {
        let wire = b"abc".to_vec();
        let mut input = Input::new(Vec::new(), &wire[..], Duration::from_secs(1));
        let mut body = BodyReader::new(Framing::Length(10));
        assert!(body.piece(&mut input, 100).await.is_err());
    }
}
