//! What the proxy asks about every message leaving the isolated browser.
//!
//! The proxy knows framing (HTTP/1.1 heads and bodies, WebSocket frames)
//! but not policy: for each request it calls [`Inspect::start`] with the
//! request's absolute URL and headers, and feeds the returned
//! [`Inspection`] the head, then the body in pieces, then (after a
//! WebSocket upgrade) every frame the browser sends. Nothing is forwarded
//! before the inspection has passed it, and a piece is forwarded only once
//! the *next* piece has passed too (so a value straddling two pieces is
//! seen whole before any of it leaves). A [`Outcome::Block`] ends the
//! exchange: the browser gets a block page (or its WebSocket is closed)
//! and the destination gets nothing more. The inspector (the submit gate)
//! decides, reports and records; the proxy only obeys.

use futures::future::BoxFuture;

/// One message leaving the browser.
#[derive(Debug, Clone)]
pub struct Outgoing {
    /// The request method (`GET`, `POST`...).
    pub method: String,
    /// The absolute URL, with its query string (`http://host:port/path?q`).
    pub url: String,
    /// The request headers as sent upstream (lower-case names).
    pub headers: Vec<(String, Vec<u8>)>,
    /// A WebSocket upgrade (`ws://` or `wss://`).
    pub websocket: bool,
}

impl Outgoing {
    /// The first value of header `name` (lower case), as text.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
    }
}

/// A piece of a message, in the order the proxy sees them.
#[derive(Debug, Clone, Copy)]
pub enum Part<'a> {
    /// The request line and headers ([`Outgoing`]); always first.
    Head,
    /// The next piece of the request body (transfer coding removed);
    /// `last` marks the end of the body.
    Body {
        /// The bytes.
        bytes: &'a [u8],
        /// This is the body's last piece.
        last: bool,
    },
    /// The next piece of a WebSocket frame's payload, unmasked.
    Frame {
        /// The bytes.
        bytes: &'a [u8],
        /// The frame's opcode (1 text, 2 binary, 0 continuation, 8-10 control).
        opcode: u8,
        /// This is the last piece of the frame.
        last: bool,
    },
}

/// What the inspector says about a part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Forward it.
    Pass,
    /// Stop the exchange; the text (never the data) is shown on the block page.
    Block(String),
}

/// The inspection of one message; see the module docs.
pub trait Inspection: Send {
    /// Judges the next part of the message.
    fn check<'a>(&'a mut self, part: Part<'a>) -> BoxFuture<'a, Outcome>;
}

/// Starts inspections; one per proxy (so per session).
pub trait Inspect: Send + Sync + std::fmt::Debug {
    /// The inspection of the message `out`.
    fn start(&self, out: &Outgoing) -> Box<dyn Inspection>;
}
