//! Compressed data: streams found by their magic bytes ([`sniff`]) and
//! `Content-Encoding` undone as a stream ([`StreamDecoder`]).
//!
//! A [`StreamDecoder`] runs its decompressor on a thread of its own that
//! reads the compressed bytes from a channel, so every format (gzip, zlib
//! or raw deflate, brotli, zstd) is decoded incrementally by its ordinary
//! `Read` implementation: [`StreamDecoder::feed`] hands over one chunk and
//! returns what it decoded to. Output is bounded: a stream that expands
//! beyond [`MAX_RATIO`] times its input (plus 1 MiB) is refused, so a
//! compression bomb costs a bounded amount of memory and is blocked.

use std::io::{self, Read};
use std::sync::mpsc;
use std::thread;

/// The most a stream may expand: output at most this many times the
/// compressed input, plus 1 MiB.
pub const MAX_RATIO: usize = 100;

/// Why a compressed stream could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The `Content-Encoding` is not one we can undo.
    #[error("unknown content encoding {0:?}")]
    Unknown(String),
    /// The data is not valid in its format.
    #[error("the {encoding} data is corrupt ({error})")]
    Corrupt {
        /// gzip, deflate, br or zstd.
        encoding: String,
        /// What the decoder said.
        error: String,
    },
    /// It expands more than [`MAX_RATIO`] allows.
    #[error("the {0} data expands more than {MAX_RATIO} times")]
    Bomb(String),
}

/// A gzip, zlib or zstd stream at the start of `input`, decoded (at most
/// `room` bytes; a stream cut short is decoded as far as it goes).
pub fn sniff(input: &[u8], room: usize) -> Option<Vec<u8>> {
    let room = room.min(input.len().saturating_mul(MAX_RATIO) + (1 << 20));
    let mut out = Vec::new();
    let read: Box<dyn Read + '_> = if input.starts_with(&[0x1f, 0x8b, 0x08]) {
        Box::new(flate2::read::MultiGzDecoder::new(input))
    } else if is_zlib(input) {
        Box::new(flate2::read::ZlibDecoder::new(input))
    } else if input.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Box::new(ruzstd::decoding::StreamingDecoder::new(input).ok()?)
    } else {
        return None;
    };
    let _ = read.take(room as u64).read_to_end(&mut out);
    (!out.is_empty()).then_some(out)
}

/// Whether `b` starts like a gzip, zlib or zstd stream ([`sniff`] would try it).
pub(super) fn has_magic(b: &[u8]) -> bool {
    b.starts_with(&[0x1f, 0x8b, 0x08]) || is_zlib(b) || b.starts_with(&[0x28, 0xb5, 0x2f, 0xfd])
}

fn is_zlib(b: &[u8]) -> bool {
    b.len() >= 2
        && b[0] & 0x0f == 8
        && b[0] >> 4 <= 7
        && (u16::from(b[0]) << 8 | u16::from(b[1])) % 31 == 0
}

/// What the decoder thread sends back.
enum Msg {
    Data(Vec<u8>),
    /// The first `n` chunks fed have been decoded as far as they can be.
    Drained(u64),
    Done(Result<(), String>),
}

/// Reads the chunks the feeder sends, telling it when it has read them all.
struct ChannelReader {
    rx: mpsc::Receiver<Vec<u8>>,
    tx: mpsc::SyncSender<Msg>,
    buf: Vec<u8>,
    at: usize,
    /// Chunks received.
    chunks: u64,
}

impl Read for ChannelReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.at == self.buf.len() {
            let next = match self.rx.try_recv() {
                Ok(chunk) => Ok(chunk),
                Err(mpsc::TryRecvError::Empty) => {
                    let _ = self.tx.send(Msg::Drained(self.chunks));
                    self.rx.recv().map_err(|_| ())
                }
                Err(mpsc::TryRecvError::Disconnected) => Err(()),
            };
            match next {
                // An empty chunk marks the end of the input.
                Ok(chunk) if chunk.is_empty() => return Ok(0),
                Ok(chunk) => {
                    self.chunks += 1;
                    self.buf = chunk;
                    self.at = 0;
                }
                Err(()) => return Ok(0),
            }
        }
        let n = out.len().min(self.buf.len() - self.at);
        out[..n].copy_from_slice(&self.buf[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// A `Content-Encoding` undone incrementally; see the module docs.
pub struct StreamDecoder {
    encoding: String,
    tx: Option<mpsc::Sender<Vec<u8>>>,
    rx: mpsc::Receiver<Msg>,
    fed: usize,
    chunks: u64,
    produced: usize,
    done: bool,
}

impl std::fmt::Debug for StreamDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamDecoder")
            .field("encoding", &self.encoding)
            .finish_non_exhaustive()
    }
}

