//! Egress decisions as typed events, one per proxied request or tunnel.

use std::net::IpAddr;

use serde::Serialize;

use super::policy::{Reason, Verdict};

/// How the browser asked for the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestKind {
    /// A plain-HTTP request in absolute form (`GET http://host/path`).
    Http,
    /// A plain-HTTP WebSocket upgrade in absolute form.
    WebSocket,
    /// A `CONNECT host:port` tunnel: https, wss, and Chromium's ws:// too.
    Connect,
    /// Not a valid proxy request.
    Invalid,
}

/// One egress decision, sent on the proxy's event channel so the session
/// can show a notice and audit can record it. URLs are not included (query
/// strings carry secrets); the target is `host:port`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EgressEvent {
    /// How the browser asked.
    pub kind: RequestKind,
    /// The canonical destination, `host:port` (`[v6]:port` for IPv6), or
    /// `-` when the request could not be parsed.
    pub target: String,
    /// The addresses the host resolved to (the literal for an IP host); the
    /// connection went to one of these and nowhere else.
    pub addrs: Vec<IpAddr>,
    /// Allowed, blocked or failed.
    pub verdict: Verdict,
    /// Why.
    pub reason: Reason,
}
