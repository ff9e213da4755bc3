//! # isolator
//!
//! The service: an HTTP/WebSocket server that runs each user's browsing in a
//! remote headless Chromium (one BrowserContext per session), streams frames
//! to the web client and forwards its input, and owns every side effect of
//! enforcement and audit.
//!
//! Map of the crate, in layers (a module uses only those above it or
//! beside it; the check in `tests/module_graph.rs` keeps it so):
//! - leaves: [`os`] (root, users, private directories, loopback peers),
//!   [`config_error`], [`protocol`] (the client protocol, `docs/protocol.md`),
//!   [`logging`], [`policy_watch`], [`metrics`] (Prometheus metrics, one
//!   registry per server, and the node's readiness);
//! - [`egress`]: the per-session egress proxy that keeps the isolated browser
//!   off loopback, metadata and private networks (SSRF), and the address bar parser;
//! - [`browser`]: the one shared Chromium process (spawn, arguments, the
//!   DevTools pipe, its cgroup), restarted when it dies;
//! - [`auth`]: the three authentication modes and login throttling;
//! - [`audit`]: the tamper-evident session recordings, their index and replay;
//! - [`enforce`]: `decide`, `check_text`/`check_file`/`check_image`, verdicts,
//!   transfers in progress and the extraction workers' user;
//! - [`gates`]: one module per action crossing the boundary (keyboard,
//!   paste, copy, submit, upload, download, print, page content), each the
//!   one place it is decided, scanned and reported;
//! - [`session`]: the session manager, the actor of each session, its tabs,
//!   input mapping, files and the client socket task;
//! - [`cluster`]: the state nodes share in PostgreSQL (`[cluster]`): the
//!   policy and its versions, the node and session registry;
//! - [`config`]: the TOML configuration, composed of the sections each
//!   module above owns, validated with field names in errors;
//! - [`http`]: routes, state, errors, extractors; login, sessions, admin and
//!   audit APIs; the `Host` check and rate limits;
//! - [`cli`]: the `isolator` commands (`serve`, `scan`, `policies`, ...).

pub mod audit;
pub mod auth;
pub mod browser;
pub mod cli;
pub mod cluster;
pub mod config;
pub mod config_error;
pub mod egress;
pub mod enforce;
pub mod gates;
pub mod http;
pub mod logging;
pub mod metrics;
pub mod os;
pub mod policy_watch;
pub mod protocol;
pub mod session;