impl StreamDecoder {
    /// A decoder for one `Content-Encoding` token (`gzip`, `x-gzip`,
    /// `deflate`, `br`, `zstd`).
    pub fn new(encoding: &str) -> Result<Self, DecodeError> {
        let encoding = encoding.trim().to_ascii_lowercase();
        let kind = match encoding.as_str() {
            "gzip" | "x-gzip" | "deflate" | "br" | "zstd" => encoding.clone(),
            _ => return Err(DecodeError::Unknown(encoding)),
        };
        let (in_tx, in_rx) = mpsc::channel::<Vec<u8>>();
        let (out_tx, out_rx) = mpsc::sync_channel::<Msg>(64);
        let reader = ChannelReader {
            rx: in_rx,
            tx: out_tx.clone(),
            buf: Vec::new(),
            at: 0,
            chunks: 0,
        };
        thread::Builder::new()
            .name(format!("decode-{kind}"))
            .spawn(move || {
                let result = run_decoder(&kind, reader, &out_tx);
                let _ = out_tx.send(Msg::Done(result));
            })
            .map_err(|e| DecodeError::Corrupt {
                encoding: encoding.clone(),
                error: format!("no decoder thread: {e}"),
            })?;
        Ok(StreamDecoder {
            encoding,
            tx: Some(in_tx),
            rx: out_rx,
            fed: 0,
            chunks: 0,
            produced: 0,
            done: false,
        })
    }

    /// Decodes `chunk`; returns what it decoded to so far.
    pub fn feed(&mut self, chunk: &[u8]) -> Result<Vec<u8>, DecodeError> {
        if chunk.is_empty() || self.done {
            return Ok(Vec::new());
        }
        self.fed += chunk.len();
        self.chunks += 1;
        if let Some(tx) = &self.tx {
            let _ = tx.send(chunk.to_vec());
        }
        self.collect(false)
    }

    /// Ends the input; returns the rest of the output.
    pub fn finish(&mut self) -> Result<Vec<u8>, DecodeError> {
        if self.done {
            return Ok(Vec::new());
        }
        if let Some(tx) = self.tx.take() {
            let _ = tx.send(Vec::new());
        }
        self.collect(true)
    }

    fn collect(&mut self, to_end: bool) -> Result<Vec<u8>, DecodeError> {
        let mut out = Vec::new();
        loop {
            match self.rx.recv() {
                Ok(Msg::Data(d)) => {
                    self.produced += d.len();
                    if self.produced > self.fed.saturating_mul(MAX_RATIO) + (1 << 20) {
                        self.done = true;
                        self.tx = None;
                        return Err(DecodeError::Bomb(self.encoding.clone()));
                    }
                    out.extend_from_slice(&d);
                }
                Ok(Msg::Drained(n)) if !to_end && n >= self.chunks => return Ok(out),
                Ok(Msg::Drained(_)) => {}
                Ok(Msg::Done(r)) => {
                    self.done = true;
                    return r.map(|()| out).map_err(|error| DecodeError::Corrupt {
                        encoding: self.encoding.clone(),
                        error,
                    });
                }
                Err(_) => {
                    self.done = true;
                    return Ok(out);
                }
            }
        }
    }
}

fn pump(mut r: impl Read, out: &mpsc::SyncSender<Msg>) -> Result<(), String> {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match r.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => {
                if out.send(Msg::Data(buf[..n].to_vec())).is_err() {
                    return Ok(());
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.to_string()),
        }
    }
}

fn run_decoder(
    kind: &str,
    mut reader: ChannelReader,
    out: &mpsc::SyncSender<Msg>,
) -> Result<(), String> {
    match kind {
        "gzip" | "x-gzip" => pump(flate2::read::MultiGzDecoder::new(reader), out),
        "deflate" => {
            // HTTP's "deflate" is zlib; some servers and pages send raw deflate.
            let mut head = [0u8; 2];
            let mut got = 0;
            while got < 2 {
                match reader.read(&mut head[got..]) {
                    Ok(0) => break,
                    Ok(n) => got += n,
                    Err(e) => return Err(e.to_string()),
                }
            }
            let whole = io::Cursor::new(head[..got].to_vec()).chain(reader);
            if is_zlib(&head[..got]) {
                pump(flate2::read::ZlibDecoder::new(whole), out)
            } else {
                pump(flate2::read::DeflateDecoder::new(whole), out)
            }
        }
        "br" => pump(
            brotli_decompressor::Decompressor::new(reader, 64 * 1024),
            out,
        ),
        "zstd" => match ruzstd::decoding::StreamingDecoder::new(reader) {
            Ok(d) => pump(d, out),
            Err(e) => Err(e.to_string()),
        },
        other => Err(format!("unknown encoding {other}")),
    }
}
