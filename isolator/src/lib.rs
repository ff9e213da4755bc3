//! # isolator
//!
//! The service: an HTTP/WebSocket server that runs each user's browsing in a
//! remote headless Chromium (one BrowserContext per session), streams frames
//! to the web client and forwards its input, and owns every side effect of
//! enforcement and audit.
//!
//! Map of the crate:
//! - [`config`]: the TOML configuration, validated with field names in errors;
//! - [`server`]: routes, security headers, login, session creation, WebSocket upgrade;
//! - [`server_login`]: the login form (CSRF check, safe `next`), logout;
//! - [`server_files`]: the upload and download endpoints of a session;
//! - [`server_paste`]: the image paste endpoint of a session;
//! - [`session`]: the session actor, its tabs, input mapping and the client socket task;
//! - [`browser`]: the one shared Chromium process, restarted when it dies;
//! - [`cgroup`]: the cgroup that caps Chromium's memory and CPU;
//! - [`protocol`]: the client protocol (`docs/protocol.md`);
//! - [`auth`]: the three authentication modes;
//! - [`login_throttle`]: growing delays after failed logins, per user and client address;
//! - [`host_check`]: the `Host` allow-list that stops DNS rebinding;
//! - [`local_peer`]: which Unix user is at the other end of a loopback connection;
//! - [`private_fs`]: private directories and files (umask, 0700 directories, unguessable names);
//! - [`egress`]: the per-session egress proxy that keeps the isolated browser
//!   off loopback, metadata and private networks (SSRF), and the address bar parser;
//! - [`policy_watch`]: reloads the policy document when its file changes;
//! - [`admin`]: the admin REST API (`/api/v1`), its OpenAPI document and the `/admin` pages.

pub mod admin;
pub mod audit;
pub mod audit_api;
pub mod auth;
pub mod browser;
pub mod cgroup;
pub mod cli;
pub mod config;
pub mod egress;
pub mod enforce;
pub mod enforce_config;
pub mod host_check;
pub mod local_peer;
pub mod logging;
pub mod login_throttle;
pub mod policy_watch;
pub mod private_fs;
pub mod protocol;
pub mod rate_limit;
pub mod server;
pub mod server_files;
pub mod server_login;
pub mod server_paste;
pub mod session;
