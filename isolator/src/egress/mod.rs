//! Egress control: what the isolated browser may connect to.
//!
//! The isolated Chromium renders hostile pages inside our network, so it must
//! not become a server-side request forgery (SSRF) tool. The design:
//!
//! - **Every request goes through our proxy.** Each session's BrowserContext
//!   is created with `proxyServer` pointing at that session's
//!   [`EgressProxy`] and `proxyBypassList = "<-loopback>"`, which removes
//!   Chromium's implicit "loopback never goes through a proxy" rule (see
//!   [`browser_context_params`]). Chromium then never resolves or connects on
//!   its own: navigations, subresources, iframes, popups, workers, redirects
//!   (each hop is a new request) and WebSockets (Chromium tunnels `ws://`
//!   and `wss://` with CONNECT) all reach the proxy. Process-wide flags from
//!   [`chromium_hardening_args`] close the remaining side doors (QUIC, WebRTC
//!   UDP, background networking) and make Chromium's own resolver answer
//!   nothing, so a request that somehow skipped the proxy cannot even look a
//!   name up. (A process-wide `--proxy-server` would be tidier for the
//!   default context, but Chromium lets it override every context's
//!   `proxyServer`; measured. So sessions must never browse in the default
//!   context.)
//! - **The proxy resolves, checks every address, and connects to what it
//!   checked** ([`EgressPolicy::decide`]): no second lookup, so DNS rebinding
//!   has no window. Hosts are parsed with the WHATWG rules (the `url` crate),
//!   so every spelling of an address is the same address ([`host`]), and IPv6
//!   forms embedding IPv4 are unwrapped ([`ranges`]).
//! - **Defaults deny the special ranges** (loopback, private, link-local and
//!   cloud metadata, CGNAT, multicast, reserved) and ports other than 80/443;
//!   admins open specific targets with allow rules, and the test suite opens
//!   its local sites with exact `127.0.0.1:port` rules, never by turning the
//!   protection off ([`EgressConfig`]).
//! - **Every decision is an event** ([`EgressEvent`]) on the proxy's
//!   broadcast channel, so the session can show a notice and audit can
//!   record it; blocked plain-HTTP requests get a clear 403 page.
//! - **The address bar only takes http(s)** ([`parse_address_bar`]).
//! - **Every byte that leaves is judged first** when the proxy is started
//!   with an [`Inspect`] (the submit gate): request lines, headers, bodies in
//!   pieces and WebSocket frames, in absolute-form requests, in plain CONNECT
//!   tunnels, and in TLS tunnels, whose TLS the proxy terminates with a
//!   certificate authority only the isolated Chromium trusts ([`inspect`],
//!   [`tls`]).

mod address_bar;
mod body;
mod chromium;
mod config;
mod conn;
mod error;
mod event;
pub mod host;
mod http1;
pub mod inspect;
mod inspected;
mod intercept;
mod page;
mod policy;
mod proxy;
pub mod ranges;
mod relay;
mod resolver;
mod rule;
pub mod tls;
mod websocket;

pub use address_bar::{parse_address_bar, AddressError};
pub use chromium::{
    browser_context_params, chromium_disabled_features, chromium_hardening_args, PROXY_BYPASS_LIST,
};
pub use config::{EgressConfig, ProxyLimits};
pub use error::{Error, Result};
pub use event::{EgressEvent, RequestKind};
pub use host::TargetHost;
pub use inspect::{Inspect, Inspection, Outcome, Outgoing, Part};
pub use inspected::PIECE;
pub use policy::{Decision, EgressPolicy, Reason, Verdict};
pub use proxy::{EgressProxy, PeerFilter, EVENT_CAPACITY};
pub use ranges::Range;
pub use resolver::{Resolve, SystemResolver};
pub use tls::{crypto as tls_crypto, Interceptor, TlsConfig};
